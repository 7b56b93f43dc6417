extension Dynamixel {
    /// Up to `maximum` bytes stored inline: a packet's parameters (`ParameterBytes`) or one device's data
    /// (`DataBytes`). Nothing is allocated; the little-endian accessors return nil instead of trapping
    /// when a field is not (entirely) there.
    public struct Bytes<let maximum: Int>: Sendable {
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
            guard bytes.count <= maximum else { return nil }
            self.init()
            for byte in bytes {
                storage[storedCount] = byte
                storedCount += 1
            }
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

        // MARK: Little-endian fields

        @inlinable
        public func uint8(at offset: Int) -> UInt8? {
            guard offset >= 0 && offset < storedCount else { return nil }
            return storage[offset]
        }

        @inlinable
        public func uint16(at offset: Int) -> UInt16? {
            guard offset >= 0 && offset <= storedCount - 2 else { return nil }
            return UInt16(storage[offset]) | UInt16(storage[offset + 1]) << 8
        }

        @inlinable
        public func uint32(at offset: Int) -> UInt32? {
            guard offset >= 0 && offset <= storedCount - 4 else { return nil }
            let low = UInt32(storage[offset]) | UInt32(storage[offset + 1]) << 8
            let high = UInt32(storage[offset + 2]) | UInt32(storage[offset + 3]) << 8
            return low | high << 16
        }

        @inlinable
        public func int16(at offset: Int) -> Int16? {
            guard let raw = uint16(at: offset) else { return nil }
            return Int16(bitPattern: raw)
        }

        @inlinable
        public func int32(at offset: Int) -> Int32? {
            guard let raw = uint32(at: offset) else { return nil }
            return Int32(bitPattern: raw)
        }

        /// Appends `value` low byte first; false (and nothing appended) when it does not fit.
        @inlinable @discardableResult
        public mutating func append(uint16 value: UInt16) -> Bool {
            guard maximum - storedCount >= 2 else { return false }
            append(UInt8(truncatingIfNeeded: value))
            append(UInt8(truncatingIfNeeded: value >> 8))
            return true
        }

        @inlinable @discardableResult
        public mutating func append(uint32 value: UInt32) -> Bool {
            guard maximum - storedCount >= 4 else { return false }
            append(uint16: UInt16(truncatingIfNeeded: value))
            append(uint16: UInt16(truncatingIfNeeded: value >> 16))
            return true
        }

        @inlinable @discardableResult
        public mutating func append(int16 value: Int16) -> Bool { append(uint16: UInt16(bitPattern: value)) }

        @inlinable @discardableResult
        public mutating func append(int32 value: Int32) -> Bool { append(uint32: UInt32(bitPattern: value)) }

        /// One byte. (With the other `init(…:)`s, the data of one control-table item, ready for a write.)
        @inlinable public init(uint8 value: UInt8) {
            self.init()
            append(value)
        }

        @inlinable public init(uint16 value: UInt16) {
            self.init()
            append(uint16: value)
        }

        @inlinable public init(uint32 value: UInt32) {
            self.init()
            append(uint32: value)
        }

        @inlinable public init(int16 value: Int16) {
            self.init()
            append(int16: value)
        }

        @inlinable public init(int32 value: Int32) {
            self.init()
            append(int32: value)
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
    }

    /// A packet's parameters (unstuffed): as many as the largest packet can carry.
    /// Keep the literal equal to `Dynamixel.maxParameterBytes` (a generic argument cannot name it).
    public typealias ParameterBytes = Dynamixel.Bytes<1014>

    /// One device's data in a Sync Write or Bulk Write entry: a few control-table items (an indirect block).
    public typealias DataBytes = Dynamixel.Bytes<64>
}

extension Dynamixel.Bytes: Equatable {
    @inlinable
    public static func == (lhs: Self, rhs: Self) -> Bool {
        guard lhs.storedCount == rhs.storedCount else { return false }
        for index in 0..<lhs.storedCount where lhs.storage[index] != rhs.storage[index] { return false }
        return true
    }
}

extension Dynamixel.Bytes: RandomAccessCollection {
    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { storedCount }
}

extension Dynamixel.Bytes: ExpressibleByArrayLiteral {
    /// Tests and set-up code; traps when there are more than `capacity` bytes.
    public init(arrayLiteral elements: UInt8...) {
        self.init()
        for byte in elements {
            let appended = append(byte)
            precondition(appended, "more than \(maximum) bytes")
        }
    }
}

extension Dynamixel.Bytes: CustomStringConvertible, CustomDebugStringConvertible {
    /// The bytes in hex, space-separated ("06 04 26").
    public var description: String {
        var text = ""
        for index in 0..<storedCount {
            if index > 0 { text += " " }
            text += Dynamixel.hex(storage[index])
        }
        return text
    }

    public var debugDescription: String { "[" + description + "]" }
}

extension Dynamixel {
    /// The most devices one Sync/Bulk instruction takes through the list-based encoders, and the most
    /// slices `FastRead` returns. (`PacketEncoder.instruction(id:_:into:writing:)` has no such limit.)
    public static let maxDevicesPerList = 32

    /// A fixed-capacity list of per-device values (IDs, bulk entries, fast read slices), stored inline
    /// like `JointList` so that building an instruction allocates nothing.
    public struct DeviceList<Element: Sendable & Equatable>: Sendable {
        /// Keep equal to `Dynamixel.maxDevicesPerList`.
        @inlinable public static var capacity: Int { 32 }

        @usableFromInline var storage: InlineArray<32, Element?>
        @usableFromInline var storedCount: Int

        @inlinable public var count: Int { storedCount }
        @inlinable public var isEmpty: Bool { storedCount == 0 }
        @inlinable public var isFull: Bool { storedCount == Self.capacity }

        @inlinable
        public init() {
            storage = InlineArray(repeating: nil)
            storedCount = 0
        }

        @inlinable
        public subscript(index: Int) -> Element {
            get {
                precondition(index >= 0 && index < storedCount, "device index out of range")
                return storage[index]!
            }
            set {
                precondition(index >= 0 && index < storedCount, "device index out of range")
                storage[index] = newValue
            }
            // In place, as `JointList` (which documents the Swift 6.3.1 -O miscompile this avoids).
            _modify {
                precondition(index >= 0 && index < storedCount, "device index out of range")
                yield &storage[index]!
            }
        }

        /// Appends `element`; false (and nothing appended) when the list is full.
        @inlinable @discardableResult
        public mutating func append(_ element: Element) -> Bool {
            guard storedCount < Self.capacity else { return false }
            storage[storedCount] = element
            storedCount += 1
            return true
        }

        @inlinable
        public mutating func removeAll() {
            for index in 0..<storedCount { storage[index] = nil }
            storedCount = 0
        }
    }
}

extension Dynamixel.DeviceList: Equatable {
    @inlinable
    public static func == (lhs: Self, rhs: Self) -> Bool {
        guard lhs.storedCount == rhs.storedCount else { return false }
        for index in 0..<lhs.storedCount where lhs.storage[index] != rhs.storage[index] { return false }
        return true
    }
}

extension Dynamixel.DeviceList: RandomAccessCollection {
    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { storedCount }
}

extension Dynamixel.DeviceList: ExpressibleByArrayLiteral {
    /// Tests and set-up code; traps when there are more than `capacity` elements.
    public init(arrayLiteral elements: Element...) {
        self.init()
        for element in elements {
            let appended = append(element)
            precondition(appended, "more than \(Self.capacity) devices")
        }
    }
}

extension Dynamixel.DeviceList: CustomStringConvertible {
    public var description: String {
        "[" + (0..<storedCount).map { String(describing: self[$0]) }.joined(separator: ", ") + "]"
    }
}

extension Dynamixel {
    /// Little-endian fields in raw bytes, as every multi-byte Dynamixel value is sent (low byte first).
    /// Reads return nil and writes return false, rather than trap, when the field does not fit.
    public enum LittleEndian {
        public static func readUInt8(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt8? {
            guard offset >= 0 && offset < bytes.count else { return nil }
            return bytes[offset]
        }

        public static func readUInt16(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt16? {
            guard offset >= 0 && offset <= bytes.count - 2 else { return nil }
            return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
        }

        public static func readUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32? {
            guard offset >= 0 && offset <= bytes.count - 4 else { return nil }
            let low = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
            let high = UInt32(bytes[offset + 2]) | UInt32(bytes[offset + 3]) << 8
            return low | high << 16
        }

        public static func readInt16(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int16? {
            guard let raw = readUInt16(bytes, at: offset) else { return nil }
            return Int16(bitPattern: raw)
        }

        public static func readInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int32? {
            guard let raw = readUInt32(bytes, at: offset) else { return nil }
            return Int32(bitPattern: raw)
        }

        @discardableResult
        public static func writeUInt8(_ value: UInt8, to bytes: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
            guard offset >= 0 && offset < bytes.count else { return false }
            bytes[offset] = value
            return true
        }

        @discardableResult
        public static func writeUInt16(_ value: UInt16, to bytes: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
            guard offset >= 0 && offset <= bytes.count - 2 else { return false }
            bytes[offset] = UInt8(truncatingIfNeeded: value)
            bytes[offset + 1] = UInt8(truncatingIfNeeded: value >> 8)
            return true
        }

        @discardableResult
        public static func writeUInt32(_ value: UInt32, to bytes: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
            guard offset >= 0 && offset <= bytes.count - 4 else { return false }
            bytes[offset] = UInt8(truncatingIfNeeded: value)
            bytes[offset + 1] = UInt8(truncatingIfNeeded: value >> 8)
            bytes[offset + 2] = UInt8(truncatingIfNeeded: value >> 16)
            bytes[offset + 3] = UInt8(truncatingIfNeeded: value >> 24)
            return true
        }

        @discardableResult
        public static func writeInt16(_ value: Int16, to bytes: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
            writeUInt16(UInt16(bitPattern: value), to: bytes, at: offset)
        }

        @discardableResult
        public static func writeInt32(_ value: Int32, to bytes: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
            writeUInt32(UInt32(bitPattern: value), to: bytes, at: offset)
        }
    }

    /// Writes an instruction's parameters, unstuffed, in the order of the e-Manual's tables; the encoder
    /// stuffs them afterwards. Handed to the `writing:` closure of `PacketEncoder`. A write that does not
    /// fit sets `overflowed`, and the encoder then throws `.tooLong`.
    public struct ParameterWriter {
        private let buffer: UnsafeMutableRawBufferPointer
        /// Bytes written so far (including the instruction byte, and the error byte of a status packet).
        public private(set) var count = 0
        public private(set) var overflowed = false

        init(_ buffer: UnsafeMutableRawBufferPointer) {
            self.buffer = buffer
        }

        public mutating func uint8(_ value: UInt8) {
            guard count < buffer.count else {
                overflowed = true
                return
            }
            buffer[count] = value
            count += 1
        }

        /// Low byte first, as every Dynamixel field.
        public mutating func uint16(_ value: UInt16) {
            uint8(UInt8(truncatingIfNeeded: value))
            uint8(UInt8(truncatingIfNeeded: value >> 8))
        }

        public mutating func uint32(_ value: UInt32) {
            uint16(UInt16(truncatingIfNeeded: value))
            uint16(UInt16(truncatingIfNeeded: value >> 16))
        }

        public mutating func int16(_ value: Int16) { uint16(UInt16(bitPattern: value)) }
        public mutating func int32(_ value: Int32) { uint32(UInt32(bitPattern: value)) }

        public mutating func bytes(_ source: UnsafeRawBufferPointer) {
            for byte in source { uint8(byte) }
        }

        public mutating func bytes<let size: Int>(_ source: Dynamixel.Bytes<size>) {
            for index in 0..<source.count { uint8(source[index]) }
        }
    }
}
