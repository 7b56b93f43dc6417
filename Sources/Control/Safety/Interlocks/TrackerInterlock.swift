import DeviceModel
/// SR-15: for any mode that depends on a tracker, a sample older than 3 frame periods (and never
/// older than 50 ms), a missing or disabled tool, a frozen frame counter or an RMS error above the
/// limit → Cat 1. A tracker slower than 60 Hz cannot gate a safety function at all.
public struct TrackerInterlock: Sendable {
    public let maximumRmsErrorMillimeters: Double
    /// 60 Hz's period rounded up: a 60 Hz source's period is 16 666 667 ns in whole nanoseconds
    /// (`Nanoseconds.period`), which the floor of 10⁹ / 60 refused as "below 60 Hz".
    public static let slowestAllowedPeriodNanoseconds: Int64 = (1_000_000_000 + 59) / 60
    public static let maximumAgeNanoseconds: Int64 = 50_000_000

    public init(maximumRmsErrorMillimeters: Double) {
        self.maximumRmsErrorMillimeters = maximumRmsErrorMillimeters
    }

    /// `status` is nil when no sample has arrived at all.
    public func evaluate(_ status: TrackerStatus?) -> SafetyTrip? {
        guard let status else { return SafetyTrip(category: .cat1, cause: .trackerStale, value: .infinity) }
        if status.framePeriodNanoseconds > Self.slowestAllowedPeriodNanoseconds {
            return SafetyTrip(category: .cat1, cause: .trackerTooSlow, value: 1e9 / Double(status.framePeriodNanoseconds))
        }
        let maximumAge = min(3 * status.framePeriodNanoseconds, Self.maximumAgeNanoseconds)
        if status.sampleAgeNanoseconds > maximumAge {
            return SafetyTrip(category: .cat1, cause: .trackerStale, value: Double(status.sampleAgeNanoseconds) * 1e-6)
        }
        if !status.toolVisible { return SafetyTrip(category: .cat1, cause: .trackerToolMissing) }
        if status.frameCounterFrozen { return SafetyTrip(category: .cat1, cause: .trackerFrozen) }
        if status.rmsErrorMillimeters > maximumRmsErrorMillimeters {
            return SafetyTrip(category: .cat1, cause: .trackerInaccurate, value: status.rmsErrorMillimeters)
        }
        return nil
    }
}
