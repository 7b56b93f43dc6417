import DeviceModel
import Primitives

/// SR-8: |q̇| above the trip for `cycles` fresh states in a row → Cat 1; above 1.5 × the trip → Cat 0.
public struct VelocityInterlock: Sendable {
    public let tripRadiansPerSecond: Double
    public let cycles: Int
    private var above: JointList<Int>

    public init(jointCount: Int, tripRadiansPerSecond: Double, cycles: Int) {
        self.tripRadiansPerSecond = tripRadiansPerSecond
        self.cycles = cycles
        above = JointList(count: jointCount, repeating: 0)
    }

    /// Call with every fresh state.
    public mutating func evaluate(_ state: RobotState) -> SafetyTrip? {
        var worst: SafetyTrip?
        for joint in 0..<above.count {
            let speed = abs(state.joints[joint].velocityRadiansPerSecond)
            if speed > 1.5 * tripRadiansPerSecond {
                worst = SafetyTrip.moreSevere(worst, SafetyTrip(category: .cat0, cause: .overspeed, value: speed, joint: joint))
            }
            above[joint] = speed > tripRadiansPerSecond ? above[joint] + 1 : 0
            if above[joint] >= cycles {
                worst = SafetyTrip.moreSevere(worst, SafetyTrip(category: .cat1, cause: .velocityTrip, value: speed, joint: joint))
            }
        }
        return worst
    }
}
