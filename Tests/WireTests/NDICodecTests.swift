import Foundation
import TestSupport
import Wire
import XCTest

/// The NDI combined API codec (Sources/Wire/NDI) against protocols/ndi/vectors/, which the reference
/// implementation (protocols/ndi/tools/ndi.py) generates from protocols/ndi/README.md: every vector
/// decodes as the reference says, with its counters, wherever it is split; every canonical vector
/// encodes back byte for byte. Then the strings ndicapi prints (INIT:E3A5, OKAYA896, RESETBE6F), the
/// unit conversion at this edge, and seeded damage that must never trap.
final class NDICodecTests: XCTestCase {
    // MARK: CRC (README §3.2)

    func testCRCIsCRC16ARCAndMatchesNdicapisStrings() throws {
        XCTAssertEqual(crc("123456789"), 0xBB3D, "CRC-16/ARC check value")
        XCTAssertEqual(NDI.CRC16.checkValue, 0xBB3D)
        XCTAssertEqual(crc(""), 0x0000)
        // ndicapi.cxx, ndiSerialProbe(): "INIT:E3A5\r", "OKAYA896\r", "RESETBE6F\r", "VER:065EE\r".
        XCTAssertEqual(crc("INIT:"), 0xE3A5)
        XCTAssertEqual(crc("OKAY"), 0xA896)
        XCTAssertEqual(crc("RESET"), 0xBE6F)
        XCTAssertEqual(crc("VER:0"), 0x65EE)
        XCTAssertEqual(crc("GETINFO:Features.Firmware.Version"), 0x0492)
        // Byte by byte, and continued from a running value, give the same CRC.
        var running = NDI.CRC16()
        for byte in Array("IN".utf8) { running.update(byte) }
        var continued = NDI.CRC16(value: running.value)
        for byte in Array("IT:".utf8) { continued.update(byte) }
        XCTAssertEqual(continued.value, 0xE3A5)
        // A block followed by its CRC, low byte first, has CRC 0: why ndicapi may check a BX reply's body
        // CRC over header and body together (README §6.1).
        for text in ["INIT:", "123456789", "\u{C4}"] {
            var bytes = Array(text.utf8)
            let value = bytes.withUnsafeBytes { NDI.CRC16.checksum($0) }
            bytes += [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8)]
            XCTAssertEqual(bytes.withUnsafeBytes { NDI.CRC16.checksum($0) }, 0, text)
        }
        let examples = try NDIVectors.crcExamples()
        XCTAssertGreaterThanOrEqual(examples.count, 7)
        for example in examples {
            XCTAssertEqual(example.input.withUnsafeBytes { NDI.CRC16.checksum($0) }, example.crc, example.description)
            XCTAssertEqual(
                example.binaryWireOrder, [UInt8(truncatingIfNeeded: example.crc), UInt8(truncatingIfNeeded: example.crc >> 8)],
                example.description)
        }
    }

    // MARK: The vectors

    func testEveryReplyVectorDecodesAsTheReferenceImplementationSays() throws {
        let vectors = try NDIVectors.all().filter(\.isReply)
        XCTAssertGreaterThanOrEqual(vectors.count, 35)
        for vector in vectors {
            let expectation = try XCTUnwrap(vector.expecting, vector.name)
            var decoder = NDI.ReplyDecoder(expecting: expectation)
            let results = decodeExchange(vector.wire, into: &decoder)
            XCTAssertEqual(results.count, vector.expectedReplies.count, vector.name)
            for (got, want) in zip(results, vector.expectedReplies) where got != want {
                XCTFail("\(vector.name):\n got \(got)\n want \(want)")
            }
            for (got, kind) in zip(results, vector.expectedKinds) {
                guard let kind else { continue }
                XCTAssertEqual(got.asciiReply?.kind, kind, vector.name)
            }
            XCTAssertEqual(decoder.statistics, vector.replyStatistics, vector.name)
            XCTAssertEqual(decoder.bufferedByteCount, 0, vector.name)
            assertAccounted(decoder.statistics, results, vector.name)
        }
    }

    func testEveryCommandVectorParsesAsTheReferenceImplementationSays() throws {
        let vectors = try NDIVectors.all().filter { !$0.isReply }
        XCTAssertGreaterThanOrEqual(vectors.count, 25)
        for vector in vectors {
            var parser = NDI.CommandParser()
            let results = parseLines(vector.wire, into: &parser)
            XCTAssertEqual(results, vector.expectedCommands, vector.name)
            for (got, code) in zip(results, vector.expectedErrorCodes) {
                XCTAssertEqual(got.rejection?.errorCode, code, vector.name)
            }
            XCTAssertEqual(parser.statistics, vector.commandStatistics, vector.name)
            XCTAssertEqual(parser.bufferedByteCount, 0, vector.name)
        }
    }

    func testEveryCanonicalVectorEncodesToTheSameBytes() throws {
        var checked = 0
        for vector in try NDIVectors.all() where vector.canonical {
            if vector.isReply {
                guard vector.expectedReplies.count == 1 else {
                    XCTFail("\(vector.name): a canonical vector holds exactly one reply")
                    continue
                }
                var reply = NDI.EncodedReply()
                switch vector.expectedReplies[0] {
                case .ascii(let ascii): try NDI.ReplyEncoder.ascii(ascii.text, into: &reply)
                case .bx(let bx): try NDI.ReplyEncoder.bx(bx, into: &reply)
                case .rejected: XCTFail("\(vector.name): a canonical vector is not a rejection")
                }
                XCTAssertEqual(reply.bytes, vector.wire, vector.name)
            } else {
                guard vector.expectedCommands.count == 1, let command = vector.expectedCommands[0].decodedCommand else {
                    XCTFail("\(vector.name): a canonical vector holds exactly one command")
                    continue
                }
                XCTAssertEqual(NDI.CommandEncoder.encoded(command).bytes, vector.wire, vector.name)
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 35)
    }

    func testEveryVectorDecodesTheSameWhereverItIsSplit() throws {
        for vector in try NDIVectors.all() {
            if vector.isReply {
                let expectation = try XCTUnwrap(vector.expecting)
                var whole = NDI.ReplyDecoder(expecting: expectation)
                let expected = decodeExchange(vector.wire, into: &whole)
                for split in 0...vector.wire.count {
                    var decoder = NDI.ReplyDecoder(expecting: expectation)
                    var results: [NDI.DecodeResult] = []
                    vector.wire[0..<split].withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
                    vector.wire[split...].withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
                    decoder.flush { results.append($0) }
                    if results != expected || decoder.statistics != whole.statistics {
                        XCTFail("\(vector.name): split at \(split) gives \(results), \(decoder.statistics)")
                        break
                    }
                }
            } else {
                var whole = NDI.CommandParser()
                let expected = parseLines(vector.wire, into: &whole)
                for split in 0...vector.wire.count {
                    var parser = NDI.CommandParser()
                    var results: [NDI.CommandResult] = []
                    vector.wire[0..<split].withUnsafeBytes { raw in parser.push(raw) { results.append($0) } }
                    vector.wire[split...].withUnsafeBytes { raw in parser.push(raw) { results.append($0) } }
                    if results != expected || parser.statistics != whole.statistics {
                        XCTFail("\(vector.name): split at \(split) gives \(results), \(parser.statistics)")
                        break
                    }
                }
            }
        }
    }

    func testOneByteAtATimeWithNextGivesTheSameResults() throws {
        for vector in try NDIVectors.all() where vector.isReply {
            var whole = NDI.ReplyDecoder(expecting: try XCTUnwrap(vector.expecting))
            let expected = decodeExchange(vector.wire, into: &whole)
            var decoder = NDI.ReplyDecoder(expecting: try XCTUnwrap(vector.expecting))
            var results: [NDI.DecodeResult] = []
            for byte in vector.wire {
                var result = decoder.push(byte)
                while let complete = result {
                    results.append(complete)
                    result = decoder.next()
                }
            }
            decoder.flush { results.append($0) }
            XCTAssertEqual(results, expected, vector.name)
            XCTAssertEqual(decoder.statistics, whole.statistics, vector.name)
        }
    }

    // MARK: Encoding, against the vectors and ndicapi

    func testNamedCommandsAreTheBytesOfTheVectors() throws {
        let cases: [(NDI.Command, String)] = [
            (.initialize(), "ndicapi-init-command"),
            (.version(0), "ndicapi-ver-command"),
            (.communication(NDI.SerialSettings(baudRate: .bps115200)), "comm-115200-8n1"),
            (.portHandleSearch(.notInitialized), "phsr-02"),
            (.portHandleSearch(.notEnabled), "phsr-03"),
            (.portHandleInitialize(0x0A), "pinit-0a"),
            (.portHandleEnable(0x0A, priority: .dynamicTool), "pena-0a-dynamic"),
            (.startTracking(), "tstart"),
            (.bx(), "bx-0801"),
            (.bx(.transformations), "bx-0001"),
            (.stopTracking(), "tstop"),
            (.portHandleDisable(0x0A), "pdis-0a"),
            (.portHandleFree(0x0A), "phf-0a"),
            (.initialize(form: .space), "init-space-form"),
            (.tx(form: .space), "tx-0801-space-form"),
            (.initialize(form: .bare), "init-bare"),
        ]
        for (command, name) in cases {
            XCTAssertEqual(NDI.CommandEncoder.encoded(command).bytes, try NDIVectors.named(name).wire, name)
        }
        let getinfo = try XCTUnwrap(NDI.Command("GETINFO", parameters: "Features.Firmware.Version"))
        XCTAssertEqual(NDI.CommandEncoder.encoded(getinfo).bytes, Array("GETINFO:Features.Firmware.Version0492\r".utf8))
        XCTAssertEqual(NDI.CommandEncoder.encoded(.version(4, form: .space)).bytes, Array("VER 4\r".utf8))
        XCTAssertEqual(Array(NDI.CommandEncoder.encoded(.portHandleEnable(0xFF, priority: .staticTool)).bytes.prefix(8)), Array("PENA:FFS".utf8))
        // The encoder replaces what the line held.
        var line = NDI.CommandEncoder.encoded(.communication(.powerUp))
        NDI.CommandEncoder.encode(.initialize(), into: &line)
        XCTAssertEqual(line.bytes, Array("INIT:E3A5\r".utf8))
    }

    func testReplyEncodersAreTheBytesOfTheVectors() throws {
        var reply = NDI.EncodedReply()
        NDI.ReplyEncoder.okay(into: &reply)
        XCTAssertEqual(reply.bytes, try NDIVectors.named("ndicapi-okay-reply").wire)
        NDI.ReplyEncoder.reset(into: &reply)
        XCTAssertEqual(reply.bytes, try NDIVectors.named("ndicapi-reset-reply").wire)
        NDI.ReplyEncoder.error(0x01, into: &reply)
        XCTAssertEqual(reply.bytes, try NDIVectors.named("error-01-invalid-command").wire)
        NDI.ReplyEncoder.error(0x04, into: &reply)
        XCTAssertEqual(reply.bytes, try NDIVectors.named("error-04-bad-command-crc").wire)
        NDI.ReplyEncoder.warning(0x01, into: &reply)
        XCTAssertEqual(reply.bytes, try NDIVectors.named("warning-01").wire)
        // A PHSR list built as a simulator builds it: count, then handle and 3-digit status per handle.
        var text = NDI.ReplyText()
        text.append(hex: 2, digits: 2)
        for handle: UInt32 in [0x0A, 0x0B] {
            text.append(hex: handle, digits: 2)
            text.append(hex: 0x001, digits: 3)
        }
        try NDI.ReplyEncoder.ascii(text, into: &reply)
        XCTAssertEqual(reply.bytes, try NDIVectors.named("phsr-reply-two-handles").wire)
    }

    func testPortHandleSearchRepliesReadAndWriteTheirList() throws {
        let wire = try NDIVectors.named("phsr-reply-two-handles").wire
        var decoder = NDI.ReplyDecoder()
        let reply = try XCTUnwrap(decodeExchange(wire, into: &decoder).first?.asciiReply)
        let list = try XCTUnwrap(NDI.PortHandleSearchReply(reply))
        XCTAssertEqual(list.count, 2)
        XCTAssertEqual(list[0], NDI.PortHandleSearchReply.Entry(handle: 0x0A, status: 0x001))
        XCTAssertEqual(list[1].handle, 0x0B)
        XCTAssertEqual(list.text, reply.text, "a simulator's PHSR text")
        XCTAssertEqual(NDI.PortHandleSearchReply(NDI.ASCIIReply(text: NDI.ReplyText("00") ?? NDI.ReplyText()))?.count, 0)
        for bad in ["", "0", "010A00", "020A0010B00", "01XX001", "OKAY"] {
            XCTAssertNil(NDI.PortHandleSearchReply(NDI.ASCIIReply(text: NDI.ReplyText(bad) ?? NDI.ReplyText())), bad)
        }
        var full = NDI.PortHandleSearchReply()
        for handle in 0..<NDI.PortHandleSearchReply.capacity {
            XCTAssertTrue(full.append(NDI.PortHandleSearchReply.Entry(handle: UInt8(handle + 1), status: 0x031)))
        }
        XCTAssertFalse(full.append(NDI.PortHandleSearchReply.Entry(handle: 0x7F, status: 0)))
        XCTAssertEqual(NDI.PortHandleSearchReply(NDI.ASCIIReply(text: full.text)), full)
    }

    func testEncodersRefuseWhatTheDecoderWouldRefuse() {
        var reply = NDI.EncodedReply()
        XCTAssertThrowsError(try NDI.ReplyEncoder.ascii(NDI.ReplyText(), into: &reply)) { error in
            XCTAssertEqual(error as? NDI.ReplyEncodingError, .textLength(0))
        }
        XCTAssertEqual(reply.count, 0)
        XCTAssertThrowsError(try NDI.ReplyEncoder.ascii([0x4F, 0x0D, 0x4B], into: &reply)) { error in
            XCTAssertEqual(error as? NDI.ReplyEncodingError, .invalidCharacter(0x0D))
        }
        let nan = NDI.ToolPose(orientation: SIMD4(1, 0, 0, 0), positionMeters: SIMD3(.nan, 0, 0), rmsErrorMillimeters: 0)
        XCTAssertThrowsError(try NDI.ReplyEncoder.bx(NDI.BXReply(handles: [.valid(handle: 1, pose: nan, portStatus: [], frameNumber: 0)]), into: &reply)) { error in
            XCTAssertEqual(error as? NDI.ReplyEncodingError, .nonFiniteValue(index: 0))
        }
        // Beyond float32's range once in millimetres: infinite on the wire.
        let far = NDI.ToolPose(orientation: SIMD4(1, 0, 0, 0), positionMeters: SIMD3(1e36, 0, 0), rmsErrorMillimeters: 0)
        XCTAssertFalse(far.isFiniteOnTheWire)
        var missingWithPose = NDI.HandleReport.missing(handle: 2, portStatus: .occupied, frameNumber: 5)
        missingWithPose.pose = NDI.ToolPose(orientation: SIMD4(1, 0, 0, 0), positionMeters: .zero, rmsErrorMillimeters: 0)
        XCTAssertThrowsError(try NDI.ReplyEncoder.bx(NDI.BXReply(handles: [.disabled(handle: 1), missingWithPose]), into: &reply)) { error in
            XCTAssertEqual(error as? NDI.ReplyEncodingError, .malformedHandle(index: 1))
        }
        XCTAssertEqual(reply.count, 0)
        // Commands that break the rules are not built at all.
        XCTAssertNil(NDI.Command("init"))
        XCTAssertNil(NDI.Command(""))
        XCTAssertNil(NDI.Command("INIT", parameters: "0", form: .bare))
        XCTAssertNil(NDI.Command("PVWR", parameters: "\u{7}"))
        XCTAssertNil(NDI.Command("PVWR", parameters: String(repeating: "0", count: 250)), "longer than 256 with the CRC")
        XCTAssertNotNil(NDI.Command("PVWR", parameters: String(repeating: "0", count: 250), form: .space))
        XCTAssertNil(NDI.Command("ABCDEFGHIJKLMNOPQ"), "a 17-character name")
    }

    // MARK: Units and meanings

    func testBXPositionsAreMetresAndErrorsMillimetresAtThisEdge() throws {
        var decoder = NDI.ReplyDecoder(expecting: .bx)
        let results = decodeExchange(try NDIVectors.named("bx-valid-missing-disabled").wire, into: &decoder)
        let reply = try XCTUnwrap(results.first?.bxReply)
        XCTAssertEqual(reply.handles.count, 3)
        let pose = try XCTUnwrap(reply.handles[0].pose)
        // make_vectors.py: tool 0A at (12.5, -48.25, -212.0) mm, q = (0.7071068, 0, 0.7071068, 0), error 0.18 mm.
        XCTAssertEqual(pose.positionMeters[0], 0.0125, accuracy: 1e-12)
        XCTAssertEqual(pose.positionMeters[1], -0.04825, accuracy: 1e-12)
        XCTAssertEqual(pose.positionMeters[2], -0.212, accuracy: 1e-12)
        XCTAssertEqual(pose.orientation[0], 0.7071068, accuracy: 1e-7, "q0, the scalar part, first")
        XCTAssertEqual(pose.orientation[2], 0.7071068, accuracy: 1e-7)
        XCTAssertEqual(pose.rmsErrorMillimeters, 0.18, accuracy: 1e-6)
        XCTAssertEqual(reply.handles[0].frameNumber, 40213)
        XCTAssertEqual(reply.handles[0].portStatus, [.occupied, .initialized, .enabled])
        XCTAssertTrue(reply.handles[0].isToolVisible)
        XCTAssertEqual(reply.handles[1].status, .missing)
        XCTAssertNil(reply.handles[1].pose)
        XCTAssertTrue(reply.handles[1].portStatus.contains(.outOfVolume))
        XCTAssertFalse(reply.handles[1].isToolVisible, "SR-15: a missing tool is not visible")
        XCTAssertEqual(reply.handles[2], .disabled(handle: 0x0C))
        XCTAssertFalse(reply.handles[2].isToolVisible)
        XCTAssertEqual(reply.handles.report(forHandle: 0x0B)?.status, .missing)
        XCTAssertNil(reply.handles.report(forHandle: 0x0D))

        // The other way: metres in, float32 millimetres on the wire (offsets of README §6.2).
        let written = NDI.ToolPose(orientation: SIMD4(1, 0, 0, 0), positionMeters: SIMD3(0.1, -0.25, 1.5), rmsErrorMillimeters: 0.5)
        var encoded = NDI.EncodedReply()
        try NDI.ReplyEncoder.bx(NDI.BXReply(handles: [.valid(handle: 1, pose: written, portStatus: .occupied, frameNumber: 9)]), into: &encoded)
        let bytes = encoded.bytes
        func float(at offset: Int) -> Float {
            var bits: UInt32 = 0
            for index in (0..<4).reversed() { bits = bits << 8 | UInt32(bytes[offset + index]) }
            return Float(bitPattern: bits)
        }
        XCTAssertEqual(Array(bytes[0..<2]), [0xC4, 0xA5], "the start sequence 0xA5C4, low byte first")
        XCTAssertEqual(Int(bytes[2]) | Int(bytes[3]) << 8, 1 + 2 + 32 + 8 + 2, "reply length: the body")
        XCTAssertEqual(float(at: 9), 1)
        XCTAssertEqual(float(at: 25), 100)
        XCTAssertEqual(float(at: 29), -250)
        XCTAssertEqual(float(at: 33), 1500)
        XCTAssertEqual(float(at: 37), 0.5)
    }

    func testFloat32MillimetresSurviveTheTripThroughMetres() {
        var generator = SplitMix64(seed: 0x4E44_4910)
        var checked = 0
        while checked < 20_000 {
            let value = Float(bitPattern: UInt32(truncatingIfNeeded: generator.next()))
            guard value.isFinite else { continue }
            let pose = NDI.ToolPose(
                wireQuaternion: SIMD4(value, value, value, value), wirePositionMillimeters: SIMD3(value, value, value),
                wireRMSErrorMillimeters: value)
            XCTAssertEqual(pose.wirePositionMillimeters[0].bitPattern, value.bitPattern, "\(value)")
            XCTAssertEqual(pose.wireQuaternion[3].bitPattern, value.bitPattern)
            XCTAssertEqual(pose.wireRMSErrorMillimeters.bitPattern, value.bitPattern)
            XCTAssertEqual(pose.positionMeters[1], Double(value) / 1000)
            checked += 1
        }
    }

    func testASCIIRepliesAreClassified() {
        func kind(_ text: String) -> NDI.ReplyKind? { NDI.ReplyText(text).map { NDI.ASCIIReply(text: $0).kind } }
        XCTAssertEqual(kind("OKAY"), .okay)
        XCTAssertEqual(kind("RESET"), .reset)
        XCTAssertEqual(kind("ERROR0C"), .error(code: 0x0C))
        XCTAssertEqual(kind("ERROR2d"), .error(code: 0x2D))
        XCTAssertEqual(kind("WARNING01"), .warning(code: 0x01))
        XCTAssertEqual(kind("ERROR"), .data)
        XCTAssertEqual(kind("ERROR0"), .data)
        XCTAssertEqual(kind("ERROR0CX"), .data)
        XCTAssertEqual(kind("OKAYX"), .data)
        XCTAssertEqual(kind("020A0010B001"), .data)
        XCTAssertEqual(NDI.errorMeaning(0x01), "invalid command")
        XCTAssertEqual(NDI.errorMeaning(0x04), "invalid CRC calculated for command")
        XCTAssertNil(NDI.errorMeaning(0xEE))
        XCTAssertEqual(NDI.ASCIIReply(text: NDI.ReplyText("OKAY") ?? NDI.ReplyText()).crc, 0xA896)
    }

    func testParsedCommandsGiveTheirParameters() throws {
        var parser = NDI.CommandParser()
        var stream: [UInt8] = Array("PENA:0aD".utf8)
        stream += crcDigits("PENA:0aD")
        stream += Array("\rCOMM 50000\rBX 0801\rVER:4".utf8)
        stream += crcDigits("VER:4")
        stream.append(NDI.carriageReturn)
        let results = parseLines(stream, into: &parser)
        XCTAssertEqual(results.count, 4)
        let pena = try XCTUnwrap(results[0].decodedCommand)
        XCTAssertTrue(pena.isNamed("PENA"))
        XCTAssertFalse(pena.isNamed("PEN"))
        XCTAssertEqual(pena.form, .colon)
        XCTAssertEqual(pena.hexParameter(at: 0, digits: 2), 0x0A, "lower-case hex, as scikit-surgerynditracker sends it")
        XCTAssertEqual(pena.parameter(at: 2), UInt8(ascii: "D"))
        XCTAssertEqual(pena.parameter(at: 2).flatMap(NDI.TrackingPriority.init(rawValue:)), .dynamicTool)
        XCTAssertNil(pena.parameter(at: 3))
        XCTAssertNil(pena.hexParameter(at: 2, digits: 2), "D and the end: not two hex digits")
        let comm = try XCTUnwrap(results[1].decodedCommand)
        XCTAssertEqual(comm.form, .space)
        XCTAssertEqual(NDI.SerialSettings(commParameters: comm.parameters), NDI.SerialSettings(baudRate: .bps115200))
        XCTAssertEqual(NDI.SerialSettings(commParameters: comm.parameters)?.baudRate.bitsPerSecond, 115_200)
        let bx = try XCTUnwrap(results[2].decodedCommand)
        XCTAssertEqual(bx.hexParameter(at: 0, digits: 4).map { NDI.BXReplyOptions(rawValue: UInt16($0)) }, .hostDefault)
        XCTAssertTrue(NDI.BXReplyOptions.hostDefault.isDecodable)
        XCTAssertTrue(NDI.BXReplyOptions.transformations.isDecodable)
        XCTAssertFalse(NDI.BXReplyOptions([.transformations, .toolAndMarkerInformation]).isDecodable)
        XCTAssertFalse(NDI.BXReplyOptions.allTransformations.isDecodable)
        XCTAssertEqual(try XCTUnwrap(results[3].decodedCommand).parameters.string, "4")
        // Every COMM setting survives its five characters.
        for baud in NDI.SerialSettings.BaudRate.allCases {
            for parity in NDI.SerialSettings.Parity.allCases {
                let settings = NDI.SerialSettings(baudRate: baud, sevenDataBits: true, parity: parity, twoStopBits: true, hardwareHandshake: true)
                XCTAssertEqual(NDI.SerialSettings(commParameters: settings.commParameters), settings)
            }
        }
        XCTAssertNil(NDI.SerialSettings(commParameters: NDI.CommandParameters("5000") ?? NDI.CommandParameters()))
        XCTAssertNil(NDI.SerialSettings(commParameters: NDI.CommandParameters("90000") ?? NDI.CommandParameters()))
        XCTAssertNil(NDI.SerialSettings(commParameters: NDI.CommandParameters("50002") ?? NDI.CommandParameters()))
    }

    // MARK: The host's receiver

    func testTheExpectationDecidesWhatABinaryReplyIs() throws {
        let bx = try NDIVectors.named("bx-one-valid").wire
        let okay = try NDIVectors.named("ndicapi-okay-reply").wire
        var decoder = NDI.ReplyDecoder()
        XCTAssertEqual(decoder.expectation, .ascii)
        XCTAssertEqual(decodeExchange(bx, into: &decoder), [.rejected(NDI.ReplyRejection(reason: .unexpectedBinary))])
        decoder.expectation = .bx
        XCTAssertNotNil(decodeExchange(bx, into: &decoder).first?.bxReply)
        XCTAssertEqual(decodeExchange(okay, into: &decoder).first?.asciiReply?.kind, .okay, "after BX an ASCII reply is accepted too")
        XCTAssertEqual(decoder.statistics.repliesDecoded, 2)
        XCTAssertEqual(decoder.statistics.rejectedReplies, 1)
        XCTAssertEqual(decoder.statistics.discardedBytes, UInt64(bx.count))
    }

    /// While BX is expected the system may answer in text instead (README §9.4): ERRORxx (the BX failed)
    /// or RESET (it reset itself). Both decode as ASCII replies — alone, between BX replies in one read,
    /// split anywhere — and are classified; RESET as a command is the line README §5.10 gives.
    func testERRORAndRESETDecodeWhileABXIsExpected() throws {
        let bx = try NDIVectors.named("bx-one-valid").wire
        let error = Array("ERROR0C4E42\r".utf8)
        let reset = Array("RESETBE6F\r".utf8)
        XCTAssertEqual(reset, try NDIVectors.named("ndicapi-reset-reply").wire)
        var decoder = NDI.ReplyDecoder(expecting: .bx)
        XCTAssertEqual(decodeExchange(error, into: &decoder).first?.asciiReply?.kind, .error(code: 0x0C))
        XCTAssertEqual(decodeExchange(reset, into: &decoder).first?.asciiReply?.kind, .reset)

        let stream = bx + error + bx + reset
        let whole = decodeExchange(stream, into: &decoder)
        XCTAssertEqual(whole.count, 4)
        XCTAssertNotNil(whole[0].bxReply)
        XCTAssertEqual(whole[1].asciiReply?.kind, .error(code: 0x0C))
        XCTAssertNotNil(whole[2].bxReply)
        XCTAssertEqual(whole[3].asciiReply?.kind, .reset)
        for cut in 1..<stream.count {
            var split = NDI.ReplyDecoder(expecting: .bx)
            var results: [NDI.DecodeResult] = []
            stream[..<cut].withUnsafeBytes { raw in split.push(raw) { results.append($0) } }
            stream[cut...].withUnsafeBytes { raw in split.push(raw) { results.append($0) } }
            split.flush { results.append($0) }
            XCTAssertEqual(results, whole, "split at \(cut)")
            XCTAssertEqual(split.statistics.crcErrors, 0, "split at \(cut)")
            XCTAssertEqual(split.statistics.discardedBytes, 0, "split at \(cut)")
        }

        XCTAssertEqual(NDI.CommandEncoder.encoded(.reset()).bytes, Array("RESET:034BF\r".utf8))
        XCTAssertEqual(NDI.CommandEncoder.encoded(.reset(form: .space)).bytes, Array("RESET 0\r".utf8))
        var parser = NDI.CommandParser()
        let parsed = try XCTUnwrap(parseLines(Array("RESET:034BF\r".utf8), into: &parser).first?.decodedCommand)
        XCTAssertTrue(parsed.isNamed("RESET"))
        XCTAssertEqual(parsed.parameters.string, "0")
        XCTAssertEqual(NDI.errorMeaning(0x05), "time-out on command execution")
    }

    func testAReplyStillArrivingIsKeptUntilTheEndOfTheExchange() throws {
        let bx = try NDIVectors.named("bx-valid-missing").wire
        var decoder = NDI.ReplyDecoder(expecting: .bx)
        var results: [NDI.DecodeResult] = []
        bx.dropLast().withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
        XCTAssertTrue(results.isEmpty)
        XCTAssertEqual(decoder.bufferedByteCount, bx.count - 1)
        XCTAssertNotNil(decoder.push(bx[bx.count - 1])?.bxReply, "the last byte completes it")
        XCTAssertEqual(decoder.bufferedByteCount, 0)
        // Cut short and given up: malformed, every byte discarded, nothing left behind.
        bx.dropLast(3).withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
        decoder.flush { results.append($0) }
        XCTAssertTrue(results.isEmpty)
        XCTAssertEqual(decoder.statistics.malformedFrames, 1)
        XCTAssertEqual(decoder.statistics.discardedBytes, UInt64(bx.count - 3))
        XCTAssertEqual(decoder.bufferedByteCount, 0)
        // `reset` forgets a partial reply without counting it.
        Array("OKAY".utf8).withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
        XCTAssertEqual(decoder.bufferedByteCount, 4)
        decoder.reset()
        XCTAssertEqual(decoder.bufferedByteCount, 0)
        XCTAssertEqual(decodeExchange(try NDIVectors.named("ndicapi-okay-reply").wire, into: &decoder).count, 1)
    }

    func testTheLargestRepliesDecodeAndOneMoreCharacterIsOversize() throws {
        var decoder = NDI.ReplyDecoder()
        let longest = decodeExchange(try NDIVectors.named("ascii-longest").wire, into: &decoder)
        XCTAssertEqual(longest.first?.asciiReply?.text.count, NDI.maxReplyTextBytes)
        var text = NDI.ReplyText()
        for _ in 0..<NDI.maxReplyTextBytes { text.append(0x37) }
        var reply = NDI.EncodedReply()
        try NDI.ReplyEncoder.ascii(text, into: &reply)
        // One character more than a reply may have, then a CR, then OKAY: oversize, then OKAY.
        let okay = try NDIVectors.named("ndicapi-okay-reply").wire
        let stream = [UInt8(0x37)] + reply.bytes + okay
        var second = NDI.ReplyDecoder()
        let results = decodeExchange(stream, into: &second)
        XCTAssertEqual(results.map { $0.asciiReply?.kind }, [.okay])
        XCTAssertEqual(second.statistics.oversizeFrames, 1)
        XCTAssertEqual(second.statistics.discardedBytes, UInt64(reply.count + 1))

        var largest = NDI.ReplyDecoder(expecting: .bx)
        let bx = decodeExchange(try NDIVectors.named("bx-largest").wire, into: &largest)
        XCTAssertEqual(bx.first?.bxReply?.handles.count, NDI.maxBXHandles)
        XCTAssertTrue(bx.first?.bxReply?.handles.isFull ?? false)
    }

    // MARK: Damage (seeded, reproducible: a failure names its iteration)

    func testGarbageThenAGoodReplyAlwaysYieldsThatReply() throws {
        let okay = try NDIVectors.named("ndicapi-okay-reply").wire
        let error = try NDIVectors.named("error-0c-in-bx-exchange").wire
        let bx = try NDIVectors.named("bx-valid-missing-disabled").wire
        var generator = SplitMix64(seed: 0x4E44_4931)
        for iteration in 0..<500 {
            let garbage = (0..<Int(generator.next() % 160)).map { _ in garbageByte(&generator) }
            let expectation: NDI.ReplyDecoder.Expectation = iteration % 2 == 0 ? .bx : .ascii
            let candidates = expectation == .bx ? [okay, error, bx] : [okay, error]
            let good = candidates[Int(generator.next() % UInt64(candidates.count))]
            // A CR ends whatever text the garbage ends with: text glued to a reply makes its CRC fail.
            let stream = garbage + [NDI.carriageReturn] + good
            var decoder = NDI.ReplyDecoder(expecting: expectation)
            let results = decodeExchange(stream, into: &decoder)
            var alone = NDI.ReplyDecoder(expecting: expectation)
            let expected = decodeExchange(good, into: &alone)
            XCTAssertEqual(results.last, expected.first, "iteration \(iteration)")
            XCTAssertEqual(decoder.bufferedByteCount, 0, "iteration \(iteration)")
            assertAccounted(decoder.statistics, results, "iteration \(iteration)")
        }
    }

    func testDamagedStreamsNeverTrapAndEveryReplyRoundTrips() throws {
        let pool = try NDIVectors.all().filter { $0.isReply && $0.canonical }.map(\.wire)
        XCTAssertFalse(pool.isEmpty)
        var generator = SplitMix64(seed: 0x4E44_4932)
        var decodedTotal = 0
        for iteration in 0..<300 {
            var stream: [UInt8] = []
            for _ in 0..<Int(1 + generator.next() % 6) {
                switch generator.next() % 4 {
                case 0:
                    stream += (0..<Int(generator.next() % 40)).map { _ in garbageByte(&generator) }
                case 1:
                    var damaged = pool[Int(generator.next() % UInt64(pool.count))]
                    damaged[Int(generator.next() % UInt64(damaged.count))] ^= UInt8(1) << UInt8(generator.next() % 8)
                    stream += damaged
                case 2:
                    let whole = pool[Int(generator.next() % UInt64(pool.count))]
                    stream += whole.prefix(Int(generator.next() % UInt64(whole.count)))
                default:
                    stream += pool[Int(generator.next() % UInt64(pool.count))]
                }
            }
            let expectation: NDI.ReplyDecoder.Expectation = generator.next() % 3 == 0 ? .ascii : .bx
            var decoder = NDI.ReplyDecoder(expecting: expectation)
            var results: [NDI.DecodeResult] = []
            var offset = 0
            while offset < stream.count {
                let chunk = min(stream.count - offset, Int(generator.next() % 50) + 1)
                stream[offset..<(offset + chunk)].withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
                offset += chunk
            }
            decoder.flush { results.append($0) }
            XCTAssertEqual(decoder.bufferedByteCount, 0, "iteration \(iteration)")
            XCTAssertEqual(decoder.statistics.bytesReceived, UInt64(stream.count), "iteration \(iteration)")
            assertAccounted(decoder.statistics, results, "iteration \(iteration)")
            for result in results {
                // Every reply the receiver hands over encodes, and decodes back to itself.
                var reply = NDI.EncodedReply()
                switch result {
                case .ascii(let ascii): try NDI.ReplyEncoder.ascii(ascii.text, into: &reply)
                case .bx(let bx): try NDI.ReplyEncoder.bx(bx, into: &reply)
                case .rejected: continue
                }
                var again = NDI.ReplyDecoder(expecting: .bx)
                XCTAssertEqual(decodeExchange(reply.bytes, into: &again), [result], "iteration \(iteration)")
                decodedTotal += 1
            }
        }
        XCTAssertGreaterThan(decodedTotal, 100)
    }

    func testRandomBytesNeverTrapEitherReceiver() {
        var generator = SplitMix64(seed: 0x4E44_4933)
        for iteration in 0..<200 {
            let stream = (0..<Int(generator.next() % 3000)).map { _ in garbageByte(&generator) }
            var decoder = NDI.ReplyDecoder(expecting: iteration % 2 == 0 ? .bx : .ascii)
            let replies = decodeExchange(stream, into: &decoder)
            assertAccounted(decoder.statistics, replies, "iteration \(iteration)")
            var parser = NDI.CommandParser()
            let commands = parseLines(stream, into: &parser)
            var decodedBytes: UInt64 = 0
            for case .command(let command) in commands {
                let line = NDI.CommandEncoder.encoded(command)
                decodedBytes += UInt64(line.count)
                var reparsed = NDI.CommandParser()
                XCTAssertEqual(parseLines(line.bytes, into: &reparsed), [.command(command)], "iteration \(iteration)")
            }
            XCTAssertEqual(
                parser.statistics.bytesReceived, decodedBytes + parser.statistics.discardedBytes + UInt64(parser.bufferedByteCount),
                "iteration \(iteration): every byte accounted for")
            XCTAssertEqual(
                UInt64(commands.count),
                parser.statistics.commandsDecoded + parser.statistics.crcErrors + parser.statistics.oversizeLines
                    + parser.statistics.malformedLines, "iteration \(iteration): one result per line")
        }
    }
}

// MARK: - Helpers

private func crc(_ text: String) -> UInt16 {
    Array(text.utf8).withUnsafeBytes { NDI.CRC16.checksum($0) }
}

private func crcDigits(_ text: String) -> [UInt8] {
    let value = crc(text)
    return (0..<4).map { position in
        let nibble = UInt8((value >> (12 - 4 * position)) & 0xF)
        return nibble < 10 ? 0x30 + nibble : 0x37 + nibble
    }
}

/// The bytes, then the end of the exchange: every result, in order.
private func decodeExchange(_ bytes: [UInt8], into decoder: inout NDI.ReplyDecoder) -> [NDI.DecodeResult] {
    var results: [NDI.DecodeResult] = []
    bytes.withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
    decoder.flush { results.append($0) }
    return results
}

private func parseLines(_ bytes: [UInt8], into parser: inout NDI.CommandParser) -> [NDI.CommandResult] {
    var results: [NDI.CommandResult] = []
    bytes.withUnsafeBytes { raw in parser.push(raw) { results.append($0) } }
    return results
}

/// Every byte received is in a decoded reply, discarded, or still buffered (README §8.1).
private func assertAccounted(_ statistics: NDI.DecoderStatistics, _ results: [NDI.DecodeResult], _ message: String, line: UInt = #line) {
    var decoded: UInt64 = 0
    for result in results {
        switch result {
        case .ascii(let reply):
            decoded += UInt64(reply.text.count + NDI.asciiCRCDigits + 1)
        case .bx(let reply):
            var encoded = NDI.EncodedReply()
            try? NDI.ReplyEncoder.bx(reply, into: &encoded)
            decoded += UInt64(encoded.count)
        case .rejected:
            break
        }
    }
    XCTAssertEqual(statistics.bytesReceived, decoded + statistics.discardedBytes, "\(message): every byte accounted for", line: line)
    XCTAssertEqual(
        statistics.repliesDecoded, UInt64(results.filter { $0.rejection == nil }.count), "\(message): decoded replies", line: line)
    XCTAssertEqual(
        statistics.rejectedReplies, UInt64(results.filter { $0.rejection != nil }.count), "\(message): rejected replies", line: line)
}

/// Mostly random bytes, often the ones that matter to the receivers: the BX start, CR, LF, hex digits,
/// printable text.
private func garbageByte(_ generator: inout SplitMix64) -> UInt8 {
    let interesting: [UInt8] = [0xC4, 0xA5, 0x0D, 0x0A, 0x00, 0xFF, 0x30, 0x41, 0x46, 0x3A, 0x20, 0x4F]
    let value = generator.next()
    if value % 3 == 0 { return interesting[Int((value >> 8) % UInt64(interesting.count))] }
    return UInt8(truncatingIfNeeded: value >> 16)
}
