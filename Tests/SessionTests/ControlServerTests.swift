import Control
import Foundation
import Platform
import Primitives
import Session
import StrictJSON
import XCTest

/// The control socket against a session in virtual time: what it answers before and after the loop.
final class ControlServerTests: XCTestCase {
    /// A started control socket for `harness`'s session, at a fresh path.
    private func startServer(for harness: VirtualSessionHarness, exerciseName: String) throws -> (ControlServer, path: String) {
        let path = NSTemporaryDirectory() + "rehabhost-control-\(UUID().uuidString.prefix(8)).sock"
        let server = try ControlServer(path: path, control: harness.session.control, statusBoard: harness.session.statusBoard,
                                       jointNames: harness.profile.joints.map(\.name), exerciseName: exerciseName,
                                       modeNames: harness.session.availableModes.map(\.name))
        server.start()
        return (server, path)
    }

    func testARequestBeforeTheLoopStartsIsQueuedForItsFirstCycleAndSaysSo() throws {
        let harness = try VirtualSessionHarness(durationSeconds: 1)
        try harness.session.prepare()
        let (server, path) = try startServer(for: harness, exerciseName: "passive range of motion")
        defer { server.stop() }
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        let client = try UnixSocketConnection.connect(path: path)
        XCTAssertTrue(client.writeLine("stop"))
        let line = try XCTUnwrap(client.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 3 * Nanoseconds.perSecond)))
        let reply = try XCTUnwrap(JSONParser.parse(line).objectValue)
        XCTAssertEqual(reply["ok"]?.boolValue, false)
        XCTAssertTrue(reply["error"]?.stringValue?.contains("queued for its first cycle") == true, line)
        XCTAssertTrue(client.writeLine("dance"))
        let unknown = try XCTUnwrap(client.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 3 * Nanoseconds.perSecond)))
        XCTAssertTrue(unknown.contains("unknown request"), unknown)
        let report = harness.session.run()
        harness.session.finish()
        let stop = try XCTUnwrap(report.transitions.first { $0.cause == .stopRequested })
        XCTAssertLessThanOrEqual(stop.cycle, 1, "the queued stop was taken at the start")
        XCTAssertTrue(client.writeLine("estop"))
        let ended = try XCTUnwrap(client.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 3 * Nanoseconds.perSecond)))
        XCTAssertTrue(ended.contains("the session has ended"), ended)
        client.close()
        server.stop()
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "removed on stop")
    }

    /// `rehabctl mode NAME`: the request reaches the loop, which reports the mode in force; only the
    /// exercise's modes are offered.
    func testModeRequestsSwitchTheModeInForce() throws {
        var exercise = RangeOfMotionExercise()
        exercise.mode = .activeAssist(TherapyModeTests.assistAsNeeded)
        exercise.otherModes = [.transparent(Transparency(frictionCompensation: 1, inertiaCompensation: 0.5))]
        let harness = try VirtualSessionHarness(durationSeconds: 1, exercise: exercise)
        XCTAssertEqual(harness.session.availableModes.map(\.name), ["active_assist", "transparent", "passive"])
        try harness.session.prepare()
        let (server, path) = try startServer(for: harness, exerciseName: "active-assist range of motion")
        defer { server.stop() }
        let client = try UnixSocketConnection.connect(path: path)
        defer { client.close() }
        func ask(_ line: String) throws -> JSONObject {
            XCTAssertTrue(client.writeLine(line))
            let reply = try XCTUnwrap(client.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 3 * Nanoseconds.perSecond)))
            return try XCTUnwrap(JSONParser.parse(reply).objectValue)
        }
        XCTAssertEqual(try ask("mode transparent")["mode"]?.stringValue, "transparent")
        XCTAssertEqual(harness.session.control.requestedModeIndex, 1)
        _ = harness.session.run()
        let status = server.statusObject(harness.session.statusBoard.snapshot())
        XCTAssertEqual(status["mode_in_force"]?.stringValue, "transparent", "the loop took the request")
        XCTAssertEqual(status["modes"]?.arrayValue?.compactMap(\.stringValue), ["active_assist", "transparent", "passive"])
        XCTAssertEqual(try ask("mode passive")["mode"]?.stringValue, "passive")
        XCTAssertEqual(harness.session.control.requestedModeIndex, 2)
        XCTAssertEqual(try ask("mode exercise")["mode"]?.stringValue, "active_assist", "exercise: the mode it started in")
        XCTAssertEqual(harness.session.control.requestedModeIndex, 0)
        let missing = try ask("mode active-resist")
        XCTAssertEqual(missing["ok"]?.boolValue, false)
        XCTAssertTrue(missing["error"]?.stringValue?.contains("its modes: active_assist, transparent, passive") == true, "\(missing)")
        XCTAssertEqual(harness.session.control.requestedModeIndex, 0, "a refused switch changes nothing")
        harness.session.finish()
    }

    func testAGroupSocketIs0660WithThatGroup() throws {
        let harness = try VirtualSessionHarness(durationSeconds: 1)
        let path = NSTemporaryDirectory() + "rehabhost-group-\(UUID().uuidString.prefix(8)).sock"
        let group = getgid()
        let server = try ControlServer(path: path, group: group, control: harness.session.control,
                                       statusBoard: harness.session.statusBoard, jointNames: [], exerciseName: "passive range of motion",
                                       modeNames: ["passive"])
        defer { server.stop() }
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o660)
        XCTAssertEqual(info.st_gid, group)
    }
}
