import Control
import DeviceModel
import Primitives
import XCTest

final class MinimumJerkTests: XCTestCase {
    func testStartsAndEndsAtRestOnItsEndpoints() {
        let move = MinimumJerk(from: -0.2, to: 0.6, durationSeconds: 1.5)
        let start = move.sample(at: 0)
        let end = move.sample(at: 1.5)
        XCTAssertEqual(start.position, -0.2)
        XCTAssertEqual(end.position, 0.6)
        for point in [start, end, move.sample(at: -1), move.sample(at: 9)] {
            XCTAssertEqual(point.velocity, 0)
            XCTAssertEqual(point.acceleration, 0)
        }
        let nearEnd = move.sample(at: 1.5 - 1e-6)
        XCTAssertEqual(nearEnd.velocity, 0, accuracy: 1e-9)
        XCTAssertEqual(nearEnd.acceleration, 0, accuracy: 1e-4)
    }

    func testPeakVelocityIsAtMidpointAndMatchesTheClosedForm() {
        let move = MinimumJerk(from: 0, to: 0.8, durationSeconds: 2)
        let middle = move.sample(at: 1)
        XCTAssertEqual(middle.position, 0.4, accuracy: 1e-12)
        XCTAssertEqual(middle.velocity, 1.875 * 0.8 / 2, accuracy: 1e-12)
        XCTAssertEqual(move.peakVelocityRadiansPerSecond, middle.velocity, accuracy: 1e-12)
        XCTAssertEqual(middle.acceleration, 0, accuracy: 1e-12)
    }

    func testVelocityIsTheDerivativeOfPosition() {
        let move = MinimumJerk(from: 0.1, to: -0.5, durationSeconds: 0.7)
        for t in stride(from: 0.01, to: 0.69, by: 0.05) {
            let h = 1e-6
            let numeric = (move.sample(at: t + h).position - move.sample(at: t - h).position) / (2 * h)
            XCTAssertEqual(move.sample(at: t).velocity, numeric, accuracy: 1e-6)
            let numericAcceleration = (move.sample(at: t + h).velocity - move.sample(at: t - h).velocity) / (2 * h)
            XCTAssertEqual(move.sample(at: t).acceleration, numericAcceleration, accuracy: 1e-4)
        }
    }
}

final class WaypointTrajectoryTests: XCTestCase {
    private func list(_ values: [Double]) -> JointList<Double> {
        var list = JointList<Double>.zeros(values.count)
        for (index, value) in values.enumerated() { list[index] = value }
        return list
    }

    func testPassesThroughEveryWaypointAndHoldsBetweenMoves() {
        var trajectory = WaypointTrajectory(
            start: list([0.05, -0.1]),
            waypoints: [
                .init(positions: list([0.5, 0]), moveSeconds: 1, holdSeconds: 0.5),
                .init(positions: list([-0.5, 0]), moveSeconds: 2),
            ])
        XCTAssertEqual(trajectory.durationSeconds, 3.5)
        var sample = TrajectorySample(jointCount: 2)
        trajectory.sample(at: 0, into: &sample)
        XCTAssertEqual(sample.positions, list([0.05, -0.1]))
        trajectory.sample(at: 1.2, into: &sample)
        XCTAssertEqual(sample.positions, list([0.5, 0]))
        XCTAssertEqual(sample.velocities, list([0, 0]))
        trajectory.sample(at: 3.5, into: &sample)
        XCTAssertEqual(sample.positions, list([-0.5, 0]))
        trajectory.sample(at: 0.3, into: &sample)  // sampling backwards works too
        XCTAssertGreaterThan(sample.positions[0], 0.05)
        XCTAssertEqual(trajectory.peakVelocityRadiansPerSecond, 1.875 * 1.0 / 2, accuracy: 1e-12)
    }

    func testPositionIsContinuousAcrossSegmentBoundaries() {
        var trajectory = WaypointTrajectory(
            start: list([0]),
            waypoints: [.init(positions: list([0.3]), moveSeconds: 0.5), .init(positions: list([-0.3]), moveSeconds: 0.5)])
        var sample = TrajectorySample(jointCount: 1)
        var previous = 0.0
        for step in 0...1000 {
            trajectory.sample(at: Double(step) * 0.001, into: &sample)
            XCTAssertLessThan(abs(sample.positions[0] - previous), 0.003)
            previous = sample.positions[0]
        }
    }
}

final class ImpedanceControllerTests: XCTestCase {
    func testTorqueIsStiffnessTimesErrorPlusDampingPlusFeedForward() {
        var parameters = JointList(
            count: 1,
            repeating: ImpedanceController.JointParameters(
                stiffnessNewtonMetersPerRadian: 20, dampingNewtonMeterSecondsPerRadian: 0.5,
                inertiaKilogramSquareMeters: 0.01, viscousFrictionNewtonMeterSecondsPerRadian: 0.02,
                coulombFrictionNewtonMeters: 0))
        parameters[0].coulombFrictionNewtonMeters = 0
        let controller = ImpedanceController(joints: parameters)
        var target = TrajectorySample(jointCount: 1)
        target.positions[0] = 0.1
        target.velocities[0] = 0.2
        target.accelerations[0] = 3
        var measured = JointList(count: 1, repeating: JointMeasurement())
        measured[0].positionRadians = 0.05
        measured[0].velocityRadiansPerSecond = 0.1
        var actuation = JointList(count: 1, repeating: JointActuation.off)
        controller.compute(target: target, measured: measured, scale: 1, into: &actuation)
        let expected = 20 * 0.05 + 0.5 * 0.1 + 0.01 * 3 + 0.02 * 0.2
        XCTAssertEqual(actuation[0].mode, .torque)
        XCTAssertEqual(actuation[0].torqueNewtonMeters, expected, accuracy: 1e-12)
        controller.compute(target: target, measured: measured, scale: 0.5, into: &actuation)
        XCTAssertEqual(actuation[0].torqueNewtonMeters, expected / 2, accuracy: 1e-12)
    }

    func testRampInGoesSmoothlyFromZeroToOne() {
        let ramp = RampIn(durationSeconds: 0.5)
        XCTAssertEqual(ramp.scale(atSeconds: 0), 0)
        XCTAssertEqual(ramp.scale(atSeconds: 0.25), 0.5, accuracy: 1e-12)
        XCTAssertEqual(ramp.scale(atSeconds: 0.5), 1)
        XCTAssertEqual(ramp.scale(atSeconds: 2), 1)
    }
}

final class CommandClampTests: XCTestCase {
    private func clamp(slew: Double = 50) -> CommandClamp {
        CommandClamp(
            limits: JointList(count: 2, repeating: .init(torqueLimitNewtonMeters: 3, velocityLimitRadiansPerSecond: 1.5)),
            torqueSlewLimitNewtonMetersPerSecond: slew, periodSeconds: 0.001)
    }

    private let measured = JointList(count: 2, repeating: JointMeasurement())

    private func torques(_ a: Double, _ b: Double) -> JointList<JointActuation> {
        var list = JointList(count: 2, repeating: JointActuation.off)
        list[0] = JointActuation(mode: .torque, torqueNewtonMeters: a)
        list[1] = JointActuation(mode: .torque, torqueNewtonMeters: b)
        return list
    }

    func testNonFiniteAnywhereTurnsEveryJointOff() {
        var clamp = clamp()
        for bad in [Double.nan, .infinity, -.infinity] {
            var command = torques(0.01, bad)
            XCTAssertTrue(clamp.apply(to: &command, measured: measured).foundNonFinite)
            XCTAssertEqual(command[0], .off)
            XCTAssertEqual(command[1], .off)
        }
        var velocityNaN = JointList(count: 2, repeating: JointActuation(mode: .velocity, velocityRadiansPerSecond: .nan))
        XCTAssertTrue(clamp.apply(to: &velocityNaN, measured: measured).foundNonFinite)
    }

    func testTorqueIsLimitedAndSlewLimited() {
        var clamp = clamp(slew: 1_000_000)
        var command = torques(1e308, -9)
        XCTAssertTrue(clamp.apply(to: &command, measured: measured).limited)
        XCTAssertEqual(command[0].torqueNewtonMeters, 3)
        XCTAssertEqual(command[1].torqueNewtonMeters, -3)
        var slewed = self.clamp(slew: 50)
        var step = torques(2, 0)
        XCTAssertTrue(slewed.apply(to: &step, measured: measured).slewLimited)
        XCTAssertEqual(step[0].torqueNewtonMeters, 0.05, accuracy: 1e-12, "50 N·m/s × 1 ms")
        step = torques(2, 0)
        _ = slewed.apply(to: &step, measured: measured)
        XCTAssertEqual(step[0].torqueNewtonMeters, 0.10, accuracy: 1e-12)
    }

    func testTurningTorqueOffIsNeverSlewLimited() {
        var clamp = clamp(slew: 50)
        for _ in 0..<100 {
            var command = torques(2, 0)
            _ = clamp.apply(to: &command, measured: measured)
        }
        var off = JointList(count: 2, repeating: JointActuation.off)
        _ = clamp.apply(to: &off, measured: measured)
        XCTAssertEqual(off[0], .off)
    }

    /// SR-20: a patient's cap per direction, below the limit; it never raises the limit.
    func testAPatientsTorqueCapBindsPerDirection() {
        var clamp = CommandClamp(
            limits: JointList(count: 2, repeating: .init(
                torqueLimitNewtonMeters: 3, velocityLimitRadiansPerSecond: 1.5, torqueCapPositiveNewtonMeters: 1.0,
                torqueCapNegativeNewtonMeters: 5)),
            torqueSlewLimitNewtonMetersPerSecond: 1e6, periodSeconds: 0.001)
        var command = torques(2.5, -4)
        _ = clamp.apply(to: &command, measured: measured)
        XCTAssertEqual(command[0].torqueNewtonMeters, 1.0, "the positive cap")
        XCTAssertEqual(command[1].torqueNewtonMeters, -3.0, "a cap above the limit is the limit")
    }

    /// SR-21: toward a soft limit the joint may move at most √(2·a·d); past that no torque pushes it
    /// further that way (braking still may), and a velocity command is held to the envelope.
    func testNoPushTowardTheEndOfTheRangeFasterThanACat1CanStopInside() {
        var clamp = CommandClamp(
            limits: JointList(count: 2, repeating: .init(
                torqueLimitNewtonMeters: 3, velocityLimitRadiansPerSecond: 1.5, softMinimumRadians: -1, softMaximumRadians: 1)),
            torqueSlewLimitNewtonMetersPerSecond: 1e6, periodSeconds: 0.001, quickStopDecelerationRadiansPerSecondSquared: 20)
        var state = JointList(count: 2, repeating: JointMeasurement())
        state[0].positionRadians = 0.99  // 0.01 rad from the soft limit: envelope √(2·20·0.01) = 0.632 rad/s
        state[0].velocityRadiansPerSecond = 0.8
        state[1].positionRadians = 0.99
        state[1].velocityRadiansPerSecond = 0.5  // within the envelope
        var command = torques(1, 1)
        _ = clamp.apply(to: &command, measured: state)
        XCTAssertEqual(command[0].torqueNewtonMeters, 0, "too fast toward the limit: no more push")
        XCTAssertEqual(command[1].torqueNewtonMeters, 1, "within the envelope")
        command = torques(-1, -1)
        _ = clamp.apply(to: &command, measured: state)
        XCTAssertEqual(command[0].torqueNewtonMeters, -1, "braking is allowed")
        var velocities = JointList(count: 2, repeating: JointActuation(mode: .velocity, velocityRadiansPerSecond: 1.2))
        _ = clamp.apply(to: &velocities, measured: state)
        XCTAssertEqual(velocities[0].velocityRadiansPerSecond, (2 * 20 * 0.01).squareRoot(), accuracy: 1e-9)
    }

    func testVelocityCommandsAreLimited() {
        var clamp = clamp()
        var command = JointList(count: 2, repeating: JointActuation(mode: .velocity, velocityRadiansPerSecond: -7))
        _ = clamp.apply(to: &command, measured: measured)
        XCTAssertEqual(command[0].velocityRadiansPerSecond, -1.5)
    }
}
