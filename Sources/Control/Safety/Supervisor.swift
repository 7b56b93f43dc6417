import DeviceModel
import Primitives

/// The one owner of the right to move (SAFETY.md). Pure: it is given each cycle's facts and
/// returns what is allowed; it has no clock, does no I/O and never allocates after `init`.
///
/// Every interlock of SR-1 … SR-16 that the loop evaluates lives here, on the state the cycle
/// decoded, so a detection becomes a safe command in the same cycle. Faults latch with their cause,
/// cycle, value and joint; only an operator reset leaves `fault` or `estop`, only once the stop has
/// finished and no interlock still trips, and a reset never enables motion. When several things
/// happen in one cycle the most severe wins: Cat 0 > Cat 1 > Cat 2 > start.
public struct Supervisor: Sendable {
    /// Thresholds, in SI units, from the hardware profile (see `Session` for the mapping).
    public struct Configuration: Sendable, Equatable {
        /// SR-1 (v2) / SR-14: the link-quality grades, derived from the device watchdog and the loop period.
        public var link: LinkQualityLimits
        /// SR-13: a Cat 1 stop must reach standstill within this.
        public var stopDeadlineNanoseconds: Int64
        public var standstillVelocityRadiansPerSecond: Double
        /// SR-12: an e-stop (device, operator, SIGTERM) is Cat 0 unless the profile asks for Cat 1.
        public var emergencyStopCategory: StopCategory
        /// Per-joint limits (SR-7 soft/hard, SR-9 trip, SR-10 encoder); empty: no joint interlocks.
        public var joints: JointList<JointSafetyLimits>
        /// SR-7: measured past a soft limit by more than this → Cat 1.
        public var beyondSoftLimitCat1Radians: Double
        /// SR-8: |q̇| above this for `velocityTripCycles` fresh states → Cat 1; above 1.5 × → Cat 0.
        public var velocityTripRadiansPerSecond: Double
        public var velocityTripCycles: Int
        /// SR-9: interaction torque above the trip for this long → Cat 1.
        public var interactionDwellNanoseconds: Int64
        /// SR-10: encoder step allowed, in multiples of rated speed × elapsed time.
        public var encoderJumpSpeedFactor: Double
        /// SR-10: a bit-identical count for this long while motion is demanded → Cat 1.
        public var frozenEncoderNanoseconds: Int64
        /// SR-18: release may begin only below this speed on every joint.
        public var releaseStandstillRadiansPerSecond: Double
        /// SR-15: set when a mode depends on a tracker (its RMS limit [mm]); nil: no tracker gates motion.
        public var trackerMaximumRmsErrorMillimeters: Double?
        /// SR-16: the workspace box [m] the tracked hand or end effector must stay in (+ 20 mm).
        public var workspace: (minimum: SIMD3<Double>, maximum: SIMD3<Double>)?
        /// SR-16: the largest fit error of the workspace tracker's tool [mm] (SR-15's rule).
        public var workspaceTrackerMaximumRmsErrorMillimeters = 2.0

        public init(
            link: LinkQualityLimits, stopDeadlineNanoseconds: Int64,
            standstillVelocityRadiansPerSecond: Double, emergencyStopCategory: StopCategory = .cat0,
            joints: JointList<JointSafetyLimits> = JointList(count: 0, repeating: .placeholder),
            beyondSoftLimitCat1Radians: Double = 2 * Units.radiansPerDegree, velocityTripRadiansPerSecond: Double = 1.5,
            velocityTripCycles: Int = 3, interactionDwellNanoseconds: Int64 = 50_000_000, encoderJumpSpeedFactor: Double = 10,
            frozenEncoderNanoseconds: Int64 = 200_000_000, releaseStandstillRadiansPerSecond: Double = 0.05,
            trackerMaximumRmsErrorMillimeters: Double? = nil, workspace: (minimum: SIMD3<Double>, maximum: SIMD3<Double>)? = nil
        ) {
            precondition(emergencyStopCategory != .cat2, "an e-stop is Cat 0 or Cat 1, never Cat 2")
            self.link = link
            self.stopDeadlineNanoseconds = stopDeadlineNanoseconds
            self.standstillVelocityRadiansPerSecond = standstillVelocityRadiansPerSecond
            self.emergencyStopCategory = emergencyStopCategory
            self.joints = joints
            self.beyondSoftLimitCat1Radians = beyondSoftLimitCat1Radians
            self.velocityTripRadiansPerSecond = velocityTripRadiansPerSecond
            self.velocityTripCycles = velocityTripCycles
            self.interactionDwellNanoseconds = interactionDwellNanoseconds
            self.encoderJumpSpeedFactor = encoderJumpSpeedFactor
            self.frozenEncoderNanoseconds = frozenEncoderNanoseconds
            self.releaseStandstillRadiansPerSecond = releaseStandstillRadiansPerSecond
            self.trackerMaximumRmsErrorMillimeters = trackerMaximumRmsErrorMillimeters
            self.workspace = workspace
        }

        public static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.link == rhs.link
                && lhs.stopDeadlineNanoseconds == rhs.stopDeadlineNanoseconds
                && lhs.standstillVelocityRadiansPerSecond == rhs.standstillVelocityRadiansPerSecond
                && lhs.emergencyStopCategory == rhs.emergencyStopCategory && lhs.joints == rhs.joints
                && lhs.beyondSoftLimitCat1Radians == rhs.beyondSoftLimitCat1Radians
                && lhs.velocityTripRadiansPerSecond == rhs.velocityTripRadiansPerSecond
                && lhs.velocityTripCycles == rhs.velocityTripCycles
                && lhs.interactionDwellNanoseconds == rhs.interactionDwellNanoseconds
                && lhs.encoderJumpSpeedFactor == rhs.encoderJumpSpeedFactor
                && lhs.frozenEncoderNanoseconds == rhs.frozenEncoderNanoseconds
                && lhs.releaseStandstillRadiansPerSecond == rhs.releaseStandstillRadiansPerSecond
                && lhs.trackerMaximumRmsErrorMillimeters == rhs.trackerMaximumRmsErrorMillimeters
                && lhs.workspace?.minimum == rhs.workspace?.minimum && lhs.workspace?.maximum == rhs.workspace?.maximum
                && lhs.workspaceTrackerMaximumRmsErrorMillimeters == rhs.workspaceTrackerMaximumRmsErrorMillimeters
        }
    }

    /// The facts of one cycle besides the robot state.
    public struct Input: Sendable {
        public var cycle: Int64
        public var time: MonotonicInstant
        /// A valid state frame (CRC ok, sequence advancing) arrived since the last cycle: the
        /// interlocks on measured state evaluate it (once).
        public var freshState: Bool
        /// SR-1/SR-5: now − when the newest valid state was sampled [ns] (`Int64.max` before any).
        /// Freshness is judged by this age, never by "a frame arrived since the last cycle".
        public var stateAgeNanoseconds: Int64
        /// SR-14: deadlines the loop missed since the previous cycle (they feed SR-1's grading).
        public var lateCycles: Int
        /// SR-25: now − when the oldest command the device has not echoed was written [ns] (0: none).
        public var commandEchoLagNanoseconds: Int64 = 0
        /// D5: the driver's count of protocol violations so far (a rise trips).
        public var protocolViolations = 0
        /// The link reported end-of-file, EIO or an unplug.
        public var linkLost: Bool
        public var requests: OperatorRequests
        /// SR-10: joints whose command asks them to move (a frozen encoder only matters then).
        public var demandsMotion: JointList<Bool>
        /// SR-15: the tracker's latest sample (nil: none yet); read only when a tracker gates motion.
        public var tracker: TrackerStatus?
        /// SR-15 "for any mode that depends on the tracker": false while no such mode is in force,
        /// asked for or blending out, so that the configured tracker interlock does not stop the other modes.
        public var trackerGatesMotion: Bool
        /// SR-16: the tracked hand or end effector [m], when something tracks it.
        public var trackedPositionMeters: SIMD3<Double>?
        /// SR-16 with SR-15's checks: the workspace tracker's latest sample (nil: none yet), judged
        /// whenever `workspaceTrackerWired` — a stale, frozen or blind tracker cannot vouch for the workspace.
        public var workspaceTracker: TrackerStatus?
        public var workspaceTrackerWired = false
        /// SR-18: an operator is holding `release` this cycle.
        public var releaseHeld: Bool

        public init(
            cycle: Int64, time: MonotonicInstant, freshState: Bool, stateAgeNanoseconds: Int64, lateCycles: Int = 0,
            commandEchoLagNanoseconds: Int64 = 0, protocolViolations: Int = 0, linkLost: Bool = false, requests: OperatorRequests = [], demandsMotion: JointList<Bool> = JointList(count: 0, repeating: false),
            tracker: TrackerStatus? = nil, trackerGatesMotion: Bool = true, trackedPositionMeters: SIMD3<Double>? = nil,
            releaseHeld: Bool = false
        ) {
            self.cycle = cycle
            self.time = time
            self.freshState = freshState
            self.stateAgeNanoseconds = stateAgeNanoseconds
            self.lateCycles = lateCycles
            self.commandEchoLagNanoseconds = commandEchoLagNanoseconds
            self.protocolViolations = protocolViolations
            self.linkLost = linkLost
            self.requests = requests
            self.demandsMotion = demandsMotion
            self.tracker = tracker
            self.trackerGatesMotion = trackerGatesMotion
            self.trackedPositionMeters = trackedPositionMeters
            self.releaseHeld = releaseHeld
        }
    }

    public let configuration: Configuration
    public private(set) var state: SupervisorState = .disabled
    /// The stop in progress: its category and when it began (nil when none).
    public private(set) var activeStop: (category: StopCategory, since: MonotonicInstant)?
    /// The trip that latched `fault`/`estop` (its cause, value and joint).
    public private(set) var latchedTrip: SafetyTrip?
    public var latchedCause: SafetyCause? { latchedTrip?.cause }
    /// SR-18: the hold-to-run release sub-state of `fault`/`estop`.
    public private(set) var isReleasing = false
    /// Why the last `release` could not begin or continue (nil while releasing or when never asked).
    public private(set) var releaseRefusal: ReleaseRefusal?
    /// SR-1: the link's grade and its history (time in each grade, episodes).
    public private(set) var linkQuality: LinkQualityMonitor
    /// This cycle's assessment of the link.
    public private(set) var link = LinkAssessment(grade: .good)
    /// POOR pauses so far (SR-1: the third ends the session with Cat 1 instead).
    public private(set) var poorPauses = 0
    /// SR-23: when torque off was first commanded, until the device confirms it (nil: nothing pending).
    public private(set) var torqueOffCommandedAt: MonotonicInstant?
    /// SR-23: the start of the current clock-comparison window (host receipt, device time).
    private var clockWindow: (host: MonotonicInstant, device: Int64)?
    private var protocolViolationsSeen = 0
    /// The last action was torque off (SR-23 starts its wait on the first such cycle only).
    private var commandsTorqueOff = false
    /// Every transition, oldest first, up to `transitionCapacity` (then the oldest are dropped and counted).
    public private(set) var transitions: [SupervisorTransition] = []
    public private(set) var droppedTransitions = 0
    public static let transitionCapacity = 1024
    /// False on a copy that only rehearses a cycle (a cache warm-up): its transitions are not
    /// logged, because the log's storage is shared with the original and a write would copy it.
    public var keepsLog = true
    /// The result of the last reset request (nil: none yet).
    public private(set) var lastResetOutcome: ResetOutcome?
    /// A reset is waiting for the device to clear its fault (the session sent FAULT_RESET).
    public private(set) var resetPendingUntil: MonotonicInstant?

    private let positionLimits: PositionLimitInterlock
    private var velocity: VelocityInterlock
    private var interaction: InteractionTorqueInterlock
    private var encoder: EncoderPlausibilityInterlock
    private var unansweredTorque: UnansweredTorqueInterlock
    private let tracker: TrackerInterlock?
    /// SR-16's tracker, judged like SR-15's (the fit error limit of `workspaceTrackerMaximumRmsErrorMillimeters`).
    private let workspaceTrackerInterlock: TrackerInterlock
    private let workspace: WorkspaceInterlock?
    private var pendingNonFiniteCommand = false
    /// D7: each joint's encoder count in the newest state, and the frozen joint's count when it latched.
    private var latchedCounts: JointList<Int64>
    private var robotCountsAtLatch: JointList<Int64>
    private var frozenJointAtLatch: Int?
    private var deviceFaultResetWanted = false
    /// How long a reset waits for the device to clear its fault before it is refused.
    public static let deviceResetWaitNanoseconds: Int64 = 100_000_000

    public init(configuration: Configuration) {
        self.configuration = configuration
        linkQuality = LinkQualityMonitor(limits: configuration.link)
        latchedCounts = JointList(count: configuration.joints.count, repeating: 0)
        robotCountsAtLatch = JointList(count: configuration.joints.count, repeating: 0)
        let joints = configuration.joints
        positionLimits = PositionLimitInterlock(joints: joints, beyondSoftCat1Radians: configuration.beyondSoftLimitCat1Radians)
        velocity = VelocityInterlock(
            jointCount: joints.count, tripRadiansPerSecond: configuration.velocityTripRadiansPerSecond,
            cycles: configuration.velocityTripCycles)
        var trips = JointList<Double>.zeros(joints.count)
        var rated = JointList<Double>.zeros(joints.count)
        var counts = JointList<Int>(count: joints.count, repeating: 1)
        for joint in 0..<joints.count {
            trips[joint] = joints[joint].interactionTripNewtonMeters ?? 0
            rated[joint] = joints[joint].ratedVelocityRadiansPerSecond
            counts[joint] = joints[joint].encoderCountsPerRevolution
        }
        interaction = InteractionTorqueInterlock(trips: trips, dwellNanoseconds: configuration.interactionDwellNanoseconds)
        var models = JointList(
            count: joints.count,
            repeating: UnansweredTorqueInterlock.Joint(
                inertiaKilogramSquareMeters: 0, coulombFrictionNewtonMeters: 0, countsPerRevolution: 1, hasTorqueSensor: false))
        for joint in 0..<joints.count {
            models[joint] = .init(
                inertiaKilogramSquareMeters: joints[joint].inertiaKilogramSquareMeters,
                coulombFrictionNewtonMeters: joints[joint].coulombFrictionNewtonMeters,
                countsPerRevolution: joints[joint].encoderCountsPerRevolution, hasTorqueSensor: joints[joint].interactionTripNewtonMeters != nil)
        }
        unansweredTorque = UnansweredTorqueInterlock(joints: models)
        encoder = EncoderPlausibilityInterlock(
            ratedSpeeds: rated, countsPerRevolution: counts, jumpFactor: configuration.encoderJumpSpeedFactor,
            frozenNanoseconds: configuration.frozenEncoderNanoseconds)
        tracker = configuration.trackerMaximumRmsErrorMillimeters.map { TrackerInterlock(maximumRmsErrorMillimeters: $0) }
        workspaceTrackerInterlock = TrackerInterlock(maximumRmsErrorMillimeters: configuration.workspaceTrackerMaximumRmsErrorMillimeters)
        workspace = configuration.workspace.map { WorkspaceInterlock(minimumMeters: $0.minimum, maximumMeters: $0.maximum) }
        transitions.reserveCapacity(Self.transitionCapacity)
    }

    // MARK: Outside the loop (set-up and self-test)

    public mutating func beginSelfTest(cycle: Int64, time: MonotonicInstant) {
        guard state == .disabled || state == .idle else { return }
        transition(to: .selfTest, cause: .selfTestStarted, cycle: cycle, time: time)
    }

    public mutating func selfTestPassed(cycle: Int64, time: MonotonicInstant) {
        guard state == .selfTest else { return }
        transition(to: .idle, cause: .selfTestPassed, cycle: cycle, time: time)
    }

    /// SR-17: the self-test refused the device; nothing may be enabled.
    public mutating func selfTestFailed(cycle: Int64, time: MonotonicInstant) {
        guard state == .selfTest || state == .idle else { return }
        transition(to: .disabled, cause: .selfTestFailed, cycle: cycle, time: time)
    }

    /// The device acknowledged ENABLE with a valid watchdog and sent a fresh state (SR-2, SR-3).
    public mutating func deviceEnabled(cycle: Int64, time: MonotonicInstant) {
        guard state == .idle else { return }
        transition(to: .ready, cause: .enabled, cycle: cycle, time: time)
    }

    /// SR-12 during the set-up (self-test, link pre-flight, direction test): an e-stop latches `estop`
    /// (its category: Cat 0 unless the profile says Cat 1 — the session has already removed torque);
    /// a stop ends the set-up (`disabled`). Returns the stop, as a trip.
    public mutating func stopDuringSetUp(_ requests: OperatorRequests, cycle: Int64, time: MonotonicInstant) -> SafetyTrip {
        if requests.contains(.emergencyStop) {
            let trip = SafetyTrip(category: configuration.emergencyStopCategory, cause: .operatorEmergencyStop, isEmergencyStop: true)
            latchedTrip = trip
            activeStop = (.cat0, time)
            transition(to: .estop, cause: .operatorEmergencyStop, category: trip.category, cycle: cycle, time: time)
            return trip
        }
        transition(to: .disabled, cause: .stopRequested, category: .cat0, cycle: cycle, time: time)
        return SafetyTrip(category: .cat0, cause: .stopRequested)
    }

    /// The last-stage clamp found NaN or infinity this cycle (it already sent a safe command).
    public mutating func reportNonFiniteCommand() {
        pendingNonFiniteCommand = true
    }

    /// True once when a reset needs the device's own fault cleared: the session then sends
    /// FAULT_RESET (after DISABLE if the device is still enabled). Never set without an operator reset.
    public mutating func takeDeviceFaultResetRequest() -> Bool {
        defer { deviceFaultResetWanted = false }
        return deviceFaultResetWanted
    }

    // MARK: Every cycle

    /// Evaluates every interlock on this cycle's facts and `robot` (the newest valid state) and
    /// returns what is allowed now.
    public mutating func evaluate(_ input: Input, state robot: RobotState) -> SupervisorAction {
        confirmTorqueOff(input, robot: robot)
        guard state.commandsDevice else { return .torqueOff }
        if input.freshState && robot.joints.count == latchedCounts.count {
            for joint in 0..<latchedCounts.count { latchedCounts[joint] = robot.joints[joint].encoderCounts }
        }
        gradeLink(input)
        // Trips first, then requests: a start in the same cycle as a trip finds the state latched,
        // and a reset in the same cycle as a trip finds its cause present.
        let present = mostSevereTrip(input, robot: robot)
        if let present { trigger(present, input: input) }
        handleRequests(input, robot: robot, present: present)
        updateRelease(input, robot: robot)
        return action(for: input, robot: robot)
    }

    /// SR-23: after torque off is commanded the device must report it within the watchdog period W;
    /// otherwise `stop_not_confirmed` latches (Cat 0 again, an alarm), from any state, idle included.
    private mutating func confirmTorqueOff(_ input: Input, robot: RobotState) {
        guard let since = torqueOffCommandedAt else { return }
        if input.freshState && !robot.condition.contains(.torqueOn) {
            torqueOffCommandedAt = nil
            return
        }
        let waited = input.time.nanoseconds(since: since)
        if waited >= configuration.link.watchdogNanoseconds {
            torqueOffCommandedAt = nil
            trigger(SafetyTrip(category: .cat0, cause: .stopNotConfirmed, value: Self.milliseconds(waited)), input: input)
        }
    }

    /// SR-1: grades the link and logs each change of grade with its figures (FAIR and back to GOOD
    /// do not change the supervisor's state; POOR pauses in `handleRequests`, LOST trips).
    private mutating func gradeLink(_ input: Input) {
        let previous = link.grade
        link = linkQuality.assess(now: input.time, stateAgeNanoseconds: input.stateAgeNanoseconds, lateCycles: input.lateCycles)
        guard link.changed else { return }
        let stall = Self.milliseconds(max(link.ageNanoseconds == .max ? 0 : link.ageNanoseconds, link.gapNanoseconds))
        switch link.grade {
        case .fair where previous == .good:
            transition(to: state, cause: .linkDegraded, value: stall, cycle: input.cycle, time: input.time)
        case .good:
            transition(to: state, cause: .linkRestored, cycle: input.cycle, time: input.time)
        case .poor:
            // A pause taken counts (the third ends the session); POOR again while already paused does not.
            if state == .active { poorPauses += 1 }
        case .fair, .lost:
            break
        }
    }

    /// SR-1 POOR as a Cat 2 pause, not latched: the operator may resume once the link is no longer POOR.
    private mutating func pauseForPoorLink(_ input: Input) {
        guard link.changed, link.grade == .poor, state == .active else { return }
        activeStop = (.cat2, input.time)
        transition(to: .paused, cause: .linkPoor, category: .cat2, value: 100 * linkQuality.fairShareOfWindow,
                   cycle: input.cycle, time: input.time)
    }

    /// SR-10 (R6): a value no healthy joint can report (2.1e6 N·m, 3276 °C, −32.8 A in the review's
    /// campaign): Cat 1 with the value and the joint. NaN and infinity count as implausible.
    static func implausibleValue(_ robot: RobotState, joints: JointList<JointSafetyLimits>) -> SafetyTrip? {
        for joint in 0..<joints.count {
            let limits = joints[joint]
            let measured = robot.joints[joint]
            func trip(_ value: Double) -> SafetyTrip {
                SafetyTrip(category: .cat1, cause: .implausibleDeviceValue, value: value, joint: joint)
            }
            if limits.plausibleTorqueNewtonMeters > 0 {
                if !(abs(measured.motorTorqueNewtonMeters) <= limits.plausibleTorqueNewtonMeters) { return trip(measured.motorTorqueNewtonMeters) }
                if !(abs(measured.interactionTorqueNewtonMeters) <= limits.plausibleTorqueNewtonMeters) {
                    return trip(measured.interactionTorqueNewtonMeters)
                }
            }
            if limits.plausibleCurrentAmperes > 0 && !(abs(measured.motorCurrentAmperes) <= limits.plausibleCurrentAmperes) {
                return trip(measured.motorCurrentAmperes)
            }
            let temperatures = limits.plausibleTemperatureCelsius
            if temperatures.upperBound > temperatures.lowerBound && !temperatures.contains(measured.temperatureCelsius) {
                return trip(measured.temperatureCelsius)
            }
        }
        return nil
    }

    private static func milliseconds(_ nanoseconds: Int64) -> Double {
        Double(nanoseconds) * 1e-6
    }

    private mutating func mostSevereTrip(_ input: Input, robot: RobotState) -> SafetyTrip? {
        var worst: SafetyTrip?
        let latched = state.isLatched
        if input.linkLost { worst = SafetyTrip.moreSevere(worst, SafetyTrip(category: .cat0, cause: .linkLost)) }
        if input.freshState {
            let device = robot.condition
            if device.contains(.emergencyStop) {
                worst = SafetyTrip.moreSevere(
                    worst, SafetyTrip(category: configuration.emergencyStopCategory, cause: .deviceEmergencyStop, isEmergencyStop: true))
            }
            if device.contains(.fault) {
                worst = SafetyTrip.moreSevere(
                    worst, SafetyTrip(category: .cat0, cause: .deviceFault, deviceCode: robot.fault.deviceCode))
            }
            // Reasons to enter a fault, not conditions that outlast it: after a stop the device may
            // be disabled (e-stop, fault) or its watchdog latched; the reset's DISABLE clears both.
            if !latched {
                if device.contains(.watchdogExpired) {
                    worst = SafetyTrip.moreSevere(worst, SafetyTrip(category: .cat0, cause: .deviceWatchdogExpired))
                }
                if !device.contains(.enabled) {
                    worst = SafetyTrip.moreSevere(worst, SafetyTrip(category: .cat0, cause: .deviceDisabled))
                }
            }
            if configuration.joints.count == robot.joints.count {
                worst = SafetyTrip.moreSevere(worst, positionLimits.evaluate(robot))
                worst = SafetyTrip.moreSevere(worst, velocity.evaluate(robot))
                worst = SafetyTrip.moreSevere(worst, interaction.evaluate(robot, at: input.time))
                worst = SafetyTrip.moreSevere(worst, unansweredTorque.evaluate(robot))
                worst = SafetyTrip.moreSevere(worst, Self.implausibleValue(robot, joints: configuration.joints))
                if input.demandsMotion.count == robot.joints.count {
                    worst = SafetyTrip.moreSevere(worst, encoder.evaluate(robot, demandsMotion: input.demandsMotion, at: input.time))
                }
            }
        }
        if input.requests.contains(.emergencyStop) {
            worst = SafetyTrip.moreSevere(
                worst, SafetyTrip(category: configuration.emergencyStopCategory, cause: .operatorEmergencyStop, isEmergencyStop: true))
        }
        if input.freshState {
            // SR-23: the device's clock against the host's, over windows of a second (2 % allowed).
            if let window = clockWindow {
                let host = robot.receivedAt.nanoseconds(since: window.host)
                if host >= Nanoseconds.perSecond {
                    let device = robot.deviceTimeNanoseconds &- window.device
                    let mismatch = abs(Double(device - host)) / Double(host)
                    if mismatch > 0.02 {
                        worst = SafetyTrip.moreSevere(worst, SafetyTrip(category: .cat1, cause: .clockMismatch, value: 100 * mismatch))
                    }
                    clockWindow = (robot.receivedAt, robot.deviceTimeNanoseconds)
                }
            } else {
                clockWindow = (robot.receivedAt, robot.deviceTimeNanoseconds)
            }
        }
        if input.protocolViolations > protocolViolationsSeen {
            protocolViolationsSeen = input.protocolViolations
            worst = SafetyTrip.moreSevere(
                worst, SafetyTrip(category: .cat1, cause: .deviceProtocolViolation, value: Double(input.protocolViolations)))
        }
        // SR-25: an enabled device that answers (its state is current) but stops echoing applied commands
        // ignores them. (One that does not answer at all is SR-1's silence.)
        if input.commandEchoLagNanoseconds > configuration.link.watchdogNanoseconds * 4 / 10
            && input.stateAgeNanoseconds <= configuration.link.goodAgeNanoseconds
            && robot.condition.contains(.enabled) && !robot.condition.contains(.watchdogExpired)
        {
            worst = SafetyTrip.moreSevere(
                worst, SafetyTrip(category: .cat1, cause: .commandsIgnored, value: Self.milliseconds(input.commandEchoLagNanoseconds)))
        }
        // SR-1 LOST: judged by the newest state's age, in ms derived from the watchdog.
        let age = input.stateAgeNanoseconds
        if age >= configuration.link.lostCat0AgeNanoseconds {
            worst = SafetyTrip.moreSevere(worst, SafetyTrip(category: .cat0, cause: .deviceSilentTooLong, value: Self.milliseconds(age)))
        } else if age >= configuration.link.lostCat1AgeNanoseconds {
            worst = SafetyTrip.moreSevere(worst, SafetyTrip(category: .cat1, cause: .deviceSilent, value: Self.milliseconds(age)))
        }
        if link.gapNanoseconds >= configuration.link.lostCat1AgeNanoseconds {
            worst = SafetyTrip.moreSevere(worst, SafetyTrip(category: .cat1, cause: .loopGap, value: Self.milliseconds(link.gapNanoseconds)))
        }
        if link.grade == .poor && link.changed && poorPauses >= configuration.link.poorPausesBeforeCat1 {
            // The third POOR in a session ends it: sustained trouble that pauses alone did not cure.
            worst = SafetyTrip.moreSevere(worst, SafetyTrip(category: .cat1, cause: .linkPoorRepeated, value: Double(poorPauses)))
        }
        if pendingNonFiniteCommand {
            pendingNonFiniteCommand = false
            worst = SafetyTrip.moreSevere(worst, SafetyTrip(category: .cat1, cause: .nonFiniteCommand))
        }
        if let tracker, input.trackerGatesMotion {
            worst = SafetyTrip.moreSevere(worst, tracker.evaluate(input.tracker))
        }
        if let workspace {
            if input.workspaceTrackerWired {
                worst = SafetyTrip.moreSevere(worst, workspaceTrackerInterlock.evaluate(input.workspaceTracker))
            }
            worst = SafetyTrip.moreSevere(worst, workspace.evaluate(input.trackedPositionMeters))
        }
        if let stop = activeStop, stop.category == .cat1 {
            let elapsed = input.time.nanoseconds(since: stop.since)
            if elapsed > configuration.stopDeadlineNanoseconds
                && robot.maximumSpeedRadiansPerSecond >= configuration.standstillVelocityRadiansPerSecond
            {
                worst = SafetyTrip.moreSevere(worst, SafetyTrip(category: .cat0, cause: .stopDeadlineMissed, value: Double(elapsed) * 1e-6))
            }
        }
        return worst
    }

    private mutating func trigger(_ trip: SafetyTrip, input: Input) {
        // An e-stop dominates a fault: once in `estop`, later trips escalate the stop but keep the state.
        let target: SupervisorState = (trip.isEmergencyStop || state == .estop) ? .estop : .fault
        let moreSevere = activeStop.map { trip.category < $0.category } ?? true
        // SR-23's alarm is logged even when the stop it concerns is already Cat 0.
        if state.isLatched && target == state && !moreSevere && trip.cause != .stopNotConfirmed { return }
        if target != state || latchedTrip == nil {
            latchedTrip = trip
            // D7: what a reset must see changed before it may clear a cause that no interlock
            // re-evaluates at rest (a frozen encoder shows only while motion is demanded).
            if trip.cause == .encoderFrozen, let joint = trip.joint, joint < robotCountsAtLatch.count {
                robotCountsAtLatch[joint] = latchedCounts[joint]
                frozenJointAtLatch = joint
            }
        }
        if isReleasing && trip.category < .cat2 {
            // A new trip while the patient is being released: hold again first.
            isReleasing = false
        }
        if let stop = activeStop, stop.category == trip.category {
            // Same category already running: keep its start time (SR-13 counts from the first).
        } else {
            activeStop = (trip.category, input.time)
        }
        resetPendingUntil = nil
        transition(to: target, cause: trip.cause, category: trip.category, value: trip.value, code: trip.deviceCode,
                   joint: trip.joint, cycle: input.cycle, time: input.time)
    }

    private mutating func handleRequests(_ input: Input, robot: RobotState, present: SafetyTrip?) {
        let requests = input.requests
        let cycle = input.cycle
        let time = input.time
        if state.isLatched {
            if requests.contains(.reset) || resetPendingUntil != nil {
                attemptReset(input, robot: robot, present: present, requested: requests.contains(.reset))
            }
            return
        }
        pauseForPoorLink(input)
        let motion = state == .ready || state == .active || state == .paused
        // SR-22: the patient's own inputs, held on the device, reported in its state.
        let patientStop = robot.condition.contains(.patientStop)
        let patientPause = robot.condition.contains(.patientPause)
        // The stop wins over a start or resume requested in the same cycle.
        if motion && patientStop {
            activeStop = (.cat1, time)
            transition(to: .stopping, cause: .patientStop, category: .cat1, cycle: cycle, time: time)
        } else if motion && requests.contains(.stop) {
            activeStop = (.cat1, time)
            transition(to: .stopping, cause: .stopRequested, category: .cat1, cycle: cycle, time: time)
        } else if state == .active && patientPause {
            activeStop = (.cat2, time)
            transition(to: .paused, cause: .patientPause, category: .cat2, cycle: cycle, time: time)
        } else if state == .active && requests.contains(.pause) {
            activeStop = (.cat2, time)
            transition(to: .paused, cause: .pauseRequested, category: .cat2, cycle: cycle, time: time)
        } else if state == .ready && requests.contains(.start) && !patientPause {
            transition(to: .active, cause: .startRequested, cycle: cycle, time: time)
        } else if state == .paused && (requests.contains(.resume) || requests.contains(.start)) && link.grade != .poor && !patientPause {
            activeStop = nil
            transition(to: .active, cause: .resumeRequested, cycle: cycle, time: time)
        }
        if requests.contains(.reset) { lastResetOutcome = .refused(.notLatched) }
    }

    /// Leaves `fault`/`estop` for `idle` once the stop has finished, the device answers, no interlock
    /// trips and the device's own fault is cleared (through FAULT_RESET, which the session sends on
    /// this request only). Never enables motion.
    private mutating func attemptReset(_ input: Input, robot: RobotState, present: SafetyTrip?, requested: Bool) {
        func refuse(_ reason: ResetRefusal) {
            lastResetOutcome = .refused(reason)
            resetPendingUntil = nil
        }
        if let stop = activeStop, stop.category != .cat0 { return refuse(.stopInProgress) }
        if isReleasing || input.releaseHeld { return refuse(.releasing) }
        if input.linkLost { return refuse(.linkDown) }
        if input.stateAgeNanoseconds > configuration.link.goodAgeNanoseconds { return refuse(.deviceSilent) }
        if robot.condition.contains(.emergencyStop) { return refuse(.emergencyStopPressed) }
        if let present, present.cause != .deviceFault {
            return refuse(.causePersists(present))
        }
        // D7: causes that no interlock re-evaluates while latched and at rest.
        if robot.maximumSpeedRadiansPerSecond >= configuration.standstillVelocityRadiansPerSecond {
            // A brake that failed its deadline (SR-13), or a joint still falling: not at rest yet.
            return refuse(.notAtStandstill(speedRadiansPerSecond: robot.maximumSpeedRadiansPerSecond))
        }
        if !robot.isFinite {
            return refuse(.nonFiniteState)
        }
        if let joint = frozenJointAtLatch, joint < robot.joints.count, robot.joints[joint].encoderCounts == robotCountsAtLatch[joint] {
            // A frozen encoder at rest looks like a healthy one: only a count that changed since the
            // latch proves it counts again (move the joint by hand, under `release`).
            return refuse(.encoderNotProvenAlive(joint: joint))
        }
        if robot.condition.contains(.fault) || robot.condition.contains(.watchdogExpired) {
            // The device's own latch (a fault, or its watchdog) is cleared only by DISABLE and
            // FAULT_RESET, which the session sends on this request only.
            if requested && resetPendingUntil == nil {
                // Only the operator's reset may ask the device to clear its fault; it is given a moment.
                deviceFaultResetWanted = true
                resetPendingUntil = input.time.advanced(byNanoseconds: Self.deviceResetWaitNanoseconds)
                lastResetOutcome = .pending
                return
            }
            if let until = resetPendingUntil, input.time < until {
                return
            }
            if robot.condition.contains(.watchdogExpired) { return refuse(.deviceWatchdogLatched) }
            return refuse(.deviceFault(code: robot.fault.deviceCode))
        }
        frozenJointAtLatch = nil
        resetPendingUntil = nil
        activeStop = nil
        latchedTrip = nil
        releaseRefusal = nil
        lastResetOutcome = .reset
        transition(to: .idle, cause: .resetRequested, cycle: input.cycle, time: input.time)
    }

    /// SR-18: the hold-to-run release sub-state of `fault`/`estop`.
    private mutating func updateRelease(_ input: Input, robot: RobotState) {
        guard state.isLatched else {
            isReleasing = false
            return
        }
        let speed = robot.maximumSpeedRadiansPerSecond
        if isReleasing {
            // Letting go, a silent device or a falling limb ends it: the joint is held (braked) again.
            let end: Bool
            if !input.releaseHeld {
                end = true
                releaseRefusal = nil
            } else if input.stateAgeNanoseconds > configuration.link.goodAgeNanoseconds || input.linkLost {
                end = true
                releaseRefusal = .deviceSilent
            } else if speed > configuration.velocityTripRadiansPerSecond {
                end = true
                releaseRefusal = .moving
            } else {
                end = false
            }
            if end {
                isReleasing = false
                transition(to: state, cause: .releaseEnded, value: speed, cycle: input.cycle, time: input.time)
            }
            return
        }
        guard input.releaseHeld else { return }
        if let stop = activeStop, stop.category != .cat0 {
            releaseRefusal = .stopInProgress
        } else if input.stateAgeNanoseconds > configuration.link.goodAgeNanoseconds || input.linkLost {
            releaseRefusal = .deviceSilent
        } else if !robot.condition.contains(.enabled) || robot.condition.contains(.watchdogExpired)
            || robot.condition.contains(.fault) || robot.condition.contains(.emergencyStop)
        {
            releaseRefusal = .devicePowerRemoved
        } else if speed >= configuration.releaseStandstillRadiansPerSecond {
            releaseRefusal = .moving
        } else {
            releaseRefusal = nil
            isReleasing = true
            transition(to: state, cause: .releaseStarted, value: speed, cycle: input.cycle, time: input.time)
        }
    }

    private mutating func action(for input: Input, robot: RobotState) -> SupervisorAction {
        let action = decideAction(for: input, robot: robot)
        // SR-23: from the first cycle that commands torque off, the device has W to confirm it.
        if action == .torqueOff {
            if !commandsTorqueOff { torqueOffCommandedAt = input.time }
            commandsTorqueOff = true
        } else {
            commandsTorqueOff = false
            torqueOffCommandedAt = nil
        }
        return action
    }

    private mutating func decideAction(for input: Input, robot: RobotState) -> SupervisorAction {
        guard state.commandsDevice else { return .torqueOff }
        if isReleasing { return .release }
        if let stop = activeStop {
            switch stop.category {
            case .cat0:
                return .torqueOff
            case .cat2:
                return .hold
            case .cat1:
                let stopped = input.freshState && robot.maximumSpeedRadiansPerSecond < configuration.standstillVelocityRadiansPerSecond
                if stopped {
                    // Standstill: finish the Cat 1 stop by removing torque.
                    activeStop = (.cat0, stop.since)
                    if state == .stopping {
                        transition(to: .idle, cause: .standstillReached, category: .cat0,
                                   value: robot.maximumSpeedRadiansPerSecond, cycle: input.cycle, time: input.time)
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
        to target: SupervisorState, cause: SafetyCause, category: StopCategory? = nil, value: Double = 0, code: UInt32 = 0,
        joint: Int? = nil, cycle: Int64, time: MonotonicInstant
    ) {
        if keepsLog {
            if transitions.count == Self.transitionCapacity {
                transitions.removeFirst()
                droppedTransitions += 1
            }
            transitions.append(
                SupervisorTransition(cycle: cycle, time: time, from: state, to: target, cause: cause, category: category,
                                     value: value, deviceCode: code, joint: joint))
        }
        state = target
        if target == .idle {
            activeStop = nil
            isReleasing = false
        }
    }
}

/// Why a reset was refused.
public enum ResetRefusal: Sendable, Equatable, CustomStringConvertible, BitwiseCopyable {
    case notLatched
    case stopInProgress
    case releasing
    case linkDown
    case deviceSilent
    case emergencyStopPressed
    /// An interlock still trips: the cause is still there.
    case causePersists(SafetyTrip)
    /// The device kept its fault after FAULT_RESET (its cause is still there).
    case deviceFault(code: UInt32)
    /// A joint still moves (a brake that failed its deadline, a limb falling) [rad/s].
    case notAtStandstill(speedRadiansPerSecond: Double)
    /// The device reports NaN or infinity.
    case nonFiniteState
    /// The joint whose encoder froze has not counted since (at rest a frozen encoder looks healthy).
    case encoderNotProvenAlive(joint: Int)
    /// The device still reports its watchdog expired after DISABLE.
    case deviceWatchdogLatched

    public var description: String {
        switch self {
        case .notLatched: "nothing to reset (no fault or e-stop is latched)"
        case .stopInProgress: "the stop is still in progress"
        case .releasing: "release is being held; let go first"
        case .linkDown: "the device link is down"
        case .deviceSilent: "the device does not answer"
        case .emergencyStopPressed: "the device e-stop is still pressed; release it first"
        case .causePersists(let trip): "the cause persists: \(trip)"
        case .deviceFault(let code): "the device still reports fault 0x\(String(code, radix: 16, uppercase: true)) after FAULT_RESET (its cause persists)"
        case .notAtStandstill(let speed): "a joint still moves (\((speed * 1000).rounded() / 1000) rad/s): wait for standstill"
        case .nonFiniteState: "the device reports a non-finite value (NaN or infinity); check its firmware and sensors"
        case .encoderNotProvenAlive(let joint): "the encoder of joint \(joint) froze and has not counted since; move the joint by hand while holding rehabctl release, then reset"
        case .deviceWatchdogLatched: "the device still reports its watchdog expired after DISABLE"
        }
    }

    /// A stable name for JSON.
    public var name: String {
        switch self {
        case .notLatched: "not_latched"
        case .stopInProgress: "stop_in_progress"
        case .releasing: "releasing"
        case .linkDown: "link_down"
        case .deviceSilent: "device_silent"
        case .emergencyStopPressed: "estop_pressed"
        case .causePersists: "cause_persists"
        case .deviceFault: "device_fault"
        case .notAtStandstill: "not_at_standstill"
        case .nonFiniteState: "non_finite_state"
        case .encoderNotProvenAlive: "encoder_not_proven_alive"
        case .deviceWatchdogLatched: "device_watchdog_latched"
        }
    }
}

/// What became of a reset request.
public enum ResetOutcome: Sendable, Equatable, BitwiseCopyable {
    /// Back to `idle`.
    case reset
    /// Waiting for the device to clear its fault.
    case pending
    case refused(ResetRefusal)
}

/// Why `release` (SR-18) could not begin or had to end.
public enum ReleaseRefusal: String, Sendable, Equatable, BitwiseCopyable {
    case stopInProgress = "the stop is still in progress"
    case deviceSilent = "the device does not answer"
    case devicePowerRemoved = "the device is not powered (e-stop, device fault or watchdog): it cannot release the brake"
    case moving = "the joints are not at standstill"
}

extension SafetyTrip: CustomStringConvertible {
    public var description: String {
        var text = "\(cause.rawValue) (\(cause.requirement), \(category))"
        if let joint { text += " joint \(joint)" }
        if value != 0 || !cause.valueUnit.isEmpty {
            if value.isFinite { text += " value \((value * 1000).rounded() / 1000)" } else { text += " value \(value)" }
            if !cause.valueUnit.isEmpty { text += " \(cause.valueUnit)" }
        }
        if deviceCode != 0 { text += " device code 0x\(String(deviceCode, radix: 16, uppercase: true))" }
        return text
    }
}
