import CommandLineSupport
import Foundation
import Platform
import Primitives

/// `rehabsim` started as a child process, with the pseudo-terminal path it announced.
struct SimulatorProcess {
    let process: ChildProcess
    let robotPath: String
    /// The other devices' pseudo-terminals by the label rehabsim announced them with (simulated trackers).
    var devicePaths: [String: String] = [:]

    /// Finds rehabsim: --simulator, $REHABHOST_REHABSIM, next to this executable, then $PATH.
    static func locate(explicit: String?) throws(CommandFailure) -> String {
        if let explicit { return explicit }
        if let configured = ProcessInfo.processInfo.environment["REHABHOST_REHABSIM"], !configured.isEmpty { return configured }
        if let executable = currentExecutablePath() {
            let sibling = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("rehabsim").path
            if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        }
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(folder)/rehabsim"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw CommandFailure(
            "rehabctl: rehabsim not found next to rehabctl or on PATH; build it (swift build) or pass --simulator PATH",
            exitCode: .unavailable)
    }

    /// Starts rehabsim for `profilePath` and waits for its "robot: PATH" line, then for a "LABEL: PATH"
    /// line of each of `otherDevices`.
    static func start(executable: String, profilePath: String, extraArguments: [String] = [], otherDevices: [String] = [])
        throws(CommandFailure) -> SimulatorProcess
    {
        let process: ChildProcess
        do {
            // In a process group of its own: a Ctrl-C in the terminal is rehabctl's to handle (a clean
            // Cat 1 stop, exit 130); the simulated firmware must not die with it mid-stop (link_lost).
            process = try ChildProcess.spawn(
                executable: executable, arguments: ["--profile", profilePath, "--exit-with-parent", "--quiet"] + extraArguments,
                ownProcessGroup: true)
        } catch {
            throw CommandFailure("rehabctl: cannot start \(executable): \(error)", exitCode: .unavailable)
        }
        let deadline = MonotonicClock.now().advanced(byNanoseconds: 10 * Nanoseconds.perSecond)
        var robot: String?
        var others: [String: String] = [:]
        while let line = process.readLine(deadline: deadline) {
            if line.hasPrefix("robot: ") { robot = String(line.dropFirst("robot: ".count)) }
            for label in otherDevices where line.hasPrefix(label + ": ") { others[label] = String(line.dropFirst(label.count + 2)) }
            if let robot, others.count == otherDevices.count {
                return SimulatorProcess(process: process, robotPath: robot, devicePaths: others)
            }
        }
        let status = process.terminate(graceNanoseconds: Nanoseconds.perSecond)
        let code = ChildProcess.exitCode(fromStatus: status)
        // rehabsim checks its own settings (--patient, --faults: the simulator's business, so rehabctl
        // does not link it) and says what is wrong on the shared standard error: pass its verdict on.
        if [ExitCode.usage, .dataError, .noInput, .configuration].map(\.rawValue).contains(code) {
            throw CommandFailure("rehabctl: the simulator refused these settings (its message is above)", exitCode: ExitCode(rawValue: code) ?? .unavailable)
        }
        throw CommandFailure(
            "rehabctl: \(executable) did not announce its robot within 10 s (exit status \(ChildProcess.exitCode(fromStatus: status)))",
            exitCode: .unavailable)
    }

    func stop() {
        process.terminate()
    }
}
