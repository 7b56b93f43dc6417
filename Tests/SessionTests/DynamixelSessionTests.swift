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
}
