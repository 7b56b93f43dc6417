import Control
import DeviceModel
import Devices
import Foundation
import Primitives
import RehabLinkSimulator
import Transport
import Wire
import XCTest

/// SR-24 through the host's real driver and codec, against the simulated firmware in virtual time:
/// `configure` writes every limit, reads every one back, and refuses what the device
/// did not confirm.
final class SafetyLimitConfigurationTests: XCTestCase {
    private struct Rig {
        let clock: VirtualClock
        let device: SimulatedRehabLinkDevice
        let link: RehabLinkInProcessLink
        let driver: RehabLinkDevice
    }

    private func makeRig(_ adjust: (inout SimulatedDeviceConfiguration) -> Void = { _ in }) throws -> Rig {
        var configuration = try SimulatorHarness.wristConfiguration()
        adjust(&configuration)
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        let device = SimulatedRehabLinkDevice(configuration: configuration, bootTime: clock.now())
        let link = InProcessDeviceLink(device: device, clock: clock)
        return Rig(clock: clock, device: device, link: link, driver: RehabLinkDevice(link: link, jointCount: 2, clock: clock))
    }

    /// PARAM_GET sent over the rig's link as its own frame, and the PARAM that answers it decoded: a
    /// read-back independent of the driver under test.
    private func readParameterOverTheWire(_ rig: Rig, _ parameter: RehabLink.ParameterID) throws -> Int32 {
        var frame = RehabLink.EncodedFrame()
        RehabLink.FrameEncoder.encode(.parameterGet(parameter), sequence: 60_000, into: &frame)
        let deadline = rig.clock.now().advanced(byNanoseconds: 50 * Nanoseconds.perMillisecond)
        try frame.withUnsafeBytes { bytes throws(TransportError) in try rig.link.write(bytes, deadline: deadline) }
        var decoder = RehabLink.FrameDecoder()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 1)
        defer { buffer.deallocate() }
        while try rig.link.waitReadable(until: deadline) {
            let count = try rig.link.readAvailable(into: buffer)
            for index in 0..<count {
                if case .packet(let packet)? = decoder.push(buffer[index]), case .parameter(let report) = packet.message,
                    report.parameter == parameter
                {
                    XCTAssertEqual(report.result, .ok)
                    return report.value
                }
            }
        }
        throw DeviceError.noAnswer(port: rig.link.name, request: "PARAM_GET", waitedMilliseconds: 50)
    }

    /// ±65° and ±80° soft limits, per-direction caps below the ratings, a 2.25 rad/s trip.
    private let limits = DeviceSafetyLimits(joints: [
        .init(softMinimumRadians: -1.134464, softMaximumRadians: 1.134464, torqueCapPositiveNewtonMeters: 3.0,
              torqueCapNegativeNewtonMeters: 2.5, velocityTripRadiansPerSecond: 2.25),
        .init(softMinimumRadians: -1.396263, softMaximumRadians: 1.396263, torqueCapPositiveNewtonMeters: 2.5,
              torqueCapNegativeNewtonMeters: 2.0, velocityTripRadiansPerSecond: 2.25),
    ])

    private func problems(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            try body()
        } catch let error as DeviceError {
            guard case .safetyLimitsNotConfirmed(_, let problems) = error else {
                XCTFail("expected safetyLimitsNotConfirmed, got \(error)", file: file, line: line)
                return []
            }
            XCTAssertTrue(error.description.contains("refusing to enable"), error.description, file: file, line: line)
            XCTAssertTrue(error.description.contains("SR-24"), error.description, file: file, line: line)
            return problems
        } catch {
            XCTFail("\(error)", file: file, line: line)
            return []
        }
        XCTFail("configure did not throw", file: file, line: line)
        return []
    }

    func testConfigureSafetyLimitsWritesEveryLimitAndReadsItBack() throws {
        let rig = try makeRig()
        XCTAssertEqual(try rig.driver.readProtocolMinorVersion(), 1)
        try rig.driver.configure(limits)
        let expected: [(RehabLink.JointLimitParameter, [Int32])] = [
            (.softLimitMinimum, [-1_134_464, -1_396_263]), (.softLimitMaximum, [1_134_464, 1_396_263]),
            (.torqueCapPositive, [3_000, 2_500]), (.torqueCapNegative, [2_500, 2_000]), (.velocityTrip, [2_250_000, 2_250_000]),
        ]
        for (parameter, values) in expected {
            for joint in 0..<2 {
                XCTAssertEqual(rig.device.jointLimit(parameter, joint: joint), values[joint], "\(parameter) joint \(joint)")
                XCTAssertEqual(try readParameterOverTheWire(rig, parameter.id(joint: joint)), values[joint], "read back over the wire")
            }
        }
        XCTAssertFalse(rig.device.isEnabled, "set-up only: nothing enabled")
        // A range moved wholly above the one in effect: the driver writes the maximum first.
        var moved = limits
        moved.joints[0].softMinimumRadians = 1.15
        moved.joints[0].softMaximumRadians = 1.2
        try rig.driver.configure(moved)
        XCTAssertEqual(rig.device.jointLimit(.softLimitMinimum, joint: 0), 1_150_000)
        XCTAssertEqual(rig.device.jointLimit(.softLimitMaximum, joint: 0), 1_200_000)
    }

    func testAFirmwareThatAcknowledgesTheLimitsWithoutApplyingThemIsRefused() throws {
        let rig = try makeRig()
        rig.link.inject([InjectedFault(.ignoreLimitWrites, .now)])
        XCTAssertTrue(rig.device.ignoresSafetyLimitWrites)
        let found = problems { try rig.driver.configure(limits) }
        XCTAssertEqual(found.count, 10, "every limit of both joints differs: \(found)")
        XCTAssertTrue(found.contains("joint 0 torque cap, positive (parameter 0x0050): wrote 3.000 N·m, read back 4.000 N·m"), "\(found)")
        XCTAssertTrue(found.contains("joint 1 velocity trip (parameter 0x0061): wrote 2.250000 rad/s, read back 3.600000 rad/s"), "\(found)")
        XCTAssertTrue(found.contains("joint 0 soft minimum (parameter 0x0040): wrote -1.134464 rad, read back -1.221730 rad"), "\(found)")
    }

    func testALimitOutsideTheJointsRatingIsRefusedWithTheDevicesAnswer() throws {
        let rig = try makeRig()
        var tooMuch = limits
        tooMuch.joints[0].torqueCapPositiveNewtonMeters = 5.0  // rated 4 N·m
        let found = problems { try rig.driver.configure(tooMuch) }
        XCTAssertEqual(found, [
            "joint 0 torque cap, positive (parameter 0x0050): writing 5.000 N·m was refused: out_of_range (outside the joint's rating or range); 4.000 N·m is still in effect",
        ])
    }

    func testLimitsAreRefusedWhileTheDeviceIsEnabled() throws {
        let rig = try makeRig()
        _ = try rig.driver.activate(watchdogPeriodNanoseconds: 20 * Nanoseconds.perMillisecond)
        let found = problems { try rig.driver.configure(limits) }
        XCTAssertEqual(found.count, 10)
        XCTAssertTrue(found.allSatisfy { $0.contains("not_while_enabled") }, "\(found)")
    }

    func testARehabLink10DeviceCannotHoldTheLimitsAndIsRefused() throws {
        let rig = try makeRig { $0.protocolMinorVersion = 0 }
        XCTAssertEqual(try rig.driver.readProtocolMinorVersion(), 0)
        let found = problems { try rig.driver.configure(limits) }
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found.first?.contains("RehabLink 1.0") == true, "\(found)")
    }

    func testLimitsThatMakeNoSenseAreRefusedBeforeAnythingIsWritten() throws {
        let rig = try makeRig()
        var broken = limits
        broken.joints[1].softMinimumRadians = .nan
        broken.joints[0].torqueCapNegativeNewtonMeters = -1
        let found = problems { try rig.driver.configure(broken) }
        XCTAssertEqual(found.count, 2, "\(found)")
        XCTAssertEqual(rig.device.jointLimit(.torqueCapPositive, joint: 0), 4_000, "nothing written")
    }

    func testTheDriverMapsThePatientButtonsToTheDeviceCondition() throws {
        let rig = try makeRig()
        XCTAssertTrue(try rig.driver.requestFreshState().condition.isDisjoint(with: [.patientStop, .patientPause]))
        rig.link.inject([InjectedFault(.pressPatientStop, .now)])
        XCTAssertTrue(try rig.driver.requestFreshState().condition.contains(.patientStop))
        rig.link.inject([InjectedFault(.pressPatientPause, .now), InjectedFault(.releasePatientStop, .now)])
        let condition = try rig.driver.requestFreshState().condition
        XCTAssertTrue(condition.contains(.patientPause))
        XCTAssertFalse(condition.contains(.patientStop))
    }
}
