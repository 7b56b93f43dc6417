import CSystemShims
import CommandLineSupport
import Foundation
import Platform
import StrictJSON

/// `rehabctl monitor`: a live terminal view of a running session, through its control socket.
enum MonitorCommand {
    static let spec = CommandSpec(
        program: "rehabctl", name: "monitor",
        summary: "Watch a running session live: joints, mode, supervisor state, last fault, loop timing.",
        discussion: """
            Asks the session for its status about 10 times a second (read-only; any number of monitors may
            watch, and none can move the robot) and redraws: per joint the position, target, velocity,
            commanded torque and interaction torque; the exercise, the supervisor state and the last fault
            with its requirement; the loop's wake latency and compute time (this cycle and the largest of
            the last second) and missed deadlines. q or Ctrl-C quits; the session goes on. On a narrow
            terminal each joint gets its own block of lines. Output that is not a terminal gets plain
            snapshots, one a second (or one with --once).
            """,
        options: [
            .init("--session", value: "PATH|PID", help: "The session's control socket, or its process id; needed only when several sessions run."),
            .init("--once", help: "Print one snapshot and exit."),
            .init("--interval", value: "SECONDS", help: "Time between redraws.", default: "0.1"),
        ],
        examples: ["rehabctl monitor", "rehabctl monitor --session 4242", "rehabctl monitor --once"])

    static func run(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        let interval = try parsed.double("--interval", default: 0.1, in: 0.02...10, unit: "s")
        let connection = try SessionClientCommands.connect(parsed, command: "monitor")
        defer { connection.close() }
        let interactive = isatty(STDOUT_FILENO) == 1 && !parsed.flag("--once")
        if !interactive {
            // Not a terminal: the width a script asks for with COLUMNS, else a wide layout.
            let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap { Int($0) }.map { max(20, $0) } ?? 100
            while true {
                let status = try SessionClientCommands.exchange(connection, "status", command: "monitor")
                Terminal.printLine(MonitorView.lines(status, columns: columns).map { MonitorView.fit($0, columns) }.joined(separator: "\n"))
                if parsed.flag("--once") || status["finished"]?.boolValue == true { return .success }
                Terminal.printLine("")
                usleep(1_000_000)
            }
        }
        TerminationSignals.install()
        let keyboard = RawKeyboard()
        defer {
            keyboard.restore()
            FileHandle.standardOutput.write(Data("\u{1B}[?25h\n".utf8))
        }
        FileHandle.standardOutput.write(Data("\u{1B}[?25l\u{1B}[2J".utf8))
        while TerminationSignals.interrupts == 0 && TerminationSignals.terminations == 0 {
            let status: JSONObject
            do throws(CommandFailure) {
                status = try SessionClientCommands.exchange(connection, "status", command: "monitor")
            } catch {
                FileHandle.standardOutput.write(Data("\u{1B}[H\u{1B}[2J".utf8))
                Terminal.printLine("the session has ended (its control socket closed)")
                return .success
            }
            var columns: Int32 = 80
            var rows: Int32 = 24
            if rh_terminal_size(STDOUT_FILENO, &columns, &rows) != 0 || columns <= 0 { columns = 80 }
            let lines = MonitorView.lines(status, columns: Int(columns)) + ["", "q or Ctrl-C quits (the session goes on)"]
            let screen = lines.map { MonitorView.fit($0, Int(columns)) + "\u{1B}[K" }.joined(separator: "\n")
            FileHandle.standardOutput.write(Data(("\u{1B}[H" + screen + "\u{1B}[J").utf8))
            if status["finished"]?.boolValue == true {
                Terminal.printLine("\nthe session has ended")
                return .success
            }
            if let key = keyboard.key(waitingNanoseconds: Int64(interval * 1e9)), key == UInt8(ascii: "q") || key == UInt8(ascii: "Q") {
                return .success
            }
        }
        return .success
    }
}

/// The monitor's screen as lines of text, from a status reply (pure: tested without a session).
enum MonitorView {
    static func lines(_ status: JSONObject, columns: Int) -> [String] {
        func number(_ value: JSONValue?, _ decimals: Int) -> String {
            guard let value = value?.doubleValue, value.isFinite else { return "—" }
            return String(format: "%.\(decimals)f", value)
        }
        func degrees(_ value: JSONValue?) -> String {
            guard let radians = value?.doubleValue, radians.isFinite else { return "—" }
            return String(format: "%.2f°", radians * 180 / .pi)
        }
        let state = (status["state"]?.stringValue ?? "?").uppercased() + (status["releasing"]?.boolValue == true ? " (RELEASING)" : "")
        // The exercise's own mode is the first of its modes; another in force is worth a word.
        let modeInForce = status["mode_in_force"]?.stringValue ?? ""
        let switched = modeInForce.isEmpty || modeInForce == status["modes"]?.arrayValue?.first?.stringValue ? "" : " (switched to \(modeInForce))"
        var lines = [
            "RehabHost monitor — session pid \(status["pid"]?.integerValue ?? 0) — \(status["exercise"]?.stringValue ?? "exercise")" + switched,
            "state \(state)   cycle \(status["cycle"]?.integerValue ?? 0) at \(number(status["rate_hz"], 0)) Hz"
                + (status["stop_category"].flatMap { $0.integerValue }.map { "   stopping: Cat \($0)" } ?? ""),
        ]
        if let device = status["device"]?.objectValue {
            let flags = ["enabled", "torque_on", "estop", "fault", "watchdog_expired"].filter { device[$0]?.boolValue == true }
            lines.append("device: \(flags.isEmpty ? "disabled" : flags.joined(separator: ", "))   state age \(number(status["state_age_ms"], 2)) ms   link \(status["link_quality"]?.stringValue ?? "?") (FAIR episodes \(status["link_fair_episodes"]?.integerValue ?? 0), POOR \(status["link_poor_episodes"]?.integerValue ?? 0))")
        }
        lines.append("last fault: " + (status["latched"]?.objectValue?["text"]?.stringValue ?? "none"))
        if let loop = status["loop"]?.objectValue {
            let wake = "wake \(number(loop["wake_latency_us"], 1)) µs (max last s \(number(loop["wake_latency_max_last_second_us"], 1)))"
            let compute = "compute \(number(loop["compute_us"], 1)) µs (max \(number(loop["compute_max_last_second_us"], 1)))"
            let missed = "missed deadlines \(loop["missed_deadlines"]?.integerValue ?? 0)"
            if columns >= 86 {
                lines.append("loop: \(wake)   \(compute)   \(missed)")
            } else {
                lines += ["loop: \(wake)", "  \(compute)", "  \(missed)"]
            }
        }
        lines.append("")
        let joints = status["joints"]?.arrayValue?.compactMap(\.objectValue) ?? []
        if columns >= 86 {
            lines.append("joint                 position    target   velocity [rad/s]  torque [N·m]  interaction [N·m]")
            for joint in joints {
                let name = (joint["name"]?.stringValue ?? "?").padding(toLength: 20, withPad: " ", startingAt: 0)
                lines.append(
                    name + degrees(joint["position_rad"]).leftPad(10) + degrees(joint["target_position_rad"]).leftPad(10)
                        + number(joint["velocity_rad_per_s"], 3).leftPad(19) + number(joint["commanded_torque_nm"], 3).leftPad(14)
                        + number(joint["interaction_torque_nm"], 3).leftPad(19))
            }
        } else {
            for joint in joints {
                lines.append(joint["name"]?.stringValue ?? "?")
                lines.append("  position \(degrees(joint["position_rad"]))  target \(degrees(joint["target_position_rad"]))")
                lines.append("  velocity \(number(joint["velocity_rad_per_s"], 3)) rad/s")
                lines.append("  torque \(number(joint["commanded_torque_nm"], 3)) N·m  interaction \(number(joint["interaction_torque_nm"], 3)) N·m")
            }
        }
        return lines
    }

    /// Cuts a line to the terminal's width (a wrapped line would scroll the screen).
    static func fit(_ line: String, _ columns: Int) -> String {
        line.count <= columns ? line : String(line.prefix(max(1, columns - 1))) + "…"
    }
}

extension String {
    fileprivate func leftPad(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}

/// Standard input in non-canonical mode without echo (keys arrive one by one), restored on exit.
/// Ctrl-C still raises SIGINT. Does nothing when standard input is not a terminal.
final class RawKeyboard {
    private var saved = termios()
    private var active = false

    init() {
        guard isatty(STDIN_FILENO) == 1, tcgetattr(STDIN_FILENO, &saved) == 0 else { return }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        active = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0
    }

    /// A key pressed within `waitingNanoseconds`, or nil.
    func key(waitingNanoseconds: Int64) -> UInt8? {
        guard active else {
            usleep(UInt32(waitingNanoseconds / 1_000))
            return nil
        }
        guard rh_poll_one(STDIN_FILENO, Int16(POLLIN), waitingNanoseconds) > 0 else { return nil }
        var byte: UInt8 = 0
        return Glibc.read(STDIN_FILENO, &byte, 1) == 1 ? byte : nil
    }

    func restore() {
        if active { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        active = false
    }
}
