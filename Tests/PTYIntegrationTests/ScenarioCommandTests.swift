import Foundation
import Platform
import Primitives
import StrictJSON
import TestSupport
import XCTest

/// `rehabctl scenario` as a test rig uses it: runs in virtual time with one line per scenario and
/// JUnit XML, a failing expectation fails the run with expected vs observed, a broken file is refused
/// with its path, a rig (here `rehabsim --link`, a port like any other) runs what needs no simulator
/// and skips the rest with the reason, and the evidence report is made from the results.
final class ScenarioCommandTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "rehabhost-scenario-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func shipped(_ name: String) -> String { RepositoryPaths.file("hardware/scenarios/\(name).json").path }

    func testVirtualRunsPrintALinePerScenarioAndWriteJUnitThatTheTraceReads() throws {
        let junit = folder + "/results.xml"
        let run = try ProgramRun.run(
            "rehabctl", ["scenario", "run", shipped("sr12-operator-estop"), shipped("sr01-mute-mid-exercise"), "--junit", junit])
        XCTAssertEqual(run.exitCode, 0, run.standardOutput + run.standardError)
        XCTAssertTrue(run.standardOutput.contains("PASS  sr12-operator-estop  virtual"), run.standardOutput)
        XCTAssertTrue(run.standardOutput.contains("PASS  sr01-mute-mid-exercise  virtual"), run.standardOutput)
        XCTAssertTrue(run.standardOutput.contains("2 scenarios on virtual: 2 passed"), run.standardOutput)
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        XCTAssertTrue(xml.contains("<testcase") && xml.contains("sr12-operator-estop"), xml)
        XCTAssertTrue(xml.contains("name=\"requirement\" value=\"SR-12\""), xml)

        let html = folder + "/evidence.html"
        let trace = try ProgramRun.run("rehabctl", ["scenario", "trace", "--results", junit, "--html", html])
        XCTAssertEqual(trace.exitCode, 0, trace.standardError)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertTrue(page.contains("SR-12") && page.contains("sr12-operator-estop"), "the requirement and its scenario")
    }

    func testAFailedExpectationFailsTheRunWithExpectedAndObserved() throws {
        // The shipped e-stop scenario, with a final state that it cannot have.
        var text = try String(contentsOfFile: shipped("sr12-operator-estop"), encoding: .utf8)
        text = text.replacingOccurrences(of: "\"final_state\": \"estop\"", with: "\"final_state\": \"idle\"")
        XCTAssertTrue(text.contains("\"final_state\": \"idle\""), "the scenario expects a final state")
        let path = folder + "/wrong.json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let run = try ProgramRun.run("rehabctl", ["scenario", "run", path])
        XCTAssertEqual(run.exitCode, 1, run.standardOutput + run.standardError)
        XCTAssertTrue(run.standardOutput.contains("FAIL  sr12-operator-estop"), run.standardOutput)
        XCTAssertTrue(run.standardOutput.contains("expected the run ends in idle; observed it ended in estop"), run.standardOutput)
    }

    /// A real host stall — the test stops the runner's process (SIGSTOP) for 60 ms mid-session, while
    /// rehabsim runs on — fails a simulator run that expects no safety event. The failure is repeated,
    /// printed and counted; with a budget of 0 the run fails and names what was repeated.
    func testOnTheSimulatorAFailureAHostStallExplainsIsRepeatedAndCountedAgainstTheBudget() throws {
        let path = folder + "/quiet-swing.json"
        try """
            {"format": "rehabhost-scenario/1", "name": "quiet-swing", "description": "A passive swing with nothing injected.",
             "requirements": ["SR-1"], "profile": "wrist-trainer", "exercise": "exercises/wrist-swing-25deg.json", "duration_s": 4,
             "targets": {"sim": {"rate_hz": 500}}, "expect": [{"no_safety_event": {}}, {"final_state": "idle"}]}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        // The shipped exercise is found relative to the scenario's folder.
        try FileManager.default.createDirectory(atPath: folder + "/exercises", withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: RepositoryPaths.file("hardware/scenarios/exercises/wrist-swing-25deg.json").path, toPath: folder + "/exercises/wrist-swing-25deg.json")
        func runStalled(budget: Int) throws -> (exitCode: Int32, output: String) {
            let outputFile = folder + "/out-\(budget).txt"
            let child = try ChildProcess.spawn(
                executable: RepositoryPaths.product("rehabctl").path,
                arguments: ["scenario", "run", path, "--target", "sim", "--host-stall-retries", String(budget)], standardError: .file(outputFile))
            // 3 s in: past rehabsim's start and the session's set-up (about 1 s), inside the 4 s loop.
            usleep(3_000_000)
            child.send(SIGSTOP)
            usleep(60_000)
            child.send(SIGCONT)
            let deadline = MonotonicClock.now().advanced(byNanoseconds: 90 * Nanoseconds.perSecond)
            let output = child.readAllOutput(deadline: deadline)
            let status = child.waitForExit(deadline: deadline) ?? {
                child.terminate(graceNanoseconds: 0)
                return -1
            }()
            return (ChildProcess.exitCode(fromStatus: status), output + ((try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""))
        }
        let repeated = try runStalled(budget: 2)
        XCTAssertTrue(repeated.output.contains("RETRY quiet-swing: attempt 1 repeated (host stall: "), repeated.output)
        XCTAssertEqual(repeated.exitCode, 0, repeated.output)
        XCTAssertTrue(repeated.output.contains("PASS  quiet-swing  sim"), repeated.output)
        XCTAssertTrue(repeated.output.range(of: #"host-stall retries: [12] \(budget 2\)"#, options: .regularExpression) != nil, repeated.output)

        let overBudget = try runStalled(budget: 0)
        XCTAssertEqual(overBudget.exitCode, 1, overBudget.output)
        XCTAssertTrue(overBudget.output.contains("more than the budget of 0"), overBudget.output)
        XCTAssertTrue(overBudget.output.contains("FAIL  quiet-swing  sim"), "the stalled run is not repeated past the budget: " + overBudget.output)
    }

    func testABrokenFileIsRefusedWithItsPathAndAMissingOneWithItsOwnCode() throws {
        let path = folder + "/broken.json"
        try #"{"format": "rehabhost-scenario/1", "name": "x", "profile": "wrist-trainer", "exercise": "wrist-flexion-passive", "expect": [], "speed_ms": 3}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let broken = try ProgramRun.run("rehabctl", ["scenario", "run", path])
        XCTAssertEqual(broken.exitCode, 65, broken.standardError)
        XCTAssertTrue(broken.standardError.contains("speed_ms"), broken.standardError)
        let missing = try ProgramRun.run("rehabctl", ["scenario", "run", folder + "/nothing-here.json"])
        XCTAssertEqual(missing.exitCode, 66, missing.standardError)
        let wrong = try ProgramRun.run("rehabctl", ["scenario", "run", "--target", "moon"])
        XCTAssertEqual(wrong.exitCode, 64, wrong.standardError)
    }

    /// A rig: the profile's robot on a port (rehabsim --link stands in for the USB adapter). What needs
    /// no simulator runs, in real time; a scenario that injects a fault without a prompt is skipped with
    /// the reason — never passed or failed for a fault that was not there.
    func testOnARigWhatNeedsNoSimulatorRunsAndTheRestIsSkippedWithTheReason() throws {
        let link = folder + "/wrist"
        let simulator = try ProgramRun.start("rehabsim", ["--quiet", "--link", link])
        addTeardownBlock { simulator.terminate() }
        XCTAssertNotNil(simulator.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 10 * Nanoseconds.perSecond)), "rehabsim announced its port")
        // Real time on a shared VM: a host stall can stop the e-stop scenario before its e-stop (SR-1/SR-14,
        // correctly); such a run is repeated and counted against the run's budget.
        var attempt = 1
        var run = try ProgramRun.run(
            "rehabctl", ["scenario", "run", shipped("sr12-operator-estop"), shipped("sr01-mute-mid-exercise"), "--target", "port", "--port", link])
        let timing = ["device_silent", "loop_gap", "link_poor", "device_watchdog", "late_cycles"]
        while run.exitCode != 0, attempt < 4, let cause = timing.first(where: { run.standardOutput.contains($0) }) {
            HostStallRetries.record(attempt: attempt, "host stall (\(cause)) stopped the rig scenario")
            attempt += 1
            run = try ProgramRun.run(
                "rehabctl", ["scenario", "run", shipped("sr12-operator-estop"), shipped("sr01-mute-mid-exercise"), "--target", "port", "--port", link])
        }
        XCTAssertEqual(run.exitCode, 0, run.standardOutput + run.standardError)
        XCTAssertTrue(run.standardOutput.contains("PASS  sr12-operator-estop  rig"), run.standardOutput)
        XCTAssertTrue(run.standardOutput.contains("SKIP  sr01-mute-mid-exercise  rig"), run.standardOutput)
        XCTAssertTrue(run.standardOutput.contains("needs a simulator"), run.standardOutput)
        let usage = try ProgramRun.run("rehabctl", ["scenario", "run", shipped("sr12-operator-estop"), "--target", "port"])
        XCTAssertEqual(usage.exitCode, 64, "a rig needs its port: \(usage.standardError)")
    }

    /// A rig with a tracker: the robot on its port and the tracker on its own (`--tracker-port`), each
    /// a rehabsim link standing in for the USB adapters. Without the tracker's port the scenario cannot
    /// run, and the message names the option to give.
    func testOnARigTheTrackersAreReadFromTheirOwnPorts() throws {
        let robot = folder + "/wrist"
        let tracker = folder + "/mti"
        let simulator = try ProgramRun.start("rehabsim", ["--quiet", "--link", robot, "--tracker", "xsens-mti-wrist,link=\(tracker)"])
        addTeardownBlock { simulator.terminate() }
        for _ in 0..<2 {
            XCTAssertNotNil(simulator.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 10 * Nanoseconds.perSecond)), "rehabsim announced its ports")
        }
        let path = folder + "/rig-tracker.json"
        try #"""
            {"format": "rehabhost-scenario/1", "name": "rig-tracker", "requirements": [], "profile": "wrist-trainer", "exercise": "wrist-flexion-passive",
             "duration_s": 3, "trackers": ["xsens-mti-wrist"], "expect": [{"no_safety_event": {}}, {"final_state": "idle"}]}
            """#.write(toFile: path, atomically: true, encoding: .utf8)
        let unnamed = try ProgramRun.run("rehabctl", ["scenario", "run", path, "--target", "port", "--port", robot])
        XCTAssertEqual(unnamed.exitCode, 1, unnamed.standardOutput + unnamed.standardError)
        XCTAssertTrue(unnamed.standardOutput.contains("--tracker-port xsens-mti-wrist=PATH"), unnamed.standardOutput)
        var attempt = 1
        let arguments = ["scenario", "run", path, "--target", "port", "--port", robot, "--tracker-port", "xsens-mti-wrist=\(tracker)"]
        var run = try ProgramRun.run("rehabctl", arguments)
        let timing = ["device_silent", "loop_gap", "link_poor", "device_watchdog", "late_cycles", "tracker_stale"]
        while run.exitCode != 0, attempt < 4, let cause = timing.first(where: { run.standardOutput.contains($0) }) {
            HostStallRetries.record(attempt: attempt, "host stall (\(cause)) stopped the rig scenario with a tracker")
            attempt += 1
            run = try ProgramRun.run("rehabctl", arguments)
        }
        XCTAssertEqual(run.exitCode, 0, run.standardOutput + run.standardError)
        XCTAssertTrue(run.standardOutput.contains("PASS  rig-tracker  rig"), run.standardOutput)
        let misplaced = try ProgramRun.run("rehabctl", ["scenario", "run", path, "--tracker-port", "xsens-mti-wrist=\(tracker)"])
        XCTAssertEqual(misplaced.exitCode, 64, "--tracker-port is for a rig: \(misplaced.standardError)")
    }
}
