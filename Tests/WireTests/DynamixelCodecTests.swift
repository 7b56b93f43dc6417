import TestSupport
import Wire
import XCTest

/// The Dynamixel Protocol 2.0 codec against ROBOTIS's e-Manual, "DYNAMIXEL Protocol 2.0"
/// (https://emanual.robotis.com/docs/en/dxl/protocol2/): every example packet of its "Instruction Details",
/// whose CRCs follow https://emanual.robotis.com/docs/en/dxl/crc/. Then byte stuffing, resynchronisation,
/// damaged and oversize packets, and splitting a fast read's reply.
final class DynamixelCodecTests: XCTestCase {
    // MARK: CRC

    func testCRCMatchesEveryEManualExampleAndTheCheckValue() {
        let check = Array("123456789".utf8)
        XCTAssertEqual(check.withUnsafeBytes { Dynamixel.CRC16.checksum($0) }, 0xFEE8, "CRC-16/BUYPASS check value")
        XCTAssertEqual(Dynamixel.CRC16.checkValue, 0xFEE8)
        for (name, packet) in EManual.all {
            let received = UInt16(packet[packet.count - 2]) | UInt16(packet[packet.count - 1]) << 8
            let computed = packet.dropLast(2).withUnsafeBytes { Dynamixel.CRC16.checksum($0) }
            XCTAssertEqual(computed, received, name)
        }
        // Byte by byte, and continued from a running value, give the same CRC.
        var crc = Dynamixel.CRC16()
        for byte in hex("FF FF FD 00 01 03 00") { crc.update(byte) }
        var continued = Dynamixel.CRC16(value: crc.value)
        continued.update(0x01)
        XCTAssertEqual(continued.value, 0x4E19, "ping ID 1 is sent … 19 4E")
    }

    // MARK: Encoding, against the e-Manual

    func testEncodersReproduceEveryEManualInstructionPacket() throws {
        typealias Encoder = Dynamixel.PacketEncoder
        XCTAssertEqual(try encoded { try Encoder.ping(id: 1, into: &$0) }, EManual.pingID1)
        XCTAssertEqual(try encoded { try Encoder.ping(id: Dynamixel.broadcastID, into: &$0) }, EManual.pingBroadcast)
        XCTAssertEqual(try encoded { try Encoder.read(id: 1, address: 132, length: 4, into: &$0) }, EManual.read)
        XCTAssertEqual(
            try encoded { try Encoder.write(id: 1, address: 116, data: Dynamixel.DataBytes(littleEndian: UInt32(512)), into: &$0) }, EManual.write)
        let goal: [UInt8] = [0x00, 0x02, 0x00, 0x00]
        XCTAssertEqual(
            try encoded { packet in try goal.withUnsafeBytes { try Encoder.write(id: 1, address: 116, data: $0, into: &packet) } },
            EManual.write, "the raw-buffer overload")
        XCTAssertEqual(
            try encoded { try Encoder.regWrite(id: 1, address: 104, data: Dynamixel.DataBytes(littleEndian: Int32(200)), into: &$0) }, EManual.regWrite)
        XCTAssertEqual(try encoded { try Encoder.action(id: 1, into: &$0) }, EManual.action)
        XCTAssertEqual(try encoded { try Encoder.factoryReset(id: 1, option: .exceptID, into: &$0) }, EManual.factoryReset)
        XCTAssertEqual(try encoded { try Encoder.reboot(id: 1, into: &$0) }, EManual.reboot)
        XCTAssertEqual(try encoded { try Encoder.clear(id: 1, into: &$0) }, EManual.clear)
        XCTAssertEqual(try encoded { try Encoder.controlTableBackup(id: 1, operation: .store, into: &$0) }, EManual.backupStore)
        // The e-Manual prints this packet's CRC as 92 F5, but its own bytes give 0xF59E: a misprint.
        let restore = try encoded { try Encoder.controlTableBackup(id: 1, operation: .restore, into: &$0) }
        XCTAssertEqual(restore, EManual.backupRestoreCorrected)
        XCTAssertEqual(Array(restore.dropLast(2)), hex("FF FF FD 00 01 08 00 20 02 43 54 52 4C"))

        let ids: Dynamixel.DeviceList<UInt8> = [1, 2]
        XCTAssertEqual(try encoded { try Encoder.syncRead(address: 132, length: 4, ids: ids, into: &$0) }, EManual.syncRead)
        let entries: Dynamixel.DeviceList<Dynamixel.SyncWriteEntry> = [
            Dynamixel.SyncWriteEntry(id: 1, data: Dynamixel.DataBytes(littleEndian: UInt32(150))),
            Dynamixel.SyncWriteEntry(id: 2, data: Dynamixel.DataBytes(littleEndian: UInt32(170))),
        ]
        XCTAssertEqual(try encoded { try Encoder.syncWrite(address: 116, entries: entries, into: &$0) }, EManual.syncWrite)
        let goals: [UInt8] = [0x96, 0x00, 0x00, 0x00, 0xAA, 0x00, 0x00, 0x00]
        XCTAssertEqual(
            try encoded { packet in
                try goals.withUnsafeBytes { try Encoder.syncWrite(address: 116, length: 4, ids: ids, data: $0, into: &packet) }
            },
            EManual.syncWrite, "the raw-buffer overload")
        XCTAssertEqual(
            try encoded { try Encoder.fastSyncRead(address: 132, length: 4, ids: [3, 7, 4], into: &$0) }, EManual.fastSyncRead)
        let bulk: Dynamixel.DeviceList<Dynamixel.BulkReadEntry> = [
            Dynamixel.BulkReadEntry(id: 1, address: 144, length: 2), Dynamixel.BulkReadEntry(id: 2, address: 146, length: 1),
        ]
        XCTAssertEqual(try encoded { try Encoder.bulkRead(bulk, into: &$0) }, EManual.bulkRead)
        let bulkWrite: Dynamixel.DeviceList<Dynamixel.BulkWriteEntry> = [
            Dynamixel.BulkWriteEntry(id: 1, address: 32, data: Dynamixel.DataBytes(littleEndian: UInt16(160))),
            Dynamixel.BulkWriteEntry(id: 2, address: 31, data: Dynamixel.DataBytes(littleEndian: UInt8(80))),
        ]
        XCTAssertEqual(try encoded { try Encoder.bulkWrite(bulkWrite, into: &$0) }, EManual.bulkWrite)
        // The e-Manual's Fast Bulk Read example repeats the Fast Sync Read example's CRC (20 F2); its own bytes
        // give 0x2DDA.
        let fastBulk: Dynamixel.DeviceList<Dynamixel.BulkReadEntry> = [
            Dynamixel.BulkReadEntry(id: 3, address: 132, length: 4), Dynamixel.BulkReadEntry(id: 7, address: 124, length: 2),
            Dynamixel.BulkReadEntry(id: 4, address: 146, length: 1),
        ]
        XCTAssertEqual(try encoded { try Encoder.fastBulkRead(fastBulk, into: &$0) }, EManual.fastBulkReadCorrected)
    }

    func testStatusEncoderReproducesTheEManualStatusPackets() throws {
        typealias Encoder = Dynamixel.PacketEncoder
        XCTAssertEqual(
            try encoded { packet in
                try Encoder.status(id: 1, error: .noError, into: &packet) { writer in
                    writer.uint16(1030)  // model number, XM430-W210
                    writer.uint8(38)  // firmware version
                }
            },
            EManual.pingStatusID1)
        XCTAssertEqual(
            try encoded { packet in
                try Encoder.status(id: 2, error: .noError, into: &packet) { writer in
                    writer.uint16(1030)
                    writer.uint8(38)
                }
            },
            EManual.pingStatusID2)
        XCTAssertEqual(
            try encoded { packet in try Encoder.status(id: 1, error: .noError, into: &packet) { $0.uint32(166) } }, EManual.readStatus)
        XCTAssertEqual(try encoded { try Encoder.status(id: 1, error: .noError, into: &$0) }, EManual.emptyStatus)
        XCTAssertEqual(
            try encoded { packet in try Encoder.status(id: 2, error: .noError, into: &packet) { $0.int32(2079) } },
            EManual.syncReadStatusID2)
        let voltage: [UInt8] = [0x77, 0x00]
        XCTAssertEqual(
            try encoded { packet in
                try voltage.withUnsafeBytes { try Encoder.status(id: 1, error: .noError, parameters: $0, into: &packet) }
            },
            EManual.bulkReadStatusID1)
        XCTAssertEqual(
            try encoded { packet in try Encoder.status(id: 2, error: .noError, into: &packet) { $0.uint8(36) } },
            EManual.bulkReadStatusID2)
    }

    // MARK: Decoding, against the e-Manual

    func testEveryEManualPacketDecodesAndEncodesBackToTheSameBytes() throws {
        for (name, wire) in EManual.all {
            var decoder = Dynamixel.PacketDecoder()
            let packets = decodePackets(wire, into: &decoder)
            XCTAssertEqual(packets.count, 1, name)
            XCTAssertEqual(decoder.statistics.packetsDecoded, 1, name)
            XCTAssertEqual(decoder.statistics.discardedBytes, 0, name)
            XCTAssertEqual(decoder.bufferedByteCount, 0, name)
            guard let packet = packets.first else { continue }
            XCTAssertEqual(try encoded { try Dynamixel.PacketEncoder.encode(packet, into: &$0) }, wire, name)
        }
        var decoder = Dynamixel.PacketDecoder()
        let ping = decodePackets(EManual.pingStatusID1, into: &decoder)
        XCTAssertEqual(ping, [Dynamixel.Packet(id: 1, instruction: .status, error: .noError, parameters: [0x06, 0x04, 0x26])])
        XCTAssertEqual(ping.first?.parameters.littleEndian(UInt16.self, at: 0), 1030, "model number of the XM430-W210")
        let read = decodePackets(EManual.readStatus, into: &decoder)
        XCTAssertEqual(read.first?.parameters.littleEndian(Int32.self, at: 0), 166, "Present Position")
        XCTAssertNil(read.first?.parameters.littleEndian(UInt32.self, at: 1), "past the end")
        let write = decodePackets(EManual.write, into: &decoder)
        XCTAssertEqual(write, [Dynamixel.Packet(id: 1, instruction: .write, parameters: [0x74, 0x00, 0x00, 0x02, 0x00, 0x00])])
        XCTAssertNil(write.first?.error, "an instruction packet has no ERR byte")
        let bulkRead = decodePackets(EManual.bulkRead, into: &decoder)
        XCTAssertEqual(bulkRead.first?.id, Dynamixel.broadcastID)
        XCTAssertEqual(bulkRead.first?.instruction, .bulkRead)
        XCTAssertEqual(bulkRead.first?.parameters.count, 10)
        XCTAssertEqual(decoder.statistics.packetsDecoded, 4)
    }

    func testBackToBackPacketsDecodeInOrderWhateverTheChunks() {
        let stream = EManual.all.flatMap { $0.1 }
        var generator = SplitMix64(seed: 0xD7)
        for _ in 0..<30 {
            var decoder = Dynamixel.PacketDecoder()
            var results: [Dynamixel.DecodeResult] = []
            var offset = 0
            while offset < stream.count {
                let chunk = min(stream.count - offset, Int(generator.next() % 40) + 1)
                stream[offset..<(offset + chunk)].withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
                offset += chunk
            }
            XCTAssertEqual(results.compactMap(\.decodedPacket).count, EManual.all.count)
            XCTAssertEqual(decoder.statistics.packetsDecoded, UInt64(EManual.all.count))
            XCTAssertEqual(decoder.statistics.discardedBytes, 0)
            XCTAssertEqual(decoder.statistics.bytesReceived, UInt64(stream.count))
        }
    }

    // MARK: Byte stuffing

    func testStuffingAddsOneFDAfterEveryHeaderPattern() {
        XCTAssertEqual(stuffed([0xFF, 0xFF, 0xFD]), [0xFF, 0xFF, 0xFD, 0xFD])
        XCTAssertEqual(stuffed([0xFF, 0xFF, 0xFF, 0xFD]), [0xFF, 0xFF, 0xFF, 0xFD, 0xFD], "any two FFs before the FD")
        XCTAssertEqual(stuffed([0xFF, 0xFF, 0xFD, 0xFD]), [0xFF, 0xFF, 0xFD, 0xFD, 0xFD], "already stuffed-looking bytes")
        XCTAssertEqual(stuffed([0xFF, 0xFD, 0xFF, 0xFF]), [0xFF, 0xFD, 0xFF, 0xFF], "no pattern")
        XCTAssertEqual(
            stuffed([0xFF, 0xFF, 0xFD, 0xFF, 0xFF, 0xFD]), [0xFF, 0xFF, 0xFD, 0xFD, 0xFF, 0xFF, 0xFD, 0xFD])
        XCTAssertEqual(unstuffed([0xFF, 0xFF, 0xFD, 0xFD, 0xFD]), [0xFF, 0xFF, 0xFD, 0xFD])
        XCTAssertEqual(unstuffed([0xFF, 0xFF, 0xFD, 0xFD, 0xFF, 0xFF, 0xFD, 0xFD]), [0xFF, 0xFF, 0xFD, 0xFF, 0xFF, 0xFD])
        // An FF FF FD without its stuffing (a sender that does not stuff) is kept (README §4.3 rule 7).
        XCTAssertEqual(unstuffed([0xFF, 0xFF, 0xFD]), [0xFF, 0xFF, 0xFD])
        XCTAssertEqual(unstuffed([0xFF, 0xFF, 0xFD, 0x02]), [0xFF, 0xFF, 0xFD, 0x02])
        let pattern: [UInt8] = [0xFF, 0xFF, 0xFD]
        XCTAssertEqual(pattern.withUnsafeBytes { Dynamixel.ByteStuffing.stuffedCount($0) }, 4)
        var small = [UInt8](repeating: 0, count: 3)
        XCTAssertNil(pattern.withUnsafeBytes { source in small.withUnsafeMutableBytes { Dynamixel.ByteStuffing.stuff(source, into: $0) } })

        var generator = SplitMix64(seed: 0x57F)
        for _ in 0..<2_000 {
            let bytes = (0..<Int(generator.next() % 40)).map { _ in biasedByte(&generator) }
            let once = stuffed(bytes)
            XCTAssertFalse(containsUnstuffedPattern(once), "\(bytes)")
            XCTAssertEqual(unstuffed(once), bytes)
        }
    }

    func testStuffedPacketsMatchAnIndependentComputation() throws {
        // Computed by hand and with a separate script from the e-Manual's rules: the body
        // 03 E0 00 FF FF FF FF FD 01 becomes 03 E0 00 FF FF FF FF FD FD 01, LENGTH 10 + 2, CRC over the stuffed bytes.
        let data: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFD, 0x01]
        XCTAssertEqual(
            try encoded { packet in try data.withUnsafeBytes { try Dynamixel.PacketEncoder.write(id: 1, address: 224, data: $0, into: &packet) } },
            hex("FF FF FD 00 01 0C 00 03 E0 00 FF FF FF FF FD FD 01 9F 36"))
        // A status packet's parameters are stuffed too (the ERR byte is inside the stuffed range).
        XCTAssertEqual(
            try encoded { packet in
                try Dynamixel.PacketEncoder.status(id: 1, error: .noError, into: &packet) { writer in
                    writer.uint32(0x00FD_FFFF)
                }
            },
            hex("FF FF FD 00 01 09 00 55 00 FF FF FD FD 00 D8 9C"))
        var decoder = Dynamixel.PacketDecoder()
        XCTAssertEqual(
            decodeAll(hex("FF FF FD 00 01 09 00 55 00 FF FF FD FD 00 D8 9C"), into: &decoder),
            [.packet(Dynamixel.Packet(id: 1, instruction: .status, error: .noError, parameters: [0xFF, 0xFF, 0xFD, 0x00]))])
        // The same write sent unstuffed, as the Python SDK sends it: CRC-valid, accepted, the same write.
        XCTAssertEqual(
            decodePackets(rawPacket(id: 1, body: [0x03, 0xE0, 0x00] + data), into: &decoder),
            [Dynamixel.Packet(id: 1, instruction: .write, parameters: [0xE0, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFD, 0x01])])
    }

    func testStuffedPacketsDecodeAfterEverySplitPoint() throws {
        var generator = SplitMix64(seed: 0xD1)
        for iteration in 0..<40 {
            let data = (0..<(1 + Int(generator.next() % 64))).map { _ in biasedByte(&generator) }
            let id = UInt8(generator.next() % 253)
            var packet = Dynamixel.EncodedPacket()
            var parameters = Dynamixel.ParameterBytes()
            let expected: Dynamixel.Packet
            if iteration % 2 == 0 {
                try data.withUnsafeBytes { try Dynamixel.PacketEncoder.write(id: id, address: 0x1234, data: $0, into: &packet) }
                parameters.appendLittleEndian(UInt16(0x1234))
                data.withUnsafeBytes { _ = parameters.append(contentsOf: $0) }
                expected = Dynamixel.Packet(id: id, instruction: .write, parameters: parameters)
            } else {
                let error = Dynamixel.StatusError(alert: true, .dataRangeError)
                try data.withUnsafeBytes { try Dynamixel.PacketEncoder.status(id: id, error: error, parameters: $0, into: &packet) }
                data.withUnsafeBytes { _ = parameters.append(contentsOf: $0) }
                expected = Dynamixel.Packet(id: id, instruction: .status, error: error, parameters: parameters)
            }
            let wire = packet.bytes
            XCTAssertEqual(wire.count, Dynamixel.prefixBytes + (Int(wire[5]) | Int(wire[6]) << 8), "LENGTH counts the stuffed bytes")
            XCTAssertFalse(containsUnstuffedPattern(Array(wire[Dynamixel.prefixBytes..<(wire.count - 2)])))
            for split in 0...wire.count {
                var decoder = Dynamixel.PacketDecoder()
                var results: [Dynamixel.DecodeResult] = []
                wire[0..<split].withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
                wire[split...].withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
                XCTAssertEqual(results, [.packet(expected)], "iteration \(iteration), split at \(split)")
                XCTAssertEqual(decoder.statistics.discardedBytes, 0)
            }
        }
    }

    // MARK: Resynchronisation

    func testGarbageBeforeAndBetweenPacketsIsDiscardedAndThePacketsDecode() {
        let pool: [[UInt8]] = [EManual.pingStatusID1, EManual.readStatus, EManual.syncWrite, stuffedWrite]
        var generator = SplitMix64(seed: 0x6A7B)
        for round in 0..<300 {
            var stream: [UInt8] = []
            var expected: [Dynamixel.DecodeResult] = []
            var garbageBytes = 0
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                var garbage = (0..<Int(generator.next() % 50)).map { _ in biasedByte(&generator) }
                breakHeaders(&garbage)
                garbageBytes += garbage.count
                let wire = pool[Int(generator.next() % UInt64(pool.count))]
                var reference = Dynamixel.PacketDecoder()
                expected += decodeAll(wire, into: &reference)
                stream += garbage + wire
            }
            var decoder = Dynamixel.PacketDecoder()
            var results: [Dynamixel.DecodeResult] = []
            var offset = 0
            while offset < stream.count {
                let chunk = min(stream.count - offset, Int(generator.next() % 23) + 1)
                stream[offset..<(offset + chunk)].withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
                offset += chunk
            }
            XCTAssertEqual(results, expected, "round \(round)")
            XCTAssertEqual(decoder.statistics.discardedBytes, UInt64(garbageBytes), "round \(round)")
            let statistics = decoder.statistics
            XCTAssertEqual(statistics.crcErrors + statistics.malformedFrames + statistics.oversizeFrames + statistics.rejectedPackets, 0)
            XCTAssertEqual(decoder.bufferedByteCount, 0)
        }
    }

    func testAFalseHeaderHidesNoPacket() {
        // A header-like FF FF FD 00 in junk claims 64 bytes and swallows two whole packets; when its CRC fails,
        // the bytes after its first byte are searched again and both packets come out (one per call).
        let falseHeader = hex("FF FF FD 00 01 40 00")
        let filler = [UInt8](repeating: 0x11, count: 60)
        let stream = falseHeader + EManual.pingStatusID1 + EManual.pingStatusID2 + filler + EManual.readStatus
        var decoder = Dynamixel.PacketDecoder()
        var results: [(offset: Int, packet: Dynamixel.Packet?)] = []
        for (offset, byte) in stream.enumerated() {
            if let result = decoder.push(byte) {
                results.append((offset, result.decodedPacket))
                while let more = decoder.next() { results.append((offset, more.decodedPacket)) }
            }
        }
        XCTAssertEqual(results.map { $0.packet?.id }, [1, 2, 1])
        XCTAssertEqual(results.first?.offset, falseHeader.count + 64 - 1, "both come out when the false packet's CRC fails")
        XCTAssertEqual(results.dropFirst().first?.offset, results.first?.offset, "the second from next(), without new input")
        XCTAssertEqual(results.last?.packet?.parameters.littleEndian(Int32.self, at: 0), 166)
        XCTAssertEqual(decoder.statistics.crcErrors, 1)
        XCTAssertEqual(decoder.statistics.packetsDecoded, 3)
        XCTAssertEqual(decoder.statistics.discardedBytes, UInt64(falseHeader.count + filler.count))
        XCTAssertNil(decoder.next())

        var chunked = Dynamixel.PacketDecoder()
        XCTAssertEqual(decodePackets(stream, into: &chunked).map(\.id), [1, 2, 1], "push(_:_:) delivers them all")
    }

    func testATruncatedPacketIsGivenUpAndWhatFollowsItStillDecodes() {
        // The reply stopped after its header; what came next sits inside the length it claimed.
        let stream = hex("FF FF FD 00 01 40 00") + EManual.pingStatusID1 + EManual.pingStatusID2
        var decoder = Dynamixel.PacketDecoder()
        XCTAssertEqual(decodeAll(stream, into: &decoder), [])
        XCTAssertEqual(decoder.bufferedByteCount, stream.count)
        decoder.abandonPartialPacket()
        XCTAssertEqual(decoder.next()?.decodedPacket?.id, 1)
        XCTAssertEqual(decoder.next()?.decodedPacket?.id, 2)
        XCTAssertNil(decoder.next())
        XCTAssertEqual(decoder.statistics.malformedFrames, 1, "the truncated packet")
        XCTAssertEqual(decoder.statistics.discardedBytes, 7)
        XCTAssertEqual(decoder.bufferedByteCount, 0)

        var flushing = Dynamixel.PacketDecoder()
        var packets: [Dynamixel.DecodeResult] = []
        stream.withUnsafeBytes { raw in flushing.push(raw) { packets.append($0) } }
        (EManual.readStatus.prefix(9)).withUnsafeBytes { raw in flushing.push(raw) { packets.append($0) } }
        flushing.flush { packets.append($0) }
        XCTAssertEqual(packets.map { $0.decodedPacket?.id }, [1, 2])
        XCTAssertEqual(flushing.bufferedByteCount, 0)
        XCTAssertEqual(flushing.statistics.malformedFrames, 2, "both truncated packets")
        XCTAssertEqual(flushing.statistics.discardedBytes, 7 + 9)

        var idle = Dynamixel.PacketDecoder()
        _ = decodeAll(EManual.readStatus, into: &idle)
        idle.abandonPartialPacket()
        XCTAssertEqual(idle.statistics.malformedFrames, 0, "nothing to give up")
    }

    func testACorruptedPacketIsCountedAndSkipped() {
        var badCRC = EManual.readStatus
        badCRC[badCRC.count - 1] ^= 0x01
        var badBody = EManual.syncWrite
        badBody[10] ^= 0x40
        var decoder = Dynamixel.PacketDecoder()
        let packets = decodePackets(badCRC + EManual.pingStatusID1 + badBody + EManual.pingStatusID2, into: &decoder)
        XCTAssertEqual(packets.map(\.id), [1, 2])
        XCTAssertEqual(decoder.statistics.crcErrors, 2)
        XCTAssertEqual(decoder.statistics.packetsDecoded, 2)
        XCTAssertEqual(decoder.statistics.discardedBytes, UInt64(badCRC.count + badBody.count))
        XCTAssertEqual(decoder.statistics.malformedFrames + decoder.statistics.oversizeFrames + decoder.statistics.rejectedPackets, 0)
    }

    func testAnOversizeLengthIsSkippedAndTheLargestPacketDecodes() throws {
        var junk = (0..<50).map { UInt8($0 * 7 % 256) }
        breakHeaders(&junk)
        var decoder = Dynamixel.PacketDecoder()
        let oversize = hex("FF FF FD 00 01 FF FF")
        XCTAssertEqual(decodePackets(oversize + junk + EManual.pingStatusID1, into: &decoder).map(\.id), [1])
        XCTAssertEqual(decoder.statistics.oversizeFrames, 1)
        XCTAssertEqual(decoder.statistics.discardedBytes, UInt64(oversize.count + junk.count))
        let justTooLong = hex("FF FF FD 00 01 FA 03")  // LENGTH 1018: 1025 bytes
        XCTAssertEqual(decodePackets(justTooLong + EManual.pingStatusID2, into: &decoder).map(\.id), [2])
        XCTAssertEqual(decoder.statistics.oversizeFrames, 2)

        // The largest packet: 1 + 1014 parameters + 2 = LENGTH 1017, 1024 bytes. Behind a false header that
        // claims 1000 bytes, it is found again after that header's CRC fails (the buffer is compacted on the way).
        let data = (0..<1012).map { UInt8($0 % 251) }
        let largest = try encoded { packet in
            try data.withUnsafeBytes { try Dynamixel.PacketEncoder.write(id: 1, address: 0x200, data: $0, into: &packet) }
        }
        XCTAssertEqual(largest.count, Dynamixel.maxPacketBytes)
        var behindFalseHeader = Dynamixel.PacketDecoder()
        let found = decodePackets(hex("FF FF FD 00 01 E8 03") + largest, into: &behindFalseHeader)
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found.first?.parameters.count, Dynamixel.maxParameterBytes)
        XCTAssertEqual(found.first?.parameters.littleEndian(UInt16.self, at: 0), 0x200)
        XCTAssertEqual(behindFalseHeader.statistics.crcErrors, 1)
        XCTAssertEqual(behindFalseHeader.statistics.discardedBytes, 7)

        let oneMore = (0..<1013).map { UInt8($0 % 251) }
        var packet = Dynamixel.EncodedPacket()
        XCTAssertThrowsError(
            try oneMore.withUnsafeBytes { try Dynamixel.PacketEncoder.write(id: 1, address: 0x200, data: $0, into: &packet) }
        ) { XCTAssertEqual($0 as? Dynamixel.EncodingError, .tooLong) }
        XCTAssertEqual(packet.count, 0, "a failed encoding leaves the packet empty")
        // Stuffing counts: LENGTH 1017 before stuffing, 1018 after (protocols/dynamixel/vectors/stuffing-pushes-past-maximum).
        let onePattern: [UInt8] = [0xFF, 0xFF, 0xFD] + (3..<1012).map { UInt8($0 % 251) }
        XCTAssertThrowsError(
            try onePattern.withUnsafeBytes { try Dynamixel.PacketEncoder.write(id: 1, address: 0x200, data: $0, into: &packet) }
        ) { XCTAssertEqual($0 as? Dynamixel.EncodingError, .tooLong) }
        // And many patterns.
        let patterns = (0..<1012).map { [UInt8(0xFF), 0xFF, 0xFD][$0 % 3] }
        XCTAssertThrowsError(
            try patterns.withUnsafeBytes { try Dynamixel.PacketEncoder.write(id: 1, address: 0, data: $0, into: &packet) }
        ) { XCTAssertEqual($0 as? Dynamixel.EncodingError, .tooLong) }
    }

    func testMalformedHeadersAreCountedAndSkipped() {
        let cases: [(String, [UInt8])] = [
            ("LENGTH 2", hex("FF FF FD 00 01 02 00 01 AA BB")),
            ("ID 0xFF", hex("FF FF FD 00 FF 03 00 01 19 4E")),
            ("ID 0xFD", hex("FF FF FD 00 FD 03 00 01 19 4E")),
        ]
        for (name, bad) in cases {
            var decoder = Dynamixel.PacketDecoder()
            XCTAssertEqual(decodePackets(bad + EManual.pingStatusID1, into: &decoder).map(\.id), [1], name)
            XCTAssertEqual(decoder.statistics.malformedFrames, 1, name)
            XCTAssertEqual(decoder.statistics.crcErrors + decoder.statistics.rejectedPackets, 0, name)
            XCTAssertEqual(decoder.statistics.discardedBytes, UInt64(bad.count), name)
        }
        var decoder = Dynamixel.PacketDecoder()
        XCTAssertEqual(decodeAll(hex("FF FF FD 01 01 03 00 01 19 4E"), into: &decoder), [], "reserved byte not 0: no header")
        XCTAssertEqual(decoder.statistics.malformedFrames, 0)
        XCTAssertEqual(decoder.statistics.discardedBytes, 10)
    }

    func testCRCValidPacketsThatDoNotFitTheirInstructionAreRejected() {
        typealias Reason = Dynamixel.RejectionReason
        let cases: [(String, [UInt8], Reason)] = [
            ("unknown instruction 0x77", rawPacket(id: 1, body: [0x77, 0x01]), .unknownInstruction),
            ("a status without its ERR byte", rawPacket(id: 1, body: [0x55]), .badLength),
            ("an undefined error number", rawPacket(id: 1, body: [0x55, 0x08]), .invalidField),
            ("ping with a parameter", rawPacket(id: 1, body: [0x01, 0x00]), .badLength),
            ("read with 3 parameters", rawPacket(id: 1, body: [0x02, 0x84, 0x00, 0x04]), .badLength),
            ("read of 0 bytes", rawPacket(id: 1, body: [0x02, 0x84, 0x00, 0x00, 0x00]), .invalidField),
            ("write without data", rawPacket(id: 1, body: [0x03, 0x74, 0x00]), .badLength),
            ("factory reset option 3", rawPacket(id: 1, body: [0x06, 0x03]), .invalidField),
            ("clear with wrong fixed bytes", rawPacket(id: 1, body: [0x10, 0x01, 0x44, 0x58, 0x4C, 0x23]), .invalidField),
            ("backup option 3", rawPacket(id: 1, body: [0x20, 0x03, 0x43, 0x54, 0x52, 0x4C]), .invalidField),
            ("sync read not broadcast", rawPacket(id: 1, body: [0x82, 0x84, 0x00, 0x04, 0x00, 0x01]), .invalidField),
            ("sync read with an ID twice", rawPacket(id: 0xFE, body: [0x82, 0x84, 0x00, 0x04, 0x00, 0x01, 0x01]), .invalidField),
            ("sync read of ID 0xFD", rawPacket(id: 0xFE, body: [0x8A, 0x84, 0x00, 0x04, 0x00, 0xFD]), .invalidField),
            ("sync read without IDs", rawPacket(id: 0xFE, body: [0x82, 0x84, 0x00, 0x04, 0x00]), .badLength),
            ("ragged sync write", rawPacket(id: 0xFE, body: [0x83, 0x66, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x02, 0x00]), .badLength),
            ("bulk read not in fives", rawPacket(id: 0xFE, body: [0x92, 0x01, 0x90, 0x00, 0x02]), .badLength),
            ("bulk read of 0 bytes", rawPacket(id: 0xFE, body: [0x92, 0x01, 0x90, 0x00, 0x00, 0x00]), .invalidField),
            ("bulk write with a short entry", rawPacket(id: 0xFE, body: [0x93, 0x01, 0x20, 0x00, 0x02, 0x00, 0xA0]), .badLength),
        ]
        for (name, bad, reason) in cases {
            var decoder = Dynamixel.PacketDecoder()
            XCTAssertEqual(
                decodeAll(bad + EManual.pingStatusID1, into: &decoder),
                [
                    .rejected(Dynamixel.PacketRejection(reason: reason, id: bad[4], instruction: bad[7])),
                    .packet(Dynamixel.Packet(id: 1, instruction: .status, error: .noError, parameters: [0x06, 0x04, 0x26])),
                ], name)
            XCTAssertEqual(decoder.statistics.rejectedPackets, 1, name)
            XCTAssertEqual(decoder.statistics.packetsDecoded, 1, name)
            XCTAssertEqual(decoder.statistics.discardedBytes, UInt64(bad.count), "a rejected packet is dropped whole: \(name)")
            XCTAssertEqual(decoder.statistics.malformedFrames + decoder.statistics.crcErrors, 0, name)
        }
        // Every packet the named encoders build is accepted.
        for (name, wire) in EManual.all {
            var decoder = Dynamixel.PacketDecoder()
            XCTAssertEqual(decodePackets(wire, into: &decoder).first?.rejectionReason, nil, name)
            XCTAssertEqual(decoder.statistics.rejectedPackets, 0, name)
        }
    }

    func testDamagedStreamsNeverTrapAndEveryByteIsAccountedFor() throws {
        let pool = EManual.all.map { $0.1 } + [stuffedWrite]
        var generator = SplitMix64(seed: 0xF022)
        for round in 0..<400 {
            var stream: [UInt8] = []
            for _ in 0..<(1 + Int(generator.next() % 6)) {
                var piece = pool[Int(generator.next() % UInt64(pool.count))]
                switch generator.next() % 6 {
                case 0: piece[Int(generator.next() % UInt64(piece.count))] ^= UInt8(1) << UInt8(generator.next() % 8)
                case 1: piece.removeLast(Int(generator.next() % UInt64(piece.count)))
                case 2: piece.insert(biasedByte(&generator), at: Int(generator.next() % UInt64(piece.count + 1)))
                case 3: piece.removeFirst(Int(generator.next() % 4))
                default: break
                }
                stream += piece
            }
            var decoder = Dynamixel.PacketDecoder()
            var results: [Dynamixel.DecodeResult] = []
            var offset = 0
            while offset < stream.count {
                let chunk = min(stream.count - offset, Int(generator.next() % 17) + 1)
                stream[offset..<(offset + chunk)].withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
                offset += chunk
            }
            decoder.flush { results.append($0) }
            let packets = results.compactMap(\.decodedPacket)
            var decodedBytes = 0
            for packet in packets {
                let again = try encoded { try Dynamixel.PacketEncoder.encode(packet, into: &$0) }
                decodedBytes += again.count
                var check = Dynamixel.PacketDecoder()
                XCTAssertEqual(decodeAll(again, into: &check), [.packet(packet)], "round \(round): a decoded packet round-trips")
            }
            let statistics = decoder.statistics
            XCTAssertEqual(statistics.bytesReceived, UInt64(stream.count))
            XCTAssertEqual(statistics.packetsDecoded, UInt64(packets.count))
            XCTAssertEqual(statistics.rejectedPackets, UInt64(results.count - packets.count))
            XCTAssertEqual(decoder.bufferedByteCount, 0)
            XCTAssertEqual(UInt64(decodedBytes) + statistics.discardedBytes, statistics.bytesReceived, "round \(round)")
        }
    }

    // MARK: Fast Sync Read and Fast Bulk Read

    func testFastSyncReadReplySplitsPerDevice() throws {
        var decoder = Dynamixel.PacketDecoder()
        let packets = decodePackets(EManual.fastSyncReadStatus, into: &decoder)
        XCTAssertEqual(packets.count, 1)
        let packet = try XCTUnwrap(packets.first)
        XCTAssertTrue(packet.isFastReadReply)
        XCTAssertEqual(packet.error, .noError, "the first device's ERR")
        let slices = try Dynamixel.FastRead.slices(of: packet, ids: [3, 7, 4], dataLength: 4)
        XCTAssertEqual(slices.map(\.id), [3, 7, 4])
        XCTAssertEqual(slices.map(\.error), [.noError, .noError, .noError])
        XCTAssertEqual(slices.map { packet.parameters.littleEndian(UInt32.self, at: $0.dataOffset) }, [166, 2079, 1023], "Present Position")

        // The device side builds the same bytes, running CRCs included.
        var builder = try Dynamixel.FastReadReplyBuilder(segmentCount: 3, totalDataBytes: 12)
        try builder.append(id: 3, error: .noError, data: Dynamixel.DataBytes(littleEndian: UInt32(166)))
        try builder.append(id: 7, error: .noError, data: Dynamixel.DataBytes(littleEndian: UInt32(2079)))
        XCTAssertFalse(builder.isComplete)
        XCTAssertThrowsError(try builder.finish()) { XCTAssertEqual($0 as? Dynamixel.EncodingError, .incompleteReply) }
        try builder.append(id: 4, error: .noError, data: Dynamixel.DataBytes(littleEndian: UInt32(1023)))
        XCTAssertEqual(try builder.finish().bytes, EManual.fastSyncReadStatus)
        XCTAssertThrowsError(try builder.append(id: 5, error: .noError, data: Dynamixel.DataBytes(littleEndian: UInt32(0)))) {
            XCTAssertEqual($0 as? Dynamixel.EncodingError, .dataLengthMismatch)
        }
    }

    func testFastBulkReadReplySplitsPerDevice() throws {
        var decoder = Dynamixel.PacketDecoder()
        let packet = try XCTUnwrap(decodePackets(EManual.fastBulkReadStatus, into: &decoder).first)
        let entries: Dynamixel.DeviceList<Dynamixel.BulkReadEntry> = [
            Dynamixel.BulkReadEntry(id: 3, address: 132, length: 4), Dynamixel.BulkReadEntry(id: 7, address: 124, length: 2),
            Dynamixel.BulkReadEntry(id: 4, address: 146, length: 1),
        ]
        let slices = try Dynamixel.FastRead.slices(of: packet, entries: entries)
        XCTAssertEqual(slices.map(\.dataLength), [4, 2, 1])
        XCTAssertEqual(packet.parameters.littleEndian(UInt32.self, at: slices[0].dataOffset), 166, "Present Position")
        XCTAssertEqual(packet.parameters.littleEndian(Int16.self, at: slices[1].dataOffset), 421, "Present PWM")
        XCTAssertEqual(packet.parameters.uint8(at: slices[2].dataOffset), 31, "Present Temperature")

        var builder = try Dynamixel.FastReadReplyBuilder(segmentCount: 3, totalDataBytes: 7)
        try builder.append(id: 3, error: .noError, data: Dynamixel.DataBytes(littleEndian: UInt32(166)))
        try builder.append(id: 7, error: .noError, data: Dynamixel.DataBytes(littleEndian: Int16(421)))
        XCTAssertThrowsError(try builder.append(id: 4, error: .noError, data: Dynamixel.DataBytes(littleEndian: UInt16(31)))) {
            XCTAssertEqual($0 as? Dynamixel.EncodingError, .dataLengthMismatch, "the last segment must end the packet")
        }
        try builder.append(id: 4, error: .noError, data: Dynamixel.DataBytes(littleEndian: UInt8(31)))
        XCTAssertEqual(try builder.finish().bytes, EManual.fastBulkReadStatus)
    }

    func testFastReadSplittingRefusesWhatDoesNotMatchTheRequest() throws {
        var decoder = Dynamixel.PacketDecoder()
        let packet = try XCTUnwrap(decodePackets(EManual.fastSyncReadStatus, into: &decoder).first)
        XCTAssertThrowsError(try Dynamixel.FastRead.slices(of: packet, ids: [3, 4, 7], dataLength: 4)) {
            XCTAssertEqual($0 as? Dynamixel.FastReadError, .unexpectedID(index: 1, expected: 4, actual: 7))
        }
        XCTAssertThrowsError(try Dynamixel.FastRead.slices(of: packet, ids: [3, 7, 4], dataLength: 2)) {
            XCTAssertEqual($0 as? Dynamixel.FastReadError, .lengthMismatch(expected: 3 * 6 - 3, actual: 3 * 8 - 3))
        }
        XCTAssertThrowsError(try Dynamixel.FastRead.slices(of: packet, ids: [], dataLength: 4)) {
            XCTAssertEqual($0 as? Dynamixel.FastReadError, .badDeviceCount)
        }
        let ordinary = try XCTUnwrap(decodePackets(EManual.readStatus, into: &decoder).first)
        XCTAssertThrowsError(try Dynamixel.FastRead.slices(of: ordinary, ids: [1], dataLength: 4)) {
            XCTAssertEqual($0 as? Dynamixel.FastReadError, .notAFastReadReply)
        }

        // A first segment whose own CRC is wrong, in a packet whose final CRC is right.
        var damaged = EManual.fastSyncReadStatus
        damaged[14] ^= 0xFF
        let crc = damaged.dropLast(2).withUnsafeBytes { Dynamixel.CRC16.checksum($0) }
        damaged[damaged.count - 2] = UInt8(truncatingIfNeeded: crc)
        damaged[damaged.count - 1] = UInt8(truncatingIfNeeded: crc >> 8)
        let reply = try XCTUnwrap(decodePackets(damaged, into: &decoder).first)
        XCTAssertThrowsError(try Dynamixel.FastRead.slices(of: reply, ids: [3, 7, 4], dataLength: 4)) {
            XCTAssertEqual($0 as? Dynamixel.FastReadError, .segmentCRCMismatch(index: 0))
        }
        XCTAssertEqual(
            try Dynamixel.FastRead.slices(of: reply, ids: [3, 7, 4], dataLength: 4, checkingSegmentCRCs: false).count, 3,
            "the e-Manual lets a host check only the final CRC")
    }

    func testAFastReadReplyIsNotStuffedAndDecodesAfterEverySplitPoint() throws {
        // Data that holds a whole header: the reply carries it as is (e-Manual: no byte stuffing).
        let first: Dynamixel.DataBytes = [0xFF, 0xFF, 0xFD, 0x00]
        let second: Dynamixel.DataBytes = [0xFF, 0xFF, 0xFD, 0xFD]
        var builder = try Dynamixel.FastReadReplyBuilder(segmentCount: 2, totalDataBytes: 8)
        try builder.append(id: 1, error: .noError, data: first)
        try builder.append(id: 2, error: Dynamixel.StatusError(alert: true), data: second)
        let wire = try builder.finish().bytes
        XCTAssertEqual(wire.count, Dynamixel.prefixBytes + 1 + 2 * (4 + 4))
        XCTAssertEqual(Array(wire[10..<14]), [0xFF, 0xFF, 0xFD, 0x00])
        for split in 0...wire.count {
            var decoder = Dynamixel.PacketDecoder()
            var results: [Dynamixel.DecodeResult] = []
            wire[0..<split].withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
            wire[split...].withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
            XCTAssertEqual(results.count, 1, "split at \(split)")
            guard let packet = results.first?.decodedPacket else { continue }
            let slices = try Dynamixel.FastRead.slices(of: packet, ids: [1, 2], dataLength: 4)
            XCTAssertEqual(slices.map { packet.parameters.littleEndian(UInt32.self, at: $0.dataOffset) }, [0x00FD_FFFF, 0xFDFD_FFFF])
            XCTAssertEqual(slices.map(\.error.alert), [false, true])
            XCTAssertEqual(try encoded { try Dynamixel.PacketEncoder.encode(packet, into: &$0) }, wire)
        }
    }

    // MARK: Values, helpers and refusals

    func testInstructionsAndStatusErrorsHaveTheEManualValues() {
        let expected: [(Dynamixel.Instruction, UInt8, String)] = [
            (.ping, 0x01, "ping"), (.read, 0x02, "read"), (.write, 0x03, "write"), (.regWrite, 0x04, "reg_write"),
            (.action, 0x05, "action"), (.factoryReset, 0x06, "factory_reset"), (.reboot, 0x08, "reboot"), (.clear, 0x10, "clear"),
            (.controlTableBackup, 0x20, "control_table_backup"), (.status, 0x55, "status"), (.syncRead, 0x82, "sync_read"),
            (.syncWrite, 0x83, "sync_write"), (.fastSyncRead, 0x8A, "fast_sync_read"), (.bulkRead, 0x92, "bulk_read"),
            (.bulkWrite, 0x93, "bulk_write"), (.fastBulkRead, 0x9A, "fast_bulk_read"),
        ]
        XCTAssertEqual(Dynamixel.Instruction.known, expected.map { $0.0 })
        for (instruction, raw, name) in expected {
            XCTAssertEqual(instruction.rawValue, raw)
            XCTAssertEqual(instruction.name, name)
            XCTAssertEqual(Dynamixel.Instruction(name: name), instruction)
        }
        XCTAssertNil(Dynamixel.Instruction(rawValue: 0x07).name)
        XCTAssertEqual(Dynamixel.Instruction(rawValue: 0x07).description, "0x07")

        XCTAssertEqual(Dynamixel.StatusError.ErrorNumber.allCases.map(\.rawValue), [1, 2, 3, 4, 5, 6, 7])
        let alertAndAccess = Dynamixel.StatusError(rawValue: 0x87)
        XCTAssertTrue(alertAndAccess.alert)
        XCTAssertEqual(alertAndAccess.error, .accessError)
        XCTAssertEqual(Dynamixel.StatusError(alert: true, .accessError), alertAndAccess)
        XCTAssertNil(Dynamixel.StatusError(rawValue: 0x80).error)
        XCTAssertTrue(Dynamixel.StatusError(rawValue: 0x80).alert)
        XCTAssertEqual(Dynamixel.StatusError(rawValue: 0x03).error, .crcError)
        XCTAssertFalse(Dynamixel.StatusError(rawValue: 0x03).alert)
        XCTAssertTrue(Dynamixel.StatusError.noError.isOK)
        XCTAssertEqual(Dynamixel.ParameterBytes.capacity, Dynamixel.maxParameterBytes)
        XCTAssertEqual(Dynamixel.DeviceList<UInt8>.capacity, Dynamixel.maxDevicesPerList)
    }

    func testLittleEndianHelpersRoundTripAndRefuseOutOfRange() {
        var raw = [UInt8](repeating: 0, count: 8)
        raw.withUnsafeMutableBytes { bytes in
            XCTAssertTrue(Dynamixel.LittleEndian.writeInt32(-2, to: bytes, at: 0))
            XCTAssertTrue(Dynamixel.LittleEndian.writeUInt16(0xBEEF, to: bytes, at: 4))
            XCTAssertTrue(Dynamixel.LittleEndian.writeUInt8(0x7F, to: bytes, at: 6))
            XCTAssertFalse(Dynamixel.LittleEndian.writeUInt32(1, to: bytes, at: 5))
            XCTAssertFalse(Dynamixel.LittleEndian.writeInt16(1, to: bytes, at: -1))
        }
        XCTAssertEqual(raw, [0xFE, 0xFF, 0xFF, 0xFF, 0xEF, 0xBE, 0x7F, 0x00])
        raw.withUnsafeBytes { bytes in
            XCTAssertEqual(Dynamixel.LittleEndian.readInt32(bytes, at: 0), -2)
            XCTAssertEqual(Dynamixel.LittleEndian.readUInt32(bytes, at: 0), 0xFFFF_FFFE)
            XCTAssertEqual(Dynamixel.LittleEndian.readUInt16(bytes, at: 4), 0xBEEF)
            XCTAssertEqual(Dynamixel.LittleEndian.readInt16(bytes, at: 4), Int16(bitPattern: 0xBEEF))
            XCTAssertEqual(Dynamixel.LittleEndian.readUInt8(bytes, at: 6), 0x7F)
            XCTAssertNil(Dynamixel.LittleEndian.readUInt32(bytes, at: 5))
            XCTAssertNil(Dynamixel.LittleEndian.readUInt16(bytes, at: Int.max))
            XCTAssertNil(Dynamixel.LittleEndian.readUInt8(bytes, at: -1))
        }
        var data = Dynamixel.DataBytes(littleEndian: Int16(-300))
        XCTAssertTrue(data.appendLittleEndian(UInt32(0x0102_0304)))
        XCTAssertEqual(Array(data), [0xD4, 0xFE, 0x04, 0x03, 0x02, 0x01])
        XCTAssertEqual(data.littleEndian(Int16.self, at: 0), -300)
        XCTAssertEqual(data.littleEndian(UInt32.self, at: 2), 0x0102_0304)
        XCTAssertNil(data.littleEndian(UInt32.self, at: 3))
        XCTAssertNil(data.littleEndian(UInt16.self, at: Int.min))
        var full = InlineBytes<3>()
        XCTAssertTrue(full.appendLittleEndian(UInt16(1)))
        XCTAssertFalse(full.appendLittleEndian(UInt16(2)), "all or nothing")
        XCTAssertEqual(full.count, 2)
    }

    func testEncodersRefuseInvalidRequests() {
        var packet = Dynamixel.EncodedPacket()
        func refuses(_ expected: Dynamixel.EncodingError, _ encode: (inout Dynamixel.EncodedPacket) throws -> Void, line: UInt = #line) {
            XCTAssertNoThrow(try Dynamixel.PacketEncoder.ping(id: 1, into: &packet))
            XCTAssertThrowsError(try encode(&packet), line: line) { XCTAssertEqual($0 as? Dynamixel.EncodingError, expected, line: line) }
            XCTAssertEqual(packet.count, 0, "left empty", line: line)
        }
        refuses(.invalidID(0xFD)) { try Dynamixel.PacketEncoder.ping(id: 0xFD, into: &$0) }
        refuses(.invalidID(0xFF)) { try Dynamixel.PacketEncoder.reboot(id: 0xFF, into: &$0) }
        refuses(.invalidID(0xFE)) { try Dynamixel.PacketEncoder.syncRead(address: 132, length: 4, ids: [1, 0xFE], into: &$0) }
        refuses(.duplicateID(2)) { try Dynamixel.PacketEncoder.fastSyncRead(address: 132, length: 4, ids: [2, 3, 2], into: &$0) }
        refuses(.noDevices) { try Dynamixel.PacketEncoder.syncRead(address: 132, length: 4, ids: [], into: &$0) }
        refuses(.zeroLength) { try Dynamixel.PacketEncoder.read(id: 1, address: 132, length: 0, into: &$0) }
        refuses(.zeroLength) { try Dynamixel.PacketEncoder.write(id: 1, address: 116, data: Dynamixel.DataBytes(), into: &$0) }
        refuses(.zeroLength) { try Dynamixel.PacketEncoder.fastSyncRead(address: 224, length: 0, ids: [1, 2], into: &$0) }
        refuses(.zeroLength) {
            try Dynamixel.PacketEncoder.fastBulkRead([Dynamixel.BulkReadEntry(id: 1, address: 224, length: 0)], into: &$0)
        }
        refuses(.zeroLength) {
            try Dynamixel.PacketEncoder.bulkWrite([Dynamixel.BulkWriteEntry(id: 1, address: 64, data: Dynamixel.DataBytes())], into: &$0)
        }
        refuses(.dataLengthMismatch) { packet in
            let data: [UInt8] = [1, 2, 3]
            try data.withUnsafeBytes { try Dynamixel.PacketEncoder.syncWrite(address: 116, length: 4, ids: [1], data: $0, into: &packet) }
        }
        refuses(.dataLengthMismatch) {
            try Dynamixel.PacketEncoder.syncWrite(
                address: 116,
                entries: [
                    Dynamixel.SyncWriteEntry(id: 1, data: Dynamixel.DataBytes(littleEndian: UInt32(1))),
                    Dynamixel.SyncWriteEntry(id: 2, data: Dynamixel.DataBytes(littleEndian: UInt16(1))),
                ],
                into: &$0)
        }
        refuses(.duplicateID(1)) {
            try Dynamixel.PacketEncoder.bulkRead(
                [Dynamixel.BulkReadEntry(id: 1, address: 0, length: 1), Dynamixel.BulkReadEntry(id: 1, address: 2, length: 1)], into: &$0)
        }
        XCTAssertThrowsError(try Dynamixel.FastReadReplyBuilder(segmentCount: 0, totalDataBytes: 0)) {
            XCTAssertEqual($0 as? Dynamixel.EncodingError, .noDevices)
        }
        XCTAssertThrowsError(try Dynamixel.FastReadReplyBuilder(segmentCount: 2, totalDataBytes: 1010)) {
            XCTAssertEqual($0 as? Dynamixel.EncodingError, .tooLong, "1 + 1010 + 2 × 4 is LENGTH 1019")
        }
    }
}

// MARK: - The e-Manual's examples

/// Every example packet of https://emanual.robotis.com/docs/en/dxl/protocol2/ ("Instruction Details").
private enum EManual {
    // Ping, examples 1 and 2 (XM430-W210: model 1030, firmware 38)
    static let pingID1 = hex("FF FF FD 00 01 03 00 01 19 4E")
    static let pingStatusID1 = hex("FF FF FD 00 01 07 00 55 00 06 04 26 65 5D")
    static let pingBroadcast = hex("FF FF FD 00 FE 03 00 01 31 42")
    static let pingStatusID2 = hex("FF FF FD 00 02 07 00 55 00 06 04 26 6F 6D")
    // Read: Present Position (132, 4 bytes) = 166
    static let read = hex("FF FF FD 00 01 07 00 02 84 00 04 00 1D 15")
    static let readStatus = hex("FF FF FD 00 01 08 00 55 00 A6 00 00 00 8C C0")
    // Write: Goal Position (116) = 512; the status without parameters that Write, Reg Write, Action, Factory
    // Reset, Reboot, Clear and Control Table Backup all get
    static let write = hex("FF FF FD 00 01 09 00 03 74 00 00 02 00 00 CA 89")
    static let emptyStatus = hex("FF FF FD 00 01 04 00 55 00 A1 0C")
    // Reg Write: Goal Velocity (104) = 200; Action
    static let regWrite = hex("FF FF FD 00 01 09 00 04 68 00 C8 00 00 00 AE 8E")
    static let action = hex("FF FF FD 00 01 03 00 05 02 CE")
    // Factory Reset, option 0x01 (all but the ID); Reboot; Clear (multi-turn)
    static let factoryReset = hex("FF FF FD 00 01 04 00 06 01 A1 E6")
    static let reboot = hex("FF FF FD 00 01 03 00 08 2F 4E")
    static let clear = hex("FF FF FD 00 01 08 00 10 01 44 58 4C 22 B1 DC")
    // Control Table Backup: store (example 1); restore (example 2, whose printed CRC 92 F5 is a misprint of 9E F5)
    static let backupStore = hex("FF FF FD 00 01 08 00 20 01 43 54 52 4C 16 F5")
    static let backupRestoreCorrected = hex("FF FF FD 00 01 08 00 20 02 43 54 52 4C 9E F5")
    // Sync Read: Present Position of IDs 1 and 2 (166 and 2079); ID 2's status
    static let syncRead = hex("FF FF FD 00 FE 09 00 82 84 00 04 00 01 02 CE FA")
    static let syncReadStatusID2 = hex("FF FF FD 00 02 08 00 55 00 1F 08 00 00 BA BE")
    // Sync Write: Goal Position 150 to ID 1, 170 to ID 2
    static let syncWrite = hex("FF FF FD 00 FE 11 00 83 74 00 04 00 01 96 00 00 00 02 AA 00 00 00 82 87")
    // Fast Sync Read: Present Position of IDs 3, 7, 4 (166, 2079, 1023); the one status packet they build
    static let fastSyncRead = hex("FF FF FD 00 FE 0A 00 8A 84 00 04 00 03 07 04 20 F2")
    static let fastSyncReadStatus = hex(
        "FF FF FD 00 FE 19 00 55 00 03 A6 00 00 00 84 08 00 07 1F 08 00 00 16 CA 00 04 FF 03 00 00 D1 9E")
    // Bulk Read: Present Voltage (144, 2 bytes) of ID 1 = 119, Present Temperature (146, 1 byte) of ID 2 = 36
    static let bulkRead = hex("FF FF FD 00 FE 0D 00 92 01 90 00 02 00 02 92 00 01 00 1A 05")
    static let bulkReadStatusID1 = hex("FF FF FD 00 01 06 00 55 00 77 00 C3 69")
    static let bulkReadStatusID2 = hex("FF FF FD 00 02 05 00 55 00 24 8B A9")
    // Bulk Write: Max Voltage Limit (32, 2 bytes) of ID 1 = 160, Temperature Limit (31, 1 byte) of ID 2 = 80
    static let bulkWrite = hex("FF FF FD 00 FE 10 00 93 01 20 00 02 00 A0 00 02 1F 00 01 00 50 B7 68")
    // Fast Bulk Read: ID 3 Present Position (4 bytes) = 166, ID 7 Present PWM (124, 2 bytes) = 421, ID 4 Present
    // Temperature (1 byte) = 31. The e-Manual prints the instruction's CRC as 20 F2 (the Fast Sync Read
    // example's); its bytes give DA 2D. Its status packet is printed correctly.
    static let fastBulkReadCorrected = hex("FF FF FD 00 FE 12 00 9A 03 84 00 04 00 07 7C 00 02 00 04 92 00 01 00 DA 2D")
    static let fastBulkReadStatus = hex("FF FF FD 00 FE 14 00 55 00 03 A6 00 00 00 67 A4 00 07 A5 01 24 74 00 04 1F D9 C1")

    static let all: [(String, [UInt8])] = [
        ("ping ID 1", pingID1), ("ping status ID 1", pingStatusID1), ("ping broadcast", pingBroadcast),
        ("ping status ID 2", pingStatusID2), ("read", read), ("read status", readStatus), ("write", write),
        ("empty status", emptyStatus), ("reg write", regWrite), ("action", action), ("factory reset", factoryReset),
        ("reboot", reboot), ("clear", clear), ("control table backup", backupStore),
        ("control table restore (CRC corrected)", backupRestoreCorrected), ("sync read", syncRead),
        ("sync read status ID 2", syncReadStatusID2), ("sync write", syncWrite), ("fast sync read", fastSyncRead),
        ("fast sync read status", fastSyncReadStatus), ("bulk read", bulkRead), ("bulk read status ID 1", bulkReadStatusID1),
        ("bulk read status ID 2", bulkReadStatusID2), ("bulk write", bulkWrite),
        ("fast bulk read (CRC corrected)", fastBulkReadCorrected), ("fast bulk read status", fastBulkReadStatus),
    ]
}

/// Write to ID 1, address 224, of FF FF FF FF FD 01: a packet with stuffing.
private let stuffedWrite = hex("FF FF FD 00 01 0C 00 03 E0 00 FF FF FF FF FD FD 01 9F 36")

// MARK: - Helpers

private func hex(_ text: String) -> [UInt8] {
    text.split(separator: " ").map { UInt8($0, radix: 16)! }
}

private func encoded(_ body: (inout Dynamixel.EncodedPacket) throws -> Void) rethrows -> [UInt8] {
    var packet = Dynamixel.EncodedPacket()
    try body(&packet)
    return packet.bytes
}

private func decodeAll(_ bytes: [UInt8], into decoder: inout Dynamixel.PacketDecoder) -> [Dynamixel.DecodeResult] {
    var results: [Dynamixel.DecodeResult] = []
    bytes.withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
    return results
}

/// The packets among the results (a rejection is left out).
private func decodePackets(_ bytes: [UInt8], into decoder: inout Dynamixel.PacketDecoder) -> [Dynamixel.Packet] {
    decodeAll(bytes, into: &decoder).compactMap(\.decodedPacket)
}

/// A packet with any body (instruction, parameters) as given, unstuffed, with its LENGTH and a valid CRC.
private func rawPacket(id: UInt8, body: [UInt8]) -> [UInt8] {
    let length = body.count + 2
    var bytes: [UInt8] = [0xFF, 0xFF, 0xFD, 0x00, id, UInt8(length & 0xFF), UInt8(length >> 8)] + body
    let crc = bytes.withUnsafeBytes { Dynamixel.CRC16.checksum($0) }
    bytes += [UInt8(crc & 0xFF), UInt8(crc >> 8)]
    return bytes
}

private func stuffed(_ bytes: [UInt8]) -> [UInt8] {
    var output = [UInt8](repeating: 0, count: 2 * bytes.count + 1)
    let count = bytes.withUnsafeBytes { source in output.withUnsafeMutableBytes { Dynamixel.ByteStuffing.stuff(source, into: $0) } }
    return Array(output[0..<(count ?? 0)])
}

private func unstuffed(_ bytes: [UInt8]) -> [UInt8] {
    var copy = bytes
    let count = copy.withUnsafeMutableBytes { Dynamixel.ByteStuffing.unstuff($0) }
    return Array(copy[0..<count])
}

/// True when `bytes` hold FF FF FD not followed by the stuffing FD (a receiver could take it for a header).
private func containsUnstuffedPattern(_ bytes: [UInt8]) -> Bool {
    var index = 0
    var run = 0
    while index < bytes.count {
        let byte = bytes[index]
        index += 1
        if byte == 0xFD && run >= 2 {
            guard index < bytes.count, bytes[index] == 0xFD else { return true }
            index += 1
            run = 0
            continue
        }
        run = byte == 0xFF ? run + 1 : 0
    }
    return false
}

/// Mostly FF, FD and 00, the bytes of headers and stuffing.
private func biasedByte(_ generator: inout SplitMix64) -> UInt8 {
    switch generator.next() % 6 {
    case 0, 1: return 0xFF
    case 2: return 0xFD
    case 3: return 0x00
    default: return UInt8(truncatingIfNeeded: generator.next())
    }
}

/// Turns every FF FF FD 00 in `bytes` into FF FF FD 01, so that junk holds no header.
private func breakHeaders(_ bytes: inout [UInt8]) {
    guard bytes.count >= 4 else { return }
    for index in 0...(bytes.count - 4)
    where bytes[index] == 0xFF && bytes[index + 1] == 0xFF && bytes[index + 2] == 0xFD && bytes[index + 3] == 0x00 {
        bytes[index + 3] = 0x01
    }
}
