import DeviceModel
import Primitives

/// The supervisor's states (SAFETY.md "Supervisor states").
public enum SupervisorState: String, Sendable, CaseIterable, BitwiseCopyable {
    case disabled
    case selfTest = "self_test"
    case idle
    case ready
    case active
    case paused
    case stopping
    case fault
    case estop

    /// States in which the device is enabled and the loop must command it every cycle.
    public var commandsDevice: Bool {
        switch self {
        case .ready, .active, .paused, .stopping, .fault, .estop: true
        case .disabled, .selfTest, .idle: false
        }
    }

    /// Latched states that only an operator reset leaves.
    public var isLatched: Bool { self == .fault || self == .estop }
}

/// IEC 60204-1 stop categories, most severe first.
public enum StopCategory: Int, Sendable, Comparable, CustomStringConvertible, BitwiseCopyable {
    /// Remove torque now.
    case cat0 = 0
    /// Decelerate at the quick-stop rate to standstill, then remove torque.
    case cat1 = 1
    /// Stop and hold, powered.
    case cat2 = 2

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "Cat \(rawValue)" }
}

/// Why the supervisor changed state. Raw values are stable: they appear in logs and JSON.
public enum SafetyCause: String, Sendable, CaseIterable, BitwiseCopyable {
    case selfTestStarted = "self_test_started"
    case selfTestPassed = "self_test_passed"
    case enabled
    case startRequested = "start_requested"
    case stopRequested = "stop_requested"
    case pauseRequested = "pause_requested"
    case resumeRequested = "resume_requested"
    case resetRequested = "reset_requested"
    case standstillReached = "standstill_reached"
    /// SR-1 LOST: the newest valid state is 0.6 W old (Cat 1).
    case deviceSilent = "device_silent"
    /// SR-1 LOST: the newest valid state is W old, the device watchdog's own period (Cat 0).
    case deviceSilentTooLong = "device_silent_too_long"
    /// SR-1: the link became FAIR (logged with the stall in ms; the session degrades, it does not stop).
    case linkDegraded = "link_degraded"
    /// SR-1: the link is GOOD again after a second without trouble.
    case linkRestored = "link_restored"
    /// SR-1 POOR: degradation that persists → Cat 2 pause, not latched (value: FAIR share of the last 5 s, %).
    case linkPoor = "link_poor"
    /// SR-1: the third POOR of a session ends it with Cat 1.
    case linkPoorRepeated = "link_poor_repeated"
    /// SR-14 → SR-1 LOST: the loop stalled 0.6 W or more between two cycles, so the device went that
    /// long without a command (Cat 1; its watchdog stops it at W).
    case loopGap = "loop_gap"
    /// SR-1: end of file, I/O error or unplug.
    case linkLost = "link_lost"
    /// SR-11: the device reports a fault.
    case deviceFault = "device_fault"
    case deviceWatchdogExpired = "device_watchdog_expired"
    /// SR-12: the device's e-stop circuit is open.
    case deviceEmergencyStop = "device_estop"
    /// The device left *enabled* without being asked.
    case deviceDisabled = "device_disabled"
    /// SR-12: e-stop requested by an operator (command, signal).
    case operatorEmergencyStop = "operator_estop"
    /// SR-6: a controller produced NaN or infinity.
    case nonFiniteCommand = "non_finite_command"
    /// SR-13: a Cat 1 stop did not reach standstill in time.
    case stopDeadlineMissed = "stop_deadline_missed"
    /// SR-7: measured past a soft limit by more than the allowed margin.
    case positionBeyondSoftLimit = "position_beyond_soft_limit"
    /// SR-7: at a hard (mechanical) limit.
    case positionHardLimit = "position_hard_limit"
    /// SR-8: above the velocity trip for the configured cycles.
    case velocityTrip = "velocity_trip"
    /// SR-8: above 1.5 × the velocity trip.
    case overspeed
    /// SR-9: interaction torque above the trip for the dwell time.
    case interactionTorque = "interaction_torque"
    /// SR-9: interaction torque above 1.5 × the trip.
    case interactionTorqueSevere = "interaction_torque_severe"
    /// SR-10: an encoder step no joint could make.
    case encoderJump = "encoder_jump"
    /// SR-10: a bit-identical encoder reading while motion is commanded.
    case encoderFrozen = "encoder_frozen"
    /// SR-10 (R6): the device reports a value no healthy joint can have (torque, current or
    /// temperature far outside its rating): a broken sensor or firmware (value in the field's unit).
    case implausibleDeviceValue = "implausible_device_value"
    /// SR-10 (R1): the torque the joint applies should have moved it, and the encoder shows nothing
    /// (value: the counts the torque implies).
    case motionNotAnswering = "motion_not_answering"
    /// SR-15: a tracker sample older than allowed.
    case trackerStale = "tracker_stale"
    /// SR-15: the tracked tool is missing or disabled.
    case trackerToolMissing = "tracker_tool_missing"
    /// SR-15: the frame counter does not advance while bytes arrive.
    case trackerFrozen = "tracker_frozen"
    /// SR-15: the tracking error is above the profile's limit.
    case trackerInaccurate = "tracker_inaccurate"
    /// SR-15: a tracker slower than 60 Hz was asked to gate a safety function.
    case trackerTooSlow = "tracker_too_slow"
    /// SR-16: the tracked hand or end effector left the workspace.
    case workspace
    /// SR-22: the patient's stop input (a button on the device) → Cat 1 stop.
    case patientStop = "patient_stop"
    /// SR-22: the patient's pause input → Cat 2 pause (the operator resumes).
    case patientPause = "patient_pause"
    /// SR-23: after Cat 0 the device still reported torque on when the watchdog period had passed.
    case stopNotConfirmed = "stop_not_confirmed"
    /// SR-23: the device's clock and the host's ran more than 2 % apart over a second (value: %).
    case clockMismatch = "clock_mismatch"
    /// SR-25: the device has not echoed an applied command for 0.4 W: it ignores commands (value: ms).
    case commandsIgnored = "commands_ignored"
    /// D5: the device broke the protocol (a state of the wrong shape, an echo of a command never sent).
    case deviceProtocolViolation = "device_protocol_violation"
    /// SR-18: an operator began holding `release` (zero torque, brake released).
    case releaseStarted = "release_started"
    /// SR-18: `release` was let go, the device stopped answering, or the joint moved too fast: hold again.
    case releaseEnded = "release_ended"
    /// SR-17: the start-up self-test refused the device.
    case selfTestFailed = "self_test_failed"

    /// The requirement this cause belongs to (for logs and docs).
    public var requirement: String {
        switch self {
        case .deviceSilent, .deviceSilentTooLong, .linkLost, .linkDegraded, .linkRestored, .linkPoor, .linkPoorRepeated: "SR-1"
        case .loopGap: "SR-14"
        case .deviceFault, .deviceWatchdogExpired, .deviceDisabled: "SR-11"
        case .deviceEmergencyStop, .operatorEmergencyStop, .stopRequested, .pauseRequested: "SR-12"
        case .nonFiniteCommand: "SR-6"
        case .stopDeadlineMissed: "SR-13"
        case .positionBeyondSoftLimit, .positionHardLimit: "SR-7"
        case .velocityTrip, .overspeed: "SR-8"
        case .interactionTorque, .interactionTorqueSevere: "SR-9"
        case .encoderJump, .encoderFrozen, .motionNotAnswering, .implausibleDeviceValue: "SR-10"
        case .trackerStale, .trackerToolMissing, .trackerFrozen, .trackerInaccurate, .trackerTooSlow: "SR-15"
        case .workspace: "SR-16"
        case .releaseStarted, .releaseEnded: "SR-18"
        case .patientStop, .patientPause: "SR-22"
        case .stopNotConfirmed, .clockMismatch: "SR-23"
        case .commandsIgnored: "SR-25"
        case .deviceProtocolViolation: "SR-11"
        case .selfTestStarted, .selfTestPassed, .selfTestFailed: "SR-17"
        case .enabled, .startRequested, .resumeRequested, .resetRequested, .standstillReached: ""
        }
    }

    /// SR-1/SR-14 timing stops: the loop or the link was held up (on a shared host, often the host's
    /// own stalls). Rigs use it to tell a stall from a defect; the supervisor treats them like any trip.
    public var isTimingInterlock: Bool {
        switch self {
        case .deviceSilent, .deviceSilentTooLong, .linkPoor, .linkPoorRepeated, .loopGap: true
        default: false
        }
    }

    /// The unit of `SupervisorTransition.value` for this cause ("" when it carries none).
    public var valueUnit: String {
        switch self {
        case .linkPoorRepeated: "pauses"
        case .linkPoor, .clockMismatch: "%"
        case .commandsIgnored, .stopNotConfirmed: "ms"
        case .deviceProtocolViolation: "frames"
        case .deviceSilent, .deviceSilentTooLong, .linkDegraded, .loopGap, .stopDeadlineMissed, .trackerStale: "ms"
        case .positionBeyondSoftLimit, .positionHardLimit, .encoderJump: "deg"
        case .velocityTrip, .overspeed, .standstillReached, .releaseEnded: "rad/s"
        case .interactionTorque, .interactionTorqueSevere: "N·m"
        case .encoderFrozen: "ms"
        case .motionNotAnswering: "counts"
        case .trackerInaccurate, .workspace: "mm"
        case .trackerTooSlow: "Hz"
        default: ""
        }
    }
}

/// One supervisor transition, with the cycle, the cause and the value that caused it (SR-19).
public struct SupervisorTransition: Sendable, Equatable, BitwiseCopyable {
    /// The loop's cycle the transition was made in; `setUpCycle` for one made during the set-up.
    public var cycle: Int64
    public var time: MonotonicInstant
    public var from: SupervisorState
    public var to: SupervisorState
    public var cause: SafetyCause
    /// The stop category applied, when the transition stops motion.
    public var category: StopCategory?
    /// The measurement behind the cause (silent cycles, speed, elapsed ms …), in the cause's unit.
    public var value: Double
    /// A device fault code, when the device reported one.
    public var deviceCode: UInt32
    /// The joint concerned, when the cause is one joint's.
    public var joint: Int?

    public init(
        cycle: Int64, time: MonotonicInstant, from: SupervisorState, to: SupervisorState, cause: SafetyCause,
        category: StopCategory?, value: Double, deviceCode: UInt32, joint: Int? = nil
    ) {
        self.joint = joint
        self.cycle = cycle
        self.time = time
        self.from = from
        self.to = to
        self.cause = cause
        self.category = category
        self.value = value
        self.deviceCode = deviceCode
    }

    /// The `cycle` of a transition made during the set-up (self-test, link pre-flight, enable,
    /// direction test), before the loop's cycle 0 and in none of its cycles. Files and JSON never
    /// show this number: they say `"cycle": null, "phase": "set_up"` (docs/telemetry.md).
    public static let setUpCycle: Int64 = -1

    /// Made during the set-up, before the loop's first cycle.
    public var isDuringSetUp: Bool { cycle == Self.setUpCycle }

    /// "set_up" or "loop": the `phase` of recordings and `--json`.
    public var phaseName: String { isDuringSetUp ? "set_up" : "loop" }
}

/// Requests from outside the loop (operator, signals, the exercise), read once per cycle.
public struct OperatorRequests: OptionSet, Sendable, BitwiseCopyable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let start = OperatorRequests(rawValue: 1 << 0)
    public static let stop = OperatorRequests(rawValue: 1 << 1)
    public static let pause = OperatorRequests(rawValue: 1 << 2)
    public static let resume = OperatorRequests(rawValue: 1 << 3)
    public static let emergencyStop = OperatorRequests(rawValue: 1 << 4)
    public static let reset = OperatorRequests(rawValue: 1 << 5)
}

/// What the supervisor allows this cycle.
public enum SupervisorAction: Sendable, Equatable {
    /// Run the controller.
    case move
    /// Cat 2: hold position, powered.
    case hold
    /// Cat 1: decelerate at the quick-stop rate (the stop began at `since`).
    case decelerate(since: MonotonicInstant)
    /// Cat 0, or not moving: zero torque.
    case torqueOff
    /// SR-18: hold-to-run patient release from `fault`/`estop`: zero torque with the drive powered
    /// and the brake released, so the patient's limb can be taken out.
    case release
}

/// One interlock's verdict: the stop it asks for, why, and the value behind it.
public struct SafetyTrip: Sendable, Equatable, BitwiseCopyable {
    public var category: StopCategory
    public var cause: SafetyCause
    /// The measurement that tripped it, in the cause's unit (°, rad/s, N·m, ms, counts …).
    public var value: Double
    public var deviceCode: UInt32
    public var joint: Int?
    public var isEmergencyStop: Bool

    public init(category: StopCategory, cause: SafetyCause, value: Double = 0, deviceCode: UInt32 = 0, joint: Int? = nil,
                isEmergencyStop: Bool = false) {
        self.category = category
        self.cause = cause
        self.value = value
        self.deviceCode = deviceCode
        self.joint = joint
        self.isEmergencyStop = isEmergencyStop
    }

    /// The more severe of two trips (lower category wins; the first on a tie).
    public static func moreSevere(_ lhs: SafetyTrip?, _ rhs: SafetyTrip?) -> SafetyTrip? {
        guard let lhs else { return rhs }
        guard let rhs else { return lhs }
        return rhs.category < lhs.category ? rhs : lhs
    }
}

/// A joint's limits as the interlocks and the clamp need them, in SI units.
public struct JointSafetyLimits: Sendable, Equatable {
    public var hardMinimumRadians: Double
    public var hardMaximumRadians: Double
    /// Soft limits: hard − margin, possibly narrowed further for a patient (never widened).
    public var softMinimumRadians: Double
    public var softMaximumRadians: Double
    public var ratedVelocityRadiansPerSecond: Double
    public var encoderCountsPerRevolution: Int
    /// SR-9 trip, for joints with an interaction torque sensor.
    public var interactionTripNewtonMeters: Double?
    /// SR-10's model check (`UnansweredTorqueInterlock`): the joint's inertia and Coulomb friction
    /// (0 inertia: not checked).
    public var inertiaKilogramSquareMeters: Double = 0
    public var coulombFrictionNewtonMeters: Double = 0
    /// SR-10 (R6): what a healthy joint can report — |motor torque| and |interaction torque| [N·m],
    /// |motor current| [A], winding temperature [°C] (0 / empty: not checked).
    public var plausibleTorqueNewtonMeters: Double = 0
    public var plausibleCurrentAmperes: Double = 0
    public var plausibleTemperatureCelsius: ClosedRange<Double> = 0...0

    public init(
        hardMinimumRadians: Double, hardMaximumRadians: Double, softMinimumRadians: Double, softMaximumRadians: Double,
        ratedVelocityRadiansPerSecond: Double, encoderCountsPerRevolution: Int, interactionTripNewtonMeters: Double?
    ) {
        self.hardMinimumRadians = hardMinimumRadians
        self.hardMaximumRadians = hardMaximumRadians
        self.softMinimumRadians = softMinimumRadians
        self.softMaximumRadians = softMaximumRadians
        self.ratedVelocityRadiansPerSecond = ratedVelocityRadiansPerSecond
        self.encoderCountsPerRevolution = encoderCountsPerRevolution
        self.interactionTripNewtonMeters = interactionTripNewtonMeters
    }

    /// Fills the unused slots of a `JointList` (a supervisor without joint interlocks has count 0).
    public static let placeholder = JointSafetyLimits(
        hardMinimumRadians: 0, hardMaximumRadians: 0, softMinimumRadians: 0, softMaximumRadians: 0,
        ratedVelocityRadiansPerSecond: 0, encoderCountsPerRevolution: 1, interactionTripNewtonMeters: nil)

    /// Narrows the soft limits to a patient's range of motion; it can never widen them.
    public func narrowed(to range: ClosedRange<Double>) -> JointSafetyLimits {
        var copy = self
        copy.softMinimumRadians = max(softMinimumRadians, range.lowerBound)
        copy.softMaximumRadians = min(softMaximumRadians, range.upperBound)
        return copy
    }
}
