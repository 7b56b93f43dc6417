extension NDI {
    /// One reply as bytes, in fixed inline storage (no heap): an ASCII line with its CRC and CR, or a
    /// binary BX reply. Large enough for the largest of either (`maxBXFrameBytes`).
    public struct EncodedReply: Sendable {
        @usableFromInline var storage = InlineArray<1032, UInt8>(repeating: 0)
        /// Bytes in the reply; 0 after a refused encoding.
        public internal(set) var count = 0

        public init() {}

        /// Calls `body` with the reply's bytes.
        @inlinable
        public func withUnsafeBytes<R, Failure: Error>(
            _ body: (UnsafeRawBufferPointer) throws(Failure) -> R
        ) throws(Failure) -> R {
            let count = self.count
            let span = storage.span
            var outcome: Result<R, Failure>?
            span.withUnsafeBytes { raw in
                do throws(Failure) {
                    outcome = .success(try body(UnsafeRawBufferPointer(rebasing: raw[0..<count])))
                } catch {
                    outcome = .failure(error)
                }
            }
            return try outcome!.get()
        }

        /// The reply's bytes as an array (tests and diagnostics; allocates).
        public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

        mutating func append(_ byte: UInt8) {
            storage[count] = byte
            count += 1
        }

        mutating func append(uint16 value: UInt16) {
            append(UInt8(truncatingIfNeeded: value))
            append(UInt8(truncatingIfNeeded: value >> 8))
        }

        mutating func append(uint32 value: UInt32) {
            append(uint16: UInt16(truncatingIfNeeded: value))
            append(uint16: UInt16(truncatingIfNeeded: value >> 16))
        }

        mutating func append(float value: Float) {
            append(uint32: value.bitPattern)
        }

        mutating func replace(uint16 value: UInt16, at index: Int) {
            storage[index] = UInt8(truncatingIfNeeded: value)
            storage[index + 1] = UInt8(truncatingIfNeeded: value >> 8)
        }

        /// The CRC of the stored bytes [start, start + length).
        func crc(from start: Int, count length: Int) -> UInt16 {
            var crc = NDI.CRC16()
            for index in start..<(start + length) { crc.update(storage[index]) }
            return crc.value
        }
    }

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
            reply.count = 0
            guard text.count >= 1 else { throw .textLength(text.count) }
            for byte in text where !NDI.isReplyCharacter(byte) { throw .invalidCharacter(byte) }
            for byte in text { reply.append(byte) }
            let crc = UInt32(NDI.CRC16.checksum(text))
            for position in stride(from: 3, through: 0, by: -1) { reply.append(NDI.hexDigit(crc >> UInt32(4 * position))) }
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
            reply.count = 0
            for index in 0..<bx.handles.count {
                let handle = bx.handles[index]
                guard handle.isWellFormed else { throw .malformedHandle(index: index) }
                if let pose = handle.pose, !pose.isFiniteOnTheWire { throw .nonFiniteValue(index: index) }
            }
            reply.append(NDI.bxFirstByte)
            reply.append(NDI.bxSecondByte)
            reply.append(uint16: 0)   // reply length, filled in below
            reply.append(uint16: 0)   // header CRC, filled in below
            let bodyStart = reply.count
            reply.append(UInt8(bx.handles.count))
            for handle in bx.handles {
                reply.append(handle.handle)
                reply.append(handle.status.rawValue)
                guard handle.status != .disabled else { continue }
                if let pose = handle.pose {
                    let q = pose.wireQuaternion
                    let t = pose.wirePositionMillimeters
                    for index in 0..<4 { reply.append(float: q[index]) }
                    for index in 0..<3 { reply.append(float: t[index]) }
                    reply.append(float: pose.wireRMSErrorMillimeters)
                }
                reply.append(uint32: handle.portStatus.rawValue)
                reply.append(uint32: handle.frameNumber)
            }
            reply.append(uint16: bx.systemStatus.rawValue)
            let length = reply.count - bodyStart
            reply.replace(uint16: UInt16(length), at: 2)
            reply.replace(uint16: reply.crc(from: 0, count: 4), at: 4)
            reply.append(uint16: reply.crc(from: bodyStart, count: length))
        }
    }
}
