import Foundation
import Profiles
import Scenarios
import StrictJSON
import TestSupport
import XCTest

/// What scenario results become: JUnit XML that Jenkins and GitLab read (well formed, escaped,
/// readable back), the JSON result (written and read back strictly), and the safety evidence report
/// (every requirement, failures shown as failures, self-contained and escaped HTML).
final class ScenarioReportTests: XCTestCase {
    private let nasty = #"<script>alert("x") & 'y'</script>"#

    private func results() -> [ScenarioResult] {
        let passed = ScenarioResult(
            scenario: "sr12-operator-estop", file: "hardware/scenarios/sr12-operator-estop.json", requirements: [RequirementID("SR-12")!],
            target: .virtual, outcome: .passed, timeSeconds: 0.123, timestamp: "2026-12-07T10:00:00Z",
            expectations: [ExpectationResult(index: 0, kind: "event", summary: "s", expected: "a transition to estop", observed: "active → estop", status: .passed)])
        let failed = ScenarioResult(
            scenario: "sr08-spasm", file: "hardware/scenarios/sr08 <&>.json", requirements: [RequirementID("SR-8")!, RequirementID("SR-24")!],
            target: .virtual, outcome: .failed, timeSeconds: 1.5,
            expectations: [
                ExpectationResult(index: 0, label: "trip", kind: "event", summary: "the trip", expected: "within 10 ms \(nasty)",
                                  observed: "12 ms — too late\nsecond line", status: .failed),
                ExpectationResult(index: 1, kind: "final_state", summary: "f", expected: "fault", observed: "it ended in fault", status: .passed),
            ],
            message: "expect[0] \"trip\" event: expected within 10 ms \(nasty); observed 12 ms", notes: ["note \u{01} with a control character"])
        let skipped = ScenarioResult(
            scenario: "sr02-mute-at-start", file: "hardware/scenarios/sr02-mute-at-start.json", requirements: [RequirementID("SR-2")!],
            target: .rig, outcome: .skipped, message: "needs a simulator: its fault script (faults[0] drop_replies)")
        let error = ScenarioResult(
            scenario: "sr01-unplug", file: "hardware/scenarios/sr01-unplug.json", requirements: [RequirementID("SR-1")!],
            target: .sim, outcome: .error, timeSeconds: 0.5, message: "rehabsim exited with status 1")
        return [passed, failed, skipped, error]
    }

    // MARK: JUnit

    func testJUnitXMLIsWellFormedEscapedAndCountsEachOutcome() throws {
        let xml = JUnitXML.write(results())
        let root = try MiniXML.parse(Array(xml.utf8))
        XCTAssertEqual(root.name, "testsuites")
        XCTAssertEqual(root.attribute("tests"), "4")
        XCTAssertEqual(root.attribute("failures"), "1")
        XCTAssertEqual(root.attribute("errors"), "1")
        XCTAssertEqual(root.attribute("skipped"), "1")
        XCTAssertEqual(root.attribute("time"), "2.123")
        let suites = root.children.filter { $0.name == "testsuite" }
        XCTAssertEqual(suites.map { $0.attribute("name") }, ["rehabhost-scenarios.virtual", "rehabhost-scenarios.sim", "rehabhost-scenarios.rig"])
        let virtual = suites[0]
        XCTAssertEqual(virtual.attribute("tests"), "2")
        XCTAssertEqual(virtual.attribute("timestamp"), "2026-12-07T10:00:00Z")
        let cases = virtual.children.filter { $0.name == "testcase" }
        XCTAssertEqual(cases.map { $0.attribute("name") }, ["sr12-operator-estop", "sr08-spasm"])
        XCTAssertEqual(cases[0].attribute("classname"), "scenarios.virtual")
        XCTAssertEqual(cases[0].attribute("time"), "0.123")
        XCTAssertEqual(cases[1].attribute("file"), "hardware/scenarios/sr08 <&>.json", "escaped in the file, itself when read")
        let properties = cases[1].children.first { $0.name == "properties" }?.children ?? []
        XCTAssertEqual(properties.filter { $0.attribute("name") == "requirement" }.map { $0.attribute("value") }, ["SR-8", "SR-24"])
        let failure = try XCTUnwrap(cases[1].children.first { $0.name == "failure" })
        XCTAssertEqual(failure.attribute("message"), "expect[0] \"trip\" event: expected within 10 ms \(nasty); observed 12 ms")
        XCTAssertTrue(failure.text.contains("expected: within 10 ms \(nasty)"), failure.text)
        XCTAssertTrue(failure.text.contains("observed: 12 ms — too late\nsecond line"), failure.text)
        let out = try XCTUnwrap(cases[1].children.first { $0.name == "system-out" })
        XCTAssertTrue(out.text.contains("PASSED expect[1] final_state"), out.text)
        XCTAssertTrue(out.text.contains("note \u{FFFD} with a control character"), "no control character reaches the XML: \(out.text)")
        let skipped = try XCTUnwrap(suites[2].children.first { $0.name == "testcase" }?.children.first { $0.name == "skipped" })
        XCTAssertEqual(skipped.attribute("message"), "needs a simulator: its fault script (faults[0] drop_replies)")
        XCTAssertNotNil(suites[1].children.first { $0.name == "testcase" }?.children.first { $0.name == "error" })
        // The raw text never carries an unescaped markup character from the data.
        XCTAssertFalse(xml.contains("<script>"))
        XCTAssertTrue(xml.contains("&lt;script&gt;alert(&quot;x&quot;) &amp; &apos;y&apos;&lt;/script&gt;"))
    }

    func testJUnitIsReadBackForTheReport() throws {
        let read = try JUnitXML.read(JUnitXML.write(results()))
        XCTAssertEqual(read.count, 4)
        // A suite per target, in the targets' order: virtual, sim, rig.
        let byTarget = results().sorted { $0.target < $1.target }
        XCTAssertEqual(read, byTarget.map(\.recorded).map { result -> RecordedResult in
            var copy = result
            copy.timeSeconds = (result.timeSeconds * 1000).rounded() / 1000
            // A case without a time of its own has its suite's.
            if copy.timestamp == nil && copy.target == .virtual { copy.timestamp = "2026-12-07T10:00:00Z" }
            return copy
        })
        // A JUnit file from another writer: targets from the class name, no properties.
        let foreign = #"""
            <?xml version="1.0"?>
            <!-- another tool's -->
            <testsuite name="x" tests="2"><testcase classname="scenarios.sim" name="a" time="1.5"><failure message="m">t</failure></testcase>
            <testcase name="b"><skipped/></testcase></testsuite>
            """#
        let other = try JUnitXML.read(foreign)
        XCTAssertEqual(other.map(\.scenario), ["a", "b"])
        XCTAssertEqual(other.map(\.target), [.sim, nil])
        XCTAssertEqual(other.map(\.outcome), [.failed, .skipped])
        XCTAssertEqual(other[0].message, "m")
        XCTAssertEqual(other[0].timeSeconds, 1.5)
    }

    func testMalformedXMLIsRefusedWithItsPlace() {
        let cases: [(String, String)] = [
            ("<a><b></a>", "</a> closes <b>"),
            ("<a x=1/>", "the value of x must be quoted"),
            ("<a x=\"<\"/>", "a raw \"<\" in an attribute value"),
            ("<a>&</a>", "\"&\" starts no entity"),
            ("<a>&bogus;</a>", "unknown entity &bogus;"),
            ("<a/><b/>", "content after the root element"),
            ("<a><!-- x </a>", "a comment is not terminated"),
            ("<a x=\"1\" x=\"2\"/>", "the attribute x is given twice"),
            ("<!DOCTYPE a><a/>", "a document type declaration is not accepted"),
            ("", "the document is empty"),
            ("<a>", "<a> is not closed"),
            ("<a>\u{01}</a>", "a control character"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try MiniXML.parse(Array(text.utf8)), text) { error in
                XCTAssertTrue("\(error)".contains(message), "\(text): \(error)")
            }
        }
        XCTAssertThrowsError(try MiniXML.parse(Array("<a>\n  <b></c>\n</a>".utf8))) { error in
            XCTAssertEqual((error as? XMLReadError)?.line, 2)
        }
        XCTAssertThrowsError(try JUnitXML.read("<html/>")) { error in
            XCTAssertTrue("\(error)".contains("not <testsuites> or <testsuite>"), "\(error)")
        }
        XCTAssertEqual(try MiniXML.parse(Array("<a b='&#x3C;&#60;&amp;'><![CDATA[<&>]]></a>".utf8)).attribute("b"), "<<&")
        XCTAssertEqual(try MiniXML.parse(Array("<a><![CDATA[<&>]]></a>".utf8)).text, "<&>")
    }

    func testXMLEscaping() {
        XCTAssertEqual(ScenarioText.xmlEscaped(#"a<b>&"c'"#), "a&lt;b&gt;&amp;&quot;c&apos;")
        XCTAssertEqual(ScenarioText.xmlEscaped("x\ny\tz", attribute: true), "x&#10;y&#9;z")
        XCTAssertEqual(ScenarioText.xmlEscaped("x\ny"), "x\ny")
        XCTAssertEqual(ScenarioText.xmlEscaped("\u{00}\u{1B}é"), "\u{FFFD}\u{FFFD}é")
        XCTAssertEqual(ScenarioText.number(2), "2")
        XCTAssertEqual(ScenarioText.number(0.98), "0.98")
        XCTAssertEqual(ScenarioText.number(2.0006, decimals: 3), "2.001")
        XCTAssertEqual(ScenarioText.number(-0.5), "-0.5")
        XCTAssertEqual(ScenarioText.number(1e-7), "0")
        XCTAssertEqual(ScenarioText.milliseconds(3_000_900_000), "3000.9")
    }

    // MARK: JSON

    func testTheJSONResultRoundTrips() throws {
        let written = ScenarioResultJSON.encode(results())
        XCTAssertEqual(written.objectValue?["summary"], ScenarioLoaderTests.value(#"{"passed": 1, "failed": 1, "skipped": 1, "error": 1}"#))
        let text = written.serialized(pretty: true)
        let read = try ScenarioResultJSON.decode(try JSONParser.parse(text), sourcePath: "results.json")
        XCTAssertEqual(read, results())
    }

    func testTheJSONResultIsReadStrictly() {
        var object = ScenarioResultJSON.encode(results()).objectValue!
        var first = object["results"]!.arrayValue![0].objectValue!
        first["verdict"] = "fine"
        first["outcome"] = "great"
        object["results"] = .array([.object(first)])
        XCTAssertThrowsError(try ScenarioResultJSON.decode(.object(object), sourcePath: "r.json")) { error in
            guard case .invalid(let path, let issues)? = error as? ProfileError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "r.json")
            XCTAssertTrue(issues.contains { $0.description.hasPrefix("results[0].outcome: unknown value \"great\"") }, "\(issues)")
            XCTAssertTrue(issues.contains { $0.description.hasPrefix("results[0].verdict: unknown key") }, "\(issues)")
        }
        XCTAssertThrowsError(try ScenarioResultJSON.decode(.object(["format": "other/1", "results": []]), sourcePath: "r.json"))
    }

    // MARK: The safety evidence report

    private func scenario(_ name: String, _ requirements: [String], description: String = "d") throws -> Scenario {
        let tags = "[" + requirements.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        let text = #"""
            {"format": "rehabhost-scenario/1", "name": "\#(name)", "description": "\#(description)", "requirements": \#(tags),
             "profile": "wrist-trainer", "exercise": "wrist-flexion-passive", "expect": [{"final_state": "idle"}]}
            """#
        return try ScenarioLoader.parse(ScenarioLoaderTests.object(text), sourcePath: "hardware/scenarios/\(name).json")
    }

    func testEveryRequirementAppearsAndAFailureShowsAsAFailure() throws {
        let scenarios = [
            try scenario("estop", ["SR-12"]),
            try scenario("spasm", ["SR-8", "SR-24"]),
            try scenario("mute", ["SR-1"]),
            try scenario("clean", []),
        ]
        let results = [
            RecordedResult(scenario: "estop", target: .virtual, outcome: .failed, message: "too late"),
            RecordedResult(scenario: "estop", target: .virtual, outcome: .passed),  // the last one counts
            RecordedResult(scenario: "estop", target: .sim, outcome: .skipped, message: "no rehabsim"),
            RecordedResult(scenario: "spasm", target: .virtual, outcome: .failed, message: "expect[0] event: expected <within 10 ms>; observed 12 ms"),
            RecordedResult(scenario: "clean", target: .virtual, outcome: .passed),
            RecordedResult(scenario: "renamed", target: .virtual, outcome: .passed),
        ]
        let trace = SafetyTrace(scenarios: scenarios, results: results)
        XCTAssertEqual(trace.rows.map(\.requirement), RequirementID.all)
        func row(_ number: Int) -> SafetyTrace.Row { trace.rows[number - 1] }
        XCTAssertEqual(row(12).status, .passed, "the last result counts")
        XCTAssertEqual(row(12).scenarios.first?.lastResults.map(\.outcome), [.passed, .skipped])
        XCTAssertEqual(row(8).status, .failed)
        XCTAssertEqual(row(24).status, .failed, "a scenario proves every requirement it names")
        XCTAssertEqual(row(1).status, .notRun)
        XCTAssertEqual(row(6).status, .testsOnly)
        XCTAssertEqual(row(6).tests, SafetyRequirementCatalog.entry(RequirementID("SR-6")!).tests)
        XCTAssertEqual(trace.otherScenarios.map(\.name), ["clean"])
        XCTAssertEqual(trace.orphanResults.map(\.scenario), ["renamed"])

        let markdown = trace.markdown(sources: ["results.json"])
        for requirement in RequirementID.all {
            XCTAssertTrue(markdown.contains("| \(requirement) "), "\(requirement) in the table")
            XCTAssertTrue(markdown.contains("## \(requirement) "), "\(requirement)'s section")
        }
        XCTAssertTrue(markdown.contains("| SR-8 Measured velocity | the limb moves too fast | spasm (FAIL) | **FAIL** |"), markdown)
        XCTAssertTrue(markdown.contains("virtual: failed — expect\\[0\\] event: expected \\<within 10 ms\\>; observed 12 ms"), markdown)
        XCTAssertTrue(markdown.contains("## Results without a scenario file"))

        let html = trace.html(sources: ["results.json"])
        for requirement in RequirementID.all { XCTAssertTrue(html.contains("<h2 id=\"\(requirement)\">"), "\(requirement)'s section") }
        XCTAssertTrue(html.contains("<span class=\"badge failed\">FAIL</span>"))
        XCTAssertTrue(html.contains("expected &lt;within 10 ms&gt;; observed 12 ms"), "escaped")
        XCTAssertFalse(html.contains("<within"), "no data as markup")
        XCTAssertFalse(html.contains("<script"), "no script: a self-contained page")
        XCTAssertFalse(html.contains("href=\"http"), "nothing loaded from elsewhere")
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>") && html.contains("<style>"))
    }

    func testTheReportEscapesWhatTheFilesSay() throws {
        let scenarios = [try scenario("odd", ["SR-3"], description: #"a <b>bold</b> & \"quoted\" | piped * claim"#)]
        let trace = SafetyTrace(scenarios: scenarios, results: [])
        let html = trace.html()
        XCTAssertTrue(html.contains("a &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; | piped * claim"), html)
        let markdown = trace.markdown()
        XCTAssertTrue(markdown.contains(#"a \<b\>bold\</b\> & "quoted" \| piped \* claim"#), markdown)
        XCTAssertEqual(trace.rows[2].status, .notRun)
    }

    func testTheShippedScenariosMakeAReport() throws {
        let folder = RepositoryPaths.file("hardware/scenarios").path
        let scenarios = try ScenarioLoader.files(at: folder).map { try ScenarioLoader.load(path: $0) }
        let trace = SafetyTrace(scenarios: scenarios, results: [])
        XCTAssertEqual(trace.rows.filter { $0.status == .testsOnly }.map(\.requirement.description), ["SR-6", "SR-21"])
        XCTAssertTrue(trace.rows.filter { $0.status != .testsOnly }.allSatisfy { $0.status == .notRun })
        XCTAssertFalse(trace.otherScenarios.isEmpty, "the modes and device kinds")
    }

    func testTheCatalogHasEveryRequirementInOrder() {
        XCTAssertEqual(SafetyRequirementCatalog.entries.map(\.requirement), RequirementID.all)
        for entry in SafetyRequirementCatalog.entries {
            XCTAssertFalse(entry.title.isEmpty)
            XCTAssertFalse(entry.hazard.isEmpty)
            XCTAssertFalse(entry.tests.isEmpty, "\(entry.requirement)")
        }
    }

    /// The report names tests by target, class and method: each must exist, so that a renamed test
    /// does not leave the report pointing at nothing.
    func testTheCatalogNamesTestsThatExist() throws {
        let tests = RepositoryPaths.file("Tests")
        var source = ""
        let files = FileManager.default.enumerator(at: tests, includingPropertiesForKeys: nil)
        while let file = files?.nextObject() as? URL {
            if file.pathExtension == "swift" { source += try String(contentsOf: file, encoding: .utf8) }
        }
        for entry in SafetyRequirementCatalog.entries {
            for test in entry.tests {
                // "Target.Class.method (what)", "Target.Class": the class, and the method when named.
                let words = test.split(separator: " ")[0].split(separator: ".").map(String.init)
                guard words.count >= 2 else { return XCTFail("\(entry.requirement): \(test)") }
                XCTAssertTrue(FileManager.default.fileExists(atPath: tests.appendingPathComponent(words[0]).path), "\(entry.requirement): \(test): no target \(words[0])")
                XCTAssertTrue(source.contains("class \(words[1]):"), "\(entry.requirement): \(test): no class \(words[1])")
                if words.count > 2 { XCTAssertTrue(source.contains("func \(words[2])("), "\(entry.requirement): \(test): no test \(words[2])") }
            }
        }
    }
}
