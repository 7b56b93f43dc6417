import Control
import DeviceModel
import Primitives
import Session
import XCTest

final class RangeOfMotionExerciseTests: XCTestCase {
    private let exercise = RangeOfMotionExercise()

    private func positions(_ values: [Double]) -> JointList<Double> {
        var list = JointList<Double>.zeros(values.count)
        for (index, value) in values.enumerated() { list[index] = value }
        return list
    }

    private func extremes(_ trajectory: WaypointTrajectory) -> (min: Double, max: Double, peakSpeed: Double) {
        var copy = trajectory
        var sample = TrajectorySample(jointCount: trajectory.jointCount)
        var low = Double.infinity
        var high = -Double.infinity
        var speed = 0.0
        for step in 0...Int(trajectory.durationSeconds * 1000) {
            copy.sample(at: Double(step) / 1000, into: &sample)
            low = min(low, sample.positions[0])
            high = max(high, sample.positions[0])
            for joint in 0..<trajectory.jointCount { speed = max(speed, abs(sample.velocities[joint])) }
        }
        return (low, high, speed)
    }

    func testEveryDurationIsFilledExactlyAndEndsAtNeutral() {
        for duration in [0.05, 0.3, 1.5, 2.5, 9.5, 60] {
            var trajectory = exercise.trajectory(from: positions([0, 0]), durationSeconds: duration)
            XCTAssertEqual(trajectory.durationSeconds, duration, accuracy: 1e-9, "\(duration) s")
            var end = TrajectorySample(jointCount: 2)
            trajectory.sample(at: duration, into: &end)
            XCTAssertEqual(end.positions[0], 0, accuracy: 1e-12, "\(duration) s")
        }
    }

    func testLongSessionsSwingThroughTheFullAmplitude() {
        let range = extremes(exercise.trajectory(from: positions([0, 0]), durationSeconds: 9.5))
        XCTAssertEqual(range.max, exercise.rangeMaximumRadians, accuracy: 1e-9)
        XCTAssertEqual(range.min, exercise.rangeMinimumRadians, accuracy: 1e-9)
        XCTAssertLessThanOrEqual(range.peakSpeed, exercise.peakVelocityRadiansPerSecond + 1e-6)
    }

    func testShortSessionsStillMoveButNeverFasterThanTheExercise() {
        let range = extremes(exercise.trajectory(from: positions([0, 0]), durationSeconds: 1.5))
        XCTAssertGreaterThan(range.max, 0.1, "a 1.5 s session still moves the joint")
        XCTAssertLessThanOrEqual(range.peakSpeed, exercise.peakVelocityRadiansPerSecond + 1e-6)
    }

    func testJointsAwayFromNeutralAreBroughtBackAtTheCentringSpeed() {
        var trajectory = exercise.trajectory(from: positions([0.8, -0.6]), durationSeconds: 12)
        let centring = trajectory.waypoints[0]
        XCTAssertEqual(centring.positions, positions([0, 0]))
        var sample = TrajectorySample(jointCount: 2)
        var peak = 0.0
        for step in 0...Int(centring.moveSeconds * 1000) {
            trajectory.sample(at: Double(step) / 1000, into: &sample)
            peak = max(peak, abs(sample.velocities[0]), abs(sample.velocities[1]))
        }
        XCTAssertLessThanOrEqual(peak, exercise.centeringSpeedRadiansPerSecond + 1e-6)
        XCTAssertGreaterThan(peak, exercise.centeringSpeedRadiansPerSecond * 0.99, "and not needlessly slower")
    }

    /// A plan resumed near its end (after a pause or a FAIR link) with little time left still brings
    /// the joint home at the centring speed, taking longer than asked rather than flinging it.
    func testLittleTimeLeftNeverMakesTheWayHomeFasterThanTheCentringSpeed() {
        for seconds in [0.05, 0.2, 0.6] {
            var trajectory = exercise.trajectory(from: positions([0.39, 0]), durationSeconds: seconds)
            var sample = TrajectorySample(jointCount: 2)
            var peak = 0.0
            for step in 0...Int(trajectory.durationSeconds * 1000) {
                trajectory.sample(at: Double(step) / 1000, into: &sample)
                peak = max(peak, abs(sample.velocities[0]))
            }
            XCTAssertLessThanOrEqual(peak, exercise.centeringSpeedRadiansPerSecond + 1e-6, "\(seconds) s left")
            XCTAssertEqual(sample.positions[0], 0, accuracy: 1e-9, "home at the end")
        }
    }
}
