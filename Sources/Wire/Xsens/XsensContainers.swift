extension Xsens {
    /// A message's DATA field: as many bytes as the largest legal frame carries.
    /// Keep the literal equal to `Xsens.maxPayloadBytes` (a generic argument cannot name it).
    public typealias Payload = InlineBytes<2048>
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
