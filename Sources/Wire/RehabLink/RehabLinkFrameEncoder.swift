
extension RehabLink {
    /// One encoded frame, ready for the wire: COBS bytes followed by the 0x00 delimiter.
    public struct EncodedFrame: Sendable {
        @usableFromInline var storage: InlineArray<256, UInt8> = InlineArray(repeating: 0)
        /// Bytes in the frame, delimiter included.
        public internal(set) var count = 0

        public init() {}

        /// Calls `body` with the frame's bytes.
        @inlinable
        public func withUnsafeBytes<Result, Failure: Error>(
            _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
        ) throws(Failure) -> Result {
            let count = self.count
            let span = storage.span
            // `Span.withUnsafeBytes` is not typed-throws; carry the error out by hand.
            var outcome: Swift.Result<Result, Failure>?
            span.withUnsafeBytes { raw in
                do throws(Failure) {
                    outcome = .success(try body(UnsafeRawBufferPointer(rebasing: raw[0..<count])))
                } catch {
                    outcome = .failure(error)
                }
            }
            return try outcome!.get()
        }

        /// The frame's bytes as an array (tests and diagnostics; allocates).
        public var bytes: [UInt8] {
            withUnsafeBytes { Array($0) }
        }
    }

    /// Encodes RehabLink packets into frames without touching the heap.
    ///
    /// ```
    /// message + sequence ──► | ver | type | seq (LE) | payload | CRC-32C (LE) | ──COBS──► … 00
    /// ```
    public enum FrameEncoder {
        /// Encodes `message` with `sequence` into `frame`, replacing its contents.
        public static func encode(_ message: RehabLink.Message, sequence: UInt16, into frame: inout RehabLink.EncodedFrame) {
            encode(version: RehabLink.protocolVersion, type: message.type.rawValue, sequence: sequence, into: &frame) {
                RehabLinkPayload.write(message, to: &$0)
            }
        }

        /// A frame for `message` (convenience that returns by value).
        public static func frame(_ message: RehabLink.Message, sequence: UInt16) -> RehabLink.EncodedFrame {
            var frame = RehabLink.EncodedFrame()
            encode(message, sequence: sequence, into: &frame)
            return frame
        }

        private static func encode(
            version: UInt8, type: UInt8, sequence: UInt16, into frame: inout RehabLink.EncodedFrame,
            payload: (inout PacketWriter) -> Void
        ) {
            var packet = InlineArray<254, UInt8>(repeating: 0)
            var packetSpan = packet.mutableSpan
            packetSpan.withUnsafeMutableBytes { raw in
                var writer = PacketWriter(raw)
                writer.u8(version)
                writer.u8(type)
                writer.u16(sequence)
                payload(&writer)
                let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<writer.offset]))
                writer.u32(crc)
                let packetLength = writer.offset
                var frameSpan = frame.storage.mutableSpan
                frame.count = frameSpan.withUnsafeMutableBytes { out in
                    let encoded = COBS.encode(UnsafeRawBufferPointer(rebasing: raw[0..<packetLength]), into: out)
                    out[encoded] = 0
                    return encoded + 1
                }
            }
        }
    }
}
