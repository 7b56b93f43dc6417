import CSystemShims
import Glibc
import Primitives
import Synchronization

/// A listening Unix domain stream socket whose file is created with exactly the permissions asked
/// (0600, or 0660 for a group): the kernel refuses `connect` to anyone else, so permission is
/// enforced before a byte is read. The file is removed by `close()`.
///
/// The corresponding C calls are `socket`, `bind`, `chmod`, `listen` (through `rh_unix_listen`) and
/// `accept4` (through `rh_unix_accept`).
public final class UnixSocketListener: @unchecked Sendable {
    // @unchecked: `path` and `descriptor` never change; the two flags are atomics.
    public let path: String
    /// The listening descriptor, for a caller's own poll(2) set (`DescriptorPoll`).
    public let descriptor: Int32
    private let fileRemoved = Atomic(false)
    private let descriptorClosed = Atomic(false)

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

    /// Makes `acceptWaiting()` return at once when no client waits (O_NONBLOCK on the listener):
    /// a client that gave up between poll(2) and accept must not block an event-driven server.
    public func makeNonBlocking() throws(Errno) {
        try setNonBlocking(descriptor)
    }

    /// Takes one waiting client without waiting; nil when none waits. The connection is
    /// non-blocking too (its reads and writes never wait: `receiveAvailable`, `sendAvailable`).
    /// Throws for what retrying at once would not cure (EMFILE, ENFILE, ENOMEM…).
    public func acceptWaiting() throws(Errno) -> UnixSocketConnection? {
        let client = rh_unix_accept(descriptor)
        // EAGAIN (= EWOULDBLOCK on Linux): nobody waits; ECONNABORTED: the client gave up meanwhile.
        if client == -EAGAIN || client == -EINTR || client == -ECONNABORTED { return nil }
        guard client >= 0 else { throw Errno(rawValue: -client) }
        do {
            try setNonBlocking(client)
        } catch {
            Glibc.close(client)
            throw error
        }
        return UnixSocketConnection(descriptor: client)
    }

    /// Removes the socket file, so that new clients find no session (once; `close()` does it too).
    public func removeFile() {
        guard !fileRemoved.exchange(true, ordering: .acquiringAndReleasing) else { return }
        unlink(path)
    }

    /// Stops listening and removes the socket file (calling it again does nothing).
    public func close() {
        removeFile()
        guard !descriptorClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Glibc.close(descriptor)
    }
}

/// O_NONBLOCK on `descriptor`.
///
/// The corresponding C call is `fcntl(F_GETFL / F_SETFL)`.
private func setNonBlocking(_ descriptor: Int32) throws(Errno) {
    let flags = fcntl(descriptor, F_GETFL)
    guard flags >= 0, fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) == 0 else { throw Errno.current }
}

/// How far a read or write without waiting got.
public enum StreamTransfer: Sendable, Equatable {
    /// This many bytes moved.
    case moved(Int)
    /// Nothing can move now (EAGAIN): wait for poll(2).
    case wouldBlock
    /// The peer will send nothing more (a read returned 0).
    case endOfStream
    case failed(Errno)
}

/// Who is at the other end of a Unix domain socket, as the kernel recorded it when the peer
/// connected (not what the peer says).
///
/// The corresponding C call is `getsockopt(SO_PEERCRED)` (through `rh_unix_peer`, a `struct ucred`);
/// the supplementary groups come from `/proc/<pid>/status` ("Groups:").
public struct PeerCredentials: Sendable, Equatable {
    public var pid: pid_t
    /// The peer's effective uid and gid when it called `connect`.
    public var uid: uid_t
    public var gid: gid_t
    /// The peer's supplementary groups; empty unless `readingSupplementaryGroups()` found them.
    public var supplementaryGroups: [gid_t]

    public init(pid: pid_t, uid: uid_t, gid: gid_t, supplementaryGroups: [gid_t] = []) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.supplementaryGroups = supplementaryGroups
    }

    /// The same peer with its supplementary groups, from /proc/<pid>/status. The groups are taken
    /// only when that file's effective uid is the peer's: a pid the peer left behind (it exited and
    /// the number was reused) gives no groups rather than someone else's.
    public func readingSupplementaryGroups() -> PeerCredentials {
        var copy = self
        copy.supplementaryGroups = Self.processGroups(pid: pid, uid: uid) ?? []
        return copy
    }

    private static func processGroups(pid: pid_t, uid: uid_t) -> [gid_t]? {
        guard pid > 0 else { return nil }
        let descriptor = open("/proc/\(pid)/status", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { Glibc.close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 65_536 {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        var effectiveUIDMatches = false
        var groups: [gid_t]?
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let key = fields.first else { continue }
            if key == "Uid:" {
                // Uid: real effective saved filesystem
                effectiveUIDMatches = fields.count >= 3 && UInt32(fields[2]) == uid
            } else if key == "Groups:" {
                groups = fields.dropFirst().compactMap { UInt32($0) }
            }
        }
        return effectiveUIDMatches ? groups : nil
    }
}

/// Waits until any of several descriptors is ready: one thread can serve a listener and all its
/// clients.
///
/// The corresponding C call is `poll(2)`.
public struct DescriptorPoll {
    /// poll(2)'s event bits (`POLLIN`, `POLLOUT`, `POLLHUP`, `POLLERR`, `POLLNVAL`).
    public struct Events: OptionSet, Sendable {
        public let rawValue: Int16
        public init(rawValue: Int16) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: Int16(POLLIN))
        public static let writable = Events(rawValue: Int16(POLLOUT))
        /// The peer has closed its end (returned whether asked for or not).
        public static let hangUp = Events(rawValue: Int16(POLLHUP))
        public static let error = Events(rawValue: Int16(POLLERR))
        /// Not an open descriptor.
        public static let invalid = Events(rawValue: Int16(POLLNVAL))
    }

    private var entries: [pollfd] = []

    public init() {}

    /// Empties the set (keeping its storage: a server rebuilds it every wake-up).
    public mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
    }

    /// Adds `descriptor`; returns its index for `returnedEvents(at:)`.
    @discardableResult
    public mutating func add(_ descriptor: Int32, waitingFor events: Events) -> Int {
        entries.append(pollfd(fd: descriptor, events: events.rawValue, revents: 0))
        return entries.count - 1
    }

    /// What the last `wait` found for the descriptor at `index`.
    public func returnedEvents(at index: Int) -> Events {
        Events(rawValue: entries[index].revents)
    }

    /// Waits at most `timeoutMilliseconds` (negative: without limit). Returns how many descriptors
    /// are ready; 0 when the time ran out or a signal interrupted the wait.
    @discardableResult
    public mutating func wait(timeoutMilliseconds: Int32) throws(Errno) -> Int {
        for index in entries.indices { entries[index].revents = 0 }
        let ready = entries.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeoutMilliseconds) }
        guard ready >= 0 else {
            let error = Errno.current
            if error == .interrupted { return 0 }
            throw error
        }
        return Int(ready)
    }
}

/// One connection on a Unix domain socket, exchanging text lines: blocking (`readLine`,
/// `writeLine`, for clients) or without waiting (`receiveAvailable`, `sendAvailable`, for an
/// event-driven server).
///
/// The corresponding C calls are `connect` (through `rh_unix_connect`), `send` and `recv`.
public final class UnixSocketConnection: @unchecked Sendable {
    /// The connected descriptor, for a caller's own poll(2) set (`DescriptorPoll`).
    public let descriptor: Int32
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

    /// The connected process: pid, uid, gid from the kernel (SO_PEERCRED), not from what it says.
    public func peerCredentials() throws(Errno) -> PeerCredentials {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        let result = rh_unix_peer(descriptor, &pid, &uid, &gid)
        guard result == 0 else { throw Errno(rawValue: -result) }
        return PeerCredentials(pid: pid, uid: uid, gid: gid)
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
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            guard count > 0 else { return nil }
            buffered.append(contentsOf: chunk[0..<count])
        }
    }

    /// Appends to `buffer` what has arrived (at most `maximumBytes`), without waiting.
    public func receiveAvailable(appendingTo buffer: inout [UInt8], maximumBytes: Int) -> StreamTransfer {
        var chunk = [UInt8](repeating: 0, count: max(1, maximumBytes))
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                return .moved(count)
            }
            if count == 0 { return .endOfStream }
            let error = Errno.current
            if error == .interrupted { continue }
            return error == .wouldBlock ? .wouldBlock : .failed(error)
        }
    }

    /// Sends as much of `bytes` as the socket takes now, without waiting (and without SIGPIPE
    /// when the peer is gone: that is `.failed(EPIPE)`).
    public func sendAvailable(_ bytes: ArraySlice<UInt8>) -> StreamTransfer {
        guard !bytes.isEmpty else { return .moved(0) }
        while true {
            let count = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
            if count >= 0 { return .moved(count) }
            let error = Errno.current
            if error == .interrupted { continue }
            return error == .wouldBlock ? .wouldBlock : .failed(error)
        }
    }

    public func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(descriptor)
    }
}
