/// RehabRef (protocols/rehabref/README.md): the reference stream for mirror mode. Its Wire types.
public enum RehabRef {}

extension RehabRef {
    /// One frame of a RehabRef stream (protocols/rehabref/README.md): a reference position for mirror
    /// mode from another limb's device or a tracker, sent as one UDP datagram of 36 bytes.
    ///
    /// Units are in the names; the position is the only floating-point field and must be finite.
    public struct Datagram: Sendable, Equatable {
        public static let byteCount = 36
        public static let magic: (UInt8, UInt8, UInt8, UInt8) = (0x52, 0x52, 0x45, 0x46)  // "RREF"
        public static let version: UInt8 = 1

        public var frameCounter: UInt32
        /// The source's frame period [µs] (1 … 1 000 000).
        public var framePeriodMicroseconds: UInt32
        /// How old the sample was when it was sent [µs].
        public var latencyMicroseconds: UInt32
        /// The source's own fit error [µm] (0 for an encoder).
        public var rmsErrorMicrometers: UInt32
        public var positionRadians: Double
        public var toolVisible: Bool

        public init(frameCounter: UInt32, framePeriodMicroseconds: UInt32, latencyMicroseconds: UInt32, rmsErrorMicrometers: UInt32,
                    positionRadians: Double, toolVisible: Bool) {
            self.frameCounter = frameCounter
            self.framePeriodMicroseconds = framePeriodMicroseconds
            self.latencyMicroseconds = latencyMicroseconds
            self.rmsErrorMicrometers = rmsErrorMicrometers
            self.positionRadians = positionRadians
            self.toolVisible = toolVisible
        }

        /// Why a datagram was refused (each is counted by the receiver; none reaches the loop).
        public enum Rejection: String, Error, Sendable, Equatable, CaseIterable {
            case wrongLength = "wrong_length"
            case badMagic = "bad_magic"
            case unsupportedVersion = "unsupported_version"
            case badCRC = "bad_crc"
            case reservedBitsSet = "reserved_bits_set"
            case periodOutOfRange = "period_out_of_range"
            case nonFinitePosition = "non_finite_position"
        }

        /// Writes the 36 bytes into `buffer` (at least `byteCount` long); returns the count written.
        @discardableResult
        public func encode(into buffer: UnsafeMutableRawBufferPointer) -> Int {
            precondition(buffer.count >= Self.byteCount, "a RehabRef datagram needs \(Self.byteCount) bytes")
            var writer = PacketWriter(buffer)
            writer.u8(Self.magic.0)
            writer.u8(Self.magic.1)
            writer.u8(Self.magic.2)
            writer.u8(Self.magic.3)
            writer.u8(Self.version)
            writer.u8(toolVisible ? 1 : 0)
            writer.u16(0)
            writer.u32(frameCounter)
            writer.u32(framePeriodMicroseconds)
            writer.u32(latencyMicroseconds)
            writer.u32(rmsErrorMicrometers)
            let bits = positionRadians.bitPattern
            writer.u32(UInt32(truncatingIfNeeded: bits))
            writer.u32(UInt32(truncatingIfNeeded: bits >> 32))
            writer.u32(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[0..<32])))
            return Self.byteCount
        }

        /// The datagram in `bytes`, or why it is refused. Never traps on any input.
        public static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<RehabRef.Datagram, Rejection> {
            guard bytes.count == byteCount else { return .failure(.wrongLength) }
            guard bytes[0] == magic.0, bytes[1] == magic.1, bytes[2] == magic.2, bytes[3] == magic.3 else { return .failure(.badMagic) }
            guard bytes[4] == version else { return .failure(.unsupportedVersion) }
            var reader = PacketReader(bytes, offset: 32)
            guard reader.u32() == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<32])) else { return .failure(.badCRC) }
            reader = PacketReader(bytes, offset: 5)
            let flags = reader.u8()
            let reserved = reader.u16()
            guard flags & ~1 == 0, reserved == 0 else { return .failure(.reservedBitsSet) }
            let counter = reader.u32()
            let period = reader.u32()
            guard (1...1_000_000).contains(period) else { return .failure(.periodOutOfRange) }
            let latency = reader.u32()
            let rms = reader.u32()
            let low = UInt64(reader.u32())
            let position = Double(bitPattern: low | UInt64(reader.u32()) << 32)
            guard position.isFinite else { return .failure(.nonFinitePosition) }
            return .success(RehabRef.Datagram(
                frameCounter: counter, framePeriodMicroseconds: period, latencyMicroseconds: latency, rmsErrorMicrometers: rms,
                positionRadians: position, toolVisible: flags & 1 == 1))
        }
    }
}
