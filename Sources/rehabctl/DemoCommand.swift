import CommandLineSupport
import Platform
import Telemetry

/// `rehabctl demo`: the whole product in one command, against the simulator.
enum DemoCommand {
    static let spec = CommandSpec(
        program: "rehabctl", name: "demo",
        summary: "Run a supervised exercise on the simulated wrist trainer, over a pseudo-terminal.",
        discussion: """
            Starts `rehabsim` as a child process, connects to its pseudo-terminal through the same serial
            code a real device gets, runs the self-test (identity, fresh state, link pre-flight, watchdog
            confirmation), enables the robot and runs a passive range-of-motion exercise of the first joint (±25°,
            minimum-jerk swings) at the loop rate, then stops it (Cat 1), disables it, stops the simulator
            and prints a summary: tracking error, safety events and loop timing.

            Ctrl-C stops the exercise cleanly (Cat 1, exit 130); a second Ctrl-C or SIGTERM e-stops (Cat 0).
            """,
        options: LoopOptions.common(defaultDuration: "10") + [
            SessionMetadataOptions.patientLabelOption,
            .init("--json", help: "Print one JSON object (the session report) instead of the summary."),
        ],
        examples: ["rehabctl demo", "rehabctl demo --duration 30 --rate 2000 --json"])

    static func run(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        // The demo shows the zero-allocation proof (README): re-executes with the counter preloaded.
        AllocationCounting.countAllocationsInThisProcess(command: "demo")
        let run = try SupervisedSessionRun(command: "demo", parsed, defaultDurationSeconds: 10)
        let outcome = try run.run()
        let exitCode = outcome.printReport(asJSON: parsed.flag("--json"))
        // The recording's report beside it, as DESIGN.md's demo promises.
        if let recording = outcome.session.recording, recording.failure == nil {
            let output = RecordingCommands.replacingExtension(of: recording.path, with: ".html")
            do {
                let file = try RecordingCommands.read(recording.path, command: "demo")
                let html = try HTMLReport.render(file, title: "RehabHost demo")
                // Like `rehabctl report`: a temporary beside it, renamed on; a link or device there is refused.
                try DurableFile.save(html, to: output, mode: 0o600)
                Terminal.printError("rehabctl demo: report: \(output)  (open it in a browser; CSV: rehabctl export \(recording.path) --csv DIR)")
            } catch {
                Terminal.printError("rehabctl demo: no report: \(error)")
            }
        }
        return exitCode
    }
}
