extension Dynamixel {
    /// One device's part of a fast read's reply: where its data is in the packet's parameters.
    public struct FastReadSlice: Sendable, Equatable {
        public var id: UInt8
        /// The device's own ERR byte.
        public var error: Dynamixel.StatusError
        /// The device's data is `packet.parameters[dataOffset ..< dataOffset + dataLength]`; read its items
        /// with `packet.parameters.littleEndian(UInt32.self, at: slice.dataOffset + …)`.
        public var dataOffset: Int
        public var dataLength: Int

        public init(id: UInt8, error: Dynamixel.StatusError, dataOffset: Int, dataLength: Int) {
            self.id = id
            self.error = error
            self.dataOffset = dataOffset
            self.dataLength = dataLength
        }
    }

    /// Why a fast read's reply could not be split as requested.
    public enum FastReadError: Error, Sendable, Equatable {
        /// Not a status packet from the broadcast ID.
        case notAFastReadReply
        /// No devices were requested, or more than `maxDevicesPerList`.
        case badDeviceCount
        /// The parameters are not as long as the request implies.
        case lengthMismatch(expected: Int, actual: Int)
        /// The segment at `index` comes from another device than requested (replies come in request order).
        case unexpectedID(index: Int, expected: UInt8, actual: UInt8)
        /// The running CRC after the segment at `index` does not match (the last segment's CRC is the
        /// packet's own, which the decoder has checked).
        case segmentCRCMismatch(index: Int)
    }

    /// Splits the one status packet of a Fast Sync Read or Fast Bulk Read into per-device slices (e-Manual,
    /// "Fast Sync Read (0x8A)" and "Fast Bulk Read (0x9A)"; as `FastReadReplyBuilder` builds it).
    ///
    /// ```
    /// wire:        FF FF FD 00 FE LEN 55 | ERR₁ ID₁ DATA₁ CRC₁ | ERR₂ ID₂ DATA₂ CRC₂ | … | ERRₙ IDₙ DATAₙ | CRC
    /// Packet:      error = ERR₁, parameters = ID₁ DATA₁ CRC₁ ERR₂ ID₂ DATA₂ CRC₂ … ERRₙ IDₙ DATAₙ
    /// ```
    /// The e-Manual says a host may check only the packet's final CRC; the intermediate CRCs (each the
    /// running CRC from the header) are checked too unless `checkingSegmentCRCs` is false.
    public enum FastRead {
        /// The slices of a Fast Sync Read reply for `ids` (in request order), each `dataLength` bytes.
        public static func slices(
            of packet: Dynamixel.Packet, ids: Dynamixel.DeviceList<UInt8>, dataLength: Int,
            checkingSegmentCRCs: Bool = true
        ) throws(Dynamixel.FastReadError) -> Dynamixel.DeviceList<Dynamixel.FastReadSlice> {
            guard dataLength >= 0 && dataLength <= Dynamixel.maxPacketBytes else {
                throw .lengthMismatch(expected: dataLength, actual: packet.parameters.count)
            }
            return try split(
                packet, count: ids.count, checkingSegmentCRCs: checkingSegmentCRCs, id: { ids[$0] }, length: { _ in dataLength })
        }

        /// The slices of a Fast Bulk Read reply for `entries` (in request order).
        public static func slices(
            of packet: Dynamixel.Packet, entries: Dynamixel.DeviceList<Dynamixel.BulkReadEntry>,
            checkingSegmentCRCs: Bool = true
        ) throws(Dynamixel.FastReadError) -> Dynamixel.DeviceList<Dynamixel.FastReadSlice> {
            try split(
                packet, count: entries.count, checkingSegmentCRCs: checkingSegmentCRCs, id: { entries[$0].id },
                length: { Int(entries[$0].length) })
        }

        private static func split(
            _ packet: Dynamixel.Packet, count: Int, checkingSegmentCRCs: Bool, id expectedID: (Int) -> UInt8,
            length dataLength: (Int) -> Int
        ) throws(Dynamixel.FastReadError) -> Dynamixel.DeviceList<Dynamixel.FastReadSlice> {
            guard packet.isFastReadReply, let firstError = packet.error else { throw .notAFastReadReply }
            guard count > 0 && count <= Dynamixel.DeviceList<Dynamixel.FastReadSlice>.capacity else { throw .badDeviceCount }
            // Σ(ERR + ID + DATA + CRC), less the first ERR (the packet's `error`) and the last CRC (the packet's).
            var expected = 4 * count - 3
            for index in 0..<count { expected += dataLength(index) }
            let parameters = packet.parameters
            guard parameters.count == expected else { throw .lengthMismatch(expected: expected, actual: parameters.count) }

            var crc = Dynamixel.CRC16()
            if checkingSegmentCRCs {
                // The bytes before the parameters, as they were on the wire (nothing is stuffed).
                let length = parameters.count + 4  // INST + ERR₁ + parameters + CRC
                crc.update(0xFF)
                crc.update(0xFF)
                crc.update(0xFD)
                crc.update(0x00)
                crc.update(Dynamixel.broadcastID)
                crc.update(UInt8(truncatingIfNeeded: length))
                crc.update(UInt8(truncatingIfNeeded: length >> 8))
                crc.update(Dynamixel.Instruction.status.rawValue)
                crc.update(firstError.rawValue)
            }
            var slices = Dynamixel.DeviceList<Dynamixel.FastReadSlice>()
            var offset = 0
            for index in 0..<count {
                var error = firstError
                if index > 0 {
                    error = Dynamixel.StatusError(rawValue: parameters[offset])
                    if checkingSegmentCRCs { crc.update(parameters[offset]) }
                    offset += 1
                }
                let id = parameters[offset]
                if checkingSegmentCRCs { crc.update(id) }
                offset += 1
                guard id == expectedID(index) else { throw .unexpectedID(index: index, expected: expectedID(index), actual: id) }
                let length = dataLength(index)
                if checkingSegmentCRCs {
                    for dataIndex in offset..<(offset + length) { crc.update(parameters[dataIndex]) }
                }
                slices.append(Dynamixel.FastReadSlice(id: id, error: error, dataOffset: offset, dataLength: length))
                offset += length
                if index < count - 1 {
                    if checkingSegmentCRCs {
                        let received = UInt16(parameters[offset]) | UInt16(parameters[offset + 1]) << 8
                        guard received == crc.value else { throw .segmentCRCMismatch(index: index) }
                        crc.update(parameters[offset])
                        crc.update(parameters[offset + 1])
                    }
                    offset += Dynamixel.crcBytes
                }
            }
            return slices
        }
    }
}
