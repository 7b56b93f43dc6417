import Foundation
import Profiles
import StrictJSON
import TestSupport
import XCTest

/// `device.dynamixel`: one servo per joint, checked as strictly as the rest of a profile.
final class DynamixelBusLayoutTests: XCTestCase {
    private func shipped() throws -> HardwareProfile {
        try HardwareProfileLoader.load(path: RepositoryPaths.file("hardware/dynamixel-wrist.json").path)
    }

    private func fields(_ text: String) throws -> JSONObject {
        try XCTUnwrap(JSONParser.parse(text).objectValue)
    }

    func testTheShippedProfileNamesTwoXM430ServosInJointOrder() throws {
        let profile = try shipped()
        XCTAssertEqual(profile.device.protocolIdentifier, "dynamixel/2.0")
        let (layout, issues) = DynamixelBusLayout.parse(profile.device.protocolFields, joints: profile.joints)
        XCTAssertEqual(issues, [])
        XCTAssertEqual(layout?.servos.map(\.id), [1, 2])
        XCTAssertEqual(layout?.servos.map(\.modelNumber), [1020, 1020])
        XCTAssertEqual(profile.device.baudRateBitsPerSecond, 4_000_000)
    }

    func testDirectionAndOffsetComeInSIUnitsAndDefaultsApply() throws {
        let joints = try shipped().joints
        let (layout, issues) = DynamixelBusLayout.parse(
            try fields(#"{"servos": [{"id": 7, "direction": -1, "zero_offset_deg": 90}, {"id": 3}]}"#), joints: joints)
        XCTAssertEqual(issues, [])
        let servos = try XCTUnwrap(layout).servos
        XCTAssertEqual(servos[0].direction, -1)
        XCTAssertEqual(servos[0].zeroOffsetRadians, .pi / 2, accuracy: 1e-12)
        XCTAssertEqual(servos[1].modelNumber, DynamixelBusLayout.xm430W350ModelNumber, "the model defaults to the XM430-W350")
        XCTAssertEqual(servos[1].direction, 1)
        XCTAssertEqual(servos[1].zeroOffsetRadians, 0)
    }

    func testEveryProblemIsReportedWithItsPath() throws {
        let joints = try shipped().joints
        func issues(_ text: String?) throws -> [String] {
            let parsed = try text.map { try fields($0) }
            let (layout, issues) = DynamixelBusLayout.parse(parsed, joints: joints)
            XCTAssertNil(layout, text ?? "nil")
            return issues.map(\.description)
        }
        XCTAssertEqual(try issues(nil), ["device.dynamixel: missing: a Dynamixel profile names its servos (\"servos\": one object per joint)"])
        XCTAssertEqual(try issues(#"{"servos": [{"id": 1}]}"#),
                       ["device.dynamixel.servos: lists 1 servo; the profile has 2 joints (one servo per joint, in their order)"])
        XCTAssertEqual(try issues(#"{"servo": [{"id": 1}, {"id": 2}]}"#),
                       ["device.dynamixel.servos: missing", "device.dynamixel.servo: unknown key; did you mean \"servos\"?"])
        XCTAssertEqual(try issues(#"{"servos": [{"id": 1}, {"id": 1}]}"#),
                       ["device.dynamixel.servos[1].id: servo ID 1 is listed twice: each joint needs its own servo"])
        XCTAssertEqual(try issues(#"{"servos": [{"id": 253}, {"id": 2, "direction": 0}]}"#), [
            "device.dynamixel.servos[0].id: must be between 0 and 252 (ID) (found 253)",
            "device.dynamixel.servos[1].direction: must be 1 or -1 (found 0)",
        ])
        XCTAssertEqual(try issues(#"{"servos": [{"id": 1, "baud": 4000000}, 2], "ids": [1, 2]}"#), [
            "device.dynamixel.servos[0].baud: unknown key (allowed: id, model_number, direction, zero_offset_deg)",
            "device.dynamixel.servos[1]: expected an object, found a number",
            "device.dynamixel.ids: unknown key (allowed: servos)",
        ])
    }

    /// A joint on a servo counts 4096 × its gear ratio per revolution; anything else is a typo.
    func testTheJointsEncoderMustBeTheServosTimesTheGear() throws {
        var joints = try shipped().joints
        joints[1].encoderCountsPerRevolution = 4_000
        let (layout, issues) = DynamixelBusLayout.parse(try fields(#"{"servos": [{"id": 1}, {"id": 2}]}"#), joints: joints)
        XCTAssertNil(layout)
        XCTAssertEqual(issues.map(\.description),
                       ["joints[1].encoder_counts_per_rev: a joint driven by an X-series servo counts 4096 × gear_ratio = 4096 per revolution (found 4000)"])
    }
}
