/// The safety evidence report (`rehabctl scenario trace`): for every requirement SR-1 … SR-25, the
/// hazard it answers, the scenarios that prove it and how each last ran on each target, and the
/// XCTest cases that prove what no scenario can — as Markdown and as one self-contained HTML page.
/// Made from the scenario files and the results of a run (JSON or JUnit); pure: the caller reads
/// the files and writes the pages.
public struct SafetyTrace: Sendable, Equatable {
    /// How a requirement, or a scenario, stands.
    public enum Status: String, Sendable, CaseIterable, Comparable {
        /// A scenario's last result failed or erred.
        case failed
        /// Scenarios exist but none has a result.
        case notRun = "not run"
        /// Every result there is was skipped.
        case skipped
        /// At least one scenario passed and none failed.
        case passed
        /// No scenario: the evidence is the XCTest cases listed.
        case testsOnly = "tests only"

        public static func < (lhs: Self, rhs: Self) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }

        var word: String {
            switch self {
            case .failed: "FAIL"
            case .notRun: "NOT RUN"
            case .skipped: "SKIPPED"
            case .passed: "PASS"
            case .testsOnly: "TESTS"
            }
        }
    }

    public struct ScenarioEntry: Sendable, Equatable {
        public var name: String
        public var file: String
        public var description: String
        /// The last result on each target that has one, in the targets' order.
        public var lastResults: [RecordedResult]
        public var status: Status
    }

    public struct Row: Sendable, Equatable {
        public var requirement: RequirementID
        public var title: String
        public var hazard: String
        public var scenarios: [ScenarioEntry]
        public var tests: [String]
        public var notByScenario: String?
        public var status: Status
    }

    public var rows: [Row]
    /// The scenarios that name no requirement (therapy modes, device kinds running clean).
    public var otherScenarios: [ScenarioEntry]
    /// Results whose scenario is not among the files given (renamed or removed since the run).
    public var orphanResults: [RecordedResult]
    /// How many scenario files and results the report was made from.
    public var scenarioCount: Int
    public var resultCount: Int

    /// The report for `scenarios` and `results` (in the order they ran: the last of a scenario on a target counts).
    public init(scenarios: [Scenario], results: [RecordedResult]) {
        scenarioCount = scenarios.count
        resultCount = results.count
        var last: [String: [ScenarioTarget?: RecordedResult]] = [:]
        for result in results { last[result.scenario, default: [:]][result.target] = result }
        let names = Set(scenarios.map(\.name))
        orphanResults = results.filter { !names.contains($0.scenario) }
        func scenarioEntry(_ scenario: Scenario) -> ScenarioEntry {
            let byTarget = last[scenario.name] ?? [:]
            let ordered = ([nil] + ScenarioTarget.allCases.map { Optional($0) }).compactMap { byTarget[$0] }
            return ScenarioEntry(
                name: scenario.name, file: scenario.sourcePath, description: scenario.description, lastResults: ordered,
                status: Self.status(of: ordered))
        }
        otherScenarios = scenarios.filter(\.requirements.isEmpty).map(scenarioEntry)
        rows = SafetyRequirementCatalog.entries.map { (entry) -> Row in
            let entries = scenarios.filter { $0.requirements.contains(entry.requirement) }.map(scenarioEntry)
            let status: Status
            if entries.isEmpty {
                status = .testsOnly
            } else if entries.contains(where: { $0.status == .failed }) {
                status = .failed
            } else if entries.contains(where: { $0.status == .passed }) {
                status = .passed
            } else if entries.contains(where: { $0.status == .skipped }) {
                status = .skipped
            } else {
                status = .notRun
            }
            return Row(
                requirement: entry.requirement, title: entry.title, hazard: entry.hazard, scenarios: entries, tests: entry.tests,
                notByScenario: entry.notByScenario, status: status)
        }
    }

    static func status(of results: [RecordedResult]) -> Status {
        if results.isEmpty { return .notRun }
        if results.contains(where: { $0.outcome == .failed || $0.outcome == .error }) { return .failed }
        if results.contains(where: { $0.outcome == .passed }) { return .passed }
        return .skipped
    }

    /// How many requirements stand in each status.
    public var counts: [(status: Status, count: Int)] {
        Status.allCases.map { status -> (status: Status, count: Int) in (status, rows.filter { $0.status == status }.count) }.filter { $0.count > 0 }
    }

    private func resultText(_ result: RecordedResult) -> String {
        let target = result.target?.rawValue ?? "?"
        var text = "\(target): \(result.outcome.rawValue)"
        if result.outcome != .passed, let message = result.message { text += " — " + message }
        if let timestamp = result.timestamp { text += " (\(timestamp))" }
        return text
    }

    // MARK: Markdown

    /// The report as Markdown: a table (requirement, hazard, scenarios, last result), then each
    /// requirement's scenarios with every target's last result and the tests beside them.
    public func markdown(title: String = "Safety evidence report", sources: [String] = []) -> String {
        let cell = ScenarioText.markdownCell
        var lines = ["# \(cell(title))", ""]
        lines.append("Made from \(scenarioCount) scenario file\(scenarioCount == 1 ? "" : "s") and \(resultCount) result\(resultCount == 1 ? "" : "s")"
            + (sources.isEmpty ? "" : " (" + sources.map { "`\($0.replacingOccurrences(of: "`", with: "'"))`" }.joined(separator: ", ") + ")") + ".")
        lines.append("Requirements: ../shared/SAFETY.md; hazards: docs/safety.md, \"Hazards, requirements, mitigations, tests\".")
        lines.append("")
        lines.append(counts.map { "\($0.count) \($0.status.rawValue)" }.joined(separator: ", ") + ".")
        lines.append("")
        lines.append("| requirement | hazard | scenarios | last result |")
        lines.append("| --- | --- | --- | --- |")
        for row in rows {
            let scenarios = row.scenarios.isEmpty
                ? "— (tests only)"
                : row.scenarios.map { "\(cell($0.name)) (\($0.status.word))" }.joined(separator: "<br>")
            lines.append("| \(row.requirement) \(cell(row.title)) | \(cell(row.hazard)) | \(scenarios) | **\(row.status.word)** |")
        }
        for row in rows {
            lines.append("")
            lines.append("## \(row.requirement) \(cell(row.title)) — \(row.status.word)")
            lines.append("")
            lines.append("Hazard: \(cell(row.hazard)).")
            lines.append("")
            if row.scenarios.isEmpty {
                lines.append("No scenario." + (row.notByScenario.map { " " + cell($0.prefix(1).uppercased() + $0.dropFirst()) + "." } ?? ""))
            } else {
                for scenario in row.scenarios {
                    lines.append("- `\(scenario.file.replacingOccurrences(of: "`", with: "'"))` **\(cell(scenario.name))** — \(scenario.status.word)"
                        + (scenario.description.isEmpty ? "" : ": " + cell(scenario.description)))
                    if scenario.lastResults.isEmpty {
                        lines.append("  - no result")
                    }
                    for result in scenario.lastResults { lines.append("  - " + cell(resultText(result))) }
                }
                if let note = row.notByScenario { lines += ["", "Not by a scenario: \(cell(note))."] }
            }
            if !row.tests.isEmpty {
                lines.append("")
                lines.append("Tests: " + row.tests.map { "`\($0.replacingOccurrences(of: "`", with: "'"))`" }.joined(separator: ", ") + ".")
            }
        }
        if !otherScenarios.isEmpty {
            lines.append("")
            lines.append("## Scenarios that name no requirement")
            lines.append("")
            lines.append("Therapy modes and device kinds running clean: no requirement is theirs alone, every interlock applies in them.")
            lines.append("")
            for scenario in otherScenarios {
                lines.append("- `\(scenario.file.replacingOccurrences(of: "`", with: "'"))` **\(cell(scenario.name))** — \(scenario.status.word)"
                    + (scenario.description.isEmpty ? "" : ": " + cell(scenario.description)))
                for result in scenario.lastResults { lines.append("  - " + cell(resultText(result))) }
            }
        }
        if !orphanResults.isEmpty {
            lines.append("")
            lines.append("## Results without a scenario file")
            lines.append("")
            for result in orphanResults { lines.append("- \(cell(result.scenario)): " + cell(resultText(result))) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: HTML

    /// The report as one self-contained HTML page (inline CSS, no scripts, every text escaped).
    public func html(title: String = "Safety evidence report", sources: [String] = []) -> String {
        let e = { (text: String) in ScenarioText.xmlEscaped(text) }
        func badge(_ status: Status) -> String {
            "<span class=\"badge \(status.rawValue.replacingOccurrences(of: " ", with: "-"))\">\(status.word)</span>"
        }
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>\(e(title))</title>
            <style>
            body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em; color: #1d1d1f; max-width: 80em; }
            h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
            table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #ccc; padding: .35em .5em; text-align: left; vertical-align: top; }
            th { background: #f2f2f2; } code { font-size: .9em; } .muted { color: #666; }
            .badge { display: inline-block; padding: .05em .5em; border-radius: .6em; font-size: .8em; font-weight: 600; white-space: nowrap; }
            .passed { background: #d8f5d8; color: #175c17; } .failed { background: #fbd5d5; color: #8a1212; }
            .skipped { background: #eee; color: #555; } .not-run { background: #fff1c2; color: #6b5100; } .tests-only { background: #dde8fb; color: #1c3f7a; }
            ul { margin: .3em 0; }
            </style>
            </head>
            <body>

            """
        html += "<h1>\(e(title))</h1>\n"
        html += "<p class=\"muted\">Made from \(scenarioCount) scenario file\(scenarioCount == 1 ? "" : "s") and \(resultCount) result\(resultCount == 1 ? "" : "s")"
        if !sources.isEmpty { html += " (" + sources.map { "<code>\(e($0))</code>" }.joined(separator: ", ") + ")" }
        html += ". Requirements: ../shared/SAFETY.md; hazards: docs/safety.md.</p>\n"
        html += "<p>" + counts.map { "\(badge($0.status)) \($0.count)" }.joined(separator: " &nbsp; ") + "</p>\n"
        html += "<table>\n<tr><th>requirement</th><th>hazard</th><th>scenarios</th><th>last result</th></tr>\n"
        for row in rows {
            let scenarios = row.scenarios.isEmpty
                ? "<span class=\"muted\">— (tests only)</span>"
                : row.scenarios.map { "<a href=\"#\(row.requirement)\">\(e($0.name))</a> \(badge($0.status))" }.joined(separator: "<br>")
            html += "<tr><td><a href=\"#\(row.requirement)\">\(row.requirement)</a> \(e(row.title))</td><td>\(e(row.hazard))</td>"
            html += "<td>\(scenarios)</td><td>\(badge(row.status))</td></tr>\n"
        }
        html += "</table>\n"
        for row in rows {
            html += "<h2 id=\"\(row.requirement)\">\(row.requirement) \(e(row.title)) \(badge(row.status))</h2>\n"
            html += "<p>Hazard: \(e(row.hazard)).</p>\n"
            if row.scenarios.isEmpty {
                html += "<p>No scenario." + (row.notByScenario.map { " " + e($0.prefix(1).uppercased() + $0.dropFirst()) + "." } ?? "") + "</p>\n"
            } else {
                html += "<ul>\n"
                for scenario in row.scenarios {
                    html += "<li><strong>\(e(scenario.name))</strong> \(badge(scenario.status)) <code>\(e(scenario.file))</code>"
                    if !scenario.description.isEmpty { html += "<br>\(e(scenario.description))" }
                    html += "<ul>"
                    if scenario.lastResults.isEmpty { html += "<li class=\"muted\">no result</li>" }
                    for result in scenario.lastResults { html += "<li>\(e(resultText(result)))</li>" }
                    html += "</ul></li>\n"
                }
                html += "</ul>\n"
                if let note = row.notByScenario { html += "<p class=\"muted\">Not by a scenario: \(e(note)).</p>\n" }
            }
            if !row.tests.isEmpty {
                html += "<p>Tests: " + row.tests.map { "<code>\(e($0))</code>" }.joined(separator: ", ") + ".</p>\n"
            }
        }
        if !otherScenarios.isEmpty {
            html += "<h2>Scenarios that name no requirement</h2>\n"
            html += "<p class=\"muted\">Therapy modes and device kinds running clean: no requirement is theirs alone, every interlock applies in them.</p>\n<ul>\n"
            for scenario in otherScenarios {
                html += "<li><strong>\(e(scenario.name))</strong> \(badge(scenario.status)) <code>\(e(scenario.file))</code>"
                if !scenario.description.isEmpty { html += "<br>\(e(scenario.description))" }
                html += "<ul>"
                for result in scenario.lastResults { html += "<li>\(e(resultText(result)))</li>" }
                html += "</ul></li>\n"
            }
            html += "</ul>\n"
        }
        if !orphanResults.isEmpty {
            html += "<h2>Results without a scenario file</h2>\n<ul>\n"
            for result in orphanResults { html += "<li>\(e(result.scenario)): \(e(resultText(result)))</li>\n" }
            html += "</ul>\n"
        }
        html += "</body>\n</html>\n"
        return html
    }
}
