/// What an actuated device can do, declared by its driver and checked by the session before it
/// enables anything: which control modes it takes, how it performs each stop category, its
/// watchdog, its resolution and size. The layers above read these instead of knowing the protocol.
public struct DeviceCapabilities: Sendable, Equatable {
    /// The per-joint modes it accepts (`JointActuation.Mode`); `off` is always accepted.
    public struct ControlModes: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let torque = ControlModes(rawValue: 1 << 0)
        public static let velocity = ControlModes(rawValue: 1 << 1)
        /// Its own impedance loop around a position (`JointActuation.Mode.hold`).
        public static let localHold = ControlModes(rawValue: 1 << 2)
    }

    /// How a Cat 0 stop (IEC 60204-1: torque off at once) is carried out.
    public enum TorqueOffMethod: String, Sendable, Equatable {
        /// A command with every joint off; the device stays enabled and keeps answering.
        case commandAllJointsOff = "command_all_joints_off"
        /// The device's torque-enable switched off (a servo bus); it keeps answering.
        case disableTorque = "disable_torque"
    }

    /// How a Cat 1 stop (controlled braking, then torque off) is carried out.
    public enum StopMethod: String, Sendable, Equatable {
        /// The host ramps a velocity reference to zero at the quick-stop rate and the device's own
        /// velocity loop tracks it on local measurements (RehabLink).
        case hostVelocityRamp = "host_velocity_ramp"
        /// The device brakes by itself on one command (a CiA 402 drive's quick stop).
        case deviceQuickStop = "device_quick_stop"
    }

    /// How a Cat 2 stop (a pause: stop, stay powered, hold) is carried out.
    public enum PauseMethod: String, Sendable, Equatable {
        /// The host's impedance hold in torque mode (the exercise's controller at a fixed target).
        case hostImpedanceHold = "host_impedance_hold"
        /// The device holds a position in its own position mode.
        case devicePositionHold = "device_position_hold"
    }

    public var controlModes: ControlModes
    public var torqueOff: TorqueOffMethod
    public var quickStop: StopMethod
    public var pause: PauseMethod
    /// The device watchdog periods it accepts [ns] (SR-3: a device without one cannot be driven).
    public var watchdogPeriodRangeNanoseconds: ClosedRange<Int64>
    /// The smallest step of a position, speed and torque it reports or takes (SR-17 compares its
    /// ratings with the profile to within these; SR-24 read-backs may differ by one).
    public var positionResolutionRadians: Double
    public var velocityResolutionRadiansPerSecond: Double
    public var torqueResolutionNewtonMeters: Double
    /// The most joints one device of this protocol may have.
    public var maximumJoints: Int
    /// SR-24: whether the firmware can hold the host's limits (soft limits, torque caps, velocity trip).
    public var holdsSafetyLimits: Bool

    public init(
        controlModes: ControlModes, torqueOff: TorqueOffMethod, quickStop: StopMethod, pause: PauseMethod,
        watchdogPeriodRangeNanoseconds: ClosedRange<Int64>, positionResolutionRadians: Double, velocityResolutionRadiansPerSecond: Double,
        torqueResolutionNewtonMeters: Double, maximumJoints: Int, holdsSafetyLimits: Bool
    ) {
        self.controlModes = controlModes
        self.torqueOff = torqueOff
        self.quickStop = quickStop
        self.pause = pause
        self.watchdogPeriodRangeNanoseconds = watchdogPeriodRangeNanoseconds
        self.positionResolutionRadians = positionResolutionRadians
        self.velocityResolutionRadiansPerSecond = velocityResolutionRadiansPerSecond
        self.torqueResolutionNewtonMeters = torqueResolutionNewtonMeters
        self.maximumJoints = maximumJoints
        self.holdsSafetyLimits = holdsSafetyLimits
    }
}
