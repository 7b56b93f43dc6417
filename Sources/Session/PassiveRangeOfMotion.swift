import Control
import Primitives

/// The walking skeleton's exercise: the robot moves one joint through ±amplitude along minimum-jerk
/// swings with holds at the ends, the other joints held at their neutral position, for a set time.
/// (Exercise files and further therapy modes build on this later.)
public struct PassiveRangeOfMotion: Sendable, Equatable {
    /// The joint that swings.
    public var jointIndex: Int
    public var amplitudeRadians: Double
    /// Time for a full swing from −amplitude to +amplitude.
    public var swingSeconds: Double
    public var holdSeconds: Double
    /// The speed used to bring joints to neutral at the start (not faster than this on average).
    public var centeringSpeedRadiansPerSecond: Double

    public init(
        jointIndex: Int = 0, amplitudeRadians: Double = 25 * Units.radiansPerDegree, swingSeconds: Double = 2,
        holdSeconds: Double = 0.25, centeringSpeedRadiansPerSecond: Double = 0.5
    ) {
        self.jointIndex = jointIndex
        self.amplitudeRadians = amplitudeRadians
        self.swingSeconds = swingSeconds
        self.holdSeconds = holdSeconds
        self.centeringSpeedRadiansPerSecond = centeringSpeedRadiansPerSecond
    }

    /// "passive range of motion, flexion_extension ±25°": what the exercise is, for people.
    public func description(jointNames: [String]) -> String {
        let joint = jointIndex < jointNames.count ? jointNames[jointIndex] : "joint \(jointIndex)"
        let degrees = Units.degrees(fromRadians: amplitudeRadians)
        return "passive range of motion, \(joint) ±\(degrees.rounded() == degrees ? String(Int(degrees)) : String(degrees))°"
    }

    /// The fastest the exercise moves [rad/s].
    public var peakVelocityRadiansPerSecond: Double {
        MinimumJerk(from: -amplitudeRadians, to: amplitudeRadians, durationSeconds: swingSeconds).peakVelocityRadiansPerSecond
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
    /// the joint swings between ±amplitude for as many swings as fit, and returns to neutral. When
    /// not even one out-and-back fits, a single smaller one at the same peak speed is made.
    public func plan(from start: JointList<Double>, durationSeconds: Double, into trajectory: inout WaypointTrajectory) {
        trajectory.replan(from: start)
        let duration = max(durationSeconds, 0.05)
        let center = JointList<Double>.zeros(start.count)
        var farthest = 0.0
        for joint in 0..<start.count { farthest = max(farthest, abs(start[joint])) }
        var elapsed = 0.0
        if farthest > 0.01 {
            // Minimum jerk peaks at 1.875 × the mean speed: this keeps the peak at the centring speed.
            let centering = min(duration / 2, max(0.5, 1.875 * farthest / centeringSpeedRadiansPerSecond))
            trajectory.append(.init(positions: center, moveSeconds: centering))
            elapsed = centering
        }
        let half = swingSeconds / 2
        let remaining = duration - elapsed
        var swings = 0
        if remaining >= half + holdSeconds + half {
            var sign = 1.0
            while true {
                let move = swings == 0 ? half : swingSeconds
                if elapsed + move + holdSeconds + half > duration { break }
                var target = center
                target[jointIndex] = sign * amplitudeRadians
                trajectory.append(.init(positions: target, moveSeconds: move, holdSeconds: holdSeconds))
                elapsed += move + holdSeconds
                sign = -sign
                swings += 1
            }
        } else if remaining > 0.1 {
            // A short session: one out-and-back, as far as the same peak speed allows in the time.
            let shortHalf = remaining / 2
            var target = center
            target[jointIndex] = min(amplitudeRadians, peakVelocityRadiansPerSecond * shortHalf / 1.875)
            trajectory.append(.init(positions: target, moveSeconds: shortHalf))
            elapsed += shortHalf
            swings = 1
        }
        let back = swings > 0 ? min(half, duration - elapsed) : 0
        if back > 0 {
            trajectory.append(.init(positions: center, moveSeconds: back, holdSeconds: max(0, duration - elapsed - back)))
        } else if trajectory.waypoints.isEmpty {
            trajectory.append(.init(positions: center, moveSeconds: duration))
        } else {
            trajectory.extendLastHold(bySeconds: duration - elapsed)
        }
    }
}
