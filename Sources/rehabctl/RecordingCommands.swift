import CommandLineSupport
import Foundation
import Platform
import Telemetry

/// `rehabctl export | report | recover`: what lab engineers do with a recording (or a black box)
/// after the session.
enum RecordingCommands {
    static let all: [(spec: CommandSpec, run: @Sendable (ParsedArguments) throws(CommandFailure) -> ExitCode)] = [
        (exportSpec, export), (reportSpec, report), (recoverSpec, recover),
    ]

    // MARK: export

    static let exportSpec = CommandSpec(
        program: "rehabctl", name: "export",
        summary: "Write one CSV file per channel of a recording (for pandas, MATLAB, a spreadsheet).",
        discussion: """
            Reads a recording or black box (.mcap), checks it (CRCs, indexes), and writes <channel>.csv into
            DIR for each channel with messages: joint_state.csv, joint_command.csv, supervisor_state.csv,
            supervisor_transition.csv, safety_event.csv, loop_timing.csv, exercise_metrics.csv. The first
            row names the columns with their SI unit (log_time_ns, <joint>.position_rad,
            <joint>.motor_torque_nm, wake_latency_ns, …); an empty cell means no value (no target tracked).
            A file cut short by a crash is refused: run rehabctl recover on it first. An existing CSV file
            is replaced; a symbolic link, device, FIFO or folder in its place is refused (exit 64) before
            anything is written.
            """,
        options: [.init("--csv", value: "DIR", help: "The folder to write the CSV files into (created if missing).")],
        positionals: [.init("FILE.mcap", help: "A recording or a black box.")],
        examples: ["rehabctl export demo.mcap --csv demo-csv/"])

    static func export(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        guard let directory = parsed.string("--csv") else { throw parsed.usageError("--csv DIR is required (where the CSV files go)") }
        let path = parsed.positionals[0]
        let file = try read(path, command: "export")
        let tables: [CSVExport.Table]
        do {
            tables = try CSVExport.tables(of: file)
        } catch {
            throw CommandFailure("rehabctl export: \(path): \(error)", exitCode: .dataError)
        }
        // Every target is checked before the first file is written.
        for table in tables { try checkOutput(directory + "/" + table.fileName, command: "export") }
        for table in tables {
            let output = directory + "/" + table.fileName
            try save(Array(table.text.utf8), to: output, command: "export")
            Terminal.printLine("\(output): \(table.rows.count) rows, \(table.header.count) columns")
        }
        return .success
    }

    // MARK: report

    static let reportSpec = CommandSpec(
        program: "rehabctl", name: "report",
        summary: "Make one self-contained HTML page from a recording: plots, state timeline, timing, metrics.",
        discussion: """
            Reads a recording or black box (.mcap) and writes an HTML file with inline SVG and no external
            assets (open it anywhere, attach it to a lab notebook): joint position vs target and torque vs
            interaction torque per joint, the supervisor's state timeline with the safety events marked,
            histograms of wake latency, round trip and compute time, and the exercise metrics table.
            An existing file at the output path is replaced; a symbolic link, device, FIFO or folder there
            is refused (exit 64) before anything is written. -o - writes the page to standard output.

            With --progress DIR --patient LABEL instead of a file: one page of that patient's sessions in
            DIR, in date order — a table (date, exercise, mode, duration, range of motion, repetitions
            done/planned, assistance ratio, patient work, peak interaction torque, result) and a plot of
            each figure over the sessions, all from the recordings' metadata (as rehabctl sessions reads
            it). Without --patient it lists the labels in DIR (exit 64); a label with no sessions there
            exits 66.
            """,
        options: [
            .init(
                "-o", value: "FILE.html", help: "Where to write the page (also --output); - for standard output.",
                default: "FILE with .html instead of .mcap; with --progress: DIR/progress-LABEL.html"),
            .init("--output", value: "FILE.html", help: "Same as -o."),
            .init("--progress", value: "DIR", help: "A patient's progress over the recordings in DIR instead of one recording (with --patient)."),
            .init("--patient", value: "LABEL", help: "With --progress: the patient's label (--patient-label of demo, run, simulate)."),
        ],
        positionals: [.init("FILE.mcap", help: "A recording or a black box (not with --progress).", optional: true)],
        examples: ["rehabctl report demo.mcap", "rehabctl report blackbox-….mcap -o fault.html", "rehabctl report demo.mcap -o - | gzip > demo.html.gz",
                   "rehabctl report --progress ~/.local/state/rehabhost/recordings --patient P-0042 -o P-0042.html"])

    static func report(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        if parsed.string("-o") != nil && parsed.string("--output") != nil { throw parsed.usageError("give -o or --output, not both") }
        if let directory = parsed.string("--progress") { return try progress(parsed, directory: directory) }
        if parsed.string("--patient") != nil { throw parsed.usageError("--patient goes with --progress DIR (a patient's sessions in a folder)") }
        guard let path = parsed.positionals.first else {
            throw parsed.usageError("give a recording (FILE.mcap), or --progress DIR --patient LABEL for a patient's sessions")
        }
        let output = parsed.string("-o") ?? parsed.string("--output") ?? replacingExtension(of: path, with: ".html")
        let toStandardOutput = output == standardOutputPath
        if !toStandardOutput { try checkOutput(output, command: "report", alternative: ", or - for standard output") }
        let file = try read(path, command: "report")
        let html: String
        do {
            html = try HTMLReport.render(file, title: "RehabHost session — " + (path.split(separator: "/").last.map(String.init) ?? path))
        } catch {
            throw CommandFailure("rehabctl report: \(path): \(error)", exitCode: .dataError)
        }
        if toStandardOutput {
            try writeStandardOutput(Array(html.utf8), command: "report")
            return .success
        }
        try save(Array(html.utf8), to: output, command: "report", alternative: ", or - for standard output")
        Terminal.printLine(output)
        return .success
    }

    /// `report --progress DIR --patient LABEL`: the patient's sessions in DIR on one page.
    static func progress(_ parsed: ParsedArguments, directory: String) throws(CommandFailure) -> ExitCode {
        guard parsed.positionals.isEmpty else {
            throw parsed.usageError("--progress reads the recordings in a folder: give no FILE.mcap with it")
        }
        let listing = try SessionsCommand.list(directory, command: "report")
        for skipped in listing.skipped { Terminal.printError("rehabctl report: skipped \(skipped.path): \(skipped.reason)") }
        let labels: [String] = listing.patientLabels.map { found in
            "\(found.label) (\(found.sessions) session\(found.sessions == 1 ? "" : "s"))"
        }
        let found: String
        if labels.isEmpty {
            found = "no recording in \(directory) has a patient label (demo, run and simulate take --patient-label)"
        } else {
            found = "the labels in \(directory): " + labels.joined(separator: ", ")
        }
        guard let patient = try SessionMetadataOptions.patientLabel(parsed, option: "--patient") else {
            throw parsed.usageError("--progress needs --patient LABEL; \(found)")
        }
        let output = parsed.string("-o") ?? parsed.string("--output") ?? directory + "/progress-\(patient).html"
        let toStandardOutput = output == standardOutputPath
        if !toStandardOutput { try checkOutput(output, command: "report", alternative: ", or - for standard output") }
        guard let html = ProgressReport.render(listing.sessions, patient: patient, folder: directory) else {
            throw CommandFailure("rehabctl report: no recordings of patient \(patient) in \(directory); \(found)", exitCode: .noInput)
        }
        if toStandardOutput {
            try writeStandardOutput(Array(html.utf8), command: "report")
            return .success
        }
        try save(Array(html.utf8), to: output, command: "report", alternative: ", or - for standard output")
        let count = listing.sessions.filter { $0.patientLabel == patient }.count
        Terminal.printLine("\(output): \(count) session\(count == 1 ? "" : "s") of patient \(patient)")
        return .success
    }

    // MARK: recover

    static let recoverSpec = CommandSpec(
        program: "rehabctl", name: "recover",
        summary: "Rebuild a valid MCAP file from a recording cut short (kill -9, power loss, full disk).",
        discussion: """
            A recording reaches the disk chunk by chunk (at least every 100 ms), so a crash leaves a file
            without its summary and footer. recover keeps every complete chunk whose CRC checks out and
            writes a valid, indexed file (the original is not changed). It says how much was kept and where
            the original stopped. The rebuilt file is a recording: mode 0600. An existing file at OUT is
            replaced; a symbolic link, device, FIFO or folder there is refused (exit 64) before anything is
            written. -o - writes the file to standard output (not a terminal) and the summary to standard error.
            """,
        options: [
            .init(
                "-o", value: "OUT.mcap", help: "Where to write the rebuilt file; - for standard output.",
                default: "FILE with .recovered.mcap")
        ],
        positionals: [.init("FILE.mcap", help: "The damaged recording.")],
        examples: ["rehabctl recover demo.mcap", "rehabctl recover crashed.mcap -o rescued.mcap"])

    static func recover(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        let path = parsed.positionals[0]
        let output = parsed.string("-o") ?? replacingExtension(of: path, with: ".recovered.mcap")
        guard output != path else { throw parsed.usageError("-o must not be the damaged file itself") }
        let toStandardOutput = output == standardOutputPath
        if toStandardOutput {
            guard isatty(STDOUT_FILENO) == 0 else {
                throw parsed.usageError("-o -: standard output is a terminal; redirect it (> rescued.mcap) or give -o OUT.mcap")
            }
        } else {
            try checkOutput(output, command: "recover", alternative: ", or - for standard output")
        }
        let bytes = try readBytes(path, command: "recover")
        let outcome: MCAPRecovery.Outcome
        do {
            outcome = try MCAPRecovery.recover(bytes)
        } catch {
            throw CommandFailure("rehabctl recover: \(path): \(error)", exitCode: .dataError)
        }
        if toStandardOutput {
            try writeStandardOutput(outcome.bytes, command: "recover")
        } else {
            // A recording: patient data.
            try save(outcome.bytes, to: output, mode: 0o600, command: "recover", alternative: ", or - for standard output")
        }
        // With -o - the file is on standard output: the summary goes to standard error.
        let say = { (line: String) in
            if toStandardOutput { Terminal.printError(line) } else { Terminal.printLine(line) }
        }
        let span = outcome.firstLogTime.flatMap { first in outcome.lastLogTime.map { Double($0 - first) / 1e9 } } ?? 0
        let written = toStandardOutput ? "standard output" : output
        say("\(written): \(outcome.messagesKept) messages in \(outcome.chunksKept) complete chunks, \(String(format: "%.3f", span)) s of recording")
        if let stop = outcome.stop {
            say("  the original stops after them: \(stop); \(outcome.bytesDropped) bytes after the last complete chunk were dropped")
        } else {
            say("  the original was already complete")
        }
        return .success
    }

    // MARK: Writing

    /// `-` as an output path: standard output.
    static let standardOutputPath = "-"

    /// Refuses `output` before any work when it exists and is not a regular file (a symbolic link, a
    /// device, a FIFO, a folder): exit 64, like any other output path the command line cannot use.
    /// `alternative` completes the advice (", or - for standard output").
    static func checkOutput(_ output: String, command: String, alternative: String = "") throws(CommandFailure) {
        do throws(OutputFileError) {
            try DurableFile.checkOutputPath(output)
        } catch {
            throw failure(error, command: command, alternative: alternative)
        }
    }

    /// Writes `bytes` to `output` (temporary beside it, fsync, rename; see `DurableFile.save`). Mode
    /// 0600: a report or an export holds the patient's session as much as the recording does.
    static func save(_ bytes: [UInt8], to output: String, mode: mode_t = 0o600, command: String, alternative: String = "")
        throws(CommandFailure)
    {
        do throws(OutputFileError) {
            try DurableFile.save(bytes: bytes, to: output, mode: mode)
        } catch {
            throw failure(error, command: command, alternative: alternative)
        }
    }

    static func writeStandardOutput(_ bytes: [UInt8], command: String) throws(CommandFailure) {
        do throws(Errno) {
            try DurableFile.writeStandardOutput(bytes)
        } catch {
            throw CommandFailure("rehabctl \(command): cannot write to standard output: \(error)", exitCode: error.exitCode)
        }
    }

    /// A refused output path is the command line's fault (64, as `--record` naming an existing
    /// file); a failed system call keeps its errno's code (66, 77, 74).
    static func failure(_ error: OutputFileError, command: String, alternative: String) -> CommandFailure {
        switch error.problem {
        case .notARegularFile: CommandFailure("rehabctl \(command): \(error)\(alternative)", exitCode: .usage)
        case .system(let systemError): CommandFailure("rehabctl \(command): \(error)", exitCode: systemError.exitCode)
        }
    }

    // MARK: Reading

    static func readBytes(_ path: String, command: String) throws(CommandFailure) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let error = Errno.current
            throw CommandFailure("rehabctl \(command): cannot open \(path): \(error)", exitCode: error.exitCode)
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw CommandFailure("rehabctl \(command): \(path) is not a regular file", exitCode: .noInput)
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            offset += count
        }
        return Array(bytes[0..<offset])
    }

    static func read(_ path: String, command: String) throws(CommandFailure) -> MCAPFile {
        let bytes = try readBytes(path, command: command)
        do {
            return try MCAPFile(bytes: bytes)
        } catch {
            throw CommandFailure("rehabctl \(command): \(path): \(error)", exitCode: .dataError)
        }
    }

    static func replacingExtension(of path: String, with suffix: String) -> String {
        (path.hasSuffix(".mcap") ? String(path.dropLast(5)) : path) + suffix
    }
}
