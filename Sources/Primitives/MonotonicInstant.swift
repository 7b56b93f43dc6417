/// A point on the monotonic clock (CLOCK_MONOTONIC on the real clock, or a virtual clock in
/// simulation), in nanoseconds since that clock's epoch.
///
/// Durations are plain `Int64` nanoseconds, named `…Nanoseconds` so that a unit mix-up shows.
public struct MonotonicInstant: Sendable, Hashable, Comparable, CustomStringConvertible, BitwiseCopyable {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    public static let zero = MonotonicInstant(nanoseconds: 0)

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// `self` moved by `nanoseconds`.
    public func advanced(byNanoseconds nanoseconds: Int64) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: self.nanoseconds &+ nanoseconds)
    }

    /// Nanoseconds from `earlier` to `self` (negative when `earlier` is later).
    public func nanoseconds(since earlier: MonotonicInstant) -> Int64 {
        nanoseconds &- earlier.nanoseconds
    }

    /// Seconds from `earlier` to `self`.
    public func seconds(since earlier: MonotonicInstant) -> Double {
        Double(nanoseconds &- earlier.nanoseconds) * 1e-9
    }

    public var description: String { "\(nanoseconds) ns" }
}

/// Nanoseconds in common units, for readable duration arithmetic.
public enum Nanoseconds {
    public static let perMicrosecond: Int64 = 1_000
    public static let perMillisecond: Int64 = 1_000_000
    public static let perSecond: Int64 = 1_000_000_000

    /// The period of `rateHertz`, rounded to the nearest nanosecond.
    public static func period(rateHertz: Double) -> Int64 {
        Int64((1e9 / rateHertz).rounded())
    }
}
