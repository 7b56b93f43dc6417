import Control
import Foundation
import Platform
import Primitives
import StrictJSON
import Telemetry
import XCTest

/// The catalogue of recordings and a patient's progress page: both read each file's metadata through
/// its summary (a few kilobytes, whatever the file's size), a file cut short by a crash from its
/// front only, and a patient is known only by a pseudonym.
final class SessionCatalogueTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "rehabhost-catalogue-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// What one test session did on its exercised joint.
    private struct Figures {
        var romRadians = 0.6
        var repetitions = 8
        var assistanceRatio = 0.7
        var patientWorkJoules = 0.4
        var peakInteractionTorqueNewtonMeters = 0.25
    }

    /// A recording as a session makes it: `session` metadata first, cycles in chunks, the metrics
    /// message and the `session_result` record at the end (unless `withResult` is false). With
    /// `compressed: false` the chunks keep their full size, as a large file's would.
    private func recording(
        label: String?, startSeconds: Int64, cycles: Int = 50, figures: Figures = Figures(), compressed: Bool = true, withResult: Bool = true
    ) -> [UInt8] {
        var metadata: [(String, String)] = [
            ("profile", "wrist-trainer"), ("exercise", "passive range of motion, flexion_extension -30…40°, 10 repetitions"),
            ("mode", "passive"), ("exercise_name", "wrist-flexion-passive"),
        ]
        if let label { metadata.append((PatientLabel.metadataKey, label)) }
        let joints = ["flexion_extension", "pronation_supination"]
        var encoder = TelemetryEncoder(
            jointNames: joints, rateHertz: 1_000, sessionMetadata: metadata, monotonicOrigin: .zero,
            unixOriginNanoseconds: startSeconds * 1_000_000_000, chunkSizeBytes: 16_384, compression: compressed ? .zstd : .none)
        for cycle in 0..<cycles {
            var frame = TelemetryFrame(jointCount: 2)
            frame.cycle = Int64(cycle)
            frame.time = MonotonicInstant(nanoseconds: Int64(cycle) * 1_000_000)
            frame.state = .active
            frame.positionsRadians[0] = figures.romRadians / 2 * sin(Double(cycle) / 300)
            encoder.write(.cycle(frame))
        }
        let jointValues: [JSONValue] = joints.map { .string($0) }
        let metrics: JSONValue = .object([
            "duration_s": .number(Double(cycles) / 1_000), "joints": .array(jointValues),
            "exercised_joint": "flexion_extension", "mode": "passive", "repetitions": .int(figures.repetitions),
            "rom_rad": .array([.number(figures.romRadians), .number(0.01)]),
            "assistance_ratio": .array([.number(figures.assistanceRatio), .number(1)]),
            "patient_work_j": .array([.number(figures.patientWorkJoules), .number(0)]),
            "robot_work_j": .array([.number(1.1), .number(0)]),
            "peak_interaction_torque_nm": .array([.number(figures.peakInteractionTorqueNewtonMeters), .number(0.01)]),
            "safety_events": .int(0), "final_state": "idle",
        ])
        encoder.writeMetrics(metrics, at: MonotonicInstant(nanoseconds: Int64(cycles) * 1_000_000))
        if withResult {
            let result = SessionResult(metrics: metrics, transitions: [], planCompleted: true, repetitionsPlanned: 10)
            encoder.writeSessionResult(result.metadata)
        }
        encoder.finish()
        return encoder.takeOutput()
    }

    @discardableResult
    private func save(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = folder + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    // MARK: The summary reader

    func testTheSummaryReaderFindsTheSessionAndResultMetadataOfAWrittenRecording() throws {
        let bytes = recording(label: "P-0042", startSeconds: 1_790_000_000, cycles: 400)
        let path = try save(bytes, "a.mcap")
        let summary = try MCAPSummaryReader.read(path: path, metadataNamed: ["session", SessionResult.metadataName])
        XCTAssertTrue(summary.hasSummary)
        XCTAssertEqual(summary.metadata.map { $0.name }, ["session", SessionResult.metadataName])
        // The same records as the full reader finds.
        let file = try MCAPFile(bytes: bytes)
        for (name, entries) in summary.metadata {
            let full = try XCTUnwrap(file.metadata.first { $0.name == name })
            XCTAssertEqual(entries.map { $0.0 }, full.entries.map { $0.0 }, name)
            XCTAssertEqual(entries.map { $0.1 }, full.entries.map { $0.1 }, name)
        }
        XCTAssertEqual(summary.statistics?.messageCount, UInt64(file.messages.count))
        XCTAssertEqual(summary.statistics?.metadataCount, 2)

        let session = try RecordedSession(path: path)
        XCTAssertTrue(session.isComplete)
        XCTAssertEqual(session.patientLabel, "P-0042")
        XCTAssertEqual(session.profile, "wrist-trainer")
        XCTAssertEqual(session.exercise, "wrist-flexion-passive")
        XCTAssertEqual(session.mode, "passive")
        XCTAssertEqual(session.startUnixNanoseconds, 1_790_000_000_000_000_000)
        XCTAssertEqual(session.resultText, "completed")
        let result = try XCTUnwrap(session.result)
        XCTAssertEqual(try XCTUnwrap(result.rangeOfMotionRadians), 0.6, accuracy: 1e-12)
        XCTAssertEqual(result.repetitionsDone, 8)
        XCTAssertEqual(result.repetitionsPlanned, 10)
        XCTAssertEqual(try XCTUnwrap(result.assistanceRatio), 0.7, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(result.patientWorkJoules), 0.4, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(result.peakInteractionTorqueNewtonMeters), 0.25, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(session.durationSeconds), 0.4, accuracy: 1e-12)
        XCTAssertLessThan(summary.bytesRead, 8_192, "footer, summary offsets, statistics, metadata index, two records")
    }

    func testAFileCutShortByACrashIsListedIncompleteFromItsFrontWithoutBeingReadWhole() throws {
        let bytes = recording(label: "P-0042", startSeconds: 1_790_000_000, cycles: 6_000, compressed: false)
        // Cut in the middle of the data section, as kill -9 leaves it: no summary, no footer.
        let path = try save(Array(bytes[0..<(bytes.count / 2)]), "crashed.mcap")
        let summary = try MCAPSummaryReader.read(path: path, metadataNamed: ["session", SessionResult.metadataName])
        XCTAssertFalse(summary.hasSummary)
        XCTAssertEqual(summary.metadata.map { $0.name }, ["session"], "the session metadata, written before any message")
        XCTAssertGreaterThan(summary.fileSize, 1_000_000, "a file worth not reading")
        XCTAssertLessThan(summary.bytesRead, 4_096, "record headers and one metadata record, never the chunks")

        let session = try RecordedSession(path: path)
        XCTAssertFalse(session.isComplete)
        XCTAssertNil(session.result)
        XCTAssertEqual(session.resultText, "incomplete (rehabctl recover)")
        XCTAssertEqual(session.patientLabel, "P-0042", "its first metadata record still names the patient")
        XCTAssertEqual(session.startUnixNanoseconds, 1_790_000_000_000_000_000)
    }

    func testACompleteRecordingWithoutAResultSaysSo() throws {
        let path = try save(recording(label: nil, startSeconds: 1_790_000_000, withResult: false), "older.mcap")
        let session = try RecordedSession(path: path)
        XCTAssertTrue(session.isComplete)
        XCTAssertNil(session.result)
        XCTAssertEqual(session.resultText, "no result recorded")
        XCTAssertNotNil(session.durationSeconds, "the span of its messages, from the statistics")
    }

    func testTheEndingNamesTheFaultTheStopOrTheCompletedPlan() {
        func transition(_ to: SupervisorState, _ cause: SafetyCause, _ category: StopCategory?) -> SupervisorTransition {
            SupervisorTransition(cycle: 1, time: .zero, from: .active, to: to, cause: cause, category: category, value: 0, deviceCode: 0)
        }
        let stop = transition(.stopping, .stopRequested, .cat1)
        let standstill = transition(.idle, .standstillReached, .cat0)
        XCTAssertEqual(SessionResult.ending(transitions: [stop, standstill], planCompleted: true), .completed)
        XCTAssertEqual(SessionResult.ending(transitions: [stop, standstill], planCompleted: false), .stopped(cause: "operator"))
        XCTAssertEqual(
            SessionResult.ending(transitions: [transition(.stopping, .patientStop, .cat1), standstill], planCompleted: false),
            .stopped(cause: "patient_stop"))
        XCTAssertEqual(
            SessionResult.ending(transitions: [transition(.estop, .operatorEmergencyStop, .cat0)], planCompleted: false),
            .stopped(cause: "operator_estop"))
        let fault = transition(.fault, .interactionTorque, .cat1)
        XCTAssertEqual(SessionResult.ending(transitions: [stop, fault], planCompleted: true), .fault(cause: "interaction_torque"))
        XCTAssertEqual(SessionResult.Ending.fault(cause: "interaction_torque").text, "fault (interaction_torque)")
    }

    // MARK: The catalogue

    func testAHundredRecordingsAreListedByDateAndBrokenFilesSkippedWithTheReason() throws {
        var starts: [Int64] = []
        for index in 0..<100 {
            // Written out of date order: the catalogue sorts.
            let start = 1_790_000_000 + Int64((index * 37) % 100) * 86_400
            starts.append(start)
            try save(recording(label: index % 2 == 0 ? "P-0001" : "P-0002", startSeconds: start, cycles: 20), "session-\(index).mcap")
        }
        try save(Array("not a recording".utf8), "junk.mcap")
        try save(Array("notes".utf8), "notes.txt")
        try save(recording(label: "P-0001", startSeconds: 1, cycles: 5), ".hidden.mcap")

        let began = MonotonicClock.now()
        let listing = try SessionCatalogue.list(directory: folder)
        let milliseconds = Double(MonotonicClock.now().nanoseconds(since: began)) / 1e6
        let bytesRead = listing.sessions.map(\.bytesRead).reduce(0, +)
        let fileBytes = listing.sessions.map(\.fileSize).reduce(0, +)
        print("SessionCatalogue: 100 recordings listed in \(milliseconds) ms, \(bytesRead) bytes read of \(fileBytes)")

        XCTAssertEqual(listing.sessions.count, 100)
        XCTAssertEqual(listing.sessions.map { $0.startUnixNanoseconds ?? -1 }, starts.sorted().map { $0 * 1_000_000_000 })
        XCTAssertEqual(listing.skipped.map { $0.path }, [folder + "/junk.mcap"])
        XCTAssertTrue(listing.skipped[0].reason.contains("not an MCAP file"), listing.skipped[0].reason)
        XCTAssertEqual(listing.patientLabels.map { $0.label }, ["P-0001", "P-0002"])
        XCTAssertEqual(listing.patientLabels.map { $0.sessions }, [50, 50])
        XCTAssertTrue(listing.sessions.allSatisfy { $0.bytesRead < 8_192 })
    }

    // MARK: Patient labels

    func testPatientLabelsArePseudonymsOfOneWord() throws {
        for accepted in ["P-0042", "a", "x.y_z-1", String(repeating: "A", count: 32)] {
            XCTAssertEqual(try PatientLabel(accepted).text, accepted)
        }
        func refusal(_ text: String) -> String {
            do throws(PatientLabel.Refusal) {
                _ = try PatientLabel(text)
                return ""
            } catch {
                return error.message
            }
        }
        let name = refusal("John Smith")
        XCTAssertTrue(name.contains("space") && name.contains("pseudonym"), name)
        XCTAssertTrue(refusal("").contains("empty"))
        XCTAssertTrue(refusal(String(repeating: "A", count: 33)).contains("at most 32"))
        XCTAssertTrue(refusal("Müller").contains("only A–Z"))
        XCTAssertTrue(refusal("12/03/1985").contains("only A–Z"))
        XCTAssertTrue(refusal("P\t42").contains("blank"))
    }

    // MARK: The progress page

    func testTheProgressPageHoldsEverySessionOfThePatientAndNoneOfAnother() throws {
        let ours = [
            (1_790_000_000, Figures(romRadians: 0.4, repetitions: 5, assistanceRatio: 0.9, patientWorkJoules: 0.1)),
            (1_790_600_000, Figures(romRadians: 0.6, repetitions: 8, assistanceRatio: 0.7, patientWorkJoules: 0.3)),
            (1_791_200_000, Figures(romRadians: 0.8, repetitions: 10, assistanceRatio: 0.5, patientWorkJoules: 0.6)),
        ]
        for (index, session) in ours.enumerated() {
            try save(recording(label: "P-0042", startSeconds: Int64(session.0), figures: session.1), "ours-\(index).mcap")
        }
        try save(recording(label: "P-0043", startSeconds: 1_790_300_000), "theirs-0.mcap")
        try save(recording(label: "P-0043", startSeconds: 1_790_900_000), "theirs-1.mcap")
        // One of ours cut short: in the table, without points.
        let cut = recording(label: "P-0042", startSeconds: 1_791_800_000, cycles: 2_000)
        try save(Array(cut[0..<(cut.count / 2)]), "ours-crashed.mcap")

        let listing = try SessionCatalogue.list(directory: folder)
        let page = try XCTUnwrap(ProgressReport.render(listing.sessions, patient: "P-0042", folder: folder))
        for name in ["ours-0.mcap", "ours-1.mcap", "ours-2.mcap", "ours-crashed.mcap"] { XCTAssertTrue(page.contains(name), name) }
        XCTAssertFalse(page.contains("theirs-"), "another patient's sessions")
        XCTAssertFalse(page.contains("P-0043"))
        XCTAssertTrue(page.contains("incomplete (rehabctl recover)"))
        // In date order.
        let positions = try ["ours-0.mcap", "ours-1.mcap", "ours-2.mcap", "ours-crashed.mcap"].map { try XCTUnwrap(page.range(of: $0)).lowerBound }
        XCTAssertEqual(positions, positions.sorted())
        XCTAssertTrue(page.contains("45.8"), "ROM of the last complete session in degrees (0.8 rad)")

        func plot(_ id: String) throws -> Substring {
            let start = try XCTUnwrap(page.range(of: "id=\"\(id)\""), id)
            let end = try XCTUnwrap(page.range(of: "</svg>", range: start.upperBound..<page.endIndex), id)
            return page[start.lowerBound..<end.upperBound]
        }
        for id in ["plot-rom", "plot-assistance", "plot-patient-work", "plot-interaction-torque"] {
            let svg = try plot(id)
            XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 3, "\(id): a point per complete session")
            XCTAssertTrue(svg.contains("<path"), "\(id): joined by a line")
        }
        XCTAssertEqual(try plot("plot-repetitions").components(separatedBy: "<circle").count - 1, 6, "done and planned")
        XCTAssertTrue(try plot("plot-rom").contains("session 3, "), "each point names its session")

        XCTAssertNil(ProgressReport.render(listing.sessions, patient: "P-9999", folder: folder))
    }
}
