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

    /// The cue keeps the plan's clock: held, the patient pulls toward where the cue stood, for as long
    /// as the hold lasts (not toward where a cue of their own would have gone on to); resumed, the
    /// cue goes on from there. Without this a healthy patient in a FAIR hold pushed 1.6 N·m into the
    /// held robot and was flung when it let go (the mode-transparent scenario on a stalled host).
    func testAHeldCueStandsStillAndMovesOnFromWhereItStood() {
        func seconds(_ value: Double) -> MonotonicInstant { MonotonicInstant(nanoseconds: Int64(value * 1e9)) }
        var free = patient(.healthy)
        free.startCue(at: .zero)
        var held = patient(.healthy)
        held.startCue(at: .zero)
        held.holdCue(at: seconds(1.0))
        let atHold = free.torques(joint: 0, at: seconds(1.0), positionRadians: 0.1, velocityRadiansPerSecond: 0).voluntary
        // 1.5 s later the free cue has moved on; the held one pulls exactly as at the hold, with no speed asked.
        let heldLater = held.torques(joint: 0, at: seconds(2.5), positionRadians: 0.1, velocityRadiansPerSecond: 0).voluntary
        let freeLater = free.torques(joint: 0, at: seconds(2.5), positionRadians: 0.1, velocityRadiansPerSecond: 0).voluntary
        XCTAssertNotEqual(atHold, freeLater, accuracy: 0.05, "the free cue moved on (else this test proves nothing)")
        var cue = RangeOfMotionExercise().trajectory(from: .zeros(2), durationSeconds: 10)
        var sample = TrajectorySample(jointCount: 2)
        cue.sample(at: 1.0, into: &sample)
        XCTAssertEqual(heldLater, min(2, max(-2, 8 * (sample.positions[0] - 0.1))), accuracy: 1e-9,
                       "a held cue, once seen, asks for its position at the hold and no speed")
        // Within a reaction time of the hold the patient still sees the cue moving.
        let reaction = SimulatedPatient.Parameters.healthy.reactionDelaySeconds
        cue.sample(at: 1.01 - reaction, into: &sample)
        XCTAssertEqual(held.torques(joint: 0, at: seconds(1.01), positionRadians: 0.1, velocityRadiansPerSecond: 0).voluntary,
                       min(2, max(-2, 8 * (sample.positions[0] - 0.1) + 0.25 * sample.velocities[0])), accuracy: 1e-9,
                       "the hold is seen a reaction time late")
        // Resumed at 2.5 s, the cue is 1.5 s behind the free one from then on.
        held.resumeCue(at: seconds(2.5))
        XCTAssertEqual(held.torques(joint: 0, at: seconds(3.2), positionRadians: 0.1, velocityRadiansPerSecond: 0).voluntary,
                       free.torques(joint: 0, at: seconds(1.7), positionRadians: 0.1, velocityRadiansPerSecond: 0).voluntary, accuracy: 1e-9)
        // A hold that arrives late (its instant already past) dates from its instant, not from its arrival.
        var late = patient(.healthy)
        late.startCue(at: .zero)
        _ = late.torques(joint: 0, at: seconds(1.2), positionRadians: 0.1, velocityRadiansPerSecond: 0)
        late.holdCue(at: seconds(1.0))
        XCTAssertEqual(late.torques(joint: 0, at: seconds(1.3), positionRadians: 0.1, velocityRadiansPerSecond: 0).voluntary, heldLater, accuracy: 1e-9)
    }

    /// Resumed with the plan the host made then (a centring move from where the wrist stood, then the
    /// repetitions left), the cue is that plan from the resume on, as the screen shows it: the same call
    /// the session made gives the intent exactly. Without it a healthy patient went on with the old
    /// swing, 0.25 rad or more off the robot's new plan, and both pushed 2 N·m against each other.
    func testAResumeWithTheHostsNewPlanFollowsThatPlan() {
        func seconds(_ value: Double) -> MonotonicInstant { MonotonicInstant(nanoseconds: Int64(value * 1e9)) }
        let exercise = RangeOfMotionExercise()
        var healthy = SimulatedPatient(
            parameters: .healthy, cue: exercise.trajectory(from: .zeros(2), durationSeconds: 10), cueJoint: 0,
            cueRange: exercise.rangeMinimumRadians...exercise.rangeMaximumRadians, exercise: exercise)
        var oldPlan = healthy
        healthy.startCue(at: .zero)
        oldPlan.startCue(at: .zero)
        healthy.holdCue(at: seconds(1.0))
        oldPlan.holdCue(at: seconds(1.0))
        var start = JointList<Double>.zeros(2)
        start[0] = 0.3
        let plan = PlanInputs(startPositionsRadians: start, durationSeconds: 6, repetitions: 2)
        healthy.resumeCue(at: seconds(2.0), plan: plan)
        oldPlan.resumeCue(at: seconds(2.0))
        var remaining = exercise
        remaining.repetitions = 2
        var expected = exercise.trajectory(from: .zeros(2), durationSeconds: 10)
        remaining.plan(from: start, durationSeconds: 6, into: &expected)
        var sample = TrajectorySample(jointCount: 2)
        let delay = SimulatedPatient.Parameters.healthy.reactionDelaySeconds
        for time in [2.3, 2.9, 4.0] {
            expected.sample(at: time - 2.0 - delay, into: &sample)
            let pull = 8 * (sample.positions[0] - 0.1) + 0.25 * (sample.velocities[0] - 0)
            let voluntary = healthy.torques(joint: 0, at: seconds(time), positionRadians: 0.1, velocityRadiansPerSecond: 0).voluntary
            XCTAssertEqual(voluntary, min(2, max(-2, healthy.fatigueFactor * pull)), accuracy: 1e-9, "at \(time) s the intent is the new plan's")
        }
        XCTAssertNotEqual(
            oldPlan.torques(joint: 0, at: seconds(2.3), positionRadians: 0.1, velocityRadiansPerSecond: 0).voluntary,
            healthy.torques(joint: 0, at: seconds(2.3), positionRadians: 0.1, velocityRadiansPerSecond: 0).voluntary, accuracy: 0.05,
            "the old plan's swing asks for something else (else this test proves nothing)")
    }
}
