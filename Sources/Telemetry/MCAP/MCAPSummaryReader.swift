import Platform

/// Why `MCAPSummaryReader` could not read a file.
public enum MCAPSummaryError: Error, Sendable, CustomStringConvertible {
    /// The file could not be opened or read (missing, permission, not a regular file, I/O).
    case unreadable(FileReadError)
    /// It is not an MCAP file, or its footer, summary or metadata records are broken.
    case invalid(MCAPError)

    public var description: String {
        switch self {
        case .unreadable(let error): "cannot read it: \(error)"
        case .invalid(let error): error.description
        }
    }
}

/// Reads the metadata records and the statistics of an MCAP file without reading the file: a few
/// kilobytes, whatever its size. What a catalogue of recordings needs (`SessionCatalogue`).
///
/// ```
/// magic Header … Metadata "session" │ Chunk … Chunk │ Metadata "session_result" │ Data End │
///  (1)                 (4)                                    (4)
///     Statistics … Chunk Indexes … Metadata Index │ Summary Offsets │ Footer magic
///        (3)                            (3)              (2)            (1)
/// ```
///
/// 1. the magic at the start, the Footer and the closing magic at the end (45 bytes);
/// 2. the Summary Offset section, which says where each group of summary records lies;
/// 3. the Statistics and Metadata Index groups only (never the chunk indexes);
/// 4. each wanted Metadata record, with one read where its index entry points.
///
/// A file without a summary — cut short by a crash and not recovered — is read from the front
/// instead, one 9-byte record header at a time, skipping each record's content, up to the first
/// chunk: the `session` metadata comes before any message. Either way no chunk is read, so no CRC
/// is checked: the catalogue is an index, and `MCAPFile` checks a file whole before `report` or
/// `export` use it. Metadata records and the summary are never compressed, whatever the chunks'
/// compression, so this reader does not depend on it.
///
/// Every length read from the file is checked against the file before anything is read with it,
/// and capped: a corrupt length is an error, never a read of megabytes.
public enum MCAPSummaryReader {
    /// The statistics record's fixed fields.
    public struct Statistics: Sendable, Equatable {
        public var messageCount: UInt64
        public var metadataCount: UInt32
        public var chunkCount: UInt32
        /// Unix-epoch nanoseconds of the first and last message (0 without messages).
        public var messageStartTime: UInt64
        public var messageEndTime: UInt64
    }

    /// What was read.
    public struct Summary: Sendable {
        /// The wanted metadata records found, in index (file) order.
        public var metadata: [(name: String, entries: [(String, String)])] = []
        /// nil without a summary, or a summary without statistics.
        public var statistics: Statistics?
        /// False: the file has no footer and summary (cut short by a crash): only the records before
        /// its first chunk were looked at.
        public var hasSummary = false
        public var fileSize = 0
        /// Bytes read from the file.
        public var bytesRead = 0

        /// The entries of the first metadata record named `name`.
        public func entries(of name: String) -> [(String, String)]? {
            metadata.first { $0.name == name }?.entries
        }
    }

    /// At most this much of a summary group (offsets, statistics, metadata index) or of one metadata
    /// record is read; a RehabHost recording's are a few hundred bytes.
    public static let maximumReadBytes = 1 << 20
    /// Records looked at before the first chunk of a file without a summary (a recording has about
    /// twenty: header, schemas, channels, metadata).
    static let maximumRecordsBeforeFirstChunk = 4_096
    /// Summary records walked when a file has no summary offsets (one 9-byte read each).
    static let maximumSummaryRecords = 1 << 20

    /// Reads `path`'s metadata records named in `names`, and its statistics.
    public static func read(path: String, metadataNamed names: Set<String>) throws(MCAPSummaryError) -> Summary {
        let file: ReadOnlyFile
        do throws(FileReadError) {
            file = try ReadOnlyFile(path: path)
        } catch {
            throw .unreadable(error)
        }
        defer { file.close() }
        let magic = MCAPFormat.magic
        guard file.size >= magic.count, try bytes(file, at: 0, count: magic.count) == magic else {
            throw .invalid(.notMCAP(
                file.size < magic.count ? "only \(file.size) bytes" : "it does not start with the MCAP magic 89 4D 43 41 50 30 0D 0A"))
        }
        var summary = Summary(fileSize: file.size)
        if let footer = try readFooter(of: file) {
            let groups = try summaryGroups(of: file, footer)
            if let group = groups[MCAPFormat.Opcode.statistics.rawValue] {
                summary.statistics = try statistics(in: file, group: group)
            }
            if let group = groups[MCAPFormat.Opcode.metadataIndex.rawValue] {
                for entry in try metadataIndex(in: file, group: group, dataEnd: footer.summaryStart) where names.contains(entry.name) {
                    let record = try metadataRecord(in: file, at: entry.offset, length: entry.length)
                    guard record.name == entry.name else {
                        throw .invalid(.inconsistent("the metadata index names \"\(entry.name)\" at byte \(entry.offset), the record there is \"\(record.name)\""))
                    }
                    summary.metadata.append(record)
                }
            }
            summary.hasSummary = true
        } else {
            summary.metadata = try metadataBeforeFirstChunk(in: file, names: names)
        }
        summary.bytesRead = file.bytesRead
        return summary
    }

    // MARK: Footer and summary

    private struct Footer {
        var summaryStart: Int
        /// 0: no summary offset section.
        var summaryOffsetStart: Int
        var footerStart: Int
    }

    /// The footer, when the file ends with one and the closing magic and it points at a summary;
    /// nil for a file cut short (or one written without a summary).
    private static func readFooter(of file: ReadOnlyFile) throws(MCAPSummaryError) -> Footer? {
        let tailLength = MCAPFormat.footerRecordLength + MCAPFormat.magic.count
        let footerStart = file.size - tailLength
        guard footerStart > MCAPFormat.magic.count else { return nil }
        let tail = try bytes(file, at: footerStart, count: tailLength)
        guard tail[0] == MCAPFormat.Opcode.footer.rawValue, Array(tail[MCAPFormat.footerRecordLength...]) == MCAPFormat.magic else {
            return nil
        }
        do throws(MCAPError) {
            var reader = MCAPByteReader(tail, from: 1, to: MCAPFormat.footerRecordLength, context: "Footer at byte \(footerStart)")
            let length = try reader.uint64("content length")
            let summaryStart = try reader.uint64("summary_start")
            let summaryOffsetStart = try reader.uint64("summary_offset_start")
            guard length == 20 else { throw .malformed(offset: footerStart, "Footer: content length \(length), not 20") }
            guard summaryStart != 0 else { return nil }
            guard summaryStart > UInt64(MCAPFormat.magic.count), summaryStart <= UInt64(footerStart) else {
                throw .malformed(offset: footerStart + 9, "Footer: summary_start is \(summaryStart), outside the file before the footer (byte \(footerStart))")
            }
            guard summaryOffsetStart == 0 || (summaryStart...UInt64(footerStart)).contains(summaryOffsetStart) else {
                throw .malformed(
                    offset: footerStart + 17, "Footer: summary_offset_start is \(summaryOffsetStart), outside the summary (bytes \(summaryStart)…\(footerStart))")
            }
            return Footer(summaryStart: Int(summaryStart), summaryOffsetStart: Int(summaryOffsetStart), footerStart: footerStart)
        } catch {
            throw .invalid(error)
        }
    }

    /// Where each group of summary records lies, by opcode: from the Summary Offset section, or, in a
    /// file without one, by walking the summary's record headers.
    private static func summaryGroups(of file: ReadOnlyFile, _ footer: Footer) throws(MCAPSummaryError) -> [UInt8: Range<Int>] {
        let summaryEnd = footer.summaryOffsetStart != 0 ? footer.summaryOffsetStart : footer.footerStart
        var groups: [UInt8: Range<Int>] = [:]
        guard footer.summaryOffsetStart != 0 else {
            var position = footer.summaryStart
            var records = 0
            while position < summaryEnd {
                guard let head = try recordHead(in: file, at: position, limit: summaryEnd) else {
                    throw .invalid(.malformed(offset: position, "a summary record runs past the summary's end (byte \(summaryEnd))"))
                }
                if let group = groups[head.opcode] {
                    // Summary records are grouped by opcode (the specification): a group only grows at its end.
                    guard group.upperBound == position else {
                        throw .invalid(.malformed(offset: position, "summary records are not grouped by opcode"))
                    }
                    groups[head.opcode] = group.lowerBound..<head.end
                } else {
                    groups[head.opcode] = position..<head.end
                }
                position = head.end
                records += 1
                guard records <= maximumSummaryRecords else {
                    throw .invalid(.malformed(offset: position, "more than \(maximumSummaryRecords) summary records and no summary offsets"))
                }
            }
            return groups
        }
        let length = footer.footerStart - footer.summaryOffsetStart
        guard length <= maximumReadBytes else {
            throw .invalid(.malformed(offset: footer.summaryOffsetStart, "the summary offset section is \(length) bytes; a catalogue reads at most \(maximumReadBytes)"))
        }
        let section = try bytes(file, at: footer.summaryOffsetStart, count: length)
        do throws(MCAPError) {
            var position = 0
            while position < section.count {
                let at = footer.summaryOffsetStart + position
                var reader = MCAPByteReader(section, from: position, to: section.count, context: "Summary Offset at byte \(at)")
                let opcode = try reader.uint8("opcode")
                let contentLength = try reader.uint64("content length")
                guard opcode == MCAPFormat.Opcode.summaryOffset.rawValue else {
                    throw .malformed(offset: at, "only Summary Offset records belong in the summary offset section, found 0x\(String(opcode, radix: 16))")
                }
                guard contentLength >= 17, contentLength <= UInt64(reader.remaining) else {
                    throw .malformed(offset: at, "Summary Offset: content length \(contentLength), \(reader.remaining) bytes left")
                }
                let group = try reader.uint8("group_opcode")
                let start = try reader.uint64("group_start")
                let groupLength = try reader.uint64("group_length")
                guard start >= UInt64(footer.summaryStart), start <= UInt64(summaryEnd), groupLength <= UInt64(summaryEnd) - start else {
                    throw .inconsistent("the summary offset of group 0x\(String(group, radix: 16)) points outside the summary (bytes \(footer.summaryStart)…\(summaryEnd))")
                }
                groups[group] = Int(start)..<Int(start + groupLength)
                position += 9 + Int(contentLength)
            }
        } catch {
            throw .invalid(error)
        }
        return groups
    }

    /// The first Statistics record of its group: its fixed fields only.
    private static func statistics(in file: ReadOnlyFile, group: Range<Int>) throws(MCAPSummaryError) -> Statistics {
        guard let head = try recordHead(in: file, at: group.lowerBound, limit: group.upperBound),
            head.opcode == MCAPFormat.Opcode.statistics.rawValue
        else {
            throw .invalid(.malformed(offset: group.lowerBound, "the summary's Statistics group does not hold a Statistics record"))
        }
        // message_count … message_end_time: 42 bytes after opcode and length; the per-channel counts are not needed.
        let record = try bytes(file, at: head.start, count: min(head.end - head.start, 9 + 42))
        do throws(MCAPError) {
            var reader = MCAPByteReader(record, from: 9, to: record.count, context: "Statistics at byte \(head.start)")
            let messageCount = try reader.uint64("message_count")
            _ = try reader.uint16("schema_count")
            _ = try reader.uint32("channel_count")
            _ = try reader.uint32("attachment_count")
            let metadataCount = try reader.uint32("metadata_count")
            let chunkCount = try reader.uint32("chunk_count")
            let startTime = try reader.uint64("message_start_time")
            let endTime = try reader.uint64("message_end_time")
            return Statistics(
                messageCount: messageCount, metadataCount: metadataCount, chunkCount: chunkCount, messageStartTime: startTime,
                messageEndTime: endTime)
        } catch {
            throw .invalid(error)
        }
    }

    /// The Metadata Index records of their group: each record's name, offset and length, checked to
    /// lie in the data section (before `dataEnd`).
    private static func metadataIndex(in file: ReadOnlyFile, group: Range<Int>, dataEnd: Int)
        throws(MCAPSummaryError) -> [(name: String, offset: Int, length: Int)]
    {
        guard group.count <= maximumReadBytes else {
            throw .invalid(.malformed(offset: group.lowerBound, "the metadata index is \(group.count) bytes; a catalogue reads at most \(maximumReadBytes)"))
        }
        let index = try bytes(file, at: group.lowerBound, count: group.count)
        var entries: [(name: String, offset: Int, length: Int)] = []
        do throws(MCAPError) {
            var position = 0
            while position < index.count {
                let at = group.lowerBound + position
                var reader = MCAPByteReader(index, from: position, to: index.count, context: "Metadata Index at byte \(at)")
                let opcode = try reader.uint8("opcode")
                let contentLength = try reader.uint64("content length")
                guard opcode == MCAPFormat.Opcode.metadataIndex.rawValue, contentLength <= UInt64(reader.remaining) else {
                    throw .malformed(offset: at, "the Metadata Index group holds a 0x\(String(opcode, radix: 16)) record of \(contentLength) bytes")
                }
                let recordEnd = position + 9 + Int(contentLength)
                var content = MCAPByteReader(index, from: position + 9, to: recordEnd, context: "Metadata Index at byte \(at)")
                let offset = try content.uint64("offset")
                let length = try content.uint64("length")
                let name = try content.string("name")
                guard offset >= UInt64(MCAPFormat.magic.count), offset < UInt64(dataEnd), length >= 9, length <= UInt64(dataEnd) - offset else {
                    throw .inconsistent("the metadata index puts \"\(name)\" at bytes \(offset)+\(length), outside the data section (before byte \(dataEnd))")
                }
                entries.append((name, Int(offset), Int(length)))
                position = recordEnd
            }
        } catch {
            throw .invalid(error)
        }
        return entries
    }

    // MARK: Records

    private struct RecordHead {
        var opcode: UInt8
        var start: Int
        var end: Int
    }

    /// The opcode and extent of the record at `offset` (9 bytes read); nil when its header or its
    /// content would run past `limit`.
    private static func recordHead(in file: ReadOnlyFile, at offset: Int, limit: Int) throws(MCAPSummaryError) -> RecordHead? {
        guard limit - offset >= 9 else { return nil }
        let head = try bytes(file, at: offset, count: 9)
        var length: UInt64 = 0
        for index in 0..<8 { length |= UInt64(head[1 + index]) << UInt64(8 * index) }
        guard length <= UInt64(limit - offset - 9) else { return nil }
        return RecordHead(opcode: head[0], start: offset, end: offset + 9 + Int(length))
    }

    /// The Metadata record of `length` bytes (opcode and length included) at `offset`.
    private static func metadataRecord(in file: ReadOnlyFile, at offset: Int, length: Int)
        throws(MCAPSummaryError) -> (name: String, entries: [(String, String)])
    {
        guard length <= maximumReadBytes else {
            throw .invalid(.malformed(offset: offset, "a metadata record of \(length) bytes; a catalogue reads at most \(maximumReadBytes)"))
        }
        let record = try bytes(file, at: offset, count: length)
        do throws(MCAPError) {
            guard record[0] == MCAPFormat.Opcode.metadata.rawValue else {
                throw .inconsistent("the metadata index points at byte \(offset), where a 0x\(String(record[0], radix: 16)) record starts, not Metadata")
            }
            var reader = MCAPByteReader(record, from: 1, to: record.count, context: "Metadata at byte \(offset)")
            let contentLength = try reader.uint64("content length")
            guard contentLength == UInt64(length - 9) else {
                throw .inconsistent("the metadata record at byte \(offset) is \(contentLength) + 9 bytes, its index says \(length)")
            }
            let name = try reader.string("name")
            let entries = try reader.stringMap("metadata")
            return (name, entries)
        } catch {
            throw .invalid(error)
        }
    }

    /// A file without a summary: its wanted metadata records before the first chunk (or message),
    /// found by reading record headers only.
    private static func metadataBeforeFirstChunk(in file: ReadOnlyFile, names: Set<String>)
        throws(MCAPSummaryError) -> [(name: String, entries: [(String, String)])]
    {
        var found: [(name: String, entries: [(String, String)])] = []
        var position = MCAPFormat.magic.count
        for index in 0..<maximumRecordsBeforeFirstChunk {
            // A record cut by the crash: nothing after it is whole.
            guard let head = try recordHead(in: file, at: position, limit: file.size) else { break }
            if index == 0 && head.opcode != MCAPFormat.Opcode.header.rawValue {
                throw .invalid(.malformed(offset: position, "the first record must be the Header (0x01), found 0x\(String(head.opcode, radix: 16))"))
            }
            switch MCAPFormat.Opcode(rawValue: head.opcode) {
            case .metadata?:
                // Larger than any RehabHost metadata: not read (the catalogue shows the file without it).
                if head.end - head.start <= maximumReadBytes {
                    let record = try metadataRecord(in: file, at: head.start, length: head.end - head.start)
                    if names.contains(record.name) { found.append(record) }
                }
            case .chunk?, .message?, .dataEnd?, .footer?:
                return found  // The messages begin: a recording's metadata came before them.
            default:
                break  // Header, schemas, channels, attachments, unknown records: skipped unread.
            }
            position = head.end
        }
        return found
    }

    /// Exactly `count` bytes at `offset`.
    private static func bytes(_ file: ReadOnlyFile, at offset: Int, count: Int) throws(MCAPSummaryError) -> [UInt8] {
        let read: [UInt8]
        do throws(Errno) {
            read = try file.read(at: offset, count: count)
        } catch {
            throw .unreadable(.system(error))
        }
        guard read.count == count else {
            throw .invalid(.truncated(offset: offset + read.count, "\(count) bytes wanted at byte \(offset), the file ends at byte \(offset + read.count)"))
        }
        return read
    }
}
