import Primitives
import RehabLinkSimulator
import Wire
import XCTest

/// The simulated firmware does what the spec says a device must do on its own.
final class FirmwareBehaviourTests: XCTestCase {
    func testEnableArmsTheRequestedWatchdogAndAcknowledgesIt() throws {
        let harness = try SimulatorHarness()
        let ack = try XCTUnwrap(harness.enable(watchdogMicroseconds: 20_000).first?.acknowledgement)
        XCTAssertEqual(ack.result, .ok)
        XCTAssertEqual(ack.value, 20_000)
        XCTAssertTrue(harness.device.isEnabled)
        XCTAssertEqual(harness.send(.parameterGet(.watchdogPeriodMicroseconds)).first?.message,
                       .parameter(RehabLink.ParameterReport(parameter: .watchdogPeriodMicroseconds, result: .ok, value: 20_000)))
    }

    func testEnableRefusesAWatchdogOfZeroOrAboveTheRange() throws {
        let harness = try SimulatorHarness()
        XCTAssertEqual(harness.enable(watchdogMicroseconds: 0).first?.acknowledgement?.result, .refusedWatchdogPeriod)
        XCTAssertEqual(harness.enable(watchdogMicroseconds: 100_001).first?.acknowledgement?.result, .refusedWatchdogPeriod)
        XCTAssertFalse(harness.device.isEnabled)
    }

    func testWatchdogStopsTheJointWithinOnePeriodAfterTheLastCommand() throws {
        let harness = try SimulatorHarness()
        harness.enable(watchdogMicroseconds: 20_000)
        for _ in 0..<200 {  // 200 ms of 1 kHz torque commands: the joint accelerates gently
            harness.send(SimulatorHarness.torqueCommand([0.06, 0]))
            harness.wait(milliseconds: 1)
        }
        XCTAssertTrue(harness.device.isTorqueOn)
        XCTAssertGreaterThan(harness.device.plant(0).velocityRadiansPerSecond, 0.5)
        let lastCommand = harness.time.advanced(byNanoseconds: -1_000_000)
        _ = harness.device.takeEvents()
        let sent = harness.wait(milliseconds: 30)
        let stop = try XCTUnwrap(harness.device.takeEvents().first { $0.kind == .watchdogStop })
        let latency = stop.time.nanoseconds(since: lastCommand)
        XCTAssertGreaterThan(latency, 20_000_000, "not before the period")
        XCTAssertLessThanOrEqual(latency, 20_000_000 + 100_000, "within one inner-loop step after the period")
        XCTAssertFalse(harness.device.isTorqueOn)
        XCTAssertEqual(harness.device.plant(0).motorTorqueNewtonMeters, 0)
        XCTAssertEqual(sent.first?.message.type, .fault)
        let state = try XCTUnwrap(harness.send(.heartbeat).first?.state)
        XCTAssertTrue(state.status.contains(.watchdogExpired))
        XCTAssertFalse(state.status.contains(.torqueOn))
        // Latched: commands are refused until DISABLE + ENABLE.
        XCTAssertEqual(harness.send(SimulatorHarness.torqueCommand([0.3, 0])).map(\.message.type), [.error, .state])
        harness.send(.disable)
        XCTAssertEqual(harness.enable().first?.acknowledgement?.result, .ok)
    }

    func testNextDeadlineIsTheWatchdogExpiryWhileEnabledAndNoneOtherwise() throws {
        let harness = try SimulatorHarness()
        XCTAssertNil(harness.device.nextDeadline, "disabled: nothing to do without the host")
        harness.enable(watchdogMicroseconds: 20_000)
        harness.send(SimulatorHarness.torqueCommand([0.01, 0]))
        XCTAssertEqual(harness.device.nextDeadline, harness.time.advanced(byNanoseconds: 20_000_000 + 100_000))
        harness.wait(milliseconds: 25)
        XCTAssertTrue(harness.device.isWatchdogExpired)
        XCTAssertNil(harness.device.nextDeadline)
    }

    func testAResentCommandWithTheSameSequenceDoesNotFeedTheWatchdog() throws {
        let harness = try SimulatorHarness()
        harness.enable(watchdogMicroseconds: 20_000)
        harness.send(SimulatorHarness.torqueCommand([0.1, 0]), sequence: 500)
        for _ in 0..<30 {
            harness.send(SimulatorHarness.torqueCommand([0.1, 0]), sequence: 500)
            harness.wait(milliseconds: 1)
        }
        XCTAssertTrue(harness.device.isWatchdogExpired)
        // Resends at t0 … t0 + 20 ms (the period, inclusive) are stale; after that the device is expired.
        XCTAssertEqual(harness.device.rejectedCommandCount, 21)
    }

    func testHeartbeatsDoNotFeedTheWatchdog() throws {
        let harness = try SimulatorHarness()
        harness.enable(watchdogMicroseconds: 10_000)
        for _ in 0..<15 {
            harness.send(.heartbeat)
            harness.wait(milliseconds: 1)
        }
        XCTAssertTrue(harness.device.isWatchdogExpired)
    }

    func testOverSpeedLatchesAFaultAndCutsTorque() throws {
        let harness = try SimulatorHarness()
        harness.enable()
        for _ in 0..<300 {
            harness.send(SimulatorHarness.torqueCommand([1.0, 0]))
            harness.wait(milliseconds: 1)
        }
        XCTAssertEqual(harness.device.latchedFault, .overSpeed)
        XCTAssertFalse(harness.device.isTorqueOn)
        XCTAssertLessThan(harness.device.plant(0).velocityRadiansPerSecond, 3.0 * 1.2 + 0.1)
    }

    func testOutOfRangeCommandIsRejectedWholeAndNotApplied() throws {
        let harness = try SimulatorHarness()
        harness.enable()
        let replies = harness.send(SimulatorHarness.torqueCommand([4.5, 0]))  // rated 4 N·m
        XCTAssertEqual(replies.compactMap(\.protocolError).first?.code, .outOfRange)
        XCTAssertEqual(replies.last?.state?.commandSequence, 0, "nothing applied yet")
        harness.wait(milliseconds: 5)
        XCTAssertEqual(harness.device.plant(0).motorTorqueNewtonMeters, 0)
    }

    func testWrongJointCountIsRejected() throws {
        let harness = try SimulatorHarness()
        harness.enable()
        XCTAssertEqual(harness.send(SimulatorHarness.torqueCommand([0.1])).compactMap(\.protocolError).first?.code,
                       .jointCountMismatch)
    }

    func testEmergencyStopCutsTorqueBlocksEnableAndReleaseDoesNotRestart() throws {
        let harness = try SimulatorHarness()
        harness.enable()
        harness.send(SimulatorHarness.torqueCommand([0.3, 0]))
        harness.wait(milliseconds: 1)
        harness.device.pressEmergencyStop()
        XCTAssertFalse(harness.device.isTorqueOn)
        XCTAssertFalse(harness.device.isEnabled)
        let state = try XCTUnwrap(harness.send(.heartbeat).first?.state)
        XCTAssertTrue(state.status.contains(.emergencyStop))
        XCTAssertEqual(harness.enable().first?.acknowledgement?.result, .refusedEmergencyStop)
        harness.device.releaseEmergencyStop()
        harness.wait(milliseconds: 10)
        XCTAssertFalse(harness.device.isEnabled, "releasing the e-stop never re-enables")
        XCTAssertEqual(harness.enable().first?.acknowledgement?.result, .ok)
    }

    func testOverTemperatureLatchesAFaultThatResetOnlyClearsOnceCool() throws {
        let harness = try SimulatorHarness()
        harness.enable()
        harness.device.setTemperature(joint: 1, celsius: 95)
        let sent = harness.wait(milliseconds: 1)
        guard case .fault(let report) = sent.first?.message else { return XCTFail("no FAULT: \(sent)") }
        XCTAssertEqual(report.code, .overTemperature)
        XCTAssertEqual(report.joint, 1)
        XCTAssertEqual(report.value, 950, "the temperature that tripped it, in 0.1 °C")
        XCTAssertFalse(harness.device.isEnabled)
        XCTAssertEqual(harness.enable().first?.acknowledgement?.result, .refusedFault)
        XCTAssertEqual(harness.send(.faultReset).first?.acknowledgement?.value, Int32(RehabLink.FaultCode.overTemperature.rawValue),
                       "the cause persists: still latched")
        harness.device.setTemperature(joint: 1, celsius: 40)
        XCTAssertEqual(harness.send(.faultReset).first?.acknowledgement?.value, 0)
        XCTAssertEqual(harness.enable().first?.acknowledgement?.result, .ok)
    }

    func testFaultResetWhileEnabledIsRefused() throws {
        let harness = try SimulatorHarness()
        harness.enable()
        XCTAssertEqual(harness.send(.faultReset).first?.acknowledgement?.result, .refusedState)
    }

    func testParametersAreWritableOnlyWhileDisabledAndReadOnlyOnesRefuseWrites() throws {
        let harness = try SimulatorHarness()
        XCTAssertEqual(harness.send(.parameterSet(.positionStiffness, value: 12_000)).first?.message,
                       .parameter(RehabLink.ParameterReport(parameter: .positionStiffness, result: .ok, value: 12_000)))
        XCTAssertEqual(harness.send(.parameterSet(.watchdogPeriodMicroseconds, value: 5)).first?.message,
                       .parameter(RehabLink.ParameterReport(parameter: .watchdogPeriodMicroseconds, result: .readOnly, value: 0)))
        harness.enable()
        XCTAssertEqual(harness.send(.parameterSet(.positionStiffness, value: 1)).first?.message,
                       .parameter(RehabLink.ParameterReport(parameter: .positionStiffness, result: .notWhileEnabled, value: 12_000)))
        XCTAssertEqual(harness.send(.parameterGet(RehabLink.ParameterID(rawValue: 0x7777))).first?.message,
                       .parameter(RehabLink.ParameterReport(parameter: RehabLink.ParameterID(rawValue: 0x7777), result: .unknownParameter, value: 0)))
    }

    func testImpedanceModeHoldsTheJointAtItsSetPoint() throws {
        let harness = try SimulatorHarness()
        harness.device.placeJoint(0, atRadians: 0.25)
        harness.enable()
        var joints = JointList(count: 2, repeating: RehabLink.JointCommand.off)
        joints[0] = RehabLink.JointCommand(mode: .impedance, positionMicroradians: 300_000, stiffnessMillinewtonMetersPerRadian: 20_000,
                                     dampingMillinewtonMeterSecondsPerRadian: 500)
        for _ in 0..<1_500 {
            harness.send(.command(joints))
            harness.wait(milliseconds: 1)
        }
        // Coulomb friction 0.04 N·m against K = 20 N·m/rad leaves at most 2 mrad of error.
        XCTAssertEqual(harness.device.plant(0).positionRadians, 0.3, accuracy: 0.0025)
    }
}
