import Platform

/// One recording as a catalogue shows it: when, which robot, whose (pseudonym), which exercise and
/// mode, how long, how it ended, and the exercised joint's figures — all from its `session` and
/// `session_result` metadata (`MCAPSummaryReader`), never from its messages.
public struct RecordedSession: Sendable {
    public var path: String
    /// When the session started: Unix-epoch nanoseconds (`unix_origin_ns`, or the first message).
    public var startUnixNanoseconds: Int64?
    public var profile: String?
    public var patientLabel: String?
    /// The exercise file's name, or the exercise in words when it had none.
    public var exercise: String?
    public var mode: String?
    /// How it ended and the exercised joint's figures (nil: not in the file, see `isComplete`).
    public var result: SessionResult?
    /// False: cut short by a crash (no summary); `rehabctl recover` rebuilds it.
    public var isComplete: Bool
    /// From the first message to the last [s], for a file without a result.
    public var messageSpanSeconds: Double?
    public var fileSize: Int
    /// What reading the catalogue's entry cost [bytes].
    public var bytesRead: Int

    public var fileName: String { path.split(separator: "/").last.map(String.init) ?? path }

    /// The session's duration [s]: its result's, else the span of its messages.
    public var durationSeconds: Double? { result?.durationSeconds ?? messageSpanSeconds }

    /// "completed", "stopped by operator", "fault (interaction_torque)", "incomplete (rehabctl recover)".
    public var resultText: String {
        if let result { return result.ending.text }
        return isComplete ? "no result recorded" : "incomplete (rehabctl recover)"
    }

    /// "61.8 s", or "—".
    public var durationText: String {
        durationSeconds.map { SVGPlot.fixedDecimals($0, 1) + " s" } ?? "—"
    }

    /// "2026-12-07 14:03:27" (UTC), or "—".
    public var dateText: String {
        guard let start = startUnixNanoseconds else { return "—" }
        let stamp = WallClock.utcTimestamp(start)
        // "2026-12-07T14:03:27.123Z" → "2026-12-07 14:03:27"
        return String(stamp.prefix(19)).replacingT()
    }

    /// Date order: by start time, those without one last; the same start (a copy) by path.
    public static func isEarlier(_ first: RecordedSession, than second: RecordedSession) -> Bool {
        switch (first.startUnixNanoseconds, second.startUnixNanoseconds) {
        case let (a?, b?) where a != b: return a < b
        case (_?, nil): return true
        case (nil, _?): return false
        default: return first.path < second.path
        }
    }

    /// Reads the catalogue entry of the recording at `path`.
    public init(path: String) throws(MCAPSummaryError) {
        let summary = try MCAPSummaryReader.read(path: path, metadataNamed: ["session", SessionResult.metadataName])
        self.path = path
        isComplete = summary.hasSummary
        fileSize = summary.fileSize
        bytesRead = summary.bytesRead
        var session: [String: String] = [:]
        // The first of a repeated key, as the encoder writes the caller's entries first.
        for (key, value) in summary.entries(of: "session") ?? [] where session[key] == nil { session[key] = value }
        profile = session["profile"]
        patientLabel = session[PatientLabel.metadataKey].flatMap { $0.isEmpty ? nil : $0 }
        exercise = session["exercise_name"] ?? session["exercise"]
        let result = summary.entries(of: SessionResult.metadataName).flatMap { SessionResult(metadata: $0) }
        self.result = result
        // A recording made before the mode was in its metadata names it first in the exercise's words
        // ("active-assist range of motion, …").
        mode = result?.mode ?? session["mode"] ?? session["exercise"].flatMap { (words: String) -> String? in
            let parts = words.split(separator: " ", maxSplits: 1)
            return parts.count == 2 && parts[1].hasPrefix("range of motion") ? String(parts[0]).replacingHyphens() : nil
        }
        if let statistics = summary.statistics, statistics.messageCount > 0, statistics.messageEndTime >= statistics.messageStartTime {
            messageSpanSeconds = Double(statistics.messageEndTime - statistics.messageStartTime) / 1e9
        }
        startUnixNanoseconds = session["unix_origin_ns"].flatMap { Int64($0) }
            ?? summary.statistics.flatMap { $0.messageCount > 0 ? Int64(exactly: $0.messageStartTime) : nil }
    }
}

/// The recordings in a folder (`*.mcap`), each read with `MCAPSummaryReader`: a few kilobytes per
/// file, so a folder of long sessions lists in milliseconds. `rehabctl sessions` and
/// `rehabctl report --progress` use it.
public enum SessionCatalogue {
    /// A folder's recordings, by start time (those without one last, by name), and the files that
    /// could not be read with why.
    public struct Listing: Sendable {
        public var sessions: [RecordedSession] = []
        public var skipped: [(path: String, reason: String)] = []

        public init() {}

        /// The patient labels found, with their session counts, sorted.
        public var patientLabels: [(label: String, sessions: Int)] {
            var counts: [String: Int] = [:]
            for session in sessions { if let label = session.patientLabel { counts[label, default: 0] += 1 } }
            return counts.sorted { $0.key < $1.key }.map { (label: $0.key, sessions: $0.value) }
        }
    }

    /// Lists `directory`'s `*.mcap` files (hidden files, such as a report's temporary, are left out).
    public static func list(directory: String) throws(Errno) -> Listing {
        let names = try DirectoryListing.names(in: directory)
        var listing = Listing()
        let folder = directory.hasSuffix("/") ? directory : directory + "/"
        for name in names where name.hasSuffix(".mcap") && !name.hasPrefix(".") {
            let path = folder + name
            do throws(MCAPSummaryError) {
                let session = try RecordedSession(path: path)
                listing.sessions.append(session)
            } catch {
                listing.skipped.append((path: path, reason: error.description))
            }
        }
        listing.sessions.sort(by: RecordedSession.isEarlier)
        return listing
    }
}

extension String {
    /// "2026-12-07T14:03:27" → "2026-12-07 14:03:27".
    fileprivate func replacingT() -> String { String(map { $0 == "T" ? " " : $0 }) }

    /// "active-assist" → "active_assist" (the exercise's words back to the mode's name).
    fileprivate func replacingHyphens() -> String { String(map { $0 == "-" ? "_" : $0 }) }
}
