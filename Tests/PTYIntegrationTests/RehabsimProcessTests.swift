import Control
import DeviceModel
import Devices
import Foundation
import Platform
import Primitives
import Profiles
import Session
import StrictJSON
import TestSupport
import Transport
import Wire
import XCTest

/// rehabsim as its own process behind a pseudo-terminal, driven through the real serial code:
/// real bytes, real kernel, real time.
final class RehabsimProcessTests: XCTestCase {
    private var profile: HardwareProfile!

    override func setUpWithError() throws {
        profile = try HardwareProfileLoader.load(path: RepositoryPaths.file("hardware/wrist-trainer.json").path)
    }

    /// Starts rehabsim and returns it with the path it announced.
    private func startSimulator(_ extra: [String] = []) throws -> (ChildProcess, String) {
        // At real-time priority, as rehabctl starts it: the simulated firmware stands for a microcontroller.
        let process = try ProgramRun.start("rehabsim", ["--profile", profile.sourcePath, "--quiet", "--priority", "79"] + extra)
        addTeardownBlock { process.terminate() }
        let line = process.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 10 * Nanoseconds.perSecond))
        let announced = try XCTUnwrap(line, "rehabsim did not announce its robot")
        XCTAssertTrue(announced.hasPrefix("robot: /dev/pts/"), announced)
        return (process, String(announced.dropFirst("robot: ".count)))
    }

    /// Several simulated devices from one rehabsim (`--device`): each on its own pseudo-terminal, its
    /// path printed on its own line, each answering as the robot of its own profile.
    func testRehabsimPresentsSeveralDevicesEachOnItsOwnTerminal() throws {
        let ankle = try HardwareProfileLoader.load(path: RepositoryPaths.file("hardware/ankle-trainer.json").path)
        let (process, wristPath) = try startSimulator(["--serial", "LAB-0001", "--device", "\(ankle.sourcePath),name=ankle,serial=LAB-0002"])
        let line = try XCTUnwrap(process.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 10 * Nanoseconds.perSecond)))
        XCTAssertTrue(line.hasPrefix("ankle: /dev/pts/"), line)
        let anklePath = String(line.dropFirst("ankle: ".count))
        XCTAssertNotEqual(anklePath, wristPath)
        for (path, expected, serial) in [(wristPath, profile!, "LAB-0001"), (anklePath, ankle, "LAB-0002")] {
            let port = try SerialPort(path: path, options: .init(baudRateBitsPerSecond: expected.device.baudRateBitsPerSecond))
            defer { port.close() }
            let driver = try DriverRegistry.standard.makeActuatedDevice(for: expected, link: port)
            let identity = try driver.identify()
            XCTAssertEqual(identity.model, expected.device.model)
            XCTAssertEqual(identity.serialNumber, serial)
            XCTAssertEqual(SelfTest.identityProblems(identity, profile: expected, resolution: driver.capabilities), [])
            XCTAssertTrue(try driver.requestFreshState().isValid)
        }
    }

    func testRehabsimAnswersIdentifyThroughTheSerialCodePath() throws {
        let (_, path) = try startSimulator(["--serial", "LAB-0042"])
        let port = try SerialPort(path: path, options: .init(baudRateBitsPerSecond: profile.device.baudRateBitsPerSecond))
        let driver = RehabLinkDevice(link: port, jointCount: 2)
        let identity = try driver.identify()
        XCTAssertEqual(identity.model, "RH-WRIST-2")
        XCTAssertEqual(identity.serialNumber, "LAB-0042")
        XCTAssertEqual(SelfTest.identityProblems(identity, profile: profile, resolution: driver.capabilities), [])
    }

    /// The patient's and the limb's cue over the control socket: in milliseconds from now, or at an
    /// instant of CLOCK_MONOTONIC (what rehabctl sends: the plan's own start, however late the line);
    /// holds and resumes, a resume with the plan the host made then; nonsense refused.
    func testTheCueStartIsTakenAsADelayOrAsAnInstantAndNonsenseIsRefused() throws {
        let socket = NSTemporaryDirectory() + "rehabhost-cue-\(UUID().uuidString).sock"
        _ = try startSimulator(["--control", socket])
        let end = MonotonicClock.now().advanced(byNanoseconds: 5 * Nanoseconds.perSecond)
        while !FileManager.default.fileExists(atPath: socket) && MonotonicClock.now() < end { usleep(2_000) }
        let connection = try UnixSocketConnection.connect(path: socket)
        defer { connection.close() }
        func reply(to line: String) throws -> JSONObject {
            XCTAssertTrue(connection.writeLine(line))
            let text = try XCTUnwrap(connection.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 2 * Nanoseconds.perSecond)), line)
            return try XCTUnwrap(JSONParser.parse(text).objectValue, text)
        }
        let inHalfASecond = MonotonicClock.now().advanced(byNanoseconds: 500_000_000).nanoseconds
        let atInstant = try reply(to: "{\"cue_start_at_ns\": \(inHalfASecond)}")
        XCTAssertEqual(atInstant["ok"]?.boolValue, true, "\(atInstant)")
        let delay = try XCTUnwrap(atInstant["cue_start_in_ms"]?.doubleValue)
        XCTAssertTrue(delay > 0 && delay <= 500, "the instant, seen from rehabsim's clock: \(delay) ms")
        let inMilliseconds = try reply(to: "{\"cue_start_in_ms\": 250}")
        XCTAssertEqual(inMilliseconds["ok"]?.boolValue, true, "\(inMilliseconds)")
        XCTAssertEqual(inMilliseconds["cue_start_in_ms"]?.doubleValue ?? 0, 250, accuracy: 1e-6)
        let twoHoursAhead = MonotonicClock.now().advanced(byNanoseconds: 7_200 * Nanoseconds.perSecond).nanoseconds
        for bad in ["{\"cue_start_in_ms\": -1}", "{\"cue_start_at_ns\": \(twoHoursAhead)}", "{\"cue_start_at_ns\": \"soon\"}"] {
            let refused = try reply(to: bad)
            XCTAssertEqual(refused["ok"]?.boolValue, false, bad)
            XCTAssertTrue(refused["error"]?.stringValue?.contains("cue_start_at_ns") == true, "\(refused)")
        }
        // A start along the plan the session made (rehabctl's line: a session cut shorter than the exercise plans fewer swings).
        let now = MonotonicClock.now().nanoseconds
        let planned = try reply(to: "{\"cue_start_at_ns\": \(now), \"plan_start_rad\": [0.01, 0], \"plan_duration_s\": 19.5, \"plan_repetitions\": 8}")
        XCTAssertEqual(planned["ok"]?.boolValue, true, "\(planned)")
        // A hold, then a resume along the plan the host made then (rehabctl's lines), or the old plan.
        XCTAssertEqual(try reply(to: "{\"cue_hold_at_ns\": \(now)}")["cue"]?.stringValue, "hold")
        let replanned = try reply(to: "{\"cue_resume_at_ns\": \(now + 1_000_000), \"plan_start_rad\": [0.31, 0], \"plan_duration_s\": 12.5, \"plan_repetitions\": 3}")
        XCTAssertEqual(replanned["cue"]?.stringValue, "resume", "\(replanned)")
        XCTAssertEqual(try reply(to: "{\"cue_hold_at_ns\": \(now + 2_000_000)}")["cue"]?.stringValue, "hold")
        XCTAssertEqual(try reply(to: "{\"cue_resume_at_ns\": \(now + 3_000_000)}")["cue"]?.stringValue, "resume")
        // Half a plan, or a plan that is no plan, is refused (the patient would follow something else than the screen).
        for bad in [
            "{\"cue_resume_at_ns\": \(now), \"plan_duration_s\": 12.5}",
            "{\"cue_resume_at_ns\": \(now), \"plan_start_rad\": [0.31, 0], \"plan_duration_s\": -1}",
            "{\"cue_resume_at_ns\": \(now), \"plan_start_rad\": [0.31, \"x\"], \"plan_duration_s\": 12.5}",
            "{\"cue_resume_at_ns\": \(now), \"plan_start_rad\": [0.31, 0], \"plan_duration_s\": 12.5, \"plan_repetitions\": 0}",
        ] {
            let refused = try reply(to: bad)
            XCTAssertEqual(refused["ok"]?.boolValue, false, bad)
            XCTAssertTrue(refused["error"]?.stringValue?.contains("plan_start_rad") == true, "\(refused)")
        }
    }

    func testLinkOptionMakesAStableSymlinkThatIsRemovedOnExit() throws {
        let link = NSTemporaryDirectory() + "rehabhost-link-\(UUID().uuidString)"
        let (process, path) = try startSimulator(["--link", link])
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), path)
        let port = try SerialPort(path: link)
        XCTAssertNoThrow(try RehabLinkDevice(link: port, jointCount: 2).identify())
        port.close()
        process.terminate()
        XCTAssertFalse(FileManager.default.fileExists(atPath: link), "the link is removed when rehabsim stops")
    }

    func testSessionOverAPseudoTerminalRunsTheExerciseAndStopsCleanly() throws {
        // 500 Hz: a kernel stall of a shared VM grades the link FAIR (SR-1 v2) instead of stopping the
        // session (docs/safety.md); 1 kHz is covered in virtual time. A FAIR hold replans the rest of the
        // swing: in 3 s the joint reached +25° once, so one hold there spoiled the range (CI: an 11 ms
        // stall, 0.36 rad). 5 s swing out to both ends (0.87 rad), so one hold leaves the range above
        // 0.4 rad; a run that still falls short is retried as the stall it is.
        let report = try retryingHostStalls(fairSpoiled: { $0.joints[0].rangeOfMotionRadians <= 0.4 }) {
            let (_, path) = try startSimulator()
            let port = try SerialPort(path: path, options: .init(baudRateBitsPerSecond: profile.device.baudRateBitsPerSecond))
            let driver = RehabLinkDevice(link: port, jointCount: 2)
            let session = try TherapySession(profile: profile, device: driver, clock: MonotonicClock.shared,
                                             options: .init(rateHertz: 500, durationSeconds: 5))
            // Prepare (which enables) and run on one real-time thread, as rehabctl does: nothing may
            // delay the first command past the device's 20 ms watchdog.
            let report = try onRealtimeThread { () -> Result<SessionReport, SessionError> in
                do throws(SessionError) {
                    try session.prepare()
                } catch {
                    return .failure(error)
                }
                return .success(session.run())
            }.get()
            session.finish()
            return report
        }
        XCTAssertEqual(report.finalState, .idle, report.humanSummary())
        XCTAssertTrue(report.safetyEvents.isEmpty, report.humanSummary())
        // SR-1 FAIR (a host stall) holds the plan's clock: the exercise then lasts that much longer, and each
        // resume replans the repetitions left from where the joint stands, blended in over the 0.5 s ramp
        // (two FAIR episodes once made it 0.2 s longer than the FAIR time alone, in CI on 2026-12-07).
        XCTAssertGreaterThanOrEqual(report.cycles, 2_475, report.humanSummary())
        let fair = report.linkQuality.map { $0.secondsFair + Double($0.fairEpisodes) } ?? 0
        XCTAssertLessThan(Double(report.cycles), 2_750 + 500 * fair, report.humanSummary())
        XCTAssertGreaterThan(report.joints[0].rangeOfMotionRadians, 0.4, "the joint swung out to the 25° amplitude and back: \(report.humanSummary())")
        XCTAssertLessThan(report.joints[0].rmsTrackingErrorRadians, 0.02, report.humanSummary())
        XCTAssertGreaterThan(report.roundTrip.count, 0)
    }

    func testDeviceWatchdogStopsTheJointWhenCommandsStop() throws {
        let events = NSTemporaryDirectory() + "rehabhost-events-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: events) }
        let (_, path) = try startSimulator(["--events", events])
        let port = try SerialPort(path: path)
        let driver = RehabLinkDevice(link: port, jointCount: 2)
        _ = try driver.requestFreshState()
        XCTAssertEqual(try driver.activate(watchdogPeriodNanoseconds: 20 * Nanoseconds.perMillisecond), 20 * Nanoseconds.perMillisecond)
        var command = JointList(count: 2, repeating: JointActuation.off)
        command[0] = JointActuation(mode: .torque, torqueNewtonMeters: 0.06)
        for attempt in 1...3 {
            for _ in 0..<100 {  // 0.5 s of commands at 200 Hz: the joint turns under torque
                let now = MonotonicClock.now()
                driver.write(.command(command), now: now, deadline: now.advanced(byNanoseconds: 5_000_000))
                _ = driver.waitForState(until: now.advanced(byNanoseconds: 5_000_000))
                MonotonicClock.shared.sleep(until: now.advanced(byNanoseconds: 5_000_000))
            }
            // This test thread is not real-time: a host stall > 20 ms lets the watchdog expire
            // already here (correctly). Then enable again and repeat.
            guard driver.latestState.condition.contains(.watchdogExpired), attempt < 3 else { break }
            HostStallRetries.record(attempt: attempt, "host stall: the device watchdog expired while commands were being sent")
            try driver.deactivate()
            _ = try driver.activate(watchdogPeriodNanoseconds: 20 * Nanoseconds.perMillisecond)
        }
        XCTAssertTrue(driver.latestState.condition.contains(.torqueOn))
        // The host goes quiet (as if it hung). After 100 ms, ask the device what happened.
        MonotonicClock.shared.sleep(until: MonotonicClock.now().advanced(byNanoseconds: 100 * Nanoseconds.perMillisecond))
        let state = try driver.requestFreshState()
        XCTAssertTrue(state.condition.contains(.watchdogExpired))
        XCTAssertFalse(state.condition.contains(.torqueOn))
        XCTAssertEqual(state.joints[0].motorTorqueNewtonMeters, 0)
        let fault = try XCTUnwrap(driver.lastFaultReport)
        XCTAssertEqual(fault.code, .watchdogExpired)
        // The device's own clock: torque off no later than one inner step (0.1 ms) after the period.
        XCTAssertGreaterThan(fault.value, 20_000)
        XCTAssertLessThanOrEqual(fault.value, 20_100)
        // And the device's event log says so, with timestamps.
        let lines = try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n")
        let kinds = try lines.map { try JSONParser.parse(String($0)).objectValue?["event"]?.stringValue ?? "" }
        XCTAssertEqual(Array(kinds.suffix(2)), ["watchdog_stop", "torque_off"], "\(kinds)")
        XCTAssertTrue(try lines.allSatisfy { line in
            let object = try JSONParser.parse(String(line)).objectValue
            return object?["t_ms"]?.doubleValue != nil && object?["unix_ns"]?.integerValue != nil
        })
    }

    func testSimulatorGoneMidSessionIsLinkLostCat0() throws {
        let report = try retryingHostStalls {
            let (process, path) = try startSimulator()
            let port = try SerialPort(path: path)
            let driver = RehabLinkDevice(link: port, jointCount: 2)
            let session = try TherapySession(profile: profile, device: driver, clock: MonotonicClock.shared,
                                             options: .init(rateHertz: 500, durationSeconds: 10))
            let pid = process.pid
            let report = try onRealtimeThread { () -> Result<SessionReport, SessionError> in
                do throws(SessionError) {
                    try session.prepare()
                } catch {
                    return .failure(error)
                }
                let killer = Thread { Thread.sleep(forTimeInterval: 0.5); kill(pid, SIGKILL) }
                killer.start()
                return .success(session.run())
            }.get()
            process.terminate()
            return report
        }
        XCTAssertEqual(report.finalState, .fault)
        XCTAssertEqual(report.safetyEvents.first?.cause, .linkLost, report.humanSummary())
        XCTAssertEqual(report.safetyEvents.first?.category, .cat0)
        XCTAssertNotNil(report.linkError)
        XCTAssertLessThan(report.elapsedSeconds, 2, "the session ended at once, not after 10 s")
    }
}
