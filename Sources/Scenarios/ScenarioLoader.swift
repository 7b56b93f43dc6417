import Control
import Foundation
import Primitives
import Profiles
import StrictJSON

/// Loads and validates scenario files (format `rehabhost-scenario/1`) as the project reads every other
/// file: strict JSON, units in the key names, unknown keys are errors, every problem reported at once
/// with its JSON path and the file's name (`ProfileError.invalid`), and nothing runs from a file that
/// failed. hardware/scenarios/README.md documents every key.
public enum ScenarioLoader {
    /// Loads the scenario at `path`.
    public static func load(path: String) throws(ProfileError) -> Scenario {
        let object = try ConfigurationFile.loadObject(at: path)
        return try parse(object, sourcePath: path)
    }

    /// The scenario files at `path`: the file itself, or a folder's `*.json` files (not its
    /// subfolders), sorted by name.
    public static func files(at path: String) throws(ProfileError) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw .notFound(path: path, searched: []) }
        guard isFolder.boolValue else { return [path] }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        let folder = path.hasSuffix("/") ? String(path.dropLast()) : path
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted().map { folder + "/" + $0 }.filter { file in
            var isSubfolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: file, isDirectory: &isSubfolder) && !isSubfolder.boolValue
        }
    }

    /// Validates a parsed scenario; every problem is reported at once.
    public static func parse(_ object: JSONObject, sourcePath: String) throws(ProfileError) -> Scenario {
        var reader = Reader(issues: IssueCollector(), sourcePath: sourcePath)
        let scenario = reader.scenario(object)
        guard reader.issues.issues.isEmpty, let scenario else { throw .invalid(path: sourcePath, issues: reader.issues.reported) }
        return scenario
    }

    /// The longest time a file may give [ms]: one day, as fault scripts.
    static let longestMilliseconds = FaultEntry.longestMilliseconds

    /// Names of scenarios, labels, joints and trackers: letters, digits, '_', '-' and '.'.
    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 100
            && text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0) }
    }
}

/// The reading of one file: the issues found and the labels met so far.
private struct Reader {
    let issues: IssueCollector
    let sourcePath: String
    /// Timeline labels → index.
    var timelineLabels: [String: Int] = [:]
    /// Labels of event expectations read so far → index.
    var eventLabels: [String: Int] = [:]
    /// Labels of the other expectations read so far (they have no time to count from).
    var otherLabels: Set<String> = []
    var timelineCount = 0
    var faultCount = 0

    init(issues: IssueCollector, sourcePath: String) {
        self.issues = issues
        self.sourcePath = sourcePath
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    // MARK: The file

    mutating func scenario(_ object: JSONObject) -> Scenario? {
        var root = FieldReader(object, path: "", issues: issues)
        if let format = root.string("format"), format != Scenario.format {
            root.report("format", "expected \"\(Scenario.format)\", found \"\(format)\"")
        }
        let name = root.string("name")
        if let name, !ScenarioLoader.isName(name) {
            root.report("name", "use letters, digits, '_', '-' and '.' only (found \"\(name)\"): it names the scenario in reports and JUnit")
        }
        let description = root.string("description", required: false, nonEmpty: false) ?? ""
        let requirements = requirementList(&root)
        let tags = stringList(&root, "tags", required: false, names: false) ?? []
        let profile = root.string("profile")
        if let profile, !ScenarioLoader.isName(profile) || profile.hasSuffix(".json") {
            root.report("profile", "a hardware profile's name (hardware/NAME.json, e.g. \"wrist-trainer\"), not a path (found \"\(profile)\")")
        }
        let exercise = exerciseReference(&root)
        var patient: PatientPreset?
        if let text = root.string("patient", required: false) {
            patient = PatientPreset(rawValue: text)
            if patient == nil {
                root.report("patient", "unknown patient \"\(text)\" (the simulated patients: \(PatientPreset.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        let rate = root.number("rate_hz", unit: "Hz", in: 1...10_000, required: false)
        let duration = root.number("duration_s", unit: "s", in: 0.1...86_400, required: false)
        let holds = root.bool("hold_after_fault", required: false, default: false) ?? false
        var ranges: [JointRange] = []
        var caps: [JointTorqueCap] = []
        if var limits = root.object("patient_limits", required: false) {
            ranges = jointPairs(&limits, "rom_deg", unit: "°", in: -180...180).map {
                JointRange(joint: $0.joint, minimumDegrees: $0.first, maximumDegrees: $0.second)
            }
            caps = jointPairs(&limits, "torque_cap_nm", unit: "N·m", in: 0...2_000).map {
                JointTorqueCap(joint: $0.joint, positiveNewtonMeters: $0.first, negativeNewtonMeters: $0.second)
            }
            limits.finish()
        }
        let trackers = stringList(&root, "trackers", required: false, names: true) ?? []
        let referenceTracker = root.string("reference_tracker", required: false)
        if let referenceTracker, !trackers.contains(referenceTracker) {
            root.report("reference_tracker", "\"\(referenceTracker)\" is not in \"trackers\": list it there too (as --reference-tracker needs --tracker)")
        }
        let workspace = readWorkspace(&root, trackers: trackers)
        let faults = faultScript(&root)
        let targets = targetSettings(&root)
        let timeline = readTimeline(&root, holdsAfterFault: holds, trackers: trackers, referenceTracker: referenceTracker)
        let expectations = readExpectations(&root)
        root.finish()
        if expectations.contains(where: { if case .refusedAtSetup = $0.kind { true } else { false } }),
            let loop = timeline.first(where: { $0.phase == .loop })
        {
            issues.add("timeline[\(loop.index)]", "the scenario expects a refusal at set-up, so there is no loop for this entry: give it setup_at_ms, or drop it")
        }
        guard issues.issues.isEmpty, let name, let requirements, let profile, let exercise else { return nil }
        return Scenario(
            name: name, description: description, sourcePath: sourcePath, requirements: requirements, tags: tags, profile: profile,
            exercise: exercise, patient: patient, rateHertz: rate, durationSeconds: duration, holdsAfterFault: holds, patientRanges: ranges,
            patientTorqueCaps: caps, trackers: trackers, referenceTracker: referenceTracker, workspace: workspace, faults: faults,
            targets: targets, timeline: timeline, expectations: expectations)
    }

    func requirementList(_ root: inout FieldReader) -> [RequirementID]? {
        // Required, so that every file says what it proves; [] for a scenario that proves no
        // requirement by itself (a therapy mode, a device kind running clean).
        guard let array = root.array("requirements") else { return nil }
        var requirements: [RequirementID] = []
        var valid = true
        for (index, element) in array.enumerated() {
            let path = "requirements[\(index)]"
            guard let text = element.stringValue else {
                issues.add(path, "expected a requirement such as \"SR-12\", found \(element.kindDescription)")
                valid = false
                continue
            }
            guard let requirement = RequirementID(text) else {
                issues.add(path, "\"\(ScenarioText.printable(text))\" is not a safety requirement: SR-1 … SR-\(RequirementID.highest) (../shared/SAFETY.md)")
                valid = false
                continue
            }
            if requirements.contains(requirement) {
                issues.add(path, "\(requirement) is listed twice")
                valid = false
            }
            requirements.append(requirement)
        }
        return valid ? requirements : nil
    }

    /// An array of non-empty strings (names: as `ScenarioLoader.isName`), none twice.
    func stringList(_ root: inout FieldReader, _ key: String, required: Bool, names: Bool) -> [String]? {
        guard let array = root.array(key, required: required) else { return nil }
        let path = Self.join(root.path, key)
        var values: [String] = []
        for (index, element) in array.enumerated() {
            guard let text = element.stringValue, !text.isEmpty else {
                issues.add("\(path)[\(index)]", "expected a non-empty string, found \(element.kindDescription)")
                continue
            }
            if names && !ScenarioLoader.isName(text) {
                issues.add("\(path)[\(index)]", "use letters, digits, '_', '-' and '.' only (found \"\(ScenarioText.printable(text))\")")
            } else if !names && text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                issues.add("\(path)[\(index)]", "contains a control character; use printable text")
            } else if values.contains(text) {
                issues.add("\(path)[\(index)]", "\"\(text)\" is listed twice")
            } else {
                values.append(text)
            }
        }
        return values
    }

    func exerciseReference(_ root: inout FieldReader) -> ExerciseReference? {
        guard let text = root.string("exercise") else { return nil }
        if text.contains("/") || text.hasSuffix(".json") {
            guard !text.hasPrefix("/") else {
                root.report("exercise", "a path is taken from the scenario's folder: write it relative (found \"\(text)\")")
                return nil
            }
            let folder = sourcePath.contains("/") ? String(sourcePath[..<sourcePath.lastIndex(of: "/")!]) : "."
            return .file(written: text, path: folder + "/" + text)
        }
        guard ScenarioLoader.isName(text) else {
            root.report("exercise", "an exercise's name (hardware/exercises/NAME.json) or a path relative to the scenario (found \"\(text)\")")
            return nil
        }
        return .named(text)
    }

    /// `{"JOINT": [a, b], …}` under `key`: each pair two finite numbers within `range`, the first below the second for a range.
    func jointPairs(_ limits: inout FieldReader, _ key: String, unit: String, in range: ClosedRange<Double>) -> [(joint: String, first: Double, second: Double)] {
        guard var joints = limits.object(key, required: false) else { return [] }
        defer { joints.finish() }
        var pairs: [(joint: String, first: Double, second: Double)] = []
        for joint in joints.object.keys {
            let path = Self.join(joints.path, joint)
            guard let array = joints.array(joint) else { continue }
            if !ScenarioLoader.isName(joint) {
                issues.add(path, "a joint's name from the profile: letters, digits, '_' and '-'")
                continue
            }
            let numbers = array.compactMap(\.doubleValue).filter(\.isFinite)
            guard array.count == 2, numbers.count == 2 else {
                issues.add(path, key == "rom_deg"
                    ? "expected [minimum, maximum] in \(unit)" : "expected [positive, negative] torque caps, both magnitudes in \(unit)")
                continue
            }
            guard range.contains(numbers[0]), range.contains(numbers[1]) else {
                issues.add(path, "each must be between \(ScenarioText.number(range.lowerBound)) and \(ScenarioText.number(range.upperBound)) \(unit)")
                continue
            }
            if key == "rom_deg" && !(numbers[0] < numbers[1]) {
                issues.add(path, "the minimum (\(ScenarioText.number(numbers[0]))°) must be below the maximum (\(ScenarioText.number(numbers[1]))°)")
                continue
            }
            if key == "torque_cap_nm" && !(numbers[0] > 0 && numbers[1] > 0) {
                issues.add(path, "caps are magnitudes greater than 0 N·m (a direction the joint may not push is not a cap)")
                continue
            }
            pairs.append((joint, numbers[0], numbers[1]))
        }
        return pairs
    }

    func readWorkspace(_ root: inout FieldReader, trackers: [String]) -> Workspace? {
        guard var r = root.object("workspace", required: false) else { return nil }
        defer { r.finish() }
        let tracker = r.string("tracker")
        if let tracker, !trackers.contains(tracker) {
            r.report("tracker", "\"\(tracker)\" is not in \"trackers\": list it there too (as --workspace needs --tracker)")
        }
        func point(_ key: String) -> SIMD3<Double>? {
            guard let array = r.array(key) else { return nil }
            let numbers = array.compactMap(\.doubleValue).filter { $0.isFinite && abs($0) <= 100 }
            guard array.count == 3, numbers.count == 3 else {
                r.report(key, "expected [x, y, z] in metres of the tracker's frame (each within ±100 m)")
                return nil
            }
            return SIMD3(numbers[0], numbers[1], numbers[2])
        }
        let minimum = point("min_m")
        let maximum = point("max_m")
        if let minimum, let maximum, !(0..<3).allSatisfy({ minimum[$0] < maximum[$0] }) {
            r.report("max_m", "each coordinate must be above min_m's")
            return nil
        }
        guard let tracker, trackers.contains(tracker), let minimum, let maximum else { return nil }
        return Workspace(tracker: tracker, minimumMeters: minimum, maximumMeters: maximum)
    }

    mutating func faultScript(_ root: inout FieldReader) -> [FaultEntry] {
        guard let array = root.array("faults", required: false) else { return [] }
        faultCount = array.count
        var faults: [FaultEntry] = []
        for (index, element) in array.enumerated() {
            let path = "faults[\(index)]"
            guard let entry = element.objectValue else {
                issues.add(path, "expected a fault-script entry (an object), found \(element.kindDescription)")
                continue
            }
            if let fault = FaultEntry.parse(FieldReader(entry, path: path, issues: issues), scope: .robot, triggers: .required) {
                faults.append(fault)
            }
        }
        return faults
    }

    func targetSettings(_ root: inout FieldReader) -> [ScenarioTarget: TargetSettings] {
        guard var r = root.object("targets", required: false) else { return [:] }
        defer { r.finish() }
        var settings: [ScenarioTarget: TargetSettings] = [:]
        for key in r.object.keys {
            guard let target = ScenarioTarget(rawValue: key) else {
                r.skip(key)
                r.report(key, "unknown target (targets: \(ScenarioTarget.allCases.map(\.rawValue).joined(separator: ", ")))")
                continue
            }
            guard var t = r.object(key) else { continue }
            let runs = t.bool("runs", required: false, default: true) ?? true
            let rate = t.number("rate_hz", unit: "Hz", in: 1...10_000, required: false)
            let slack = t.number("slack_ms", unit: "ms", in: 0...1_000, required: false, default: TargetSettings.defaultSlackMilliseconds(for: target))
            let note = t.string("note", required: false)
            if !runs && note == nil && t.object["note"] == nil {
                t.report("note", "say why the scenario does not run on \(target) (the report shows it as the reason it was skipped)")
            }
            t.finish()
            if let slack { settings[target] = TargetSettings(runs: runs, rateHertz: rate, slackMilliseconds: slack, note: note) }
        }
        return settings
    }

    // MARK: Labels and references

    /// Reads an optional `label`: a name, not "start", not a number, unique in the file.
    func readLabel(_ r: inout FieldReader) -> String? {
        guard let label = r.string("label", required: false) else { return nil }
        if !ScenarioLoader.isName(label) || label == "start" || label.allSatisfy(\.isNumber) {
            r.report("label", "use letters, digits, '_', '-' and '.' (not \"start\", not a number): found \"\(label)\"")
            return nil
        }
        if timelineLabels[label] != nil || eventLabels[label] != nil || otherLabels.contains(label) {
            r.report("label", "\"\(label)\" labels an earlier entry already")
            return nil
        }
        return label
    }

    enum Resolved {
        case absent
        case invalid
        case value(ScenarioReference)

        var reference: ScenarioReference? {
            if case .value(let reference) = self { return reference }
            return nil
        }
    }

    /// Reads a reference under `key`: "start", a timeline label or index, "faults[N]", or (with
    /// `expectations`) the label of an earlier event expectation.
    func readReference(_ r: inout FieldReader, _ key: String, required: Bool, expectations: Bool = true, timelineOnly: Bool = false) -> Resolved {
        r.skip(key)
        let path = Self.join(r.path, key)
        guard let raw = r.object[key] else {
            if required { issues.add(path, "missing") }
            return .absent
        }
        if let index = raw.integerValue, raw.stringValue == nil {
            guard index >= 0, index < Int64(timelineCount) else {
                issues.add(path, timelineCount == 0
                    ? "the timeline is empty: no entry \(index)" : "timeline[\(index)] does not exist (the timeline has entries 0 … \(timelineCount - 1))")
                return .invalid
            }
            return .value(.timeline(Int(index)))
        }
        guard let text = raw.stringValue else {
            issues.add(path, "expected a timeline label or index, \"start\", \"faults[N]\" or an earlier event's label, found \(raw.kindDescription)")
            return .invalid
        }
        if let index = timelineLabels[text] { return .value(.timeline(index)) }
        if timelineOnly {
            issues.add(path, "no timeline entry is labelled \"\(ScenarioText.printable(text))\"" + labelsHint(timelineLabels.keys))
            return .invalid
        }
        if text == "start" { return .value(.start) }
        if text.hasPrefix("faults["), text.hasSuffix("]"), let index = Int(text.dropFirst(7).dropLast()) {
            guard index >= 0, index < faultCount else {
                issues.add(path, faultCount == 0 ? "the scenario has no \"faults\"" : "faults[\(index)] does not exist (faults 0 … \(faultCount - 1))")
                return .invalid
            }
            return .value(.fault(index))
        }
        if expectations, let index = eventLabels[text] { return .value(.expectation(index)) }
        if expectations, otherLabels.contains(text) {
            issues.add(path, "\"\(text)\" is not an event expectation: only an event's transition has a time to count from")
            return .invalid
        }
        let known = Array(timelineLabels.keys) + (expectations ? Array(eventLabels.keys) : [])
        issues.add(path, "no timeline entry\(expectations ? " or earlier event expectation" : "") is labelled \"\(ScenarioText.printable(text))\"" + labelsHint(known))
        return .invalid
    }

    private func labelsHint<S: Sequence<String>>(_ labels: S) -> String {
        let sorted = labels.sorted()
        return sorted.isEmpty ? "" : " (labels: \(sorted.joined(separator: ", ")))"
    }

    // MARK: Timeline

    mutating func readTimeline(_ root: inout FieldReader, holdsAfterFault: Bool, trackers: [String], referenceTracker: String?) -> [TimelineEntry] {
        guard let array = root.array("timeline", required: false) else { return [] }
        timelineCount = array.count
        var entries: [TimelineEntry] = []
        var previous: (index: Int, phase: TimelineEntry.Phase, milliseconds: Double)?
        for (index, element) in array.enumerated() {
            let path = "timeline[\(index)]"
            guard let object = element.objectValue else {
                issues.add(path, "expected an object, found \(element.kindDescription)")
                continue
            }
            var e = FieldReader(object, path: path, issues: issues)
            let phases = ["at_ms", "setup_at_ms"].filter { object[$0] != nil }
            var phase: TimelineEntry.Phase?
            var milliseconds: Double?
            switch phases.count {
            case 0:
                e.report("", "needs its time: \"at_ms\" (since the loop's start) or \"setup_at_ms\" (since the set-up began)")
                e.skip("at_ms")
                e.skip("setup_at_ms")
            case 1:
                phase = phases[0] == "at_ms" ? .loop : .setUp
                milliseconds = e.number(phases[0], unit: "ms", in: 0...ScenarioLoader.longestMilliseconds)
                e.skip(phases[0] == "at_ms" ? "setup_at_ms" : "at_ms")
            default:
                e.skip("at_ms")
                e.skip("setup_at_ms")
                e.report("setup_at_ms", "give one time: \"at_ms\" or \"setup_at_ms\", not both")
            }
            let label = readLabel(&e)
            if let label { timelineLabels[label] = index }
            let action = readAction(&e, phase: phase, holdsAfterFault: holdsAfterFault, trackers: trackers, referenceTracker: referenceTracker)
            e.finish()
            guard let phase, let milliseconds else { continue }
            if let previous {
                if previous.phase == .loop && phase == .setUp {
                    issues.add(Self.join(path, "setup_at_ms"), "set-up entries come before the loop's: timeline[\(previous.index)] is already in the loop (the timeline is in time order)")
                } else if previous.phase == phase && milliseconds < previous.milliseconds {
                    issues.add(Self.join(path, phase == .loop ? "at_ms" : "setup_at_ms"),
                               "\(ScenarioText.number(milliseconds)) ms comes before timeline[\(previous.index)]'s \(ScenarioText.number(previous.milliseconds)) ms: the timeline is in time order")
                }
            }
            previous = (index, phase, milliseconds)
            if let action {
                entries.append(TimelineEntry(index: index, label: label, phase: phase, atMilliseconds: milliseconds, action: action))
            }
        }
        return entries
    }

    func readAction(_ e: inout FieldReader, phase: TimelineEntry.Phase?, holdsAfterFault: Bool, trackers: [String], referenceTracker: String?) -> TimelineAction? {
        guard let name = e.string("action") else { return nil }
        if phase == .setUp && TimelineAction.names.contains(name) && !TimelineAction.setUpNames.contains(name) {
            e.report("action", "\(name) needs the running loop: during the set-up only \(TimelineAction.setUpNames.joined(separator: ", ")) (give at_ms)")
        }
        if (name == "release" || name == "reset") && !holdsAfterFault {
            e.report("action", "\(name) acts on a latched fault or e-stop: it needs \"hold_after_fault\": true (without it the session ends as soon as torque is off)")
        }
        switch name {
        case "estop": return .emergencyStop
        case "stop": return .stop
        case "pause": return .pause
        case "resume": return .resume
        case "reset": return .reset
        case "release":
            return e.number("for_ms", unit: "ms", in: 0...600_000, positive: true).map { .release(forMilliseconds: $0) }
        case "mode":
            guard let mode = e.string("mode") else { return nil }
            let known = ["exercise"] + TherapyMode.names
            guard known.contains(mode) else {
                e.report("mode", "unknown mode \"\(ScenarioText.printable(mode))\" (modes: \(known.joined(separator: ", ")))")
                return nil
            }
            return .mode(mode)
        case "device_fault":
            let prompt = rigPrompt(&e)
            guard let fault = e.object("fault") else { return nil }
            return FaultEntry.parse(fault, scope: .robot, triggers: .forbidden).map { .deviceFault($0, rigPrompt: prompt) }
        case "tracker_fault":
            let prompt = rigPrompt(&e)
            let tracker = e.string("tracker")
            var scope = FaultEntry.Scope.tracker
            if let tracker {
                if tracker == "reference" {
                    scope = .reference
                    if let referenceTracker {
                        e.report("tracker", "the mirror follows \(referenceTracker) here, not a RehabRef stream: give its faults as \"tracker\": \"\(referenceTracker)\"")
                    }
                } else if !trackers.contains(tracker) {
                    e.report("tracker", "\"\(tracker)\" is not in \"trackers\" (nor \"reference\", mirror's RehabRef stream)")
                }
            }
            guard let fault = e.object("fault") else { return nil }
            guard let entry = FaultEntry.parse(fault, scope: scope, triggers: .forbidden), let tracker else { return nil }
            return .trackerFault(tracker: tracker, entry, rigPrompt: prompt)
        case "operator_prompt":
            return readPrompt(&e).map { .operatorPrompt($0) }
        case "host_stall":
            return e.number("for_ms", unit: "ms", in: 0...1_000, positive: true).map { .hostStall(forMilliseconds: $0) }
        case "wait":
            let text = e.string("state")
            let timeout = e.number("timeout_ms", unit: "ms", in: 0...ScenarioLoader.longestMilliseconds, positive: true)
            guard let text else { return nil }
            guard let state = SupervisorState(rawValue: text) else {
                e.report("state", "unknown supervisor state \"\(ScenarioText.printable(text))\" (states: \(SupervisorState.allCases.map(\.rawValue).joined(separator: ", ")))")
                return nil
            }
            return timeout.map { .wait(state: state, timeoutMilliseconds: $0) }
        default:
            e.report("action", "unknown action \"\(ScenarioText.printable(name))\" (actions: \(TimelineAction.names.joined(separator: ", ")))")
            for key in e.object.keys { e.skip(key) }
            return nil
        }
    }

    /// `text` and `timeout_s` of a prompt.
    func readPrompt(_ r: inout FieldReader) -> OperatorPrompt? {
        let text = r.string("text")
        let timeout = r.number("timeout_s", unit: "s", in: 1...3_600)
        guard let text, let timeout else { return nil }
        return OperatorPrompt(text: text, timeoutSeconds: timeout)
    }

    func rigPrompt(_ e: inout FieldReader) -> OperatorPrompt? {
        guard var r = e.object("rig_prompt", required: false) else { return nil }
        defer { r.finish() }
        return readPrompt(&r)
    }

    // MARK: Expectations

    mutating func readExpectations(_ root: inout FieldReader) -> [Expectation] {
        guard let array = root.array("expect") else { return [] }
        if array.isEmpty { root.report("expect", "a scenario proves something: give at least one expectation") }
        var expectations: [Expectation] = []
        for (index, element) in array.enumerated() {
            let path = "expect[\(index)]"
            guard let object = element.objectValue else {
                issues.add(path, "expected an object, found \(element.kindDescription)")
                continue
            }
            var e = FieldReader(object, path: path, issues: issues)
            let label = readLabel(&e)
            var onlyOn: Set<ScenarioTarget>?
            if let targets = e.array("only_on", required: false) {
                var set = Set<ScenarioTarget>()
                for (position, value) in targets.enumerated() {
                    if let target = value.stringValue.flatMap(ScenarioTarget.init(rawValue:)) {
                        set.insert(target)
                    } else {
                        issues.add("\(path).only_on[\(position)]", "expected a target: \(ScenarioTarget.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                }
                if targets.isEmpty { e.report("only_on", "name at least one target (or leave it out: every target)") }
                onlyOn = set
            }
            let kinds = Expectation.Kind.names.filter { object[$0] != nil }
            guard kinds.count == 1 else {
                for key in Expectation.Kind.names { e.skip(key) }
                e.report("", kinds.isEmpty
                    ? "needs one of: \(Expectation.Kind.names.joined(separator: ", "))"
                    : "one expectation per object: found \(kinds.joined(separator: " and "))")
                e.finish()
                continue
            }
            let kind = expectationKind(kinds[0], &e)
            e.finish()
            if let label {
                if case .event? = kind { eventLabels[label] = index } else { otherLabels.insert(label) }
            }
            if let kind { expectations.append(Expectation(index: index, label: label, onlyOn: onlyOn, kind: kind)) }
        }
        return expectations
    }

    func expectationKind(_ name: String, _ e: inout FieldReader) -> Expectation.Kind? {
        switch name {
        case "final_state":
            e.skip(name)
            let path = Self.join(e.path, name)
            let raw = e.object[name]!
            let texts = raw.stringValue.map { [$0] } ?? raw.arrayValue?.compactMap(\.stringValue)
            guard let texts, !texts.isEmpty, raw.stringValue != nil || texts.count == raw.arrayValue?.count else {
                issues.add(path, "expected a supervisor state, or a list of them, found \(raw.kindDescription)")
                return nil
            }
            var states: [SupervisorState] = []
            for text in texts {
                guard let state = SupervisorState(rawValue: text) else {
                    issues.add(path, "unknown supervisor state \"\(ScenarioText.printable(text))\" (states: \(SupervisorState.allCases.map(\.rawValue).joined(separator: ", ")))")
                    return nil
                }
                states.append(state)
            }
            return .finalState(states)
        default:
            break
        }
        guard var r = e.object(name) else { return nil }
        defer { r.finish() }
        switch name {
        case "event":
            let matcher = readMatcher(&r, requireSomething: true)
            let after = readReference(&r, "after", required: false)
            let within = r.number("within_ms", unit: "ms", in: 0...ScenarioLoader.longestMilliseconds, required: false)
            let notBefore = r.number("not_before_ms", unit: "ms", in: 0...ScenarioLoader.longestMilliseconds, required: false)
            let first = r.bool("first", required: false, default: false) ?? false
            if case .absent = after, within != nil || notBefore != nil {
                r.report(within != nil ? "within_ms" : "not_before_ms", "needs \"after\": the time it counts from (a timeline label, \"faults[N]\", \"start\")")
            }
            if let within, let notBefore, notBefore > within { r.report("not_before_ms", "must not exceed within_ms (\(ScenarioText.number(within)) ms)") }
            if case .invalid = after { return nil }
            guard let matcher else { return nil }
            return .event(EventExpectation(matcher: matcher, after: after.reference, withinMilliseconds: within, notBeforeMilliseconds: notBefore, first: first))
        case "no_event":
            let matcher = readMatcher(&r, requireSomething: true)
            let window = readWindow(&r)
            guard let matcher, let window else { return nil }
            return .noEvent(matcher, window)
        case "no_safety_event":
            return readWindow(&r).map { .noSafetyEvent($0) }
        case "metric":
            let metric = r.string("name")
            if let metric, let problem = MetricCatalog.problem(metric) { r.report("name", problem) }
            let joint = r.string("joint", required: false)
            if let joint, let metric, !MetricCatalog.isPerJoint(metric), MetricCatalog.problem(metric) == nil {
                r.report("joint", "\(metric) is one number for the session: it has no joint (found \"\(joint)\")")
            }
            let minimum = r.number("min", unit: "(the unit in the metric's name)", required: false)
            let maximum = r.number("max", unit: "(the unit in the metric's name)", required: false)
            if minimum == nil && maximum == nil && r.object["min"] == nil && r.object["max"] == nil {
                r.report("", "give \"min\", \"max\" or both (in the unit the metric's name carries)")
                return nil
            }
            if let minimum, let maximum, minimum > maximum { r.report("min", "must not exceed max (\(ScenarioText.number(maximum)))") }
            guard let metric, MetricCatalog.problem(metric) == nil, minimum != nil || maximum != nil else { return nil }
            return .metric(MetricExpectation(name: metric, joint: joint, minimum: minimum, maximum: maximum))
        case "link_quality":
            let text = r.string("grade")
            let grade = text.flatMap { text in LinkGrade.allCases.first { $0.description == text } }
            if let text, grade == nil { r.report("grade", "unknown grade \"\(ScenarioText.printable(text))\" (grades: GOOD, FAIR, POOR, LOST)") }
            let minimumSeconds = r.number("min_s", unit: "s", in: 0...86_400, required: false)
            let maximumSeconds = r.number("max_s", unit: "s", in: 0...86_400, required: false)
            let minimumEpisodes = r.integer("min_episodes", unit: "episodes", in: 0...1_000_000, required: false).map { Int($0) }
            let maximumEpisodes = r.integer("max_episodes", unit: "episodes", in: 0...1_000_000, required: false).map { Int($0) }
            if let grade, grade == .good || grade == .lost, r.object["min_episodes"] != nil || r.object["max_episodes"] != nil {
                r.report(r.object["min_episodes"] != nil ? "min_episodes" : "max_episodes", "episodes are counted for FAIR and POOR only")
            }
            if ["min_s", "max_s", "min_episodes", "max_episodes"].allSatisfy({ r.object[$0] == nil }) {
                r.report("", "give at least one bound: min_s, max_s, min_episodes, max_episodes")
            }
            if let minimumSeconds, let maximumSeconds, minimumSeconds > maximumSeconds { r.report("min_s", "must not exceed max_s") }
            if let minimumEpisodes, let maximumEpisodes, minimumEpisodes > maximumEpisodes { r.report("min_episodes", "must not exceed max_episodes") }
            guard let grade else { return nil }
            return .linkQuality(LinkQualityExpectation(grade: grade, minimumSeconds: minimumSeconds, maximumSeconds: maximumSeconds,
                                                       minimumEpisodes: minimumEpisodes, maximumEpisodes: maximumEpisodes))
        case "torque_off":
            let after = readReference(&r, "after", required: true)
            let within = r.number("within_ms", unit: "ms", in: 0...ScenarioLoader.longestMilliseconds)
            var evidence = TorqueOffEvidence.command
            if let text = r.string("evidence", required: false) {
                if let known = TorqueOffEvidence(rawValue: text) {
                    evidence = known
                } else {
                    r.report("evidence", "expected \"command\" (the host's) or \"device\" (the device's own record), found \"\(ScenarioText.printable(text))\"")
                }
            }
            guard let reference = after.reference, let within else { return nil }
            return .torqueOff(TorqueOffExpectation(after: reference, withinMilliseconds: within, evidence: evidence))
        case "device_event":
            let event = readDeviceEventName(&r)
            let joint = r.integer("joint", unit: "(joint index)", in: 0...Int64(JointList<Double>.capacity - 1), required: false).map { Int($0) }
            let after = readReference(&r, "after", required: false)
            let within = r.number("within_ms", unit: "ms", in: 0...ScenarioLoader.longestMilliseconds, required: false)
            let notBefore = r.number("not_before_ms", unit: "ms", in: 0...ScenarioLoader.longestMilliseconds, required: false)
            if case .absent = after, within != nil || notBefore != nil {
                r.report(within != nil ? "within_ms" : "not_before_ms", "needs \"after\": the time it counts from")
            }
            if let within, let notBefore, notBefore > within { r.report("not_before_ms", "must not exceed within_ms (\(ScenarioText.number(within)) ms)") }
            if case .invalid = after { return nil }
            guard let event else { return nil }
            return .deviceEvent(DeviceEventExpectation(name: event, joint: joint, after: after.reference, withinMilliseconds: within,
                                                       notBeforeMilliseconds: notBefore))
        case "no_device_event":
            let event = readDeviceEventName(&r)
            let joint = r.integer("joint", unit: "(joint index)", in: 0...Int64(JointList<Double>.capacity - 1), required: false).map { Int($0) }
            let window = readWindow(&r)
            guard let event, let window else { return nil }
            return .noDeviceEvent(name: event, joint: joint, window: window)
        case "refused_at_setup":
            let reasons = readSubstrings(&r, "reason_contains")
            let exitCode = r.integer("exit_code", unit: "(exit code)", in: 0...255, required: false).map { Int($0) }
            let neverEnabled = r.bool("never_enabled", required: false)
            let leftDisabled = r.bool("left_disabled", required: false)
            guard let reasons else { return nil }
            return .refusedAtSetup(SetupRefusalExpectation(reasonContains: reasons, exitCode: exitCode, neverEnabled: neverEnabled, leftDisabled: leftDisabled))
        case "action_outcome":
            let action = readReference(&r, "action", required: true, expectations: false, timelineOnly: true)
            let accepted = r.bool("accepted")
            let reasons = readSubstrings(&r, "reason_contains")
            if accepted == true, let reasons, !reasons.isEmpty { r.report("reason_contains", "an accepted request has no refusal to read") }
            guard let reference = action.reference, let accepted, let reasons else { return nil }
            return .actionOutcome(ActionOutcomeExpectation(action: reference, accepted: accepted, reasonContains: reasons))
        case "black_box":
            let written = r.bool("written", required: false, default: true) ?? true
            var cause: SafetyCause?
            if let text = r.string("cause", required: false) {
                cause = SafetyCause(rawValue: text)
                if cause == nil { r.report("cause", "unknown cause \"\(ScenarioText.printable(text))\" (SafetyCause's names, e.g. device_fault)") }
                if !written { r.report("cause", "no black box was written: it has no cause") }
            }
            return .blackBox(written: written, cause: cause)
        default:
            return nil
        }
    }

    func readDeviceEventName(_ r: inout FieldReader) -> String? {
        guard let event = r.string("event") else { return nil }
        guard DeviceEventExpectation.knownNames.contains(event) else {
            r.report("event", "unknown device event \"\(ScenarioText.printable(event))\" (events: \(DeviceEventExpectation.knownNames.joined(separator: ", ")))")
            return nil
        }
        return event
    }

    /// A string or a list of strings (empty list: none).
    func readSubstrings(_ r: inout FieldReader, _ key: String) -> [String]? {
        r.skip(key)
        guard let raw = r.object[key] else { return [] }
        if let text = raw.stringValue, !text.isEmpty { return [text] }
        if let array = raw.arrayValue {
            let texts = array.compactMap(\.stringValue).filter { !$0.isEmpty }
            if texts.count == array.count { return texts }
        }
        issues.add(Self.join(r.path, key), "expected a non-empty string, or a list of them, found \(raw.kindDescription)")
        return nil
    }

    /// `to`, `from`, `cause`, `requirement`, `category`, `joint`, `value_min_<unit>`, `value_max_<unit>`.
    func readMatcher(_ r: inout FieldReader, requireSomething: Bool) -> TransitionMatcher? {
        var valid = true
        func state(_ key: String) -> SupervisorState? {
            guard let text = r.string(key, required: false) else {
                if r.object[key] != nil { valid = false }
                return nil
            }
            guard let state = SupervisorState(rawValue: text) else {
                r.report(key, "unknown supervisor state \"\(ScenarioText.printable(text))\" (states: \(SupervisorState.allCases.map(\.rawValue).joined(separator: ", ")))")
                valid = false
                return nil
            }
            return state
        }
        let to = state("to")
        let from = state("from")
        var causes: [SafetyCause] = []
        r.skip("cause")
        if let raw = r.object["cause"] {
            let texts = raw.stringValue.map { [$0] } ?? raw.arrayValue?.compactMap(\.stringValue) ?? []
            if texts.isEmpty || (raw.stringValue == nil && texts.count != raw.arrayValue?.count) {
                r.report("cause", "expected a cause (SafetyCause's name, e.g. \"operator_estop\"), or a list of causes, found \(raw.kindDescription)")
                valid = false
            }
            for text in texts {
                if let cause = SafetyCause(rawValue: text) {
                    causes.append(cause)
                } else {
                    r.report("cause", "unknown cause \"\(ScenarioText.printable(text))\" (causes: \(SafetyCause.allCases.map(\.rawValue).joined(separator: ", ")))")
                    valid = false
                }
            }
        }
        var requirement: RequirementID?
        if let text = r.string("requirement", required: false) {
            requirement = RequirementID(text)
            if let requirement {
                for cause in causes where cause.requirement != requirement.description {
                    r.report("requirement", "\(cause.rawValue) belongs to \(cause.requirement.isEmpty ? "no requirement" : cause.requirement), not \(requirement)")
                    valid = false
                }
            } else {
                r.report("requirement", "\"\(ScenarioText.printable(text))\" is not a safety requirement: SR-1 … SR-\(RequirementID.highest)")
                valid = false
            }
        } else if r.object["requirement"] != nil {
            valid = false
        }
        var category: StopCategory?
        if let number = r.integer("category", unit: "(stop category: 0, 1 or 2)", in: 0...2, required: false) {
            category = StopCategory(rawValue: Int(number))
        } else if r.object["category"] != nil {
            valid = false
        }
        let joint = r.integer("joint", unit: "(joint index)", in: 0...Int64(JointList<Double>.capacity - 1), required: false).map { Int($0) }
        if joint == nil && r.object["joint"] != nil { valid = false }
        // Value bounds carry the unit of the cause's value in their key: value_min_deg, value_max_ms …
        var minimum: Double?
        var maximum: Double?
        var unit: String?
        for key in r.object.keys where key.hasPrefix("value_min_") || key.hasPrefix("value_max_") {
            let suffix = String(key.dropFirst("value_min_".count))
            guard let named = Self.valueUnits[suffix] else {
                r.skip(key)
                r.report(key, "unknown unit \"\(suffix)\" (value_min_/value_max_ take: \(Self.valueUnits.keys.sorted().joined(separator: ", ")))")
                valid = false
                continue
            }
            let number = r.number(key, unit: named, required: false)
            guard causes.count == 1 else {
                r.report(key, "a value is in its cause's unit: name exactly one cause")
                valid = false
                continue
            }
            guard causes[0].valueUnit == named else {
                r.report(key, causes[0].valueUnit.isEmpty
                    ? "\(causes[0].rawValue) carries no value"
                    : "\(causes[0].rawValue)'s value is in \(causes[0].valueUnit): use value_\(key.hasPrefix("value_min_") ? "min" : "max")_\(Self.valueUnits.first { $0.value == causes[0].valueUnit }?.key ?? "?")")
                valid = false
                continue
            }
            if key.hasPrefix("value_min_") { minimum = number } else { maximum = number }
            if number == nil { valid = false }
            unit = named
        }
        if let minimum, let maximum, minimum > maximum {
            r.report("value_min_\(Self.valueUnits.first { $0.value == unit }?.key ?? "")", "must not exceed the maximum")
            valid = false
        }
        if requireSomething && to == nil && causes.isEmpty && requirement == nil && category == nil && valid {
            r.report("", "say which transition: give \"to\", \"cause\", \"requirement\" or \"category\"")
            valid = false
        }
        guard valid else { return nil }
        return TransitionMatcher(to: to, from: from, causes: causes, requirement: requirement, category: category, joint: joint,
                                 valueMinimum: minimum, valueMaximum: maximum, valueUnit: unit)
    }

    /// The key suffixes of value bounds → the unit of `SafetyCause.valueUnit` they stand for.
    static let valueUnits: [String: String] = [
        "deg": "deg", "ms": "ms", "rad_per_s": "rad/s", "nm": "N·m", "mm": "mm", "percent": "%", "hz": "Hz", "counts": "counts",
        "pauses": "pauses", "frames": "frames",
    ]

    /// `after`, `before`, `from_ms`, `to_ms`.
    func readWindow(_ r: inout FieldReader) -> EventWindow? {
        let after = readReference(&r, "after", required: false)
        let before = readReference(&r, "before", required: false)
        let from = r.number("from_ms", unit: "ms", in: 0...ScenarioLoader.longestMilliseconds, required: false)
        let to = r.number("to_ms", unit: "ms", in: 0...ScenarioLoader.longestMilliseconds, required: false)
        if let from, let to, !(from < to) { r.report("to_ms", "must be after from_ms (\(ScenarioText.number(from)) ms)") }
        if case .invalid = after { return nil }
        if case .invalid = before { return nil }
        if (r.object["from_ms"] != nil && from == nil) || (r.object["to_ms"] != nil && to == nil) { return nil }
        return EventWindow(after: after.reference, before: before.reference, fromMilliseconds: from, toMilliseconds: to)
    }
}

extension ScenarioText {
    /// A file's text for a message: control characters escaped, at most 80 characters.
    static func printable(_ text: String) -> String {
        var out = ""
        for (count, scalar) in text.unicodeScalars.enumerated() {
            if count >= 80 { return out + "…" }
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
