import Control
import Foundation
import RehabLinkSimulator
import Session
import StrictJSON
import Telemetry
import TestSupport
import XCTest

/// A whole session recorded through the real loop, writer thread and metrics, against the closed
/// schemas stored in its file: what `TherapySession` writes (the exercise metrics above all, built
/// here and not in the encoder) is what the schemas say. And the set-up's transitions carry no
/// cycle, in the file and in `--json`.
final class RecordedSessionSchemaTests: XCTestCase {
    func testEveryMessageOfARecordedSessionWithAFaultFollowsItsChannelsSchema() throws {
        let folder = NSTemporaryDirectory() + "rehabhost-schema-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/session.mcap"
        let harness = try VirtualSessionHarness(durationSeconds: 3, adjust: {
            $0.recordingPath = path
            // Virtual time runs far faster than the writer thread: room for the whole session.
            $0.telemetryRingSeconds = 5
        })
        try harness.session.prepare()
        harness.link.inject([InjectedFault(.deviceFault(.overload), .afterEnableMilliseconds(1_500))])
        let report = harness.session.run()
        harness.session.finish()
        XCTAssertEqual(report.safetyEvents.first?.cause, .deviceFault)
        let file = try MCAPFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        var checked: [String: Int] = [:]
        for channel in file.channels.values {
            let schema = try XCTUnwrap(file.schemas[channel.schemaID], channel.topic)
            let validator = try JSONSchemaSubset(String(decoding: schema.data, as: UTF8.self))
            for message in file.messages where message.channel == channel.id {
                let value = try JSONParser.parse(bytes: Array(file.data(of: message)))
                let problems = validator.problems(value)
                // One message tells what is wrong; thousands of the same failure tell nothing more.
                guard problems.isEmpty else { return XCTFail("\(channel.topic): \(problems) in \(value.serialized())") }
                checked[channel.topic, default: 0] += 1
            }
        }
        XCTAssertEqual(checked.values.reduce(0, +), file.messages.count)
        XCTAssertEqual(checked[TelemetryChannel.exerciseMetrics.topic], 1, "the metrics as the session wrote them")
        XCTAssertGreaterThan(checked[TelemetryChannel.safetyEvent.topic] ?? 0, 0)

        let transitions = try file.messages(onTopic: TelemetryChannel.supervisorTransition.topic).map {
            try XCTUnwrap(JSONParser.parse(bytes: Array(file.data(of: $0))).objectValue)
        }
        let setUp = transitions.filter { $0["phase"]?.stringValue == "set_up" }
        XCTAssertEqual(setUp.map { $0["to"]?.stringValue }, ["self_test", "idle", "ready"])
        XCTAssertTrue(setUp.allSatisfy { $0["cycle"] == JSONValue.null }, "\(setUp)")
        let start = try XCTUnwrap(transitions.first { $0["cause"]?.stringValue == "start_requested" })
        XCTAssertEqual(start["cycle"], JSONValue.integer(0), "the exercise starts in the loop's own cycle 0")
        XCTAssertEqual(start["phase"]?.stringValue, "loop")

        // --json says the same.
        let listed = report.json().objectValue?["supervisor_transitions"]?.arrayValue?.compactMap(\.objectValue) ?? []
        XCTAssertEqual(listed.filter { $0["cycle"] == JSONValue.null }.map { $0["phase"]?.stringValue }, ["set_up", "set_up", "set_up"])
        XCTAssertEqual(listed.first { $0["cause"]?.stringValue == "start_requested" }?["cycle"], JSONValue.integer(0))
        XCTAssertTrue(report.transitions.prefix(3).allSatisfy(\.isDuringSetUp))
    }
}
