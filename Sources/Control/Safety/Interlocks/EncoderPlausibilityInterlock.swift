import DeviceModel
import Primitives

/// SR-10: an encoder step larger than `jumpFactor` × rated speed × elapsed device time → Cat 1; a
/// bit-identical count for `frozenNanoseconds` while the command demands motion → Cat 1. Counts are
/// the 64-bit extension of the device's wrapping counter, so a clean wrap is a small step.
public struct EncoderPlausibilityInterlock: Sendable {
    public let ratedSpeeds: JointList<Double>
    public let countsPerRevolution: JointList<Int>
    public let jumpFactor: Double
    public let frozenNanoseconds: Int64
    private var lastCounts: JointList<Int64>
    private var lastDeviceTime: Int64 = 0
    private var started = false
    private var frozenSince: JointList<Int64>

    public init(ratedSpeeds: JointList<Double>, countsPerRevolution: JointList<Int>, jumpFactor: Double, frozenNanoseconds: Int64) {
        self.ratedSpeeds = ratedSpeeds
        self.countsPerRevolution = countsPerRevolution
        self.jumpFactor = jumpFactor
        self.frozenNanoseconds = frozenNanoseconds
        lastCounts = JointList(count: ratedSpeeds.count, repeating: 0)
        frozenSince = JointList(count: ratedSpeeds.count, repeating: -1)
    }

    /// Call with every fresh state. `demandsMotion[j]`: the command of joint j asks it to move.
    public mutating func evaluate(_ state: RobotState, demandsMotion: JointList<Bool>, at time: MonotonicInstant) -> SafetyTrip? {
        defer {
            for joint in 0..<lastCounts.count { lastCounts[joint] = state.joints[joint].encoderCounts }
            lastDeviceTime = state.deviceTimeNanoseconds
            started = true
        }
        guard started else { return nil }
        var worst: SafetyTrip?
        let elapsed = Double(max(0, state.deviceTimeNanoseconds - lastDeviceTime)) * 1e-9
        for joint in 0..<lastCounts.count {
            let counts = state.joints[joint].encoderCounts
            let step = Double(counts - lastCounts[joint]) * 2 * Double.pi / Double(countsPerRevolution[joint])
            // One count of slack: quantisation alone must never trip it.
            let allowed = jumpFactor * ratedSpeeds[joint] * elapsed + 2 * Double.pi / Double(countsPerRevolution[joint])
            if abs(step) > allowed {
                worst = SafetyTrip.moreSevere(
                    worst, SafetyTrip(category: .cat1, cause: .encoderJump, value: Units.degrees(fromRadians: step), joint: joint))
            }
            if counts == lastCounts[joint] && demandsMotion[joint] {
                if frozenSince[joint] < 0 { frozenSince[joint] = time.nanoseconds }
                let frozen = time.nanoseconds - frozenSince[joint]
                if frozen >= frozenNanoseconds {
                    worst = SafetyTrip.moreSevere(
                        worst, SafetyTrip(category: .cat1, cause: .encoderFrozen, value: Double(frozen) * 1e-6, joint: joint))
                }
            } else {
                frozenSince[joint] = -1
            }
        }
        return worst
    }
}
