import Glibc
import Primitives

/// The real clock of the control loop: CLOCK_MONOTONIC, slept on with absolute deadlines.
///
/// The corresponding C functions are `clock_gettime(CLOCK_MONOTONIC)` and
/// `clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)`. Absolute deadlines are what keep a loop from
/// drifting: a late wake-up does not move the next deadline.
public final class MonotonicClock: LoopClock, Sendable {
    public static let shared = MonotonicClock()

    public init() {}

    public func now() -> MonotonicInstant {
        Self.now()
    }

    /// The current CLOCK_MONOTONIC time, without an instance.
    public static func now() -> MonotonicInstant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return MonotonicInstant(nanoseconds: Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec))
    }

    public func sleep(until deadline: MonotonicInstant, spinningFinalNanoseconds: Int64) {
        guard spinningFinalNanoseconds > 0 else { return sleep(until: deadline) }
        sleep(until: deadline.advanced(byNanoseconds: -spinningFinalNanoseconds))
        while Self.now() < deadline {}
    }

    /// Sleeps until `deadline`; a signal does not cut the sleep short. A deadline already passed
    /// returns at once, without the system call: the kernel arms a timer for it all the same and
    /// the thread waits for that timer's interrupt (29 µs median, p99 140–170 µs on the 2-core VM,
    /// docs/performance.md session H), which a late cycle or a spin after the rehearsal cannot afford.
    public func sleep(until deadline: MonotonicInstant) {
        guard Self.now() < deadline else { return }
        var target = timespec(
            tv_sec: Int(deadline.nanoseconds / 1_000_000_000), tv_nsec: Int(deadline.nanoseconds % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil) == EINTR {}
    }
}

/// Wall-clock time (CLOCK_REALTIME) in nanoseconds since the Unix epoch, for timestamps that
/// people and other machines read. Never used for control timing.
public enum WallClock {
    public static func unixNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// "2026-11-23T10:22:01.123Z" (UTC, milliseconds) for `unixNanoseconds`.
    public static func utcTimestamp(_ unixNanoseconds: Int64) -> String {
        var seconds = time_t(unixNanoseconds / 1_000_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let milliseconds = Int((unixNanoseconds % 1_000_000_000) / 1_000_000)
        let fraction = milliseconds < 10 ? "00\(milliseconds)" : (milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)")
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(fraction)Z"
    }
}
