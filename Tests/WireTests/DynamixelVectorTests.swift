import Foundation
import StrictJSON
import TestSupport
import Wire
import XCTest

/// The codec against protocols/dynamixel/vectors/, which the reference implementation
/// (protocols/dynamixel/tools/dynamixel.py) generates from protocols/dynamixel/README.md. If the Swift
/// code misreads the spec, it disagrees with these files.
final class DynamixelVectorTests: XCTestCase {
    func testEveryVectorDecodesAsTheReferenceImplementationSays() throws {
        let vectors = try DynamixelVector.all()
        XCTAssertGreaterThanOrEqual(vectors.count, 27, "at least every worked example of the e-Manual")
        for vector in vectors {
            var decoder = Dynamixel.PacketDecoder()
            var results: [Dynamixel.DecodeResult] = []
            vector.wire.withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
            // README §11: the statistics are those after the input and a final end of exchange.
            decoder.flush { results.append($0) }
            XCTAssertEqual(results.count, vector.expected.count, vector.name)
            for (got, want) in zip(results, vector.expected) where got != want {
                XCTFail("\(vector.name):\n got \(got)\n want \(want)")
            }
            XCTAssertEqual(decoder.statistics, vector.statistics, vector.name)
            XCTAssertEqual(decoder.bufferedByteCount, 0, vector.name)
        }
    }

    func testEveryCanonicalVectorEncodesToTheSameBytes() throws {
        for vector in try DynamixelVector.all() where vector.canonical {
            guard vector.expected.count == 1, let packet = vector.expected[0].decodedPacket else {
                XCTFail("\(vector.name): a canonical vector holds exactly one packet")
                continue
            }
            var encoded = Dynamixel.EncodedPacket()
            try Dynamixel.PacketEncoder.encode(packet, into: &encoded)
            XCTAssertEqual(encoded.bytes, vector.wire, vector.name)
        }
    }

    func testTheNamedEncodersBuildEveryInstructionOfTheVectors() throws {
        var built = 0
        for vector in try DynamixelVector.all() {
            for (index, result) in vector.expected.enumerated() {
                guard let packet = result.decodedPacket, !packet.isStatus, let fields = vector.fields[index] else { continue }
                var generic = Dynamixel.EncodedPacket()
                try Dynamixel.PacketEncoder.encode(packet, into: &generic)
                let named = try DynamixelVector.namedEncoding(packet.instruction, id: packet.id, fields)
                XCTAssertEqual(named, generic.bytes, "\(vector.name) #\(index)")
                if vector.canonical { XCTAssertEqual(named, vector.wire, vector.name) }
                built += 1
            }
        }
        XCTAssertGreaterThan(built, 20)
    }

    func testFastReadRepliesSplitAndRebuildAsTheVectorsSay() throws {
        var checked = 0
        for vector in try DynamixelVector.all() {
            guard let replyTo = vector.replyTo else { continue }
            let kind = try replyTo.string("instruction")
            guard kind == "fast_sync_read" || kind == "fast_bulk_read" else { continue }
            let lengths = try replyTo.array("lengths").map { try need($0.integerValue, "\(vector.name): lengths") }
            for (index, result) in vector.expected.enumerated() {
                guard let packet = result.decodedPacket, packet.isFastReadReply, let fields = vector.fields[index] else { continue }
                let slots = try fields.array("slots")
                XCTAssertEqual(slots.count, lengths.count, vector.name)
                var entries = Dynamixel.DeviceList<Dynamixel.BulkReadEntry>()
                var builder = try Dynamixel.FastReadReplyBuilder(
                    segmentCount: slots.count, totalDataBytes: Int(lengths.reduce(0, +)))
                var firstBadCRC: Int?
                var expectedSlices: [(id: UInt8, error: UInt8, data: [UInt8])] = []
                for (slotIndex, value) in slots.enumerated() {
                    let slot = Fields(try need(value.objectValue, "slot"), context: "\(vector.name).slots[\(slotIndex)]")
                    let id = UInt8(try slot.int("id"))
                    let error = try DynamixelVector.statusError(Fields(try slot.object("error"), context: "error"))
                    let data = try DynamixelVector.hexBytes(try slot.string("data_hex"))
                    if try !slot.bool("crc_ok"), firstBadCRC == nil { firstBadCRC = slotIndex }
                    entries.append(Dynamixel.BulkReadEntry(id: id, address: 0, length: UInt16(lengths[slotIndex])))
                    try data.withUnsafeBytes { try builder.append(id: id, error: error, data: $0) }
                    expectedSlices.append((id, error.rawValue, data))
                }
                if firstBadCRC == nil {
                    var generic = Dynamixel.EncodedPacket()
                    try Dynamixel.PacketEncoder.encode(packet, into: &generic)
                    XCTAssertEqual(try builder.finish().bytes, generic.bytes, "\(vector.name): the builder rebuilds the reply")
                }
                do throws(Dynamixel.FastReadError) {
                    let slices = try Dynamixel.FastRead.slices(of: packet, entries: entries)
                    XCTAssertNil(firstBadCRC, "\(vector.name): a block CRC the reference finds wrong")
                    XCTAssertEqual(slices.count, expectedSlices.count, vector.name)
                    for (slice, want) in zip(slices, expectedSlices) {
                        XCTAssertEqual(slice.id, want.id, vector.name)
                        XCTAssertEqual(slice.error.rawValue, want.error, vector.name)
                        let data = (0..<slice.dataLength).map { packet.parameters[slice.dataOffset + $0] }
                        XCTAssertEqual(data, want.data, vector.name)
                    }
                } catch {
                    let expectedError = firstBadCRC.map { Dynamixel.FastReadError.segmentCRCMismatch(index: $0) }
                    XCTAssertEqual(error, expectedError, vector.name)
                }
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 2, "at least the e-Manual's two fast replies")
    }

    func testCRCExamples() throws {
        let url = RepositoryPaths.file("protocols/dynamixel/vectors/crc/crc16.json")
        let document = try JSONParser.parse(bytes: Array(try Data(contentsOf: url)))
        let examples = try Fields(try need(document.objectValue, "crc16.json"), context: "crc16.json").array("examples")
        XCTAssertFalse(examples.isEmpty)
        for (index, value) in examples.enumerated() {
            let example = Fields(try need(value.objectValue, "example"), context: "examples[\(index)]")
            let input = try DynamixelVector.hexBytes(try example.string("input_hex"))
            let crc = try need(UInt16(try example.string("crc").dropFirst(2), radix: 16), "crc")
            let description = try example.string("description")
            XCTAssertEqual(input.withUnsafeBytes { Dynamixel.CRC16.checksum($0) }, crc, description)
        }
    }
}

/// One file of protocols/dynamixel/vectors/ (README §11), turned into Swift values.
private struct DynamixelVector {
    var name: String
    var wire: [UInt8]
    /// Encoding the single expected packet reproduces `wire` exactly.
    var canonical: Bool
    var expected: [Dynamixel.DecodeResult]
    /// Each expected packet's `fields` object (nil for a rejection).
    var fields: [Fields?]
    /// The request a status packet answers, when the vector says.
    var replyTo: Fields?
    var statistics: Dynamixel.DecoderStatistics

    static let directory = RepositoryPaths.file("protocols/dynamixel/vectors")

    /// Every vector, sorted by name.
    static func all() throws -> [DynamixelVector] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { try load(directory.appendingPathComponent($0)) }
    }

    static func load(_ url: URL) throws -> DynamixelVector {
        let context = url.lastPathComponent
        let document = try JSONParser.parse(bytes: Array(try Data(contentsOf: url)))
        let file = Fields(try need(document.objectValue, "\(context): not an object"), context: context)
        let stats = Fields(try file.object("statistics"), context: "\(context).statistics")
        var statistics = Dynamixel.DecoderStatistics()
        statistics.bytesReceived = UInt64(try stats.int("bytes_received"))
        statistics.packetsDecoded = UInt64(try stats.int("packets_decoded"))
        statistics.crcErrors = UInt64(try stats.int("crc_errors"))
        statistics.oversizeFrames = UInt64(try stats.int("oversize_frames"))
        statistics.malformedFrames = UInt64(try stats.int("malformed_frames"))
        statistics.rejectedPackets = UInt64(try stats.int("rejected_packets"))
        statistics.discardedBytes = UInt64(try stats.int("discarded_bytes"))
        var expected: [Dynamixel.DecodeResult] = []
        var fields: [Fields?] = []
        for (index, value) in try file.array("expect").enumerated() {
            let entry = try need(value.objectValue, "\(context).expect[\(index)]")
            if let packet = entry["packet"]?.objectValue {
                let (result, packetFields) = try decodePacket(Fields(packet, context: "\(context).expect[\(index)].packet"))
                expected.append(result)
                fields.append(packetFields)
            } else {
                let rejected = Fields(
                    try need(entry["rejected"]?.objectValue, "\(context).expect[\(index)]: neither packet nor rejected"),
                    context: "\(context).expect[\(index)].rejected")
                let reasonName = try rejected.string("reason")
                let reason = try need(Dynamixel.RejectionReason(rawValue: reasonName), "reason \(reasonName)")
                expected.append(
                    .rejected(
                        Dynamixel.PacketRejection(
                            reason: reason, id: UInt8(try rejected.int("id")), instruction: UInt8(try rejected.int("instruction")))))
                fields.append(nil)
            }
        }
        let replyTo = try file.optionalObject("reply_to").map { Fields($0, context: "\(context).reply_to") }
        return DynamixelVector(
            name: try file.string("name"), wire: try hexBytes(try file.string("wire_hex")), canonical: try file.bool("canonical"),
            expected: expected, fields: fields, replyTo: replyTo, statistics: statistics)
    }

    /// The expected packet (kind, id, instruction, parameters_hex, error) and its `fields`.
    static func decodePacket(_ packet: Fields) throws -> (Dynamixel.DecodeResult, Fields) {
        let instructionName = try packet.string("instruction")
        let instruction = try need(Dynamixel.Instruction(name: instructionName), "instruction \(instructionName)")
        let bytes = try hexBytes(try packet.string("parameters_hex"))
        let parameters = try need(bytes.withUnsafeBytes { Dynamixel.ParameterBytes(copying: $0) }, "parameters too long")
        var error: Dynamixel.StatusError?
        if try packet.string("kind") == "status" {
            error = try statusError(Fields(try packet.object("error"), context: "error"))
        }
        let decoded = Dynamixel.Packet(id: UInt8(try packet.int("id")), instruction: instruction, error: error, parameters: parameters)
        return (.packet(decoded), Fields(try packet.object("fields"), context: "fields"))
    }

    /// `{"alert": …, "error_number": …}` as the ERR byte.
    static func statusError(_ error: Fields) throws -> Dynamixel.StatusError {
        let number = UInt8(try error.int("error_number"))
        return Dynamixel.StatusError(rawValue: (try error.bool("alert") ? Dynamixel.StatusError.alertBit : 0) | number)
    }

    /// The instruction built by its own encoder from the vector's decoded fields.
    static func namedEncoding(_ instruction: Dynamixel.Instruction, id: UInt8, _ f: Fields) throws -> [UInt8] {
        typealias Encoder = Dynamixel.PacketEncoder
        var packet = Dynamixel.EncodedPacket()
        switch instruction {
        case .ping:
            try Encoder.ping(id: id, into: &packet)
        case .action:
            try Encoder.action(id: id, into: &packet)
        case .reboot:
            try Encoder.reboot(id: id, into: &packet)
        case .read:
            try Encoder.read(id: id, address: UInt16(try f.int("address")), length: UInt16(try f.int("length")), into: &packet)
        case .write, .regWrite:
            let address = UInt16(try f.int("address"))
            let data = try hexBytes(try f.string("data_hex"))
            try data.withUnsafeBytes { raw in
                if instruction == .write {
                    try Encoder.write(id: id, address: address, data: raw, into: &packet)
                } else {
                    try Encoder.regWrite(id: id, address: address, data: raw, into: &packet)
                }
            }
        case .factoryReset:
            let options: [String: Dynamixel.FactoryResetOption] = [
                "reset_all": .resetAll, "reset_all_except_id": .exceptID, "reset_all_except_id_and_baud_rate": .exceptIDAndBaudRate,
            ]
            let option = try f.string("option")
            try Encoder.factoryReset(id: id, option: try need(options[option], "option \(option)"), into: &packet)
        case .clear:
            let option = try f.string("option")
            guard option == "multi_turn" else { throw VectorError("clear option \(option)") }
            try Encoder.clear(id: id, into: &packet)
        case .controlTableBackup:
            let operations: [String: Dynamixel.ControlTableBackupOperation] = ["store": .store, "restore": .restore]
            let option = try f.string("option")
            try Encoder.controlTableBackup(id: id, operation: try need(operations[option], "option \(option)"), into: &packet)
        case .syncRead, .fastSyncRead:
            var ids = Dynamixel.DeviceList<UInt8>()
            for value in try f.array("ids") { ids.append(UInt8(try need(value.integerValue, "id"))) }
            let address = UInt16(try f.int("address"))
            let length = UInt16(try f.int("length"))
            if instruction == .syncRead {
                try Encoder.syncRead(address: address, length: length, ids: ids, into: &packet)
            } else {
                try Encoder.fastSyncRead(address: address, length: length, ids: ids, into: &packet)
            }
        case .syncWrite:
            var entries = Dynamixel.DeviceList<Dynamixel.SyncWriteEntry>()
            for value in try f.array("entries") {
                let entry = Fields(try need(value.objectValue, "entry"), context: "entry")
                let data = try hexBytes(try entry.string("data_hex"))
                let inline = try need(data.withUnsafeBytes { Dynamixel.DataBytes(copying: $0) }, "data too long")
                entries.append(Dynamixel.SyncWriteEntry(id: UInt8(try entry.int("id")), data: inline))
            }
            try Encoder.syncWrite(address: UInt16(try f.int("address")), entries: entries, into: &packet)
        case .bulkRead, .fastBulkRead:
            var entries = Dynamixel.DeviceList<Dynamixel.BulkReadEntry>()
            for value in try f.array("entries") {
                let entry = Fields(try need(value.objectValue, "entry"), context: "entry")
                entries.append(
                    Dynamixel.BulkReadEntry(
                        id: UInt8(try entry.int("id")), address: UInt16(try entry.int("address")),
                        length: UInt16(try entry.int("length"))))
            }
            if instruction == .bulkRead {
                try Encoder.bulkRead(entries, into: &packet)
            } else {
                try Encoder.fastBulkRead(entries, into: &packet)
            }
        case .bulkWrite:
            var entries = Dynamixel.DeviceList<Dynamixel.BulkWriteEntry>()
            for value in try f.array("entries") {
                let entry = Fields(try need(value.objectValue, "entry"), context: "entry")
                let data = try hexBytes(try entry.string("data_hex"))
                let inline = try need(data.withUnsafeBytes { Dynamixel.DataBytes(copying: $0) }, "data too long")
                entries.append(
                    Dynamixel.BulkWriteEntry(id: UInt8(try entry.int("id")), address: UInt16(try entry.int("address")), data: inline))
            }
            try Encoder.bulkWrite(entries, into: &packet)
        default:
            throw VectorError("no encoder for \(instruction)")
        }
        return packet.bytes
    }

    static func hexBytes(_ hex: String) throws -> [UInt8] {
        let characters = Array(hex.utf8)
        guard characters.count % 2 == 0 else { throw VectorError("odd number of hex digits") }
        return try stride(from: 0, to: characters.count, by: 2).map { index in
            try need(UInt8(String(decoding: characters[index..<index + 2], as: UTF8.self), radix: 16), "bad hex")
        }
    }
}

extension Fields {
    /// The object under `key`, or nil when there is none.
    fileprivate func optionalObject(_ key: String) throws -> JSONObject? {
        do {
            return try object(key)
        } catch {
            return nil
        }
    }
}

private func need<T>(_ value: T?, _ message: @autoclosure () -> String) throws -> T {
    guard let value else { throw VectorError(message()) }
    return value
}
