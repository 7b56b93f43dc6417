import Control
import Primitives
import Session
import XCTest

/// The cue's clock read from the status board: it starts an enable ramp after the first moving cycle,
/// holds and resumes with the plan's clock, dated by the cycles that showed them.
final class ExerciseCueClockTests: XCTestCase {
    private func status(at milliseconds: Int64, startedAt started: Int64?, running: Bool) -> SessionStatus {
        var status = SessionStatus()
        status.time = MonotonicInstant(nanoseconds: milliseconds * 1_000_000)
        status.exerciseStartedAt = started.map { MonotonicInstant(nanoseconds: $0 * 1_000_000) }
        status.planClockRunning = running
        return status
    }

    func testTheCueStartsAfterTheRampThenHoldsAndResumesWithThePlansClock() {
        var clock = ExerciseCueClock(rampSeconds: 0.5)
        XCTAssertNil(clock.observe(status(at: 10, startedAt: nil, running: false)), "nothing before the exercise starts")
        XCTAssertEqual(clock.observe(status(at: 30, startedAt: 20, running: true)), .start(MonotonicInstant(nanoseconds: 520_000_000), nil))
        XCTAssertNil(clock.observe(status(at: 40, startedAt: 20, running: true)), "a running plan changes nothing")
        XCTAssertEqual(clock.observe(status(at: 1_000, startedAt: 20, running: false)), .hold(MonotonicInstant(nanoseconds: 1_000_000_000)))
        XCTAssertNil(clock.observe(status(at: 1_500, startedAt: 20, running: false)), "a hold is told once")
        XCTAssertEqual(clock.observe(status(at: 2_000, startedAt: 20, running: true)), .resume(MonotonicInstant(nanoseconds: 2_000_000_000), nil))
    }

    /// A resume carries the plan the session made as it moved on (the screen shows it from then on).
    func testAResumeCarriesThePlanTheSessionMadeThen() {
        var clock = ExerciseCueClock(rampSeconds: 0.5)
        _ = clock.observe(status(at: 30, startedAt: 20, running: true))
        _ = clock.observe(status(at: 1_000, startedAt: 20, running: false))
        var start = JointList<Double>.zeros(2)
        start[0] = -0.2
        let plan = PlanInputs(startPositionsRadians: start, durationSeconds: 7.5, repetitions: 3)
        var resumed = status(at: 2_000, startedAt: 20, running: true)
        resumed.planMade = plan
        XCTAssertEqual(clock.observe(resumed), .resume(MonotonicInstant(nanoseconds: 2_000_000_000), plan))
    }
}
