import Primitives

/// What an exercise's cue (the plan a patient sees on the screen) does, and from which instant: it
/// starts with the plan, stands still while the plan's clock does (a pause, SR-1's FAIR hold) and
/// moves on when it runs again — along the plan the session made for the rest of the exercise when
/// it moved on (`ResumedPlan`), as the screen shows it. The host reads it from its session
/// (`ExerciseCueClock`); a simulated patient follows it.
public enum CueChange: Sendable, Equatable {
    case start(MonotonicInstant)
    case hold(MonotonicInstant)
    /// The plan runs again; nil: the plan the cue stood still on goes on (no new plan was made).
    case resume(MonotonicInstant, ResumedPlan?)
}

/// The plan a session makes when its exercise moves on after a hold (a pause, SR-1's FAIR hold):
/// `RangeOfMotionExercise.plan` from where the joints were, for the repetitions left (nil: a timed
/// exercise), in this time — a centring move first when the joints are off centre. Anyone who makes
/// the same call with these values gets the same plan: that is how a simulated patient keeps to it.
public struct ResumedPlan: Sendable, Equatable, BitwiseCopyable {
    public var startPositionsRadians: JointList<Double>
    public var durationSeconds: Double
    public var repetitions: Int?

    public init(startPositionsRadians: JointList<Double>, durationSeconds: Double, repetitions: Int?) {
        self.startPositionsRadians = startPositionsRadians
        self.durationSeconds = durationSeconds
        self.repetitions = repetitions
    }
}
