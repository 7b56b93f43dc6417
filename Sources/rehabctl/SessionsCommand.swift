import CommandLineSupport
import Platform
import StrictJSON
import Telemetry

/// `rehabctl sessions [DIR]`: the recordings in a folder, one line each, from their metadata only.
enum SessionsCommand {
    static let spec = CommandSpec(
        program: "rehabctl", name: "sessions",
        summary: "List the recordings in a folder: date, profile, patient label, exercise, mode, duration, result.",
        discussion: """
            Reads of each DIR/*.mcap its footer, its summary's index and two metadata records (`session`,
            and `session_result`, written when the session ended) — a few kilobytes per file, never its
            messages — and prints one line per recording, oldest first (times in UTC). The result is
            completed, stopped by <cause> (operator, operator_estop, patient_stop, …) or fault (<cause>).
            A recording cut short by a crash has no summary: it is listed as "incomplete (rehabctl
            recover)" from its first metadata record. A file that is not a readable MCAP file is skipped
            with a note on standard error. Exit 66 when DIR does not exist or cannot be read.
            """,
        options: [.init("--json", help: "Print one JSON object: the folder, the sessions (with the exercised joint's figures) and the files skipped.")],
        positionals: [
            .init("DIR", help: "The folder of recordings (default: ~/.local/state/rehabhost/recordings, where demo records).", optional: true)
        ],
        examples: ["rehabctl sessions", "rehabctl sessions /data/rehab/recordings --json"])

    static func run(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        let given = parsed.positionals.first
        let directory = given ?? defaultDirectory
        let listing: SessionCatalogue.Listing
        if given == nil && OutputFileError.kind(at: directory) == nil {
            // A machine that has recorded nothing yet: an empty list, not an error.
            Terminal.printError("rehabctl sessions: no recordings yet: \(directory) does not exist (rehabctl demo records there)")
            listing = SessionCatalogue.Listing()
        } else {
            listing = try list(directory, command: "sessions")
        }
        for skipped in listing.skipped { Terminal.printError("rehabctl sessions: skipped \(skipped.path): \(skipped.reason)") }
        if parsed.flag("--json") {
            let object: JSONObject = [
                "directory": .string(directory),
                "sessions": .array(listing.sessions.map(json)),
                "skipped": .array(listing.skipped.map { JSONValue.object(["path": .string($0.path), "reason": .string($0.reason)]) }),
            ]
            Terminal.printLine(JSONValue.object(object).serialized(pretty: true))
            return .success
        }
        if !listing.sessions.isEmpty { Terminal.printLine(table(listing.sessions)) }
        let incomplete = listing.sessions.filter { !$0.isComplete }.count
        Terminal.printLine(
            "\(listing.sessions.count) recording\(listing.sessions.count == 1 ? "" : "s") in \(directory)"
                + (incomplete > 0 ? "; \(incomplete) incomplete: rehabctl recover FILE rebuilds each" : ""))
        return .success
    }

    /// Where `demo` and `--record` put recordings by default (`RecordingLocation`).
    static var defaultDirectory: String { StateFolder.path("recordings") }

    /// The catalogue of `directory`: exit 66 (77 on permission) when it cannot be listed.
    static func list(_ directory: String, command: String) throws(CommandFailure) -> SessionCatalogue.Listing {
        do throws(Errno) {
            return try SessionCatalogue.list(directory: directory)
        } catch {
            throw CommandFailure("rehabctl \(command): cannot list the recordings in \(directory): \(error)", exitCode: error.exitCode)
        }
    }

    /// One line per session, columns aligned; the result last, unpadded.
    static func table(_ sessions: [RecordedSession]) -> String {
        let header = ["date (UTC)", "profile", "patient", "exercise", "mode", "duration", "result"]
        let rows = sessions.map { session in
            [session.dateText, session.profile ?? "—", session.patientLabel ?? "—", session.exercise ?? "—", session.mode ?? "—",
             session.durationText, session.resultText]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { cells in
            cells.enumerated().map { column, cell in
                column == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count + 2)
            }.joined()
        }.joined(separator: "\n")
    }

    /// One session for `--json`: SI units in the keys, null for what the file does not say.
    static func json(_ session: RecordedSession) -> JSONValue {
        func text(_ value: String?) -> JSONValue { value.map { JSONValue.string($0) } ?? .null }
        func number(_ value: Double?) -> JSONValue { value.map { JSONValue.number($0, significantDigits: 6) } ?? .null }
        func count(_ value: Int?) -> JSONValue { value.map { JSONValue.int($0) } ?? .null }
        var object = JSONObject()
        object["path"] = .string(session.path)
        object["start_unix_ns"] = session.startUnixNanoseconds.map { JSONValue.integer($0) } ?? .null
        object["date_utc"] = text(session.startUnixNanoseconds.map { WallClock.utcTimestamp($0) })
        object["profile"] = text(session.profile)
        object["patient_label"] = text(session.patientLabel)
        object["exercise"] = text(session.exercise)
        object["mode"] = text(session.mode)
        object["duration_s"] = number(session.durationSeconds)
        object["complete"] = .bool(session.isComplete)
        object["result"] = .string(session.result?.ending.kind ?? (session.isComplete ? "unknown" : "incomplete"))
        object["result_cause"] = text(session.result?.ending.cause)
        object["result_text"] = .string(session.resultText)
        if let result = session.result {
            object["exercised_joint"] = text(result.exercisedJoint)
            object["rom_rad"] = number(result.rangeOfMotionRadians)
            object["repetitions"] = count(result.repetitionsDone)
            object["repetitions_planned"] = count(result.repetitionsPlanned)
            object["assistance_ratio"] = number(result.assistanceRatio)
            object["patient_work_j"] = number(result.patientWorkJoules)
            object["robot_work_j"] = number(result.robotWorkJoules)
            object["peak_interaction_torque_nm"] = number(result.peakInteractionTorqueNewtonMeters)
            object["safety_events"] = count(result.safetyEvents)
        }
        object["file_bytes"] = .int(session.fileSize)
        object["bytes_read"] = .int(session.bytesRead)
        return .object(object)
    }
}
