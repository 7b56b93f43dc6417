/// The physics of one simulated joint: a rigid link with inertia, viscous and Coulomb friction
/// (with stiction), inelastic hard stops, a drive that saturates at its rated torque, encoder
/// quantisation and a first-order winding temperature.
///
/// Semi-implicit Euler at the simulator's inner-loop step (100 µs by default), which is stable for
/// the stiffness and damping a rehabilitation robot uses.
public struct JointPlant: Sendable, Equatable {
    public struct Parameters: Sendable, Equatable {
        // The ranges the simulated physics is made for: outside them a step overflows (a winding
        // resistance of 1e300 Ω or a torque constant of 1e-300 N·m/A heat the winding to infinity)
        // and the firmware's integer reports of it trap. `SimulatedDeviceConfiguration(validating:)`
        // refuses a profile outside them.

        /// Link inertia [kg·m²].
        public static let inertiaRange: ClosedRange<Double> = 1e-6...10
        /// Motor torque constant [N·m/A] (before the gear).
        public static let motorTorqueConstantRange: ClosedRange<Double> = 0.001...10
        /// Winding resistance [Ω].
        public static let windingResistanceRange: ClosedRange<Double> = 0.01...100
        /// Winding-to-ambient thermal resistance [K/W].
        public static let thermalResistanceRange: ClosedRange<Double> = 0.01...100
        /// Winding thermal time constant [s].
        public static let thermalTimeConstantRange: ClosedRange<Double> = 1...10_000
        /// The most current the drive may draw at its rated torque [A]: rated torque / joint torque
        /// per ampere. Keeps the heating of one step finite and the reported current in range.
        public static let maximumRatedCurrentAmperes = 1_000.0
        /// Viscous friction × step / inertia at most this: the explicit friction term of the
        /// semi-implicit Euler step then damps instead of growing without bound (it diverges above 2).
        public static let maximumViscousStepRatio = 1.0

        public var inertiaKilogramSquareMeters: Double
        public var viscousFrictionNewtonMeterSecondsPerRadian: Double
        public var coulombFrictionNewtonMeters: Double
        public var hardLimitMinimumRadians: Double
        public var hardLimitMaximumRadians: Double
        public var ratedTorqueNewtonMeters: Double
        /// Motor torque constant times gear ratio: joint torque per ampere.
        public var jointTorquePerAmpere: Double
        public var windingResistanceOhms: Double
        public var thermalResistanceKelvinPerWatt: Double
        public var thermalTimeConstantSeconds: Double
        public var ambientTemperatureCelsius: Double
        public var encoderCountsPerRevolution: Int

        public init(
            inertiaKilogramSquareMeters: Double, viscousFrictionNewtonMeterSecondsPerRadian: Double,
            coulombFrictionNewtonMeters: Double, hardLimitMinimumRadians: Double, hardLimitMaximumRadians: Double,
            ratedTorqueNewtonMeters: Double, jointTorquePerAmpere: Double, windingResistanceOhms: Double,
            thermalResistanceKelvinPerWatt: Double, thermalTimeConstantSeconds: Double,
            ambientTemperatureCelsius: Double, encoderCountsPerRevolution: Int
        ) {
            self.inertiaKilogramSquareMeters = inertiaKilogramSquareMeters
            self.viscousFrictionNewtonMeterSecondsPerRadian = viscousFrictionNewtonMeterSecondsPerRadian
            self.coulombFrictionNewtonMeters = coulombFrictionNewtonMeters
            self.hardLimitMinimumRadians = hardLimitMinimumRadians
            self.hardLimitMaximumRadians = hardLimitMaximumRadians
            self.ratedTorqueNewtonMeters = ratedTorqueNewtonMeters
            self.jointTorquePerAmpere = jointTorquePerAmpere
            self.windingResistanceOhms = windingResistanceOhms
            self.thermalResistanceKelvinPerWatt = thermalResistanceKelvinPerWatt
            self.thermalTimeConstantSeconds = thermalTimeConstantSeconds
            self.ambientTemperatureCelsius = ambientTemperatureCelsius
            self.encoderCountsPerRevolution = encoderCountsPerRevolution
        }
    }

    public let parameters: Parameters
    public private(set) var positionRadians: Double
    public private(set) var velocityRadiansPerSecond: Double = 0
    /// The motor torque actually produced in the last step (after the rating limit).
    public private(set) var motorTorqueNewtonMeters: Double = 0
    /// The last demand exceeded the rating.
    public private(set) var torqueLimited = false
    public private(set) var temperatureCelsius: Double
    public private(set) var atLowerHardStop = false
    public private(set) var atUpperHardStop = false
    /// Torque a test or a fault script applies to the joint, positive in the joint's positive direction.
    public var externalTorqueNewtonMeters: Double = 0
    /// Torque the simulated patient applies (`SimulatedPatient`), same sign convention.
    public var patientTorqueNewtonMeters: Double = 0
    /// What a joint torque sensor between limb and robot reads: everything applied from outside.
    public var interactionTorqueNewtonMeters: Double { externalTorqueNewtonMeters + patientTorqueNewtonMeters }

    public init(parameters: Parameters, positionRadians: Double = 0) {
        self.parameters = parameters
        self.positionRadians = min(max(positionRadians, parameters.hardLimitMinimumRadians), parameters.hardLimitMaximumRadians)
        temperatureCelsius = parameters.ambientTemperatureCelsius
    }

    /// Advances by `seconds` with the drive asked for `motorTorqueDemand` [N·m].
    public mutating func step(motorTorqueDemand: Double, seconds dt: Double) {
        let p = parameters
        let demand = motorTorqueDemand.isFinite ? motorTorqueDemand : 0
        motorTorqueNewtonMeters = min(max(demand, -p.ratedTorqueNewtonMeters), p.ratedTorqueNewtonMeters)
        torqueLimited = abs(demand) > p.ratedTorqueNewtonMeters
        let external = interactionTorqueNewtonMeters.isFinite ? interactionTorqueNewtonMeters : 0
        let drive = motorTorqueNewtonMeters + external - p.viscousFrictionNewtonMeterSecondsPerRadian * velocityRadiansPerSecond
        let velocity = velocityRadiansPerSecond
        var newVelocity: Double
        if velocity == 0 {
            // Stiction: the joint stays put until the drive overcomes Coulomb friction.
            if abs(drive) <= p.coulombFrictionNewtonMeters {
                newVelocity = 0
            } else {
                let net = drive - p.coulombFrictionNewtonMeters * (drive > 0 ? 1 : -1)
                newVelocity = net / p.inertiaKilogramSquareMeters * dt
            }
        } else {
            let net = drive - p.coulombFrictionNewtonMeters * (velocity > 0 ? 1 : -1)
            newVelocity = velocity + net / p.inertiaKilogramSquareMeters * dt
            // Friction can stop the joint but not reverse it within a step.
            if (velocity > 0) != (newVelocity > 0) { newVelocity = 0 }
        }
        var newPosition = positionRadians + newVelocity * dt
        atLowerHardStop = false
        atUpperHardStop = false
        if newPosition <= p.hardLimitMinimumRadians {
            newPosition = p.hardLimitMinimumRadians
            if newVelocity < 0 { newVelocity = 0 }
            atLowerHardStop = true
        } else if newPosition >= p.hardLimitMaximumRadians {
            newPosition = p.hardLimitMaximumRadians
            if newVelocity > 0 { newVelocity = 0 }
            atUpperHardStop = true
        }
        positionRadians = newPosition
        velocityRadiansPerSecond = newVelocity
        let current = motorCurrentAmperes
        let heating = current * current * p.windingResistanceOhms * p.thermalResistanceKelvinPerWatt
        temperatureCelsius += dt * (heating - (temperatureCelsius - p.ambientTemperatureCelsius)) / p.thermalTimeConstantSeconds
    }

    public var motorCurrentAmperes: Double {
        motorTorqueNewtonMeters / parameters.jointTorquePerAmpere
    }

    /// The encoder count at the joint (before wrapping to 32 bits).
    public var encoderCount: Int64 {
        Int64((positionRadians / (2 * Double.pi) * Double(parameters.encoderCountsPerRevolution)).rounded(.down))
    }

    /// Overrides the temperature (fault injection: over-temperature).
    public mutating func setTemperature(_ celsius: Double) {
        temperatureCelsius = celsius
    }

    /// Places the joint (test set-up), at rest.
    public mutating func place(atRadians position: Double) {
        positionRadians = min(max(position, parameters.hardLimitMinimumRadians), parameters.hardLimitMaximumRadians)
        velocityRadiansPerSecond = 0
    }
}
