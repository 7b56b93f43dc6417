/// A fixed-capacity byte FIFO: storage is allocated once, so pushing and popping never allocate.
///
/// Single-threaded; `push` refuses (returns false) rather than overwrite when full.
public final class ByteRing {
    private let storage: UnsafeMutableRawBufferPointer
    private var head = 0
    public private(set) var count = 0

    public var capacity: Int { storage.count }
    public var isEmpty: Bool { count == 0 }
    public var freeSpace: Int { storage.count - count }

    public init(capacity: Int) {
        precondition(capacity > 0)
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 1)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit {
        storage.deallocate()
    }

    /// Appends all of `bytes`, or nothing when they do not fit; returns whether they were appended.
    @discardableResult
    public func push(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count <= freeSpace else { return false }
        var tail = (head + count) % storage.count
        for byte in bytes {
            storage[tail] = byte
            tail += 1
            if tail == storage.count { tail = 0 }
        }
        count += bytes.count
        return true
    }

    /// Moves up to `limit` bytes (and at most `destination.count`) out; returns how many.
    @discardableResult
    public func pop(into destination: UnsafeMutableRawBufferPointer, limit: Int = .max) -> Int {
        let moved = min(count, destination.count, limit)
        for index in 0..<moved {
            destination[index] = storage[head]
            head += 1
            if head == storage.count { head = 0 }
        }
        count -= moved
        return moved
    }

    /// Drops up to `byteCount` bytes from the front.
    public func discard(_ byteCount: Int) {
        let dropped = min(byteCount, count)
        head = (head + dropped) % storage.count
        count -= dropped
    }

    public func removeAll() {
        head = 0
        count = 0
    }
}
