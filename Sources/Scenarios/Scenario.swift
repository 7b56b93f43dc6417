import Control
import StrictJSON

/// One scenario file (`hardware/scenarios/*.json`, format `rehabhost-scenario/1`,
/// hardware/scenarios/README.md): a robot, an exercise, a simulated patient, what happens when
/// (operator requests, device and tracker faults, waits) and what must come of it (events with
/// their deadlines, a final state, metrics, link quality, torque off, a refusal at set-up). The
/// same file runs in virtual time, against `rehabsim` over pseudo-terminals and on a real rig.
///
/// Times are as the file gives them, in milliseconds (`atMilliseconds`, `withinMilliseconds`): the
/// runner turns them into its clock's nanoseconds. Every value has been validated by `ScenarioLoader`.
public struct Scenario: Sendable, Equatable {
    /// The value of the file's `format` key.
    public static let format = "rehabhost-scenario/1"

    public var name: String
    public var description: String
    /// The file it came from (for messages, the report and relative exercise paths).
    public var sourcePath: String
    /// The requirements the scenario proves (its tags in the safety evidence report), in file order;
    /// empty for one that proves none by itself (a therapy mode or a device kind running clean).
    public var requirements: [RequirementID]
    /// Free words to select scenarios by ("estop", "wrist", "mirror").
    public var tags: [String]
    /// The hardware profile, by name (`hardware/NAME.json`).
    public var profile: String
    public var exercise: ExerciseReference
    /// The simulated patient in the robot (nil: none, an empty robot). Simulators only: on a rig the patient is real.
    public var patient: PatientPreset?
    /// The loop rate (nil: the profile's `control.rate_hz`); a target may override it.
    public var rateHertz: Double?
    /// The session's length from the loop's start, the enable ramp included (nil: the exercise's own:
    /// the ramp plus its repetitions or its `duration_s`). Given, the exercise's plan is cut to it:
    /// its repetitions are not waited for (the runner plans swings for the time, as `rehabctl --duration`).
    public var durationSeconds: Double?
    /// After a fault or e-stop, keep the session until an operator resets it or quits (`--hold-after-fault`).
    public var holdsAfterFault: Bool
    /// SR-7: the therapist's range of motion per joint, by joint name (it may only narrow the limits).
    public var patientRanges: [JointRange]
    /// SR-20: the therapist's torque caps per joint and direction, by joint name (they may only lower the limits).
    public var patientTorqueCaps: [JointTorqueCap]
    /// Tracker profiles (`hardware/trackers/NAME.json`) read by the session, by name.
    public var trackers: [String]
    /// The tracker that drives a mirror exercise instead of a RehabRef stream (one of `trackers`).
    public var referenceTracker: String?
    /// SR-16: the tracker whose tool must stay in a box.
    public var workspace: Workspace?
    /// The robot's fault script (`rehabsim --faults`): entries with their own triggers, for faults that
    /// must be in place before the session starts (`at_ms: 0`) or count from the device's enable.
    public var faults: [FaultEntry]
    /// Per-target settings; a target not named runs with the defaults (`TargetSettings.defaults(for:)`).
    public var targets: [ScenarioTarget: TargetSettings]
    /// What happens, in time order: set-up entries first, then the loop's.
    public var timeline: [TimelineEntry]
    public var expectations: [Expectation]

    public init(
        name: String, description: String = "", sourcePath: String = "", requirements: [RequirementID], tags: [String] = [], profile: String,
        exercise: ExerciseReference, patient: PatientPreset? = nil, rateHertz: Double? = nil, durationSeconds: Double? = nil,
        holdsAfterFault: Bool = false, patientRanges: [JointRange] = [], patientTorqueCaps: [JointTorqueCap] = [], trackers: [String] = [],
        referenceTracker: String? = nil, workspace: Workspace? = nil, faults: [FaultEntry] = [], targets: [ScenarioTarget: TargetSettings] = [:],
        timeline: [TimelineEntry] = [], expectations: [Expectation]
    ) {
        self.name = name
        self.description = description
        self.sourcePath = sourcePath
        self.requirements = requirements
        self.tags = tags
        self.profile = profile
        self.exercise = exercise
        self.patient = patient
        self.rateHertz = rateHertz
        self.durationSeconds = durationSeconds
        self.holdsAfterFault = holdsAfterFault
        self.patientRanges = patientRanges
        self.patientTorqueCaps = patientTorqueCaps
        self.trackers = trackers
        self.referenceTracker = referenceTracker
        self.workspace = workspace
        self.faults = faults
        self.targets = targets
        self.timeline = timeline
        self.expectations = expectations
    }

    /// The settings for `target`: the file's, or the defaults.
    public func settings(for target: ScenarioTarget) -> TargetSettings {
        targets[target] ?? TargetSettings.defaults(for: target)
    }

    /// The robot's fault script as `rehabsim --faults` reads it (format `rehabsim-faults/1`), for the
    /// simulator's own parser (`FaultScriptParser.parse(_:sourcePath:jointCount:)`); nil without faults.
    public var faultScript: JSONObject? {
        guard !faults.isEmpty else { return nil }
        return ["format": .string(FaultEntry.scriptFormat), "faults": .array(faults.map { .object($0.entry) })]
    }

    /// The timeline entry labelled `label`.
    public func timelineEntry(labelled label: String) -> TimelineEntry? {
        timeline.first { $0.label == label }
    }

    /// How `reference` reads in messages: `timeline[2] "spasm" (device_fault external_torque at 1500 ms)`.
    public func describe(_ reference: ScenarioReference) -> String {
        switch reference {
        case .start:
            return "the loop's start"
        case .timeline(let index):
            guard timeline.indices.contains(index) else { return "timeline[\(index)]" }
            let entry = timeline[index]
            let label = entry.label.map { " \"\($0)\"" } ?? ""
            return "timeline[\(index)]\(label) (\(entry.summary))"
        case .fault(let index):
            guard faults.indices.contains(index) else { return "faults[\(index)]" }
            return "faults[\(index)] (\(faults[index].summary))"
        case .expectation(let index):
            guard expectations.indices.contains(index) else { return "expect[\(index)]" }
            let label = expectations[index].label.map { " \"\($0)\"" } ?? ""
            return "the event of expect[\(index)]\(label)"
        }
    }
}

/// Where a scenario's runs happen.
public enum ScenarioTarget: String, Sendable, Hashable, CaseIterable, Comparable, CustomStringConvertible {
    /// In process, on a virtual clock: deterministic, far faster than real time.
    case virtual
    /// `rehabsim` processes behind pseudo-terminals, in real time.
    case sim
    /// A real robot on a real port (`rehabctl scenario run --target port …`).
    case rig

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// How a scenario runs on one target (`targets.virtual`, `targets.sim`, `targets.rig`).
public struct TargetSettings: Sendable, Equatable {
    /// False: the scenario is skipped on this target, with `note` as the reason.
    public var runs: Bool
    /// The loop rate on this target (nil: the scenario's).
    public var rateHertz: Double?
    /// Added to every upper deadline (`within_ms`) on this target: real time over a pseudo-terminal
    /// adds up to a period of the rate and the host's scheduling to what virtual time measures exactly.
    public var slackMilliseconds: Double
    public var note: String?

    public init(runs: Bool = true, rateHertz: Double? = nil, slackMilliseconds: Double, note: String? = nil) {
        self.runs = runs
        self.rateHertz = rateHertz
        self.slackMilliseconds = slackMilliseconds
        self.note = note
    }

    /// The slack a target has unless the file says otherwise [ms]: none in virtual time, 5 ms in real
    /// time (one period at 200 Hz: what the PTY tests measured for an e-stop taken by the next cycle).
    public static func defaultSlackMilliseconds(for target: ScenarioTarget) -> Double {
        switch target {
        case .virtual: 0
        case .sim, .rig: 5
        }
    }

    public static func defaults(for target: ScenarioTarget) -> TargetSettings {
        TargetSettings(slackMilliseconds: defaultSlackMilliseconds(for: target))
    }
}

/// The exercise a scenario runs.
public enum ExerciseReference: Sendable, Equatable, CustomStringConvertible {
    /// An exercise of `hardware/exercises/` by name (`ExerciseLoader.resolve`).
    case named(String)
    /// A file, by the path written in the scenario (`written`) and that path taken from the scenario's folder (`path`).
    case file(written: String, path: String)

    public var description: String {
        switch self {
        case .named(let name): name
        case .file(let written, _): written
        }
    }
}

/// The simulated patients of `SimulatedPatient.Parameters.presets` (simulators/README.md), by the
/// names `rehabsim --patient` takes.
public enum PatientPreset: String, Sendable, CaseIterable {
    case healthy
    case strokeMild = "stroke-mild"
    case strokeSevere = "stroke-severe"
    case passive
}

/// SR-7: a therapist's range of motion for one joint [°].
public struct JointRange: Sendable, Equatable {
    public var joint: String
    public var minimumDegrees: Double
    public var maximumDegrees: Double

    public init(joint: String, minimumDegrees: Double, maximumDegrees: Double) {
        self.joint = joint
        self.minimumDegrees = minimumDegrees
        self.maximumDegrees = maximumDegrees
    }

    public var radians: ClosedRange<Double> { (minimumDegrees * .pi / 180)...(maximumDegrees * .pi / 180) }
}

/// SR-20: a therapist's torque caps for one joint, as magnitudes per direction [N·m].
public struct JointTorqueCap: Sendable, Equatable {
    public var joint: String
    public var positiveNewtonMeters: Double
    public var negativeNewtonMeters: Double

    public init(joint: String, positiveNewtonMeters: Double, negativeNewtonMeters: Double) {
        self.joint = joint
        self.positiveNewtonMeters = positiveNewtonMeters
        self.negativeNewtonMeters = negativeNewtonMeters
    }
}

/// SR-16: the box [m, the tracker's frame] the tool of `tracker` must stay in (+ 20 mm).
public struct Workspace: Sendable, Equatable {
    public var tracker: String
    public var minimumMeters: SIMD3<Double>
    public var maximumMeters: SIMD3<Double>

    public init(tracker: String, minimumMeters: SIMD3<Double>, maximumMeters: SIMD3<Double>) {
        self.tracker = tracker
        self.minimumMeters = minimumMeters
        self.maximumMeters = maximumMeters
    }
}

/// A time the file counts from, resolved from a label or an index when the file was loaded.
public enum ScenarioReference: Sendable, Equatable, Hashable {
    /// The loop's start (time 0; the set-up comes before it).
    case start
    /// When the timeline entry with this index was carried out.
    case timeline(Int)
    /// When the device recorded the beginning of the fault script's entry with this index (`faults[N]`).
    case fault(Int)
    /// The transition that the event expectation with this index matched.
    case expectation(Int)
}

/// What the operator (on a rig) is asked to do, and how long the runner waits for it.
public struct OperatorPrompt: Sendable, Equatable {
    public var text: String
    public var timeoutSeconds: Double

    public init(text: String, timeoutSeconds: Double) {
        self.text = text
        self.timeoutSeconds = timeoutSeconds
    }
}

/// One entry of the timeline.
public struct TimelineEntry: Sendable, Equatable {
    /// When it happens: since the set-up began (`setup_at_ms`), or since the loop's start (`at_ms`).
    public enum Phase: String, Sendable, Equatable {
        case setUp = "setup"
        case loop
    }

    public var index: Int
    public var label: String?
    public var phase: Phase
    /// Milliseconds since the phase's start; later entries are shifted by the time any `wait` before them took.
    public var atMilliseconds: Double
    public var action: TimelineAction

    public init(index: Int, label: String? = nil, phase: Phase = .loop, atMilliseconds: Double, action: TimelineAction) {
        self.index = index
        self.label = label
        self.phase = phase
        self.atMilliseconds = atMilliseconds
        self.action = action
    }

    /// "device_fault external_torque at 1500 ms", "estop at 600 ms into the set-up".
    public var summary: String {
        let time = ScenarioText.number(atMilliseconds) + " ms"
        return "\(action.summary) at " + (phase == .setUp ? time + " into the set-up" : time)
    }
}

/// What a timeline entry does.
public enum TimelineAction: Sendable, Equatable {
    /// SR-12: `rehabctl estop` (the control socket's `estop`).
    case emergencyStop
    case stop
    case pause
    case resume
    /// An operator reset of a latched fault or e-stop.
    case reset
    /// SR-18: hold-to-run `release`, held (renewed) for this long.
    case release(forMilliseconds: Double)
    /// `rehabctl mode NAME`: "exercise" (the exercise's own mode) or a therapy mode's name.
    case mode(String)
    /// A fault injected into the robot (a live injection: the entry without a trigger). On a rig, with
    /// `rigPrompt` the operator is asked to make it by hand; without, the scenario is skipped there.
    case deviceFault(FaultEntry, rigPrompt: OperatorPrompt?)
    /// A fault injected into a tracker by name, or into mirror's simulated RehabRef stream (`"reference"`).
    case trackerFault(tracker: String, FaultEntry, rigPrompt: OperatorPrompt?)
    /// On a rig: ask the operator and wait for the answer (or the timeout); elsewhere skipped.
    case operatorPrompt(OperatorPrompt)
    /// The timeline stands still until the supervisor is in `state` (later entries move by the time
    /// waited); the scenario fails if it is not within the timeout.
    case wait(state: SupervisorState, timeoutMilliseconds: Double)
    /// The host's control loop does not run for this long (a non-real-time scheduler's stall), while
    /// the device runs on: made on the virtual clock only. On real time the host's stalls are its own.
    case hostStall(forMilliseconds: Double)

    /// The name in the file.
    public var name: String {
        switch self {
        case .emergencyStop: "estop"
        case .stop: "stop"
        case .pause: "pause"
        case .resume: "resume"
        case .reset: "reset"
        case .release: "release"
        case .mode: "mode"
        case .deviceFault: "device_fault"
        case .trackerFault: "tracker_fault"
        case .operatorPrompt: "operator_prompt"
        case .wait: "wait"
        case .hostStall: "host_stall"
        }
    }

    /// Every action's name, in the order the README lists them.
    public static let names = ["estop", "stop", "pause", "resume", "reset", "release", "mode", "device_fault", "tracker_fault", "operator_prompt", "wait", "host_stall"]

    /// The actions a set-up entry (`setup_at_ms`) may have: SR-12 is honoured during the set-up; the rest need a running loop.
    public static let setUpNames = ["estop", "stop", "device_fault", "tracker_fault"]

    public var summary: String {
        switch self {
        case .release(let milliseconds): "release for \(ScenarioText.number(milliseconds)) ms"
        case .mode(let mode): "mode \(mode)"
        case .deviceFault(let fault, _): "device_fault \(fault.kind)"
        case .trackerFault(let tracker, let fault, _): "tracker_fault \(fault.kind) on \(tracker)"
        case .operatorPrompt(let prompt): "operator_prompt \"\(prompt.text)\""
        case .wait(let state, _): "wait for \(state.rawValue)"
        case .hostStall(let milliseconds): "host_stall for \(ScenarioText.number(milliseconds)) ms"
        default: name
        }
    }

    /// Whether the action injects a fault (which needs a simulator unless a rig prompt replaces it).
    public var isInjection: Bool {
        switch self {
        case .deviceFault, .trackerFault: true
        default: false
        }
    }

    /// The prompt that replaces the injection on a rig.
    public var rigPrompt: OperatorPrompt? {
        switch self {
        case .deviceFault(_, let prompt), .trackerFault(_, _, let prompt): prompt
        default: nil
        }
    }
}
