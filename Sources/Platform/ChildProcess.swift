import CSystemShims
import Glibc
import Primitives

/// A child process started with `posix_spawn`, its standard output readable line by line with a
/// deadline. Used to run `rehabsim` beside `rehabctl demo`, and by integration tests.
///
/// The corresponding C functions are `posix_spawn`, `kill` and `waitpid`.
public final class ChildProcess {
    public enum Output: Sendable {
        case inherit
        case discard
        /// Append to the file at this path (created 0644).
        case file(String)
    }

    public let pid: pid_t
    public let executable: String
    private var outputDescriptor: Int32
    private var buffered: [UInt8] = []
    private var exitStatus: Int32?

    private init(pid: pid_t, executable: String, outputDescriptor: Int32) {
        self.pid = pid
        self.executable = executable
        self.outputDescriptor = outputDescriptor
    }

    deinit {
        if outputDescriptor >= 0 { close(outputDescriptor) }
        if exitStatus == nil { _ = terminate(graceNanoseconds: 0) }
    }

    /// Starts `executable` with `arguments`; its standard output is captured, standard input is
    /// /dev/null, standard error goes to `standardError`. `ownProcessGroup`: the child leads a process
    /// group of its own (`POSIX_SPAWN_SETPGROUP`), so that a terminal's Ctrl-C — sent to the
    /// foreground group — reaches only the parent, which then stops the child in its own time.
    public static func spawn(
        executable: String, arguments: [String], standardError: Output = .inherit, ownProcessGroup: Bool = false
    ) throws(Errno) -> ChildProcess {
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else { throw .current }
        // Only the child's copy (dup2'd to fd 1) may survive exec; both originals close on exec.
        _ = fcntl(pipeEnds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeEnds[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        switch standardError {
        case .inherit: break
        case .discard: posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        case .file(let path): posix_spawn_file_actions_addopen(&actions, 2, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if ownProcessGroup {
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(pipeEnds[1])
        guard result == 0 else {
            close(pipeEnds[0])
            throw Errno(rawValue: result)
        }
        _ = fcntl(pipeEnds[0], F_SETFL, fcntl(pipeEnds[0], F_GETFL) | O_NONBLOCK)
        return ChildProcess(pid: pid, executable: executable, outputDescriptor: pipeEnds[0])
    }

    /// The next line of standard output (without the newline), or nil when the deadline passes or
    /// the child closed its output first.
    public func readLine(deadline: MonotonicInstant) -> String? {
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                return line
            }
            guard outputDescriptor >= 0 else { return nil }
            let remaining = deadline.nanoseconds(since: MonotonicClock.now())
            if remaining <= 0 { return nil }
            let events = rh_poll_one(outputDescriptor, Int16(POLLIN), remaining)
            if events == -EINTR { continue }
            if events <= 0 { return nil }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { read(outputDescriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                buffered += chunk[0..<count]
            } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                close(outputDescriptor)
                outputDescriptor = -1
            }
        }
    }

    /// Everything the child writes to standard output until it closes it or `deadline` passes.
    public func readAllOutput(deadline: MonotonicInstant) -> String {
        var lines: [String] = []
        while let line = readLine(deadline: deadline) { lines.append(line) }
        if !buffered.isEmpty {
            lines.append(String(decoding: buffered, as: UTF8.self))
            buffered.removeAll()
        }
        return lines.joined(separator: "\n")
    }

    /// True while the child has not exited.
    public var isRunning: Bool {
        if exitStatus != nil { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            exitStatus = status
            return false
        }
        return true
    }

    /// Sends `signal` to the child.
    public func send(_ signal: Int32) {
        if exitStatus == nil { kill(pid, signal) }
    }

    /// Asks the child to stop (SIGTERM), waits up to `graceNanoseconds`, then kills it (SIGKILL).
    /// Returns the raw wait status.
    @discardableResult
    public func terminate(graceNanoseconds: Int64 = 2 * Nanoseconds.perSecond) -> Int32 {
        if let exitStatus { return exitStatus }
        kill(pid, SIGTERM)
        return waitForExit(deadline: MonotonicClock.now().advanced(byNanoseconds: graceNanoseconds)) ?? {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            exitStatus = status
            return status
        }()
    }

    /// Waits for the child to exit until `deadline`; the raw wait status, or nil when still running.
    public func waitForExit(deadline: MonotonicInstant) -> Int32? {
        while true {
            if !isRunning { return exitStatus }
            if MonotonicClock.now() >= deadline { return nil }
            var pause = timespec(tv_sec: 0, tv_nsec: 2_000_000)
            nanosleep(&pause, nil)
        }
    }

    /// The exit code from a raw wait status, or 128 + signal when it was killed.
    public static func exitCode(fromStatus status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }
}

/// The path of the running executable (from /proc/self/exe).
public func currentExecutablePath() -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard count > 0 else { return nil }
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
