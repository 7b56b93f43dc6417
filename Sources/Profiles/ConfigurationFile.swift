import Foundation
import StrictJSON

/// Reads a JSON configuration file (profile, exercise, fault script) with precise errors.
public enum ConfigurationFile {
    /// Largest file accepted; anything bigger is not a configuration file.
    public static let maximumBytes = 4 << 20

    /// The file's JSON object. Only a regular file is read (through links): a FIFO would block the
    /// reader, a device never ends; each is refused by its kind, as are a missing file, a loop of
    /// links, a folder and a file this user may not read — each named for what it is.
    public static func loadObject(at path: String) throws(ProfileError) -> JSONObject {
        // Non-blocking, so that opening a FIFO with no writer returns at once instead of hanging.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard descriptor >= 0 else { throw openError(path: path, errno: errno) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        if let kind = nonRegularKind(status.st_mode) {
            throw .unreadable(path: path, reason: kind == "a folder" ? "it is a folder" : "it is \(kind), not a configuration file")
        }
        guard status.st_size <= maximumBytes else { throw .unreadable(path: path, reason: "larger than \(maximumBytes >> 20) MiB") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        // Read to the end (a file may grow while it is read), but never past the limit.
        while bytes.count <= maximumBytes {
            let read = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if read < 0 && errno == EINTR { continue }
            guard read >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
            if read == 0 { break }
            bytes += chunk[0..<read]
        }
        let count = bytes.count
        guard count <= maximumBytes else { throw .unreadable(path: path, reason: "larger than \(maximumBytes >> 20) MiB") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes: bytes)
        } catch {
            throw .syntax(path: path, error)
        }
        guard let object = value.objectValue else {
            throw .invalid(path: path, issues: [ProfileIssue(path: "", message: "the top level must be an object")])
        }
        return object
    }

    /// What an `open` failure means for a configuration file, in words.
    static func openError(path: String, errno code: Int32) -> ProfileError {
        switch code {
        case ENOENT: return .notFound(path: path, searched: [])
        case ELOOP: return .unreadable(path: path, reason: "a loop of symbolic links (or too many links in a row)")
        case EACCES, EPERM: return .unreadable(path: path, reason: "permission denied (this user may not read it)")
        case ENOTDIR: return .notFound(path: path, searched: [])
        case ENAMETOOLONG: return .unreadable(path: path, reason: "the path is too long")
        default: return .unreadable(path: path, reason: String(cString: strerror(code)))
        }
    }

    /// "a FIFO", "a folder", …; nil for a regular file.
    static func nonRegularKind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: nil
        case S_IFDIR: "a folder"
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
    }
}
