import CommandLineSupport
import Control
import Primitives
import Profiles
import RehabLinkSimulator
import Scenarios
import Session

/// What a scenario names, resolved the way `rehabctl` and `rehabsim` resolve their options: the
/// hardware profile, the exercise, the loop rate and the session's length. Shared by every target,
/// so that a scenario means the same robot and plan in virtual time, on the simulator and on a rig.
public struct ScenarioSetUp {
    public let profile: HardwareProfile
    public let exercise: RangeOfMotionExercise
    /// The exercise file (for `rehabsim --exercise` and the patient's cue).
    public let exercisePath: String
    public let rateHertz: Double
    /// From the loop's start, the enable ramp included.
    public let durationSeconds: Double
    /// The tracker profiles of the scenario's `trackers`, in its order.
    public let trackers: [TrackerProfile]

    /// Why a scenario cannot be set up (a profile or exercise that does not load, a rate out of range).
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ scenario: Scenario, plan: ScenarioPlan) throws(Failure) {
        do throws(ProfileError) {
            profile = try ProfileSearch.load(scenario.profile)
            switch scenario.exercise {
            case .named(let name): exercisePath = try ExerciseLoader.resolve(name, hardwareFolders: ProfileSearch.folders())
            case .file(_, let path): exercisePath = path
            }
            let definition = try ExerciseLoader.load(path: exercisePath)
            // What the file says that this robot and exercise cannot do, before anything starts.
            trackers = try scenario.trackers.map { (name: String) throws(ProfileError) -> TrackerProfile in try ProfileSearch.loadTracker(name) }
            let problems = ScenarioProfileCheck.problems(scenario, profile: profile, exercise: definition, trackers: trackers)
            guard problems.isEmpty else {
                throw ProfileError.invalid(path: scenario.sourcePath, issues: problems)
            }
            var built = try RangeOfMotionExercise(definition, profile: profile)
            // A scenario's duration_s cuts the plan to that time: swings for the time, as `rehabctl --duration`
            // plans them; the file's repetitions would be planned again in full after a FAIR hold's resume.
            if scenario.durationSeconds != nil { built.repetitions = nil }
            exercise = built
            durationSeconds = scenario.durationSeconds
                ?? profile.control.enableRampSeconds + exercise.sessionSeconds(durationSeconds: definition.durationSeconds)
        } catch {
            throw Failure(description: "\(error)")
        }
        rateHertz = plan.rateHertz ?? profile.control.rateHertz
    }

    /// The session's options for `scenario`: rate, length, exercise, the therapist's ranges and
    /// torque caps (by joint name in the file, by index here), holding after a fault.
    public func options(for scenario: Scenario) throws(Failure) -> TherapySession.Options {
        var options = TherapySession.Options(rateHertz: rateHertz, durationSeconds: durationSeconds, exercise: exercise)
        let names = profile.joints.map(\.name)
        if !scenario.patientRanges.isEmpty {
            var ranges = [ClosedRange<Double>?](repeating: nil, count: names.count)
            for range in scenario.patientRanges {
                guard let index = names.firstIndex(of: range.joint) else {
                    throw Failure(description: "patient_range_deg: \(profile.name) has no joint \"\(range.joint)\" (joints: \(names.joined(separator: ", ")))")
                }
                ranges[index] = range.radians
            }
            options.patientRange = ranges
        }
        if !scenario.patientTorqueCaps.isEmpty {
            var caps = [SafetySettings.TorqueCap?](repeating: nil, count: names.count)
            for cap in scenario.patientTorqueCaps {
                guard let index = names.firstIndex(of: cap.joint) else {
                    throw Failure(description: "patient_torque_cap_nm: \(profile.name) has no joint \"\(cap.joint)\" (joints: \(names.joined(separator: ", ")))")
                }
                caps[index] = SafetySettings.TorqueCap(positiveNewtonMeters: cap.positiveNewtonMeters, negativeNewtonMeters: cap.negativeNewtonMeters)
            }
            options.patientTorqueCaps = caps
        }
        options.holdsAfterFault = scenario.holdsAfterFault
        return options
    }

    /// The simulated patient of `preset`, following this exercise's plan as its cue.
    func patient(_ preset: PatientPreset) throws(Failure) -> SimulatedPatient {
        guard let parameters = SimulatedPatient.Parameters.preset(named: preset.rawValue) else {
            throw Failure(description: "no simulated patient \"\(preset.rawValue)\"")
        }
        return SimulatedPatient(parameters: parameters, cue: cue, cueJoint: exercise.jointIndex,
                                cueRange: exercise.rangeMinimumRadians...exercise.rangeMaximumRadians, exercise: exercise)
    }

    /// The exercise's plan from the end of the enable ramp: what a patient and a mirror's other limb follow.
    var cue: WaypointTrajectory {
        exercise.trajectory(from: .zeros(profile.joints.count), durationSeconds: max(0.001, durationSeconds - profile.control.enableRampSeconds))
    }
}
