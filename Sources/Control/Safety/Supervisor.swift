import Primitives

/// The one owner of the right to move. Pure: it is given each cycle's facts and returns what is
/// allowed; it has no clock, does no I/O and never allocates after `init`.
///
/// Faults latch with their cause, time and value; only an operator reset leaves `fault` or
/// `estop`, and only once the cause is gone; a reset never enables motion. When several things
/// happen in one cycle, the most severe wins: Cat 0 > Cat 1 > Cat 2 > start.
public struct Supervisor: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// SR-1: cycles without a valid state frame before a Cat 1 stop.
        public var silenceCycles: Int
        /// SR-1: silence that removes torque.
        public var silenceTorqueOffNanoseconds: Int64
        /// SR-13: a Cat 1 stop must reach standstill within this.
        public var stopDeadlineNanoseconds: Int64
        public var standstillVelocityRadiansPerSecond: Double
        /// SR-12: an operator e-stop is Cat 0 unless the profile asks for Cat 1.
        public var emergencyStopCategory: StopCategory

        public init(
            silenceCycles: Int, silenceTorqueOffNanoseconds: Int64, stopDeadlineNanoseconds: Int64,
            standstillVelocityRadiansPerSecond: Double, emergencyStopCategory: StopCategory = .cat0
        ) {
            precondition(emergencyStopCategory != .cat2, "an e-stop is Cat 0 or Cat 1, never Cat 2")
            self.silenceCycles = silenceCycles
            self.silenceTorqueOffNanoseconds = silenceTorqueOffNanoseconds
            self.stopDeadlineNanoseconds = stopDeadlineNanoseconds
            self.standstillVelocityRadiansPerSecond = standstillVelocityRadiansPerSecond
            self.emergencyStopCategory = emergencyStopCategory
        }
    }

    /// The facts of one cycle.
    public struct Input: Sendable {
        public var cycle: Int64
        public var time: MonotonicInstant
        /// A valid state frame (CRC ok, sequence advancing) arrived since the last cycle.
        public var freshState: Bool
        /// The link reported end-of-file, EIO or an unplug.
        public var linkLost: Bool
        public var device: DeviceCondition
        public var deviceFaultCode: UInt16
        /// From the latest state: the fastest joint [rad/s].
        public var maximumSpeedRadiansPerSecond: Double
        public var requests: OperatorRequests
        /// SR-14: what the loop-timing monitor found this cycle.
        public var timing: LoopTimingMonitor.Violation?

        public init(
            cycle: Int64, time: MonotonicInstant, freshState: Bool, linkLost: Bool = false, device: DeviceCondition,
            deviceFaultCode: UInt16 = 0, maximumSpeedRadiansPerSecond: Double, requests: OperatorRequests = [],
            timing: LoopTimingMonitor.Violation? = nil
        ) {
            self.timing = timing
            self.cycle = cycle
            self.time = time
            self.freshState = freshState
            self.linkLost = linkLost
            self.device = device
            self.deviceFaultCode = deviceFaultCode
            self.maximumSpeedRadiansPerSecond = maximumSpeedRadiansPerSecond
            self.requests = requests
        }
    }

    public let configuration: Configuration
    public private(set) var state: SupervisorState = .disabled
    /// The stop in progress: its category and when it began (nil when none).
    public private(set) var activeStop: (category: StopCategory, since: MonotonicInstant)?
    /// The cause that latched `fault`/`estop`.
    public private(set) var latchedCause: SafetyCause?
    public private(set) var silentCycles = 0
    public private(set) var lastFreshStateTime: MonotonicInstant?
    /// Every transition, oldest first, up to `transitionCapacity` (then the oldest are dropped and counted).
    public private(set) var transitions: [SupervisorTransition] = []
    public private(set) var droppedTransitions = 0
    public static let transitionCapacity = 1024

    private var pendingNonFiniteCommand = false
    private var currentCycle: Int64 = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
        transitions.reserveCapacity(Self.transitionCapacity)
    }

    // MARK: Outside the loop (set-up and self-test)

    public mutating func beginSelfTest(cycle: Int64, time: MonotonicInstant) {
        guard state == .disabled || state == .idle else { return }
        transition(to: .selfTest, cause: .selfTestStarted, category: nil, value: 0, code: 0, cycle: cycle, time: time)
    }

    public mutating func selfTestPassed(cycle: Int64, time: MonotonicInstant) {
        guard state == .selfTest else { return }
        transition(to: .idle, cause: .selfTestPassed, category: nil, value: 0, code: 0, cycle: cycle, time: time)
    }

    /// The device acknowledged ENABLE with a valid watchdog and sent a fresh state (SR-2, SR-3).
    public mutating func deviceEnabled(cycle: Int64, time: MonotonicInstant) {
        guard state == .idle else { return }
        lastFreshStateTime = time
        silentCycles = 0
        transition(to: .ready, cause: .enabled, category: nil, value: 0, code: 0, cycle: cycle, time: time)
    }

    /// The last-stage clamp found NaN or infinity this cycle (it already sent a safe command).
    public mutating func reportNonFiniteCommand() {
        pendingNonFiniteCommand = true
    }

    // MARK: Every cycle

    /// Evaluates every interlock on this cycle's facts and returns what is allowed now.
    public mutating func evaluate(_ input: Input) -> SupervisorAction {
        currentCycle = input.cycle
        if input.freshState {
            silentCycles = 0
            lastFreshStateTime = input.time
        } else {
            silentCycles += 1
        }
        if state.commandsDevice {
            // Trips first, then requests: a start in the same cycle as a trip finds the state latched.
            if let trip = mostSevereTrip(input) { trigger(trip, input: input) }
            handleRequests(input)
        }
        return action(for: input)
    }

    private struct Trip {
        var category: StopCategory
        var cause: SafetyCause
        var value: Double
        var code: UInt16
        var isEmergencyStop: Bool
    }

    private mutating func mostSevereTrip(_ input: Input) -> Trip? {
        var worst: Trip?
        func consider(_ trip: Trip) {
            if worst == nil || trip.category < worst!.category { worst = trip }
        }
        if input.linkLost { consider(Trip(category: .cat0, cause: .linkLost, value: 0, code: 0, isEmergencyStop: false)) }
        if input.freshState {
            if input.device.contains(.emergencyStop) {
                consider(Trip(category: .cat0, cause: .deviceEmergencyStop, value: 0, code: 0, isEmergencyStop: true))
            }
            if input.device.contains(.fault) {
                consider(Trip(category: .cat0, cause: .deviceFault, value: 0, code: input.deviceFaultCode, isEmergencyStop: false))
            }
            if input.device.contains(.watchdogExpired) {
                consider(Trip(category: .cat0, cause: .deviceWatchdogExpired, value: 0, code: 0, isEmergencyStop: false))
            }
            if !input.device.contains(.enabled) {
                consider(Trip(category: .cat0, cause: .deviceDisabled, value: 0, code: 0, isEmergencyStop: false))
            }
        }
        if input.requests.contains(.emergencyStop) {
            consider(Trip(category: configuration.emergencyStopCategory, cause: .operatorEmergencyStop, value: 0, code: 0, isEmergencyStop: true))
        }
        if let last = lastFreshStateTime {
            let silence = input.time.nanoseconds(since: last)
            if silence >= configuration.silenceTorqueOffNanoseconds {
                consider(Trip(category: .cat0, cause: .deviceSilentTooLong, value: Double(silence) * 1e-6, code: 0, isEmergencyStop: false))
            }
        }
        if silentCycles >= configuration.silenceCycles {
            consider(Trip(category: .cat1, cause: .deviceSilent, value: Double(silentCycles), code: 0, isEmergencyStop: false))
        }
        switch input.timing {
        case .consecutiveOverruns(let count):
            consider(Trip(category: .cat1, cause: .loopOverruns, value: Double(count), code: 0, isEmergencyStop: false))
        case .tooManyLateCycles(let count):
            consider(Trip(category: .cat1, cause: .loopLateCycles, value: Double(count), code: 0, isEmergencyStop: false))
        case .gap(let nanoseconds):
            consider(Trip(category: .cat1, cause: .loopGap, value: Double(nanoseconds) * 1e-6, code: 0, isEmergencyStop: false))
        case nil:
            break
        }
        if pendingNonFiniteCommand {
            pendingNonFiniteCommand = false
            consider(Trip(category: .cat1, cause: .nonFiniteCommand, value: 0, code: 0, isEmergencyStop: false))
        }
        if let stop = activeStop, stop.category == .cat1 {
            let elapsed = input.time.nanoseconds(since: stop.since)
            if elapsed > configuration.stopDeadlineNanoseconds
                && input.maximumSpeedRadiansPerSecond >= configuration.standstillVelocityRadiansPerSecond
            {
                consider(Trip(category: .cat0, cause: .stopDeadlineMissed, value: Double(elapsed) * 1e-6, code: 0, isEmergencyStop: false))
            }
        }
        return worst
    }

    private mutating func trigger(_ trip: Trip, input: Input) {
        // An e-stop dominates a fault: once in `estop`, later trips escalate the stop but keep the state.
        let target: SupervisorState = (trip.isEmergencyStop || state == .estop) ? .estop : .fault
        let moreSevere = activeStop.map { trip.category < $0.category } ?? true
        if state.isLatched && target == state && !moreSevere { return }
        if target != state { latchedCause = trip.cause }
        startStop(trip.category, at: input.time)
        log(to: target, trip: trip, input: input)
    }

    private mutating func log(to target: SupervisorState, trip: Trip, input: Input) {
        transition(to: target, cause: trip.cause, category: trip.category, value: trip.value, code: trip.code,
                   cycle: input.cycle, time: input.time)
    }

    private mutating func startStop(_ category: StopCategory, at time: MonotonicInstant) {
        if let stop = activeStop, stop.category == category { return }
        activeStop = (category, time)
    }

    private mutating func handleRequests(_ input: Input) {
        let requests = input.requests
        let cycle = input.cycle
        let time = input.time
        if state.isLatched {
            if requests.contains(.reset) {
                lastResetRefusal = reset(cycle: cycle, time: time, device: input.device, linkUp: !input.linkLost)
            }
            return
        }
        let motion = state == .ready || state == .active || state == .paused
        // The stop wins over a start or resume requested in the same cycle.
        if motion && requests.contains(.stop) {
            startStop(.cat1, at: time)
            transition(to: .stopping, cause: .stopRequested, category: .cat1, value: 0, code: 0, cycle: cycle, time: time)
        } else if state == .active && requests.contains(.pause) {
            startStop(.cat2, at: time)
            transition(to: .paused, cause: .pauseRequested, category: .cat2, value: 0, code: 0, cycle: cycle, time: time)
        } else if state == .ready && requests.contains(.start) {
            transition(to: .active, cause: .startRequested, category: nil, value: 0, code: 0, cycle: cycle, time: time)
        } else if state == .paused && (requests.contains(.resume) || requests.contains(.start)) {
            activeStop = nil
            transition(to: .active, cause: .resumeRequested, category: nil, value: 0, code: 0, cycle: cycle, time: time)
        }
    }

    /// Why a reset was refused.
    public enum ResetRefusal: String, Sendable {
        case notLatched = "nothing to reset"
        case stopInProgress = "the stop is still in progress"
        case linkDown = "the device link is down"
        case emergencyStopPressed = "the device e-stop is still pressed"
        case deviceFault = "the device still reports a fault"
    }

    /// The reason the last reset request was refused (nil after a successful reset).
    public private(set) var lastResetRefusal: ResetRefusal?

    /// Leaves `fault`/`estop` for `idle` when the operator asks, the stop has finished and the
    /// cause is gone. Returns the reason when refused. Never enables motion.
    @discardableResult
    public mutating func reset(cycle: Int64, time: MonotonicInstant, device: DeviceCondition, linkUp: Bool) -> ResetRefusal? {
        guard state.isLatched else { return .notLatched }
        if let stop = activeStop, stop.category != .cat0 { return .stopInProgress }
        if !linkUp { return .linkDown }
        if device.contains(.emergencyStop) { return .emergencyStopPressed }
        if device.contains(.fault) { return .deviceFault }
        activeStop = nil
        latchedCause = nil
        transition(to: .idle, cause: .resetRequested, category: nil, value: 0, code: 0, cycle: cycle, time: time)
        return nil
    }

    private mutating func action(for input: Input) -> SupervisorAction {
        guard state.commandsDevice else { return .torqueOff }
        if let stop = activeStop {
            switch stop.category {
            case .cat0:
                return .torqueOff
            case .cat2:
                return .hold
            case .cat1:
                let stopped = input.freshState && input.maximumSpeedRadiansPerSecond < configuration.standstillVelocityRadiansPerSecond
                if stopped {
                    // Standstill: finish the Cat 1 stop by removing torque.
                    activeStop = (.cat0, stop.since)
                    if state == .stopping {
                        transition(to: .idle, cause: .standstillReached, category: .cat0,
                                   value: input.maximumSpeedRadiansPerSecond, code: 0, cycle: input.cycle, time: input.time)
                    }
                    return .torqueOff
                }
                return .decelerate(since: stop.since)
            }
        }
        switch state {
        case .active: return .move
        case .paused: return .hold
        default: return .torqueOff
        }
    }

    private mutating func transition(
        to target: SupervisorState, cause: SafetyCause, category: StopCategory?, value: Double, code: UInt16,
        cycle: Int64, time: MonotonicInstant
    ) {
        if transitions.count == Self.transitionCapacity {
            transitions.removeFirst()
            droppedTransitions += 1
        }
        transitions.append(
            SupervisorTransition(cycle: cycle, time: time, from: state, to: target, cause: cause, category: category,
                                 value: value, deviceCode: code))
        state = target
        if target == .idle { activeStop = nil }
    }
}
