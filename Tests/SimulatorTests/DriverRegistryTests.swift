import DeviceModel
import Devices
import Foundation
import Primitives
import Profiles
import RehabLinkSimulator
import TestSupport
import Transport
import XCTest

/// The driver registry: which protocols this build speaks, the problems it finds in a profile's
/// device section before anything is opened, and the driver it builds — here over the in-process
/// link to the simulated RehabLink firmware, in virtual time.
final class DriverRegistryTests: XCTestCase {
    private let wristPath = RepositoryPaths.file("hardware/wrist-trainer.json").path
    private let protocolLine = "\"protocol\": \"rehablink/1\","

    /// The wrist profile with `original` replaced by `replacement` in its text, loaded from a temporary file.
    private func wrist(replacing original: String, with replacement: String, file: StaticString = #filePath, line: UInt = #line) throws
        -> HardwareProfile
    {
        let text = try String(contentsOfFile: wristPath, encoding: .utf8)
        let changed = text.replacingOccurrences(of: original, with: replacement)
        XCTAssertNotEqual(changed, text, "the wrist profile no longer contains \(original)", file: file, line: line)
        let path = NSTemporaryDirectory() + "/rehabhost-registry-\(UUID().uuidString).json"
        try changed.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return try HardwareProfileLoader.load(path: path)
    }

    private func shipped(_ name: String) throws -> HardwareProfile {
        try HardwareProfileLoader.load(path: RepositoryPaths.file("hardware/\(name).json").path)
    }

    /// The wrist profile speaking a protocol this build does not (CiA 402 over CANopen), with its `device.canopen` object.
    private func canopenProfile() throws -> HardwareProfile {
        try wrist(replacing: protocolLine, with: "\"protocol\": \"canopen/402\",\n    \"canopen\": {\"node_ids\": [1, 2]},")
    }

    /// A link to the simulated wrist firmware on a virtual clock.
    private func simulatedLink() throws -> (link: RehabLinkInProcessLink, clock: VirtualClock) {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        let device = SimulatedRehabLinkDevice(configuration: try SimulatorHarness.wristConfiguration(), bootTime: clock.now())
        return (InProcessDeviceLink(device: device, clock: clock), clock)
    }

    /// A protocol of a test's own: it wants its `device.canopen` object, and builds a RehabLink
    /// driver as a stand-in (only the registry's bookkeeping is under test).
    private static let canopen = DriverRegistry.Entry(
        protocolIdentifier: "canopen/402", summary: "a test's stand-in",
        checkFields: { fields, _ in fields == nil ? ["device.canopen: the node ids are missing"] : [] },
        makeActuatedDevice: { _, joints, link, clock in RehabLinkDevice(link: link, jointCount: max(1, joints.count), clock: clock) })

    // MARK: problems(with:)

    func testTheShippedProfilesHaveNoProblems() throws {
        XCTAssertEqual(DriverRegistry.standard.supportedProtocols, ["rehablink/1", "dynamixel/2.0"])
        for name in ["wrist-trainer", "ankle-trainer", "dynamixel-wrist"] {
            XCTAssertEqual(DriverRegistry.standard.problems(with: try shipped(name)), [], name)
        }
    }

    func testAnUnknownProtocolIsOneProblemNamingItAndListingTheSupportedOnes() throws {
        let profile = try canopenProfile()
        XCTAssertEqual(profile.device.protocolIdentifier, "canopen/402")
        let problems = DriverRegistry.standard.problems(with: profile)
        XCTAssertEqual(problems.count, 1, "\(problems)")
        let problem = problems.first ?? ""
        XCTAssertTrue(problem.hasPrefix("device.protocol"), problem)
        XCTAssertTrue(problem.contains("\"canopen/402\""), "names the protocol: \(problem)")
        XCTAssertTrue(problem.contains("\"rehablink/1\", \"dynamixel/2.0\""), "lists what this build speaks: \(problem)")
    }

    func testRehabLinkHasNoFieldsOfItsOwn() throws {
        let withField = try wrist(replacing: protocolLine, with: protocolLine + "\n    \"rehablink\": {\"x\": 1},")
        let problems = DriverRegistry.standard.problems(with: withField)
        XCTAssertEqual(problems.count, 1, "\(problems)")
        let problem = problems.first ?? ""
        XCTAssertTrue(problem.hasPrefix("device.rehablink"), problem)
        XCTAssertTrue(problem.contains("\"x\""), "names the field: \(problem)")
        let empty = try wrist(replacing: protocolLine, with: protocolLine + "\n    \"rehablink\": {},")
        XCTAssertEqual(DriverRegistry.standard.problems(with: empty), [], "an empty object is allowed")
    }

    /// A servo model RehabHost has no datasheet figures for (ratings for SR-17, the shared control table)
    /// is refused at load, naming the ID and listing the models it knows.
    func testADynamixelServoOfAnUnknownModelIsAProblemNamingItsIDAndTheKnownModels() throws {
        let text = try String(contentsOf: RepositoryPaths.file("hardware/dynamixel-wrist.json"), encoding: .utf8)
        var changed = text
        let second = try XCTUnwrap(changed.range(of: "\"model_number\": 1020", options: .backwards))
        changed.replaceSubrange(second, with: "\"model_number\": 1120")
        let path = NSTemporaryDirectory() + "/rehabhost-registry-\(UUID().uuidString).json"
        try changed.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        let problems = DriverRegistry.standard.problems(with: try HardwareProfileLoader.load(path: path))
        XCTAssertEqual(problems.count, 1, "\(problems)")
        let problem = problems.first ?? ""
        XCTAssertTrue(problem.contains("model_number 1120 of ID 2"), problem)
        XCTAssertTrue(problem.contains("1020 (XM430-W350)") && problem.contains("1030 (XM430-W210)"), problem)
    }

    // MARK: makeActuatedDevice(for:link:clock:)

    func testTheDriverForTheWristIsARehabLinkDeviceThatAnswersAndStopsWithAHostVelocityRamp() throws {
        let profile = try shipped("wrist-trainer")
        let (link, clock) = try simulatedLink()
        let device = try DriverRegistry.standard.makeActuatedDevice(for: profile, link: link, clock: clock)
        XCTAssertTrue(device is RehabLinkDevice)
        XCTAssertEqual(device.jointCount, profile.joints.count)
        XCTAssertEqual(device.capabilities.quickStop, .hostVelocityRamp)
        XCTAssertTrue(device.capabilities.controlModes.contains(.velocity), "a host velocity ramp needs velocity mode")
        let identity = try device.identify()
        XCTAssertEqual(identity.model, profile.device.model, "it talks to the simulated wrist over the link")
        XCTAssertEqual(identity.joints.count, profile.joints.count)
    }

    func testNoDriverIsBuiltForAProfileWithProblems() throws {
        let (link, clock) = try simulatedLink()
        let profiles = try [
            canopenProfile(),
            wrist(replacing: protocolLine, with: protocolLine + "\n    \"rehablink\": {\"x\": 1},"),
        ]
        for profile in profiles {
            let expected = DriverRegistry.standard.problems(with: profile)
            XCTAssertFalse(expected.isEmpty)
            XCTAssertThrowsError(try DriverRegistry.standard.makeActuatedDevice(for: profile, link: link, clock: clock)) { error in
                guard let refusal = error as? DriverRegistryError else { return XCTFail("\(error)") }
                XCTAssertEqual(refusal.profile, profile.name)
                XCTAssertEqual(refusal.problems, expected)
                XCTAssertTrue(refusal.description.contains(expected.first ?? "(none)"), refusal.description)
            }
        }
    }

    // MARK: adding(_:)

    func testAddingAProtocolMakesItsProfilesDrivable() throws {
        let registry = DriverRegistry.standard.adding(Self.canopen)
        XCTAssertEqual(registry.supportedProtocols, ["rehablink/1", "dynamixel/2.0", "canopen/402"])
        XCTAssertEqual(DriverRegistry.standard.supportedProtocols, ["rehablink/1", "dynamixel/2.0"], "the standard registry is unchanged")
        let profile = try canopenProfile()
        XCTAssertEqual(registry.problems(with: profile), [], "its own check saw the profile's device.canopen object")
        XCTAssertEqual(registry.problems(with: try shipped("wrist-trainer")), [], "RehabLink is still spoken")
        let withoutIDs = try wrist(replacing: protocolLine, with: "\"protocol\": \"canopen/402\",")
        XCTAssertEqual(registry.problems(with: withoutIDs), ["device.canopen: the node ids are missing"])
        let (link, clock) = try simulatedLink()
        let device = try registry.makeActuatedDevice(for: profile, link: link, clock: clock)
        XCTAssertEqual(device.jointCount, profile.joints.count, "built with the profile's joint count")
        XCTAssertThrowsError(try registry.makeActuatedDevice(for: withoutIDs, link: link, clock: clock))
        // An unknown protocol now lists both.
        let unknown = try wrist(replacing: protocolLine, with: "\"protocol\": \"ethercat/1\",")
        let problem = registry.problems(with: unknown).first ?? ""
        XCTAssertTrue(problem.contains("\"rehablink/1\"") && problem.contains("\"canopen/402\""), problem)
    }

    func testAddingAProtocolWithAKnownIdentifierReplacesIt() throws {
        let replacement = DriverRegistry.Entry(
            protocolIdentifier: "rehablink/1", summary: "a lab's own RehabLink driver",
            checkFields: { _, _ in ["replaced"] },
            makeActuatedDevice: { _, joints, link, clock in RehabLinkDevice(link: link, jointCount: max(1, joints.count), clock: clock) })
        let registry = DriverRegistry.standard.adding(Self.canopen).adding(replacement)
        XCTAssertEqual(registry.supportedProtocols.filter { $0 == "rehablink/1" }.count, 1, "\(registry.supportedProtocols)")
        XCTAssertEqual(Set(registry.supportedProtocols), ["rehablink/1", "dynamixel/2.0", "canopen/402"])
        XCTAssertEqual(registry.entries.first { $0.protocolIdentifier == "rehablink/1" }?.summary, "a lab's own RehabLink driver")
        XCTAssertEqual(registry.problems(with: try shipped("wrist-trainer")), ["replaced"], "the replacement checks the profile")
        XCTAssertEqual(DriverRegistry.standard.problems(with: try shipped("wrist-trainer")), [], "the standard entry is untouched")
    }
}
