import Control
import Primitives
import Profiles

/// The profile's safety section, turned into what the supervisor, the clamp and the timing monitor
/// take. The one place where profile fields become interlock thresholds, so simulation and hardware
/// cannot differ: both build their session from a profile through here.
public enum SafetySettings {
    /// Each joint's limits; soft = hard − margin, narrowed to the patient's range when given.
    /// Throws when a patient range does not overlap the soft limits.
    public static func jointLimits(
        _ profile: HardwareProfile, patientRange: [ClosedRange<Double>?] = []
    ) throws(SessionError) -> JointList<JointSafetyLimits> {
        guard patientRange.count <= profile.joints.count else {
            throw .invalidOptions("a patient range is given for \(patientRange.count) joints; \(profile.name) has \(profile.joints.count)")
        }
        let margin = profile.safety.softLimitMarginRadians
        var limits = JointList(count: profile.joints.count, repeating: JointSafetyLimits.placeholder)
        for (index, joint) in profile.joints.enumerated() {
            var joint = JointSafetyLimits(
                hardMinimumRadians: joint.hardLimitMinimumRadians, hardMaximumRadians: joint.hardLimitMaximumRadians,
                softMinimumRadians: joint.hardLimitMinimumRadians + margin, softMaximumRadians: joint.hardLimitMaximumRadians - margin,
                ratedVelocityRadiansPerSecond: joint.ratedVelocityRadiansPerSecond,
                encoderCountsPerRevolution: joint.encoderCountsPerRevolution,
                interactionTripNewtonMeters: joint.hasTorqueSensor ? joint.interactionTorqueTripNewtonMeters : nil)
            if index < patientRange.count, let range = patientRange[index] {
                // SR-7: a therapist's range may only narrow the limits, never widen them.
                let narrowed = joint.narrowed(to: range)
                guard narrowed.softMinimumRadians < narrowed.softMaximumRadians else {
                    throw .invalidOptions(
                        "the patient range of \(profile.joints[index].name) (\(degrees(range.lowerBound))° … \(degrees(range.upperBound))°) lies outside its soft limits (\(degrees(joint.softMinimumRadians))° … \(degrees(joint.softMaximumRadians))°)")
                }
                joint = narrowed
            }
            limits[index] = joint
        }
        return limits
    }

    public static func supervisor(_ profile: HardwareProfile, joints: JointList<JointSafetyLimits>) -> Supervisor.Configuration {
        let safety = profile.safety
        return Supervisor.Configuration(
            silenceCycles: safety.silenceCycles, silenceTorqueOffNanoseconds: safety.silenceTorqueOffNanoseconds,
            stopDeadlineNanoseconds: safety.stopDeadlineNanoseconds,
            standstillVelocityRadiansPerSecond: safety.standstillVelocityRadiansPerSecond,
            emergencyStopCategory: safety.emergencyStopCategory == 1 ? .cat1 : .cat0, joints: joints,
            beyondSoftLimitCat1Radians: safety.beyondSoftLimitCat1Radians,
            velocityTripRadiansPerSecond: safety.velocityTripRadiansPerSecond, velocityTripCycles: safety.velocityTripCycles,
            interactionDwellNanoseconds: safety.interactionDwellNanoseconds, encoderJumpSpeedFactor: safety.encoderJumpSpeedFactor,
            frozenEncoderNanoseconds: safety.frozenEncoderNanoseconds,
            releaseStandstillRadiansPerSecond: safety.releaseStandstillRadiansPerSecond)
    }

    public static func clamp(_ profile: HardwareProfile, joints: JointList<JointSafetyLimits>, periodNanoseconds: Int64) -> CommandClamp {
        var limits = JointList(count: joints.count, repeating: CommandClamp.JointLimits(torqueLimitNewtonMeters: 0, velocityLimitRadiansPerSecond: 0))
        for (index, joint) in profile.joints.enumerated() {
            limits[index] = CommandClamp.JointLimits(
                torqueLimitNewtonMeters: joint.torqueLimitNewtonMeters,
                // The velocity commands a stop or a mode may give stay below the SR-8 trip.
                velocityLimitRadiansPerSecond: min(joint.ratedVelocityRadiansPerSecond, profile.safety.velocityTripRadiansPerSecond),
                softMinimumRadians: joints[index].softMinimumRadians, softMaximumRadians: joints[index].softMaximumRadians)
        }
        return CommandClamp(
            limits: limits, torqueSlewLimitNewtonMetersPerSecond: profile.safety.torqueSlewLimitNewtonMetersPerSecond,
            periodSeconds: Double(periodNanoseconds) * 1e-9,
            inwardSpeedPastSoftLimitRadiansPerSecond: profile.safety.inwardSpeedPastSoftLimitRadiansPerSecond)
    }

    public static func loopTiming(_ profile: HardwareProfile) -> LoopTimingMonitor.Limits {
        LoopTimingMonitor.Limits(
            consecutiveOverruns: profile.safety.loopOverrunsInARow, lateFraction: profile.safety.loopLatePercentPerSecond / 100,
            windowNanoseconds: 1_000_000_000, gapNanoseconds: profile.safety.loopGapNanoseconds)
    }

    private static func degrees(_ radians: Double) -> String {
        let value = (Units.degrees(fromRadians: radians) * 10).rounded() / 10
        return value == value.rounded() ? String(Int(value)) : String(value)
    }
}
