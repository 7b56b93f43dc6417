import Control

/// One thing a scenario must show (`expect[N]`): each is checked against what the run observed
/// (`ScenarioObservation`) by `ScenarioEvaluator`.
public struct Expectation: Sendable, Equatable {
    public var index: Int
    /// How later expectations (`after`) and the report name it.
    public var label: String?
    /// The targets it applies to (nil: every target); elsewhere it is reported as not applicable.
    public var onlyOn: Set<ScenarioTarget>?
    public var kind: Kind

    public init(index: Int, label: String? = nil, onlyOn: Set<ScenarioTarget>? = nil, kind: Kind) {
        self.index = index
        self.label = label
        self.onlyOn = onlyOn
        self.kind = kind
    }

    public enum Kind: Sendable, Equatable {
        /// A supervisor transition, in a window after a reference, possibly the first safety event there.
        case event(EventExpectation)
        /// No matching transition in a window.
        case noEvent(TransitionMatcher, EventWindow)
        /// No safety event (a stop into `fault` or `estop` with a category) in a window.
        case noSafetyEvent(EventWindow)
        /// The supervisor's state when the run ended: one of these.
        case finalState([SupervisorState])
        case metric(MetricExpectation)
        case linkQuality(LinkQualityExpectation)
        /// Torque off (commanded by the host, or reported by the device) within a deadline of a reference.
        case torqueOff(TorqueOffExpectation)
        /// An event the device recorded (simulators: its event log), possibly within a deadline.
        case deviceEvent(DeviceEventExpectation)
        /// No such device event in a window.
        case noDeviceEvent(name: String, joint: Int?, window: EventWindow)
        /// The session refused to start, with a reason.
        case refusedAtSetup(SetupRefusalExpectation)
        /// How a timeline request was answered (a reset refused while the cause persists, a mode accepted).
        case actionOutcome(ActionOutcomeExpectation)
        /// SR-19: a black-box file was written (for a trigger with this cause), or none was.
        case blackBox(written: Bool, cause: SafetyCause?)

        /// The key in the file.
        public var name: String {
            switch self {
            case .event: "event"
            case .noEvent: "no_event"
            case .noSafetyEvent: "no_safety_event"
            case .finalState: "final_state"
            case .metric: "metric"
            case .linkQuality: "link_quality"
            case .torqueOff: "torque_off"
            case .deviceEvent: "device_event"
            case .noDeviceEvent: "no_device_event"
            case .refusedAtSetup: "refused_at_setup"
            case .actionOutcome: "action_outcome"
            case .blackBox: "black_box"
            }
        }

        /// Every kind's key, in the order the README lists them.
        public static let names = [
            "event", "no_event", "no_safety_event", "final_state", "metric", "link_quality", "torque_off", "device_event", "no_device_event",
            "refused_at_setup", "action_outcome", "black_box",
        ]
    }
}

/// Which supervisor transitions match: every given field must agree.
public struct TransitionMatcher: Sendable, Equatable {
    public var to: SupervisorState?
    public var from: SupervisorState?
    /// Any of these causes (empty: any cause).
    public var causes: [SafetyCause]
    /// The cause's requirement (`SafetyCause.requirement`).
    public var requirement: RequirementID?
    public var category: StopCategory?
    public var joint: Int?
    /// Bounds on the transition's value, in its cause's unit (`valueUnit`, named in the file's key).
    public var valueMinimum: Double?
    public var valueMaximum: Double?
    /// The unit the bounds are in ("deg", "ms", "rad/s", …), for messages.
    public var valueUnit: String?

    public init(
        to: SupervisorState? = nil, from: SupervisorState? = nil, causes: [SafetyCause] = [], requirement: RequirementID? = nil,
        category: StopCategory? = nil, joint: Int? = nil, valueMinimum: Double? = nil, valueMaximum: Double? = nil, valueUnit: String? = nil
    ) {
        self.to = to
        self.from = from
        self.causes = causes
        self.requirement = requirement
        self.category = category
        self.joint = joint
        self.valueMinimum = valueMinimum
        self.valueMaximum = valueMaximum
        self.valueUnit = valueUnit
    }

    /// Whether `transition` matches every field given.
    public func matches(_ transition: ObservedTransition) -> Bool {
        if let to, transition.to != to { return false }
        // A state the supervisor stays in (SR-1's grade changes are logged as active → active) is no
        // transition *to* it, unless the expectation names that cause: "never active again after the
        // e-stop" must not fail on a link restored while nothing restarted (seen on a rig).
        if to != nil, from == nil, causes.isEmpty, transition.from == transition.to { return false }
        if let from, transition.from != from { return false }
        if !causes.isEmpty && !causes.contains(transition.cause) { return false }
        if let requirement, transition.cause.requirement != requirement.description { return false }
        if let category, transition.category != category { return false }
        if let joint, transition.joint != joint { return false }
        if let valueMinimum, !(transition.value >= valueMinimum) { return false }
        if let valueMaximum, !(transition.value <= valueMaximum) { return false }
        return true
    }

    /// "a transition to estop, cause operator_estop (SR-12), Cat 0"
    public var summary: String {
        var parts: [String] = []
        if let to { parts.append("to \(to.rawValue)") }
        if let from { parts.append("from \(from.rawValue)") }
        var text = parts.isEmpty ? "a transition" : "a transition " + parts.joined(separator: " ")
        if causes.count == 1 {
            text += ", cause \(causes[0].rawValue)"
        } else if !causes.isEmpty {
            text += ", cause " + causes.map(\.rawValue).joined(separator: " or ")
        }
        if let requirement { text += " (\(requirement))" }
        if let category { text += ", \(category)" }
        if let joint { text += ", joint \(joint)" }
        let unit = valueUnit.map { " " + $0 } ?? ""
        switch (valueMinimum, valueMaximum) {
        case (let low?, let high?): text += ", value \(ScenarioText.number(low)) … \(ScenarioText.number(high))\(unit)"
        case (let low?, nil): text += ", value ≥ \(ScenarioText.number(low))\(unit)"
        case (nil, let high?): text += ", value ≤ \(ScenarioText.number(high))\(unit)"
        case (nil, nil): break
        }
        return text
    }
}

/// `event`: a matching transition at or after `after`, within `withinMilliseconds` of it and not
/// before `notBeforeMilliseconds`; with `first`, it must be the first safety event from `after` on.
public struct EventExpectation: Sendable, Equatable {
    public var matcher: TransitionMatcher
    /// nil: any time (the set-up included).
    public var after: ScenarioReference?
    public var withinMilliseconds: Double?
    public var notBeforeMilliseconds: Double?
    public var first: Bool

    public init(matcher: TransitionMatcher, after: ScenarioReference? = nil, withinMilliseconds: Double? = nil,
                notBeforeMilliseconds: Double? = nil, first: Bool = false) {
        self.matcher = matcher
        self.after = after
        self.withinMilliseconds = withinMilliseconds
        self.notBeforeMilliseconds = notBeforeMilliseconds
        self.first = first
    }
}

/// A stretch of the run: from `after` (or `fromMilliseconds` of the loop's time) up to `before` (or
/// `toMilliseconds`); every bound given applies; none: the whole run, set-up included.
public struct EventWindow: Sendable, Equatable {
    public var after: ScenarioReference?
    public var before: ScenarioReference?
    public var fromMilliseconds: Double?
    public var toMilliseconds: Double?

    public init(after: ScenarioReference? = nil, before: ScenarioReference? = nil, fromMilliseconds: Double? = nil, toMilliseconds: Double? = nil) {
        self.after = after
        self.before = before
        self.fromMilliseconds = fromMilliseconds
        self.toMilliseconds = toMilliseconds
    }

    public static let wholeRun = EventWindow()
}

/// `metric`: a number of the run's exercise metrics (the session report's `metrics`) within bounds,
/// in the unit its name carries.
public struct MetricExpectation: Sendable, Equatable {
    /// "rom_deg", "peak_torque_nm", "time_in_state_s.paused", "link_quality.fair_episodes", …
    public var name: String
    /// For a per-joint metric, the joint by name (nil: the exercised joint).
    public var joint: String?
    public var minimum: Double?
    public var maximum: Double?

    public init(name: String, joint: String? = nil, minimum: Double? = nil, maximum: Double? = nil) {
        self.name = name
        self.joint = joint
        self.minimum = minimum
        self.maximum = maximum
    }
}

/// `link_quality`: SR-1's time in a grade and its episodes, within bounds.
public struct LinkQualityExpectation: Sendable, Equatable {
    public var grade: LinkGrade
    public var minimumSeconds: Double?
    public var maximumSeconds: Double?
    /// Episodes (FAIR and POOR only).
    public var minimumEpisodes: Int?
    public var maximumEpisodes: Int?

    public init(grade: LinkGrade, minimumSeconds: Double? = nil, maximumSeconds: Double? = nil, minimumEpisodes: Int? = nil, maximumEpisodes: Int? = nil) {
        self.grade = grade
        self.minimumSeconds = minimumSeconds
        self.maximumSeconds = maximumSeconds
        self.minimumEpisodes = minimumEpisodes
        self.maximumEpisodes = maximumEpisodes
    }
}

/// Whose word a torque off is taken on.
public enum TorqueOffEvidence: String, Sendable, Equatable, CaseIterable {
    /// The host's: the first cycle whose command to the device was torque off (every target).
    case command
    /// The device's: its own record of torque off (a simulator's event log).
    case device
}

/// `torque_off`: torque off within `withinMilliseconds` of `after`.
public struct TorqueOffExpectation: Sendable, Equatable {
    public var after: ScenarioReference
    public var withinMilliseconds: Double
    public var evidence: TorqueOffEvidence

    public init(after: ScenarioReference, withinMilliseconds: Double, evidence: TorqueOffEvidence = .command) {
        self.after = after
        self.withinMilliseconds = withinMilliseconds
        self.evidence = evidence
    }
}

/// `device_event`: the device recorded `name` (for `joint`), at or after `after`, within the deadline.
public struct DeviceEventExpectation: Sendable, Equatable {
    public var name: String
    public var joint: Int?
    public var after: ScenarioReference?
    public var withinMilliseconds: Double?
    public var notBeforeMilliseconds: Double?

    public init(name: String, joint: Int? = nil, after: ScenarioReference? = nil, withinMilliseconds: Double? = nil,
                notBeforeMilliseconds: Double? = nil) {
        self.name = name
        self.joint = joint
        self.after = after
        self.withinMilliseconds = withinMilliseconds
        self.notBeforeMilliseconds = notBeforeMilliseconds
    }

    /// The events a simulated robot records (simulators/README.md, `--events`): RehabLink's and the Dynamixel bus's.
    public static let knownNames = [
        "enable", "disable", "watchdog_stop", "estop", "estop_released", "fault", "fault_reset", "torque_on", "torque_off", "fault_injected",
        "fault_injection_ended", "local_hold", "local_hold_ended", "patient_stop", "patient_stop_released", "patient_pause",
        "patient_pause_released",
    ]
}

/// `refused_at_setup`: the session did not start.
public struct SetupRefusalExpectation: Sendable, Equatable {
    /// Each must be in the reason (empty: any reason).
    public var reasonContains: [String]
    /// The exit code `rehabctl run` gives for it (nil: not checked).
    public var exitCode: Int?
    /// The device was never enabled (nil: not checked).
    public var neverEnabled: Bool?
    /// The device was left disabled (nil: not checked).
    public var leftDisabled: Bool?

    public init(reasonContains: [String] = [], exitCode: Int? = nil, neverEnabled: Bool? = nil, leftDisabled: Bool? = nil) {
        self.reasonContains = reasonContains
        self.exitCode = exitCode
        self.neverEnabled = neverEnabled
        self.leftDisabled = leftDisabled
    }
}

/// `action_outcome`: how the session answered a timeline request.
public struct ActionOutcomeExpectation: Sendable, Equatable {
    /// The timeline entry (`.timeline(N)`).
    public var action: ScenarioReference
    public var accepted: Bool
    /// For a refusal: each must be in its reason.
    public var reasonContains: [String]

    public init(action: ScenarioReference, accepted: Bool, reasonContains: [String] = []) {
        self.action = action
        self.accepted = accepted
        self.reasonContains = reasonContains
    }
}
