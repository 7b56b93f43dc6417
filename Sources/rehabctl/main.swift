import CommandLineSupport

/// rehabctl: the lab engineer's command line for RehabHost.
let commands: [(name: String, summary: String, run: ([String]) throws(CommandFailure) -> ExitCode)] = [
    ("devices", "List serial ports and USB devices, and which hardware profile matches each.", DevicesCommand.run),
    ("identify", "Ask a device who it is, and check it against a profile.", IdentifyCommand.run),
    ("demo", "Run a supervised exercise on the simulated wrist trainer, over a pseudo-terminal.", DemoCommand.run),
]

let overview = """
    usage: rehabctl <command> [options]

    RehabHost: the real-time control host for rehabilitation robots.

    Commands:
    \(commands.map { "  " + $0.name.padding(toLength: 12, withPad: " ", startingAt: 0) + $0.summary }.joined(separator: "\n"))

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
guard let command = commands.first(where: { $0.name == first }) else {
    let suggestion = commands.first { $0.name.hasPrefix(first) || first.hasPrefix($0.name) }.map { " (did you mean '\($0.name)'?)" } ?? ""
    Terminal.exit(with: CommandFailure(
        "rehabctl: unknown command '\(first)'\(suggestion)\nusage: rehabctl <command> [options]\nRun 'rehabctl --help' for the list of commands.",
        exitCode: .usage))
}
do {
    Terminal.exit(try command.run(Array(arguments.dropFirst())))
} catch {
    Terminal.exit(with: error)
}
