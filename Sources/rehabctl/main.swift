import CommandLineSupport

/// rehabctl: the lab engineer's command line for RehabHost.
let commands: [(spec: CommandSpec, run: @Sendable (ParsedArguments) throws(CommandFailure) -> ExitCode)] = [
    (DevicesCommand.spec, DevicesCommand.run),
    (IdentifyCommand.spec, IdentifyCommand.run),
    (DynamixelCommand.spec, DynamixelCommand.run),
    (TrackCommand.spec, TrackCommand.run),
    (DemoCommand.spec, DemoCommand.run),
    (RunCommand.spec, RunCommand.run),
    (BenchCommand.spec, BenchCommand.run),
    (DoctorCommand.spec, DoctorCommand.run),
    (MonitorCommand.spec, MonitorCommand.run),
    (SimulateCommand.spec, SimulateCommand.run),
    (ScenarioCommand.spec, ScenarioCommand.run),
    (SessionsCommand.spec, SessionsCommand.run),
] + SessionClientCommands.all + RecordingCommands.all

let overview = """
    usage: rehabctl <command> [options]

    RehabHost: the real-time control host for rehabilitation robots.

    Commands:
    \(commands.map { "  " + ($0.spec.name ?? "").padding(toLength: 12, withPad: " ", startingAt: 0) + $0.spec.summary }.joined(separator: "\n"))

    Run 'rehabctl <command> --help' for what a command does and its options.

    Exit codes:
    \(ExitCode.allCases.map { "  " + String($0.rawValue).padding(toLength: 5, withPad: " ", startingAt: 0) + $0.meaning }.joined(separator: "\n"))
    """

let arguments = Array(CommandLine.arguments.dropFirst())
guard let first = arguments.first else {
    Terminal.exit(with: CommandFailure("rehabctl: no command given\n\n" + overview, exitCode: .usage))
}
if first == "--help" || first == "-h" || first == "help" {
    Terminal.printLine(overview)
    Terminal.exit(.success)
}
guard let command = commands.first(where: { $0.spec.name == first }) else {
    let names = commands.compactMap(\.spec.name)
    let suggestion = names.first { $0.hasPrefix(first) || first.hasPrefix($0) }.map { " (did you mean '\($0)'?)" } ?? ""
    Terminal.exit(with: CommandFailure(
        "rehabctl: unknown command '\(first)'\(suggestion)\nusage: rehabctl <command> [options]\nRun 'rehabctl --help' for the list of commands.",
        exitCode: .usage))
}
do {
    let parsed = try ParsedArguments(Array(arguments.dropFirst()), spec: command.spec)
    if parsed.wantsHelp {
        Terminal.printLine(command.spec.helpText)
        Terminal.exit(.success)
    }
    Terminal.exit(try command.run(parsed))
} catch {
    Terminal.exit(with: error)
}
