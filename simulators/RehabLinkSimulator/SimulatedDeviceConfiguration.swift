import Primitives
import Profiles

/// What a simulated RehabLink device is: identity, joints and firmware settings, built from the
/// same hardware profile the host uses, so that the simulator is the robot the profile describes.
public struct SimulatedDeviceConfiguration: Sendable, Equatable {
    public var model: String
    public var serialNumber: String
    public var firmwareMajor: UInt8 = 1
    /// Firmware 1.1.0: the first to speak RehabLink 1.1 (the firmware's version is the product's; the
    /// protocol's minor version is `protocolMinorVersion`).
    public var firmwareMinor: UInt8 = 1
    public var firmwarePatch: UInt8 = 0
    /// The RehabLink minor version the firmware speaks (parameter 0x0003): 1 for 1.1 (firmware limits,
    /// local hold, patient buttons); 0 for a 1.0 firmware, which has none of them and answers the
    /// 1.1 parameters `unknown_parameter` (to test what a host does with an older device).
    public var protocolMinorVersion: Int32 = 1
    public var joints: [Joint]
    /// Firmware inner loop and physics step.
    public var innerLoopPeriodNanoseconds: Int64 = 100_000
    /// Worst-case reply latency the firmware advertises (parameter 0x0002).
    public var replyBudgetMicroseconds: Int32 = 250
    /// Position-mode gains (parameters 0x0010, 0x0011) and velocity gain (0x0012).
    public var positionStiffnessMillinewtonMetersPerRadian: Int32 = 20_000
    public var positionDampingMillinewtonMeterSecondsPerRadian: Int32 = 500
    public var velocityGainMillinewtonMeterSecondsPerRadian: Int32 = 500
    /// The firmware's own over-speed cut, as a multiple of the rated speed: the power-up value and
    /// the ceiling of the SR-24 velocity trip (parameter 0x0060 + joint).
    public var overSpeedFactor: Double = 1.2

    public struct Joint: Sendable, Equatable {
        public var name: String
        public var plant: JointPlant.Parameters
        public var ratedVelocityRadiansPerSecond: Double
        public var maximumTemperatureCelsius: Double
        public var hasTorqueSensor: Bool
    }

    /// The configuration for `profile`, its physics unchecked (tests that build their own robot);
    /// for a profile from a file, `init(validating:serialNumber:)`.
    public init(profile: HardwareProfile, serialNumber: String = "SIM-0001") {
        model = profile.device.model
        self.serialNumber = serialNumber
        joints = profile.joints.map { joint in
            Joint(
                name: joint.name,
                plant: JointPlant.Parameters(
                    inertiaKilogramSquareMeters: joint.inertiaKilogramSquareMeters,
                    viscousFrictionNewtonMeterSecondsPerRadian: joint.viscousFrictionNewtonMeterSecondsPerRadian,
                    coulombFrictionNewtonMeters: joint.coulombFrictionNewtonMeters,
                    hardLimitMinimumRadians: joint.hardLimitMinimumRadians,
                    hardLimitMaximumRadians: joint.hardLimitMaximumRadians,
                    ratedTorqueNewtonMeters: joint.ratedTorqueNewtonMeters,
                    jointTorquePerAmpere: joint.motorTorqueConstantNewtonMetersPerAmpere * joint.gearRatio,
                    windingResistanceOhms: joint.windingResistanceOhms,
                    thermalResistanceKelvinPerWatt: joint.thermalResistanceKelvinPerWatt,
                    thermalTimeConstantSeconds: joint.thermalTimeConstantSeconds, ambientTemperatureCelsius: 25,
                    encoderCountsPerRevolution: joint.encoderCountsPerRevolution),
                ratedVelocityRadiansPerSecond: joint.ratedVelocityRadiansPerSecond,
                maximumTemperatureCelsius: joint.maximumTemperatureCelsius, hasTorqueSensor: joint.hasTorqueSensor)
        }
    }

    /// The configuration for `profile`, refused when a joint's physics is outside what the simulator
    /// is made for (`validate`). What `rehabsim` builds from the profile it loaded: the profile
    /// loader accepts any positive resistance or time constant, the simulated firmware does not.
    public init(validating profile: HardwareProfile, serialNumber: String = "SIM-0001") throws(ProfileError) {
        self.init(profile: profile, serialNumber: serialNumber)
        try Self.validate(profile, innerLoopPeriodNanoseconds: innerLoopPeriodNanoseconds)
    }

    /// Refuses a profile whose joints the simulated physics cannot run (`JointPlant.Parameters`'
    /// ranges): every problem at once, each naming the field (`joints[0].winding_resistance_ohm`),
    /// its value and the range with its unit, in the profile loader's error.
    public static func validate(_ profile: HardwareProfile, innerLoopPeriodNanoseconds: Int64 = 100_000) throws(ProfileError) {
        typealias Bounds = JointPlant.Parameters
        var issues: [ProfileIssue] = []
        let stepSeconds = Double(innerLoopPeriodNanoseconds) * 1e-9
        for (index, joint) in profile.joints.enumerated() {
            let path = "joints[\(index)]"
            /// Adds an issue unless `value` is within `range` (NaN is not); true when it is.
            func check(_ key: String, _ value: Double, _ range: ClosedRange<Double>, _ unit: String) -> Bool {
                guard !range.contains(value) else { return true }
                issues.append(ProfileIssue(
                    path: "\(path).\(key)",
                    message: "must be between \(formatted(range.lowerBound)) and \(formatted(range.upperBound)) \(unit) for the simulator "
                        + "(found \(formatted(value)))"))
                return false
            }
            let inertiaInRange = check("inertia_kg_m2", joint.inertiaKilogramSquareMeters, Bounds.inertiaRange, "kg·m²")
            let torqueConstantInRange = check(
                "motor_torque_constant_nm_per_a", joint.motorTorqueConstantNewtonMetersPerAmpere, Bounds.motorTorqueConstantRange, "N·m/A")
            _ = check("winding_resistance_ohm", joint.windingResistanceOhms, Bounds.windingResistanceRange, "Ω")
            _ = check("thermal_resistance_k_per_w", joint.thermalResistanceKelvinPerWatt, Bounds.thermalResistanceRange, "K/W")
            _ = check("thermal_time_constant_s", joint.thermalTimeConstantSeconds, Bounds.thermalTimeConstantRange, "s")
            if inertiaInRange {
                let most = Bounds.maximumViscousStepRatio * joint.inertiaKilogramSquareMeters / stepSeconds
                if !(joint.viscousFrictionNewtonMeterSecondsPerRadian <= most) {
                    issues.append(ProfileIssue(
                        path: "\(path).viscous_friction_nm_s_per_rad",
                        message: "must be at most \(formatted(most)) N·m·s/rad with inertia_kg_m2 \(formatted(joint.inertiaKilogramSquareMeters)) kg·m² "
                            + "(the simulator's \(formatted(stepSeconds * 1e6)) µs step diverges beyond) "
                            + "(found \(formatted(joint.viscousFrictionNewtonMeterSecondsPerRadian)))"))
                }
            }
            if torqueConstantInRange {
                let current = joint.ratedTorqueNewtonMeters / (joint.motorTorqueConstantNewtonMetersPerAmpere * joint.gearRatio)
                if !(current <= Bounds.maximumRatedCurrentAmperes) {
                    issues.append(ProfileIssue(
                        path: path,
                        message: "rated_torque_nm \(formatted(joint.ratedTorqueNewtonMeters)) N·m needs \(formatted(current)) A at "
                            + "motor_torque_constant_nm_per_a \(formatted(joint.motorTorqueConstantNewtonMetersPerAmpere)) N·m/A × gear_ratio "
                            + "\(formatted(joint.gearRatio)); the simulated drive draws at most \(formatted(Bounds.maximumRatedCurrentAmperes)) A"))
                }
            }
        }
        guard issues.isEmpty else { throw .invalid(path: profile.sourcePath, issues: issues) }
    }

    /// A number for a message: whole numbers without a fraction, others as Swift writes them (1e+300).
    private static func formatted(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }
}
