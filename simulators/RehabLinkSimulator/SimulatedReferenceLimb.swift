import Control
import DeviceModel
import Glibc
import Primitives

/// The patient's unaffected limb in mirror therapy, as a reference source sees it: at rest until
/// the exercise's cue starts, then following the cue a reaction time late, with a little
/// physiological tremor. Its position is the reference that maps (through `Mirror`) onto the cue,
/// so a robot that mirrors it moves the affected limb along the exercise. Pure: time is given.
public struct SimulatedReferenceLimb: Sendable {
    public let mirror: Mirror
    public var reactionDelaySeconds: Double
    /// Physiological tremor of a healthy limb: amplitude [rad] at `tremorFrequencyHertz`.
    public var tremorAmplitudeRadians: Double
    public var tremorFrequencyHertz: Double
    private var cue: WaypointTrajectory
    private let joint: Int
    private var scratch: TrajectorySample
    public private(set) var cueStart: MonotonicInstant?

    /// A limb following `cue` (the exercise's plan from neutral) on `joint`.
    public init(mirror: Mirror, cue: WaypointTrajectory, joint: Int, reactionDelaySeconds: Double = 0.15,
                tremorAmplitudeRadians: Double = 0.001, tremorFrequencyHertz: Double = 9) {
        self.mirror = mirror
        self.cue = cue
        self.joint = joint
        self.reactionDelaySeconds = reactionDelaySeconds
        self.tremorAmplitudeRadians = tremorAmplitudeRadians
        self.tremorFrequencyHertz = tremorFrequencyHertz
        scratch = TrajectorySample(jointCount: cue.jointCount)
    }

    /// The exercise (and the limb's cue) starts at `time`.
    public mutating func startCue(at time: MonotonicInstant) { cueStart = time }

    /// Where the limb is at `time` [rad, in the reference's own frame].
    public mutating func positionRadians(at time: MonotonicInstant) -> Double {
        var intended = 0.0
        if let start = cueStart {
            cue.sample(at: max(0, time.seconds(since: start) - reactionDelaySeconds), into: &scratch)
            intended = scratch.positions[joint]
        }
        let tremor = tremorAmplitudeRadians * sin(2 * Double.pi * tremorFrequencyHertz * Double(time.nanoseconds) * 1e-9)
        return mirror.referencePosition(forTarget: intended) + tremor
    }
}

/// A reference stream in virtual time (`TrackerDevice`): frames of a `SimulatedReferenceLimb`
/// sent every `framePeriodNanoseconds` from `origin`, arriving `transportLatencyNanoseconds` later,
/// with the faults SR-15 must catch (the stream stops, the counter freezes, the tool is hidden,
/// the fit error grows) at set times. Single-threaded, like the virtual clock it runs on.
public final class SimulatedReferenceStream: TrackerDevice, @unchecked Sendable {
    public var limb: SimulatedReferenceLimb
    public let origin: MonotonicInstant
    public let framePeriodNanoseconds: Int64
    public var transportLatencyNanoseconds: Int64
    /// How old each sample is when sent (the source's own processing) [ns].
    public var sourceLatencyNanoseconds: Int64
    public var rmsErrorMillimeters = 0.2
    /// Faults: from these times on, no frame is sent / the counter and position freeze while frames
    /// keep coming / the tool is reported hidden / the fit error is `inaccurateRmsErrorMillimeters`.
    public var stopsAt: MonotonicInstant?
    public var freezesAt: MonotonicInstant?
    public var hidesAt: MonotonicInstant?
    public var inaccurateAt: MonotonicInstant?
    public var inaccurateRmsErrorMillimeters = 5.0

    public init(limb: SimulatedReferenceLimb, origin: MonotonicInstant, framePeriodNanoseconds: Int64 = 10_000_000,
                transportLatencyNanoseconds: Int64 = 2_000_000, sourceLatencyNanoseconds: Int64 = 3_000_000) {
        self.limb = limb
        self.origin = origin
        self.framePeriodNanoseconds = framePeriodNanoseconds
        self.transportLatencyNanoseconds = transportLatencyNanoseconds
        self.sourceLatencyNanoseconds = sourceLatencyNanoseconds
    }

    /// When frame `index` is sent.
    public func sendTime(ofFrame index: Int64) -> MonotonicInstant { origin.advanced(byNanoseconds: index * framePeriodNanoseconds) }

    public var trackerName: String { "simulated reference limb" }

    public func latestSample(at now: MonotonicInstant) -> TrackerSample {
        var sample = TrackerSample()
        let sinceOrigin = now.nanoseconds(since: origin) - transportLatencyNanoseconds
        guard sinceOrigin >= 0 else { return sample }
        var newest = sinceOrigin / framePeriodNanoseconds
        if let stopsAt {
            // The last frame sent before the stream stopped.
            let lastSent = (stopsAt.nanoseconds(since: origin) - 1) / framePeriodNanoseconds
            guard lastSent >= 0 else { return sample }
            newest = min(newest, lastSent)
        }
        var content = newest
        if let freezesAt, sendTime(ofFrame: newest) >= freezesAt {
            content = max(0, (freezesAt.nanoseconds(since: origin) - 1) / framePeriodNanoseconds)
            sample.repeatedFrames = Int32(clamping: newest - content)
        }
        let sent = sendTime(ofFrame: content)
        sample.frameCounter = UInt32(truncatingIfNeeded: content)
        sample.receivedAt = sendTime(ofFrame: newest).advanced(byNanoseconds: transportLatencyNanoseconds)
        sample.sourceLatencyNanoseconds = sourceLatencyNanoseconds
        sample.framePeriodNanoseconds = framePeriodNanoseconds
        sample.positionRadians = limb.positionRadians(at: sent.advanced(byNanoseconds: -sourceLatencyNanoseconds))
        sample.toolVisible = hidesAt.map { sendTime(ofFrame: newest) < $0 } ?? true
        sample.rmsErrorMillimeters = inaccurateAt.map { sendTime(ofFrame: newest) >= $0 } == true ? inaccurateRmsErrorMillimeters : rmsErrorMillimeters
        sample.samplesReceived = newest + 1
        return sample
    }
}
