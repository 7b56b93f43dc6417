/// The top of the report, for the therapist: read in ten seconds. The result first (completed
/// normally, stopped early and by whom, or stopped by a safety function and which), then the
/// exercise and its mode, repetitions done of planned, range of motion reached against the
/// prescription in degrees, assistance per repetition, peak interaction torque, duration, the
/// interruptions and the safety events; below it the numbered events the plots' markers refer to.
enum TherapistSummary {
    enum Tone: String {
        case ok
        case warning
        case bad
        case neutral
    }

    /// How the session ended, in one sentence.
    struct Outcome {
        var tone: Tone
        var text: String
    }

    static func html(_ data: RecordingData) -> String {
        let result = outcome(data)
        var html = "<p class=\"result \(result.tone.rawValue)\" id=\"result\">\(ReportFormat.html(result.text))</p>\n"
        html += "<table class=\"summary\">"
        for (label, value) in rows(data) {
            html += "<tr><th>\(ReportFormat.html(label))</th><td>\(value)</td></tr>"
        }
        html += "</table>\n"
        html += eventList(data)
        return html
    }

    // MARK: Result

    static func outcome(_ data: RecordingData) -> Outcome {
        if let first = data.events.first(where: { $0.kind == .safetyStop }) {
            let more = data.safetyEvents.count - 1
            let rest = more > 0 ? " (and \(ReportFormat.count(more, "more safety event", "more safety events")))" : ""
            let what = first.transition.to == "estop" ? "Emergency stop" : "Stopped by a safety function"
            return Outcome(tone: .bad, text: "\(what) at \(ReportFormat.seconds(first.transition.t)): \(sentence(first))\(rest)")
        }
        if let end = data.events.last(where: { $0.ending != nil }), let ending = end.ending {
            let at = ReportFormat.seconds(end.transition.t)
            switch ending {
            case .planCompleted:
                var detail = ""
                if let done = data.repetitionsDone, let planned = plannedRepetitions(data) {
                    detail = done >= planned ? ": all \(ReportFormat.count(planned, "repetition", "repetitions"))" : ": \(done) of \(planned) repetitions"
                } else if data.plan?.repetitions == nil, let seconds = data.plan?.durationSeconds {
                    detail = ": the planned \(ReportFormat.seconds(seconds))"
                }
                return Outcome(tone: .ok, text: "Completed normally" + detail)
            case .stoppedEarly:
                return Outcome(tone: .warning, text: "Stopped early by the operator at \(at), before the plan's end")
            case .patientStop:
                return Outcome(tone: .warning, text: "Stopped early by the patient at \(at): \(sentence(end))")
            case .stopRequested:
                return Outcome(tone: .neutral, text: "Ended on a stop request at \(at) (this recording does not say whether the plan had ended or an operator stopped it)")
            case .setUpStopped:
                return Outcome(tone: .warning, text: "Stopped during the set-up: the exercise did not start")
            }
        }
        if let state = data.bands.last?.state, state == "active" || state == "paused" || state == "stopping" {
            return Outcome(tone: .neutral, text: "No end in this recording: it stops while the exercise runs (\(data.isBlackBox ? "a black box" : "cut short?"))")
        }
        if !data.transitions.contains(where: { $0.to == "active" }) {
            return Outcome(tone: .neutral, text: "The exercise did not start in this recording")
        }
        return Outcome(tone: .neutral, text: "Ended in the state \(data.bands.last?.state ?? "?")")
    }

    /// "the operator paused the exercise (SR-12)".
    private static func sentence(_ event: RecordedEvent) -> String {
        RecordedEvent.phrase(event.transition.cause) + (event.transition.requirement.isEmpty ? "" : " (\(event.transition.requirement))")
    }

    private static func plannedRepetitions(_ data: RecordingData) -> Int? {
        data.result?.repetitionsPlanned ?? data.plan?.repetitions
    }

    // MARK: Rows

    /// (label, HTML of the value).
    private static func rows(_ data: RecordingData) -> [(String, String)] {
        let h = ReportFormat.html
        var rows: [(String, String)] = []
        if let patient = data.metadataValue("patient_label") { rows.append(("Patient", h(patient))) }
        let name = data.metadataValue("exercise_name").map { $0 + ": " } ?? ""
        rows.append(("Exercise", h(name + (data.plan?.description ?? "not recorded"))))
        if let mode = data.mode { rows.append(("Mode", h(modeText(mode)))) }
        rows.append(("Repetitions", h(repetitionsText(data))))
        let joint = data.exercisedJointIndex
        let jointName = data.exercisedJointName.map { ", " + $0 } ?? ""
        rows.append(("Range of motion" + jointName, h(rangeOfMotionText(data, joint: joint))))
        rows.append(("Assistance per repetition", assistanceHTML(data)))
        if let ratio = data.exercised("assistance_ratio") {
            var text = ReportFormat.percent(ratio)
            if let robot = data.exercised("robot_work_j"), let patient = data.exercised("patient_work_j") {
                text += " (robot \(ReportFormat.decimals(robot, 2)) J, patient \(ReportFormat.decimals(patient, 2)) J)"
            }
            rows.append(("Robot's share of the work", h(text)))
        }
        rows.append(("Peak interaction torque" + jointName, h(ReportFormat.newtonMeters(data.peakInteractionTorque(joint)))))
        rows.append(("Duration", h(durationText(data))))
        rows.append(("Interruptions", h(interruptionsText(data))))
        rows.append(("Safety events", safetyEventsHTML(data)))
        return rows
    }

    static func modeText(_ mode: String) -> String {
        switch mode {
        case "passive": "passive — the robot moves the limb"
        case "active_assist": "active-assist — the robot helps as much as needed"
        case "active_resist": "active-resist — the robot resists the movement"
        case "transparent": "transparent — the robot follows the patient"
        case "mirror": "mirror — the robot follows the other limb"
        default: mode
        }
    }

    private static func repetitionsText(_ data: RecordingData) -> String {
        guard let done = data.repetitionsDone else { return "not recorded (no exercise metrics in this file)" }
        if let planned = plannedRepetitions(data) { return "\(done) of \(planned) planned" }
        if let seconds = data.plan?.durationSeconds { return "\(done) (a timed exercise: as many as fit in \(ReportFormat.seconds(seconds)))" }
        return String(done)
    }

    /// "49.9° (-24.9° to 24.9°) of 50.0° prescribed (-25.0° to 25.0°): 100 %".
    private static func rangeOfMotionText(_ data: RecordingData, joint: Int) -> String {
        let reached = data.positionRange(joint)
        guard let rom = data.exercised("rom_rad") ?? reached.map({ $0.maximum - $0.minimum }) else { return "not recorded" }
        var text = ReportFormat.degrees(radians: rom)
        if let reached { text += " (\(ReportFormat.degrees(radians: reached.minimum)) to \(ReportFormat.degrees(radians: reached.maximum)))" }
        let planJointMatches = data.plan?.joint.map { $0 == data.exercisedJointName } ?? true
        if planJointMatches, let prescribed = data.plan?.rangeRadians {
            let span = prescribed.maximum - prescribed.minimum
            text += " of \(ReportFormat.degrees(radians: span)) prescribed"
                + " (\(ReportFormat.degrees(radians: prescribed.minimum)) to \(ReportFormat.degrees(radians: prescribed.maximum)))"
            if span > 0 { text += ": \(ReportFormat.percent(rom / span))" }
        }
        return text
    }

    private static func assistanceHTML(_ data: RecordingData) -> String {
        let gains = (data.metrics?["assistance_gain_by_repetition"]?.arrayValue ?? []).compactMap(\.doubleValue).filter(\.isFinite)
        guard !gains.isEmpty else {
            if data.mode == "active_assist" { return "none: no repetition was completed" }
            return data.metrics == nil ? "not recorded" : "— (the robot adapts its help in active-assist mode only)"
        }
        let shown = gains.count > 16 ? Array(gains.prefix(8)) + [.nan] + Array(gains.suffix(7)) : gains
        let text = shown.map { $0.isNaN ? "…" : ReportFormat.percent($0) }.joined(separator: " → ")
        return ReportFormat.html(text) + " <span class=\"small\">(of full support)</span>"
            + SVGPlot.sparkline(gains, title: "assistance per repetition, \(ReportFormat.percent(gains[0])) to \(ReportFormat.percent(gains[gains.count - 1]))")
    }

    private static func durationText(_ data: RecordingData) -> String {
        guard let total = data.metrics?["duration_s"]?.doubleValue else {
            return "\(ReportFormat.seconds(data.durationSeconds)) recorded"
        }
        var text = ReportFormat.seconds(total)
        if let active = data.metrics?["time_in_state_s"]?.objectValue?["active"]?.doubleValue {
            text += ", exercising \(ReportFormat.seconds(active))"
        }
        return text
    }

    private static func interruptionsText(_ data: RecordingData) -> String {
        var parts: [String] = []
        let pauses = data.events.filter { $0.kind == .pause }
        if !pauses.isEmpty {
            let reasons = unique(pauses.map { sentence($0) })
            parts.append("\(ReportFormat.count(pauses.count, "pause", "pauses"))\(total(pauses)): " + reasons.joined(separator: "; "))
        }
        let holds = data.events.filter { $0.kind == .linkHold }
        if !holds.isEmpty {
            parts.append("\(ReportFormat.count(holds.count, "link hold", "link holds"))\(total(holds)): the robot held still while the link to it was slow (SR-1)")
        }
        for event in data.events {
            guard case .end(let ending) = event.kind, ending == .stoppedEarly || ending == .patientStop || ending == .setUpStopped else { continue }
            parts.append("stopped early at \(ReportFormat.seconds(event.transition.t)): " + (ending == .stoppedEarly ? "by the operator" : sentence(event)))
        }
        let stops = data.safetyEvents.count
        if stops > 0 { parts.append("\(ReportFormat.count(stops, "safety stop", "safety stops")) (below)") }
        return parts.isEmpty ? "none" : parts.joined(separator: "; ")
    }

    /// " (4.2 s in all)" of pauses or holds whose end is in the file.
    private static func total(_ events: [RecordedEvent]) -> String {
        let durations = events.compactMap(\.durationSeconds)
        guard !durations.isEmpty else { return "" }
        return " (\(ReportFormat.seconds(durations.reduce(0, +)))\(events.count > 1 ? " in all" : ""))"
    }

    private static func unique(_ texts: [String]) -> [String] {
        var seen: [String] = []
        for text in texts where !seen.contains(text) { seen.append(text) }
        return seen
    }

    /// The safety events as `SessionReport.safetyEvents` and the metrics count them, each with its
    /// requirement; "none" in green when there are none.
    private static func safetyEventsHTML(_ data: RecordingData) -> String {
        let recorded = data.events.filter { $0.kind == .safetyStop }
        let counted = data.metrics?["safety_events"]?.integerValue.map { Int(clamping: $0) }
        var note = ""
        if let counted, counted != recorded.count {
            note = " <span class=\"small\">(the session counted \(counted); this file holds \(recorded.count) of their transitions)</span>"
        }
        guard !recorded.isEmpty || (counted ?? 0) > 0 else { return "<span class=\"ok\">none</span>" }
        let count = max(recorded.count, counted ?? 0)
        let list = recorded.map { "\($0.number): \(ReportFormat.html($0.headline)) at \(ReportFormat.seconds($0.transition.t))" }
        return "<span class=\"bad\">\(count)</span>" + note + (list.isEmpty ? "" : "<br><span class=\"bad\">" + list.joined(separator: "<br>") + "</span>")
    }

    // MARK: Events

    /// Every event with its number (the plots' markers), time, meaning and technical details.
    private static func eventList(_ data: RecordingData) -> String {
        guard !data.events.isEmpty else { return "<p class=\"small\">No stop, pause or hold in this recording.</p>\n" }
        var html = "<h3 id=\"events\">Events (numbered as on the plots)</h3><table class=\"events\"><tr><th>#</th><th>time [s]</th><th>what happened</th><th>details</th></tr>"
        for event in data.events {
            let rowClass = switch event.markerKind {
            case .safety: " class=\"bad\""
            case .interruption: " class=\"warn\""
            case .neutral: " class=\"end\""
            }
            let lasted = event.durationSeconds.map { " (\(ReportFormat.seconds($0)))" } ?? ""
            html += "<tr\(rowClass)><td class=\"n\">\(event.number)</td><td class=\"n\">\(ReportFormat.decimals(event.transition.t, 2))</td>"
                + "<td>\(ReportFormat.html(event.headline + lasted))</td><td class=\"detail\">\(ReportFormat.html(event.details))</td></tr>"
        }
        return html + "</table>\n"
    }
}
