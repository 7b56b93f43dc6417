import Primitives

/// `rehabctl report --progress`: one self-contained HTML page (inline SVG and CSS, no scripts, no
/// external assets) of one patient's sessions in date order — a table of each session's exercise,
/// mode, duration, range of motion, repetitions, assistance ratio, patient work, peak interaction
/// torque and result, and a plot of each figure over the sessions.
///
/// Everything comes from the recordings' metadata (`SessionCatalogue`: `session` and
/// `session_result`), never from their messages, so months of sessions make a page in milliseconds.
/// The figures are the exercised joint's. A session cut short by a crash is in the table, marked
/// incomplete, and has no point in the plots.
public enum ProgressReport {
    /// The page of the sessions labelled `patient` among `sessions` (the others are left out, in the
    /// table and in the plots); nil when none is.
    public static func render(_ sessions: [RecordedSession], patient: String, folder: String) -> String? {
        let own = sessions.filter { $0.patientLabel == patient }.sorted(by: RecordedSession.isEarlier)
        guard let first = own.first, let last = own.last else { return nil }
        let title = "Progress of patient \(patient)"
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(SVGPlot.escape(title))</title>
            <style>\(HTMLReport.stylesheet)\(SVGPlot.stylesheet)\(sessionsTableStyle)</style></head><body>
            <h1>\(SVGPlot.escape(title))</h1>
            <p class="small">\(own.count) session\(own.count == 1 ? "" : "s"), \(SVGPlot.escape(first.dateText)) to \(SVGPlot.escape(last.dateText)) (UTC), \
            from the recordings in \(SVGPlot.escape(folder)); the figures are the exercised joint's. \
            The label is a pseudonym: the key from it to the patient stays with the clinic.</p>

            """
        html += #"<h2 id="sessions">Sessions</h2>"# + table(own)
        let labels = own.enumerated().map { index, session in "session \(index + 1), \(session.dateText)" }
        func values(_ figure: (SessionResult) -> Double?) -> [Double?] { own.map { $0.result.flatMap(figure) } }
        html += plotSection(
            "plot-rom", "Range of motion", labels: labels, yLabel: "range of motion [°]",
            [("range of motion", values { $0.rangeOfMotionRadians.map(Units.degrees(fromRadians:)) }, false)])
        html += plotSection(
            "plot-repetitions", "Repetitions", labels: labels, yLabel: "repetitions",
            [("done", values { $0.repetitionsDone.map { Double($0) } }, false),
             ("planned", values { $0.repetitionsPlanned.map { Double($0) } }, true)])
        html += plotSection(
            "plot-assistance", "Assistance ratio", labels: labels, yLabel: "assistance (1: robot)",
            [("assistance ratio", values { $0.assistanceRatio }, false)])
        html += plotSection(
            "plot-patient-work", "Patient work", labels: labels, yLabel: "patient work [J]",
            [("patient work", values { $0.patientWorkJoules }, false)])
        html += plotSection(
            "plot-interaction-torque", "Peak interaction torque", labels: labels, yLabel: "peak torque [N·m]",
            [("peak interaction torque", values { $0.peakInteractionTorqueNewtonMeters }, false)])
        html += "</body></html>\n"
        return html
    }

    // MARK: Table

    private static func table(_ sessions: [RecordedSession]) -> String {
        var html = "<table><tr><th>#</th><th>date (UTC)</th><th>exercise</th><th>mode</th><th>duration [s]</th><th>ROM [°]</th>"
            + "<th>repetitions done/planned</th><th>assistance ratio</th><th>patient work [J]</th><th>peak interaction torque [N·m]</th>"
            + "<th>result</th><th>recording</th></tr>"
        for (index, session) in sessions.enumerated() {
            html += "<tr>"
            let result = session.result
            func number(_ value: Double?, _ decimals: Int) -> String {
                value.map { SVGPlot.fixedDecimals($0, decimals) } ?? "—"
            }
            let repetitions = result.map { result in
                (result.repetitionsDone.map { String($0) } ?? "—") + "/" + (result.repetitionsPlanned.map { String($0) } ?? "—")
            } ?? "—"
            let resultClass: String
            switch result?.ending {
            case .completed?: resultClass = "ok"
            case .stopped?: resultClass = ""
            case .fault?, nil: resultClass = "bad"
            }
            let cells = [
                (String(index + 1), true), (session.dateText, false), (session.exercise ?? "—", false), (session.mode ?? "—", false),
                (number(session.durationSeconds, 1), true), (number(result?.rangeOfMotionRadians.map(Units.degrees(fromRadians:)), 1), true),
                (repetitions, true), (number(result?.assistanceRatio, 2), true), (number(result?.patientWorkJoules, 2), true),
                (number(result?.peakInteractionTorqueNewtonMeters, 3), true),
            ]
            for (text, numeric) in cells {
                html += (numeric ? #"<td class="n">"# : "<td>") + SVGPlot.escape(text) + "</td>"
            }
            html += #"<td class="\#(resultClass)">\#(SVGPlot.escape(session.resultText))</td>"#
            html += #"<td class="small">\#(SVGPlot.escape(session.fileName))</td></tr>"#
        }
        return html + "</table>"
    }

    // MARK: Plots

    private static func plotSection(
        _ id: String, _ title: String, labels: [String], yLabel: String, _ series: [(name: String, values: [Double?], dashed: Bool)]
    ) -> String {
        #"<h2 id="\#(id)">\#(SVGPlot.escape(title))</h2>"# + sessionPlot(series, labels: labels, yLabel: yLabel)
    }

    /// One value per session (x: its number in date order) as dots, joined by a line where
    /// neighbouring sessions both have a value; each dot's tooltip names the session and the value.
    /// Written here rather than with `SVGPlot.lines`, which decimates per pixel column and draws
    /// nothing for a single session; its axes' helpers (`range`, `ticks`, `label`) are reused.
    static func sessionPlot(_ series: [(name: String, values: [Double?], dashed: Bool)], labels: [String], yLabel: String) -> String {
        let height = 190.0
        let width = SVGPlot.width
        let finite = series.flatMap { $0.values.compactMap { $0 } }.filter(\.isFinite)
        let open = #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(SVGPlot.fixed(width)) \#(SVGPlot.fixed(height))" class="plot" role="img">"#
        guard !finite.isEmpty, !labels.isEmpty else {
            return open + #"<text x="\#(SVGPlot.fixed(SVGPlot.left))" y="24" class="axislabel">no data</text></svg>"#
        }
        let xRange = (0.5, Double(labels.count) + 0.5)
        // From zero for figures that cannot be negative: a therapist compares sessions by size, and a
        // range fitted to two nearly equal values made 24.9° and 24.9° look far apart.
        var yRange = SVGPlot.range(finite + [0], pad: true)
        if finite.allSatisfy({ $0 >= 0 }) { yRange.0 = 0 }
        let plotWidth = width - SVGPlot.left - SVGPlot.right
        let plotBottom = height - SVGPlot.bottom
        let plotHeight = plotBottom - SVGPlot.top
        func px(_ session: Int) -> String { SVGPlot.fixed(SVGPlot.left + SVGPlot.fraction(Double(session + 1), of: xRange) * plotWidth) }
        func py(_ y: Double) -> String { SVGPlot.fixed(SVGPlot.top + (1 - SVGPlot.fraction(y, of: yRange)) * plotHeight) }
        var svg = open
        let yTicks = SVGPlot.ticks(yRange.0, yRange.1)
        for tick in yTicks {
            svg += #"<line x1="\#(SVGPlot.fixed(SVGPlot.left))" y1="\#(py(tick))" x2="\#(SVGPlot.fixed(width - SVGPlot.right))" y2="\#(py(tick))" class="grid"/>"#
            svg += #"<text x="\#(SVGPlot.fixed(SVGPlot.left - 6))" y="\#(py(tick))" class="tick" text-anchor="end" dominant-baseline="middle">\#(SVGPlot.tickLabel(tick, of: yTicks))</text>"#
        }
        // At most about twenty session numbers under the axis.
        let step = max(1, (labels.count + 19) / 20)
        for session in stride(from: 0, to: labels.count, by: step) {
            svg += #"<text x="\#(px(session))" y="\#(SVGPlot.fixed(plotBottom + 14))" class="tick" text-anchor="middle">\#(session + 1)</text>"#
        }
        svg += #"<rect x="\#(SVGPlot.fixed(SVGPlot.left))" y="\#(SVGPlot.fixed(SVGPlot.top))" width="\#(SVGPlot.fixed(plotWidth))" height="\#(SVGPlot.fixed(plotHeight))" class="frame"/>"#
        svg += #"<text x="\#(SVGPlot.fixed(width - SVGPlot.right))" y="\#(SVGPlot.fixed(plotBottom + 28))" class="axislabel" text-anchor="end">session (in date order)</text>"#
        let middle = SVGPlot.fixed(SVGPlot.top + plotHeight / 2)
        svg += #"<text x="14" y="\#(middle)" class="axislabel" transform="rotate(-90 14 \#(middle))" text-anchor="middle">\#(SVGPlot.escape(yLabel))</text>"#
        var legendX = SVGPlot.left
        for (index, one) in series.enumerated() {
            let color = SVGPlot.palette[index % SVGPlot.palette.count]
            var path = ""
            var previous: Int?
            var joined = false
            for (session, value) in one.values.enumerated() {
                guard let value, value.isFinite else { continue }
                let joins = previous == session - 1
                path += (joins ? "L" : "M") + "\(px(session)) \(py(value))"
                joined = joined || joins
                previous = session
            }
            if joined {
                let dash = one.dashed ? #" stroke-dasharray="5 3""# : ""
                svg += #"<path d="\#(path)" fill="none" stroke="\#(color)" stroke-width="1.3"\#(dash)/>"#
            }
            // Planned values as rings, done ones as dots.
            let fill = one.dashed ? "white" : color
            for (session, value) in one.values.enumerated() {
                guard let value, value.isFinite else { continue }
                let tooltip = "\(labels[session]): \(one.name) \(SVGPlot.label(value))"
                svg += #"<circle cx="\#(px(session))" cy="\#(py(value))" r="3.5" fill="\#(fill)" stroke="\#(color)"><title>\#(SVGPlot.escape(tooltip))</title></circle>"#
            }
            if series.count > 1 {
                let y = SVGPlot.fixed(height - 8)
                svg += #"<rect x="\#(SVGPlot.fixed(legendX))" y="\#(SVGPlot.fixed(height - 16))" width="14" height="3" fill="\#(color)"/>"#
                svg += #"<text x="\#(SVGPlot.fixed(legendX + 18))" y="\#(y)" class="legend">\#(SVGPlot.escape(one.name))</text>"#
                legendX += 30 + Double(one.name.count) * 6.5
            }
        }
        return svg + "</svg>"
    }

    /// The report's look, with a wider column for the sessions table, whose headers must not break inside a word.
    private static let sessionsTableStyle = "body{max-width:1100px} td,th{overflow-wrap:normal}"
}
