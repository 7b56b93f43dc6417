import Primitives

/// What an exercise's cue (the plan a patient sees on the screen) does, and from which instant: it
/// starts with the plan, stands still while the plan's clock does (a pause, SR-1's FAIR hold) and
/// moves on when it runs again — along the plan the session made for the rest of the exercise when
/// it moved on (given by its `PlanInputs`), as the screen shows it. The host reads it from its session
/// (`ExerciseCueClock`); a simulated patient follows it.
public enum CueChange: Sendable, Equatable {
    /// The plan begins, from the plan the session made (nil: the exercise's own, planned from neutral
    /// for its whole length: a session cut shorter plans fewer swings).
    case start(MonotonicInstant, PlanInputs?)
    case hold(MonotonicInstant)
    /// The plan runs again; nil: the plan the cue stood still on goes on (no new plan was made).
    case resume(MonotonicInstant, PlanInputs?)
}

/// What a session plans its exercise from — at the start, and again when the exercise moves on after
/// a hold (a pause, SR-1's FAIR hold): `RangeOfMotionExercise.plan` from where the joints were, for
/// the repetitions left (nil: a timed exercise), in this time, a centring move first when the joints
/// are off centre. Anyone who makes the same call with these values gets the same plan: that is how
/// a simulated patient keeps to the plan on the screen.
public struct PlanInputs: Sendable, Equatable, BitwiseCopyable {
    public var startPositionsRadians: JointList<Double>
    public var durationSeconds: Double
    public var repetitions: Int?

    public init(startPositionsRadians: JointList<Double>, durationSeconds: Double, repetitions: Int?) {
        self.startPositionsRadians = startPositionsRadians
        self.durationSeconds = durationSeconds
        self.repetitions = repetitions
    }
}
