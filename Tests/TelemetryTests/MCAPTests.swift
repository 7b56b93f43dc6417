import Control
import DeviceModel
import Primitives
import StrictJSON
import Telemetry
import XCTest

/// The MCAP writer against the specification, checked by the project's own reader: records, CRCs,
/// message and chunk indexes, statistics, summary offsets; and recovery of files cut short.
final class MCAPTests: XCTestCase {
    /// A small file: two channels, messages over three chunks, a metadata record. Uncompressed chunks
    /// (the layout these tests poke at byte by byte; MCAPCompressionTests has the zstd ones).
    private func sampleFile(messages: Int = 300, chunkSizeBytes: Int = 2_000) -> (bytes: [UInt8], payloads: [(UInt16, UInt64, String)]) {
        var writer = MCAPWriter(profile: "", library: "test", chunkSizeBytes: chunkSizeBytes, compression: .none)
        writer.addSchema(id: 1, name: "a", encoding: "jsonschema", data: Array(#"{"type":"object"}"#.utf8))
        writer.addChannel(id: 1, schemaID: 1, topic: "/a", messageEncoding: "json", metadata: [("joints", "x,y")])
        writer.addChannel(id: 2, schemaID: 1, topic: "/b", messageEncoding: "json", metadata: [])
        writer.addMetadata(name: "session", [("profile", "wrist"), ("rate_hz", "1000")])
        var payloads: [(UInt16, UInt64, String)] = []
        var output: [UInt8] = []
        for index in 0..<messages {
            let channel: UInt16 = index % 3 == 0 ? 2 : 1
            let time = 1_700_000_000_000_000_000 + UInt64(index) * 1_000_000
            let text = #"{"i":\#(index)}"#
            payloads.append((channel, time, text))
            writer.addMessage(channel: channel, sequence: UInt32(index), logTime: time, publishTime: time) { $0.append(contentsOf: text.utf8) }
            output += writer.takeOutput()
        }
        writer.finish()
        output += writer.takeOutput()
        return (output, payloads)
    }

    func testAWrittenFileReadsBackWithEveryIndexAndChecksum() throws {
        let (bytes, payloads) = sampleFile()
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x4D, 0x43, 0x41, 0x50, 0x30, 0x0D, 0x0A])
        XCTAssertEqual(Array(bytes.suffix(8)), MCAPFormat.magic)
        let file = try MCAPFile(bytes: bytes)
        XCTAssertTrue(file.isComplete)
        XCTAssertEqual(file.library, "test")
        XCTAssertEqual(file.messages.count, payloads.count)
        for (message, payload) in zip(file.messages, payloads) {
            XCTAssertEqual(message.channel, payload.0)
            XCTAssertEqual(message.logTime, payload.1)
            XCTAssertEqual(String(decoding: file.data(of: message), as: UTF8.self), payload.2)
        }
        XCTAssertGreaterThan(file.chunks.count, 2, "several chunks")
        XCTAssertEqual(file.chunkIndexCount, file.chunks.count, "a chunk index for every chunk")
        let statistics = try XCTUnwrap(file.statistics)
        XCTAssertEqual(statistics.messageCount, 300)
        XCTAssertEqual(statistics.channelMessageCounts, [1: 200, 2: 100])
        XCTAssertEqual(statistics.messageStartTime, payloads.first!.1)
        XCTAssertEqual(statistics.messageEndTime, payloads.last!.1)
        XCTAssertEqual(file.channels[1]?.metadata["joints"], "x,y")
        XCTAssertEqual(file.metadata.first?.name, "session")
    }

    func testTheFooterAndDataEndHoldTheSpecifiedFields() throws {
        let (bytes, _) = sampleFile(messages: 10)
        // Footer: opcode 0x02, length 20, summary_start, summary_offset_start, summary_crc; then the magic.
        let footer = bytes.count - 8 - 29
        XCTAssertEqual(bytes[footer], 0x02)
        XCTAssertEqual(Array(bytes[(footer + 1)..<(footer + 9)]), [20, 0, 0, 0, 0, 0, 0, 0])
        func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << UInt32(8 * $1) } }
        let summaryStart = u64(footer + 9)
        let summaryOffsetStart = u64(footer + 17)
        XCTAssertGreaterThan(summaryOffsetStart, summaryStart)
        XCTAssertEqual(u32(footer + 25), CRC32.checksum(bytes[summaryStart..<(footer + 25)]), "summary CRC through summary_offset_start")
        // The record before the summary is Data End with the CRC of everything before it.
        let dataEnd = summaryStart - 13
        XCTAssertEqual(bytes[dataEnd], 0x0F)
        XCTAssertEqual(u32(dataEnd + 9), CRC32.checksum(bytes[0..<dataEnd]))
        // Summary offset records name the groups in order: schema, channel, statistics, chunk index, metadata index.
        var offset = summaryOffsetStart
        var groups: [UInt8] = []
        while offset < footer {
            XCTAssertEqual(bytes[offset], 0x0E)
            groups.append(bytes[offset + 9])
            offset += 9 + u64(offset + 1)
        }
        XCTAssertEqual(groups, [0x03, 0x04, 0x0B, 0x08, 0x0D])
    }

    func testACorruptByteInAChunkIsACRCError() throws {
        var (bytes, _) = sampleFile()
        let file = try MCAPFile(bytes: bytes)
        let chunk = file.chunks[1]
        bytes[chunk.offset + chunk.length - 3] ^= 0x40
        XCTAssertThrowsError(try MCAPFile(bytes: bytes)) { error in
            guard case .checksum(let offset, let detail)? = error as? MCAPError else { return XCTFail("\(error)") }
            XCTAssertEqual(offset, chunk.offset)
            XCTAssertTrue(detail.contains("chunk CRC"), detail)
        }
    }

    func testAFileThatIsNotMCAPIsRefusedAsSuch() {
        for bytes in [[UInt8](), Array("cycle,t_ms\n1,0\n".utf8), Array(repeating: 0xFF, count: 100)] {
            XCTAssertThrowsError(try MCAPFile(bytes: bytes)) { error in
                guard case .notMCAP? = error as? MCAPError else { return XCTFail("\(error)") }
            }
        }
    }

    func testATruncatedFileIsRefusedButRecoveredUpToItsLastCompleteChunk() throws {
        let (bytes, payloads) = sampleFile()
        let complete = try MCAPFile(bytes: bytes)
        // Cut anywhere: inside the header, inside each chunk, between chunks, inside the summary.
        var cuts = Array(stride(from: 20, to: bytes.count, by: 97))
        cuts += complete.chunks.map { $0.offset + $0.length }
        for cut in cuts {
            let truncated = Array(bytes[0..<cut])
            XCTAssertThrowsError(try MCAPFile(bytes: truncated), "cut at \(cut)")
            let expectedChunks = complete.chunks.filter { $0.offset + $0.length <= cut }
            guard cut > 60 else { continue }
            let outcome = try MCAPRecovery.recover(truncated)
            let recovered = try MCAPFile(bytes: outcome.bytes)
            XCTAssertTrue(recovered.isComplete)
            XCTAssertEqual(outcome.chunksKept, expectedChunks.count, "cut at \(cut)")
            let kept = expectedChunks.last.map { $0.messages.upperBound } ?? 0
            XCTAssertEqual(recovered.messages.count, kept, "cut at \(cut)")
            for (message, payload) in zip(recovered.messages, payloads) {
                XCTAssertEqual(String(decoding: recovered.data(of: message), as: UTF8.self), payload.2)
            }
            if !expectedChunks.isEmpty {
                XCTAssertEqual(recovered.channels.count, 2, "cut at \(cut)")
                XCTAssertEqual(recovered.metadata.count, 1, "cut at \(cut)")
            }
        }
    }

    func testRecoveringACompleteFileKeepsEverything() throws {
        let (bytes, payloads) = sampleFile()
        let outcome = try MCAPRecovery.recover(bytes)
        XCTAssertNil(outcome.stop)
        XCTAssertEqual(try MCAPFile(bytes: outcome.bytes).messages.count, payloads.count)
    }

    func testTheTelemetryEncoderWritesValidJSONForEveryChannelWithItsSchema() throws {
        var encoder = TelemetryEncoder(
            jointNames: ["flexion", "deviation"], rateHertz: 1_000, sessionMetadata: [("profile", "wrist")],
            monotonicOrigin: MonotonicInstant(nanoseconds: 5_000_000_000), unixOriginNanoseconds: 1_700_000_000_000_000_000)
        var frame = TelemetryFrame(jointCount: 2)
        frame.cycle = 7
        frame.time = MonotonicInstant(nanoseconds: 5_007_000_000)
        frame.state = .active
        frame.action = 1
        frame.wire = .command
        frame.positionsRadians[0] = 0.123456789012345
        frame.positionsRadians[1] = -1e-7
        frame.targetPositionsRadians[1] = 0.5
        frame.commandModes[0] = 1
        frame.commandTorquesNewtonMeters[0] = -0.75
        frame.roundTripNanoseconds = 412_000
        encoder.write(.cycle(frame))
        encoder.write(.transition(SupervisorTransition(
            cycle: 9, time: MonotonicInstant(nanoseconds: 5_009_000_000), from: .active, to: .fault, cause: .interactionTorque,
            category: .cat1, value: 4.2, deviceCode: 0, joint: 1)))
        encoder.writeMetrics(.object(["duration_s": .number(1.5), "cycles": .int(1500)]), at: MonotonicInstant(nanoseconds: 6_500_000_000))
        encoder.finish()
        let file = try MCAPFile(bytes: encoder.takeOutput())
        XCTAssertEqual(Set(file.channels.values.map(\.topic)), Set(TelemetryChannel.allCases.map(\.topic)))
        for schema in file.schemas.values {
            XCTAssertEqual(schema.encoding, "jsonschema")
            XCTAssertNoThrow(try JSONParser.parse(bytes: schema.data), schema.name)
        }
        func object(_ topic: String) throws -> JSONObject {
            let message = try XCTUnwrap(file.messages(onTopic: topic).first, topic)
            return try XCTUnwrap(JSONParser.parse(bytes: Array(file.data(of: message))).objectValue, topic)
        }
        let state = try object("/joint_state")
        XCTAssertEqual(state["position_rad"]?.arrayValue?.map(\.doubleValue), [0.123456789012345, -1e-7], "exact round trip")
        XCTAssertEqual(file.messages(onTopic: "/joint_state").first?.logTime, 1_700_000_000_007_000_000, "Unix time from the monotonic cycle time")
        let command = try object("/joint_command")
        XCTAssertEqual(command["target_position_rad"]?.arrayValue?.first, .null, "NaN (no target) is null")
        XCTAssertEqual(command["target_position_rad"]?.arrayValue?[1].doubleValue, 0.5)
        XCTAssertEqual(command["mode"]?.arrayValue?.map(\.stringValue), ["torque", "off"])
        XCTAssertEqual(try object("/loop/timing")["round_trip_ns"]?.integerValue, 412_000)
        XCTAssertEqual(try object("/supervisor/state")["state"]?.stringValue, "active")
        let event = try object("/safety/event")
        XCTAssertEqual(event["cause"]?.stringValue, "interaction_torque")
        XCTAssertEqual(event["requirement"]?.stringValue, "SR-9")
        XCTAssertEqual(event["joint"]?.stringValue, "deviation")
        XCTAssertEqual(event["value_unit"]?.stringValue, "N·m")
        XCTAssertEqual(file.messages(onTopic: "/supervisor/transition").count, 1)
        XCTAssertEqual(try object("/exercise/metrics")["cycles"]?.integerValue, 1500)
    }
}
