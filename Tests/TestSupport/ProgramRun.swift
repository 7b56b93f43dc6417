import Foundation
import Platform
import Primitives

/// Runs one of the project's programs (or any executable) to completion and collects what it printed.
public struct ProgramRun {
    public var exitCode: Int32
    public var standardOutput: String
    public var standardError: String

    /// Runs `program` (a product name such as "rehabctl", or a path) with `arguments`, waiting at most
    /// `timeoutSeconds`; a program still running then is killed and reported with exit code -1.
    public static func run(_ program: String, _ arguments: [String], timeoutSeconds: Double = 60,
                           environment: [String: String] = [:]) throws -> ProgramRun {
        _ = isolatedState
        let executable = program.contains("/") ? program : RepositoryPaths.product(program).path
        let errorFile = NSTemporaryDirectory() + "rehabhost-stderr-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: errorFile) }
        for (key, value) in environment { setenv(key, value, 1) }
        defer { for key in environment.keys { unsetenv(key) } }
        let child = try ChildProcess.spawn(executable: executable, arguments: arguments, standardError: .file(errorFile))
        let deadline = MonotonicClock.now().advanced(byNanoseconds: Int64(timeoutSeconds * 1e9))
        let output = child.readAllOutput(deadline: deadline)
        let status = child.waitForExit(deadline: deadline) ?? {
            child.terminate(graceNanoseconds: 0)
            return -1
        }()
        let errors = (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? ""
        return ProgramRun(exitCode: status == -1 ? -1 : ChildProcess.exitCode(fromStatus: status), standardOutput: output, standardError: errors)
    }

    /// Recordings and black boxes of the programs the tests run go to a folder of the test run
    /// (XDG_STATE_HOME), not into the user's ~/.local/state.
    public static let stateFolder = NSTemporaryDirectory() + "rehabhost-test-state-\(getpid())"
    private static let isolatedState: Void = { setenv("XDG_STATE_HOME", stateFolder, 1) }()

    /// The line `rehabctl` prints when SR-1 or SR-14 stopped a session: the host held up the loop or
    /// the link (on this shared VM even cyclictest sees 8–11 ms stalls, docs/performance.md).
    public static let hostStallMarker = "stopped by a timing interlock"
    /// What the start-up checks (link pre-flight, SR-17's direction test) say when a stall, not the
    /// device, stopped them.
    public static let startUpStallMarker = "the host or the link was held up"

    /// Runs a session command up to `attempts` times while a run is stopped by a timing interlock
    /// (SR-1/SR-14 reacting, correctly, to a host stall); every retried run is printed and counted
    /// (`HostStallRetries`). For tests of what a session does besides timing: its exit code, its
    /// summary, its signals.
    public static func runSession(_ program: String, _ arguments: [String], attempts: Int = 8,
                                  timeoutSeconds: Double = 60, file: String = #fileID, function: String = #function) throws -> ProgramRun {
        var run = try ProgramRun.run(program, arguments, timeoutSeconds: timeoutSeconds)
        var attempt = 1
        while attempt < attempts && (run.standardError.contains(hostStallMarker) || run.standardError.contains(startUpStallMarker)) {
            let cause = run.standardError.split(separator: "\n")
                .first { $0.contains(hostStallMarker) || $0.contains(startUpStallMarker) }.map(String.init) ?? ""
            HostStallRetries.record(
                attempt: attempt, "host stall stopped \(program) \(arguments.joined(separator: " ")): \(cause)",
                details: run.standardError, file: file, function: function)
            run = try ProgramRun.run(program, arguments, timeoutSeconds: timeoutSeconds)
            attempt += 1
        }
        return run
    }

    /// Starts a program and returns it running (for tests that signal it or talk to it).
    public static func start(
        _ program: String, _ arguments: [String], standardErrorFile: String? = nil, ownProcessGroup: Bool = false
    ) throws -> ChildProcess {
        _ = isolatedState
        let executable = program.contains("/") ? program : RepositoryPaths.product(program).path
        return try ChildProcess.spawn(executable: executable, arguments: arguments,
                                      standardError: standardErrorFile.map { .file($0) } ?? .discard, ownProcessGroup: ownProcessGroup)
    }
}

/// Runs `body` on a control thread with SCHED_FIFO priority 80 when the process may have it (as
/// `rehabctl` runs its loop): a real-time session in a test must not be at the mercy of the
/// test process's normal scheduling. Without the privilege it runs there anyway.
public func onRealtimeThread<Value>(_ body: @escaping () -> Value) -> Value {
    let work = Handoff(body)
    let result = ThreadResult<Value>()
    let thread = ControlThread.start(name: "test-control") {
        _ = Realtime.apply(RealtimeRequest(priority: 80, lockMemory: false, cpu: nil, holdCPUDMALatency: false))
        result.value = work.value()
    }
    thread.join()
    return result.value!
}
