import DeviceModel
import Primitives
import Transport

/// A robot, servo chain or drive the control loop moves: the one interface every actuated driver
/// implements (RehabLink now; Dynamixel, CiA 402 next), so that nothing above Devices knows a protocol.
///
/// The lifecycle follows ros2_control's hardware interfaces. Set-up — `identify`, `requestFreshState`,
/// `configure` (SR-24's limits into the firmware), `activate`, `deactivate` — may block and throws.
/// Each cycle the loop calls `read`, then `write` with the cycle's intent, then `waitForState`; these
/// never allocate, never throw, and never block past the deadline they are given.
public protocol ActuatedDevice: AnyObject {
    /// The port or link it talks over, for messages.
    var name: String { get }
    var jointCount: Int { get }
    /// What it can do: modes, how it stops in each category, its watchdog and resolution.
    var capabilities: DeviceCapabilities { get }

    /// Asks the device who it is.
    func identify() throws(DeviceError) -> DeviceIdentityInfo
    /// Asks for one state without commanding anything and returns it (SR-2: enable needs a fresh one).
    func requestFreshState() throws(DeviceError) -> RobotState
    /// SR-24: writes `limits` into the device's firmware (soft limits, torque cap per direction,
    /// velocity trip, per joint), reads every one back, and throws `safetyLimitsNotConfirmed` with
    /// what differed when a write is refused, a read-back differs by more than the device's
    /// resolution or on the unsafe side, or the device cannot hold such limits. Call while the
    /// device is inactive, before `activate`; never activate after it threw.
    func configure(_ limits: DeviceSafetyLimits) throws(DeviceError)
    /// Powers the drives with the device's watchdog set to `watchdogPeriodNanoseconds`; returns the
    /// period the device confirmed (SR-3). Throws (leaving it inactive) when it refuses.
    func activate(watchdogPeriodNanoseconds: Int64) throws(DeviceError) -> Int64
    /// Torque off and watchdog disarmed; the device stays connected and answering.
    func deactivate() throws(DeviceError)

    /// Reads and decodes everything pending; updates `latestState` when a newer valid state arrived.
    func read(now: MonotonicInstant) -> ReadOutcome
    /// Carries out this cycle's intent in the protocol's verbs. False when the link is lost.
    @discardableResult
    func write(_ intent: DeviceIntent, now: MonotonicInstant, deadline: MonotonicInstant) -> Bool
    /// Waits (at most until `deadline`) for the reply to the last write; true when a fresh state arrived.
    func waitForState(until deadline: MonotonicInstant) -> Bool

    /// The newest valid state, in SI units.
    var latestState: RobotState { get }
    /// How the link is doing: checksum errors, stale states, protocol violations, round trip, last reply.
    var linkHealth: LinkHealth { get }
    /// SR-25: when the oldest command that the device has not yet echoed as applied was written
    /// (nil: every command so far was echoed). A device that ignores commands lets it age.
    var oldestUnechoedCommandAt: MonotonicInstant? { get }
    /// Set when the link has failed; the loop must stop using the device.
    var linkError: TransportError? { get }
}

/// What `read` found.
public enum ReadOutcome: Sendable, Equatable {
    case freshState
    case nothingNew
    case linkLost
}
