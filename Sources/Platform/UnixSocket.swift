import CSystemShims
import Glibc
import Primitives

/// A listening Unix domain stream socket whose file is created with exactly the permissions asked
/// (0600, or 0660 for a group): the kernel refuses `connect` to anyone else, so permission is
/// enforced before a byte is read. The file is removed by `close()`.
public final class UnixSocketListener: @unchecked Sendable {
    public let path: String
    private let descriptor: Int32

    /// Creates the socket at `path` (an existing socket file there is replaced only when nobody
    /// listens on it any more, i.e. it was left by a crashed process).
    public init(path: String, mode: mode_t = 0o600, group: gid_t? = nil) throws(Errno) {
        if UnixSocketConnection.isStale(path: path) { unlink(path) }
        let result = rh_unix_listen(path, UInt32(mode), group.map { Int64($0) } ?? -1, 8)
        guard result >= 0 else { throw Errno(rawValue: -result) }
        self.path = path
        descriptor = result
    }

    /// Waits up to `timeoutMilliseconds` for a client; nil when none came (or the listener closed).
    public func accept(timeoutMilliseconds: Int32) -> UnixSocketConnection? {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, timeoutMilliseconds) > 0 else { return nil }
        let client = rh_unix_accept(descriptor)
        return client >= 0 ? UnixSocketConnection(descriptor: client) : nil
    }

    /// Stops listening and removes the socket file.
    public func close() {
        unlink(path)
        Glibc.close(descriptor)
    }
}

/// One connection on a Unix domain socket, exchanging text lines.
public final class UnixSocketConnection: @unchecked Sendable {
    private let descriptor: Int32
    private var buffered: [UInt8] = []
    private var isClosed = false

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        if !isClosed { Glibc.close(descriptor) }
    }

    /// Connects to the socket at `path`; EACCES when its permissions exclude this user.
    public static func connect(path: String) throws(Errno) -> UnixSocketConnection {
        let result = rh_unix_connect(path)
        guard result >= 0 else { throw Errno(rawValue: -result) }
        return UnixSocketConnection(descriptor: result)
    }

    /// A socket file that nobody listens on (its process died): safe to replace.
    public static func isStale(path: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK else { return false }
        let probe = rh_unix_connect(path)
        if probe >= 0 {
            Glibc.close(probe)
            return false
        }
        return probe == -ECONNREFUSED
    }

    /// The connected process: pid, uid, gid (from the kernel, not from what it says).
    public var peer: (pid: pid_t, uid: uid_t, gid: gid_t)? {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        guard rh_unix_peer(descriptor, &pid, &uid, &gid) == 0 else { return nil }
        return (pid, uid, gid)
    }

    /// Sends `line` and a newline; false when the peer is gone.
    @discardableResult
    public func writeLine(_ line: String) -> Bool {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            sent += count
        }
        return true
    }

    /// The next line (without its newline), waiting until `deadline`; nil on timeout, end of
    /// stream or a line longer than 64 KiB.
    public func readLine(deadline: MonotonicInstant) -> String? {
        while true {
            if let newline = buffered.firstIndex(of: 0x0A) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                return line
            }
            guard buffered.count < 65_536 else { return nil }
            let remaining = deadline.nanoseconds(since: MonotonicClock.now())
            guard remaining > 0 else { return nil }
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, Int32(min(remaining / 1_000_000 + 1, 60_000)))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            buffered.append(contentsOf: chunk[0..<count])
        }
    }

    public func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(descriptor)
    }
}
