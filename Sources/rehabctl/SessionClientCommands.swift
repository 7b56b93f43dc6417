import CommandLineSupport
import Control
import DeviceModel
import Foundation
import Platform
import Primitives
import Session
import StrictJSON

/// `rehabctl estop | stop | pause | resume | reset | release | status`: act on a running session
/// from another terminal through its control socket (found automatically when exactly one runs).
enum SessionClientCommands {
    private static let sessionOption = CommandSpec.Option(
        "--session", value: "PATH|PID", help: "The session's control socket, or its process id; needed only when several sessions run.")
    private static let jsonOption = CommandSpec.Option("--json", help: "Print the session's JSON reply.")

    private static func spec(_ name: String, _ summary: String, _ discussion: String, extra: [CommandSpec.Option] = []) -> CommandSpec {
        CommandSpec(program: "rehabctl", name: name, summary: summary, discussion: discussion,
                    options: [sessionOption, jsonOption] + extra, examples: ["rehabctl \(name)", "rehabctl \(name) --session 4242"])
    }

    static let all: [(spec: CommandSpec, run: @Sendable (ParsedArguments) throws(CommandFailure) -> ExitCode)] = [
        (spec("estop", "E-stop the running session (Cat 0 by default, SR-12), within one control cycle; without --session, every running session.",
              """
              Torque is removed in the next control cycle; the session latches `estop` until a reset. With several
              sessions running and no --session, every one of them is e-stopped (SR-12: the request goes to all
              before any reply is awaited) and each result is reported; the exit code is 0 only if all took it.
              """), { p throws(CommandFailure) in try emergencyStop(p) }),
        (spec("stop", "Stop the running session's exercise (Cat 1: decelerate, then torque off).",
              "The joints decelerate under control and torque is removed at standstill (SR-13: within 200 ms)."), { p throws(CommandFailure) in try request("stop", p) }),
        (spec("pause", "Pause the exercise (Cat 2: hold position, powered).", "`rehabctl resume` continues from where the joints are."), { p throws(CommandFailure) in try request("pause", p) }),
        (spec("resume", "Resume a paused exercise.", "The rest of the exercise is planned from the measured position (SR-5)."), { p throws(CommandFailure) in try request("resume", p) }),
        (spec("reset", "Clear a latched fault or e-stop (to idle; never to motion).",
              "Refused, with the cause, while the stop is still running, the device is silent, its e-stop is pressed or the cause persists (exit 3)."), { p throws(CommandFailure) in try request("reset", p) }),
        (spec("release", "Hold-to-run patient release (SR-18): zero torque with the brake released while held.",
              """
              Allowed only in fault or e-stop, at standstill, with the device answering and powered. The
              release lasts while this command runs (it renews it every 50 ms; the session lets go within
              250 ms of the last renewal, e.g. if this terminal dies). Ctrl-C or --for ends it.
              """, extra: [.init("--for", value: "SECONDS", help: "Let go after this long.", default: "until Ctrl-C")]), { p throws(CommandFailure) in try release(p) }),
        (spec("status", "Show the running session's state, device, joints and latched fault.", "Read-only; any number of clients may ask."), { p throws(CommandFailure) in try status(p) }),
        (modeSpec, { p throws(CommandFailure) in try mode(p) }),
    ]

    // MARK: Finding and connecting to the session

    static func connect(_ parsed: ParsedArguments, command: String) throws(CommandFailure) -> UnixSocketConnection {
        let path = try socketPath(parsed, command: command)
        return try connect(path: path, command: command)
    }

    static func connect(path: String, command: String) throws(CommandFailure) -> UnixSocketConnection {
        do {
            return try UnixSocketConnection.connect(path: path)
        } catch {
            throw connectFailure(path: path, command: command, error: error)
        }
    }

    /// Why `connect` to the session at `path` failed, as the command reports it.
    private static func connectFailure(path: String, command: String, error: Errno) -> CommandFailure {
        switch error {
        case .permissionDenied, .notPermitted:
            var owner = ""
            var info = stat()
            if stat(path, &info) == 0 {
                owner = " (owner uid \(info.st_uid), gid \(info.st_gid), mode \(String(info.st_mode & 0o777, radix: 8)))"
            }
            return CommandFailure(
                "rehabctl \(command): permission denied by the control socket \(path)\(owner): run as the session's user, or start the session with --control-group GROUP and join that group",
                exitCode: .permission)
        default:
            return CommandFailure("rehabctl \(command): cannot reach the session at \(path): \(error)", exitCode: .unavailable)
        }
    }

    private static func socketPath(_ parsed: ParsedArguments, command: String) throws(CommandFailure) -> String {
        if let given = parsed.string("--session") {
            if let pid = Int32(given) {
                for folder in ControlSocketLocation.candidateFolders {
                    let path = "\(folder)/session-\(pid).sock"
                    if FileManager.default.fileExists(atPath: path) { return path }
                }
                throw CommandFailure("rehabctl \(command): no control socket for process \(pid) in \(ControlSocketLocation.candidateFolders.joined(separator: ", "))", exitCode: .unavailable)
            }
            return given
        }
        let sessions = ControlSocketLocation.liveSessions()
        switch sessions.count {
        case 0:
            throw CommandFailure(
                "rehabctl \(command): no running session found (looked in \(ControlSocketLocation.candidateFolders.joined(separator: ", "))); start one with rehabctl demo or run, or give --session PATH",
                exitCode: .unavailable)
        case 1:
            return sessions[0]
        default:
            throw CommandFailure(
                "rehabctl \(command): \(sessions.count) sessions are running; choose one with --session:\n" + sessions.map { "  " + $0 }.joined(separator: "\n"),
                exitCode: .usage)
        }
    }

    static func exchange(_ connection: UnixSocketConnection, _ line: String, command: String) throws(CommandFailure) -> JSONObject {
        guard connection.writeLine(line),
            let reply = connection.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 3 * Nanoseconds.perSecond))
        else {
            throw CommandFailure("rehabctl \(command): the session did not answer (it may have ended)", exitCode: .unavailable)
        }
        guard let object = try? JSONParser.parse(reply).objectValue else {
            throw CommandFailure("rehabctl \(command): the session sent an unreadable reply: \(reply)", exitCode: .protocolError)
        }
        return object
    }

    // MARK: Commands

    static let modeSpec = CommandSpec(
        program: "rehabctl", name: "mode", summary: "Switch the running exercise to another of its modes (bumpless).",
        discussion: """
            `passive`: the robot moves the limb along the exercise's plan (impedance tracking) — when the
            patient tires or struggles; every exercise has it. `exercise`: back to the mode the exercise
            started in. `active_assist`, `active_resist`, `transparent`, `mirror`: available when the
            exercise file has that mode's settings block (hardware/exercises/README.md); `rehabctl status`
            lists the session's modes. The exercised joint's torque blends from the old mode to the new
            one over the enable-ramp time; assist-as-needed keeps its gain while another mode runs.
            """,
        options: [sessionOption, jsonOption],
        positionals: [.init("MODE", help: "passive, exercise, active_assist, active_resist, transparent or mirror (- or _).")],
        examples: ["rehabctl mode passive", "rehabctl mode exercise", "rehabctl mode transparent"])

    private static func mode(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        let wanted = parsed.positionals[0].replacingOccurrences(of: "-", with: "_")
        let known = ["exercise"] + TherapyMode.names
        guard known.contains(wanted) else {
            throw parsed.usageError("mode takes one of \(known.joined(separator: ", ")), not \"\(parsed.positionals[0])\"")
        }
        let connection = try connect(parsed, command: "mode")
        defer { connection.close() }
        let reply = try exchange(connection, "mode " + wanted, command: "mode")
        if parsed.flag("--json") {
            Terminal.printLine(JSONValue.object(reply).serialized())
        } else {
            Terminal.printLine(reply["ok"]?.boolValue == true
                ? "mode: \(reply["mode"]?.stringValue ?? wanted) (blending over the ramp)" : "mode: \(reply["error"]?.stringValue ?? "refused")")
        }
        return reply["ok"]?.boolValue == true ? .success : .refused
    }

    private static func request(_ word: String, _ parsed: ParsedArguments, path: String? = nil) throws(CommandFailure) -> ExitCode {
        let connection: UnixSocketConnection
        if let path {
            connection = try connect(path: path, command: word)
        } else {
            connection = try connect(parsed, command: word)
        }
        defer { connection.close() }
        let reply = try exchange(connection, word, command: word)
        if parsed.flag("--json") {
            Terminal.printLine(JSONValue.object(reply).serialized())
        }
        let state = reply["state"]?.stringValue ?? "?"
        guard reply["ok"]?.boolValue == true else {
            let message = reply["error"]?.stringValue ?? "refused"
            if !parsed.flag("--json") { Terminal.printError("rehabctl \(word): \(message) (state: \(state))") }
            return reply["refused"] != nil ? .refused : .unavailable
        }
        if !parsed.flag("--json") { Terminal.printLine("\(word): " + takenText(reply)) }
        return .success
    }

    /// How an accepted request went: the cycle that took it and its latency, and the state.
    private static func takenText(_ reply: JSONObject) -> String {
        let state = reply["state"]?.stringValue ?? "?"
        if let cycle = reply["handled_in_cycle"]?.integerValue, let cycles = reply["cycles"]?.integerValue,
            let latency = reply["latency_ms"]?.doubleValue
        {
            return "taken in control cycle \(cycle), \(cycles) cycle(s) after it was sent (\(latency) ms); state: \(state)"
        }
        return "done; state: \(state)"
    }

    /// `rehabctl estop`. SR-12: with several sessions running, `estop` without a target stops them
    /// all (every other command refuses the ambiguity and asks for --session). The sessions are
    /// listed once, so that a session starting meanwhile cannot turn one e-stop into a refusal.
    private static func emergencyStop(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        guard parsed.string("--session") == nil else { return try request("estop", parsed) }
        let sessions = ControlSocketLocation.liveSessions()
        switch sessions.count {
        case 0: return try request("estop", parsed)  // says that no session runs (or stops one that has just started)
        case 1: return try request("estop", parsed, path: sessions[0])
        default: return emergencyStopAll(sessions, json: parsed.flag("--json"))
        }
    }

    /// E-stops every session of `sessions` at once and reports each; success only if all took it
    /// (otherwise the exit code of the first that did not).
    private static func emergencyStopAll(_ sessions: [String], json: Bool) -> ExitCode {
        var exitCode = ExitCode.success
        var taken = 0
        var entries: [JSONValue] = []
        for result in ControlSocketBroadcast.send("estop", to: sessions) {
            var entry: JSONObject = ["session": .string(result.path)]
            var failure: CommandFailure?
            switch result.outcome {
            case .reply(let reply):
                entry["reply"] = .object(reply)
                if result.tookIt {
                    taken += 1
                    if !json { Terminal.printLine("estop \(result.path): " + takenText(reply)) }
                } else {
                    failure = CommandFailure(
                        "rehabctl estop: \(result.path): \(reply["error"]?.stringValue ?? "refused") (state: \(reply["state"]?.stringValue ?? "?"))",
                        exitCode: reply["refused"] != nil ? .refused : .unavailable)
                }
            case .cannotConnect(let error):
                failure = connectFailure(path: result.path, command: "estop", error: error)
            case .noAnswer:
                failure = CommandFailure("rehabctl estop: \(result.path): the session did not answer (it may have ended)", exitCode: .unavailable)
            case .unreadableReply(let text):
                failure = CommandFailure("rehabctl estop: \(result.path): the session sent an unreadable reply: \(text)", exitCode: .protocolError)
            }
            if let failure {
                entry["error"] = .string(failure.message)
                if !json { Terminal.printError(failure.message) }
                if exitCode == .success { exitCode = failure.exitCode }
            }
            entries.append(.object(entry))
        }
        if json {
            Terminal.printLine(JSONValue.object(["ok": .bool(exitCode == .success), "sessions": .array(entries)]).serialized())
        } else {
            Terminal.printLine("estop: \(taken) of \(sessions.count) sessions took it")
        }
        return exitCode
    }

    private static func release(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        let seconds = try parsed.double("--for", default: .infinity, in: 0.05...Double.infinity, unit: "s")
        let connection = try connect(parsed, command: "release")
        defer { connection.close() }
        TerminationSignals.install()
        let end = seconds.isFinite ? MonotonicClock.now().advanced(byNanoseconds: Int64(seconds * 1e9)) : nil
        var everReleased = false
        var lastShown = ""
        var exitCode = ExitCode.success
        while TerminationSignals.interrupts == 0 && TerminationSignals.terminations == 0 {
            if let end, MonotonicClock.now() >= end { break }
            let reply = try exchange(connection, "release", command: "release")
            let releasing = reply["releasing"]?.boolValue == true
            everReleased = everReleased || releasing
            let shown = releasing
                ? "releasing: zero torque, brake released; move the limb out (Ctrl-C to hold again)"
                : "not releasing: \(reply["refused"]?.stringValue ?? "only in fault or e-stop") (state: \(reply["state"]?.stringValue ?? "?"))"
            if shown != lastShown {
                if parsed.flag("--json") { Terminal.printLine(JSONValue.object(reply).serialized()) } else { Terminal.printLine(shown) }
                lastShown = shown
            }
            if !releasing && reply["refused"] != nil && !everReleased { exitCode = .refused; break }
            usleep(50_000)
        }
        _ = try? exchange(connection, "release-end", command: "release")
        if everReleased && !parsed.flag("--json") { Terminal.printLine("let go: the joints are held again") }
        return exitCode
    }

    private static func status(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        let connection = try connect(parsed, command: "status")
        defer { connection.close() }
        let reply = try exchange(connection, "status", command: "status")
        if parsed.flag("--json") {
            Terminal.printLine(JSONValue.object(reply).serialized(pretty: true))
            return .success
        }
        var lines = ["session pid \(reply["pid"]?.integerValue ?? 0): \(reply["state"]?.stringValue ?? "?")"
            + (reply["releasing"]?.boolValue == true ? " (releasing)" : "")
            + ", cycle \(reply["cycle"]?.integerValue ?? 0) at \(reply["rate_hz"]?.doubleValue ?? 0) Hz"]
        if let latched = reply["latched"]?.objectValue {
            lines.append("  latched: \(latched["text"]?.stringValue ?? "?")")
        }
        if let device = reply["device"]?.objectValue {
            let flags = ["enabled", "torque_on", "estop", "fault", "watchdog_expired"].filter { device[$0]?.boolValue == true }
            lines.append("  device: \(flags.isEmpty ? "disabled" : flags.joined(separator: ", ")); state age \(reply["state_age_ms"]?.doubleValue ?? 0) ms; link \(reply["link_quality"]?.stringValue ?? "?") (FAIR episodes \(reply["link_fair_episodes"]?.integerValue ?? 0), POOR \(reply["link_poor_episodes"]?.integerValue ?? 0))")
        }
        for joint in reply["joints"]?.arrayValue?.compactMap(\.objectValue) ?? [] {
            let degrees = (joint["position_rad"]?.doubleValue ?? 0) * 180 / .pi
            lines.append("  \(joint["name"]?.stringValue ?? "?"): \(String(format: "%.2f", degrees))°, "
                + "\(String(format: "%.3f", joint["velocity_rad_per_s"]?.doubleValue ?? 0)) rad/s, "
                + "command \(String(format: "%.3f", joint["commanded_torque_nm"]?.doubleValue ?? 0)) N·m, "
                + "interaction \(String(format: "%.3f", joint["interaction_torque_nm"]?.doubleValue ?? 0)) N·m")
        }
        Terminal.printLine(lines.joined(separator: "\n"))
        return .success
    }
}

/// `rehabctl run`: a supervised session on a real device.
enum RunCommand {
    static let spec = CommandSpec(
        program: "rehabctl", name: "run",
        summary: "Run a supervised exercise on a robot connected to a serial port.",
        discussion: """
            Opens the port (exclusively), runs the self-test (identity against the profile, fresh state,
            link pre-flight, watchdog confirmation, direction check), enables the robot and runs the
            passive exercise at the loop rate with every interlock of docs/safety.md. After a fault it
            holds the joints and waits: `rehabctl release` frees the patient, `rehabctl reset` or
            `rehabctl stop` ends the session. Ctrl-C stops (Cat 1); a second Ctrl-C or SIGTERM e-stops.
            """,
        options: [
            .init("--port", value: "PATH", help: "The robot's serial port (e.g. /dev/ttyUSB0 or a /dev/serial/by-id/ link)."),
            .init("--sim", help: "Instead of --port: start rehabsim (the profile's robot) on a pseudo-terminal and run on it."),
            .init("--patient", value: "PRESET", help: "With --sim: a simulated patient in the robot (healthy, stroke-mild, stroke-severe, passive); it follows the exercise."),
            .init("--profile", value: "NAME|PATH", help: "The robot's hardware profile (hardware/*.json).", default: "wrist-trainer"),
            .init("--duration", value: "SECONDS", help: "How long the exercise runs.", default: "60"),
            .init("--rate", value: "HZ", help: "Control loop rate, 1 to 10000.", default: "1000"),
            .init("--priority", value: "N", help: "SCHED_FIFO priority of the control thread, 1 to 99; 0 for none.", default: "80"),
            .init("--cpu", value: "N", help: "Pin the control thread to this CPU."),
            .init("--simulator-cpu", value: "N", help: "With --sim: pin the simulator's firmware loop to this CPU (the remedy the non-preemptible-kernel warning names)."),
            .init("--require-realtime", help: "Refuse to start unless SCHED_FIFO and locked memory are granted."),
            .init("--reply-wait", value: "cycle|next-wake", help: "Wait for each reply within the cycle, or read it at the next wake.", default: "cycle"),
            .init("--json", help: "Print one JSON object (the session report) instead of the summary."),
            SessionMetadataOptions.patientLabelOption,
        ] + LoopOptions.session,
        examples: ["rehabctl run --port /dev/ttyUSB0 --exercise wrist-flexion-passive",
                   "rehabctl run --sim --exercise wrist-flexion-assist --patient stroke-mild",
                   "rehabsim --link /tmp/wrist & rehabctl run --port /tmp/wrist --duration 20"])

    static func run(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        switch (parsed.string("--port") != nil, parsed.flag("--sim")) {
        case (false, false): throw parsed.usageError("--port PATH is required (the robot's serial port), or --sim for the simulator")
        case (true, true): throw parsed.usageError("give --port or --sim, not both")
        default: break
        }
        if parsed.string("--simulator-cpu") != nil && !parsed.flag("--sim") {
            throw parsed.usageError("--simulator-cpu pins the simulator started by --sim; with --port there is none")
        }
        // No AllocationCounting here, ever: `run` drives a patient's robot, on glibc's allocator as
        // the system provides it, never on the measurement tool that replaces malloc process-wide
        // (its report has no allocation figure). bench and demo measure, on the simulator.
        let run = try SupervisedSessionRun(command: "run", parsed, defaultDurationSeconds: 60)
        return try run.run().printReport(asJSON: parsed.flag("--json"))
    }
}
