import DeviceModel
import Primitives

/// SR-9: interaction torque above a joint's trip continuously for the dwell time → Cat 1; above
/// 1.5 × the trip → Cat 1 at once. A shorter spike (a tremor, a bump) does not trip.
public struct InteractionTorqueInterlock: Sendable {
    public let trips: JointList<Double>
    public let dwellNanoseconds: Int64
    /// When each joint went above its trip (nil-equivalent: -1).
    private var aboveSince: JointList<Int64>

    /// `trips[j]` ≤ 0 means joint j has no sensor and is not checked.
    public init(trips: JointList<Double>, dwellNanoseconds: Int64) {
        self.trips = trips
        self.dwellNanoseconds = dwellNanoseconds
        aboveSince = JointList(count: trips.count, repeating: -1)
    }

    /// Call with every fresh state; `time` is when it was received.
    public mutating func evaluate(_ state: RobotState, at time: MonotonicInstant) -> SafetyTrip? {
        var worst: SafetyTrip?
        for joint in 0..<trips.count where trips[joint] > 0 {
            let torque = abs(state.joints[joint].interactionTorqueNewtonMeters)
            if torque > 1.5 * trips[joint] {
                worst = SafetyTrip.moreSevere(worst, SafetyTrip(category: .cat1, cause: .interactionTorqueSevere, value: torque, joint: joint))
            }
            if torque > trips[joint] {
                if aboveSince[joint] < 0 { aboveSince[joint] = time.nanoseconds }
                if time.nanoseconds - aboveSince[joint] >= dwellNanoseconds {
                    worst = SafetyTrip.moreSevere(worst, SafetyTrip(category: .cat1, cause: .interactionTorque, value: torque, joint: joint))
                }
            } else {
                aboveSince[joint] = -1
            }
        }
        return worst
    }
}
