import DeviceModel
import Primitives

/// A range-of-motion exercise: its plan moves one joint between the ends of a range along
/// minimum-jerk swings with holds at the ends, the other joints held at their neutral position —
/// for a set time, or for a number of repetitions (one repetition: out to the upper end and back
/// to the lower end). It starts and ends at neutral (0 rad), which must lie inside the range. The
/// plan is what the robot tracks in the passive and assist modes, and the cue the patient follows in
/// every mode (`mode`). Pure: the simulator builds the same plan as the patient's cue.
public struct RangeOfMotionExercise: Sendable, Equatable {
    /// The joint that swings.
    public var jointIndex: Int
    /// The ends of the swing [rad]; minimum < 0 < maximum.
    public var rangeMinimumRadians: Double
    public var rangeMaximumRadians: Double
    /// Time for a full swing from one end of the range to the other.
    public var swingSeconds: Double
    public var holdSeconds: Double
    /// Out-and-back repetitions; nil: as many as fit in the session's duration.
    public var repetitions: Int?
    /// The speed used to bring joints to neutral at the start (not faster than this on average).
    public var centeringSpeedRadiansPerSecond: Double
    /// What the robot does with the patient on the exercised joint (the other joints are held).
    public var mode: TherapyMode = .passive
    /// Modes the operator may switch to during the exercise besides `mode` and passive (from the
    /// exercise file's other settings blocks); one of each kind.
    public var otherModes: [TherapyMode] = []

    /// Every mode this exercise may run: `mode` first, then `otherModes`, passive always among them.
    public var availableModes: [TherapyMode] {
        var modes = [mode]
        for other in otherModes + [.passive] where !modes.contains(where: { $0.name == other.name }) { modes.append(other) }
        return modes
    }
    /// Impedance of the exercised joint; nil: the profile's defaults.
    public var stiffnessNewtonMetersPerRadian: Double?
    public var dampingNewtonMeterSecondsPerRadian: Double?

    /// A symmetric swing of ±`amplitudeRadians`.
    public init(
        jointIndex: Int = 0, amplitudeRadians: Double = 25 * Units.radiansPerDegree, swingSeconds: Double = 2,
        holdSeconds: Double = 0.25, centeringSpeedRadiansPerSecond: Double = 0.5
    ) {
        self.init(jointIndex: jointIndex, rangeRadians: -amplitudeRadians...amplitudeRadians, swingSeconds: swingSeconds,
                  holdSeconds: holdSeconds, centeringSpeedRadiansPerSecond: centeringSpeedRadiansPerSecond)
    }

    public init(
        jointIndex: Int, rangeRadians: ClosedRange<Double>, swingSeconds: Double, holdSeconds: Double, repetitions: Int? = nil,
        centeringSpeedRadiansPerSecond: Double = 0.5
    ) {
        self.jointIndex = jointIndex
        rangeMinimumRadians = rangeRadians.lowerBound
        rangeMaximumRadians = rangeRadians.upperBound
        self.swingSeconds = swingSeconds
        self.holdSeconds = holdSeconds
        self.repetitions = repetitions
        self.centeringSpeedRadiansPerSecond = centeringSpeedRadiansPerSecond
    }

    /// "passive range of motion, flexion_extension ±25°" (or "-45…25°"): what the exercise is, for people.
    public func description(jointNames: [String]) -> String {
        let joint = jointIndex < jointNames.count ? jointNames[jointIndex] : "joint \(jointIndex)"
        func degrees(_ radians: Double) -> String {
            let value = (Units.degrees(fromRadians: radians) * 10).rounded() / 10
            return value.rounded() == value ? String(Int(value)) : String(value)
        }
        let range = rangeMinimumRadians == -rangeMaximumRadians
            ? "±\(degrees(rangeMaximumRadians))°" : "\(degrees(rangeMinimumRadians))…\(degrees(rangeMaximumRadians))°"
        let kind = String(mode.name.map { $0 == "_" ? "-" : $0 })
        return "\(kind) range of motion, \(joint) \(range)" + (repetitions.map { ", \($0) repetitions" } ?? "")
    }

    private var span: Double { rangeMaximumRadians - rangeMinimumRadians }

    /// The fastest the exercise moves [rad/s] (minimum jerk peaks at 1.875 × the mean speed).
    public var peakVelocityRadiansPerSecond: Double {
        1.875 * span / swingSeconds
    }

    /// From neutral to the upper end, and from the lower end back to neutral, at the swings' peak speed.
    private var firstMoveSeconds: Double { max(0.2, swingSeconds * rangeMaximumRadians / span) }
    private var lastMoveSeconds: Double { max(0.2, swingSeconds * -rangeMinimumRadians / span) }

    /// How long `repetitions` take from neutral back to neutral, plus `centeringSeconds` [s].
    public func durationSeconds(repetitions: Int, centeringSeconds: Double = 0) -> Double {
        // First move and hold, 2n − 1 full swings with holds, the way back. 1 ms of slack keeps the
        // last swing inside the plan whatever the rounding.
        centeringSeconds + firstMoveSeconds + holdSeconds + Double(2 * repetitions - 1) * (swingSeconds + holdSeconds) + lastMoveSeconds
            + 0.001
    }

    /// The most waypoints a plan of `durationSeconds` can have: reserve this much.
    public func waypointCapacity(durationSeconds: Double) -> Int {
        Int((max(durationSeconds, 0) / (swingSeconds + holdSeconds)).rounded(.up)) + 4
    }

    /// Waypoints that take exactly `durationSeconds`, starting at the measured `start` (allocates).
    public func trajectory(from start: JointList<Double>, durationSeconds: Double) -> WaypointTrajectory {
        var trajectory = WaypointTrajectory(jointCount: start.count, capacity: waypointCapacity(durationSeconds: durationSeconds))
        plan(from: start, durationSeconds: durationSeconds, into: &trajectory)
        return trajectory
    }

    /// Plans into `trajectory` (whose capacity is `waypointCapacity`): no allocation, so the plan can
    /// be made in the control cycle from the state measured at activation (SR-5).
    ///
    /// Joints away from neutral are first brought there at no more than the centring speed. Then
    /// the joint swings between the ends of the range — for `repetitions` out-and-backs when set,
    /// else as many as fit — and returns to neutral. When not even one out-and-back fits, a single
    /// smaller one at the same peak speed is made.
    public func plan(from start: JointList<Double>, durationSeconds: Double, into trajectory: inout WaypointTrajectory) {
        trajectory.replan(from: start)
        let duration = max(durationSeconds, 0.05)
        let center = JointList<Double>.zeros(start.count)
        var farthest = 0.0
        for joint in 0..<start.count { farthest = max(farthest, abs(start[joint])) }
        var elapsed = 0.0
        if farthest > 0.01 {
            // Minimum jerk peaks at 1.875 × the mean speed: this keeps the peak at the centring speed,
            // even when that takes longer than the time left (a plan resumed near its end after a
            // pause or a FAIR link must not fling the joint home: it once asked for 5.8 rad/s).
            let needed = 1.875 * farthest / centeringSpeedRadiansPerSecond
            let centering = max(needed, min(duration / 2, max(0.5, needed)))
            trajectory.append(.init(positions: center, moveSeconds: centering))
            elapsed = centering
        }
        let remaining = duration - elapsed
        var swings = 0
        let maximumSwings = repetitions.map { 2 * $0 } ?? Int.max
        if remaining >= firstMoveSeconds + holdSeconds + lastMoveSeconds {
            var upper = true
            while swings < maximumSwings {
                let move = swings == 0 ? firstMoveSeconds : swingSeconds
                // After this swing there must be time to return to neutral from where it ends.
                let back = upper ? swingSeconds * rangeMaximumRadians / span : lastMoveSeconds
                if elapsed + move + holdSeconds + max(0.2, back) > duration { break }
                var target = center
                target[jointIndex] = upper ? rangeMaximumRadians : rangeMinimumRadians
                trajectory.append(.init(positions: target, moveSeconds: move, holdSeconds: holdSeconds))
                elapsed += move + holdSeconds
                upper.toggle()
                swings += 1
            }
        } else if remaining > 0.1 {
            // A short session: one out-and-back, as far as the same peak speed allows in the time.
            let shortHalf = remaining / 2
            var target = center
            target[jointIndex] = min(rangeMaximumRadians, peakVelocityRadiansPerSecond * shortHalf / 1.875)
            trajectory.append(.init(positions: target, moveSeconds: shortHalf))
            elapsed += shortHalf
            swings = 1
        }
        let endsUpper = swings % 2 == 1
        let backSeconds = endsUpper ? max(0.2, swingSeconds * rangeMaximumRadians / span) : lastMoveSeconds
        let back = swings > 0 ? min(backSeconds, duration - elapsed) : 0
        if back > 0 {
            // Counted repetitions end with a normal hold at neutral; a timed exercise holds to its end.
            let rest = max(0, duration - elapsed - back)
            trajectory.append(.init(positions: center, moveSeconds: back, holdSeconds: repetitions == nil ? rest : min(holdSeconds, rest)))
        } else if trajectory.waypoints.isEmpty {
            trajectory.append(.init(positions: center, moveSeconds: duration))
        } else {
            trajectory.extendLastHold(bySeconds: duration - elapsed)
        }
    }
}
