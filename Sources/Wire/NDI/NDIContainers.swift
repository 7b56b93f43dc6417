extension NDI {
    /// Up to `maximum` bytes stored inline: a command's name or parameters, a reply's text. Nothing is
    /// allocated, so commands and replies cross the control cycle without touching the heap. Appends
    /// return false (and append nothing) instead of trapping when the bytes do not fit.
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
        public init?(copying bytes: UnsafeRawBufferPointer) {
            guard bytes.count <= maximum else { return nil }
            self.init()
            for byte in bytes {
                storage[storedCount] = byte
                storedCount += 1
            }
        }

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
        @discardableResult
        public mutating func append(contentsOf bytes: UnsafeRawBufferPointer) -> Bool {
            guard bytes.count <= maximum - storedCount else { return false }
            for byte in bytes {
                storage[storedCount] = byte
                storedCount += 1
            }
            return true
        }

        /// Appends the bytes of a literal, or nothing when they do not fit.
        @discardableResult
        public mutating func append(ascii text: StaticString) -> Bool {
            // `withUTF8Buffer` also covers a literal stored as a single scalar (no `utf8Start` then).
            let fits = text.withUTF8Buffer { $0.count <= maximum - storedCount }
            guard fits else { return false }
            text.withUTF8Buffer { buffer in
                for byte in buffer {
                    storage[storedCount] = byte
                    storedCount += 1
                }
            }
            return true
        }

        /// Appends `value` as `digits` upper-case hex digits, most significant first (the API's fixed-width
        /// fields: a port handle is 2 digits, a reply option 4). Only the low `4 × digits` bits are written.
        @discardableResult
        public mutating func append(hex value: UInt32, digits: Int) -> Bool {
            guard digits >= 1, digits <= 8, digits <= maximum - storedCount else { return false }
            for position in stride(from: digits - 1, through: 0, by: -1) {
                storage[storedCount] = NDI.hexDigit(value >> UInt32(4 * position))
                storedCount += 1
            }
            return true
        }

        /// Appends `value` in decimal, without leading zeros (VER's reply option, BEEP's count).
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

        @inlinable
        public mutating func removeAll() {
            storedCount = 0
        }

        /// The `digits` hex digits (either case) at `offset` as a number; nil when they are not all there
        /// or not all hex digits.
        public func hexValue(at offset: Int, digits: Int) -> UInt32? {
            guard digits >= 1, digits <= 8, offset >= 0, offset <= storedCount - digits else { return nil }
            var value: UInt32 = 0
            for index in offset..<(offset + digits) {
                guard let digit = NDI.hexValue(storage[index]) else { return nil }
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

        /// The bytes as text, non-printable bytes (other than LF) shown as '?' (diagnostics; allocates).
        public var string: String {
            var scalars = String.UnicodeScalarView()
            for index in 0..<storedCount {
                let byte = storage[index]
                scalars.append(Unicode.Scalar(NDI.isReplyCharacter(byte) ? byte : UInt8(ascii: "?")))
            }
            return String(scalars)
        }
    }

    /// A reply's text (without CRC and CR). Keep the literal equal to `NDI.maxReplyTextBytes` (a generic
    /// argument cannot name it).
    public typealias ReplyText = NDI.Bytes<1024>
    /// A command's name. Keep the literal equal to `NDI.maxCommandNameBytes`.
    public typealias CommandName = NDI.Bytes<16>
    /// A command's parameters, or a whole command line while it arrives. Keep the literal equal to
    /// `NDI.maxCommandBytes`.
    public typealias CommandParameters = NDI.Bytes<256>
}

extension NDI.Bytes: Equatable {
    @inlinable
    public static func == (lhs: Self, rhs: Self) -> Bool {
        guard lhs.storedCount == rhs.storedCount else { return false }
        for index in 0..<lhs.storedCount where lhs.storage[index] != rhs.storage[index] { return false }
        return true
    }
}

extension NDI.Bytes: RandomAccessCollection {
    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { storedCount }
}

extension NDI.Bytes: ExpressibleByArrayLiteral {
    /// Tests and set-up code; traps when there are more than `capacity` bytes.
    public init(arrayLiteral elements: UInt8...) {
        self.init()
        for byte in elements {
            let appended = append(byte)
            precondition(appended, "more than \(maximum) bytes")
        }
    }
}

extension NDI.Bytes: CustomStringConvertible, CustomDebugStringConvertible {
    /// The bytes as text ("OKAY"); see `string`.
    public var description: String { string }
    public var debugDescription: String { "\"" + string + "\"" }
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
