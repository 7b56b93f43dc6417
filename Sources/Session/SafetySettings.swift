import Control
import DeviceModel
import Devices
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
            let rated = profile.joints[index]
            joint.inertiaKilogramSquareMeters = rated.inertiaKilogramSquareMeters
            joint.coulombFrictionNewtonMeters = rated.coulombFrictionNewtonMeters
            // R6: twice the rating is far beyond anything the drive can do (the firmware limits torque
            // to the rating); a winding below −40 °C or 50 °C above its trip is a broken sensor.
            joint.plausibleTorqueNewtonMeters = 2 * rated.ratedTorqueNewtonMeters
            joint.plausibleCurrentAmperes = 2 * rated.ratedTorqueNewtonMeters / (rated.motorTorqueConstantNewtonMetersPerAmpere * rated.gearRatio)
            joint.plausibleTemperatureCelsius = -40...(rated.maximumTemperatureCelsius + 50)
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

    /// SR-1/SR-14: the link-quality grades for this profile's watchdog at `periodNanoseconds`.
    public static func linkQuality(_ profile: HardwareProfile, periodNanoseconds: Int64) -> LinkQualityLimits {
        LinkQualityLimits.derived(
            periodNanoseconds: periodNanoseconds, watchdogNanoseconds: profile.device.watchdogPeriodNanoseconds,
            poorFairShare: profile.safety.linkPoorFairShare, poorEpisodes: profile.safety.linkPoorFairEpisodes)
    }

    /// SR-14: why `rateHertz` cannot run on this profile (outside its `rate_min_hz … rate_max_hz`, or
    /// too slow for its watchdog), or nil when it can.
    public static func rateProblem(_ profile: HardwareProfile, rateHertz: Double) -> String? {
        let control = profile.control
        if !(rateHertz >= control.minimumRateHertz && rateHertz <= control.maximumRateHertz) {
            return "\(format(rateHertz, decimals: 0)) Hz is outside the rates \(profile.name) sustains (rate_min_hz … rate_max_hz: \(format(control.minimumRateHertz, decimals: 0)) … \(format(control.maximumRateHertz, decimals: 0)) Hz)"
        }
        return LinkQualityLimits.coverageProblem(
            periodNanoseconds: Nanoseconds.period(rateHertz: rateHertz), watchdogNanoseconds: profile.device.watchdogPeriodNanoseconds)
    }

    public static func supervisor(
        _ profile: HardwareProfile, joints: JointList<JointSafetyLimits>, periodNanoseconds: Int64
    ) -> Supervisor.Configuration {
        let safety = profile.safety
        return Supervisor.Configuration(
            link: linkQuality(profile, periodNanoseconds: periodNanoseconds),
            stopDeadlineNanoseconds: safety.stopDeadlineNanoseconds,
            standstillVelocityRadiansPerSecond: safety.standstillVelocityRadiansPerSecond,
            emergencyStopCategory: safety.emergencyStopCategory == 1 ? .cat1 : .cat0, joints: joints,
            beyondSoftLimitCat1Radians: safety.beyondSoftLimitCat1Radians,
            velocityTripRadiansPerSecond: safety.velocityTripRadiansPerSecond, velocityTripCycles: safety.velocityTripCycles,
            interactionDwellNanoseconds: safety.interactionDwellNanoseconds, encoderJumpSpeedFactor: safety.encoderJumpSpeedFactor,
            frozenEncoderNanoseconds: safety.frozenEncoderNanoseconds,
            releaseStandstillRadiansPerSecond: safety.releaseStandstillRadiansPerSecond)
    }

    /// SR-20: a therapist's torque cap for one joint, per direction (magnitudes [N·m]).
    public struct TorqueCap: Sendable, Equatable {
        public var positiveNewtonMeters: Double
        public var negativeNewtonMeters: Double

        public init(positiveNewtonMeters: Double, negativeNewtonMeters: Double) {
            self.positiveNewtonMeters = positiveNewtonMeters
            self.negativeNewtonMeters = negativeNewtonMeters
        }
    }

    /// The last-stage clamp (SR-6), with a patient's torque caps (SR-20), which may only lower the
    /// profile's limit: a cap above it, negative or not a number is refused.
    public static func clamp(
        _ profile: HardwareProfile, joints: JointList<JointSafetyLimits>, periodNanoseconds: Int64, patientTorqueCaps: [TorqueCap?] = []
    ) throws(SessionError) -> CommandClamp {
        guard patientTorqueCaps.count <= profile.joints.count else {
            throw .invalidOptions("a torque cap is given for \(patientTorqueCaps.count) joints; \(profile.name) has \(profile.joints.count)")
        }
        var limits = JointList(count: joints.count, repeating: CommandClamp.JointLimits(torqueLimitNewtonMeters: 0, velocityLimitRadiansPerSecond: 0))
        for (index, joint) in profile.joints.enumerated() {
            let cap = index < patientTorqueCaps.count ? patientTorqueCaps[index] : nil
            if let cap {
                for value in [cap.positiveNewtonMeters, cap.negativeNewtonMeters]
                where !(value >= 0 && value <= joint.torqueLimitNewtonMeters) {
                    throw .invalidOptions(
                        "the torque cap of \(joint.name) (\(value) N·m) must lie within 0 … \(joint.torqueLimitNewtonMeters) N·m: a patient's cap may only lower the profile's torque limit (SR-20)")
                }
            }
            limits[index] = CommandClamp.JointLimits(
                torqueLimitNewtonMeters: joint.torqueLimitNewtonMeters,
                // The velocity commands a stop or a mode may give stay below the SR-8 trip.
                velocityLimitRadiansPerSecond: min(joint.ratedVelocityRadiansPerSecond, profile.safety.velocityTripRadiansPerSecond),
                softMinimumRadians: joints[index].softMinimumRadians, softMaximumRadians: joints[index].softMaximumRadians,
                torqueCapPositiveNewtonMeters: cap?.positiveNewtonMeters, torqueCapNegativeNewtonMeters: cap?.negativeNewtonMeters)
        }
        return CommandClamp(
            limits: limits, torqueSlewLimitNewtonMetersPerSecond: profile.safety.torqueSlewLimitNewtonMetersPerSecond,
            periodSeconds: Double(periodNanoseconds) * 1e-9,
            inwardSpeedPastSoftLimitRadiansPerSecond: profile.safety.inwardSpeedPastSoftLimitRadiansPerSecond,
            quickStopDecelerationRadiansPerSecondSquared: profile.control.quickStopDecelerationRadiansPerSecondSquared)
    }

    /// SR-24: what the firmware is told to enforce on its own: the soft limits in force (patient range
    /// included), the clamp's torque caps per direction (SR-20 included), and an over-speed cut 10 %
    /// above the host's own Cat 0 speed (1.5 × the SR-8 trip): the host acts first when it can, the
    /// firmware when the host cannot (dead, stalled, blind).
    public static func deviceLimits(_ profile: HardwareProfile, clamp: CommandClamp) -> DeviceSafetyLimits {
        DeviceSafetyLimits(joints: (0..<clamp.limits.count).map { index in
            let limit = clamp.limits[index]
            return DeviceSafetyLimits.Joint(
                softMinimumRadians: limit.softMinimumRadians, softMaximumRadians: limit.softMaximumRadians,
                torqueCapPositiveNewtonMeters: limit.torqueCapPositiveNewtonMeters,
                torqueCapNegativeNewtonMeters: limit.torqueCapNegativeNewtonMeters,
                velocityTripRadiansPerSecond: 1.1 * 1.5 * profile.safety.velocityTripRadiansPerSecond)
        })
    }

    private static func degrees(_ radians: Double) -> String {
        let value = (Units.degrees(fromRadians: radians) * 10).rounded() / 10
        return value == value.rounded() ? String(Int(value)) : String(value)
    }
}
