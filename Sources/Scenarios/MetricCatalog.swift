import Control
import StrictJSON

/// The names a `metric` expectation may use: the keys of the session report's exercise metrics
/// (`SessionReport.metrics`, the recording's `/exercise/metrics`), each carrying its unit, plus the
/// degree forms of the angles. Per-joint metrics are arrays in joint order; the expectation names
/// the joint (default: the exercised joint, the metrics' `exercised_joint`).
public enum MetricCatalog {
    /// Per-joint metrics (one number per joint, in the order of the metrics' `joints`).
    public static let perJoint = [
        "rom_rad", "min_position_rad", "max_position_rad", "rms_tracking_error_rad", "max_abs_tracking_error_rad", "peak_torque_nm",
        "peak_interaction_torque_nm", "rms_interaction_torque_nm", "robot_work_j", "patient_work_j", "assistance_ratio",
    ]
    /// Whole-session numbers.
    public static let scalars = ["duration_s", "cycles", "repetitions", "safety_events", "telemetry_records_dropped"]
    /// `link_quality.<key>` numbers (`time_in_grade_s.<GRADE>` besides).
    public static let linkQualityKeys = ["fair_episodes", "poor_episodes", "worst_state_age_ms", "longest_gap_ms"]
    /// The angles in degrees: "rom_deg" is "rom_rad" × 180/π.
    public static let degreeForms: [String: String] = [
        "rom_deg": "rom_rad", "min_position_deg": "min_position_rad", "max_position_deg": "max_position_rad",
        "rms_tracking_error_deg": "rms_tracking_error_rad", "max_abs_tracking_error_deg": "max_abs_tracking_error_rad",
    ]

    /// Every name a file may give, for messages (`time_in_state_s.STATE`, `link_quality.time_in_grade_s.GRADE` stand for their families).
    public static var allNames: [String] {
        perJoint + degreeForms.keys.sorted() + scalars + ["time_in_state_s.STATE"] + linkQualityKeys.map { "link_quality." + $0 }
            + ["link_quality.time_in_grade_s.GRADE"]
    }

    /// Why `name` is no metric (nil: it is one).
    public static func problem(_ name: String) -> String? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1:
            if perJoint.contains(name) || scalars.contains(name) || degreeForms[name] != nil { return nil }
        case 2 where parts[0] == "time_in_state_s":
            if SupervisorState(rawValue: parts[1]) != nil { return nil }
            return "time_in_state_s takes a supervisor state: \(SupervisorState.allCases.map(\.rawValue).joined(separator: ", "))"
        case 2 where parts[0] == "link_quality":
            if linkQualityKeys.contains(parts[1]) { return nil }
        case 3 where parts[0] == "link_quality" && parts[1] == "time_in_grade_s":
            if LinkGrade.allCases.contains(where: { $0.description == parts[2] }) { return nil }
            return "time_in_grade_s takes a grade: GOOD, FAIR, POOR or LOST"
        default:
            break
        }
        return "unknown metric \"\(name)\" (metrics: \(allNames.joined(separator: ", ")))"
    }

    /// Whether `name` is one number per joint.
    public static func isPerJoint(_ name: String) -> Bool {
        perJoint.contains(name) || degreeForms[name] != nil
    }

    /// The value of metric `name` (for `joint`, by name, when it is per joint) in a run's `metrics`;
    /// a failure says why it cannot be read (the run reported no such metric, no such joint).
    public static func value(of name: String, joint: String?, in metrics: JSONValue) -> Result<Double, MetricLookupFailure> {
        guard let object = metrics.objectValue else { return .failure(MetricLookupFailure("the run reported no metrics")) }
        var key = name
        var scale = 1.0
        if let radians = degreeForms[name] {
            key = radians
            scale = 180 / Double.pi
        }
        let parts = key.split(separator: ".").map(String.init)
        var value: JSONValue = .object(object)
        for (depth, part) in parts.enumerated() {
            guard let next = value.objectValue?[part] else {
                // A state never entered is not listed: it had 0 s.
                if depth == 1 && parts[0] == "time_in_state_s" { return .success(0) }
                return .failure(MetricLookupFailure("the run's metrics have no \"\(parts[0...depth].joined(separator: "."))\""))
            }
            value = next
        }
        if let number = value.doubleValue { return .success(number * scale) }
        guard let array = value.arrayValue else {
            return .failure(MetricLookupFailure("\"\(key)\" is \(value.kindDescription), not a number"))
        }
        let names = object["joints"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let index: Int
        if let joint {
            guard let found = names.firstIndex(of: joint) else {
                return .failure(MetricLookupFailure("no joint \"\(joint)\" in the run's metrics (joints: \(names.joined(separator: ", ")))"))
            }
            index = found
        } else if let exercised = object["exercised_joint"]?.stringValue, let found = names.firstIndex(of: exercised) {
            index = found
        } else {
            index = 0
        }
        guard array.indices.contains(index), let number = array[index].doubleValue else {
            return .failure(MetricLookupFailure("\"\(key)\" has no number for joint \(index)"))
        }
        return .success(number * scale)
    }
}

/// Why a metric could not be read from a run.
public struct MetricLookupFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
