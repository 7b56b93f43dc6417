import Control
import DeviceModel
import Foundation
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

    /// A trembling limb in the robot: ±1.5° at 6 Hz (a severe tremor) on top of what the push does (a torque ramping in
    /// on an inertia: slow at first, 10 mrad after 30 ms). `watchNanoseconds`: the check's quiet watch.
    private func runTrembling(sign: Double, phase: Double, watchNanoseconds: Int64 = 250_000_000) -> DirectionCheck.Verdict {
        var test = DirectionCheck(torqueLimits: JointList(count: 1, repeating: 3), countsPerRevolution: JointList(count: 1, repeating: 327_680),
                                  watchNanoseconds: watchNanoseconds)
        var state = RobotState(jointCount: 1)
        state.condition = .enabled
        var command = JointList(count: 1, repeating: JointActuation.off)
        var pushed = 0.0
        var pushCycles = 0
        let amplitude = 1.5 * Units.radiansPerDegree
        for cycle in 0..<1_000 {
            let t = Double(cycle) * 0.001
            state.joints[0].positionRadians = pushed + amplitude * sin(2 * .pi * 6 * t + phase)
            state.joints[0].velocityRadiansPerSecond = 0
            let verdict = test.step(at: MonotonicInstant(nanoseconds: Int64(cycle) * 1_000_000), state: state, fresh: true, command: &command)
            if verdict != .running { return verdict }
            if command[0].mode == .torque && command[0].torqueNewtonMeters > 0 {
                pushCycles += 1
                let pushSeconds = Double(pushCycles) * 0.001
                pushed = sign * 10 * pushSeconds * pushSeconds
            }
        }
        return .running
    }

    func testATremorIsNotTakenForAReversedJointAndAReversedOneIsStillFound() {
        for phase in stride(from: 0.0, to: 2 * .pi, by: .pi / 4) {
            XCTAssertEqual(runTrembling(sign: 1, phase: phase), .passed, "tremor phase \(phase)")
            guard case .reversed = runTrembling(sign: -1, phase: phase) else {
                return XCTFail("phase \(phase): \(runTrembling(sign: -1, phase: phase))")
            }
        }
        // Why the watch is there: judged from the first sample, with the encoder's 0.1° as the
        // threshold, the same tremor reads as a reversed joint at some phases.
        let unwatched = stride(from: 0.0, to: 2 * .pi, by: .pi / 4).map { runTrembling(sign: 1, phase: $0, watchNanoseconds: 0) }
        XCTAssertTrue(unwatched.contains { if case .reversed = $0 { true } else { false } }, "\(unwatched)")
    }

    func testTheNoiseBandRaisesTheThresholdAndIsReported() {
        var test = check()
        var state = RobotState(jointCount: 1)
        state.condition = .enabled
        var command = JointList(count: 1, repeating: JointActuation.off)
        for cycle in 0..<250 {
            state.joints[0].positionRadians = cycle % 20 < 10 ? 0.004 : -0.002  // a 6 mrad twitch, by itself
            _ = test.step(at: MonotonicInstant(nanoseconds: Int64(cycle) * 1_000_000), state: state, fresh: true, command: &command)
            XCTAssertEqual(command[0], JointActuation(mode: .torque, torqueNewtonMeters: 0), "watched at zero torque, cycle \(cycle)")
        }
        for cycle in 250...251 {
            _ = test.step(at: MonotonicInstant(nanoseconds: Int64(cycle) * 1_000_000), state: state, fresh: true, command: &command)
        }
        XCTAssertEqual(test.noiseBands[0], 0.006, accuracy: 1e-12)
        XCTAssertEqual(test.effectiveThreshold(joint: 0), 0.0045, accuracy: 1e-12, "¾ of the band")
        XCTAssertGreaterThan(command[0].torqueNewtonMeters, 0, "then pushed")
    }
}
