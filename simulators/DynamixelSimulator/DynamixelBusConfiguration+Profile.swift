import Profiles
import RehabLinkSimulator
import Wire

extension DynamixelBusConfiguration {
    /// The simulated bus of a Dynamixel profile (`"protocol": "dynamixel/2.0"`): one X-series servo per joint,
    /// with the ID and Model Number of its `device.dynamixel` servo, the profile's baud rate, and its joint's physics
    /// (inertia, friction, rated torque, torque constant, winding, thermal model) on its horn. Everything else is as a
    /// servo comes out of the box (README §6.2: Operating Mode 3, Return Delay Time 250, Shutdown 0x34): the host's
    /// set-up must write what it needs. The joint's zero is at the servo angle `zero_offset_deg`, and the joint's hard
    /// limits are the device's mechanical stops. Returns the problems instead when the profile cannot be simulated.
    public static func simulating(_ profile: HardwareProfile, serialNumber: String = "DXL-SIM-0001")
        -> (configuration: DynamixelBusConfiguration?, problems: [String])
    {
        let (layout, issues) = DynamixelBusLayout.parse(profile.device.protocolFields, joints: profile.joints)
        guard let layout else { return (nil, issues.map { "profile \(profile.name): \($0)" }) }
        var problems: [String] = []
        guard let baudCode = (0...7).map({ UInt8($0) }).first(where: { Dynamixel.Units.baudRate(code: $0) == profile.device.baudRateBitsPerSecond })
        else {
            let rates = (0...7).compactMap { Dynamixel.Units.baudRate(code: UInt8($0)) }.map(String.init).joined(separator: ", ")
            return (nil, ["profile \(profile.name): device.baud_rate_bps \(profile.device.baudRateBitsPerSecond) is not an X-series rate (\(rates))"])
        }
        var servos: [DynamixelServoConfiguration] = []
        for (index, joint) in profile.joints.enumerated() {
            let servo = layout.servos[index]
            if joint.gearRatio != 1 {
                problems.append("profile \(profile.name): joints[\(index)].gear_ratio \(joint.gearRatio): the simulator puts each joint on its servo's horn (gear_ratio 1)")
                continue
            }
            // The stops in the servo's own angle: direction and offset as the host maps them (DynamixelBusLayout).
            let stops = [joint.hardLimitMinimumRadians, joint.hardLimitMaximumRadians].map { servo.zeroOffsetRadians + servo.direction * $0 }
            var configuration = DynamixelServoConfiguration(
                id: servo.id,
                plant: .xm430W350(
                    inertiaKilogramSquareMeters: joint.inertiaKilogramSquareMeters,
                    viscousFrictionNewtonMeterSecondsPerRadian: joint.viscousFrictionNewtonMeterSecondsPerRadian,
                    coulombFrictionNewtonMeters: joint.coulombFrictionNewtonMeters, ratedTorqueNewtonMeters: joint.ratedTorqueNewtonMeters,
                    torqueConstantNewtonMetersPerAmpere: joint.motorTorqueConstantNewtonMetersPerAmpere,
                    windingResistanceOhms: joint.windingResistanceOhms, thermalResistanceKelvinPerWatt: joint.thermalResistanceKelvinPerWatt,
                    thermalTimeConstantSeconds: joint.thermalTimeConstantSeconds, hardLimitMinimumRadians: stops.min() ?? 0,
                    hardLimitMaximumRadians: stops.max() ?? 0))
            configuration.modelNumber = servo.modelNumber
            configuration.firmwareVersion = max(configuration.firmwareVersion, UInt8(clamping: profile.device.minimumFirmware.major))
            configuration.baudRateCode = baudCode
            configuration.initialPositionRadians = servo.zeroOffsetRadians
            configuration.jointZeroRadians = servo.zeroOffsetRadians
            configuration.jointDirection = servo.direction
            servos.append(configuration)
        }
        guard problems.isEmpty else { return (nil, problems) }
        var configuration = DynamixelBusConfiguration(servos: servos)
        configuration.model = profile.device.model
        configuration.serialNumber = serialNumber
        let found = configuration.problems
        guard found.isEmpty else { return (nil, found.map { "profile \(profile.name): \($0)" }) }
        return (configuration, [])
    }
}
