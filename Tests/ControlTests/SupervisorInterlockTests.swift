import Control
import DeviceModel
import Primitives
import XCTest

/// The interlocks of SR-7 … SR-18 inside the pure supervisor, fed measured states cycle by cycle
/// (1 kHz, no clock, no device): exact thresholds, dwell times and priorities.
final class SupervisorInterlockTests: XCTestCase {
    private let period: Int64 = 1_000_000
    private let degree = Units.radiansPerDegree
    private var cycle: Int64 = 0
    private var supervisor = Supervisor(configuration: SupervisorInterlockTests.configuration())
    private var robot = RobotState(jointCount: 1)

    /// One joint like the wrist's flexion: hard ±70°, soft ±65°, 3 rad/s rated, 327 680 counts/rev,
    /// a 2.4 N·m interaction trip.
    static func configuration(
        tracker: Double? = nil, workspace: (minimum: SIMD3<Double>, maximum: SIMD3<Double>)? = nil
    ) -> Supervisor.Configuration {
        let degree = Units.radiansPerDegree
        let joint = JointSafetyLimits(
            hardMinimumRadians: -70 * degree, hardMaximumRadians: 70 * degree, softMinimumRadians: -65 * degree,
            softMaximumRadians: 65 * degree, ratedVelocityRadiansPerSecond: 3, encoderCountsPerRevolution: 327_680,
            interactionTripNewtonMeters: 2.4)
        return Supervisor.Configuration(
            link: .derived(periodNanoseconds: 1_000_000, watchdogNanoseconds: 20_000_000), stopDeadlineNanoseconds: 200_000_000,
            standstillVelocityRadiansPerSecond: 0.02, joints: JointList(count: 1, repeating: joint),
            trackerMaximumRmsErrorMillimeters: tracker, workspace: workspace)
    }

    private var now: MonotonicInstant { MonotonicInstant(nanoseconds: 1_000_000_000 + cycle * period) }

    override func setUp() {
        robot.condition = [.enabled, .torqueOn]
        // Moving, so that a Cat 1 stop shows as a deceleration (at standstill it ends in torque off at once).
        robot.joints[0].velocityRadiansPerSecond = 0.3
    }

    @discardableResult
    private func step(
        requests: OperatorRequests = [], demandsMotion: Bool = false, tracker: TrackerStatus? = nil, trackerGatesMotion: Bool = true,
        hand: SIMD3<Double>? = nil, releaseHeld: Bool = false
    ) -> SupervisorAction {
        defer { cycle += 1 }
        robot.deviceTimeNanoseconds = cycle * period
        return supervisor.evaluate(
            .init(cycle: cycle, time: now, freshState: true, stateAgeNanoseconds: 100_000, requests: requests,
                  demandsMotion: JointList(count: 1, repeating: demandsMotion), tracker: tracker, trackerGatesMotion: trackerGatesMotion,
                  trackedPositionMeters: hand, releaseHeld: releaseHeld),
            state: robot)
    }

    private func makeActive(_ configuration: Supervisor.Configuration? = nil, tracker: TrackerStatus? = nil) {
        if let configuration { supervisor = Supervisor(configuration: configuration) }
        supervisor.beginSelfTest(cycle: cycle, time: now)
        supervisor.selfTestPassed(cycle: cycle, time: now)
        supervisor.deviceEnabled(cycle: cycle, time: now)
        XCTAssertEqual(step(requests: .start, tracker: tracker), .move)
    }

    // MARK: SR-7

    func testSR7MoreThan2DegreesPastTheSoftLimitIsCat1AndTheHardLimitCat0() {
        makeActive()
        robot.joints[0].positionRadians = 66.9 * degree
        XCTAssertEqual(step(), .move, "1.9° past the soft limit: the clamp handles it")
        robot.joints[0].positionRadians = 67.1 * degree
        guard case .decelerate = step() else { return XCTFail("Cat 1 expected") }
        XCTAssertEqual(supervisor.latchedTrip?.cause, .positionBeyondSoftLimit)
        XCTAssertEqual(supervisor.latchedTrip?.joint, 0)
        XCTAssertEqual(supervisor.latchedTrip?.value ?? 0, 2.1, accuracy: 1e-6, "degrees past the soft limit")
        robot.joints[0].positionRadians = 70 * degree
        XCTAssertEqual(step(), .torqueOff, "at the hard limit: Cat 0 in that cycle")
        XCTAssertEqual(supervisor.transitions.last?.cause, .positionHardLimit)
    }

    // MARK: SR-8

    func testSR8AboveTheVelocityTripForThreeCyclesIsCat1() {
        makeActive()
        robot.joints[0].velocityRadiansPerSecond = 1.6
        XCTAssertEqual(step(), .move)
        XCTAssertEqual(step(), .move)
        guard case .decelerate = step() else { return XCTFail("Cat 1 on the third cycle") }
        XCTAssertEqual(supervisor.latchedTrip?.cause, .velocityTrip)
    }

    func testSR8TwoFastCyclesThenASlowOneDoNotTrip() {
        makeActive()
        for speed in [1.6, 1.6, 1.4, 1.6, 1.6, 1.0] {
            robot.joints[0].velocityRadiansPerSecond = speed
            XCTAssertEqual(step(), .move)
        }
    }

    func testSR8AboveOneAndAHalfTimesTheTripIsCat0AtOnce() {
        makeActive()
        robot.joints[0].velocityRadiansPerSecond = -2.3
        XCTAssertEqual(step(), .torqueOff)
        XCTAssertEqual(supervisor.latchedTrip?.cause, .overspeed)
    }

    // MARK: SR-9

    func testSR9ThirtyMillisecondSpikeDoesNotTripButFiftyMillisecondsDoes() {
        makeActive()
        robot.joints[0].interactionTorqueNewtonMeters = 3.0
        for _ in 0..<30 { XCTAssertEqual(step(), .move, "a 30 ms spike at 3.0 N·m on a 2.4 N·m trip: no nuisance trip") }
        robot.joints[0].interactionTorqueNewtonMeters = 0.5
        XCTAssertEqual(step(), .move)
        robot.joints[0].interactionTorqueNewtonMeters = -2.5
        var cycles = 0
        while case .move = step() { cycles += 1 }
        XCTAssertEqual(cycles, 50, "Cat 1 on the cycle 50 ms after the torque first exceeded the trip")
        XCTAssertEqual(supervisor.latchedTrip?.cause, .interactionTorque)
        XCTAssertEqual(supervisor.latchedTrip?.category, .cat1)
    }

    func testSR9AboveOneAndAHalfTimesTheTripIsCat1AtOnce() {
        makeActive()
        robot.joints[0].interactionTorqueNewtonMeters = 3.7
        guard case .decelerate = step() else { return XCTFail("Cat 1 at once") }
        XCTAssertEqual(supervisor.latchedTrip?.cause, .interactionTorqueSevere)
    }

    // MARK: SR-10

    func testSR10AJumpOfMoreThanTenTimesRatedSpeedInOneCycleIsCat1() {
        robot.joints[0].encoderCounts = 100_000
        makeActive()
        // 10 × 3 rad/s × 1 ms = 0.03 rad = 1564.6 counts.
        robot.joints[0].encoderCounts = 100_000 + 1_500
        XCTAssertEqual(step(), .move, "\(String(describing: supervisor.latchedTrip))")
        robot.joints[0].encoderCounts = 100_000 + 1_500 + 1_600
        guard case .decelerate = step() else { return XCTFail("Cat 1 on the jump") }
        XCTAssertEqual(supervisor.latchedTrip?.cause, .encoderJump)
    }

    func testSR10IdenticalCountsFor200MillisecondsTripOnlyWhileMotionIsDemanded() {
        robot.joints[0].encoderCounts = 4_242
        makeActive()
        for _ in 0..<400 { XCTAssertEqual(step(demandsMotion: false), .move, "holding still: identical counts are expected") }
        var cycles = 0
        while case .move = step(demandsMotion: true) { cycles += 1 }
        XCTAssertEqual(cycles, 200, "Cat 1 when the count has been identical for 200 ms of demanded motion")
        XCTAssertEqual(supervisor.latchedTrip?.cause, .encoderFrozen)
    }

    /// R1: torque that should move the joint while its count stays bit-identical: Cat 1 within a few
    /// cycles, not after SR-10's 200 ms; a steady load (the torque already applied when the count last
    /// changed) and the patient's share (the torque sensor's change) do not count.
    func testSR10TorqueThatThePositionDoesNotAnswerIsCat1WithinMilliseconds() {
        var limits = Self.configuration()
        limits.joints[0].inertiaKilogramSquareMeters = 0.0045
        limits.joints[0].coulombFrictionNewtonMeters = 0.04
        robot.joints[0].encoderCounts = 10_000
        robot.joints[0].motorTorqueNewtonMeters = 0.5  // a steady hold against a load
        makeActive(limits)
        for _ in 0..<200 { XCTAssertEqual(step(), .move, "a steady torque at rest is a load, not a runaway") }
        robot.joints[0].interactionTorqueNewtonMeters = 0.3
        robot.joints[0].motorTorqueNewtonMeters = 0.8  // the patient pushes back: answered by the sensor
        for _ in 0..<200 { XCTAssertEqual(step(), .move, "the patient's share of the change does not count") }
        var cycles = 0
        while case .move = step() {
            cycles += 1
            robot.joints[0].motorTorqueNewtonMeters += 0.02  // the controller pushes harder and harder
            if cycles > 200 { break }
        }
        XCTAssertEqual(supervisor.latchedTrip?.cause, .motionNotAnswering)
        XCTAssertLessThanOrEqual(cycles, 12, "caught within milliseconds of the growing torque")
    }

    /// R1 without a false alarm: a joint that came to rest under a braking torque (beyond friction)
    /// and is then pushed the other way, still inside static friction, is held by friction — the
    /// torque change alone exceeds twice the friction, but nothing is unanswered. Seen in a healthy
    /// 1 kHz session 190 ms after a FAIR hold resumed (−0.026 → +0.041 N·m, friction 0.04 N·m).
    func testSR10ATorqueReversalInsideStaticFrictionAtRestIsNotARunaway() {
        var limits = Self.configuration()
        limits.joints[0].inertiaKilogramSquareMeters = 0.0045
        limits.joints[0].coulombFrictionNewtonMeters = 0.04
        robot.joints[0].encoderCounts = 20_000
        robot.joints[0].motorTorqueNewtonMeters = -0.06  // braking when the count last changed
        makeActive(limits)
        robot.joints[0].encoderCounts = 20_001
        XCTAssertEqual(step(), .move)
        for cycle in 0..<300 {
            // At rest, the count frozen by stiction; the resumed plan's torque swings from −0.026 to +0.04.
            robot.joints[0].motorTorqueNewtonMeters = -0.026 + 0.066 * Double(cycle) / 299
            XCTAssertEqual(step(), .move, "cycle \(cycle): a torque inside static friction moves nothing")
        }
        XCTAssertNil(supervisor.latchedTrip)
    }

    /// R1 without a false alarm, from a 500 Hz soak's black box (states repeated to this test's 1 kHz):
    /// the count last changed at 0.038 rad/s under a braking torque of −0.084 N·m (beyond twice the
    /// friction, so it read as a held load); the brake faded to −0.023 N·m within 6 ms and held; 1.8 s
    /// later the hold's torque crept to +0.011 N·m — inside static friction, nothing to answer. Taking
    /// the braking torque as the reference tripped Cat 1 at 11.6 counts.
    func testSR10ABrakingTorqueThatFadesAsTheJointStopsIsNotTakenForAHeldLoad() {
        var limits = Self.configuration()
        limits.joints[0].inertiaKilogramSquareMeters = 0.0045
        limits.joints[0].coulombFrictionNewtonMeters = 0.04
        robot.joints[0].encoderCounts = 40_000
        robot.joints[0].velocityRadiansPerSecond = 0.134
        robot.joints[0].motorTorqueNewtonMeters = 0.05
        makeActive(limits)
        robot.joints[0].encoderCounts = 40_006
        robot.joints[0].velocityRadiansPerSecond = 0.038
        robot.joints[0].motorTorqueNewtonMeters = -0.084
        XCTAssertEqual(step(), .move)
        robot.joints[0].velocityRadiansPerSecond = 0
        for torque in [-0.084, -0.059, -0.059, -0.042, -0.042] {
            robot.joints[0].motorTorqueNewtonMeters = torque
            XCTAssertEqual(step(), .move, "the brake fading at \(torque) N·m")
        }
        robot.joints[0].motorTorqueNewtonMeters = -0.023
        for _ in 0..<1_800 { XCTAssertEqual(step(), .move, "held inside friction") }
        for cycle in 0..<68 {
            robot.joints[0].motorTorqueNewtonMeters = -0.023 + 0.034 * Double(cycle) / 67
            XCTAssertEqual(step(), .move, "cycle \(cycle): \(robot.joints[0].motorTorqueNewtonMeters) N·m is inside static friction")
        }
        XCTAssertNil(supervisor.latchedTrip)
    }

    /// R1 takes a state's torque as applied from that state on. The black box of a false Cat 1 at 500 Hz
    /// (mode-passive on the simulator): the wrist held still at 0.151 N·m against a patient's −0.112 N·m;
    /// one reply was missed, and the next state, sampled while the firmware's local hold (0.17 ms, after
    /// a command came 0.17 ms late) applied nothing, said 0 N·m. Counted over the 4 ms since the previous
    /// state that implied 14.8 counts; the state after it said 0.151 N·m again.
    func testSR10AOneStateTorqueDipDuringAMissedReplyIsNotARunaway() {
        var limits = Self.configuration()
        limits.joints[0].inertiaKilogramSquareMeters = 0.0045
        limits.joints[0].coulombFrictionNewtonMeters = 0.04
        robot.joints[0].encoderCounts = 60_000
        robot.joints[0].motorTorqueNewtonMeters = 0.151
        robot.joints[0].interactionTorqueNewtonMeters = -0.112
        makeActive(limits)
        robot.joints[0].encoderCounts = 60_001
        XCTAssertEqual(step(), .move)
        for _ in 0..<500 { XCTAssertEqual(step(), .move, "held") }
        cycle += 3  // missed replies: the next state comes 4 ms after the last (two at 500 Hz)
        robot.joints[0].motorTorqueNewtonMeters = 0
        XCTAssertEqual(step(), .move, "one state's dip")
        robot.joints[0].motorTorqueNewtonMeters = 0.151
        for _ in 0..<500 { XCTAssertEqual(step(), .move, "held again") }
        XCTAssertNil(supervisor.latchedTrip)
    }

    /// The black box of a false Cat 1 (mirror at 500 Hz over a PTY, at the swing's end): the count
    /// changed in the very state the firmware's sub-millisecond local hold reported 0 N·m, so the
    /// reference was "no load"; then 0.133 N·m held the wrist still against the patient's tissue
    /// (−0.129 N·m). The net torque is within friction: nothing to answer.
    func testSR10ATorqueBackAgainstAPatientAfterADipAtTheCountChangeIsNotARunaway() {
        var limits = Self.configuration()
        limits.joints[0].inertiaKilogramSquareMeters = 0.0045
        limits.joints[0].coulombFrictionNewtonMeters = 0.04
        robot.joints[0].encoderCounts = 70_000
        robot.joints[0].motorTorqueNewtonMeters = 0.134
        robot.joints[0].interactionTorqueNewtonMeters = -0.130
        makeActive(limits)
        robot.joints[0].encoderCounts = 70_001
        robot.joints[0].motorTorqueNewtonMeters = 0
        XCTAssertEqual(step(), .move, "the dip, at the count change")
        robot.joints[0].motorTorqueNewtonMeters = 0.133
        robot.joints[0].interactionTorqueNewtonMeters = -0.129
        for _ in 0..<500 { XCTAssertEqual(step(), .move, "held against the patient") }
        XCTAssertNil(supervisor.latchedTrip)
    }

    /// The same dip with nobody pushing back: the torque that returns is unanswered, a runaway.
    func testSR10ATorqueBackAfterADipAtTheCountChangeWithNobodyPushingIsARunaway() {
        var limits = Self.configuration()
        limits.joints[0].inertiaKilogramSquareMeters = 0.0045
        limits.joints[0].coulombFrictionNewtonMeters = 0.04
        robot.joints[0].encoderCounts = 70_000
        robot.joints[0].motorTorqueNewtonMeters = 0.134
        makeActive(limits)
        robot.joints[0].encoderCounts = 70_001
        robot.joints[0].motorTorqueNewtonMeters = 0
        XCTAssertEqual(step(), .move, "the dip, at the count change")
        robot.joints[0].motorTorqueNewtonMeters = 0.133
        var cycles = 0
        while case .move = step() {
            cycles += 1
            if cycles > 200 { break }
        }
        XCTAssertEqual(supervisor.latchedTrip?.cause, .motionNotAnswering)
        XCTAssertLessThanOrEqual(cycles, 12)
    }

    /// A torque that stays away is a runaway as before, one state later.
    func testSR10ATorqueThatFallsAwayFromAHeldPatientAndStaysIsARunawayOneStateLater() {
        var limits = Self.configuration()
        limits.joints[0].inertiaKilogramSquareMeters = 0.0045
        limits.joints[0].coulombFrictionNewtonMeters = 0.04
        robot.joints[0].encoderCounts = 60_000
        robot.joints[0].motorTorqueNewtonMeters = 0.151
        robot.joints[0].interactionTorqueNewtonMeters = -0.112
        makeActive(limits)
        robot.joints[0].encoderCounts = 60_001
        XCTAssertEqual(step(), .move)
        for _ in 0..<100 { XCTAssertEqual(step(), .move, "held") }
        robot.joints[0].motorTorqueNewtonMeters = 0
        var cycles = 0
        while case .move = step() {
            cycles += 1
            if cycles > 200 { break }
        }
        XCTAssertEqual(supervisor.latchedTrip?.cause, .motionNotAnswering)
        XCTAssertLessThanOrEqual(cycles, 8, "the patient's push, no longer held, must move the joint within a few ms")
    }

    /// The settling above follows a torque only towards zero: a braked joint whose encoder freezes as it
    /// stops, and whose controller then pushes harder, is caught as fast as one that started at rest.
    func testSR10ATorqueGrowingFromABrakedStopWithAFrozenCountIsStillARunaway() {
        var limits = Self.configuration()
        limits.joints[0].inertiaKilogramSquareMeters = 0.0045
        limits.joints[0].coulombFrictionNewtonMeters = 0.04
        robot.joints[0].encoderCounts = 50_000
        robot.joints[0].velocityRadiansPerSecond = 0.134
        makeActive(limits)
        robot.joints[0].encoderCounts = 50_006
        robot.joints[0].velocityRadiansPerSecond = 0.038
        robot.joints[0].motorTorqueNewtonMeters = -0.084
        XCTAssertEqual(step(), .move)
        var cycles = 0
        while case .move = step() {
            cycles += 1
            robot.joints[0].motorTorqueNewtonMeters -= 0.02
            if cycles > 200 { break }
        }
        XCTAssertEqual(supervisor.latchedTrip?.cause, .motionNotAnswering)
        XCTAssertLessThanOrEqual(cycles, 12, "caught within milliseconds, settling or not")
    }

    /// R1 against a held load: the joint holds 0.5 N·m (a limb's weight) when its count freezes, and the
    /// torque then falls through zero — the load, not the torque, moves the joint, so the fall is a
    /// runaway however small the torque becomes (the friction bound applies only to a joint that held no load).
    func testSR10ATorqueFallingAwayFromAHeldLoadWithAFrozenCountIsARunaway() {
        var limits = Self.configuration()
        limits.joints[0].inertiaKilogramSquareMeters = 0.0045
        limits.joints[0].coulombFrictionNewtonMeters = 0.04
        robot.joints[0].encoderCounts = 30_000
        robot.joints[0].motorTorqueNewtonMeters = 0.5
        makeActive(limits)
        for _ in 0..<50 { XCTAssertEqual(step(), .move, "a steady hold is a load") }
        var cycles = 0
        while case .move = step() {
            cycles += 1
            robot.joints[0].motorTorqueNewtonMeters -= 0.02  // the hold gives way, through zero and beyond
            if cycles > 200 { break }
        }
        XCTAssertEqual(supervisor.latchedTrip?.cause, .motionNotAnswering)
        XCTAssertLessThanOrEqual(cycles, 12, "caught within milliseconds")
    }

    /// R6: values no healthy joint reports are Cat 1 with the value, not silently used.
    func testSR10ImplausibleDeviceValuesAreCat1() {
        for (field, value) in [("torque", 2.1e6), ("temperature", 3276.0), ("current", -32.8), ("nan", Double.nan)] {
            var limits = Self.configuration()
            limits.joints[0].plausibleTorqueNewtonMeters = 8
            limits.joints[0].plausibleCurrentAmperes = 8
            limits.joints[0].plausibleTemperatureCelsius = -40...140
            supervisor = Supervisor(configuration: limits)
            robot = RobotState(jointCount: 1)
            robot.condition = [.enabled, .torqueOn]
            robot.joints[0].velocityRadiansPerSecond = 0.3
            robot.joints[0].temperatureCelsius = 30
            makeActive(limits)
            switch field {
            case "torque": robot.joints[0].motorTorqueNewtonMeters = value
            case "temperature": robot.joints[0].temperatureCelsius = value
            case "current": robot.joints[0].motorCurrentAmperes = value
            default: robot.joints[0].interactionTorqueNewtonMeters = value
            }
            guard case .decelerate = step() else { return XCTFail("\(field): Cat 1") }
            XCTAssertEqual(supervisor.latchedTrip?.cause, .implausibleDeviceValue, field)
            XCTAssertEqual(supervisor.latchedTrip?.joint, 0)
        }
    }

    // MARK: SR-14 feeding SR-1

    func testSR14AGapOfMoreThanAQuarterWatchdogDegradesTheLinkWithoutStoppingAndLogsTheFigure() {
        makeActive()
        robot.deviceTimeNanoseconds = cycle * period
        // The host stalled 6 ms (> W/4 = 5 ms); the device answered at once after it.
        cycle += 5
        let action = supervisor.evaluate(.init(cycle: cycle, time: now, freshState: true, stateAgeNanoseconds: 100_000), state: robot)
        XCTAssertEqual(action, .move, "a stall the watchdog covers degrades the session, it does not stop it")
        XCTAssertEqual(supervisor.link.grade, .fair)
        let logged = try? XCTUnwrap(supervisor.transitions.last)
        XCTAssertEqual(logged?.cause, .linkDegraded)
        XCTAssertEqual(logged?.value ?? 0, 6, accuracy: 1e-9, "the gap in ms")
        XCTAssertNil(supervisor.latchedTrip)
    }

    // MARK: SR-15, SR-16

    private func tracker(ageMilliseconds: Double = 5, periodMilliseconds: Double = 8.3, visible: Bool = true, frozen: Bool = false,
                         rms: Double = 0.4) -> TrackerStatus {
        TrackerStatus(sampleAgeNanoseconds: Int64(ageMilliseconds * 1e6), framePeriodNanoseconds: Int64(periodMilliseconds * 1e6),
                      toolVisible: visible, frameCounterFrozen: frozen, rmsErrorMillimeters: rms)
    }

    func testSR15EveryTrackerFailureIsCat1ForAModeThatDependsOnIt() {
        let cases: [(TrackerStatus?, SafetyCause)] = [
            (nil, .trackerStale),
            (tracker(ageMilliseconds: 25.1), .trackerStale),  // > 3 × 8.3 ms
            (tracker(ageMilliseconds: 51, periodMilliseconds: 16.6), .trackerStale),  // > 50 ms whatever the rate
            (tracker(visible: false), .trackerToolMissing),
            (tracker(frozen: true), .trackerFrozen),
            (tracker(rms: 1.2), .trackerInaccurate),
            (tracker(periodMilliseconds: 20), .trackerTooSlow),  // 50 Hz cannot gate a safety function
        ]
        for (status, cause) in cases {
            cycle = 0
            robot = RobotState(jointCount: 1)
            robot.condition = [.enabled, .torqueOn]
            robot.joints[0].velocityRadiansPerSecond = 0.3
            makeActive(Self.configuration(tracker: 1.0), tracker: tracker())
            guard case .decelerate = step(tracker: status) else { return XCTFail("Cat 1 for \(cause)") }
            XCTAssertEqual(supervisor.latchedTrip?.cause, cause)
        }
        cycle = 0
        makeActive(Self.configuration(tracker: 1.0), tracker: tracker())
        XCTAssertEqual(step(tracker: tracker()), .move, "a healthy 120 Hz tracker gates nothing")
        // Exactly 60 Hz is allowed: its whole-nanosecond period (16 666 667 ns) is not "below 60 Hz".
        let sixtyHertz = TrackerStatus(
            sampleAgeNanoseconds: 5_000_000, framePeriodNanoseconds: Nanoseconds.period(rateHertz: 60), toolVisible: true,
            frameCounterFrozen: false, rmsErrorMillimeters: 0.4)
        cycle = 0
        makeActive(Self.configuration(tracker: 1.0), tracker: sixtyHertz)
        XCTAssertEqual(step(tracker: sixtyHertz), .move, "a 60 Hz tracker may gate")
        cycle = 0
        makeActive(Self.configuration(tracker: 1.0), tracker: tracker())
        guard case .decelerate = step(tracker: nil) else { return XCTFail("no sample at all: Cat 1") }
    }

    func testSR15WithoutATrackerDependentModeNoTrackerIsNeeded() {
        makeActive()
        XCTAssertEqual(step(tracker: nil), .move)
    }

    /// A tracker is configured (the exercise has a mirror block) but the mode in force does not
    /// depend on it: a missing, stale or hidden sample stops nothing until a mode that does is asked for.
    func testSR15AConfiguredTrackerGatesOnlyTheCyclesThatDependOnIt() {
        makeActive(Self.configuration(tracker: 1.0), tracker: tracker())
        for status in [nil, tracker(ageMilliseconds: 200), tracker(visible: false)] {
            XCTAssertEqual(step(tracker: status, trackerGatesMotion: false), .move, "\(String(describing: status))")
        }
        XCTAssertNil(supervisor.latchedTrip)
        guard case .decelerate = step(tracker: tracker(ageMilliseconds: 200), trackerGatesMotion: true) else {
            return XCTFail("a stale tracker stops a mode that depends on it (Cat 1)")
        }
        XCTAssertEqual(supervisor.latchedTrip?.cause, .trackerStale)
    }

    func testSR16LeavingTheWorkspaceByMoreThan20MillimetersIsCat1() {
        makeActive(Self.configuration(workspace: (SIMD3(-0.3, -0.3, 0), SIMD3(0.3, 0.3, 0.5))))
        XCTAssertEqual(step(hand: SIMD3(0.319, 0, 0.2)), .move, "19 mm outside: within the 20 mm allowance")
        guard case .decelerate = step(hand: SIMD3(0.321, 0, 0.2)) else { return XCTFail("Cat 1") }
        XCTAssertEqual(supervisor.latchedTrip?.cause, .workspace)
    }

    // MARK: Priority, reset, release

    func testCat0WinsOverCat1AndAStopOverAStartInTheSameCycle() {
        makeActive()
        robot.joints[0].velocityRadiansPerSecond = 2.3  // Cat 0 overspeed …
        robot.joints[0].interactionTorqueNewtonMeters = 3.7  // … and Cat 1 severe force, same cycle
        XCTAssertEqual(step(requests: [.start, .resume]), .torqueOff)
        XCTAssertEqual(supervisor.latchedTrip?.category, .cat0)
    }

    func testAResetWhileTheCausePersistsIsRefusedWithTheCause() {
        makeActive()
        robot.joints[0].positionRadians = 68 * degree
        step()
        robot.joints[0].velocityRadiansPerSecond = 0
        for _ in 0..<5 { step() }
        step(requests: .reset)
        guard case .refused(.causePersists(let trip))? = supervisor.lastResetOutcome else {
            return XCTFail("\(String(describing: supervisor.lastResetOutcome))")
        }
        XCTAssertEqual(trip.cause, .positionBeyondSoftLimit)
        XCTAssertTrue("\(ResetRefusal.causePersists(trip))".contains("position_beyond_soft_limit (SR-7, Cat 1) joint 0 value 3"), "\(ResetRefusal.causePersists(trip))")
        XCTAssertEqual(supervisor.state, .fault)
        robot.joints[0].positionRadians = 60 * degree
        XCTAssertEqual(step(requests: .reset), .torqueOff)
        XCTAssertEqual(supervisor.state, .idle, "the cause gone: reset to idle, never to motion")
    }

    /// D7: a frozen encoder at rest looks healthy; the reset waits for a count that changed since.
    func testAResetAfterAFrozenEncoderWaitsForTheEncoderToCountAgain() {
        robot.joints[0].encoderCounts = 4_242
        makeActive()
        while case .move = step(demandsMotion: true) {}
        XCTAssertEqual(supervisor.latchedTrip?.cause, .encoderFrozen)
        robot.joints[0].velocityRadiansPerSecond = 0
        for _ in 0..<5 { step() }
        step(requests: .reset)
        XCTAssertEqual(supervisor.lastResetOutcome, .refused(.encoderNotProvenAlive(joint: 0)))
        XCTAssertEqual(supervisor.state, .fault)
        robot.joints[0].encoderCounts = 4_300  // moved by hand under release: it counts
        step()
        step(requests: .reset)
        XCTAssertEqual(supervisor.lastResetOutcome, .reset)
        XCTAssertEqual(supervisor.state, .idle)
    }

    /// D7: a brake that missed its deadline (SR-13) leaves the joint moving: no reset until it rests.
    func testAResetIsRefusedWhileAJointStillMoves() {
        makeActive()
        robot.joints[0].velocityRadiansPerSecond = 2.3  // Cat 0 overspeed
        step()
        robot.joints[0].velocityRadiansPerSecond = 0.2  // still coasting
        step(requests: .reset)
        guard case .refused(.notAtStandstill)? = supervisor.lastResetOutcome else {
            return XCTFail("\(String(describing: supervisor.lastResetOutcome))")
        }
        robot.joints[0].velocityRadiansPerSecond = 0
        step(requests: .reset)
        XCTAssertEqual(supervisor.lastResetOutcome, .reset)
    }

    /// D7: NaN from the device is a cause that persists; the device's own watchdog latch must clear.
    func testAResetIsRefusedWhileTheDeviceReportsNaNOrKeepsItsWatchdogLatched() {
        makeActive()
        robot.joints[0].velocityRadiansPerSecond = 0
        robot.condition = [.enabled, .watchdogExpired]
        step()
        XCTAssertEqual(supervisor.latchedTrip?.cause, .deviceWatchdogExpired)
        robot.joints[0].temperatureCelsius = .nan
        step(requests: .reset)
        XCTAssertEqual(supervisor.lastResetOutcome, .refused(.nonFiniteState))
        robot.joints[0].temperatureCelsius = 30
        step(requests: .reset)
        XCTAssertEqual(supervisor.lastResetOutcome, .pending, "DISABLE + FAULT_RESET asked of the device")
        XCTAssertTrue(supervisor.takeDeviceFaultResetRequest())
        for _ in 0..<150 { step() }  // the device keeps its watchdog latched past the reset's wait
        XCTAssertEqual(supervisor.lastResetOutcome, .refused(.deviceWatchdogLatched))
        robot.condition = []  // after DISABLE the latch is gone
        step(requests: .reset)
        XCTAssertEqual(supervisor.lastResetOutcome, .reset)
    }

    func testSR18ReleaseOnlyFromAStoppedFaultAndEndsWhenLetGoOrMoving() {
        makeActive()
        XCTAssertEqual(step(releaseHeld: true), .move, "no release outside fault/estop")
        step(requests: .emergencyStop)
        robot.joints[0].velocityRadiansPerSecond = 0.2
        XCTAssertEqual(step(releaseHeld: true), .torqueOff, "not at standstill: refused")
        XCTAssertEqual(supervisor.releaseRefusal, .moving)
        robot.joints[0].velocityRadiansPerSecond = 0.01
        XCTAssertEqual(step(releaseHeld: true), .release)
        XCTAssertEqual(step(releaseHeld: true), .release)
        XCTAssertEqual(step(releaseHeld: false), .torqueOff, "let go: held again in the same cycle")
        XCTAssertEqual(step(releaseHeld: true), .release)
        robot.joints[0].velocityRadiansPerSecond = 1.6
        XCTAssertEqual(step(releaseHeld: true), .torqueOff, "the limb falls: release ends")
        robot.condition = [.emergencyStop]
        robot.joints[0].velocityRadiansPerSecond = 0
        XCTAssertEqual(step(releaseHeld: true), .torqueOff)
        XCTAssertEqual(supervisor.releaseRefusal, .devicePowerRemoved)
    }
}
