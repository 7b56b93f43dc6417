
extension RehabLink {
    /// What the decoder made of one complete frame that passed its CRC.
    public enum DecodeResult: Sendable, Equatable {
        /// A valid packet.
        case packet(RehabLink.Packet)
        /// A CRC-valid packet the receiver cannot use; a device answers it with ERROR.
        case rejected(RehabLink.PacketRejection)
    }

    /// A CRC-valid packet that was discarded, and why.
    public struct PacketRejection: Sendable, Equatable {
        public var reason: RehabLink.ProtocolErrorCode
        public var version: UInt8
        /// The raw type byte (it may be unknown).
        public var type: UInt8
        public var sequence: UInt16

        public init(reason: RehabLink.ProtocolErrorCode, version: UInt8, type: UInt8, sequence: UInt16) {
            self.reason = reason
            self.version = version
            self.type = type
            self.sequence = sequence
        }
    }

    /// Counters of everything a decoder has seen, so that link quality is visible to the
    /// supervisor and the user.
    public struct DecoderStatistics: Sendable, Equatable {
        public var bytesReceived: UInt64 = 0
        public var packetsDecoded: UInt64 = 0
        /// Frames dropped because the CRC did not match.
        public var crcErrors: UInt64 = 0
        /// Frames longer than the largest legal frame.
        public var oversizeFrames: UInt64 = 0
        /// Frames that were not valid COBS or too short for a header and CRC (truncated).
        public var malformedFrames: UInt64 = 0
        /// CRC-valid packets with a wrong version, unknown type, bad length or invalid field.
        public var rejectedPackets: UInt64 = 0
        /// Bytes that did not end up in a decoded packet (junk, broken frames), delimiters excluded.
        public var discardedBytes: UInt64 = 0

        public init() {}
    }

    /// Incremental RehabLink frame decoder: bytes in, in any split, packets out.
    ///
    /// ```
    /// … junk | 00 | 05 01 83 07 … | 00 | …      push(_:) one byte at a time
    ///              └── COBS frame ─┘   └─► .packet(sequence: 7, .state(…))
    /// ```
    /// It never allocates: a frame is collected in fixed inline storage, decoded in place, checked
    /// (length, CRC-32C, version, type, payload layout) and parsed into value types. A frame longer
    /// than `RehabLink.maxEncodedBytes` is dropped up to the next delimiter; after any garbage the
    /// decoder resynchronises on the next 0x00.
    public struct FrameDecoder: Sendable {
        private var frame = InlineArray<256, UInt8>(repeating: 0)
        private var frameLength = 0
        private var discardingOversize = false
        public private(set) var statistics = RehabLink.DecoderStatistics()

        public init() {}

        /// Forgets a partially received frame (e.g. after reopening a port).
        public mutating func reset() {
            frameLength = 0
            discardingOversize = false
        }

        /// Feeds one byte; returns a result when the byte completed a CRC-valid frame.
        public mutating func push(_ byte: UInt8) -> RehabLink.DecodeResult? {
            guard let length = take(byte) else { return nil }
            return finishFrame(encodedLength: length)
        }

        /// Feeds `bytes` from `start` on, up to and including the first byte that ends a frame: the
        /// index after the last byte taken, and the frame's result when it was a CRC-valid one (nil
        /// with `next == bytes.count` when no frame ended). The same as `push(_:)` byte by byte, for
        /// readers of whole buffers: a result is as large as the largest message, and carrying an
        /// empty one out of every byte was a fifth of a virtual-time session's time (perf, 2026-12-07).
        public mutating func push(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (next: Int, result: RehabLink.DecodeResult?) {
            var index = start
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if let length = take(byte) { return (index, finishFrame(encodedLength: length)) }
            }
            return (index, nil)
        }

        /// Takes one byte into the frame; the frame's encoded length when the byte ended one.
        @inline(__always)
        private mutating func take(_ byte: UInt8) -> Int? {
            statistics.bytesReceived &+= 1
            if byte == 0 {
                if discardingOversize {
                    discardingOversize = false
                    return nil
                }
                guard frameLength > 0 else { return nil }  // an idle delimiter, not an error
                let length = frameLength
                frameLength = 0
                return length
            }
            if discardingOversize {
                statistics.discardedBytes &+= 1
                return nil
            }
            if frameLength == RehabLink.maxEncodedBytes {
                statistics.oversizeFrames &+= 1
                statistics.discardedBytes &+= UInt64(frameLength) + 1
                frameLength = 0
                discardingOversize = true
                return nil
            }
            frame[frameLength] = byte
            frameLength += 1
            return nil
        }

        private mutating func finishFrame(encodedLength: Int) -> RehabLink.DecodeResult? {
            var span = frame.mutableSpan
            let outcome: FrameOutcome = span.withUnsafeMutableBytes { raw in
                Self.decodeFrame(raw, encodedLength: encodedLength)
            }
            switch outcome {
            case .malformed:
                statistics.malformedFrames &+= 1
            case .crcMismatch:
                statistics.crcErrors &+= 1
            case .rejected(let rejection):
                statistics.rejectedPackets &+= 1
                statistics.discardedBytes &+= UInt64(encodedLength)
                return .rejected(rejection)
            case .packet(let packet):
                statistics.packetsDecoded &+= 1
                return .packet(packet)
            }
            statistics.discardedBytes &+= UInt64(encodedLength)
            return nil
        }

        private enum FrameOutcome {
            case malformed
            case crcMismatch
            case rejected(RehabLink.PacketRejection)
            case packet(RehabLink.Packet)
        }

        private static func decodeFrame(_ raw: UnsafeMutableRawBufferPointer, encodedLength: Int) -> FrameOutcome {
            guard let length = COBS.decodeInPlace(raw, count: encodedLength),
                length >= RehabLink.headerBytes + RehabLink.crcBytes
            else { return .malformed }
            let body = UnsafeRawBufferPointer(rebasing: raw[0..<(length - RehabLink.crcBytes)])
            var trailer = PacketReader(UnsafeRawBufferPointer(raw), offset: length - RehabLink.crcBytes)
            guard CRC32C.checksum(body) == trailer.u32() else { return .crcMismatch }
            var header = PacketReader(body)
            let version = header.u8()
            let typeByte = header.u8()
            let sequence = header.u16()
            guard version == RehabLink.protocolVersion else {
                return .rejected(RehabLink.PacketRejection(reason: .unsupportedVersion, version: version, type: typeByte, sequence: sequence))
            }
            guard let type = RehabLink.MessageType(rawValue: typeByte) else {
                return .rejected(RehabLink.PacketRejection(reason: .unknownType, version: version, type: typeByte, sequence: sequence))
            }
            let payload = UnsafeRawBufferPointer(rebasing: body[RehabLink.headerBytes...])
            do throws(RehabLink.ProtocolErrorCode) {
                let message = try RehabLinkPayload.read(type, payload: payload)
                return .packet(RehabLink.Packet(sequence: sequence, message: message))
            } catch {
                return .rejected(RehabLink.PacketRejection(reason: error, version: version, type: typeByte, sequence: sequence))
            }
        }
    }
}
