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
}
