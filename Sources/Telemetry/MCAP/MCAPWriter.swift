/// Writes an MCAP file (https://mcap.dev/spec) as bytes: magic, header, schema and channel records,
/// messages in chunks (zstd-compressed by default) each followed by its message indexes, metadata, and on `finish`
/// the data-end record with the data section's CRC-32, a summary section (schemas, channels,
/// statistics, chunk indexes, metadata indexes) with its summary-offset section, the footer and the
/// closing magic.
///
/// Pure: it does no I/O. The caller takes the finished bytes with `takeOutput()` and writes them —
/// after each `closeChunk()` for a file that survives a crash up to its last complete chunk.
public struct MCAPWriter: Sendable {
    /// A chunk is closed once its records reach this size (the caller also closes by time).
    public var chunkSizeBytes: Int
    /// How each chunk's records are stored. A chunk that libzstd cannot compress (it could not
    /// allocate) is stored uncompressed: the file stays valid, each chunk names its own compression.
    public let compression: MCAPCompression
    /// Made at the first zstd chunk, then reused (copy-on-write: a copied writer makes its own).
    private var compressor: Zstd.Compressor?
    private var output = MCAPByteWriter()
    /// Bytes produced so far, taken or not: the file offset of the next byte.
    public private(set) var fileOffset: UInt64 = 0
    private var dataSectionCRC = CRC32()
    private var chunk = MCAPByteWriter()
    private var chunkStartTime: UInt64 = .max
    private var chunkEndTime: UInt64 = 0
    /// Per channel ID: (log time, offset in the chunk's records) of the open chunk's messages.
    private var chunkMessageIndex: [[(UInt64, UInt64)]] = []
    private var schemaRecords: [[UInt8]] = []
    private var channelRecords: [[UInt8]] = []
    private var chunkIndexRecords: [[UInt8]] = []
    private var metadataIndexRecords: [[UInt8]] = []
    private var channelMessageCounts: [UInt64] = []
    private var messageCount: UInt64 = 0
    private var metadataCount: UInt32 = 0
    private var chunkCount: UInt32 = 0
    private var firstLogTime: UInt64 = .max
    private var lastLogTime: UInt64 = 0
    public private(set) var isFinished = false

    /// Starts a file: magic and header (`profile` "" or an `x-` name; `library` names the writer).
    /// `compression: .none` writes the layout of the recordings made before zstd.
    public init(profile: String, library: String, chunkSizeBytes: Int = 1 << 20, compression: MCAPCompression = .zstd) {
        self.chunkSizeBytes = chunkSizeBytes
        self.compression = compression
        chunk = MCAPByteWriter(reservingCapacity: chunkSizeBytes + 64 * 1024)
        var bytes = MCAPByteWriter()
        bytes.bytes.append(contentsOf: MCAPFormat.magic)
        let header = bytes.beginRecord(.header)
        bytes.string(profile)
        bytes.string(library)
        bytes.endRecord(startedAt: header)
        emitData(bytes.bytes)
    }

    // MARK: Data section

    /// Writes a Schema record (id ≥ 1) outside any chunk, and keeps a copy for the summary.
    public mutating func addSchema(id: UInt16, name: String, encoding: String, data: [UInt8]) {
        precondition(id != 0, "schema id 0 means no schema")
        var record = MCAPByteWriter()
        let start = record.beginRecord(.schema)
        record.uint16(id)
        record.string(name)
        record.string(encoding)
        record.prefixedBytes32(data)
        record.endRecord(startedAt: start)
        schemaRecords.append(record.bytes)
        emitData(record.bytes)
    }

    /// Writes a Channel record outside any chunk, and keeps a copy for the summary.
    public mutating func addChannel(id: UInt16, schemaID: UInt16, topic: String, messageEncoding: String, metadata: [(String, String)]) {
        var record = MCAPByteWriter()
        let start = record.beginRecord(.channel)
        record.uint16(id)
        record.uint16(schemaID)
        record.string(topic)
        record.string(messageEncoding)
        record.stringMap(metadata)
        record.endRecord(startedAt: start)
        channelRecords.append(record.bytes)
        while chunkMessageIndex.count <= Int(id) {
            chunkMessageIndex.append([])
            channelMessageCounts.append(0)
        }
        emitData(record.bytes)
    }

    /// Writes a Metadata record (outside chunks; indexed in the summary).
    public mutating func addMetadata(name: String, _ entries: [(String, String)]) {
        closeChunk()
        var record = MCAPByteWriter()
        let start = record.beginRecord(.metadata)
        record.string(name)
        record.stringMap(entries)
        record.endRecord(startedAt: start)
        var index = MCAPByteWriter()
        let indexStart = index.beginRecord(.metadataIndex)
        index.uint64(fileOffset)
        index.uint64(UInt64(record.count))
        index.string(name)
        index.endRecord(startedAt: indexStart)
        metadataIndexRecords.append(index.bytes)
        metadataCount += 1
        emitData(record.bytes)
    }

    /// Adds a Message record to the open chunk; `encode` appends the message data. The channel must
    /// have been added. Closes the chunk when it reaches `chunkSizeBytes`.
    public mutating func addMessage(
        channel: UInt16, sequence: UInt32, logTime: UInt64, publishTime: UInt64, encode: (inout [UInt8]) -> Void
    ) {
        precondition(Int(channel) < chunkMessageIndex.count, "message on channel \(channel) before its Channel record")
        let start = chunk.beginRecord(.message)
        chunk.uint16(channel)
        chunk.uint32(sequence)
        chunk.uint64(logTime)
        chunk.uint64(publishTime)
        encode(&chunk.bytes)
        chunk.endRecord(startedAt: start)
        chunkMessageIndex[Int(channel)].append((logTime, UInt64(start)))
        chunkStartTime = min(chunkStartTime, logTime)
        chunkEndTime = max(chunkEndTime, logTime)
        firstLogTime = min(firstLogTime, logTime)
        lastLogTime = max(lastLogTime, logTime)
        messageCount += 1
        openChunkMessages += 1
        channelMessageCounts[Int(channel)] += 1
        if chunk.count >= chunkSizeBytes { closeChunk() }
    }

    /// Bytes in the open chunk (0: none open).
    public var openChunkBytes: Int { chunk.count }
    /// Messages in the open chunk.
    public private(set) var openChunkMessages: UInt64 = 0

    /// Writes the open chunk (CRC-32 of its uncompressed records, the records compressed as
    /// `compression` says) and its message indexes.
    ///
    /// Written straight into the output buffer, which keeps its capacity, and compressed through one
    /// reused context and buffer: in steady state a chunk costs no allocation (large allocations and
    /// frees would make the kernel interrupt the other CPUs, the control loop's among them, to flush
    /// their TLBs).
    public mutating func closeChunk() {
        guard chunk.count > 0 else { return }
        let chunkOffset = fileOffset
        let recordsCRC = CRC32.checksum(chunk.bytes)
        let start = output.beginRecord(.chunk)
        output.uint64(chunkStartTime)
        output.uint64(chunkEndTime)
        output.uint64(UInt64(chunk.count))
        output.uint32(recordsCRC)
        let stored = appendRecords()
        output.endRecord(startedAt: start)
        let chunkLength = dataAppended(since: start)

        var indexOffsets: [(UInt16, UInt64)] = []
        let indexesStart = output.count
        for channel in chunkMessageIndex.indices where !chunkMessageIndex[channel].isEmpty {
            indexOffsets.append((UInt16(channel), fileOffset + UInt64(output.count - indexesStart)))
            let indexStart = output.beginRecord(.messageIndex)
            output.uint16(UInt16(channel))
            let lengthAt = output.reserveLength32()
            for (time, offset) in chunkMessageIndex[channel] {
                output.uint64(time)
                output.uint64(offset)
            }
            output.patchLength32(at: lengthAt)
            output.endRecord(startedAt: indexStart)
        }
        let indexesLength = dataAppended(since: indexesStart)
        for channel in chunkMessageIndex.indices { chunkMessageIndex[channel].removeAll(keepingCapacity: true) }

        var index = MCAPByteWriter()
        let indexStart = index.beginRecord(.chunkIndex)
        index.uint64(chunkStartTime)
        index.uint64(chunkEndTime)
        index.uint64(chunkOffset)
        index.uint64(UInt64(chunkLength))
        let mapAt = index.reserveLength32()
        for (channel, offset) in indexOffsets {
            index.uint16(channel)
            index.uint64(offset)
        }
        index.patchLength32(at: mapAt)
        index.uint64(UInt64(indexesLength))
        index.string(stored.compression.rawValue)
        index.uint64(UInt64(stored.bytes))
        index.uint64(UInt64(chunk.count))
        index.endRecord(startedAt: indexStart)
        chunkIndexRecords.append(index.bytes)

        chunkCount += 1
        openChunkMessages = 0
        chunk.bytes.removeAll(keepingCapacity: true)
        chunkStartTime = .max
        chunkEndTime = 0
    }

    /// Appends the Chunk record's `compression` and its `uint64`-prefixed records, compressed when
    /// the writer compresses and libzstd can; returns how they were stored and their size. A chunk
    /// larger than the reader decompresses (only recovery of a foreign file can make one) is stored
    /// as it is.
    private mutating func appendRecords() -> (compression: MCAPCompression, bytes: Int) {
        if compression == .zstd && chunk.count <= Zstd.maximumChunkBytes {
            if !isKnownUniquelyReferenced(&compressor) {
                // Sized like the chunk buffer (a chunk closes at most one message past its size); a
                // larger chunk (recovery writes whole chunks of any size) grows it.
                compressor = Zstd.Compressor(chunkBytes: min(chunkSizeBytes, 4 << 20) + 64 * 1024)
            }
            if let compressor,
                let size = compressor.compress(chunk.bytes, { records in
                    output.string(MCAPCompression.zstd.rawValue)
                    output.prefixedBytes64(records)
                    return records.count
                })
            {
                return (.zstd, size)
            }
        }
        output.string(MCAPCompression.none.rawValue)
        output.prefixedBytes64(chunk.bytes)
        return (.none, chunk.count)
    }

    // MARK: End of file

    /// Closes the open chunk and writes data end, summary, summary offsets, footer and magic.
    public mutating func finish() {
        guard !isFinished else { return }
        closeChunk()
        var dataEnd = MCAPByteWriter()
        let dataEndStart = dataEnd.beginRecord(.dataEnd)
        dataEnd.uint32(dataSectionCRC.value)
        dataEnd.endRecord(startedAt: dataEndStart)
        emit(dataEnd.bytes)

        let summaryStart = fileOffset
        var summary = MCAPByteWriter()
        var groups: [(MCAPFormat.Opcode, Int, Int)] = []
        func group(_ opcode: MCAPFormat.Opcode, _ records: [[UInt8]]) {
            guard !records.isEmpty else { return }
            let start = summary.count
            for record in records { summary.bytes.append(contentsOf: record) }
            groups.append((opcode, start, summary.count - start))
        }
        group(.schema, schemaRecords)
        group(.channel, channelRecords)
        group(.statistics, [statisticsRecord()])
        group(.chunkIndex, chunkIndexRecords)
        group(.metadataIndex, metadataIndexRecords)
        let summaryOffsetStart = summaryStart + UInt64(summary.count)
        for (opcode, start, length) in groups {
            let record = summary.beginRecord(.summaryOffset)
            summary.uint8(opcode.rawValue)
            summary.uint64(summaryStart + UInt64(start))
            summary.uint64(UInt64(length))
            summary.endRecord(startedAt: record)
        }
        // Footer: the summary CRC covers the summary, the summary offsets and the footer up to its own field.
        summary.uint8(MCAPFormat.Opcode.footer.rawValue)
        summary.uint64(20)
        summary.uint64(summaryStart)
        summary.uint64(summaryOffsetStart)
        summary.uint32(CRC32.checksum(summary.bytes))
        summary.bytes.append(contentsOf: MCAPFormat.magic)
        emit(summary.bytes)
        isFinished = true
    }

    private func statisticsRecord() -> [UInt8] {
        var record = MCAPByteWriter()
        let start = record.beginRecord(.statistics)
        record.uint64(messageCount)
        record.uint16(UInt16(schemaRecords.count))
        record.uint32(UInt32(channelRecords.count))
        record.uint32(0)
        record.uint32(metadataCount)
        record.uint32(chunkCount)
        record.uint64(messageCount == 0 ? 0 : firstLogTime)
        record.uint64(messageCount == 0 ? 0 : lastLogTime)
        let mapAt = record.reserveLength32()
        for channel in channelMessageCounts.indices where channelMessageCounts[channel] > 0 {
            record.uint16(UInt16(channel))
            record.uint64(channelMessageCounts[channel])
        }
        record.patchLength32(at: mapAt)
        record.endRecord(startedAt: start)
        return record.bytes
    }

    // MARK: Output

    /// The bytes produced since the last call (write them to the file in order).
    public mutating func takeOutput() -> [UInt8] {
        defer { output.bytes.removeAll(keepingCapacity: true) }
        return output.bytes
    }

    /// Hands the bytes produced since the last call to `body` without copying them, then empties
    /// the buffer (keeping its capacity). When `body` throws, the bytes are dropped all the same.
    public mutating func drainOutput<Failure: Error>(_ body: ([UInt8]) throws(Failure) -> Void) throws(Failure) {
        defer { output.bytes.removeAll(keepingCapacity: true) }
        if !output.bytes.isEmpty { try body(output.bytes) }
    }

    /// Accounts for data-section bytes written into the output from `start` on: the data
    /// section's CRC and the file offset. Returns how many.
    private mutating func dataAppended(since start: Int) -> Int {
        let count = output.count - start
        var crc = dataSectionCRC
        output.bytes.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        dataSectionCRC = crc
        fileOffset += UInt64(count)
        return count
    }

    /// Messages written so far (also those in the open chunk).
    public var messagesWritten: UInt64 { messageCount }

    private mutating func emitData(_ bytes: [UInt8]) {
        dataSectionCRC.update(bytes)
        emit(bytes)
    }

    private mutating func emit(_ bytes: [UInt8]) {
        output.bytes.append(contentsOf: bytes)
        fileOffset += UInt64(bytes.count)
    }
}
