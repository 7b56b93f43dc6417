import Control
import DeviceModel
import Devices
import Primitives
import Profiles
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

    func testSR1MuteDeviceMidSessionStopsCat1At0Point6WatchdogThenCat0AtTheWatchdog() throws {
        let (report, harness) = try run([InjectedFault(.dropReplies, .afterEnableMilliseconds(3_000))])
        let events = report.safetyEvents
        // A mute device cannot confirm its torque off either: SR-23 raises its alarm W later.
        XCTAssertEqual(events.map(\.cause), [.deviceSilent, .deviceSilentTooLong, .stopNotConfirmed])
        XCTAssertEqual(events.first?.category, .cat1)
        // W = 20 ms: Cat 1 once the newest state is 12 ms old, Cat 0 once it is 20 ms old (1 ms cycles).
        XCTAssertGreaterThanOrEqual(events[0].value, 12)
        XCTAssertLessThan(events[0].value, 13, "in the first cycle that sees the state 12 ms old")
        XCTAssertEqual(events.last?.category, .cat0)
        XCTAssertGreaterThanOrEqual(events[1].value, 20)
        XCTAssertLessThan(events[1].value, 21)
        let sinceCat1 = events[1].time.nanoseconds(since: events[0].time)
        XCTAssertLessThanOrEqual(sinceCat1, 9 * 1_000_000, "Cat 0 within 0.4 W of Cat 1")
        XCTAssertTrue(report.transitions.contains { $0.cause == .linkDegraded }, "FAIR came first, and was logged")
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
        XCTAssertEqual(event.deviceCode, UInt32(RehabLink.FaultCode.overload.rawValue))
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

/// SR-14 feeding SR-1 through the whole loop: the host itself stalls.
final class LoopTimingSessionTests: XCTestCase {
    /// A session in which, 2 s in, something holds the host for `stallMilliseconds` (as a page fault
    /// or a kernel thread would on a real machine): while it waits for the device's reply
    /// (`whileWaitingForTheReply`: the reply is read after the stall, sampled before it), or at the
    /// start of a cycle (the command goes out late, and its reply is fresh).
    private func runWithHostStall(
        milliseconds stallMilliseconds: Double, whileWaitingForTheReply: Bool = true
    ) throws -> (SessionReport, VirtualSessionHarness) {
        let harness = try VirtualSessionHarness(durationSeconds: 6)
        try harness.session.prepare()
        let clock = harness.clock
        // Cycle k's deadline is k + 1 periods after run() begins; its reply is readable 0.1 ms after it.
        let offset: Int64 = whileWaitingForTheReply ? 50_000 : 0
        harness.link.at(clock.now().advanced(byNanoseconds: 2_000_000_000 + offset)) {
            clock.advance(byNanoseconds: Int64(stallMilliseconds * 1e6))
        }
        let report = harness.session.run()
        harness.session.finish()
        return (report, harness)
    }

    func testSR1AHostStallThatTheWatchdogCoversDegradesTheSessionWithoutEndingIt() throws {
        let (report, harness) = try runWithHostStall(milliseconds: 7)
        XCTAssertTrue(report.safetyEvents.isEmpty, "\(report.safetyEvents)")
        XCTAssertEqual(report.finalState, .idle, "the exercise ran to its end")
        let degraded = try XCTUnwrap(report.transitions.first { $0.cause == .linkDegraded })
        XCTAssertGreaterThanOrEqual(degraded.value, 7, "logged with the stall in ms")
        let restored = try XCTUnwrap(report.transitions.first { $0.cause == .linkRestored })
        XCTAssertGreaterThanOrEqual(restored.time.nanoseconds(since: degraded.time), 1_000_000_000, "GOOD again after 1 s without trouble")
        let quality = try XCTUnwrap(report.linkQuality)
        XCTAssertEqual(quality.fairEpisodes, 1)
        XCTAssertEqual(quality.poorEpisodes, 0)
        XCTAssertGreaterThanOrEqual(quality.worstStateAgeMilliseconds, 7, "the state read after the stall was dated by the device's clock")
        // SR-5: the cycle after the stall had only a pre-stall state: it sent a local hold, not a torque.
        let rows = harness.session.blackBox.samples()
        let first = try XCTUnwrap(rows.firstIndex { $0.linkGrade == .fair })
        XCTAssertEqual(rows[first].commandModes[0], 3, "hold")
        XCTAssertGreaterThan(rows[first].stateAgeNanoseconds, 3_000_000)
        for row in rows where row.commandModes[0] == 1 && row.action == 1 {
            XCTAssertLessThanOrEqual(row.stateAgeNanoseconds, 3_000_000, "cycle \(row.cycle): a torque computed from a state older than GOOD")
        }
        // FAIR: the plan's clock stood still, so the exercise ended later by about the FAIR time.
        XCTAssertGreaterThanOrEqual(quality.secondsFair, 1)
    }

    /// A FAIR hold in the middle of a repetition exercise: the rest is planned from the measured state
    /// and every repetition asked for is still done (the time left of the original plan could not hold
    /// them, and a plan squeezed into it once dropped both: 0 of 2 over the PTY).
    func testAFAIRHoldMidSwingStillGivesEveryRepetition() throws {
        let exercise = RangeOfMotionExercise(jointIndex: 0, rangeRadians: -0.26...0.35, swingSeconds: 1.2, holdSeconds: 0.1, repetitions: 2)
        let profile = try VirtualSessionHarness.profile("wrist-trainer")
        let seconds = profile.control.enableRampSeconds + exercise.sessionSeconds(durationSeconds: nil)
        for stallAtMilliseconds: Int64 in [900, 1_700, 2_600] {
            let harness = try VirtualSessionHarness(durationSeconds: seconds, exercise: exercise)
            try harness.session.prepare()
            let clock = harness.clock
            harness.link.at(clock.now().advanced(byNanoseconds: stallAtMilliseconds * 1_000_000 + 50_000)) {
                clock.advance(byNanoseconds: 7_000_000)
            }
            let report = harness.session.run()
            harness.session.finish()
            XCTAssertTrue(report.transitions.contains { $0.cause == .linkDegraded }, "the stall made the link FAIR")
            XCTAssertEqual(report.metrics.objectValue?["repetitions"]?.integerValue, 2, "stall at \(stallAtMilliseconds) ms")
            XCTAssertEqual(report.finalState, .idle)
            XCTAssertTrue(report.safetyEvents.isEmpty, "\(report.safetyEvents)")
        }
    }

    func testSR1AHostStallBeyond0Point6WatchdogStopsTheExerciseCat1() throws {
        let (report, harness) = try runWithHostStall(milliseconds: 15)
        XCTAssertGreaterThan(report.overruns, 0)
        let event = try XCTUnwrap(report.safetyEvents.first)
        XCTAssertEqual(event.cause, .deviceSilent)
        XCTAssertEqual(event.category, .cat1)
        XCTAssertGreaterThanOrEqual(event.value, 12, "the state's age in ms")
        XCTAssertEqual(report.finalState, .fault)
        XCTAssertFalse(harness.simulator.isTorqueOn)
    }

    func testSR14AStallBeforeTheCommandOf0Point6WatchdogStopsCat1EvenThoughTheReplyIsFresh() throws {
        let (report, _) = try runWithHostStall(milliseconds: 13, whileWaitingForTheReply: false)
        let event = try XCTUnwrap(report.safetyEvents.first)
        XCTAssertEqual(event.cause, .loopGap, "the device went 13 ms without a command")
        XCTAssertEqual(event.category, .cat1)
        XCTAssertGreaterThanOrEqual(event.value, 13)
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
