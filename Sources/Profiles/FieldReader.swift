import StrictJSON

/// Reads the fields of one JSON object against a declared set of keys, collecting every issue.
///
/// Every key read is remembered; `finish()` reports the keys nobody asked for. A key that is a
/// known key minus its unit suffix gets the hint that numbers carry their unit in the key name.
public struct FieldReader {
    public let object: JSONObject
    public let path: String
    private var known: [String] = []
    private var issues: IssueCollector

    public init(_ object: JSONObject, path: String, issues: IssueCollector) {
        self.object = object
        self.path = path
        self.issues = issues
    }

    /// Declares `key` known without reading it (when an earlier error makes its check meaningless).
    public mutating func skip(_ key: String) {
        known.append(key)
    }

    func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private mutating func value(_ key: String, required: Bool) -> JSONValue? {
        known.append(key)
        guard let value = object[key] else {
            if required { issues.add(fieldPath(key), "missing") }
            return nil
        }
        return value
    }

    /// A finite number within `range` (inclusive unless stated), unit named in `unit` for messages.
    public mutating func number(
        _ key: String, unit: String, in range: ClosedRange<Double>? = nil, positive: Bool = false,
        required: Bool = true, default defaultValue: Double? = nil
    ) -> Double? {
        guard let raw = value(key, required: required && defaultValue == nil) else { return defaultValue }
        guard let number = raw.doubleValue else {
            issues.add(fieldPath(key), "expected a number in \(unit), found \(raw.kindDescription)")
            return nil
        }
        guard number.isFinite else {
            issues.add(fieldPath(key), "must be finite")
            return nil
        }
        if positive && !(number > 0) {
            issues.add(fieldPath(key), "must be greater than 0 \(unit) (found \(format(number)))")
            return nil
        }
        if let range, !range.contains(number) {
            issues.add(
                fieldPath(key),
                "must be between \(format(range.lowerBound)) and \(format(range.upperBound)) \(unit) (found \(format(number)))")
            return nil
        }
        return number
    }

    /// An integer within `range`.
    public mutating func integer(
        _ key: String, unit: String, in range: ClosedRange<Int64>, required: Bool = true, default defaultValue: Int64? = nil
    ) -> Int64? {
        guard let raw = value(key, required: required && defaultValue == nil) else { return defaultValue }
        guard let number = raw.integerValue else {
            issues.add(fieldPath(key), "expected a whole number of \(unit), found \(raw.kindDescription)")
            return nil
        }
        guard range.contains(number) else {
            issues.add(fieldPath(key), "must be between \(range.lowerBound) and \(range.upperBound) \(unit) (found \(number))")
            return nil
        }
        return number
    }

    public mutating func string(_ key: String, required: Bool = true, nonEmpty: Bool = true) -> String? {
        guard let raw = value(key, required: required) else { return nil }
        guard let text = raw.stringValue else {
            issues.add(fieldPath(key), "expected a string, found \(raw.kindDescription)")
            return nil
        }
        if nonEmpty && text.isEmpty {
            issues.add(fieldPath(key), "must not be empty")
            return nil
        }
        // Names and texts end up in terminals, logs and reports: no control characters (NUL, ESC…).
        if let control = text.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            issues.add(fieldPath(key), "contains a control character (U+\(String(format: "%04X", control.value))); use printable text")
            return nil
        }
        return text
    }

    public mutating func bool(_ key: String, required: Bool = true, default defaultValue: Bool? = nil) -> Bool? {
        guard let raw = value(key, required: required && defaultValue == nil) else { return defaultValue }
        guard let flag = raw.boolValue else {
            issues.add(fieldPath(key), "expected true or false, found \(raw.kindDescription)")
            return nil
        }
        return flag
    }

    public mutating func object(_ key: String, required: Bool = true) -> FieldReader? {
        guard let raw = value(key, required: required) else { return nil }
        guard let object = raw.objectValue else {
            issues.add(fieldPath(key), "expected an object, found \(raw.kindDescription)")
            return nil
        }
        return FieldReader(object, path: fieldPath(key), issues: issues)
    }

    public mutating func array(_ key: String, required: Bool = true) -> [JSONValue]? {
        guard let raw = value(key, required: required) else { return nil }
        guard let array = raw.arrayValue else {
            issues.add(fieldPath(key), "expected an array, found \(raw.kindDescription)")
            return nil
        }
        return array
    }

    /// Adds an issue about `key` (cross-field checks).
    public func report(_ key: String, _ message: String) {
        issues.add(key.isEmpty ? path : fieldPath(key), message)
    }

    /// Reports every key that was not read as unknown.
    public func finish() {
        var unknown = 0
        for key in object.keys where !known.contains(key) {
            unknown += 1
            // A file of 100 000 made-up keys must not cost a minute of suggestions: only the first
            // few unknown keys of a sane length get one.
            if unknown > Self.suggestionLimit || key.utf8.count > 64 {
                issues.add(fieldPath(key), "unknown key")
            } else if let match = known.first(where: { $0.hasPrefix(key + "_") }) {
                issues.add(
                    fieldPath(key),
                    "numbers carry their unit in the key name: did you mean \"\(match)\"?")
            } else {
                if let suggestion = nearestKnownKey(to: key) {
                    issues.add(fieldPath(key), "unknown key; did you mean \"\(suggestion)\"?")
                } else {
                    issues.add(fieldPath(key), "unknown key (allowed: \(known.joined(separator: ", ")))")
                }
            }
        }
    }
}

extension FieldReader {
    /// Unknown keys that get a "did you mean" suggestion; the rest are just named.
    static let suggestionLimit = 20
    /// The most edits between a typed key and the known key it is suggested for.
    static let suggestionDistance = 3

    /// The known key nearest to `key` within `suggestionDistance` edits, and a third of its length (a
    /// short key three edits away from another is a different word: "baud" is not "id"); the first
    /// read, of equals.
    func nearestKnownKey(to key: String) -> String? {
        let typed = Array(key.utf8)
        let limit = min(Self.suggestionDistance, max(1, typed.count / 3))
        var best: (key: String, distance: Int)?
        for candidate in known {
            guard let distance = editDistance(Array(candidate.utf8), typed, atMost: limit) else { continue }
            if distance < best?.distance ?? Int.max { best = (candidate, distance) }
        }
        return best?.key
    }
}

/// Collects issues from nested readers; a class so that every reader adds to the same list.
/// It keeps the first `capacity` and counts the rest, so a hostile file cannot fill memory or the
/// terminal with problems.
public final class IssueCollector {
    public private(set) var issues: [ProfileIssue] = []
    /// Problems found beyond `capacity` (counted, not kept).
    public private(set) var omitted = 0
    public static let capacity = 100

    public init() {}

    public func add(_ path: String, _ message: String) {
        guard issues.count < Self.capacity else {
            omitted += 1
            return
        }
        issues.append(ProfileIssue(path: path, message: message))
    }

    /// What an error reports: the issues kept, and one line for those that were only counted.
    public var reported: [ProfileIssue] {
        omitted == 0 ? issues : issues + [ProfileIssue(path: "", message: "\(omitted) more problems were found and not kept")]
    }
}

func format(_ value: Double) -> String {
    value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
}

/// The edit distance of `a` and `b` (insertions, deletions, substitutions of bytes), or nil when it
/// is more than `limit`. Keys whose lengths differ by more than `limit` are not compared at all: a
/// fuzzer's (or a hostile file's) mangled keys cost nothing then.
func editDistance(_ a: [UInt8], _ b: [UInt8], atMost limit: Int) -> Int? {
    guard abs(a.count - b.count) <= limit else { return nil }
    guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
    var previous = Array(0...b.count)
    var current = previous
    for i in 1...a.count {
        current[0] = i
        var rowMinimum = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            rowMinimum = min(rowMinimum, current[j])
        }
        // Every later row is at least this row's minimum.
        if rowMinimum > limit { return nil }
        swap(&previous, &current)
    }
    return previous[b.count] <= limit ? previous[b.count] : nil
}
