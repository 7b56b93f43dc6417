import Control
import Devices
import Primitives
import RehabLinkSimulator
import Session
import Wire
import XCTest

/// The first supervisor through the whole stack (driver, codec, simulated firmware), in virtual time:
/// each test injects its fault and checks the safe outcome and when it happened.
final class FirstSupervisorTests: XCTestCase {
    private let second: Int64 = 1_000_000_000

    /// Runs a session with `faults` (their times count from the device's enable).
    private func run(_ faults: [InjectedFault], duration: Double = 6) throws -> (SessionReport, VirtualSessionHarness) {
        let harness = try VirtualSessionHarness(durationSeconds: duration)
        try harness.session.prepare()
        harness.link.inject(faults)
        let report = harness.session.run()
        harness.session.finish()
        return (report, harness)
    }

    func testSR1MuteDeviceMidSessionStopsCat1AfterThreeSilentCyclesThenCat0At20Milliseconds() throws {
        let (report, harness) = try run([InjectedFault(.dropReplies, .afterEnableMilliseconds(3_000))])
        let events = report.safetyEvents
        XCTAssertEqual(events.map(\.cause), [.deviceSilent, .deviceSilentTooLong])
        XCTAssertEqual(events.first?.category, .cat1)
        XCTAssertEqual(events.first?.value, 3, "three silent cycles")
        XCTAssertEqual(events.last?.category, .cat0)
        let sinceCat1 = events[1].time.nanoseconds(since: events[0].time)
        XCTAssertLessThanOrEqual(sinceCat1, 20 * 1_000_000, "Cat 0 no later than 20 ms after the last fresh state")
        XCTAssertEqual(report.finalState, .fault)
        // The host kept commanding the stop (the device still hears it): it ends with torque off.
        XCTAssertFalse(harness.simulator.isTorqueOn)
    }

    func testSR1UnplugIsCat0InTheSameCycleAndEndsTheSession() throws {
        let (report, harness) = try run([InjectedFault(.unplug, .afterEnableMilliseconds(2_000))])
        XCTAssertEqual(report.safetyEvents.map(\.cause), [.linkLost])
        XCTAssertEqual(report.safetyEvents.first?.category, .cat0)
        XCTAssertNotNil(report.linkError)
        XCTAssertEqual(report.finalState, .fault)
        // With the link gone the host cannot command anything: the device's own watchdog stops it.
        harness.clock.advance(byNanoseconds: 100_000_000)
        harness.simulator.advance(to: harness.clock.now())
        XCTAssertTrue(harness.simulator.isWatchdogExpired)
        XCTAssertFalse(harness.simulator.isTorqueOn)
    }

    func testDeviceEmergencyStopLatchesEstopWithinOneCycle() throws {
        let (report, _) = try run([InjectedFault(.pressEmergencyStop, .afterEnableMilliseconds(2_000))])
        XCTAssertEqual(report.finalState, .estop)
        let event = try XCTUnwrap(report.safetyEvents.first)
        XCTAssertEqual(event.cause, .deviceEmergencyStop)
        XCTAssertEqual(event.category, .cat0)
    }

    func testDeviceFaultLatchesWithTheDeviceCodeWithinOneCycle() throws {
        let (report, _) = try run([InjectedFault(.deviceFault(.overload), .afterEnableMilliseconds(2_000))])
        let event = try XCTUnwrap(report.safetyEvents.first)
        XCTAssertEqual(event.cause, .deviceFault)
        XCTAssertEqual(event.deviceCode, DeviceFaultCode.overload.rawValue)
        XCTAssertEqual(report.finalState, .fault)
    }

    func testSR2MuteDeviceIsRefusedAtEnableAndNothingIsEnabled() throws {
        let harness = try VirtualSessionHarness { _, link in link.inject([InjectedFault(.dropReplies, .atMilliseconds(0))]) }
        XCTAssertThrowsError(try harness.session.prepare()) { error in
            guard case .device(.noAnswer(_, let request, _)) = error as? SessionError else { return XCTFail("\(error)") }
            XCTAssertEqual(request, "IDENTIFY")
        }
        XCTAssertFalse(harness.simulator.isEnabled)
        XCTAssertEqual(harness.session.supervisor.state, .disabled)
        XCTAssertEqual(harness.session.supervisor.transitions.last?.cause, .selfTestFailed)
    }

    func testSR3WatchdogNotConfirmedIsRefusedAndTheDeviceLeftDisabled() throws {
        let harness = try VirtualSessionHarness { device, _ in device.acknowledgedWatchdogOverrideMicroseconds = 100_000 }
        XCTAssertThrowsError(try harness.session.prepare()) { error in
            guard case .device(.watchdogNotConfirmed(_, 20_000, 100_000)) = error as? SessionError else { return XCTFail("\(error)") }
        }
        XCTAssertFalse(harness.simulator.isEnabled, "the host disabled the device again")
    }

    func testSR17ADifferentRobotIsRefusedBeforeEnable() throws {
        let harness = try VirtualSessionHarness()
        let configuration = harness.simulator.configuration
        var other = configuration
        other.model = "RH-ANKLE-1"
        other.joints[1].plant.ratedTorqueNewtonMeters = 9
        let simulator = SimulatedRehabLinkDevice(configuration: other, bootTime: harness.clock.now())
        let link = InProcessDeviceLink(device: simulator, clock: harness.clock)
        let driver = RehabLinkDevice(link: link, jointCount: 2, clock: harness.clock)
        let session = try TherapySession(profile: harness.profile, device: driver, clock: harness.clock, options: .init(rateHertz: 1000, durationSeconds: 1))
        XCTAssertThrowsError(try session.prepare()) { error in
            guard case .device(.identityMismatch(_, let problems)) = error as? SessionError else { return XCTFail("\(error)") }
            XCTAssertEqual(problems.count, 2, "\(problems)")
            XCTAssertTrue(problems[0].contains("RH-ANKLE-1"))
            XCTAssertTrue(problems[1].contains("rated torque"))
        }
        XCTAssertFalse(simulator.isEnabled)
    }

    func testEmergencyStopPressedBeforeStartIsRefusedWithTheReason() throws {
        let harness = try VirtualSessionHarness { device, _ in device.pressEmergencyStop() }
        XCTAssertThrowsError(try harness.session.prepare()) { error in
            guard case .device(.notReady(_, let reason)) = error as? SessionError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("e-stop"))
        }
        XCTAssertFalse(harness.simulator.isEnabled)
    }

    func testOperatorStopRequestDuringTheExerciseEndsInIdleWithinTheStopDeadline() throws {
        let harness = try VirtualSessionHarness(durationSeconds: 6)
        try harness.session.prepare()
        // 2.5 s in, the joint is mid-swing (moving) when the operator asks to stop.
        let control = harness.session.control
        harness.link.at(harness.clock.now().advanced(byNanoseconds: 2_500_000_000)) { control.post(.stop) }
        let report = harness.session.run()
        harness.session.finish()
        XCTAssertEqual(report.finalState, .idle)
        XCTAssertTrue(report.safetyEvents.isEmpty)
        let stop = try XCTUnwrap(report.transitions.first { $0.cause == .stopRequested })
        let idle = try XCTUnwrap(report.transitions.first { $0.cause == .standstillReached })
        XCTAssertLessThan(idle.time.nanoseconds(since: stop.time), 200_000_000, "SR-13: standstill within 200 ms")
        XCTAssertLessThan(report.elapsedSeconds, 3, "the exercise did not run on after the stop")
    }
}

/// SR-14 through the whole loop: the host itself stalls.
final class LoopTimingSessionTests: XCTestCase {
    func testSR14AHostStallOf15MillisecondsStopsTheExerciseCat1() throws {
        let harness = try VirtualSessionHarness(durationSeconds: 6)
        try harness.session.prepare()
        let clock = harness.clock
        // 2 s in, something holds the host for 15 ms inside a cycle (as a page fault or a kernel
        // thread would on a real machine).
        harness.link.at(clock.now().advanced(byNanoseconds: 2_000_000_000)) { clock.advance(byNanoseconds: 15_000_000) }
        let report = harness.session.run()
        harness.session.finish()
        XCTAssertGreaterThan(report.overruns, 0)
        let event = try XCTUnwrap(report.safetyEvents.first)
        XCTAssertEqual(event.cause, .loopGap)
        XCTAssertEqual(event.category, .cat1)
        XCTAssertGreaterThan(event.value, 10, "the gap in ms")
        XCTAssertEqual(report.finalState, .fault)
        XCTAssertFalse(harness.simulator.isTorqueOn)
    }
}

/// The link pre-flight before enable (SR-2 extended to the link).
final class LinkPreFlightTests: XCTestCase {
    /// Mutes the device for `muteMilliseconds` every `everyMilliseconds` over the first 3.5 s.
    private func harness(muteMilliseconds: Double, everyMilliseconds: Int) throws -> VirtualSessionHarness {
        let harness = try VirtualSessionHarness(durationSeconds: 1)
        var faults: [InjectedFault] = []
        for step in stride(from: 20, to: 3_500, by: everyMilliseconds) {
            faults.append(InjectedFault(.dropReplies, .atMilliseconds(Double(step)), forMilliseconds: muteMilliseconds))
        }
        harness.link.inject(faults)
        return harness
    }

    func testSingleLateRepliesDoNotKeepTheRobotFromStarting() throws {
        let harness = try harness(muteMilliseconds: 0.9, everyMilliseconds: 40)
        try harness.session.prepare()
        let check = try XCTUnwrap(harness.session.linkCheck)
        XCTAssertGreaterThan(check.gaps, 3, "the gaps happened")
        XCTAssertEqual(check.longestGapCycles, 1)
        XCTAssertTrue(harness.simulator.isEnabled)
    }

    func testRepeatedTwoCycleSilencesRefuseToEnableWithTheFigures() throws {
        let harness = try harness(muteMilliseconds: 2.5, everyMilliseconds: 100)
        XCTAssertThrowsError(try harness.session.prepare()) { error in
            guard case .device(.notReady(_, let reason)) = error as? SessionError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("SR-1"), reason)
        }
        let check = try XCTUnwrap(harness.session.linkCheck)
        XCTAssertGreaterThanOrEqual(check.longestGapCycles, 2)
        XCTAssertEqual(check.cycles, 3_000, "it tried for the full 3 s at 1 kHz")
        XCTAssertFalse(harness.simulator.isEnabled, "nothing was enabled")
    }
}
