extension NDI {
    /// A reply's text (without CRC and CR). Keep the literal equal to `NDI.maxReplyTextBytes` (a generic
    /// argument cannot name it).
    public typealias ReplyText = InlineBytes<1024>
    /// A command's name. Keep the literal equal to `NDI.maxCommandNameBytes`.
    public typealias CommandName = InlineBytes<16>
    /// A command's parameters, or a whole command line while it arrives. Keep the literal equal to
    /// `NDI.maxCommandBytes`.
    public typealias CommandParameters = InlineBytes<256>
}

extension NDI {
    /// The handles of one BX reply, in the order the device sent them, stored inline like `JointList` so
    /// that decoding a reply allocates nothing. At most `capacity` (`NDI.maxBXHandles`) handles; a reply
    /// with more is rejected (`ReplyRejectionReason.tooManyHandles`).
    public struct HandleList: Sendable {
        /// Keep equal to `NDI.maxBXHandles`.
        @inlinable public static var capacity: Int { 8 }

        @usableFromInline var storage: InlineArray<8, NDI.HandleReport>
        @usableFromInline var storedCount: Int

        @inlinable public var count: Int { storedCount }
        @inlinable public var isEmpty: Bool { storedCount == 0 }
        @inlinable public var isFull: Bool { storedCount == Self.capacity }

        @inlinable
        public init() {
            storage = InlineArray(repeating: NDI.HandleReport.disabled(handle: 0))
            storedCount = 0
        }

        @inlinable
        public subscript(index: Int) -> NDI.HandleReport {
            get {
                precondition(index >= 0 && index < storedCount, "handle index out of range")
                return storage[index]
            }
            set {
                precondition(index >= 0 && index < storedCount, "handle index out of range")
                storage[index] = newValue
            }
        }

        /// Appends `report`; false (and nothing appended) when the list is full.
        @inlinable @discardableResult
        public mutating func append(_ report: NDI.HandleReport) -> Bool {
            guard storedCount < Self.capacity else { return false }
            storage[storedCount] = report
            storedCount += 1
            return true
        }

        @inlinable
        public mutating func removeAll() {
            storedCount = 0
        }

        /// The report of port handle `handle`, or nil when the reply does not list it.
        public func report(forHandle handle: UInt8) -> NDI.HandleReport? {
            for index in 0..<storedCount where storage[index].handle == handle { return storage[index] }
            return nil
        }
    }
}

extension NDI.HandleList: Equatable {
    @inlinable
    public static func == (lhs: Self, rhs: Self) -> Bool {
        guard lhs.storedCount == rhs.storedCount else { return false }
        for index in 0..<lhs.storedCount where lhs.storage[index] != rhs.storage[index] { return false }
        return true
    }
}

extension NDI.HandleList: RandomAccessCollection {
    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { storedCount }
}

extension NDI.HandleList: ExpressibleByArrayLiteral {
    /// Tests and set-up code; traps when there are more than `capacity` handles.
    public init(arrayLiteral elements: NDI.HandleReport...) {
        self.init()
        for element in elements {
            let appended = append(element)
            precondition(appended, "more than \(Self.capacity) handles")
        }
    }
}

extension NDI.HandleList: CustomStringConvertible {
    public var description: String {
        "[" + (0..<storedCount).map { String(describing: storage[$0]) }.joined(separator: ", ") + "]"
    }
}
