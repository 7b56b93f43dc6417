import Foundation
import Platform
import Primitives
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
    /// SR-3 on a servo chain: kill -9 of the host mid-motion; every servo's Bus Watchdog (20 ms) stops it
    /// and (as rehabsim reads the e-Manual's "stop", README §6.6) turns its torque off.
    func testKillNineOfTheHostLeavesEveryServoTorqueFreeByItsBusWatchdog() throws {
        let folder = NSTemporaryDirectory() + "rehabhost-dxl-sr3-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        let profile = RepositoryPaths.file("hardware/dynamixel-wrist.json").path
        let eventsPath = "\(folder)/events.jsonl"
        let simulator = try ProgramRun.start("rehabsim", ["--profile", profile, "--quiet", "--events", eventsPath, "--priority", "79"])
        addTeardownBlock { simulator.terminate() }
        let line = try XCTUnwrap(simulator.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 10 * Nanoseconds.perSecond)))
        let robot = String(line.dropFirst("robot: ".count))
        let socket = "\(folder)/session.sock"
        var killedAt: Int64?
        for attempt in 1...3 where killedAt == nil {
            let session = try ProgramRun.start(
                "rehabctl", ["run", "--port", robot, "--profile", profile, "--duration", "30", "--rate", "500", "--json", "--control-socket", socket,
                             "--black-box-dir", folder])
            addTeardownBlock { session.terminate() }
            var active = false
            let end = MonotonicClock.now().advanced(byNanoseconds: 10 * Nanoseconds.perSecond)
            while !active && MonotonicClock.now() < end {
                let status = try ProgramRun.run("rehabctl", ["status", "--json", "--session", socket])
                active = status.standardOutput.contains("\"state\": \"active\"")
                if status.standardOutput.contains("\"state\": \"fault\"") { break }
                if !active { usleep(50_000) }
            }
            guard active else {
                HostStallRetries.record(attempt: attempt, "the session did not become active before the kill")
                session.terminate()
                _ = session.waitForExit(deadline: MonotonicClock.now().advanced(byNanoseconds: 5 * Nanoseconds.perSecond))
                continue
            }
            usleep(300_000)
            killedAt = WallClock.unixNanoseconds()
            kill(session.pid, SIGKILL)
            _ = session.waitForExit(deadline: MonotonicClock.now().advanced(byNanoseconds: 5 * Nanoseconds.perSecond))
        }
        let killed = try XCTUnwrap(killedAt, "the session never became active")
        usleep(300_000)
        let text = (try? String(contentsOfFile: eventsPath, encoding: .utf8)) ?? ""
        let events = try text.split(separator: "\n").map { try XCTUnwrap(JSONParser.parse(String($0)).objectValue) }
        for joint in 0..<2 {
            let after = events.filter { ($0["unix_ns"]?.integerValue ?? 0) > killed && $0["joint"]?.integerValue == Int64(joint) }
            let stop = try XCTUnwrap(after.first { $0["event"]?.stringValue == "watchdog_stop" }, "servo of joint \(joint): \(after)")
            let off = try XCTUnwrap(after.first { $0["event"]?.stringValue == "torque_off" }, "servo of joint \(joint): \(after)")
            let stopMilliseconds = Double(try XCTUnwrap(stop["unix_ns"]?.integerValue) - killed) / 1e6
            let offMilliseconds = Double(try XCTUnwrap(off["unix_ns"]?.integerValue) - killed) / 1e6
            print("SR-3 on the Dynamixel bus: joint \(joint) watchdog_stop \(stopMilliseconds) ms, torque_off \(offMilliseconds) ms after kill -9 of the host")
            // The Bus Watchdog's 20 ms from the last instruction (≤ one 2 ms cycle before the kill), the
            // simulator's 1 ms physics step, and a margin for the PTY and the scheduler.
            XCTAssertLessThanOrEqual(offMilliseconds, 20 + 2 + 1 + 5)
            XCTAssertGreaterThan(offMilliseconds, 15, "not before the watchdog's period")
        }
    }
}
