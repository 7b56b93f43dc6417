import DeviceModel
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
/// Storage for the waypoints is reserved up front (`init(jointCount:capacity:)`), so that a plan
/// can be made inside the control cycle — from the measured state at the moment of activation —
/// without allocating. Sampling never allocates.
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

    public private(set) var start: JointList<Double>
    public private(set) var waypoints: [Waypoint]
    private var startTimes: [Double]
    private var cursor = 0

    /// An empty trajectory (holding `start`) with room for `capacity` waypoints.
    public init(jointCount: Int, capacity: Int) {
        start = .zeros(jointCount)
        waypoints = []
        startTimes = []
        waypoints.reserveCapacity(capacity)
        startTimes.reserveCapacity(capacity)
    }

    /// From `start` through `waypoints` (allocates; for plans made outside the control cycle).
    public init(start: JointList<Double>, waypoints: [Waypoint]) {
        self.init(jointCount: start.count, capacity: waypoints.count)
        replan(from: start)
        for waypoint in waypoints { append(waypoint) }
    }

    /// Starts a new plan at `start`, keeping the reserved storage.
    public mutating func replan(from start: JointList<Double>) {
        precondition(start.count == self.start.count, "a plan keeps its joint count")
        self.start = start
        waypoints.removeAll(keepingCapacity: true)
        startTimes.removeAll(keepingCapacity: true)
        cursor = 0
    }

    /// Adds a move (and hold) at the end. Allocates only beyond the reserved capacity.
    public mutating func append(_ waypoint: Waypoint) {
        precondition(waypoint.moveSeconds > 0 && waypoint.holdSeconds >= 0 && waypoint.positions.count == start.count)
        startTimes.append(durationSeconds)
        waypoints.append(waypoint)
    }

    /// Lengthens the hold after the last move.
    public mutating func extendLastHold(bySeconds seconds: Double) {
        guard !waypoints.isEmpty, seconds > 0 else { return }
        waypoints[waypoints.count - 1].holdSeconds += seconds
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
