import DeviceModel
import Primitives

/// One control cycle's decisions, pure: from the device's fresh state, the trackers and the
/// operator's requests to the supervisor's action and the intent for the device — the supervisor
/// (SR-1 … SR-25), the plan, the therapy modes, the clamp (SR-6), SR-5's choice between a computed
/// command and a local hold, the reset sequence, and the plan's end (a Cat 1 stop the next cycle).
/// It holds no device, no clock and no socket: the session reads the devices, calls it, writes the
/// intent and hands telemetry over; tests run it cycle by cycle on made-up states.
///
/// Being a value, it is mutated through one access per call (Swift checks the exclusivity of a
/// class's stored properties at run time, on every access; a struct's statically), and it can be
/// rehearsed on a copy before the deadline (`rehearsalCopy()`), so that the real cycle finds its
/// code and data in the caches.
public struct TherapyCycle {
    /// What one cycle knows besides the device's state.
    public struct Input {
        public var cycle: Int64
        public var now: MonotonicInstant
        /// A new valid state arrived since the last cycle (the interlocks evaluate it once).
        public var freshState: Bool
        /// SR-1/SR-5: now − when the newest state was sampled [ns] (`Int64.max` before any).
        public var stateAgeNanoseconds: Int64
        /// SR-14: deadlines missed since the previous cycle.
        public var lateCycles: Int
        /// SR-25: how long the oldest unechoed command has waited [ns] (0: none).
        public var commandEchoLagNanoseconds: Int64
        /// D5: the driver's protocol violations so far.
        public var protocolViolations: Int
        public var linkLost: Bool
        public var requests: OperatorRequests
        public var releaseHeld: Bool
        /// The mode the operator asked for: an index into `availableModes`.
        public var requestedModeIndex: Int
        /// The reference's newest sample (mirror exercises); nil keeps the last one.
        public var referenceSample: TrackerSample?
        /// SR-16: the workspace tracker's newest sample (nil: the session has no workspace tracker).
        public var workspaceSample: TrackerSample?

        public init(
            cycle: Int64, now: MonotonicInstant, freshState: Bool, stateAgeNanoseconds: Int64, lateCycles: Int,
            commandEchoLagNanoseconds: Int64, protocolViolations: Int, linkLost: Bool, requests: OperatorRequests, releaseHeld: Bool,
            requestedModeIndex: Int, referenceSample: TrackerSample?, workspaceSample: TrackerSample? = nil
        ) {
            self.cycle = cycle
            self.now = now
            self.freshState = freshState
            self.stateAgeNanoseconds = stateAgeNanoseconds
            self.lateCycles = lateCycles
            self.commandEchoLagNanoseconds = commandEchoLagNanoseconds
            self.protocolViolations = protocolViolations
            self.linkLost = linkLost
            self.requests = requests
            self.releaseHeld = releaseHeld
            self.requestedModeIndex = requestedModeIndex
            self.referenceSample = referenceSample
            self.workspaceSample = workspaceSample
        }
    }

    /// What a cycle decided besides the supervisor's action.
    public struct Outcome: Equatable {
        /// What the device is asked to do (SR-4, SR-5, the reset sequence).
        public var intent: DeviceIntent
    }

    let controller: ImpedanceController
    let ramp: RampIn
    /// SR-10: below this target speed a joint does not count as demanded to move [rad/s].
    let minimumDemandSpeeds: JointList<Double>
    let periodSeconds: Double
    let exercise: RangeOfMotionExercise
    let durationSeconds: Double
    let quickStopDecelerationRadiansPerSecondSquared: Double
    /// The modes this session may run on the exercised joint, the exercise's own first.
    let availableModes: [TherapyMode]
    /// Mirror mode's settings (when the exercise has one); SR-15 then gates the reference whenever mirror mode is in force.
    let mirror: Mirror?
    /// Only transparency uses the acceleration estimate: no filter work in the cycle otherwise.
    let estimatesAccelerations: Bool
    /// How close to a range end the target must come for a repetition to count [rad].
    let repetitionToleranceRadians: Double

    public var supervisor: Supervisor
    public var clamp: CommandClamp
    var trajectory: WaypointTrajectory
    public internal(set) var target: TrajectorySample
    public internal(set) var actuation: JointList<JointActuation>
    var demandsMotion: JointList<Bool>
    public internal(set) var metrics: TrackingMetrics
    /// Out-and-backs of the exercised joint's target completed (upper end, then lower end).
    public internal(set) var repetitionsCompleted = 0
    /// The mode in force on the exercised joint, an index into `availableModes`. A switch blends
    /// from the previous mode's torque (`modeBlendFrom`) to the new one's over the ramp time,
    /// starting at `modeBlendStart`.
    public internal(set) var modeInForce = 0
    private var modeBlendFrom = 0
    private var modeBlendStart: MonotonicInstant?
    /// At a switch: what was commanded minus what the previous mode gives now, so that a switch in
    /// the middle of an earlier blend starts from where that blend was (it fades with the blend).
    private var modeBlendOffset = 0.0
    /// The exercised joint's mode torque of the last cycle, while the cycles are moving ones.
    private var lastModeTorque: Double?
    private var holdPositions: JointList<Double>
    private var holdScale = 1.0
    private var gainScale = 0.0
    private var stopVelocities: JointList<Double>
    private var stopBegan: MonotonicInstant?
    private var holding = false
    /// When the first moving cycle ran (the plan starts an enable ramp later).
    public private(set) var activeSince: MonotonicInstant?
    /// Where trajectory time 0 is (after the enable ramp, or at a resume).
    private var trajectoryOrigin = MonotonicInstant.zero
    /// Exercise time used up before the current plan (earlier plans, cut by pauses).
    private var consumedExerciseSeconds = 0.0
    private var resumeBlendFrom: JointList<Double>
    private var resumeBlendStart: MonotonicInstant?
    private var stopPosted = false
    /// The plan ran to its end (or nothing was left of it to resume) and posted the normal stop: the
    /// exercise was completed, not cut short by an operator's stop.
    public var planCompleted: Bool { stopPosted }
    /// The plan is used up (or nothing is left to resume): the next cycle stops (Cat 1, the normal end).
    private var planEnded = false
    /// SR-1 FAIR/POOR: the link is degraded; a moving cycle then holds (see `fillActuation`).
    private var degraded = false
    private var reachedUpperEnd = false
    /// Assist-as-needed state (when the exercise has an active-assist mode).
    private var assistance: AssistAsNeeded?
    /// Mirror mode: the target that follows the reference, and the reference's newest sample.
    private var mirrorFollower: MirrorFollower?
    private var referenceSample = TrackerSample()
    /// Low-pass filtered joint accelerations (when the exercise has a transparent mode) and the
    /// velocities they come from.
    private var accelerationEstimates: JointList<Double>
    private var previousVelocities: JointList<Double>
    /// A rehearsal copy: it changes no heap storage (plans, logs), which it shares with the original.
    private(set) var isRehearsal = false

    public init(
        supervisor: Supervisor, controller: ImpedanceController, clamp: CommandClamp, ramp: RampIn, minimumDemandSpeeds: JointList<Double>,
        rateHertz: Double, exercise: RangeOfMotionExercise, durationSeconds: Double, quickStopDecelerationRadiansPerSecondSquared: Double,
        availableModes: [TherapyMode], mirror: Mirror?, repetitionToleranceRadians: Double
    ) {
        let count = minimumDemandSpeeds.count
        self.supervisor = supervisor
        self.controller = controller
        self.clamp = clamp
        self.ramp = ramp
        self.minimumDemandSpeeds = minimumDemandSpeeds
        periodSeconds = 1 / rateHertz
        self.exercise = exercise
        self.durationSeconds = durationSeconds
        self.quickStopDecelerationRadiansPerSecondSquared = quickStopDecelerationRadiansPerSecondSquared
        self.availableModes = availableModes
        self.mirror = mirror
        estimatesAccelerations = availableModes.contains { if case .transparent = $0 { true } else { false } }
        self.repetitionToleranceRadians = repetitionToleranceRadians
        for case .activeAssist(let parameters) in availableModes {
            assistance = AssistAsNeeded(parameters: parameters, periodSeconds: 1 / rateHertz)
        }
        trajectory = WaypointTrajectory(jointCount: count, capacity: exercise.waypointCapacity(durationSeconds: durationSeconds))
        target = TrajectorySample(jointCount: count)
        actuation = JointList(count: count, repeating: .off)
        demandsMotion = JointList(count: count, repeating: false)
        holdPositions = .zeros(count)
        resumeBlendFrom = .zeros(count)
        stopVelocities = .zeros(count)
        accelerationEstimates = .zeros(count)
        previousVelocities = .zeros(count)
        metrics = TrackingMetrics(
            jointCount: count,
            repetitionCapacity: (exercise.repetitions ?? 0) + Int(durationSeconds / max(0.1, 2 * exercise.swingSeconds)) + 8)
    }

    /// A copy to rehearse the next cycle on: the same code over the same data, its result thrown
    /// away. It shares the original's heap storage, so it changes none (no plan, no log entry).
    public func rehearsalCopy() -> TherapyCycle {
        var copy = self
        copy.isRehearsal = true
        copy.supervisor.keepsLog = false
        copy.metrics.keepsLog = false
        return copy
    }

    /// SR-1 … SR-19: the supervisor's verdict on this state (timed on its own by the session).
    public mutating func evaluateSafety(_ input: Input, state: RobotState) -> SupervisorAction {
        var tracker: TrackerStatus?
        var trackerGatesMotion = false
        if mirror != nil {
            if let sample = input.referenceSample { referenceSample = sample }
            tracker = referenceSample.trackerStatus(at: input.now)
            trackerGatesMotion = dependsOnReference(requestedModeIndex: input.requestedModeIndex)
        }
        var requests = input.requests
        if planEnded {
            // The plan's end is this cycle's own request, not the operator's: it needs no mailbox.
            requests.insert(.stop)
            planEnded = false
        }
        var facts = Supervisor.Input(
            cycle: input.cycle, time: input.now, freshState: input.freshState, stateAgeNanoseconds: input.stateAgeNanoseconds,
            lateCycles: input.lateCycles, commandEchoLagNanoseconds: input.commandEchoLagNanoseconds,
            protocolViolations: input.protocolViolations, linkLost: input.linkLost, requests: requests, demandsMotion: demandsMotion,
            tracker: tracker, trackerGatesMotion: trackerGatesMotion, releaseHeld: input.releaseHeld)
        if let sample = input.workspaceSample {
            // SR-16 judges where the tool is only while the tracker can vouch for it (SR-15's checks).
            facts.workspaceTrackerWired = true
            facts.workspaceTracker = sample.trackerStatus(at: input.now)
            // A tracker that gives no position (an angle source, an IMU) cannot vouch for the workspace:
            // judged as a missing tool, never as "nothing to check".
            if sample.toolPositionMeters == nil { facts.workspaceTracker?.toolVisible = false }
            facts.trackedPositionMeters = sample.toolVisible ? sample.toolPositionMeters : nil
        }
        return supervisor.evaluate(facts, state: state)
    }

    /// SR-15 gates motion while mirror mode is in force, is asked for (a switch into it with an
    /// untrustworthy reference stops the robot before the switch), or still blends out: its torque
    /// is then part of the output. In the exercise's other modes the reference is not needed.
    private func dependsOnReference(requestedModeIndex requested: Int) -> Bool {
        func isMirror(_ index: Int) -> Bool {
            guard availableModes.indices.contains(index), case .mirror = availableModes[index] else { return false }
            return true
        }
        return isMirror(modeInForce) || isMirror(requested) || (modeBlendStart != nil && isMirror(modeBlendFrom))
    }

    /// Fills `actuation` with what `action` allows, clamped (SR-6), records the cycle's metrics, and
    /// chooses the device's intent.
    public mutating func command(for action: SupervisorAction, input: Input, state: RobotState) -> Outcome {
        let resetsDevice = supervisor.takeDeviceFaultResetRequest()
        if estimatesAccelerations { estimateAccelerations(state: state) }
        let grade = supervisor.link.grade
        degraded = grade == .fair || grade == .poor
        var postsStop = false
        fillActuation(for: action, input: input, state: state, postsStop: &postsStop)
        if postsStop { planEnded = true }
        let stateIsCurrent = input.stateAgeNanoseconds <= supervisor.configuration.link.goodAgeNanoseconds
        if !stateIsCurrent { holdLocally(for: action) }
        let outcome = clamp.apply(to: &actuation, measured: state.joints, degraded: degraded)
        if case .move = action { metrics.recordWork(actuation, measured: state.joints, seconds: periodSeconds) }
        if outcome.foundNonFinite { supervisor.reportNonFiniteCommand() }
        metrics.recordTorques(actuation)
        return Outcome(intent: intent(for: action, resetsDevice: resetsDevice, device: state.condition))
    }

    /// SR-5: a torque is computed only from a state within SR-1's GOOD age. With an older one, a
    /// moving or holding cycle sends the device a local hold instead (its own impedance loop around
    /// the frozen target, at half the joint's stiffness), which depends on nothing old and keeps the
    /// watchdog fed: a heartbeat would let a link that is merely slow (replies 5 ms late) starve the
    /// watchdog into a Cat 0. No old set-point is sent again.
    private mutating func holdLocally(for action: SupervisorAction) {
        switch action {
        case .move, .hold:
            for joint in 0..<actuation.count {
                let gains = controller.joints[joint]
                actuation[joint] = .hold(
                    atRadians: target.positions[joint], stiffnessNewtonMetersPerRadian: gains.stiffnessNewtonMetersPerRadian / 2,
                    dampingNewtonMeterSecondsPerRadian: gains.dampingNewtonMeterSecondsPerRadian / 2)
            }
        case .decelerate, .torqueOff, .release:
            // Stops and the patient release do not depend on the measured state.
            break
        }
    }

    /// The device's intent (SR-4): the reset's sequence on the operator's request; only observing a
    /// device that cannot take commands (disabled, watchdog latched), so its state keeps arriving;
    /// otherwise this cycle's actuation — a quick stop in a Cat 1, torque off in a Cat 0.
    func intent(for action: SupervisorAction, resetsDevice: Bool, device: DeviceCondition) -> DeviceIntent {
        if resetsDevice { return .faultReset }
        guard device.contains(.enabled) && !device.contains(.watchdogExpired) else { return .observe }
        switch action {
        case .decelerate: return .quickStop(actuation)
        case .torqueOff: return .torqueOff
        case .move, .hold, .release: return .command(actuation)
        }
    }

    /// Fills `actuation` with what `action` allows, and `demandsMotion` with the joints it asks to move.
    private mutating func fillActuation(for requested: SupervisorAction, input: Input, state: RobotState, postsStop: inout Bool) {
        let now = input.now
        // SR-1 FAIR: a moving cycle on a degraded link holds where the joints are, as a pause does: the
        // plan's clock stands still, the mode's torque gives way to the passive hold (which the clamp
        // keeps to half τmax at half the slew limit, so the change is a fade), nothing adapts, and when
        // the link is GOOD again the rest of the exercise is planned from the measured state and blended
        // in over the ramp, the mirror target restarting from the joint (`resume`).
        var action = requested
        if case .move = requested, degraded { action = .hold }
        if case .move = action { planClockRunning = true } else { planClockRunning = false }
        for joint in 0..<demandsMotion.count { demandsMotion[joint] = false }
        if case .move = action {} else { lastModeTorque = nil }
        switch action {
        case .move:
            stopBegan = nil
            if activeSince == nil {
                activeSince = now
                // SR-5: the exercise starts from where the joints are now, after the enable ramp.
                trajectoryOrigin = now.advanced(byNanoseconds: Int64(ramp.durationSeconds * 1e9))
                planExercise(from: state, seconds: durationSeconds - ramp.durationSeconds)
                if let mirror {
                    mirrorFollower = MirrorFollower(
                        mirror: mirror, startPositionRadians: state.joints[exercise.jointIndex].positionRadians)
                }
            } else if holding {
                resume(state: state, now: now, postsStop: &postsStop)
                mirrorFollower?.restart(atRadians: state.joints[exercise.jointIndex].positionRadians)
            }
            holding = false
            let sinceActive = now.seconds(since: activeSince!)
            gainScale = ramp.scale(atSeconds: sinceActive)
            let trajectoryTime = now.seconds(since: trajectoryOrigin)
            trajectory.sample(at: max(0, trajectoryTime), into: &target)
            blendAfterResume(now: now)
            clamp.clampTargets(&target)
            controller.compute(target: target, measured: state.joints, scale: gainScale, into: &actuation)
            applyMode(state: state, now: now, requestedModeIndex: input.requestedModeIndex)
            let exercised = exercise.jointIndex
            if case .mirror = availableModes[modeInForce], let follower = mirrorFollower {
                // The mirror target is what the joint tracks now: SR-10, metrics and the recording see it.
                target.positions[exercised] = follower.positionRadians
                target.velocities[exercised] = follower.velocityRadiansPerSecond
                target.accelerations[exercised] = 0
            }
            countRepetitions()
            for joint in 0..<demandsMotion.count {
                demandsMotion[joint] = abs(target.velocities[joint]) >= minimumDemandSpeeds[joint]
            }
            switch availableModes[modeInForce] {
            case .passive, .mirror:
                break
            case .activeAssist(let parameters):
                // SR-10 expects motion where the robot pushes past the joint's breakaway friction, or
                // where the joint has fallen behind the plan by more than the dead band: with the
                // assistance withdrawn a joint may rest in stiction while the plan moves on, but a
                // frozen encoder makes the error grow past the dead band within a fraction of a swing.
                let lag = abs(target.positions[exercised] - state.joints[exercised].positionRadians)
                demandsMotion[exercised] = demandsMotion[exercised]
                    && (abs(actuation[exercised].torqueNewtonMeters) > 2 * controller.joints[exercised].coulombFrictionNewtonMeters
                        || lag > parameters.errorDeadbandRadians)
            case .activeResist, .transparent:
                demandsMotion[exercised] = false
            }
            if trajectoryTime >= 0 && resumeBlendStart == nil { metrics.recordTracking(target: target, measured: state.joints) }
            if trajectoryTime > trajectory.durationSeconds && !stopPosted {
                stopPosted = true
                postsStop = true
            }
        case .hold:
            if !holding {
                holding = true
                holdScale = activeSince == nil ? 1 : gainScale
                if activeSince != nil { consumedExerciseSeconds += max(0, now.seconds(since: trajectoryOrigin)) }
                for joint in 0..<state.joints.count {
                    holdPositions[joint] = state.joints[joint].positionRadians
                }
            }
            for joint in 0..<state.joints.count {
                target.positions[joint] = holdPositions[joint]
                target.velocities[joint] = 0
                target.accelerations[joint] = 0
            }
            clamp.clampTargets(&target)
            controller.compute(target: target, measured: state.joints, scale: holdScale, into: &actuation)
        case .decelerate(let since):
            if stopBegan != since {
                stopBegan = since
                for joint in 0..<state.joints.count { stopVelocities[joint] = state.joints[joint].velocityRadiansPerSecond }
            }
            // Cat 1: the velocity reference ramps to zero at the quick-stop rate; the device's own
            // velocity loop tracks it on its local measurements, even if the link has gone quiet.
            let reduction = quickStopDecelerationRadiansPerSecondSquared * now.seconds(since: since)
            for joint in 0..<state.joints.count {
                let initial = stopVelocities[joint]
                let magnitude = max(0, abs(initial) - reduction)
                actuation[joint] = JointActuation(mode: .velocity, velocityRadiansPerSecond: initial < 0 ? -magnitude : magnitude)
            }
        case .torqueOff:
            for joint in 0..<actuation.count { actuation[joint] = .off }
        case .release:
            // SR-18: powered at zero torque, so the brake is released and the limb can be moved out.
            for joint in 0..<actuation.count { actuation[joint] = JointActuation(mode: .torque, torqueNewtonMeters: 0) }
        }
    }

    /// Plans the exercise from the measured state into the preallocated trajectory (no allocation):
    /// the repetitions not yet done, or the time left. A rehearsal keeps the plan it has (the plan's
    /// storage is the original's).
    private mutating func planExercise(from state: RobotState, seconds: Double) {
        guard !isRehearsal else { return }
        var start = JointList<Double>.zeros(state.joints.count)
        for joint in 0..<state.joints.count { start[joint] = state.joints[joint].positionRadians }
        var remaining = exercise
        if let repetitions = remaining.repetitions { remaining.repetitions = max(1, repetitions - repetitionsCompleted) }
        remaining.plan(from: start, durationSeconds: max(0.05, seconds), into: &trajectory)
        planMade = PlanInputs(startPositionsRadians: start, durationSeconds: max(0.05, seconds), repetitions: remaining.repetitions)
    }

    /// The exercised joint's torque in the mode in force (`actuation` holds the passive, plan-tracking
    /// torque on entry). Across a switch the previous mode's torque blends into the new one's along
    /// the ramp (no step, SR-5's spirit), from wherever the output was.
    private mutating func applyMode(state: RobotState, now: MonotonicInstant, requestedModeIndex requested: Int) {
        let joint = exercise.jointIndex
        let passiveTorque = actuation[joint].torqueNewtonMeters
        if mirrorFollower != nil {
            // Kept up with the reference in every mode, so that a switch into mirror starts from where it is now.
            mirrorFollower!.follow(
                referenceSample, now: now, range: exercise.rangeMinimumRadians...exercise.rangeMaximumRadians, periodSeconds: periodSeconds)
        }
        if requested != modeInForce && availableModes.indices.contains(requested) {
            let previous = modeTorque(modeInForce, passiveTorque: passiveTorque, state: state, learns: false)
            modeBlendOffset = lastModeTorque.map { $0 - previous } ?? 0
            modeBlendFrom = modeInForce
            modeInForce = requested
            modeBlendStart = now
        }
        var output = modeTorque(modeInForce, passiveTorque: passiveTorque, state: state, learns: true)
        if let start = modeBlendStart {
            let elapsed = now.seconds(since: start)
            if elapsed >= ramp.durationSeconds {
                modeBlendStart = nil
            } else {
                let from = modeTorque(modeBlendFrom, passiveTorque: passiveTorque, state: state, learns: false) + modeBlendOffset
                output = from + ramp.scale(atSeconds: elapsed) * (output - from)
            }
        }
        lastModeTorque = output
        actuation[joint] = JointActuation(mode: .torque, torqueNewtonMeters: output)
    }

    /// The exercised joint's torque in mode `index`. `learns`: this mode is the one in force (only
    /// then does assist-as-needed adapt and count: while another mode runs, the error is not the patient's).
    private mutating func modeTorque(_ index: Int, passiveTorque: Double, state: RobotState, learns: Bool) -> Double {
        let joint = exercise.jointIndex
        let measured = state.joints[joint]
        switch availableModes[index] {
        case .passive:
            return passiveTorque
        case .mirror:
            return controller.torque(
                joint: joint, targetPositionRadians: mirrorFollower!.positionRadians,
                targetVelocityRadiansPerSecond: mirrorFollower!.velocityRadiansPerSecond, targetAccelerationRadiansPerSecondSquared: 0,
                measured: measured, scale: gainScale)
        case .activeAssist:
            let gain = learns ? assistance!.update(errorRadians: target.positions[joint] - measured.positionRadians) : assistance!.gain
            if learns { metrics.recordAssistance(gain: gain) }
            return passiveTorque * gain
        case .activeResist(let resistance):
            return gainScale * resistance.torque(
                positionRadians: measured.positionRadians, velocityRadiansPerSecond: measured.velocityRadiansPerSecond)
        case .transparent(let transparency):
            return gainScale * transparency.torque(
                velocityRadiansPerSecond: measured.velocityRadiansPerSecond,
                accelerationRadiansPerSecondSquared: accelerationEstimates[joint], joint: controller.joints[joint])
        }
    }

    /// Filtered accelerations from the measured velocities (20 ms time constant), every cycle.
    private mutating func estimateAccelerations(state: RobotState) {
        let smoothing = periodSeconds / (0.02 + periodSeconds)
        for joint in 0..<state.joints.count {
            let velocity = state.joints[joint].velocityRadiansPerSecond
            let raw = (velocity - previousVelocities[joint]) / periodSeconds
            accelerationEstimates[joint] += smoothing * (raw - accelerationEstimates[joint])
            previousVelocities[joint] = velocity
        }
    }

    /// A repetition is done when the target, having been at the upper end, reaches the lower end.
    private mutating func countRepetitions() {
        let position = target.positions[exercise.jointIndex]
        let tolerance = repetitionToleranceRadians
        if position >= exercise.rangeMaximumRadians - tolerance {
            reachedUpperEnd = true
        } else if reachedUpperEnd && position <= exercise.rangeMinimumRadians + tolerance {
            reachedUpperEnd = false
            repetitionsCompleted += 1
            metrics.repetitionCompleted()
        }
    }

    /// How far the exercise has moved past the end of its current plan [s]; 0 while it holds or has not
    /// started. The plan posts its own stop at its end, so more than a few seconds is a logic error. A
    /// resume replans (a repetition exercise for the repetitions left), so the session's first
    /// duration is no bound for this: a 10-repetition plan replanned after a FAIR hold outran it.
    /// The plan's clock runs: the exercise has started and this cycle moved along its plan (an
    /// operator's pause, SR-1's FAIR hold and every stop, the plan's own end included, stop it; a
    /// resume restarts it with a new plan). What a patient's on-screen cue follows.
    public private(set) var planClockRunning = false
    /// The plan made last (at the start, or when the exercise moved on after a hold), as its inputs:
    /// what the patient's screen shows from then on (`CueChange.resume`).
    public private(set) var planMade: PlanInputs?

    public func secondsPastPlanEnd(at now: MonotonicInstant) -> Double {
        guard activeSince != nil, !holding else { return 0 }
        return max(0, now.seconds(since: trajectoryOrigin) - trajectory.durationSeconds)
    }

    /// SR-5 on resume: the rest of the exercise is planned from the measured state, and the target
    /// blends from the hold position into it over the ramp time, so the torque has no step.
    private mutating func resume(state: RobotState, now: MonotonicInstant, postsStop: inout Bool) {
        let remaining = durationSeconds - ramp.durationSeconds - consumedExerciseSeconds
        let repetitionsDone = exercise.repetitions.map { repetitionsCompleted >= $0 } ?? false
        if (remaining < 0.1 || repetitionsDone) && !stopPosted {
            stopPosted = true
            postsStop = true
        }
        var seconds = remaining
        if let repetitions = exercise.repetitions {
            // A repetition exercise resumed mid-swing (after a pause or a FAIR link) still gets its
            // remaining repetitions: the time left of the original plan may no longer hold them, and a
            // plan squeezed into it would drop them (a PTY run once counted 0 of 2).
            var farthest = 0.0
            for joint in 0..<state.joints.count { farthest = max(farthest, abs(state.joints[joint].positionRadians)) }
            let centering = max(0.5, 1.875 * farthest / exercise.centeringSpeedRadiansPerSecond)
            let left = max(1, repetitions - repetitionsCompleted)
            seconds = max(seconds, exercise.durationSeconds(repetitions: left, centeringSeconds: centering))
        }
        planExercise(from: state, seconds: seconds)
        trajectoryOrigin = now
        resumeBlendStart = now
        for joint in 0..<holdPositions.count { resumeBlendFrom[joint] = holdPositions[joint] }
    }

    private mutating func blendAfterResume(now: MonotonicInstant) {
        guard let start = resumeBlendStart else { return }
        let elapsed = now.seconds(since: start)
        if elapsed >= ramp.durationSeconds {
            resumeBlendStart = nil
            return
        }
        let weight = ramp.scale(atSeconds: elapsed)
        for joint in 0..<target.positions.count {
            let from = resumeBlendFrom[joint]
            target.positions[joint] = from + weight * (target.positions[joint] - from)
            target.velocities[joint] *= weight
            target.accelerations[joint] *= weight
        }
    }
}
