import Control
import Primitives
import RehabLinkSimulator
import Session
import XCTest

/// A second robot that is not a wrist (hardware/ankle-trainer.json: ten times the torque and
/// inertia, asymmetric ranges): the same profile loader, simulator, session and interlocks serve it.
final class SecondRobotTests: XCTestCase {
    func testTheAnkleTrainerRunsThePassiveExerciseWithinTolerance() throws {
        let harness = try VirtualSessionHarness(durationSeconds: 6, profileName: "ankle-trainer")
        XCTAssertEqual(harness.profile.joints.map(\.name), ["dorsi_plantarflexion", "inversion_eversion"])
        try harness.session.prepare()
        let report = harness.session.run()
        harness.session.finish()
        XCTAssertEqual(report.finalState, .idle)
        XCTAssertTrue(report.safetyEvents.isEmpty, "\(report.safetyEvents)")
        XCTAssertEqual(report.joints[0].rangeOfMotionRadians, 50 * Units.radiansPerDegree, accuracy: 0.5 * Units.radiansPerDegree)
        XCTAssertLessThan(report.joints[0].rmsTrackingErrorRadians, 0.2 * Units.radiansPerDegree)
        XCTAssertGreaterThan(report.joints[0].maxAbsTorqueNewtonMeters, 0.3, "a heavier foot plate needs more torque than the wrist")
    }

    func testTheAnklesOwnInteractionTripStopsAPushAgainstIt() throws {
        // 20 N·m against the dorsiflexion joint: above its 18 N·m trip (the wrist's is 2.4 N·m).
        let harness = try VirtualSessionHarness(durationSeconds: 4, profileName: "ankle-trainer")
        try harness.session.prepare()
        harness.link.inject([InjectedFault(.externalTorque(joint: 0, newtonMeters: -20, rampMilliseconds: 200), .afterEnableMilliseconds(1_500))])
        let report = harness.session.run()
        let trip = try XCTUnwrap(report.safetyEvents.first, "\(report.transitions.map(\.cause))")
        XCTAssertTrue([SafetyCause.interactionTorque, .interactionTorqueSevere].contains(trip.cause), "\(trip.cause)")
        XCTAssertEqual(trip.joint, 0)
        XCTAssertGreaterThan(trip.value, 18)
    }

    func testTheAnkleExerciseMustFitItsAsymmetricRange() throws {
        // Dorsiflexion ends at 32° (soft limit 27°): a ±30° swing cannot be planned.
        XCTAssertThrowsError(try VirtualSessionHarness(
            durationSeconds: 2, exercise: RangeOfMotionExercise(amplitudeRadians: 30 * Units.radiansPerDegree), profileName: "ankle-trainer")
        ) { error in
            XCTAssertTrue("\(error)".contains("is beyond the soft limits of dorsi_plantarflexion"), "\(error)")
        }
    }
}

/// SR-17's direction test, when the host is held up longer than the device watchdog in the middle of
/// it: the device stops itself (SR-3) and the refusal says so, instead of blaming the wiring.
final class DirectionTestStallTests: XCTestCase {
    func testAHostStallDuringTheDirectionTestIsNamedAsSuch() throws {
        let harness = try VirtualSessionHarness(durationSeconds: 2)
        let clock = harness.clock
        let start = clock.now()
        // 30 ms stalls (the watchdog is 20 ms) every 50 ms from the end of the link check on.
        for milliseconds in stride(from: 300, through: 1_500, by: 50) {
            harness.link.at(start.advanced(byNanoseconds: Int64(milliseconds) * 1_000_000)) { clock.advance(byNanoseconds: 30_000_000) }
        }
        XCTAssertThrowsError(try harness.session.prepare()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("the host or the link was held up"), text)
            XCTAssertFalse(text.contains("wiring"), "a stall is not blamed on the wiring: \(text)")
        }
    }
}
