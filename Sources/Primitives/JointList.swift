/// A fixed-capacity list of per-joint values (at most `capacity`), stored inline so that messages,
/// states and commands never touch the heap. The one per-joint container of the project.
public struct JointList<Element: Sendable & Equatable>: Sendable, Equatable {
    /// The most joints one device may have.
    public static var capacity: Int { 8 }

    @inlinable public var count: Int { storedCount }
    @usableFromInline var storedCount: Int
    @usableFromInline var storage: InlineArray<8, Element>

    /// `count` copies of `element`; `count` must be in 0...8. Inlinable, like the subscript: messages
    /// and states are built every cycle in other modules, and an unspecialised generic init costs
    /// metadata lookups there.
    @inlinable
    public init(count: Int, repeating element: Element) {
        precondition(count >= 0 && count <= Self.capacity, "a device has 0...\(Self.capacity) joints")
        storedCount = count
        storage = InlineArray(repeating: element)
    }

    @inlinable
    public subscript(index: Int) -> Element {
        get {
            precondition(index >= 0 && index < storedCount, "joint index out of range")
            return storage[index]
        }
        set {
            precondition(index >= 0 && index < storedCount, "joint index out of range")
            storage[index] = newValue
        }
        // In place, so that `list[i].a = x; list[i].b += y` never goes through a copy of the element.
        // Without it Swift 6.3.1 -O miscompiled exactly that (the first write was lost: a joint's
        // velocity set, then its position updated, kept the old velocity; JointListTests reproduces it).
        _modify {
            precondition(index >= 0 && index < storedCount, "joint index out of range")
            yield &storage[index]
        }
    }

    @inlinable
    public static func == (lhs: Self, rhs: Self) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for index in 0..<lhs.count where lhs.storage[index] != rhs.storage[index] { return false }
        return true
    }
}

extension JointList: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "[" + (0..<count).map { String(describing: self[$0]) }.joined(separator: ", ") + "]"
    }

    public var debugDescription: String { description }
}

extension JointList where Element: AdditiveArithmetic {
    /// `count` zeros.
    @inlinable
    public static func zeros(_ count: Int) -> JointList { JointList(count: count, repeating: .zero) }
}

/// Plain per-joint numbers can be copied as bytes (a status snapshot shared between threads).
extension JointList: BitwiseCopyable where Element: BitwiseCopyable {}
