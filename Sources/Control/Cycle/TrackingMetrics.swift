import DeviceModel
import Primitives

/// Tracking error, torque, work and assistance statistics, accumulated in place (no allocation:
/// the per-repetition list is reserved at start).
public struct TrackingMetrics: Sendable {
    public internal(set) var squaredError: JointList<Double>
    public internal(set) var maxAbsError: JointList<Double>
    public internal(set) var maxAbsTorque: JointList<Double>
    public internal(set) var minimumPosition: JointList<Double>
    public internal(set) var maximumPosition: JointList<Double>
    public internal(set) var samples = 0
    /// Positive mechanical work done on the limb by the robot and by the patient [J].
    public internal(set) var robotWork: JointList<Double>
    public internal(set) var patientWork: JointList<Double>
    public internal(set) var peakInteractionTorque: JointList<Double>
    public internal(set) var squaredInteraction: JointList<Double>
    public internal(set) var workSamples = 0
    /// The mean assistance gain of each completed repetition (active-assist).
    public internal(set) var assistanceByRepetition: [Double]
    /// False on a rehearsal copy (`TherapyCycle.rehearsalCopy`): the list's storage is shared.
    var keepsLog = true
    private var assistanceSum = 0.0
    private var assistanceCount = 0

    init(jointCount: Int, repetitionCapacity: Int) {
        squaredError = .zeros(jointCount)
        maxAbsError = .zeros(jointCount)
        maxAbsTorque = .zeros(jointCount)
        minimumPosition = JointList(count: jointCount, repeating: .infinity)
        maximumPosition = JointList(count: jointCount, repeating: -.infinity)
        robotWork = .zeros(jointCount)
        patientWork = .zeros(jointCount)
        peakInteractionTorque = .zeros(jointCount)
        squaredInteraction = .zeros(jointCount)
        assistanceByRepetition = []
        assistanceByRepetition.reserveCapacity(max(1, repetitionCapacity))
    }

    // Each element of a list passed in is read once per joint, before anything is written: every
    // read copies the whole 8-element list to the stack, and the optimiser cannot reuse a copy
    // across a write to `self` (docs/performance.md, session G).
    mutating func recordTracking(target: TrajectorySample, measured: JointList<JointMeasurement>) {
        for joint in 0..<squaredError.count {
            let position = measured[joint].positionRadians
            let error = target.positions[joint] - position
            squaredError[joint] += error * error
            maxAbsError[joint] = max(maxAbsError[joint], abs(error))
            minimumPosition[joint] = min(minimumPosition[joint], position)
            maximumPosition[joint] = max(maximumPosition[joint], position)
        }
        samples += 1
    }

    mutating func recordTorques(_ actuation: JointList<JointActuation>) {
        for joint in 0..<maxAbsTorque.count {
            let command = actuation[joint]
            if command.mode == .torque { maxAbsTorque[joint] = max(maxAbsTorque[joint], abs(command.torqueNewtonMeters)) }
        }
    }

    /// Net work done on the limb's motion by the robot (commanded torque) and by the patient
    /// (interaction torque) over one cycle: a resisting robot or a passive, springy limb does negative work.
    mutating func recordWork(_ actuation: JointList<JointActuation>, measured: JointList<JointMeasurement>, seconds: Double) {
        for joint in 0..<robotWork.count {
            let state = measured[joint]
            let command = actuation[joint]
            let velocity = state.velocityRadiansPerSecond
            let interaction = state.interactionTorqueNewtonMeters
            if command.mode == .torque { robotWork[joint] += command.torqueNewtonMeters * velocity * seconds }
            patientWork[joint] += interaction * velocity * seconds
            peakInteractionTorque[joint] = max(peakInteractionTorque[joint], abs(interaction))
            squaredInteraction[joint] += interaction * interaction
        }
        workSamples += 1
    }

    mutating func recordAssistance(gain: Double) {
        assistanceSum += gain
        assistanceCount += 1
    }

    mutating func repetitionCompleted() {
        guard assistanceCount > 0 else { return }
        if keepsLog && assistanceByRepetition.count < assistanceByRepetition.capacity {
            assistanceByRepetition.append(assistanceSum / Double(assistanceCount))
        }
        assistanceSum = 0
        assistanceCount = 0
    }

    public func rmsError(_ joint: Int) -> Double {
        samples == 0 ? 0 : (squaredError[joint] / Double(samples)).squareRoot()
    }

    public func rmsInteractionTorque(_ joint: Int) -> Double {
        workSamples == 0 ? 0 : (squaredInteraction[joint] / Double(workSamples)).squareRoot()
    }

    /// The robot's share of the work that drove the motion: max(0, W_robot) / (max(0, W_robot) + max(0, W_patient));
    /// 1 when the robot moved a passive limb, 0 when it only resisted; 0 when nothing moved.
    public func assistanceRatio(_ joint: Int) -> Double {
        let robot = max(0, robotWork[joint])
        let total = robot + max(0, patientWork[joint])
        return total > 0 ? robot / total : 0
    }
}
