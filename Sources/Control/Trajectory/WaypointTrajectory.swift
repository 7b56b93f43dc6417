import Primitives

/// Positions, velocities and accelerations of every joint at one instant.
public struct TrajectorySample: Sendable, Equatable {
    public var positions: JointList<Double>
    public var velocities: JointList<Double>
    public var accelerations: JointList<Double>

    public init(jointCount: Int) {
        positions = .zeros(jointCount)
        velocities = .zeros(jointCount)
        accelerations = .zeros(jointCount)
    }
}

/// A sequence of minimum-jerk moves through joint-space waypoints, each followed by an optional
/// hold; all joints start and finish each move together.
///
/// Built once before the loop starts; sampling never allocates.
public struct WaypointTrajectory: Sendable {
    public struct Waypoint: Sendable, Equatable {
        public var positions: JointList<Double>
        public var moveSeconds: Double
        public var holdSeconds: Double

        public init(positions: JointList<Double>, moveSeconds: Double, holdSeconds: Double = 0) {
            self.positions = positions
            self.moveSeconds = moveSeconds
            self.holdSeconds = holdSeconds
        }
    }

    public let start: JointList<Double>
    public let waypoints: [Waypoint]
    private let startTimes: [Double]
    private var cursor = 0

    /// From `start` through `waypoints`. Every move must have a positive duration.
    public init(start: JointList<Double>, waypoints: [Waypoint]) {
        precondition(waypoints.allSatisfy { $0.moveSeconds > 0 && $0.holdSeconds >= 0 && $0.positions.count == start.count })
        self.start = start
        self.waypoints = waypoints
        var times: [Double] = []
        var time = 0.0
        for waypoint in waypoints {
            times.append(time)
            time += waypoint.moveSeconds + waypoint.holdSeconds
        }
        startTimes = times
    }

    public var durationSeconds: Double {
        guard let last = waypoints.last, let begin = startTimes.last else { return 0 }
        return begin + last.moveSeconds + last.holdSeconds
    }

    public var jointCount: Int { start.count }

    /// The desired motion at `t` seconds from the start (held at the last waypoint afterwards).
    public mutating func sample(at t: Double, into sample: inout TrajectorySample) {
        guard !waypoints.isEmpty else {
            for joint in 0..<start.count {
                sample.positions[joint] = start[joint]
                sample.velocities[joint] = 0
                sample.accelerations[joint] = 0
            }
            return
        }
        if cursor > 0 && t < startTimes[cursor] { cursor = 0 }
        while cursor + 1 < waypoints.count && t >= startTimes[cursor + 1] { cursor += 1 }
        let from = cursor == 0 ? start : waypoints[cursor - 1].positions
        let waypoint = waypoints[cursor]
        let local = t - startTimes[cursor]
        for joint in 0..<start.count {
            let move = MinimumJerk(from: from[joint], to: waypoint.positions[joint], durationSeconds: waypoint.moveSeconds)
            let point = move.sample(at: local)
            sample.positions[joint] = point.position
            sample.velocities[joint] = point.velocity
            sample.accelerations[joint] = point.acceleration
        }
    }

    /// The fastest any joint moves along the whole trajectory [rad/s].
    public var peakVelocityRadiansPerSecond: Double {
        var peak = 0.0
        var from = start
        for waypoint in waypoints {
            for joint in 0..<start.count {
                let move = MinimumJerk(from: from[joint], to: waypoint.positions[joint], durationSeconds: waypoint.moveSeconds)
                peak = max(peak, move.peakVelocityRadiansPerSecond)
            }
            from = waypoint.positions
        }
        return peak
    }
}
