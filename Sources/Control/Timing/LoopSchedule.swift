import DeviceModel
import Primitives

/// The deadlines of a fixed-rate loop: cycle k is due at `start + k·period`, always.
///
/// A late cycle never moves the schedule: when the work of a cycle runs past the next deadline, the
/// missed cycles are counted and the loop resumes at the first deadline still in the future. So
/// the loop cannot drift, and every overrun is visible.
public struct LoopSchedule: Sendable, Equatable {
    public let start: MonotonicInstant
    public let periodNanoseconds: Int64
    /// Index of the cycle being run (or about to run).
    public private(set) var cycle: Int64 = 0
    /// Cycles whose work ended after the next cycle's deadline.
    public private(set) var overruns: Int64 = 0
    /// Deadlines skipped because the loop was too late to run them.
    public private(set) var skippedCycles: Int64 = 0
    /// Overruns in a row, up to now (SR-14).
    public private(set) var consecutiveOverruns: Int64 = 0

    public init(start: MonotonicInstant, periodNanoseconds: Int64) {
        precondition(periodNanoseconds > 0, "a loop period must be positive")
        self.start = start
        self.periodNanoseconds = periodNanoseconds
    }

    /// When cycle `k` is due.
    public func deadline(ofCycle k: Int64) -> MonotonicInstant {
        start.advanced(byNanoseconds: k &* periodNanoseconds)
    }

    /// When the current cycle is due.
    public var currentDeadline: MonotonicInstant { deadline(ofCycle: cycle) }

    /// Ends the current cycle, whose work finished at `now`, and moves to the next cycle to run:
    /// normally `cycle + 1`; after an overrun, the first cycle whose deadline is still ahead.
    /// Returns true when this cycle overran.
    @discardableResult
    public mutating func advance(finishedAt now: MonotonicInstant) -> Bool {
        let next = cycle + 1
        guard now > deadline(ofCycle: next) else {
            cycle = next
            consecutiveOverruns = 0
            return false
        }
        overruns += 1
        consecutiveOverruns += 1
        let elapsed = now.nanoseconds(since: start)
        let firstFuture = elapsed / periodNanoseconds + 1
        skippedCycles += firstFuture - next
        cycle = firstFuture
        return true
    }
}
