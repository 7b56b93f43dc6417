import Control
import Primitives
import Transport

/// A robot the control loop can drive: the one interface every driver implements (RehabLink now;
/// Dynamixel and others later), so that the session above it never changes.
///
/// Set-up calls (`identify`, `enable`, `disable`) may block and throw. The per-cycle calls
/// (`poll`, `send`, `waitForState`) never allocate, never throw, and never block past the deadline.
public protocol ControlledDevice: AnyObject {
    var name: String { get }
    var jointCount: Int { get }

    /// Asks the device who it is.
    func identify() throws(DeviceError) -> DeviceIdentityInfo
    /// Exchanges one heartbeat and returns the fresh state it brought (SR-2: enable needs one).
    func requestFreshState() throws(DeviceError) -> RobotState
    /// Enables the device with its watchdog set to `watchdogPeriodNanoseconds`; returns the period
    /// the device confirmed (SR-3).
    func enable(watchdogPeriodNanoseconds: Int64) throws(DeviceError) -> Int64
    /// Disables the device (torque off, watchdog disarmed).
    func disable() throws(DeviceError)
    /// SR-24: writes `limits` into the device's firmware (soft limits, torque cap per direction,
    /// velocity trip, per joint), reads every one back, and throws `safetyLimitsNotConfirmed` with
    /// what differed when a write is refused, a read-back differs by more than the device's
    /// resolution or on the unsafe side, or the device cannot hold such limits (RehabLink 1.0).
    /// Call while the device is disabled, before `enable`; never enable after it threw.
    func configureSafetyLimits(_ limits: DeviceSafetyLimits) throws(DeviceError)

    /// Reads and decodes everything pending; updates `latestState` when a newer valid state arrived.
    func poll(now: MonotonicInstant) -> PollOutcome
    /// Encodes and writes one command for every joint. False when the link is lost.
    @discardableResult
    func send(_ actuation: JointList<JointActuation>, now: MonotonicInstant, deadline: MonotonicInstant) -> Bool
    /// Sends a heartbeat (asks for a state without commanding anything). False when the link is lost.
    @discardableResult
    func sendHeartbeat(deadline: MonotonicInstant) -> Bool
    /// Operator reset, from the control loop without blocking (SR-11): DISABLE, so that the device
    /// accepts FAULT_RESET. False when the link is lost.
    @discardableResult
    func sendDisable(deadline: MonotonicInstant) -> Bool
    /// Operator reset: asks the device to clear a latched fault whose cause is gone. Sent only on an
    /// explicit operator request, never by the host on its own. False when the link is lost.
    @discardableResult
    func sendFaultReset(deadline: MonotonicInstant) -> Bool
    /// Waits (at most until `deadline`) for the reply to the last command; true when a fresh state arrived.
    func waitForState(until deadline: MonotonicInstant) -> Bool

    /// The newest valid state, in SI units.
    var latestState: RobotState { get }
    /// Time from writing the last command to decoding the state that echoed it [ns]; nil until measured.
    var lastRoundTripNanoseconds: Int64? { get }
    /// SR-25: when the oldest command that the device has not yet echoed as applied was written
    /// (nil: every command so far was echoed). A device that ignores commands lets it age.
    var oldestUnechoedCommandAt: MonotonicInstant? { get }
    /// D5: states or echoes that break the protocol (a STATE with the wrong joint count, an echo of
    /// a command never sent), counted since the driver was made: not silence, a broken device.
    var protocolViolations: Int { get }
    /// Set when the link has failed; the loop must stop using the device.
    var linkError: TransportError? { get }
}

/// What `poll` found.
public enum PollOutcome: Sendable, Equatable {
    case freshState
    case nothingNew
    case linkLost
}

/// Who a device says it is, in host terms.
public struct DeviceIdentityInfo: Sendable, Equatable {
    public var model: String
    public var serialNumber: String
    public var firmware: String
    public var protocolVersion: Int
    public var joints: [JointRating]

    public struct JointRating: Sendable, Equatable {
        public var positionMinimumRadians: Double
        public var positionMaximumRadians: Double
        public var velocityMaximumRadiansPerSecond: Double
        public var torqueMaximumNewtonMeters: Double
        public var encoderCountsPerRevolution: Int
    }
}
