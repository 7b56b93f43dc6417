import Control
import Primitives
import XCTest

/// The mirror target, cycle by cycle, without a robot: what it does with jumps, gaps, hidden
/// frames and references beyond the exercise's range.
final class MirrorFollowerTests: XCTestCase {
    private let mirror = Mirror(scale: -1, offsetRadians: 0.1, maximumSpeedRadiansPerSecond: 1, maximumRmsErrorMillimeters: 1)
    private let period = 0.001

    private func sample(_ counter: UInt32, at milliseconds: Int64, position: Double, visible: Bool = true) -> ReferenceSample {
        var sample = ReferenceSample()
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

    func testAJumpInTheReferenceBecomesARampAtTheModesSpeed() {
        var follower = MirrorFollower(mirror: mirror, startPositionRadians: 0)
        let jumped = sample(0, at: 0, position: -0.4)  // maps to 0.5 rad
        var largestStep = 0.0
        var previous = 0.0
        for cycle in 0..<400 {
            follower.follow(jumped, now: MonotonicInstant(nanoseconds: Int64(cycle) * 1_000_000), range: -1...1, periodSeconds: period)
            largestStep = max(largestStep, abs(follower.positionRadians - previous))
            previous = follower.positionRadians
        }
        XCTAssertEqual(largestStep, mirror.maximumSpeedRadiansPerSecond * period, accuracy: 1e-12, "1 rad/s at most")
        XCTAssertEqual(follower.positionRadians, 0.4, accuracy: 1e-9, "400 ms at 1 rad/s: still on its way to 0.5")
        XCTAssertEqual(follower.velocityRadiansPerSecond, 1, accuracy: 1e-9)
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
        follower.follow(ReferenceSample(), now: .zero, range: -1...1, periodSeconds: period)
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
        // The stream stops: the target runs on for two frames (20 ms) at most, then holds.
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
        XCTAssertNil(ReferenceSample().trackerStatus(at: .zero), "nothing received: no status (SR-15 trips on that)")
    }
}
