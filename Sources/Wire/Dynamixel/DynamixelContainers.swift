extension Dynamixel {
    /// A packet's parameters (unstuffed): as many as the largest packet can carry.
    /// Keep the literal equal to `Dynamixel.maxParameterBytes` (a generic argument cannot name it).
    public typealias ParameterBytes = InlineBytes<1014>

    /// One device's data in a Sync Write or Bulk Write entry: a few control-table items (an indirect block).
    public typealias DataBytes = InlineBytes<64>
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

        public mutating func bytes<let size: Int>(_ source: InlineBytes<size>) {
            for index in 0..<source.count { uint8(source[index]) }
        }
    }
}
