import CommandLineSupport
import Foundation
import Platform
import ScenarioRunner
import Scenarios
import Session
import StrictJSON

/// `rehabctl simulate`: one exercise with a simulated patient in virtual time, faster than real
/// time, with the summary, `--json` and recording of a real session: for tuning assist-as-needed or
/// mirror parameters offline and for regression tests of metrics.
enum SimulateCommand {
    static let spec = CommandSpec(
        program: "rehabctl", name: "simulate",
        summary: "Run one exercise with a simulated patient in virtual time, faster than real time.",
        discussion: """
            The real driver, codec, session, supervisor and controllers run against the simulated
            firmware of the profile's protocol in this process, on a virtual clock: no pseudo-terminal,
            no real-time thread, nothing to wait for. The same profile, exercise and patient always give
            the same figures, bit for bit, so a change to a controller's parameters (an exercise file's
            assistance or mirror block) can be compared run against run. The summary, --json and
            --record are those of `rehabctl demo`; the loop timing in them is the computer's time for
            each cycle, not a real-time measurement. Mirror exercises follow a simulated RehabRef stream
            of the unaffected limb. Exit codes as for a session: 0 ended normally, 1 a safety stop,
            78 a profile or exercise that cannot be used.
            """,
        options: [
            .init("--profile", value: "NAME|PATH", help: "Hardware profile of the simulated robot.", default: "wrist-trainer"),
            .init("--exercise", value: "NAME|PATH", help: "The exercise file (hardware/exercises/NAME.json)."),
            .init("--patient", value: "PRESET", help: "The simulated patient: healthy, stroke-mild, stroke-severe, passive, or none.", default: "passive"),
            .init("--rate", value: "HZ", help: "Control loop rate (default: the profile's)."),
            .init("--duration", value: "SECONDS", help: "Cut the exercise to this long from the loop's start (default: the exercise's own)."),
            .init("--record", value: "PATH", help: "Record every cycle to this MCAP file, as a session does."),
            SessionMetadataOptions.patientLabelOption,
            .init("--json", help: "Print one JSON object (the session report) instead of the summary."),
        ],
        examples: [
            "rehabctl simulate --exercise wrist-flexion-assist --patient stroke-severe",
            "rehabctl simulate --exercise wrist-flexion-mirror --record /tmp/mirror.mcap --json",
        ])

    static func run(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        guard let exercise = parsed.string("--exercise") else { throw parsed.usageError("give --exercise NAME|PATH") }
        let patientName = parsed.string("--patient") ?? "passive"
        var patient: PatientPreset?
        if patientName != "none" {
            guard let preset = PatientPreset(rawValue: patientName) else {
                throw parsed.usageError("--patient \(patientName): presets are \(PatientPreset.allCases.map(\.rawValue).joined(separator: ", ")), or none")
            }
            patient = preset
        }
        let rate = parsed.string("--rate") == nil ? nil : try parsed.double("--rate", default: 0, in: 1...10_000, unit: "Hz")
        let duration = parsed.string("--duration") == nil ? nil : try parsed.double("--duration", default: 0, in: 0.001...86_400, unit: "s")
        let record = parsed.string("--record")
        let patientLabel = try SessionMetadataOptions.patientLabel(parsed)
        let metadata = SessionMetadataOptions.entries(patientLabel: patientLabel, exercise: exercise)
        let json = parsed.flag("--json")
        let reference: ExerciseReference = exercise.contains("/") || exercise.hasSuffix(".json")
            ? .file(written: exercise, path: exercise) : .named(exercise)
        let scenario = Scenario(
            name: "simulate", requirements: [], profile: parsed.string("--profile") ?? "wrist-trainer", exercise: reference,
            patient: patient, rateHertz: rate, durationSeconds: duration, expectations: [])
        let wallStart = MonotonicClock.now()
        let outcome = VirtualScenarioRun.run(scenario, plan: ScenarioPlan(scenario, target: .virtual)) { options in
            options.recordingMetadata = metadata
            guard let record else { return }
            options.recordingPath = record
            // Virtual time outruns the recorder's thread: the ring holds the whole session.
            options.telemetryRingSeconds = options.durationSeconds + 2
        }
        let wallSeconds = Double(MonotonicClock.now().nanoseconds(since: wallStart)) / 1e9
        if let error = outcome.observation.runnerError {
            throw CommandFailure("rehabctl simulate: \(error)", exitCode: .configuration)
        }
        if let error = outcome.setUpError {
            throw CommandFailure("rehabctl simulate: \(error)", exitCode: error.exitCode)
        }
        guard let report = outcome.report else {
            throw CommandFailure("rehabctl simulate: the session did not run", exitCode: .software)
        }
        let simulatedSeconds = Double(outcome.observation.elapsedNanoseconds) / 1e9
        let factor = wallSeconds > 0 ? simulatedSeconds / wallSeconds : 0
        if json {
            Terminal.printLine(report.json(extra: [
                ("virtual_time", .object([
                    "simulated_s": JSONValue.number(simulatedSeconds, significantDigits: 6), "wall_s": JSONValue.number(wallSeconds, significantDigits: 4),
                    "times_real_time": JSONValue.number(factor, significantDigits: 4),
                ] as JSONObject)),
                ("patient", patient.map { .string($0.rawValue) } ?? .null),
            ]).serialized(pretty: true))
        } else {
            Terminal.printLine(report.humanSummary())
            Terminal.printLine("  virtual time: \(format(simulatedSeconds)) s simulated in \(format(wallSeconds)) s (\(Int(factor.rounded()))× real time); the loop timing above is the computer's time per cycle, not a real-time measurement")
        }
        if !report.safetyEvents.isEmpty { return .safetyStop }
        if report.recording?.failure != nil { return .ioError }
        return .success
    }

    private static func format(_ seconds: Double) -> String {
        String(format: "%.3f", seconds)
    }
}
