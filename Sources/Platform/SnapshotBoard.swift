import CSystemShims

/// One writer publishes a plain value, any number of readers on other threads take consistent
/// snapshots of it: a sequence lock whose every word is accessed atomically. The writer never
/// waits, never allocates and never takes a lock, so the control loop can publish every cycle.
///
/// The corresponding C functions are `rh_seqlock_publish` and `rh_seqlock_snapshot`.
public final class SnapshotBoard<Value: BitwiseCopyable>: @unchecked Sendable {
    // @unchecked: every access to `sequence` and `words` goes through the C atomics above.
    // Inlinable (so specialised in the modules that use a board): an unspecialised generic read cost
    // the control cycle 1.3–1.5 µs (metadata lookups), the specialised one tens of nanoseconds.
    @usableFromInline let sequence: UnsafeMutablePointer<UInt64>
    @usableFromInline let words: UnsafeMutablePointer<UInt64>
    @usableFromInline let wordCount: Int
    /// The writer's staging copy, padded to whole words.
    @usableFromInline let staging: UnsafeMutablePointer<UInt64>

    public init(_ initial: Value) {
        wordCount = (MemoryLayout<Value>.size + 7) / 8
        sequence = .allocate(capacity: 1)
        sequence.initialize(to: 0)
        words = .allocate(capacity: max(1, wordCount))
        words.initialize(repeating: 0, count: max(1, wordCount))
        staging = .allocate(capacity: max(1, wordCount))
        staging.initialize(repeating: 0, count: max(1, wordCount))
        publish(initial)
    }

    deinit {
        sequence.deallocate()
        words.deallocate()
        staging.deallocate()
    }

    /// Publishes `value` (one writer thread only).
    @inlinable
    public func publish(_ value: Value) {
        withUnsafeBytes(of: value) { bytes in
            UnsafeMutableRawPointer(staging).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        }
        rh_seqlock_publish(sequence, words, staging, wordCount)
    }

    /// The latest value published, trying at most `attempts` times; nil when every attempt overlapped a
    /// publication — a writer preempted in mid-publish (by a real-time reader on its CPU, say) would
    /// otherwise hold the reader spinning until the scheduler let it finish.
    @inlinable
    public func snapshot(attempts: Int) -> Value? {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: max(1, wordCount)) { destination in
            for _ in 0..<max(1, attempts) where rh_seqlock_snapshot(sequence, words, destination.baseAddress!, wordCount) != 0 {
                return UnsafeRawPointer(destination.baseAddress!).loadUnaligned(as: Value.self)
            }
            return nil
        }
    }

    /// The latest value published; retries while a publication overlaps (it takes nanoseconds).
    /// The copy lives on the stack, so a control loop may read a board every cycle without allocating.
    @inlinable
    public func snapshot() -> Value {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: max(1, wordCount)) { destination in
            while rh_seqlock_snapshot(sequence, words, destination.baseAddress!, wordCount) == 0 {}
            return UnsafeRawPointer(destination.baseAddress!).loadUnaligned(as: Value.self)
        }
    }
}
