import Profiles
import StrictJSON

/// Reads fault scripts (`rehabsim --faults FILE.json`) and live injections (one JSON object per
/// line on `rehabsim --control`) for a firmware whose device-level faults are `DeviceKind`,
/// validated like hardware profiles: every problem at once, each with the exact path of the bad
/// field; unknown keys, missing units, negative or non-finite values are errors. Every time is at
/// most `longestMilliseconds` (one day): the injector counts in 64-bit nanoseconds, which a longer
/// time would overflow.
///
///     {"format": "rehabsim-faults/1",
///      "faults": [{"at_ms": 2000, "for_ms": 50, "kind": "drop_replies"},
///                 {"after_enable_ms": 500, "kind": "external_torque", "joint": 0, "torque_nm": 2.5, "ramp_ms": 30}]}
///
/// The triggers, `for_ms` and the link faults are read here; every other kind by `DeviceKind.parse`.
public enum FaultScriptParser<DeviceKind: InjectableDeviceFault> {
    public typealias Fault = ScheduledFault<DeviceKind>

    public static var format: String { FaultScriptFormat.name }
    /// The longest time a script may give (`at_ms`, `after_enable_ms`, `for_ms`): one day [ms].
    public static var longestMilliseconds: Double { FaultScriptFormat.longestMilliseconds }

    /// Loads and validates the script at `path` for a device with `jointCount` joints.
    public static func load(path: String, jointCount: Int) throws(ProfileError) -> [Fault] {
        let object = try ConfigurationFile.loadObject(at: path)
        return try parse(object, sourcePath: path, jointCount: jointCount)
    }

    public static func parse(_ object: JSONObject, sourcePath: String, jointCount: Int) throws(ProfileError) -> [Fault] {
        let issues = IssueCollector()
        var root = FieldReader(object, path: "", issues: issues)
        if let format = root.string("format"), format != Self.format {
            root.report("format", "expected \"\(Self.format)\", found \"\(format)\"")
        }
        var faults: [Fault] = []
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
    public static func parseLive(_ line: String, jointCount: Int) -> Result<Fault, ProfileError> {
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

    private static func parseFault(_ reader: FieldReader, jointCount: Int, live: Bool) -> Fault? {
        var r = reader
        defer { r.finish() }
        let longest = longestMilliseconds
        let triggers = ["at_ms", "after_enable_ms", "at_command"].filter { r.object[$0] != nil }
        var trigger: FaultTrigger?
        switch triggers.first {
        case "at_ms": trigger = r.number("at_ms", unit: "ms", in: 0...longest).map { .atMilliseconds($0) }
        case "after_enable_ms":
            trigger = r.number("after_enable_ms", unit: "ms", in: 0...longest).map { .afterEnableMilliseconds($0) }
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
        let duration = r.number("for_ms", unit: "ms", in: 0...longest, positive: true, required: false)
        guard let name = r.string("kind") else { return nil }
        var kind: FaultKind<DeviceKind>?
        switch name {
        case "drop_replies": kind = .link(.dropReplies)
        case "corrupt_bytes": kind = r.integer("every_nth", unit: "bytes", in: 1...1_000_000).map { .link(.corruptBytes(everyNth: Int($0))) }
        case "delay_replies": kind = r.number("delay_ms", unit: "ms", in: 0...10_000).map { .link(.delayReplies(milliseconds: $0)) }
        case "unplug": kind = .link(.unplug)
        default:
            if DeviceKind.names.contains(name) {
                kind = DeviceKind.parse(kind: name, fields: &r, jointCount: jointCount, trigger: trigger).map { .device($0) }
            } else {
                r.report("kind", "unknown fault \"\(name)\" (known: \(FaultKind<DeviceKind>.names.joined(separator: ", ")))")
            }
        }
        if let kind, duration != nil, !kind.canEnd {
            r.report("for_ms", "\(kind.name) cannot end by itself; leave out \"for_ms\"")
            return nil
        }
        guard let kind, let trigger else { return nil }
        return ScheduledFault(kind, trigger, forMilliseconds: duration)
    }
}

/// The fault-script format's constants, shared by every firmware's parser.
public enum FaultScriptFormat {
    /// The value of a script's "format" key.
    public static let name = "rehabsim-faults/1"
    /// The longest time a script may give (`at_ms`, `after_enable_ms`, `for_ms`): one day [ms].
    public static let longestMilliseconds = 86_400_000.0

    /// Reads `joint` as an index of one of `jointCount` joints (for `InjectableDeviceFault.parse`).
    public static func joint(_ fields: inout FieldReader, jointCount: Int) -> Int? {
        fields.integer("joint", unit: "(joint index)", in: 0...Int64(max(0, jointCount - 1))).map { Int($0) }
    }
}
