import Control
import DeviceModel
import Primitives
import XCTest

/// The mirror target, cycle by cycle, without a robot: what it does with jumps, gaps, hidden
/// frames and references beyond the exercise's range.
final class MirrorFollowerTests: XCTestCase {
    private let mirror = Mirror(scale: -1, offsetRadians: 0.1, maximumSpeedRadiansPerSecond: 1, maximumRmsErrorMillimeters: 1)
    private let period = 0.001

    private func sample(_ counter: UInt32, at milliseconds: Int64, position: Double, visible: Bool = true) -> TrackerSample {
        var sample = TrackerSample()
        sample.frameCounter = counter
        sample.receivedAt = MonotonicInstant(nanoseconds: milliseconds * 1_000_000)
        sample.framePeriodNanoseconds = 10_000_000
        sample.positionRadians = position
        sample.toolVisible = visible
        sample.samplesReceived = Int64(counter) + 1
        return sample
    }

    func testTheMappingAndItsInverse() {
        XCTAssertEqual(mirror.mapped(0.3), -0.2, accuracy: 1e-12)
        XCTAssertEqual(mirror.mapped(mirror.referencePosition(forTarget: 0.42)), 0.42, accuracy: 1e-12)
    }

    func testAJumpInTheReferenceBecomesARampAtTheModesSpeedAndAcceleration() {
        // Before R3 this ramp started at full speed in the first cycle (0.4 rad after 400 ms); now it
        // speeds up at 4 rad/s² (1 rad/s reached in 0.25 s, the default), cruises, and brakes onto the reference.
        XCTAssertEqual(mirror.maximumAccelerationRadiansPerSecondSquared, 4, accuracy: 1e-12, "default: full speed in 0.25 s")
        var follower = MirrorFollower(mirror: mirror, startPositionRadians: 0)
        let jumped = sample(0, at: 0, position: -0.4)  // maps to 0.5 rad
        var largestStep = 0.0
        var largestSpeedChange = 0.0
        var previous = 0.0
        var previousVelocity = 0.0
        for cycle in 0..<400 {
            follower.follow(jumped, now: MonotonicInstant(nanoseconds: Int64(cycle) * 1_000_000), range: -1...1, periodSeconds: period)
            largestStep = max(largestStep, abs(follower.positionRadians - previous))
            largestSpeedChange = max(largestSpeedChange, abs(follower.velocityRadiansPerSecond - previousVelocity))
            previous = follower.positionRadians
            previousVelocity = follower.velocityRadiansPerSecond
        }
        XCTAssertEqual(largestStep, mirror.maximumSpeedRadiansPerSecond * period, accuracy: 1e-12, "1 rad/s at most")
        XCTAssertLessThanOrEqual(largestSpeedChange, mirror.maximumAccelerationRadiansPerSecondSquared * period * (1 + 1e-9), "4 rad/s² at most")
        // 250 cycles speeding up by 4 mrad/s each (0.1255 rad), then 150 at 1 rad/s (0.15 rad).
        XCTAssertEqual(follower.positionRadians, 0.2755, accuracy: 1e-6, "400 ms: still on its way to 0.5")
        XCTAssertEqual(follower.velocityRadiansPerSecond, 1, accuracy: 1e-9)
        var farthest = follower.positionRadians
        for cycle in 400..<1_500 {
            follower.follow(jumped, now: MonotonicInstant(nanoseconds: Int64(cycle) * 1_000_000), range: -1...1, periodSeconds: period)
            farthest = max(farthest, follower.positionRadians)
        }
        XCTAssertEqual(follower.positionRadians, 0.5, accuracy: 1e-9, "it ends on the reference")
        XCTAssertLessThanOrEqual(farthest, 0.5 + 1e-9, "braked in time: no overshoot")
        XCTAssertEqual(follower.velocityRadiansPerSecond, 0, accuracy: 1e-9)
    }

    /// Review R3: one 0.6 rad jump in an otherwise steady 100 Hz stream stepped the target's speed
    /// from 0 to 1.047 rad/s in one cycle, and the joint overshot to 2.17 rad/s (SR-8's Cat 0 trip is
    /// 2.25). The target must respect the speed and the acceleration in every cycle and end on the
    /// new reference without passing it.
    func testAStepInALiveStreamNeverExceedsTheSpeedOrTheAccelerationAndEndsOnTheReference() {
        let sixtyDegreesPerSecond = 60 * Double.pi / 180
        let mirrors = [
            Mirror(scale: 1, offsetRadians: 0, maximumSpeedRadiansPerSecond: sixtyDegreesPerSecond, maximumRmsErrorMillimeters: 1),
            Mirror(scale: -1, offsetRadians: 0, maximumSpeedRadiansPerSecond: sixtyDegreesPerSecond, maximumRmsErrorMillimeters: 1,
                   maximumAccelerationRadiansPerSecondSquared: 2),
        ]
        for mirror in mirrors {
            let speed = mirror.maximumSpeedRadiansPerSecond
            let acceleration = mirror.maximumAccelerationRadiansPerSecondSquared
            let target = mirror.mapped(0.6)
            let outward: Double = target < 0 ? -1 : 1
            var follower = MirrorFollower(mirror: mirror, startPositionRadians: 0)
            var largestAcceleration = 0.0
            var largestSpeed = 0.0
            var farthestPastTarget = -Double.infinity
            var arrivedAtMilliseconds: Int64?
            var previousVelocity = 0.0
            for milliseconds: Int64 in 0..<4_000 {
                // A frame every 10 ms; the reference jumps from 0 to 0.6 rad at 500 ms and stays there.
                let frame = milliseconds / 10
                let position = milliseconds < 500 ? 0 : 0.6
                follower.follow(sample(UInt32(frame), at: frame * 10, position: position),
                                now: MonotonicInstant(nanoseconds: milliseconds * 1_000_000), range: -1.5...1.5, periodSeconds: period)
                largestAcceleration = max(largestAcceleration, abs(follower.velocityRadiansPerSecond - previousVelocity) / period)
                largestSpeed = max(largestSpeed, abs(follower.velocityRadiansPerSecond))
                farthestPastTarget = max(farthestPastTarget, (follower.positionRadians - target) * outward)
                if arrivedAtMilliseconds == nil, abs(follower.positionRadians - target) < 1e-6 { arrivedAtMilliseconds = milliseconds }
                previousVelocity = follower.velocityRadiansPerSecond
            }
            XCTAssertLessThanOrEqual(largestAcceleration, acceleration * (1 + 1e-9), "\(acceleration) rad/s² at most")
            XCTAssertLessThanOrEqual(largestSpeed, speed * (1 + 1e-12), "\(speed) rad/s at most")
            XCTAssertLessThanOrEqual(farthestPastTarget, 1e-6, "braked in time: no overshoot past the new reference")
            XCTAssertEqual(follower.positionRadians, target, accuracy: 1e-9)
            XCTAssertEqual(follower.velocityRadiansPerSecond, 0, accuracy: 1e-9)
            // Time-optimal within the limits: 0.6 rad at full speed plus the time to speed up (v/a);
            // a few cycles of discretisation either way, never much slower.
            let fastest = 0.6 / speed + speed / acceleration
            let arrived = Double(arrivedAtMilliseconds ?? .max) * 1e-3 - 0.5
            XCTAssertGreaterThanOrEqual(arrived, fastest - 0.01, "\(arrived) s")
            XCTAssertLessThanOrEqual(arrived, fastest + 0.05, "\(arrived) s")
        }
    }

    func testItBrakesToStopAtTheEndOfTheRangeWhileFollowingAFastLimb() {
        // A limb moving at 0.8 rad/s straight past the exercise's end: the target follows at the
        // limb's speed, then brakes (at most a·dt per cycle) to stop exactly at the end, never past it.
        var follower = MirrorFollower(mirror: Mirror(scale: 1, offsetRadians: 0, maximumSpeedRadiansPerSecond: 1, maximumRmsErrorMillimeters: 1),
                                      startPositionRadians: 0)
        var farthest = 0.0
        var largestSpeedChange = 0.0
        var previousVelocity = 0.0
        var fastest = 0.0
        for milliseconds: Int64 in 0..<2_000 {
            let frame = milliseconds / 10
            follower.follow(sample(UInt32(frame), at: frame * 10, position: 0.8 * Double(frame) * 0.010),
                            now: MonotonicInstant(nanoseconds: milliseconds * 1_000_000), range: -0.3...0.25, periodSeconds: period)
            farthest = max(farthest, follower.positionRadians)
            fastest = max(fastest, follower.velocityRadiansPerSecond)
            largestSpeedChange = max(largestSpeedChange, abs(follower.velocityRadiansPerSecond - previousVelocity))
            previousVelocity = follower.velocityRadiansPerSecond
        }
        XCTAssertGreaterThanOrEqual(fastest, 0.8, "it kept up with the limb on the way (catching up at up to 1 rad/s)")
        XCTAssertLessThanOrEqual(fastest, 1 + 1e-12)
        XCTAssertLessThanOrEqual(farthest, 0.25 + 1e-12, "never past the end of the range")
        XCTAssertLessThanOrEqual(largestSpeedChange, 4 * period * (1 + 1e-9))
        XCTAssertEqual(follower.positionRadians, 0.25, accuracy: 1e-9)
        XCTAssertEqual(follower.velocityRadiansPerSecond, 0, accuracy: 1e-9)
    }

    func testItStaysInsideTheExerciseRange() {
        var follower = MirrorFollower(mirror: mirror, startPositionRadians: 0)
        for cycle in 0..<2_000 {
            follower.follow(sample(UInt32(cycle / 10), at: Int64(cycle), position: -3), now: MonotonicInstant(nanoseconds: Int64(cycle) * 1_000_000),
                            range: -0.3...0.25, periodSeconds: period)
        }
        XCTAssertEqual(follower.positionRadians, 0.25, accuracy: 1e-12)
    }

    func testAHiddenOrMissingReferenceHoldsTheTarget() {
        var follower = MirrorFollower(mirror: mirror, startPositionRadians: 0.05)
        follower.follow(sample(3, at: 0, position: -0.2, visible: false), now: .zero, range: -1...1, periodSeconds: period)
        XCTAssertEqual(follower.positionRadians, 0.05)
        follower.follow(TrackerSample(), now: .zero, range: -1...1, periodSeconds: period)
        XCTAssertEqual(follower.positionRadians, 0.05)
        XCTAssertEqual(follower.velocityRadiansPerSecond, 0)
    }

    func testExtrapolationCoversTheSamplesAgeButNeverMoreThanTwoFrames() {
        // A limb moving at 0.5 rad/s, seen at 100 Hz: the target is where the limb is now, not where it was.
        var follower = MirrorFollower(mirror: Mirror(scale: 1, offsetRadians: 0, maximumSpeedRadiansPerSecond: 10, maximumRmsErrorMillimeters: 1),
                                      startPositionRadians: 0)
        for frame in 0..<50 {
            for cycle in 0..<10 {
                let now = Int64(frame * 10 + cycle)
                follower.follow(sample(UInt32(frame), at: Int64(frame * 10), position: 0.005 * Double(frame)),
                                now: MonotonicInstant(nanoseconds: now * 1_000_000), range: -1...1, periodSeconds: period)
            }
        }
        // Last frame 49 at 490 ms (0.245 rad), now 499 ms: the limb is at 0.2495 rad.
        XCTAssertEqual(follower.positionRadians, 0.2495, accuracy: 0.002)
        // The stream stops: the target runs on for two frames (20 ms) at most, then settles there
        // (braking at 40 rad/s² from 0.5 rad/s passes it by 3 mrad and comes back).
        for cycle in 0..<500 {
            follower.follow(sample(49, at: 490, position: 0.245), now: MonotonicInstant(nanoseconds: Int64(500 + cycle) * 1_000_000),
                            range: -1...1, periodSeconds: period)
        }
        XCTAssertEqual(follower.positionRadians, 0.245 + 0.5 * 0.020, accuracy: 0.002)
        XCTAssertEqual(follower.velocityRadiansPerSecond, 0, accuracy: 1e-9)
    }

    func testTheTrackerViewOfASample() {
        var frozen = sample(9, at: 100, position: 0)
        frozen.repeatedFrames = 3
        frozen.sourceLatencyNanoseconds = 3_000_000
        let status = try? XCTUnwrap(frozen.trackerStatus(at: MonotonicInstant(nanoseconds: 120_000_000)))
        XCTAssertEqual(status?.sampleAgeNanoseconds, 23_000_000, "received 20 ms ago, 3 ms old when sent")
        XCTAssertEqual(status?.frameCounterFrozen, true)
        XCTAssertNil(TrackerSample().trackerStatus(at: .zero), "nothing received: no status (SR-15 trips on that)")
    }
}
