import Wire

/// One joint of a Dynamixel servo chain and the servo that drives it: the device edge's conversions
/// between the joint's SI values and the servo's raw units (protocols/dynamixel/README.md §6.7, §7).
///
/// The servo's output angle is `zero offset + direction × gear ratio × joint angle`; direction and
/// offset live here, on the host, so that the servos keep Drive Mode bit 0 and Homing Offset at 0.
/// Joint torque = direction × gear ratio × torque constant × servo current.
public struct DynamixelJointServo: Sendable, Equatable {
    public var id: UInt8
    /// The Model Number the servo must report (1020: XM430-W350).
    public var modelNumber: UInt16
    /// +1 or −1.
    public var direction: Double
    /// The servo's output angle at the joint's zero [rad].
    public var zeroOffsetRadians: Double
    /// Servo revolutions per joint revolution (1: the joint on the servo's horn).
    public var gearRatio: Double
    /// The servo's torque per ampere at its output [N·m/A] (the profile's `motor_torque_constant_nm_per_a`).
    public var torqueConstantNewtonMetersPerAmpere: Double

    public init(
        id: UInt8, modelNumber: UInt16, direction: Double, zeroOffsetRadians: Double, gearRatio: Double,
        torqueConstantNewtonMetersPerAmpere: Double
    ) {
        self.id = id
        self.modelNumber = modelNumber
        self.direction = direction < 0 ? -1 : 1
        self.zeroOffsetRadians = zeroOffsetRadians
        self.gearRatio = gearRatio
        self.torqueConstantNewtonMetersPerAmpere = torqueConstantNewtonMetersPerAmpere
    }

    private static let radiansPerCount = 2 * Double.pi / Double(Dynamixel.Units.countsPerRevolution)

    // MARK: Servo → joint

    public func jointRadians(servoCounts: Int32) -> Double {
        direction * (Double(servoCounts) * Self.radiansPerCount - zeroOffsetRadians) / gearRatio
    }

    public func jointRadiansPerSecond(servoVelocityUnits: Int32) -> Double {
        direction * Double(servoVelocityUnits) * Dynamixel.Units.velocityRadiansPerSecond / gearRatio
    }

    /// The servo's current [A] in the joint's direction.
    public func jointCurrentAmperes(servoCurrentUnits: Int16) -> Double {
        direction * Double(servoCurrentUnits) * Dynamixel.Units.currentAmperes
    }

    public func jointNewtonMeters(servoCurrentUnits: Int16) -> Double {
        jointCurrentAmperes(servoCurrentUnits: servoCurrentUnits) * torqueConstantNewtonMetersPerAmpere * gearRatio
    }

    // MARK: Joint → servo

    /// The servo position of a joint angle, unrounded [counts].
    public func servoCounts(jointRadians: Double) -> Double {
        (zeroOffsetRadians + direction * gearRatio * jointRadians) / Self.radiansPerCount
    }

    /// The servo current [2.69 mA units] that makes `newtonMeters` at the joint, as a magnitude, unrounded.
    public func currentUnits(jointNewtonMeters newtonMeters: Double) -> Double {
        abs(newtonMeters) / (torqueConstantNewtonMetersPerAmpere * gearRatio) / Dynamixel.Units.currentAmperes
    }

    /// A joint speed in Velocity Limit units (0.229 rev/min at the servo), as a magnitude, unrounded.
    public func velocityUnits(jointRadiansPerSecond: Double) -> Double {
        abs(jointRadiansPerSecond) * gearRatio / Dynamixel.Units.velocityRadiansPerSecond
    }

    /// Whether a positive joint torque turns the servo in its positive direction.
    public var servoTurnsWithJoint: Bool { direction > 0 }

    /// The smallest joint steps the servo's units allow.
    public var positionResolutionRadians: Double { Self.radiansPerCount / gearRatio }
    public var velocityResolutionRadiansPerSecond: Double { Dynamixel.Units.velocityRadiansPerSecond / gearRatio }
    public var torqueResolutionNewtonMeters: Double { Dynamixel.Units.currentAmperes * torqueConstantNewtonMetersPerAmpere * gearRatio }
}

/// What RehabHost knows of a Dynamixel model from its datasheet: its name and ratings, for SR-17's
/// comparison with the profile (the control table holds no ratings).
public struct DynamixelServoModel: Sendable, Equatable {
    public var modelNumber: UInt16
    public var name: String
    /// Stall torque at the rated supply [N·m] (the datasheet's figure).
    public var stallTorqueNewtonMeters: Double
    /// No-load speed at the rated supply [rad/s].
    public var noLoadSpeedRadiansPerSecond: Double

    /// The models RehabHost has been written for: the XM430s, whose control tables are the same item
    /// for item (README §6.2; the e-Manual's XM430-W210 table differs only in Velocity Limit's initial
    /// value), so that one chain may mix them (read by Fast Bulk Read, README §7.2).
    public static let known: [DynamixelServoModel] = [
        // ROBOTIS e-Manual, XM430-W350 specifications: 4.1 N·m stall torque and 46 rev/min no load at 12.0 V.
        DynamixelServoModel(
            modelNumber: 1020, name: "XM430-W350", stallTorqueNewtonMeters: 4.1, noLoadSpeedRadiansPerSecond: 46 * 2 * Double.pi / 60),
        // ROBOTIS e-Manual, XM430-W210 specifications (github.com/ROBOTIS-GIT/emanual _data/dxl_x_info.yml):
        // 3.0 N·m stall torque and 77 rev/min no load at 12.0 V; Model Number 1030 (its control table).
        DynamixelServoModel(
            modelNumber: 1030, name: "XM430-W210", stallTorqueNewtonMeters: 3.0, noLoadSpeedRadiansPerSecond: 77 * 2 * Double.pi / 60),
    ]

    public static func model(number: UInt16) -> DynamixelServoModel? {
        known.first { $0.modelNumber == number }
    }
}
