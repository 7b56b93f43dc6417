import Control
import DeviceModel
import Foundation
import Primitives
import StrictJSON
import Telemetry
import TestSupport
import XCTest

/// Recordings with zstd chunks (issue 19): the messages and every value come back exactly, a damaged
/// compressed chunk is an error at that chunk and recovery keeps the chunks before it, a file cut
/// short anywhere is recovered up to its last complete chunk, recordings with uncompressed chunks
/// still read, a compression this reader does not know is refused by its name, and a recording is at
/// least five times smaller.
final class MCAPCompressionTests: XCTestCase {
    private let masks: [UInt8] = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80]

    /// `cycles` of a 2-joint wrist trainer at 1 kHz as a session records them: a ±0.4 rad, 0.25 Hz
    /// swing; what the device reports in its own units (position in whole µrad with ±3 µrad of encoder
    /// noise, motor torque in whole mN·m), what the host computes at full precision (target, target
    /// velocity, commanded torque), and the loop's timings with their jitter.
    private func wristTrainerFrames(cycles: Int) -> [TelemetryFrame] {
        var random = SplitMix64(seed: 19)
        var frames: [TelemetryFrame] = []
        frames.reserveCapacity(cycles)
        for cycle in 0..<cycles {
            let phase = 2 * Double.pi * 0.25 * Double(cycle) / 1_000
            let target = 0.4 * sin(phase)
            let targetVelocity = 0.4 * 2 * Double.pi * 0.25 * cos(phase)
            let measured = ((target * 1e6).rounded() + Double(Int(random.next() % 7) - 3)) / 1e6
            let torque = 2 * (target - measured) + 0.1 * targetVelocity
            var frame = TelemetryFrame(jointCount: 2)
            frame.cycle = Int64(cycle)
            frame.time = MonotonicInstant(nanoseconds: 1_000_000_000 + Int64(cycle) * 1_000_000)
            frame.state = .active
            frame.action = 1
            frame.wire = .command
            frame.freshState = true
            frame.positionsRadians[0] = measured
            frame.positionsRadians[1] = 0.001956
            // A torque rounded to whole mN·m is −0 when it rounds from below: the file keeps that sign too.
            frame.motorTorquesNewtonMeters[0] = (torque * 1e3).rounded() / 1e3
            frame.motorTorquesNewtonMeters[1] = -0.029
            frame.targetPositionsRadians[0] = target
            frame.targetPositionsRadians[1] = 0
            frame.targetVelocitiesRadiansPerSecond[0] = targetVelocity
            frame.targetVelocitiesRadiansPerSecond[1] = 0
            frame.commandModes[0] = 1
            frame.commandModes[1] = 1
            frame.commandTorquesNewtonMeters[0] = torque
            frame.commandTorquesNewtonMeters[1] = -0.029339999999999998
            frame.wakeLatencyNanoseconds = 10_000 + Int64(random.next() % 40_000)
            frame.computeNanoseconds = 20_000 + Int64(random.next() % 10_000)
            frame.cycleNanoseconds = 250_000 + Int64(random.next() % 60_000)
            frame.stateAgeNanoseconds = 1_000_000 + Int64(random.next() % 1_000_000)
            frames.append(frame)
        }
        return frames
    }

    /// The frames as a recording, a chunk closed every 100 cycles as the recorder closes one every 100 ms.
    private func recording(_ frames: [TelemetryFrame], compression: MCAPCompression) -> [UInt8] {
        var encoder = TelemetryEncoder(
            jointNames: ["flexion_extension", "pronation_supination"], rateHertz: 1_000, sessionMetadata: [("profile", "wrist-trainer")],
            monotonicOrigin: MonotonicInstant(nanoseconds: 1_000_000_000), unixOriginNanoseconds: 1_790_000_000_000_000_000,
            compression: compression)
        for frame in frames {
            encoder.write(.cycle(frame))
            if frame.cycle % 100 == 99 { encoder.closeChunk() }
        }
        encoder.finish()
        return encoder.takeOutput()
    }

    /// A small zstd file from the writer: two channels, metadata, 24 messages over several chunks.
    private func smallFile() -> [UInt8] {
        var writer = MCAPWriter(profile: "", library: "test", chunkSizeBytes: 300, compression: .zstd)
        writer.addSchema(id: 1, name: "a", encoding: "jsonschema", data: Array(#"{"type":"object"}"#.utf8))
        writer.addChannel(id: 1, schemaID: 1, topic: "/a", messageEncoding: "json", metadata: [("joints", "x,y")])
        writer.addChannel(id: 2, schemaID: 1, topic: "/b", messageEncoding: "json", metadata: [])
        writer.addMetadata(name: "session", [("profile", "wrist")])
        for index in 0..<24 {
            let time = 1_700_000_000_000_000_000 + UInt64(index) * 1_000_000
            writer.addMessage(channel: index % 3 == 0 ? 2 : 1, sequence: UInt32(index), logTime: time, publishTime: time) {
                $0.append(contentsOf: #"{"i":\#(index),"position_rad":[0.123456789012345,-1e-7]}"#.utf8)
            }
        }
        writer.finish()
        return writer.takeOutput()
    }

    /// A file made by hand: one channel, then one chunk per entry of `chunkCompressions`, each holding
    /// one message and naming that compression, its records stored as they are (a reader must refuse
    /// a compression it does not know by its name, before it looks at them); data end and footer, no
    /// summary. Returns the bytes and where each chunk starts.
    private func handMadeFile(chunkCompressions: [String]) -> (bytes: [UInt8], chunkOffsets: [Int]) {
        var file = MCAPByteWriter()
        file.bytes.append(contentsOf: MCAPFormat.magic)
        let header = file.beginRecord(.header)
        file.string("")
        file.string("hand")
        file.endRecord(startedAt: header)
        let channel = file.beginRecord(.channel)
        file.uint16(1)
        file.uint16(0)
        file.string("/a")
        file.string("json")
        file.stringMap([])
        file.endRecord(startedAt: channel)
        var chunkOffsets: [Int] = []
        for (index, compression) in chunkCompressions.enumerated() {
            let time = 1_000 + UInt64(index)
            var records = MCAPByteWriter()
            let message = records.beginRecord(.message)
            records.uint16(1)
            records.uint32(UInt32(index))
            records.uint64(time)
            records.uint64(time)
            records.bytes.append(contentsOf: Array(#"{"i":\#(index)}"#.utf8))
            records.endRecord(startedAt: message)
            chunkOffsets.append(file.count)
            let chunk = file.beginRecord(.chunk)
            file.uint64(time)
            file.uint64(time)
            file.uint64(UInt64(records.count))
            file.uint32(CRC32.checksum(records.bytes))
            file.string(compression)
            file.prefixedBytes64(records.bytes)
            file.endRecord(startedAt: chunk)
        }
        let dataEnd = file.beginRecord(.dataEnd)
        file.uint32(0)
        file.endRecord(startedAt: dataEnd)
        // Footer: no summary (summary_start and summary_offset_start 0), no summary CRC.
        file.uint8(MCAPFormat.Opcode.footer.rawValue)
        file.uint64(20)
        file.uint64(0)
        file.uint64(0)
        file.uint32(0)
        file.bytes.append(contentsOf: MCAPFormat.magic)
        return (file.bytes, chunkOffsets)
    }

    private static func offset(of error: Error) -> Int? {
        switch error as? MCAPError {
        case .malformed(let offset, _)?, .truncated(let offset, _)?, .checksum(let offset, _)?, .unsupportedCompression(let offset, _)?: offset
        default: nil
        }
    }

    private func write(_ value: UInt64, into bytes: inout [UInt8], at offset: Int) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> UInt64(8 * index)) }
    }

    private func bitPatterns(_ value: JSONValue?) -> [UInt64?] {
        value?.arrayValue?.map { $0.doubleValue?.bitPattern } ?? []
    }

    private func bitPatterns(_ values: JointList<Double>) -> [UInt64?] {
        (0..<values.count).map { values[$0].bitPattern }
    }

    // MARK: Round trip

    func testACompressedRecordingHoldsExactlyTheMessagesOfAnUncompressedOne() throws {
        let frames = wristTrainerFrames(cycles: 1_000)
        let compressed = try MCAPFile(bytes: recording(frames, compression: .zstd))
        let plain = try MCAPFile(bytes: recording(frames, compression: .none))
        XCTAssertEqual(compressed.messages.count, 4_000)
        XCTAssertEqual(compressed.messages.count, plain.messages.count)
        for (zstd, uncompressed) in zip(compressed.messages, plain.messages) {
            guard zstd.channel == uncompressed.channel, zstd.sequence == uncompressed.sequence, zstd.logTime == uncompressed.logTime,
                compressed.data(of: zstd) == plain.data(of: uncompressed)
            else {
                return XCTFail("the message of channel \(zstd.channel) at \(zstd.logTime) ns differs from the uncompressed file's")
            }
        }
    }

    func testEveryChunkOfARecordingIsZstdAndItsChunkIndexSaysSo() throws {
        let file = try MCAPFile(bytes: recording(wristTrainerFrames(cycles: 1_000), compression: .zstd))
        XCTAssertEqual(file.chunks.count, 10)
        XCTAssertEqual(Set(file.chunks.map(\.compression)), ["zstd"])
        // The reader checked every chunk index's compression and sizes against its chunk.
        XCTAssertEqual(file.chunkIndexCount, 10)
        for chunk in file.chunks { XCTAssertLessThan(chunk.compressedSize * 4, chunk.uncompressedSize, "at \(chunk.offset)") }
    }

    func testEveryValueOfACompressedRecordingReadsBackBitForBit() throws {
        var frames = wristTrainerFrames(cycles: 300)
        // Values whose shortest decimal is long, tiny or huge.
        let extremes = [-0.0, Double.leastNonzeroMagnitude, 1e-7, 0.1 + 0.2, .pi, .greatestFiniteMagnitude, .leastNormalMagnitude]
        for (index, value) in extremes.enumerated() {
            frames[index].positionsRadians[1] = value
            frames[index].commandTorquesNewtonMeters[1] = -value
        }
        let file = try MCAPFile(bytes: recording(frames, compression: .zstd))
        let states = file.messages(onTopic: "/joint_state")
        let commands = file.messages(onTopic: "/joint_command")
        XCTAssertEqual(states.count, frames.count)
        XCTAssertEqual(commands.count, frames.count)
        for (frame, (state, command)) in zip(frames, zip(states, commands)) {
            let stateObject = try XCTUnwrap(JSONParser.parse(bytes: Array(file.data(of: state))).objectValue)
            let commandObject = try XCTUnwrap(JSONParser.parse(bytes: Array(file.data(of: command))).objectValue)
            XCTAssertEqual(bitPatterns(stateObject["position_rad"]), bitPatterns(frame.positionsRadians), "cycle \(frame.cycle)")
            XCTAssertEqual(bitPatterns(stateObject["motor_torque_nm"]), bitPatterns(frame.motorTorquesNewtonMeters), "cycle \(frame.cycle)")
            XCTAssertEqual(bitPatterns(commandObject["target_position_rad"]), bitPatterns(frame.targetPositionsRadians), "cycle \(frame.cycle)")
            XCTAssertEqual(bitPatterns(commandObject["torque_nm"]), bitPatterns(frame.commandTorquesNewtonMeters), "cycle \(frame.cycle)")
        }
    }

    // MARK: Damage and recovery

    func testAByteFlippedInAZstdChunkIsAnErrorAtThatChunkAndRecoveryKeepsTheChunksBeforeIt() throws {
        let bytes = recording(wristTrainerFrames(cycles: 500), compression: .zstd)
        let file = try MCAPFile(bytes: bytes)
        let damaged = file.chunks[2]
        var flipped = bytes
        // In the middle of its compressed records (the last field of the Chunk record).
        flipped[damaged.offset + damaged.length - damaged.compressedSize / 2] ^= 0x10
        XCTAssertThrowsError(try MCAPFile(bytes: flipped)) { error in
            XCTAssertEqual(Self.offset(of: error), damaged.offset, "\(error)")
        }
        let outcome = try MCAPRecovery.recover(flipped)
        XCTAssertEqual(outcome.chunksKept, 2)
        let recovered = try MCAPFile(bytes: outcome.bytes)
        XCTAssertEqual(recovered.messages.count, damaged.messages.lowerBound)
        for (copy, original) in zip(recovered.messages, file.messages) {
            XCTAssertEqual(recovered.data(of: copy), file.data(of: original))
        }
    }

    /// What a `kill -9` leaves: the file cut anywhere, inside a chunk, at its end (before its
    /// message indexes), inside the summary.
    func testAZstdRecordingCutAnywhereIsRecoveredUpToItsLastCompleteChunk() throws {
        let bytes = recording(wristTrainerFrames(cycles: 500), compression: .zstd)
        let complete = try MCAPFile(bytes: bytes)
        var cuts = Array(stride(from: 9, to: bytes.count, by: 997))
        cuts += complete.chunks.map { $0.offset + $0.length }
        cuts += complete.chunks.map { $0.offset + $0.length / 2 }
        for cut in cuts {
            let truncated = Array(bytes[0..<cut])
            XCTAssertThrowsError(try MCAPFile(bytes: truncated), "cut at \(cut)")
            let expectedChunks = complete.chunks.filter { $0.offset + $0.length <= cut }
            let outcome = try MCAPRecovery.recover(truncated)
            let recovered = try MCAPFile(bytes: outcome.bytes)
            XCTAssertEqual(outcome.chunksKept, expectedChunks.count, "cut at \(cut)")
            XCTAssertEqual(recovered.messages.count, expectedChunks.last?.messages.upperBound ?? 0, "cut at \(cut)")
            for (copy, original) in zip(recovered.messages, complete.messages) where recovered.data(of: copy) != complete.data(of: original) {
                return XCTFail("cut at \(cut): a recovered message differs from its original at \(original.logTime) ns")
            }
        }
    }

    func testEveryBitFlipInAZstdChunkIsReadOrRefusedNeverATrap() throws {
        let bytes = smallFile()
        let chunk = try MCAPFile(bytes: bytes).chunks[1]
        XCTAssertEqual(chunk.compression, "zstd")
        for position in chunk.offset..<(chunk.offset + chunk.length) {
            for mask in masks {
                var flipped = bytes
                flipped[position] ^= mask
                _ = try? MCAPFile(bytes: flipped)
                _ = try? MCAPFile(bytes: flipped, salvaging: true)
                if let outcome = try? MCAPRecovery.recover(flipped) {
                    XCTAssertNoThrow(try MCAPFile(bytes: outcome.bytes), "recovered from bit 0x\(String(mask, radix: 16)) of byte \(position) flipped")
                }
            }
        }
    }

    /// A damaged `uncompressed_size` must not make the reader allocate it: no zstd data of the
    /// chunk's length can expand that far (a block gives at most 128 KiB for at least 4 bytes).
    func testAnUncompressedSizeNoZstdChunkCanHaveIsRefusedBeforeAnythingIsAllocated() throws {
        let bytes = smallFile()
        let chunk = try MCAPFile(bytes: bytes).chunks[0]
        for size in [UInt64(1) << 63, .max, 1 << 40, UInt64(chunk.compressedSize + 1) * 32_768] {
            var changed = bytes
            // Chunk: opcode and length (9 bytes), message start and end time, then uncompressed_size.
            write(size, into: &changed, at: chunk.offset + 25)
            XCTAssertThrowsError(try MCAPFile(bytes: changed)) { error in
                guard case .malformed(let offset, let detail)? = error as? MCAPError else { return XCTFail("\(error)") }
                XCTAssertEqual(offset, chunk.offset)
                XCTAssertTrue(detail.contains("\(size) bytes uncompressed"), detail)
            }
        }
    }

    // MARK: Other layouts and compressions

    /// A recording in the layout of those made before zstd, written by Fuzz/make_corpus.py (not by this
    /// writer) and read by the official MCAP library.
    func testARecordingWithUncompressedChunksStillReadsExportsAndRecovers() throws {
        let bytes = Array(try Data(contentsOf: RepositoryPaths.file("Fuzz/corpus/mcap/recording")))
        let file = try MCAPFile(bytes: bytes)
        XCTAssertTrue(file.isComplete)
        XCTAssertEqual(file.chunks.map(\.compression), ["", ""])
        XCTAssertEqual(file.messages.count, 26)
        let states = try XCTUnwrap(CSVExport.tables(of: file).first { $0.fileName == "joint_state.csv" })
        XCTAssertEqual(states.rows.count, 6)
        let rebuilt = try MCAPFile(bytes: MCAPRecovery.recover(bytes).bytes)
        XCTAssertEqual(rebuilt.chunks.map(\.compression), ["zstd", "zstd"], "recover writes zstd chunks")
        XCTAssertEqual(rebuilt.messages.map { Array(rebuilt.data(of: $0)) }, file.messages.map { Array(file.data(of: $0)) })
    }

    func testARecordingWithUncompressedChunksCutShortIsRecoveredUpToItsLastChunk() throws {
        let bytes = Array(try Data(contentsOf: RepositoryPaths.file("Fuzz/corpus/mcap/recording-cut-in-its-second-chunk")))
        let outcome = try MCAPRecovery.recover(bytes)
        XCTAssertEqual(outcome.chunksKept, 1)
        XCTAssertEqual(outcome.messagesKept, 12, "three cycles of four messages")
        XCTAssertEqual(try MCAPFile(bytes: outcome.bytes).messages.count, 12)
    }

    func testAChunkCompressedWithLZ4IsRefusedWithItsName() throws {
        let (bytes, chunkOffsets) = handMadeFile(chunkCompressions: ["lz4"])
        XCTAssertThrowsError(try MCAPFile(bytes: bytes)) { error in
            XCTAssertEqual(error as? MCAPError, .unsupportedCompression(offset: chunkOffsets[0], "lz4"))
            XCTAssertTrue("\(error)".contains("compressed with \"lz4\""), "\(error)")
        }
    }

    /// The control of the test above: the same hand-made file, its chunk uncompressed, reads.
    func testTheHandMadeFileReadsWhenItsChunkIsUncompressed() throws {
        let file = try MCAPFile(bytes: handMadeFile(chunkCompressions: [""]).bytes)
        XCTAssertTrue(file.isComplete)
        XCTAssertEqual(file.messages.count, 1)
    }

    func testRecoveryStopsAtAnLZ4ChunkAndKeepsTheChunksBeforeIt() throws {
        let (bytes, chunkOffsets) = handMadeFile(chunkCompressions: ["", "lz4", ""])
        let outcome = try MCAPRecovery.recover(bytes)
        XCTAssertEqual(outcome.chunksKept, 1)
        XCTAssertEqual(outcome.messagesKept, 1)
        XCTAssertEqual(outcome.bytesDropped, bytes.count - chunkOffsets[1])
        XCTAssertTrue(outcome.stop?.contains("\"lz4\"") == true, outcome.stop ?? "no stop")
    }

    // MARK: Size

    /// 10 s at 1 kHz. The chunks' records compress about nine times; the message indexes after each
    /// chunk (16 bytes per message), the schemas and the summary stay as they are, so the whole file
    /// comes out about 5.5 times smaller (estimated with the `zstd` CLI on the same messages).
    func testARecordingIsAtLeastFiveTimesSmallerWithZstdChunks() throws {
        let frames = wristTrainerFrames(cycles: 10_000)
        let uncompressed = recording(frames, compression: .none).count
        let compressed = recording(frames, compression: .zstd).count
        let ratio = Double(uncompressed) / Double(compressed)
        print("10 s at 1 kHz: \(uncompressed) bytes with uncompressed chunks, \(compressed) with zstd chunks: \(ratio) times smaller")
        XCTAssertGreaterThanOrEqual(ratio, 5, "\(uncompressed) → \(compressed) bytes")
    }
}
