import Control
import Primitives
import XCTest

/// SR-17's sign test as pure logic, cycle by cycle at 1 kHz, with a hand-driven joint.
final class DirectionCheckTests: XCTestCase {
    private func check() -> DirectionCheck {
        DirectionCheck(torqueLimits: JointList(count: 1, repeating: 3), countsPerRevolution: JointList(count: 1, repeating: 327_680))
    }

    /// Runs the check with a joint that moves `sign` × 1 mrad per cycle while pushed; `condition(cycle)` is the device's.
    private func run(sign: Double, condition: (Int) -> DeviceCondition = { _ in .enabled }) -> (DirectionCheck.Verdict, Int) {
        var test = check()
        var state = RobotState(jointCount: 1)
        var command = JointList(count: 1, repeating: JointActuation.off)
        for cycle in 0..<1_000 {
            state.condition = condition(cycle)
            let verdict = test.step(at: MonotonicInstant(nanoseconds: Int64(cycle) * 1_000_000), state: state, fresh: true, command: &command)
            if verdict != .running { return (verdict, cycle) }
            if command[0].torqueNewtonMeters > 0 {
                state.joints[0].positionRadians += sign * 0.001
                state.joints[0].velocityRadiansPerSecond = sign
            } else {
                state.joints[0].velocityRadiansPerSecond = 0
            }
        }
        return (.running, 1_000)
    }

    func testAJointThatFollowsThePushPasses() {
        XCTAssertEqual(run(sign: 1).0, .passed)
    }

    func testAJointThatMovesAgainstThePushIsReversed() {
        guard case .reversed(0, let radians) = run(sign: -1).0 else { return XCTFail("\(run(sign: -1))") }
        XCTAssertLessThan(radians, 0)
    }

    func testADeviceThatStopsItselfMidTestIsNotCalledReversed() {
        // The watchdog expires in cycle 3 (the host was held up): the joint stops following, the
        // verdict names the device stopping, in that same cycle, with every command off.
        let (verdict, cycle) = run(sign: 1) { $0 >= 3 ? [.enabled, .watchdogExpired] : .enabled }
        XCTAssertEqual(verdict, .deviceStopped(joint: 0))
        XCTAssertEqual(cycle, 3)
        let (disabled, _) = run(sign: 1) { $0 >= 2 ? [] : .enabled }
        XCTAssertEqual(disabled, .deviceStopped(joint: 0))
    }
}
