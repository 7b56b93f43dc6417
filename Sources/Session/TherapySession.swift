import AllocationCounter
import Control
import DeviceModel
import Devices
import Platform
import Primitives
import Profiles
import StrictJSON
import Synchronization
import Telemetry

/// One supervised exercise on one robot: self-test, enable, the fixed-rate control loop, stop,
/// disable. It wires a device, the supervisor, the controller and the clamp together; the same
/// code runs on the real clock against a serial port and on a virtual clock against the
/// in-process simulator.
///
/// The control cycle (`runCycle`) allocates nothing, takes no lock and logs nothing: everything it
/// touches is allocated in `init` or `prepare`.
public final class TherapySession {
    public struct Options: Sendable {
        public var rateHertz: Double
        public var durationSeconds: Double
        public var exercise: RangeOfMotionExercise
        /// Wait for each command's reply within the cycle (measures the round trip, keeps state fresh).
        public var waitsForReplies = true
        /// Turn SIGINT/SIGTERM into stop requests (SR-12). For command-line sessions.
        public var observesTerminationSignals = false
        /// Sleep-then-spin: busy-wait this long before each deadline (0 = off).
        public var spinNanoseconds: Int64 = 0
        /// Wake this long before each deadline to rehearse the cycle's computation on a copy, then spin
        /// to the deadline, so that the real cycle runs with warm caches (0 = off; at most half a period).
        public var warmUpNanoseconds: Int64 = 0
        /// Link pre-flight before enable: no silence within one cycle of SR-1's limit for this long…
        public var linkCheckStableSeconds = 0.25
        /// …within this long, or enable is refused.
        public var linkCheckTimeoutSeconds = 3.0
        /// SR-7: a therapist's range of motion per joint [rad]; it can only narrow the soft limits.
        public var patientRange: [ClosedRange<Double>?] = []
        /// SR-20: a therapist's torque cap per joint and direction; it can only lower the profile's limit.
        public var patientTorqueCaps: [SafetySettings.TorqueCap?] = []
        /// After a fault or e-stop, keep the session (and the link) up until an operator resets it
        /// (→ idle; the session then ends) or quits (stop, e-stop, SIGINT, SIGTERM). Otherwise the
        /// session ends as soon as torque is off.
        public var holdsAfterFault = false
        /// SR-19: where the black box is written on a fault (nil: kept in memory only).
        public var blackBoxDirectory: String?
        /// SR-17: the direction test after ENABLE (only a unit test of something else turns it off).
        public var checksDirection = true
        /// Record every cycle to this MCAP file (nil: no recording; the black box runs regardless).
        public var recordingPath: String?
        /// The hand-off ring holds this many seconds of cycles, so that the writer thread may fall
        /// behind by that much (disk hiccups) without a loss.
        public var telemetryRingSeconds = 4.0
        /// Told once, from the writer thread, when the recording fails (the session goes on).
        public var onRecordingFailure: (@Sendable (String) -> Void)?
        /// Mirror mode's reference (a RehabRef stream, or a simulated one); required by an exercise
        /// with a mirror block, refused by the others. It gates motion through SR-15 whenever mirror
        /// mode is in force, asked for or blending out (from the first cycle when the exercise starts in it).
        public var reference: (any TrackerDevice)?
        /// The reference tracker's own fit-error limit (its profile's `max_rms_error_mm`) [mm]: SR-15
        /// applies the stricter of it and the exercise's.
        public var referenceMaximumRmsErrorMillimeters: Double?
        /// More trackers, read every cycle and recorded with the robot (an IMU on the forearm, an
        /// optical tool): at most `TrackerReadings.capacity` in all, the reference and workspace included.
        public var trackers: [any TrackerDevice] = []
        /// SR-16: the box the workspace tracker's tool must stay in (nil: no workspace interlock).
        public var workspace: WorkspaceTracking?
        /// More entries of the `session` metadata of the recording and the black box: the operator's
        /// pseudonymous patient label (`PatientLabel`), the exercise file's name.
        public var recordingMetadata: [(String, String)] = []

        /// SR-16's tracker and box: the tool it tracks (the hand, the end effector) must stay inside
        /// the box (+ 20 mm); its samples are judged like SR-15's (age, frame counter, visibility, fit error).
        public struct WorkspaceTracking: Sendable {
            public var tracker: any TrackerDevice
            public var minimumMeters: SIMD3<Double>
            public var maximumMeters: SIMD3<Double>
            public var maximumRmsErrorMillimeters = 2.0

            public init(tracker: any TrackerDevice, minimumMeters: SIMD3<Double>, maximumMeters: SIMD3<Double>) {
                self.tracker = tracker
                self.minimumMeters = minimumMeters
                self.maximumMeters = maximumMeters
            }
        }

        public init(rateHertz: Double, durationSeconds: Double, exercise: RangeOfMotionExercise = RangeOfMotionExercise()) {
            self.rateHertz = rateHertz
            self.durationSeconds = durationSeconds
            self.exercise = exercise
        }
    }

    public let profile: HardwareProfile
    public let options: Options
    /// The modes this session may run on the exercised joint (`RangeOfMotionExercise.availableModes`):
    /// the exercise's own first. `SessionControl.requestMode` takes an index into it.
    public let availableModes: [TherapyMode]
    public let device: any ActuatedDevice
    /// Every tracker the loop reads, in the order of `TelemetryFrame.trackers`: mirror's reference
    /// first (when there is one), then `Options.trackers`, then the workspace tracker (if not already listed).
    public let trackers: [any TrackerDevice]
    private let referenceTrackerIndex: Int?
    private let workspaceTrackerIndex: Int?
    public let clock: LoopClock
    public let control: SessionControl
    public let periodNanoseconds: Int64
    /// SR-1's grades for this rate and the profile's watchdog.
    public var linkLimits: LinkQualityLimits { computation.supervisor.configuration.link }
    /// The supervisor (SR-1 … SR-19), as the last cycle left it.
    public var supervisor: Supervisor { computation.supervisor }
    public private(set) var identity: DeviceIdentityInfo?
    /// What the link pre-flight measured.
    public private(set) var linkCheck: LinkCheck?
    /// What the SR-17 direction test measured per joint [rad] (nil until it ran): the displacement
    /// under the test torque, and the band each joint moved in by itself while watched.
    public private(set) var directionCheckDisplacements: JointList<Double>?
    public private(set) var directionCheckNoiseBands: JointList<Double>?
    /// How often a stall made the direction test start again (0: it ran once).
    public private(set) var directionCheckRepeats = 0
    /// The soft limits in force (profile, narrowed by the patient range).
    public let jointLimits: JointList<JointSafetyLimits>
    /// The loop's status, published every cycle for other threads (`rehabctl status`).
    public let statusBoard = SnapshotBoard(SessionStatus())
    /// SR-19: the last seconds of every cycle, written on a fault.
    public let blackBox: BlackBox
    /// The hand-off to the recorder (nil: not recording).
    public let telemetryRing: TelemetryRing?
    /// Profile, device and rate, written into recordings and black boxes.
    public let sessionMetadata: [(String, String)]

    /// Actual wake − scheduled deadline.
    public let wakeLatency = LatencyHistogram()
    /// Fresh state in hand → command encoded.
    public let computeTime = LatencyHistogram()
    /// Command written → the state that echoes it decoded.
    public let roundTrip = LatencyHistogram()
    /// Wake → end of the cycle's work.
    public let cycleTime = LatencyHistogram()
    /// The supervisor's evaluation alone (part of `computeTime`).
    public let supervisorTime = LatencyHistogram()
    /// The rehearsal before each deadline (`Options.warmUpNanoseconds`): the computation with cold caches.
    public let rehearsalTime = LatencyHistogram()

    /// Everything the cycle decides with: supervisor, plan, controller, clamp, modes, metrics.
    private var computation: TherapyCycle
    /// Lead of the rehearsal before each deadline (0: none).
    private let warmUpNanoseconds: Int64
    private var schedule: LoopSchedule
    private var freshSinceLastCycle = false
    private var interruptsSeen = 0
    private var terminationsSeen = 0
    private var quitRequested = false
    private var status = SessionStatus()
    private var allocations = AllocationTally()
    private var controlThreadCPUSeconds = 0.0
    private var processCPUSeconds = 0.0
    private var cyclesRun: Int64 = 0
    /// This cycle, as the black box and the recorder get it.
    private var frame: TelemetryFrame
    private var transitionsHandedOver = 0
    private var recorder: TelemetryRecorder?
    /// The running second's largest wake latency and compute time, for the status board.
    private var secondStart = MonotonicInstant.zero
    private var secondMaxWake: Int64 = 0
    private var secondMaxCompute: Int64 = 0
    private var startedAt = MonotonicInstant.zero
    private var finishedAt = MonotonicInstant.zero
    private var disabled = false
    /// SR-25: the control socket whose requests are audited in the black box, the recording and
    /// the report (set by the program that serves it; taken on normal threads, never in the loop).
    public weak var controlServer: ControlServer?
    /// The audit records taken from `controlServer` so far (status reads left out: a monitor polls them).
    private let controlAudit = Mutex<[ControlAuditRecord]>([])
    /// SR-12: the stop taken during the set-up, if one was (the exercise then never starts).
    public private(set) var setUpStop: SafetyTrip?

    public init(
        profile: HardwareProfile, device: any ActuatedDevice, clock: LoopClock, options: Options,
        control: SessionControl = SessionControl()
    ) throws(SessionError) {
        guard options.rateHertz > 0 && options.rateHertz <= 10_000 else {
            throw .invalidOptions("rate \(options.rateHertz) Hz is outside 1…10000 Hz")
        }
        // SR-14: refused before anything is enabled, with the reason.
        if let problem = SafetySettings.rateProblem(profile, rateHertz: options.rateHertz) {
            throw .rateNotSustainable(problem)
        }
        guard options.durationSeconds > 0 && options.durationSeconds.isFinite else {
            throw .invalidOptions("duration must be greater than 0 s")
        }
        guard device.jointCount == profile.joints.count else {
            throw .invalidOptions("the device driver has \(device.jointCount) joints, the profile \(profile.joints.count)")
        }
        let exercise = options.exercise
        guard profile.joints.indices.contains(exercise.jointIndex) else {
            throw .invalidOptions("exercise joint \(exercise.jointIndex) does not exist in profile \(profile.name)")
        }
        let limits = try SafetySettings.jointLimits(profile, patientRange: options.patientRange)
        let exerciseLimits = limits[exercise.jointIndex]
        let joint = profile.joints[exercise.jointIndex]
        guard exercise.rangeMinimumRadians < 0, exercise.rangeMaximumRadians > 0 else {
            throw .invalidOptions("the exercise's range must contain neutral (0°): it starts and ends there")
        }
        guard exercise.rangeMaximumRadians <= exerciseLimits.softMaximumRadians,
            exercise.rangeMinimumRadians >= exerciseLimits.softMinimumRadians
        else {
            throw .invalidOptions(
                "exercise range \(Units.degrees(fromRadians: exercise.rangeMinimumRadians))° … \(Units.degrees(fromRadians: exercise.rangeMaximumRadians))° is beyond the soft limits of \(joint.name) (\(Units.degrees(fromRadians: exerciseLimits.softMinimumRadians))° … \(Units.degrees(fromRadians: exerciseLimits.softMaximumRadians))°)")
        }
        guard exercise.peakVelocityRadiansPerSecond < min(joint.ratedVelocityRadiansPerSecond, profile.safety.velocityTripRadiansPerSecond)
        else {
            throw .invalidOptions(
                "exercise speed \(exercise.peakVelocityRadiansPerSecond) rad/s reaches the velocity trip (\(profile.safety.velocityTripRadiansPerSecond) rad/s) or the rated speed of \(joint.name)")
        }
        let period = Nanoseconds.period(rateHertz: options.rateHertz)
        var supervisorConfiguration = SafetySettings.supervisor(profile, joints: limits, periodNanoseconds: period)
        var repetitionTolerance = 1e-4
        let modes = exercise.availableModes
        let mirror = modes.lazy.compactMap { mode -> Mirror? in if case .mirror(let settings) = mode { settings } else { nil } }.first
        switch (mirror, options.reference) {
        case (let mirror?, .some):
            let allowed = min(joint.ratedVelocityRadiansPerSecond, profile.safety.velocityTripRadiansPerSecond)
            guard mirror.maximumSpeedRadiansPerSecond > 0, mirror.maximumSpeedRadiansPerSecond <= 0.8 * allowed else {
                throw .invalidOptions(
                    "mirror speed \(mirror.maximumSpeedRadiansPerSecond) rad/s must be above 0 and at most \(0.8 * allowed) rad/s (80 % of the velocity trip or rated speed of \(joint.name), \(allowed) rad/s)")
            }
            // SR-15: the reference gates motion like a tracker while mirror mode is in force.
            supervisorConfiguration.trackerMaximumRmsErrorMillimeters = min(
                mirror.maximumRmsErrorMillimeters, options.referenceMaximumRmsErrorMillimeters ?? .infinity)
            // A followed limb rarely reaches a range end exactly: within 10 % of the range counts.
            repetitionTolerance = 0.1 * (exercise.rangeMaximumRadians - exercise.rangeMinimumRadians)
        case (.some, nil):
            throw .invalidOptions("mirror mode needs a reference source (a RehabRef stream: rehabctl run --reference-port N)")
        case (nil, .some):
            throw .invalidOptions("a reference source is only for mirror mode (this exercise is \(exercise.mode.name))")
        case (nil, nil):
            break
        }
        if let problem = Self.capabilityProblem(device.capabilities, profile: profile) { throw .invalidOptions(problem) }
        var trackers: [any TrackerDevice] = []
        if let reference = options.reference { trackers.append(reference) }
        trackers += options.trackers
        var workspaceIndex: Int?
        if let workspace = options.workspace {
            if let listed = trackers.firstIndex(where: { $0 === workspace.tracker }) {
                workspaceIndex = listed
            } else {
                workspaceIndex = trackers.count
                trackers.append(workspace.tracker)
            }
            supervisorConfiguration.workspace = (workspace.minimumMeters, workspace.maximumMeters)
            supervisorConfiguration.workspaceTrackerMaximumRmsErrorMillimeters = workspace.maximumRmsErrorMillimeters
        }
        guard trackers.count <= TrackerReadings.capacity else {
            throw .invalidOptions("\(trackers.count) trackers; a session reads at most \(TrackerReadings.capacity)")
        }
        self.trackers = trackers
        referenceTrackerIndex = options.reference == nil ? nil : 0
        workspaceTrackerIndex = workspaceIndex
        availableModes = modes
        self.profile = profile
        self.options = options
        self.device = device
        self.clock = clock
        self.control = control
        jointLimits = limits
        periodNanoseconds = Nanoseconds.period(rateHertz: options.rateHertz)
        let count = profile.joints.count
        var gains = JointList(
            count: count,
            repeating: ImpedanceController.JointParameters(
                stiffnessNewtonMetersPerRadian: 0, dampingNewtonMeterSecondsPerRadian: 0, inertiaKilogramSquareMeters: 0,
                viscousFrictionNewtonMeterSecondsPerRadian: 0, coulombFrictionNewtonMeters: 0))
        var demandSpeeds = JointList<Double>.zeros(count)
        for (index, joint) in profile.joints.enumerated() {
            let exercised = index == exercise.jointIndex
            gains[index] = .init(
                stiffnessNewtonMetersPerRadian: (exercised ? exercise.stiffnessNewtonMetersPerRadian : nil) ?? joint.defaultStiffnessNewtonMetersPerRadian,
                dampingNewtonMeterSecondsPerRadian: (exercised ? exercise.dampingNewtonMeterSecondsPerRadian : nil) ?? joint.defaultDampingNewtonMeterSecondsPerRadian,
                inertiaKilogramSquareMeters: joint.inertiaKilogramSquareMeters,
                viscousFrictionNewtonMeterSecondsPerRadian: joint.viscousFrictionNewtonMeterSecondsPerRadian,
                coulombFrictionNewtonMeters: joint.coulombFrictionNewtonMeters)
            // A joint demanded to move must change its count several times within the freeze window.
            let radiansPerCount = 2 * Double.pi / Double(joint.encoderCountsPerRevolution)
            demandSpeeds[index] = max(
                profile.safety.standstillVelocityRadiansPerSecond,
                4 * radiansPerCount / (Double(profile.safety.frozenEncoderNanoseconds) * 1e-9))
        }
        computation = TherapyCycle(
            supervisor: Supervisor(configuration: supervisorConfiguration), controller: ImpedanceController(joints: gains),
            clamp: try SafetySettings.clamp(
                profile, joints: limits, periodNanoseconds: periodNanoseconds, patientTorqueCaps: options.patientTorqueCaps),
            ramp: RampIn(durationSeconds: profile.control.enableRampSeconds), minimumDemandSpeeds: demandSpeeds, rateHertz: options.rateHertz,
            exercise: exercise, durationSeconds: options.durationSeconds,
            quickStopDecelerationRadiansPerSecondSquared: profile.control.quickStopDecelerationRadiansPerSecondSquared,
            availableModes: modes, mirror: mirror, repetitionToleranceRadians: repetitionTolerance)
        warmUpNanoseconds = min(options.warmUpNanoseconds, periodNanoseconds / 2)
        schedule = LoopSchedule(start: .zero, periodNanoseconds: periodNanoseconds)
        blackBox = BlackBox(jointCount: count, rateHertz: options.rateHertz)
        frame = TelemetryFrame(jointCount: count, trackerCount: trackers.count)
        telemetryRing = options.recordingPath == nil
            ? nil : TelemetryRing(capacity: Int(options.telemetryRingSeconds * options.rateHertz * 1.1) + 64)
        sessionMetadata = [
            ("profile", profile.name), ("device", device.name), ("rate_hz", "\(options.rateHertz)"),
            ("duration_s", "\(options.durationSeconds)"), ("exercise", options.exercise.description(jointNames: profile.joints.map(\.name))),
            ("protocol", profile.device.protocolIdentifier), ("trackers", trackers.map(\.trackerName).joined(separator: ", ")),
            ("mode", options.exercise.mode.name),
            // The prescription as values, so that a report need not read it back out of the description.
            ("plan_joint", profile.joints[options.exercise.jointIndex].name), ("plan_mode", options.exercise.mode.name),
            ("plan_range_min_rad", "\(options.exercise.rangeMinimumRadians)"), ("plan_range_max_rad", "\(options.exercise.rangeMaximumRadians)"),
        ] + (options.exercise.repetitions.map { [("plan_repetitions", "\($0)")] } ?? []) + options.recordingMetadata
        // Signals count from the session's creation (a test process runs many sessions).
        interruptsSeen = TerminationSignals.interrupts
        terminationsSeen = TerminationSignals.terminations
        status.rateHertz = options.rateHertz
        status.jointCount = count
        status.positionsRadians = .zeros(count)
        status.velocitiesRadiansPerSecond = .zeros(count)
        status.interactionTorquesNewtonMeters = .zeros(count)
        status.commandedTorquesNewtonMeters = .zeros(count)
        status.targetPositionsRadians = JointList(count: count, repeating: .nan)
        statusBoard.publish(status)
    }

    /// What keeps a device with `capabilities` from running this session's exercise, in words (nil:
    /// nothing): the modes, the stop it needs, its watchdog, its size.
    static func capabilityProblem(_ capabilities: DeviceCapabilities, profile: HardwareProfile) -> String? {
        var missing: [String] = []
        if !capabilities.controlModes.contains(.torque) { missing.append("torque mode (every therapy mode computes a torque)") }
        if !capabilities.controlModes.contains(.localHold) {
            missing.append("a local hold (SR-5: a cycle without a fresh state holds on the device's own loop)")
        }
        if capabilities.quickStop == .hostVelocityRamp && !capabilities.controlModes.contains(.velocity) {
            missing.append("velocity mode (its Cat 1 stop ramps a velocity reference)")
        }
        if !capabilities.holdsSafetyLimits { missing.append("limits in its firmware (SR-24)") }
        if capabilities.pause != .hostImpedanceHold {
            // A pause (Cat 2) is the host's impedance hold; a device that can only hold in its own
            // position mode needs a cycle that switches modes at standstill, which none does yet.
            missing.append("a pause through the host's impedance hold (its own position hold is not supported yet)")
        }
        if !missing.isEmpty {
            return "the \(profile.device.protocolIdentifier) device of \(profile.name) cannot run a therapy session: it lacks " + missing.joined(separator: "; ")
        }
        if !capabilities.watchdogPeriodRangeNanoseconds.contains(profile.device.watchdogPeriodNanoseconds) {
            return "profile \(profile.name): watchdog_period_ms \(Double(profile.device.watchdogPeriodNanoseconds) / 1e6) is outside what a \(profile.device.protocolIdentifier) device accepts (\(Double(capabilities.watchdogPeriodRangeNanoseconds.lowerBound) / 1e6)…\(Double(capabilities.watchdogPeriodRangeNanoseconds.upperBound) / 1e6) ms)"
        }
        if profile.joints.count > capabilities.maximumJoints {
            return "profile \(profile.name) has \(profile.joints.count) joints; a \(profile.device.protocolIdentifier) device has at most \(capabilities.maximumJoints)"
        }
        return nil
    }

    // MARK: Set-up

    /// Self-test (SR-17 identity, SR-2 fresh state, no e-stop or fault), link pre-flight, enable with
    /// a confirmed watchdog (SR-3), and the SR-17 direction test. Nothing is left enabled when this throws.
    public func prepare() throws(SessionError) {
        let start = clock.now()
        computation.supervisor.beginSelfTest(cycle: SupervisorTransition.setUpCycle, time: start)
        var enabled = false
        do throws(DeviceError) {
            let identity = try device.identify()
            self.identity = identity
            let problems = SelfTest.identityProblems(identity, profile: profile, resolution: device.capabilities)
            guard problems.isEmpty else { throw DeviceError.identityMismatch(port: device.name, problems: problems) }
            var state = try device.requestFreshState()
            if state.condition.contains(.emergencyStop) {
                throw DeviceError.notReady(port: device.name, reason: "the device e-stop is pressed; release it, then start again")
            }
            if state.condition.contains(.fault) {
                throw DeviceError.notReady(
                    port: device.name,
                    reason: "the device reports fault \(state.fault); clear its cause, then reset it (rehabctl reset in a running session, or power-cycle the device)")
            }
            if state.condition.contains(.enabled) {
                // Left enabled by a previous host (e.g. one that crashed): start from a known state.
                try device.deactivate()
                state = try device.requestFreshState()
            }
            if stopsDuringSetUp(deviceEnabled: false) { return }
            try startTrackers()
            linkCheck = try checkLinkStability()
            if setUpStop != nil { return }
            // SR-24: the firmware enforces the same limits on its own; read back, or nothing is enabled.
            try device.configure(SafetySettings.deviceLimits(profile, clamp: computation.clamp))
            let watchdog = profile.device.watchdogPeriodNanoseconds
            let confirmed = try device.activate(watchdogPeriodNanoseconds: watchdog)
            enabled = true
            guard confirmed == watchdog, confirmed <= 50 * Nanoseconds.perMillisecond else {
                throw DeviceError.watchdogNotConfirmed(
                    port: device.name, requestedMicroseconds: Int(watchdog / 1_000), confirmedMicroseconds: Int(confirmed / 1_000))
            }
            _ = try device.requestFreshState()
            if stopsDuringSetUp(deviceEnabled: true) { return }
            if options.checksDirection { try checkDirection() }
            if setUpStop != nil { return }
        } catch {
            if enabled { try? device.deactivate() }
            computation.supervisor.selfTestFailed(cycle: SupervisorTransition.setUpCycle, time: clock.now())
            throw .device(error)
        }
        computation.supervisor.selfTestPassed(cycle: SupervisorTransition.setUpCycle, time: clock.now())
        computation.supervisor.deviceEnabled(cycle: SupervisorTransition.setUpCycle, time: clock.now())
        publishStatus(cycle: 0, now: clock.now(), state: device.latestState, serial: 0)
    }

    /// Configures and starts every tracker before anything is enabled: a tracker that cannot start
    /// is a set-up failure like a mute robot.
    private func startTrackers() throws(DeviceError) {
        for tracker in trackers {
            do throws(DeviceSetupFailure) {
                try tracker.configure()
                try tracker.start()
            } catch {
                throw .notReady(port: error.port, reason: "the tracker could not start: \(error.reason)")
            }
        }
    }

    /// SR-12 in every phase: an e-stop or stop (control socket, SIGTERM, SIGINT) during the set-up —
    /// self-test, link pre-flight, the direction test that pushes joints with up to 20 % of τmax — is
    /// taken within one set-up cycle, never merely queued: torque off at once (all joints off, then
    /// DISABLE), the transition logged, the requester told the cycle it was taken in, and the exercise
    /// never starts (`run` returns at once). Other requests wait for the loop. True when stopped.
    private func stopsDuringSetUp(deviceEnabled: Bool) -> Bool {
        if setUpStop != nil { return true }
        let taken = control.take()
        var requests = taken.requests
        if options.observesTerminationSignals { requests.formUnion(signalRequests()) }
        // SR-22: the patient's stop input on the device counts like an operator's stop here too.
        if device.latestState.condition.contains(.patientStop) { requests.insert(.stop) }
        guard requests.contains(.emergencyStop) || requests.contains(.stop) else {
            // Not for the set-up (pause, resume, reset, …): back in the mailbox for the loop's first cycle.
            if !requests.isEmpty { control.post(requests) }
            return false
        }
        if deviceEnabled {
            device.write(.torqueOff, now: clock.now(), deadline: clock.now().advanced(byNanoseconds: periodNanoseconds))
            try? device.deactivate()
        }
        let now = clock.now()
        setUpStop = computation.supervisor.stopDuringSetUp(requests, cycle: SupervisorTransition.setUpCycle, time: now)
        status.handledRequestSerial = taken.serial
        status.state = computation.supervisor.state
        status.latchedTrip = computation.supervisor.latchedTrip
        status.activeStop = computation.supervisor.activeStop?.category
        statusBoard.publish(status)
        return true
    }

    /// SR-2, extended to the link: before anything is enabled, heartbeats at the session rate must
    /// run for `linkCheckStableSeconds` without a silence that comes within one cycle of SR-1's
    /// limit. A link that drops replies (a marginal USB cable, an overloaded host, a kernel that
    /// delays the tty layer) is found here, with its figures, instead of by a Cat 1 stop in the
    /// middle of an exercise.
    private func checkLinkStability() throws(DeviceError) -> LinkCheck {
        let required = max(3, Int((options.linkCheckStableSeconds * options.rateHertz).rounded(.up)))
        let limit = max(required, Int(options.linkCheckTimeoutSeconds * options.rateHertz))
        var check = LinkCheck(requiredCycles: required)
        // Published as it goes, so that a refusal still reports what was measured.
        defer { linkCheck = check }
        var consecutive = 0
        var gap = 0
        var freshFromWait = false
        var schedule = startUpSchedule()
        for _ in 0..<limit {
            clock.sleep(until: schedule.currentDeadline)
            let now = clock.now()
            let polled = device.read(now: now)
            if polled == .linkLost, let error = device.linkError { throw .transport(error) }
            check.cycles += 1
            if stopsDuringSetUp(deviceEnabled: false) { return check }
            if freshFromWait || polled == .freshState {
                gap = 0
            } else {
                gap += 1
                if gap == 1 { check.gaps += 1 }
                check.longestGapCycles = max(check.longestGapCycles, gap)
            }
            // The window restarts on a silence that would grade the link below GOOD (SR-1): a link that
            // does that at rest would degrade the exercise. A single late reply (common at 4 kHz) is no risk.
            consecutive = Int64(gap + 1) * periodNanoseconds > linkLimits.goodAgeNanoseconds ? 0 : consecutive + 1
            if consecutive >= required { return check }
            let next = schedule.deadline(ofCycle: schedule.cycle + 1)
            guard device.write(.observe, now: now, deadline: next) else { throw .transport(device.linkError!) }
            freshFromWait = device.waitForState(until: min(now.advanced(byNanoseconds: profile.device.replyBudgetNanoseconds), next))
            schedule.advance(finishedAt: clock.now())
        }
        throw .notReady(
            port: device.name,
            reason: "the link did not stay GOOD (SR-1: no state older than \(formatSeconds(Double(linkLimits.goodAgeNanoseconds) / 1e6)) ms) for \(formatSeconds(options.linkCheckStableSeconds)) s at \(formatSeconds(options.rateHertz)) Hz within \(formatSeconds(options.linkCheckTimeoutSeconds)) s (\(check.gaps) gaps, the longest \(check.longestGapCycles) cycles); check the cable and the host's real-time set-up (rehabctl doctor, docs/performance.md), or use a lower --rate")
    }

    /// SR-17: a small positive torque on each joint in turn must give positive motion within 100 ms
    /// (`DirectionCheck`), through the same clamp and driver as the exercise.
    private func checkDirection() throws(DeviceError) {
        // A short host or link stall during the test (the device still answers, enabled, its watchdog
        // not expired) repeats it, up to 3 times in all; a verdict about a joint (reversed, no motion,
        // not stopping) never is. A repeat starts with the zero-torque watch, so the joints settle first.
        for attempt in 1...3 {
            do throws(DeviceError) {
                try checkDirectionOnce()
                return
            } catch {
                guard case .notReady = error, attempt < 3, deviceAnswersEnabled(), setUpStop == nil else { throw error }
                directionCheckRepeats += 1
            }
        }
    }

    /// The start-up checks' cycles, from one period from now, on the schedule the loop keeps: after a
    /// host stall they resume at the next deadline ahead instead of catching up in a burst that leaves
    /// the device (and, on a shared CPU, the simulator) no time to answer.
    private func startUpSchedule() -> LoopSchedule {
        LoopSchedule(start: clock.now().advanced(byNanoseconds: periodNanoseconds), periodNanoseconds: periodNanoseconds)
    }

    /// Up to 10 cycles of all-off commands (they feed the device's watchdog; heartbeats do not): true
    /// once a fresh state shows the device enabled, without a fault, its watchdog unexpired.
    private func deviceAnswersEnabled() -> Bool {
        var schedule = startUpSchedule()
        for _ in 0..<10 {
            if stopsDuringSetUp(deviceEnabled: true) { return false }
            let deadline = schedule.currentDeadline
            guard device.write(.torqueOff, now: clock.now(), deadline: deadline) else { return false }
            if device.waitForState(until: min(clock.now().advanced(byNanoseconds: profile.device.replyBudgetNanoseconds), deadline)) {
                let condition = device.latestState.condition
                return condition.contains(.enabled) && !condition.contains(.watchdogExpired) && !condition.contains(.fault)
            }
            clock.sleep(until: deadline)
            schedule.advance(finishedAt: clock.now())
        }
        return false
    }

    private func checkDirectionOnce() throws(DeviceError) {
        var torqueLimits = JointList<Double>.zeros(profile.joints.count)
        var counts = JointList<Int>(count: profile.joints.count, repeating: 1)
        for (index, joint) in profile.joints.enumerated() {
            torqueLimits[index] = joint.torqueLimitNewtonMeters
            counts[index] = joint.encoderCountsPerRevolution
        }
        var check = DirectionCheck(
            torqueLimits: torqueLimits, countsPerRevolution: counts,
            standstillRadiansPerSecond: profile.safety.standstillVelocityRadiansPerSecond,
            silenceCycles: max(1, Int(linkLimits.lostCat1AgeNanoseconds / periodNanoseconds)))
        defer {
            directionCheckDisplacements = check.displacements
            directionCheckNoiseBands = check.noiseBands
        }
        // Every joint is watched for 250 ms, gets at most 100 ms to move and 100 ms to stop; the rest is margin.
        let bound = Int(Double(profile.joints.count) * 0.55 * options.rateHertz) + 10
        var fresh = true
        var command = JointList(count: profile.joints.count, repeating: JointActuation.off)
        var schedule = startUpSchedule()
        for _ in 0..<bound {
            clock.sleep(until: schedule.currentDeadline)
            let now = clock.now()
            if stopsDuringSetUp(deviceEnabled: true) { return }
            let polled = device.read(now: now)
            if polled == .linkLost, let error = device.linkError { throw .transport(error) }
            let verdict = check.step(at: now, state: device.latestState, fresh: fresh || polled == .freshState, command: &command)
            // Through the exercise's clamp (SR-6), whose slew limit then goes on from the test's last command.
            let outcome = computation.clamp.apply(to: &command, measured: device.latestState.joints)
            let next = schedule.deadline(ofCycle: schedule.cycle + 1)
            guard !outcome.foundNonFinite, device.write(.command(command), now: now, deadline: next) else {
                throw .transport(device.linkError ?? .deviceGone(path: device.name, reason: "the link failed during the direction test"))
            }
            fresh = device.waitForState(until: min(now.advanced(byNanoseconds: profile.device.replyBudgetNanoseconds), next))
            schedule.advance(finishedAt: clock.now())
            switch verdict {
            case .running:
                continue
            case .passed:
                return
            case .reversed(let joint, let radians):
                throw .directionCheckFailed(
                    port: device.name,
                    detail: "\(profile.joints[joint].name) moved \(Self.degrees(radians))° for a positive torque (reversed encoder or motor)")
            case .noMotion(let joint, let radians):
                throw .directionCheckFailed(
                    port: device.name,
                    detail: "\(profile.joints[joint].name) moved only \(Self.degrees(radians))° (needed \(Self.degrees(check.effectiveThreshold(joint: joint)))°) within 100 ms of a positive torque of up to \(Self.decimal(0.2 * torqueLimits[joint])) N·m")
            case .notStopped(let joint, let speed):
                throw .directionCheckFailed(
                    port: device.name,
                    detail: "\(profile.joints[joint].name) still moved at \(Self.decimal(speed)) rad/s 100 ms after the test torque ended (the drive cannot decelerate it)")
            case .deviceStopped:
                // Not a wiring fault: the device stopped itself (SR-3) because commands came too late.
                throw .notReady(
                    port: device.name,
                    reason: "the device's watchdog stopped it during the direction test (SR-3): the host or the link was held up longer than \(profile.device.watchdogPeriodNanoseconds / 1_000_000) ms; start again (rehabctl doctor shows what delays this host)")
            case .deviceSilent(let joint):
                // Silence here is the link or the host, not the wiring: say so, not "check the encoder".
                throw .notReady(
                    port: device.name,
                    reason: "the device fell silent while \(profile.joints[joint].name) was tested (SR-17's direction test): the host or the link was held up; start again (rehabctl doctor shows what delays this host)")
            }
        }
        throw .directionCheckFailed(port: device.name, detail: "the test did not finish in time")
    }

    /// Disables the device; `run` does it as soon as its loop ends, so this is for abandoning a
    /// prepared session (calling it again is harmless).
    public func finish() {
        guard !disabled else { return }
        disabled = true
        try? device.deactivate()
        for tracker in trackers { tracker.stop() }
    }

    // MARK: The loop

    /// Runs the exercise until it has stopped, faulted, or lost the device. Returns the report.
    public func run() -> SessionReport {
        startedAt = clock.now()
        if setUpStop != nil {
            // Stopped during the set-up (SR-12): the exercise never starts; torque is already off.
            finishedAt = startedAt
            finish()
            status.finished = true
            statusBoard.publish(status)
            return report()
        }
        let cpuAtStart = ThreadCPUTime.seconds()
        let processCPUAtStart = ThreadCPUTime.processSeconds()
        schedule = LoopSchedule(start: startedAt.advanced(byNanoseconds: periodNanoseconds), periodNanoseconds: periodNanoseconds)
        // A Ctrl-C or SIGTERM during set-up (self-test, link check, direction test: about a second)
        // is not lost: the exercise does not start, and the first cycle takes the signal's stop.
        let signalledDuringSetUp = options.observesTerminationSignals
            && (TerminationSignals.interrupts > interruptsSeen || TerminationSignals.terminations > terminationsSeen)
        if !signalledDuringSetUp { control.post(.start) }
        startRecording()
        // Bounds that the plan's and the supervisor's own stops make unreachable (unless a fault is held
        // for an operator); kept in case of a logic error.
        let cycleBound = Int64((options.durationSeconds + 10) * options.rateHertz)
        var lateCycles = 0
        allocations.counting = rh_allocation_counting_active() != 0
        while true {
            let deadline = schedule.currentDeadline
            let allocationsBefore = rh_thread_allocations()
            var spin = options.spinNanoseconds
            if warmUpNanoseconds > 0 {
                let warmUpAt = deadline.advanced(byNanoseconds: -warmUpNanoseconds)
                // A cycle that ended after the warm-up time goes straight on (the caches are warm).
                if clock.now() < warmUpAt {
                    clock.sleep(until: warmUpAt)
                    rehearse(cycle: schedule.cycle, deadline: deadline)
                    // The rest is spun: a second sleep would let the caches cool again and wake up
                    // late (27–47 µs on the development VM); the spin costs about one point of a
                    // core at 1 kHz (docs/performance.md, session H).
                    spin = max(spin, warmUpNanoseconds)
                }
            }
            clock.sleep(until: deadline, spinningFinalNanoseconds: spin)
            let wake = clock.now()
            wakeLatency.record(nanoseconds: wake.nanoseconds(since: deadline))
            frame.wakeLatencyNanoseconds = wake.nanoseconds(since: deadline)
            let finished = runCycle(
                cycle: schedule.cycle, now: wake, lateCycles: lateCycles, nextDeadline: schedule.deadline(ofCycle: schedule.cycle + 1))
            let end = clock.now()
            cycleTime.record(nanoseconds: end.nanoseconds(since: wake))
            frame.cycleNanoseconds = end.nanoseconds(since: wake)
            frame.lateCycles = Int32(clamping: lateCycles)
            handOver()
            allocations.record(rh_thread_allocations() &- allocationsBefore, cycle: schedule.cycle)
            cyclesRun += 1
            if finished { break }
            // Late cycles are the deadlines the loop missed (an overrun skips at least one).
            let skippedBefore = schedule.skippedCycles
            schedule.advance(finishedAt: end)
            lateCycles = Int(schedule.skippedCycles - skippedBefore)
            // The plan's own end, 10 s past it, while it moves: a FAIR hold stretches the session (a 10 s plan
            // took 18 s on an untuned VM) and a resume replans, neither a logic error. Counting the cycles of
            // GOOD link against the first duration e-stopped a 8 s scenario whose 10 repetitions had been
            // replanned after a FAIR hold (rehabctl scenario run --target sim, 2026-12-07).
            let paused = computation.supervisor.state == .paused
            if (computation.secondsPastPlanEnd(at: wake) > 10 || (paused && cyclesRun > cycleBound) || cyclesRun > 4 * cycleBound)
                && !computation.supervisor.state.isLatched
            {
                // A session paused long past its plan (SR-1 POOR with nobody to resume it) ends with a
                // controlled stop; anything else this late is a logic error: e-stop.
                control.post(paused ? .stop : .emergencyStop)
            }
        }
        finishedAt = clock.now()
        controlThreadCPUSeconds = ThreadCPUTime.seconds() - cpuAtStart
        processCPUSeconds = ThreadCPUTime.processSeconds() - processCPUAtStart
        // Disable before the slow work below (the black box and the recording are synced to disk):
        // a device left enabled and unfed that long trips its own watchdog (seen: 345 ms of fsync).
        finish()
        status.finished = true
        statusBoard.publish(status)
        blackBox.sessionEnded(transitions: computation.supervisor.transitions)
        writeBlackBox()
        var report = report()
        if let recorder {
            let result = SessionResult(
                metrics: report.metrics, transitions: report.transitions, planCompleted: computation.planCompleted,
                repetitionsPlanned: options.exercise.repetitions)
            report.recording = recorder.finish(metrics: report.metrics, result: result, at: finishedAt)
            self.recorder = nil
        }
        return report
    }

    /// Opens the recording and starts its writer thread (before the first cycle).
    private func startRecording() {
        guard let path = options.recordingPath, let ring = telemetryRing else { return }
        let encoder = TelemetryEncoder(
            jointNames: profile.joints.map(\.name), rateHertz: options.rateHertz,
            sessionMetadata: sessionMetadata + [("identity", identity.map { "\($0.model) s/n \($0.serialNumber), firmware \($0.firmware)" } ?? "")],
            monotonicOrigin: startedAt, unixOriginNanoseconds: WallClock.unixNanoseconds(), trackerNames: trackers.map(\.trackerName))
        let recorder = TelemetryRecorder(path: path, ring: ring, encoder: encoder, onFailure: options.onRecordingFailure ?? { _ in })
        // What happened before the loop (self-test, enable) goes in first.
        handOverTransitions()
        recorder.start()
        self.recorder = recorder
    }

    /// The cycle's frame to the black box and the recorder; new supervisor transitions to the recorder.
    private func handOver() {
        blackBox.record(frame, transitions: computation.supervisor.transitions)
        guard let ring = telemetryRing else { return }
        handOverTransitions()
        ring.push(.cycle(frame))
    }

    private func handOverTransitions() {
        guard let ring = telemetryRing else { return }
        let total = computation.supervisor.transitions.count + computation.supervisor.droppedTransitions
        let fresh = min(total - transitionsHandedOver, computation.supervisor.transitions.count)
        if fresh > 0 {
            for index in (computation.supervisor.transitions.count - fresh)..<computation.supervisor.transitions.count {
                ring.push(.transition(computation.supervisor.transitions[index]))
            }
        }
        transitionsHandedOver = total
    }

    /// Writes a pending black-box dump (SR-19) when a directory is configured; returns its path.
    /// Safe to call from a normal thread while the loop runs: it touches only what the loop handed over.
    @discardableResult
    public func writeBlackBox() -> String? {
        let audit = auditedRequests()
        guard let directory = options.blackBoxDirectory else { return nil }
        return blackBox.writePendingDump(
            to: directory, jointNames: profile.joints.map(\.name), trackerNames: trackers.map(\.trackerName),
            sessionMetadata: sessionMetadata + [("control_audit", JSONValue.array(audit).serialized())])
    }

    /// SR-25: every request to the control socket so far (who — pid, uid, gid — what, when, and whether
    /// it was permitted), as JSON; status reads are left out. Safe from a normal thread.
    public func auditedRequests() -> [JSONValue] {
        let fresh = controlServer?.takeAuditRecords().filter { $0.request != "status" } ?? []
        return controlAudit.withLock { records in
            records.append(contentsOf: fresh)
            return records.map { .object($0.jsonObject) }
        }
    }

    /// One control cycle; true when the session is over.
    private func runCycle(cycle: Int64, now: MonotonicInstant, lateCycles: Int, nextDeadline: MonotonicInstant) -> Bool {
        let polled = device.read(now: now)
        let fresh = freshSinceLastCycle || polled == .freshState
        freshSinceLastCycle = false
        let computeStart = clock.now()
        let state = device.latestState
        let taken = control.take()
        var requests = taken.requests
        if options.observesTerminationSignals { requests.formUnion(signalRequests()) }
        let wasLatched = computation.supervisor.state.isLatched
        if wasLatched && (requests.contains(.stop) || requests.contains(.emergencyStop)) { quitRequested = true }
        let linkLost = polled == .linkLost
        for index in 0..<trackers.count { frame.trackers[index] = trackers[index].latestSample(at: now) }
        let input = TherapyCycle.Input(
            cycle: cycle, now: now, freshState: fresh, stateAgeNanoseconds: state.ageNanoseconds(at: now), lateCycles: lateCycles,
            commandEchoLagNanoseconds: device.oldestUnechoedCommandAt.map { max(0, now.nanoseconds(since: $0)) } ?? 0,
            protocolViolations: device.linkHealth.protocolViolations, linkLost: linkLost, requests: requests, releaseHeld: control.isReleaseHeld(at: now), requestedModeIndex: control.requestedModeIndex,
            referenceSample: referenceTrackerIndex.map { frame.trackers[$0] }, workspaceSample: workspaceTrackerIndex.map { frame.trackers[$0] })
        let supervisorStart = clock.now()
        let action = computation.evaluateSafety(input, state: state)
        let supervisorEnd = clock.now()
        let outcome = computation.command(for: action, input: input, state: state)
        let computeNanoseconds = clock.now().nanoseconds(since: computeStart)
        // The bookkeeping after the window it measures.
        computeTime.record(nanoseconds: computeNanoseconds)
        supervisorTime.record(nanoseconds: supervisorEnd.nanoseconds(since: supervisorStart))
        if !wasLatched && computation.supervisor.state.isLatched {
            blackBox.triggered(cycle: cycle, trip: computation.supervisor.latchedTrip, state: computation.supervisor.state)
        }
        frame.roundTripNanoseconds = -1
        var wire = TelemetryFrame.Wire.nothing
        let usable = !linkLost && device.linkError == nil
        if usable {
            wire = transmit(outcome.intent, now: now, nextDeadline: nextDeadline)
        }
        fillFrame(cycle: cycle, time: now, action: action, wire: wire, fresh: fresh, state: state, computeNanoseconds: computeNanoseconds)
        frame.stateAgeNanoseconds = input.stateAgeNanoseconds
        frame.linkGrade = computation.supervisor.link.grade
        publishStatus(cycle: cycle, now: now, state: state, serial: taken.serial)
        if !usable { return true }
        return isOver(action: action)
    }

    /// Shortly before the deadline, the next cycle's computation runs once on a copy, with the
    /// newest state, and its result is thrown away: on a shared machine a cycle that starts after a
    /// sleep finds its code and data evicted (3–4 µs per cycle in the loop, 0.9 µs back to back), and
    /// the real cycle then finds them in the caches. Nothing is sent, posted, taken or kept: the copy
    /// sees no requests (taking them would consume them); it reads the reference, which has no side
    /// effect.
    private func rehearse(cycle: Int64, deadline: MonotonicInstant) {
        let start = clock.now()
        var rehearsal = computation.rehearsalCopy()
        let state = device.latestState
        let input = TherapyCycle.Input(
            cycle: cycle, now: deadline, freshState: freshSinceLastCycle, stateAgeNanoseconds: state.ageNanoseconds(at: deadline),
            lateCycles: 0, commandEchoLagNanoseconds: 0, protocolViolations: device.linkHealth.protocolViolations, linkLost: false, requests: [],
            releaseHeld: control.isReleaseHeld(at: deadline), requestedModeIndex: control.requestedModeIndex,
            referenceSample: referenceTrackerIndex.map { trackers[$0].latestSample(at: deadline) },
            workspaceSample: workspaceTrackerIndex.map { trackers[$0].latestSample(at: deadline) })
        let action = rehearsal.evaluateSafety(input, state: state)
        _ = rehearsal.command(for: action, input: input, state: state)
        rehearsalTime.record(nanoseconds: clock.now().nanoseconds(since: start))
    }

    /// Hands the cycle's intent (`TherapyCycle`: SR-4, SR-5, the reset sequence) to the device and
    /// waits for the reply within the budget.
    private func transmit(_ intent: DeviceIntent, now: MonotonicInstant, nextDeadline: MonotonicInstant) -> TelemetryFrame.Wire {
        let sent = device.write(intent, now: clock.now(), deadline: nextDeadline)
        let wire: TelemetryFrame.Wire =
            switch intent {
            case .command, .quickStop, .torqueOff: .command
            case .observe: .heartbeat
            case .faultReset: .faultReset
            }
        if sent && options.waitsForReplies {
            let budget = min(now.advanced(byNanoseconds: profile.device.replyBudgetNanoseconds), nextDeadline)
            freshSinceLastCycle = device.waitForState(until: budget)
            if freshSinceLastCycle, wire == .command, let roundTrip = device.linkHealth.lastRoundTripNanoseconds {
                self.roundTrip.record(nanoseconds: roundTrip)
                frame.roundTripNanoseconds = roundTrip
            }
        }
        return wire
    }

    /// Copies what this cycle measured, targeted and commanded into `frame` (timing is added at the end of the cycle).
    private func fillFrame(
        cycle: Int64, time: MonotonicInstant, action: SupervisorAction, wire: TelemetryFrame.Wire, fresh: Bool, state: RobotState,
        computeNanoseconds: Int64
    ) {
        frame.cycle = cycle
        frame.time = time
        frame.state = computation.supervisor.state
        frame.action = TelemetryCodes.action(action)
        frame.activeStop = computation.supervisor.activeStop?.category
        frame.wire = wire
        frame.freshState = fresh
        frame.computeNanoseconds = computeNanoseconds
        let tracking: Bool
        switch action {
        case .move, .hold: tracking = true
        case .decelerate, .torqueOff, .release: tracking = false
        }
        for joint in 0..<frame.jointCount {
            let measured = state.joints[joint]
            frame.positionsRadians[joint] = measured.positionRadians
            frame.velocitiesRadiansPerSecond[joint] = measured.velocityRadiansPerSecond
            frame.motorTorquesNewtonMeters[joint] = measured.motorTorqueNewtonMeters
            frame.interactionTorquesNewtonMeters[joint] = measured.interactionTorqueNewtonMeters
            frame.targetPositionsRadians[joint] = tracking ? computation.target.positions[joint] : .nan
            frame.targetVelocitiesRadiansPerSecond[joint] = tracking ? computation.target.velocities[joint] : .nan
            let commanded = computation.actuation[joint]
            frame.commandModes[joint] = TelemetryCodes.mode(commanded.mode)
            frame.commandTorquesNewtonMeters[joint] = commanded.torqueNewtonMeters
            frame.commandVelocitiesRadiansPerSecond[joint] = commanded.velocityRadiansPerSecond
        }
    }

    private func isOver(action: SupervisorAction) -> Bool {
        // SR-23: not before the device has confirmed torque off (or failed to within W, which latches).
        let confirmed = computation.supervisor.torqueOffCommandedAt == nil
        switch computation.supervisor.state {
        case .idle, .disabled:
            return confirmed
        case .fault, .estop:
            guard action == .torqueOff && confirmed else { return false }
            return !options.holdsAfterFault || quitRequested
        default:
            return false
        }
    }

    private func signalRequests() -> OperatorRequests {
        var requests: OperatorRequests = []
        let interrupts = TerminationSignals.interrupts
        if interrupts > interruptsSeen {
            // SR-12: the first SIGINT stops (Cat 1); another one e-stops.
            requests.insert(interruptsSeen == 0 && interrupts == 1 ? .stop : .emergencyStop)
            interruptsSeen = interrupts
        }
        let terminations = TerminationSignals.terminations
        if terminations > terminationsSeen {
            requests.insert(.emergencyStop)
            terminationsSeen = terminations
        }
        return requests
    }

    private func publishStatus(cycle: Int64, now: MonotonicInstant, state: RobotState, serial: UInt64) {
        status.cycle = cycle
        status.time = now
        status.state = computation.supervisor.state
        status.releasing = computation.supervisor.isReleasing
        status.releaseRefusal = computation.supervisor.releaseRefusal
        status.latchedTrip = computation.supervisor.latchedTrip
        status.activeStop = computation.supervisor.activeStop?.category
        status.handledRequestSerial = serial
        status.lastResetOutcome = computation.supervisor.lastResetOutcome
        status.device = state.condition
        status.deviceFault = state.fault
        status.stateAgeNanoseconds = state.ageNanoseconds(at: now)
        status.linkGrade = computation.supervisor.link.grade
        status.linkFairEpisodes = computation.supervisor.linkQuality.fairEpisodes
        status.linkPoorEpisodes = computation.supervisor.linkQuality.poorEpisodes
        status.wakeLatencyNanoseconds = frame.wakeLatencyNanoseconds
        status.computeNanoseconds = frame.computeNanoseconds
        status.missedDeadlines = schedule.overruns
        status.modeInForce = computation.modeInForce
        status.exerciseStartedAt = computation.activeSince
        status.planClockRunning = computation.planClockRunning
        status.planMade = computation.planMade
        secondMaxWake = max(secondMaxWake, frame.wakeLatencyNanoseconds)
        secondMaxCompute = max(secondMaxCompute, frame.computeNanoseconds)
        if now.nanoseconds(since: secondStart) >= Nanoseconds.perSecond {
            status.wakeLatencyMaxLastSecondNanoseconds = secondMaxWake
            status.computeMaxLastSecondNanoseconds = secondMaxCompute
            secondMaxWake = 0
            secondMaxCompute = 0
            secondStart = now
        }
        for joint in 0..<min(state.joints.count, status.jointCount) {
            let measured = state.joints[joint]
            status.positionsRadians[joint] = measured.positionRadians
            status.velocitiesRadiansPerSecond[joint] = measured.velocityRadiansPerSecond
            status.interactionTorquesNewtonMeters[joint] = measured.interactionTorqueNewtonMeters
            let commanded = computation.actuation[joint]
            status.commandedTorquesNewtonMeters[joint] = commanded.mode == .torque ? commanded.torqueNewtonMeters : 0
            status.targetPositionsRadians[joint] = frame.targetPositionsRadians[joint]
        }
        statusBoard.publish(status)
    }

    private static func degrees(_ radians: Double) -> String {
        format(Units.degrees(fromRadians: radians), decimals: 2)
    }

    private static func decimal(_ value: Double) -> String {
        format(value, decimals: 3)
    }

    // MARK: Report

    private func report() -> SessionReport {
        let metrics = computation.metrics
        var report = SessionReport(
            profileName: profile.name, port: device.name, rateHertz: options.rateHertz,
            requestedDurationSeconds: options.durationSeconds, elapsedSeconds: finishedAt.seconds(since: startedAt),
            cycles: cyclesRun, overruns: schedule.overruns, skippedCycles: schedule.skippedCycles,
            wakeLatency: .init(wakeLatency), computeTime: .init(computeTime), roundTrip: .init(roundTrip),
            cycleTime: .init(cycleTime), supervisorTime: .init(supervisorTime), rehearsalTime: .init(rehearsalTime),
            joints: profile.joints.enumerated().map { index, joint in
                SessionReport.Joint(
                    name: joint.name, rmsTrackingErrorRadians: metrics.rmsError(index),
                    maxAbsTrackingErrorRadians: metrics.maxAbsError[index], maxAbsTorqueNewtonMeters: metrics.maxAbsTorque[index],
                    minimumPositionRadians: metrics.samples > 0 ? metrics.minimumPosition[index] : 0,
                    maximumPositionRadians: metrics.samples > 0 ? metrics.maximumPosition[index] : 0)
            },
            transitions: computation.supervisor.transitions, finalState: computation.supervisor.state, latchedCause: computation.supervisor.latchedCause,
            linkError: device.linkError.map { "\($0)" }, identity: identity, linkCheck: linkCheck,
            linkQuality: SessionReport.LinkQuality(computation.supervisor.linkQuality), directionCheckRepeats: directionCheckRepeats,
            allocations: allocations, controlThreadCPUSeconds: controlThreadCPUSeconds, processCPUSeconds: processCPUSeconds,
            blackBoxFiles: blackBox.writtenFiles, blackBoxError: blackBox.lastWriteError, metrics: exerciseMetrics())
        report.deviceLinkHealth = device.linkHealth
        return report
    }

    /// The exercise metrics (`TelemetryChannel.exerciseMetrics`): also in `--json` under `metrics`.
    private func exerciseMetrics() -> JSONValue {
        let count = profile.joints.count
        let metrics = computation.metrics
        func perJoint(_ value: (Int) -> Double) -> JSONValue {
            .array((0..<count).map { .number(value($0), significantDigits: 6) })
        }
        var seconds: [SupervisorState: Double] = [:]
        let transitions = computation.supervisor.transitions
        for (index, transition) in transitions.enumerated() {
            let until = index + 1 < transitions.count ? transitions[index + 1].time : finishedAt
            seconds[transition.to, default: 0] += max(0, until.seconds(since: transition.time))
        }
        var timeInState = JSONObject()
        for state in SupervisorState.allCases where seconds[state] != nil {
            timeInState[state.rawValue] = .number(seconds[state]!, significantDigits: 6)
        }
        let reached = metrics.samples > 0
        return .object([
            "duration_s": .number(finishedAt.seconds(since: startedAt), significantDigits: 6),
            "cycles": .integer(cyclesRun),
            "joints": .array(profile.joints.map { .string($0.name) }),
            "rom_rad": perJoint { reached ? metrics.maximumPosition[$0] - metrics.minimumPosition[$0] : 0 },
            "min_position_rad": perJoint { reached ? metrics.minimumPosition[$0] : 0 },
            "max_position_rad": perJoint { reached ? metrics.maximumPosition[$0] : 0 },
            "rms_tracking_error_rad": perJoint { metrics.rmsError($0) },
            "max_abs_tracking_error_rad": perJoint { metrics.maxAbsError[$0] },
            "peak_torque_nm": perJoint { metrics.maxAbsTorque[$0] },
            "peak_interaction_torque_nm": perJoint { metrics.peakInteractionTorque[$0] },
            "rms_interaction_torque_nm": perJoint { metrics.rmsInteractionTorque($0) },
            "robot_work_j": perJoint { metrics.robotWork[$0] },
            "patient_work_j": perJoint { metrics.patientWork[$0] },
            "assistance_ratio": perJoint { metrics.assistanceRatio($0) },
            "mode": .string(options.exercise.mode.name),
            "exercised_joint": .string(profile.joints[options.exercise.jointIndex].name),
            "assistance_gain_by_repetition": .array(metrics.assistanceByRepetition.map { .number($0, significantDigits: 4) }),
            "repetitions": .int(computation.repetitionsCompleted),
            "safety_events": .int(transitions.filter { ($0.to == .fault || $0.to == .estop) && $0.category != nil }.count),
            "final_state": .string(computation.supervisor.state.rawValue),
            "time_in_state_s": .object(timeInState),
            "telemetry_records_dropped": .int(telemetryRing?.overflows ?? 0),
            "link_quality": SessionReport.LinkQuality(computation.supervisor.linkQuality).json,
            "control_audit": .array(auditedRequests()),
        ])
    }
}
