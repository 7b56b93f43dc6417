import Control
import DeviceModel
import Devices
import Platform
import Primitives
import RehabLinkSimulator
import Session
import StrictJSON
import Telemetry
import Wire
import XCTest

/// SAFETY.md through the whole stack in virtual time (real driver, codec and supervisor; the
/// simulated firmware with injected faults): each test asserts the safe outcome and its deadline.
/// Times are from the device's own record of when the fault began (`fault_injected`).
final class SafetyRequirementTests: XCTestCase {
    private let millisecond: Int64 = 1_000_000

    /// A session run with faults; what the device recorded; helpers for deadlines.
    private struct Scenario {
        let harness: VirtualSessionHarness
        let report: SessionReport
        let deviceEvents: [DeviceEvent]

        var injectedAt: MonotonicInstant? { deviceEvents.first { $0.kind == .faultInjected }?.time }
        var firstTrip: SupervisorTransition? { report.safetyEvents.first }

        /// Milliseconds from the injection to `transition`.
        func millisecondsFromInjection(to transition: SupervisorTransition?) -> Double? {
            guard let transition, let injectedAt else { return nil }
            return Double(transition.time.nanoseconds(since: injectedAt)) / 1e6
        }

        /// The black-box row of `cycle`.
        func sample(cycle: Int64) -> TelemetryFrame? { harness.session.blackBox.samples().first { $0.cycle == cycle } }
    }

    private func scenario(
        _ faults: [InjectedFault], seconds: Double = 4, requests: [(milliseconds: Double, OperatorRequests)] = [],
        exercise: RangeOfMotionExercise = RangeOfMotionExercise(), adjust: (inout TherapySession.Options) -> Void = { _ in }
    ) throws -> Scenario {
        let harness = try VirtualSessionHarness(durationSeconds: seconds, exercise: exercise, adjust: adjust)
        try harness.session.prepare()
        harness.link.inject(faults)
        let start = harness.clock.now()
        for (milliseconds, request) in requests {
            let control = harness.session.control
            harness.link.at(start.advanced(byNanoseconds: Int64(milliseconds * 1e6))) { control.post(request) }
        }
        let report = harness.session.run()
        harness.session.finish()
        return Scenario(harness: harness, report: report, deviceEvents: harness.simulator.takeEvents())
    }

    // MARK: SR-1

    func testSR1TheDetectionCycleAlreadyPutsTheBrakeCommandOnTheWire() throws {
        let run = try scenario([InjectedFault(.dropReplies, .afterEnableMilliseconds(1_500))])
        let trip = try XCTUnwrap(run.firstTrip)
        XCTAssertEqual(trip.cause, .deviceSilent)
        let row = try XCTUnwrap(run.sample(cycle: trip.cycle))
        XCTAssertEqual(row.action, 3, "decelerate in the cycle of detection")
        XCTAssertEqual(row.wire, .command, "the Cat 1 brake command goes out in that same cycle")
        XCTAssertEqual(row.commandModes[0], 2, "velocity mode: the device's own loop brakes")
        XCTAssertLessThanOrEqual(try XCTUnwrap(run.millisecondsFromInjection(to: trip)), 13, "0.6 W = 12 ms after the last state (+ the cycle in flight)")
    }

    func testSR1NeverReconnectsByItselfWhileEnabled() throws {
        let run = try scenario([InjectedFault(.dropReplies, .afterEnableMilliseconds(1_000), forMilliseconds: 30)], seconds: 3)
        XCTAssertEqual(run.report.finalState, .fault, "the device answered again, but the fault stays latched")
        XCTAssertEqual(run.report.transitions.filter { $0.to == .active && $0.from != .active }.count, 1, "motion never resumed by itself")
    }

    func testSR1CorruptedBytesAreDroppedByTheCRCAndSustainedCorruptionStopsCat1() throws {
        let run = try scenario([InjectedFault(.corruptBytes(everyNth: 7), .afterEnableMilliseconds(1_000), forMilliseconds: 100)])
        let trip = try XCTUnwrap(run.firstTrip)
        XCTAssertEqual(trip.cause, .deviceSilent, "a corrupted frame is no valid state: silence")
        XCTAssertEqual(trip.category, .cat1)
        XCTAssertGreaterThan(run.harness.driver.decoderStatistics.crcErrors + run.harness.driver.decoderStatistics.malformedFrames, 10,
                             "the damage reached the host's decoder and was refused there")
        XCTAssertLessThanOrEqual(try XCTUnwrap(run.millisecondsFromInjection(to: trip)), 13)
    }

    func testSR1OccasionalCorruptionIsRidden() throws {
        // One byte in 2000: about one frame in 40 lost; never 3 in a row.
        let run = try scenario([InjectedFault(.corruptBytes(everyNth: 2_000), .afterEnableMilliseconds(500), forMilliseconds: 2_000)], seconds: 3)
        XCTAssertTrue(run.report.safetyEvents.isEmpty, "\(run.report.safetyEvents)")
        XCTAssertGreaterThan(run.harness.driver.decoderStatistics.crcErrors + run.harness.driver.decoderStatistics.malformedFrames, 10)
    }

    // MARK: SR-2, SR-3

    func testSR2MuteAtStartFromAFaultScriptIsRefusedWithTheReason() throws {
        let harness = try VirtualSessionHarness { _, link in link.inject([InjectedFault(.dropReplies, .atMilliseconds(0))]) }
        XCTAssertThrowsError(try harness.session.prepare()) { error in
            XCTAssertTrue("\(error)".contains("IDENTIFY"), "\(error)")
        }
        XCTAssertFalse(harness.simulator.isEnabled)
        XCTAssertFalse(harness.simulator.takeEvents().contains { $0.kind == .enable }, "never enabled")
    }

    func testSR3FirmwareWithoutAWatchdogIsRefusedAndLeftDisabled() throws {
        let harness = try VirtualSessionHarness { _, link in link.inject([InjectedFault(.disableWatchdog, .atMilliseconds(0))]) }
        XCTAssertThrowsError(try harness.session.prepare()) { error in
            guard case .device(.watchdogNotConfirmed(_, 20_000, 0)) = error as? SessionError else { return XCTFail("\(error)") }
        }
        XCTAssertFalse(harness.simulator.isEnabled, "the host disabled what it could not trust")
        XCTAssertEqual(harness.session.supervisor.state, .disabled)
    }

    func testSR3HostGoneMidMotionDeviceIsAtZeroTorqueWithin50Milliseconds() throws {
        // The host dies: its loop stops between two cycles. The firmware must act alone.
        let harness = try VirtualSessionHarness(durationSeconds: 1)
        try harness.session.prepare()  // identity, link check, watchdog 20 ms confirmed, enabled
        var command = JointList(count: 2, repeating: JointActuation.off)
        command[0] = JointActuation(mode: .torque, torqueNewtonMeters: 0.2)
        for _ in 0..<50 {
            let now = harness.clock.now()
            harness.driver.write(.command(command), now: now, deadline: now.advanced(byNanoseconds: millisecond))
            _ = harness.driver.waitForState(until: now.advanced(byNanoseconds: millisecond))
            harness.clock.advance(to: now.advanced(byNanoseconds: millisecond))
        }
        XCTAssertTrue(harness.simulator.isTorqueOn)
        let death = harness.clock.now()
        _ = harness.simulator.takeEvents()
        harness.clock.advance(byNanoseconds: 100 * millisecond)
        harness.simulator.advance(to: harness.clock.now())
        let events = harness.simulator.takeEvents()
        let off = try XCTUnwrap(events.first { $0.kind == .torqueOff })
        XCTAssertTrue(events.contains { $0.kind == .watchdogStop })
        XCTAssertLessThanOrEqual(off.time.nanoseconds(since: death), 50 * millisecond)
        XCTAssertEqual(harness.simulator.plant(0).motorTorqueNewtonMeters, 0)
    }

    // MARK: SR-4, SR-5

    func testSR4WhileLatchedOnlyHeartbeatsGoOutAtLeastEvery20Milliseconds() throws {
        let run = try scenario([InjectedFault(.deviceFault(.overload), .afterEnableMilliseconds(1_000))], seconds: 3,
                               requests: [(2_500, .stop)]) { $0.holdsAfterFault = true }
        let trip = try XCTUnwrap(run.firstTrip)
        XCTAssertEqual(trip.cause, .deviceFault)
        let after = run.harness.session.blackBox.samples().filter { $0.cycle > trip.cycle }
        XCTAssertGreaterThan(after.count, 100, "the loop kept running while latched")
        XCTAssertTrue(after.allSatisfy { $0.wire == .heartbeat }, "a disabled device gets heartbeats, never commands")
        var previous = trip.time
        for row in after {
            XCTAssertLessThanOrEqual(row.time.nanoseconds(since: previous), 20 * millisecond)
            previous = row.time
        }
    }

    /// A resume after a FAIR hold replans a repetition exercise for the repetitions left, which may take
    /// longer than the session's first duration: that is no logic error, and nothing e-stops it. Before,
    /// the session's last bound counted the cycles of GOOD link against the first duration + 10 s and
    /// e-stopped (Cat 0, operator_estop) an 8 s scenario whose 10 repetitions had been replanned.
    func testAResumedRepetitionPlanLongerThanTheFirstDurationEndsNormally() throws {
        var exercise = RangeOfMotionExercise(jointIndex: 0, rangeRadians: -0.44...0.44, swingSeconds: 2, holdSeconds: 0.3, repetitions: 4)
        exercise.mode = .passive
        // 2 s of session, but 4 repetitions: the FAIR hold at 1 s has the resume plan all 4 (about 19 s).
        let run = try scenario([InjectedFault(.delayReplies(milliseconds: 8), .afterEnableMilliseconds(1_000), forMilliseconds: 20)],
                               seconds: 2, exercise: exercise)
        XCTAssertTrue(run.report.safetyEvents.isEmpty, "\(run.report.safetyEvents)")
        XCTAssertEqual(run.report.finalState, .idle)
        XCTAssertGreaterThan(run.report.elapsedSeconds, 2 + 10, "the resumed plan outran the first duration's bound")
        XCTAssertEqual(run.report.metrics.objectValue?["repetitions"]?.integerValue, 4, "\(run.report.metrics)")
    }

    func testSR5ACycleWhoseStateIsOlderThanTheGoodAgeSendsALocalHoldNotATorqueFromTheOldState() throws {
        // Replies 4.5 ms late for 30 ms: some cycles' newest state is older than SR-1's GOOD age (3 ms).
        let run = try scenario([InjectedFault(.delayReplies(milliseconds: 4.5), .afterEnableMilliseconds(1_000), forMilliseconds: 30)], seconds: 3)
        XCTAssertTrue(run.report.safetyEvents.isEmpty, "a delay the watchdog covers degrades, it does not stop: \(run.report.safetyEvents)")
        let good = run.harness.session.linkLimits.goodAgeNanoseconds
        let samples = run.harness.session.blackBox.samples()
        let stale = samples.filter { $0.action == 1 && $0.stateAgeNanoseconds > good }
        XCTAssertFalse(stale.isEmpty, "the delay made some states too old to command from")
        // A local hold (the device's own loop around the frozen target) keeps the watchdog fed; no torque
        // computed from an old state goes out.
        XCTAssertTrue(stale.allSatisfy { $0.wire == .command && $0.commandModes[0] == 3 && $0.commandModes[1] == 3 },
                      "no torque from an old state")
        XCTAssertTrue(samples.filter { $0.action == 1 && $0.stateAgeNanoseconds <= good }.allSatisfy { $0.wire == .command && $0.commandModes[0] == 1 })
        XCTAssertFalse(run.harness.simulator.isWatchdogExpired)
        XCTAssertTrue(samples.contains { $0.action == 1 && $0.stateAgeNanoseconds <= good && !$0.freshState },
                      "a state within the GOOD age commands even without a new frame this cycle: age, not arrival, decides")
    }

    /// R2 (the review's reproduction): replies delayed 8 ms made the host control on states two
    /// cycles old; the loop oscillated into an SR-8 trip at 1.98 rad/s. Now every state is judged by
    /// its age: the link is graded, the device holds locally, nothing oscillates, the watchdog stays fed.
    func testR2RepliesDelayedBy8MillisecondsDegradeTheSessionWithoutOscillation() throws {
        // The operator stops it near the end of the delay, so the black box's last 5 s cover it.
        let run = try scenario([InjectedFault(.delayReplies(milliseconds: 8), .afterEnableMilliseconds(1_500), forMilliseconds: 3_000)],
                               seconds: 6, requests: [(4_000, .stop)])
        let quality = try XCTUnwrap(run.report.linkQuality)
        XCTAssertGreaterThan(quality.secondsFair + quality.secondsPoor, 2, "graded, not taken for fresh: \(quality.summary)")
        XCTAssertFalse(run.report.safetyEvents.contains { $0.cause.requirement == "SR-8" }, "\(run.report.safetyEvents)")
        XCTAssertFalse(run.harness.simulator.takeEvents().contains { $0.kind == .watchdogStop }, "the local holds kept the watchdog fed")
        XCTAssertTrue(run.report.transitions.contains { $0.cause == .linkDegraded })
        let during = run.harness.session.blackBox.samples().filter { $0.stateAgeNanoseconds > 6_000_000 && $0.stateAgeNanoseconds != .max }
        XCTAssertGreaterThan(during.count, 100, "the delay made old states")
        // The swing's own speed (≤ 0.8 rad/s) when the delay began, then braked to a hold; no oscillation
        // growing toward SR-8 (it reached 1.98 rad/s before).
        let fastest = during.map { abs($0.velocitiesRadiansPerSecond[0]) }.max() ?? 0
        XCTAssertLessThan(fastest, 0.9)
        let settled = during.suffix(1_000).map { abs($0.velocitiesRadiansPerSecond[0]) }.max() ?? 1
        XCTAssertLessThan(settled, 0.05, "held still for the last second of the delay")
        XCTAssertTrue(during.allSatisfy { $0.commandModes[0] != 1 }, "no torque computed from an 8 ms old state")
    }

    func testSR5ResumeStartsFromTheMeasuredStateWithoutATorqueStep() throws {
        let run = try scenario([], seconds: 4, requests: [(1_000, .pause), (1_500, .resume)])
        XCTAssertTrue(run.report.safetyEvents.isEmpty, "\(run.report.safetyEvents)")
        let resume = try XCTUnwrap(run.report.transitions.first { $0.cause == .resumeRequested })
        let samples = run.harness.session.blackBox.samples()
        let held = samples.filter { $0.cycle >= resume.cycle - 100 && $0.cycle < resume.cycle }.map { abs($0.commandTorquesNewtonMeters[0]) }
        let after = samples.filter { $0.cycle >= resume.cycle && $0.cycle < resume.cycle + 100 }
        XCTAssertEqual(after.count, 100)
        let heldMaximum = try XCTUnwrap(held.max())
        let afterMaximum = try XCTUnwrap(after.map { abs($0.commandTorquesNewtonMeters[0]) }.max())
        XCTAssertLessThan(afterMaximum, heldMaximum + 0.05, "the first 100 ms after resume: no jump in torque (held \(heldMaximum), after \(afterMaximum) N·m)")
        let moved = abs(after.last!.positionsRadians[0] - after.first!.positionsRadians[0])
        XCTAssertLessThan(moved, 0.5 * Units.radiansPerDegree, "the joint blends back in, it is not yanked")
    }

    // MARK: SR-7

    func testSR7PushedPastTheSoftLimitByMoreThan2DegreesStopsCat1ThenHardLimitCat0() throws {
        // The patient's range ends at 10°; the exercise target is clamped there; the patient pushes on.
        let degree = Units.radiansPerDegree
        let run = try scenario(
            [InjectedFault(.externalTorque(joint: 0, newtonMeters: 2.0, rampMilliseconds: 1_000), .afterEnableMilliseconds(1_200))],
            seconds: 4, exercise: RangeOfMotionExercise(amplitudeRadians: 8 * degree),
            adjust: { $0.patientRange = [(-10 * degree)...(10 * degree)] })
        let trip = try XCTUnwrap(run.firstTrip, "\(run.report.transitions.map { ($0.cycle, $0.cause, $0.value) }) max \(run.report.joints[0].maximumPositionRadians / degree)°")
        XCTAssertEqual(trip.cause, .positionBeyondSoftLimit, "\(run.report.safetyEvents)")
        XCTAssertEqual(trip.category, .cat1)
        XCTAssertEqual(trip.joint, 0)
        XCTAssertGreaterThan(trip.value, 2, "more than 2° past the soft limit [deg]")
        XCTAssertLessThan(trip.value, 2.2, "caught within one cycle of crossing")
        let samples = run.harness.session.blackBox.samples()
        let before = samples.filter { $0.cycle < trip.cycle && $0.action == 1 }
        XCTAssertTrue(before.allSatisfy { $0.positionsRadians[0] < 12.2 * degree })
    }

    func testSR7PastTheSoftLimitTheClampOnlyLetsTheJointCreepInward() {
        var clamp = CommandClamp(
            limits: JointList(count: 1, repeating: .init(torqueLimitNewtonMeters: 3, velocityLimitRadiansPerSecond: 3,
                                                         softMinimumRadians: -1, softMaximumRadians: 1)),
            torqueSlewLimitNewtonMetersPerSecond: 1e9, periodSeconds: 0.001)
        var measured = JointList(count: 1, repeating: JointMeasurement())
        measured[0].positionRadians = 1.01
        for outward in [0.5, 3.0, 1e308] {
            var command = JointList(count: 1, repeating: JointActuation(mode: .torque, torqueNewtonMeters: outward))
            let outcome = clamp.apply(to: &command, measured: measured)
            XCTAssertTrue(outcome.softLimited)
            XCTAssertEqual(command[0].torqueNewtonMeters, 0, "never pushed further out")
        }
        var inward = JointList(count: 1, repeating: JointActuation(mode: .torque, torqueNewtonMeters: -0.8))
        _ = clamp.apply(to: &inward, measured: measured)
        XCTAssertEqual(inward[0].torqueNewtonMeters, -0.8, "pulling back in while slow: allowed")
        measured[0].velocityRadiansPerSecond = -2 * Units.radiansPerDegree
        inward = JointList(count: 1, repeating: JointActuation(mode: .torque, torqueNewtonMeters: -0.8))
        XCTAssertTrue(clamp.apply(to: &inward, measured: measured).softLimited)
        XCTAssertEqual(inward[0].torqueNewtonMeters, 0, "not faster inward than 1°/s")
        var velocityOut = JointList(count: 1, repeating: JointActuation(mode: .velocity, velocityRadiansPerSecond: 2))
        _ = clamp.apply(to: &velocityOut, measured: measured)
        XCTAssertLessThanOrEqual(velocityOut[0].velocityRadiansPerSecond, 0)
        var target = TrajectorySample(jointCount: 1)
        target.positions[0] = 1.3
        target.velocities[0] = 0.4
        clamp.clampTargets(&target)
        XCTAssertEqual(target.positions[0], 1, "a plan never aims past the soft limit")
        XCTAssertEqual(target.velocities[0], 0)
    }

    func testSR7APatientRangeOnlyNarrowsTheLimits() throws {
        let harness = try VirtualSessionHarness()
        let degree = Units.radiansPerDegree
        let wide = try SafetySettings.jointLimits(harness.profile, patientRange: [(-100 * degree)...(100 * degree)])
        XCTAssertEqual(wide[0].softMaximumRadians, 65 * degree, accuracy: 1e-9, "hard 70° − 5°: a wider range does not widen it")
        let narrow = try SafetySettings.jointLimits(harness.profile, patientRange: [(-20 * degree)...(30 * degree)])
        XCTAssertEqual(narrow[0].softMinimumRadians, -20 * degree, accuracy: 1e-9)
        XCTAssertEqual(narrow[0].softMaximumRadians, 30 * degree, accuracy: 1e-9)
        XCTAssertThrowsError(try SafetySettings.jointLimits(harness.profile, patientRange: [(80 * degree)...(90 * degree)]))
    }

    // MARK: SR-8, SR-9

    func testSR8ASuddenSpasmThatFlingsTheWristIsCat0OnOverspeedInTheSameCycle() throws {
        // 3 N·m on 0.0045 kg·m²: +0.67 rad/s per 1 ms cycle. Two channels catch it (SR-24): the host at
        // 1.5 × 1.5 rad/s (SR-8), the firmware at 10 % above that, at its own inner-loop rate, on the
        // limit the host wrote at enable — whichever sees it first, torque is off in that host cycle.
        let run = try scenario([InjectedFault(.externalTorque(joint: 0, newtonMeters: 3, rampMilliseconds: 0), .afterEnableMilliseconds(1_000))])
        let trip = try XCTUnwrap(run.firstTrip)
        XCTAssertEqual(trip.category, .cat0)
        let row = try XCTUnwrap(run.sample(cycle: trip.cycle))
        XCTAssertEqual(row.commandModes[0], 0, "torque off on the wire in the cycle of detection")
        switch trip.cause {
        case .overspeed:
            XCTAssertGreaterThan(trip.value, 2.25, "above 1.5 × 1.5 rad/s")
            XCTAssertEqual(row.wire, .command)
        case .deviceFault:
            XCTAssertEqual(trip.deviceCode, UInt32(RehabLink.FaultCode.overSpeed.rawValue), "the firmware's own cut, at the limit the host wrote")
            let fault = try XCTUnwrap(run.deviceEvents.first { $0.kind == .fault })
            let injected = try XCTUnwrap(run.injectedAt)
            XCTAssertLessThan(fault.time.nanoseconds(since: injected), 5 * millisecond)
        default:
            XCTFail("\(run.report.safetyEvents)")
        }
    }

    func testSR9ASustainedPushAboveTheTripStopsCat1After50Milliseconds() throws {
        // A slow spasm (200 ms ramp) to 2.6 N·m on a 2.4 N·m trip, while the exercise is paused.
        let run = try scenario(
            [InjectedFault(.externalTorque(joint: 0, newtonMeters: 2.6, rampMilliseconds: 200), .afterEnableMilliseconds(1_500))],
            requests: [(1_000, .pause)])
        let trip = try XCTUnwrap(run.firstTrip)
        XCTAssertEqual(trip.cause, .interactionTorque, "\(run.report.safetyEvents)")
        XCTAssertEqual(trip.category, .cat1)
        // The ramp crosses 2.4 N·m at 200 × 2.4 / 2.6 = 184.6 ms; the trip comes 50 ms later (±1 cycle).
        let elapsed = try XCTUnwrap(run.millisecondsFromInjection(to: trip))
        XCTAssertEqual(elapsed, 184.6 + 50, accuracy: 2.5)
    }

    // MARK: SR-10

    func testSR10AnEncoderJumpStopsCat1InTheNextCycle() throws {
        let run = try scenario([InjectedFault(.jumpEncoder(joint: 1, counts: 20_000), .afterEnableMilliseconds(1_000))])
        let trip = try XCTUnwrap(run.firstTrip)
        XCTAssertEqual(trip.cause, .encoderJump)
        XCTAssertEqual(trip.category, .cat1)
        XCTAssertEqual(trip.joint, 1)
        XCTAssertLessThanOrEqual(try XCTUnwrap(run.millisecondsFromInjection(to: trip)), 2)
    }

    func testSR10AFrozenEncoderMidSwingEndsInATorqueOffWithin250Milliseconds() throws {
        // With its encoder frozen the joint is driven blind: whichever catches it first (the firmware's
        // over-speed cut or the host's 200 ms frozen-count check), torque is off soon after.
        let run = try scenario([InjectedFault(.freezeEncoder(joint: 0), .afterEnableMilliseconds(1_000))])
        let trip = try XCTUnwrap(run.firstTrip)
        XCTAssertTrue([.encoderFrozen, .motionNotAnswering].contains(trip.cause)
                      || (trip.cause == .deviceFault && trip.deviceCode == UInt32(RehabLink.FaultCode.overSpeed.rawValue)),
                      "\(run.report.safetyEvents)")
        let off = try XCTUnwrap(run.deviceEvents.last { $0.kind == .torqueOff })
        let injected = try XCTUnwrap(run.injectedAt)
        XCTAssertLessThanOrEqual(off.time.nanoseconds(since: injected), 250 * millisecond)
        XCTAssertFalse(run.harness.simulator.isTorqueOn)
    }

    /// SR-10 in active-assist, where motion counts as demanded only while the robot pushes past the
    /// joint's breakaway friction or the joint lags the plan by more than the dead band. The encoder
    /// freezes at the end of a hold at the upper end (the worst moment: nothing is demanded until the
    /// plan moves again); passive, with the same freeze, is the reference.
    func testSR10AFrozenEncoderInActiveAssistEndsInATorqueOffWithin1200Milliseconds() throws {
        var milliseconds: [String: Double] = [:]
        for mode in [TherapyMode.passive, .activeAssist(TherapyModeTests.assistAsNeeded)] {
            var exercise = RangeOfMotionExercise(jointIndex: 0, rangeRadians: -0.44...0.44, swingSeconds: 2, holdSeconds: 0.3, repetitions: 3)
            exercise.mode = mode
            let run = try scenario([InjectedFault(.freezeEncoder(joint: 0), .afterEnableMilliseconds(6_000))], seconds: 12, exercise: exercise)
            let trip = try XCTUnwrap(run.firstTrip, "\(mode.name): \(run.report.transitions.map(\.cause))")
            // Driven blind, the joint is caught by the frozen-count check, the firmware's over-speed cut,
            // or (passive, pushing hard) the hard stop — whichever comes first.
            XCTAssertTrue(trip.cause == .encoderFrozen || trip.cause == .motionNotAnswering || trip.cause == .positionHardLimit
                          || (trip.cause == .deviceFault && trip.deviceCode == UInt32(RehabLink.FaultCode.overSpeed.rawValue)),
                          "\(mode.name): \(run.report.safetyEvents)")
            let off = try XCTUnwrap(run.deviceEvents.last { $0.kind == .torqueOff })
            let injected = try XCTUnwrap(run.injectedAt)
            milliseconds[mode.name] = Double(off.time.nanoseconds(since: injected)) / 1e6
            XCTAssertFalse(run.harness.simulator.isTorqueOn)
        }
        print("SR-10, encoder frozen at the end of a hold: torque off after \(milliseconds) ms")
        XCTAssertLessThanOrEqual(try XCTUnwrap(milliseconds["active_assist"]), 1_200)
        XCTAssertLessThanOrEqual(try XCTUnwrap(milliseconds["passive"]), 1_200)
    }

    /// R1 (the review's reproduction): an encoder frozen mid-swing made the position controller push
    /// harder against a joint that "did not move" until the firmware's over-speed cut acted, 27–34 ms
    /// later. The host now catches it first, from the torque the position does not answer, while
    /// the joint is still slow — at 1 kHz and 250 Hz, with a passive and a stroke-severe patient.
    func testSR10AFrozenEncoderIsCaughtByTheHostBeforeTheFirmwaresOverSpeedCut() throws {
        for rate in [1000.0, 250.0] {
            for (name, patient) in [("passive", SimulatedPatient.Parameters.passive), ("stroke-severe", .strokeSevere)] {
                let harness = try VirtualSessionHarness(durationSeconds: 4, rateHertz: rate)
                try harness.session.prepare()
                harness.attachPatient(patient)
                harness.link.inject([InjectedFault(.freezeEncoder(joint: 0), .afterEnableMilliseconds(1_500))])
                let report = harness.session.run()
                harness.session.finish()
                let label = "\(Int(rate)) Hz, \(name) patient"
                let trip = try XCTUnwrap(report.safetyEvents.first, label)
                XCTAssertTrue([.motionNotAnswering, .encoderFrozen].contains(trip.cause), "\(label): \(report.safetyEvents)")
                let events = harness.simulator.takeEvents()
                let injected = try XCTUnwrap(events.first { $0.kind == .faultInjected }?.time)
                let milliseconds = Double(trip.time.nanoseconds(since: injected)) / 1e6
                print("R1, \(label): \(trip.cause.rawValue) \(milliseconds) ms after the freeze")
                XCTAssertLessThanOrEqual(milliseconds, 25, label)
                XCTAssertFalse(events.contains { $0.kind == .fault && $0.faultCode == .overSpeed }, "\(label): the firmware never had to cut")
                // Below SR-8's Cat 0 speed (2.25 rad/s): R1 acted first. At 250 Hz the joint ends near 1.57 rad/s:
                // R1 counts a state's torque from that state on (a one-state dip is no runaway), one 4 ms state later.
                XCTAssertLessThan(abs(harness.simulator.plant(0).velocityRadiansPerSecond), 2.25, label)
            }
        }
    }

    func testSR10ACleanCounterWrapIsNotAJump() throws {
        // The raw 32-bit counter starts 300 counts below its wrap; the swing takes it through.
        let run = try scenario([InjectedFault(.wrapEncoder(joint: 0, countsBeforeWrap: 300), .atMilliseconds(0))], seconds: 3)
        XCTAssertTrue(run.report.safetyEvents.isEmpty, "\(run.report.safetyEvents)")
        XCTAssertEqual(run.report.finalState, .idle)
        XCTAssertGreaterThan(run.report.joints[0].rangeOfMotionRadians, 0.4, "the joint really swung (and the counter wrapped)")
    }

    // MARK: SR-11, SR-12, SR-13

    func testSR11OverTemperatureIsAHostFaultWithTheDeviceCodeWithinOneCycleAndNeverClearedByTheHost() throws {
        let run = try scenario([InjectedFault(.overTemperature(joint: 0), .afterEnableMilliseconds(1_000))], seconds: 3,
                               requests: [(2_500, .stop)]) { $0.holdsAfterFault = true }
        let trip = try XCTUnwrap(run.firstTrip)
        XCTAssertEqual(trip.cause, .deviceFault)
        XCTAssertEqual(trip.deviceCode, UInt32(RehabLink.FaultCode.overTemperature.rawValue))
        // The firmware latches it at its next inner step; the next state frame carries it (≤ 1 cycle)
        // and the cycle that decodes the frame trips (≤ 1 more).
        let latched = try XCTUnwrap(run.deviceEvents.first { $0.kind == .fault })
        XCTAssertLessThanOrEqual(Double(trip.time.nanoseconds(since: latched.time)) / 1e6, 2)
        XCTAssertFalse(run.deviceEvents.contains { $0.kind == .faultReset }, "no FAULT_RESET without an operator reset")
        XCTAssertEqual(run.report.finalState, .fault)
    }

    func testSR12DeviceEstopIsCat0AndReleasingItNeverRestarts() throws {
        let run = try scenario([InjectedFault(.pressEmergencyStop, .afterEnableMilliseconds(1_000), forMilliseconds: 200)], seconds: 3,
                               requests: [(2_500, .stop)]) { $0.holdsAfterFault = true }
        let trip = try XCTUnwrap(run.firstTrip)
        XCTAssertEqual(trip.cause, .deviceEmergencyStop)
        XCTAssertEqual(trip.category, .cat0)
        XCTAssertLessThanOrEqual(try XCTUnwrap(run.millisecondsFromInjection(to: trip)), 1.5)
        XCTAssertTrue(run.deviceEvents.contains { $0.kind == .estopReleased })
        XCTAssertEqual(run.report.finalState, .estop, "released, but still latched: nothing restarts")
        XCTAssertFalse(run.harness.simulator.isEnabled)
    }

    func testSR12OperatorEstopPauseAndStopActInTheNextCycle() throws {
        let paused = try scenario([], seconds: 3, requests: [(1_000, .pause)])
        let pause = try XCTUnwrap(paused.report.transitions.first { $0.cause == .pauseRequested })
        XCTAssertEqual(pause.category, .cat2)
        let estopped = try scenario([], seconds: 3, requests: [(1_000, .emergencyStop)])
        let estop = try XCTUnwrap(estopped.firstTrip)
        XCTAssertEqual(estop.cause, .operatorEmergencyStop)
        XCTAssertEqual(estop.category, .cat0)
        let row = try XCTUnwrap(estopped.sample(cycle: estop.cycle))
        XCTAssertEqual(row.commandModes[0], 0, "torque off on the wire in the cycle that took the request")
        for run in [paused, estopped] {
            let transition = try XCTUnwrap(run.report.transitions.first { $0.cause == .pauseRequested || $0.cause == .operatorEmergencyStop })
            let start = try XCTUnwrap(run.report.transitions.first { $0.cause == .startRequested })
            let posted = start.time.advanced(byNanoseconds: 1_000 * millisecond)
            XCTAssertLessThanOrEqual(transition.time.nanoseconds(since: posted), 2 * millisecond, "within one control cycle")
        }
    }

    /// D1: an e-stop during the set-up (here while the direction test pushes a joint) is taken within
    /// one set-up cycle, torque off at once; a stop before enable means nothing is ever enabled.
    func testSR12AnEstopDuringTheDirectionTestIsTakenWithinOneCycleAndTheExerciseNeverStarts() throws {
        let harness = try VirtualSessionHarness(durationSeconds: 2)
        let control = harness.session.control
        // The link check takes ~0.25 s after the identity; at 0.6 s a joint is being watched or pushed.
        let postedAt = harness.clock.now().advanced(byNanoseconds: 600 * millisecond)
        harness.link.at(postedAt) { control.post(.emergencyStop) }
        try harness.session.prepare()
        let stop = try XCTUnwrap(harness.session.setUpStop)
        XCTAssertEqual(stop.cause, .operatorEmergencyStop)
        XCTAssertEqual(harness.session.supervisor.state, .estop)
        let transition = try XCTUnwrap(harness.session.supervisor.transitions.last)
        XCTAssertEqual(transition.cause, .operatorEmergencyStop)
        XCTAssertLessThanOrEqual(transition.time.nanoseconds(since: postedAt), 2 * millisecond, "within one set-up cycle of the request")
        let events = harness.simulator.takeEvents()
        let enabled = try XCTUnwrap(events.first { $0.kind == .enable }, "the direction test had enabled the device")
        XCTAssertLessThan(enabled.time, postedAt)
        let disabled = try XCTUnwrap(events.last { $0.kind == .disable })
        XCTAssertLessThanOrEqual(disabled.time.nanoseconds(since: postedAt), 2 * millisecond, "torque off within one set-up cycle")
        XCTAssertFalse(harness.simulator.isTorqueOn)
        let report = harness.session.run()
        XCTAssertEqual(report.cycles, 0, "the exercise never started")
        XCTAssertEqual(report.finalState, .estop)
        XCTAssertEqual(report.safetyEvents.first?.cause, .operatorEmergencyStop)
    }

    func testSR12AStopDuringTheLinkCheckEndsTheSetUpBeforeAnythingIsEnabled() throws {
        let harness = try VirtualSessionHarness(durationSeconds: 2)
        let control = harness.session.control
        harness.link.at(harness.clock.now().advanced(byNanoseconds: 100 * millisecond)) { control.post(.stop) }
        try harness.session.prepare()
        XCTAssertEqual(harness.session.setUpStop?.cause, .stopRequested)
        XCTAssertFalse(harness.simulator.takeEvents().contains { $0.kind == .enable }, "nothing was enabled")
        XCTAssertEqual(harness.session.run().cycles, 0)
    }

    /// SR-22 through the whole stack: the patient presses the device's stop button mid-exercise.
    func testSR22ThePatientsStopButtonStopsTheExerciseCat1InTheCycleItsStateArrives() throws {
        let run = try scenario([InjectedFault(.pressPatientStop, .afterEnableMilliseconds(1_500))], seconds: 4)
        let stop = try XCTUnwrap(run.report.transitions.first { $0.cause == .patientStop })
        XCTAssertEqual(stop.category, .cat1)
        XCTAssertLessThanOrEqual(try XCTUnwrap(run.millisecondsFromInjection(to: stop)), 2, "within one cycle of the press")
        XCTAssertEqual(run.report.finalState, .idle, "a controlled stop, then torque off")
        XCTAssertFalse(run.harness.simulator.isTorqueOn)
    }

    /// SR-24 and SR-20 through the session: the limits in force (a patient's torque cap included)
    /// are in the firmware before enable; a firmware that does not keep them is never enabled.
    func testSR24TheSessionWritesItsLimitsIntoTheFirmwareBeforeEnableAndRefusesAFirmwareThatIgnoresThem() throws {
        let degree = Units.radiansPerDegree
        let harness = try VirtualSessionHarness(durationSeconds: 1, adjust: { options in
            options.patientTorqueCaps = [SafetySettings.TorqueCap(positiveNewtonMeters: 1.2, negativeNewtonMeters: 0.8)]
        })
        try harness.session.prepare()
        XCTAssertEqual(harness.simulator.jointLimit(.torqueCapPositive, joint: 0), 1_200)
        XCTAssertEqual(harness.simulator.jointLimit(.torqueCapNegative, joint: 0), 800)
        XCTAssertEqual(harness.simulator.jointLimit(.torqueCapPositive, joint: 1), 2_500, "the profile's limit where no cap is given")
        XCTAssertEqual(harness.simulator.jointLimit(.softLimitMaximum, joint: 0), Int32((65 * degree * 1e6).rounded(.down)))
        XCTAssertEqual(harness.simulator.jointLimit(.velocityTrip, joint: 0), 2_475_000, "1.1 × the host's Cat 0 speed")
        let report = harness.session.run()
        XCTAssertLessThanOrEqual(report.joints[0].maxAbsTorqueNewtonMeters, 1.2 + 1e-9, "the clamp kept the cap")
        harness.session.finish()

        let ignoring = try VirtualSessionHarness(durationSeconds: 1) { _, link in link.inject([InjectedFault(.ignoreLimitWrites, .atMilliseconds(0))]) }
        XCTAssertThrowsError(try ignoring.session.prepare()) { error in
            XCTAssertTrue("\(error)".contains("SR-24"), "\(error)")
        }
        XCTAssertFalse(ignoring.simulator.takeEvents().contains { $0.kind == .enable }, "never enabled")
        XCTAssertThrowsError(try VirtualSessionHarness(durationSeconds: 1, adjust: { options in
            options.patientTorqueCaps = [SafetySettings.TorqueCap(positiveNewtonMeters: 3.5, negativeNewtonMeters: 1)]
        })) { error in XCTAssertTrue("\(error)".contains("may only lower"), "\(error)") }
    }

    /// SR-25 through the simulator: a firmware that answers commands without applying them (and
    /// still feeds its own watchdog, so nothing but the host can notice) → Cat 1 at 0.4 W.
    func testSR25AFirmwareThatIgnoresCommandsIsStoppedCat1At0Point4Watchdog() throws {
        let run = try scenario([InjectedFault(.ignoreCommands, .afterEnableMilliseconds(1_500))], seconds: 4)
        let trip = try XCTUnwrap(run.firstTrip)
        XCTAssertEqual(trip.cause, .commandsIgnored)
        XCTAssertEqual(trip.category, .cat1)
        let milliseconds = try XCTUnwrap(run.millisecondsFromInjection(to: trip))
        XCTAssertGreaterThan(milliseconds, 8, "0.4 W = 8 ms without an echo")
        XCTAssertLessThanOrEqual(milliseconds, 10)
    }

    /// SR-23 through the simulator: the device's clock runs 5 % fast → Cat 1 within the second
    /// that shows it (a 1 % drift is within the allowance).
    func testSR23ADeviceClockRunningFivePercentFastIsStoppedCat1() throws {
        let slight = try scenario([InjectedFault(.clockDrift(percent: 1), .afterEnableMilliseconds(1_000))], seconds: 3)
        XCTAssertFalse(slight.report.transitions.contains { $0.cause == .clockMismatch }, "\(slight.report.safetyEvents)")
        let run = try scenario([InjectedFault(.clockDrift(percent: 5), .afterEnableMilliseconds(1_000))], seconds: 4)
        let trip = try XCTUnwrap(run.firstTrip)
        XCTAssertEqual(trip.cause, .clockMismatch)
        XCTAssertEqual(trip.category, .cat1)
        XCTAssertGreaterThan(trip.value, 2)
        XCTAssertLessThanOrEqual(try XCTUnwrap(run.millisecondsFromInjection(to: trip)), 2_100, "within two windows of a second")
    }

    func testSR13ACat1StopThatCannotBrakeBecomesCat0At200Milliseconds() throws {
        // Paused; the brake fails and the patient leans on the joint (it drifts); the operator stops.
        let run = try scenario(
            [InjectedFault(.brakeFailure(joint: 0), .afterEnableMilliseconds(600)),
             InjectedFault(.externalTorque(joint: 0, newtonMeters: 0.05, rampMilliseconds: 0), .afterEnableMilliseconds(600))],
            requests: [(500, .pause), (900, .stop)])
        let stop = try XCTUnwrap(run.report.transitions.first { $0.cause == .stopRequested }, "\(run.report.transitions.map { ($0.cycle, $0.cause, $0.value) })")
        let escalation = try XCTUnwrap(run.report.safetyEvents.first { $0.cause == .stopDeadlineMissed }, "\(run.report.transitions.map { ($0.cycle, $0.cause, $0.value) })")
        XCTAssertEqual(escalation.category, .cat0)
        let elapsed = Double(escalation.time.nanoseconds(since: stop.time)) / 1e6
        XCTAssertGreaterThan(elapsed, 200)
        XCTAssertLessThanOrEqual(elapsed, 202)
        let row = try XCTUnwrap(run.sample(cycle: escalation.cycle))
        XCTAssertEqual(row.commandModes[0], 0, "torque off on the wire in that cycle")
    }

    // MARK: SR-17, SR-18, SR-19

    func testSR17ADeviceThatIsNotTheProfilesRobotIsRefusedAtIdentify() throws {
        let profile = try VirtualSessionHarness().profile
        var configuration = SimulatedDeviceConfiguration(profile: profile)
        configuration.model = "RH-ANKLE-1"
        configuration.joints.removeLast()
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        let device = SimulatedRehabLinkDevice(configuration: configuration, bootTime: clock.now())
        let link = InProcessDeviceLink(device: device, clock: clock)
        let session = try TherapySession(
            profile: profile, device: RehabLinkDevice(link: link, jointCount: profile.joints.count, clock: clock), clock: clock,
            options: .init(rateHertz: 1_000, durationSeconds: 1))
        XCTAssertThrowsError(try session.prepare()) { error in
            guard case .device(.identityMismatch(_, let problems)) = error as? SessionError else { return XCTFail("\(error)") }
            XCTAssertTrue(problems.contains { $0.contains("RH-ANKLE-1") }, "\(problems)")
            XCTAssertTrue(problems.contains { $0.contains("joint") }, "\(problems)")
        }
        XCTAssertFalse(device.takeEvents().contains { $0.kind == .enable }, "nothing enabled")
    }

    func testSR17AReversedEncoderIsRefusedBeforeAnythingMoves() throws {
        let harness = try VirtualSessionHarness { _, link in link.inject([InjectedFault(.reverseEncoder(joint: 1), .atMilliseconds(0))]) }
        XCTAssertThrowsError(try harness.session.prepare()) { error in
            guard case .device(.directionCheckFailed) = error as? SessionError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("pronation_supination"), "\(error)")
        }
        XCTAssertFalse(harness.simulator.isEnabled)
        XCTAssertEqual(harness.session.supervisor.transitions.last?.cause, .selfTestFailed)
        let enables = harness.simulator.takeEvents().filter { $0.kind == .enable }
        XCTAssertLessThanOrEqual(enables.count, 1)
    }

    func testSR18ReleaseGivesZeroTorqueOnlyWhileHeldAndAtStandstill() throws {
        let harness = try VirtualSessionHarness(durationSeconds: 5, adjust: { $0.holdsAfterFault = true })
        try harness.session.prepare()
        let start = harness.clock.now()
        let control = harness.session.control
        let clock = harness.clock
        let millisecond = self.millisecond
        // An operator e-stop (the device stays powered, torque off); then release is held for 300 ms.
        harness.link.at(start.advanced(byNanoseconds: 1_000 * millisecond)) { control.post(.emergencyStop) }
        harness.link.at(start.advanced(byNanoseconds: 1_200 * millisecond)) {
            control.holdRelease(until: clock.now().advanced(byNanoseconds: 300 * millisecond))
        }
        harness.link.at(start.advanced(byNanoseconds: 1_800 * millisecond)) { control.post(.stop) }
        let report = harness.session.run()
        harness.session.finish()
        let started = try XCTUnwrap(report.transitions.first { $0.cause == .releaseStarted })
        let ended = try XCTUnwrap(report.transitions.first { $0.cause == .releaseEnded })
        XCTAssertLessThan(started.value, 0.05, "began below the release standstill speed")
        XCTAssertEqual(Double(ended.time.nanoseconds(since: started.time)) / 1e6, 300, accuracy: 2, "held while the keep-alive lasted")
        let samples = harness.session.blackBox.samples()
        let releasing = samples.filter { $0.cycle > started.cycle && $0.cycle < ended.cycle }
        XCTAssertFalse(releasing.isEmpty)
        XCTAssertTrue(releasing.allSatisfy { $0.action == 4 && $0.commandModes[0] == 1 && $0.commandTorquesNewtonMeters[0] == 0 })
    }

    func testSR19AFaultWritesTheLastFiveSecondsAsMCAPWithTheTransitions() throws {
        let folder = NSTemporaryDirectory() + "rehabhost-blackbox-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try scenario([InjectedFault(.deviceFault(.overload), .afterEnableMilliseconds(6_000))], seconds: 8) {
            $0.blackBoxDirectory = folder
        }
        let path = try XCTUnwrap(run.report.blackBoxFiles.first)
        XCTAssertTrue(path.hasSuffix("-device_fault.mcap"), path)
        let file = try MCAPFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        XCTAssertTrue(file.isComplete)
        let trip = try XCTUnwrap(run.firstTrip)
        let states = file.messages(onTopic: "/joint_state")
        XCTAssertGreaterThanOrEqual(states.count, 5_000, "5 s at 1 kHz before the fault")
        let cycles = try states.map { try XCTUnwrap(JSONParser.parse(bytes: Array(file.data(of: $0))).objectValue?["cycle"]?.integerValue) }
        XCTAssertTrue(cycles.contains(trip.cycle), "the trip cycle itself")
        XCTAssertLessThanOrEqual(cycles.first!, trip.cycle - 5_000)
        XCTAssertGreaterThanOrEqual(cycles.last!, trip.cycle, "up to the end of the session (Cat 0 ended it)")
        XCTAssertEqual(zip(cycles, cycles.dropFirst()).filter { $1 != $0 + 1 }.count, 0, "every cycle, none missing")
        let events = try file.messages(onTopic: "/safety/event").map { try JSONParser.parse(bytes: Array(file.data(of: $0))) }
        let event = try XCTUnwrap(events.first?.objectValue)
        XCTAssertEqual(event["cause"]?.stringValue, "device_fault")
        XCTAssertEqual(event["to"]?.stringValue, "fault")
        XCTAssertEqual(event["cycle"]?.integerValue, trip.cycle)
        let session = try XCTUnwrap(file.metadata.first { $0.name == "session" })
        XCTAssertTrue(session.entries.contains { $0 == ("trigger_cause", "device_fault") })
    }
}
