import Control
import DeviceModel
import Glibc
import Primitives

/// A patient's limb in the robot, as the torque it puts on each joint: voluntary effort that
/// follows an intent, passive tissue stiffness, spasticity with a catch, tremor and fatigue.
///
/// The intent is the exercise's cue (what the therapist or the screen shows: a minimum-jerk plan)
/// seen `reactionDelaySeconds` late. The cue keeps the plan's clock: it stands still while the host
/// holds the exercise (`holdCue(at:)`, `resumeCue(at:plan:)`), as the screen does, so the patient waits
/// rather than pushing against a held robot for the whole hold; and it moves on along the plan the
/// host made as it moved on, which the screen then shows. The voluntary torque pulls toward it like a muscle with
/// stiffness and damping, scaled by effort and fatigue and limited by strength. Pure: time is given.
public struct SimulatedPatient: Sendable {
    /// What a patient is like; the presets are documented in simulators/README.md.
    public struct Parameters: Sendable, Equatable {
        /// Fraction of the voluntary capacity the patient brings (0: none, 1: healthy).
        public var effort: Double
        public var reactionDelaySeconds: Double
        /// How hard the patient pulls toward the intent [N·m/rad] and damps toward its speed [N·m·s/rad].
        public var voluntaryStiffnessNewtonMetersPerRadian: Double
        public var voluntaryDampingNewtonMeterSecondsPerRadian: Double
        public var maximumVoluntaryTorqueNewtonMeters: Double
        /// Tissue around neutral.
        public var passiveStiffnessNewtonMetersPerRadian: Double
        public var passiveDampingNewtonMeterSecondsPerRadian: Double
        /// Spasticity: resistance proportional to the speed above the threshold [N·m·s/rad] …
        public var spasticityGainNewtonMeterSecondsPerRadian: Double
        public var spasticityThresholdRadiansPerSecond: Double
        /// … and a catch: a burst of resistance when the speed first crosses it, decaying over 150 ms.
        public var catchTorqueNewtonMeters: Double
        public var tremorAmplitudeNewtonMeters: Double
        public var tremorFrequencyHertz: Double
        /// Effort lost per completed repetition (0.03: 3 %), down to 30 % of the start.
        public var fatiguePerRepetition: Double

        public static let healthy = Parameters(
            effort: 1, reactionDelaySeconds: 0.02, voluntaryStiffnessNewtonMetersPerRadian: 8,
            voluntaryDampingNewtonMeterSecondsPerRadian: 0.25, maximumVoluntaryTorqueNewtonMeters: 2.0,
            passiveStiffnessNewtonMetersPerRadian: 0.2, passiveDampingNewtonMeterSecondsPerRadian: 0.01,
            spasticityGainNewtonMeterSecondsPerRadian: 0, spasticityThresholdRadiansPerSecond: 10, catchTorqueNewtonMeters: 0,
            tremorAmplitudeNewtonMeters: 0, tremorFrequencyHertz: 0, fatiguePerRepetition: 0.005)
        public static let strokeMild = Parameters(
            effort: 0.6, reactionDelaySeconds: 0.25, voluntaryStiffnessNewtonMetersPerRadian: 6,
            voluntaryDampingNewtonMeterSecondsPerRadian: 0.2, maximumVoluntaryTorqueNewtonMeters: 1.0,
            passiveStiffnessNewtonMetersPerRadian: 0.6, passiveDampingNewtonMeterSecondsPerRadian: 0.03,
            spasticityGainNewtonMeterSecondsPerRadian: 0.3, spasticityThresholdRadiansPerSecond: 0.8, catchTorqueNewtonMeters: 0.3,
            tremorAmplitudeNewtonMeters: 0.05, tremorFrequencyHertz: 5, fatiguePerRepetition: 0.02)
        public static let strokeSevere = Parameters(
            effort: 0.15, reactionDelaySeconds: 0.4, voluntaryStiffnessNewtonMetersPerRadian: 4,
            voluntaryDampingNewtonMeterSecondsPerRadian: 0.1, maximumVoluntaryTorqueNewtonMeters: 0.4,
            passiveStiffnessNewtonMetersPerRadian: 2.0, passiveDampingNewtonMeterSecondsPerRadian: 0.05,
            spasticityGainNewtonMeterSecondsPerRadian: 1.0, spasticityThresholdRadiansPerSecond: 0.5, catchTorqueNewtonMeters: 0.8,
            tremorAmplitudeNewtonMeters: 0.1, tremorFrequencyHertz: 4, fatiguePerRepetition: 0.04)
        public static let passive = Parameters(
            effort: 0, reactionDelaySeconds: 0, voluntaryStiffnessNewtonMetersPerRadian: 0,
            voluntaryDampingNewtonMeterSecondsPerRadian: 0, maximumVoluntaryTorqueNewtonMeters: 0,
            passiveStiffnessNewtonMetersPerRadian: 0.3, passiveDampingNewtonMeterSecondsPerRadian: 0.02,
            spasticityGainNewtonMeterSecondsPerRadian: 0, spasticityThresholdRadiansPerSecond: 10, catchTorqueNewtonMeters: 0,
            tremorAmplitudeNewtonMeters: 0, tremorFrequencyHertz: 0, fatiguePerRepetition: 0)

        /// The presets by the names `--patient` takes.
        public static let presets: [(name: String, parameters: Parameters)] = [
            ("healthy", .healthy), ("stroke-mild", .strokeMild), ("stroke-severe", .strokeSevere), ("passive", .passive),
        ]

        public static func preset(named name: String) -> Parameters? {
            presets.first { $0.name == name }?.parameters
        }
    }

    /// The torque the patient puts on each joint, split by where it comes from [N·m].
    public struct Torques: Sendable, Equatable {
        public var voluntary = 0.0
        public var passive = 0.0
        public var spastic = 0.0
        public var tremor = 0.0
        public var total: Double { voluntary + passive + spastic + tremor }
    }

    public var parameters: Parameters
    /// The cue the patient follows; its time 0 is `cueStart`.
    private var cue: WaypointTrajectory
    /// The exercise the cue is the plan of: the host's plans after a hold are made from it again (nil: the cue stays).
    private let exercise: RangeOfMotionExercise?
    public private(set) var cueStart: MonotonicInstant?
    /// Since when the cue stands still (nil: it runs), and how long it stood still before.
    private var cueHeldSince: MonotonicInstant?
    private var cueHeldSeconds = 0.0
    private var intent: TrajectorySample
    private var aboveThreshold: [Bool]
    private var catchStart: [MonotonicInstant?]
    private var upperReached: [Bool]
    /// Repetitions of the cue the patient has done (for fatigue).
    public private(set) var repetitions = 0
    /// Where the cue's swing ends are (fatigue counts upper → lower as one repetition).
    private let cueJoint: Int
    private let cueUpperRadians: Double
    private let cueLowerRadians: Double

    /// A patient following `cue` (the plan of `exercise`, when given) on `cueJoint`, whose range is
    /// `cueRange`; the other joints are only held by the patient's tissue.
    public init(parameters: Parameters, cue: WaypointTrajectory, cueJoint: Int, cueRange: ClosedRange<Double>, exercise: RangeOfMotionExercise? = nil) {
        self.parameters = parameters
        self.cue = cue
        self.exercise = exercise
        self.cueJoint = cueJoint
        cueUpperRadians = cueRange.upperBound
        cueLowerRadians = cueRange.lowerBound
        let joints = cue.start.count
        intent = TrajectorySample(jointCount: joints)
        aboveThreshold = Array(repeating: false, count: joints)
        catchStart = Array(repeating: nil, count: joints)
        upperReached = Array(repeating: false, count: joints)
    }

    /// The cue starts (the exercise begins) at `time`.
    public mutating func startCue(at time: MonotonicInstant) {
        cueStart = time
        cueHeldSince = nil
        cueHeldSeconds = 0
    }

    /// The host holds the exercise from `time` on: the cue stands still there.
    public mutating func holdCue(at time: MonotonicInstant) {
        guard cueStart != nil, cueHeldSince == nil else { return }
        cueHeldSince = time
    }

    /// The host's plan runs again from `time` on: the cue moves on from where it stood or, given the
    /// plan the host made then (and the exercise), along that plan from `time`.
    public mutating func resumeCue(at time: MonotonicInstant, plan: PlanInputs? = nil) {
        guard let since = cueHeldSince else { return }
        cueHeldSince = nil
        if let plan, var exercise, plan.startPositionsRadians.count == cue.start.count {
            exercise.repetitions = plan.repetitions
            exercise.plan(from: plan.startPositionsRadians, durationSeconds: plan.durationSeconds, into: &cue)
            cueStart = time
            cueHeldSeconds = 0
            return
        }
        cueHeldSeconds += max(0, time.seconds(since: since))
    }

    /// The cue's own time at `time` [s]: the time since its start less the time it stood still.
    private func cueSeconds(at time: MonotonicInstant, start: MonotonicInstant) -> Double {
        let now = cueHeldSince.map { min($0, time) } ?? time
        return now.seconds(since: start) - cueHeldSeconds
    }

    /// Effort left after fatigue, as a fraction of the start.
    public var fatigueFactor: Double { max(0.3, 1 - parameters.fatiguePerRepetition * Double(repetitions)) }

    /// The patient's torques on `joint` at `time`, for the limb at `position` moving at `velocity`.
    public mutating func torques(joint: Int, at time: MonotonicInstant, positionRadians position: Double,
                                 velocityRadiansPerSecond velocity: Double) -> Torques {
        let p = parameters
        var torques = Torques()
        torques.passive = -p.passiveStiffnessNewtonMetersPerRadian * position - p.passiveDampingNewtonMeterSecondsPerRadian * velocity
        if joint == cueJoint, let start = cueStart, p.effort > 0 {
            // The cue as it was a reaction time ago: a hold is seen that much later too, and then the cue
            // where it stopped. (Taking the reaction off the cue's own time froze the intent where the cue
            // had been a reaction time *before* the hold: a stroke-mild patient, 0.25 s, then pulled 0.2 N·m
            // toward an old position for as long as the hold lasted, and kept a Cat 1 stop at the plan's end
            // from standstill past SR-13's deadline: `mode-switch-during-assist` after a FAIR hold.)
            let seenAt = time.advanced(byNanoseconds: -Int64((p.reactionDelaySeconds * 1e9).rounded()))
            let seen = cueSeconds(at: seenAt, start: start)
            if seen >= 0 {
                cue.sample(at: seen, into: &intent)
                // A cue seen standing still asks for no speed.
                if let held = cueHeldSince, seenAt >= held { intent.velocities[joint] = 0 }
                let target = intent.positions[joint]
                countRepetition(target)
                let pull = p.voluntaryStiffnessNewtonMetersPerRadian * (target - position)
                    + p.voluntaryDampingNewtonMeterSecondsPerRadian * (intent.velocities[joint] - velocity)
                let strength = p.maximumVoluntaryTorqueNewtonMeters
                torques.voluntary = min(max(p.effort * fatigueFactor * pull, -strength), strength)
            }
        }
        // Before the exercise starts only the tissue acts: the start-up checks (SR-17's direction test)
        // run with the limb at rest, as a clinic runs them before the patient is strapped in.
        guard let start = cueStart, time >= start else { return torques }
        let speed = abs(velocity)
        if speed > p.spasticityThresholdRadiansPerSecond {
            let direction = velocity > 0 ? 1.0 : -1.0
            torques.spastic = -direction * p.spasticityGainNewtonMeterSecondsPerRadian * (speed - p.spasticityThresholdRadiansPerSecond)
            if !aboveThreshold[joint] {
                aboveThreshold[joint] = true
                catchStart[joint] = time
            }
            if let caught = catchStart[joint] {
                torques.spastic -= direction * p.catchTorqueNewtonMeters * exp(-time.seconds(since: caught) / 0.15)
            }
        } else if speed < 0.5 * p.spasticityThresholdRadiansPerSecond {
            // The catch re-arms once the limb has slowed down well below the threshold.
            aboveThreshold[joint] = false
            catchStart[joint] = nil
        }
        if p.tremorAmplitudeNewtonMeters > 0 {
            torques.tremor = p.tremorAmplitudeNewtonMeters * sin(2 * Double.pi * p.tremorFrequencyHertz * Double(time.nanoseconds) * 1e-9)
        }
        return torques
    }

    private mutating func countRepetition(_ target: Double) {
        let tolerance = 1e-4
        if target >= cueUpperRadians - tolerance {
            upperReached[cueJoint] = true
        } else if upperReached[cueJoint] && target <= cueLowerRadians + tolerance {
            upperReached[cueJoint] = false
            repetitions += 1
        }
    }
}
