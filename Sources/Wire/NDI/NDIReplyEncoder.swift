extension NDI {
    /// One reply as bytes, in fixed inline storage (no heap): an ASCII line with its CRC and CR, or a
    /// binary BX reply. Large enough for the largest of either: keep the literal equal to
    /// `NDI.maxBXFrameBytes`.
    public typealias EncodedReply = InlineBytes<1032>

    /// Why `ReplyEncoder` refused to write a reply (nothing usable is written then: `count` is 0).
    public enum ReplyEncodingError: Error, Sendable, Equatable {
        /// An ASCII reply needs 1 … `maxReplyTextBytes` characters.
        case textLength(Int)
        /// A byte that an ASCII reply cannot carry (only printable ASCII and LF).
        case invalidCharacter(UInt8)
        /// The handle at this index does not have the fields its status gives it (`HandleReport.isWellFormed`).
        case malformedHandle(index: Int)
        /// The handle at this index has a NaN or infinite value, or one beyond float32's range.
        case nonFiniteValue(index: Int)
    }

    /// Writes replies as a device sends them, for a simulator (README §4, §6): ASCII text with its CRC as
    /// four upper-case hex digits and a CR; BX replies with their header CRC and body CRC.
    public enum ReplyEncoder {
        /// "text CRC CR".
        public static func ascii(_ text: NDI.ReplyText, into reply: inout NDI.EncodedReply) throws(NDI.ReplyEncodingError) {
            reply.removeAll()
            guard text.count >= 1 else { throw .textLength(text.count) }
            for byte in text where !NDI.isReplyCharacter(byte) { throw .invalidCharacter(byte) }
            for byte in text { reply.append(byte) }
            let crc = UInt32(NDI.CRC16.checksum(text))
            reply.append(hex: crc, digits: 4)
            reply.append(NDI.carriageReturn)
        }

        /// "OKAYA896⏎".
        public static func okay(into reply: inout NDI.EncodedReply) {
            literal("OKAY", into: &reply)
        }

        /// "RESETBE6F⏎": what the device sends once it has reset after a break (README §2).
        public static func reset(into reply: inout NDI.EncodedReply) {
            literal("RESET", into: &reply)
        }

        /// "ERRORxx" with its CRC.
        public static func error(_ code: UInt8, into reply: inout NDI.EncodedReply) {
            var text = NDI.ReplyText()
            text.append(ascii: "ERROR")
            text.append(hex: UInt32(code), digits: 2)
            try? ascii(text, into: &reply)   // 7 printable characters: cannot fail
        }

        /// "WARNINGxx" with its CRC.
        public static func warning(_ code: UInt8, into reply: inout NDI.EncodedReply) {
            var text = NDI.ReplyText()
            text.append(ascii: "WARNING")
            text.append(hex: UInt32(code), digits: 2)
            try? ascii(text, into: &reply)
        }

        private static func literal(_ text: StaticString, into reply: inout NDI.EncodedReply) {
            var line = NDI.ReplyText()
            line.append(ascii: text)
            try? ascii(line, into: &reply)
        }

        /// A BX reply to reply option 0x0001 (or 0x0801): README §6.1–§6.2. Refused when a handle is not
        /// well formed or a value would not be finite on the wire (the host's decoder would refuse it too).
        public static func bx(_ bx: NDI.BXReply, into reply: inout NDI.EncodedReply) throws(NDI.ReplyEncodingError) {
            reply.removeAll()
            for index in 0..<bx.handles.count {
                let handle = bx.handles[index]
                guard handle.isWellFormed else { throw .malformedHandle(index: index) }
                if let pose = handle.pose, !pose.isFiniteOnTheWire { throw .nonFiniteValue(index: index) }
            }
            reply.append(NDI.bxFirstByte)
            reply.append(NDI.bxSecondByte)
            reply.appendLittleEndian(UInt16(0))   // reply length, filled in below
            reply.appendLittleEndian(UInt16(0))   // header CRC, filled in below
            let bodyStart = reply.count
            reply.append(UInt8(bx.handles.count))
            for handle in bx.handles {
                reply.append(handle.handle)
                reply.append(handle.status.rawValue)
                guard handle.status != .disabled else { continue }
                if let pose = handle.pose {
                    let q = pose.wireQuaternion
                    let t = pose.wirePositionMillimeters
                    for index in 0..<4 { reply.appendLittleEndian(q[index].bitPattern) }
                    for index in 0..<3 { reply.appendLittleEndian(t[index].bitPattern) }
                    reply.appendLittleEndian(pose.wireRMSErrorMillimeters.bitPattern)
                }
                reply.appendLittleEndian(handle.portStatus.rawValue)
                reply.appendLittleEndian(handle.frameNumber)
            }
            reply.appendLittleEndian(bx.systemStatus.rawValue)
            let length = reply.count - bodyStart
            replace(UInt16(length), at: 2, in: &reply)
            replace(crc(of: reply, from: 0, count: 4), at: 4, in: &reply)
            reply.appendLittleEndian(crc(of: reply, from: bodyStart, count: length))
        }

        /// Overwrites the two bytes at `index` with `value`, low byte first.
        private static func replace(_ value: UInt16, at index: Int, in reply: inout NDI.EncodedReply) {
            reply[index] = UInt8(truncatingIfNeeded: value)
            reply[index + 1] = UInt8(truncatingIfNeeded: value >> 8)
        }

        /// The CRC of the reply's bytes [start, start + length).
        private static func crc(of reply: NDI.EncodedReply, from start: Int, count length: Int) -> UInt16 {
            var crc = NDI.CRC16()
            for index in start..<(start + length) { crc.update(reply[index]) }
            return crc.value
        }
    }
}
