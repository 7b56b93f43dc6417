extension Dynamixel {
    /// One packet that passed its CRC, with the stuffing removed.
    public struct Packet: Sendable, Equatable, CustomStringConvertible {
        /// The packet ID: the addressed device (or broadcast) in an instruction, the replying device in a status.
        public var id: UInt8
        public var instruction: Dynamixel.Instruction
        /// The ERR byte of a status packet; nil in an instruction packet.
        public var error: Dynamixel.StatusError?
        /// The parameters, unstuffed; in a status packet, those after the ERR byte.
        public var parameters: Dynamixel.ParameterBytes

        public init(
            id: UInt8, instruction: Dynamixel.Instruction, error: Dynamixel.StatusError? = nil,
            parameters: Dynamixel.ParameterBytes = Dynamixel.ParameterBytes()
        ) {
            self.id = id
            self.instruction = instruction
            self.error = error
            self.parameters = parameters
        }

        /// A device's reply (instruction 0x55).
        public var isStatus: Bool { instruction == .status }

        /// The one reply of a Fast Sync Read or Fast Bulk Read: a status packet from the broadcast ID, not
        /// stuffed; `error` is the first device's, and `FastRead` splits the parameters per device.
        public var isFastReadReply: Bool { isStatus && id == Dynamixel.broadcastID }

        public var description: String {
            var text = "Packet(id: \(id), \(instruction)"
            if let error { text += ", error: \(error)" }
            return text + ", parameters: [\(parameters)])"
        }
    }

    /// What the decoder made of one complete packet that passed its CRC.
    public enum DecodeResult: Sendable, Equatable {
        /// A valid packet.
        case packet(Dynamixel.Packet)
        /// A CRC-valid packet that a receiver cannot use (README §8 step 7); a device may answer it.
        case rejected(Dynamixel.PacketRejection)

        /// The packet, or nil for a rejection.
        public var decodedPacket: Dynamixel.Packet? {
            if case .packet(let packet) = self { return packet }
            return nil
        }

        /// The rejection, or nil for a packet.
        public var rejection: Dynamixel.PacketRejection? {
            if case .rejected(let rejection) = self { return rejection }
            return nil
        }
    }

    /// Counters of everything a decoder has seen, so that link quality is visible (README §8; as RehabLink's).
    ///
    /// Every byte pushed ends up in exactly one of: a decoded packet, `discardedBytes`, or the decoder's
    /// buffer (`PacketDecoder.bufferedByteCount`, empty after `flush`).
    public struct DecoderStatistics: Sendable, Equatable {
        public var bytesReceived: UInt64 = 0
        public var packetsDecoded: UInt64 = 0
        /// Complete packets dropped because the CRC did not match.
        public var crcErrors: UInt64 = 0
        /// Headers whose LENGTH exceeds `Dynamixel.maxLength` (a packet beyond `maxPacketBytes`).
        public var oversizeFrames: UInt64 = 0
        /// Headers with an impossible ID (0xFD, 0xFF) or a LENGTH below 3, and packets given up as
        /// truncated (`abandonPartialPacket()`, `flush(_:)`).
        public var malformedFrames: UInt64 = 0
        /// CRC-valid packets rejected for their layout (`Packet.rejectionReason`).
        public var rejectedPackets: UInt64 = 0
        /// Bytes that did not end up in a decoded packet (junk, damaged, truncated and rejected packets).
        public var discardedBytes: UInt64 = 0

        public init() {}
    }

    /// Incremental Dynamixel Protocol 2.0 decoder: bytes in, in any split, packets out (instruction and
    /// status packets alike: the host reads statuses, the simulated device reads instructions). It is the
    /// receiver of protocols/dynamixel/README.md §8, which the vectors there check.
    ///
    /// ```
    /// … junk | FF FF FD 00 | 01 | 07 00 | 55 00 06 04 26 | 65 5D | …     push(_:) one byte at a time
    ///          └─ header ──┘  id  length  └── body ─────┘   CRC      └─► .packet(id: 1, status, …)
    /// ```
    /// It follows the e-Manual's "Processing Order of Reception": find the header FF FF FD 00 (a stuffed
    /// `FF FF FD FD` is never one), read LENGTH, collect that many bytes, check the CRC over the bytes as
    /// received, remove the stuffing (not in a fast read's reply), then check the layout
    /// (`Packet.rejectionReason`). It never allocates: a packet is collected in fixed inline storage
    /// (`maxPacketBytes`), checked and copied into a `Packet`.
    ///
    /// Resynchronisation: a header with an impossible ID or LENGTH (below 3: malformed; beyond
    /// `maxLength`: oversize) and a packet whose CRC fails are skipped by one byte only, and the bytes after
    /// that byte are searched again for a header, so that a packet hidden behind a damaged one is still
    /// found. A CRC-valid packet that is rejected is dropped whole. The decoder never traps on any input.
    ///
    /// Because of that search, one byte can complete more than one packet (those that were hidden behind a
    /// damaged one): `push(_:)` returns the first, and `next()` the others (nil when there are none).
    /// `push(_:_:)` does both for a chunk of bytes. At the end of an exchange (the reply deadline), `flush(_:)`
    /// gives up on what is still incomplete, as README §8 step 8 says.
    public struct PacketDecoder: Sendable {
        private var buffer = InlineArray<1024, UInt8>(repeating: 0)
        private var head = 0
        private var tail = 0
        /// The size of the packet at `head` once its header and LENGTH are in and it is still arriving
        /// (0 otherwise): until the window holds that many bytes, a byte is only stored, without a scan
        /// and without handing a result back.
        private var awaitedBytes = 0
        public private(set) var statistics = Dynamixel.DecoderStatistics()

        public init() {}

        /// Bytes received but not yet decoded or discarded: the start of a packet still arriving.
        public var bufferedByteCount: Int { tail - head }

        /// Forgets a partially received packet (e.g. after reopening a port); its bytes are not counted.
        public mutating func reset() {
            head = 0
            tail = 0
            awaitedBytes = 0
        }

        /// Feeds one byte; returns a result when the byte completed a CRC-valid packet.
        public mutating func push(_ byte: UInt8) -> Dynamixel.DecodeResult? {
            statistics.bytesReceived &+= 1
            if tail - head + 1 < awaitedBytes && tail < buffer.count {
                buffer[tail] = byte
                tail += 1
                return nil
            }
            return run(appending: byte)
        }


        /// A result that is already complete in the buffer, without new input: after `push(_:)` returned
        /// one, call `next()` until nil.
        public mutating func next() -> Dynamixel.DecodeResult? {
            run(appending: nil)
        }

        /// Feeds `bytes`, calling `body` with every result they complete, in order.
        public mutating func push(_ bytes: UnsafeRawBufferPointer, _ body: (Dynamixel.DecodeResult) -> Void) {
            for byte in bytes {
                var result = push(byte)
                while let complete = result {
                    body(complete)
                    result = next()
                }
            }
        }

        /// Gives up on a packet that stopped arriving (call it when the link's reply time has passed, after
        /// `next()` returned nil): its first byte is dropped, it counts as malformed when its header had
        /// arrived, and the bytes after that byte are searched again: call `next()` for any packet among
        /// them. Does nothing unless the buffer starts with an incomplete packet.
        public mutating func abandonPartialPacket() {
            var cursor = Cursor(head: head, tail: tail, statistics: statistics)
            var span = buffer.mutableSpan
            span.withUnsafeMutableBytes { raw in
                Self.abandon(raw, &cursor)
            }
            head = cursor.head
            tail = cursor.tail
            statistics = cursor.statistics
            awaitedBytes = 0
        }

        /// The end of an exchange (README §8 step 8: the host's reply deadline, or a device's 1.5 ms without
        /// a byte): decodes what can be decoded from the buffered bytes, giving up on incomplete packets,
        /// until the buffer is empty; calls `body` with every result found.
        public mutating func flush(_ body: (Dynamixel.DecodeResult) -> Void) {
            while true {
                while let result = next() { body(result) }
                let before = bufferedByteCount
                guard before > 0 else { return }
                abandonPartialPacket()
                guard bufferedByteCount < before else { return }
            }
        }

        // MARK: Implementation

        /// The buffered window `[head, tail)` and the counters, handed to the static functions that work
        /// on the buffer's bytes.
        private struct Cursor {
            var head: Int
            var tail: Int
            var statistics: Dynamixel.DecoderStatistics
            var awaitedBytes = 0
        }

        private mutating func run(appending byte: UInt8?) -> Dynamixel.DecodeResult? {
            var cursor = Cursor(head: head, tail: tail, statistics: statistics)
            var span = buffer.mutableSpan
            let result: Dynamixel.DecodeResult? = span.withUnsafeMutableBytes { raw in
                if let byte { Self.append(byte, to: raw, &cursor) }
                return Self.scan(raw, &cursor)
            }
            head = cursor.head
            tail = cursor.tail
            statistics = cursor.statistics
            awaitedBytes = cursor.awaitedBytes
            return result
        }

        private static func append(_ byte: UInt8, to raw: UnsafeMutableRawBufferPointer, _ cursor: inout Cursor) {
            if cursor.tail == raw.count {
                if cursor.head == 0 {
                    // Cannot happen (the window never holds more than one incomplete packet, and a packet
                    // fits); keep the newest bytes rather than trap.
                    cursor.head = 1
                    cursor.statistics.discardedBytes &+= 1
                }
                let kept = cursor.tail - cursor.head
                for index in 0..<kept { raw[index] = raw[cursor.head + index] }
                cursor.head = 0
                cursor.tail = kept
            }
            raw[cursor.tail] = byte
            cursor.tail += 1
        }

        /// The byte of FF FF FD 00 at `offset`.
        private static func headerByte(_ offset: Int) -> UInt8 {
            switch offset {
            case 0, 1: return 0xFF
            case 2: return 0xFD
            default: return 0x00
            }
        }

        /// Decodes from the start of the window: drops what cannot start a packet, returns the first
        /// complete result, or nil when the window is empty or holds the start of a packet still arriving.
        private static func scan(_ raw: UnsafeMutableRawBufferPointer, _ cursor: inout Cursor) -> Dynamixel.DecodeResult? {
            cursor.awaitedBytes = 0
            while cursor.head < cursor.tail {
                let start = cursor.head
                let available = cursor.tail - start
                guard startsLikeAPacket(raw, start: start, available: available) else {
                    skipOneByte(&cursor)
                    continue
                }
                guard available > 4 else { return nil }
                let id = raw[start + 4]
                if id == 0xFD || id == 0xFF {
                    cursor.statistics.malformedFrames &+= 1
                    skipOneByte(&cursor)
                    continue
                }
                guard available >= Dynamixel.prefixBytes else { return nil }
                let length = Int(raw[start + 5]) | Int(raw[start + 6]) << 8
                if length > Dynamixel.maxLength {
                    cursor.statistics.oversizeFrames &+= 1
                    skipOneByte(&cursor)
                    continue
                }
                if length < Dynamixel.minimumLength {
                    cursor.statistics.malformedFrames &+= 1
                    skipOneByte(&cursor)
                    continue
                }
                let total = Dynamixel.prefixBytes + length
                guard available >= total else {
                    cursor.awaitedBytes = total
                    return nil
                }
                let crcOffset = start + total - Dynamixel.crcBytes
                let computed = Dynamixel.CRC16.checksum(UnsafeRawBufferPointer(rebasing: raw[start..<crcOffset]))
                let received = UInt16(raw[crcOffset]) | UInt16(raw[crcOffset + 1]) << 8
                guard computed == received else {
                    // A whole packet may start inside this one (e.g. after a truncated one): search again
                    // from the next byte.
                    cursor.statistics.crcErrors &+= 1
                    skipOneByte(&cursor)
                    continue
                }
                let result = parse(raw, start: start, total: total)
                cursor.head += total
                if cursor.head == cursor.tail {
                    cursor.head = 0
                    cursor.tail = 0
                }
                switch result {
                case .packet:
                    cursor.statistics.packetsDecoded &+= 1
                case .rejected:
                    cursor.statistics.rejectedPackets &+= 1
                    cursor.statistics.discardedBytes &+= UInt64(total)
                }
                return result
            }
            cursor.head = 0
            cursor.tail = 0
            return nil
        }

        /// True when the bytes at `start` are FF FF FD 00, or as much of it as has arrived.
        private static func startsLikeAPacket(_ raw: UnsafeMutableRawBufferPointer, start: Int, available: Int) -> Bool {
            for offset in 0..<min(available, Dynamixel.headerBytes) where raw[start + offset] != headerByte(offset) {
                return false
            }
            return true
        }

        private static func skipOneByte(_ cursor: inout Cursor) {
            cursor.head += 1
            cursor.statistics.discardedBytes &+= 1
        }

        /// The packet in `raw[start..<start + total]`, whose CRC matched, or why it is rejected.
        private static func parse(_ raw: UnsafeMutableRawBufferPointer, start: Int, total: Int) -> Dynamixel.DecodeResult {
            let id = raw[start + 4]
            let bodyStart = start + Dynamixel.prefixBytes
            var bodyCount = total - Dynamixel.prefixBytes - Dynamixel.crcBytes
            let instructionByte = raw[bodyStart]
            let instruction = Dynamixel.Instruction(rawValue: instructionByte)
            func rejected(_ reason: Dynamixel.RejectionReason) -> Dynamixel.DecodeResult {
                .rejected(Dynamixel.PacketRejection(reason: reason, id: id, instruction: instructionByte))
            }
            guard instruction.isKnown else { return rejected(.unknownInstruction) }
            let isStatus = instruction == .status
            // A fast read's reply (a status from the broadcast ID) is sent unstuffed.
            if !(isStatus && id == Dynamixel.broadcastID) {
                bodyCount = Dynamixel.ByteStuffing.unstuff(
                    UnsafeMutableRawBufferPointer(rebasing: raw[bodyStart..<(bodyStart + bodyCount)]))
            }
            var parametersStart = bodyStart + 1
            var error: Dynamixel.StatusError?
            if isStatus {
                guard bodyCount >= 2 else { return rejected(.badLength) }
                error = Dynamixel.StatusError(rawValue: raw[bodyStart + 1])
                parametersStart += 1
            }
            let parameterBytes = UnsafeRawBufferPointer(rebasing: raw[parametersStart..<(bodyStart + bodyCount)])
            guard let parameters = Dynamixel.ParameterBytes(copying: parameterBytes) else { return rejected(.badLength) }
            let packet = Dynamixel.Packet(id: id, instruction: instruction, error: error, parameters: parameters)
            if let reason = packet.rejectionReason { return rejected(reason) }
            return .packet(packet)
        }

        private static func abandon(_ raw: UnsafeMutableRawBufferPointer, _ cursor: inout Cursor) {
            let start = cursor.head
            let available = cursor.tail - start
            guard available > 0 else { return }
            // Only the start of a packet still arriving is given up; anything else is `next()`'s to decode
            // or drop.
            guard startsLikeAPacket(raw, start: start, available: available) else { return }
            if available > 4 {
                let id = raw[start + 4]
                guard id != 0xFD, id != 0xFF else { return }
            }
            if available >= Dynamixel.prefixBytes {
                let length = Int(raw[start + 5]) | Int(raw[start + 6]) << 8
                guard length >= Dynamixel.minimumLength, length <= Dynamixel.maxLength,
                    available < Dynamixel.prefixBytes + length
                else { return }
            }
            if available >= Dynamixel.headerBytes { cursor.statistics.malformedFrames &+= 1 }
            skipOneByte(&cursor)
            if cursor.head == cursor.tail {
                cursor.head = 0
                cursor.tail = 0
            }
        }
    }
}
