import Foundation
import Profiles
import StrictJSON
import TestSupport
import XCTest

/// The profile's `device.protocol` ("family/version") and the protocol's own fields under the
/// family's key: their form is the loader's to check; which protocols exist is the driver registry's.
final class ProfileProtocolFieldTests: XCTestCase {
    private let wristPath = RepositoryPaths.file("hardware/wrist-trainer.json").path

    /// The wrist profile with its device section edited, validated.
    private func wrist(device edit: (inout JSONObject) -> Void) throws -> Result<HardwareProfile, ProfileError> {
        var object = try XCTUnwrap(try JSONParser.parse(String(contentsOfFile: wristPath, encoding: .utf8)).objectValue)
        var device = try XCTUnwrap(object["device"]?.objectValue)
        edit(&device)
        object["device"] = .object(device)
        do {
            return .success(try HardwareProfileLoader.parse(object, sourcePath: "protocol-test.json"))
        } catch {
            return .failure(error)
        }
    }

    private func issues(
        _ result: Result<HardwareProfile, ProfileError>, _ message: String = "", file: StaticString = #filePath, line: UInt = #line
    ) -> [ProfileIssue] {
        switch result {
        case .success:
            XCTFail("accepted: \(message)", file: file, line: line)
            return []
        case .failure(.invalid(_, let issues)):
            return issues
        case .failure(let error):
            XCTFail("expected .invalid, got \(error) \(message)", file: file, line: line)
            return []
        }
    }

    func testAProtocolNotOfTheFormFamilySlashVersionIsRefusedWithTheFormAndWhatWasFound() throws {
        for text in ["rehablink", "RehabLink/1", "rehab link/1", "x/1.2.3.4", "rehablink/", "/1", "rehablink/v1", "rehablink/1/2"] {
            let found = issues(try wrist { $0["protocol"] = .string(text) }, text)
            XCTAssertEqual(found.map(\.path), ["device.protocol"], text)
            let message = found.first?.message ?? ""
            XCTAssertTrue(message.contains("expected \"family/version\""), "\(text): \(message)")
            XCTAssertTrue(message.contains("\"\(text)\""), "names what it found: \(text): \(message)")
        }
    }

    func testAProtocolThatIsNotAStringIsRefused() throws {
        let found = issues(try wrist { $0["protocol"] = .integer(1) })
        XCTAssertEqual(found.map(\.path), ["device.protocol"])
    }

    func testTheShippedRehabLinkProtocolHasItsFamilyAndVersionAndNoFieldsOfItsOwn() throws {
        let profile = try wrist { _ in }.get()
        XCTAssertEqual(profile.device.protocolIdentifier, "rehablink/1")
        XCTAssertEqual(profile.device.protocolFamily, "rehablink")
        XCTAssertEqual(profile.device.protocolVersion, 1)
        XCTAssertNil(profile.device.protocolFields, "the profile has no \"rehablink\" object")
    }

    /// An unknown protocol loads (the registry refuses it later, with the protocols it speaks), and
    /// its own object is kept for its driver — not reported as an unknown key.
    func testAnotherProtocolLoadsWithItsFamilyVersionAndFieldsKept() throws {
        let profile = try wrist {
            $0["protocol"] = .string("dynamixel/2.0")
            $0["dynamixel"] = .object(["ids": .array([.integer(1), .integer(2)])])
        }.get()
        XCTAssertEqual(profile.device.protocolIdentifier, "dynamixel/2.0")
        XCTAssertEqual(profile.device.protocolFamily, "dynamixel")
        XCTAssertEqual(profile.device.protocolVersion, 2)
        let fields = try XCTUnwrap(profile.device.protocolFields)
        XCTAssertEqual(fields.keys, ["ids"])
        XCTAssertEqual(fields["ids"]?.arrayValue?.compactMap(\.integerValue), [1, 2])
    }

    func testAnEmptyObjectOfTheProtocolsOwnIsKeptEmpty() throws {
        let profile = try wrist { $0["rehablink"] = .object(JSONObject()) }.get()
        XCTAssertEqual(profile.device.protocolFields?.keys, [])
    }

    /// Only the object under the profile's own family is the protocol's: another family's is an unknown key.
    func testAnotherFamilysObjectIsAnUnknownKey() throws {
        let dynamixelUnderRehabLink = issues(try wrist { $0["dynamixel"] = .object(["ids": .array([.integer(1)])]) })
        XCTAssertEqual(dynamixelUnderRehabLink.map(\.path), ["device.dynamixel"])
        XCTAssertTrue(dynamixelUnderRehabLink.first?.message.contains("unknown key") == true, "\(dynamixelUnderRehabLink)")
        let rehabLinkUnderDynamixel = issues(try wrist {
            $0["protocol"] = .string("dynamixel/2.0")
            $0["rehablink"] = .object(JSONObject())
        })
        XCTAssertEqual(rehabLinkUnderDynamixel.map(\.path), ["device.rehablink"])
        XCTAssertTrue(rehabLinkUnderDynamixel.first?.message.contains("unknown key") == true, "\(rehabLinkUnderDynamixel)")
    }

    func testTheProtocolsOwnFieldsMustBeAnObject() throws {
        let found = issues(try wrist {
            $0["protocol"] = .string("dynamixel/2.0")
            $0["dynamixel"] = .array([.integer(1), .integer(2)])
        })
        XCTAssertEqual(found.map(\.path), ["device.dynamixel"])
        XCTAssertTrue(found.first?.message.contains("expected an object") == true, "\(found)")
    }

    func testDeviceSectionParse() {
        let valid: [(String, String, Int)] = [
            ("rehablink/1", "rehablink", 1), ("dynamixel/2.0", "dynamixel", 2), ("cia-402/3.1.4", "cia-402", 3), ("a1/0", "a1", 0),
            ("x/1234.5678", "x", 1234),
        ]
        for (text, family, major) in valid {
            let parsed = DeviceSection.parse(text)
            XCTAssertEqual(parsed?.family, family, text)
            XCTAssertEqual(parsed?.major, major, text)
        }
        let invalid = [
            "", "rehablink", "RehabLink/1", "rehab link/1", "x/1.2.3.4", "/1", "x/", "x//1", "x/1/2", "x/v1", "x/1.", "x/.1", "x/1..2",
            "x/12345", "x/-1", "x/+1", "x/1 ", " x/1", "Dynamixel/2.0", "dynamixel_2/1", String(repeating: "a", count: 33) + "/1", "rehablink/1.½", "rehablink/١",
        ]
        for text in invalid {
            XCTAssertNil(DeviceSection.parse(text), "\"\(text)\"")
        }
        XCTAssertNotNil(DeviceSection.parse(String(repeating: "a", count: 32) + "/1"), "a family of 32 characters")
    }

    /// The section built in code derives the family and the major version as the loader does.
    func testADeviceSectionDerivesItsFamilyAndVersionFromTheIdentifier() {
        let section = DeviceSection(
            protocolIdentifier: "dynamixel/2.0", model: "XM430", minimumFirmware: FirmwareVersion(major: 1, minor: 0, patch: 0),
            baudRateBitsPerSecond: 1_000_000, replyBudgetNanoseconds: 500_000, watchdogPeriodNanoseconds: 20_000_000)
        XCTAssertEqual(section.protocolFamily, "dynamixel")
        XCTAssertEqual(section.protocolVersion, 2)
        XCTAssertNil(section.protocolFields)
    }
}
