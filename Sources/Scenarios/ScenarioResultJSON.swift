import Profiles
import StrictJSON

/// The JSON form of scenario results (`rehabctl scenario run --json`, format
/// `rehabhost-scenario-results/1`), written with StrictJSON's order-keeping writer and read back
/// strictly (unknown keys are errors, every problem with its path) for `rehabctl scenario trace`.
///
///     {"format": "rehabhost-scenario-results/1",
///      "summary": {"passed": 40, "failed": 1, "skipped": 3, "error": 0},
///      "results": [{"scenario": "sr12-operator-estop", "file": "hardware/scenarios/sr12-operator-estop.json",
///                   "target": "virtual", "outcome": "passed", "time_s": 0.12, "requirements": ["SR-12"],
///                   "expectations": [{"index": 0, "kind": "event", "summary": "…", "expected": "…", "observed": "…",
///                                     "status": "passed"}], "notes": []}]}
public enum ScenarioResultJSON {
    public static let format = "rehabhost-scenario-results/1"

    public static func encode(_ results: [ScenarioResult]) -> JSONValue {
        var summary = JSONObject()
        for outcome in ScenarioResult.Outcome.allCases {
            summary[outcome.rawValue] = .int(results.filter { $0.outcome == outcome }.count)
        }
        return .object([
            "format": .string(format),
            "summary": .object(summary),
            "results": .array(results.map(encodeResult)),
        ])
    }

    static func encodeResult(_ result: ScenarioResult) -> JSONValue {
        var object: JSONObject = [
            "scenario": .string(result.scenario),
            "file": .string(result.file),
            "target": .string(result.target.rawValue),
            "outcome": .string(result.outcome.rawValue),
            "time_s": .number(result.timeSeconds, significantDigits: 6),
            "requirements": .array(result.requirements.map { .string($0.description) }),
        ]
        if let timestamp = result.timestamp { object["timestamp"] = .string(timestamp) }
        if let message = result.message { object["message"] = .string(message) }
        object["expectations"] = .array(result.expectations.map { verdict in
            var entry = JSONObject()
            if let index = verdict.index { entry["index"] = .int(index) }
            if let label = verdict.label { entry["label"] = .string(label) }
            entry["kind"] = .string(verdict.kind)
            entry["summary"] = .string(verdict.summary)
            entry["expected"] = .string(verdict.expected)
            entry["observed"] = .string(verdict.observed)
            entry["status"] = .string(verdict.status.rawValue)
            return .object(entry)
        })
        object["notes"] = .array(result.notes.map { .string($0) })
        return .object(object)
    }

    /// Reads results written by `encode` from the file at `path`.
    public static func load(path: String) throws(ProfileError) -> [ScenarioResult] {
        try decode(.object(try ConfigurationFile.loadObject(at: path)), sourcePath: path)
    }

    /// Reads results written by `encode`; every problem is reported with its path.
    public static func decode(_ value: JSONValue, sourcePath: String) throws(ProfileError) -> [ScenarioResult] {
        guard let object = value.objectValue else {
            throw .invalid(path: sourcePath, issues: [ProfileIssue(path: "", message: "the top level must be an object")])
        }
        let issues = IssueCollector()
        var root = FieldReader(object, path: "", issues: issues)
        if let format = root.string("format"), format != Self.format {
            root.report("format", "expected \"\(Self.format)\", found \"\(format)\"")
        }
        // The summary is derived from the results: read for its shape only.
        if var summary = root.object("summary", required: false) {
            for outcome in ScenarioResult.Outcome.allCases { _ = summary.integer(outcome.rawValue, unit: "results", in: 0...Int64(Int32.max), required: false) }
            summary.finish()
        }
        var results: [ScenarioResult] = []
        for (index, element) in (root.array("results") ?? []).enumerated() {
            let path = "results[\(index)]"
            guard let entry = element.objectValue else {
                issues.add(path, "expected an object, found \(element.kindDescription)")
                continue
            }
            if let result = decodeResult(FieldReader(entry, path: path, issues: issues), issues: issues) { results.append(result) }
        }
        root.finish()
        guard issues.issues.isEmpty else { throw .invalid(path: sourcePath, issues: issues.reported) }
        return results
    }

    /// A text as written: messages and observations may hold line breaks (FieldReader's strings may not).
    private static func text(_ r: inout FieldReader, _ key: String, required: Bool = true) -> String? {
        r.skip(key)
        guard let raw = r.object[key] else {
            if required { r.report(key, "missing") }
            return nil
        }
        guard let text = raw.stringValue else {
            r.report(key, "expected a string, found \(raw.kindDescription)")
            return nil
        }
        return text
    }

    private static func decodeResult(_ reader: FieldReader, issues: IssueCollector) -> ScenarioResult? {
        var r = reader
        defer { r.finish() }
        let scenario = r.string("scenario")
        let file = text(&r, "file")
        let target = enumValue(&r, "target", ScenarioTarget.self)
        let outcome = enumValue(&r, "outcome", ScenarioResult.Outcome.self)
        let time = r.number("time_s", unit: "s", in: 0...1e9)
        var requirements: [RequirementID] = []
        for (index, element) in (r.array("requirements") ?? []).enumerated() {
            if let requirement = element.stringValue.flatMap({ RequirementID($0) }) {
                requirements.append(requirement)
            } else {
                r.report("requirements", "element \(index): expected \"SR-1\" … \"SR-\(RequirementID.highest)\"")
            }
        }
        let timestamp = text(&r, "timestamp", required: false)
        let message = text(&r, "message", required: false)
        var verdicts: [ExpectationResult] = []
        for (index, element) in (r.array("expectations") ?? []).enumerated() {
            guard let object = element.objectValue else {
                r.report("expectations", "element \(index): expected an object")
                continue
            }
            var e = FieldReader(object, path: "\(r.path).expectations[\(index)]", issues: issues)
            let number = e.integer("index", unit: "(expectation index)", in: 0...1_000_000, required: false).map { Int($0) }
            let label = text(&e, "label", required: false)
            let kind = e.string("kind")
            let summary = text(&e, "summary")
            let expected = text(&e, "expected")
            let observed = text(&e, "observed")
            let status = enumValue(&e, "status", ExpectationResult.Status.self)
            e.finish()
            if let kind, let summary, let expected, let observed, let status {
                verdicts.append(ExpectationResult(index: number, label: label, kind: kind, summary: summary, expected: expected, observed: observed, status: status))
            }
        }
        var notes: [String] = []
        for (index, element) in (r.array("notes") ?? []).enumerated() {
            if let note = element.stringValue { notes.append(note) } else { r.report("notes", "element \(index): expected a string") }
        }
        guard let scenario, let file, let target, let outcome, let time else { return nil }
        return ScenarioResult(
            scenario: scenario, file: file, requirements: requirements, target: target, outcome: outcome, timeSeconds: time, timestamp: timestamp,
            expectations: verdicts, message: message, notes: notes)
    }

    private static func enumValue<Value: RawRepresentable>(_ r: inout FieldReader, _ key: String, _: Value.Type) -> Value?
    where Value.RawValue == String {
        guard let text = r.string(key) else { return nil }
        guard let value = Value(rawValue: text) else {
            r.report(key, "unknown value \"\(text)\"")
            return nil
        }
        return value
    }
}
