import CommandLineSupport
import Devices
import Foundation
import Platform
import Primitives
import Profiles
import Session
import StrictJSON
import Transport

/// `rehabctl demo`: the whole product in one command, against the simulator.
enum DemoCommand {
    static let spec = CommandSpec(
        program: "rehabctl", name: "demo",
        summary: "Run a supervised exercise on the simulated wrist trainer, over a pseudo-terminal.",
        discussion: """
            Starts `rehabsim` as a child process, connects to its pseudo-terminal through the same serial
            code a real device gets, runs the self-test (identity, fresh state, watchdog confirmation),
            enables the robot and runs a passive flexion–extension exercise (±25°, minimum-jerk swings)
            at the loop rate, then stops it (Cat 1), disables it, stops the simulator and prints a summary:
            tracking error, safety events and loop timing.

            Ctrl-C stops the exercise cleanly (Cat 1, exit 130); a second Ctrl-C or SIGTERM e-stops (Cat 0).
            """,
        options: [
            .init("--duration", value: "SECONDS", help: "How long the exercise runs.", default: "10"),
            .init("--rate", value: "HZ", help: "Control loop rate, 1 to 10000.", default: "1000"),
            .init("--profile", value: "NAME|PATH", help: "Hardware profile of the simulated robot.", default: "wrist-trainer"),
            .init("--priority", value: "N", help: "SCHED_FIFO priority of the control thread, 1 to 99; 0 for none.", default: "80"),
            .init("--cpu", value: "N", help: "Pin the control thread to this CPU."),
            .init("--simulator-cpu", value: "N", help: "Pin the simulator's firmware loop to this CPU."),
            .init("--require-realtime", help: "Refuse to start unless SCHED_FIFO and locked memory are granted."),
            .init("--simulator", value: "PATH", help: "The rehabsim executable; default: the one next to rehabctl."),
            .init("--json", help: "Print one JSON object (the session report) instead of the summary."),
        ],
        examples: ["rehabctl demo", "rehabctl demo --duration 30 --rate 2000 --json"])

    static func run(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        let duration = try parsed.double("--duration", default: 10, in: 0.001...86_400, unit: "s")
        let rate = try parsed.double("--rate", default: 1_000, in: 1...10_000, unit: "Hz")
        let json = parsed.flag("--json")
        let profileName = parsed.string("--profile") ?? "wrist-trainer"
        let profile: HardwareProfile
        do {
            profile = try ProfileSearch.load(profileName)
        } catch {
            throw CommandFailure("rehabctl demo: \(error)", exitCode: error.exitCode)
        }
        let realtime = try RealtimeOptions(parsed)
        let kernel = KernelPreemption.detect()
        if kernel.model.allowsLongKernelStalls && rate > 500 {
            status("warning: this kernel is not preemptible (preempt=\(kernel.model.rawValue), from the \(kernel.source)): a kernel thread can hold a CPU for several ms and delay the pseudo-terminal; at \(Int(rate)) Hz the supervisor may then stop the exercise (SR-1: no state for 3 cycles). See docs/performance.md; --rate 250 tolerates stalls up to 12 ms.")
        }
        let simulatorPath = try SimulatorProcess.locate(explicit: parsed.string("--simulator"))
        TerminationSignals.install()
        let simulator = try SimulatorProcess.start(
            executable: simulatorPath, profilePath: profile.sourcePath, extraArguments: realtime.simulatorArguments)
        defer { simulator.stop() }
        status("simulated \(profile.name) on \(simulator.robotPath)")

        let port: SerialPort
        do {
            port = try SerialPort(path: simulator.robotPath, options: .init(baudRateBitsPerSecond: profile.device.baudRateBitsPerSecond))
        } catch {
            throw CommandFailure("rehabctl demo: \(error)", exitCode: error.exitCode)
        }
        let driver = RehabLinkDevice(link: port, jointCount: profile.joints.count)
        var options = TherapySession.Options(rateHertz: rate, durationSeconds: duration)
        options.observesTerminationSignals = true
        let session: TherapySession
        do {
            session = try TherapySession(profile: profile, device: driver, clock: MonotonicClock.shared, options: options)
        } catch {
            throw CommandFailure("rehabctl demo: \(error)", exitCode: error.exitCode)
        }
        let watchdogMilliseconds = profile.device.watchdogPeriodNanoseconds / 1_000_000
        let report = try ControlThreadRun.execute(session: session, realtime: realtime, command: "demo") { identity in
            if let identity {
                status("self-test passed: \(identity.model) s/n \(identity.serialNumber), firmware \(identity.firmware); watchdog \(watchdogMilliseconds) ms confirmed")
            }
            status("running a passive flexion–extension exercise for \(duration) s at \(Int(rate)) Hz (Ctrl-C stops)")
        }
        if json {
            Terminal.printLine(report.session.json(extra: [("realtime", report.realtime.json)]).serialized(pretty: true))
        } else {
            Terminal.printLine(report.session.humanSummary())
        }
        return exitCode(for: report.session)
    }

    static func exitCode(for report: SessionReport) -> ExitCode {
        if report.linkError != nil { return .ioError }
        if !report.safetyEvents.isEmpty {
            return TerminationSignals.terminations > 0 ? .terminated : .safetyStop
        }
        if TerminationSignals.interrupts > 0 { return .interrupted }
        return .success
    }

    static func status(_ message: String) {
        Terminal.printError("rehabctl demo: \(message)")
    }
}
