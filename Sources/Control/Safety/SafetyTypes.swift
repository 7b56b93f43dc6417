import Primitives

/// The supervisor's states (SAFETY.md "Supervisor states").
public enum SupervisorState: String, Sendable, CaseIterable {
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
public enum StopCategory: Int, Sendable, Comparable, CustomStringConvertible {
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
public enum SafetyCause: String, Sendable, CaseIterable {
    case selfTestStarted = "self_test_started"
    case selfTestPassed = "self_test_passed"
    case enabled
    case startRequested = "start_requested"
    case stopRequested = "stop_requested"
    case pauseRequested = "pause_requested"
    case resumeRequested = "resume_requested"
    case resetRequested = "reset_requested"
    case standstillReached = "standstill_reached"
    /// SR-1: no valid state frame for the configured number of cycles.
    case deviceSilent = "device_silent"
    /// SR-1: still silent after the Cat 0 time.
    case deviceSilentTooLong = "device_silent_too_long"
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
    /// SR-14: five overruns in a row.
    case loopOverruns = "loop_overruns"
    /// SR-14: more than 1 % of the cycles of a second were late.
    case loopLateCycles = "loop_late_cycles"
    /// SR-14: a gap of more than 10 ms between cycles.
    case loopGap = "loop_gap"
}

/// One supervisor transition, with the cycle, the cause and the value that caused it (SR-19).
public struct SupervisorTransition: Sendable, Equatable {
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
    public var deviceCode: UInt16

    public init(
        cycle: Int64, time: MonotonicInstant, from: SupervisorState, to: SupervisorState, cause: SafetyCause,
        category: StopCategory?, value: Double, deviceCode: UInt16
    ) {
        self.cycle = cycle
        self.time = time
        self.from = from
        self.to = to
        self.cause = cause
        self.category = category
        self.value = value
        self.deviceCode = deviceCode
    }
}

/// Requests from outside the loop (operator, signals, the exercise), read once per cycle.
public struct OperatorRequests: OptionSet, Sendable {
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
}
