import Glibc
import Primitives
import RehabLinkSimulator

/// The limb segment a simulated tracker is strapped to, as one angle over time [rad]: what the sensor turns with.
///
/// Either a slow sinusoidal swing (the default: ±20° at 0.2 Hz, a limb moving on its own, independent of any
/// exercise), or the patient's unaffected limb following the exercise's cue (`SimulatedReferenceLimb`, the reference
/// of mirror therapy), which rests until `startCue(at:)`. Pure: time is given; nothing is allocated after set-up (the
/// reference limb samples its cue into storage it already has).
public struct TrackerLimbMotion: Sendable {
    /// The limb's angle and its first two derivatives at one instant.
    public struct State: Sendable, Equatable {
        public var angleRadians: Double
        public var velocityRadiansPerSecond: Double
        public var accelerationRadiansPerSecondSquared: Double

        public init(angleRadians: Double, velocityRadiansPerSecond: Double, accelerationRadiansPerSecondSquared: Double) {
            self.angleRadians = angleRadians
            self.velocityRadiansPerSecond = velocityRadiansPerSecond
            self.accelerationRadiansPerSecondSquared = accelerationRadiansPerSecondSquared
        }
    }

    /// The swing's half range [rad] (0 for a reference limb).
    public let amplitudeRadians: Double
    /// The swing's frequency [Hz].
    public let frequencyHertz: Double
    /// The angle the swing is centred on [rad].
    public let centerRadians: Double
    /// The swing's phase is 0 (at its centre, moving positive) at this instant.
    public private(set) var origin: MonotonicInstant
    // Stored (not an enum payload) so that sampling mutates the limb in place: its cue keeps a cursor.
    private var reference: SimulatedReferenceLimb?

    /// The step of the central differences that give a reference limb's velocity and acceleration [s]: short against
    /// its fastest component (the 9 Hz tremor, 111 ms) and long enough for the differences to stay exact to ~1e-6.
    static let differenceStepSeconds = 0.001

    /// A sinusoidal swing: `centerRadians + amplitudeRadians · sin(2π · frequencyHertz · (t − origin))`.
    public static func swing(
        amplitudeRadians: Double = 20 * Double.pi / 180, frequencyHertz: Double = 0.2, centerRadians: Double = 0,
        origin: MonotonicInstant = .zero
    ) -> TrackerLimbMotion {
        TrackerLimbMotion(
            amplitudeRadians: amplitudeRadians, frequencyHertz: frequencyHertz, centerRadians: centerRadians, origin: origin,
            reference: nil)
    }

    /// A limb that does not move, at `angleRadians`.
    public static func resting(atRadians angleRadians: Double = 0) -> TrackerLimbMotion {
        swing(amplitudeRadians: 0, frequencyHertz: 0, centerRadians: angleRadians)
    }

    /// The patient's unaffected limb (`SimulatedReferenceLimb`): at rest until its cue starts (`startCue(at:)`), then
    /// following the exercise a reaction time late, with its physiological tremor. The angle is the limb's own (the
    /// reference frame of the mirror mapping).
    public static func following(_ limb: SimulatedReferenceLimb) -> TrackerLimbMotion {
        TrackerLimbMotion(amplitudeRadians: 0, frequencyHertz: 0, centerRadians: 0, origin: .zero, reference: limb)
    }

    private init(
        amplitudeRadians: Double, frequencyHertz: Double, centerRadians: Double, origin: MonotonicInstant,
        reference: SimulatedReferenceLimb?
    ) {
        self.amplitudeRadians = amplitudeRadians
        self.frequencyHertz = frequencyHertz
        self.centerRadians = centerRadians
        self.origin = origin
        self.reference = reference
    }

    /// True when the limb follows an exercise's cue.
    public var followsCue: Bool { reference != nil }

    /// When the reference limb's cue started (nil: not yet, or a swing).
    public var cueStart: MonotonicInstant? { reference?.cueStart }

    /// The exercise's cue begins at `start`: a reference limb follows the cue from then on; a swing
    /// that has not begun yet (`swingAfterCue`) begins then.
    public mutating func startCue(at start: MonotonicInstant) {
        if reference != nil {
            reference?.startCue(at: start)
        } else if origin == Self.waitingForCue {
            origin = start
        }
    }

    /// A swing that holds still at its centre until an exercise's cue starts it (rehabsim's tracker
    /// without a mirror exercise: still while the host takes the neutral pose, moving during the session).
    public static func swingAfterCue(amplitudeRadians: Double = 20 * Double.pi / 180, frequencyHertz: Double = 0.2) -> TrackerLimbMotion {
        swing(amplitudeRadians: amplitudeRadians, frequencyHertz: frequencyHertz, origin: waitingForCue)
    }

    /// The origin of a swing still waiting for its cue.
    static let waitingForCue = MonotonicInstant(nanoseconds: Int64.max)

    /// Everything wrong with it, one line each; empty when a tracker can carry it.
    public var problems: [String] {
        var list: [String] = []
        if !(amplitudeRadians.isFinite && amplitudeRadians >= 0 && amplitudeRadians <= Double.pi) {
            list.append("the swing's amplitude must be 0 … π rad")
        }
        if !(frequencyHertz.isFinite && frequencyHertz >= 0 && frequencyHertz <= 10) {
            list.append("the swing's frequency must be 0 … 10 Hz")
        }
        if !centerRadians.isFinite { list.append("the swing's centre must be finite") }
        return list
    }

    /// The limb's angle at `time` [rad].
    public mutating func angleRadians(at time: MonotonicInstant) -> Double {
        if reference != nil { return reference!.positionRadians(at: time) }
        // Still at the centre until the swing's origin (time for a host to take the neutral pose).
        guard time >= origin else { return centerRadians }
        return centerRadians + amplitudeRadians * sin(phaseRadians(at: time))
    }

    /// The limb's angle, angular velocity and angular acceleration at `time`: exact for a swing, central differences
    /// (`differenceStepSeconds`) of the angle for a reference limb.
    public mutating func state(at time: MonotonicInstant) -> State {
        if reference != nil {
            let stepNanoseconds = Int64(Self.differenceStepSeconds * 1e9)
            let h = Double(stepNanoseconds) * 1e-9
            // In time order: the cue's cursor walks forward cheaply (going back restarts it from the first move).
            let before = reference!.positionRadians(at: time.advanced(byNanoseconds: -stepNanoseconds))
            let angle = reference!.positionRadians(at: time)
            let after = reference!.positionRadians(at: time.advanced(byNanoseconds: stepNanoseconds))
            return State(
                angleRadians: angle, velocityRadiansPerSecond: (after - before) / (2 * h),
                accelerationRadiansPerSecondSquared: (after - 2 * angle + before) / (h * h))
        }
        guard time >= origin else { return State(angleRadians: centerRadians, velocityRadiansPerSecond: 0, accelerationRadiansPerSecondSquared: 0) }
        let phase = phaseRadians(at: time)
        let omega = 2 * Double.pi * frequencyHertz
        return State(
            angleRadians: centerRadians + amplitudeRadians * sin(phase),
            velocityRadiansPerSecond: amplitudeRadians * omega * cos(phase),
            accelerationRadiansPerSecondSquared: -amplitudeRadians * omega * omega * sin(phase))
    }

    private func phaseRadians(at time: MonotonicInstant) -> Double {
        // The fraction of the current cycle: sin gets a small argument however long the run.
        guard frequencyHertz > 0 else { return 0 }
        let seconds = time.seconds(since: origin)
        let cycles = seconds * frequencyHertz
        return 2 * Double.pi * (cycles - cycles.rounded(.down))
    }
}
