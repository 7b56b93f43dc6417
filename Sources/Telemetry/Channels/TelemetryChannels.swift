import Control

/// Foxglove's `foxglove.PoseInFrame` (github.com/foxglove/schemas, JSON encoding): one channel per
/// tracker that reports a pose, `/tracker/<name>/pose`, so that Foxglove's 3-D panel draws the tool
/// or the limb segment where the tracker saw it (frame `tracker_<name>`: the tracker's own frame).
/// Metres and a unit quaternion; the quality fields stay on `/tracker/sample`.
public enum TrackerPoseChannel {
    public static let schemaID: UInt16 = 9
    public static let schemaName = "foxglove.PoseInFrame"
    /// The channel of the `index`-th tracker.
    public static func channelID(trackerIndex index: Int) -> UInt16 { 100 + UInt16(index) }
    public static func topic(trackerName name: String) -> String { "/tracker/\(name)/pose" }
    public static func frameID(trackerName name: String) -> String { "tracker_\(name)" }

    public static let jsonSchema = #"{"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "foxglove.PoseInFrame", "description": "A timestamped pose for an object or reference frame in 3D space", "type": "object", "properties": {"timestamp": {"type": "object", "title": "time", "properties": {"sec": {"type": "integer", "minimum": 0}, "nsec": {"type": "integer", "minimum": 0, "maximum": 999999999}}, "description": "Timestamp of pose"}, "frame_id": {"type": "string", "description": "Frame of reference for pose position and orientation"}, "pose": {"title": "foxglove.Pose", "type": "object", "properties": {"position": {"title": "foxglove.Vector3", "type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}, "z": {"type": "number"}}, "description": "Point denoting position in 3D space"}, "orientation": {"title": "foxglove.Quaternion", "type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}, "z": {"type": "number"}, "w": {"type": "number"}}, "description": "Quaternion denoting orientation in 3D space"}}, "description": "Pose in 3D space"}}}"#
}

/// The channels of a RehabHost recording: topic, schema name and JSON Schema of each. Every number
/// is in SI units (or nanoseconds), named with its unit; per-joint values are arrays in the joint
/// order of the channel's `joints` metadata. Channel IDs and topics are stable: tools rely on them.
public enum TelemetryChannel: UInt16, Sendable, CaseIterable {
    case jointState = 1
    case jointCommand = 2
    case supervisorState = 3
    case supervisorTransition = 4
    case safetyEvent = 5
    case loopTiming = 6
    case exerciseMetrics = 7
    case trackerSample = 8

    public var topic: String {
        switch self {
        case .jointState: "/joint_state"
        case .jointCommand: "/joint_command"
        case .supervisorState: "/supervisor/state"
        case .supervisorTransition: "/supervisor/transition"
        case .safetyEvent: "/safety/event"
        case .loopTiming: "/loop/timing"
        case .exerciseMetrics: "/exercise/metrics"
        case .trackerSample: "/tracker/sample"
        }
    }

    public var schemaName: String {
        switch self {
        case .jointState: "rehabhost.JointState"
        case .jointCommand: "rehabhost.JointCommand"
        case .supervisorState: "rehabhost.SupervisorState"
        case .supervisorTransition: "rehabhost.SupervisorTransition"
        case .safetyEvent: "rehabhost.SafetyEvent"
        case .loopTiming: "rehabhost.LoopTiming"
        case .exerciseMetrics: "rehabhost.ExerciseMetrics"
        case .trackerSample: "rehabhost.TrackerSample"
        }
    }

    /// The JSON Schema (draft 2020-12) of the channel's messages. Closed, so that it says what a file
    /// holds: every object lists its fields, requires each one (a value that is absent is written as
    /// null, never left out: `time_in_state_s` alone lists only the states entered) and allows no
    /// other (`additionalProperties: false`). A misspelt, missing or extra field fails validation.
    public var jsonSchema: String {
        typealias S = JSONSchemaText
        let cycle = ("cycle", S.typed("integer", "the loop's cycle number, from 0: its schedule's, so skipped cycles leave a gap"))
        let time = ("t_monotonic_ns", S.typed("integer", "wake time of the cycle on the host's monotonic clock [ns]"))
        let states = SupervisorState.allCases.map(\.rawValue)
        let stopCategory = #"{"type": ["integer", "null"], "enum": [0, 1, 2, null], "description": "IEC 60204-1 stop category; null when none"}"#
        let properties: [(String, String)]
        switch self {
        case .jointState:
            properties = [
                cycle, time, ("fresh", S.typed("boolean", "a new device state arrived since the previous cycle (SR-5)")),
                ("position_rad", S.perJoint("measured joint position [rad]")),
                ("velocity_rad_per_s", S.perJoint("measured joint velocity [rad/s]")),
                ("motor_torque_nm", S.perJoint("motor torque at the joint [N·m]")),
                ("interaction_torque_nm", S.perJoint("patient–robot interaction torque from the joint torque sensor [N·m]")),
            ]
        case .jointCommand:
            let wires = [TelemetryFrame.Wire.nothing, .command, .heartbeat, .faultReset].map(\.name)
            properties = [
                cycle, ("wire", S.strings(wires, "what went to the device this cycle")),
                ("mode", S.array(of: S.strings(TelemetryCodes.modeNames), "command mode, one per joint")),
                ("target_position_rad", S.perJoint("the exercise's target position, null while none is tracked [rad]", nullable: true)),
                ("target_velocity_rad_per_s", S.perJoint("the exercise's target velocity, null while none is tracked [rad/s]", nullable: true)),
                ("torque_nm", S.perJoint("commanded torque after the supervisor's clamp [N·m]")),
                ("velocity_rad_per_s", S.perJoint("commanded velocity (Cat 1 braking) [rad/s]")),
            ]
        case .supervisorState:
            properties = [
                cycle, ("state", S.strings(states, "the supervisor's state after this cycle's evaluation")),
                ("action", S.strings(TelemetryCodes.actionNames)), ("stop_category", stopCategory),
            ]
        case .supervisorTransition, .safetyEvent:
            properties = [
                ("cycle", S.typed(["integer", "null"], "the loop's cycle the transition was made in; null for one of the set-up (phase set_up)")),
                ("phase", S.strings(["set_up", "loop"], "set_up: made before the loop's cycle 0 (self-test, link pre-flight, enable, direction test, a stop during them); loop: in cycle `cycle`")),
                ("t_monotonic_ns", S.typed("integer", "when it was made, on the host's monotonic clock [ns]")),
                ("from", S.strings(states)), ("to", S.strings(states)),
                ("cause", S.strings(SafetyCause.allCases.map(\.rawValue), "stable cause name (docs/safety.md)")),
                ("requirement", S.typed("string", "SAFETY.md requirement, e.g. SR-9; empty when none")),
                ("stop_category", stopCategory),
                ("value", S.typed(["number", "null"], "the measurement behind the cause, in value_unit; null when not finite (a tracker never heard from is infinitely stale)")),
                ("value_unit", S.typed("string", "empty when the value has none")),
                ("joint", S.typed(["string", "null"], "the joint concerned (a name of the joints metadata); null when the cause is no one joint's")),
                ("device_code", S.typed("integer", "the device's own fault code (its protocol's), 0 when none")),
            ]
        case .loopTiming:
            properties = [
                cycle,
                ("wake_latency_ns", S.typed("integer", "actual wake − scheduled deadline [ns]")),
                ("compute_ns", S.typed("integer", "fresh state in hand → command encoded [ns]")),
                ("cycle_ns", S.typed("integer", "wake → end of the cycle's work [ns]")),
                ("round_trip_ns", S.typed(["integer", "null"], "command written → its echo decoded [ns]; null when none was measured this cycle")),
                ("late_cycles", S.typed("integer", "deadlines missed just before this cycle")),
                ("state_age_ns", S.typed(["integer", "null"], "SR-1: now − when the newest device state was sampled [ns]; null before any")),
                ("link_quality", S.strings(LinkGrade.allCases.map(\.description), "SR-1's grade of the link this cycle")),
            ]
        case .exerciseMetrics:
            // As `TherapySession` writes them (also `--json`'s `metrics`).
            let grades = LinkGrade.allCases.map { ($0.description, S.typed("number")) }
            let limits = ["good_age", "good_gap", "lost_cat1_age", "lost_cat0_age"].map { ($0, S.typed("number")) }
            let audit = S.closedObject([
                ("time_ns", S.typed("integer", "when the request arrived, on the host's monotonic clock [ns]")),
                ("pid", S.typed("integer")), ("uid", S.typed("integer")), ("gid", S.typed("integer")),
                ("request", S.typed("string")), ("outcome", S.strings(["accepted", "not_permitted", "invalid", "over_capacity"])),
            ])
            properties = [
                ("duration_s", S.typed("number", "the loop's run [s]")), ("cycles", S.typed("integer", "cycles run")),
                ("joints", S.array(of: S.typed("string"), "the joints, in the order of every per-joint array")),
                ("rom_rad", S.perJoint("range of motion reached [rad]")),
                ("min_position_rad", S.perJoint("lowest position reached while tracking [rad]")),
                ("max_position_rad", S.perJoint("highest position reached while tracking [rad]")),
                ("rms_tracking_error_rad", S.perJoint("RMS of target − measured position while tracking [rad]")),
                ("max_abs_tracking_error_rad", S.perJoint("largest |target − measured| [rad]")),
                ("peak_torque_nm", S.perJoint("largest commanded |torque| [N·m]")),
                ("peak_interaction_torque_nm", S.perJoint("largest |interaction torque| [N·m]")),
                ("rms_interaction_torque_nm", S.perJoint("RMS interaction torque [N·m]")),
                ("robot_work_j", S.perJoint("net work done on the limb's motion by the robot [J]")),
                ("patient_work_j", S.perJoint("net work done on the limb's motion by the patient [J]")),
                ("assistance_ratio", S.perJoint("the robot's share of the work that drove the motion, 0…1")),
                ("mode", S.strings(TherapyMode.names, "the exercise's mode at the start")),
                ("exercised_joint", S.typed("string", "the joint the exercise moves")),
                ("assistance_gain_by_repetition", S.array(of: S.typed("number"), "mean assistance gain of each completed repetition (active-assist; empty otherwise)")),
                ("repetitions", S.typed("integer", "repetitions completed")),
                ("safety_events", S.typed("integer", "stops into fault or estop")),
                ("final_state", S.strings(states)),
                ("time_in_state_s", S.closedObject(states.map { ($0, S.typed("number")) }, optional: Set(states),
                                                   description: "seconds spent in each supervisor state, for the states the session entered (the others are left out)")),
                ("telemetry_records_dropped", S.typed("integer", "records the full ring could not take (the loop never waits)")),
                ("link_quality", S.closedObject([
                    ("time_in_grade_s", S.closedObject(grades, description: "seconds in each SR-1 grade")),
                    ("fair_episodes", S.typed("integer")), ("poor_episodes", S.typed("integer")),
                    ("worst_state_age_ms", S.typed("number", "the oldest newest-state seen in a cycle [ms]")),
                    ("longest_gap_ms", S.typed("number", "the longest gap between cycle starts [ms]")),
                    ("limits_ms", S.closedObject(limits, description: "SR-1's thresholds in force [ms]")),
                ], description: "SR-1: how the link was graded over the session")),
                ("control_audit", S.array(of: audit, "SR-25: every request to the control socket, status reads left out")),
            ]
        case .trackerSample:
            properties = [
                cycle, time,
                ("tracker", S.typed("string", "the tracker's name (the channel's trackers metadata lists them in order)")),
                ("frame_counter", S.typed("integer", "the tracker's own frame counter of the sample")),
                ("age_ns", S.typed(["integer", "null"], "how old the sample was this cycle [ns]; null before the first")),
                ("position_rad", S.typed("number", "an angle source's reading [rad]; 0 for a pose-only source")),
                ("tool_position_m", S.array(of: S.typed("number"), "a pose source's tool position x, y, z [m]; null without one", count: 3, nullable: true)),
                ("tool_orientation_wxyz", S.array(of: S.typed("number"), "a pose source's unit quaternion w, x, y, z; null without one", count: 4, nullable: true)),
                ("visible", S.typed("boolean", "the tool (or limb) is seen")),
                ("rms_error_mm", S.typed("number", "the tracker's own fit error [mm]; 0 for an encoder")),
            ]
        }
        return S.closedObject(
            properties,
            leading: #""$schema": "https://json-schema.org/draft/2020-12/schema", "title": "\#(schemaName)", "#)
    }
}

/// Writes the little JSON Schema text the channels need, so that every object comes out closed
/// (`additionalProperties: false`, every field required unless named optional).
enum JSONSchemaText {
    /// `{"type": "object", "properties": …, "required": […], "additionalProperties": false}`.
    static func closedObject(
        _ properties: [(String, String)], optional: Set<String> = [], description: String? = nil, leading: String = ""
    ) -> String {
        let listed = properties.map { "\(quoted($0.0)): \($0.1)" }.joined(separator: ", ")
        let required = properties.map { $0.0 }.filter { !optional.contains($0) }.map { quoted($0) }.joined(separator: ", ")
        return #"{\#(leading)"type": "object"\#(describing(description)), "properties": {\#(listed)}, "required": [\#(required)], "additionalProperties": false}"#
    }

    /// A value of one JSON type.
    static func typed(_ type: String, _ description: String? = nil) -> String {
        #"{"type": \#(quoted(type))\#(describing(description))}"#
    }

    /// A value of one of several JSON types (`["integer", "null"]`).
    static func typed(_ types: [String], _ description: String? = nil) -> String {
        #"{"type": [\#(types.map { quoted($0) }.joined(separator: ", "))]\#(describing(description))}"#
    }

    /// One of `values`.
    static func strings(_ values: [String], _ description: String? = nil) -> String {
        #"{"type": "string", "enum": [\#(values.map { quoted($0) }.joined(separator: ", "))]\#(describing(description))}"#
    }

    /// An array of `item`s; `count` fixes its length; `nullable` lets the whole value be null.
    static func array(of item: String, _ description: String? = nil, count: Int? = nil, nullable: Bool = false) -> String {
        let type = nullable ? #"["array", "null"]"# : #""array""#
        let length = count.map { #", "minItems": \#($0), "maxItems": \#($0)"# } ?? ""
        return #"{"type": \#(type), "items": \#(item)\#(length)\#(describing(description))}"#
    }

    /// One number per joint, in the order of the channel's `joints` metadata.
    static func perJoint(_ description: String, nullable: Bool = false) -> String {
        array(of: nullable ? typed(["number", "null"]) : typed("number"), description + ", one per joint")
    }

    private static func describing(_ description: String?) -> String {
        guard let description else { return "" }
        return #", "description": \#(quoted(description))"#
    }

    /// A JSON string literal (the texts here hold no control characters).
    private static func quoted(_ text: String) -> String {
        var result = "\""
        for character in text {
            if character == "\"" || character == "\\" { result.append("\\") }
            result.append(character)
        }
        return result + "\""
    }
}
