import Control
import DeviceModel
import Primitives

/// What a running session looks like from outside, published by the control loop every cycle
/// (through a `SnapshotBoard`) for `rehabctl status` and the control socket: plain values only, so
/// publishing is a copy of bytes.
public struct SessionStatus: Sendable, BitwiseCopyable {
    public var cycle: Int64 = 0
    /// Monotonic time of the cycle.
    public var time = MonotonicInstant.zero
    public var state = SupervisorState.disabled
    /// SR-18: release is being held and the drive is powered with zero torque.
    public var releasing = false
    public var releaseRefusal: ReleaseRefusal?
    /// The trip that latched `fault`/`estop`.
    public var latchedTrip: SafetyTrip?
    /// The category of the stop in progress (nil: none).
    public var activeStop: StopCategory?
    /// The newest request serial (`SessionControl.post`) the loop has acted on.
    public var handledRequestSerial: UInt64 = 0
    public var lastResetOutcome: ResetOutcome?
    /// The state the device reported last, and how old it was this cycle [ns].
    public var device: DeviceCondition = []
    public var deviceFault = DeviceFault.none
    public var stateAgeNanoseconds: Int64 = 0
    /// SR-1: the link's grade this cycle, and its FAIR and POOR episodes so far.
    public var linkGrade = LinkGrade.good
    public var linkFairEpisodes = 0
    public var linkPoorEpisodes = 0
    public var jointCount = 0
    public var positionsRadians = JointList<Double>.zeros(0)
    public var velocitiesRadiansPerSecond = JointList<Double>.zeros(0)
    public var interactionTorquesNewtonMeters = JointList<Double>.zeros(0)
    /// Torque on the wire this cycle (0 for joints in another mode).
    public var commandedTorquesNewtonMeters = JointList<Double>.zeros(0)
    /// The exercise's target per joint (NaN while none is tracked).
    public var targetPositionsRadians = JointList<Double>.zeros(0)
    /// This cycle's wake latency and compute time [ns].
    public var wakeLatencyNanoseconds: Int64 = 0
    public var computeNanoseconds: Int64 = 0
    /// The largest wake latency and compute time of the last complete second [ns].
    public var wakeLatencyMaxLastSecondNanoseconds: Int64 = 0
    public var computeMaxLastSecondNanoseconds: Int64 = 0
    /// The mode in force on the exercised joint: an index into the session's `availableModes`.
    public var modeInForce = 0
    /// When the exercise's first moving cycle ran (its plan starts an enable ramp later); nil before.
    public var exerciseStartedAt: MonotonicInstant?
    /// The exercise's plan clock runs this cycle (`TherapyCycle.planClockRunning`): false before the
    /// start and while a pause or a FAIR link holds the exercise.
    public var planClockRunning = false
    /// The plan the exercise follows, as `TherapyCycle.planMade` (the one made when it last moved on).
    public var planMade: PlanInputs?
    /// Deadlines missed so far.
    public var missedDeadlines: Int64 = 0
    public var rateHertz = 0.0
    /// The loop has ended (the session is shutting down).
    public var finished = false

    public init() {}
}
