import Primitives

/// SR-14: the loop's own timing as a safety input. Fed once per cycle with what the schedule saw;
/// reports a violation when 5 cycles in a row overran, when more than 1 % of the cycles of any 1 s
/// were late, or when one gap between cycle starts exceeded 10 ms. Allocation-free after `init`.
public struct LoopTimingMonitor: Sendable {
    public struct Limits: Sendable, Equatable {
        public var consecutiveOverruns: Int
        public var lateFraction: Double
        public var windowNanoseconds: Int64
        public var gapNanoseconds: Int64

        /// The SAFETY.md defaults.
        public static let standard = Limits(consecutiveOverruns: 5, lateFraction: 0.01, windowNanoseconds: 1_000_000_000,
                                            gapNanoseconds: 10_000_000)

        public init(consecutiveOverruns: Int, lateFraction: Double, windowNanoseconds: Int64, gapNanoseconds: Int64) {
            self.consecutiveOverruns = consecutiveOverruns
            self.lateFraction = lateFraction
            self.windowNanoseconds = windowNanoseconds
            self.gapNanoseconds = gapNanoseconds
        }
    }

    public enum Violation: Sendable, Equatable {
        /// `count` overruns in a row.
        case consecutiveOverruns(count: Int)
        /// More than the allowed late cycles within the window.
        case tooManyLateCycles(count: Int)
        /// A gap between cycle starts [ns].
        case gap(nanoseconds: Int64)
    }

    public let limits: Limits
    /// Late cycles allowed per window (1 % of the cycles the rate gives in 1 s).
    public let allowedLateCycles: Int
    private var lateTimes: [MonotonicInstant]
    private var lateHead = 0
    private var lateCount = 0
    private var previousStart: MonotonicInstant?

    public init(rateHertz: Double, limits: Limits = .standard) {
        self.limits = limits
        let cyclesPerWindow = rateHertz * Double(limits.windowNanoseconds) * 1e-9
        allowedLateCycles = max(1, Int((cyclesPerWindow * limits.lateFraction).rounded(.down)))
        lateTimes = Array(repeating: .zero, count: allowedLateCycles + 1)
    }

    /// Records the start of a cycle. `lateCycles` is how many cycles went late since the previous
    /// start (the overrunning cycle and the deadlines it made the loop skip); `consecutiveOverruns`
    /// comes from the schedule. Returns the most severe violation, if any.
    public mutating func cycleStarted(
        at start: MonotonicInstant, lateCycles: Int, consecutiveOverruns: Int
    ) -> Violation? {
        defer { previousStart = start }
        for _ in 0..<min(lateCycles, lateTimes.count) {
            lateTimes[(lateHead + lateCount) % lateTimes.count] = start
            if lateCount < lateTimes.count {
                lateCount += 1
            } else {
                lateHead = (lateHead + 1) % lateTimes.count
            }
        }
        if let previousStart, start.nanoseconds(since: previousStart) > limits.gapNanoseconds {
            return .gap(nanoseconds: start.nanoseconds(since: previousStart))
        }
        if consecutiveOverruns >= limits.consecutiveOverruns {
            return .consecutiveOverruns(count: consecutiveOverruns)
        }
        if lateCount == lateTimes.count && start.nanoseconds(since: lateTimes[lateHead]) <= limits.windowNanoseconds {
            return .tooManyLateCycles(count: lateCount)
        }
        return nil
    }
}
