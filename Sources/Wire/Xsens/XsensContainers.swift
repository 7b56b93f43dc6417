extension Xsens {
    /// Up to `maximum` bytes stored inline: a message's DATA field (`Xsens.Payload`). Nothing is allocated,
    /// so a decoded message can be handed around in the control loop. The big-endian readers return nil
    /// instead of trapping when a field is not (entirely) there.
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
            precondition(index >= 0 && index < storedCount, "byte index out of range")
            return storage[index]
        }

        /// Appends `byte`; false (and nothing appended) when full.
        @inlinable @discardableResult
        public mutating func append(_ byte: UInt8) -> Bool {
            guard storedCount < maximum else { return false }
            storage[storedCount] = byte
            storedCount += 1
            return true
        }

        @inlinable
        public mutating func removeAll() {
            storedCount = 0
        }

        /// The byte at `offset`, or nil past the end.
        @inlinable
        public func uint8(at offset: Int) -> UInt8? {
            guard offset >= 0 && offset < storedCount else { return nil }
            return storage[offset]
        }

        /// The big-endian UInt16 at `offset`, or nil when it is not all there.
        @inlinable
        public func uint16(at offset: Int) -> UInt16? {
            guard offset >= 0 && offset <= storedCount - 2 else { return nil }
            return UInt16(storage[offset]) << 8 | UInt16(storage[offset + 1])
        }

        /// The big-endian UInt32 at `offset`, or nil when it is not all there.
        @inlinable
        public func uint32(at offset: Int) -> UInt32? {
            guard offset >= 0 && offset <= storedCount - 4 else { return nil }
            var value: UInt32 = 0
            for index in offset..<(offset + 4) { value = value << 8 | UInt32(storage[index]) }
            return value
        }

        /// Calls `body` with the bytes.
        @inlinable
        public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
            let count = storedCount
            let span = storage.span
            return span.withUnsafeBytes { raw in body(UnsafeRawBufferPointer(rebasing: raw[0..<count])) }
        }

        /// The bytes as an array (tests and diagnostics; allocates).
        public var array: [UInt8] {
            (0..<storedCount).map { storage[$0] }
        }
    }

    /// A message's DATA field: as many bytes as the largest legal frame carries.
    /// Keep the literal equal to `Xsens.maxPayloadBytes` (a generic argument cannot name it).
    public typealias Payload = Xsens.Bytes<2048>
}

extension Xsens.Bytes: Equatable {
    @inlinable
    public static func == (lhs: Self, rhs: Self) -> Bool {
        guard lhs.storedCount == rhs.storedCount else { return false }
        for index in 0..<lhs.storedCount where lhs.storage[index] != rhs.storage[index] { return false }
        return true
    }
}

extension Xsens.Bytes: RandomAccessCollection {
    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { storedCount }
}

extension Xsens.Bytes: ExpressibleByArrayLiteral {
    /// Tests and set-up code; traps when there are more than `capacity` bytes.
    public init(arrayLiteral elements: UInt8...) {
        self.init()
        for byte in elements {
            let appended = append(byte)
            precondition(appended, "more than \(maximum) bytes")
        }
    }
}

extension Xsens.Bytes: CustomStringConvertible, CustomDebugStringConvertible {
    /// The bytes in hex, space-separated ("10 20 02 A6 55").
    public var description: String {
        var text = ""
        for index in 0..<storedCount {
            if index > 0 { text += " " }
            text += Xsens.hex(storage[index])
        }
        return text
    }

    public var debugDescription: String { "[" + description + "]" }
}

extension Xsens {
    /// A list of up to 32 outputs with their frequencies: the data of SetOutputConfiguration and of its
    /// acknowledgement (README §3.6), stored inline so that building one allocates nothing.
    public struct OutputConfiguration: Sendable, Equatable {
        /// One output: which item, how often.
        public struct Entry: Sendable, Equatable {
            public var dataID: Xsens.DataID
            /// In hertz; `Xsens.everySampleFrequency` (0xFFFF) for an item sent with every sample.
            public var frequencyHertz: UInt16

            public init(dataID: Xsens.DataID, frequencyHertz: UInt16) {
                self.dataID = dataID
                self.frequencyHertz = frequencyHertz
            }
        }

        /// The most entries a device accepts (README §3.6). Keep the storage literal equal to it.
        public static let capacity = 32

        @usableFromInline var storage: InlineArray<32, Entry>
        @usableFromInline var storedCount: Int

        public var count: Int { storedCount }
        public var isEmpty: Bool { storedCount == 0 }

        public init() {
            storage = InlineArray(repeating: Entry(dataID: Xsens.DataID(rawValue: 0), frequencyHertz: 0))
            storedCount = 0
        }

        public subscript(index: Int) -> Entry {
            precondition(index >= 0 && index < storedCount, "entry index out of range")
            return storage[index]
        }

        /// Appends `entry`; false (and nothing appended) when there are already 32.
        @discardableResult
        public mutating func append(_ entry: Entry) -> Bool {
            guard storedCount < Self.capacity else { return false }
            storage[storedCount] = entry
            storedCount += 1
            return true
        }

        /// The frequency requested for an item of `type` (any precision or coordinate system), or nil.
        public func frequencyHertz(of type: Xsens.DataID) -> UInt16? {
            for index in 0..<storedCount where storage[index].dataID.type == type.type {
                return storage[index].frequencyHertz
            }
            return nil
        }

        public static func == (lhs: Self, rhs: Self) -> Bool {
            guard lhs.storedCount == rhs.storedCount else { return false }
            for index in 0..<lhs.storedCount where lhs.storage[index] != rhs.storage[index] { return false }
            return true
        }
    }
}

extension Xsens.OutputConfiguration: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { storedCount }
}

extension Xsens.OutputConfiguration: ExpressibleByArrayLiteral {
    /// Tests and set-up code; traps when there are more than 32 entries.
    public init(arrayLiteral elements: Entry...) {
        self.init()
        for entry in elements {
            let appended = append(entry)
            precondition(appended, "more than \(Self.capacity) outputs")
        }
    }
}
