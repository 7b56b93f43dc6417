import Control
import Profiles

/// What a scenario says that its robot, exercise and trackers cannot do — checked once they are
/// loaded (a scenario file names them; the loader alone cannot know them): fault kinds the robot's
/// simulator does not know, joints and servos it does not have, modes its exercise does not offer,
/// tracker faults a tracker's protocol does not have, a workspace tracker that reports no position.
/// The runner calls it before anything starts; ScenariosTests runs it over every shipped scenario.
public enum ScenarioProfileCheck {
    /// Every problem, each with the path of the scenario's field.
    public static func problems(
        _ scenario: Scenario, profile: HardwareProfile, exercise: ExerciseDefinition? = nil, trackers: [TrackerProfile] = []
    ) -> [ProfileIssue] {
        var issues: [ProfileIssue] = []
        func add(_ path: String, _ message: String) { issues.append(ProfileIssue(path: path, message: message)) }
        let jointNames = profile.joints.map(\.name)
        let robotFamily: FaultEntry.Family? = switch profile.device.protocolFamily {
        case "rehablink": .rehablink
        case "dynamixel": .dynamixel
        default: nil
        }
        let servoIDs = profile.device.protocolFields?["servos"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.integerValue }.map { Int($0) } ?? []

        func checkRobotFault(_ fault: FaultEntry, path: String) {
            let families = FaultEntry.families(of: fault.kind)
            if !families.contains(.link) {
                if let robotFamily {
                    if !families.contains(robotFamily) {
                        add(path + ".kind", "\(fault.kind) is not a fault of \(profile.name)'s simulator (\(profile.device.protocolIdentifier): "
                            + FaultEntry.kindNames(in: [.link, robotFamily]).joined(separator: ", ") + ")")
                    }
                } else {
                    add(path + ".kind", "no simulator knows device faults of \(profile.device.protocolIdentifier); only the line's: "
                        + FaultEntry.kindNames(in: [.link]).joined(separator: ", "))
                }
            }
            if let joint = fault.joint, joint >= jointNames.count {
                add(path + ".joint", "\(profile.name) has joints 0 … \(jointNames.count - 1) (\(jointNames.joined(separator: ", "))), not \(joint)")
            }
            if let id = fault.servoID, !servoIDs.contains(id) {
                add(path + ".id", "\(profile.name) has no servo \(id) (its servos: \(servoIDs.map(String.init).joined(separator: ", ")))")
            }
        }
        for (index, fault) in scenario.faults.enumerated() { checkRobotFault(fault, path: "faults[\(index)]") }

        let trackerProfiles = Dictionary(trackers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (index, name) in scenario.trackers.enumerated() where trackerProfiles[name] == nil {
            add("trackers[\(index)]", "no tracker profile \"\(name)\" was given (hardware/trackers/\(name).json)")
        }
        func family(of tracker: TrackerProfile) -> String { String(tracker.protocolIdentifier.prefix { $0 != "/" }) }
        func gatesMotion(_ tracker: TrackerProfile) -> Bool { tracker.framePeriodNanoseconds <= TrackerInterlock.slowestAllowedPeriodNanoseconds }

        for entry in scenario.timeline {
            let path = "timeline[\(entry.index)]"
            switch entry.action {
            case .deviceFault(let fault, _):
                checkRobotFault(fault, path: path + ".fault")
            case .trackerFault(let name, let fault, _):
                guard name != "reference" else {
                    if let exercise, exercise.mirror == nil {
                        add(path + ".tracker", "the reference stream is mirror mode's: \(exercise.name) has no mirror block")
                    }
                    continue
                }
                guard let tracker = trackerProfiles[name] else { continue }
                let trackerFamily: FaultEntry.Family? = switch family(of: tracker) {
                case "ndi": .ndi
                case "xsens", "bno08x": .inertial
                default: nil
                }
                let families = FaultEntry.families(of: fault.kind)
                if !families.contains(.link) {
                    if let trackerFamily, !families.contains(trackerFamily) {
                        add(path + ".fault.kind", "\(fault.kind) is not a fault of \(name) (\(tracker.protocolIdentifier): "
                            + FaultEntry.kindNames(in: [.link, trackerFamily]).joined(separator: ", ") + ")")
                    } else if trackerFamily == nil {
                        add(path + ".fault.kind", "no simulator knows the faults of \(tracker.protocolIdentifier) trackers")
                    }
                }
                if fault.kind == "tracker_drift" {
                    if trackerFamily == .ndi && fault.entry["drift_mm_per_s"] == nil {
                        add(path + ".fault", "\(name) is an NDI tracker: its tool's position drifts, in drift_mm_per_s")
                    } else if trackerFamily == .inertial && fault.entry["drift_deg_per_s"] == nil {
                        add(path + ".fault", "\(name) is an IMU: its heading drifts, in drift_deg_per_s")
                    }
                }
            case .mode(let mode):
                guard let exercise else { continue }
                var available = ["exercise", "passive", exercise.mode]
                if exercise.assistance != nil { available.append("active_assist") }
                if exercise.resistance != nil { available.append("active_resist") }
                if exercise.transparency != nil { available.append("transparent") }
                if exercise.mirror != nil { available.append("mirror") }
                if !available.contains(mode) {
                    add(path + ".mode", "\(exercise.name) offers no \(mode) (its modes: \(Array(Set(available)).sorted().joined(separator: ", ")))")
                }
            default:
                break
            }
        }

        for (index, range) in scenario.patientRanges.enumerated() where !jointNames.contains(range.joint) {
            add("patient_limits.rom_deg.\(range.joint)", "no joint \"\(range.joint)\" in \(profile.name) (joints: \(jointNames.joined(separator: ", "))) [\(index)]")
        }
        for cap in scenario.patientTorqueCaps where !jointNames.contains(cap.joint) {
            add("patient_limits.torque_cap_nm.\(cap.joint)", "no joint \"\(cap.joint)\" in \(profile.name) (joints: \(jointNames.joined(separator: ", ")))")
        }
        for expectation in scenario.expectations {
            let path = "expect[\(expectation.index)]"
            switch expectation.kind {
            case .event(let event):
                if let joint = event.matcher.joint, joint >= jointNames.count { add(path + ".event.joint", "\(profile.name) has joints 0 … \(jointNames.count - 1)") }
            case .noEvent(let matcher, _):
                if let joint = matcher.joint, joint >= jointNames.count { add(path + ".no_event.joint", "\(profile.name) has joints 0 … \(jointNames.count - 1)") }
            case .deviceEvent(let event):
                if let joint = event.joint, joint >= jointNames.count { add(path + ".device_event.joint", "\(profile.name) has joints 0 … \(jointNames.count - 1)") }
            case .noDeviceEvent(_, let joint?, _):
                if joint >= jointNames.count { add(path + ".no_device_event.joint", "\(profile.name) has joints 0 … \(jointNames.count - 1)") }
            case .metric(let metric):
                if let joint = metric.joint, !jointNames.contains(joint) {
                    add(path + ".metric.joint", "no joint \"\(joint)\" in \(profile.name) (joints: \(jointNames.joined(separator: ", ")))")
                }
            default:
                break
            }
        }

        if let exercise {
            for issue in ExerciseLoader.problems(exercise, profile: profile) {
                add("exercise", "\(exercise.name): \(issue.description)")
            }
            if scenario.referenceTracker != nil && exercise.mirror == nil {
                add("reference_tracker", "a reference tracker drives mirror mode: \(exercise.name) has no mirror block")
            }
        }
        if let name = scenario.referenceTracker, let tracker = trackerProfiles[name], !gatesMotion(tracker) {
            add("reference_tracker", "\(name) streams at \(tracker.rateHertz) Hz: SR-15 lets nothing below 60 Hz gate motion")
        }
        if let workspace = scenario.workspace, let tracker = trackerProfiles[workspace.tracker] {
            if family(of: tracker) != "ndi" {
                add("workspace.tracker", "\(tracker.name) (\(tracker.protocolIdentifier)) reports no position: SR-16 needs a tool's (an NDI tracker's)")
            }
            if !gatesMotion(tracker) {
                add("workspace.tracker", "\(tracker.name) measures at \(tracker.rateHertz) Hz: SR-15 lets nothing below 60 Hz gate motion")
            }
        }
        return issues
    }
}
