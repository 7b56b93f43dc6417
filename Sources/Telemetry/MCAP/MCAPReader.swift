/// An MCAP file read back and checked against the specification: structure (magic, header first,
/// data end, footer last), every CRC (chunks, data section, summary), every message index entry
/// (points at a message of its channel with its log time), every chunk index (points at its chunk
/// and message indexes, sizes match), the statistics (counts and times match what is in the file)
/// and the summary offsets. Chunks may be uncompressed or zstd-compressed (their CRC is over the
/// decompressed records); any other compression is refused by name. The project's own check of
/// what its writer produces, and the input of `rehabctl export`, `report` and `recover`.
public struct MCAPFile: Sendable {
    public struct Schema: Sendable, Equatable {
        public var id: UInt16
        public var name: String
        public var encoding: String
        public var data: [UInt8]
    }

    public struct Channel: Sendable, Equatable {
        public var id: UInt16
        public var schemaID: UInt16
        public var topic: String
        public var messageEncoding: String
        public var metadata: [String: String]
    }

    public struct Message: Sendable {
        public var channel: UInt16
        public var sequence: UInt32
        public var logTime: UInt64
        public var publishTime: UInt64
        /// Where the data is: in `MCAPFile.bytes`, or in `MCAPFile.decompressedRecords` when
        /// `isDecompressed` (a message of a compressed chunk). `MCAPFile.data(of:)` picks the right one.
        public var dataRange: Range<Int>
        public var isDecompressed: Bool
    }

    public struct Statistics: Sendable, Equatable {
        public var messageCount: UInt64
        public var schemaCount: UInt16
        public var channelCount: UInt32
        public var attachmentCount: UInt32
        public var metadataCount: UInt32
        public var chunkCount: UInt32
        public var messageStartTime: UInt64
        public var messageEndTime: UInt64
        public var channelMessageCounts: [UInt16: UInt64]
    }

    /// A complete chunk as found in the data section.
    public struct Chunk: Sendable {
        public var offset: Int
        public var length: Int
        public var messageStartTime: UInt64
        public var messageEndTime: UInt64
        /// Indices into `messages`.
        public var messages: Range<Int>
        /// The chunk's `compression` ("" or "zstd"), the size of its records as stored in the file,
        /// and their size decompressed (equal when uncompressed).
        public var compression: String
        public var compressedSize: Int
        public var uncompressedSize: Int
    }

    public let bytes: [UInt8]
    public private(set) var profile = ""
    public private(set) var library = ""
    public private(set) var schemas: [UInt16: Schema] = [:]
    public private(set) var channels: [UInt16: Channel] = [:]
    /// Every message, in file order.
    public private(set) var messages: [Message] = []
    /// The records of every compressed chunk, decompressed, one chunk after the other (the data of
    /// their messages).
    public private(set) var decompressedRecords: [UInt8] = []
    public private(set) var metadata: [(name: String, entries: [(String, String)])] = []
    public private(set) var chunks: [Chunk] = []
    public private(set) var statistics: Statistics?
    /// Chunk index records found in the summary.
    public private(set) var chunkIndexCount = 0
    /// True when the file had its data end, summary and footer (a complete, closed file).
    public private(set) var isComplete = false
    /// With `salvaging`: where reading stopped and why (nil: the whole file was read).
    public private(set) var salvageStop: (offset: Int, reason: MCAPError)?

    /// Reads and checks a whole file. With `salvaging`, a file cut short (a crash) is read up to its
    /// last complete, CRC-valid record instead of being refused; `salvageStop` says where it ended.
    public init(bytes: [UInt8], salvaging: Bool = false) throws(MCAPError) {
        self.bytes = bytes
        guard bytes.count >= MCAPFormat.magic.count, Array(bytes[0..<8]) == MCAPFormat.magic else {
            throw .notMCAP(bytes.count < 8 ? "only \(bytes.count) bytes" : "it does not start with the MCAP magic 89 4D 43 41 50 30 0D 0A")
        }
        do {
            try read()
        } catch {
            guard salvaging else { throw error }
            salvageStop = (error.offset ?? bytes.count, error)
            // Keep only whole chunks: drop the messages of a chunk that did not pass its checks.
            let kept = chunks.last.map { $0.messages.upperBound } ?? 0
            if messages.count > kept { messages.removeSubrange(kept...) }
        }
    }

    /// Messages on `topic`, in file order.
    public func messages(onTopic topic: String) -> [Message] {
        guard let channel = channels.values.first(where: { $0.topic == topic }) else { return [] }
        return messages.filter { $0.channel == channel.id }
    }

    public func data(of message: Message) -> ArraySlice<UInt8> {
        message.isDecompressed ? decompressedRecords[message.dataRange] : bytes[message.dataRange]
    }

    // MARK: Reading

    private struct RecordHead {
        var opcode: UInt8
        var start: Int
        var contentStart: Int
        var end: Int
    }

    private func recordHead(at offset: Int, limit: Int) throws(MCAPError) -> RecordHead {
        try Self.recordHead(in: bytes, at: offset, limit: limit)
    }

    /// The record at `offset` of `source`: the file, or a compressed chunk's decompressed records.
    private static func recordHead(in source: [UInt8], at offset: Int, limit: Int) throws(MCAPError) -> RecordHead {
        guard limit - offset >= 9 else { throw .truncated(offset: offset, "a record header needs 9 bytes, \(limit - offset) left") }
        var reader = MCAPByteReader(source, from: offset + 1, to: limit, context: "record at byte \(offset)")
        let length = try reader.uint64("content length")
        guard length <= UInt64(limit - offset - 9) else {
            throw .truncated(offset: offset, "record 0x\(String(source[offset], radix: 16)) claims \(length) bytes, \(limit - offset - 9) left")
        }
        return RecordHead(opcode: source[offset], start: offset, contentStart: offset + 9, end: offset + 9 + Int(length))
    }

    private mutating func read() throws(MCAPError) {
        var offset = 8
        let header = try recordHead(at: offset, limit: bytes.count)
        guard header.opcode == MCAPFormat.Opcode.header.rawValue else {
            throw .malformed(offset: offset, "the first record must be the Header (0x01), found 0x\(String(header.opcode, radix: 16))")
        }
        var reader = MCAPByteReader(bytes, from: header.contentStart, to: header.end, context: "Header")
        profile = try reader.string("profile")
        library = try reader.string("library")
        offset = header.end

        // Data section.
        var messageIndexOffsets: [Int: (channel: UInt16, entries: [(UInt64, UInt64)])] = [:]
        var pendingIndexedChunk: (chunk: Int, recordsStart: Int)?
        var dataEndOffset: Int?
        while dataEndOffset == nil {
            let record = try recordHead(at: offset, limit: bytes.count)
            switch MCAPFormat.Opcode(rawValue: record.opcode) {
            case .schema?: try readSchema(record, in: bytes)
            case .channel?: try readChannel(record, in: bytes)
            case .message?: try readMessage(record, in: bytes, decompressedAt: nil)
            case .chunk?:
                let recordsStart = try readChunk(record)
                pendingIndexedChunk = (chunks.count - 1, recordsStart)
            case .messageIndex?:
                guard let indexed = pendingIndexedChunk else {
                    throw .malformed(offset: record.start, "a Message Index record not after a chunk")
                }
                let index = try readMessageIndex(record)
                try check(index, of: chunks[indexed.chunk], recordsStart: indexed.recordsStart, at: record.start)
                messageIndexOffsets[record.start] = index
            case .attachment?, .metadata?:
                if record.opcode == MCAPFormat.Opcode.metadata.rawValue {
                    var reader = MCAPByteReader(bytes, from: record.contentStart, to: record.end, context: "Metadata at byte \(record.start)")
                    metadata.append((try reader.string("name"), try reader.stringMap("metadata")))
                }
            case .dataEnd?:
                var reader = MCAPByteReader(bytes, from: record.contentStart, to: record.end, context: "Data End")
                let crc = try reader.uint32("data_section_crc")
                if crc != 0 {
                    let computed = CRC32.checksum(bytes[0..<record.start])
                    guard computed == crc else {
                        throw .checksum(offset: record.start, "data section CRC is 0x\(hex(crc)), the bytes give 0x\(hex(computed))")
                    }
                }
                dataEndOffset = record.end
            case .header?, .footer?, .chunkIndex?, .attachmentIndex?, .statistics?, .metadataIndex?, .summaryOffset?:
                throw .malformed(offset: record.start, "record 0x\(String(record.opcode, radix: 16)) does not belong in the data section")
            case nil:
                break  // Unknown (application) records are skipped, as the specification asks.
            }
            if record.opcode != MCAPFormat.Opcode.messageIndex.rawValue && record.opcode != MCAPFormat.Opcode.chunk.rawValue {
                pendingIndexedChunk = nil
            }
            offset = record.end
        }

        // Footer and magic at the end.
        let footerStart = bytes.count - 8 - MCAPFormat.footerRecordLength
        guard footerStart >= offset, Array(bytes[(bytes.count - 8)...]) == MCAPFormat.magic,
            bytes[footerStart] == MCAPFormat.Opcode.footer.rawValue
        else {
            throw .truncated(offset: bytes.count, "no Footer and closing magic after the data section")
        }
        var footer = MCAPByteReader(bytes, from: footerStart + 9, to: bytes.count - 8, context: "Footer")
        let summaryStart = try fileIndex(&footer, "summary_start")
        let summaryOffsetStart = try fileIndex(&footer, "summary_offset_start")
        let summaryCRC = try footer.uint32("summary_crc")
        if summaryStart != 0 {
            guard summaryStart == offset else {
                throw .inconsistent("the footer puts the summary at byte \(summaryStart), the data section ends at \(offset)")
            }
            guard summaryOffsetStart == 0 || (summaryStart...footerStart).contains(summaryOffsetStart) else {
                throw .malformed(
                    offset: footerStart + 17,
                    "Footer: summary_offset_start is \(summaryOffsetStart), outside the summary (bytes \(summaryStart)…\(footerStart))")
            }
            if summaryCRC != 0 {
                let computed = CRC32.checksum(bytes[summaryStart..<(footerStart + 9 + 16)])
                guard computed == summaryCRC else {
                    throw .checksum(offset: summaryStart, "summary CRC is 0x\(hex(summaryCRC)), the bytes give 0x\(hex(computed))")
                }
            }
            try readSummary(from: summaryStart, to: summaryOffsetStart != 0 ? summaryOffsetStart : footerStart,
                            messageIndexes: messageIndexOffsets)
            if summaryOffsetStart != 0 { try checkSummaryOffsets(from: summaryOffsetStart, to: footerStart, summaryStart: summaryStart) }
        } else if footerStart != offset {
            throw .malformed(offset: offset, "bytes between the data section and the footer, but no summary in the footer")
        }
        isComplete = true
    }

    private mutating func readSchema(_ record: RecordHead, in source: [UInt8]) throws(MCAPError) {
        var reader = MCAPByteReader(source, from: record.contentStart, to: record.end, context: "Schema at byte \(record.start)")
        let id = try reader.uint16("id")
        let schema = Schema(
            id: id, name: try reader.string("name"), encoding: try reader.string("encoding"),
            data: Array(source[try reader.prefixedBytes32("data")]))
        guard id != 0 else { return }  // Invalid by the specification; readers ignore it.
        if let known = schemas[id], known != schema { throw .malformed(offset: record.start, "schema \(id) redefined differently") }
        schemas[id] = schema
    }

    private mutating func readChannel(_ record: RecordHead, in source: [UInt8]) throws(MCAPError) {
        var reader = MCAPByteReader(source, from: record.contentStart, to: record.end, context: "Channel at byte \(record.start)")
        let id = try reader.uint16("id")
        let schemaID = try reader.uint16("schema_id")
        let topic = try reader.string("topic")
        let encoding = try reader.string("message_encoding")
        let entries = try reader.stringMap("metadata")
        guard schemaID == 0 || schemas[schemaID] != nil else {
            throw .malformed(offset: record.start, "channel \(id) (\(topic)) refers to schema \(schemaID) before it is defined")
        }
        let channel = Channel(
            id: id, schemaID: schemaID, topic: topic, messageEncoding: encoding,
            metadata: Dictionary(entries, uniquingKeysWith: { first, _ in first }))
        if let known = channels[id], known != channel { throw .malformed(offset: record.start, "channel \(id) redefined differently") }
        channels[id] = channel
    }

    /// Reads a Message record of `source`. `decompressedAt`: `source` is a compressed chunk's records,
    /// which go into `decompressedRecords` from that index on (nil: `source` is the file).
    private mutating func readMessage(_ record: RecordHead, in source: [UInt8], decompressedAt base: Int?) throws(MCAPError) {
        var reader = MCAPByteReader(source, from: record.contentStart, to: record.end, context: "Message at byte \(record.start)")
        let channel = try reader.uint16("channel_id")
        let sequence = try reader.uint32("sequence")
        let logTime = try reader.uint64("log_time")
        let publishTime = try reader.uint64("publish_time")
        let data = reader.rest()
        guard channels[channel] != nil else {
            throw .malformed(offset: record.start, "message on channel \(channel) before its Channel record")
        }
        let dataRange = base.map { (data.lowerBound + $0)..<(data.upperBound + $0) } ?? data
        messages.append(
            Message(channel: channel, sequence: sequence, logTime: logTime, publishTime: publishTime, dataRange: dataRange, isDecompressed: base != nil))
    }

    /// Reads a chunk's records (decompressing them when compressed); returns where they start, in
    /// `bytes` or in `decompressedRecords` (message index offsets count from there).
    private mutating func readChunk(_ record: RecordHead) throws(MCAPError) -> Int {
        var reader = MCAPByteReader(bytes, from: record.contentStart, to: record.end, context: "Chunk at byte \(record.start)")
        let startTime = try reader.uint64("message_start_time")
        let endTime = try reader.uint64("message_end_time")
        let uncompressedSize = try reader.uint64("uncompressed_size")
        let crc = try reader.uint32("uncompressed_crc")
        let compression = try reader.string("compression")
        let stored = try reader.prefixedBytes64("records")
        guard let kind = MCAPCompression(rawValue: compression) else {
            throw .unsupportedCompression(offset: record.start, compression)
        }
        let firstMessage = messages.count
        let recordsStart: Int
        switch kind {
        case .none:
            guard uncompressedSize == UInt64(stored.count) else {
                throw .malformed(offset: record.start, "chunk says \(uncompressedSize) bytes uncompressed, holds \(stored.count)")
            }
            try checkCRC(crc, of: bytes[stored], chunkAt: record.start)
            try readChunkRecords(in: bytes, stored, decompressedAt: nil)
            recordsStart = stored.lowerBound
        case .zstd:
            let records = try decompressZstd(stored, uncompressedSize: uncompressedSize, chunkAt: record.start)
            try checkCRC(crc, of: records, chunkAt: record.start)
            recordsStart = decompressedRecords.count
            do {
                try readChunkRecords(in: records, 0..<records.count, decompressedAt: recordsStart)
            } catch {
                // The offsets `error` names count from the start of the decompressed records, not the file.
                throw .malformed(offset: record.start, "in the decompressed records of this zstd chunk: \(error)")
            }
            decompressedRecords.append(contentsOf: records)
        }
        let inChunk = messages[firstMessage...]
        let times = (inChunk.map(\.logTime).min() ?? 0, inChunk.map(\.logTime).max() ?? 0)
        guard times == (startTime, endTime) else {
            throw .malformed(offset: record.start, "chunk says its messages span \(startTime)…\(endTime) ns, they span \(times.0)…\(times.1) ns")
        }
        chunks.append(
            Chunk(
                offset: record.start, length: record.end - record.start, messageStartTime: startTime, messageEndTime: endTime,
                messages: firstMessage..<messages.count, compression: compression, compressedSize: stored.count,
                uncompressedSize: Int(uncompressedSize)))
        return recordsStart
    }

    /// The records of a chunk, `range` of `source`: schemas, channels and messages only.
    private mutating func readChunkRecords(in source: [UInt8], _ range: Range<Int>, decompressedAt base: Int?) throws(MCAPError) {
        var offset = range.lowerBound
        while offset < range.upperBound {
            let inner = try Self.recordHead(in: source, at: offset, limit: range.upperBound)
            switch MCAPFormat.Opcode(rawValue: inner.opcode) {
            case .schema?: try readSchema(inner, in: source)
            case .channel?: try readChannel(inner, in: source)
            case .message?: try readMessage(inner, in: source, decompressedAt: base)
            default: throw .malformed(offset: inner.start, "record 0x\(String(inner.opcode, radix: 16)) is not allowed in a chunk")
            }
            offset = inner.end
        }
    }

    /// A chunk's CRC-32 (0: none written) against its uncompressed records.
    private func checkCRC<Records: Collection<UInt8>>(_ crc: UInt32, of records: Records, chunkAt offset: Int) throws(MCAPError) {
        guard crc != 0 else { return }
        let computed = CRC32.checksum(records)
        guard computed == crc else {
            throw .checksum(offset: offset, "chunk CRC is 0x\(hex(crc)), its records give 0x\(hex(computed))")
        }
    }

    /// A zstd chunk's records, `stored` in the file, decompressed: exactly `uncompressedSize` bytes,
    /// or an error naming the chunk and what libzstd found. A size no zstd frame of that length can
    /// reach, or past `Zstd.maximumChunkBytes`, is refused before anything is allocated for it.
    private func decompressZstd(_ stored: Range<Int>, uncompressedSize: UInt64, chunkAt offset: Int) throws(MCAPError) -> [UInt8] {
        guard uncompressedSize / UInt64(Zstd.maximumExpansion) <= UInt64(stored.count),
            uncompressedSize <= UInt64(Zstd.maximumChunkBytes)
        else {
            throw .malformed(
                offset: offset,
                "zstd chunk says \(uncompressedSize) bytes uncompressed: more than its \(stored.count) bytes can hold or than the "
                    + "\(Zstd.maximumChunkBytes >> 20) MiB a chunk may have here")
        }
        let capacity = Int(uncompressedSize)
        var result: Result<Int, Zstd.Failure> = .success(0)
        let records = [UInt8](unsafeUninitializedCapacity: capacity) { destination, initialized in
            result = bytes.withUnsafeBytes { file in
                Zstd.decompress(UnsafeRawBufferPointer(rebasing: file[stored]), into: UnsafeMutableRawBufferPointer(destination))
            }
            initialized = (try? result.get()) ?? 0
        }
        switch result {
        case .failure(let failure):
            throw .malformed(offset: offset, "zstd chunk does not decompress: \(failure) (the chunk is damaged)")
        case .success(let size) where size != capacity:
            throw .malformed(offset: offset, "zstd chunk says \(uncompressedSize) bytes uncompressed, its data gives \(size)")
        case .success:
            return records
        }
    }

    private func readMessageIndex(_ record: RecordHead) throws(MCAPError) -> (channel: UInt16, entries: [(UInt64, UInt64)]) {
        var reader = MCAPByteReader(bytes, from: record.contentStart, to: record.end, context: "Message Index at byte \(record.start)")
        let channel = try reader.uint16("channel_id")
        let length = Int(try reader.uint32("records length"))
        guard length % 16 == 0, length <= reader.remaining else {
            throw .malformed(offset: record.start, "message index records are \(length) bytes, not whole 16-byte entries within the record")
        }
        var entries: [(UInt64, UInt64)] = []
        entries.reserveCapacity(length / 16)
        for _ in 0..<(length / 16) { entries.append((try reader.uint64("log_time"), try reader.uint64("offset"))) }
        return (channel, entries)
    }

    /// Every entry points at a message record of `index.channel` with that log time, and every
    /// message of that channel in the chunk is indexed.
    private func check(_ index: (channel: UInt16, entries: [(UInt64, UInt64)]), of chunk: Chunk, recordsStart: Int, at offset: Int)
        throws(MCAPError)
    {
        // A Message record is 9 bytes of opcode and length, then 22 bytes of fields before its data.
        var byRecordStart: [Int: Int] = [:]
        byRecordStart.reserveCapacity(chunk.messages.count)
        for position in chunk.messages { byRecordStart[messages[position].dataRange.lowerBound - 31] = position }
        var indexed = 0
        let recordsEnd = chunk.compression.isEmpty ? bytes.count : decompressedRecords.count
        for (time, relative) in index.entries {
            // Checked before adding: the offset is the file's, any 64-bit value.
            guard let relativeIndex = Int(exactly: relative), relativeIndex <= recordsEnd - recordsStart,
                let found = byRecordStart[recordsStart + relativeIndex], messages[found].channel == index.channel,
                messages[found].logTime == time
            else {
                throw .inconsistent("message index at byte \(offset): no message of channel \(index.channel) at \(time) ns, chunk offset \(relative)")
            }
            indexed += 1
        }
        let expected = messages[chunk.messages].filter { $0.channel == index.channel }.count
        guard indexed == expected else {
            throw .inconsistent("message index at byte \(offset) lists \(indexed) messages of channel \(index.channel), the chunk holds \(expected)")
        }
    }

    private mutating func readSummary(from start: Int, to end: Int, messageIndexes: [Int: (channel: UInt16, entries: [(UInt64, UInt64)])])
        throws(MCAPError)
    {
        var offset = start
        var previousOpcode: UInt8 = 0
        var seenOpcodes: Set<UInt8> = []
        while offset < end {
            let record = try recordHead(at: offset, limit: end)
            if record.opcode != previousOpcode {
                guard !seenOpcodes.contains(record.opcode) else {
                    throw .malformed(offset: record.start, "summary records are not grouped by opcode")
                }
                seenOpcodes.insert(record.opcode)
                previousOpcode = record.opcode
            }
            switch MCAPFormat.Opcode(rawValue: record.opcode) {
            case .schema?:
                let before = schemas
                try readSchema(record, in: bytes)
                guard schemas.count == before.count else { throw .inconsistent("summary schema not in the data section") }
            case .channel?:
                let before = channels.count
                try readChannel(record, in: bytes)
                guard channels.count == before else { throw .inconsistent("summary channel not in the data section") }
            case .chunkIndex?: try checkChunkIndex(record, messageIndexes: messageIndexes)
            case .statistics?: try checkStatistics(record)
            case .metadataIndex?, .attachmentIndex?: break
            default:
                throw .malformed(offset: record.start, "record 0x\(String(record.opcode, radix: 16)) does not belong in the summary section")
            }
            offset = record.end
        }
        guard chunkIndexCount == 0 || chunkIndexCount == chunks.count else {
            throw .inconsistent("\(chunkIndexCount) chunk indexes for \(chunks.count) chunks")
        }
    }

    private mutating func checkChunkIndex(_ record: RecordHead, messageIndexes: [Int: (channel: UInt16, entries: [(UInt64, UInt64)])])
        throws(MCAPError)
    {
        var reader = MCAPByteReader(bytes, from: record.contentStart, to: record.end, context: "Chunk Index at byte \(record.start)")
        let startTime = try reader.uint64("message_start_time")
        let endTime = try reader.uint64("message_end_time")
        let chunkOffset = try fileIndex(&reader, "chunk_start_offset")
        let chunkLength = try fileIndex(&reader, "chunk_length")
        let mapLength = Int(try reader.uint32("message_index_offsets length"))
        guard mapLength % 10 == 0, mapLength <= reader.remaining else {
            throw .malformed(offset: record.start, "message_index_offsets is \(mapLength) bytes, not whole 10-byte entries")
        }
        var offsets: [(UInt16, Int)] = []
        for _ in 0..<(mapLength / 10) { offsets.append((try reader.uint16("channel"), try fileIndex(&reader, "message index offset"))) }
        let indexLength = try fileIndex(&reader, "message_index_length")
        let compression = try reader.string("compression")
        let compressedSize = try reader.uint64("compressed_size")
        let uncompressedSize = try reader.uint64("uncompressed_size")
        guard let chunk = chunks.first(where: { $0.offset == chunkOffset }) else {
            throw .inconsistent("chunk index at byte \(record.start) points at byte \(chunkOffset), where no chunk starts")
        }
        guard chunk.length == chunkLength, chunk.messageStartTime == startTime, chunk.messageEndTime == endTime else {
            throw .inconsistent("chunk index at byte \(record.start) does not match the chunk at \(chunkOffset) (length or times)")
        }
        guard compression == chunk.compression, compressedSize == UInt64(chunk.compressedSize), uncompressedSize == UInt64(chunk.uncompressedSize)
        else {
            throw .inconsistent(
                "chunk index at byte \(record.start): compression \(String(compression.prefix(32)).debugDescription), sizes \(compressedSize)/\(uncompressedSize) "
                    + "do not match the chunk's \(chunk.compression.debugDescription), \(chunk.compressedSize)/\(chunk.uncompressedSize)")
        }
        // Each message index counted once: their lengths then add up to at most the file's size.
        var covered = 0
        var seen: Set<Int> = []
        for (channel, offset) in offsets {
            guard let index = messageIndexes[offset], index.channel == channel else {
                throw .inconsistent("chunk index at byte \(record.start): no message index of channel \(channel) at byte \(offset)")
            }
            guard seen.insert(offset).inserted else {
                throw .inconsistent("chunk index at byte \(record.start) lists the message index at byte \(offset) twice")
            }
            covered += try recordHead(at: offset, limit: bytes.count).end - offset
        }
        guard offsets.isEmpty || covered == indexLength else {
            throw .inconsistent("chunk index at byte \(record.start): message indexes are \(covered) bytes, it says \(indexLength)")
        }
        chunkIndexCount += 1
    }

    private mutating func checkStatistics(_ record: RecordHead) throws(MCAPError) {
        var reader = MCAPByteReader(bytes, from: record.contentStart, to: record.end, context: "Statistics")
        var statistics = Statistics(
            messageCount: try reader.uint64("message_count"), schemaCount: try reader.uint16("schema_count"),
            channelCount: try reader.uint32("channel_count"), attachmentCount: try reader.uint32("attachment_count"),
            metadataCount: try reader.uint32("metadata_count"), chunkCount: try reader.uint32("chunk_count"),
            messageStartTime: try reader.uint64("message_start_time"), messageEndTime: try reader.uint64("message_end_time"),
            channelMessageCounts: [:])
        let mapLength = Int(try reader.uint32("channel_message_counts length"))
        guard mapLength % 10 == 0, mapLength <= reader.remaining else {
            throw .malformed(offset: record.start, "channel_message_counts is \(mapLength) bytes, not whole 10-byte entries")
        }
        for _ in 0..<(mapLength / 10) {
            let channel = try reader.uint16("channel")
            statistics.channelMessageCounts[channel] = try reader.uint64("count")
        }
        var counted: [UInt16: UInt64] = [:]
        for message in messages { counted[message.channel, default: 0] += 1 }
        let times = (messages.map(\.logTime).min() ?? 0, messages.map(\.logTime).max() ?? 0)
        // Compared as UInt64: a count of this file never traps converting to the field's narrower type.
        guard statistics.messageCount == UInt64(messages.count), UInt64(statistics.chunkCount) == UInt64(chunks.count),
            UInt64(statistics.channelCount) == UInt64(channels.count), UInt64(statistics.schemaCount) == UInt64(schemas.count),
            UInt64(statistics.metadataCount) == UInt64(metadata.count), statistics.messageStartTime == times.0,
            statistics.messageEndTime == times.1, statistics.channelMessageCounts.isEmpty || statistics.channelMessageCounts == counted
        else {
            throw .inconsistent("statistics (\(statistics.messageCount) messages, \(statistics.chunkCount) chunks) do not match the file (\(messages.count) messages, \(chunks.count) chunks)")
        }
        self.statistics = statistics
    }

    private func checkSummaryOffsets(from start: Int, to end: Int, summaryStart: Int) throws(MCAPError) {
        var offset = start
        while offset < end {
            let record = try recordHead(at: offset, limit: end)
            guard record.opcode == MCAPFormat.Opcode.summaryOffset.rawValue else {
                throw .malformed(offset: record.start, "only Summary Offset records belong in the summary offset section")
            }
            var reader = MCAPByteReader(bytes, from: record.contentStart, to: record.end, context: "Summary Offset")
            let opcode = try reader.uint8("group_opcode")
            let groupStart = try fileIndex(&reader, "group_start")
            let groupLength = try fileIndex(&reader, "group_length")
            guard groupStart >= summaryStart, groupStart <= start, groupLength <= start - groupStart else {
                throw .inconsistent("summary offset for 0x\(String(opcode, radix: 16)) points outside the summary")
            }
            let groupEnd = groupStart + groupLength
            var position = groupStart
            while position < groupEnd {
                let grouped = try recordHead(at: position, limit: groupEnd)
                guard grouped.opcode == opcode else {
                    throw .inconsistent("summary offset group 0x\(String(opcode, radix: 16)) holds a 0x\(String(grouped.opcode, radix: 16)) record")
                }
                position = grouped.end
            }
            offset = record.end
        }
    }

    /// A `uint64` offset or length read at the reader's position, as an index into the file: refused,
    /// with the field, its value and where it is, when it does not fit an `Int` or points past the end
    /// of the file (one flipped bit must be an error, not a trap). Sums of two such values cannot overflow.
    private func fileIndex(_ reader: inout MCAPByteReader, _ field: String) throws(MCAPError) -> Int {
        let at = reader.position
        let value = try reader.uint64(field)
        guard let index = Int(exactly: value), index <= bytes.count else {
            throw .malformed(offset: at, "\(reader.context): \(field) is \(value), past the end of the \(bytes.count)-byte file")
        }
        return index
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}

extension MCAPError {
    /// The byte offset the error names, when it names one.
    var offset: Int? {
        switch self {
        case .malformed(let offset, _), .truncated(let offset, _), .checksum(let offset, _), .unsupportedCompression(let offset, _): offset
        case .notMCAP, .inconsistent: nil
        }
    }
}
