import StrictJSON

/// One problem in a profile (or exercise, or fault script) file, located by its JSON path.
public struct ProfileIssue: Sendable, Equatable, CustomStringConvertible {
    /// e.g. `joints[1].rated_torque_nm`.
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// Printable whatever the file held: control characters escaped, and a path (which carries the
    /// file's own keys) longer than 120 characters elided with its length.
    public var description: String {
        let shownPath = Self.printable(path, limit: 120)
        return shownPath.isEmpty ? Self.printable(message, limit: 2_000) : "\(shownPath): \(Self.printable(message, limit: 2_000))"
    }

    static func printable(_ text: String, limit: Int) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit {
                return out + "…(\(text.utf8.count) bytes)"
            }
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }
}

/// Why a configuration file could not be used. Every case names the file.
public enum ProfileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No file at the path (or no profile of that name in the search folders).
    case notFound(path: String, searched: [String])
    /// The file exists but cannot be read (permissions, a folder, I/O error).
    case unreadable(path: String, reason: String)
    /// Not valid JSON.
    case syntax(path: String, JSONParseError)
    /// Valid JSON, but not a valid profile: every problem found.
    case invalid(path: String, issues: [ProfileIssue])

    public var description: String {
        switch self {
        case .notFound(let path, let searched):
            if searched.isEmpty { return "\(path): no such file" }
            return "\(path): no such profile; looked in " + searched.joined(separator: ", ")
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .syntax(let path, let error):
            return "\(path): not valid JSON: \(error)"
        case .invalid(let path, let issues):
            // The first 20 are shown; a file with thousands of problems needs fixing at the first few.
            let shown = issues.prefix(20)
            let header = issues.count == 1 ? "\(path): 1 problem" : "\(path): \(issues.count) problems"
            let more = issues.count > shown.count ? ["  … and \(issues.count - shown.count) more"] : []
            return ([header] + shown.map { "  " + $0.description } + more).joined(separator: "\n")
        }
    }
}
