import Primitives
import RehabLinkSimulator
import Wire

extension JointPlant.Parameters {
    /// An X-series servo driving a light link on its horn, in SI units. The defaults are XM430-W350-like: stall torque
    /// 4.1 N·m and stall current 2.3 A at 12 V, so 1.78 N·m/A at the output and 5.2 Ω; the encoder counts 4096 per
    /// revolution at the output, as every X-series servo does. The hard limits are far away (a servo turns freely)
    /// unless given.
    public static func xm430W350(
        inertiaKilogramSquareMeters: Double = 0.002, viscousFrictionNewtonMeterSecondsPerRadian: Double = 0.02,
        coulombFrictionNewtonMeters: Double = 0.02, ratedTorqueNewtonMeters: Double = 4.1,
        torqueConstantNewtonMetersPerAmpere: Double = 1.78, windingResistanceOhms: Double = 5.2,
        thermalResistanceKelvinPerWatt: Double = 8, thermalTimeConstantSeconds: Double = 60,
        ambientTemperatureCelsius: Double = 25, hardLimitMinimumRadians: Double = -2_000, hardLimitMaximumRadians: Double = 2_000
    ) -> JointPlant.Parameters {
        JointPlant.Parameters(
            inertiaKilogramSquareMeters: inertiaKilogramSquareMeters,
            viscousFrictionNewtonMeterSecondsPerRadian: viscousFrictionNewtonMeterSecondsPerRadian,
            coulombFrictionNewtonMeters: coulombFrictionNewtonMeters, hardLimitMinimumRadians: hardLimitMinimumRadians,
            hardLimitMaximumRadians: hardLimitMaximumRadians, ratedTorqueNewtonMeters: ratedTorqueNewtonMeters,
            jointTorquePerAmpere: torqueConstantNewtonMetersPerAmpere, windingResistanceOhms: windingResistanceOhms,
            thermalResistanceKelvinPerWatt: thermalResistanceKelvinPerWatt, thermalTimeConstantSeconds: thermalTimeConstantSeconds,
            ambientTemperatureCelsius: ambientTemperatureCelsius, encoderCountsPerRevolution: Dynamixel.Units.countsPerRevolution)
    }
}

/// One servo on a simulated bus: what it is (model, firmware), what its EEPROM holds at power-up (what an earlier
/// set-up left there), and its physics. Everything not named here starts at the factory value of README §6.2.
public struct DynamixelServoConfiguration: Sendable, Equatable {
    /// ID(7) at power-up, 0 … 252.
    public var id: UInt8
    /// Model Number(0): 1020 for the XM430-W350 (README §6.2).
    public var modelNumber: UInt16 = 1020
    public var modelInformation: UInt32 = 0
    /// Firmware Version(6): ≥ 45 for the fast reads, Control Table Backup and Drive Mode bit 3; ≥ 42 for Clear.
    public var firmwareVersion: UInt8 = 46
    /// Baud Rate(8), 0 … 7 (README §1: 1 = 57 600, 3 = 1 M, 6 = 4 M bit/s).
    public var baudRateCode: UInt8 = 1
    /// Return Delay Time(9), 2 µs units.
    public var returnDelayTime: UInt8 = 250
    /// Drive Mode(10): bits 0, 2, 3.
    public var driveMode: UInt8 = 0
    /// Operating Mode(11): 0, 1, 3, 4, 5 or 16.
    public var operatingMode: UInt8 = 3
    /// Current Limit(38), 2.69 mA units.
    public var currentLimit: UInt16 = 1_193
    /// Shutdown(63).
    public var shutdown: UInt8 = 0x34
    /// The servo and what it drives (encoder 4096 counts per revolution).
    public var plant: JointPlant.Parameters
    /// Where the output shaft is at power-up [rad].
    public var initialPositionRadians: Double = 0
    /// How the joint a patient moves sits on this servo's output: joint angle = `jointDirection` ×
    /// (output angle − `jointZeroRadians`), as the profile's `device.dynamixel` servo says (the patient
    /// model works in joint angles and torques).
    public var jointZeroRadians: Double = 0
    public var jointDirection: Double = 1
    /// The supply the servo sees (Present Input Voltage) [V].
    public var supplyVoltageVolts: Double = 12

    public init(id: UInt8, plant: JointPlant.Parameters = .xm430W350()) {
        self.id = id
        self.plant = plant
    }

    /// Everything wrong with it, one line each; empty when a bus can be built with it. `stepSeconds`: the bus's
    /// physics step, which the servo's damping must suit.
    public func problems(stepSeconds: Double) -> [String] {
        var list: [String] = []
        let name = "servo \(id)"
        if !Dynamixel.isValidDeviceID(id) { list.append("\(name): the ID must be 0 … 252") }
        if Dynamixel.Units.baudRate(code: baudRateCode) == nil { list.append("\(name): Baud Rate \(baudRateCode) is not 0 … 7") }
        if returnDelayTime > 254 { list.append("\(name): Return Delay Time \(returnDelayTime) is not 0 … 254") }
        if driveMode & ~Dynamixel.ControlTable.DriveModeBit.defined != 0 { list.append("\(name): Drive Mode \(driveMode) sets an undefined bit") }
        switch operatingMode {
        case 0, 1, 3, 4, 5, 16: break
        default: list.append("\(name): Operating Mode \(operatingMode) is not 0, 1, 3, 4, 5 or 16")
        }
        if currentLimit > 1_193 { list.append("\(name): Current Limit \(currentLimit) is above 1193") }
        if shutdown & ~Dynamixel.HardwareError.defined != 0 { list.append("\(name): Shutdown \(shutdown) sets an undefined bit") }
        if !(supplyVoltageVolts.isFinite && supplyVoltageVolts >= 0 && supplyVoltageVolts <= 30) {
            list.append("\(name): the supply voltage must be 0 … 30 V")
        }
        let p = plant
        typealias Bounds = JointPlant.Parameters
        if p.encoderCountsPerRevolution != Dynamixel.Units.countsPerRevolution {
            list.append("\(name): an X-series encoder counts \(Dynamixel.Units.countsPerRevolution) per revolution")
        }
        if !Bounds.inertiaRange.contains(p.inertiaKilogramSquareMeters) {
            list.append("\(name): the inertia must be \(Bounds.inertiaRange.lowerBound) … \(Bounds.inertiaRange.upperBound) kg·m²")
        }
        if !Bounds.windingResistanceRange.contains(p.windingResistanceOhms) {
            list.append("\(name): the winding resistance must be \(Bounds.windingResistanceRange.lowerBound) … \(Bounds.windingResistanceRange.upperBound) Ω")
        }
        if !Bounds.thermalResistanceRange.contains(p.thermalResistanceKelvinPerWatt) {
            list.append("\(name): the thermal resistance is outside \(Bounds.thermalResistanceRange)")
        }
        if !Bounds.thermalTimeConstantRange.contains(p.thermalTimeConstantSeconds) {
            list.append("\(name): the thermal time constant is outside \(Bounds.thermalTimeConstantRange)")
        }
        if !(p.jointTorquePerAmpere.isFinite && p.jointTorquePerAmpere >= 0.01 && p.jointTorquePerAmpere <= 100) {
            list.append("\(name): the torque constant must be 0.01 … 100 N·m/A")
        }
        if !(p.ratedTorqueNewtonMeters.isFinite && p.ratedTorqueNewtonMeters > 0) {
            list.append("\(name): the rated torque must be above 0 N·m")
        } else if p.jointTorquePerAmpere > 0, !(p.ratedTorqueNewtonMeters / p.jointTorquePerAmpere <= Bounds.maximumRatedCurrentAmperes) {
            list.append("\(name): the rated torque needs more than \(Bounds.maximumRatedCurrentAmperes) A")
        }
        if !(p.viscousFrictionNewtonMeterSecondsPerRadian.isFinite && p.viscousFrictionNewtonMeterSecondsPerRadian >= 0)
            || !(p.coulombFrictionNewtonMeters.isFinite && p.coulombFrictionNewtonMeters >= 0)
        {
            list.append("\(name): friction must be finite and not negative")
        }
        if !(p.ambientTemperatureCelsius.isFinite && p.ambientTemperatureCelsius >= -40 && p.ambientTemperatureCelsius <= 100) {
            list.append("\(name): the ambient temperature must be −40 … 100 °C")
        }
        if !(p.hardLimitMinimumRadians.isFinite && p.hardLimitMaximumRadians.isFinite && p.hardLimitMinimumRadians < p.hardLimitMaximumRadians) {
            list.append("\(name): the hard limits must be finite, minimum below maximum")
        }
        if !initialPositionRadians.isFinite { list.append("\(name): the initial position must be finite") }
        // The drive's damping (friction, and the winding's back-EMF whenever the output is voltage-limited) is applied
        // explicitly in each step: it must not exceed what the step can integrate (JointPlant's own rule).
        if Bounds.inertiaRange.contains(p.inertiaKilogramSquareMeters) && Bounds.windingResistanceRange.contains(p.windingResistanceOhms)
            && p.jointTorquePerAmpere.isFinite
        {
            let damping = p.viscousFrictionNewtonMeterSecondsPerRadian
                + p.jointTorquePerAmpere * p.jointTorquePerAmpere / p.windingResistanceOhms
            if !(damping * stepSeconds / p.inertiaKilogramSquareMeters <= Bounds.maximumViscousStepRatio) {
                list.append("\(name): its damping (friction and back-EMF) is too stiff for the inertia at a \(stepSeconds * 1e6) µs step")
            }
        }
        return list
    }
}

/// What a servo does when its Bus Watchdog expires (README §6.6, §9 A3). The e-Manual says the servo "stops" and
/// defines it only for Velocity Control; RehabHost's host performs Cat 0 with Torque Enable 0 itself.
public enum DynamixelBusWatchdogStop: Sendable, Equatable {
    /// Torque Enable goes to 0: the motor is free (the default: issue 16's reading).
    case torqueOff
    /// Torque stays on and the servo stops in its mode, with Profile Velocity and Acceleration taken as 0: Goal
    /// Current 0 (current control), Goal Velocity 0, Goal PWM 0, or Goal Position = Present Position.
    case stopInMode
}

/// A simulated Dynamixel bus: the servos on it and how the bus behaves.
public struct DynamixelBusConfiguration: Sendable, Equatable {
    /// In bus order: a servo's index is the joint it drives (events, the simulated patient).
    public var servos: [DynamixelServoConfiguration]
    /// For messages and link names.
    public var model = "XM430-W350"
    public var serialNumber = "DXL-SIM-0001"
    /// The physics and control step [ns].
    public var innerLoopPeriodNanoseconds: Int64 = 100_000
    /// How long a servo is unreachable after a Reboot (or a Factory Reset, or a Control Table restore) once its
    /// reply has left [ns]. README §5.7: the e-Manual gives no figure.
    public var rebootNanoseconds: Int64 = 200_000_000
    /// Overload: the output at its limit (Current Limit, or the supply) for longer than this [ns].
    public var overloadTripNanoseconds: Int64 = 1_000_000_000
    public var busWatchdogStop = DynamixelBusWatchdogStop.torqueOff
    /// Every byte takes 10 bit times at the servo's baud rate, and a reply starts Return Delay Time after the
    /// instruction's last byte (README §1, §5.16, §7.3). False: replies are readable as soon as the instruction was
    /// received (for a link that models the latency itself).
    public var modelsWireTime = true
    /// The rate the host talks at; nil: the first servo's Baud Rate at power-up. A servo at another rate does not
    /// understand the host (it is set with `SimulatedDynamixelBus.lineBaudRateBitsPerSecond` later).
    public var hostBaudRateBitsPerSecond: Int?

    public init(servos: [DynamixelServoConfiguration]) {
        self.servos = servos
    }

    /// Everything wrong with it, one line each; empty when a bus can be built.
    public var problems: [String] {
        var list: [String] = []
        if servos.isEmpty { list.append("a bus needs at least one servo") }
        for (index, servo) in servos.enumerated() where servos[..<index].contains(where: { $0.id == servo.id }) {
            list.append("servo \(servo.id): two servos have this ID")
        }
        if !(10_000...1_000_000).contains(innerLoopPeriodNanoseconds) { list.append("the inner-loop period must be 10 … 1000 µs") }
        if !(0...10_000_000_000).contains(rebootNanoseconds) { list.append("the reboot time must be 0 … 10 s") }
        if !(1...60_000_000_000).contains(overloadTripNanoseconds) { list.append("the overload time must be above 0 and at most 60 s") }
        if let rate = hostBaudRateBitsPerSecond, !(0...7).contains(where: { Dynamixel.Units.baudRate(code: UInt8($0)) == rate }) {
            list.append("the host's baud rate \(rate) is not one of the X series' rates")
        }
        let step = Double(innerLoopPeriodNanoseconds) * 1e-9
        for servo in servos { list += servo.problems(stepSeconds: step) }
        return list
    }
}
