import DeviceModel
import Devices
import Profiles

/// SR-17: the device must be the robot the profile describes before anything is enabled.
public enum SelfTest {
    /// Every difference between what the device reports and the profile; empty when they match.
    /// Ratings are compared to within `resolution` (the device's wire resolution, from its
    /// capabilities): anything beyond rounding is a real difference.
    public static func identityProblems(_ identity: DeviceIdentityInfo, profile: HardwareProfile, resolution: DeviceCapabilities) -> [String] {
        var problems: [String] = []
        if identity.model != profile.device.model {
            problems.append("model is \"\(identity.model)\", the profile expects \"\(profile.device.model)\"")
        }
        if identity.protocolVersion < profile.device.protocolVersion {
            problems.append("protocol version \(identity.protocolVersion), the profile needs \(profile.device.protocolVersion)")
        }
        if let firmware = FirmwareVersion(identity.firmware), firmware < profile.device.minimumFirmware {
            problems.append("firmware \(identity.firmware) is older than the profile's firmware_min \(profile.device.minimumFirmware)")
        } else if FirmwareVersion(identity.firmware) == nil {
            problems.append("firmware version \"\(identity.firmware)\" cannot be read")
        }
        guard identity.joints.count == profile.joints.count else {
            problems.append("\(identity.joints.count) joints, the profile has \(profile.joints.count)")
            return problems
        }
        for (index, (rating, joint)) in zip(identity.joints, profile.joints).enumerated() {
            let label = "joint \(index) (\(joint.name))"
            let positionTolerance = 10 * resolution.positionResolutionRadians
            if rating.hardLimitsKnown,
                abs(rating.positionMinimumRadians - joint.hardLimitMinimumRadians) > positionTolerance
                || abs(rating.positionMaximumRadians - joint.hardLimitMaximumRadians) > positionTolerance
            {
                problems.append(
                    "\(label): hard limits \(degrees(rating.positionMinimumRadians))…\(degrees(rating.positionMaximumRadians))°, the profile says \(degrees(joint.hardLimitMinimumRadians))…\(degrees(joint.hardLimitMaximumRadians))°")
            }
            if abs(rating.torqueMaximumNewtonMeters - joint.ratedTorqueNewtonMeters) > 1.5 * resolution.torqueResolutionNewtonMeters {
                problems.append("\(label): rated torque \(rating.torqueMaximumNewtonMeters) N·m, the profile says \(joint.ratedTorqueNewtonMeters) N·m")
            }
            if abs(rating.velocityMaximumRadiansPerSecond - joint.ratedVelocityRadiansPerSecond) > 10 * resolution.velocityResolutionRadiansPerSecond {
                problems.append("\(label): rated speed \(rating.velocityMaximumRadiansPerSecond) rad/s, the profile says \(joint.ratedVelocityRadiansPerSecond) rad/s")
            }
            if rating.encoderCountsPerRevolution != joint.encoderCountsPerRevolution {
                problems.append("\(label): \(rating.encoderCountsPerRevolution) encoder counts/rev, the profile says \(joint.encoderCountsPerRevolution)")
            }
        }
        return problems
    }

    private static func degrees(_ radians: Double) -> String {
        let value = (radians * 180 / .pi * 10).rounded() / 10
        return value == value.rounded() ? String(Int(value)) : String(value)
    }
}
