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

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
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
            let header = issues.count == 1 ? "\(path): 1 problem" : "\(path): \(issues.count) problems"
            return ([header] + issues.map { "  " + $0.description }).joined(separator: "\n")
        }
    }
}
