/// Constants and little-endian serialization of the MCAP container format, exactly as the public
/// specification gives them (https://mcap.dev/spec, major version 0). Pure: bytes in, bytes out.
public enum MCAPFormat {
    /// 0x89 "MCAP" 0x30 "\r\n": at the start and at the end of every file.
    public static let magic: [UInt8] = [0x89, 0x4D, 0x43, 0x41, 0x50, 0x30, 0x0D, 0x0A]
    /// Footer record: opcode, length, summary_start, summary_offset_start, summary_crc.
    public static let footerRecordLength = 1 + 8 + 8 + 8 + 4

    /// Record opcodes (spec "Records").
    public enum Opcode: UInt8, Sendable, CaseIterable {
        case header = 0x01
        case footer = 0x02
        case schema = 0x03
        case channel = 0x04
        case message = 0x05
        case chunk = 0x06
        case messageIndex = 0x07
        case chunkIndex = 0x08
        case attachment = 0x09
        case attachmentIndex = 0x0A
        case statistics = 0x0B
        case metadata = 0x0C
        case metadataIndex = 0x0D
        case summaryOffset = 0x0E
        case dataEnd = 0x0F
    }
}

/// How a Chunk record stores its records: its `compression` field. The specification names "" (none),
/// "lz4" and "zstd"; RehabHost writes and reads "" and "zstd" (docs/telemetry.md, "Compression").
public enum MCAPCompression: String, Sendable, CaseIterable {
    /// The records as they are: the layout of every recording before zstd (they still read).
    case none = ""
    /// One Zstandard frame (RFC 8878) per chunk, by Debian's libzstd.
    case zstd = "zstd"
}

/// Appends MCAP's serialized types to a byte array: little-endian integers, `uint32`-prefixed
/// strings, maps and arrays, and records with their `uint64` content length.
public struct MCAPByteWriter: Sendable {
    public var bytes: [UInt8] = []

    public init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func uint8(_ value: UInt8) { bytes.append(value) }

    public mutating func uint16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    public mutating func uint32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    public mutating func uint64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    public mutating func string(_ value: String) {
        let utf8 = value.utf8
        uint32(UInt32(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// `uint32` byte length, then the bytes (Schema data).
    public mutating func prefixedBytes32<Bytes: Collection>(_ value: Bytes) where Bytes.Element == UInt8 {
        uint32(UInt32(value.count))
        bytes.append(contentsOf: value)
    }

    /// `uint64` byte length, then the bytes (Chunk records).
    public mutating func prefixedBytes64<Bytes: Collection>(_ value: Bytes) where Bytes.Element == UInt8 {
        uint64(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Map<string, string>, keys in the given order.
    public mutating func stringMap(_ entries: [(String, String)]) {
        let lengthAt = reserveLength32()
        for (key, value) in entries {
            string(key)
            string(value)
        }
        patchLength32(at: lengthAt)
    }

    /// Writes a placeholder `uint32` length; returns where it is.
    public mutating func reserveLength32() -> Int {
        let at = bytes.count
        uint32(0)
        return at
    }

    /// Sets the `uint32` at `at` to the number of bytes written after it.
    public mutating func patchLength32(at: Int) {
        let length = UInt32(bytes.count - at - 4)
        for index in 0..<4 { bytes[at + index] = UInt8(truncatingIfNeeded: length >> UInt32(8 * index)) }
    }

    /// Starts a record (opcode and a placeholder content length); returns the record's start.
    public mutating func beginRecord(_ opcode: MCAPFormat.Opcode) -> Int {
        let at = bytes.count
        bytes.append(opcode.rawValue)
        uint64(0)
        return at
    }

    /// Sets the content length of the record begun at `start`.
    public mutating func endRecord(startedAt start: Int) {
        let length = UInt64(bytes.count - start - 9)
        for index in 0..<8 { bytes[start + 1 + index] = UInt8(truncatingIfNeeded: length >> UInt64(8 * index)) }
    }
}

/// Reads MCAP's serialized types from a byte range, with the file offset in every error.
public struct MCAPByteReader {
    public let bytes: [UInt8]
    public private(set) var position: Int
    public let end: Int
    /// What is being read, for errors ("Chunk at byte 1234").
    public var context: String

    public init(_ bytes: [UInt8], from start: Int, to end: Int, context: String) {
        self.bytes = bytes
        position = start
        self.end = end
        self.context = context
    }

    public var remaining: Int { end - position }

    private mutating func need(_ count: Int, _ field: String) throws(MCAPError) {
        guard count >= 0, count <= end - position else {
            throw .malformed(offset: position, "\(context): \(field) needs \(count) bytes, \(end - position) left")
        }
    }

    public mutating func uint8(_ field: String) throws(MCAPError) -> UInt8 {
        try need(1, field)
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func uint16(_ field: String) throws(MCAPError) -> UInt16 {
        try need(2, field)
        defer { position += 2 }
        return UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8
    }

    public mutating func uint32(_ field: String) throws(MCAPError) -> UInt32 {
        try need(4, field)
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(bytes[position + index]) << UInt32(8 * index) }
        position += 4
        return value
    }

    public mutating func uint64(_ field: String) throws(MCAPError) -> UInt64 {
        try need(8, field)
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[position + index]) << UInt64(8 * index) }
        position += 8
        return value
    }

    public mutating func string(_ field: String) throws(MCAPError) -> String {
        let length = Int(try uint32(field + " length"))
        try need(length, field)
        defer { position += length }
        guard let text = String(validating: bytes[position..<(position + length)], as: UTF8.self) else {
            throw .malformed(offset: position, "\(context): \(field) is not valid UTF-8")
        }
        return text
    }

    /// A `uint32`-prefixed byte string: its range in `bytes`.
    public mutating func prefixedBytes32(_ field: String) throws(MCAPError) -> Range<Int> {
        let length = Int(try uint32(field + " length"))
        try need(length, field)
        defer { position += length }
        return position..<(position + length)
    }

    /// A `uint64`-prefixed byte string: its range in `bytes`.
    public mutating func prefixedBytes64(_ field: String) throws(MCAPError) -> Range<Int> {
        let length64 = try uint64(field + " length")
        guard length64 <= UInt64(end - position) else {
            throw .malformed(offset: position, "\(context): \(field) claims \(length64) bytes, \(end - position) left")
        }
        let length = Int(length64)
        defer { position += length }
        return position..<(position + length)
    }

    public mutating func stringMap(_ field: String) throws(MCAPError) -> [(String, String)] {
        let length = Int(try uint32(field + " length"))
        try need(length, field)
        let stop = position + length
        var entries: [(String, String)] = []
        while position < stop {
            let key = try string(field + " key")
            let value = try string(field + " value")
            entries.append((key, value))
        }
        guard position == stop else { throw .malformed(offset: position, "\(context): \(field) overruns its length") }
        return entries
    }

    /// The rest of the range (Message data).
    public mutating func rest() -> Range<Int> {
        defer { position = end }
        return position..<end
    }
}

/// Why a file is not a valid MCAP file (or not one this project wrote).
public enum MCAPError: Error, Equatable, CustomStringConvertible {
    case notMCAP(String)
    case malformed(offset: Int, String)
    case truncated(offset: Int, String)
    case checksum(offset: Int, String)
    case inconsistent(String)
    /// A chunk compressed with something this reader does not decompress (the specification's "lz4",
    /// or a name it does not define).
    case unsupportedCompression(offset: Int, String)

    public var description: String {
        switch self {
        case .notMCAP(let detail): "not an MCAP file: \(detail)"
        case .malformed(let offset, let detail): "malformed MCAP at byte \(offset): \(detail)"
        case .truncated(let offset, let detail): "truncated MCAP at byte \(offset): \(detail) (rehabctl recover can rescue the complete chunks)"
        case .checksum(let offset, let detail): "CRC mismatch at byte \(offset): \(detail)"
        case .inconsistent(let detail): "inconsistent MCAP index: \(detail)"
        case .unsupportedCompression(let offset, let name):
            // Quoted with escapes and cut short: the name comes from the file, any bytes of UTF-8.
            "the chunk at byte \(offset) is compressed with \(String(name.prefix(32)).debugDescription)\(name.count > 32 ? "…" : ""): "
                + "RehabHost reads uncompressed and zstd chunks only; convert the file to one of those first"
        }
    }
}
