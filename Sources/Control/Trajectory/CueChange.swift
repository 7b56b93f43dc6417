import Primitives

/// What an exercise's cue (the plan a patient sees on the screen) does, and from which instant: it
/// starts with the plan, stands still while the plan's clock does (a pause, SR-1's FAIR hold) and
/// moves on when it runs again. The host reads it from its session (`ExerciseCueClock`); a simulated
/// patient follows it.
public enum CueChange: Sendable, Equatable {
    case start(MonotonicInstant)
    case hold(MonotonicInstant)
    case resume(MonotonicInstant)
}
