import Control
import DeviceModel
import Primitives
import XCTest

/// The therapy cycle on its own, as the session drives it (`evaluateSafety`, then `command`), on
/// made-up states at virtual instants, cycle by cycle: 1 kHz, two joints, no device, no clock.
/// What it asks of the device (`Outcome.intent`) is what these tests read.
final class TherapyCycleTests: XCTestCase {
    private static let period: Int64 = 1_000_000
    private static let periodSeconds = 1e-3
    private static let rampSeconds = 0.5
    private static let quickStopDeceleration = 20.0
    private static let stiffness = 20.0
    private static let jointCount = 2

    /// Built like `TherapySession.init` builds it: a supervisor on SR-1's derived grades (W = 20 ms),
    /// an impedance controller, the last-stage clamp, the enable ramp, the exercise's modes.
    private static func makeCycle(exercise: RangeOfMotionExercise = TherapyCycleTests.defaultExercise, durationSeconds: Double = 10) -> TherapyCycle {
        let supervisor = Supervisor(
            configuration: .init(link: .derived(periodNanoseconds: period, watchdogNanoseconds: 20_000_000),
                                 stopDeadlineNanoseconds: 200_000_000, standstillVelocityRadiansPerSecond: 0.02))
        let gains = ImpedanceController.JointParameters(
            stiffnessNewtonMetersPerRadian: stiffness, dampingNewtonMeterSecondsPerRadian: 0.4, inertiaKilogramSquareMeters: 0.005,
            viscousFrictionNewtonMeterSecondsPerRadian: 0.01, coulombFrictionNewtonMeters: 0.05)
        let limits = CommandClamp.JointLimits(
            torqueLimitNewtonMeters: 3, velocityLimitRadiansPerSecond: 3, softMinimumRadians: -1.1, softMaximumRadians: 1.1)
        let clamp = CommandClamp(
            limits: JointList(count: jointCount, repeating: limits), torqueSlewLimitNewtonMetersPerSecond: 50, periodSeconds: periodSeconds,
            quickStopDecelerationRadiansPerSecondSquared: quickStopDeceleration)
        return TherapyCycle(
            supervisor: supervisor, controller: ImpedanceController(joints: JointList(count: jointCount, repeating: gains)), clamp: clamp,
            ramp: RampIn(durationSeconds: rampSeconds), minimumDemandSpeeds: JointList(count: jointCount, repeating: 0.02), rateHertz: 1000,
            exercise: exercise, durationSeconds: durationSeconds, quickStopDecelerationRadiansPerSecondSquared: quickStopDeceleration,
            availableModes: exercise.availableModes, mirror: nil, repetitionToleranceRadians: 1e-4)
    }

    private static let defaultExercise = RangeOfMotionExercise(jointIndex: 0, amplitudeRadians: 0.4, swingSeconds: 1, holdSeconds: 0.1)

    private var cycle = TherapyCycleTests.makeCycle()
    private var index: Int64 = 0
    /// The newest state the device sent: enabled, torque on, at rest at neutral.
    private var robot: RobotState = {
        var state = RobotState(jointCount: TherapyCycleTests.jointCount)
        state.condition = [.enabled, .torqueOn]
        return state
    }()

    private var now: MonotonicInstant { MonotonicInstant(nanoseconds: 1_000_000_000 + index * Self.period) }

    /// A new state arrives this cycle, sampled 0.1 ms before it (the device clock runs with the host's).
    private func receiveFreshState() {
        robot.isValid = true
        robot.receivedAt = now
        robot.sampledAt = now.advanced(byNanoseconds: -100_000)
        robot.deviceTimeNanoseconds = now.nanoseconds
    }

    private func input(requests: OperatorRequests = [], fresh: Bool) -> TherapyCycle.Input {
        TherapyCycle.Input(
            cycle: index, now: now, freshState: fresh, stateAgeNanoseconds: robot.ageNanoseconds(at: now), lateCycles: 0,
            commandEchoLagNanoseconds: 0, protocolViolations: 0, linkLost: false, requests: requests, releaseHeld: false,
            requestedModeIndex: 0, referenceSample: nil)
    }

    /// One cycle as the session runs it: safety, then the command and the intent.
    @discardableResult
    private func step(requests: OperatorRequests = [], fresh: Bool = true) -> (action: SupervisorAction, intent: DeviceIntent) {
        defer { index += 1 }
        if fresh { receiveFreshState() }
        let facts = input(requests: requests, fresh: fresh)
        let action = cycle.evaluateSafety(facts, state: robot)
        return (action, cycle.command(for: action, input: facts, state: robot).intent)
    }

    /// An ideal plant: the joints are where this cycle aimed them (torque or hold commands), track the
    /// velocity reference of a quick stop, and come to rest without torque.
    private func follow(_ intent: DeviceIntent) {
        switch intent {
        case .command:
            for joint in 0..<robot.joints.count {
                robot.joints[joint].positionRadians = cycle.target.positions[joint]
                robot.joints[joint].velocityRadiansPerSecond = cycle.target.velocities[joint]
            }
        case .quickStop(let joints):
            for joint in 0..<robot.joints.count {
                robot.joints[joint].velocityRadiansPerSecond = joints[joint].velocityRadiansPerSecond
                robot.joints[joint].positionRadians += joints[joint].velocityRadiansPerSecond * Self.periodSeconds
            }
        case .torqueOff, .observe, .faultReset:
            for joint in 0..<robot.joints.count { robot.joints[joint].velocityRadiansPerSecond = 0 }
        }
    }

    /// Self-test passed, device enabled, and the operator's start: the first moving cycle.
    private func activate(file: StaticString = #filePath, line: UInt = #line) {
        cycle.supervisor.beginSelfTest(cycle: index, time: now)
        cycle.supervisor.selfTestPassed(cycle: index, time: now)
        cycle.supervisor.deviceEnabled(cycle: index, time: now)
        let first = step(requests: .start)
        XCTAssertEqual(first.action, .move, file: file, line: line)
        XCTAssertEqual(cycle.supervisor.state, .active, file: file, line: line)
        follow(first.intent)
    }

    private func move(cycles: Int, file: StaticString = #filePath, line: UInt = #line) {
        for _ in 0..<cycles {
            let result = step()
            XCTAssertEqual(result.action, .move, file: file, line: line)
            follow(result.intent)
        }
    }

    // MARK: (a) What a device that can or cannot take commands is asked

    func testAnEnabledMovingDeviceIsCommandedWithTorqueOnEveryJoint() {
        activate()
        move(cycles: 700)  // past the enable ramp, in the plan's first swing
        let moving = step()
        XCTAssertEqual(moving.action, .move)
        guard case .command(let joints) = moving.intent else { return XCTFail("expected a command, got \(moving.intent)") }
        XCTAssertEqual(joints.count, Self.jointCount)
        for joint in 0..<joints.count { XCTAssertEqual(joints[joint].mode, .torque, "joint \(joint)") }
        XCTAssertTrue((0..<joints.count).contains { joints[$0].torqueNewtonMeters != 0 }, "the swing needs a torque: \(joints)")
    }

    func testADeviceThatIsNotEnabledIsOnlyObservedAndTheSameStopOnAnEnabledOneIsTorqueOff() {
        activate()
        move(cycles: 50)
        robot.condition = []  // it left `enabled` by itself
        let disabled = step()
        XCTAssertEqual(disabled.action, .torqueOff, "Cat 0 (device_disabled)")
        XCTAssertEqual(cycle.supervisor.latchedCause, .deviceDisabled)
        XCTAssertEqual(disabled.intent, .observe, "nothing is commanded to a disabled device; its state keeps coming")
        robot.condition = [.enabled]
        let enabledAgain = step()
        XCTAssertEqual(enabledAgain.action, .torqueOff, "still latched")
        XCTAssertEqual(enabledAgain.intent, .torqueOff, "an enabled device takes the Cat 0 as a command")
    }

    func testADeviceWhoseWatchdogExpiredIsOnlyObserved() {
        activate()
        move(cycles: 50)
        robot.condition = [.enabled, .watchdogExpired]
        let expired = step()
        XCTAssertEqual(expired.action, .torqueOff)
        XCTAssertEqual(cycle.supervisor.latchedCause, .deviceWatchdogExpired)
        XCTAssertEqual(expired.intent, .observe, "a latched watchdog takes no command (SR-4: only states)")
        for _ in 0..<5 { XCTAssertEqual(step().intent, .observe) }
    }

    // MARK: (b) The reset sequence

    func testAnOperatorResetOfALatchedDeviceFaultAsksTheDeviceToClearItExactlyOnce() {
        activate()
        move(cycles: 50)
        robot.condition = [.enabled, .torqueOn, .fault]
        robot.fault = DeviceFault(kind: .overload, deviceCode: 0x2)
        let tripped = step()
        XCTAssertEqual(tripped.action, .torqueOff)
        XCTAssertEqual(cycle.supervisor.state, .fault)
        XCTAssertEqual(tripped.intent, .torqueOff)
        follow(tripped.intent)
        // The device disabled itself with its fault latched; nobody has asked for a reset yet.
        robot.condition = [.fault]
        var intents: [DeviceIntent] = []
        for _ in 0..<20 { intents.append(step().intent) }
        XCTAssertEqual(intents, Array(repeating: .observe, count: 20), "no reset without the operator's request")
        XCTAssertNil(cycle.supervisor.lastResetOutcome)

        let requested = step(requests: .reset)
        XCTAssertEqual(requested.intent, .faultReset, "the operator's reset asks the device to clear its fault")
        XCTAssertEqual(cycle.supervisor.lastResetOutcome, .pending)
        var after: [DeviceIntent] = []
        for _ in 0..<5 { after.append(step().intent) }
        after.append(step(requests: .reset).intent)  // asked again while the device is still clearing it
        for _ in 0..<5 { after.append(step().intent) }
        // The device cleared its fault: the reset completes.
        robot.condition = []
        robot.fault = .none
        for _ in 0..<5 { after.append(step().intent) }
        XCTAssertFalse(after.contains(.faultReset), "sent once: \(after)")
        XCTAssertEqual(cycle.supervisor.state, .idle)
        XCTAssertEqual(cycle.supervisor.lastResetOutcome, .reset)
        XCTAssertEqual(cycle.supervisor.transitions.last?.cause, .resetRequested)
    }

    // MARK: (c) Stops

    func testAStopRequestDeceleratesWithAHostVelocityRampAtTheQuickStopRateThenRemovesTorque() {
        activate()
        move(cycles: 700)
        let initial = [0.8, -0.5]
        for joint in 0..<Self.jointCount { robot.joints[joint].velocityRadiansPerSecond = initial[joint] }
        let stopAt = now
        var result = step(requests: .stop)
        XCTAssertEqual(result.action, .decelerate(since: stopAt))
        XCTAssertEqual(cycle.supervisor.state, .stopping)
        var cyclesBraking = 0
        while case .quickStop(let joints) = result.intent {
            let elapsed = Double(cyclesBraking) * Self.periodSeconds
            for joint in 0..<Self.jointCount {
                XCTAssertEqual(joints[joint].mode, .velocity, "cycle \(cyclesBraking), joint \(joint)")
                let expected = max(0, abs(initial[joint]) - Self.quickStopDeceleration * elapsed) * (initial[joint] < 0 ? -1 : 1)
                XCTAssertEqual(joints[joint].velocityRadiansPerSecond, expected, accuracy: 1e-9, "cycle \(cyclesBraking), joint \(joint)")
            }
            follow(result.intent)
            cyclesBraking += 1
            guard cyclesBraking < 1_000 else { return XCTFail("never reached standstill") }
            result = step()
        }
        XCTAssertEqual(result.action, .torqueOff, "standstill: the Cat 1 ends in torque off")
        XCTAssertEqual(result.intent, .torqueOff)
        XCTAssertEqual(cycle.supervisor.state, .idle)
        XCTAssertEqual(cycle.supervisor.transitions.last?.cause, .standstillReached)
        // The fastest joint sets how long the ramp takes.
        XCTAssertEqual(Double(cyclesBraking) * Self.periodSeconds, 0.8 / Self.quickStopDeceleration, accuracy: 2 * Self.periodSeconds)
    }

    func testAnOperatorEmergencyStopIsTorqueOffAtOnce() {
        activate()
        move(cycles: 100)
        let stopped = step(requests: .emergencyStop)
        XCTAssertEqual(stopped.action, .torqueOff)
        XCTAssertEqual(stopped.intent, .torqueOff)
        XCTAssertEqual(cycle.supervisor.state, .estop)
    }

    func testADeviceFaultWhileMovingIsTorqueOffAtOnce() {
        activate()
        move(cycles: 100)
        robot.condition = [.enabled, .torqueOn, .fault]
        robot.fault = DeviceFault(kind: .overTemperature, deviceCode: 0x7)
        let stopped = step()
        XCTAssertEqual(stopped.action, .torqueOff)
        XCTAssertEqual(stopped.intent, .torqueOff, "still enabled: told to remove torque, not merely observed")
        XCTAssertEqual(cycle.supervisor.latchedTrip?.category, .cat0)
        XCTAssertEqual(cycle.supervisor.latchedTrip?.deviceCode, 0x7)
    }

    // MARK: (d) SR-5: no torque from an old state

    /// Once the newest state is older than SR-1's GOOD age (but the link is not LOST yet), a moving
    /// cycle sends a local hold: the device's own loop, no torque of the host's. A twin of the cycle
    /// that sees the same old state with other measured speeds and torques asks for exactly the same.
    func testAMovingCycleOnAStateOlderThanTheGoodAgeSendsALocalHoldThatDependsOnNothingOld() {
        activate()
        move(cycles: 700)
        let link = cycle.supervisor.configuration.link
        var twin: TherapyCycle?
        var staleCycles = 0
        // From now on no state arrives: the newest one ages by a period per cycle.
        while robot.ageNanoseconds(at: now) < link.lostCat1AgeNanoseconds {
            let age = robot.ageNanoseconds(at: now)
            let stale = age > link.goodAgeNanoseconds
            if stale && twin == nil { twin = cycle }
            let facts = input(fresh: false)
            let action = cycle.evaluateSafety(facts, state: robot)
            let intent = cycle.command(for: action, input: facts, state: robot).intent
            if var other = twin {
                var different = robot
                for joint in 0..<different.joints.count {
                    different.joints[joint].velocityRadiansPerSecond += 0.7
                    different.joints[joint].motorTorqueNewtonMeters += 1.2
                    different.joints[joint].interactionTorqueNewtonMeters -= 0.6
                }
                let otherAction = other.evaluateSafety(facts, state: different)
                let otherIntent = other.command(for: otherAction, input: facts, state: different).intent
                twin = other
                XCTAssertEqual(otherIntent, intent, "age \(age) ns: nothing in the intent comes from the old state's measurements")
            }
            index += 1
            guard stale else { continue }
            staleCycles += 1
            XCTAssertEqual(action, .move, "age \(age) ns: the link is not LOST, the exercise goes on")
            XCTAssertEqual(cycle.supervisor.state, .active)
            guard case .command(let joints) = intent else {
                XCTFail("age \(age) ns: expected a command, got \(intent)")
                continue
            }
            for joint in 0..<joints.count {
                let command = joints[joint]
                XCTAssertEqual(command.mode, .hold, "age \(age) ns, joint \(joint): a local hold")
                XCTAssertEqual(command.torqueNewtonMeters, 0, "age \(age) ns, joint \(joint): no host torque")
                XCTAssertGreaterThan(command.stiffnessNewtonMetersPerRadian, 0)
                XCTAssertLessThanOrEqual(command.stiffnessNewtonMetersPerRadian, Self.stiffness)
                XCTAssertTrue((-1.1...1.1).contains(command.positionRadians), "held inside the soft limits")
            }
        }
        XCTAssertGreaterThan(staleCycles, 0, "the state was older than GOOD before the link was LOST")
        // One more cycle: LOST, Cat 1.
        let lost = step(fresh: false)
        guard case .decelerate = lost.action else { return XCTFail("LOST is Cat 1, got \(lost.action)") }
        XCTAssertEqual(cycle.supervisor.latchedCause, .deviceSilent)
    }

    // MARK: (e) The plan's end

    /// When the plan is used up the cycle stops the exercise by itself (Cat 1, stop_requested), the
    /// cycle after: no operator request, no mailbox.
    func testTheCycleAfterThePlanEndedStopsWithoutAnyRequest() throws {
        let exercise = RangeOfMotionExercise(jointIndex: 0, rangeRadians: -0.2...0.2, swingSeconds: 0.4, holdSeconds: 0.05, repetitions: 1)
        let duration = 1.5
        cycle = Self.makeCycle(exercise: exercise, durationSeconds: duration)
        activate()
        let activeSince = try XCTUnwrap(cycle.activeSince)
        // The same plan the cycle made at its first moving cycle, from the joints at neutral, after the ramp.
        let plan = exercise.trajectory(from: .zeros(Self.jointCount), durationSeconds: duration - Self.rampSeconds)
        let planEnd = activeSince.advanced(byNanoseconds: Int64((Self.rampSeconds + plan.durationSeconds) * 1e9))
        var cycles = 0
        while cycle.supervisor.state == .active {
            let result = step()
            follow(result.intent)
            cycles += 1
            guard cycles < 5_000 else { return XCTFail("the plan never ended") }
        }
        let stop = try XCTUnwrap(cycle.supervisor.transitions.last { $0.from == .active }, "\(cycle.supervisor.transitions)")
        XCTAssertEqual(stop.to, .stopping)
        XCTAssertEqual(stop.cause, .stopRequested)
        XCTAssertEqual(stop.category, .cat1)
        XCTAssertGreaterThan(stop.time, planEnd, "not before the plan is used up")
        XCTAssertLessThanOrEqual(stop.time.nanoseconds(since: planEnd), 2 * Self.period + 1_000, "in the cycle after")
        XCTAssertEqual(cycle.repetitionsCompleted, 1, "the plan ran to its end")
        // At rest at neutral: the stop ends at once in torque off and idle.
        var settle = 0
        while cycle.supervisor.state != .idle && settle < 1_000 {
            follow(step().intent)
            settle += 1
        }
        XCTAssertEqual(cycle.supervisor.state, .idle)
        XCTAssertEqual(cycle.supervisor.transitions.last?.cause, .standstillReached)
        XCTAssertNil(cycle.supervisor.latchedTrip, "a normal end, not a fault")
    }

    // MARK: (f) The rehearsal

    /// A rehearsal copy decides as the real cycle will, and leaves the original's log and metrics alone.
    func testARehearsalCopyDecidesTheSameAndChangesNeitherTheOriginalsLogNorItsMetrics() {
        activate()
        move(cycles: 700)  // past the enable ramp: a moving cycle records tracking metrics

        // A moving cycle: it records metrics.
        receiveFreshState()
        let moving = input(fresh: true)
        let samples = cycle.metrics.samples
        let workSamples = cycle.metrics.workSamples
        let squaredError = cycle.metrics.squaredError
        let peakTorque = cycle.metrics.maxAbsTorque
        var rehearsal = cycle.rehearsalCopy()
        let rehearsedAction = rehearsal.evaluateSafety(moving, state: robot)
        let rehearsed = rehearsal.command(for: rehearsedAction, input: moving, state: robot)
        XCTAssertEqual(rehearsal.metrics.samples, samples + 1, "the copy ran the cycle")
        XCTAssertEqual(cycle.metrics.samples, samples)
        XCTAssertEqual(cycle.metrics.workSamples, workSamples)
        XCTAssertEqual(cycle.metrics.squaredError, squaredError)
        XCTAssertEqual(cycle.metrics.maxAbsTorque, peakTorque)
        let action = cycle.evaluateSafety(moving, state: robot)
        let real = cycle.command(for: action, input: moving, state: robot)
        XCTAssertEqual(action, rehearsedAction)
        XCTAssertEqual(real, rehearsed, "the rehearsal computed what the cycle then did")
        XCTAssertEqual(cycle.metrics.samples, samples + 1)
        index += 1
        follow(real.intent)

        // A cycle with a stop request: it changes the supervisor's state and logs a transition.
        receiveFreshState()
        let stopping = input(requests: .stop, fresh: true)
        let logged = cycle.supervisor.transitions.count
        var stopRehearsal = cycle.rehearsalCopy()
        let rehearsedStop = stopRehearsal.evaluateSafety(stopping, state: robot)
        let rehearsedStopOutcome = stopRehearsal.command(for: rehearsedStop, input: stopping, state: robot)
        XCTAssertEqual(stopRehearsal.supervisor.state, .stopping, "the copy decided")
        XCTAssertEqual(stopRehearsal.supervisor.transitions.count, logged, "and logged nothing")
        XCTAssertEqual(cycle.supervisor.state, .active)
        XCTAssertEqual(cycle.supervisor.transitions.count, logged)
        let stop = cycle.evaluateSafety(stopping, state: robot)
        let stopOutcome = cycle.command(for: stop, input: stopping, state: robot)
        XCTAssertEqual(stop, rehearsedStop)
        XCTAssertEqual(stopOutcome, rehearsedStopOutcome)
        XCTAssertEqual(cycle.supervisor.transitions.count, logged + 1, "the real cycle logs its transition")
        XCTAssertEqual(cycle.supervisor.transitions.last?.cause, .stopRequested)
    }
}
