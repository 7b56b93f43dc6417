
extension RehabLink {
    /// One encoded frame, ready for the wire: COBS bytes followed by the 0x00 delimiter.
    public typealias EncodedFrame = InlineBytes<256>

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
                frame.overwrite { out in
                    let encoded = COBS.encode(UnsafeRawBufferPointer(rebasing: raw[0..<packetLength]), into: out)
                    out[encoded] = 0
                    return encoded + 1
                }
            }
        }
    }
}
