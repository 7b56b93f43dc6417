/// Rebuilds a valid MCAP file from one cut short — by a `kill -9`, a power loss or a full disk —
/// keeping every complete chunk that decompresses (zstd) and whose CRC checks out, in the same
/// chunk boundaries, with fresh message indexes, summary and footer. The rebuilt file's chunks are
/// zstd-compressed, whatever the original's were (uncompressed ones read the same).
public enum MCAPRecovery {
    public struct Outcome: Sendable {
        /// The rebuilt file.
        public var bytes: [UInt8]
        public var messagesKept: Int
        public var chunksKept: Int
        /// Bytes of the input after the last complete chunk (lost).
        public var bytesDropped: Int
        /// Where and why reading stopped (nil: the input was already a complete file).
        public var stop: String?
        /// Log time span of the kept messages [ns].
        public var firstLogTime: UInt64?
        public var lastLogTime: UInt64?
    }

    public static func recover(_ bytes: [UInt8]) throws(MCAPError) -> Outcome {
        let file = try MCAPFile(bytes: bytes, salvaging: true)
        var writer = MCAPWriter(profile: file.profile, library: file.library)
        for schema in file.schemas.values.sorted(by: { $0.id < $1.id }) {
            writer.addSchema(id: schema.id, name: schema.name, encoding: schema.encoding, data: schema.data)
        }
        for channel in file.channels.values.sorted(by: { $0.id < $1.id }) {
            writer.addChannel(
                id: channel.id, schemaID: channel.schemaID, topic: channel.topic, messageEncoding: channel.messageEncoding,
                metadata: channel.metadata.sorted { $0.key < $1.key })
        }
        for entry in file.metadata { writer.addMetadata(name: entry.name, entry.entries) }
        writer.chunkSizeBytes = .max
        // Only messages inside chunks are rebuilt (a RehabHost recording has no other), so only they are
        // counted: a foreign file's unchunked messages were once reported kept and then not written.
        var messagesKept = 0
        var firstLogTime: UInt64?
        var lastLogTime: UInt64?
        for chunk in file.chunks {
            for message in file.messages[chunk.messages] {
                messagesKept += 1
                firstLogTime = min(firstLogTime ?? message.logTime, message.logTime)
                lastLogTime = max(lastLogTime ?? message.logTime, message.logTime)
                writer.addMessage(
                    channel: message.channel, sequence: message.sequence, logTime: message.logTime, publishTime: message.publishTime
                ) { data in data.append(contentsOf: file.data(of: message)) }
            }
            writer.closeChunk()
        }
        writer.finish()
        let kept = file.chunks.last.map { $0.offset + $0.length } ?? 0
        return Outcome(
            bytes: writer.takeOutput(), messagesKept: messagesKept, chunksKept: file.chunks.count,
            bytesDropped: file.salvageStop == nil ? 0 : max(0, bytes.count - kept),
            stop: file.salvageStop.map { "\($0.reason)" }, firstLogTime: firstLogTime, lastLogTime: lastLogTime)
    }
}
