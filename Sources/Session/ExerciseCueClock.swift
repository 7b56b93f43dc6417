import Control
import Primitives

/// When a patient's on-screen cue starts, stands still and moves on, read from the session's status
/// board: the cue is the exercise's plan, so it keeps the plan's clock. It starts an enable ramp after
/// the exercise's first moving cycle, stops while the plan's clock stops (an operator's pause, SR-1's
/// FAIR hold) and moves on when it runs again.
///
/// A simulated patient who kept following a cue of their own through a hold pushed against the held
/// robot for the whole hold and was flung when it let go (the `mode-transparent` scenario on a
/// stalled host: SR-8 at 2.07 rad/s 22 ms after the link was GOOD again). A real patient watches the
/// screen, which holds too, and then shows the plan the session made for the rest of the exercise
/// (a centring move, then the repetitions left): a cue that went on with the old plan's swing put the
/// healthy patient 0.25 rad or more off the robot's new plan, both pushing 2 N·m against each other,
/// and the next FAIR hold (which fades to at most half τmax) let the patient fling the wrist (SR-8,
/// over 2 rad/s within 40 ms, `mode-active-assist-healthy` on a stalled host). The same reading
/// drives rehabsim's patient (`rehabctl demo`, the scenarios' `sim` target, as lines on its control
/// socket) and the virtual target's (by calls).
/// Pure: the status is given.
public struct ExerciseCueClock: Sendable {
    private let rampNanoseconds: Int64
    private var started = false
    private var running = false

    /// A cue that starts `rampSeconds` (the profile's enable ramp) after the exercise's first moving cycle.
    public init(rampSeconds: Double) {
        rampNanoseconds = Int64(rampSeconds * 1e9)
    }

    /// The change this status shows since the previous one, if any. A hold or a resume is dated by the
    /// cycle that showed it, so however late a reader sees it, the cue keeps the plan's time.
    public mutating func observe(_ status: SessionStatus) -> CueChange? {
        if !started {
            guard let at = status.exerciseStartedAt else { return nil }
            started = true
            running = true
            return .start(at.advanced(byNanoseconds: rampNanoseconds), status.planMade)
        }
        guard status.planClockRunning != running else { return nil }
        running = status.planClockRunning
        return running ? .resume(status.time, status.planMade) : .hold(status.time)
    }
}
