import Foundation
import Platform
import Primitives
import StrictJSON
import TestSupport
import XCTest

/// The simulated tracking sensors over their pseudo-terminals, through the real serial code path:
/// independent clients judge them unmodified — ndicapi (PyPI) probes, initialises, starts tracking and
/// reads BX frames from the simulated Aurora; Adafruit's CircuitPython BNO08x RVC parser decodes the
/// simulated RVC stream (scripts/tracker-client-check.sh) — and `rehabctl track` reads each sensor
/// with its rate, age and line figures, a frozen sensor and a wrong baud rate included.
final class TrackerInteropTests: XCTestCase {
    private let folder = NSTemporaryDirectory() + "rehabhost-trackers-\(UUID().uuidString)"

    override func setUpWithError() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// rehabsim with the given tracker profiles; their pseudo-terminals by profile name.
    private func startTrackers(_ trackers: [String]) throws -> [String: String] {
        let process = try ProgramRun.start("rehabsim", ["--quiet"] + trackers.flatMap { ["--tracker", $0] })
        addTeardownBlock { process.terminate() }
        var paths: [String: String] = [:]
        let deadline = MonotonicClock.now().advanced(byNanoseconds: 10 * Nanoseconds.perSecond)
        while paths.count < trackers.count + 1, let line = process.readLine(deadline: deadline) {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.count == 2 { paths[String(parts[0].dropLast())] = parts[1] }
        }
        XCTAssertEqual(paths.count, trackers.count + 1, "rehabsim announced \(paths)")
        return paths
    }

    private func clientCheck(_ arguments: [String]) throws -> ProgramRun {
        let run = try ProgramRun.run(RepositoryPaths.file("scripts/tracker-client-check.sh").path, arguments, timeoutSeconds: 180)
        if run.exitCode == 69 { throw XCTSkip("the client package could not be installed on this machine: \(run.standardError)") }
        return run
    }

    func testNdicapiProbesInitialisesAndReadsBXFramesFromTheSimulatedAurora() throws {
        let port = try XCTUnwrap(try startTrackers(["ndi-aurora-hand"])["ndi-aurora-hand"])
        let run = try clientCheck(["ndi", port, "--frames", "20"])
        XCTAssertEqual(run.exitCode, 0, run.standardOutput + run.standardError)
        let report = try XCTUnwrap(JSONParser.parse(run.standardOutput).objectValue)
        XCTAssertEqual(report["ok"]?.boolValue, true, run.standardOutput)
    }

    func testNdicapiSeesAMissingToolAsMissingAndTheCheckSaysSo() throws {
        let faults = folder + "/missing.json"
        try #"{"format": "rehabsim-faults/1", "faults": [{"at_ms": 0, "kind": "tool_missing", "handle": 10}]}"#
            .write(toFile: faults, atomically: true, encoding: .utf8)
        let port = try XCTUnwrap(try startTrackers(["ndi-aurora-hand,faults=\(faults)"])["ndi-aurora-hand"])
        let run = try clientCheck(["ndi", port, "--frames", "5"])
        XCTAssertEqual(run.exitCode, 1, run.standardOutput + run.standardError)
        XCTAssertTrue(run.standardOutput.lowercased().contains("missing"), run.standardOutput)
    }

    func testAdafruitsParserDecodesTheSimulatedRVCStream() throws {
        let port = try XCTUnwrap(try startTrackers(["bno085-forearm"])["bno085-forearm"])
        let run = try clientCheck(["rvc", port, "50"])
        XCTAssertEqual(run.exitCode, 0, run.standardOutput + run.standardError)
        let report = try XCTUnwrap(JSONParser.parse(run.standardOutput).objectValue)
        XCTAssertEqual(report["frames"]?.arrayValue?.count, 50, run.standardOutput)
    }

    // MARK: rehabctl track

    private func track(_ port: String, _ profile: String, _ extra: [String] = []) throws -> (run: ProgramRun, summary: JSONObject?) {
        let run = try ProgramRun.run("rehabctl", ["track", "--port", port, "--profile", profile, "--json"] + extra, timeoutSeconds: 60)
        let last = run.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
        return (run, (try? JSONParser.parse(last))?.objectValue?["summary"]?.objectValue)
    }

    /// mti8-navigation's MTData2 sniffer (PyPI) frames, checksums and decodes the simulated MTi's
    /// stream: counter, sample time, quaternion, acceleration, rate of turn, status, each frame.
    func testMTi8NavigationsSnifferFramesAndDecodesTheSimulatedMTiStream() throws {
        let port = try XCTUnwrap(try startTrackers(["xsens-mti-wrist"])["xsens-mti-wrist"])
        let run = try clientCheck(["xsens", port, "--frames", "100"])
        XCTAssertEqual(run.exitCode, 0, run.standardOutput + run.standardError)
        let report = try XCTUnwrap(JSONParser.parse(run.standardOutput).objectValue)
        XCTAssertEqual(report["ok"]?.boolValue, true, run.standardOutput)
        XCTAssertGreaterThanOrEqual(report["frames_decoded"]?.integerValue ?? 0, 100, run.standardOutput)
        XCTAssertEqual(report["library_statistics"]?.objectValue?["bad_frames"]?.integerValue, 0, run.standardOutput)
    }

    /// The sniffer's check can fail: a frozen MTi, a wrong baud rate and an RVC stream each fail it.
    func testTheSnifferCheckFailsAFrozenMTiAWrongBaudRateAndAnRVCStream() throws {
        let faults = folder + "/freeze.json"
        try #"{"format": "rehabsim-faults/1", "faults": [{"at_ms": 500, "kind": "tracker_freeze"}]}"#
            .write(toFile: faults, atomically: true, encoding: .utf8)
        let ports = try startTrackers(["xsens-mti-wrist,faults=\(faults)", "bno085-forearm"])
        let mti = try XCTUnwrap(ports["xsens-mti-wrist"])
        let frozen = try clientCheck(["xsens", mti, "--frames", "50"])
        XCTAssertEqual(frozen.exitCode, 1, frozen.standardOutput + frozen.standardError)
        XCTAssertTrue(frozen.standardOutput.contains("packet counter"), frozen.standardOutput)

        let wrongBaud = try clientCheck(["xsens", mti, "--frames", "50", "--baud", "57600"])
        XCTAssertEqual(wrongBaud.exitCode, 1, wrongBaud.standardOutput + wrongBaud.standardError)
        XCTAssertTrue(wrongBaud.standardOutput.contains("no checksum-valid Xbus frame"), wrongBaud.standardOutput)

        let rvc = try clientCheck(["xsens", try XCTUnwrap(ports["bno085-forearm"]), "--frames", "50"])
        XCTAssertEqual(rvc.exitCode, 1, rvc.standardOutput + rvc.standardError)
    }

    /// Xsens's own MT SDK (MRPT's rawlog-grabber, driver CIMUXSens_MT4) opens the simulated MTi as it opens an
    /// MTi-300 (protocols/xsens/README.md §3.8), configures it and records its IMU observations at 100 Hz with
    /// unit quaternions (scripts/xsens-sdk-check.sh).
    func testXsensMTSDKOpensConfiguresAndRecordsTheSimulatedMTi() throws {
        let ports = try startTrackers(["xsens-mti-wrist", "bno085-forearm"])
        let run = try ProgramRun.run(
            RepositoryPaths.file("scripts/xsens-sdk-check.sh").path, [try XCTUnwrap(ports["xsens-mti-wrist"]), "5", "300", "100"],
            timeoutSeconds: 300)
        if run.exitCode == 69 { throw XCTSkip("MRPT (Xsens's MT SDK) could not be obtained on this machine: \(run.standardError)") }
        XCTAssertEqual(run.exitCode, 0, run.standardOutput + run.standardError)
        XCTAssertTrue(run.standardOutput.contains("xsens-sdk-check: passed"), run.standardOutput)
        print(run.standardOutput)
        // The check can fail: pointed at the BNO08x's RVC stream, the SDK finds no MTi and records nothing.
        let other = try ProgramRun.run(
            RepositoryPaths.file("scripts/xsens-sdk-check.sh").path, [try XCTUnwrap(ports["bno085-forearm"]), "2", "100", "100"],
            timeoutSeconds: 120)
        XCTAssertEqual(other.exitCode, 1, other.standardOutput + other.standardError)
    }

    func testEverySensorIsReadAtItsRateWithItsAgeAndACleanLine() throws {
        let ports = try startTrackers(["xsens-mti-wrist", "bno085-forearm", "ndi-aurora-hand"])
        for (profile, rate) in [("xsens-mti-wrist", 100.0), ("bno085-forearm", 100.0), ("ndi-aurora-hand", 40.0)] {
            let (run, summary) = try track(try XCTUnwrap(ports[profile]), profile, ["--duration", "2", "--zero"])
            XCTAssertEqual(run.exitCode, 0, "\(profile): \(run.standardError)")
            let figures = try XCTUnwrap(summary, "\(profile): \(run.standardOutput)")
            XCTAssertEqual(figures["rate_hz"]?.doubleValue ?? 0, rate, accuracy: rate * 0.05, "\(profile): \(figures)")
            XCTAssertEqual(figures["checksum_errors"]?.integerValue, 0, profile)
            XCTAssertEqual(figures["repeated_frames"]?.integerValue, 0, profile)
            let age = try XCTUnwrap(figures["age_ms"]?.objectValue)
            XCTAssertLessThan(age["p50"]?.doubleValue ?? 1e9, 3 * 1_000 / rate, "\(profile): the newest sample within SR-15's 3 frame periods at the median")
            print("rehabctl track \(profile): \(JSONValue.object(figures).serialized())")
        }
    }

    func testAFrozenSensorShowsAsRepeatedFramesAndAWrongBaudRateAsNoSensorEvenForOneThatOnlyTalks() throws {
        let faults = folder + "/freeze.json"
        try #"{"format": "rehabsim-faults/1", "faults": [{"at_ms": 500, "kind": "tracker_freeze"}]}"#
            .write(toFile: faults, atomically: true, encoding: .utf8)
        let ports = try startTrackers(["bno085-forearm,faults=\(faults)", "xsens-mti-wrist"])
        let (frozen, summary) = try track(try XCTUnwrap(ports["bno085-forearm"]), "bno085-forearm", ["--duration", "1.5"])
        XCTAssertEqual(frozen.exitCode, 0, frozen.standardError)
        XCTAssertGreaterThan(summary?["repeated_frames"]?.integerValue ?? 0, 50, "frames kept coming with one counter: \(summary ?? [:])")

        let wrong = try ProgramRun.run("rehabctl", ["track", "--port", try XCTUnwrap(ports["xsens-mti-wrist"]), "--profile", "xsens-mti-wrist", "--baud", "57600", "--duration", "1"])
        XCTAssertEqual(wrong.exitCode, 69, wrong.standardOutput + wrong.standardError)
        XCTAssertTrue(wrong.standardError.contains("no GoToConfigAck"), wrong.standardError)

        // A sensor that only talks hears nothing from its host: rehabsim reads the host's rate at every
        // wake-up, so an RVC module listened to at the wrong rate is noise, not a sensor.
        let rvc = try ProgramRun.run("rehabctl", ["track", "--port", try XCTUnwrap(ports["bno085-forearm"]), "--profile", "bno085-forearm", "--baud", "57600", "--duration", "1"])
        XCTAssertEqual(rvc.exitCode, 69, rvc.standardOutput + rvc.standardError)
        XCTAssertTrue(rvc.standardError.contains("UART-RVC frames in 1 s"), rvc.standardError)
    }

    // MARK: SR-16 from a tracker

    /// The simulated Polaris's tool (the patient's hand; an Aurora at 40 Hz may not gate motion, SR-15) rests at (100, 0, −1500) mm in the camera's
    /// frame. A workspace around it lets a 3 s passive exercise end normally; one that leaves it 50 mm
    /// outside stops the robot through SR-16 before the exercise can move it.
    func testAnNDIToolFeedsTheWorkspaceInterlock() throws {
        func demo(_ box: String) throws -> (ProgramRun, JSONObject?) {
            let run = try ProgramRun.runSession(
                "rehabctl", ["demo", "--duration", "3", "--rate", "500", "--record", "none", "--json",
                             "--tracker", "ndi-polaris-hand=sim", "--tracker", "bno085-forearm=sim", "--workspace", "ndi-polaris-hand:" + box])
            return (run, (try? JSONParser.parse(run.standardOutput))?.objectValue)
        }
        let (inside, insideReport) = try demo("0.05,0.15,-0.05,0.05,-1.55,-1.45")
        XCTAssertEqual(inside.exitCode, 0, inside.standardError)
        XCTAssertEqual(insideReport?["safety_events"]?.arrayValue?.count, 0, inside.standardOutput)
        XCTAssertTrue(inside.standardError.contains("SR-16: ndi-polaris-hand's tool must stay in"), inside.standardError)
        XCTAssertTrue(inside.standardError.contains("tracker bno085-forearm: BNO08x"), "--tracker is repeatable: \(inside.standardError)")

        let (outside, outsideReport) = try demo("0.15,0.25,-0.05,0.05,-1.55,-1.45")
        let event = try XCTUnwrap(outsideReport?["safety_events"]?.arrayValue?.first?.objectValue, outside.standardOutput + outside.standardError)
        XCTAssertEqual(event["requirement"]?.stringValue, "SR-16", "\(event)")
    }
}
