import DynamixelSimulator
import Profiles
import StrictJSON
import TestSupport
import XCTest

/// rehabsim's Dynamixel bus comes from a profile: the servos of `device.dynamixel`, the profile's baud
/// rate, each joint's physics on its servo's horn, factory values elsewhere.
final class DynamixelBusProfileTests: XCTestCase {
    private func shipped() throws -> HardwareProfile {
        try HardwareProfileLoader.load(path: RepositoryPaths.file("hardware/dynamixel-wrist.json").path)
    }

    func testTheShippedProfileBecomesTwoFactoryFreshServosAt4Mbaud() throws {
        let profile = try shipped()
        let (built, problems) = DynamixelBusConfiguration.simulating(profile, serialNumber: "LAB-7")
        XCTAssertEqual(problems, [])
        let configuration = try XCTUnwrap(built)
        XCTAssertEqual(configuration.servos.map(\.id), [1, 2])
        XCTAssertEqual(configuration.servos.map(\.modelNumber), [1020, 1020])
        XCTAssertEqual(configuration.servos.map(\.baudRateCode), [6, 6], "4 Mbit/s is Baud Rate 6 (README §1)")
        XCTAssertEqual(configuration.servos.map(\.operatingMode), [3, 3], "out of the box: Position Control")
        XCTAssertEqual(configuration.servos.map(\.returnDelayTime), [250, 250], "out of the box: 500 µs")
        XCTAssertGreaterThanOrEqual(configuration.servos[0].firmwareVersion, 45, "the profile's firmware_min")
        XCTAssertEqual(configuration.servos[0].plant.inertiaKilogramSquareMeters, profile.joints[0].inertiaKilogramSquareMeters)
        XCTAssertEqual(configuration.servos[1].plant.hardLimitMaximumRadians, .pi + profile.joints[1].hardLimitMaximumRadians, accuracy: 1e-12,
                       "zero_offset_deg 180: the joint's zero at the middle of the servo's turn")
        XCTAssertEqual(configuration.model, "XM430-W350")
        XCTAssertEqual(configuration.serialNumber, "LAB-7")
    }

    /// The stops are the joint's, seen from the servo: a reversed servo with an offset has them mirrored
    /// about its offset, and it powers up at the joint's zero.
    func testAReversedServoWithAnOffsetHasTheJointsStopsMirroredAboutItsZero() throws {
        var profile = try shipped()
        profile.device.protocolFields = try XCTUnwrap(JSONParser.parse(
            #"{"servos": [{"id": 1, "direction": -1, "zero_offset_deg": 180}, {"id": 2}]}"#).objectValue)
        let configuration = try XCTUnwrap(DynamixelBusConfiguration.simulating(profile).configuration)
        let servo = configuration.servos[0]
        XCTAssertEqual(servo.initialPositionRadians, .pi, accuracy: 1e-12)
        XCTAssertEqual(servo.plant.hardLimitMinimumRadians, .pi - profile.joints[0].hardLimitMaximumRadians, accuracy: 1e-12)
        XCTAssertEqual(servo.plant.hardLimitMaximumRadians, .pi - profile.joints[0].hardLimitMinimumRadians, accuracy: 1e-12)
    }

    func testWhatTheBusCannotBeIsRefusedWithTheReason() throws {
        var profile = try shipped()
        profile.device.baudRateBitsPerSecond = 2_500_000
        XCTAssertEqual(DynamixelBusConfiguration.simulating(profile).problems,
                       ["profile dynamixel-wrist: device.baud_rate_bps 2500000 is not an X-series rate (9600, 57600, 115200, 1000000, 2000000, 3000000, 4000000, 4500000)"])
        profile = try shipped()
        profile.joints[0].gearRatio = 3
        profile.joints[0].encoderCountsPerRevolution = 3 * 4_096
        XCTAssertEqual(DynamixelBusConfiguration.simulating(profile).problems,
                       ["profile dynamixel-wrist: joints[0].gear_ratio 3.0: the simulator puts each joint on its servo's horn (gear_ratio 1)"])
        profile = try shipped()
        profile.device.protocolFields = nil
        XCTAssertEqual(DynamixelBusConfiguration.simulating(profile).problems.first?.hasPrefix("profile dynamixel-wrist: device.dynamixel: missing"), true)
    }
}
