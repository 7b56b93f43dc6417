import Control
import DeviceModel
import Foundation
import Primitives
import StrictJSON
import Telemetry
import TestSupport
import XCTest

/// The recordings' JSON Schemas say what a file holds: every object closed (no field it does not
/// list, every field it lists required), every message of every channel checked against the schema
/// stored in its own file, and a validator shown to fail on a misspelt, missing or mistyped field.
final class ClosedSchemaTests: XCTestCase {
    private static let origin = MonotonicInstant(nanoseconds: 2_000_000_000)

    private static func at(cycle: Int64) -> MonotonicInstant {
        origin.advanced(byNanoseconds: cycle * 1_000_000)
    }

    /// Transitions of the loop: a start, a pause and resume, a fault on a joint, a reset, and a fault
    /// with an infinite value (a tracker never heard from), which the file holds as null.
    private static let loopTransitions: [SupervisorTransition] = [
        .init(cycle: 0, time: at(cycle: 0), from: .ready, to: .active, cause: .startRequested, category: nil, value: 0, deviceCode: 0),
        .init(cycle: 60, time: at(cycle: 60), from: .active, to: .paused, cause: .linkPoor, category: .cat2, value: 40, deviceCode: 0),
        .init(cycle: 80, time: at(cycle: 80), from: .paused, to: .active, cause: .resumeRequested, category: nil, value: 0, deviceCode: 0),
        .init(cycle: 120, time: at(cycle: 120), from: .active, to: .fault, cause: .interactionTorqueSevere, category: .cat1, value: 2.5,
              deviceCode: 0, joint: 0),
        .init(cycle: 150, time: at(cycle: 150), from: .fault, to: .idle, cause: .resetRequested, category: nil, value: 0, deviceCode: 0),
        .init(cycle: 160, time: at(cycle: 160), from: .idle, to: .active, cause: .startRequested, category: nil, value: 0, deviceCode: 0),
        .init(cycle: 190, time: at(cycle: 190), from: .active, to: .fault, cause: .trackerStale, category: .cat1, value: .infinity,
              deviceCode: 0x21),
    ]

    /// Every channel: the set-up's transitions 0.8 s before cycle 0, 200 cycles with two trackers (a
    /// pose tool, and an angle source silent for 20 cycles), the loop's transitions, the metrics.
    private func recording() throws -> MCAPFile {
        var encoder = TelemetryEncoder(
            jointNames: ["flexion_extension", "pronation_supination"], rateHertz: 1_000, sessionMetadata: [("profile", "wrist-trainer")],
            monotonicOrigin: Self.origin, unixOriginNanoseconds: 1_790_000_000_000_000_000, trackerNames: ["hand", "forearm"],
            chunkSizeBytes: 16_384)
        let setUp: [(SupervisorState, SupervisorState, SafetyCause)] = [
            (.disabled, .selfTest, .selfTestStarted), (.selfTest, .idle, .selfTestPassed), (.idle, .ready, .enabled),
        ]
        for (from, to, cause) in setUp {
            encoder.write(.transition(SupervisorTransition(
                cycle: SupervisorTransition.setUpCycle, time: Self.at(cycle: -800), from: from, to: to, cause: cause, category: nil,
                value: 0, deviceCode: 0)))
        }
        var frame = TelemetryFrame(jointCount: 2, trackerCount: 2)
        var state = SupervisorState.ready
        for cycle in Int64(0)..<200 {
            for transition in Self.loopTransitions where transition.cycle == cycle {
                encoder.write(.transition(transition))
                state = transition.to
            }
            let tracking = state == .active
            frame.cycle = cycle
            frame.time = Self.at(cycle: cycle)
            frame.state = state
            frame.action = TelemetryCodes.action(tracking ? .move : state == .paused ? .hold : .torqueOff)
            frame.activeStop = state == .paused ? .cat2 : nil
            frame.wire = cycle % 50 == 0 ? .heartbeat : .command
            frame.freshState = cycle % 7 != 3
            frame.positionsRadians[0] = 0.3 * sin(Double(cycle) / 30)
            frame.velocitiesRadiansPerSecond[0] = 0.01 * cos(Double(cycle) / 30)
            frame.motorTorquesNewtonMeters[0] = 0.1
            frame.interactionTorquesNewtonMeters[0] = cycle > 110 ? 0.2 : 0
            frame.targetPositionsRadians[0] = tracking ? frame.positionsRadians[0] + 0.001 : .nan
            frame.targetVelocitiesRadiansPerSecond[0] = tracking ? 0.01 : .nan
            frame.commandModes[0] = TelemetryCodes.mode(tracking ? .torque : .off)
            frame.commandTorquesNewtonMeters[0] = tracking ? 0.05 : 0
            frame.wakeLatencyNanoseconds = 20_000 + cycle
            frame.computeNanoseconds = 3_000
            frame.cycleNanoseconds = 90_000
            frame.roundTripNanoseconds = cycle % 3 == 0 ? -1 : 120_000
            frame.lateCycles = cycle == 100 ? 2 : 0
            frame.stateAgeNanoseconds = cycle == 0 ? .max : 1_000_000
            frame.linkGrade = state == .paused ? .poor : .good
            var hand = TrackerSample()
            hand.frameCounter = UInt32(cycle / 4)
            hand.receivedAt = frame.time
            hand.samplesReceived = cycle + 1
            hand.toolPositionMeters = SIMD3(0.1, 0.2, 0.3)
            hand.toolOrientation = SIMD4(1, 0, 0, 0)
            hand.toolVisible = cycle < 180
            hand.rmsErrorMillimeters = 0.4
            frame.trackers[0] = hand
            var forearm = TrackerSample()
            if cycle >= 20 {
                forearm.frameCounter = UInt32(cycle)
                forearm.receivedAt = Self.at(cycle: cycle - 1)
                forearm.samplesReceived = cycle - 19
                forearm.positionRadians = 0.1
                forearm.toolVisible = true
            }
            frame.trackers[1] = forearm
            encoder.write(.cycle(frame))
        }
        encoder.writeMetrics(Self.metrics, at: Self.at(cycle: 200))
        encoder.finish()
        return try MCAPFile(bytes: encoder.takeOutput())
    }

    /// The exercise metrics as `TherapySession` writes them (RecordedSessionSchemaTests checks the real ones).
    private static var metrics: JSONValue {
        let perJoint: JSONValue = [0.5, 0.0]
        let timeInState: JSONObject = ["self_test": 0.8, "idle": 0.01, "ready": 0.001, "active": 0.15, "paused": 0.02, "fault": 0.04]
        let grades: JSONObject = ["GOOD": 0.18, "FAIR": 0, "POOR": 0.02, "LOST": 0]
        let limits: JSONObject = ["good_age": 3, "good_gap": 3, "lost_cat1_age": 12, "lost_cat0_age": 20]
        let linkQuality: JSONObject = [
            "time_in_grade_s": .object(grades), "fair_episodes": 0, "poor_episodes": 1, "worst_state_age_ms": 1.6, "longest_gap_ms": 1.6,
            "limits_ms": .object(limits),
        ]
        let request: JSONObject = ["time_ns": 2_060_000_000, "pid": 4242, "uid": 1000, "gid": 1000, "request": "pause", "outcome": "accepted"]
        let fields: JSONObject = [
            "duration_s": 0.2, "cycles": 200, "joints": ["flexion_extension", "pronation_supination"],
            "rom_rad": perJoint, "min_position_rad": [-0.3, 0], "max_position_rad": [0.3, 0], "rms_tracking_error_rad": perJoint,
            "max_abs_tracking_error_rad": perJoint, "peak_torque_nm": perJoint, "peak_interaction_torque_nm": perJoint,
            "rms_interaction_torque_nm": perJoint, "robot_work_j": perJoint, "patient_work_j": perJoint, "assistance_ratio": [1, 0],
            "mode": "passive", "exercised_joint": "flexion_extension", "assistance_gain_by_repetition": [], "repetitions": 1,
            "safety_events": 2, "final_state": "fault", "time_in_state_s": .object(timeInState), "telemetry_records_dropped": 0,
            "link_quality": .object(linkQuality), "control_audit": [.object(request)],
        ]
        return .object(fields)
    }

    private func objects(_ file: MCAPFile, _ channel: TelemetryChannel) throws -> [JSONObject] {
        try file.messages(onTopic: channel.topic).map { try XCTUnwrap(JSONParser.parse(bytes: Array(file.data(of: $0))).objectValue) }
    }

    /// Every object schema inside `schema` (itself included), with its path.
    private func objectSchemas(_ schema: JSONValue, path: String = "$") -> [(path: String, rules: JSONObject)] {
        guard let rules = schema.objectValue else { return [] }
        var found: [(path: String, rules: JSONObject)] = []
        let types = rules["type"]?.arrayValue?.compactMap(\.stringValue) ?? rules["type"]?.stringValue.map { [$0] } ?? []
        if types.contains("object") { found.append((path, rules)) }
        for (name, property) in rules["properties"]?.objectValue?.entries ?? [] {
            found += objectSchemas(property, path: path + "." + name)
        }
        if let items = rules["items"] { found += objectSchemas(items, path: path + "[]") }
        return found
    }

    func testEveryObjectOfEveryRecordingSchemaIsClosedAndRequiresEveryField() throws {
        for channel in TelemetryChannel.allCases {
            let objects = objectSchemas(try JSONParser.parse(channel.jsonSchema))
            XCTAssertFalse(objects.isEmpty, channel.topic)
            for (path, rules) in objects {
                XCTAssertEqual(rules["additionalProperties"], JSONValue.bool(false), "\(channel.topic) \(path)")
                let listed = rules["properties"]?.objectValue?.keys ?? []
                XCTAssertFalse(listed.isEmpty, "\(channel.topic) \(path)")
                let required = rules["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
                // time_in_state_s alone lists only the states the session entered (its description says so).
                XCTAssertEqual(required, path == "$.time_in_state_s" ? [] : listed, "\(channel.topic) \(path)")
            }
        }
        // Nested objects are closed too: the metrics' link quality, its two maps, the audit records.
        let metrics = objectSchemas(try JSONParser.parse(TelemetryChannel.exerciseMetrics.jsonSchema)).map { $0.path }
        XCTAssertEqual(metrics, ["$", "$.time_in_state_s", "$.link_quality", "$.link_quality.time_in_grade_s", "$.link_quality.limits_ms",
                                 "$.control_audit[]"])
    }

    func testEveryMessageOfEveryChannelFollowsTheSchemaInItsFile() throws {
        let file = try recording()
        var checked: [String: Int] = [:]
        for channel in file.channels.values.sorted(by: { $0.id < $1.id }) {
            let schema = try XCTUnwrap(file.schemas[channel.schemaID], channel.topic)
            XCTAssertEqual(schema.encoding, "jsonschema")
            let validator = try JSONSchemaSubset(String(decoding: schema.data, as: UTF8.self))
            for message in file.messages where message.channel == channel.id {
                let value = try JSONParser.parse(bytes: Array(file.data(of: message)))
                XCTAssertEqual(validator.problems(value), [], "\(channel.topic): \(value.serialized())")
                checked[channel.topic, default: 0] += 1
            }
        }
        for channel in TelemetryChannel.allCases {
            XCTAssertGreaterThan(checked[channel.topic] ?? 0, 0, "\(channel.topic) has messages to check")
        }
        XCTAssertEqual(checked["/tracker/sample"], 400, "two trackers × 200 cycles")
        XCTAssertEqual(checked["/safety/event"], 3, "the pause and the two stops: the transitions with a category")
        XCTAssertGreaterThan(checked["/tracker/hand/pose"] ?? 0, 0, "foxglove.PoseInFrame, checked against Foxglove's own schema")
        // What the file holds as null, which the schemas must allow: no target, no round trip, no state
        // yet, a silent tracker, an angle source without a pose, an infinite value.
        let commands = try objects(file, .jointCommand)
        XCTAssertTrue(commands.contains { $0["target_position_rad"]?.arrayValue?.first == JSONValue.null })
        let samples = try objects(file, .trackerSample)
        XCTAssertTrue(samples.contains { $0["age_ns"] == JSONValue.null && $0["tool_position_m"] == JSONValue.null })
        let events = try objects(file, .safetyEvent)
        XCTAssertEqual(events.last?["value"], JSONValue.null, "tracker_stale's infinite value")
        XCTAssertEqual(events.last?["device_code"]?.integerValue, 0x21)
    }

    func testTheValidatorFailsAMisspeltAMissingOrAMistypedField() throws {
        let file = try recording()
        let states = try JSONSchemaSubset(TelemetryChannel.jointState.jsonSchema)
        let state = try XCTUnwrap(try objects(file, .jointState).first)
        XCTAssertEqual(states.problems(.object(state)), [], "the message as written conforms")
        var misspelt = state
        misspelt["positon_rad"] = misspelt["position_rad"]
        misspelt["position_rad"] = nil
        XCTAssertEqual(states.problems(.object(misspelt)), [
            "$: the required field position_rad is missing", "$: the field positon_rad is not in the schema",
        ])
        var extra = state
        extra["note"] = "hello"
        XCTAssertEqual(states.problems(.object(extra)), ["$: the field note is not in the schema"])
        var missing = state
        missing["fresh"] = nil
        XCTAssertEqual(states.problems(.object(missing)), ["$: the required field fresh is missing"])
        var mistyped = state
        mistyped["cycle"] = "12"
        XCTAssertEqual(states.problems(.object(mistyped)), ["$.cycle: a string where the schema wants integer"])
        mistyped["cycle"] = 12.5
        XCTAssertEqual(states.problems(.object(mistyped)), ["$.cycle: a number where the schema wants integer"])
        var nullPosition = state
        nullPosition["position_rad"] = JSONValue.array([.null, .double(0.1)])
        XCTAssertEqual(states.problems(.object(nullPosition)), ["$.position_rad[0]: null where the schema wants number"])

        let commands = try JSONSchemaSubset(TelemetryChannel.jointCommand.jsonSchema)
        var command = try XCTUnwrap(try objects(file, .jointCommand).first)
        command["mode"] = ["torque", "position"]
        XCTAssertEqual(commands.problems(.object(command)).count, 1)
        XCTAssertTrue(commands.problems(.object(command)).first?.hasPrefix(#"$.mode[1]: "position" is not one of"#) == true)

        let transitions = try JSONSchemaSubset(TelemetryChannel.supervisorTransition.jsonSchema)
        var setUp = try XCTUnwrap(try objects(file, .supervisorTransition).first)
        XCTAssertEqual(transitions.problems(.object(setUp)), [], "cycle null, phase set_up")
        setUp["phase"] = "setup"
        XCTAssertEqual(transitions.problems(.object(setUp)).count, 1, "phase is set_up or loop")
        setUp["phase"] = nil
        XCTAssertEqual(transitions.problems(.object(setUp)), ["$: the required field phase is missing"])

        let metrics = try JSONSchemaSubset(TelemetryChannel.exerciseMetrics.jsonSchema)
        var object = try XCTUnwrap(Self.metrics.objectValue)
        XCTAssertEqual(metrics.problems(.object(object)), [])
        object["time_in_state_s"] = JSONValue.object(["active": 1, "resting": 2])
        XCTAssertEqual(metrics.problems(.object(object)), ["$.time_in_state_s: the field resting is not in the schema"])
        object["link_quality"] = JSONValue.object(["fair_episodes": 0])
        XCTAssertTrue(metrics.problems(.object(object)).contains("$.link_quality: the required field poor_episodes is missing"))

        let trackers = try JSONSchemaSubset(TelemetryChannel.trackerSample.jsonSchema)
        var sample = try XCTUnwrap(try objects(file, .trackerSample).first)
        sample["tool_position_m"] = [0.1, 0.2]
        XCTAssertEqual(trackers.problems(.object(sample)), ["$.tool_position_m: 2 items, fewer than 3"])

        // A keyword it does not check is a problem itself, never a silent pass.
        XCTAssertEqual(try JSONSchemaSubset(#"{"type": "string", "pattern": "^a"}"#).problems("b").count, 1)
    }

    /// Self-test, idle and ready come before the loop's cycle 0 (0.8 s before, in `rehabctl demo`):
    /// they carry no cycle but the set-up phase, in the file and in the CSV export.
    func testTheSetUpsTransitionsCarryNoCycleButTheSetUpPhase() throws {
        let file = try recording()
        let transitions = try objects(file, .supervisorTransition)
        XCTAssertEqual(transitions.prefix(4).map { $0["cycle"] ?? JSONValue.string("absent") }, [JSONValue.null, .null, .null, .integer(0)])
        XCTAssertEqual(transitions.prefix(4).map { $0["phase"]?.stringValue }, ["set_up", "set_up", "set_up", "loop"])
        XCTAssertEqual(transitions[3]["to"]?.stringValue, "active", "the exercise starts in the loop's own cycle 0")
        let table = try XCTUnwrap(try CSVExport.tables(of: file).first { $0.fileName == "supervisor_transition.csv" })
        let cycle = try XCTUnwrap(table.header.firstIndex(of: "cycle"))
        let phase = try XCTUnwrap(table.header.firstIndex(of: "phase"))
        XCTAssertEqual(table.rows[0][cycle], "", "null is an empty cell")
        XCTAssertEqual(table.rows[0][phase], "set_up")
        XCTAssertEqual(table.rows[3][cycle], "0")
        XCTAssertEqual(table.rows[3][phase], "loop")
    }
}
