/// The time source of a control loop: the real monotonic clock (`Platform.MonotonicClock`), or a
/// `VirtualClock` that simulation advances as fast as it can compute.
///
/// The same loop code runs on both, which is what makes whole sessions testable in virtual time.
public protocol LoopClock: AnyObject {
    /// The current time on this clock.
    func now() -> MonotonicInstant
    /// Returns at `deadline` (a real clock: at or after it, never before). An absolute deadline,
    /// so that a loop built on it does not drift.
    func sleep(until deadline: MonotonicInstant)
    /// Sleeps until `spinningFinalNanoseconds` before `deadline`, then busy-waits for the rest: on a
    /// real clock this trades CPU for a wake-up with less jitter. 0 is a plain sleep.
    func sleep(until deadline: MonotonicInstant, spinningFinalNanoseconds: Int64)
}

extension LoopClock {
    /// Clocks without a cost to waking (virtual ones) just sleep.
    public func sleep(until deadline: MonotonicInstant, spinningFinalNanoseconds: Int64) {
        sleep(until: deadline)
    }
}

/// A clock that only moves when told to: `sleep(until:)` jumps straight to the deadline.
///
/// Single-threaded by design: a virtual-time simulation runs on one thread.
public final class VirtualClock: LoopClock {
    private var current: MonotonicInstant
    /// The end of a host stall begun by `stall(forNanoseconds:)`: the next sleep returns no earlier.
    private var stalledUntil: MonotonicInstant?

    public init(start: MonotonicInstant = .zero) {
        current = start
    }

    public func now() -> MonotonicInstant { current }

    public func sleep(until deadline: MonotonicInstant) {
        if let end = stalledUntil {
            stalledUntil = nil
            advance(to: max(deadline, end))
        } else {
            advance(to: deadline)
        }
    }

    /// A host stall from now on (a non-real-time scheduler holding the sleeping thread up): the next
    /// `sleep(until:)` returns at its deadline or at the stall's end, whichever is later. Meanwhile a
    /// device simulated on this clock runs on without the host, as it would.
    public func stall(forNanoseconds nanoseconds: Int64) {
        let end = current.advanced(byNanoseconds: max(0, nanoseconds))
        stalledUntil = max(stalledUntil ?? end, end)
    }

    /// Moves time forward to `instant`; never backward.
    public func advance(to instant: MonotonicInstant) {
        if instant > current { current = instant }
    }

    /// Moves time forward by `nanoseconds` (≥ 0).
    public func advance(byNanoseconds nanoseconds: Int64) {
        advance(to: current.advanced(byNanoseconds: max(0, nanoseconds)))
    }
}
