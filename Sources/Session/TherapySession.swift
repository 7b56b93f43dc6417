import AllocationCounter
import Control
import Devices
import Platform
import Primitives
import Profiles

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
        public var exercise: PassiveRangeOfMotion
        /// Wait for each command's reply within the cycle (measures the round trip, keeps state fresh).
        public var waitsForReplies = true
        /// Turn SIGINT/SIGTERM into stop requests (SR-12). For command-line sessions.
        public var observesTerminationSignals = false
        /// Sleep-then-spin: busy-wait this long before each deadline (0 = off).
        public var spinNanoseconds: Int64 = 0
        /// Link pre-flight before enable: no silence within one cycle of SR-1's limit for this long…
        public var linkCheckStableSeconds = 0.25
        /// …within this long, or enable is refused.
        public var linkCheckTimeoutSeconds = 3.0

        public init(rateHertz: Double, durationSeconds: Double, exercise: PassiveRangeOfMotion = PassiveRangeOfMotion()) {
            self.rateHertz = rateHertz
            self.durationSeconds = durationSeconds
            self.exercise = exercise
        }
    }

    public let profile: HardwareProfile
    public let options: Options
    public let device: any ControlledDevice
    public let clock: LoopClock
    public let control: SessionControl
    public let periodNanoseconds: Int64
    public private(set) var supervisor: Supervisor
    public private(set) var identity: DeviceIdentityInfo?
    /// What the link pre-flight measured.
    public private(set) var linkCheck: LinkCheck?

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

    private let controller: ImpedanceController
    private var clamp: CommandClamp
    private let ramp: RampIn
    private var trajectory: WaypointTrajectory
    private var target: TrajectorySample
    private var actuation: JointList<JointActuation>
    private var holdPositions: JointList<Double>
    private var stopVelocities: JointList<Double>
    private var stopBegan: MonotonicInstant?
    private var holding = false
    private var activeSince: MonotonicInstant?
    private var pausedNanoseconds: Int64 = 0
    private var pauseBegan: MonotonicInstant?
    private var schedule: LoopSchedule
    private var freshSinceLastCycle = false
    private var roundTripsSeen = 0
    private var interruptsSeen = 0
    private var terminationsSeen = 0
    private var stopPosted = false
    private var metrics: TrackingMetrics
    private var timingMonitor: LoopTimingMonitor
    private var pendingTiming: LoopTimingMonitor.Violation?
    private var allocations = AllocationTally()
    private var controlThreadCPUSeconds = 0.0
    private var processCPUSeconds = 0.0
    private var cyclesRun: Int64 = 0
    private var startedAt = MonotonicInstant.zero
    private var finishedAt = MonotonicInstant.zero

    public init(
        profile: HardwareProfile, device: any ControlledDevice, clock: LoopClock, options: Options,
        control: SessionControl = SessionControl()
    ) throws(SessionError) {
        guard options.rateHertz > 0 && options.rateHertz <= 10_000 else {
            throw .invalidOptions("rate \(options.rateHertz) Hz is outside 1…10000 Hz")
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
        let joint = profile.joints[exercise.jointIndex]
        let soft = 5 * Units.radiansPerDegree
        guard exercise.amplitudeRadians > 0,
            exercise.amplitudeRadians <= min(-joint.hardLimitMinimumRadians, joint.hardLimitMaximumRadians) - soft
        else {
            throw .invalidOptions(
                "exercise amplitude \(Units.degrees(fromRadians: exercise.amplitudeRadians))° is beyond the soft limits of \(joint.name)")
        }
        guard exercise.peakVelocityRadiansPerSecond < joint.ratedVelocityRadiansPerSecond else {
            throw .invalidOptions("exercise speed \(exercise.peakVelocityRadiansPerSecond) rad/s exceeds the rated speed of \(joint.name)")
        }
        self.profile = profile
        self.options = options
        self.device = device
        self.clock = clock
        self.control = control
        periodNanoseconds = Nanoseconds.period(rateHertz: options.rateHertz)
        let count = profile.joints.count
        supervisor = Supervisor(
            configuration: .init(
                silenceCycles: profile.safety.silenceCycles,
                silenceTorqueOffNanoseconds: profile.safety.silenceTorqueOffNanoseconds,
                stopDeadlineNanoseconds: profile.safety.stopDeadlineNanoseconds,
                standstillVelocityRadiansPerSecond: profile.safety.standstillVelocityRadiansPerSecond))
        var gains = JointList(
            count: count,
            repeating: ImpedanceController.JointParameters(
                stiffnessNewtonMetersPerRadian: 0, dampingNewtonMeterSecondsPerRadian: 0, inertiaKilogramSquareMeters: 0,
                viscousFrictionNewtonMeterSecondsPerRadian: 0, coulombFrictionNewtonMeters: 0))
        var limits = JointList(count: count, repeating: CommandClamp.JointLimits(torqueLimitNewtonMeters: 0, velocityLimitRadiansPerSecond: 0))
        for (index, joint) in profile.joints.enumerated() {
            gains[index] = .init(
                stiffnessNewtonMetersPerRadian: joint.defaultStiffnessNewtonMetersPerRadian,
                dampingNewtonMeterSecondsPerRadian: joint.defaultDampingNewtonMeterSecondsPerRadian,
                inertiaKilogramSquareMeters: joint.inertiaKilogramSquareMeters,
                viscousFrictionNewtonMeterSecondsPerRadian: joint.viscousFrictionNewtonMeterSecondsPerRadian,
                coulombFrictionNewtonMeters: joint.coulombFrictionNewtonMeters)
            limits[index] = .init(
                torqueLimitNewtonMeters: joint.torqueLimitNewtonMeters, velocityLimitRadiansPerSecond: joint.ratedVelocityRadiansPerSecond)
        }
        controller = ImpedanceController(joints: gains)
        clamp = CommandClamp(
            limits: limits, torqueSlewLimitNewtonMetersPerSecond: profile.safety.torqueSlewLimitNewtonMetersPerSecond,
            periodSeconds: Double(periodNanoseconds) * 1e-9)
        ramp = RampIn(durationSeconds: profile.control.enableRampSeconds)
        trajectory = WaypointTrajectory(
            jointCount: count, capacity: options.exercise.waypointCapacity(durationSeconds: options.durationSeconds))
        target = TrajectorySample(jointCount: count)
        actuation = JointList(count: count, repeating: .off)
        holdPositions = .zeros(count)
        stopVelocities = .zeros(count)
        schedule = LoopSchedule(start: .zero, periodNanoseconds: periodNanoseconds)
        metrics = TrackingMetrics(jointCount: count)
        timingMonitor = LoopTimingMonitor(rateHertz: options.rateHertz)
    }

    // MARK: Set-up

    /// Self-test (SR-17 identity, SR-2 fresh state, no e-stop or fault) and enable with a confirmed
    /// watchdog (SR-3). Nothing is enabled when this throws.
    public func prepare() throws(SessionError) {
        let start = clock.now()
        supervisor.beginSelfTest(cycle: 0, time: start)
        do throws(DeviceError) {
            let identity = try device.identify()
            self.identity = identity
            let problems = SelfTest.identityProblems(identity, profile: profile)
            guard problems.isEmpty else { throw DeviceError.identityMismatch(port: device.name, problems: problems) }
            var state = try device.requestFreshState()
            if state.condition.contains(.emergencyStop) {
                throw DeviceError.notReady(port: device.name, reason: "the device e-stop is pressed; release it, then start again")
            }
            if state.condition.contains(.fault) {
                throw DeviceError.notReady(
                    port: device.name,
                    reason: "the device reports fault 0x\(String(state.deviceFaultCode, radix: 16)); clear its cause and reset the device")
            }
            if state.condition.contains(.enabled) {
                // Left enabled by a previous host (e.g. one that crashed): start from a known state.
                try device.disable()
                state = try device.requestFreshState()
            }
            linkCheck = try checkLinkStability()
            supervisor.selfTestPassed(cycle: 0, time: clock.now())
            let watchdog = profile.device.watchdogPeriodNanoseconds
            let confirmed = try device.enable(watchdogPeriodNanoseconds: watchdog)
            guard confirmed == watchdog, confirmed <= 50 * Nanoseconds.perMillisecond else {
                try? device.disable()
                throw DeviceError.watchdogNotConfirmed(
                    port: device.name, requestedMicroseconds: Int(watchdog / 1_000), confirmedMicroseconds: Int(confirmed / 1_000))
            }
            _ = try device.requestFreshState()
        } catch {
            throw .device(error)
        }
        supervisor.deviceEnabled(cycle: 0, time: clock.now())
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
        var deadline = clock.now().advanced(byNanoseconds: periodNanoseconds)
        for _ in 0..<limit {
            clock.sleep(until: deadline)
            let now = clock.now()
            let polled = device.poll(now: now)
            if polled == .linkLost, let error = device.linkError { throw .transport(error) }
            check.cycles += 1
            if freshFromWait || polled == .freshState {
                gap = 0
            } else {
                gap += 1
                if gap == 1 { check.gaps += 1 }
                check.longestGapCycles = max(check.longestGapCycles, gap)
            }
            // The window restarts on a silence one cycle short of SR-1's limit: a link that gets that
            // close would stop the exercise. A single late reply (common at 4 kHz) is no risk.
            consecutive = gap >= max(1, profile.safety.silenceCycles - 1) ? 0 : consecutive + 1
            if consecutive >= required { return check }
            let next = deadline.advanced(byNanoseconds: periodNanoseconds)
            guard device.sendHeartbeat(deadline: next) else { throw .transport(device.linkError!) }
            freshFromWait = device.waitForState(until: min(now.advanced(byNanoseconds: profile.device.replyBudgetNanoseconds), next))
            deadline = next
        }
        throw .notReady(
            port: device.name,
            reason: "the link did not stay within one cycle of SR-1's silence limit for \(options.linkCheckStableSeconds) s at \(Int(options.rateHertz)) Hz within \(options.linkCheckTimeoutSeconds) s (\(check.gaps) gaps, the longest \(check.longestGapCycles) cycles); check the cable and the host's real-time set-up (rehabctl doctor, docs/performance.md), or use a lower --rate")
    }

    /// Disables the device (after `run`, or to abandon a prepared session).
    public func finish() {
        try? device.disable()
    }

    // MARK: The loop

    /// Runs the exercise until it has stopped, faulted, or lost the device. Returns the report.
    public func run() -> SessionReport {
        startedAt = clock.now()
        let cpuAtStart = ThreadCPUTime.seconds()
        let processCPUAtStart = ThreadCPUTime.processSeconds()
        schedule = LoopSchedule(start: startedAt.advanced(byNanoseconds: periodNanoseconds), periodNanoseconds: periodNanoseconds)
        interruptsSeen = TerminationSignals.interrupts
        terminationsSeen = TerminationSignals.terminations
        control.post(.start)
        // A bound that the supervisor's own stops make unreachable; kept in case of a logic error.
        let cycleBound = Int64((options.durationSeconds + 10) * options.rateHertz)
        var lateCycles = 0
        allocations.counting = rh_allocation_counting_active() != 0
        while true {
            let deadline = schedule.currentDeadline
            clock.sleep(until: deadline, spinningFinalNanoseconds: options.spinNanoseconds)
            let wake = clock.now()
            let allocationsBefore = rh_thread_allocations()
            wakeLatency.record(nanoseconds: wake.nanoseconds(since: deadline))
            pendingTiming = timingMonitor.cycleStarted(
                at: wake, lateCycles: lateCycles, consecutiveOverruns: Int(schedule.consecutiveOverruns))
            let finished = runCycle(cycle: schedule.cycle, now: wake, nextDeadline: schedule.deadline(ofCycle: schedule.cycle + 1))
            let end = clock.now()
            cycleTime.record(nanoseconds: end.nanoseconds(since: wake))
            allocations.record(rh_thread_allocations() &- allocationsBefore, cycle: schedule.cycle)
            cyclesRun += 1
            if finished { break }
            // Late cycles are the deadlines the loop missed (an overrun skips at least one).
            let skippedBefore = schedule.skippedCycles
            schedule.advance(finishedAt: end)
            lateCycles = Int(schedule.skippedCycles - skippedBefore)
            if cyclesRun > cycleBound { control.post(.emergencyStop) }
        }
        finishedAt = clock.now()
        controlThreadCPUSeconds = ThreadCPUTime.seconds() - cpuAtStart
        processCPUSeconds = ThreadCPUTime.processSeconds() - processCPUAtStart
        return report()
    }

    /// One control cycle; true when the session is over.
    private func runCycle(cycle: Int64, now: MonotonicInstant, nextDeadline: MonotonicInstant) -> Bool {
        let polled = device.poll(now: now)
        let fresh = freshSinceLastCycle || polled == .freshState
        freshSinceLastCycle = false
        let computeStart = clock.now()
        let state = device.latestState
        var requests = control.take()
        if options.observesTerminationSignals { requests.formUnion(signalRequests()) }
        let supervisorStart = clock.now()
        let action = supervisor.evaluate(
            .init(cycle: cycle, time: now, freshState: fresh, linkLost: polled == .linkLost, device: state.condition,
                  deviceFaultCode: state.deviceFaultCode, maximumSpeedRadiansPerSecond: state.maximumSpeedRadiansPerSecond,
                  requests: requests, timing: pendingTiming))
        supervisorTime.record(nanoseconds: clock.now().nanoseconds(since: supervisorStart))
        command(for: action, state: state, now: now)
        let outcome = clamp.apply(to: &actuation)
        if outcome.foundNonFinite { supervisor.reportNonFiniteCommand() }
        computeTime.record(nanoseconds: clock.now().nanoseconds(since: computeStart))
        metrics.recordTorques(actuation)
        if polled == .linkLost || device.linkError != nil { return true }
        let sent = device.send(actuation, now: clock.now(), deadline: nextDeadline)
        if sent && options.waitsForReplies {
            let budget = min(now.advanced(byNanoseconds: profile.device.replyBudgetNanoseconds), nextDeadline)
            freshSinceLastCycle = device.waitForState(until: budget)
            if freshSinceLastCycle { recordRoundTrip() }
        }
        return isOver(action: action)
    }

    /// Fills `actuation` with what `action` allows.
    private func command(for action: SupervisorAction, state: RobotState, now: MonotonicInstant) {
        switch action {
        case .move:
            holding = false
            stopBegan = nil
            if activeSince == nil {
                activeSince = now
                // SR-5: the exercise starts from where the joints are now.
                var start = JointList<Double>.zeros(state.joints.count)
                for joint in 0..<state.joints.count { start[joint] = state.joints[joint].positionRadians }
                options.exercise.plan(
                    from: start, durationSeconds: max(0.05, options.durationSeconds - ramp.durationSeconds), into: &trajectory)
            }
            if let pauseBegan {
                pausedNanoseconds += now.nanoseconds(since: pauseBegan)
                self.pauseBegan = nil
            }
            let elapsed = Double(now.nanoseconds(since: activeSince!) - pausedNanoseconds) * 1e-9
            let trajectoryTime = elapsed - ramp.durationSeconds
            trajectory.sample(at: max(0, trajectoryTime), into: &target)
            controller.compute(target: target, measured: state.joints, scale: ramp.scale(atSeconds: elapsed), into: &actuation)
            if trajectoryTime >= 0 { metrics.recordTracking(target: target, measured: state.joints) }
            if trajectoryTime > trajectory.durationSeconds && !stopPosted {
                stopPosted = true
                control.post(.stop)
            }
        case .hold:
            if !holding {
                holding = true
                pauseBegan = now
                for joint in 0..<state.joints.count {
                    holdPositions[joint] = state.joints[joint].positionRadians
                }
            }
            for joint in 0..<state.joints.count {
                target.positions[joint] = holdPositions[joint]
                target.velocities[joint] = 0
                target.accelerations[joint] = 0
            }
            controller.compute(target: target, measured: state.joints, scale: 1, into: &actuation)
        case .decelerate(let since):
            if stopBegan != since {
                stopBegan = since
                for joint in 0..<state.joints.count { stopVelocities[joint] = state.joints[joint].velocityRadiansPerSecond }
            }
            // Cat 1: the velocity reference ramps to zero at the quick-stop rate; the device's own
            // velocity loop tracks it on its local measurements, even if the link has gone quiet.
            let reduction = profile.control.quickStopDecelerationRadiansPerSecondSquared * now.seconds(since: since)
            for joint in 0..<state.joints.count {
                let initial = stopVelocities[joint]
                let magnitude = max(0, abs(initial) - reduction)
                actuation[joint] = JointActuation(mode: .velocity, velocityRadiansPerSecond: initial < 0 ? -magnitude : magnitude)
            }
        case .torqueOff:
            for joint in 0..<actuation.count { actuation[joint] = .off }
        }
    }

    private func isOver(action: SupervisorAction) -> Bool {
        switch supervisor.state {
        case .idle, .disabled:
            return true
        case .fault, .estop:
            return action == .torqueOff
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

    private func recordRoundTrip() {
        if let roundTrip = device.lastRoundTripNanoseconds {
            self.roundTrip.record(nanoseconds: roundTrip)
        }
    }

    // MARK: Report

    private func report() -> SessionReport {
        SessionReport(
            profileName: profile.name, port: device.name, rateHertz: options.rateHertz,
            requestedDurationSeconds: options.durationSeconds, elapsedSeconds: finishedAt.seconds(since: startedAt),
            cycles: cyclesRun, overruns: schedule.overruns, skippedCycles: schedule.skippedCycles,
            wakeLatency: .init(wakeLatency), computeTime: .init(computeTime), roundTrip: .init(roundTrip),
            cycleTime: .init(cycleTime), supervisorTime: .init(supervisorTime),
            joints: profile.joints.enumerated().map { index, joint in
                SessionReport.Joint(
                    name: joint.name, rmsTrackingErrorRadians: metrics.rmsError(index),
                    maxAbsTrackingErrorRadians: metrics.maxAbsError[index], maxAbsTorqueNewtonMeters: metrics.maxAbsTorque[index],
                    minimumPositionRadians: metrics.samples > 0 ? metrics.minimumPosition[index] : 0,
                    maximumPositionRadians: metrics.samples > 0 ? metrics.maximumPosition[index] : 0)
            },
            transitions: supervisor.transitions, finalState: supervisor.state, latchedCause: supervisor.latchedCause,
            linkError: device.linkError.map { "\($0)" }, identity: identity, linkCheck: linkCheck,
            allocations: allocations, controlThreadCPUSeconds: controlThreadCPUSeconds, processCPUSeconds: processCPUSeconds)
    }
}

/// Heap allocations counted on the control thread, cycle by cycle (AllocationCounter).
public struct AllocationTally: Sendable, Equatable {
    /// False when the allocator is not interposed (the counts are then meaningless).
    public var counting = false
    public var total: UInt64 = 0
    public var cyclesWithAllocations: Int64 = 0
    /// The first cycle that allocated, for finding the culprit.
    public var firstAllocatingCycle: Int64?

    mutating func record(_ count: UInt64, cycle: Int64) {
        guard count > 0 else { return }
        total &+= count
        cyclesWithAllocations += 1
        if firstAllocatingCycle == nil { firstAllocatingCycle = cycle }
    }
}

/// The link pre-flight's figures.
public struct LinkCheck: Sendable, Equatable {
    /// Consecutive fresh cycles required.
    public var requiredCycles: Int
    /// Cycles it took.
    public var cycles = 0
    /// Runs of cycles without a fresh state, and the longest one.
    public var gaps = 0
    public var longestGapCycles = 0

    public init(requiredCycles: Int) {
        self.requiredCycles = requiredCycles
    }
}

/// Tracking error and torque statistics, accumulated in place.
struct TrackingMetrics {
    var squaredError: JointList<Double>
    var maxAbsError: JointList<Double>
    var maxAbsTorque: JointList<Double>
    var minimumPosition: JointList<Double>
    var maximumPosition: JointList<Double>
    var samples = 0

    init(jointCount: Int) {
        squaredError = .zeros(jointCount)
        maxAbsError = .zeros(jointCount)
        maxAbsTorque = .zeros(jointCount)
        minimumPosition = JointList(count: jointCount, repeating: .infinity)
        maximumPosition = JointList(count: jointCount, repeating: -.infinity)
    }

    mutating func recordTracking(target: TrajectorySample, measured: JointList<JointMeasurement>) {
        for joint in 0..<squaredError.count {
            let error = target.positions[joint] - measured[joint].positionRadians
            squaredError[joint] += error * error
            maxAbsError[joint] = max(maxAbsError[joint], abs(error))
            minimumPosition[joint] = min(minimumPosition[joint], measured[joint].positionRadians)
            maximumPosition[joint] = max(maximumPosition[joint], measured[joint].positionRadians)
        }
        samples += 1
    }

    mutating func recordTorques(_ actuation: JointList<JointActuation>) {
        for joint in 0..<maxAbsTorque.count where actuation[joint].mode == .torque {
            maxAbsTorque[joint] = max(maxAbsTorque[joint], abs(actuation[joint].torqueNewtonMeters))
        }
    }

    func rmsError(_ joint: Int) -> Double {
        samples == 0 ? 0 : (squaredError[joint] / Double(samples)).squareRoot()
    }
}
