import Control
import Foundation
import Primitives
import StrictJSON
import Telemetry
import TestSupport
import XCTest

/// The report as a therapist reads it: one definition of a safety event everywhere (a stop into
/// fault or estop, never the exercise's normal end), a summary in clinical units, and event labels
/// that never overlap on any plot.
final class TherapistReportTests: XCTestCase {
    // MARK: Recordings

    private static let rate = 100.0
    private static let origin = MonotonicInstant(nanoseconds: 5_000_000_000)

    private static func time(_ cycle: Int) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: origin.nanoseconds + Int64(cycle) * 10_000_000)
    }

    /// A session at 100 Hz on a 2-joint wrist: set-up transitions, then `cycles` cycles whose state
    /// follows `transitions` (each at its cycle), the exercised joint swinging ±25°, and `metrics`.
    private func recording(
        exercise: String, durationSeconds: String, cycles: Int,
        transitions: [(cycle: Int, from: SupervisorState, to: SupervisorState, cause: SafetyCause, category: StopCategory?)],
        metrics: JSONObject, positions: (Int) -> Double = { 25 * .pi / 180 * sin(Double($0) / 40) }
    ) throws -> MCAPFile {
        var encoder = TelemetryEncoder(
            jointNames: ["flexion_extension", "pronation_supination"], rateHertz: Self.rate,
            sessionMetadata: [("profile", "wrist-trainer"), ("device", "/dev/pts/9"), ("duration_s", durationSeconds), ("exercise", exercise)],
            monotonicOrigin: Self.origin, unixOriginNanoseconds: 1_790_000_000_000_000_000, chunkSizeBytes: 16_384)
        let setUp: [(SupervisorState, SupervisorState, SafetyCause)] = [
            (.disabled, .selfTest, .selfTestStarted), (.selfTest, .idle, .selfTestPassed), (.idle, .ready, .enabled),
        ]
        for (from, to, cause) in setUp {
            encoder.write(.transition(SupervisorTransition(
                cycle: 0, time: Self.time(0), from: from, to: to, cause: cause, category: nil, value: 0, deviceCode: 0)))
        }
        var state = SupervisorState.ready
        for cycle in 0..<cycles {
            for transition in transitions where transition.cycle == cycle {
                encoder.write(.transition(SupervisorTransition(
                    cycle: Int64(cycle), time: Self.time(cycle), from: transition.from, to: transition.to, cause: transition.cause,
                    category: transition.category, value: transition.cause == .interactionTorqueSevere ? 1.2 : 0, deviceCode: 0,
                    joint: transition.cause == .interactionTorqueSevere ? 0 : nil)))
                state = transition.to
            }
            var frame = TelemetryFrame(jointCount: 2)
            frame.cycle = Int64(cycle)
            frame.time = Self.time(cycle)
            frame.state = state
            frame.wire = .command
            frame.positionsRadians[0] = positions(cycle)
            frame.targetPositionsRadians[0] = state == .active ? positions(cycle) : .nan
            frame.interactionTorquesNewtonMeters[0] = 0.05 * cos(Double(cycle) / 40)
            frame.wakeLatencyNanoseconds = 20_000
            frame.computeNanoseconds = 3_000
            frame.stateAgeNanoseconds = 1_500_000
            encoder.write(.cycle(frame))
        }
        encoder.writeMetrics(.object(metrics), at: Self.time(cycles))
        encoder.finish()
        return try MCAPFile(bytes: encoder.takeOutput())
    }

    private static let amplitude = 25 * Double.pi / 180

    /// The metrics a passive session of `repetitions` writes (as `TherapySession.exerciseMetrics`).
    private static func metrics(safetyEvents: Int, finalState: String, repetitions: Int, mode: String = "passive",
                                gains: [Double] = [], audit: [JSONValue] = []) -> JSONObject {
        [
            "duration_s": .number(4.3), "cycles": .int(430), "joints": .array([.string("flexion_extension"), .string("pronation_supination")]),
            "rom_rad": .array([.number(2 * amplitude), .number(0)]),
            "min_position_rad": .array([.number(-amplitude), .number(0)]), "max_position_rad": .array([.number(amplitude), .number(0)]),
            "rms_tracking_error_rad": .array([.number(0.001), .number(0)]), "max_abs_tracking_error_rad": .array([.number(0.002), .number(0)]),
            "peak_torque_nm": .array([.number(0.07), .number(0.03)]), "peak_interaction_torque_nm": .array([.number(0.05), .number(0)]),
            "robot_work_j": .array([.number(0.18), .number(0)]), "patient_work_j": .array([.number(0.02), .number(0)]),
            "assistance_ratio": .array([.number(0.9), .number(0)]),
            "mode": .string(mode), "exercised_joint": .string("flexion_extension"),
            "assistance_gain_by_repetition": .array(gains.map { JSONValue.number($0) }), "repetitions": .int(repetitions),
            "safety_events": .int(safetyEvents), "final_state": .string(finalState),
            "time_in_state_s": .object(["self_test": .number(0.8), "active": .number(4.0), "stopping": .number(0.2), "idle": .number(0.1)]),
            "control_audit": .array(audit),
        ]
    }

    /// Started at cycle 0; the plan's stop at 4.0 s (its whole time), standstill 0.2 s later.
    private func normallyEndedSession() throws -> String {
        let file = try recording(
            exercise: "passive range of motion, flexion_extension ±25°", durationSeconds: "4.0", cycles: 430,
            transitions: [(0, .ready, .active, .startRequested, nil), (400, .active, .stopping, .stopRequested, .cat1),
                          (420, .stopping, .idle, .standstillReached, .cat0)],
            metrics: Self.metrics(safetyEvents: 0, finalState: "idle", repetitions: 2))
        return try HTMLReport.render(file, title: "normal")
    }

    /// Stopped by SR-9 at 2.5 s (Cat 0), latched in fault.
    private func interlockStoppedSession() throws -> String {
        let file = try recording(
            exercise: "passive range of motion, flexion_extension ±25°", durationSeconds: "4.0", cycles: 300,
            transitions: [(0, .ready, .active, .startRequested, nil), (250, .active, .fault, .interactionTorqueSevere, .cat0)],
            metrics: Self.metrics(safetyEvents: 1, finalState: "fault", repetitions: 1))
        return try HTMLReport.render(file, title: "interlock")
    }

    private func section(_ id: String, of html: String) throws -> String {
        let start = try XCTUnwrap(html.range(of: "<section id=\"\(id)\">"), "section \(id)")
        let end = try XCTUnwrap(html.range(of: "</section>", range: start.upperBound..<html.endIndex))
        return String(html[start.lowerBound..<end.upperBound])
    }

    private func assertNoNonFiniteText(_ html: String, file: StaticString = #filePath, line: UInt = #line) {
        let pattern = try! NSRegularExpression(pattern: #"\b(nan|inf|infinity)\b"#, options: [.caseInsensitive])
        let matches = pattern.matches(in: html, range: NSRange(html.startIndex..., in: html))
        let found = matches.prefix(3).compactMap { Range($0.range, in: html).map { String(html[$0]) } }
        XCTAssertTrue(matches.isEmpty, "non-finite text in the page: \(found)", file: file, line: line)
    }

    // MARK: One definition of a safety event

    func testANormallyEndedSessionHasNoSafetyEventAndShowsItsEndAsANormalEnd() throws {
        let html = try normallyEndedSession()
        let summary = try section("overview", of: html)
        XCTAssertTrue(summary.contains(#"<p class="result ok" id="result">Completed normally"#), summary)
        XCTAssertTrue(summary.contains(#"<tr><th>Safety events</th><td><span class="ok">none</span></td></tr>"#), summary)
        XCTAssertTrue(summary.contains("Exercise ended — the plan was completed"), "the end is listed as the plan's end")
        XCTAssertFalse(html.contains("Safety stop"), "the plan's stop (SR-12, Cat 1) and the standstill (Cat 0) are no safety stops")
        // On every plot (2 joints × position and torque, and the timeline) a grey end marker, no red one.
        XCTAssertGreaterThanOrEqual(html.components(separatedBy: #"class="mkline mk-neutral""#).count - 1, 5)
        XCTAssertFalse(html.contains(#"class="mkline mk-safety""#))
        XCTAssertFalse(html.contains(#"<tr class="bad">"#), "no transition is shown as a safety event in the log")
        let metrics = try section("metrics", of: html)
        XCTAssertTrue(metrics.contains(#"<tr><th>Safety events</th><td colspan="2"><span class="ok">0</span></td></tr>"#), metrics)
        assertNoNonFiniteText(html)
    }

    func testASessionStoppedByAnInterlockShowsASafetyEventWithItsRequirement() throws {
        let html = try interlockStoppedSession()
        let summary = try section("overview", of: html)
        XCTAssertTrue(summary.contains(#"<p class="result bad" id="result">Stopped by a safety function at 2.5 s: the torque between patient and robot was far too high (SR-9)</p>"#), summary)
        XCTAssertTrue(summary.contains(#"<tr><th>Safety events</th><td><span class="bad">1</span><br><span class="bad">1: Safety stop — the torque between patient and robot was far too high (SR-9) at 2.5 s</span></td></tr>"#), summary)
        XCTAssertTrue(summary.contains("interaction_torque_severe SR-9, Cat 0 stop, 1.20 N·m, joint flexion_extension"), "the technical details in the list")
        XCTAssertTrue(html.contains(#"class="mkline mk-safety""#), "a red marker")
        XCTAssertFalse(html.contains(#"class="mkline mk-neutral""#), "no normal end")
        let log = try section("transitions", of: html)
        XCTAssertEqual(log.components(separatedBy: #"<tr class="bad">"#).count - 1, 1, "one safety event in the log")
        assertNoNonFiniteText(html)
    }

    func testTheOperatorsEarlyStopPausesAndLinkHoldsAreInterruptionsNotSafetyEvents() throws {
        let stop = JSONValue.object([
            "time_ns": .integer(Self.time(199).nanoseconds), "pid": .int(4242), "uid": .int(1000), "gid": .int(1000),
            "request": .string("stop"), "outcome": .string("accepted"),
        ])
        let file = try recording(
            exercise: "active-assist range of motion, flexion_extension -30…40°, 10 repetitions", durationSeconds: "40.0", cycles: 230,
            transitions: [(0, .ready, .active, .startRequested, nil), (60, .active, .active, .linkDegraded, nil),
                          (70, .active, .active, .linkRestored, nil), (100, .active, .paused, .pauseRequested, .cat2),
                          (150, .paused, .active, .resumeRequested, nil), (200, .active, .stopping, .stopRequested, .cat1),
                          (220, .stopping, .idle, .standstillReached, .cat0)],
            metrics: Self.metrics(safetyEvents: 0, finalState: "idle", repetitions: 4, mode: "active_assist", gains: [0.8, 0.7, 0.65, 0.6], audit: [stop]))
        let html = try HTMLReport.render(file, title: "assist")
        let summary = try section("overview", of: html)
        XCTAssertTrue(summary.contains(#"<p class="result warning" id="result">Stopped early by the operator at 2.0 s"#), summary)
        XCTAssertTrue(summary.contains("<tr><th>Repetitions</th><td>4 of 10 planned</td></tr>"), summary)
        XCTAssertTrue(summary.contains("1 pause (0.50 s): the operator paused the exercise (SR-12)"), summary)
        XCTAssertTrue(summary.contains("1 link hold (0.10 s): the robot held still"), summary)
        XCTAssertTrue(summary.contains(#"<tr><th>Safety events</th><td><span class="ok">none</span></td></tr>"#), summary)
        XCTAssertTrue(summary.contains("80 % → 70 % → 65 % → 60 %"), "assistance per repetition in %")
        XCTAssertTrue(summary.contains(#"<svg class="spark""#), "and as a sparkline")
        XCTAssertTrue(summary.contains("of 70.0° prescribed (-30.0° to 40.0°)"), "the prescription read from the exercise")
        XCTAssertTrue(html.contains(#"class="mkline mk-interruption""#))
        XCTAssertFalse(html.contains(#"class="mkline mk-safety""#))
        let requests = try section("requests", of: html)
        XCTAssertTrue(requests.contains("<td>stop</td><td>accepted</td><td class=\"n\">4242</td>"), requests)
        assertNoNonFiniteText(html)
    }

    // MARK: Clinical units

    func testTheSummaryShowsTheRangeOfMotionInDegreesAgainstThePrescription() throws {
        let html = try normallyEndedSession()
        let summary = try section("overview", of: html)
        XCTAssertTrue(summary.contains(
            "<tr><th>Range of motion, flexion_extension</th><td>50.0° (-25.0° to 25.0°) of 50.0° prescribed (-25.0° to 25.0°): 100 %</td></tr>"), summary)
        XCTAssertTrue(summary.contains("<tr><th>Repetitions</th><td>2 (a timed exercise: as many as fit in 4.0 s)</td></tr>"), summary)
        XCTAssertTrue(summary.contains("<tr><th>Peak interaction torque, flexion_extension</th><td>0.050 N·m</td></tr>"), summary)
        XCTAssertTrue(summary.contains("<tr><th>Duration</th><td>4.3 s, exercising 4.0 s</td></tr>"), summary)
        XCTAssertFalse(summary.contains("_rad"), "no raw keys in the summary")
        let metrics = try section("metrics", of: html)
        XCTAssertTrue(metrics.contains(#"<tr><th>Range of motion [°]</th><td class="n">50.0</td><td class="n">0.0</td></tr>"#), metrics)
        XCTAssertTrue(metrics.contains(#"<table class="sub"><tr><th>state</th><th>time [s]</th><th>share [%]</th></tr>"#), "time in state as a table")
        XCTAssertFalse(metrics.contains("rom_rad"), "the raw keys are in the engineering part only")
        XCTAssertTrue(try section("raw-metrics", of: html).contains("<th>rom_rad</th>"))
        // The engineering part comes after the plots and the people's metrics.
        let engineering = try XCTUnwrap(html.range(of: "Engineering details"))
        for id in ["overview", "positions", "torques", "supervisor", "metrics"] {
            XCTAssertLessThan(try XCTUnwrap(html.range(of: "<section id=\"\(id)\">")).lowerBound, engineering.lowerBound, id)
        }
        for id in ["timing", "link", "transitions", "raw-metrics"] {
            XCTAssertGreaterThan(try XCTUnwrap(html.range(of: "<section id=\"\(id)\">")).lowerBound, engineering.lowerBound, id)
        }
    }

    func testThePagePrintsOnA4WithPlotsScaledToTheWidth() throws {
        let html = try normallyEndedSession()
        XCTAssertTrue(html.contains("@page{size:A4;margin:12mm}"))
        XCTAssertTrue(html.contains("@media print{"))
        XCTAssertTrue(html.contains("figure.plot{margin:0 0 10px;break-inside:avoid"))
        let plots = html.components(separatedBy: #"<svg class="plot""#).dropFirst()
        XCTAssertEqual(plots.count, 8, "2 joints × (position, torque), the timeline, three histograms")
        for plot in plots {
            XCTAssertTrue(plot.hasPrefix(#" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 920.0 "#), String(plot.prefix(120)))
            XCTAssertTrue(plot.contains(#"width="100%""#))
        }
    }

    func testAFileWithNonFiniteValuesShowsNoNaNText() throws {
        var metrics = Self.metrics(safetyEvents: 0, finalState: "idle", repetitions: 0)
        metrics["rom_rad"] = JSONValue.array([.null, .null])
        metrics["peak_interaction_torque_nm"] = JSONValue.array([.null, .null])
        metrics["duration_s"] = JSONValue.null
        let file = try recording(
            exercise: "passive range of motion, flexion_extension ±25°", durationSeconds: "4.0", cycles: 120,
            transitions: [(0, .ready, .active, .startRequested, nil), (100, .active, .stopping, .stopRequested, .cat1)],
            metrics: metrics, positions: { $0 % 7 == 0 ? .nan : ($0 % 11 == 0 ? .infinity : 0.1) })
        let html = try HTMLReport.render(file, title: "values")
        assertNoNonFiniteText(html)
        XCTAssertFalse(html.contains("\"nan\""))
    }

    // MARK: Labels that never overlap

    /// Same-row boxes keep `gap` apart, every box is inside the bounds, every marker is in one box.
    private func assertReadable(_ layout: MarkerLabelLayout, markers: Int, bounds: ClosedRange<Double>, gap: Double,
                                file: StaticString = #filePath, line: UInt = #line) {
        for box in layout.boxes {
            XCTAssertGreaterThanOrEqual(box.left, bounds.lowerBound, "\(box)", file: file, line: line)
            XCTAssertLessThanOrEqual(box.right, bounds.upperBound, "\(box)", file: file, line: line)
        }
        for (index, one) in layout.boxes.enumerated() {
            for other in layout.boxes[(index + 1)...] where other.row == one.row {
                XCTAssertTrue(one.right + gap <= other.left || other.right + gap <= one.left, "\(one) meets \(other)", file: file, line: line)
            }
        }
        XCTAssertEqual(layout.boxes.flatMap(\.markers).sorted(), Array(0..<markers), "each marker in one label", file: file, line: line)
    }

    func testLabelsOfManyCloseMarkersNeverOverlapAndStayInsideThePlot() {
        // 60 markers within 12 px (a burst of link holds), 40 more spread over the plot.
        var anchors = (0..<60).map { 500 + Double($0) * 0.2 }
        anchors += (0..<40).map { 64 + Double($0) * 21 }
        let texts = anchors.indices.map { "\($0 + 1) Link hold — the link to the robot was slow, so the robot held still (SR-1)" }
        let layout = MarkerLabelLayout.place(anchors: anchors, texts: texts, numbers: Array(1...anchors.count), bounds: 64...904)
        XCTAssertEqual(layout.style, .groups, "too many to number one by one")
        assertReadable(layout, markers: anchors.count, bounds: 64...904, gap: 4)
        XCTAssertLessThanOrEqual(layout.rowCount, 3)
    }

    func testLabelsOfAFewMarkersShowTheirFullTextOverTheirMarker() {
        let anchors = [100.0, 102, 880]
        let texts = ["1 Pause — the operator paused the exercise (SR-12)", "2 Exercise ended — the plan was completed", "3 Safety stop (SR-9)"]
        let layout = MarkerLabelLayout.place(anchors: anchors, texts: texts, numbers: [1, 2, 3], bounds: 64...904)
        XCTAssertEqual(layout.style, .fullText)
        assertReadable(layout, markers: 3, bounds: 64...904, gap: 4)
        for box in layout.boxes {
            XCTAssertTrue(box.left <= box.anchor && box.anchor <= box.right, "the label is over its marker: \(box)")
        }
        XCTAssertEqual(Set(layout.boxes.map(\.row)), [0, 1], "the two close ones in two rows, the far one in the first")
    }

    func testLabelsNeverOverlapForAnyPositionsAndWidths() {
        var random = SplitMix64(seed: 19)
        for trial in 0..<400 {
            let count = Int.random(in: 1...150, using: &random)
            let spread = [2.0, 30, 300, 900][trial % 4]
            let centre = Double.random(in: 64...904, using: &random)
            let anchors = (0..<count).map { _ in centre + Double.random(in: -spread...spread, using: &random) }
            let widths = (0..<count).map { _ in Double.random(in: 20...400, using: &random) }
            let texts = widths.indices.map { "label \($0)" }
            var byText: [String: Double] = [:]
            for (text, width) in zip(texts, widths) { byText[text] = width }
            let layout = MarkerLabelLayout.place(
                anchors: anchors, texts: texts, numbers: Array(1...count), bounds: 64...904,
                width: { byText[$0] ?? MarkerLabelLayout.estimatedWidth($0) })
            assertReadable(layout, markers: count, bounds: 64...904, gap: 4)
        }
    }

    func testEveryPlotOfASessionWithManyEventsHasNoOverlappingLabel() throws {
        // Twenty FAIR holds in two seconds, a pause, and the end.
        var transitions: [(cycle: Int, from: SupervisorState, to: SupervisorState, cause: SafetyCause, category: StopCategory?)] =
            [(0, .ready, .active, .startRequested, nil)]
        for hold in 0..<20 {
            transitions.append((100 + hold * 10, .active, .active, .linkDegraded, nil))
            transitions.append((105 + hold * 10, .active, .active, .linkRestored, nil))
        }
        transitions += [(310, .active, .paused, .pauseRequested, .cat2), (330, .paused, .active, .resumeRequested, nil),
                        (400, .active, .stopping, .stopRequested, .cat1), (420, .stopping, .idle, .standstillReached, .cat0)]
        let file = try recording(
            exercise: "passive range of motion, flexion_extension ±25°", durationSeconds: "4.0", cycles: 430, transitions: transitions,
            metrics: Self.metrics(safetyEvents: 0, finalState: "idle", repetitions: 2))
        let html = try HTMLReport.render(file, title: "many events")
        let box = try NSRegularExpression(pattern: #"<rect x="([-0-9.]+)" y="([-0-9.]+)" width="([-0-9.]+)" height="13.0" rx="2" class="mkbox"#)
        var plotsWithLabels = 0
        for plot in html.components(separatedBy: #"<svg class="plot""#).dropFirst() {
            let boxes = box.matches(in: plot, range: NSRange(plot.startIndex..., in: plot)).map { match in
                (1...3).map { Double(plot[Range(match.range(at: $0), in: plot)!])! }
            }
            if !boxes.isEmpty { plotsWithLabels += 1 }
            for (index, one) in boxes.enumerated() {
                XCTAssertGreaterThanOrEqual(one[0], 64)
                XCTAssertLessThanOrEqual(one[0] + one[2], 904.11, "inside the plot (each number rounded to 0.1)")
                for other in boxes[(index + 1)...] where other[1] == one[1] {
                    XCTAssertTrue(one[0] + one[2] <= other[0] || other[0] + other[2] <= one[0], "\(one) meets \(other)")
                }
            }
        }
        XCTAssertEqual(plotsWithLabels, 5, "2 joints × (position, torque) and the timeline")
        XCTAssertTrue(html.contains("22 · 4.00 s · Exercise ended — the plan was completed"), "the numbered legend below the plots")
        let summary = try section("overview", of: html)
        XCTAssertTrue(summary.contains("20 link holds (") && summary.contains(" in all): the robot held still"), summary)
        assertNoNonFiniteText(html)
    }
}
