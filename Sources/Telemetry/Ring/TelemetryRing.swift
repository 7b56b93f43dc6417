import Synchronization

/// The hand-off from the control thread to the recorder: a preallocated lock-free ring for exactly
/// one producer (the loop) and one consumer (the writer thread).
///
/// `push` copies a record into a slot and publishes it with one release store: no allocation, no
/// lock, no system call. A full ring never blocks the producer: the record is dropped and counted in
/// `overflows`, which the session reports.
public final class TelemetryRing: @unchecked Sendable {
    // @unchecked: a slot is written only by the producer before it publishes `head` past it, and
    // read only by the consumer before it publishes `tail` past it (acquire/release on both).
    public let capacity: Int
    private let slots: UnsafeMutablePointer<TelemetryRecord>
    /// Records published so far (producer's counter).
    private let head = Atomic<Int>(0)
    /// Records consumed so far (consumer's counter).
    private let tail = Atomic<Int>(0)
    private let dropped = Atomic<Int>(0)
    private let highWater = Atomic<Int>(0)

    /// Room for `capacity` records (at least 2).
    public init(capacity: Int) {
        self.capacity = max(2, capacity)
        slots = .allocate(capacity: self.capacity)
        slots.initialize(repeating: .cycle(TelemetryFrame(jointCount: 0)), count: self.capacity)
    }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
    }

    // MARK: Producer (the control loop)

    /// Hands `record` over; false (and counted) when the ring is full.
    @discardableResult
    public func push(_ record: TelemetryRecord) -> Bool {
        let written = head.load(ordering: .relaxed)
        let consumed = tail.load(ordering: .acquiring)
        let used = written - consumed
        if used >= capacity {
            dropped.add(1, ordering: .relaxed)
            return false
        }
        slots[written % capacity] = record
        head.store(written + 1, ordering: .releasing)
        if used + 1 > highWater.load(ordering: .relaxed) { highWater.store(used + 1, ordering: .relaxed) }
        return true
    }

    // MARK: Consumer (the writer thread)

    /// Takes the oldest record, or nil when the ring is empty.
    public func pop() -> TelemetryRecord? {
        let consumed = tail.load(ordering: .relaxed)
        guard consumed < head.load(ordering: .acquiring) else { return nil }
        let record = slots[consumed % capacity]
        tail.store(consumed + 1, ordering: .releasing)
        return record
    }

    // MARK: Figures (any thread)

    /// Records that found the ring full and were dropped.
    public var overflows: Int { dropped.load(ordering: .relaxed) }
    /// Records waiting now.
    public var pending: Int { head.load(ordering: .acquiring) - tail.load(ordering: .acquiring) }
    /// Records handed over so far.
    public var pushed: Int { head.load(ordering: .acquiring) }
    /// The most records that ever waited at once.
    public var highWaterMark: Int { highWater.load(ordering: .relaxed) }
}
