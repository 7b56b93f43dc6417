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

    /// The fastest the exercise moves [rad/s].
    public var peakVelocityRadiansPerSecond: Double {
        MinimumJerk(from: -amplitudeRadians, to: amplitudeRadians, durationSeconds: swingSeconds).peakVelocityRadiansPerSecond
    }

    /// Waypoints that take exactly `durationSeconds`, starting at the measured `start`.
    public func trajectory(from start: JointList<Double>, durationSeconds: Double) -> WaypointTrajectory {
        let duration = max(durationSeconds, 0.05)
        let center = JointList<Double>.zeros(start.count)
        var farthest = 0.0
        for joint in 0..<start.count { farthest = max(farthest, abs(start[joint])) }
        let centering = min(duration, max(1.0, farthest / centeringSpeedRadiansPerSecond))
        var waypoints = [WaypointTrajectory.Waypoint(positions: center, moveSeconds: centering)]
        var elapsed = centering
        var sign = 1.0
        var swings = 0
        let returning = swingSeconds / 2
        while true {
            let move = swings == 0 ? swingSeconds / 2 : swingSeconds
            if elapsed + move + holdSeconds + returning > duration { break }
            var target = center
            target[jointIndex] = sign * amplitudeRadians
            waypoints.append(.init(positions: target, moveSeconds: move, holdSeconds: holdSeconds))
            elapsed += move + holdSeconds
            sign = -sign
            swings += 1
        }
        if swings > 0 {
            waypoints.append(.init(positions: center, moveSeconds: returning, holdSeconds: max(0, duration - elapsed - returning)))
        } else {
            waypoints[0].holdSeconds = max(0, duration - centering)
        }
        return WaypointTrajectory(start: start, waypoints: waypoints)
    }
}
