/// Up to `maximum` bytes stored inline: a packet's parameters, a message's payload, a command line, or a
/// whole encoded frame ready for the wire. Nothing is allocated, so codecs can fill and hand these around
/// inside the control cycle.
///
/// Out-of-range reads return nil and appends that do not fit return false (appending nothing), rather
/// than trap; an encoder checks a frame's size before it writes. Multi-byte fields are read and written
/// in a byte order named at the call (`littleEndian(_:at:)`, `appendBigEndian(_:)`), so that a
/// protocol's order shows where its fields are handled.
public struct InlineBytes<let maximum: Int>: Sendable {
    @usableFromInline var storage: InlineArray<maximum, UInt8>
    @usableFromInline var storedCount: Int

    /// The most bytes it can hold.
    @inlinable public static var capacity: Int { maximum }

    @inlinable public var count: Int { storedCount }
    @inlinable public var isEmpty: Bool { storedCount == 0 }

    /// No bytes.
    @inlinable
    public init() {
        storage = InlineArray(repeating: 0)
        storedCount = 0
    }

    /// A copy of `bytes`, or nil when there are more than `capacity`.
    @inlinable
    public init?(copying bytes: UnsafeRawBufferPointer) {
        self.init()
        guard append(contentsOf: bytes) else { return nil }
    }

    @inlinable
    public subscript(index: Int) -> UInt8 {
        get {
            precondition(index >= 0 && index < storedCount, "byte index out of range")
            return storage[index]
        }
        set {
            precondition(index >= 0 && index < storedCount, "byte index out of range")
            storage[index] = newValue
        }
    }

    /// Appends `byte`; false (and nothing appended) when full.
    @inlinable @discardableResult
    public mutating func append(_ byte: UInt8) -> Bool {
        guard storedCount < maximum else { return false }
        storage[storedCount] = byte
        storedCount += 1
        return true
    }

    /// Appends all of `bytes`, or nothing when they do not fit; returns whether they were appended.
    @inlinable @discardableResult
    public mutating func append(contentsOf bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count <= maximum - storedCount else { return false }
        for byte in bytes {
            storage[storedCount] = byte
            storedCount += 1
        }
        return true
    }

    @inlinable
    public mutating func removeAll() {
        storedCount = 0
    }

    /// Calls `body` with the bytes.
    @inlinable
    public func withUnsafeBytes<R, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> R
    ) throws(Failure) -> R {
        let count = storedCount
        let span = storage.span
        // `Span.withUnsafeBytes` is not typed-throws; carry the error out by hand.
        var outcome: Result<R, Failure>?
        span.withUnsafeBytes { raw in
            do throws(Failure) {
                outcome = .success(try body(UnsafeRawBufferPointer(rebasing: raw[0..<count])))
            } catch {
                outcome = .failure(error)
            }
        }
        return try outcome!.get()
    }

    /// For encoders that build a frame in place (stuffing, COBS): `body` gets the whole capacity and
    /// returns how many bytes it wrote, which become the contents (clamped to the capacity).
    @inlinable
    public mutating func overwrite(_ body: (UnsafeMutableRawBufferPointer) -> Int) {
        var span = storage.mutableSpan
        let written = span.withUnsafeMutableBytes { body($0) }
        storedCount = Swift.max(0, Swift.min(written, maximum))
    }

    /// The bytes as an array (tests and diagnostics; allocates).
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    // MARK: Fields in a named byte order

    /// The byte at `offset`, or nil past the end.
    @inlinable
    public func uint8(at offset: Int) -> UInt8? {
        guard offset >= 0 && offset < storedCount else { return nil }
        return storage[offset]
    }

    /// The `T` stored low byte first at `offset`, or nil when it is not all there.
    @inlinable
    public func littleEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T? {
        let size = T.bitWidth / 8
        guard offset >= 0 && offset <= storedCount - size else { return nil }
        var raw: UInt64 = 0
        for index in 0..<size { raw |= UInt64(storage[offset + index]) << UInt64(8 * index) }
        return T(truncatingIfNeeded: raw)
    }

    /// The `T` stored high byte first at `offset`, or nil when it is not all there.
    @inlinable
    public func bigEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T? {
        let size = T.bitWidth / 8
        guard offset >= 0 && offset <= storedCount - size else { return nil }
        var raw: UInt64 = 0
        for index in 0..<size { raw = raw << 8 | UInt64(storage[offset + index]) }
        return T(truncatingIfNeeded: raw)
    }

    /// Appends `value` low byte first; false (and nothing appended) when it does not fit.
    @inlinable @discardableResult
    public mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) -> Bool {
        let size = T.bitWidth / 8
        guard maximum - storedCount >= size else { return false }
        let raw = UInt64(truncatingIfNeeded: value)
        for index in 0..<size { append(UInt8(truncatingIfNeeded: raw >> UInt64(8 * index))) }
        return true
    }

    /// Appends `value` high byte first; false (and nothing appended) when it does not fit.
    @inlinable @discardableResult
    public mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) -> Bool {
        let size = T.bitWidth / 8
        guard maximum - storedCount >= size else { return false }
        let raw = UInt64(truncatingIfNeeded: value)
        for index in stride(from: size - 1, through: 0, by: -1) {
            append(UInt8(truncatingIfNeeded: raw >> UInt64(8 * index)))
        }
        return true
    }

    /// The bytes of `value`, low byte first (e.g. the data of one control-table item, ready for a write).
    @inlinable
    public init<T: FixedWidthInteger>(littleEndian value: T) {
        self.init()
        appendLittleEndian(value)
    }
}

extension InlineBytes: Equatable {
    @inlinable
    public static func == (lhs: Self, rhs: Self) -> Bool {
        guard lhs.storedCount == rhs.storedCount else { return false }
        for index in 0..<lhs.storedCount where lhs.storage[index] != rhs.storage[index] { return false }
        return true
    }
}

extension InlineBytes: RandomAccessCollection {
    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { storedCount }
}

extension InlineBytes: ExpressibleByArrayLiteral {
    /// Tests and set-up code; traps when there are more than `capacity` bytes.
    public init(arrayLiteral elements: UInt8...) {
        self.init()
        for byte in elements {
            let appended = append(byte)
            precondition(appended, "more than \(maximum) bytes")
        }
    }
}

extension InlineBytes: CustomStringConvertible, CustomDebugStringConvertible {
    /// The bytes in hex, space-separated ("06 04 26"). Text protocols read theirs with `string`.
    public var description: String {
        var text = ""
        for index in 0..<storedCount {
            if index > 0 { text += " " }
            text += Hex.text(storage[index])
        }
        return text
    }

    public var debugDescription: String { "[" + description + "]" }
}

// MARK: ASCII text (command lines and replies of text protocols such as NDI's)

extension InlineBytes {
    /// The bytes of `text` (a literal such as "OKAY"), or nil when they do not fit.
    public init?(ascii text: StaticString) {
        self.init()
        guard append(ascii: text) else { return nil }
    }

    /// The UTF-8 bytes of `text`, or nil when they do not fit (tests and set-up code).
    public init?(_ text: String) {
        self.init()
        for byte in text.utf8 {
            guard append(byte) else { return nil }
        }
    }

    /// Appends the bytes of a literal, or nothing when they do not fit.
    @discardableResult
    public mutating func append(ascii text: StaticString) -> Bool {
        // `withUTF8Buffer` also covers a literal stored as a single scalar (no `utf8Start` then).
        text.withUTF8Buffer { append(contentsOf: UnsafeRawBufferPointer($0)) }
    }

    /// Appends `value` as `digits` upper-case hex digits, most significant first (fixed-width fields such
    /// as NDI's 2-digit port handle). Only the low `4 × digits` bits are written.
    @discardableResult
    public mutating func append(hex value: UInt32, digits: Int) -> Bool {
        guard digits >= 1, digits <= 8, digits <= maximum - storedCount else { return false }
        for position in stride(from: digits - 1, through: 0, by: -1) {
            append(Hex.digit(value >> UInt32(4 * position)))
        }
        return true
    }

    /// Appends `value` in decimal, without leading zeros.
    @discardableResult
    public mutating func append(decimal value: UInt32) -> Bool {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        guard digits <= maximum - storedCount else { return false }
        var remaining = value
        for position in stride(from: storedCount + digits - 1, through: storedCount, by: -1) {
            storage[position] = 0x30 + UInt8(remaining % 10)
            remaining /= 10
        }
        storedCount += digits
        return true
    }

    /// The `digits` hex digits (either case) at `offset` as a number; nil when they are not all there
    /// or not all hex digits.
    public func hexValue(at offset: Int, digits: Int) -> UInt32? {
        guard digits >= 1, digits <= 8, offset >= 0, offset <= storedCount - digits else { return nil }
        var value: UInt32 = 0
        for index in offset..<(offset + digits) {
            guard let digit = Hex.value(ofDigit: storage[index]) else { return nil }
            value = value << 4 | digit
        }
        return value
    }

    /// True when the bytes are exactly those of `text`.
    public func equals(ascii text: StaticString) -> Bool {
        text.withUTF8Buffer { buffer in
            guard buffer.count == storedCount else { return false }
            for index in 0..<storedCount where storage[index] != buffer[index] { return false }
            return true
        }
    }

    /// True when the bytes begin with those of `text`.
    public func hasPrefix(ascii text: StaticString) -> Bool {
        text.withUTF8Buffer { buffer in
            guard buffer.count <= storedCount else { return false }
            for index in 0..<buffer.count where storage[index] != buffer[index] { return false }
            return true
        }
    }

    /// The bytes as text, bytes other than printable ASCII and LF shown as '?' (diagnostics; allocates).
    public var string: String {
        var scalars = String.UnicodeScalarView()
        for index in 0..<storedCount {
            let byte = storage[index]
            let printable = (byte >= 0x20 && byte <= 0x7E) || byte == 0x0A
            scalars.append(Unicode.Scalar(printable ? byte : UInt8(ascii: "?")))
        }
        return String(scalars)
    }
}
