import Profiles
import StrictJSON
import Wire

/// Reads fault scripts (`rehabsim --faults FILE.json`) and live injections (one JSON object per
/// line on `rehabsim --control`), validated like hardware profiles: every problem at once, each
/// with the exact path of the bad field; unknown keys, missing units, negative or non-finite
/// values are errors. Every time is at most `longestMilliseconds` (one day): the injector counts in
/// 64-bit nanoseconds, which a longer time would overflow.
///
///     {"format": "rehabsim-faults/1",
///      "faults": [{"at_ms": 2000, "for_ms": 50, "kind": "drop_replies"},
///                 {"after_enable_ms": 500, "kind": "external_torque", "joint": 0, "torque_nm": 2.5, "ramp_ms": 30}]}
public enum FaultScript {
    public static let format = "rehabsim-faults/1"
    /// The longest time a script may give (`at_ms`, `after_enable_ms`, `for_ms`): one day [ms].
    public static let longestMilliseconds = 86_400_000.0
    /// The fault codes a script may name (the firmware's own are raised by the physics).
    static let faultCodes: [String: DeviceFaultCode] = [
        "over_temperature": .overTemperature, "overload": .overload, "over_speed": .overSpeed, "encoder": .encoder,
        "supply_voltage": .supplyVoltage,
    ]

    /// Loads and validates the script at `path` for a device with `jointCount` joints.
    public static func load(path: String, jointCount: Int) throws(ProfileError) -> [InjectedFault] {
        let object = try ConfigurationFile.loadObject(at: path)
        return try parse(object, sourcePath: path, jointCount: jointCount)
    }

    public static func parse(_ object: JSONObject, sourcePath: String, jointCount: Int) throws(ProfileError) -> [InjectedFault] {
        let issues = IssueCollector()
        var root = FieldReader(object, path: "", issues: issues)
        if let format = root.string("format"), format != Self.format {
            root.report("format", "expected \"\(Self.format)\", found \"\(format)\"")
        }
        var faults: [InjectedFault] = []
        if let array = root.array("faults") {
            for (index, element) in array.enumerated() {
                let path = "faults[\(index)]"
                guard let entry = element.objectValue else {
                    issues.add(path, "expected an object, found \(element.kindDescription)")
                    continue
                }
                if let fault = parseFault(FieldReader(entry, path: path, issues: issues), jointCount: jointCount, live: false) {
                    faults.append(fault)
                }
            }
        }
        root.finish()
        guard issues.issues.isEmpty else { throw .invalid(path: sourcePath, issues: issues.issues) }
        return faults
    }

    /// One live injection (a line on the control socket); without a trigger key it starts now.
    public static func parseLive(_ line: String, jointCount: Int) -> Result<InjectedFault, ProfileError> {
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch {
            return .failure(.syntax(path: "control", error))
        }
        guard let object = value.objectValue else {
            return .failure(.invalid(path: "control", issues: [ProfileIssue(path: "", message: "expected a JSON object")]))
        }
        let issues = IssueCollector()
        let fault = parseFault(FieldReader(object, path: "", issues: issues), jointCount: jointCount, live: true)
        guard let fault, issues.issues.isEmpty else { return .failure(.invalid(path: "control", issues: issues.issues)) }
        return .success(fault)
    }

    private static func parseFault(_ reader: FieldReader, jointCount: Int, live: Bool) -> InjectedFault? {
        var r = reader
        defer { r.finish() }
        let triggers = ["at_ms", "after_enable_ms", "at_command"].filter { r.object[$0] != nil }
        var trigger: InjectedFault.Trigger?
        switch triggers.first {
        case "at_ms": trigger = r.number("at_ms", unit: "ms", in: 0...longestMilliseconds).map { .atMilliseconds($0) }
        case "after_enable_ms":
            trigger = r.number("after_enable_ms", unit: "ms", in: 0...longestMilliseconds).map { .afterEnableMilliseconds($0) }
        case "at_command": trigger = r.integer("at_command", unit: "commands", in: 1...1_000_000_000).map { .atCommand(Int($0)) }
        default:
            if live {
                trigger = .now
            } else {
                r.report("", "needs one trigger: \"at_ms\", \"after_enable_ms\" or \"at_command\"")
            }
        }
        for extra in triggers.dropFirst() {
            r.skip(extra)
            r.report(extra, "only one trigger per fault (\"\(triggers[0])\" is already given)")
            trigger = nil
        }
        for key in ["at_ms", "after_enable_ms", "at_command"] where !triggers.contains(key) { r.skip(key) }
        let duration = r.number("for_ms", unit: "ms", in: 0...longestMilliseconds, positive: true, required: false)
        guard let name = r.string("kind") else { return nil }
        let joint: () -> Int? = {
            r.integer("joint", unit: "(joint index)", in: 0...Int64(max(0, jointCount - 1))).map { Int($0) }
        }
        var kind: InjectedFault.Kind?
        switch name {
        case "drop_replies": kind = .dropReplies
        case "corrupt_bytes": kind = r.integer("every_nth", unit: "bytes", in: 1...1_000_000).map { .corruptBytes(everyNth: Int($0)) }
        case "delay_replies": kind = r.number("delay_ms", unit: "ms", in: 0...10_000).map { .delayReplies(milliseconds: $0) }
        case "unplug": kind = .unplug
        case "freeze_encoder": kind = joint().map { .freezeEncoder(joint: $0) }
        case "jump_encoder":
            let index = joint()
            let counts = r.integer("counts", unit: "counts", in: -1_000_000_000...1_000_000_000)
            if counts == 0 { r.report("counts", "a jump of 0 counts is no fault") }
            if let index, let counts, counts != 0 { kind = .jumpEncoder(joint: index, counts: counts) }
        case "wrap_encoder":
            let index = joint()
            let before = r.integer("counts_before_wrap", unit: "counts", in: 0...2_000_000_000)
            if trigger != .atMilliseconds(0) && trigger != nil {
                r.report("", "wrap_encoder places the raw counter before the host connects: use \"at_ms\": 0 (moving it later is a jump)")
            } else if let index, let before {
                kind = .wrapEncoder(joint: index, countsBeforeWrap: before)
            }
        case "reverse_encoder": kind = joint().map { .reverseEncoder(joint: $0) }
        case "device_fault":
            if let code = r.string("code") {
                if let known = faultCodes[code] {
                    kind = .deviceFault(known)
                } else {
                    r.report("code", "unknown fault code \"\(code)\" (known: \(faultCodes.keys.sorted().joined(separator: ", ")))")
                }
            }
        case "over_temperature": kind = joint().map { .overTemperature(joint: $0) }
        case "estop_press": kind = .pressEmergencyStop
        case "estop_release": kind = .releaseEmergencyStop
        case "external_torque":
            let index = joint()
            let torque = r.number("torque_nm", unit: "N·m", in: -1_000...1_000)
            let ramp = r.number("ramp_ms", unit: "ms", in: 0...60_000, required: false, default: 0)
            if let index, let torque, let ramp { kind = .externalTorque(joint: index, newtonMeters: torque, rampMilliseconds: ramp) }
        case "brake_failure": kind = joint().map { .brakeFailure(joint: $0) }
        case "disable_watchdog": kind = .disableWatchdog
        case "ignore_commands": kind = .ignoreCommands
        case "clock_drift": kind = r.number("percent", unit: "%", in: -50...50).map { .clockDrift(percent: $0) }
        case "ignore_limit_writes": kind = .ignoreLimitWrites
        case "patient_stop": kind = .pressPatientStop
        case "patient_stop_release": kind = .releasePatientStop
        case "patient_pause": kind = .pressPatientPause
        case "patient_pause_release": kind = .releasePatientPause
        default:
            r.report("kind", "unknown fault \"\(name)\" (known: \(InjectedFault.Kind.names.joined(separator: ", ")))")
        }
        if let kind, duration != nil, !kind.canEnd {
            r.report("for_ms", "\(kind.name) cannot end by itself; leave out \"for_ms\"")
            return nil
        }
        guard let kind, let trigger else { return nil }
        return InjectedFault(kind, trigger, forMilliseconds: duration)
    }
}
