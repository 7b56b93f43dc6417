import CommandLineSupport
import Foundation
import Glibc
import Platform
import Profiles
import ScenarioRunner
import Scenarios
import StrictJSON

/// `rehabctl scenario run|trace|list`: the scenario files of hardware/scenarios/ (one file for virtual
/// time, the simulator and a rig), their results as JUnit XML or JSON, and the safety evidence report.
enum ScenarioCommand {
    static let spec = CommandSpec(
        program: "rehabctl", name: "scenario",
        summary: "Run scenario files (virtual time or the simulator), write JUnit XML, make the safety evidence report.",
        discussion: """
            run    runs every scenario of the files and folders given (default: hardware/scenarios) and
                   prints one line per scenario: PASS, FAIL (the first failed expectation: expected …;
                   observed …), SKIP (why) or ERROR (the runner could not carry it out); on a
                   terminal a live bar below them on long runs (done of all, times, the scenario running).
                   --target virtual: in this process on a virtual clock (the real driver, codec,
                   session and supervisor against the simulated firmware): deterministic and far
                   faster than real time. --target sim: rehabsim over pseudo-terminals in real time,
                   the real serial path, one scenario after another; a failure that the session's own
                   figures show a host stall explains is repeated, printed and counted
                   (--host-stall-retries). --target port --port PATH: on a rig, the robot itself; a
                   scenario that needs a simulator (a fault script, a fault without a rig prompt, a
                   host_stall) is skipped with the reason, a fault with a rig prompt is asked of the
                   operator (Enter when done, within its timeout), and deadlines are not measured from
                   what a person did.
            trace  the safety evidence report: each requirement SR-1 … SR-25, its hazard, the
                   scenarios that prove it and their last result (from --results, a JSON or JUnit
                   file written by `run`), as Markdown (--markdown) and a self-contained HTML page
                   (--html); without either, the Markdown is printed.
            list   the scenarios with their requirements and targets.
            Scenario files: hardware/scenarios/README.md. Exit codes: 0 every scenario passed or was
            skipped, 1 one failed or could not run, 64 wrong use, 65 a file that is not a valid
            scenario, 66 a path that does not exist.
            """,
        options: [
            .init("--target", value: "virtual|sim|port", help: "Where the scenarios run: in virtual time, against rehabsim, or on the robot at --port.", default: "virtual"),
            .init("--port", value: "PATH", help: "With --target port: the robot's serial port (the profile's robot, e.g. a /dev/serial/by-id/ link)."),
            .init("--tracker-port", value: "NAME=PATH[,…]", help: "With --target port: the port of each tracker the scenarios name (hardware/trackers/NAME.json), e.g. polaris-vega=/dev/ttyUSB1. Repeatable, or a comma list.", repeatable: true),
            .init("--junit", value: "FILE", help: "run: write the results as JUnit XML (Jenkins, GitLab)."),
            .init("--json", help: "run: print the results as one JSON object (the progress lines go to standard error)."),
            .init("--host-stall-retries", value: "N", help: "run, --target sim: how many runs in all may be repeated because the host held the session up (a failed run whose session measured a missed deadline, a wake-up a period late, a timing interlock first, or FAIR with nothing injected). Each is printed and counted; more than N fails the run.", default: "3"),
            .init("--requirement", value: "SR-N", help: "run, list: only the scenarios that prove this requirement."),
            .init("--tag", value: "WORD", help: "run, list: only the scenarios with this tag."),
            .init("--results", value: "FILE", help: "trace: a JSON or JUnit XML result of `scenario run` (repeatable; later files win).", repeatable: true),
            .init("--markdown", value: "FILE", help: "trace: write the report as Markdown."),
            .init("--html", value: "FILE", help: "trace: write the report as one self-contained HTML page."),
        ],
        positionals: [
            .init("ACTION", help: "run, trace or list"),
            .init("PATH", help: "Scenario files or folders (default: hardware/scenarios).", optional: true, repeatable: true),
        ],
        examples: [
            "rehabctl scenario run hardware/scenarios",
            "rehabctl scenario run hardware/scenarios/sr12-operator-estop.json --target sim",
            "rehabctl scenario run hardware/scenarios --target port --port /dev/serial/by-id/usb-FTDI_wrist-if00-port0",
            "rehabctl scenario run --junit build/scenarios.xml --json > build/scenarios.json",
            "rehabctl scenario trace --results build/scenarios.json --html build/safety-evidence.html",
        ])

    static func run(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        let action = parsed.positionals[0]
        let paths = parsed.positionals.count > 1 ? Array(parsed.positionals.dropFirst()) : [defaultFolder()]
        switch action {
        case "run": return try runScenarios(paths: paths, parsed)
        case "trace": return try trace(paths: paths, parsed)
        case "list": return try list(paths: paths, parsed)
        default: throw parsed.usageError("ACTION must be run, trace or list, not \"\(action)\"")
        }
    }

    /// hardware/scenarios, found where the profiles are found.
    static func defaultFolder() -> String {
        for folder in ProfileSearch.folders() {
            let candidate = folder + "/scenarios"
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return "hardware/scenarios"
    }

    /// Every scenario under `paths`, loaded and validated, filtered by --requirement and --tag.
    static func load(paths: [String], _ parsed: ParsedArguments) throws(CommandFailure) -> [Scenario] {
        var files: [String] = []
        for path in paths {
            do throws(ProfileError) {
                files += try ScenarioLoader.files(at: path)
            } catch {
                throw CommandFailure("rehabctl scenario: \(error)", exitCode: .noInput)
            }
        }
        var scenarios: [Scenario] = []
        var problems: [String] = []
        for file in files {
            do throws(ProfileError) {
                scenarios.append(try ScenarioLoader.load(path: file))
            } catch {
                problems.append("\(error)")
            }
        }
        guard problems.isEmpty else {
            throw CommandFailure("rehabctl scenario: " + problems.joined(separator: "\nrehabctl scenario: "), exitCode: .dataError)
        }
        if let requirement = parsed.string("--requirement") {
            guard let id = RequirementID(requirement) else {
                throw parsed.usageError("--requirement \(requirement): give SR-1 … SR-25")
            }
            scenarios = scenarios.filter { $0.requirements.contains(id) }
        }
        if let tag = parsed.string("--tag") {
            scenarios = scenarios.filter { $0.tags.contains(tag) }
        }
        return scenarios
    }

    // MARK: run

    /// `--tracker-port NAME=PATH,…`: each tracker's port on a rig, by the tracker profile's name.
    static func trackerPorts(_ parsed: ParsedArguments) throws(CommandFailure) -> [String: String] {
        var ports: [String: String] = [:]
        for item in (parsed.string("--tracker-port") ?? "").split(separator: ",").map(String.init) {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw parsed.usageError("--tracker-port \(item): give NAME=PATH, e.g. polaris-vega=/dev/ttyUSB1")
            }
            guard ports[parts[0]] == nil else { throw parsed.usageError("--tracker-port: \(parts[0]) is given twice") }
            ports[parts[0]] = parts[1]
        }
        return ports
    }

    static func runScenarios(paths: [String], _ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        let targetName = parsed.string("--target") ?? "virtual"
        let target: ScenarioTarget
        switch targetName {
        case "virtual": target = .virtual
        case "sim": target = .sim
        case "port": target = .rig
        default: throw parsed.usageError("--target takes virtual, sim or port, not \"\(targetName)\"")
        }
        let port = parsed.string("--port")
        if target == .rig && port == nil { throw parsed.usageError("--target port needs --port PATH, the robot's serial port") }
        if target != .rig && port != nil { throw parsed.usageError("--port is for --target port") }
        let trackerPorts = try Self.trackerPorts(parsed)
        if target != .rig && !trackerPorts.isEmpty { throw parsed.usageError("--tracker-port is for --target port") }
        let scenarios = try load(paths: paths, parsed)
        guard !scenarios.isEmpty else { throw CommandFailure("rehabctl scenario run: no scenario selected in \(paths.joined(separator: ", "))", exitCode: .noInput) }
        let retryBudget = try parsed.integer("--host-stall-retries", default: 3, in: 0...100, unit: "runs") ?? 3
        if parsed.string("--host-stall-retries") != nil && target != .sim {
            throw parsed.usageError("--host-stall-retries is for --target sim (virtual time has no host stalls; a rig's failure is never repeated)")
        }
        let json = parsed.flag("--json")
        // On a terminal a live bar sits below the lines (done of total, times, the scenario running).
        let bar = ScenarioProgressBar(total: scenarios.count, descriptor: json ? STDERR_FILENO : STDOUT_FILENO)
        defer { bar?.stop() }
        let write: (String) -> Void = json ? { Terminal.printError($0) } : { Terminal.printLine($0) }
        let progress: (String) -> Void = { line in if let bar { bar.print(line) } else { write(line) } }
        let resultLine: (String) -> Void = { line in if let bar { bar.print(line, finishes: true) } else { write(line) } }
        var results: [ScenarioResult] = []
        var hostStallRetries: [String] = []
        var simulatedNanoseconds: Int64 = 0
        let wallStart = MonotonicClock.now()
        for (number, scenario) in scenarios.enumerated() {
            let plan = ScenarioPlan(scenario, target: target)
            let timestamp = Self.timestamp()
            guard plan.runs else {
                let result = ScenarioEvaluator.skipped(scenario, plan: plan, timestamp: timestamp)
                results.append(result)
                resultLine(line(result, number: number, of: scenarios.count))
                continue
            }
            bar?.begin(scenario.name)
            var result: ScenarioResult
            var repeated: [String] = []
            while true {
                let started = MonotonicClock.now()
                let observation: ScenarioObservation
                switch target {
                case .virtual: observation = VirtualScenarioRun.run(scenario, plan: plan).observation
                case .sim: observation = SimScenarioRun.run(scenario, plan: plan)
                case .rig: observation = SimScenarioRun.run(scenario, plan: plan, port: port, trackerPorts: trackerPorts)
                }
                simulatedNanoseconds += observation.elapsedNanoseconds
                let seconds = Double(MonotonicClock.now().nanoseconds(since: started)) / 1e9
                result = ScenarioEvaluator.result(scenario, plan: plan, observation: observation, timeSeconds: seconds, timestamp: timestamp)
                // On the simulator a failure the host's own stall explains is repeated, at most twice per
                // scenario and `retryBudget` times per run, each printed and counted: a regression cannot
                // hide behind a later attempt, and a host that stalls too often fails the run.
                guard target == .sim, result.outcome == .failed || result.outcome == .error, let stall = observation.hostStall,
                    repeated.count < 2, hostStallRetries.count < retryBudget + 1
                else { break }
                let reason = "\(scenario.name): attempt \(repeated.count + 1) repeated (host stall: \(stall)): " + (result.message ?? "failed")
                hostStallRetries.append(reason)
                repeated.append(reason)
                progress("        RETRY " + reason)
                if hostStallRetries.count > retryBudget { break }
            }
            result.notes += repeated.map { "host-stall retry: " + $0 }
            results.append(result)
            resultLine(line(result, number: number, of: scenarios.count))
            for failure in result.failures { progress("        " + failure.line) }
        }
        let wallSeconds = Double(MonotonicClock.now().nanoseconds(since: wallStart)) / 1e9
        var counts: [ScenarioResult.Outcome: Int] = [:]
        for result in results { counts[result.outcome, default: 0] += 1 }
        var summary = "\(results.count) scenarios on \(target): \(counts[.passed] ?? 0) passed, \(counts[.failed] ?? 0) failed, "
            + "\(counts[.skipped] ?? 0) skipped, \(counts[.error] ?? 0) could not run, in \(String(format: "%.1f", wallSeconds)) s"
        if target == .virtual && wallSeconds > 0 {
            let simulated = Double(simulatedNanoseconds) / 1e9
            summary += " (\(String(format: "%.1f", simulated)) s of sessions simulated: \(Int((simulated / wallSeconds).rounded()))× real time)"
        }
        if target == .sim {
            summary += "; host-stall retries: \(hostStallRetries.count) (budget \(retryBudget))"
        }
        progress(summary)
        let overBudget = hostStallRetries.count > retryBudget
        if overBudget {
            progress("rehabctl scenario run: the host held \(hostStallRetries.count) runs up, more than the budget of \(retryBudget): "
                + "this host is too noisy to judge the scenarios (or a regression shows as stalls); the runs repeated:")
            for reason in hostStallRetries { progress("        " + reason) }
        }
        if let junit = parsed.string("--junit") {
            do throws(OutputFileError) {
                try DurableFile.save(JUnitXML.write(results), to: junit)
            } catch {
                throw CommandFailure("rehabctl scenario run: --junit \(junit): \(error)", exitCode: .ioError)
            }
        }
        if json { Terminal.printLine(ScenarioResultJSON.encode(results).serialized(pretty: true)) }
        return (counts[.failed] ?? 0) + (counts[.error] ?? 0) > 0 || overBudget ? .safetyStop : .success
    }

    /// "[ 3/58] PASS  sr12-operator-estop  virtual  0.120 s"
    private static func line(_ result: ScenarioResult, number: Int, of count: Int) -> String {
        let width = String(count).count
        let index = String(number + 1)
        return "[" + String(repeating: " ", count: width - index.count) + index + "/\(count)] " + result.progressLine
    }

    private static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date())
    }

    // MARK: trace

    static func trace(paths: [String], _ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        let scenarios = try load(paths: paths, parsed)
        var recorded: [RecordedResult] = []
        var sources: [String] = []
        // A repeated option arrives comma-joined.
        for file in (parsed.string("--results") ?? "").split(separator: ",").map(String.init) {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw CommandFailure("rehabctl scenario trace: --results \(file): cannot read it: \(error.localizedDescription)", exitCode: .noInput)
            }
            if text.drop(while: { $0.isWhitespace }).hasPrefix("<") {
                do throws(XMLReadError) {
                    recorded += try JUnitXML.read(text)
                } catch {
                    throw CommandFailure("rehabctl scenario trace: --results \(file): \(error)", exitCode: .dataError)
                }
            } else {
                do throws(ProfileError) {
                    recorded += try ScenarioResultJSON.load(path: file).map(\.recorded)
                } catch {
                    throw CommandFailure("rehabctl scenario trace: --results \(file): \(error)", exitCode: .dataError)
                }
            }
            sources.append(file)
        }
        let report = SafetyTrace(scenarios: scenarios, results: recorded)
        let markdownPath = parsed.string("--markdown")
        let htmlPath = parsed.string("--html")
        if let markdownPath { try write(report.markdown(sources: sources), to: markdownPath, option: "--markdown") }
        if let htmlPath { try write(report.html(sources: sources), to: htmlPath, option: "--html") }
        if markdownPath == nil && htmlPath == nil { Terminal.printLine(report.markdown(sources: sources)) }
        return .success
    }

    private static func write(_ text: String, to path: String, option: String) throws(CommandFailure) {
        do throws(OutputFileError) {
            try DurableFile.save(text, to: path)
        } catch {
            throw CommandFailure("rehabctl scenario trace: \(option) \(path): \(error)", exitCode: .ioError)
        }
    }

    // MARK: list

    static func list(paths: [String], _ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        for scenario in try load(paths: paths, parsed) {
            let targets = ScenarioTarget.allCases.filter { ScenarioPlan(scenario, target: $0).runs }.map(\.rawValue)
            Terminal.printLine("\(scenario.name)  [\(scenario.requirements.map(\.description).joined(separator: " "))]  \(scenario.profile)  targets: \(targets.joined(separator: ", "))")
        }
        return .success
    }
}
