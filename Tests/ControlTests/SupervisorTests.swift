import Control
import DeviceModel
import Primitives
import XCTest

/// The supervisor's transitions, in cycles of 1 ms, without a clock.
final class SupervisorTests: XCTestCase {
    private let period: Int64 = 1_000_000
    private var supervisor = Supervisor(
        configuration: .init(link: .derived(periodNanoseconds: 1_000_000, watchdogNanoseconds: 20_000_000),
                             stopDeadlineNanoseconds: 200_000_000, standstillVelocityRadiansPerSecond: 0.02))
    private var cycle: Int64 = 0
    /// When the newest state was sampled: a fresh one 0.1 ms before its cycle.
    private var sampledAt = MonotonicInstant.zero
    private let enabled: DeviceCondition = [.enabled, .torqueOn]

    private var now: MonotonicInstant { MonotonicInstant(nanoseconds: 1_000_000_000 + cycle * period) }

    @discardableResult
    private func step(
        fresh: Bool = true, linkLost: Bool = false, device: DeviceCondition? = nil, code: UInt32 = 0, speed: Double = 0.3,
        requests: OperatorRequests = [], echoLagMilliseconds: Double = 0, protocolViolations: Int = 0, deviceClockRate: Double = 1
    ) -> SupervisorAction {
        defer { cycle += 1 }
        var robot = RobotState(jointCount: 1)
        robot.condition = device ?? enabled
        robot.fault = DeviceFault(kind: code == 0 ? .none : .other, deviceCode: code)
        robot.joints[0].velocityRadiansPerSecond = speed
        robot.receivedAt = now
        robot.deviceTimeNanoseconds = Int64(Double(cycle * period) * deviceClockRate)
        if fresh || sampledAt == .zero { sampledAt = now.advanced(byNanoseconds: -100_000) }
        return supervisor.evaluate(
            .init(cycle: cycle, time: now, freshState: fresh, stateAgeNanoseconds: now.nanoseconds(since: sampledAt),
                  commandEchoLagNanoseconds: Int64(echoLagMilliseconds * 1e6), protocolViolations: protocolViolations, linkLost: linkLost,
                  requests: requests),
            state: robot)
    }

    private func makeActive() {
        supervisor.beginSelfTest(cycle: cycle, time: now)
        supervisor.selfTestPassed(cycle: cycle, time: now)
        supervisor.deviceEnabled(cycle: cycle, time: now)
        XCTAssertEqual(step(requests: .start), .move)
        XCTAssertEqual(supervisor.state, .active)
    }

    func testStartFromReadyMovesAndNothingMovesBeforeEnable() {
        XCTAssertEqual(step(requests: .start), .torqueOff)
        XCTAssertEqual(supervisor.state, .disabled)
        makeActive()
    }

    func testSR1AStateAged0Point6WatchdogCommandsCat1InTheSameCycleAndTheLinkIsFAIRBefore() {
        makeActive()
        // W = 20 ms at 1 kHz: GOOD up to 3 ms, FAIR beyond, LOST (Cat 1) from 12 ms.
        var silent = 0
        while case .move = step(fresh: false) {
            silent += 1
            if silent == 3 { XCTAssertEqual(supervisor.link.grade, .fair, "older than 3 ms: FAIR, still moving") }
        }
        XCTAssertEqual(silent, 11, "the 12th silent cycle brings the state to 12.1 ms")
        XCTAssertEqual(supervisor.state, .fault)
        XCTAssertEqual(supervisor.latchedCause, .deviceSilent)
        XCTAssertEqual(supervisor.latchedTrip?.category, .cat1)
        XCTAssertEqual(supervisor.transitions.last?.value ?? 0, 12.1, accuracy: 1e-9, "the value that caused it: the state's age in ms")
        XCTAssertTrue(supervisor.transitions.contains { $0.cause == .linkDegraded }, "FAIR was logged on the way")
    }

    /// A copy that keeps no log (the loop's rehearsal) decides exactly as the supervisor does, and
    /// leaves the log, which it shares with the original, alone.
    func testASupervisorThatKeepsNoLogActsTheSameAndLogsNothing() {
        makeActive()
        var original = supervisor
        var silent = supervisor
        silent.keepsLog = false
        let logged = supervisor.transitions
        var robot = RobotState(jointCount: 1)
        robot.condition = enabled
        for index in 0..<25 {
            let time = now.advanced(byNanoseconds: Int64(index) * period)
            let input = Supervisor.Input(cycle: cycle + Int64(index), time: time, freshState: false,
                                         stateAgeNanoseconds: time.nanoseconds(since: sampledAt), linkLost: false, requests: [])
            XCTAssertEqual(silent.evaluate(input, state: robot), original.evaluate(input, state: robot), "cycle \(index)")
            XCTAssertEqual(silent.state, original.state)
            XCTAssertEqual(silent.latchedTrip, original.latchedTrip)
        }
        XCTAssertEqual(original.state, .fault, "the silence went through Cat 1 to Cat 0")
        XCTAssertEqual(original.transitions.map(\.cause).suffix(3), [.linkDegraded, .deviceSilent, .deviceSilentTooLong])
        XCTAssertEqual(original.transitions.count, logged.count + 3)
        XCTAssertEqual(silent.transitions, logged, "nothing logged by the copy")
        XCTAssertEqual(supervisor.transitions, logged, "the original's log untouched by either copy")
    }

    func testSR1SilenceFor20MillisecondsRemovesTorque() {
        makeActive()
        var actions: [SupervisorAction] = []
        for _ in 0..<20 { actions.append(step(fresh: false)) }
        XCTAssertEqual(actions.last, .torqueOff, "20 ms after the last fresh state")
        XCTAssertEqual(supervisor.transitions.last?.cause, .deviceSilentTooLong)
        XCTAssertEqual(supervisor.transitions.last?.category, .cat0)
    }

    func testSR1LinkLossIsCat0InTheSameCycle() {
        makeActive()
        XCTAssertEqual(step(fresh: false, linkLost: true), .torqueOff)
        XCTAssertEqual(supervisor.latchedCause, .linkLost)
    }

    func testDeviceFaultLatchesWithTheDeviceCode() {
        makeActive()
        XCTAssertEqual(step(device: [.enabled, .fault], code: 0x0001), .torqueOff)
        XCTAssertEqual(supervisor.state, .fault)
        XCTAssertEqual(supervisor.transitions.last?.deviceCode, 0x0001)
    }

    func testDeviceEmergencyStopEntersEstop() {
        makeActive()
        XCTAssertEqual(step(device: [.emergencyStop]), .torqueOff)
        XCTAssertEqual(supervisor.state, .estop)
    }

    func testEmergencyStopDominatesAnEarlierFault() {
        makeActive()
        step(linkLost: true)
        XCTAssertEqual(supervisor.state, .fault)
        step(requests: .emergencyStop)
        XCTAssertEqual(supervisor.state, .estop)
        XCTAssertEqual(supervisor.latchedCause, .operatorEmergencyStop)
    }

    func testStopWinsOverStartInTheSameCycle() {
        supervisor.beginSelfTest(cycle: cycle, time: now)
        supervisor.selfTestPassed(cycle: cycle, time: now)
        supervisor.deviceEnabled(cycle: cycle, time: now)
        step(requests: [.start, .stop])
        XCTAssertEqual(supervisor.state, .stopping)
    }

    func testTripWinsOverStartInTheSameCycle() {
        supervisor.beginSelfTest(cycle: cycle, time: now)
        supervisor.selfTestPassed(cycle: cycle, time: now)
        supervisor.deviceEnabled(cycle: cycle, time: now)
        XCTAssertEqual(step(device: [.enabled, .fault], requests: .start), .torqueOff)
        XCTAssertEqual(supervisor.state, .fault)
    }

    func testNormalStopDeceleratesUntilStandstillThenIdles() {
        makeActive()
        let stopCycle = now
        XCTAssertEqual(step(requests: .stop), .decelerate(since: stopCycle))
        XCTAssertEqual(step(speed: 0.1), .decelerate(since: stopCycle))
        XCTAssertEqual(step(speed: 0.01), .torqueOff)
        XCTAssertEqual(supervisor.state, .idle)
        XCTAssertEqual(supervisor.transitions.last?.cause, .standstillReached)
    }

    func testSR13Cat1StopNotAtStandstillWithin200MillisecondsBecomesCat0() {
        makeActive()
        step(requests: .stop)
        var last: SupervisorAction = .move
        var cycles = 0
        while last != .torqueOff && cycles < 1_000 {
            last = step(speed: 0.5)
            cycles += 1
        }
        XCTAssertEqual(cycles, 201, "Cat 0 on the first cycle past 200 ms")
        XCTAssertEqual(supervisor.transitions.last?.cause, .stopDeadlineMissed)
        XCTAssertEqual(supervisor.state, .fault)
    }

    func testNonFiniteCommandFaults() {
        makeActive()
        supervisor.reportNonFiniteCommand()
        if case .decelerate = step() {} else { XCTFail("expected a Cat 1 stop") }
        XCTAssertEqual(supervisor.latchedCause, .nonFiniteCommand)
    }

    func testSupervisorLatchesFaultUntilResetAndResetNeverEnablesMotion() {
        makeActive()
        step(device: [.enabled, .fault], code: 2)
        for _ in 0..<50 { step(device: [.enabled, .fault], code: 2) }
        XCTAssertEqual(supervisor.state, .fault, "still latched without a reset")
        // At rest (D7: no reset while a joint still moves).
        step(device: [.fault], code: 2, speed: 0, requests: .reset)
        XCTAssertEqual(supervisor.lastResetOutcome, .pending, "the device is asked to clear its fault")
        XCTAssertTrue(supervisor.takeDeviceFaultResetRequest())
        XCTAssertFalse(supervisor.takeDeviceFaultResetRequest(), "asked once per operator reset")
        for _ in 0..<100 { step(device: [.fault], code: 2, speed: 0) }
        XCTAssertEqual(supervisor.lastResetOutcome, .refused(.deviceFault(code: 2)), "refused while the cause persists")
        XCTAssertEqual(supervisor.state, .fault)
        XCTAssertEqual(step(device: [], speed: 0, requests: [.reset, .start]), .torqueOff)
        XCTAssertEqual(supervisor.state, .idle, "reset leads to idle, never to motion")
        XCTAssertEqual(supervisor.lastResetOutcome, .reset)
    }

    func testPauseHoldsAndResumeMovesAgain() {
        makeActive()
        XCTAssertEqual(step(requests: .pause), .hold)
        XCTAssertEqual(supervisor.state, .paused)
        XCTAssertEqual(step(requests: .resume), .move)
    }

    // MARK: SR-22 … SR-25, D5

    func testSR22ThePatientsStopButtonIsACat1StopInTheCycleItIsSeenAndItsPauseACat2() {
        makeActive()
        XCTAssertEqual(step(device: enabled.union(.patientPause)), .hold)
        XCTAssertEqual(supervisor.state, .paused)
        XCTAssertEqual(supervisor.transitions.last?.cause, .patientPause)
        XCTAssertEqual(step(device: enabled.union(.patientPause), requests: .resume), .hold, "no resume while the patient holds pause")
        XCTAssertEqual(step(requests: .resume), .move, "the operator resumes once it is let go")
        let stop = step(device: enabled.union(.patientStop))
        XCTAssertEqual(stop, .decelerate(since: MonotonicInstant(nanoseconds: now.nanoseconds - period)))
        XCTAssertEqual(supervisor.state, .stopping)
        XCTAssertEqual(supervisor.transitions.last?.cause, .patientStop)
        XCTAssertEqual(supervisor.transitions.last?.category, .cat1)
    }

    func testSR23ATorqueOffTheDeviceDoesNotConfirmWithinTheWatchdogPeriodLatchesStopNotConfirmed() {
        makeActive()
        XCTAssertEqual(step(requests: .emergencyStop), .torqueOff)
        XCTAssertNotNil(supervisor.torqueOffCommandedAt)
        var cycles = 0
        while supervisor.transitions.last?.cause != .stopNotConfirmed && cycles < 100 {
            step(device: [.enabled, .torqueOn], speed: 0)  // the drive keeps its torque on
            cycles += 1
        }
        XCTAssertEqual(supervisor.transitions.last?.cause, .stopNotConfirmed)
        XCTAssertEqual(supervisor.transitions.last?.category, .cat0)
        XCTAssertEqual(cycles, 20, "W = 20 ms of 1 ms cycles")
        // A device that confirms: nothing pending after its first state without torque.
        var confirming = Supervisor(configuration: supervisor.configuration)
        swap(&confirming, &supervisor)
        makeActive()
        step(requests: .emergencyStop)
        step(device: [.enabled], speed: 0)
        XCTAssertNil(supervisor.torqueOffCommandedAt)
        XCTAssertFalse(supervisor.transitions.contains { $0.cause == .stopNotConfirmed })
    }

    func testSR23ADeviceClockMoreThanTwoPercentOffTheHostsOverASecondIsCat1() {
        makeActive()
        for _ in 0..<1_500 { XCTAssertEqual(step(deviceClockRate: 1.01), .move, "1 % is within the allowance") }
        var cycles = 0
        while case .move = step(deviceClockRate: 1.03) {
            cycles += 1
            if cycles > 2_500 { break }
        }
        XCTAssertEqual(supervisor.latchedCause, .clockMismatch)
        XCTAssertGreaterThan(supervisor.latchedTrip?.value ?? 0, 2)
        XCTAssertLessThanOrEqual(cycles, 2_001, "caught at the end of the second that showed it")
    }

    func testSR25AnAnsweringDeviceThatStopsEchoingCommandsIsCat1ButAMuteOneIsSR1s() {
        makeActive()
        XCTAssertEqual(step(echoLagMilliseconds: 8), .move, "0.4 W = 8 ms: not yet")
        guard case .decelerate = step(echoLagMilliseconds: 8.5) else { return XCTFail("Cat 1") }
        XCTAssertEqual(supervisor.latchedCause, .commandsIgnored)
        // Mute: no current state, so the unechoed commands are silence (SR-1), not ignored commands.
        var mute = Supervisor(configuration: supervisor.configuration)
        swap(&mute, &supervisor)
        makeActive()
        for lag in 1...11 { step(fresh: false, echoLagMilliseconds: Double(lag)) }
        XCTAssertFalse(supervisor.transitions.contains { $0.cause == .commandsIgnored })
    }

    func testD5AStateThatBreaksTheProtocolIsCat1NotSilence() {
        makeActive()
        XCTAssertEqual(step(protocolViolations: 0), .move)
        guard case .decelerate = step(fresh: false, protocolViolations: 1) else { return XCTFail("Cat 1") }
        XCTAssertEqual(supervisor.latchedCause, .deviceProtocolViolation)
    }

    func testEveryTransitionIsLoggedWithCycleCauseAndValue() {
        makeActive()
        for _ in 0..<12 { step(fresh: false) }
        let log = supervisor.transitions
        XCTAssertEqual(log.map(\.to), [.selfTest, .idle, .ready, .active, .active, .fault])
        XCTAssertEqual(log.map(\.cause).suffix(2), [.linkDegraded, .deviceSilent])
        XCTAssertEqual(log[4].cycle, 3, "FAIR once the state is older than 3 ms")
        XCTAssertEqual(log.last?.cycle, 12)
        XCTAssertEqual(log.last?.from, .active)
    }
}
