extension BNO08xRVC {
    /// One encoded report, ready for the wire: always 19 bytes. The simulated sensor keeps one and encodes
    /// into it every 10 ms; nothing is allocated.
    public struct EncodedFrame: Sendable {
        @usableFromInline var storage = InlineArray<19, UInt8>(repeating: 0)

        public init() {}

        /// Bytes in the report: always `BNO08xRVC.frameBytes`.
        public var count: Int { BNO08xRVC.frameBytes }

        /// The byte at `offset` (0 … 18).
        public subscript(offset: Int) -> UInt8 { storage[offset] }

        /// Calls `body` with the report's bytes.
        @inlinable
        public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
            storage.span.withUnsafeBytes { body($0) }
        }

        /// The report's bytes as an array (tests and diagnostics; allocates).
        public var bytes: [UInt8] {
            withUnsafeBytes { Array($0) }
        }

        mutating func set(_ byte: UInt8, at offset: Int) {
            storage[offset] = byte
        }
    }

    /// Frame → 19 bytes (README §3). Every `Frame` is encodable: its fields are already the wire's
    /// integers, written as they are, little-endian (the SI rounding and saturation happen before, in
    /// `Frame.init(index:yawRadians:…)`).
    public enum FrameEncoder {
        /// Writes `frame` into `encoded`: header, fields, checksum.
        public static func encode(_ frame: BNO08xRVC.Frame, into encoded: inout BNO08xRVC.EncodedFrame) {
            encoded.set(BNO08xRVC.headerByte, at: 0)
            encoded.set(BNO08xRVC.headerByte, at: 1)
            encoded.set(frame.index, at: BNO08xRVC.indexOffset)
            let fields: InlineArray<6, Int16> = [
                frame.yawCentidegrees, frame.pitchCentidegrees, frame.rollCentidegrees,
                frame.accelerationXMilliG, frame.accelerationYMilliG, frame.accelerationZMilliG,
            ]
            for field in 0..<6 {
                let raw = UInt16(bitPattern: fields[field])
                encoded.set(UInt8(truncatingIfNeeded: raw), at: 3 + 2 * field)
                encoded.set(UInt8(truncatingIfNeeded: raw >> 8), at: 4 + 2 * field)
            }
            encoded.set(frame.motionIntent, at: 15)
            encoded.set(frame.motionRequest, at: 16)
            encoded.set(frame.reserved, at: 17)
            var sum: UInt8 = 0
            for offset in BNO08xRVC.checksummedOffsets { sum &+= encoded[offset] }
            encoded.set(sum, at: BNO08xRVC.checksumOffset)
        }

        /// `frame` encoded into a new `EncodedFrame`.
        public static func frame(_ frame: BNO08xRVC.Frame) -> BNO08xRVC.EncodedFrame {
            var encoded = BNO08xRVC.EncodedFrame()
            encode(frame, into: &encoded)
            return encoded
        }
    }
}
