import Foundation
import Platform
import Primitives
import Session
import StrictJSON
import TestSupport
import XCTest

/// SAFETY.md where timing and processes matter: rehabsim as its own process behind a real PTY,
/// `rehabctl` as another, faults injected live through rehabsim's control socket, the session's
/// own control socket used from a third process, real signals, real `kill -9`. 500 Hz (see
/// DemoEndToEndTests); a run that a host stall stopped first is repeated (`retryingHostStalls`).
final class SafetyProcessTests: XCTestCase {
    private let folder = NSTemporaryDirectory() + "rehabhost-safety-\(UUID().uuidString)"

    override func setUpWithError() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func deadline(seconds: Double) -> MonotonicInstant {
        MonotonicClock.now().advanced(byNanoseconds: Int64(seconds * 1e9))
    }

    /// rehabsim on a PTY with an event log and a control socket; returns it and its PTY path.
    private func startSimulator(name: String) throws -> (process: ChildProcess, robot: String, events: String, control: String) {
        let events = "\(folder)/\(name)-events.jsonl"
        let control = "\(folder)/\(name)-sim.sock"
        // The simulated firmware stands for a microcontroller: at real-time priority (as rehabctl
        // starts it), so that its own watchdog is not fired by the test runner starving it.
        let process = try ProgramRun.start("rehabsim", ["--quiet", "--events", events, "--control", control, "--priority", "79"])
        addTeardownBlock { process.terminate() }
        let line = try XCTUnwrap(process.readLine(deadline: deadline(seconds: 10)), "rehabsim did not announce its robot")
        XCTAssertTrue(line.hasPrefix("robot: "), line)
        return (process, String(line.dropFirst("robot: ".count)), events, control)
    }

    private func events(_ path: String) throws -> [JSONObject] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { try XCTUnwrap(JSONParser.parse(String($0)).objectValue) }
    }

    /// `rehabctl run` against `robot`, in the background, with its control socket at `socket`.
    private func startSession(robot: String, socket: String, seconds: Int = 30) throws -> ChildProcess {
        let session = try ProgramRun.start(
            "rehabctl", ["run", "--port", robot, "--duration", String(seconds), "--rate", "500", "--json", "--control-socket", socket,
                         "--black-box-dir", folder])
        addTeardownBlock { session.terminate() }
        let end = deadline(seconds: 10)
        while !FileManager.default.fileExists(atPath: socket) && MonotonicClock.now() < end { usleep(20_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: socket), "the session created its control socket")
        return session
    }

    /// Waits until the session reports `active` through its socket; false if it never did (or
    /// stopped first, e.g. on a host stall).
    @discardableResult
    private func waitUntilActive(_ socket: String, failing: Bool = true) throws -> Bool {
        let end = deadline(seconds: 10)
        while MonotonicClock.now() < end {
            let status = try ProgramRun.run("rehabctl", ["status", "--json", "--session", socket])
            if status.standardOutput.contains("\"state\": \"active\"") { return true }
            if status.standardOutput.contains("\"state\": \"fault\"") { break }
            usleep(50_000)
        }
        if failing { XCTFail("the session never became active") }
        return false
    }

    /// `run` holds after a fault (for release); `rehabctl stop` through `socket` ends it, then its report is read.
    private func finish(_ session: ChildProcess, socket: String? = nil) throws -> (exitCode: Int32, report: JSONObject) {
        if let socket {
            usleep(300_000)
            _ = try ProgramRun.run("rehabctl", ["stop", "--session", socket])
        }
        let output = session.readAllOutput(deadline: deadline(seconds: 40))
        let status = try XCTUnwrap(session.waitForExit(deadline: deadline(seconds: 5)))
        return (ChildProcess.exitCode(fromStatus: status), try XCTUnwrap(JSONParser.parse(output).objectValue, output))
    }

    // MARK: SR-1

    func testSR1LiveMuteOverAPTYStopsCat1ThenTorqueOffWithin30Milliseconds() throws {
        // SR-1's own causes are timing causes, so a run is repeated only when a host stall stopped
        // it before the mute was injected, or held the loop up past the margin while it reacted.
        var outcome: (exitCode: Int32, report: JSONObject, milliseconds: Double)?
        for attempt in 1...3 {
            let simulator = try startSimulator(name: "sr1-\(attempt)")
            let socket = "\(folder)/sr1-\(attempt).sock"
            let session = try startSession(robot: simulator.robot, socket: socket)
            let active = try waitUntilActive(socket, failing: attempt == 3)
            if active {
                let inject = try ProgramRun.run("rehabsim", ["inject", "--control", simulator.control, "drop_replies"])
                XCTAssertEqual(inject.exitCode, 0, inject.standardError)
            }
            let (exitCode, report) = try finish(session, socket: socket)
            guard active else {
                HostStallRetries.record(attempt: attempt, "host stall stopped the session before the injection")
                continue
            }
            // The device side: the host's commands still reach it; torque is off soon after the mute.
            let device = try events(simulator.events)
            let injectedAt = try XCTUnwrap(device.first { $0["event"]?.stringValue == "fault_injected" }?["unix_ns"]?.integerValue)
            let off = try XCTUnwrap(device.first {
                $0["event"]?.stringValue == "torque_off" && ($0["unix_ns"]?.integerValue ?? 0) > injectedAt
            }?["unix_ns"]?.integerValue)
            let milliseconds = Double(off - injectedAt) / 1e6
            print("SR-1 over a PTY at 500 Hz: torque off \(milliseconds) ms after the device went mute")
            outcome = (exitCode, report, milliseconds)
            let latestWakeMilliseconds = (report["wake_latency_us"]?.objectValue?["max"]?.doubleValue ?? 0) / 1e3
            if milliseconds > Self.sr1TorqueOffBoundMilliseconds && latestWakeMilliseconds > 2 && attempt < 3 {
                HostStallRetries.record(
                    attempt: attempt, "torque off after \(milliseconds) ms: the loop woke up to \(latestWakeMilliseconds) ms late (a host stall beyond the margin)")
                continue
            }
            break
        }
        let (exitCode, report, milliseconds) = try XCTUnwrap(outcome)
        XCTAssertEqual(exitCode, 1, "ended in a safety stop")
        let trips = try XCTUnwrap(report["safety_events"]?.arrayValue?.compactMap(\.objectValue))
        XCTAssertEqual(trips.first?["cause"]?.stringValue, "device_silent")
        XCTAssertEqual(trips.first?["stop_category"]?.integerValue, 1)
        // SR-1: Cat 1 in the first cycle that finds the newest state 0.6 W = 12 ms old (2 ms cycles).
        let age = try XCTUnwrap(trips.first?["value"]?.doubleValue)
        XCTAssertGreaterThanOrEqual(age, 12, "the state's age in ms")
        XCTAssertLessThan(age, 12 + 2 * 2 + 2)
        XCTAssertTrue(trips.contains { $0["cause"]?.stringValue == "device_silent_too_long" && $0["stop_category"]?.integerValue == 0 })
        XCTAssertLessThanOrEqual(milliseconds, Self.sr1TorqueOffBoundMilliseconds)
    }

    /// The host dates the last state by the device's clock (it came before the mute): Cat 0 once it is
    /// W = 20 ms old, found ≤ 1 cycle later and on the wire in that cycle, ≤ 20 ms + 2 cycles after the
    /// mute; + 2 ms for the PTY and the scheduler.
    private static let sr1TorqueOffBoundMilliseconds = 20.0 + 2 * 2 + 2

    // MARK: SR-3

    func testSR3KillNineOfTheHostMidMotionLeavesTheDeviceAtZeroTorqueWithin50Milliseconds() throws {
        var simulator = try startSimulator(name: "sr3-1")
        var killedAt: Int64 = 0
        for attempt in 1...3 {
            if attempt > 1 { simulator = try startSimulator(name: "sr3-\(attempt)") }
            let socket = "\(folder)/sr3-\(attempt).sock"
            let session = try startSession(robot: simulator.robot, socket: socket)
            guard try waitUntilActive(socket, failing: attempt == 3) else {
                HostStallRetries.record(attempt: attempt, "host stall stopped the session before the kill")
                _ = try finish(session, socket: socket)
                continue
            }
            usleep(300_000)
            killedAt = WallClock.unixNanoseconds()
            kill(session.pid, SIGKILL)
            _ = session.waitForExit(deadline: deadline(seconds: 5))
            XCTAssertTrue(UnixSocketConnection.isStale(path: socket), "nobody answers on a dead session's socket")
            break
        }
        usleep(300_000)
        let device = try events(simulator.events)
        let stop = try XCTUnwrap(device.first { $0["event"]?.stringValue == "watchdog_stop" }, "\(device)")
        let off = try XCTUnwrap(device.last { $0["event"]?.stringValue == "torque_off" })
        let stopMilliseconds = Double(try XCTUnwrap(stop["unix_ns"]?.integerValue) - killedAt) / 1e6
        let offMilliseconds = Double(try XCTUnwrap(off["unix_ns"]?.integerValue) - killedAt) / 1e6
        print("SR-3: watchdog_stop \(stopMilliseconds) ms, torque_off \(offMilliseconds) ms after kill -9 of the host")
        XCTAssertLessThanOrEqual(offMilliseconds, 50)
        XCTAssertGreaterThan(offMilliseconds, 0, "the device was still moving when the host died")
    }

    // MARK: SR-12 and the control socket

    func testSR12EstopFromASecondProcessActsInTheNextCycleAndTheSocketIsRemoved() throws {
        let (exitCode, report, reply) = try retryingHostStallsWithReply {
            let simulator = try startSimulator(name: "sr12-\(UUID().uuidString.prefix(4))")
            let socket = "\(folder)/sr12-\(UUID().uuidString.prefix(4)).sock"
            let session = try startSession(robot: simulator.robot, socket: socket)
            try waitUntilActive(socket, failing: false)  // a host stall first: repeated by the helper
            let estop = try ProgramRun.run("rehabctl", ["estop", "--json", "--session", socket])
            let result = try finish(session, socket: socket)
            XCTAssertFalse(FileManager.default.fileExists(atPath: socket), "the socket is removed on exit")
            // The device is disabled as soon as the loop ends, before the black box is synced to disk
            // (which took 345 ms once: the device's watchdog fired first).
            let deviceEvents = try events(simulator.events).compactMap { $0["event"]?.stringValue }
            if result.report["safety_events"]?.arrayValue?.first?.objectValue?["cause"]?.stringValue == "operator_estop" {
                XCTAssertFalse(deviceEvents.contains("watchdog_stop"), "\(deviceEvents)")
                XCTAssertEqual(deviceEvents.last, "disable", "\(deviceEvents)")
            }
            return (result.exitCode, result.report, estop)
        }
        XCTAssertEqual(reply.exitCode, 0, reply.standardError)
        let answer = try XCTUnwrap(JSONParser.parse(reply.standardOutput).objectValue, reply.standardOutput)
        XCTAssertEqual(answer["state"]?.stringValue, "estop")
        // Taken by the first cycle that began after the post: one cycle after the newest published
        // status, or two when the post landed while a cycle was in progress (that cycle had already
        // taken its requests). Either way within one period (5 ms) plus the cycle's work.
        let cycles = try XCTUnwrap(answer["cycles"]?.integerValue)
        XCTAssertTrue((1...2).contains(cycles), "\(answer)")
        XCTAssertLessThanOrEqual(try XCTUnwrap(answer["latency_ms"]?.doubleValue), 5 + 1, "\(answer)")
        XCTAssertEqual(exitCode, 1)
        let trip = try XCTUnwrap(report["safety_events"]?.arrayValue?.first?.objectValue)
        XCTAssertEqual(trip["cause"]?.stringValue, "operator_estop")
        XCTAssertEqual(trip["stop_category"]?.integerValue, 0)
        XCTAssertEqual(report["black_box_files"]?.arrayValue?.count, 1, "the e-stop wrote the black box")
    }

    func testSR18ReleaseFromASecondTerminalHoldsZeroTorqueWhileItRuns() throws {
        // Release needs a powered device: a host stall > 20 ms while e-stopped lets the device's
        // watchdog latch (correctly) and release is then refused; such an attempt is repeated.
        var outcome: (report: JSONObject, release: ProgramRun)?
        for attempt in 1...5 where outcome == nil {
            let simulator = try startSimulator(name: "release-\(attempt)")
            let socket = "\(folder)/release-\(attempt).sock"
            let session = try startSession(robot: simulator.robot, socket: socket)
            guard try waitUntilActive(socket, failing: attempt == 5) else {
                // Refused at start-up or stopped before the e-stop (a stall during the set-up): no
                // report to read; the session is ended and the attempt repeated.
                _ = try? ProgramRun.run("rehabctl", ["stop", "--session", socket])
                let output = session.readAllOutput(deadline: deadline(seconds: 10))
                _ = session.waitForExit(deadline: deadline(seconds: 5))
                HostStallRetries.record(attempt: attempt, "never became active (\(output.isEmpty ? "refused at start-up" : "stopped early"))")
                continue
            }
            _ = try ProgramRun.run("rehabctl", ["estop", "--session", socket])
            usleep(600_000)  // the joint coasts to standstill with torque off
            let release = try ProgramRun.run("rehabctl", ["release", "--for", "0.3", "--session", socket])
            let result = try finish(session, socket: socket)
            let first = result.report["safety_events"]?.arrayValue?.first?.objectValue?["cause"]?.stringValue
            let watchdog = try events(simulator.events).contains { $0["event"]?.stringValue == "watchdog_stop" }
            if first == "operator_estop" && !watchdog {
                outcome = (result.report, release)
            } else {
                let transitions = result.report["supervisor_transitions"]?.arrayValue?.compactMap { $0.objectValue }
                    .map { "\($0["cause"]?.stringValue ?? "?")@\($0["t_ms"]?.doubleValue ?? 0)" } ?? []
                let deviceEvents = try events(simulator.events).map { "\($0["event"]?.stringValue ?? "?")@\($0["unix_ns"]?.integerValue ?? 0)" }
                HostStallRetries.record(
                    attempt: attempt, "host stall spoiled the run (first cause \(first ?? "none"), device watchdog \(watchdog))",
                    details: "transitions \(transitions), device \(deviceEvents)")
            }
        }
        let (report, release) = try XCTUnwrap(outcome)
        XCTAssertEqual(release.exitCode, 0, release.standardError)
        XCTAssertTrue(release.standardOutput.contains("releasing: zero torque, brake released"), release.standardOutput)
        XCTAssertTrue(release.standardOutput.contains("let go: the joints are held again"), release.standardOutput)
        let transitions = report["supervisor_transitions"]?.arrayValue?.compactMap(\.objectValue) ?? []
        let started = try XCTUnwrap(transitions.first { $0["cause"]?.stringValue == "release_started" }?["t_ms"]?.doubleValue)
        let ended = try XCTUnwrap(transitions.last { $0["cause"]?.stringValue == "release_ended" }?["t_ms"]?.doubleValue)
        // Held for the client's 0.3 s; it lets go with release-end at once (or the 250 ms keep-alive lapses).
        // A release may be interrupted and taken up again by the held client: one reply missed ends it
        // at once (SR-18: only while the device answers; seen on this host after 65 ms), and so does a
        // keep-alive that a stalled client sent late. From its first start to its last end it spans the hold.
        XCTAssertEqual(ended - started, 300, accuracy: 120, "\(started) … \(ended)")
    }

    /// `retryingHostStalls` for a run that also returns the second process's reply (its retries are
    /// counted under the calling test).
    private func retryingHostStallsWithReply(
        file: String = #fileID, function: String = #function, _ body: () throws -> (Int32, JSONObject, ProgramRun)
    ) throws -> (Int32, JSONObject, ProgramRun) {
        var reply: ProgramRun?
        let result = try retryingHostStalls(file: file, function: function) { () throws -> (exitCode: Int32, report: JSONObject) in
            let (code, report, run) = try body()
            reply = run
            return (code, report)
        }
        return (result.exitCode, result.report, try XCTUnwrap(reply))
    }

    func testSR12ResetWhileTheCausePersistsIsRefusedWithTheCauseAndExit3() throws {
        let (_, _, reply) = try retryingHostStallsWithReply {
            let simulator = try startSimulator(name: "reset-\(UUID().uuidString.prefix(4))")
            let socket = "\(folder)/reset-\(UUID().uuidString.prefix(4)).sock"
            let session = try startSession(robot: simulator.robot, socket: socket)
            try waitUntilActive(socket, failing: false)  // a host stall first: repeated by the helper
            _ = try ProgramRun.run("rehabsim", ["inject", "--control", simulator.control, "estop_press"])
            usleep(200_000)
            let reset = try ProgramRun.run("rehabctl", ["reset", "--session", socket])
            let result = try finish(session, socket: socket)
            return (result.exitCode, result.report, reset)
        }
        XCTAssertEqual(reply.exitCode, 3, reply.standardError)
        XCTAssertTrue(reply.standardError.contains("reset refused: the device e-stop is still pressed"), reply.standardError)
    }

    func testControlSocketRefusesAnotherUserByItsPermissions() throws {
        guard getuid() == 0 else { return }  // needs a second user: run as root (CI is)
        let simulator = try startSimulator(name: "perm")
        let socket = "\(folder)/perm.sock"
        chmod(folder, 0o755)
        var session = try startSession(robot: simulator.robot, socket: socket)
        // A host stall can stop the session before it is active (SR-1/SR-14, correctly; it then removes its
        // socket): such a start is repeated, counted against the run's budget (seen once in CI, 2026-12-07).
        var attempt = 1
        while try !waitUntilActive(socket, failing: attempt == 3), attempt < 3 {
            HostStallRetries.record(attempt: attempt, "the session stopped before it was active")
            _ = session.terminate()
            attempt += 1
            session = try startSession(robot: simulator.robot, socket: socket)
        }
        var info = stat()
        XCTAssertEqual(stat(socket, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600, "created 0600")
        let rehabctl = RepositoryPaths.product("rehabctl").path
        let refused = try ProgramRun.run(
            "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", rehabctl, "estop", "--session", socket])
        XCTAssertEqual(refused.exitCode, 77, refused.standardError)
        XCTAssertTrue(refused.standardError.contains("permission denied by the control socket"), refused.standardError)
        let status = try ProgramRun.run("rehabctl", ["status", "--json", "--session", socket])
        XCTAssertEqual(status.exitCode, 0, status.standardError)
        XCTAssertFalse(status.standardOutput.contains("operator_estop"), "the refused e-stop did nothing: \(status.standardOutput)")
        _ = try finish(session, socket: socket)
    }

    func testAnUnplugInRehabsimClosesThePTYAndTheHostStopsCat0WithExit74() throws {
        let (exitCode, report) = try retryingHostStalls {
            let simulator = try startSimulator(name: "unplug-\(UUID().uuidString.prefix(4))")
            let socket = "\(folder)/unplug-\(UUID().uuidString.prefix(4)).sock"
            let session = try startSession(robot: simulator.robot, socket: socket)
            try waitUntilActive(socket, failing: false)
            let inject = try ProgramRun.run("rehabsim", ["inject", "--control", simulator.control, "unplug"])
            XCTAssertEqual(inject.exitCode, 0, inject.standardError)
            return try finish(session)
        }
        XCTAssertEqual(exitCode, 74, "device lost")
        let trip = try XCTUnwrap(report["safety_events"]?.arrayValue?.first?.objectValue)
        XCTAssertEqual(trip["cause"]?.stringValue, "link_lost")
        XCTAssertEqual(trip["stop_category"]?.integerValue, 0)
        XCTAssertNotNil(report["link_error"]?.stringValue)
    }

    func testWithoutFlagsTheClientFindsTheOneRunningSession() throws {
        guard ControlSocketLocation.liveSessions().isEmpty else { return }  // another session runs here: nothing to find uniquely
        let demo = try ProgramRun.start("rehabctl", ["demo", "--duration", "30", "--rate", "500", "--json", "--black-box-dir", folder])
        addTeardownBlock { demo.terminate() }
        let end = deadline(seconds: 10)
        var status = try ProgramRun.run("rehabctl", ["status", "--json"])
        while status.exitCode != 0 && MonotonicClock.now() < end {
            usleep(50_000)
            status = try ProgramRun.run("rehabctl", ["status", "--json"])
        }
        XCTAssertEqual(status.exitCode, 0, status.standardError)
        let object = try XCTUnwrap(JSONParser.parse(status.standardOutput).objectValue)
        XCTAssertEqual(object["pid"]?.integerValue, Int64(demo.pid), "the demo's own socket was found")
        let stop = try ProgramRun.run("rehabctl", ["stop"])
        XCTAssertEqual(stop.exitCode, 0, stop.standardError)
        XCTAssertTrue(stop.standardOutput.contains("stop: taken in control cycle"), stop.standardOutput)
        let output = demo.readAllOutput(deadline: deadline(seconds: 10))
        let exit = try XCTUnwrap(demo.waitForExit(deadline: deadline(seconds: 5)))
        let report = try XCTUnwrap(JSONParser.parse(output).objectValue)
        // A host stall before the stop may have stopped it first (exit 1); otherwise a clean Cat 1 stop.
        if report["safety_events"]?.arrayValue?.isEmpty == true {
            XCTAssertEqual(ChildProcess.exitCode(fromStatus: exit), 0)
            // idle after a Cat 1 stop; disabled when the stop came during the set-up (taken there, D1).
            XCTAssertTrue(["idle", "disabled"].contains(report["supervisor_final_state"]?.stringValue ?? ""), "\(report)")
        }
        XCTAssertTrue(ControlSocketLocation.liveSessions().isEmpty, "its socket is gone")
    }

    func testWithoutASessionTheClientSaysSoWithExit69() throws {
        let run = try ProgramRun.run("rehabctl", ["stop", "--session", "\(folder)/nobody.sock"])
        XCTAssertEqual(run.exitCode, 69, run.standardError)
        XCTAssertTrue(run.standardError.contains("cannot reach the session"), run.standardError)
    }

    // MARK: Fault scripts: bad input

    func testABadFaultScriptIsRejectedWithTheExactPathOfEachBadField() throws {
        let script = "\(folder)/bad.json"
        try """
            {"format": "rehabsim-faults/1", "faults": [
              {"at_ms": -5, "kind": "drop_replies"},
              {"at_ms": 100, "for": 50, "kind": "drop_replies"},
              {"after_enable_ms": 10, "kind": "external_torque", "joint": 7, "torque_nm": "2"},
              {"at_ms": 10, "kind": "teleport"},
              {"at_command": 5, "kind": "unplug", "for_ms": 10},
              {"at_ms": 500, "kind": "wrap_encoder", "joint": 0, "counts_before_wrap": 100}
            ], "extra": true}
            """.write(toFile: script, atomically: true, encoding: .utf8)
        for program in [["rehabsim", "--faults", script], ["rehabctl", "demo", "--faults", script]] {
            let run = try ProgramRun.run(program[0], Array(program.dropFirst()))
            XCTAssertEqual(run.exitCode, 65, run.standardError)
            for expected in [
                "faults[0].at_ms: must be between 0 and", "faults[1].for: numbers carry their unit in the key name: did you mean \"for_ms\"?",
                "faults[2].joint: must be between 0 and 1", "faults[2].torque_nm: expected a number in N·m", "faults[3].kind: unknown fault \"teleport\"",
                "faults[4].for_ms: unplug cannot end by itself", "faults[5]: wrap_encoder places the raw counter before the host connects",
                "extra: unknown key",
            ] {
                XCTAssertTrue(run.standardError.contains(expected), "missing \(expected) in\n\(run.standardError)")
            }
            XCTAssertFalse(run.standardError.contains("self-test"), "refused before anything started")
        }
        try #"{"format": "rehabsim-faults/1", "faults": [{"at_ms": 1, "kind": "external_torque", "joint": 0, "torque_nm": 1e999}]}"#
            .write(toFile: script, atomically: true, encoding: .utf8)
        let infinite = try ProgramRun.run("rehabsim", ["--faults", script])
        XCTAssertEqual(infinite.exitCode, 65)
        XCTAssertTrue(infinite.standardError.contains("not valid JSON: line 1, column 109: number out of range"), infinite.standardError)
    }

    /// A link that garbles the device's replies stops the session (SR-1), and the diagnosis names the
    /// rejected frames with their counts — not the host's timing, and not "try a lower rate".
    func testALinkThatGarblesRepliesIsDiagnosedByItsRejectedFramesNotAsAHostStall() throws {
        let script = "\(folder)/garble.json"
        try #"{"format": "rehabsim-faults/1", "faults": [{"after_enable_ms": 1500, "kind": "corrupt_bytes", "every_nth": 2}]}"#
            .write(toFile: script, atomically: true, encoding: .utf8)
        let run = try ProgramRun.run("rehabctl", ["demo", "--faults", script, "--rate", "500", "--record", "none", "--json"])
        XCTAssertEqual(run.exitCode, 1, run.standardError)
        let report = try XCTUnwrap(JSONParser.parse(run.standardOutput).objectValue, run.standardError)
        let link = try XCTUnwrap(report["device_link"]?.objectValue, "the driver's link figures are in the report")
        let rejected = (link["checksum_errors"]?.integerValue ?? 0) + (link["malformed_frames"]?.integerValue ?? 0)
        XCTAssertGreaterThan(rejected, 0, "\(link)")
        XCTAssertGreaterThan(link["discarded_bytes"]?.integerValue ?? 0, 100, "\(link)")
        XCTAssertTrue(run.standardError.contains("the device's replies did not get through"), run.standardError)
        XCTAssertTrue(run.standardError.contains("frames with a bad checksum"), run.standardError)
        XCTAssertFalse(run.standardError.contains(ProgramRun.hostStallMarker), "not reported as a host stall: \(run.standardError)")
        XCTAssertFalse(run.standardError.contains("--rate 250"), run.standardError)
    }

    func testALiveInjectionWithABadFieldIsRefusedAndTheSimulatorRunsOn() throws {
        let simulator = try startSimulator(name: "live")
        let bad = try ProgramRun.run("rehabsim", ["inject", "--control", simulator.control, "jump_encoder", "joint=0", "counts=0"])
        XCTAssertEqual(bad.exitCode, 65, bad.standardError)
        XCTAssertTrue(bad.standardError.contains("counts: a jump of 0 counts is no fault"), bad.standardError)
        let good = try ProgramRun.run("rehabsim", ["inject", "--control", simulator.control, "estop_press"])
        XCTAssertEqual(good.exitCode, 0, good.standardError)
        usleep(100_000)
        XCTAssertTrue(try events(simulator.events).contains { $0["event"]?.stringValue == "estop" })
    }
}
