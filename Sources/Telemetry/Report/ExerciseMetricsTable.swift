import StrictJSON

/// The exercise metrics for people: named rows with their units (angles in degrees, the robot's
/// share in %), one column per joint, the assistance per repetition as a list, the time in each
/// supervisor state as a table of its own. The raw keys are in the engineering part only
/// (`HTMLReport`'s raw metrics).
enum ExerciseMetricsTable {
    /// A per-joint metric: its key, its name with the unit, and how a value is shown.
    private struct Row: Sendable {
        var key: String
        var name: String
        var show: @Sendable (Double?) -> String
    }

    private static let perJointRows: [Row] = [
        Row(key: "rom_rad", name: "Range of motion [°]") { ReportFormat.degreesValue(radians: $0) },
        Row(key: "min_position_rad", name: "Lowest position [°]") { ReportFormat.degreesValue(radians: $0) },
        Row(key: "max_position_rad", name: "Highest position [°]") { ReportFormat.degreesValue(radians: $0) },
        Row(key: "rms_tracking_error_rad", name: "Tracking error, RMS [°]") { ReportFormat.degreesValue(radians: $0, decimals: 2) },
        Row(key: "max_abs_tracking_error_rad", name: "Tracking error, largest [°]") { ReportFormat.degreesValue(radians: $0, decimals: 2) },
        Row(key: "peak_torque_nm", name: "Robot torque, peak [N·m]") { ReportFormat.decimals($0, 3) },
        Row(key: "peak_interaction_torque_nm", name: "Interaction torque, peak [N·m]") { ReportFormat.decimals($0, 3) },
        Row(key: "rms_interaction_torque_nm", name: "Interaction torque, RMS [N·m]") { ReportFormat.decimals($0, 3) },
        Row(key: "robot_work_j", name: "Work done by the robot [J]") { ReportFormat.decimals($0, 2) },
        Row(key: "patient_work_j", name: "Work done by the patient [J]") { ReportFormat.decimals($0, 2) },
        Row(key: "assistance_ratio", name: "Robot's share of the work [%]") { $0.map { ReportFormat.decimals($0 * 100, 0) } ?? "—" },
    ]

    static func html(_ data: RecordingData) -> String {
        guard let metrics = data.metrics else {
            return "<p>No exercise metrics in this file (a black box, or a recording cut short: they are written when the session ends).</p>"
        }
        let h = ReportFormat.html
        let columns = max(1, data.joints.count)
        var html = "<table class=\"metrics\"><tr><th></th>" + data.joints.map { "<th>\(h($0))</th>" }.joined() + "</tr>"
        func scalar(_ name: String, _ value: String) {
            html += "<tr><th>\(h(name))</th><td colspan=\"\(columns)\">\(value)</td></tr>"
        }
        if let mode = data.mode { scalar("Mode", h(TherapistSummary.modeText(mode))) }
        if let joint = metrics["exercised_joint"]?.stringValue { scalar("Exercised joint", h(joint)) }
        if let done = data.repetitionsDone { scalar("Repetitions done", String(done)) }
        if let planned = data.result?.repetitionsPlanned ?? data.plan?.repetitions { scalar("Repetitions planned", String(planned)) }
        for row in perJointRows {
            guard let values = data.perJoint(row.key) else { continue }
            html += "<tr><th>\(h(row.name))</th>"
                + (0..<columns).map { "<td class=\"n\">\(h(row.show($0 < values.count ? values[$0] : nil)))</td>" }.joined() + "</tr>"
        }
        if let gains = metrics["assistance_gain_by_repetition"]?.arrayValue {
            scalar("Assistance per repetition [% of full support]", gains.isEmpty ? "—" : assistanceList(gains))
        }
        if let duration = metrics["duration_s"]?.doubleValue { scalar("Duration [s]", h(ReportFormat.decimals(duration, 2))) }
        if let cycles = metrics["cycles"]?.integerValue { scalar("Control cycles", String(cycles)) }
        let safetyEvents = metrics["safety_events"]?.integerValue ?? 0
        scalar("Safety events", safetyEvents == 0 ? "<span class=\"ok\">0</span>" : "<span class=\"bad\">\(safetyEvents)</span>")
        if let final = metrics["final_state"]?.stringValue { scalar("Final supervisor state", h(final)) }
        if let states = metrics["time_in_state_s"]?.objectValue, !states.entries.isEmpty {
            scalar("Time in each supervisor state", timeInStateTable(states))
        }
        return html + "</table>"
    }

    /// "1: 80 %, 2: 72 %, …" as a list that wraps.
    private static func assistanceList(_ gains: [JSONValue]) -> String {
        "<ol class=\"inline\">" + gains.map { "<li>\(ReportFormat.html(ReportFormat.decimals($0.doubleValue.map { $0 * 100 }, 0)))</li>" }.joined() + "</ol>"
    }

    /// state | time [s] | share [%].
    private static func timeInStateTable(_ states: JSONObject) -> String {
        let total = states.entries.compactMap { $0.value.doubleValue }.filter(\.isFinite).reduce(0, +)
        var html = "<table class=\"sub\"><tr><th>state</th><th>time [s]</th><th>share [%]</th></tr>"
        for (state, value) in states.entries {
            let seconds = value.doubleValue
            let share = total > 0 ? seconds.map { $0 / total * 100 } : nil
            html += "<tr><td>\(ReportFormat.html(state))</td><td class=\"n\">\(ReportFormat.decimals(seconds, 3))</td><td class=\"n\">\(ReportFormat.decimals(share, 1))</td></tr>"
        }
        return html + "</table>"
    }
}
