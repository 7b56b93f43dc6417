import Primitives

/// Mirror mode: the exercised joint follows a reference taken from another source (the patient's
/// unaffected limb in a second device, or a tracker), mapped by `scale` and `offsetRadians`,
/// kept inside the exercise's range and limited in speed. The reference gates motion like a
/// tracker (SR-15): stale, frozen, hidden or inaccurate → Cat 1.
public struct Mirror: Sendable, Equatable {
    /// −1: the mirror image (flexion on one side is extension on the other); +1: the same motion.
    public var scale: Double
    public var offsetRadians: Double
    /// The fastest the target may move toward the reference [rad/s]: a jump in the reference
    /// becomes a ramp, never a step.
    public var maximumSpeedRadiansPerSecond: Double
    /// SR-15's accuracy limit for the source's own fit error [mm].
    public var maximumRmsErrorMillimeters: Double

    public init(scale: Double, offsetRadians: Double, maximumSpeedRadiansPerSecond: Double, maximumRmsErrorMillimeters: Double) {
        self.scale = scale
        self.offsetRadians = offsetRadians
        self.maximumSpeedRadiansPerSecond = maximumSpeedRadiansPerSecond
        self.maximumRmsErrorMillimeters = maximumRmsErrorMillimeters
    }

    /// Where the exercised joint should be for a reference at `referenceRadians`.
    public func mapped(_ referenceRadians: Double) -> Double { scale * referenceRadians + offsetRadians }

    /// The reference position that maps to `targetRadians` (what a simulated unaffected limb does
    /// when it follows the exercise's cue).
    public func referencePosition(forTarget targetRadians: Double) -> Double { (targetRadians - offsetRadians) / scale }
}

/// The newest reference sample a source holds, as the control loop reads it once per cycle.
/// Plain values only (it crosses threads through a sequence lock). `samplesReceived == 0`: none yet.
public struct ReferenceSample: Sendable, Equatable, BitwiseCopyable {
    /// The source's frame counter of this sample.
    public var frameCounter: UInt32 = 0
    /// When the host received it (host monotonic clock).
    public var receivedAt = MonotonicInstant.zero
    /// How old the sample already was when the source sent it [ns] (its own processing latency).
    public var sourceLatencyNanoseconds: Int64 = 0
    /// The source's frame period [ns].
    public var framePeriodNanoseconds: Int64 = 0
    public var positionRadians = 0.0
    /// False when the source lost its tool or limb (out of view, disabled).
    public var toolVisible = false
    /// Consecutive frames that arrived with this same frame counter (bytes arrive, the counter does not move).
    public var repeatedFrames: Int32 = 0
    /// The source's own fit error [mm] (0 for an encoder).
    public var rmsErrorMillimeters = 0.0
    /// Frames accepted since the source started.
    public var samplesReceived: Int64 = 0

    public init() {}

    /// Three repeats of one counter while frames keep coming: a frozen source.
    public static let frozenAfterRepeats: Int32 = 3

    /// SR-15's view of this sample at `now`; nil while nothing has arrived.
    public func trackerStatus(at now: MonotonicInstant) -> TrackerStatus? {
        guard samplesReceived > 0 else { return nil }
        return TrackerStatus(
            sampleAgeNanoseconds: now.nanoseconds(since: receivedAt) + sourceLatencyNanoseconds,
            framePeriodNanoseconds: framePeriodNanoseconds, toolVisible: toolVisible,
            frameCounterFrozen: repeatedFrames >= Self.frozenAfterRepeats, rmsErrorMillimeters: rmsErrorMillimeters)
    }
}

/// Where mirror mode's reference comes from. Read by the control thread once per cycle, and once
/// more by the rehearsal before it: an implementation takes no lock that a writer could hold,
/// allocates nothing, and a read changes nothing.
public protocol ReferenceSource: AnyObject, Sendable {
    /// The newest sample the host holds at `now` (a real source ignores `now`; a simulated one
    /// computes what would have arrived by then).
    func latestSample(at now: MonotonicInstant) -> ReferenceSample
}

/// The mirror target, cycle by cycle: the mapped reference extrapolated over its age (at most two
/// frames) so that a 100 Hz source gives a smooth 1 kHz target, clamped into the range and moved
/// toward at no more than the mode's speed. Pure: time and samples are given.
public struct MirrorFollower: Sendable {
    public let mirror: Mirror
    public private(set) var positionRadians: Double
    public private(set) var velocityRadiansPerSecond = 0.0
    private var lastCounter: UInt32?
    private var lastMapped = 0.0
    private var referenceVelocity = 0.0

    /// Starts at the joint's measured position: the target moves from there, not from the reference.
    public init(mirror: Mirror, startPositionRadians: Double) {
        self.mirror = mirror
        positionRadians = startPositionRadians
    }

    /// Restarts from `positionRadians` (a resume after a pause), keeping what it learnt of the source.
    public mutating func restart(atRadians positionRadians: Double) {
        self.positionRadians = positionRadians
        velocityRadiansPerSecond = 0
    }

    /// One cycle: moves the target toward `sample` (a hidden or missing sample holds it).
    public mutating func follow(_ sample: ReferenceSample, now: MonotonicInstant, range: ClosedRange<Double>, periodSeconds: Double) {
        guard sample.samplesReceived > 0, sample.toolVisible, sample.positionRadians.isFinite else {
            velocityRadiansPerSecond = 0
            return
        }
        let mapped = mirror.mapped(sample.positionRadians)
        let framePeriodSeconds = Double(sample.framePeriodNanoseconds) * 1e-9
        if sample.frameCounter != lastCounter {
            if let last = lastCounter {
                let frames = Double(sample.frameCounter &- last)
                let raw = (mapped - lastMapped) / max(frames * framePeriodSeconds, 1e-4)
                // Light smoothing: a tracker's quantisation noise must not become a velocity target.
                referenceVelocity += 0.5 * (raw - referenceVelocity)
                if !referenceVelocity.isFinite { referenceVelocity = 0 }
            }
            lastCounter = sample.frameCounter
            lastMapped = mapped
        }
        let ageSeconds = min(max(0, Double(now.nanoseconds(since: sample.receivedAt) + sample.sourceLatencyNanoseconds) * 1e-9),
                             2 * framePeriodSeconds)
        let desired = min(max(mapped + referenceVelocity * ageSeconds, range.lowerBound), range.upperBound)
        let largestStep = mirror.maximumSpeedRadiansPerSecond * periodSeconds
        let step = min(max(desired - positionRadians, -largestStep), largestStep)
        positionRadians += step
        velocityRadiansPerSecond = step / periodSeconds
    }
}
