import Primitives
import Profiles
import StrictJSON

/// One fault for a simulator, written exactly as a fault-script entry (`rehabsim-faults/1`,
/// simulators/README.md "Fault injection"): the same kind names and field names, so that a scenario's
/// fault is what `rehabsim --faults` or a line on `rehabsim --control` takes.
///
/// The scenario's `faults` are script entries with their own trigger (`at_ms` since the simulator
/// started, `after_enable_ms`, `at_command`); a timeline's fault has none (the entry's time is its
/// trigger: a live injection). Checked here as far as a file alone allows — the kind's fields, their
/// units and ranges, `for_ms` only on what can end; `ScenarioProfileCheck` then checks kinds, joints
/// and servo IDs against the robot; the runner hands `entry` to the simulator's own parser, which has
/// the last word.
public struct FaultEntry: Sendable, Equatable {
    /// The fault-script format this entry belongs to (SimulatorKit's `FaultScriptFormat.name`).
    public static let scriptFormat = "rehabsim-faults/1"
    /// The longest time an entry may give (`at_ms`, `after_enable_ms`, `for_ms`): one day [ms], as the script parser.
    public static let longestMilliseconds = 86_400_000.0

    /// When a fault-script entry begins.
    public enum Trigger: Sendable, Equatable {
        /// Since the simulator started [ms].
        case atMilliseconds(Double)
        /// Since the device was first enabled [ms].
        case afterEnableMilliseconds(Double)
        /// When the device applies its N-th command.
        case atCommand(Int)
    }

    /// Who understands a kind: the line of any device (SimulatorKit's link faults) or one simulator's firmware.
    public enum Family: String, Sendable, CaseIterable {
        /// `drop_replies`, `corrupt_bytes`, `delay_replies`, `unplug`: any device's or tracker's line.
        case link
        /// The RehabLink firmware (`RehabLinkDeviceFault`).
        case rehablink
        /// The Dynamixel servo bus (`DynamixelDeviceFault`), each on a servo `id`.
        case dynamixel
        /// The inertial trackers: Xsens MTi, BNO08x (`TrackerSimulatorFault`).
        case inertial
        /// The NDI Aurora and Polaris (`NDITrackerFault`), each on a tool's port `handle` where it concerns one.
        case ndi
        /// Mirror mode's simulated RehabRef stream (rehabsim's `reference_*` controls, the in-process stream's faults).
        case reference
    }

    /// What an entry is injected into, which decides the kinds it may name.
    public enum Scope: Sendable, Equatable {
        case robot
        case tracker
        /// Mirror mode's RehabRef stream (`"tracker": "reference"`).
        case reference

        var families: [Family] {
            switch self {
            case .robot: [.link, .rehablink, .dynamixel]
            case .tracker: [.link, .inertial, .ndi]
            case .reference: [.reference]
            }
        }

        var noun: String {
            switch self {
            case .robot: "the robot"
            case .tracker: "a tracker"
            case .reference: "the RehabRef reference stream"
            }
        }
    }

    /// Every kind: its family (families, for the trackers' shared names) and whether `for_ms` may end it.
    public static let kinds: [(name: String, families: [Family], canEnd: Bool)] = [
        ("drop_replies", [.link], true), ("corrupt_bytes", [.link], true), ("delay_replies", [.link], true), ("unplug", [.link], false),
        ("freeze_encoder", [.rehablink], true), ("jump_encoder", [.rehablink], false), ("wrap_encoder", [.rehablink], false),
        ("reverse_encoder", [.rehablink], true), ("device_fault", [.rehablink], true), ("over_temperature", [.rehablink], false),
        ("estop_press", [.rehablink], true), ("estop_release", [.rehablink], false), ("external_torque", [.rehablink], true),
        ("brake_failure", [.rehablink], true), ("disable_watchdog", [.rehablink], true), ("ignore_commands", [.rehablink], true),
        ("clock_drift", [.rehablink], true), ("ignore_limit_writes", [.rehablink], true), ("patient_stop", [.rehablink], true),
        ("patient_stop_release", [.rehablink], false), ("patient_pause", [.rehablink], true), ("patient_pause_release", [.rehablink], false),
        ("overload", [.dynamixel], false), ("overheating", [.dynamixel], false), ("input_voltage", [.dynamixel], true),
        ("motor_encoder", [.dynamixel], false), ("electrical_shock", [.dynamixel], false), ("servo_silent", [.dynamixel], true),
        ("wrong_model", [.dynamixel], true),
        ("tracker_freeze", [.inertial, .ndi], true), ("tracker_drift", [.inertial, .ndi], true), ("tracker_reset", [.inertial, .ndi], false),
        ("tracker_clipping", [.inertial], true), ("tool_missing", [.ndi], true), ("tool_out_of_volume", [.ndi], true),
        ("tracker_inaccurate", [.ndi], true), ("bx_error", [.ndi], true),
        ("reference_stop", [.reference], false), ("reference_freeze", [.reference], false), ("reference_hide", [.reference], false),
        ("reference_inaccurate", [.reference], false),
    ]

    /// The device fault codes `device_fault` may name (the RehabLink firmware's).
    public static let deviceFaultCodes = ["encoder", "over_speed", "over_temperature", "overload", "supply_voltage"]

    /// The families of `kind` (empty: no simulator knows it).
    public static func families(of kind: String) -> [Family] {
        kinds.first { $0.name == kind }?.families ?? []
    }

    /// The kinds of `families`, in table order.
    public static func kindNames(in families: [Family]) -> [String] {
        kinds.filter { kind in kind.families.contains { families.contains($0) } }.map(\.name)
    }

    public var kind: String
    /// The entry's own trigger (a fault script's entries); nil for a timeline's fault.
    public var trigger: Trigger?
    /// `for_ms`: it ends by itself after this long.
    public var durationMilliseconds: Double?
    /// `joint`, where the kind concerns one joint (a joint index of the profile).
    public var joint: Int?
    /// `id`, a Dynamixel servo's.
    public var servoID: Int?
    /// `handle`, an NDI tool's port handle.
    public var handle: Int?
    /// The entry exactly as written: a fault-script entry (with its trigger), or a live injection (without).
    public var entry: JSONObject

    public init(kind: String, trigger: Trigger? = nil, durationMilliseconds: Double? = nil, joint: Int? = nil, servoID: Int? = nil,
                handle: Int? = nil, entry: JSONObject) {
        self.kind = kind
        self.trigger = trigger
        self.durationMilliseconds = durationMilliseconds
        self.joint = joint
        self.servoID = servoID
        self.handle = handle
        self.entry = entry
    }

    /// The entry as one line of JSON: what `rehabsim --control` takes, and `FaultScriptParser.parseLive`.
    public var liveLine: String { JSONValue.object(entry).serialized() }

    /// "external_torque joint=0 torque_nm=3 ramp_ms=40 for_ms=400", the trigger included for a script's entry.
    public var summary: String {
        var parts = [kind]
        for (key, value) in entry.entries where key != "kind" {
            parts.append("\(key)=\(value.stringValue ?? value.serialized())")
        }
        return parts.joined(separator: " ")
    }

    /// Whether `for_ms` may end faults of this kind.
    public static func canEnd(_ kind: String) -> Bool {
        kinds.first { $0.name == kind }?.canEnd ?? true
    }

    // MARK: Reading

    /// Whether an entry must carry its own trigger (the scenario's `faults`) or must not (a timeline's fault).
    enum TriggerRule {
        case required
        case forbidden
    }

    private static let triggerKeys = ["at_ms", "after_enable_ms", "at_command"]

    /// Reads one entry, reporting every problem at its path; nil when it is invalid.
    static func parse(_ reader: FieldReader, scope: Scope, triggers rule: TriggerRule) -> FaultEntry? {
        var r = reader
        defer { r.finish() }
        let longest = longestMilliseconds
        var valid = true
        var trigger: Trigger?
        let given = triggerKeys.filter { r.object[$0] != nil }
        switch rule {
        case .required:
            switch given.first {
            case "at_ms": trigger = r.number("at_ms", unit: "ms", in: 0...longest).map { .atMilliseconds($0) }
            case "after_enable_ms": trigger = r.number("after_enable_ms", unit: "ms", in: 0...longest).map { .afterEnableMilliseconds($0) }
            case "at_command": trigger = r.integer("at_command", unit: "commands", in: 1...1_000_000_000).map { .atCommand(Int($0)) }
            default: r.report("", "needs one trigger: \"at_ms\", \"after_enable_ms\" or \"at_command\"")
            }
            for extra in given.dropFirst() {
                r.skip(extra)
                r.report(extra, "only one trigger per fault (\"\(given[0])\" is already given)")
            }
            if trigger == nil || given.count > 1 { valid = false }
            for key in triggerKeys where !given.contains(key) { r.skip(key) }
        case .forbidden:
            for key in given {
                r.skip(key)
                r.report(key, "a timeline's fault begins at its entry's time (at_ms or setup_at_ms): leave out \"\(key)\"")
                valid = false
            }
        }
        let duration = r.number("for_ms", unit: "ms", in: 0...longest, positive: true, required: false)
        if r.object["for_ms"] != nil && duration == nil { valid = false }
        guard let kind = r.string("kind") else { return nil }
        let allowed = kindNames(in: scope.families)
        guard allowed.contains(kind) else {
            let owners = families(of: kind)
            if owners.isEmpty {
                r.report("kind", "unknown fault \"\(kind)\" (known for \(scope.noun): \(allowed.joined(separator: ", ")))")
            } else if scope == .robot {
                r.report("kind", "\(kind) is a fault of \(owners.contains(.reference) ? "mirror's reference stream" : "a tracker"): give it as a tracker_fault")
            } else {
                r.report("kind", "\(kind) is not a fault of \(scope.noun) (its faults: \(allowed.joined(separator: ", ")))")
            }
            for key in r.object.keys { r.skip(key) }
            return nil
        }
        if duration != nil && !canEnd(kind) {
            r.report("for_ms", "\(kind) cannot end by itself; leave out \"for_ms\"")
            valid = false
        }
        var joint: Int?
        var servoID: Int?
        var handle: Int?
        func readJoint() {
            joint = r.integer("joint", unit: "(joint index)", in: 0...Int64(JointList<Double>.capacity - 1)).map { Int($0) }
            if joint == nil { valid = false }
        }
        func require<T>(_ value: T?) {
            if value == nil { valid = false }
        }
        switch kind {
        case "drop_replies", "unplug", "estop_press", "estop_release", "disable_watchdog", "ignore_commands", "ignore_limit_writes",
            "patient_stop", "patient_stop_release", "patient_pause", "patient_pause_release", "tracker_freeze", "tracker_reset",
            "tracker_clipping", "reference_stop", "reference_freeze", "reference_hide", "reference_inaccurate":
            break
        case "corrupt_bytes":
            require(r.integer("every_nth", unit: "bytes", in: 1...1_000_000))
        case "delay_replies":
            require(r.number("delay_ms", unit: "ms", in: 0...10_000))
        case "freeze_encoder", "reverse_encoder", "over_temperature", "brake_failure":
            readJoint()
        case "jump_encoder":
            readJoint()
            let counts = r.integer("counts", unit: "counts", in: -1_000_000_000...1_000_000_000)
            if counts == 0 { r.report("counts", "a jump of 0 counts is no fault") }
            if counts == nil || counts == 0 { valid = false }
        case "wrap_encoder":
            readJoint()
            require(r.integer("counts_before_wrap", unit: "counts", in: 0...2_000_000_000))
            switch rule {
            case .required:
                if trigger != nil && trigger != .atMilliseconds(0) {
                    r.report("", "wrap_encoder places the raw counter before the host connects: use \"at_ms\": 0 (moving it later is a jump)")
                    valid = false
                }
            case .forbidden:
                r.report("kind", "wrap_encoder places the raw counter before the host connects: give it in the scenario's \"faults\" with \"at_ms\": 0")
                valid = false
            }
        case "device_fault":
            if let code = r.string("code") {
                if !deviceFaultCodes.contains(code) {
                    r.report("code", "unknown fault code \"\(code)\" (known: \(deviceFaultCodes.joined(separator: ", ")))")
                    valid = false
                }
            } else {
                valid = false
            }
        case "external_torque":
            readJoint()
            require(r.number("torque_nm", unit: "N·m", in: -1_000...1_000))
            require(r.number("ramp_ms", unit: "ms", in: 0...60_000, required: false, default: 0))
        case "clock_drift":
            require(r.number("percent", unit: "%", in: -50...50))
        case "overload", "overheating", "motor_encoder", "electrical_shock", "servo_silent", "input_voltage", "wrong_model":
            servoID = r.integer("id", unit: "(servo ID)", in: 0...252).map { Int($0) }
            require(servoID)
            if kind == "input_voltage" { require(r.number("voltage_v", unit: "V", in: 0...30, required: false, default: 17)) }
            if kind == "wrong_model" { require(r.integer("model_number", unit: "(model number)", in: 0...0xFFFF)) }
        case "tracker_drift":
            // An IMU's heading drifts in °/s, an NDI tool's position in mm/s (along the tracker's +x).
            let degrees = r.object["drift_deg_per_s"] != nil
            let millimeters = r.object["drift_mm_per_s"] != nil
            if degrees == millimeters {
                r.skip("drift_deg_per_s")
                r.skip("drift_mm_per_s")
                r.report("", degrees
                    ? "give one of drift_deg_per_s (an IMU) and drift_mm_per_s (an NDI tool), not both"
                    : "needs drift_deg_per_s (an IMU's heading) or drift_mm_per_s (an NDI tool's position)")
                valid = false
            } else if degrees {
                require(r.number("drift_deg_per_s", unit: "°/s", in: -360...360))
                r.skip("drift_mm_per_s")
            } else {
                require(r.number("drift_mm_per_s", unit: "mm/s", in: -1_000...1_000))
                r.skip("drift_deg_per_s")
            }
            if r.object["handle"] != nil && degrees {
                r.skip("handle")
                r.report("handle", "an IMU has no tools: a handle goes with drift_mm_per_s (an NDI tool)")
                valid = false
            } else if !degrees {
                switch readHandle(&r, required: false) {
                case .some(let value): handle = value
                case .none: valid = false
                }
            }
        case "tool_missing", "tool_out_of_volume":
            switch readHandle(&r, required: true) {
            case .some(let value): handle = value
            case .none: valid = false
            }
        case "tracker_inaccurate":
            switch readHandle(&r, required: false) {
            case .some(let value): handle = value
            case .none: valid = false
            }
            require(r.number("rms_error_mm", unit: "mm", in: 0...1_000, required: false, default: 5))
        default:
            // Every kind of the table has its case above.
            r.report("kind", "no reader for \"\(kind)\"")
            valid = false
        }
        guard valid else { return nil }
        return FaultEntry(kind: kind, trigger: trigger, durationMilliseconds: duration, joint: joint, servoID: servoID, handle: handle, entry: r.object)
    }

    /// Reads `handle`: a whole number 1 … 255 or two hex digits ("0A"), as the NDI simulator does.
    /// The outer optional is nil when the field is invalid (or missing while required); the inner one
    /// when it is absent and optional.
    private static func readHandle(_ r: inout FieldReader, required: Bool) -> Int?? {
        if let text = r.object["handle"]?.stringValue {
            r.skip("handle")
            guard text.utf8.count == 2, let value = UInt8(text, radix: 16), value != 0 else {
                r.report("handle", "expected a port handle: 1 … 255 or two hex digits such as \"0A\" (found \"\(text)\")")
                return nil
            }
            return .some(Int(value))
        }
        if !required && r.object["handle"] == nil {
            r.skip("handle")
            return .some(nil)
        }
        guard let value = r.integer("handle", unit: "(port handle)", in: 1...255) else { return nil }
        return .some(Int(value))
    }
}
