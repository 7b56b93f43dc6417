import Control
import DeviceModel
import Devices
import DynamixelSimulator
import Primitives
import Profiles
import Session
import SimulatorKit
import TestSupport
import XCTest

/// Whole therapy sessions on the shipped Dynamixel wrist: the registry's driver, the real codec and
/// the simulated servo bus in-process, in virtual time. Nothing above Devices knows the protocol.
final class DynamixelSessionTests: XCTestCase {
    private struct Harness {
        let profile: HardwareProfile
        let clock: VirtualClock
        let bus: SimulatedDynamixelBus
        let link: DynamixelInProcessLink
        let session: TherapySession

        init(durationSeconds: Double, rateHertz: Double = 1_000) throws {
            profile = try HardwareProfileLoader.load(path: RepositoryPaths.file("hardware/dynamixel-wrist.json").path)
            clock = VirtualClock(start: MonotonicInstant(nanoseconds: 5_000_000_000))
            let configuration = try XCTUnwrap(DynamixelBusConfiguration.simulating(profile).configuration)
            bus = SimulatedDynamixelBus(configuration: configuration, bootTime: clock.now())
            link = InProcessDeviceLink(device: bus, clock: clock)
            let driver = try DriverRegistry.standard.makeActuatedDevice(for: profile, link: link, clock: clock)
            session = try TherapySession(
                profile: profile, device: driver, clock: clock,
                options: TherapySession.Options(rateHertz: rateHertz, durationSeconds: durationSeconds, exercise: RangeOfMotionExercise()))
        }
    }

    func testAPassiveRangeOfMotionSessionRunsToItsEndOnTheServos() throws {
        let harness = try Harness(durationSeconds: 8)
        try harness.session.prepare()
        let report = harness.session.run()
        harness.session.finish()
        XCTAssertTrue(report.endedCleanly, "\(report.safetyEvents) \(report.linkError ?? "")")
        XCTAssertEqual(report.finalState, .idle)
        XCTAssertGreaterThanOrEqual(report.cycles, 8_000)
        XCTAssertEqual(report.identity?.model, "XM430-W350")
        let exercised = report.joints[0]
        // The default exercise: flexion–extension ±25°; the servo's loop on a host torque law.
        XCTAssertGreaterThan(exercised.rangeOfMotionRadians, 40 * Double.pi / 180, "\(exercised)")
        XCTAssertLessThan(exercised.rmsTrackingErrorRadians, 3 * Double.pi / 180, "\(exercised)")
        XCTAssertEqual(report.linkQuality?.secondsFair ?? -1, 0, "a 4 Mbit/s exchange fits a 1 kHz cycle")
        XCTAssertEqual(report.deviceLinkHealth?.checksumErrors, 0)
        if BuildConfiguration.isOptimized {
            XCTAssertTrue(report.allocations.counting, "the interposed allocator counts this session")
            XCTAssertEqual(report.allocations.total, 0,
                           "the Dynamixel cycle allocates nothing either: \(report.allocations.cyclesWithAllocations) cycles allocated, the first was \(report.allocations.firstAllocatingCycle ?? -1)")
        }
    }

    func testAnOverloadedServoIsADeviceFaultAndTheSessionStopsAtOnce() throws {
        let harness = try Harness(durationSeconds: 6)
        try harness.session.prepare()
        harness.link.inject([DynamixelInjectedFault(.overload(id: 2), .afterEnableMilliseconds(2_000))])
        let report = harness.session.run()
        harness.session.finish()
        XCTAssertEqual(report.safetyEvents.first?.cause, .deviceFault, "\(report.transitions)")
        XCTAssertEqual(report.finalState, .fault)
        XCTAssertLessThan(report.elapsedSeconds, 3, "stopped when the servo said so")
    }
    /// A servo that stops answering leaves the Fast Sync Read without its combined reply: no fresh state,
    /// SR-1 grades the link down to LOST and the session stops; nothing is commanded from old states.
    func testAServoThatFallsSilentStopsTheSessionBySR1() throws {
        let harness = try Harness(durationSeconds: 6)
        try harness.session.prepare()
        harness.link.inject([DynamixelInjectedFault(.servoSilent(id: 2), .afterEnableMilliseconds(2_000))])
        let report = harness.session.run()
        harness.session.finish()
        let event = try XCTUnwrap(report.safetyEvents.first, "\(report.transitions)")
        XCTAssertEqual(event.cause, .deviceSilent, "\(report.transitions)")
        XCTAssertLessThan(report.elapsedSeconds, 3)
        XCTAssertGreaterThan(report.linkQuality?.secondsLost ?? 0, 0)
    }

    // MARK: Link faults (SimulatorKit's, on the bus's replies), each with the host's reaction and its latency

    /// One session with `fault` injected 2 s after enable; the report, and the bus's events with their
    /// times in ms after the injection (the bus records the injection itself).
    private func sessionWithLinkFault(
        _ kind: FaultKind<DynamixelDeviceFault>, forMilliseconds duration: Double? = nil, seconds: Double = 5
    ) throws -> (report: SessionReport, busEvents: [(event: String, joint: Int?, milliseconds: Double)], injectedAt: MonotonicInstant) {
        let harness = try Harness(durationSeconds: seconds)
        try harness.session.prepare()
        harness.link.inject([DynamixelInjectedFault(kind, .afterEnableMilliseconds(2_000), forMilliseconds: duration)])
        let report = harness.session.run()
        harness.session.finish()
        // Let the servos' own clock run on (their Bus Watchdog) after the host has let go.
        harness.clock.advance(byNanoseconds: 100_000_000)
        harness.bus.advance(to: harness.clock.now())
        var records: [FirmwareEventRecord] = []
        harness.bus.drainEventRecords { records.append($0) }
        let injectedAt = try XCTUnwrap(records.first { $0.event == "fault_injected" }?.time, "the injection happened")
        let events = records.map { ($0.event, $0.joint, Double($0.time.nanoseconds(since: injectedAt)) / 1e6) }
        return (report, events, injectedAt)
    }

    private func milliseconds(_ event: SupervisorTransition, after instant: MonotonicInstant) -> Double {
        Double(event.time.nanoseconds(since: instant)) / 1e6
    }

    /// Every reply lost (a broken receive line): SR-1 as on any device — Cat 1 when the newest state is
    /// 0.6 W old, Cat 0 at W — and the servos, which still hear the host, turn torque off at its Cat 0.
    func testDroppedRepliesStopCat1At12MillisecondsAndTheServosTorqueOffAtTheCat0() throws {
        let run = try sessionWithLinkFault(.link(.dropReplies))
        let events = run.report.safetyEvents
        XCTAssertEqual(events.map(\.cause), [.deviceSilent, .deviceSilentTooLong, .stopNotConfirmed], "\(run.report.transitions)")
        let cat1 = milliseconds(events[0], after: run.injectedAt)
        let cat0 = milliseconds(events[1], after: run.injectedAt)
        XCTAssertEqual(events[0].category, .cat1)
        XCTAssertEqual(events[1].category, .cat0)
        XCTAssertLessThanOrEqual(cat1, 13, "Cat 1 once the newest state is 12 ms old (0.6 W)")
        XCTAssertLessThanOrEqual(cat0, 21, "Cat 0 at W = 20 ms")
        let torqueOff = run.busEvents.filter { $0.event == "torque_off" }
        XCTAssertEqual(Set(torqueOff.map(\.joint)), [0, 1], "both servos: \(run.busEvents)")
        for event in torqueOff { XCTAssertLessThanOrEqual(event.milliseconds, cat0 + 1, "the host's Torque Enable 0, not the watchdog") }
        XCTAssertFalse(run.busEvents.contains { $0.event == "watchdog_stop" }, "the host kept writing: \(run.busEvents)")
        print("dynamixel drop_replies: Cat 1 \(cat1) ms, Cat 0 \(cat0) ms, servos torque off \(torqueOff.map(\.milliseconds)) ms after the fault")
    }

    /// Every reply damaged: the CRC throws each away, which is the same as losing it.
    func testCorruptionOfEveryReplyIsASilentDeviceToSR1() throws {
        let run = try sessionWithLinkFault(.link(.corruptBytes(everyNth: 7)))
        XCTAssertEqual(run.report.safetyEvents.first?.cause, .deviceSilent, "\(run.report.transitions)")
        XCTAssertLessThanOrEqual(milliseconds(try XCTUnwrap(run.report.safetyEvents.first), after: run.injectedAt), 13)
        XCTAssertGreaterThan(run.report.deviceLinkHealth?.checksumErrors ?? 0, 5, "counted as CRC errors")
        XCTAssertEqual(Set(run.busEvents.filter { $0.event == "torque_off" }.map(\.joint)), [0, 1])
    }

    /// One byte in 2000 damaged (a reply in ~45): each damaged reply is lost and its read retired, so
    /// the next state is dated by its own read. It used to be dated by the lost one's: every loss made
    /// all later states a period older, and the session went FAIR and then paused POOR.
    func testOccasionalCorruptionIsRiddenAtFullQualityBecauseADamagedReplyRetiresItsRead() throws {
        let run = try sessionWithLinkFault(.link(.corruptBytes(everyNth: 2_000)))
        XCTAssertTrue(run.report.safetyEvents.isEmpty, "\(run.report.safetyEvents)")
        XCTAssertTrue(run.report.endedCleanly)
        let health = try XCTUnwrap(run.report.deviceLinkHealth)
        XCTAssertGreaterThan(health.checksumErrors, 20, "\(health)")
        XCTAssertGreaterThanOrEqual(health.unansweredRequests, health.checksumErrors, "each damaged reply retired its read")
        let quality = try XCTUnwrap(run.report.linkQuality)
        XCTAssertEqual(quality.secondsFair, 0, quality.summary)
        XCTAssertLessThanOrEqual(quality.worstStateAgeMilliseconds, 2.5, "one lost reply at most: the state before it")
    }

    /// Replies 8 ms late for 50 ms (an adapter's latency timer, a loaded hub): FAIR, the servos hold on
    /// their own loop, and the session goes on once the link is GOOD again; nothing is stopped.
    func testABriefSpellOfLateRepliesIsHeldThroughAsFairAndRidden() throws {
        let run = try sessionWithLinkFault(.link(.delayReplies(milliseconds: 8)), forMilliseconds: 50)
        XCTAssertTrue(run.report.safetyEvents.isEmpty, "\(run.report.safetyEvents)")
        XCTAssertTrue(run.report.endedCleanly)
        let quality = try XCTUnwrap(run.report.linkQuality)
        XCTAssertEqual(quality.fairEpisodes, 1, quality.summary)
        XCTAssertEqual(quality.secondsPoor, 0, quality.summary)
        XCTAssertLessThan(quality.worstStateAgeMilliseconds, 12, "never LOST")
        let degraded = try XCTUnwrap(run.report.transitions.first { $0.cause == .linkDegraded })
        let fairAfter = Double(degraded.time.nanoseconds(since: run.injectedAt)) / 1e6
        XCTAssertLessThanOrEqual(fairAfter, 4, "FAIR once the newest state is beyond the GOOD age (3 ms)")
        print("dynamixel delay_replies 8 ms for 50 ms: FAIR after \(fairAfter) ms, \(quality.summary)")
    }

    /// Replies 8 ms late for good: FAIR, then POOR (a Cat 2 pause, not latched) once FAIR has held 80 %
    /// of 5 s; the servos stay fed (no watchdog stop) and hold where they are.
    func testLastingLateRepliesPauseTheSessionAsPoorWithTheServosHolding() throws {
        let run = try sessionWithLinkFault(.link(.delayReplies(milliseconds: 8)), seconds: 8)
        XCTAssertTrue(run.report.safetyEvents.allSatisfy { $0.category != .cat0 }, "\(run.report.safetyEvents)")
        let poor = try XCTUnwrap(run.report.transitions.first { $0.cause == .linkPoor }, "\(run.report.transitions)")
        XCTAssertEqual(poor.to, .paused)
        let poorAfter = Double(poor.time.nanoseconds(since: run.injectedAt)) / 1e6
        XCTAssertEqual(poorAfter, 4_000, accuracy: 100, "80 % of a 5 s window")
        XCTAssertFalse(run.busEvents.contains { $0.event == "watchdog_stop" }, "the servos were fed throughout: \(run.busEvents)")
        print("dynamixel delay_replies 8 ms: POOR pause after \(poorAfter) ms")
    }

    /// The adapter unplugged: Cat 0 in the same cycle (the host cannot write any more), and the servos,
    /// no longer fed, stop on their Bus Watchdog within its 20 ms.
    func testUnplugIsCat0AtOnceAndTheServosStopOnTheirBusWatchdogWithin20Milliseconds() throws {
        let run = try sessionWithLinkFault(.link(.unplug))
        let event = try XCTUnwrap(run.report.safetyEvents.first)
        XCTAssertEqual(event.cause, .linkLost)
        XCTAssertEqual(event.category, .cat0)
        XCTAssertLessThanOrEqual(milliseconds(event, after: run.injectedAt), 1, "in the cycle that met the unplug")
        XCTAssertNotNil(run.report.linkError)
        let stops = run.busEvents.filter { $0.event == "watchdog_stop" }
        XCTAssertEqual(Set(stops.map(\.joint)), [0, 1], "\(run.busEvents)")
        for stop in stops { XCTAssertLessThanOrEqual(stop.milliseconds, 20, "within the Bus Watchdog's 20 ms of the last write") }
        print("dynamixel unplug: Cat 0 \(milliseconds(event, after: run.injectedAt)) ms, servos' watchdog stop \(stops.map(\.milliseconds)) ms after")
    }
}
