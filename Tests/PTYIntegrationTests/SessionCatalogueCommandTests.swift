import Foundation
import StrictJSON
import TestSupport
import XCTest

/// `rehabctl sessions` and `rehabctl report --progress` on recordings made by `rehabctl simulate`
/// with `--patient-label`: the catalogue lists each (a crashed one as incomplete) from a few
/// kilobytes of it, the progress page holds one patient's sessions only, and a label that could be
/// a name is refused.
final class SessionCatalogueCommandTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "rehabhost-sessions-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A short simulated session recorded into the folder (virtual time: a fraction of a second).
    private func simulate(_ name: String, label: String?) throws {
        let run = try ProgramRun.run(
            "rehabctl",
            ["simulate", "--exercise", "wrist-flexion-passive", "--duration", "3", "--record", folder + "/" + name]
                + (label.map { ["--patient-label", $0] } ?? []))
        XCTAssertEqual(run.exitCode, 0, run.standardError)
    }

    func testSessionsListsEachRecordingFromItsMetadataAndACrashedOneAsIncomplete() throws {
        try simulate("first.mcap", label: "P-0042")
        try simulate("second.mcap", label: "P-0043")
        try simulate("third.mcap", label: nil)
        // A copy cut in half, as kill -9 leaves a recording.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/first.mcap"))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: folder + "/crashed.mcap"))

        let json = try ProgramRun.run("rehabctl", ["sessions", folder, "--json"])
        XCTAssertEqual(json.exitCode, 0, json.standardError)
        let sessions = try XCTUnwrap(JSONParser.parse(json.standardOutput).objectValue?["sessions"]?.arrayValue?.compactMap(\.objectValue))
        XCTAssertEqual(sessions.count, 4)
        var byFile: [String: JSONObject] = [:]
        for session in sessions {
            let path = session["path"]?.stringValue ?? ""
            byFile[String(path.split(separator: "/").last ?? "")] = session
        }
        let first = try XCTUnwrap(byFile["first.mcap"])
        XCTAssertEqual(first["patient_label"]?.stringValue, "P-0042")
        XCTAssertEqual(first["exercise"]?.stringValue, "wrist-flexion-passive")
        XCTAssertEqual(first["mode"]?.stringValue, "passive")
        XCTAssertEqual(first["profile"]?.stringValue, "wrist-trainer")
        XCTAssertEqual(first["complete"]?.boolValue, true)
        XCTAssertTrue(["completed", "stopped"].contains(first["result"]?.stringValue ?? ""), "\(first)")
        XCTAssertNotNil(first["rom_rad"]?.doubleValue, "the exercised joint's figures from session_result")
        let read = try XCTUnwrap(first["bytes_read"]?.integerValue)
        let size = try XCTUnwrap(first["file_bytes"]?.integerValue)
        XCTAssertLessThan(read, 16_384, "metadata and summary only")
        XCTAssertLessThan(read * 10, size)
        XCTAssertEqual(byFile["third.mcap"]?["patient_label"], JSONValue.null)
        let crashed = try XCTUnwrap(byFile["crashed.mcap"])
        XCTAssertEqual(crashed["result"]?.stringValue, "incomplete")
        XCTAssertEqual(crashed["patient_label"]?.stringValue, "P-0042", "from its first metadata record")
        XCTAssertLessThan(try XCTUnwrap(crashed["bytes_read"]?.integerValue), 16_384)
        let starts = sessions.compactMap { $0["start_unix_ns"]?.integerValue }
        XCTAssertEqual(starts, starts.sorted(), "by date")

        let table = try ProgramRun.run("rehabctl", ["sessions", folder])
        XCTAssertEqual(table.exitCode, 0, table.standardError)
        XCTAssertTrue(table.standardOutput.contains("P-0043"), table.standardOutput)
        XCTAssertTrue(table.standardOutput.contains("wrist-flexion-passive"), table.standardOutput)
        XCTAssertTrue(table.standardOutput.contains("incomplete (rehabctl recover)"), table.standardOutput)
        XCTAssertTrue(table.standardOutput.contains("4 recordings in \(folder)"), table.standardOutput)

        let missing = try ProgramRun.run("rehabctl", ["sessions", folder + "/nothing-here"])
        XCTAssertEqual(missing.exitCode, 66, missing.standardError)
    }

    func testTheProgressPageHoldsOnePatientsSessionsAndNeedsAKnownLabel() throws {
        try simulate("a.mcap", label: "P-0042")
        try simulate("b.mcap", label: "P-0042")
        try simulate("other.mcap", label: "P-0043")

        let page = folder + "/progress.html"
        let run = try ProgramRun.run("rehabctl", ["report", "--progress", folder, "--patient", "P-0042", "-o", page])
        XCTAssertEqual(run.exitCode, 0, run.standardError)
        XCTAssertTrue(run.standardOutput.contains("2 sessions of patient P-0042"), run.standardOutput)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        XCTAssertTrue(html.contains("a.mcap") && html.contains("b.mcap"), "both sessions")
        XCTAssertFalse(html.contains("other.mcap"), "not another patient's")
        XCTAssertTrue(html.contains("id=\"plot-rom\"") && html.contains("<circle"), "the plots have points")

        let noPatient = try ProgramRun.run("rehabctl", ["report", "--progress", folder])
        XCTAssertEqual(noPatient.exitCode, 64, noPatient.standardError)
        XCTAssertTrue(noPatient.standardError.contains("P-0042 (2 sessions)"), noPatient.standardError)
        XCTAssertTrue(noPatient.standardError.contains("P-0043 (1 session)"), noPatient.standardError)

        let unknown = try ProgramRun.run("rehabctl", ["report", "--progress", folder, "--patient", "P-9999", "-o", page + ".2"])
        XCTAssertEqual(unknown.exitCode, 66, unknown.standardError)
        XCTAssertTrue(unknown.standardError.contains("no recordings of patient P-9999"), unknown.standardError)
    }

    func testALabelThatCouldBeANameIsRefusedBeforeAnythingRuns() throws {
        let path = folder + "/named.mcap"
        let run = try ProgramRun.run(
            "rehabctl", ["simulate", "--exercise", "wrist-flexion-passive", "--duration", "1", "--record", path, "--patient-label", "John Smith"])
        XCTAssertEqual(run.exitCode, 64, run.standardError)
        XCTAssertTrue(run.standardError.contains("pseudonym"), run.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "nothing was recorded")
    }
}
