import Foundation
import StrictJSON

/// Reads a JSON configuration file (profile, exercise, fault script) with precise errors.
public enum ConfigurationFile {
    /// Largest file accepted; anything bigger is not a configuration file.
    public static let maximumBytes = 4 << 20

    public static func loadObject(at path: String) throws(ProfileError) -> JSONObject {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .notFound(path: path, searched: [])
        }
        if isDirectory.boolValue { throw .unreadable(path: path, reason: "it is a folder") }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw .unreadable(path: path, reason: "permission denied")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        guard data.count <= maximumBytes else {
            throw .unreadable(path: path, reason: "larger than \(maximumBytes >> 20) MiB")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes: Array(data))
        } catch {
            throw .syntax(path: path, error)
        }
        guard let object = value.objectValue else {
            throw .invalid(path: path, issues: [ProfileIssue(path: "", message: "the top level must be an object")])
        }
        return object
    }
}
