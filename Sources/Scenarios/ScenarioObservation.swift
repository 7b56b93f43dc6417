import Control
import Primitives
import StrictJSON

/// What a run of a scenario showed, as the runner fills it from the session (its report, its
/// supervisor's transitions, the commands it sent) and, where there is one, from the simulator (its
/// event log). Plain values, so that `ScenarioEvaluator` is pure and a test can make one up.
///
/// **Time**: every time is in nanoseconds relative to one origin, the loop's start (the instant
/// `TherapySession.run()` posted its start: time 0); what happened during the set-up is negative.
/// Only differences are compared, so another origin works as long as everything uses it.
///
/// **Unknown is not "none"**: a field a target cannot observe is nil (a rig has no device event log),
/// and every expectation that needs it is reported as unobservable, never as passed or failed.
public struct ScenarioObservation: Sendable, Equatable {
    public var target: ScenarioTarget
    /// The loop rate the run had.
    public var rateHertz: Double
    /// Every supervisor transition of the session, set-up included, in order.
    public var transitions: [ObservedTransition]
    /// What became of each timeline entry, by the entry's index (missing entries: not reached).
    public var actions: [ObservedAction]
    /// When the device recorded the beginning of each of the scenario's `faults` (its `fault_injected`
    /// event), by the fault's index; missing: not seen (it never began, or the target has no event log).
    public var faultInjections: [ObservedInjection]
    /// Why the session did not start (nil: it started).
    public var setUpRefusal: ObservedRefusal?
    /// The supervisor's state when the run ended.
    public var finalState: SupervisorState?
    /// Whether the device was ever enabled, and whether it was enabled when the run ended (nil: unknown).
    public var deviceEverEnabled: Bool?
    public var deviceEnabledAtEnd: Bool?
    /// SR-1's figures over the run (nil: the session did not run).
    public var linkQuality: ObservedLinkQuality?
    /// The session report's exercise metrics (`SessionReport.metrics`), `.null` when there are none.
    public var metrics: JSONValue
    /// The host's torque offs: the time of the first cycle of each stretch in which the supervisor's
    /// action was torque off (`SupervisorAction.torqueOff`: every joint commanded off, or only
    /// heartbeats to a device that took its own torque away), as that cycle's `now` — the time its
    /// transitions carry (nil: not recorded).
    public var torqueOffCommandTimes: [Int64]?
    /// The robot's own event log (a simulator's `--events`, in-process `drainEventRecords`; nil: none on this target).
    public var deviceEvents: [ObservedDeviceEvent]?
    /// SR-19: the black-box files the session wrote (nil: not known).
    public var blackBoxFiles: [String]?
    /// How long the run took in its own clock (virtual or real) [ns].
    public var elapsedNanoseconds: Int64
    /// The run could not be carried out (the simulator died, a file was missing): the scenario errs.
    public var runnerError: String?
    /// On real time: what the session measured of the host holding it up (deadlines its loop missed, a
    /// wake-up a period late, a first safety event that is a timing interlock), in words; nil: none.
    /// A failed run with one is the host's noise as much as the scenario's: `scenario run` repeats it,
    /// counted against a stated budget.
    public var hostStall: String?

    public init(
        target: ScenarioTarget, rateHertz: Double, transitions: [ObservedTransition] = [], actions: [ObservedAction] = [],
        faultInjections: [ObservedInjection] = [], setUpRefusal: ObservedRefusal? = nil, finalState: SupervisorState? = nil,
        deviceEverEnabled: Bool? = nil, deviceEnabledAtEnd: Bool? = nil, linkQuality: ObservedLinkQuality? = nil, metrics: JSONValue = .null,
        torqueOffCommandTimes: [Int64]? = nil, deviceEvents: [ObservedDeviceEvent]? = nil, blackBoxFiles: [String]? = nil,
        elapsedNanoseconds: Int64 = 0, runnerError: String? = nil
    ) {
        self.target = target
        self.rateHertz = rateHertz
        self.transitions = transitions
        self.actions = actions
        self.faultInjections = faultInjections
        self.setUpRefusal = setUpRefusal
        self.finalState = finalState
        self.deviceEverEnabled = deviceEverEnabled
        self.deviceEnabledAtEnd = deviceEnabledAtEnd
        self.linkQuality = linkQuality
        self.metrics = metrics
        self.torqueOffCommandTimes = torqueOffCommandTimes
        self.deviceEvents = deviceEvents
        self.blackBoxFiles = blackBoxFiles
        self.elapsedNanoseconds = elapsedNanoseconds
        self.runnerError = runnerError
    }

    /// The record of timeline entry `index`.
    public func action(_ index: Int) -> ObservedAction? {
        actions.first { $0.index == index }
    }

    /// The transitions that stopped motion for a safety reason, as `SessionReport.safetyEvents` counts them.
    public var safetyEvents: [ObservedTransition] {
        transitions.filter(\.isSafetyEvent)
    }

    /// Why a timeline entry was not reached: the session had ended, and what stopped it first.
    public var sessionEndedNote: String {
        "the session had ended" + (safetyEvents.first.map { "; its first safety event: " + $0.summary } ?? "")
    }
}

/// One supervisor transition, its time relative to the observation's origin.
public struct ObservedTransition: Sendable, Equatable {
    /// The loop's cycle; `SupervisorTransition.setUpCycle` for a transition of the set-up.
    public var cycle: Int64
    public var timeNanoseconds: Int64
    public var from: SupervisorState
    public var to: SupervisorState
    public var cause: SafetyCause
    public var category: StopCategory?
    /// The value behind the cause, in `cause.valueUnit`.
    public var value: Double
    public var deviceCode: UInt32
    public var joint: Int?

    public init(
        cycle: Int64, timeNanoseconds: Int64, from: SupervisorState, to: SupervisorState, cause: SafetyCause, category: StopCategory? = nil,
        value: Double = 0, deviceCode: UInt32 = 0, joint: Int? = nil
    ) {
        self.cycle = cycle
        self.timeNanoseconds = timeNanoseconds
        self.from = from
        self.to = to
        self.cause = cause
        self.category = category
        self.value = value
        self.deviceCode = deviceCode
        self.joint = joint
    }

    /// The session's transition, its time taken from `origin` (the loop's start).
    public init(_ transition: SupervisorTransition, origin: MonotonicInstant) {
        self.init(
            cycle: transition.cycle, timeNanoseconds: transition.time.nanoseconds(since: origin), from: transition.from, to: transition.to,
            cause: transition.cause, category: transition.category, value: transition.value, deviceCode: transition.deviceCode,
            joint: transition.joint)
    }

    /// A stop into `fault` or `estop` that carries a category (not a release or a grade change logged while latched).
    public var isSafetyEvent: Bool {
        (to == .fault || to == .estop) && category != nil
    }

    /// "active → estop, operator_estop (SR-12), Cat 0, at 3000.4 ms (cycle 3001)"
    public var summary: String {
        var text = "\(from.rawValue) → \(to.rawValue), \(cause.rawValue)"
        if !cause.requirement.isEmpty { text += " (\(cause.requirement))" }
        if let category { text += ", \(category)" }
        if let joint { text += ", joint \(joint)" }
        if value != 0 { text += ", value \(ScenarioText.number(value))" + (cause.valueUnit.isEmpty ? "" : " " + cause.valueUnit) }
        if deviceCode != 0 { text += ", device code 0x" + String(deviceCode, radix: 16) }
        let when = cycle == SupervisorTransition.setUpCycle ? "during the set-up" : "cycle \(cycle)"
        return text + ", at \(ScenarioText.milliseconds(timeNanoseconds)) ms (\(when))"
    }
}

/// What became of one timeline entry.
public struct ObservedAction: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// Carried out (a request posted, a fault injected, a wait that ended).
        case performed
        /// On a rig: done by hand after a prompt; `timeNanoseconds` is when the prompt was shown.
        case prompted
        /// Not carried out, and why (an operator prompt outside a rig).
        case skipped(String)
        /// The session had ended before its time.
        case notReached
        /// A wait or a prompt whose time ran out.
        case timedOut
    }

    public var index: Int
    public var outcome: Outcome
    /// When it was carried out: for a fault, the device's own record of its beginning where there is
    /// one (`fault_injected`), else when it was posted.
    public var timeNanoseconds: Int64?
    /// How the session answered a request (nil: not known on this target, or not a request).
    public var accepted: Bool?
    /// The reason of a refusal ("reset refused: the cause persists: …").
    public var refusal: String?

    public init(index: Int, outcome: Outcome, timeNanoseconds: Int64? = nil, accepted: Bool? = nil, refusal: String? = nil) {
        self.index = index
        self.outcome = outcome
        self.timeNanoseconds = timeNanoseconds
        self.accepted = accepted
        self.refusal = refusal
    }
}

/// When the device recorded the beginning of one of the scenario's `faults`.
public struct ObservedInjection: Sendable, Equatable {
    /// The index in the scenario's `faults`.
    public var index: Int
    public var timeNanoseconds: Int64

    public init(index: Int, timeNanoseconds: Int64) {
        self.index = index
        self.timeNanoseconds = timeNanoseconds
    }
}

/// Why a session did not start.
public struct ObservedRefusal: Sendable, Equatable {
    /// The error as the operator reads it (`SessionError.description`).
    public var reason: String
    /// The exit code `rehabctl run` gives for it.
    public var exitCode: Int?

    public init(reason: String, exitCode: Int? = nil) {
        self.reason = reason
        self.exitCode = exitCode
    }
}

/// SR-1's figures over a run (`SessionReport.LinkQuality`).
public struct ObservedLinkQuality: Sendable, Equatable {
    public var secondsGood: Double
    public var secondsFair: Double
    public var secondsPoor: Double
    public var secondsLost: Double
    public var fairEpisodes: Int
    public var poorEpisodes: Int

    public init(secondsGood: Double, secondsFair: Double, secondsPoor: Double, secondsLost: Double, fairEpisodes: Int, poorEpisodes: Int) {
        self.secondsGood = secondsGood
        self.secondsFair = secondsFair
        self.secondsPoor = secondsPoor
        self.secondsLost = secondsLost
        self.fairEpisodes = fairEpisodes
        self.poorEpisodes = poorEpisodes
    }

    public func seconds(in grade: LinkGrade) -> Double {
        switch grade {
        case .good: secondsGood
        case .fair: secondsFair
        case .poor: secondsPoor
        case .lost: secondsLost
        }
    }

    /// Episodes of FAIR or POOR (nil for GOOD and LOST, which have none counted).
    public func episodes(in grade: LinkGrade) -> Int? {
        switch grade {
        case .fair: fairEpisodes
        case .poor: poorEpisodes
        case .good, .lost: nil
        }
    }
}

/// One record of the device's event log.
public struct ObservedDeviceEvent: Sendable, Equatable {
    public var timeNanoseconds: Int64
    /// "torque_off", "watchdog_stop", "fault_reset", … (simulators/README.md).
    public var name: String
    public var joint: Int?
    /// The fault's name, where the record carries one.
    public var detail: String?

    public init(timeNanoseconds: Int64, name: String, joint: Int? = nil, detail: String? = nil) {
        self.timeNanoseconds = timeNanoseconds
        self.name = name
        self.joint = joint
        self.detail = detail
    }
}
