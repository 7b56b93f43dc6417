import DeviceModel
import Platform
import Primitives
import Profiles
import StrictJSON
import Transport
import Wire

/// Builds device drivers from a profile's `device` section: one entry per protocol, keyed by the
/// profile's `"protocol"` ("rehablink/1"). Every command that talks to a device goes through it, so
/// that adding a protocol is a codec (Wire), a driver and an entry here, a simulator and a profile —
/// and nothing above Devices changes (docs/adding-a-protocol.md).
public struct DriverRegistry: Sendable {
    /// One protocol: how to check its own profile fields and how to build its driver.
    public struct Entry: Sendable {
        /// The profile's `"protocol"` value, "family/version".
        public var protocolIdentifier: String
        /// One line for `--help` and error messages.
        public var summary: String
        /// Checks the protocol's own fields (`device.<family>`, nil when absent) against the profile's
        /// joints: one line per problem, naming the field; empty when they are usable.
        public var checkFields: @Sendable (_ fields: JSONObject?, _ joints: [JointProfile]) -> [String]
        /// Builds the driver for a device with these joints on `link`, timed by `clock` (no joints:
        /// a device without a profile, `rehabctl identify --protocol`).
        public var makeActuatedDevice: @Sendable (_ section: DeviceSection, _ joints: [JointProfile], _ link: ByteLink, _ clock: LoopClock) -> any ActuatedDevice

        public init(
            protocolIdentifier: String, summary: String,
            checkFields: @escaping @Sendable (_ fields: JSONObject?, _ joints: [JointProfile]) -> [String],
            makeActuatedDevice: @escaping @Sendable (_ section: DeviceSection, _ joints: [JointProfile], _ link: ByteLink, _ clock: LoopClock) -> any ActuatedDevice
        ) {
            self.protocolIdentifier = protocolIdentifier
            self.summary = summary
            self.checkFields = checkFields
            self.makeActuatedDevice = makeActuatedDevice
        }
    }

    public private(set) var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// The protocols this build speaks.
    public static let standard = DriverRegistry(entries: [rehabLink, dynamixel])

    /// RehabLink v1.x (protocols/rehablink/README.md): the project's own protocol. It has no fields of
    /// its own; a `"rehablink"` object, if present, must be empty.
    public static let rehabLink = Entry(
        protocolIdentifier: "rehablink/1", summary: "RehabLink v1 (COBS, CRC-32C), the project's own robot protocol",
        checkFields: { fields, joints in
            let jointCount = joints.count
            var problems: [String] = []
            if let fields, !fields.keys.isEmpty {
                problems.append("device.rehablink: RehabLink has no fields of its own (found \(fields.keys.map { "\"\($0)\"" }.joined(separator: ", ")))")
            }
            if jointCount > RehabLink.maxJoints {
                problems.append("joints: a RehabLink device has at most \(RehabLink.maxJoints) joints (the profile has \(jointCount))")
            }
            return problems
        },
        makeActuatedDevice: { _, joints, link, clock in
            RehabLinkDevice(link: link, jointCount: joints.isEmpty ? RehabLink.maxJoints : joints.count, clock: clock)
        })

    /// ROBOTIS Dynamixel Protocol 2.0 (protocols/dynamixel/README.md): a chain of X-series servos, one
    /// per joint, named in `device.dynamixel.servos` (`DynamixelBusLayout`).
    public static let dynamixel = Entry(
        protocolIdentifier: "dynamixel/2.0", summary: "ROBOTIS Dynamixel Protocol 2.0, a chain of X-series servos (one per joint)",
        checkFields: { fields, joints in
            let (layout, issues) = DynamixelBusLayout.parse(fields, joints: joints)
            var problems = issues.map(\.description)
            for servo in layout?.servos ?? [] where DynamixelServoModel.model(number: servo.modelNumber) == nil {
                let known = DynamixelServoModel.known.map { "\($0.modelNumber) (\($0.name))" }.joined(separator: ", ")
                problems.append("device.dynamixel.servos: model_number \(servo.modelNumber) of ID \(servo.id) is not a model RehabHost knows: \(known)")
            }
            for (index, joint) in joints.enumerated() where !(joint.gearRatio > 0) || !(joint.motorTorqueConstantNewtonMetersPerAmpere > 0) {
                problems.append("joints[\(index)]: a servo joint needs a positive gear_ratio and motor_torque_constant_nm_per_a (the current ↔ torque conversion)")
            }
            return problems
        },
        makeActuatedDevice: { section, joints, link, clock in
            let layout = DynamixelBusLayout.parse(section.protocolFields, joints: joints).layout
            let servos = zip(layout?.servos ?? [], joints).map { servo, joint in
                DynamixelJointServo(
                    id: servo.id, modelNumber: servo.modelNumber, direction: servo.direction, zeroOffsetRadians: servo.zeroOffsetRadians,
                    gearRatio: joint.gearRatio, torqueConstantNewtonMetersPerAmpere: joint.motorTorqueConstantNewtonMetersPerAmpere)
            }
            return DynamixelServoChain(link: link, servos: servos, modelName: section.model, clock: clock)
        })

    /// A registry with one more protocol (a test's own, a lab's experimental driver).
    public func adding(_ entry: Entry) -> DriverRegistry {
        var copy = self
        copy.entries.removeAll { $0.protocolIdentifier == entry.protocolIdentifier }
        copy.entries.append(entry)
        return copy
    }

    /// The protocols known, as the profile writes them.
    public var supportedProtocols: [String] { entries.map(\.protocolIdentifier) }

    /// Everything that keeps this registry from driving `profile`'s device (empty when nothing does):
    /// an unknown protocol, or protocol fields its driver refuses. Commands call it right after
    /// loading a profile, before they open anything.
    public func problems(with profile: HardwareProfile) -> [String] {
        guard let entry = entry(for: profile.device.protocolIdentifier) else {
            return [
                "device.protocol: \"\(profile.device.protocolIdentifier)\" is not a protocol this build speaks (supported: \(supportedProtocols.map { "\"\($0)\"" }.joined(separator: ", ")))"
            ]
        }
        return entry.checkFields(profile.device.protocolFields, profile.joints)
    }

    /// The driver for `profile`'s device on `link`; throws when `problems(with:)` finds any.
    public func makeActuatedDevice(for profile: HardwareProfile, link: ByteLink, clock: LoopClock = MonotonicClock.shared)
        throws(DriverRegistryError) -> any ActuatedDevice
    {
        let problems = problems(with: profile)
        guard problems.isEmpty, let entry = entry(for: profile.device.protocolIdentifier) else {
            throw DriverRegistryError(profile: profile.name, problems: problems)
        }
        return entry.makeActuatedDevice(profile.device, profile.joints, link, clock)
    }

    /// The driver for a device without a profile (`rehabctl identify --protocol`): the given
    /// protocol without joints; the driver takes its most (RehabLink) or refuses what needs them.
    public func makeActuatedDevice(protocolIdentifier: String, link: ByteLink, clock: LoopClock = MonotonicClock.shared)
        throws(DriverRegistryError) -> any ActuatedDevice
    {
        guard let entry = entry(for: protocolIdentifier) else {
            throw DriverRegistryError(
                profile: nil,
                problems: ["\"\(protocolIdentifier)\" is not a protocol this build speaks (supported: \(supportedProtocols.map { "\"\($0)\"" }.joined(separator: ", ")))"])
        }
        let section = DeviceSection(
            protocolIdentifier: protocolIdentifier, model: "", minimumFirmware: FirmwareVersion(major: 0, minor: 0, patch: 0),
            baudRateBitsPerSecond: 0, replyBudgetNanoseconds: 0, watchdogPeriodNanoseconds: 0)
        return entry.makeActuatedDevice(section, [], link, clock)
    }

    private func entry(for identifier: String) -> Entry? {
        entries.first { $0.protocolIdentifier == identifier }
    }
}

/// The registry cannot build a driver for this profile: an unknown protocol, or protocol fields
/// its driver refuses. One line per problem; a configuration error (exit 78).
public struct DriverRegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    public var profile: String?
    public var problems: [String]

    public init(profile: String?, problems: [String]) {
        self.profile = profile
        self.problems = problems
    }

    public var description: String {
        let head = profile.map { "profile \($0): the device cannot be driven:" } ?? "cannot drive the device:"
        return ([head] + problems.map { "  " + $0 }).joined(separator: "\n")
    }
}
