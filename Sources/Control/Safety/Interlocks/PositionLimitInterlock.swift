import DeviceModel
import Primitives

/// SR-7: measured more than `beyondSoftCat1Radians` past a soft limit → Cat 1; at a hard limit (or
/// the device's hard-stop flag) → Cat 0. Stateless; evaluated on every fresh state.
public struct PositionLimitInterlock: Sendable {
    public let joints: JointList<JointSafetyLimits>
    public let beyondSoftCat1Radians: Double

    public init(joints: JointList<JointSafetyLimits>, beyondSoftCat1Radians: Double) {
        self.joints = joints
        self.beyondSoftCat1Radians = beyondSoftCat1Radians
    }

    public func evaluate(_ state: RobotState) -> SafetyTrip? {
        var worst: SafetyTrip?
        for joint in 0..<joints.count {
            let limits = joints[joint]
            let measured = state.joints[joint]
            let q = measured.positionRadians
            if measured.atLowerHardStop || measured.atUpperHardStop || q <= limits.hardMinimumRadians || q >= limits.hardMaximumRadians {
                let beyond = q >= limits.hardMaximumRadians || measured.atUpperHardStop
                    ? q - limits.softMaximumRadians : limits.softMinimumRadians - q
                worst = SafetyTrip.moreSevere(
                    worst, SafetyTrip(category: .cat0, cause: .positionHardLimit, value: Units.degrees(fromRadians: beyond), joint: joint))
                continue
            }
            let beyond = max(q - limits.softMaximumRadians, limits.softMinimumRadians - q)
            if beyond > beyondSoftCat1Radians {
                worst = SafetyTrip.moreSevere(
                    worst, SafetyTrip(category: .cat1, cause: .positionBeyondSoftLimit, value: Units.degrees(fromRadians: beyond), joint: joint))
            }
        }
        return worst
    }
}
