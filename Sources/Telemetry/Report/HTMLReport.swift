import StrictJSON

/// `rehabctl report`: one self-contained HTML page (inline SVG and CSS, no scripts, no external
/// assets) from a recording or a black box, printable on A4.
///
/// For the therapist first: the session summary (`TherapistSummary`), the plots of joint position
/// vs target and of the torques, and the supervisor's timeline, with the events marked (red: safety
/// events; amber: pauses, holds and early stops; grey: the normal end), and the exercise metrics in
/// clinical units. Then, under "Engineering details": the recording and device, loop timing, the
/// link's quality, the supervisor's log, the control socket's requests, trackers and the raw metrics.
public enum HTMLReport {
    /// The page for `file`; refuses files that are not RehabHost recordings.
    public static func render(_ file: MCAPFile, title: String) throws(MCAPError) -> String {
        let data = try RecordingData(file)
        let h = ReportFormat.html
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(h(title))</title>
            <style>
            \(stylesheet)
            \(SVGPlot.stylesheet)
            </style></head><body>
            <h1>\(h(title))</h1>
            <p class="small">\(h(headerLine(data, file)))</p>

            """
        html += section("overview", "Session summary", TherapistSummary.html(data))
        html += "<p class=\"small\">On the plots: red, a safety event; amber, a pause, a hold or an early stop; grey, the exercise's normal end."
            + " The numbers are those of the events above.</p>\n"
        var positions = ""
        var torques = ""
        for (joint, name) in data.joints.enumerated() {
            positions += figure(name, SVGPlot.lines(
                [.init(name: "measured position", points: data.series(\.position, joint, scale: ReportFormat.degreesPerRadian)),
                 .init(name: "target", points: data.series(\.target, joint, scale: ReportFormat.degreesPerRadian), dashed: true)],
                xLabel: "time [s]", yLabel: "position [°]", markers: data.markers))
            torques += figure(name, SVGPlot.lines(
                [.init(name: "commanded torque", points: data.series(\.commandTorque, joint)),
                 .init(name: "motor torque (measured)", points: data.series(\.motorTorque, joint)),
                 .init(name: "interaction torque (patient)", points: data.series(\.interactionTorque, joint))],
                xLabel: "time [s]", yLabel: "torque [N·m]", markers: data.markers))
        }
        html += section("positions", "Joint position vs target", positions)
        html += section("torques", "Torque and interaction torque", torques)
        html += section("supervisor", "Supervisor states and events",
                        figure(nil, SVGPlot.timeline(data.bands, markers: data.markers, xLabel: "time [s]")))
        html += section("metrics", "Exercise metrics", ExerciseMetricsTable.html(data))
        html += "<h1 class=\"part\" id=\"engineering\">Engineering details</h1>\n"
        html += section("recording", "Recording and device", recordingTable(data, file))
        html += section("timing", "Loop timing", timing(data))
        html += section("link", "Link quality (SR-1)", linkQuality(data))
        html += section("transitions", "Supervisor log", transitionsTable(data))
        if !data.audit.isEmpty { html += section("requests", "Control socket requests (SR-25)", requestsTable(data)) }
        if !data.trackers.isEmpty { html += section("trackers", "Trackers", trackers(data)) }
        html += section("raw-metrics", "Raw exercise metrics", rawMetricsTable(data))
        html += "</body></html>\n"
        return html
    }

    /// The page's CSS: a screen column of 960 px, and A4 when printed (plots scale to the width,
    /// none is cut by a page break, the engineering part starts on a page of its own).
    static let stylesheet = """
        @page{size:A4;margin:12mm}
        body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:960px;padding:16px;color:#222}
        h1{font-size:20px;margin:0 0 4px} h1.part{font-size:18px;margin:40px 0 4px;padding-top:10px;border-top:3px solid #555}
        h2{font-size:16px;margin:28px 0 6px;border-bottom:1px solid #ddd} h3{font-size:14px;margin:14px 0 2px}
        table{border-collapse:collapse;margin:6px 0;max-width:100%} td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
        th{background:#f4f4f4} td.n{text-align:right;font-variant-numeric:tabular-nums}
        .bad{color:#b00020;font-weight:600} .ok{color:#2e7d32;font-weight:600} .warn{color:#8a5600} tr.end{color:#555}
        .small,.detail{color:#666;font-size:12px} tr.bad .detail{color:#b00020}
        .result{font-size:17px;font-weight:600;padding:8px 12px;border-radius:4px;margin:8px 0}
        .result.ok{background:#e8f5e9;color:#1b5e20} .result.warning{background:#fff4e0;color:#7a4a00}
        .result.bad{background:#fdecea;color:#b00020} .result.neutral{background:#f1f1f1;color:#333}
        table.summary{width:100%} table.summary th{width:28%;background:#f7f7f7} table.summary td{font-size:15px}
        table.sub{margin:2px 0} ol.inline{list-style:none;margin:0;padding:0;counter-reset:item}
        ol.inline li{display:inline-block;margin:0 10px 0 0;counter-increment:item} ol.inline li::before{content:counter(item) ": ";color:#666}
        figure.plot{margin:0 0 10px;break-inside:avoid;page-break-inside:avoid}
        @media print{
        body{max-width:none;margin:0;padding:0;font-size:10pt}
        h2,h3{break-after:avoid;page-break-after:avoid}
        figure.plot,table.summary,.result,tr{break-inside:avoid;page-break-inside:avoid}
        h1.part{break-before:page;page-break-before:always;border-top:none;margin-top:0}
        *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
        }
        """

    private static func headerLine(_ data: RecordingData, _ file: MCAPFile) -> String {
        var parts: [String] = []
        if let patient = data.metadataValue("patient_label") { parts.append("patient " + patient) }
        if let profile = data.metadataValue("profile") { parts.append(profile + (data.metadataValue("identity").map { " (\($0))" } ?? "")) }
        parts.append(data.startText)
        if data.isBlackBox { parts.append("black box (SR-19)") }
        parts.append("recorded by \(file.library), \(file.messages.count) messages")
        return parts.joined(separator: "; ")
    }

    private static func section(_ id: String, _ title: String, _ body: String) -> String {
        "<section id=\"\(id)\"><h2>\(ReportFormat.html(title))</h2>\n\(body)\n</section>\n"
    }

    /// A plot with its heading, kept together on a printed page.
    private static func figure(_ title: String?, _ svg: String) -> String {
        "<figure class=\"plot\">" + (title.map { "<h3>\(ReportFormat.html($0))</h3>" } ?? "") + svg + "</figure>\n"
    }

    // MARK: Engineering details

    private static func recordingTable(_ data: RecordingData, _ file: MCAPFile) -> String {
        let h = ReportFormat.html
        var rows: [(String, String)] = data.session.map { ($0.0, h($0.1)) }
        rows.append(("recorded by", h(file.library)))
        rows.append(("start", h(data.startText)))
        rows.append(("recording spans", "\(h(ReportFormat.seconds(data.durationSeconds))), \(data.samples.count) cycles, \(file.messages.count) messages"))
        if let rate = data.rateHertz { rows.append(("loop rate", "\(h(SVGPlot.label(rate))) Hz")) }
        if let result = data.result { rows.append(("session result", h(result.ending.text))) }
        let safetyEvents = data.safetyEvents.count
        rows.append(("safety events (transitions into fault or estop)", safetyEvents == 0 ? "<span class=\"ok\">none</span>" : "<span class=\"bad\">\(safetyEvents)</span>"))
        if let final = data.bands.last?.state { rows.append(("final supervisor state", h(final))) }
        return "<table>" + rows.map { "<tr><th>\(h($0.0))</th><td>\($0.1)</td></tr>" }.joined() + "</table>"
    }

    /// Every transition, the safety events in red, each event with its number.
    private static func transitionsTable(_ data: RecordingData) -> String {
        guard !data.transitions.isEmpty else { return "<p>No supervisor transitions in this file.</p>" }
        let h = ReportFormat.html
        var numbers: [Int: Int] = [:]
        for event in data.events { numbers[event.index] = event.number }
        var html = "<table><tr><th>t [s]</th><th>cycle</th><th>from → to</th><th>cause</th><th>requirement</th><th>stop</th><th>value</th><th>joint</th><th>event</th></tr>"
        for (index, transition) in data.transitions.enumerated() {
            let stop = transition.category.map { "Cat \($0)" } ?? ""
            let cycle = transition.duringSetUp ? "set-up" : transition.cycle.map { String($0) } ?? "—"
            let value = transition.value.map { $0 == 0 ? "" : SVGPlot.label($0) + " " + h(transition.unit) } ?? ""
            html += "<tr\(transition.isSafetyEvent ? " class=\"bad\"" : "")><td class=\"n\">\(SVGPlot.fixedDecimals(transition.t, 3))</td><td class=\"n\">\(cycle)</td>"
                + "<td>\(h(transition.from)) → \(h(transition.to))</td><td>\(h(transition.cause))</td><td>\(h(transition.requirement))</td><td>\(stop)</td>"
                + "<td class=\"n\">\(value)</td><td>\(h(transition.joint ?? ""))</td><td class=\"n\">\(numbers[index].map { "#\($0)" } ?? "")</td></tr>"
        }
        return html + "</table>"
    }

    private static func requestsTable(_ data: RecordingData) -> String {
        let h = ReportFormat.html
        var html = "<table><tr><th>t [s]</th><th>request</th><th>outcome</th><th>pid</th><th>uid</th></tr>"
        for entry in data.audit {
            let time = data.seconds(monotonicNanoseconds: entry.monotonicNanoseconds).map { SVGPlot.fixedDecimals($0, 3) } ?? "—"
            html += "<tr\(entry.outcome == "accepted" ? "" : " class=\"warn\"")><td class=\"n\">\(time)</td><td>\(h(entry.request))</td><td>\(h(entry.outcome))</td>"
                + "<td class=\"n\">\(entry.pid.map { String($0) } ?? "")</td><td class=\"n\">\(entry.uid.map { String($0) } ?? "")</td></tr>"
        }
        return html + "</table>"
    }

    /// SR-1's grade cycle by cycle (from `/loop/timing`), the age of the newest device state, and the
    /// session's own figures (the metrics' `link_quality`).
    private static func linkQuality(_ data: RecordingData) -> String {
        var html = ""
        let grades = data.timing.compactMap(\.linkGrade)
        if !grades.isEmpty {
            html += "<table><tr><th>grade</th><th>cycles</th><th>time [s]</th><th>share [%]</th></tr>"
            for grade in ["GOOD", "FAIR", "POOR", "LOST"] {
                let cycles = grades.filter { $0 == grade }.count
                let seconds = data.rateHertz.map { Double(cycles) / $0 }
                html += "<tr><th>\(grade)</th><td class=\"n\">\(cycles)</td><td class=\"n\">\(ReportFormat.decimals(seconds, 3))</td>"
                    + "<td class=\"n\">\(ReportFormat.decimals(Double(cycles) / Double(grades.count) * 100, 1))</td></tr>"
            }
            html += "</table>"
        }
        let ages = data.timing.compactMap(\.stateAgeMilliseconds).filter(\.isFinite).sorted()
        if !ages.isEmpty {
            func q(_ fraction: Double) -> String { SVGPlot.label(ages[min(ages.count - 1, Int(Double(ages.count) * fraction))]) }
            html += "<table><tr><th>age of the newest device state [ms]</th><th>p50</th><th>p99</th><th>max</th></tr>"
                + "<tr><th>every cycle</th><td class=\"n\">\(q(0.5))</td><td class=\"n\">\(q(0.99))</td><td class=\"n\">\(SVGPlot.label(ages[ages.count - 1]))</td></tr></table>"
        }
        if let link = data.metrics?["link_quality"]?.objectValue {
            html += "<h3>The session's figures</h3>" + objectTable(link)
        }
        return html.isEmpty ? "<p>Not recorded in this file.</p>" : html
    }

    private static func timing(_ data: RecordingData) -> String {
        let wake = data.timing.map { $0.wake / 1_000 }
        let roundTrip = data.timing.compactMap { $0.roundTrip.map { $0 / 1_000 } }
        let compute = data.timing.map { $0.compute / 1_000 }
        func row(_ name: String, _ values: [Double]) -> String {
            guard !values.isEmpty else { return "<tr><th>\(name)</th><td colspan=\"5\">not measured</td></tr>" }
            let sorted = values.sorted()
            func q(_ fraction: Double) -> String { SVGPlot.label(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]) }
            return "<tr><th>\(name)</th><td class=\"n\">\(q(0.5))</td><td class=\"n\">\(q(0.9))</td><td class=\"n\">\(q(0.99))</td><td class=\"n\">\(q(0.999))</td><td class=\"n\">\(SVGPlot.label(sorted[sorted.count - 1]))</td></tr>"
        }
        var html = "<table><tr><th>[µs]</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>"
        html += row("wake latency", wake) + row("compute", compute) + row("round trip", roundTrip) + "</table>"
        html += "<p class=\"small\">On a shared machine p99.9 and max are mostly the host's noise; compare with cyclictest run in the same session (docs/performance.md).</p>"
        html += "<figure class=\"plot\"><h3 id=\"wake-latency\">Wake latency (actual − scheduled wake)</h3>" + SVGPlot.histogram(wake, xLabel: "wake latency [µs]") + "</figure>"
        html += "<figure class=\"plot\"><h3 id=\"round-trip\">Round trip (command written → its echo decoded)</h3>" + SVGPlot.histogram(roundTrip, xLabel: "round trip [µs]") + "</figure>"
        html += "<figure class=\"plot\"><h3 id=\"compute\">Compute (fresh state → command encoded)</h3>" + SVGPlot.histogram(compute, xLabel: "compute [µs]") + "</figure>"
        return html
    }

    /// Per tracker: what SR-15 judged it by (age at the control cycle, frozen frames, visibility, fit
    /// error) and its joint angle over time, with the events marked.
    private static func trackers(_ data: RecordingData) -> String {
        var html = "<table><tr><th>tracker</th><th>cycles</th><th>frames</th><th>age p50 [ms]</th><th>age p99 [ms]</th><th>age max [ms]</th><th>cycles not visible</th><th>largest fit error [mm]</th></tr>"
        for tracker in data.trackers {
            let ages = tracker.ageMilliseconds.filter(\.isFinite).sorted()
            func q(_ fraction: Double) -> String { ages.isEmpty ? "—" : SVGPlot.label(ages[min(ages.count - 1, Int(Double(ages.count) * fraction))]) }
            html += "<tr><td>\(SVGPlot.escape(tracker.name))</td><td class=\"n\">\(tracker.angle.count)</td><td class=\"n\">\(tracker.frames)</td>"
                + "<td class=\"n\">\(q(0.5))</td><td class=\"n\">\(q(0.99))</td><td class=\"n\">\(ages.last.map(SVGPlot.label) ?? "—")</td>"
                + "<td class=\"n\">\(tracker.invisibleCycles)</td><td class=\"n\">\(SVGPlot.label(tracker.largestRmsErrorMillimeters))</td></tr>"
        }
        html += "</table>"
        for tracker in data.trackers {
            html += figure(tracker.name, SVGPlot.lines(
                [.init(name: "joint angle from the tracker", points: tracker.angle)], xLabel: "time [s]", yLabel: "angle [°]", markers: data.markers))
        }
        return html
    }

    /// The metrics as the file holds them, key by key: per-joint arrays in the joints' columns,
    /// objects as tables of their own.
    private static func rawMetricsTable(_ data: RecordingData) -> String {
        guard let metrics = data.metrics else { return "<p>No exercise metrics in this file.</p>" }
        let columns = max(1, data.joints.count)
        var html = "<table><tr><th>key</th>" + data.joints.map { "<th>\(ReportFormat.html($0))</th>" }.joined() + "</tr>"
        for (key, value) in metrics.entries where key != "joints" {
            if case .array(let elements) = value, elements.count == data.joints.count, !elements.isEmpty {
                html += "<tr><th>\(ReportFormat.html(key))</th>" + elements.map { "<td class=\"n\">\(cell($0))</td>" }.joined() + "</tr>"
            } else {
                html += "<tr><th>\(ReportFormat.html(key))</th><td colspan=\"\(columns)\">\(cell(value))</td></tr>"
            }
        }
        return html + "</table>"
    }

    /// A JSON value in a cell: numbers as recorded, objects as a table, arrays of objects as JSON.
    private static func cell(_ value: JSONValue, depth: Int = 0) -> String {
        switch value {
        case .double(let number): SVGPlot.escape(SVGPlot.label(number))
        case .integer(let number): String(number)
        case .string(let text): SVGPlot.escape(text)
        case .bool(let flag): flag ? "true" : "false"
        case .null: ""
        case .object(let object) where depth < 4: objectTable(object, depth: depth + 1)
        case .array(let elements) where elements.isEmpty: "[]"
        case .array(let elements) where depth < 4 && elements.allSatisfy({ $0.objectValue == nil && $0.arrayValue == nil }):
            elements.map { cell($0, depth: depth + 1) }.joined(separator: ", ")
        default: "<code>" + SVGPlot.escape(value.serialized()) + "</code>"
        }
    }

    private static func objectTable(_ object: JSONObject, depth: Int = 1) -> String {
        "<table class=\"sub\">" + object.entries.map { "<tr><th>\(ReportFormat.html($0.key))</th><td>\(cell($0.value, depth: depth))</td></tr>" }.joined() + "</table>"
    }
}
