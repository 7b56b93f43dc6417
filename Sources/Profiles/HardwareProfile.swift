import StrictJSON
import Primitives

/// A robot as RehabHost knows it, loaded from `hardware/<name>.json`: identity, link, joints
/// with their limits and dynamics, control defaults and safety thresholds. All values are SI
/// (radians, seconds, N·m); the file carries the unit in every key name.
public struct HardwareProfile: Sendable, Equatable {
    /// The format tag every profile carries.
    public static let format = "rehabhost-profile/1"

    public var name: String
    public var description: String
    /// The file it was loaded from.
    public var sourcePath: String
    public var device: DeviceSection
    public var control: ControlSection
    public var safety: SafetySection
    public var joints: [JointProfile]

    public init(
        name: String, description: String, sourcePath: String, device: DeviceSection, control: ControlSection,
        safety: SafetySection, joints: [JointProfile]
    ) {
        self.name = name
        self.description = description
        self.sourcePath = sourcePath
        self.device = device
        self.control = control
        self.safety = safety
        self.joints = joints
    }
}

/// How to reach and recognise the device.
public struct DeviceSection: Sendable, Equatable {
    /// The protocol as the profile names it, "family/version" ("rehablink/1", "dynamixel/2.0"): the
    /// driver registry's key (Devices' `DriverRegistry`), which knows the protocols this build speaks.
    public var protocolIdentifier: String
    /// The family part ("rehablink"): also the key of the protocol's own fields.
    public var protocolFamily: String
    /// The major version part ("rehablink/1" → 1, "dynamixel/2.0" → 2): the device must speak at least it.
    public var protocolVersion: Int
    /// The protocol's own fields (bus ids, node ids, …): the object under the family's key, e.g.
    /// `"dynamixel": {"ids": [1, 2]}`; nil when the profile has none. Checked by the protocol's driver.
    public var protocolFields: JSONObject?
    /// The model string the device must report when identified.
    public var model: String
    /// The oldest firmware this profile was validated with.
    public var minimumFirmware: FirmwareVersion
    public var usbVendorID: UInt16?
    public var usbProductID: UInt16?
    /// The serial link's speed.
    public var baudRateBitsPerSecond: Int
    /// How long the host waits for a reply within a cycle.
    public var replyBudgetNanoseconds: Int64
    /// Device watchdog period armed at enable (SR-3: at most 50 ms).
    public var watchdogPeriodNanoseconds: Int64

    public init(
        protocolIdentifier: String, protocolFields: JSONObject? = nil, model: String, minimumFirmware: FirmwareVersion,
        usbVendorID: UInt16? = nil, usbProductID: UInt16? = nil, baudRateBitsPerSecond: Int, replyBudgetNanoseconds: Int64,
        watchdogPeriodNanoseconds: Int64
    ) {
        self.protocolIdentifier = protocolIdentifier
        let parts = Self.parse(protocolIdentifier)
        protocolFamily = parts?.family ?? protocolIdentifier
        protocolVersion = parts?.major ?? 0
        self.protocolFields = protocolFields
        self.model = model
        self.minimumFirmware = minimumFirmware
        self.usbVendorID = usbVendorID
        self.usbProductID = usbProductID
        self.baudRateBitsPerSecond = baudRateBitsPerSecond
        self.replyBudgetNanoseconds = replyBudgetNanoseconds
        self.watchdogPeriodNanoseconds = watchdogPeriodNanoseconds
    }

    /// "family/major[.minor…]" → (family, major); nil unless the family is lowercase letters, digits
    /// and dashes and every version part is a number.
    public static func parse(_ identifier: String) -> (family: String, major: Int)? {
        let halves = identifier.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2, !halves[0].isEmpty, halves[0].count <= 32,
            halves[0].allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
        else { return nil }
        let version = halves[1].split(separator: ".", omittingEmptySubsequences: false)
        guard !version.isEmpty, version.count <= 3, version.allSatisfy({ !$0.isEmpty && $0.count <= 4 && $0.allSatisfy({ ("0"..."9").contains($0) }) }),
            let major = Int(version[0])
        else { return nil }
        return (String(halves[0]), major)
    }
}

/// Control loop defaults.
public struct ControlSection: Sendable, Equatable {
    /// The loop rate a session runs at unless told otherwise…
    public var rateHertz: Double
    /// …and the range a session may choose from (`--rate`): what the device and its watchdog sustain
    /// (SR-14: the watchdog covers at least 4 periods at the lowest rate).
    public var minimumRateHertz: Double
    public var maximumRateHertz: Double
    /// Gains ramp from 0 to full over this time after enable (SR-5).
    public var enableRampSeconds: Double
    /// Deceleration of a Cat 1 stop.
    public var quickStopDecelerationRadiansPerSecondSquared: Double
}

/// Safety thresholds (SAFETY.md); defaults are engineering proposals, see docs/safety.md.
public struct SafetySection: Sendable, Equatable {
    /// SR-1 POOR: FAIR for more than this share of the last 5 s pauses (Cat 2); at most the default.
    public var linkPoorFairShare: Double
    /// SR-1 POOR: more FAIR episodes than this within 10 s pauses (Cat 2); at most the default.
    public var linkPoorFairEpisodes: Int
    /// SR-13: a Cat 1 stop not at standstill after this becomes Cat 0.
    public var stopDeadlineNanoseconds: Int64
    /// Below this speed on every joint a joint counts as standing still.
    public var standstillVelocityRadiansPerSecond: Double
    /// SR-6: largest change of commanded torque per second.
    public var torqueSlewLimitNewtonMetersPerSecond: Double
    /// SR-12: the stop category of an operator e-stop and SIGTERM (0 or 1; never 2, never off).
    public var emergencyStopCategory: Int
    /// SR-7: soft limits lie this far inside the hard limits (≥ 5°).
    public var softLimitMarginRadians: Double
    /// SR-7: measured past a soft limit by more than this → Cat 1.
    public var beyondSoftLimitCat1Radians: Double
    /// SR-7: past a soft limit the joint may only move inward, at most this fast.
    public var inwardSpeedPastSoftLimitRadiansPerSecond: Double
    /// SR-8: |q̇| above this for `velocityTripCycles` → Cat 1; above 1.5 × → Cat 0.
    public var velocityTripRadiansPerSecond: Double
    public var velocityTripCycles: Int
    /// SR-9: interaction torque above a joint's trip for this long → Cat 1.
    public var interactionDwellNanoseconds: Int64
    /// SR-10: an encoder step larger than this many times (rated speed × elapsed time) → Cat 1.
    public var encoderJumpSpeedFactor: Double
    /// SR-10: a bit-identical encoder reading for this long while motion is commanded → Cat 1.
    public var frozenEncoderNanoseconds: Int64
    /// SR-18: patient release only below this speed on every joint.
    public var releaseStandstillRadiansPerSecond: Double
}

/// One joint: limits, drive and dynamics.
public struct JointProfile: Sendable, Equatable {
    public var name: String
    public var description: String
    public var hardLimitMinimumRadians: Double
    public var hardLimitMaximumRadians: Double
    /// The drive's rated speed; the device reports it in IDENTITY.
    public var ratedVelocityRadiansPerSecond: Double
    /// The drive's rated torque; the firmware clamps to it and reports it in IDENTITY.
    public var ratedTorqueNewtonMeters: Double
    /// The host's last-stage torque clamp (SR-6), at most the rated torque.
    public var torqueLimitNewtonMeters: Double
    public var gearRatio: Double
    public var encoderCountsPerRevolution: Int
    public var motorTorqueConstantNewtonMetersPerAmpere: Double
    /// Link + handle inertia about the joint axis, reflected rotor included.
    public var inertiaKilogramSquareMeters: Double
    public var viscousFrictionNewtonMeterSecondsPerRadian: Double
    public var coulombFrictionNewtonMeters: Double
    public var windingResistanceOhms: Double
    public var thermalResistanceKelvinPerWatt: Double
    public var thermalTimeConstantSeconds: Double
    /// The firmware's over-temperature trip.
    public var maximumTemperatureCelsius: Double
    public var defaultStiffnessNewtonMetersPerRadian: Double
    public var defaultDampingNewtonMeterSecondsPerRadian: Double
    public var hasTorqueSensor: Bool
    /// SR-9: interaction torque trip (joints with a torque sensor; 80 % of the torque limit by default).
    public var interactionTorqueTripNewtonMeters: Double?
}

/// major.minor.patch, compared numerically.
public struct FirmwareVersion: Sendable, Equatable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init(major: Int, minor: Int, patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses "1.2.3"; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 3, let major = parts[0], let minor = parts[1], let patch = parts[2],
            (0...255).contains(major), (0...255).contains(minor), (0...255).contains(patch)
        else { return nil }
        self.init(major: major, minor: minor, patch: patch)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }

    public var description: String { "\(major).\(minor).\(patch)" }
}
