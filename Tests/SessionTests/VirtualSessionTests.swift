import Control
import DeviceModel
import Foundation
import Primitives
import RehabLinkSimulator
import Session
import XCTest

/// Whole sessions in virtual time: seconds of 1 kHz control in a fraction of a second.
final class VirtualSessionTests: XCTestCase {
    func testTenSecondSessionAtOneKilohertzTracksThePassiveExercise() throws {
        let harness = try VirtualSessionHarness(durationSeconds: 10)
        harness.simulator.placeJoint(0, atRadians: 0.1)
        try harness.session.prepare()
        let wallStart = Date()
        let report = harness.session.run()
        let wallSeconds = Date().timeIntervalSince(wallStart)
        harness.session.finish()
        print("10 s of 1 kHz control in \(String(format: "%.3f", wallSeconds)) s wall time; "
              + "RMS errors \(report.joints.map { String(format: "%.5f", $0.rmsTrackingErrorRadians) }) rad")
        XCTAssertEqual(report.finalState, .idle)
        XCTAssertTrue(report.safetyEvents.isEmpty, "\(report.safetyEvents)")
        XCTAssertNil(report.linkError)
        // 10 000 cycles of exercise plus the Cat 1 stop at the end.
        XCTAssertGreaterThanOrEqual(report.cycles, 10_000)
        XCTAssertLessThan(report.cycles, 10_250)
        XCTAssertEqual(report.overruns, 0, "virtual time has no late cycles")
        // SR-5 judges a state by its age: the first cycle's, from the end of the set-up 1 ms earlier,
        // is within SR-1's GOOD age (3 ms), so every cycle sent a COMMAND and saw its reply.
        let recorded = harness.session.blackBox.samples()
        XCTAssertGreaterThan(recorded.count, 5_000)
        XCTAssertEqual(recorded.filter { $0.wire != .command }.count, 0, "the last 5 s sent commands only")
        XCTAssertEqual(report.roundTrip.count, UInt64(report.cycles), "every command's reply was seen")
        // Tolerances: 0.01 rad (0.6°) RMS on the swinging joint; the held joint barely moves.
        XCTAssertLessThan(report.joints[0].rmsTrackingErrorRadians, 0.01)
        XCTAssertLessThan(report.joints[0].maxAbsTrackingErrorRadians, 0.03)
        XCTAssertLessThan(report.joints[1].rmsTrackingErrorRadians, 0.005)
        XCTAssertLessThanOrEqual(report.joints[0].maxAbsTorqueNewtonMeters, harness.profile.joints[0].torqueLimitNewtonMeters)
        // The joint really swung through the exercise range and came back to neutral.
        XCTAssertEqual(harness.simulator.plant(0).positionRadians, 0, accuracy: 0.02)
        XCTAssertFalse(harness.simulator.isEnabled, "the session disabled the device at the end")
        XCTAssertFalse(harness.simulator.isTorqueOn)
        XCTAssertLessThan(wallSeconds, 10, "a virtual-time session must run faster than real time")
    }

    func testTheSwingingJointCoversTheExerciseRangeAndTheOtherStaysNeutral() throws {
        let harness = try VirtualSessionHarness(durationSeconds: 8)
        try harness.session.prepare()
        let report = harness.session.run()
        harness.session.finish()
        let amplitude = RangeOfMotionExercise().rangeMaximumRadians
        XCTAssertEqual(report.joints[0].maximumPositionRadians, amplitude, accuracy: 0.01)
        XCTAssertEqual(report.joints[0].minimumPositionRadians, -amplitude, accuracy: 0.01)
        XCTAssertLessThan(report.joints[1].rangeOfMotionRadians, 0.005)
    }

    func testTwoAndFourKilohertzSessionsRunAndTrack() throws {
        for rate in [2_000.0, 4_000.0] {
            let harness = try VirtualSessionHarness(durationSeconds: 3, rateHertz: rate)
            try harness.session.prepare()
            let report = harness.session.run()
            harness.session.finish()
            XCTAssertEqual(report.finalState, .idle, "\(rate) Hz")
            XCTAssertGreaterThanOrEqual(report.cycles, Int64(3 * rate), "\(rate) Hz")
            XCTAssertLessThan(report.joints[0].rmsTrackingErrorRadians, 0.01, "\(rate) Hz")
        }
    }
}

/// What `rehabctl status` reads: the loop's status board after each cycle.
final class SessionStatusBoardTests: XCTestCase {
    func testTheStatusBoardShowsTheLastCycleItsJointsAndTheEnd() throws {
        let harness = try VirtualSessionHarness(durationSeconds: 1.5)
        try harness.session.prepare()
        let report = harness.session.run()
        let status = harness.session.statusBoard.snapshot()
        XCTAssertTrue(status.finished)
        XCTAssertEqual(status.cycle, report.cycles - 1)
        XCTAssertEqual(status.state, report.finalState)
        XCTAssertEqual(status.jointCount, 2)
        let last = try XCTUnwrap(harness.session.blackBox.samples().last)
        XCTAssertEqual(status.positionsRadians[0], last.positionsRadians[0])
        XCTAssertEqual(status.positionsRadians[1], last.positionsRadians[1])
        harness.session.finish()
    }
}
