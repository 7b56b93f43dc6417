import DeviceModel
import Primitives

/// SR-1 (v2): how well the device link carries the control loop, graded every cycle.
public enum LinkGrade: Int, Sendable, CaseIterable, Comparable, BitwiseCopyable, CustomStringConvertible {
    /// Normal operation.
    case good = 0
    /// Degraded: hold from the newest state, plan clock frozen, active torque faded to a passive hold.
    case fair = 1
    /// Degradation that persists: a Cat 2 pause that the operator may resume (not latched).
    case poor = 2
    /// The newest state is too old: Cat 1 (≥ 0.6 W) or Cat 0 (≥ W), latched.
    case lost = 3

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Stable names for logs, JSON and the recording.
    public var description: String {
        switch self {
        case .good: "GOOD"
        case .fair: "FAIR"
        case .poor: "POOR"
        case .lost: "LOST"
        }
    }
}

/// The thresholds of SR-1's grading, in nanoseconds, all derived from the device watchdog W and the
/// loop period T (`derived`): no count of cycles is written down anywhere, so a rate change cannot
/// leave a threshold behind.
///
/// ```
///  state age  0 ─── GOOD ───┤ max(3T, 3 ms) ─── FAIR ───┤ 0.6 W ── LOST, Cat 1 ──┤ W ── LOST, Cat 0
///  cycle gap  0 ─── GOOD ───┤ W/4 ─────────── FAIR ───────────┤ 0.6 W ── LOST, Cat 1 (the device went that long unfed)
///  late/s     0 ─── GOOD ───┤ 2 % ─── FAIR ───┤ 5 % ── POOR
///  persisting FAIR > `poorFairShare` of the last 5 s, or more than `poorEpisodes` FAIR episodes in 10 s ── POOR
/// ```
public struct LinkQualityLimits: Sendable, Equatable {
    public var periodNanoseconds: Int64
    public var watchdogNanoseconds: Int64
    /// GOOD: the newest state is at most this old (and no command is computed from an older one, SR-5).
    public var goodAgeNanoseconds: Int64
    /// GOOD: no gap between cycle starts longer than this.
    public var goodGapNanoseconds: Int64
    /// The share of late cycles per second up to which the link is GOOD, and beyond which it is POOR.
    public var goodLateFraction: Double
    public var poorLateFraction: Double
    /// LOST: Cat 1 from this age, Cat 0 from `lostCat0AgeNanoseconds` (= W).
    public var lostCat1AgeNanoseconds: Int64
    public var lostCat0AgeNanoseconds: Int64
    /// FAIR returns to GOOD after this long without trouble.
    public var recoveryNanoseconds: Int64
    /// POOR: FAIR for more than this share of the last `poorShareWindowNanoseconds`…
    public var poorFairShare: Double
    public var poorShareWindowNanoseconds: Int64
    /// …or more than this many FAIR episodes within `poorEpisodeWindowNanoseconds`.
    public var poorEpisodes: Int
    public var poorEpisodeWindowNanoseconds: Int64
    /// The POOR pause that ends the session with Cat 1 instead (the third, SAFETY.md).
    public var poorPausesBeforeCat1: Int

    /// POOR's two numbers, calibrated against the stalls of an untuned 2-core VM at 1 kHz (6 recorded
    /// 30 s sessions: 0.27–0.57 stalls beyond the GOOD age per second, FAIR 28 % of the time, 2.5
    /// episodes per 10 s; replayed through this grading, SAFETY.md's proposal of 20 % paused 17 of 18
    /// ten-second sessions, 40 % paused 12, 80 % with more than 5 episodes 1): FAIR for more than 80 %
    /// of 5 s is trouble nearly every second. docs/safety.md, "Link quality". A profile may only tighten them.
    public static let defaultPoorFairShare = 0.8
    public static let defaultPoorEpisodes = 5

    /// The thresholds for a loop period `T` and a device watchdog `W`. Requires W ≥ 4 T (SR-14;
    /// `coverageProblem` says why not).
    public static func derived(
        periodNanoseconds period: Int64, watchdogNanoseconds watchdog: Int64, poorFairShare: Double = defaultPoorFairShare,
        poorEpisodes: Int = defaultPoorEpisodes
    ) -> LinkQualityLimits {
        let lostCat1 = watchdog * 6 / 10
        // max(3 T, 3 ms), kept below the Cat 1 age: at low rates (250 Hz, W 20 ms: 12 ms) the GOOD
        // band would otherwise reach into LOST; with W ≥ 4 T this still leaves more than one period.
        let good = min(max(3 * period, 3 * Nanoseconds.perMillisecond), watchdog * 4 / 10)
        return LinkQualityLimits(
            periodNanoseconds: period, watchdogNanoseconds: watchdog, goodAgeNanoseconds: good, goodGapNanoseconds: watchdog / 4,
            goodLateFraction: 0.02, poorLateFraction: 0.05, lostCat1AgeNanoseconds: lostCat1, lostCat0AgeNanoseconds: watchdog,
            recoveryNanoseconds: Nanoseconds.perSecond, poorFairShare: poorFairShare, poorShareWindowNanoseconds: 5 * Nanoseconds.perSecond,
            poorEpisodes: poorEpisodes, poorEpisodeWindowNanoseconds: 10 * Nanoseconds.perSecond, poorPausesBeforeCat1: 3)
    }

    /// Why a loop period cannot be covered by a device watchdog (SR-14), or nil when it can: the
    /// watchdog must span at least 4 periods, so that a missed cycle or two grade the link before
    /// the device stops by itself.
    public static func coverageProblem(periodNanoseconds period: Int64, watchdogNanoseconds watchdog: Int64) -> String? {
        guard period > 0, watchdog > 0 else { return "the period and the watchdog must be positive" }
        if watchdog < 4 * period {
            let minimumHertz = (4e9 / Double(watchdog)).rounded(.up)
            return "the device watchdog (\(Double(watchdog) / 1e6) ms) must cover at least 4 loop periods (SR-14): at \(Double(period) / 1e6) ms per cycle it would expire between two cycles' worth of trouble; use a rate of at least \(Int(minimumHertz)) Hz"
        }
        return nil
    }
}

/// What the monitor concluded this cycle.
public struct LinkAssessment: Sendable, Equatable, BitwiseCopyable {
    public var grade: LinkGrade
    /// The grade changed this cycle (the supervisor logs the change with `ageNanoseconds` etc.).
    public var changed: Bool
    /// The newest state's age this cycle [ns].
    public var ageNanoseconds: Int64
    /// The gap since the previous cycle start [ns].
    public var gapNanoseconds: Int64
    /// Late cycles in the last second, as a share of the cycles the rate gives.
    public var lateFraction: Double
    /// This cycle's own trouble (age, gap or late share beyond GOOD), whatever the grade.
    public var troubled: Bool
    /// What makes it POOR (nil unless POOR): the late share, the FAIR share of the window, or the episode count.
    public var poorReason: PoorReason?

    public enum PoorReason: Sendable, Equatable, BitwiseCopyable {
        case fairShare(Double)
        case episodes(Int)
        case lateFraction(Double)
    }

    public init(grade: LinkGrade) {
        self.grade = grade
        changed = false
        ageNanoseconds = 0
        gapNanoseconds = 0
        lateFraction = 0
        troubled = false
        poorReason = nil
    }
}

/// SR-1's grading, pure and allocation-free after `init`: fed once per cycle with the newest
/// state's age, the gap since the previous cycle and the deadlines missed, it returns the grade.
/// LOST is decided from the age alone, at once; FAIR from any trouble beyond GOOD, back to GOOD after
/// a second without trouble; POOR from FAIR that persists. It keeps the time spent in each grade
/// and the episodes, for the summary, `--json` and the recording.
public struct LinkQualityMonitor: Sendable {
    public let limits: LinkQualityLimits
    public private(set) var grade: LinkGrade = .good
    /// Time spent in each grade [ns], indexed by `LinkGrade.rawValue`.
    public private(set) var nanosecondsInGrade: (Int64, Int64, Int64, Int64) = (0, 0, 0, 0)
    /// FAIR episodes (GOOD → FAIR) and POOR episodes since `init`.
    public private(set) var fairEpisodes = 0
    public private(set) var poorEpisodes = 0
    /// The oldest state seen and the longest gap [ns].
    public private(set) var worstAgeNanoseconds: Int64 = 0
    public private(set) var longestGapNanoseconds: Int64 = 0

    private var lastTroubleAt: MonotonicInstant?
    private var previousCycle: MonotonicInstant?
    // Fixed-size rings, inline: the rehearsal (TherapySession) works on a copy of the supervisor every
    // cycle, and a heap array in it would be copied on its first write.
    /// FAIR time per 100 ms slot over the 5 s share window (POOR's and LOST's own time is not charged).
    private var fairSlots = InlineArray<50, Int64>(repeating: 0)
    /// Late cycles per 100 ms slot over the last second.
    private var lateSlots = InlineArray<10, Int32>(repeating: 0)
    private var slotIndex = 0
    private var slotStart: MonotonicInstant?
    private var fairInWindow: Int64 = 0
    private var lateInWindow = 0
    /// Start times of the most recent FAIR episodes [ns] (only the count within 10 s matters).
    private var episodeTimes = InlineArray<8, Int64>(repeating: .min)
    private var episodeNext = 0
    private let cyclesPerSecond: Double
    private static let slotNanoseconds: Int64 = 100_000_000
    /// The most episodes `poorEpisodes` may name (the ring holds one more).
    public static let maximumPoorEpisodes = 7

    public init(limits: LinkQualityLimits) {
        precondition(limits.poorEpisodes >= 1 && limits.poorEpisodes <= Self.maximumPoorEpisodes)
        precondition(limits.poorShareWindowNanoseconds == 50 * Self.slotNanoseconds, "the share window is 5 s")
        self.limits = limits
        cyclesPerSecond = 1e9 / Double(max(1, limits.periodNanoseconds))
    }

    /// Grades this cycle. `stateAgeNanoseconds`: now − when the newest valid state was sampled (by
    /// the device's clock, mapped to the host's; `Int64.max` before any). `lateCycles`: deadlines
    /// missed since the previous cycle.
    public mutating func assess(now: MonotonicInstant, stateAgeNanoseconds age: Int64, lateCycles: Int) -> LinkAssessment {
        let gap = previousCycle.map { now.nanoseconds(since: $0) } ?? limits.periodNanoseconds
        let elapsed = previousCycle.map { max(0, now.nanoseconds(since: $0)) } ?? 0
        previousCycle = now
        accumulate(elapsed, now: now)
        if lateCycles > 0 {
            let late = Int32(clamping: lateCycles)
            lateSlots[lateSlot] += late
            lateInWindow += Int(late)
        }
        let lateFraction = Double(lateInWindow) / cyclesPerSecond
        worstAgeNanoseconds = max(worstAgeNanoseconds, age == .max ? 0 : age)
        longestGapNanoseconds = max(longestGapNanoseconds, gap)

        var assessment = LinkAssessment(grade: grade)
        assessment.ageNanoseconds = age
        assessment.gapNanoseconds = gap
        assessment.lateFraction = lateFraction
        assessment.troubled = age > limits.goodAgeNanoseconds || gap > limits.goodGapNanoseconds || lateFraction > limits.goodLateFraction
        // An episode begins with trouble after a quiet second (from GOOD, or while POOR: a link that
        // stays bad keeps adding episodes, so POOR by episodes lasts as long as it does).
        let onset = assessment.troubled && (lastTroubleAt.map { now.nanoseconds(since: $0) >= limits.recoveryNanoseconds } ?? true)
        if assessment.troubled { lastTroubleAt = now }

        var next: LinkGrade
        if age >= limits.lostCat1AgeNanoseconds || gap >= limits.lostCat1AgeNanoseconds || grade == .lost {
            // LOST latches in the supervisor; the grade stays until the session ends.
            next = .lost
        } else if grade == .poor {
            if onset { recordEpisode(at: now) }
            // POOR lasts while the trouble does, and ends after `recoveryNanoseconds` without any (then
            // `rehabctl resume` is taken). Judged by the trouble itself, not by the FAIR-share window:
            // that window would count the POOR time and keep it POOR for ever (a 60-minute soak sat
            // paused, unresumable, after its first POOR).
            // It also waits for its own causes to be under their limits again (the episodes of the last
            // 10 s, the late share, FAIR's share — which POOR's time does not feed), so that it does not
            // end between two stalls of a link that is still bad and come straight back.
            let share = Double(fairInWindow) / Double(limits.poorShareWindowNanoseconds)
            if let last = lastTroubleAt, now.nanoseconds(since: last) < limits.recoveryNanoseconds {
                next = .poor
            } else if episodesInWindow(now: now) > limits.poorEpisodes || share > limits.poorFairShare
                || lateFraction > limits.poorLateFraction
            {
                next = .poor
            } else {
                next = .good
            }
        } else {
            if onset { recordEpisode(at: now) }
            // Persistence turns FAIR into POOR; GOOD without trouble stays GOOD whatever the window holds.
            if lateFraction > limits.poorLateFraction {
                assessment.poorReason = .lateFraction(lateFraction)
            } else if grade != .good || assessment.troubled {
                let share = Double(fairInWindow) / Double(limits.poorShareWindowNanoseconds)
                let episodes = episodesInWindow(now: now)
                if share > limits.poorFairShare {
                    assessment.poorReason = .fairShare(share)
                } else if episodes > limits.poorEpisodes {
                    assessment.poorReason = .episodes(episodes)
                }
            }
            if assessment.poorReason != nil {
                next = .poor
            } else if assessment.troubled {
                next = .fair
            } else if grade != .good, let last = lastTroubleAt, now.nanoseconds(since: last) < limits.recoveryNanoseconds {
                next = .fair
            } else {
                next = .good
            }
        }
        if next == .poor && grade != .poor { poorEpisodes += 1 }
        assessment.changed = next != grade
        grade = next
        assessment.grade = next
        return assessment
    }

    /// The share of the last 5 s spent FAIR (0…1).
    public var fairShareOfWindow: Double {
        Double(fairInWindow) / Double(limits.poorShareWindowNanoseconds)
    }

    /// The time in `grade` so far [s].
    public func seconds(in grade: LinkGrade) -> Double {
        let value: Int64
        switch grade {
        case .good: value = nanosecondsInGrade.0
        case .fair: value = nanosecondsInGrade.1
        case .poor: value = nanosecondsInGrade.2
        case .lost: value = nanosecondsInGrade.3
        }
        return Double(value) * 1e-9
    }

    /// The late-cycle slot of the current 100 ms (the late ring is the last 10 of the 50 slots).
    private var lateSlot: Int { slotIndex % 10 }

    /// Charges the time since the previous cycle to the grade in force, and to the FAIR-share window;
    /// moves both windows on by whole 100 ms slots, emptying the slots they leave.
    private mutating func accumulate(_ elapsed: Int64, now: MonotonicInstant) {
        switch grade {
        case .good: nanosecondsInGrade.0 += elapsed
        case .fair: nanosecondsInGrade.1 += elapsed
        case .poor: nanosecondsInGrade.2 += elapsed
        case .lost: nanosecondsInGrade.3 += elapsed
        }
        guard let start = slotStart else {
            slotStart = now
            return
        }
        var sinceSlot = now.nanoseconds(since: start)
        var turned = 0
        while sinceSlot >= Self.slotNanoseconds && turned <= 50 {
            slotIndex = (slotIndex + 1) % 50
            fairInWindow -= fairSlots[slotIndex]
            fairSlots[slotIndex] = 0
            lateInWindow -= Int(lateSlots[lateSlot])
            lateSlots[lateSlot] = 0
            sinceSlot -= Self.slotNanoseconds
            turned += 1
        }
        if turned > 0 { slotStart = now.advanced(byNanoseconds: -(sinceSlot % Self.slotNanoseconds)) }
        // Only FAIR time is FAIR's share: POOR (and LOST) time is not charged, so that the window
        // empties while a pause lasts and a link that recovered is not POOR again at once.
        if grade == .fair {
            let charged = min(elapsed, limits.poorShareWindowNanoseconds)
            fairSlots[slotIndex] += charged
            fairInWindow += charged
        }
    }

    private mutating func recordEpisode(at now: MonotonicInstant) {
        fairEpisodes += 1
        episodeTimes[episodeNext] = now.nanoseconds
        episodeNext = (episodeNext + 1) % 8
    }

    private func episodesInWindow(now: MonotonicInstant) -> Int {
        var count = 0
        for index in 0..<8 where episodeTimes[index] != .min {
            if now.nanoseconds - episodeTimes[index] <= limits.poorEpisodeWindowNanoseconds { count += 1 }
        }
        return count
    }
}
