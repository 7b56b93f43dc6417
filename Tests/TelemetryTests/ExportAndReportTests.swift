import Control
import DeviceModel
import Primitives
import Foundation
import StrictJSON
import Telemetry
import TestSupport
import XCTest

/// `rehabctl export` and `report` on a file made by the real encoder: values survive the round trip
/// exactly, and the page holds every plot.
final class ExportAndReportTests: XCTestCase {
    /// 400 cycles of a swinging joint, a fault at cycle 300, metrics at the end.
    private func recording() throws -> (file: MCAPFile, frames: [TelemetryFrame]) {
        var encoder = TelemetryEncoder(
            jointNames: ["flexion", "deviation"], rateHertz: 1_000, sessionMetadata: [("profile", "wrist-trainer")],
            monotonicOrigin: MonotonicInstant(nanoseconds: 1_000_000_000), unixOriginNanoseconds: 1_790_000_000_000_000_000,
            chunkSizeBytes: 16_384)
        var frames: [TelemetryFrame] = []
        var random = SplitMix64(seed: 7)
        for cycle in 0..<400 {
            var frame = TelemetryFrame(jointCount: 2)
            frame.cycle = Int64(cycle)
            frame.time = MonotonicInstant(nanoseconds: 1_000_000_000 + Int64(cycle) * 1_000_000)
            frame.state = cycle < 300 ? .active : .fault
            frame.action = cycle < 300 ? 1 : 0
            frame.wire = .command
            frame.positionsRadians[0] = 0.4 * sin(Double(cycle) / 60) + Double(random.next() % 1000) * 1e-9
            frame.positionsRadians[1] = -0.01
            frame.targetPositionsRadians[0] = cycle < 300 ? 0.4 * sin(Double(cycle) / 60) : .nan
            frame.commandModes[0] = cycle < 300 ? 1 : 0
            frame.commandTorquesNewtonMeters[0] = cycle < 300 ? 0.3 * cos(Double(cycle) / 60) : 0
            frame.interactionTorquesNewtonMeters[0] = cycle > 250 ? 0.02 * Double(cycle - 250) : 0
            frame.wakeLatencyNanoseconds = 20_000 + Int64(random.next() % 40_000)
            frame.computeNanoseconds = 2_000 + Int64(random.next() % 3_000)
            frame.roundTripNanoseconds = cycle % 2 == 0 ? 150_000 : -1
            frames.append(frame)
            if cycle == 300 {
                encoder.write(.transition(SupervisorTransition(
                    cycle: 300, time: frame.time, from: .active, to: .fault, cause: .interactionTorqueSevere, category: .cat0,
                    value: 1.0, deviceCode: 0, joint: 0)))
            }
            encoder.write(.cycle(frame))
        }
        encoder.writeMetrics(
            .object(["duration_s": .number(0.4), "cycles": .int(400), "joints": .array([.string("flexion"), .string("deviation")]),
                     "rom_rad": .array([.number(0.8), .number(0)])]),
            at: MonotonicInstant(nanoseconds: 1_400_000_000))
        encoder.finish()
        return (try MCAPFile(bytes: encoder.takeOutput()), frames)
    }

    func testExportWritesOneCSVPerChannelWithUnitsInTheHeaderAndExactValues() throws {
        let (file, frames) = try recording()
        let tables = try CSVExport.tables(of: file)
        XCTAssertEqual(tables.map(\.fileName), [
            "joint_state.csv", "joint_command.csv", "supervisor_state.csv", "supervisor_transition.csv", "safety_event.csv",
            "loop_timing.csv", "exercise_metrics.csv",
        ])
        let states = try XCTUnwrap(tables.first { $0.fileName == "joint_state.csv" })
        XCTAssertEqual(Array(states.header.prefix(5)), ["log_time_ns", "cycle", "t_monotonic_ns", "fresh", "flexion.position_rad"])
        XCTAssertTrue(states.header.contains("deviation.interaction_torque_nm"))
        XCTAssertEqual(states.rows.count, frames.count)
        // Parse the CSV text back: every value as recorded, bit for bit.
        let lines = states.text.split(separator: "\n")
        let column = try XCTUnwrap(states.header.firstIndex(of: "flexion.position_rad"))
        for (line, frame) in zip(lines.dropFirst(), frames) {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            XCTAssertEqual(Double(cells[column]), frame.positionsRadians[0])
        }
        let commands = try XCTUnwrap(tables.first { $0.fileName == "joint_command.csv" })
        let target = try XCTUnwrap(commands.header.firstIndex(of: "flexion.target_position_rad"))
        XCTAssertEqual(commands.rows[350][target], "", "no target while stopped: an empty cell")
        XCTAssertEqual(commands.rows[10][commands.header.firstIndex(of: "flexion.mode")!], "torque")
        let timing = try XCTUnwrap(tables.first { $0.fileName == "loop_timing.csv" })
        XCTAssertEqual(timing.rows[1][timing.header.firstIndex(of: "round_trip_ns")!], "", "no round trip measured that cycle")
        XCTAssertEqual(timing.rows[2][timing.header.firstIndex(of: "round_trip_ns")!], "150000")
        let event = try XCTUnwrap(tables.first { $0.fileName == "safety_event.csv" })
        XCTAssertEqual(event.rows.count, 1)
        XCTAssertEqual(event.rows[0][event.header.firstIndex(of: "cause")!], "interaction_torque_severe")
    }

    func testACellWithACommaOrQuoteIsQuoted() {
        let table = CSVExport.Table(fileName: "x.csv", header: ["a", "b"], rows: [["1,5", "say \"hi\""]])
        XCTAssertEqual(table.text, "a,b\n\"1,5\",\"say \"\"hi\"\"\"\n")
    }

    func testTheReportIsOneSelfContainedPageWithEveryPlot() throws {
        let (file, _) = try recording()
        let html = try HTMLReport.render(file, title: "test <session>")
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("<title>test &lt;session&gt;</title>"), "escaped")
        for section in ["overview", "positions", "torques", "supervisor", "timing", "metrics"] {
            XCTAssertTrue(html.contains("<section id=\"\(section)\">"), section)
        }
        for heading in ["wake-latency", "round-trip", "compute"] { XCTAssertTrue(html.contains("id=\"\(heading)\""), heading) }
        // Two joints × (position, torque) + timeline + three histograms.
        XCTAssertEqual(html.components(separatedBy: "<svg ").count - 1, 8)
        for label in ["position [°]", "torque [N·m]", "time [s]", "wake latency [µs]", "round trip [µs]"] {
            XCTAssertTrue(html.contains(label), label)
        }
        XCTAssertTrue(html.contains("interaction_torque_severe SR-9"), "the fault is marked on the plots and the timeline")
        XCTAssertTrue(html.contains("<th>rom_rad</th>"), "metrics table")
        // Self-contained: no scripts, no stylesheets or images from elsewhere.
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("<link"))
        XCTAssertFalse(html.contains("src="))
        XCTAssertFalse(html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "").contains("http"))
    }

    func testAReportOfAFileThatIsNotARecordingIsRefused() throws {
        var writer = MCAPWriter(profile: "", library: "other")
        writer.addChannel(id: 1, schemaID: 0, topic: "/camera", messageEncoding: "json", metadata: [])
        writer.addMessage(channel: 1, sequence: 0, logTime: 1, publishTime: 1) { $0.append(contentsOf: "{}".utf8) }
        writer.finish()
        let file = try MCAPFile(bytes: writer.takeOutput())
        XCTAssertThrowsError(try HTMLReport.render(file, title: "x")) { error in
            XCTAssertTrue("\(error)".contains("not a RehabHost recording"), "\(error)")
        }
    }
}
