import Primitives

/// One joint as the host knows it, in SI units, converted from the wire at the device edge.
public struct JointMeasurement: Sendable, Equatable, BitwiseCopyable {
    public var positionRadians: Double = 0
    public var velocityRadiansPerSecond: Double = 0
    /// Motor torque at the joint [N·m].
    public var motorTorqueNewtonMeters: Double = 0
    /// Torque between patient and robot from the joint torque sensor [N·m]; 0 without a sensor.
    public var interactionTorqueNewtonMeters: Double = 0
    public var motorCurrentAmperes: Double = 0
    public var temperatureCelsius: Double = 0
    /// The raw encoder count extended to 64 bits (a wrap is a small step).
    public var encoderCounts: Int64 = 0
    public var atLowerHardStop = false
    public var atUpperHardStop = false
    public var torqueLimited = false

    public init() {}
}

/// Device-reported conditions that the supervisor acts on, whatever the protocol (each driver maps
/// its device's status bits onto these).
public struct DeviceCondition: OptionSet, Sendable, BitwiseCopyable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let enabled = DeviceCondition(rawValue: 1 << 0)
    public static let torqueOn = DeviceCondition(rawValue: 1 << 1)
    public static let watchdogExpired = DeviceCondition(rawValue: 1 << 2)
    public static let emergencyStop = DeviceCondition(rawValue: 1 << 3)
    public static let fault = DeviceCondition(rawValue: 1 << 4)
    /// SR-22: the patient holds the stop button on the device → Cat 1.
    public static let patientStop = DeviceCondition(rawValue: 1 << 5)
    /// SR-22: the patient holds the pause button on the device → Cat 2.
    public static let patientPause = DeviceCondition(rawValue: 1 << 6)
}

/// The latest state of a robot: what every controller and interlock works from.
public struct RobotState: Sendable, Equatable {
    public var joints: JointList<JointMeasurement>
    public var condition: DeviceCondition = []
    /// The device's latched fault: what kind, and the device's own code (`.none` when none).
    public var fault = DeviceFault.none
    /// Device clock, extended to 64 bits [ns].
    public var deviceTimeNanoseconds: Int64 = 0
    /// When the host decoded it.
    public var receivedAt = MonotonicInstant.zero
    /// When the device sampled it, on the host's clock (from the device's timestamp; never after
    /// `receivedAt`). SR-1 and SR-5 judge a state by its age from here.
    public var sampledAt = MonotonicInstant.zero
    /// False until the first valid state: the age of no state is infinite.
    public var isValid = false

    /// now − `sampledAt` [ns]; `Int64.max` before the first valid state.
    public func ageNanoseconds(at now: MonotonicInstant) -> Int64 {
        isValid ? max(0, now.nanoseconds(since: sampledAt)) : .max
    }

    public init(jointCount: Int) {
        joints = JointList(count: jointCount, repeating: JointMeasurement())
    }

    /// Every measured value is a number (no NaN or infinity from the device).
    public var isFinite: Bool {
        for index in 0..<joints.count {
            let joint = joints[index]
            if !(joint.positionRadians.isFinite && joint.velocityRadiansPerSecond.isFinite && joint.motorTorqueNewtonMeters.isFinite
                && joint.interactionTorqueNewtonMeters.isFinite && joint.motorCurrentAmperes.isFinite && joint.temperatureCelsius.isFinite)
            {
                return false
            }
        }
        return true
    }

    /// The fastest joint's speed [rad/s].
    public var maximumSpeedRadiansPerSecond: Double {
        var fastest = 0.0
        for index in 0..<joints.count { fastest = max(fastest, abs(joints[index].velocityRadiansPerSecond)) }
        return fastest
    }
}

/// What the host asks one joint's drive to do, in SI units.
public struct JointActuation: Sendable, Equatable, BitwiseCopyable {
    public enum Mode: Sendable, Equatable, BitwiseCopyable {
        /// No torque (Cat 0).
        case off
        /// Produce `torqueNewtonMeters`.
        case torque
        /// Track `velocityRadiansPerSecond` with the device's own velocity loop (used to brake in a
        /// Cat 1 stop: the device closes the loop on fresh local measurements even if the link is silent).
        case velocity
        /// Hold `positionRadians` with the device's own impedance loop (`stiffnessNewtonMetersPerRadian`,
        /// `dampingNewtonMeterSecondsPerRadian`) on its local measurements: for a cycle whose newest
        /// state is too old to compute a torque from (SR-1 FAIR, SR-5). Nothing in it depends on that state.
        case hold
    }

    public var mode: Mode
    public var torqueNewtonMeters: Double
    public var velocityRadiansPerSecond: Double
    /// `hold` only: where [rad], how stiff [N·m/rad] and how damped [N·m·s/rad].
    public var positionRadians: Double
    public var stiffnessNewtonMetersPerRadian: Double
    public var dampingNewtonMeterSecondsPerRadian: Double

    public init(mode: Mode, torqueNewtonMeters: Double = 0, velocityRadiansPerSecond: Double = 0) {
        self.mode = mode
        self.torqueNewtonMeters = torqueNewtonMeters
        self.velocityRadiansPerSecond = velocityRadiansPerSecond
        positionRadians = 0
        stiffnessNewtonMetersPerRadian = 0
        dampingNewtonMeterSecondsPerRadian = 0
    }

    /// A local hold at `positionRadians` (see `Mode.hold`).
    public static func hold(
        atRadians position: Double, stiffnessNewtonMetersPerRadian stiffness: Double, dampingNewtonMeterSecondsPerRadian damping: Double
    ) -> JointActuation {
        var command = JointActuation(mode: .hold)
        command.positionRadians = position
        command.stiffnessNewtonMetersPerRadian = stiffness
        command.dampingNewtonMeterSecondsPerRadian = damping
        return command
    }

    public static let off = JointActuation(mode: .off)
}
