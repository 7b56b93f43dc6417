import Control
import DeviceModel
import Primitives
import RehabLinkSimulator
import XCTest

/// The patient model alone: tissue always, everything else only once the cue has started.
final class SimulatedPatientTests: XCTestCase {
    private func patient(_ parameters: SimulatedPatient.Parameters) -> SimulatedPatient {
        let exercise = RangeOfMotionExercise()
        return SimulatedPatient(parameters: parameters, cue: exercise.trajectory(from: .zeros(2), durationSeconds: 10),
                                cueJoint: 0, cueRange: exercise.rangeMinimumRadians...exercise.rangeMaximumRadians)
    }

    func testBeforeItsCueThePatientIsOnlyTissue() {
        var severe = patient(.strokeSevere)
        let before = severe.torques(joint: 0, at: MonotonicInstant(nanoseconds: 1_234_567), positionRadians: 0.1, velocityRadiansPerSecond: 2)
        XCTAssertEqual(before.voluntary, 0)
        XCTAssertEqual(before.spastic, 0, "no spasticity or catch before the exercise, even at speed")
        XCTAssertEqual(before.tremor, 0)
        XCTAssertEqual(before.passive, -2.0 * 0.1 - 0.05 * 2, accuracy: 1e-12)
        severe.startCue(at: .zero)
        let after = severe.torques(joint: 0, at: MonotonicInstant(nanoseconds: 1_234_567), positionRadians: 0.1, velocityRadiansPerSecond: 2)
        XCTAssertLessThan(after.spastic, -1.0 * 1.5, "velocity-dependent resistance and the catch act once it has started")
    }

    func testTheVoluntaryPullFollowsTheCueLateAndWithinStrength() {
        var healthy = patient(.healthy)
        healthy.startCue(at: .zero)
        // 1.5 s in, the cue is swinging toward +25°: a limb held at 0 is pulled positive, at most 2 N·m.
        let torques = healthy.torques(joint: 0, at: MonotonicInstant(nanoseconds: 1_500_000_000), positionRadians: 0, velocityRadiansPerSecond: 0)
        XCTAssertGreaterThan(torques.voluntary, 0)
        XCTAssertLessThanOrEqual(torques.voluntary, 2.0)
        var none = patient(.passive)
        none.startCue(at: .zero)
        XCTAssertEqual(none.torques(joint: 0, at: MonotonicInstant(nanoseconds: 1_500_000_000), positionRadians: 0, velocityRadiansPerSecond: 0).voluntary, 0)
    }
}
