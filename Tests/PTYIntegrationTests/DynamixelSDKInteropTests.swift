import Foundation
import Platform
import Primitives
import TestSupport
import XCTest

/// The vendor's own client is the judge of the simulated Dynamixel bus (issue 16): the ROBOTIS SDK
/// (PyPI `dynamixel-sdk`, pinned), unmodified, against rehabsim's pseudo-terminal — ping, broadcast
/// ping, reads and writes with their refusals, sync and fast sync read, sync and bulk write, bulk read,
/// reboot (protocols/dynamixel/tools/sdk_client_check.py, through scripts/dynamixel-sdk-check.sh).
final class DynamixelSDKInteropTests: XCTestCase {
    private let folder = NSTemporaryDirectory() + "rehabhost-dxl-sdk-\(UUID().uuidString)"

    override func setUpWithError() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// rehabsim's bus of the shipped Dynamixel profile; its pseudo-terminal.
    private func startBus(_ extra: [String] = []) throws -> String {
        let profile = RepositoryPaths.file("hardware/dynamixel-wrist.json").path
        let process = try ProgramRun.start("rehabsim", ["--profile", profile, "--quiet"] + extra)
        addTeardownBlock { process.terminate() }
        let line = try XCTUnwrap(process.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 10 * Nanoseconds.perSecond)),
                                 "rehabsim did not announce the bus")
        XCTAssertTrue(line.hasPrefix("robot: /dev/pts/"), line)
        return String(line.dropFirst("robot: ".count))
    }

    /// The SDK's checks against `port`; skips (saying why) only when the SDK cannot be installed here.
    private func runSDKCheck(on port: String) throws -> ProgramRun {
        let script = RepositoryPaths.file("scripts/dynamixel-sdk-check.sh").path
        let run = try ProgramRun.run(script, [port, "4000000", "1", "2"])
        if run.exitCode == 69 {
            throw XCTSkip("the ROBOTIS SDK could not be installed on this machine: \(run.standardError)")
        }
        return run
    }

    func testTheVendorSDKDrivesTheSimulatedBusUnmodified() throws {
        let run = try runSDKCheck(on: try startBus())
        XCTAssertEqual(run.exitCode, 0, run.standardOutput + run.standardError)
        for step in ["ping: 1, 2 answer as XM430-W350", "broadcast ping: [1, 2]", "refusals: EEPROM with torque on is Access Error",
                     "sync write and sync read", "fast sync read agrees with sync read", "bulk read:", "bulk write:", "reboot: 2 answers again"] {
            XCTAssertTrue(run.standardOutput.contains("ok: " + step), "missing \"\(step)\" in:\n\(run.standardOutput)")
        }
        XCTAssertTrue(run.standardOutput.contains("every check passed"), run.standardOutput)
    }

    /// The check can fail: a servo that reports another model (an injected `wrong_model`) is caught by
    /// the SDK's own ping, and the failure names what it saw.
    func testTheSDKCheckFailsOnAServoThatIsNotWhatTheProfileSays() throws {
        let faults = folder + "/wrong-model.json"
        try #"{"format": "rehabsim-faults/1", "faults": [{"at_ms": 0, "kind": "wrong_model", "id": 2, "model_number": 1060}]}"#
            .write(toFile: faults, atomically: true, encoding: .utf8)
        let run = try runSDKCheck(on: try startBus(["--faults", faults]))
        XCTAssertEqual(run.exitCode, 1, run.standardOutput + run.standardError)
        XCTAssertTrue(run.standardOutput.contains("FAILED: ping 2: model 1060, expected 1020"), run.standardOutput)
    }
}
