import Primitives
import RehabLinkSimulator
import Wire
import XCTest

/// RehabLink 1.1 in the simulated firmware, with the host silent or dead: the SR-24 limits the host
/// wrote are enforced by the firmware alone, the joints hold locally after two missed command
/// periods, and the patient's buttons are reported (protocols/rehablink/README.md 5.4, 5.6.1, 5.15, 6.1).
final class FirmwareLimitTests: XCTestCase {
    func testTheTorqueCapBindsInVelocityModeSoACat1StopThroughTheVelocityLoopCannotExceedIt() throws {
        let harness = try SimulatorHarness()
        // A stiff velocity loop: from rest toward 2 rad/s it demands 2 × 2 = 4 N·m, braking from 2 rad/s −4 N·m.
        XCTAssertEqual(harness.send(.parameterSet(.velocityGain, value: 2_000)).first?.parameterReport?.result, .ok)
        XCTAssertEqual(harness.setLimit(.torqueCapPositive, joint: 0, 1_000)?.result, .ok)
        XCTAssertEqual(harness.setLimit(.torqueCapNegative, joint: 0, 800)?.result, .ok)
        harness.enable()
        var highest = -Double.infinity
        for _ in 0..<20 {
            harness.send(SimulatorHarness.velocityCommand([2.0, 0]))
            harness.step(milliseconds: 1) { highest = max(highest, harness.device.plant(0).motorTorqueNewtonMeters) }
        }
        XCTAssertEqual(highest, 1.0, accuracy: 1e-9, "the demand (up to 4 N·m) gets the 1 N·m cap, and no more")
        XCTAssertGreaterThan(harness.device.plant(0).velocityRadiansPerSecond, 1.5)
        // The Cat 1 stop: velocity 0 through the device's loop, as the host brakes (defect D2).
        var lowest = Double.infinity
        var limitedSeen = false
        for _ in 0..<30 {
            let replies = harness.send(SimulatorHarness.velocityCommand([0, 0]))
            limitedSeen = limitedSeen || replies.last?.state?.joints[0].flags.contains(.torqueLimited) == true
            harness.step(milliseconds: 1) { lowest = min(lowest, harness.device.plant(0).motorTorqueNewtonMeters) }
        }
        XCTAssertEqual(lowest, -0.8, accuracy: 1e-9, "braking gets the 0.8 N·m negative cap, not the 4 N·m the loop asks for")
        XCTAssertTrue(limitedSeen, "STATE flags the joint torque_limited while the cap binds")
        XCTAssertLessThan(abs(harness.device.plant(0).velocityRadiansPerSecond), 0.05, "and it still stops")
    }

    func testTheVelocityTripTheHostWroteCutsTorqueAndLatchesOverSpeed() throws {
        let harness = try SimulatorHarness()
        XCTAssertEqual(harness.setLimit(.velocityTrip, joint: 0, 0)?.result, .outOfRange, "a trip of 0 is no trip")
        XCTAssertEqual(harness.setLimit(.velocityTrip, joint: 0, 3_600_001)?.result, .outOfRange,
                       "the device's own cut (1.2 × 3 rad/s) can be lowered, never raised")
        XCTAssertEqual(harness.setLimit(.velocityTrip, joint: 0, 1_000_000)?.result, .ok)
        harness.enable()
        var fault: RehabLink.FaultReport?
        for _ in 0..<100 where fault == nil {
            harness.send(SimulatorHarness.torqueCommand([0.5, 0]))
            fault = harness.wait(milliseconds: 1).compactMap(\.faultReport).first
        }
        let report = try XCTUnwrap(fault, "no over-speed trip within 100 ms")
        XCTAssertEqual(report.code, .overSpeed)
        XCTAssertEqual(report.joint, 0)
        XCTAssertGreaterThan(report.value, 1_000_000)
        XCTAssertLessThan(report.value, 1_050_000, "at the written 1 rad/s, not at the device's own 3.6 rad/s")
        XCTAssertEqual(harness.device.latchedFault, .overSpeed)
        XCTAssertFalse(harness.device.isTorqueOn)
        XCTAssertFalse(harness.device.isEnabled, "latched: torque stays off until FAULT_RESET")
        harness.wait(milliseconds: 1)  // the drive's torque falls at the next inner-loop step
        XCTAssertEqual(harness.device.plant(0).motorTorqueNewtonMeters, 0)
    }

    func testPastASoftLimitTorqueOutwardIsRefusedAndTorqueInwardAllowed() throws {
        let harness = try SimulatorHarness()
        XCTAssertEqual(harness.setLimit(.softLimitMaximum, joint: 0, 200_000)?.result, .ok)
        XCTAssertEqual(harness.setLimit(.softLimitMinimum, joint: 1, -200_000)?.result, .ok)
        harness.device.placeJoint(0, atRadians: 0.3)
        harness.device.placeJoint(1, atRadians: -0.3)
        harness.enable()
        var largest = 0.0
        var limitedSeen = false
        for _ in 0..<50 {
            let replies = harness.send(SimulatorHarness.torqueCommand([0.5, -0.5]))  // both outward
            limitedSeen = limitedSeen || replies.last?.state?.joints[0].flags.contains(.torqueLimited) == true
            harness.step(milliseconds: 1) {
                largest = max(largest, abs(harness.device.plant(0).motorTorqueNewtonMeters), abs(harness.device.plant(1).motorTorqueNewtonMeters))
            }
        }
        XCTAssertEqual(largest, 0, "no torque pushes a joint further out past its soft limit")
        XCTAssertTrue(limitedSeen)
        XCTAssertEqual(harness.device.plant(0).positionRadians, 0.3, accuracy: 1e-6)
        XCTAssertEqual(harness.device.plant(1).positionRadians, -0.3, accuracy: 1e-6)
        // Back toward the range: allowed.
        // (Within 2 command periods: later the firmware's local hold takes over.)
        harness.send(SimulatorHarness.torqueCommand([-0.5, 0.5]))
        harness.wait(milliseconds: 1)
        XCTAssertEqual(harness.device.plant(0).motorTorqueNewtonMeters, -0.5, accuracy: 1e-9)
        XCTAssertEqual(harness.device.plant(1).motorTorqueNewtonMeters, 0.5, accuracy: 1e-9)
        XCTAssertLessThan(harness.device.plant(0).velocityRadiansPerSecond, 0)
        XCTAssertGreaterThan(harness.device.plant(1).velocityRadiansPerSecond, 0)
    }

    func testLimitParametersAreCheckedAgainstTheRatingAndWritableOnlyWhileDisabled() throws {
        let harness = try SimulatorHarness()
        XCTAssertEqual(harness.send(.parameterGet(.protocolMinor)).first?.parameterReport,
                       RehabLink.ParameterReport(parameter: .protocolMinor, result: .ok, value: 1))
        // Power-up values: the ratings of IDENTITY (and the device's own over-speed cut).
        XCTAssertEqual(harness.send(.parameterGet(RehabLink.JointLimitParameter.softLimitMinimum.id(joint: 0))).first?.parameterReport?.value, -1_221_730)
        XCTAssertEqual(harness.send(.parameterGet(RehabLink.JointLimitParameter.torqueCapNegative.id(joint: 1))).first?.parameterReport?.value, 3_000)
        XCTAssertEqual(harness.send(.parameterGet(RehabLink.JointLimitParameter.velocityTrip.id(joint: 0))).first?.parameterReport?.value, 3_600_000)
        XCTAssertEqual(harness.setLimit(.torqueCapPositive, joint: 0, 4_001)?.result, .outOfRange, "rated 4 N·m")
        XCTAssertEqual(harness.setLimit(.torqueCapNegative, joint: 1, -1)?.result, .outOfRange, "a magnitude")
        XCTAssertEqual(harness.setLimit(.softLimitMaximum, joint: 0, 1_221_731)?.result, .outOfRange, "beyond the hard limit")
        XCTAssertEqual(harness.setLimit(.softLimitMinimum, joint: 0, 1_221_730)?.result, .outOfRange, "not below the soft maximum")
        XCTAssertEqual(harness.setLimit(.softLimitMinimum, joint: 2, 0)?.result, .unknownParameter, "the wrist has joints 0 and 1")
        XCTAssertEqual(harness.send(.parameterSet(.protocolMinor, value: 2)).first?.parameterReport?.result, .readOnly)
        let refused = try XCTUnwrap(harness.setLimit(.torqueCapPositive, joint: 0, 4_001))
        XCTAssertEqual(refused.value, 4_000, "a refused write changes nothing; PARAM carries the value in effect")
        XCTAssertEqual(harness.setLimit(.torqueCapPositive, joint: 0, 2_500)?.result, .ok)
        harness.enable()
        XCTAssertEqual(harness.setLimit(.torqueCapPositive, joint: 0, 3_000), RehabLink.ParameterReport(
            parameter: RehabLink.JointLimitParameter.torqueCapPositive.id(joint: 0), result: .notWhileEnabled, value: 2_500))
        XCTAssertEqual(harness.device.jointLimit(.torqueCapPositive, joint: 0), 2_500)
    }

    func testARehabLink10FirmwareHasNeitherTheParametersNorTheHoldNorTheButtons() throws {
        var configuration = try SimulatorHarness.wristConfiguration()
        configuration.protocolMinorVersion = 0
        let harness = try SimulatorHarness(configuration: configuration)
        XCTAssertEqual(harness.send(.parameterGet(.protocolMinor)).first?.parameterReport?.result, .unknownParameter)
        XCTAssertEqual(harness.setLimit(.torqueCapPositive, joint: 0, 1_000)?.result, .unknownParameter)
        harness.device.pressPatientStop()
        XCTAssertEqual(harness.send(.heartbeat).first?.state?.status, RehabLink.StatusFlags(), "a 1.0 STATE never carries bits a 1.0 host rejects")
        harness.enable()
        for _ in 0..<10 {
            harness.send(SimulatorHarness.torqueCommand([0.06, 0]))
            harness.wait(milliseconds: 1)
        }
        harness.wait(milliseconds: 10)
        XCTAssertFalse(harness.device.isHoldingLocally, "1.0 keeps the last torque until the watchdog")
        XCTAssertEqual(harness.device.plant(0).motorTorqueNewtonMeters, 0.06, accuracy: 1e-9)
    }
}

final class LocalHoldTests: XCTestCase {
    /// 1 kHz torque commands for `milliseconds`; returns when the last one was sent.
    private func command(_ harness: SimulatorHarness, torques: [Double], milliseconds: Int) -> MonotonicInstant {
        var last = harness.time
        for _ in 0..<milliseconds {
            last = harness.time
            harness.send(SimulatorHarness.torqueCommand(torques))
            harness.wait(milliseconds: 1)
        }
        return last
    }

    func testAfterTwoMissedPeriodsTheFirmwareHoldsDampedAndCappedInsteadOfTheLastTorqueAndCutsAtTheWatchdog() throws {
        let harness = try SimulatorHarness()
        XCTAssertEqual(harness.setLimit(.torqueCapNegative, joint: 0, 250)?.result, .ok)
        harness.enable(watchdogMicroseconds: 20_000)
        let lastCommand = command(harness, torques: [0.06, 0], milliseconds: 200)  // the joint is moving, ~0.59 rad/s
        XCTAssertEqual(harness.device.commandPeriodNanoseconds, 1_000_000, "the host's period, measured")
        let moving = harness.device.plant(0).velocityRadiansPerSecond
        XCTAssertGreaterThan(moving, 0.5)
        _ = harness.device.takeEvents()
        // The host goes silent. Sample every inner step up to the watchdog and past it.
        var samples: [(elapsed: Int64, torque: Double, velocity: Double, position: Double)] = []
        harness.step(milliseconds: 21) {
            let plant = harness.device.plant(0)
            samples.append((harness.time.nanoseconds(since: lastCommand), plant.motorTorqueNewtonMeters, plant.velocityRadiansPerSecond,
                            plant.positionRadians))
        }
        let events = harness.device.takeEvents()
        let hold = try XCTUnwrap(events.first { $0.kind == .localHold }, "no local hold: \(events.map(\.kind))")
        XCTAssertGreaterThan(hold.time.nanoseconds(since: lastCommand), 2_000_000, "not before two periods")
        XCTAssertLessThanOrEqual(hold.time.nanoseconds(since: lastCommand), 2_100_000, "within one inner step after them")
        let held = samples.filter { $0.elapsed > 2_100_000 && $0.elapsed <= 20_000_000 }
        XCTAssertFalse(held.contains { abs($0.torque - 0.06) < 1e-9 }, "never the last commanded torque again")
        XCTAssertGreaterThanOrEqual(held.map { $0.torque }.min() ?? 0, -0.25 - 1e-9, "capped by the SR-24 cap")
        let early = try XCTUnwrap(held.first { $0.elapsed >= 3_000_000 })
        XCTAssertEqual(early.torque, -0.25, accuracy: 1e-9, "damping opposes the motion, at the cap")
        let late = try XCTUnwrap(held.last)
        XCTAssertLessThan(abs(late.velocity), 0.1 * moving, "damped: the joint has stopped instead of coasting on")
        XCTAssertLessThan(late.position - held[0].position, 0.005, "held near where the hold began")
        // Cat 0 at W stays.
        let stop = try XCTUnwrap(events.first { $0.kind == .watchdogStop })
        XCTAssertGreaterThan(stop.time.nanoseconds(since: lastCommand), 20_000_000)
        XCTAssertLessThanOrEqual(stop.time.nanoseconds(since: lastCommand), 20_100_000)
        XCTAssertTrue(events.contains { $0.kind == .localHoldEnded && $0.time == stop.time }, "the hold ends with the watchdog")
        XCTAssertFalse(harness.device.isTorqueOn)
        XCTAssertEqual(samples.last?.torque, 0)
    }

    func testTheNextCommandEndsTheHoldAndOneLateCommandDoesNotMoveThePeriod() throws {
        let harness = try SimulatorHarness()
        harness.enable(watchdogMicroseconds: 20_000)
        _ = command(harness, torques: [0.02, 0], milliseconds: 10)
        harness.wait(milliseconds: 3)  // one late command: 4 ms after the previous one
        XCTAssertTrue(harness.device.isHoldingLocally)
        harness.send(SimulatorHarness.torqueCommand([0.02, 0]))
        XCTAssertFalse(harness.device.isHoldingLocally)
        XCTAssertEqual(harness.device.takeEvents().map(\.kind).filter { $0 == .localHold || $0 == .localHoldEnded }, [.localHold, .localHoldEnded])
        harness.wait(milliseconds: 0.5)
        XCTAssertEqual(harness.device.plant(0).motorTorqueNewtonMeters, 0.02, accuracy: 1e-9, "the host's set-points again, at once")
        XCTAssertEqual(harness.device.commandPeriodNanoseconds, 1_000_000, "the median ignores the one late interval")
    }

    func testAJointTheHostSwitchedOffIsNeverGivenTorqueBackByAHold() throws {
        let harness = try SimulatorHarness()
        harness.enable(watchdogMicroseconds: 20_000)
        _ = command(harness, torques: [0.02, 0], milliseconds: 10)
        var joints = JointList(count: 2, repeating: RehabLink.JointCommand.off)
        for _ in 0..<5 {
            harness.send(.command(joints))
            harness.wait(milliseconds: 1)
        }
        harness.wait(milliseconds: 10)
        XCTAssertFalse(harness.device.takeEvents().contains { $0.kind == .localHold }, "all joints off: nothing to hold")
        XCTAssertEqual(harness.device.plant(0).motorTorqueNewtonMeters, 0)
        // One joint off, one held: only the powered one holds.
        joints[1] = RehabLink.JointCommand(mode: .torque, torqueMillinewtonMeters: 10)
        for _ in 0..<5 {
            harness.send(.command(joints))
            harness.wait(milliseconds: 1)
        }
        harness.wait(milliseconds: 3)
        XCTAssertTrue(harness.device.isHoldingLocally)
        XCTAssertEqual(harness.device.plant(0).motorTorqueNewtonMeters, 0, "off stays off")
    }

    func testNextDeadlineIsTheHoldOnceThePeriodIsKnown() throws {
        let harness = try SimulatorHarness()
        harness.enable(watchdogMicroseconds: 20_000)
        let last = command(harness, torques: [0.02, 0], milliseconds: 5)
        XCTAssertEqual(harness.device.nextDeadline, last.advanced(byNanoseconds: 2_000_000 + 100_000),
                       "rehabsim wakes for the hold, not only for the watchdog")
        harness.wait(milliseconds: 2)
        XCTAssertTrue(harness.device.isHoldingLocally)
        XCTAssertEqual(harness.device.nextDeadline, last.advanced(byNanoseconds: 20_000_000 + 100_000))
    }
}

final class PatientButtonTests: XCTestCase {
    func testAnInjectedPatientStopSetsItsBitInEveryStateWhileHeldAndTheFirmwareOnlyReportsIt() throws {
        let harness = try SimulatorHarness()
        harness.enable()
        harness.send(SimulatorHarness.torqueCommand([0.02, 0]))
        let injector = FaultInjector([InjectedFault(.pressPatientStop, .now, forMilliseconds: 5)])
        injector.update(device: harness.device, now: harness.time)
        for _ in 0..<4 {
            let state = try XCTUnwrap(harness.send(SimulatorHarness.torqueCommand([0.02, 0])).last?.state)
            XCTAssertTrue(state.status.contains(.patientStop))
            XCTAssertFalse(state.status.contains(.patientPause))
            XCTAssertTrue(state.status.contains(.torqueOn), "the firmware only reports it: the host stops (SR-22)")
            harness.wait(milliseconds: 1)
            injector.update(device: harness.device, now: harness.time)
        }
        harness.wait(milliseconds: 2)
        injector.update(device: harness.device, now: harness.time)
        XCTAssertFalse(try XCTUnwrap(harness.send(.heartbeat).first?.state).status.contains(.patientStop), "released after for_ms")
        let kinds = harness.device.takeEvents().map(\.kind)
        XCTAssertTrue(kinds.contains(.patientStop) && kinds.contains(.patientStopReleased), "\(kinds)")
    }

    func testLivePatientPauseAndItsReleaseParseLikeRehabsimInjectAndSetAndClearTheBit() throws {
        let harness = try SimulatorHarness()
        let injector = RehabLinkFaultInjector()
        let steps: [(line: String, bit: RehabLink.StatusFlags, pressed: Bool)] = [
            (#"{"kind":"patient_pause"}"#, .patientPause, true), (#"{"kind":"patient_pause_release"}"#, .patientPause, false),
            (#"{"kind":"patient_stop"}"#, .patientStop, true), (#"{"kind":"patient_stop_release"}"#, .patientStop, false),
        ]
        for step in steps {
            let fault = try FaultScript.parseLive(step.line, jointCount: 2).get()
            injector.add([fault])
            injector.update(device: harness.device, now: harness.time)
            let status = try XCTUnwrap(harness.send(.heartbeat).first?.state).status
            XCTAssertEqual(status, step.pressed ? step.bit : RehabLink.StatusFlags(), step.line)
        }
        if case .success = FaultScript.parseLive(#"{"kind":"patient_stop_release","for_ms":10}"#, jointCount: 2) {
            XCTFail("a release cannot end by itself")
        }
    }
}
