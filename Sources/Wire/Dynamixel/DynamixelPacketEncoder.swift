extension Dynamixel {
    /// One encoded packet, ready for the wire: header to CRC, stuffed. Preallocate one and encode into it
    /// every cycle; nothing is allocated. Keep the literal equal to `Dynamixel.maxPacketBytes`.
    public typealias EncodedPacket = InlineBytes<1024>

    /// One device of a Sync Write: its ID and its data (all devices' data have the same length).
    public struct SyncWriteEntry: Sendable, Equatable {
        public var id: UInt8
        public var data: Dynamixel.DataBytes

        public init(id: UInt8, data: Dynamixel.DataBytes) {
            self.id = id
            self.data = data
        }
    }

    /// One device of a Bulk Read or Fast Bulk Read: what to read from it.
    public struct BulkReadEntry: Sendable, Equatable {
        public var id: UInt8
        public var address: UInt16
        public var length: UInt16

        public init(id: UInt8, address: UInt16, length: UInt16) {
            self.id = id
            self.address = address
            self.length = length
        }
    }

    /// One device of a Bulk Write: where to write its data.
    public struct BulkWriteEntry: Sendable, Equatable {
        public var id: UInt8
        public var address: UInt16
        public var data: Dynamixel.DataBytes

        public init(id: UInt8, address: UInt16, data: Dynamixel.DataBytes) {
            self.id = id
            self.address = address
            self.data = data
        }
    }

    /// Encodes Dynamixel packets into an `EncodedPacket` without touching the heap: parameters in the
    /// order of the e-Manual's "Instruction Details", stuffed, LENGTH and CRC filled in.
    ///
    /// ```
    /// write(id: 1, address: 116, data: 00 02 00 00)
    ///   ──► FF FF FD 00 | 01 | 09 00 | 03 | 74 00 00 02 00 00 | CA 89
    /// ```
    /// Every function replaces the packet's contents and throws `Dynamixel.EncodingError` (leaving the
    /// packet empty) for an invalid ID, a bad device list, a read or write of 0 bytes, or a packet longer
    /// than `maxPacketBytes`: the named encoders build only packets that a receiver following
    /// protocols/dynamixel/README.md §8 accepts. `instruction(id:_:into:writing:)` and `status(…)` write
    /// whatever they are given.
    public enum PacketEncoder {
        // MARK: Any packet

        /// An instruction packet with `instruction` and the parameters `writing` writes (none by default).
        /// `id` is a device ID or the broadcast ID.
        public static func instruction(
            id: UInt8, _ instruction: Dynamixel.Instruction, into packet: inout Dynamixel.EncodedPacket,
            writing parameters: (inout Dynamixel.ParameterWriter) -> Void = { _ in }
        ) throws(Dynamixel.EncodingError) {
            packet.removeAll()
            guard Dynamixel.isValidPacketID(id) else { throw .invalidID(id) }
            try encode(id: id, instruction: instruction, error: nil, into: &packet, writing: parameters)
        }

        /// A status packet (a device's reply, instruction 0x55) with `error` and the parameters `writing`
        /// writes. A status packet from the broadcast ID is a fast read's reply, which is not stuffed; build
        /// those with `FastReadReplyBuilder`.
        public static func status(
            id: UInt8, error: Dynamixel.StatusError, into packet: inout Dynamixel.EncodedPacket,
            writing parameters: (inout Dynamixel.ParameterWriter) -> Void = { _ in }
        ) throws(Dynamixel.EncodingError) {
            packet.removeAll()
            guard Dynamixel.isValidPacketID(id) else { throw .invalidID(id) }
            try encode(id: id, instruction: .status, error: error, into: &packet, writing: parameters)
        }

        /// A status packet whose parameters are `parameters` (e.g. the bytes a Read asked for).
        public static func status(
            id: UInt8, error: Dynamixel.StatusError, parameters: UnsafeRawBufferPointer,
            into packet: inout Dynamixel.EncodedPacket
        ) throws(Dynamixel.EncodingError) {
            try status(id: id, error: error, into: &packet) { $0.bytes(parameters) }
        }

        /// Encodes a decoded packet again (a status packet when its instruction is `.status`).
        public static func encode(_ source: Dynamixel.Packet, into packet: inout Dynamixel.EncodedPacket) throws(Dynamixel.EncodingError) {
            let parameters = source.parameters
            if source.instruction == .status {
                try status(id: source.id, error: source.error ?? .noError, into: &packet) { $0.bytes(parameters) }
            } else {
                try instruction(id: source.id, source.instruction, into: &packet) { $0.bytes(parameters) }
            }
        }

        // MARK: One device

        /// Ping (0x01): no parameters. Every device answers a broadcast ping.
        public static func ping(id: UInt8, into packet: inout Dynamixel.EncodedPacket) throws(Dynamixel.EncodingError) {
            try instruction(id: id, .ping, into: &packet)
        }

        /// Read (0x02): address and data length (at least 1), each 2 bytes.
        public static func read(
            id: UInt8, address: UInt16, length: UInt16, into packet: inout Dynamixel.EncodedPacket
        ) throws(Dynamixel.EncodingError) {
            packet.removeAll()
            guard length >= 1 else { throw .zeroLength }
            try instruction(id: id, .read, into: &packet) {
                $0.uint16(address)
                $0.uint16(length)
            }
        }

        /// Write (0x03): address (2 bytes), then the data (at least 1 byte).
        public static func write(
            id: UInt8, address: UInt16, data: UnsafeRawBufferPointer, into packet: inout Dynamixel.EncodedPacket
        ) throws(Dynamixel.EncodingError) {
            packet.removeAll()
            guard data.count >= 1 else { throw .zeroLength }
            try instruction(id: id, .write, into: &packet) {
                $0.uint16(address)
                $0.bytes(data)
            }
        }

        /// Write (0x03) of a few bytes held inline (`DataBytes(littleEndian: Int32(goal))`).
        public static func write(
            id: UInt8, address: UInt16, data: Dynamixel.DataBytes, into packet: inout Dynamixel.EncodedPacket
        ) throws(Dynamixel.EncodingError) {
            packet.removeAll()
            guard data.count >= 1 else { throw .zeroLength }
            try instruction(id: id, .write, into: &packet) {
                $0.uint16(address)
                $0.bytes(data)
            }
        }

        /// Reg Write (0x04): as Write, executed at the next Action.
        public static func regWrite(
            id: UInt8, address: UInt16, data: UnsafeRawBufferPointer, into packet: inout Dynamixel.EncodedPacket
        ) throws(Dynamixel.EncodingError) {
            packet.removeAll()
            guard data.count >= 1 else { throw .zeroLength }
            try instruction(id: id, .regWrite, into: &packet) {
                $0.uint16(address)
                $0.bytes(data)
            }
        }

        public static func regWrite(
            id: UInt8, address: UInt16, data: Dynamixel.DataBytes, into packet: inout Dynamixel.EncodedPacket
        ) throws(Dynamixel.EncodingError) {
            packet.removeAll()
            guard data.count >= 1 else { throw .zeroLength }
            try instruction(id: id, .regWrite, into: &packet) {
                $0.uint16(address)
                $0.bytes(data)
            }
        }

        /// Action (0x05): executes the registered Reg Write. No parameters.
        public static func action(id: UInt8, into packet: inout Dynamixel.EncodedPacket) throws(Dynamixel.EncodingError) {
            try instruction(id: id, .action, into: &packet)
        }

        /// Factory Reset (0x06): one parameter, the option.
        public static func factoryReset(
            id: UInt8, option: Dynamixel.FactoryResetOption, into packet: inout Dynamixel.EncodedPacket
        ) throws(Dynamixel.EncodingError) {
            try instruction(id: id, .factoryReset, into: &packet) { $0.uint8(option.rawValue) }
        }

        /// Reboot (0x08): no parameters.
        public static func reboot(id: UInt8, into packet: inout Dynamixel.EncodedPacket) throws(Dynamixel.EncodingError) {
            try instruction(id: id, .reboot, into: &packet)
        }

        /// Clear (0x10) with option 0x01: resets the multi-turn Present Position to within one turn (only while
        /// the device is stopped). Parameters 01 44 58 4C 22, fixed by the e-Manual.
        public static func clear(id: UInt8, into packet: inout Dynamixel.EncodedPacket) throws(Dynamixel.EncodingError) {
            try instruction(id: id, .clear, into: &packet) {
                $0.uint8(0x01)
                $0.uint8(0x44)
                $0.uint8(0x58)
                $0.uint8(0x4C)
                $0.uint8(0x22)
            }
        }

        /// Control Table Backup (0x20): the operation, then 43 54 52 4C ("CTRL"), fixed by the e-Manual.
        public static func controlTableBackup(
            id: UInt8, operation: Dynamixel.ControlTableBackupOperation, into packet: inout Dynamixel.EncodedPacket
        ) throws(Dynamixel.EncodingError) {
            try instruction(id: id, .controlTableBackup, into: &packet) {
                $0.uint8(operation.rawValue)
                $0.uint8(0x43)
                $0.uint8(0x54)
                $0.uint8(0x52)
                $0.uint8(0x4C)
            }
        }

        // MARK: Several devices (always to the broadcast ID)

        /// Sync Read (0x82): address, length, then the IDs. Each device answers with its own status packet,
        /// in the order of `ids`.
        public static func syncRead(
            address: UInt16, length: UInt16, ids: Dynamixel.DeviceList<UInt8>, into packet: inout Dynamixel.EncodedPacket
        ) throws(Dynamixel.EncodingError) {
            try idList(.syncRead, address: address, length: length, ids: ids, into: &packet)
        }

        /// Fast Sync Read (0x8A): laid out as Sync Read; the devices answer together with one status packet
        /// (split it with `FastRead.slices(of:ids:dataLength:)`).
        public static func fastSyncRead(
            address: UInt16, length: UInt16, ids: Dynamixel.DeviceList<UInt8>, into packet: inout Dynamixel.EncodedPacket
        ) throws(Dynamixel.EncodingError) {
            try idList(.fastSyncRead, address: address, length: length, ids: ids, into: &packet)
        }

        /// Sync Write (0x83): address, length, then per device its ID and `length` bytes. `data` holds the
        /// devices' data back to back, in the order of `ids` (`ids.count * length` bytes).
        public static func syncWrite(
            address: UInt16, length: UInt16, ids: Dynamixel.DeviceList<UInt8>, data: UnsafeRawBufferPointer,
            into packet: inout Dynamixel.EncodedPacket
        ) throws(Dynamixel.EncodingError) {
            packet.removeAll()
            try validate(count: ids.count) { ids[$0] }
            guard length >= 1 else { throw .zeroLength }
            let each = Int(length)
            guard data.count == ids.count * each else { throw .dataLengthMismatch }
            try encode(id: Dynamixel.broadcastID, instruction: .syncWrite, error: nil, into: &packet) {
                $0.uint16(address)
                $0.uint16(length)
                for index in 0..<ids.count {
                    $0.uint8(ids[index])
                    $0.bytes(UnsafeRawBufferPointer(rebasing: data[(index * each)..<((index + 1) * each)]))
                }
            }
        }

        /// Sync Write (0x83) from entries; their data must all have the same length.
        public static func syncWrite(
            address: UInt16, entries: Dynamixel.DeviceList<Dynamixel.SyncWriteEntry>, into packet: inout Dynamixel.EncodedPacket
        ) throws(Dynamixel.EncodingError) {
            packet.removeAll()
            try validate(count: entries.count) { entries[$0].id }
            let length = entries[0].data.count
            guard length >= 1 else { throw .zeroLength }
            for index in 0..<entries.count where entries[index].data.count != length { throw .dataLengthMismatch }
            try encode(id: Dynamixel.broadcastID, instruction: .syncWrite, error: nil, into: &packet) {
                $0.uint16(address)
                $0.uint16(UInt16(length))
                for index in 0..<entries.count {
                    $0.uint8(entries[index].id)
                    $0.bytes(entries[index].data)
                }
            }
        }

        /// Bulk Read (0x92): per device its ID, address and length. Each device answers with its own status
        /// packet, in the order of `entries`.
        public static func bulkRead(
            _ entries: Dynamixel.DeviceList<Dynamixel.BulkReadEntry>, into packet: inout Dynamixel.EncodedPacket
        ) throws(Dynamixel.EncodingError) {
            try bulkReadList(.bulkRead, entries, into: &packet)
        }

        /// Fast Bulk Read (0x9A): laid out as Bulk Read; one status packet for all devices
        /// (split it with `FastRead.slices(of:entries:)`).
        public static func fastBulkRead(
            _ entries: Dynamixel.DeviceList<Dynamixel.BulkReadEntry>, into packet: inout Dynamixel.EncodedPacket
        ) throws(Dynamixel.EncodingError) {
            try bulkReadList(.fastBulkRead, entries, into: &packet)
        }

        /// Bulk Write (0x93): per device its ID, address, data length and data.
        public static func bulkWrite(
            _ entries: Dynamixel.DeviceList<Dynamixel.BulkWriteEntry>, into packet: inout Dynamixel.EncodedPacket
        ) throws(Dynamixel.EncodingError) {
            packet.removeAll()
            try validate(count: entries.count) { entries[$0].id }
            for index in 0..<entries.count where entries[index].data.isEmpty { throw .zeroLength }
            try encode(id: Dynamixel.broadcastID, instruction: .bulkWrite, error: nil, into: &packet) {
                for index in 0..<entries.count {
                    let entry = entries[index]
                    $0.uint8(entry.id)
                    $0.uint16(entry.address)
                    $0.uint16(UInt16(entry.data.count))
                    $0.bytes(entry.data)
                }
            }
        }

        // MARK: Implementation

        private static func idList(
            _ instruction: Dynamixel.Instruction, address: UInt16, length: UInt16, ids: Dynamixel.DeviceList<UInt8>,
            into packet: inout Dynamixel.EncodedPacket
        ) throws(Dynamixel.EncodingError) {
            packet.removeAll()
            try validate(count: ids.count) { ids[$0] }
            guard length >= 1 else { throw .zeroLength }
            try encode(id: Dynamixel.broadcastID, instruction: instruction, error: nil, into: &packet) {
                $0.uint16(address)
                $0.uint16(length)
                for index in 0..<ids.count { $0.uint8(ids[index]) }
            }
        }

        private static func bulkReadList(
            _ instruction: Dynamixel.Instruction, _ entries: Dynamixel.DeviceList<Dynamixel.BulkReadEntry>,
            into packet: inout Dynamixel.EncodedPacket
        ) throws(Dynamixel.EncodingError) {
            packet.removeAll()
            try validate(count: entries.count) { entries[$0].id }
            for index in 0..<entries.count where entries[index].length == 0 { throw .zeroLength }
            try encode(id: Dynamixel.broadcastID, instruction: instruction, error: nil, into: &packet) {
                for index in 0..<entries.count {
                    let entry = entries[index]
                    $0.uint8(entry.id)
                    $0.uint16(entry.address)
                    $0.uint16(entry.length)
                }
            }
        }

        /// At least one device, each a device ID (not broadcast), none twice.
        private static func validate(count: Int, id: (Int) -> UInt8) throws(Dynamixel.EncodingError) {
            guard count > 0 else { throw .noDevices }
            for index in 0..<count {
                let value = id(index)
                guard Dynamixel.isValidDeviceID(value) else { throw .invalidID(value) }
                for earlier in 0..<index where id(earlier) == value { throw .duplicateID(value) }
            }
        }

        /// Header, ID, the body (instruction, error byte of a status packet, parameters) stuffed — except in
        /// a fast read's reply — then LENGTH and the CRC over everything before it.
        static func encode(
            id: UInt8, instruction: Dynamixel.Instruction, error: Dynamixel.StatusError?,
            into packet: inout Dynamixel.EncodedPacket, writing parameters: (inout Dynamixel.ParameterWriter) -> Void
        ) throws(Dynamixel.EncodingError) {
            let stuffing = !(instruction == .status && id == Dynamixel.broadcastID)
            var fits = true
            packet.overwrite { raw in
                raw[0] = 0xFF
                raw[1] = 0xFF
                raw[2] = 0xFD
                raw[3] = 0x00
                raw[4] = id
                let body = UnsafeMutableRawBufferPointer(
                    rebasing: raw[Dynamixel.prefixBytes..<(Dynamixel.maxPacketBytes - Dynamixel.crcBytes)])
                var writer = Dynamixel.ParameterWriter(body)
                writer.uint8(instruction.rawValue)
                if let error { writer.uint8(error.rawValue) }
                parameters(&writer)
                guard !writer.overflowed else {
                    fits = false
                    return 0
                }
                var bodyCount = writer.count
                if stuffing {
                    guard let stuffed = Dynamixel.ByteStuffing.stuffInPlace(body, count: bodyCount) else {
                        fits = false
                        return 0
                    }
                    bodyCount = stuffed
                }
                let length = bodyCount + Dynamixel.crcBytes
                raw[5] = UInt8(truncatingIfNeeded: length)
                raw[6] = UInt8(truncatingIfNeeded: length >> 8)
                let crcOffset = Dynamixel.prefixBytes + bodyCount
                let crc = Dynamixel.CRC16.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<crcOffset]))
                raw[crcOffset] = UInt8(truncatingIfNeeded: crc)
                raw[crcOffset + 1] = UInt8(truncatingIfNeeded: crc >> 8)
                return crcOffset + Dynamixel.crcBytes
            }
            guard fits else { throw .tooLong }
        }
    }

    /// Builds the one status packet of a Fast Sync Read or Fast Bulk Read, as the chain of devices sends it
    /// (e-Manual, "Fast Sync Read" and "Fast Bulk Read"); the simulator's side.
    ///
    /// ```
    /// FF FF FD 00 FE LEN_L LEN_H 55 | ERR₁ ID₁ DATA₁ CRC₁ | ERR₂ ID₂ DATA₂ CRC₂ | … | ERRₙ IDₙ DATAₙ CRC
    /// ```
    /// LENGTH = 1 + Σ(4 + Xᵢ). Each CRCᵢ is the running CRC of every byte from the header up to it
    /// (earlier CRCs included), so the last one is the packet's CRC. Nothing is stuffed.
    public struct FastReadReplyBuilder: Sendable {
        private var packet = Dynamixel.EncodedPacket()
        private var crc = Dynamixel.CRC16()
        private var segmentsLeft: Int
        private let totalBytes: Int

        /// A reply for `segmentCount` devices whose data add up to `totalDataBytes`.
        public init(segmentCount: Int, totalDataBytes: Int) throws(Dynamixel.EncodingError) {
            guard segmentCount > 0 else { throw .noDevices }
            guard totalDataBytes >= 0, segmentCount <= Dynamixel.maxPacketBytes,
                totalDataBytes <= Dynamixel.maxPacketBytes
            else { throw .tooLong }
            let length = 1 + totalDataBytes + 4 * segmentCount
            guard Dynamixel.prefixBytes + length <= Dynamixel.maxPacketBytes else { throw .tooLong }
            segmentsLeft = segmentCount
            totalBytes = Dynamixel.prefixBytes + length
            appendCounted(0xFF)
            appendCounted(0xFF)
            appendCounted(0xFD)
            appendCounted(0x00)
            appendCounted(Dynamixel.broadcastID)
            appendCounted(UInt8(truncatingIfNeeded: length))
            appendCounted(UInt8(truncatingIfNeeded: length >> 8))
            appendCounted(Dynamixel.Instruction.status.rawValue)
        }

        /// Appends the next device's segment: its error, its ID, its data, and the running CRC.
        public mutating func append(
            id: UInt8, error: Dynamixel.StatusError, data: UnsafeRawBufferPointer
        ) throws(Dynamixel.EncodingError) {
            guard segmentsLeft > 0 else { throw .dataLengthMismatch }
            guard Dynamixel.isValidDeviceID(id) else { throw .invalidID(id) }
            let end = packet.count + 2 + data.count + Dynamixel.crcBytes
            guard end <= totalBytes, segmentsLeft > 1 || end == totalBytes else { throw .dataLengthMismatch }
            appendCounted(error.rawValue)
            appendCounted(id)
            for byte in data { appendCounted(byte) }
            let value = crc.value
            appendCounted(UInt8(truncatingIfNeeded: value))
            appendCounted(UInt8(truncatingIfNeeded: value >> 8))
            segmentsLeft -= 1
        }

        /// Appends a segment whose data is held inline.
        public mutating func append<let size: Int>(
            id: UInt8, error: Dynamixel.StatusError, data: InlineBytes<size>
        ) throws(Dynamixel.EncodingError) {
            try data.withUnsafeBytes { (raw) throws(Dynamixel.EncodingError) in
                try append(id: id, error: error, data: raw)
            }
        }

        /// True once every segment is appended.
        public var isComplete: Bool { segmentsLeft == 0 }

        /// The finished packet; throws `.incompleteReply` while segments are missing.
        public func finish() throws(Dynamixel.EncodingError) -> Dynamixel.EncodedPacket {
            guard isComplete else { throw .incompleteReply }
            return packet
        }

        private mutating func appendCounted(_ byte: UInt8) {
            packet.append(byte)
            crc.update(byte)
        }
    }
}
