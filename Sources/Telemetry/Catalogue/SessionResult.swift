import Control
import StrictJSON

/// How a session ended and what the patient did on the exercised joint: the `session_result`
/// metadata record written at the end of a recording.
///
/// The same figures are in the `/exercise/metrics` message, but that one sits in the last chunk;
/// a metadata record is indexed in the summary, so a catalogue of recordings (`rehabctl sessions`)
/// and a patient's progress page (`rehabctl report --progress`) find it with one read
/// (`MCAPSummaryReader`). MCAP metadata is a map of strings: numbers are written as shortest
/// round-trip decimals, in SI units with the unit in the key.
public struct SessionResult: Sendable, Equatable {
    /// How the session ended.
    public enum Ending: Sendable, Equatable {
        /// The plan ran to its end (every repetition, or its whole duration) and stopped normally.
        case completed
        /// Stopped before the plan's end without a fault: `operator` (the control socket's stop,
        /// Ctrl-C), an e-stop (`operator_estop`, `device_estop`), the patient's stop input
        /// (`patient_stop`), or another controlled stop of the supervisor (its cause).
        case stopped(cause: String)
        /// A safety function stopped the session: the first safety event's cause.
        case fault(cause: String)

        /// "completed", "stopped by operator", "fault (interaction_torque)".
        public var text: String {
            switch self {
            case .completed: "completed"
            case .stopped(let cause): "stopped by \(cause)"
            case .fault(let cause): "fault (\(cause))"
            }
        }

        /// "completed", "stopped" or "fault": the `result` key.
        public var kind: String {
            switch self {
            case .completed: "completed"
            case .stopped: "stopped"
            case .fault: "fault"
            }
        }

        /// The `result_cause` key ("" when completed).
        public var cause: String {
            switch self {
            case .completed: ""
            case .stopped(let cause), .fault(let cause): cause
            }
        }
    }

    /// The metadata record's name.
    public static let metadataName = "session_result"

    public var ending: Ending
    /// From the loop's start to its end [s].
    public var durationSeconds: Double?
    /// The exercise's mode ("passive", "active_assist", …).
    public var mode: String?
    public var exercisedJoint: String?
    /// Range of motion reached on the exercised joint [rad].
    public var rangeOfMotionRadians: Double?
    public var repetitionsDone: Int?
    /// nil: a timed exercise (as many repetitions as fit).
    public var repetitionsPlanned: Int?
    /// Robot work / (robot + patient work) on the exercised joint (1: the robot did everything).
    public var assistanceRatio: Double?
    /// Work done by the patient on the exercised joint [J].
    public var patientWorkJoules: Double?
    /// Work done by the robot on the exercised joint [J].
    public var robotWorkJoules: Double?
    /// The largest |interaction torque| on the exercised joint [N·m].
    public var peakInteractionTorqueNewtonMeters: Double?
    /// Transitions that stopped motion for a safety reason.
    public var safetyEvents: Int?
    /// The supervisor's state at the end.
    public var finalState: String?

    /// The result of a session that just ended: `metrics` is its `/exercise/metrics` object (per-joint
    /// arrays, `exercised_joint`), `transitions` the supervisor's, `planCompleted` whether the plan
    /// posted its own stop at its end.
    public init(metrics: JSONValue, transitions: [SupervisorTransition], planCompleted: Bool, repetitionsPlanned: Int?) {
        let object = metrics.objectValue ?? JSONObject()
        let joints = object["joints"]?.arrayValue?.compactMap { $0.stringValue } ?? []
        let joint = object["exercised_joint"]?.stringValue ?? joints.first
        let index = joint.flatMap { joints.firstIndex(of: $0) } ?? 0
        func exercised(_ key: String) -> Double? {
            guard let values = object[key]?.arrayValue, index < values.count else { return nil }
            return values[index].doubleValue
        }
        ending = Self.ending(transitions: transitions, planCompleted: planCompleted)
        durationSeconds = object["duration_s"]?.doubleValue
        mode = object["mode"]?.stringValue
        exercisedJoint = joint
        rangeOfMotionRadians = exercised("rom_rad")
        repetitionsDone = object["repetitions"]?.integerValue.map { Int($0) }
        self.repetitionsPlanned = repetitionsPlanned
        assistanceRatio = exercised("assistance_ratio")
        patientWorkJoules = exercised("patient_work_j")
        robotWorkJoules = exercised("robot_work_j")
        peakInteractionTorqueNewtonMeters = exercised("peak_interaction_torque_nm")
        safetyEvents = object["safety_events"]?.integerValue.map { Int($0) }
        finalState = object["final_state"]?.stringValue
    }

    /// How a session with these transitions ended. A fault or e-stop wins over everything (the first
    /// one: what followed was its consequence); then the plan's own end; then the last stop's cause.
    /// A stop request (`stop_requested`) is the operator's: the plan's own stop is `planCompleted`.
    public static func ending(transitions: [SupervisorTransition], planCompleted: Bool) -> Ending {
        if let event = transitions.first(where: { ($0.to == .fault || $0.to == .estop) && $0.category != nil }) {
            switch event.cause {
            case .operatorEmergencyStop, .deviceEmergencyStop: return .stopped(cause: event.cause.rawValue)
            default: return .fault(cause: event.cause.rawValue)
            }
        }
        if planCompleted { return .completed }
        // Standstill ends every Cat 1 stop (with a Cat 0 of its own): it is never the reason.
        let stop = transitions.last(where: { $0.to == .stopping })
            ?? transitions.last(where: { $0.category != nil && $0.cause != .standstillReached })
        guard let stop else { return .stopped(cause: "unknown") }
        return .stopped(cause: stop.cause == .stopRequested ? "operator" : stop.cause.rawValue)
    }

    /// The record's entries (`TelemetryEncoder.writeSessionResult`); values that are not known are left out.
    public var metadata: [(String, String)] {
        var entries: [(String, String)] = [("result", ending.kind), ("result_cause", ending.cause)]
        func addNumber(_ key: String, _ value: Double?) {
            if let value, value.isFinite { entries.append((key, TelemetryEncoder.number(value))) }
        }
        func addCount(_ key: String, _ value: Int?) {
            if let value { entries.append((key, String(value))) }
        }
        func addText(_ key: String, _ value: String?) {
            if let value { entries.append((key, value)) }
        }
        addNumber("duration_s", durationSeconds)
        addText("mode", mode)
        addText("exercised_joint", exercisedJoint)
        addNumber("rom_rad", rangeOfMotionRadians)
        addCount("repetitions", repetitionsDone)
        addCount("repetitions_planned", repetitionsPlanned)
        addNumber("assistance_ratio", assistanceRatio)
        addNumber("patient_work_j", patientWorkJoules)
        addNumber("robot_work_j", robotWorkJoules)
        addNumber("peak_interaction_torque_nm", peakInteractionTorqueNewtonMeters)
        addCount("safety_events", safetyEvents)
        addText("final_state", finalState)
        return entries
    }

    /// Reads the record's entries back; nil when they hold no known `result`.
    public init?(metadata: [(String, String)]) {
        var values: [String: String] = [:]
        for (key, value) in metadata where values[key] == nil { values[key] = value }
        let cause = values["result_cause"] ?? ""
        switch values["result"] {
        case "completed"?: ending = .completed
        case "stopped"?: ending = .stopped(cause: cause)
        case "fault"?: ending = .fault(cause: cause)
        default: return nil
        }
        func number(_ key: String) -> Double? {
            guard let text = values[key], let value = Double(text), value.isFinite else { return nil }
            return value
        }
        func count(_ key: String) -> Int? { values[key].flatMap { Int($0) } }
        durationSeconds = number("duration_s")
        mode = values["mode"]
        exercisedJoint = values["exercised_joint"]
        rangeOfMotionRadians = number("rom_rad")
        repetitionsDone = count("repetitions")
        repetitionsPlanned = count("repetitions_planned")
        assistanceRatio = number("assistance_ratio")
        patientWorkJoules = number("patient_work_j")
        robotWorkJoules = number("robot_work_j")
        peakInteractionTorqueNewtonMeters = number("peak_interaction_torque_nm")
        safetyEvents = count("safety_events")
        finalState = values["final_state"]
    }
}
