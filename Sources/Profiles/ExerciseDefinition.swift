import Control
import DeviceModel
import Primitives
import StrictJSON

/// An exercise file (hardware/exercises/*.json), validated and in SI units: which therapy mode,
/// which joint, over what range, how fast, how many times, with what impedance.
///
/// Modes: `passive`, `active_assist` (with `assistance`), `active_resist` (with `resistance`),
/// `transparent` (with `transparency`), `mirror` (with `mirror`: the joint follows a RehabRef
/// reference stream, protocols/rehabref/README.md). `mode` is the one the exercise starts in; the
/// settings blocks of other modes make them available to switch to while it runs.
public struct ExerciseDefinition: Sendable, Equatable {
    public static let format = "rehabhost-exercise/1"

    /// The settings of the mode (`assistance`, `resistance`, `transparency`, `mirror`): one of them, or none for passive.
    public var assistance: AssistAsNeeded.Parameters?
    public var resistance: Resistance?
    public var transparency: Transparency?
    public var mirror: Mirror?

    public var name: String
    public var description: String
    public var mode: String
    /// The exercised joint, by its profile name.
    public var jointName: String
    public var rangeMinimumRadians: Double
    public var rangeMaximumRadians: Double
    /// Out-and-back repetitions, or a duration: exactly one of the two.
    public var repetitions: Int?
    public var durationSeconds: Double?
    /// One swing from one end of the range to the other.
    public var movementSeconds: Double
    public var holdSeconds: Double
    public var stiffnessNewtonMetersPerRadian: Double?
    public var dampingNewtonMeterSecondsPerRadian: Double?
    /// The file it came from (for messages).
    public var sourcePath: String
}

/// Loads exercise files; every problem is reported at once with its JSON path and the unit expected.
public enum ExerciseLoader {
    public static func load(path: String) throws(ProfileError) -> ExerciseDefinition {
        let object = try ConfigurationFile.loadObject(at: path)
        return try parse(object, sourcePath: path)
    }

    /// Finds an exercise by name or path: a path if it contains a '/' or ends in .json, else
    /// `<folder>/exercises/<name>.json` in each of `hardwareFolders`.
    public static func resolve(_ nameOrPath: String, hardwareFolders: [String]) throws(ProfileError) -> String {
        try HardwareProfileLoader.resolve(nameOrPath, searchFolders: hardwareFolders.map { $0 + "/exercises" })
    }

    public static func parse(_ object: JSONObject, sourcePath: String) throws(ProfileError) -> ExerciseDefinition {
        let issues = IssueCollector()
        var root = FieldReader(object, path: "", issues: issues)
        if let format = root.string("format"), format != ExerciseDefinition.format {
            root.report("format", "expected \"\(ExerciseDefinition.format)\", found \"\(format)\"")
        }
        let name = root.string("name")
        let description = root.string("description", required: false, nonEmpty: false) ?? ""
        var mode = root.string("mode")
        if let given = mode, !TherapyMode.names.contains(given) {
            root.report("mode", "unknown mode \"\(given)\"; modes: \(TherapyMode.names.joined(separator: ", "))")
            mode = nil
        }
        let joint = root.string("joint")
        let minimum = root.number("range_min_deg", unit: "°", in: -180...0)
        let maximum = root.number("range_max_deg", unit: "°", in: 0...180)
        if let minimum, let maximum, !(minimum < 0 && maximum > 0) {
            root.report("range_min_deg", "the range must contain neutral (0°) strictly: the exercise starts and ends there")
        }
        let repetitions = root.integer("repetitions", unit: "repetitions", in: 1...10_000, required: false)
        let duration = root.number("duration_s", unit: "s", in: 0.5...86_400, required: false)
        if (repetitions == nil) == (duration == nil) && issues.issues.allSatisfy({ !$0.path.hasPrefix("repetitions") && !$0.path.hasPrefix("duration_s") }) {
            root.report("repetitions", "give either repetitions or duration_s (exactly one)")
        }
        let movement = root.number("movement_s", unit: "s", in: 0.3...60)
        let hold = root.number("hold_s", unit: "s", in: 0...60, required: false, default: 0.25)
        let stiffness = root.number("stiffness_nm_per_rad", unit: "N·m/rad", in: 0...10_000, required: false)
        let damping = root.number("damping_nm_s_per_rad", unit: "N·m·s/rad", in: 0...1_000, required: false)
        // The settings block of the mode is required; the blocks of other modes make those modes
        // available to switch to during the exercise (`rehabctl mode NAME`).
        var assistance: AssistAsNeeded.Parameters?
        var resistance: Resistance?
        var transparency: Transparency?
        var mirror: Mirror?
        for (block, owner) in [("assistance", "active_assist"), ("resistance", "active_resist"), ("transparency", "transparent"), ("mirror", "mirror")] {
            guard var reader = root.object(block, required: mode == owner) else { continue }
            switch block {
            case "assistance":
                let minimum = reader.number("gain_min", unit: "(a fraction)", in: 0...1)
                let maximum = reader.number("gain_max", unit: "(a fraction)", in: 0...1)
                let initial = reader.number("gain_initial", unit: "(a fraction)", in: 0...1)
                let forgetting = reader.number("forgetting_factor_per_s", unit: "(a fraction kept per second)", in: 0.01...0.999)
                let errorGain = reader.number("error_gain_per_rad_s", unit: "1/(rad·s)", in: 0...1_000)
                let deadband = reader.number("error_deadband_deg", unit: "°", in: 0...30, required: false, default: 0)
                if let minimum, let maximum, minimum > maximum { reader.report("gain_min", "must not exceed gain_max") }
                if let minimum, let maximum, let initial, minimum <= maximum, !(minimum...maximum).contains(initial) {
                    reader.report("gain_initial", "must lie between gain_min and gain_max")
                }
                if let minimum, let maximum, let initial, let forgetting, let errorGain, let deadband {
                    assistance = .init(minimumGain: minimum, maximumGain: maximum, initialGain: initial, forgettingFactorPerSecond: forgetting,
                                       errorGainPerRadianSecond: errorGain, errorDeadbandRadians: deadband * Units.radiansPerDegree)
                }
            case "resistance":
                let spring = reader.number("spring_nm_per_rad", unit: "N·m/rad", in: 0...10_000)
                let damper = reader.number("damper_nm_s_per_rad", unit: "N·m·s/rad", in: 0...1_000)
                let constant = reader.number("constant_nm", unit: "N·m", in: 0...1_000)
                let maximum = reader.number("max_torque_nm", unit: "N·m", positive: true)
                if let spring, let damper, let constant, let maximum {
                    resistance = .init(springNewtonMetersPerRadian: spring, damperNewtonMeterSecondsPerRadian: damper,
                                       constantNewtonMeters: constant, maximumTorqueNewtonMeters: maximum)
                }
            case "mirror":
                let scale = reader.number("scale", unit: "(−1: mirror image, 1: same direction)", in: -2...2)
                if let scale, abs(scale) < 0.1 { reader.report("scale", "must be at least 0.1 in size: the reference has to move the joint") }
                let offset = reader.number("offset_deg", unit: "°", in: -90...90, required: false, default: 0)
                let speed = reader.number("max_speed_deg_per_s", unit: "°/s", positive: true)
                let rms = reader.number("max_rms_error_mm", unit: "mm", in: 0.01...10, required: false, default: 1)
                // Optional: without it the target reaches full speed in Mirror.defaultSecondsToFullSpeed.
                let acceleration = reader.number("max_acceleration_rad_per_s2", unit: "rad/s²", in: 0.1...1_000, required: false)
                if let scale, abs(scale) >= 0.1, let offset, let speed, let rms {
                    mirror = Mirror(scale: scale, offsetRadians: offset * Units.radiansPerDegree,
                                    maximumSpeedRadiansPerSecond: speed * Units.radiansPerDegree, maximumRmsErrorMillimeters: rms,
                                    maximumAccelerationRadiansPerSecondSquared: acceleration)
                }
            default:
                let friction = reader.number("friction_compensation", unit: "(a fraction of the modelled friction)", in: 0...1)
                let inertia = reader.number("inertia_compensation", unit: "(a fraction of the link inertia)", in: 0...0.8)
                if let friction, let inertia { transparency = .init(frictionCompensation: friction, inertiaCompensation: inertia) }
            }
            reader.finish()
        }
        root.finish()
        guard issues.issues.isEmpty, let name, let mode, let joint, let minimum, let maximum, let movement, let hold else {
            throw .invalid(path: sourcePath, issues: issues.reported)
        }
        return ExerciseDefinition(
            assistance: assistance, resistance: resistance, transparency: transparency, mirror: mirror, name: name, description: description, mode: mode, jointName: joint,
            rangeMinimumRadians: minimum * Units.radiansPerDegree, rangeMaximumRadians: maximum * Units.radiansPerDegree,
            repetitions: repetitions.map { Int($0) }, durationSeconds: duration, movementSeconds: movement, holdSeconds: hold,
            stiffnessNewtonMetersPerRadian: stiffness, dampingNewtonMeterSecondsPerRadian: damping, sourcePath: sourcePath)
    }

    /// What does not fit `profile`: the joint, the range against the soft limits (narrowed by a
    /// patient's range when given), the speed against the velocity trip and the joint's rating.
    public static func problems(_ exercise: ExerciseDefinition, profile: HardwareProfile) -> [ProfileIssue] {
        guard let joint = profile.joints.first(where: { $0.name == exercise.jointName }) else {
            return [ProfileIssue(path: "joint", message: "\"\(exercise.jointName)\" is not a joint of \(profile.name) (joints: \(profile.joints.map(\.name).joined(separator: ", ")))")]
        }
        var problems: [ProfileIssue] = []
        let margin = profile.safety.softLimitMarginRadians
        let softMinimum = joint.hardLimitMinimumRadians + margin
        let softMaximum = joint.hardLimitMaximumRadians - margin
        // Derived from radians: to a tenth of a degree, as an engineer would write it.
        func degrees(_ radians: Double) -> String { format((Units.degrees(fromRadians: radians) * 10).rounded() / 10) }
        if exercise.rangeMinimumRadians < softMinimum {
            problems.append(ProfileIssue(path: "range_min_deg", message: "\(degrees(exercise.rangeMinimumRadians))° is beyond the soft limit of \(joint.name) (\(degrees(softMinimum))°: hard limit + \(degrees(margin))° margin)"))
        }
        if exercise.rangeMaximumRadians > softMaximum {
            problems.append(ProfileIssue(path: "range_max_deg", message: "\(degrees(exercise.rangeMaximumRadians))° is beyond the soft limit of \(joint.name) (\(degrees(softMaximum))°: hard limit − \(degrees(margin))° margin)"))
        }
        let peak = 1.875 * (exercise.rangeMaximumRadians - exercise.rangeMinimumRadians) / exercise.movementSeconds
        let allowed = min(profile.safety.velocityTripRadiansPerSecond, joint.ratedVelocityRadiansPerSecond)
        // Keep a margin below the trip: tracking overshoot must not reach it.
        if let resistance = exercise.resistance, resistance.maximumTorqueNewtonMeters > joint.torqueLimitNewtonMeters {
            problems.append(ProfileIssue(path: "resistance.max_torque_nm", message: "\(format(resistance.maximumTorqueNewtonMeters)) N·m exceeds the torque limit of \(joint.name) (\(format(joint.torqueLimitNewtonMeters)) N·m)"))
        }
        if let mirror = exercise.mirror, mirror.maximumSpeedRadiansPerSecond > 0.8 * allowed {
            problems.append(ProfileIssue(path: "mirror.max_speed_deg_per_s", message: "\(degrees(mirror.maximumSpeedRadiansPerSecond)) °/s is above 80 % of the velocity trip of \(joint.name) (\(degrees(allowed)) °/s): at most \(degrees(0.8 * allowed)) °/s"))
        }
        // The mirror target must not change speed faster than the robot's own Cat 1 stop does.
        if let mirror = exercise.mirror, mirror.maximumAccelerationRadiansPerSecondSquared > profile.control.quickStopDecelerationRadiansPerSecondSquared {
            problems.append(ProfileIssue(path: "mirror.max_acceleration_rad_per_s2", message: "\(format(mirror.maximumAccelerationRadiansPerSecondSquared)) rad/s² is above the quick-stop deceleration of \(profile.name) (\(format(profile.control.quickStopDecelerationRadiansPerSecondSquared)) rad/s²)"))
        }
        if peak >= 0.8 * allowed {
            problems.append(ProfileIssue(path: "movement_s", message: "a swing over the range in \(format(exercise.movementSeconds)) s peaks at \(format(peak)) rad/s, above 80 % of the velocity trip (\(format(allowed)) rad/s); at least \(format((1.875 * (exercise.rangeMaximumRadians - exercise.rangeMinimumRadians) / (0.8 * allowed) * 10).rounded(.up) / 10)) s"))
        }
        return problems
    }
}
