import Telemetry
import XCTest

/// One flipped bit, or one absurd length or offset, anywhere in an MCAP file: the reader (what
/// `rehabctl export` and `report` read) and recovery (`rehabctl recover`) either read it or throw
/// their typed error, never trap. A trap ends the test process, so each of these tests fails, rather
/// than passes, on a reader that traps. And a report of values no plot can place (null, ±1e308,
/// 9.3e18, a log time past Int64) renders.
final class MCAPCorruptionTests: XCTestCase {
    private let masks: [UInt8] = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80]

    /// A small valid file from the project's own writer: a schema, two channels, metadata, messages
    /// over several chunks, each with its message indexes; summary, summary offsets and footer.
    /// Uncompressed chunks, whose layout `resealed` knows (MCAPCompressionTests flips zstd chunks).
    private func sampleFile() -> [UInt8] {
        var writer = MCAPWriter(profile: "", library: "test", chunkSizeBytes: 300, compression: .none)
        writer.addSchema(id: 1, name: "a", encoding: "jsonschema", data: Array(#"{"type":"object"}"#.utf8))
        writer.addChannel(id: 1, schemaID: 1, topic: "/a", messageEncoding: "json", metadata: [("joints", "x,y")])
        writer.addChannel(id: 2, schemaID: 1, topic: "/b", messageEncoding: "json", metadata: [])
        writer.addMetadata(name: "session", [("profile", "wrist")])
        for index in 0..<24 {
            let time = 1_700_000_000_000_000_000 + UInt64(index) * 1_000_000
            writer.addMessage(channel: index % 3 == 0 ? 2 : 1, sequence: UInt32(index), logTime: time, publishTime: time) {
                $0.append(contentsOf: #"{"i":\#(index)}"#.utf8)
            }
        }
        writer.finish()
        return writer.takeOutput()
    }

    /// Where the CRCs of a file are, to write them again after a change: the change then reaches the
    /// checks behind the CRC checks.
    private struct Layout {
        var chunks: [(offset: Int, length: Int)]
        var dataEnd: Int
        var summaryStart: Int
        var footer: Int
    }

    private func crcLayout(of bytes: [UInt8]) throws -> Layout {
        let file = try MCAPFile(bytes: bytes)
        XCTAssertGreaterThan(file.chunks.count, 2, "several chunks")
        let footer = bytes.count - 8 - MCAPFormat.footerRecordLength
        let summaryStart = Int(uint64(bytes, at: footer + 9))
        XCTAssertEqual(bytes[summaryStart - 13], 0x0F, "Data End just before the summary")
        return Layout(
            chunks: file.chunks.map { ($0.offset, $0.length) }, dataEnd: summaryStart - 13, summaryStart: summaryStart, footer: footer)
    }

    private func uint64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << UInt64(8 * $1) }
    }

    private func write(_ value: UInt64, into bytes: inout [UInt8], at offset: Int, count: Int = 8) {
        for index in 0..<count { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> UInt64(8 * index)) }
    }

    /// `bytes` with every CRC written again for its content, where the original file has it.
    private func resealed(_ bytes: [UInt8], _ layout: Layout) -> [UInt8] {
        var bytes = bytes
        // Chunk: opcode, length, start and end time, uncompressed size (33 bytes), its records' CRC,
        // the empty compression string and the records' length; the records from byte 49.
        for chunk in layout.chunks {
            let crc = CRC32.checksum(bytes[(chunk.offset + 49)..<(chunk.offset + chunk.length)])
            write(UInt64(crc), into: &bytes, at: chunk.offset + 33, count: 4)
        }
        write(UInt64(CRC32.checksum(bytes[0..<layout.dataEnd])), into: &bytes, at: layout.dataEnd + 9, count: 4)
        write(UInt64(CRC32.checksum(bytes[layout.summaryStart..<(layout.footer + 25)])), into: &bytes, at: layout.footer + 25, count: 4)
        return bytes
    }

    /// Reads, salvages and recovers `bytes`: each may throw, none may trap; what recovery writes
    /// reads back.
    private func readAndRecover(_ bytes: [UInt8], _ what: @autoclosure () -> String) {
        _ = try? MCAPFile(bytes: bytes)
        _ = try? MCAPFile(bytes: bytes, salvaging: true)
        if let outcome = try? MCAPRecovery.recover(bytes) {
            XCTAssertNoThrow(try MCAPFile(bytes: outcome.bytes), "recovered from \(what())")
        }
    }

    func testTheReviewsFlippedFooterByteIsAnErrorNamingTheFieldAndRecoveryKeepsEveryChunk() throws {
        let bytes = sampleFile()
        let layout = try crcLayout(of: bytes)
        // The review's reproduction: d[len(d)-21] |= 0x80, the high byte of the footer's summary_start.
        var flipped = bytes
        flipped[bytes.count - 21] |= 0x80
        XCTAssertThrowsError(try MCAPFile(bytes: flipped)) { error in
            guard case .malformed(let offset, let detail)? = error as? MCAPError else { return XCTFail("\(error)") }
            XCTAssertEqual(offset, layout.footer + 9, "where the field is")
            XCTAssertTrue(detail.contains("summary_start"), detail)
            XCTAssertTrue(detail.contains("\(uint64(flipped, at: layout.footer + 9))"), "its value: \(detail)")
        }
        let outcome = try MCAPRecovery.recover(flipped)
        XCTAssertEqual(outcome.chunksKept, layout.chunks.count)
        XCTAssertEqual(outcome.messagesKept, 24)
        XCTAssertTrue(outcome.stop?.contains("summary_start") == true, "\(outcome.stop ?? "no stop")")
        XCTAssertEqual(try MCAPFile(bytes: outcome.bytes).messages.count, 24)
    }

    func testEveryBitFlipInTheSummaryAndFooterIsReadOrRefusedNeverATrap() throws {
        let bytes = sampleFile()
        let layout = try crcLayout(of: bytes)
        for position in layout.summaryStart..<bytes.count {
            for mask in masks {
                var flipped = bytes
                flipped[position] ^= mask
                readAndRecover(flipped, "bit 0x\(String(mask, radix: 16)) of byte \(position) flipped")
            }
        }
    }

    func testEveryBitFlipPastTheChecksumsIsReadOrRefusedNeverATrap() throws {
        let bytes = sampleFile()
        let layout = try crcLayout(of: bytes)
        XCTAssertEqual(resealed(bytes, layout), bytes, "the CRCs are where this test writes them")
        for position in 8..<bytes.count {
            for mask in masks {
                var flipped = bytes
                flipped[position] ^= mask
                readAndRecover(resealed(flipped, layout), "bit 0x\(String(mask, radix: 16)) of byte \(position) flipped, CRCs resealed")
            }
        }
    }

    /// Every 8-byte window of the file (so every little-endian uint64 field: lengths, offsets, message
    /// index entries, summary offsets, the footer) set to a value no file offset can have, with the
    /// CRCs resealed; and the high bit of every 8-byte field of the summary section set.
    func testAnAbsurdValueInEveryEightByteFieldIsReadOrRefusedNeverATrap() throws {
        let bytes = sampleFile()
        let layout = try crcLayout(of: bytes)
        let values: [UInt64] = [1 << 63, UInt64(Int64.max), UInt64(Int64.max) - 8, .max, 1 << 40, UInt64(bytes.count) + 1]
        for position in 8...(bytes.count - 16) {
            for value in values {
                var changed = bytes
                write(value, into: &changed, at: position)
                readAndRecover(resealed(changed, layout), "\(value) at byte \(position), CRCs resealed")
            }
            if position >= layout.summaryStart {
                var highBit = bytes
                highBit[position + 7] |= 0x80
                readAndRecover(highBit, "high bit of the 8 bytes at \(position)")
                readAndRecover(resealed(highBit, layout), "high bit of the 8 bytes at \(position), CRCs resealed")
            }
        }
    }

    // MARK: The report and export of values no plot can place

    func testAReportOfValuesNoPlotCanPlaceRendersWithoutTrapping() throws {
        var writer = MCAPWriter(profile: "", library: "test")
        let topics = ["/joint_state", "/joint_command", "/supervisor/state", "/supervisor/transition", "/loop/timing"]
        for (index, topic) in topics.enumerated() {
            writer.addChannel(
                id: UInt16(index + 1), schemaID: 0, topic: topic, messageEncoding: "json",
                metadata: topic == "/joint_state" ? [("joints", "a,b")] : [])
        }
        let base: UInt64 = 1_790_000_000_000_000_000
        // null is NaN in the plots; ±1e308 become ±∞ in degrees; 9.3e18 is past Int64.
        let values = [
            "null", "0", "1e308", "-1e308", "1.7976931348623157e308", "-1.7976931348623157e308", "9.3e18", "-9.3e18",
            "9300000000000000000", "5e-324", "0.5",
        ]
        var messages: [(UInt16, UInt64, String)] = []
        for (cycle, value) in values.enumerated() {
            let time = base + UInt64(cycle) * 1_000_000
            messages.append((1, time, #"{"cycle":\#(cycle),"position_rad":[\#(value),\#(value)],"motor_torque_nm":[\#(value),0],"interaction_torque_nm":[0,\#(value)]}"#))
            messages.append((2, time, #"{"cycle":\#(cycle),"target_position_rad":[\#(value),null],"torque_nm":[\#(value),\#(value)]}"#))
        }
        // A log time past Int64 (a file's log times are any uint64).
        messages.append((1, (1 << 63) + 1_000, #"{"cycle":99,"position_rad":[1,2],"motor_torque_nm":[0,0],"interaction_torque_nm":[0,0]}"#))
        messages.append((3, base, #"{"state":"active"}"#))
        messages.append((3, base + 5_000_000, #"{"state":"fault"}"#))
        for value in ["9.3e18", "1e308", "-1e308"] {
            messages.append((4, base + 5_000_000, #"{"cycle":5,"from":"active","to":"fault","cause":"interaction_torque","requirement":"SR-9","stop_category":1,"value":\#(value),"value_unit":"N·m"}"#))
        }
        // 2 000 ordinary cycles and one wait of 9e18 ns: far above the 99.9th percentile of the histogram.
        for cycle in 0..<2_000 {
            messages.append((5, base + UInt64(cycle) * 1_000, #"{"wake_latency_ns":0,"compute_ns":0,"round_trip_ns":0}"#))
        }
        messages.append((5, base + 3_000_000, #"{"wake_latency_ns":9000000000000000000,"compute_ns":9000000000000000000,"round_trip_ns":9000000000000000000}"#))
        for (channel, time, json) in messages {
            writer.addMessage(channel: channel, sequence: 0, logTime: time, publishTime: time) { $0.append(contentsOf: json.utf8) }
        }
        writer.finish()
        let file = try MCAPFile(bytes: writer.takeOutput())

        let html = try HTMLReport.render(file, title: "values no plot can place")
        for section in ["overview", "positions", "torques", "supervisor", "timing"] {
            XCTAssertTrue(html.contains("<section id=\"\(section)\">"), section)
        }
        XCTAssertTrue(html.contains("9.3e+18 N·m"), "a value past Int64 in plain notation")
        for bad in ["\"nan\"", "\"inf\"", "\"-inf\""] { XCTAssertFalse(html.contains(bad), "no \(bad) coordinate") }
        XCTAssertNoThrow(try CSVExport.tables(of: file))
    }
}
