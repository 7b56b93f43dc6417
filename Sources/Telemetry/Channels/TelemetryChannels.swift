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

    /// The JSON Schema (draft 2020-12) of the channel's messages.
    public var jsonSchema: String {
        let cycle = #""cycle": {"type": "integer", "description": "control cycle number, from 0"}"#
        let time = #""t_monotonic_ns": {"type": "integer", "description": "wake time of the cycle on the host's monotonic clock [ns]"}"#
        func perJoint(_ name: String, _ description: String, nullable: Bool = false) -> String {
            let item = nullable ? #"{"type": ["number", "null"]}"# : #"{"type": "number"}"#
            return #""\#(name)": {"type": "array", "items": \#(item), "description": "\#(description), one per joint"}"#
        }
        let properties: [String]
        let required: [String]
        switch self {
        case .jointState:
            properties = [
                cycle, time, #""fresh": {"type": "boolean", "description": "the state arrived within one cycle (SR-5)"}"#,
                perJoint("position_rad", "measured joint position [rad]"),
                perJoint("velocity_rad_per_s", "measured joint velocity [rad/s]"),
                perJoint("motor_torque_nm", "motor torque at the joint [N·m]"),
                perJoint("interaction_torque_nm", "patient–robot interaction torque from the joint torque sensor [N·m]"),
            ]
            required = ["cycle", "t_monotonic_ns", "position_rad", "velocity_rad_per_s", "motor_torque_nm", "interaction_torque_nm"]
        case .jointCommand:
            properties = [
                cycle,
                #""wire": {"enum": ["nothing", "command", "heartbeat", "fault_reset"], "description": "what went to the device this cycle"}"#,
                #""mode": {"type": "array", "items": {"enum": ["off", "torque", "velocity", "hold"]}, "description": "command mode, one per joint"}"#,
                perJoint("target_position_rad", "the exercise's target position (null while none is tracked) [rad]", nullable: true),
                perJoint("target_velocity_rad_per_s", "the exercise's target velocity (null while none is tracked) [rad/s]", nullable: true),
                perJoint("torque_nm", "commanded torque after the supervisor's clamp [N·m]"),
                perJoint("velocity_rad_per_s", "commanded velocity (Cat 1 braking) [rad/s]"),
            ]
            required = ["cycle", "wire", "mode", "torque_nm", "velocity_rad_per_s"]
        case .supervisorState:
            properties = [
                cycle,
                #""state": {"enum": ["disabled", "self_test", "idle", "ready", "active", "paused", "stopping", "fault", "estop"]}"#,
                #""action": {"enum": ["torque_off", "move", "hold", "decelerate", "release"]}"#,
                #""stop_category": {"type": ["integer", "null"], "description": "IEC 60204-1 category of the stop in progress"}"#,
            ]
            required = ["cycle", "state", "action"]
        case .supervisorTransition, .safetyEvent:
            properties = [
                cycle, time, #""from": {"type": "string"}"#, #""to": {"type": "string"}"#,
                #""cause": {"type": "string", "description": "stable cause name (docs/safety.md)"}"#,
                #""requirement": {"type": "string", "description": "SAFETY.md requirement, e.g. SR-9"}"#,
                #""stop_category": {"type": ["integer", "null"]}"#,
                #""value": {"type": "number", "description": "the measurement behind the cause, in value_unit"}"#,
                #""value_unit": {"type": "string"}"#, #""joint": {"type": ["string", "null"]}"#,
                #""device_code": {"type": "integer", "description": "the device's own fault code (its protocol's), 0 when none"}"#,
            ]
            required = ["cycle", "t_monotonic_ns", "from", "to", "cause"]
        case .loopTiming:
            properties = [
                cycle,
                #""wake_latency_ns": {"type": "integer", "description": "actual wake − scheduled deadline [ns]"}"#,
                #""compute_ns": {"type": "integer", "description": "fresh state in hand → command encoded [ns]"}"#,
                #""cycle_ns": {"type": "integer", "description": "wake → end of the cycle's work [ns]"}"#,
                #""round_trip_ns": {"type": ["integer", "null"], "description": "command written → its echo decoded [ns]"}"#,
                #""late_cycles": {"type": "integer", "description": "deadlines missed just before this cycle"}"#,
                #""state_age_ns": {"type": ["integer", "null"], "description": "SR-1: now − when the newest device state was sampled [ns]; null before any"}"#,
                #""link_quality": {"type": "string", "enum": ["GOOD", "FAIR", "POOR", "LOST"], "description": "SR-1's grade of the link this cycle"}"#,
            ]
            required = ["cycle", "wake_latency_ns", "compute_ns", "cycle_ns"]
        case .exerciseMetrics:
            properties = [
                #""duration_s": {"type": "number"}"#, #""cycles": {"type": "integer"}"#,
                #""joints": {"type": "array", "items": {"type": "string"}}"#,
                perJoint("rom_rad", "range of motion reached [rad]"),
                perJoint("rms_tracking_error_rad", "RMS of target − measured position while tracking [rad]"),
                perJoint("max_abs_tracking_error_rad", "largest |target − measured| [rad]"),
                perJoint("peak_torque_nm", "largest commanded |torque| [N·m]"),
                #""safety_events": {"type": "integer"}"#, #""final_state": {"type": "string"}"#,
                #""time_in_state_s": {"type": "object", "additionalProperties": {"type": "number"}, "description": "seconds spent in each supervisor state"}"#,
            ]
            required = ["duration_s", "cycles", "joints"]
        case .trackerSample:
            properties = [
                cycle, time,
                #""tracker": {"type": "string", "description": "the tracker's name (the channel's trackers metadata lists them in order)"}"#,
                #""frame_counter": {"type": "integer", "description": "the tracker's own frame counter of the sample"}"#,
                #""age_ns": {"type": ["integer", "null"], "description": "how old the sample was this cycle [ns]; null before the first"}"#,
                #""position_rad": {"type": "number", "description": "an angle source's reading [rad]"}"#,
                #""tool_position_m": {"type": ["array", "null"], "items": {"type": "number"}, "description": "a pose source's tool position x, y, z [m]"}"#,
                #""tool_orientation_wxyz": {"type": ["array", "null"], "items": {"type": "number"}, "description": "a pose source's unit quaternion w, x, y, z"}"#,
                #""visible": {"type": "boolean", "description": "the tool (or limb) is seen"}"#,
                #""rms_error_mm": {"type": "number", "description": "the tracker's own fit error [mm]"}"#,
            ]
            required = ["cycle", "t_monotonic_ns", "tracker", "frame_counter", "visible"]
        }
        return #"{"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "\#(schemaName)", "type": "object", "properties": {\#(properties.joined(separator: ", "))}, "required": [\#(required.map { "\"\($0)\"" }.joined(separator: ", "))]}"#
    }
}
