import Control
import DeviceModel

extension RangeOfMotionExercise {
    /// The exercise (and its mode) of a validated exercise file on `profile`; refuses, with every reason,
    /// what does not fit the robot.
    public init(_ definition: ExerciseDefinition, profile: HardwareProfile) throws(ProfileError) {
        let problems = ExerciseLoader.problems(definition, profile: profile)
        guard problems.isEmpty, let joint = profile.joints.firstIndex(where: { $0.name == definition.jointName }) else {
            throw .invalid(path: definition.sourcePath, issues: problems)
        }
        self.init(
            jointIndex: joint, rangeRadians: definition.rangeMinimumRadians...definition.rangeMaximumRadians,
            swingSeconds: definition.movementSeconds, holdSeconds: definition.holdSeconds, repetitions: definition.repetitions)
        stiffnessNewtonMetersPerRadian = definition.stiffnessNewtonMetersPerRadian
        dampingNewtonMeterSecondsPerRadian = definition.dampingNewtonMeterSecondsPerRadian
        var configured: [TherapyMode] = [.passive]
        if let assistance = definition.assistance { configured.append(.activeAssist(assistance)) }
        if let resistance = definition.resistance { configured.append(.activeResist(resistance)) }
        if let transparency = definition.transparency { configured.append(.transparent(transparency)) }
        if let mirror = definition.mirror { configured.append(.mirror(mirror)) }
        mode = configured.first { $0.name == definition.mode } ?? .passive
        otherModes = configured.filter { $0.name != definition.mode && $0 != .passive }
    }

    /// The session time the exercise needs after the enable ramp: its duration, or its repetitions
    /// with room for bringing a joint to neutral first (the plan ends with the last repetition).
    public func sessionSeconds(durationSeconds: Double?) -> Double {
        if let repetitions { return self.durationSeconds(repetitions: repetitions, centeringSeconds: 3) }
        return durationSeconds ?? 10
    }
}
