import Foundation
import StrictJSON
import TestSupport
import XCTest

/// `rehabctl run --sim` with the Dynamixel wrist: rehabsim simulates the servo bus on a pseudo-terminal
/// at 4 Mbit/s, and the host drives it through the real serial code path with the registry's driver —
/// identify, SR-24's limits, enable, the direction test, a passive exercise and its Cat 1 stop.
final class DynamixelRunTests: XCTestCase {
    func testATherapySessionRunsOnTheSimulatedServoBus() throws {
        let profile = RepositoryPaths.file("hardware/dynamixel-wrist.json").path
        let run = try ProgramRun.runSession(
            "rehabctl", ["run", "--sim", "--profile", profile, "--duration", "4", "--rate", "500", "--json", "--record", "none", "--control-socket", "none"])
        XCTAssertEqual(run.exitCode, 0, run.standardError)
        let report = try XCTUnwrap(JSONParser.parse(run.standardOutput).objectValue, run.standardError)
        XCTAssertEqual(report["supervisor_final_state"]?.stringValue, "idle", run.standardError)
        XCTAssertEqual(report["safety_events"]?.arrayValue?.count, 0, run.standardError)
        let device = try XCTUnwrap(report["device"]?.objectValue)
        XCTAssertEqual(device["model"]?.stringValue, "XM430-W350")
        XCTAssertEqual(device["serial_number"]?.stringValue, "Dynamixel ID 1, 2")
        XCTAssertEqual(report["device_link"]?.objectValue?["checksum_errors"]?.integerValue, 0)
        let exercised = try XCTUnwrap(report["joints"]?.arrayValue?.first?.objectValue)
        XCTAssertEqual(exercised["name"]?.stringValue, "flexion_extension")
        XCTAssertGreaterThan(exercised["rom_rad"]?.doubleValue ?? 0, 0.15, "the exercise moved the joint: \(exercised)")
        XCTAssertLessThan(exercised["rms_tracking_error_rad"]?.doubleValue ?? 1, 0.02, "\(exercised)")
        XCTAssertTrue(run.standardError.contains("simulated dynamixel-wrist on /dev/pts/"), run.standardError)
    }
}
