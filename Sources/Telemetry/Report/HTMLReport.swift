import Platform
import StrictJSON

/// `rehabctl report`: one self-contained HTML page (inline SVG and CSS, no external assets) from a
/// recording or a black box: joint position vs target, torques, the supervisor's state timeline with
/// the safety events marked, loop-timing histograms, and the exercise metrics.
public enum HTMLReport {
    /// The page for `file`; refuses files that are not RehabHost recordings.
    public static func render(_ file: MCAPFile, title: String) throws(MCAPError) -> String {
        let data = try RecordingData(file)
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(SVGPlot.escape(title))</title>
            <style>
            body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:960px;padding:16px;color:#222}
            h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 6px;border-bottom:1px solid #ddd} h3{font-size:14px;margin:14px 0 2px}
            table{border-collapse:collapse;margin:6px 0} td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top} th{background:#f4f4f4}
            td.n{text-align:right;font-variant-numeric:tabular-nums} .bad{color:#b00020;font-weight:600} .ok{color:#2e7d32;font-weight:600}
            svg{display:block;margin:4px 0 10px} svg text{font:11px system-ui,sans-serif;fill:#333}
            .grid{stroke:#eee} .frame{fill:none;stroke:#999} .axis{stroke:#999} .tick{fill:#555} .axislabel{fill:#222;font-weight:600}
            .legend{fill:#222} .fault{stroke:#d62728;stroke-width:1.5;stroke-dasharray:4 2} .faultlabel{fill:#d62728;font-weight:600}
            .bandlabel{text-anchor:middle} .small{color:#666;font-size:12px}
            </style></head><body>
            <h1>\(SVGPlot.escape(title))</h1>
            <p class="small">Recorded by \(SVGPlot.escape(file.library)); \(SVGPlot.escape(data.startText)); \(file.messages.count) messages.</p>

            """
        html += section("overview", "Overview", overview(data))
        var positions = ""
        var torques = ""
        for (joint, name) in data.joints.enumerated() {
            positions += "<h3>\(SVGPlot.escape(name))</h3>" + SVGPlot.lines(
                [.init(name: "measured position", points: data.series(\.position, joint, scale: degreesPerRadian)),
                 .init(name: "target", points: data.series(\.target, joint, scale: degreesPerRadian), dashed: true)],
                xLabel: "time [s]", yLabel: "position [°]", markers: data.markers)
            torques += "<h3>\(SVGPlot.escape(name))</h3>" + SVGPlot.lines(
                [.init(name: "commanded torque", points: data.series(\.commandTorque, joint)),
                 .init(name: "motor torque (measured)", points: data.series(\.motorTorque, joint)),
                 .init(name: "interaction torque (patient)", points: data.series(\.interactionTorque, joint))],
                xLabel: "time [s]", yLabel: "torque [N·m]", markers: data.markers)
        }
        html += section("positions", "Joint position vs target", positions)
        html += section("torques", "Torque and interaction torque", torques)
        html += section("supervisor", "Supervisor states and safety events",
                        SVGPlot.timeline(data.bands, markers: data.markers, xLabel: "time [s]") + transitionsTable(data))
        if !data.trackers.isEmpty { html += section("trackers", "Trackers", trackers(data)) }
        html += section("timing", "Loop timing", timing(data))
        html += section("metrics", "Exercise metrics", metricsTable(data))
        html += "</body></html>\n"
        return html
    }

    private static let degreesPerRadian = 180 / Double.pi

    /// Per tracker: what SR-15 judged it by (age at the control cycle, frozen frames, visibility, fit
    /// error) and its joint angle over time, with the safety events marked.
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
            html += "<h3>\(SVGPlot.escape(tracker.name))</h3>" + SVGPlot.lines(
                [.init(name: "joint angle from the tracker", points: tracker.angle)], xLabel: "time [s]", yLabel: "angle [°]", markers: data.markers)
        }
        return html
    }

    private static func section(_ id: String, _ title: String, _ body: String) -> String {
        "<section id=\"\(id)\"><h2>\(SVGPlot.escape(title))</h2>\n\(body)\n</section>\n"
    }

    private static func overview(_ data: RecordingData) -> String {
        var rows: [(String, String)] = data.session
        rows.append(("duration", "\(SVGPlot.label(data.durationSeconds)) s, \(data.samples.count) cycles recorded"))
        let events = data.events.count
        rows.append(("safety events", events == 0 ? "<span class=\"ok\">none</span>" : "<span class=\"bad\">\(events)</span>"))
        if let final = data.bands.last?.state { rows.append(("final supervisor state", SVGPlot.escape(final))) }
        return "<table>" + rows.map { "<tr><th>\(SVGPlot.escape($0.0))</th><td>\($0.0 == "safety events" || $0.0 == "final supervisor state" ? $0.1 : SVGPlot.escape($0.1))</td></tr>" }.joined() + "</table>"
    }

    private static func transitionsTable(_ data: RecordingData) -> String {
        guard !data.transitions.isEmpty else { return "<p>No supervisor transitions in this file.</p>" }
        var html = "<table><tr><th>t [s]</th><th>cycle</th><th>from → to</th><th>cause</th><th>requirement</th><th>stop</th><th>value</th><th>joint</th></tr>"
        for transition in data.transitions {
            let stop = transition.category.map { "Cat \($0)" } ?? ""
            html += "<tr\(transition.category != nil ? " class=\"bad\"" : "")><td class=\"n\">\(SVGPlot.fixedDecimals(transition.t, 3))</td><td class=\"n\">\(transition.cycle)</td><td>\(SVGPlot.escape(transition.from)) → \(SVGPlot.escape(transition.to))</td><td>\(SVGPlot.escape(transition.cause))</td><td>\(SVGPlot.escape(transition.requirement))</td><td>\(stop)</td><td class=\"n\">\(transition.value == 0 ? "" : SVGPlot.label(transition.value) + " " + SVGPlot.escape(transition.unit))</td><td>\(SVGPlot.escape(transition.joint ?? ""))</td></tr>"
        }
        return html + "</table>"
    }

    private static func timing(_ data: RecordingData) -> String {
        let wake = data.timing.map { $0.wake / 1_000 }
        let roundTrip = data.timing.compactMap { $0.roundTrip.map { $0 / 1_000 } }
        let compute = data.timing.map { $0.compute / 1_000 }
        func row(_ name: String, _ values: [Double]) -> String {
            guard !values.isEmpty else { return "<tr><th>\(name)</th><td colspan=\"5\">not measured</td></tr>" }
            let sorted = values.sorted()
            func q(_ fraction: Double) -> String { SVGPlot.label(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]) }
            return "<tr><th>\(name)</th><td class=\"n\">\(q(0.5))</td><td class=\"n\">\(q(0.9))</td><td class=\"n\">\(q(0.99))</td><td class=\"n\">\(q(0.999))</td><td class=\"n\">\(SVGPlot.label(sorted.last!))</td></tr>"
        }
        var html = "<table><tr><th>[µs]</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>"
        html += row("wake latency", wake) + row("compute", compute) + row("round trip", roundTrip) + "</table>"
        html += "<p class=\"small\">On a shared machine p99.9 and max are mostly the host's noise; compare with cyclictest run in the same session (docs/performance.md).</p>"
        html += "<h3 id=\"wake-latency\">Wake latency (actual − scheduled wake)</h3>" + SVGPlot.histogram(wake, xLabel: "wake latency [µs]")
        html += "<h3 id=\"round-trip\">Round trip (command written → its echo decoded)</h3>" + SVGPlot.histogram(roundTrip, xLabel: "round trip [µs]")
        html += "<h3 id=\"compute\">Compute (fresh state → command encoded)</h3>" + SVGPlot.histogram(compute, xLabel: "compute [µs]")
        return html
    }

    private static func metricsTable(_ data: RecordingData) -> String {
        guard let metrics = data.metrics else {
            return "<p>No exercise metrics in this file (a black box, or a recording cut short: they are written when the session ends).</p>"
        }
        var html = "<table><tr><th>metric</th>" + data.joints.map { "<th>\(SVGPlot.escape($0))</th>" }.joined() + "</tr>"
        for (key, value) in metrics.entries where key != "joints" {
            switch value {
            case .array(let elements) where elements.count == data.joints.count:
                html += "<tr><th>\(SVGPlot.escape(key))</th>" + elements.map { "<td class=\"n\">\(cell($0))</td>" }.joined() + "</tr>"
            case .object(let nested):
                let text = nested.entries.map { "\($0.key): \(cell($0.value))" }.joined(separator: ", ")
                html += "<tr><th>\(SVGPlot.escape(key))</th><td colspan=\"\(max(1, data.joints.count))\">\(SVGPlot.escape(text))</td></tr>"
            default:
                html += "<tr><th>\(SVGPlot.escape(key))</th><td colspan=\"\(max(1, data.joints.count))\" class=\"n\">\(cell(value))</td></tr>"
            }
        }
        return html + "</table>"
    }

    private static func cell(_ value: JSONValue) -> String {
        switch value {
        case .double(let number): SVGPlot.escape(SVGPlot.label(number))
        case .integer(let number): String(number)
        case .string(let text): SVGPlot.escape(text)
        case .null: ""
        default: SVGPlot.escape(value.serialized())
        }
    }
}

/// A recording's messages decoded into plain arrays for plotting.
struct RecordingData {
    struct Sample {
        var t: Double
        var position: [Double]
        var motorTorque: [Double]
        var interactionTorque: [Double]
        var target: [Double] = []
        var commandTorque: [Double] = []
    }

    struct Transition {
        var t: Double
        var cycle: Int64
        var from: String
        var to: String
        var cause: String
        var requirement: String
        var category: Int?
        var value: Double
        var unit: String
        var joint: String?
    }

    var joints: [String] = []
    var samples: [Sample] = []
    var timing: [(wake: Double, compute: Double, roundTrip: Double?)] = []
    var bands: [SVGPlot.Band] = []
    var transitions: [Transition] = []
    var events: [Transition] { transitions.filter { $0.category != nil } }
    var markers: [SVGPlot.Marker] { events.map { .init(x: $0.t, label: "\($0.cause) \($0.requirement)") } }
    var metrics: JSONObject?
    var session: [(String, String)] = []
    var durationSeconds = 0.0
    var startText = ""
    /// What each tracker gave, cycle by cycle (`/tracker/sample`).
    struct Tracker {
        var name: String
        var angle: [(Double, Double)] = []
        var ageMilliseconds: [Double] = []
        var invisibleCycles = 0
        var largestRmsErrorMillimeters = 0.0
        var frames = 0
        var lastFrame: Int64 = -1
    }
    var trackers: [Tracker] = []

    init(_ file: MCAPFile) throws(MCAPError) {
        guard let jointChannel = file.channels.values.first(where: { $0.topic == TelemetryChannel.jointState.topic }) else {
            throw .inconsistent("not a RehabHost recording: it has no \(TelemetryChannel.jointState.topic) channel")
        }
        joints = jointChannel.metadata["joints"]?.split(separator: ",").map(String.init) ?? []
        let origin = file.messages.map(\.logTime).min() ?? 0
        let end = file.messages.map(\.logTime).max() ?? origin
        durationSeconds = Double(end - origin) / 1e9
        // Log times are the file's, any 64-bit value: no conversion or difference that can trap.
        startText = WallClock.utcTimestamp(Int64(clamping: origin))
        func seconds(_ time: UInt64) -> Double { time >= origin ? Double(time - origin) / 1e9 : -(Double(origin - time) / 1e9) }
        func numbers(_ value: JSONValue?) -> [Double] { value?.arrayValue?.map { $0.doubleValue ?? .nan } ?? [] }
        func objects(_ channel: TelemetryChannel) throws(MCAPError) -> [(UInt64, JSONObject)] {
            var result: [(UInt64, JSONObject)] = []
            for message in file.messages(onTopic: channel.topic) {
                do throws(JSONParseError) {
                    if let object = try JSONParser.parse(bytes: Array(file.data(of: message))).objectValue { result.append((message.logTime, object)) }
                } catch {
                    throw .inconsistent("a \(channel.topic) message at \(message.logTime) ns is not JSON: \(error)")
                }
            }
            return result
        }
        var byCycle: [Int64: Int] = [:]
        for (time, object) in try objects(.jointState) {
            byCycle[object["cycle"]?.integerValue ?? -1] = samples.count
            samples.append(Sample(t: seconds(time), position: numbers(object["position_rad"]),
                                  motorTorque: numbers(object["motor_torque_nm"]), interactionTorque: numbers(object["interaction_torque_nm"])))
        }
        for (_, object) in try objects(.jointCommand) {
            guard let index = byCycle[object["cycle"]?.integerValue ?? -1] else { continue }
            samples[index].target = numbers(object["target_position_rad"])
            samples[index].commandTorque = numbers(object["torque_nm"])
        }
        for (_, object) in try objects(.loopTiming) {
            timing.append((Double(object["wake_latency_ns"]?.integerValue ?? 0), Double(object["compute_ns"]?.integerValue ?? 0),
                           object["round_trip_ns"]?.integerValue.map(Double.init)))
        }
        for (time, object) in try objects(.supervisorState) {
            let state = object["state"]?.stringValue ?? "?"
            let t = seconds(time)
            if var last = bands.last, last.state == state {
                last.end = t
                bands[bands.count - 1] = last
            } else {
                if !bands.isEmpty { bands[bands.count - 1].end = t }
                bands.append(.init(start: t, end: t, state: state))
            }
        }
        for (time, object) in try objects(.supervisorTransition) {
            transitions.append(Transition(
                t: seconds(time), cycle: object["cycle"]?.integerValue ?? 0, from: object["from"]?.stringValue ?? "",
                to: object["to"]?.stringValue ?? "", cause: object["cause"]?.stringValue ?? "",
                requirement: object["requirement"]?.stringValue ?? "", category: object["stop_category"]?.integerValue.map { Int($0) },
                value: object["value"]?.doubleValue ?? 0, unit: object["value_unit"]?.stringValue ?? "", joint: object["joint"]?.stringValue))
        }
        var trackerIndex: [String: Int] = [:]
        for (time, object) in try objects(.trackerSample) {
            let name = object["tracker"]?.stringValue ?? "?"
            let index = trackerIndex[name] ?? {
                trackers.append(Tracker(name: name))
                trackerIndex[name] = trackers.count - 1
                return trackers.count - 1
            }()
            trackers[index].angle.append((seconds(time), (object["position_rad"]?.doubleValue ?? .nan) * 180 / Double.pi))
            trackers[index].ageMilliseconds.append((object["age_ns"]?.doubleValue).map { $0 / 1e6 } ?? .nan)
            if object["visible"]?.boolValue == false { trackers[index].invisibleCycles += 1 }
            trackers[index].largestRmsErrorMillimeters = max(trackers[index].largestRmsErrorMillimeters, object["rms_error_mm"]?.doubleValue ?? 0)
            let frame = object["frame_counter"]?.integerValue ?? 0
            if frame != trackers[index].lastFrame {
                trackers[index].frames += 1
                trackers[index].lastFrame = frame
            }
        }
        metrics = try objects(.exerciseMetrics).last?.1
        if let entries = file.metadata.first(where: { $0.name == "session" })?.entries {
            let wanted = ["profile", "device", "identity", "exercise", "rate_hz", "duration_s", "kind", "trigger_cause", "trigger_cycle"]
            session = wanted.compactMap { key in entries.first { $0.0 == key && !$0.1.isEmpty } }
        }
    }

    func series(_ field: KeyPath<Sample, [Double]>, _ joint: Int, scale: Double = 1) -> [(Double, Double)] {
        samples.map { sample in
            let values = sample[keyPath: field]
            return (sample.t, joint < values.count ? values[joint] * scale : .nan)
        }
    }
}
