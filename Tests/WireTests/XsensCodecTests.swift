import TestSupport
import Wire
import XCTest

/// The Xsens Xbus / MTData2 codec against protocols/xsens/vectors/, which the reference implementation
/// (protocols/xsens/tools/xsens.py) generates from protocols/xsens/README.md: the worked examples of
/// Xsens's documentation, frames captured from real MTi-300 and MTi-G-710 devices and published in
/// open-source repositories, and our own. If the Swift code misreads the spec, it disagrees with these
/// files. Then splitting, damaged streams, random bytes, the value formats and the limits.
final class XsensCodecTests: XCTestCase {
    // MARK: The vectors

    func testEveryVectorDecodesAsTheReferenceImplementationSays() throws {
        let vectors = try XsensVectors.all()
        XCTAssertGreaterThanOrEqual(vectors.count, 90)
        for vector in vectors {
            var decoder = Xsens.FrameDecoder()
            let results = decodeAll(vector.wire, into: &decoder)
            XCTAssertEqual(results.count, vector.expected.count, vector.name)
            for (got, want) in zip(results, vector.expected) where got != want {
                XCTFail("\(vector.name):\n got \(got)\n want \(want)")
            }
            // README §9: the statistics are those after the input and a final end of exchange.
            XCTAssertEqual(decoder.statistics, vector.statistics, vector.name)
            XCTAssertEqual(decoder.bufferedByteCount, 0, vector.name)
        }
    }

    func testTypedViewsAgreeWithTheReferenceForEveryMessage() throws {
        var samples = 0
        for vector in try XsensVectors.all() {
            for (index, result) in vector.expected.enumerated() {
                guard let message = result.decodedMessage, let details = vector.details[index] else { continue }
                let label = "\(vector.name) #\(index)"
                XCTAssertNil(message.rejectionReason, label)
                XCTAssertEqual(message.deviceID, details.deviceID, label)
                XCTAssertEqual(message.productCode?.string, details.productCode, label)
                XCTAssertEqual(message.firmwareRevision, details.firmwareRevision, label)
                XCTAssertEqual(message.outputConfiguration, details.outputConfiguration, label)
                XCTAssertEqual(message.errorCode, details.errorCode, label)
                XCTAssertEqual(message.mtData2Sample, details.sample, label)
                guard message.messageID == .mtData2 else { continue }
                var items: [Xsens.MTData2Item] = []
                var data: [[UInt8]] = []
                let truncated = message.payload.withUnsafeBytes { raw in
                    Xsens.MTData2Item.forEach(in: raw) { item in
                        items.append(item)
                        data.append(Array(raw[item.dataOffset..<(item.dataOffset + item.size)]))
                    }
                }
                XCTAssertEqual(items, details.items, label)
                XCTAssertEqual(data, details.itemData, label)
                XCTAssertEqual(truncated, details.sample?.isTruncated, label)
                samples += 1
            }
        }
        XCTAssertGreaterThan(samples, 30)
    }

    func testEveryCanonicalVectorEncodesToTheSameBytes() throws {
        var checked = 0
        for vector in try XsensVectors.all() where vector.canonical {
            guard vector.expected.count == 1, let message = vector.expected[0].decodedMessage else {
                XCTFail("\(vector.name): a canonical vector holds exactly one message")
                continue
            }
            var frame = Xsens.EncodedFrame()
            Xsens.FrameEncoder.encode(message, into: &frame)
            XCTAssertEqual(frame.bytes, vector.wire, vector.name)
            XCTAssertEqual(frame.bytes.last, vector.details[0]?.checksum, vector.name)
            XCTAssertEqual(frame.bytes[3] == Xsens.extendedLengthMarker, vector.details[0]?.extendedLength, vector.name)
            var raw = Xsens.EncodedFrame()
            try message.payload.bytes.withUnsafeBytes { try Xsens.FrameEncoder.frame(message.messageID, payload: $0, into: &raw) }
            XCTAssertEqual(raw.bytes, vector.wire, "\(vector.name): frame(_:payload:into:)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 60)
    }

    func testTheNamedEncodersRebuildEveryMessageOfTheVectors() throws {
        var built = 0
        for vector in try XsensVectors.all() {
            for (index, result) in vector.expected.enumerated() {
                guard let message = result.decodedMessage, let details = vector.details[index],
                    let named = namedEncoding(message, details)
                else { continue }
                var generic = Xsens.EncodedFrame()
                Xsens.FrameEncoder.encode(message, into: &generic)
                XCTAssertEqual(named, generic.bytes, "\(vector.name) #\(index)")
                if vector.canonical { XCTAssertEqual(named, vector.wire, vector.name) }
                built += 1
            }
        }
        XCTAssertGreaterThan(built, 50)
    }

    func testPublishedCapturesOfRealDevicesDecodeWithoutLoss() throws {
        let captures = try XsensVectors.all().filter { $0.sourceKind == "capture" }
        XCTAssertGreaterThanOrEqual(captures.count, 25, "the MTi-300 and MTi-G-710 captures")
        var precisions = Set<UInt16>()
        var quaternions = 0
        for vector in captures {
            var decoder = Xsens.FrameDecoder()
            let results = decodeAll(vector.wire, into: &decoder)
            XCTAssertEqual(decoder.statistics.checksumErrors, 0, vector.name)
            XCTAssertEqual(decoder.statistics.malformedFrames, 0, vector.name)
            for message in results.compactMap(\.decodedMessage) where message.messageID == .mtData2 {
                guard let sample = message.mtData2Sample else { continue }
                XCTAssertFalse(sample.isTruncated, vector.name)
                XCTAssertEqual(sample.malformedItemCount, 0, vector.name)
                if sample.quaternion != nil { quaternions += 1 }
                var carriesCounter = false
                _ = message.payload.withUnsafeBytes { raw in
                    Xsens.MTData2Item.forEach(in: raw) { item in
                        if item.dataID.type == .acceleration { precisions.insert(item.dataID.precision.rawValue) }
                        if item.dataID.type == .packetCounter { carriesCounter = true }
                    }
                }
                // Some captures carry only a rotation matrix: a counter is read wherever the frame has one.
                XCTAssertEqual(sample.packetCounter != nil, carriesCounter, vector.name)
            }
        }
        XCTAssertEqual(precisions, [0, 1, 2, 3], "real acceleration in float32, fp12.20, fp16.32 and float64")
        XCTAssertGreaterThanOrEqual(quaternions, 5)
    }

    func testARealMTi300SampleHasThePublishedValues() throws {
        // docs/mtmanager_packets.md of Scottapotamas/xsens-mti, "Packet Example 6", as MT Manager printed it.
        let vector = try XsensVectors.named("capture-mti300-mtdata2-quaternion-minimal")
        var decoder = Xsens.FrameDecoder()
        let sample = try XCTUnwrap(decodeAll(vector.wire, into: &decoder).first?.decodedMessage?.mtData2Sample)
        XCTAssertEqual(sample.packetCounter, 18050)
        XCTAssertEqual(sample.sampleTimeFine, 29_686_846)
        XCTAssertEqual(sample.statusWord, 0b0000_0000_0100_0000_0000_0000_0000_0011)
        let q = try XCTUnwrap(sample.quaternion)
        XCTAssertEqual(q.coordinateSystem, .eastNorthUp)
        XCTAssertEqual(q.w, 0.94455600, accuracy: 5e-8)
        XCTAssertEqual(q.x, -0.32308814, accuracy: 5e-8)
        XCTAssertEqual(q.y, 0.01374718, accuracy: 5e-8)
        XCTAssertEqual(q.z, -0.05691256, accuracy: 5e-8)
        XCTAssertNil(sample.accelerationMetersPerSecondSquared, "not configured, so absent rather than zero")
        XCTAssertNil(sample.rateOfTurnRadiansPerSecond)
        XCTAssertEqual(try XCTUnwrap(sample.sampleTimeFineSeconds), 2968.6846, accuracy: 1e-9)
    }

    // MARK: Splitting

    func testEverySplitPointOfAMultiFrameStreamGivesTheSameMessages() throws {
        let names = [
            "device-mtdata2-float32", "extended-length", "capture-mti300-firmware-rev", "capture-mti-g-710-gnss-pvt",
            "device-error-invalid-message", "host-set-output-configuration", "device-mtdata2-fp1632",
        ]
        let vectors = try names.map { try XsensVectors.named($0) }
        let stream = vectors.flatMap(\.wire)
        let expected = vectors.flatMap(\.expected)
        var statistics = Xsens.DecoderStatistics()
        for vector in vectors {
            statistics.bytesReceived += vector.statistics.bytesReceived
            statistics.framesDecoded += vector.statistics.framesDecoded
        }
        for split in 0...stream.count {
            var decoder = Xsens.FrameDecoder()
            var results: [Xsens.DecodeResult] = []
            stream[..<split].withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
            stream[split...].withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
            XCTAssertEqual(decoder.bufferedByteCount, 0, "split at \(split)")
            decoder.flush { results.append($0) }
            guard results == expected, decoder.statistics == statistics else {
                XCTFail("split at \(split): \(results.count) results, \(decoder.statistics)")
                return
            }
        }
    }

    func testDamagedStreamsDecodeTheSameWhateverTheChunks() throws {
        let names = [
            "junk-before-frame", "checksum-error", "oversize-length", "frame-hidden-behind-false-header", "unknown-message-id",
            "extended-length-too-small", "back-to-back-frames", "truncated-frame-then-frame",
        ]
        let stream = try names.flatMap { try XsensVectors.named($0).wire }
        var reference = Xsens.FrameDecoder()
        let expected = decodeAll(stream, into: &reference)
        XCTAssertGreaterThan(expected.compactMap(\.decodedMessage).count, 10)
        var generator = SplitMix64(seed: 0x5EED_0003)
        for iteration in 0..<100 {
            var decoder = Xsens.FrameDecoder()
            var results: [Xsens.DecodeResult] = []
            var offset = 0
            while offset < stream.count {
                let chunk = min(stream.count - offset, Int(generator.next() % 64) + 1)
                stream[offset..<(offset + chunk)].withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
                offset += chunk
            }
            decoder.flush { results.append($0) }
            XCTAssertEqual(results, expected, "iteration \(iteration)")
            XCTAssertEqual(decoder.statistics, reference.statistics, "iteration \(iteration)")
        }
    }

    // MARK: Damaged input

    func testRandomGarbageBeforeAFrameNeverHidesIt() throws {
        // Verified against the reference implementation for this seed: the frame is the only result.
        let good = try XsensVectors.named("device-mtdata2-float32")
        let message = try XCTUnwrap(good.expected.first?.decodedMessage)
        var generator = SplitMix64(seed: 0x5EED_0001)
        for iteration in 0..<400 {
            let length = Int(generator.next() % 301)
            var garbage: [UInt8] = []
            for _ in 0..<length { garbage.append(UInt8(truncatingIfNeeded: generator.next() >> 24)) }
            var decoder = Xsens.FrameDecoder()
            let results = decodeAll(garbage + good.wire, into: &decoder)
            XCTAssertEqual(results.compactMap(\.decodedMessage).last, message, "iteration \(iteration)")
            XCTAssertEqual(decoder.statistics.discardedBytes, UInt64(length), "iteration \(iteration)")
        }
    }

    func testRandomBytesNeverTrapAndEveryByteIsAccountedFor() {
        var generator = SplitMix64(seed: 0x5EED_0002)
        var rejections = 0
        for iteration in 0..<200 {
            let length = Int(generator.next() % 2_000)
            var bytes: [UInt8] = []
            for _ in 0..<length {
                // A quarter of preambles and bus IDs, so that headers, lengths and checksums are exercised.
                let raw = generator.next()
                switch raw % 8 {
                case 0: bytes.append(Xsens.preamble)
                case 1: bytes.append(Xsens.masterBusID)
                default: bytes.append(UInt8(truncatingIfNeeded: raw >> 32))
                }
            }
            var decoder = Xsens.FrameDecoder()
            let results = decodeAll(bytes, into: &decoder)
            var decodedBytes: UInt64 = 0
            for message in results.compactMap(\.decodedMessage) {
                decodedBytes += UInt64(frameSize(message))
                // A message the decoder accepts survives its own round trip, and parsing it never traps.
                var frame = Xsens.EncodedFrame()
                Xsens.FrameEncoder.encode(message, into: &frame)
                var check = Xsens.FrameDecoder()
                XCTAssertEqual(decodeAll(frame.bytes, into: &check), [.message(message)], "iteration \(iteration)")
                _ = message.mtData2Sample
            }
            let statistics = decoder.statistics
            XCTAssertEqual(statistics.bytesReceived, UInt64(length), "iteration \(iteration)")
            XCTAssertEqual(decodedBytes + statistics.discardedBytes, statistics.bytesReceived, "iteration \(iteration)")
            XCTAssertEqual(statistics.framesDecoded, UInt64(results.compactMap(\.decodedMessage).count))
            XCTAssertEqual(statistics.rejectedFrames, UInt64(results.compactMap(\.rejection).count))
            XCTAssertEqual(decoder.bufferedByteCount, 0)
            rejections += results.compactMap(\.rejection).count
        }
        // The reference implementation rejects 10 checksum-valid frames in these bytes (and decodes none).
        XCTAssertEqual(rejections, 10)
    }

    func testRandomMTData2PayloadsNeverTrap() {
        var generator = SplitMix64(seed: 0x5EED_0004)
        for _ in 0..<2_000 {
            let length = Int(generator.next() % 200)
            var payload: [UInt8] = []
            for _ in 0..<length {
                let raw = generator.next()
                // Small sizes and known data identifiers are common, so that items are whole more often.
                payload.append(raw % 4 == 0 ? UInt8(truncatingIfNeeded: raw >> 8) & 0x1F : UInt8(truncatingIfNeeded: raw >> 16))
            }
            let sample = payload.withUnsafeBytes { Xsens.MTData2Sample(parsing: $0) }
            var whole = 0
            let truncated = payload.withUnsafeBytes { raw in Xsens.MTData2Item.forEach(in: raw) { _ in whole += 1 } }
            XCTAssertEqual(sample.isTruncated, truncated)
            XCTAssertLessThanOrEqual(sample.unusedItemCount + sample.malformedItemCount, whole)
        }
    }

    func testEveryTruncationOfAFrameIsGivenUpAtTheEndOfAnExchange() throws {
        let good = try XsensVectors.named("device-mtdata2-float32").wire
        for length in 1..<good.count {
            var decoder = Xsens.FrameDecoder()
            let results = decodeAll(Array(good.prefix(length)), into: &decoder)
            XCTAssertEqual(results, [], "prefix of \(length)")
            XCTAssertEqual(decoder.statistics.discardedBytes, UInt64(length), "prefix of \(length)")
            XCTAssertEqual(decoder.statistics.malformedFrames, length >= 2 ? 1 : 0, "prefix of \(length)")
            XCTAssertEqual(decoder.bufferedByteCount, 0)
        }
    }

    func testEveryExtendedLengthIsOversizeMalformedOrAwaited() {
        var lengths = Array(stride(from: 0, through: 0xFFFF, by: 97)) + [0, 254, 255, 256, 2047, 2048, 2049, 0xFFFF]
        lengths.removeAll { $0 >> 8 == 0xFA || $0 & 0xFF == 0xFA }
        for length in lengths {
            var decoder = Xsens.FrameDecoder()
            let header: [UInt8] = [0xFA, 0xFF, 0x36, 0xFF, UInt8(length >> 8), UInt8(length & 0xFF)]
            XCTAssertEqual(decodeAll(header, into: &decoder), [], "length \(length)")
            let statistics = decoder.statistics
            XCTAssertEqual(statistics.oversizeFrames, length > Xsens.maxPayloadBytes ? 1 : 0, "length \(length)")
            // Below 255 the extended form is malformed at once; a legal length is awaited, then given up.
            XCTAssertEqual(statistics.malformedFrames, length > Xsens.maxPayloadBytes ? 0 : 1, "length \(length)")
            XCTAssertEqual(statistics.discardedBytes, 6, "length \(length)")
        }
    }

    func testAFrameHiddenBehindADamagedOneComesOutOfNext() throws {
        let vector = try XsensVectors.named("frame-hidden-behind-false-header")
        var decoder = Xsens.FrameDecoder()
        var byByte: [Xsens.DecodeResult] = []
        for byte in vector.wire {
            var result = decoder.push(byte)
            while let complete = result {
                byByte.append(complete)
                result = decoder.next()
            }
        }
        decoder.flush { byByte.append($0) }
        XCTAssertEqual(byByte, vector.expected)
        XCTAssertEqual(byByte.first?.decodedMessage?.deviceID, 0x0370_03F8)
        XCTAssertEqual(decoder.statistics.checksumErrors, 1)
    }

    func testResetDropsAPartialFrameWithoutCountingIt() throws {
        let good = try XsensVectors.named("device-mtdata2-float32").wire
        var decoder = Xsens.FrameDecoder()
        for byte in good.prefix(10) { XCTAssertNil(decoder.push(byte)) }
        XCTAssertEqual(decoder.bufferedByteCount, 10)
        decoder.reset()
        XCTAssertEqual(decoder.bufferedByteCount, 0)
        XCTAssertEqual(decodeAll(good, into: &decoder).count, 1)
        XCTAssertEqual(decoder.statistics.discardedBytes, 0)
    }

    func testAbandonDoesNothingToAFrameThatIsStillToBeCollected() throws {
        let ack = try XsensVectors.named("device-go-to-config-ack").wire
        var decoder = Xsens.FrameDecoder()
        var first: Xsens.DecodeResult?
        for byte in ack + ack { if let result = decoder.push(byte), first == nil { first = result } }
        XCTAssertNotNil(first)
        decoder.abandonPartialFrame()
        XCTAssertEqual(decoder.statistics.malformedFrames, 0, "nothing incomplete was buffered")
        XCTAssertEqual(decoder.statistics.framesDecoded, 2)
        for byte in ack.prefix(3) { _ = decoder.push(byte) }
        decoder.abandonPartialFrame()
        XCTAssertEqual(decoder.statistics.malformedFrames, 1)
        XCTAssertNil(decoder.next())
    }

    // MARK: Encoding

    func testEncodersBuildTheDocumentedAndCapturedFrames() throws {
        XCTAssertEqual(encoded { Xsens.FrameEncoder.requestDeviceID(into: &$0) }, [0xFA, 0xFF, 0x00, 0x00, 0x01], "MTi User Manual §5.3.2")
        XCTAssertEqual(encoded { Xsens.FrameEncoder.goToConfig(into: &$0) }, [0xFA, 0xFF, 0x30, 0x00, 0xD1], "MT Manager → MTi-300")
        XCTAssertEqual(encoded { Xsens.FrameEncoder.goToMeasurement(into: &$0) }, [0xFA, 0xFF, 0x10, 0x00, 0xF1])
        XCTAssertEqual(encoded { Xsens.FrameEncoder.requestFirmwareRevision(into: &$0) }, [0xFA, 0xFF, 0x12, 0x00, 0xEF])
        XCTAssertEqual(encoded { Xsens.FrameEncoder.goToConfigAck(into: &$0) }, [0xFA, 0xFF, 0x31, 0x00, 0xD0], "MTi-300 → MT Manager")
        XCTAssertEqual(encoded { Xsens.FrameEncoder.goToMeasurementAck(into: &$0) }, [0xFA, 0xFF, 0x11, 0x00, 0xF0])
        XCTAssertEqual(
            encoded { Xsens.FrameEncoder.deviceID(0x0370_03F8, into: &$0) }, [0xFA, 0xFF, 0x01, 0x04, 0x03, 0x70, 0x03, 0xF8, 0x8E])
        XCTAssertEqual(
            encoded {
                Xsens.FrameEncoder.firmwareRevision(
                    Xsens.FirmwareRevision(major: 1, minor: 8, revision: 2, build: 37, svnRevision: 70964), into: &$0)
            },
            try XsensVectors.named("capture-mti300-firmware-rev").wire)
        let everySample = Xsens.everySampleFrequency
        let configuration: Xsens.OutputConfiguration = [
            .init(dataID: .packetCounter, frequencyHertz: everySample),
            .init(dataID: .sampleTimeFine, frequencyHertz: everySample),
            .init(dataID: .quaternion, frequencyHertz: 400), .init(dataID: .acceleration, frequencyHertz: 400),
            .init(dataID: .rateOfTurn, frequencyHertz: 400), .init(dataID: .statusWord, frequencyHertz: everySample),
        ]
        XCTAssertEqual(
            encoded { Xsens.FrameEncoder.setOutputConfiguration(configuration, into: &$0) },
            try XsensVectors.named("host-set-output-configuration").wire)
        XCTAssertEqual(configuration.frequencyHertz(of: .rateOfTurn), 400)
        XCTAssertEqual(configuration.frequencyHertz(of: Xsens.DataID(rawValue: 0x8022)), 400, "any precision")
        XCTAssertNil(configuration.frequencyHertz(of: .deltaQForTests))
    }

    func testMTData2EncodingRoundTripsInEveryPrecision() {
        let sample = Xsens.MTData2Sample(
            packetCounter: 4660, sampleTimeFine: 123_456_789,
            quaternion: Xsens.Quaternion(w: 0.5, x: -0.5, y: 0.5, z: 0.5, coordinateSystem: .northEastDown),
            accelerationMetersPerSecondSquared: Xsens.Vector3(x: 0.0625, y: -0.375, z: 9.8125),
            rateOfTurnRadiansPerSecond: Xsens.Vector3(x: 0.125, y: -0.25, z: 1.5), statusWord: 3)
        for precision in Xsens.Precision.allCases {
            var frame = Xsens.EncodedFrame()
            Xsens.FrameEncoder.mtData2(sample, precision: precision, into: &frame)
            var decoder = Xsens.FrameDecoder()
            let message = decodeAll(frame.bytes, into: &decoder).first?.decodedMessage
            XCTAssertEqual(message?.mtData2Sample, sample, precision.name)
            let itemBytes = 5 + 7 + (3 + 4 * precision.valueBytes) + 2 * (3 + 3 * precision.valueBytes) + 7
            XCTAssertEqual(frame.count, Xsens.standardHeaderBytes + itemBytes + 1, precision.name)
        }
        var empty = Xsens.EncodedFrame()
        Xsens.FrameEncoder.mtData2(Xsens.MTData2Sample(), into: &empty)
        XCTAssertEqual(empty.bytes, [0xFA, 0xFF, 0x36, 0x00, 0xCB], "no items, no data")
    }

    func testFixedPointRoundsHalfAwayFromZeroAndSaturates() {
        // The same cases as the reference implementation's write_value (protocols/xsens/tools/xsens.py).
        XCTAssertEqual(accelerationX(0.5, .fp1220), [0x00, 0x08, 0x00, 0x00])
        XCTAssertEqual(accelerationX(1.0 / 2_097_152, .fp1220), [0x00, 0x00, 0x00, 0x01], "2^-21 is half a step: away from zero")
        XCTAssertEqual(accelerationX(-1.0 / 2_097_152, .fp1220), [0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(accelerationX(2048, .fp1220), [0x7F, 0xFF, 0xFF, 0xFF], "saturates")
        XCTAssertEqual(accelerationX(-3000, .fp1220), [0x80, 0x00, 0x00, 0x00])
        XCTAssertEqual(accelerationX(1e300, .fp1220), [0x7F, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(accelerationX(.nan, .fp1220), [0x00, 0x00, 0x00, 0x00], "non-finite becomes 0")
        XCTAssertEqual(accelerationX(24.375, .fp1632), [0x60, 0x00, 0x00, 0x00, 0x00, 0x18], "fraction first, then integer part")
        XCTAssertEqual(accelerationX(-0.5, .fp1632), [0x80, 0x00, 0x00, 0x00, 0xFF, 0xFF])
        XCTAssertEqual(accelerationX(1e300, .fp1632), [0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF])
        XCTAssertEqual(accelerationX(-3000, .fp1632), [0x00, 0x00, 0x00, 0x00, 0xF4, 0x48])
        XCTAssertEqual(accelerationX(1e300, .float32), [0x7F, 0x7F, 0xFF, 0xFF], "the largest float32")
        XCTAssertEqual(accelerationX(.infinity, .float64), [0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(accelerationX(9.81, .float32), [0x41, 0x1C, 0xF5, 0xC3], "MTi User Manual §5.7.1: 9.81 = 0x411CF5C3")
    }

    func testStandardAndExtendedLengthsMeetAt255() throws {
        for (length, header) in [(0, 4), (254, 4), (255, 6), (Xsens.maxPayloadBytes, 6)] {
            let payload = [UInt8](repeating: 0x5A, count: length)
            var frame = Xsens.EncodedFrame()
            try payload.withUnsafeBytes { try Xsens.FrameEncoder.frame(.mtData2, payload: $0, into: &frame) }
            XCTAssertEqual(frame.count, header + length + 1, "length \(length)")
            XCTAssertEqual(frame.bytes[3], header == 4 ? UInt8(length) : 0xFF, "length \(length)")
            var decoder = Xsens.FrameDecoder()
            XCTAssertEqual(decodeAll(frame.bytes, into: &decoder).first?.decodedMessage?.payload.count, length)
        }
        XCTAssertEqual(Xsens.maxFrameBytes, 2055)
        let tooLong = [UInt8](repeating: 0, count: Xsens.maxPayloadBytes + 1)
        var frame = Xsens.EncodedFrame()
        Xsens.FrameEncoder.goToConfig(into: &frame)
        XCTAssertThrowsError(try tooLong.withUnsafeBytes { try Xsens.FrameEncoder.frame(.mtData2, payload: $0, into: &frame) }) {
            XCTAssertEqual($0 as? Xsens.EncodingError, .payloadTooLong(2049))
        }
        XCTAssertEqual(frame.count, 0, "a failed encoding leaves the frame empty")
    }

    // MARK: Constants

    func testMessageIDsErrorCodesAndDataIdentifiersHaveTheDocumentedValues() {
        let ids: [(Xsens.MessageID, UInt8)] = [
            (.requestDeviceID, 0x00), (.deviceID, 0x01), (.goToMeasurement, 0x10), (.goToMeasurementAck, 0x11),
            (.requestFirmwareRevision, 0x12), (.firmwareRevision, 0x13), (.requestProductCode, 0x1C), (.productCode, 0x1D),
            (.goToConfig, 0x30), (.goToConfigAck, 0x31), (.mtData2, 0x36), (.wakeUp, 0x3E), (.wakeUpAck, 0x3F),
            (.error, 0x42), (.setOutputConfiguration, 0xC0), (.outputConfiguration, 0xC1),
            // README §3.8: what the MT SDK asks while opening a port, and the answers.
            (.initMT, 0x02), (.initMTResults, 0x03), (.requestConfiguration, 0x0C), (.configuration, 0x0D),
            (.requestHardwareVersion, 0x1E), (.hardwareVersion, 0x1F), (.requestAvailableFilterProfiles, 0x62),
            (.availableFilterProfiles, 0x63), (.setStringOutputType, 0x8E), (.stringOutputType, 0x8F), (.requestEMTS, 0x90),
            (.emtsData, 0x91),
        ]
        XCTAssertEqual(Xsens.MessageID.known.count, ids.count)
        for (id, raw) in ids {
            XCTAssertEqual(id.rawValue, raw)
            XCTAssertTrue(id.isKnown)
            XCTAssertEqual(id.name.flatMap(Xsens.MessageID.init(name:)), id)
        }
        XCTAssertFalse(Xsens.MessageID(rawValue: 0x43).isKnown, "Warning is outside the subset")
        XCTAssertEqual(Xsens.MessageID.known.filter(\.carriesNoData).count, 12)
        XCTAssertEqual(Xsens.MessageID.known.map(\.rawValue), Xsens.MessageID.known.map(\.rawValue).sorted(), "in MID order")
        let codes: [(Xsens.ErrorCode, UInt8)] = [
            (.invalidPeriod, 0x03), (.invalidMessage, 0x04), (.timerOverflow, 0x1E), (.invalidBaudRate, 0x20),
            (.invalidParameter, 0x21), (.deviceError, 0x28),
        ]
        for (code, raw) in codes {
            XCTAssertEqual(code.rawValue, raw)
            XCTAssertNotNil(code.name)
        }
        XCTAssertNil(Xsens.ErrorCode(rawValue: 0x99).name)
        XCTAssertEqual(Xsens.DataID.packetCounter.rawValue, 0x1020)
        XCTAssertEqual(Xsens.DataID.sampleTimeFine.rawValue, 0x1060)
        XCTAssertEqual(Xsens.DataID.quaternion.rawValue, 0x2010)
        XCTAssertEqual(Xsens.DataID.acceleration.rawValue, 0x4020)
        XCTAssertEqual(Xsens.DataID.rateOfTurn.rawValue, 0x8020)
        XCTAssertEqual(Xsens.DataID.statusWord.rawValue, 0xE020)
        let nedFixed = Xsens.DataID.quaternion.with(precision: .fp1632, coordinateSystem: .northEastDown)
        XCTAssertEqual(nedFixed.rawValue, 0x2016)
        XCTAssertEqual(nedFixed.type, .quaternion)
        XCTAssertEqual(nedFixed.precision, .fp1632)
        XCTAssertEqual(nedFixed.coordinateSystem, .northEastDown)
        XCTAssertNil(Xsens.DataID(rawValue: 0x201C).coordinateSystem, "0xC names no coordinate system")
        XCTAssertEqual(Xsens.Precision.allCases.map(\.valueBytes), [4, 4, 6, 8])
        XCTAssertEqual(Xsens.MTData2Sample(sampleTimeFine: 10_000).sampleTimeFineSeconds, 1.0, "10 kHz ticks")
    }

    // MARK: Helpers

    /// The wire bytes of the named encoder for `message`, built from what the reference decoded; nil when
    /// no named encoder reproduces it (an 8-byte device ID, a padded product code, an Error with extra bytes,
    /// an MTData2 the sample encoder does not rebuild).
    private func namedEncoding(_ message: Xsens.Message, _ details: XsensVector.Details) -> [UInt8]? {
        typealias Encoder = Xsens.FrameEncoder
        var frame = Xsens.EncodedFrame()
        switch message.messageID {
        case .wakeUp: Encoder.wakeUp(into: &frame)
        case .wakeUpAck: Encoder.wakeUpAck(into: &frame)
        case .goToConfig: Encoder.goToConfig(into: &frame)
        case .goToConfigAck: Encoder.goToConfigAck(into: &frame)
        case .goToMeasurement: Encoder.goToMeasurement(into: &frame)
        case .goToMeasurementAck: Encoder.goToMeasurementAck(into: &frame)
        case .requestDeviceID: Encoder.requestDeviceID(into: &frame)
        case .requestProductCode: Encoder.requestProductCode(into: &frame)
        case .requestFirmwareRevision: Encoder.requestFirmwareRevision(into: &frame)
        case .deviceID:
            guard message.payload.count == 4, let id = details.deviceID else { return nil }
            Encoder.deviceID(UInt32(id), into: &frame)
        case .productCode:
            guard let code = details.productCode, code.utf8.count == message.payload.count else { return nil }
            Encoder.productCode(FixedASCII<20>(code), into: &frame)
        case .firmwareRevision:
            guard let revision = details.firmwareRevision else { return nil }
            Encoder.firmwareRevision(revision, into: &frame)
        case .setOutputConfiguration:
            guard let configuration = details.outputConfiguration else { return nil }
            if configuration.isEmpty {
                Encoder.requestOutputConfiguration(into: &frame)
            } else {
                Encoder.setOutputConfiguration(configuration, into: &frame)
            }
        case .outputConfiguration:
            guard let configuration = details.outputConfiguration else { return nil }
            Encoder.outputConfigurationAck(configuration, into: &frame)
        case .error:
            guard message.payload.count == 1, let code = details.errorCode else { return nil }
            Encoder.error(code, into: &frame)
        case .mtData2:
            guard let precision = details.encodingPrecision, let sample = details.sample else { return nil }
            Encoder.mtData2(sample, precision: precision, into: &frame)
        case .initMT: Encoder.initMT(into: &frame)
        case .requestHardwareVersion: Encoder.requestHardwareVersion(into: &frame)
        case .requestAvailableFilterProfiles: Encoder.requestAvailableFilterProfiles(into: &frame)
        case .requestConfiguration:
            guard message.payload.isEmpty else { return nil }
            Encoder.requestConfiguration(into: &frame)
        case .initMTResults:
            guard message.payload.count == 4, let id = message.payload.bigEndian(UInt32.self, at: 0) else { return nil }
            Encoder.initMTResults(id, into: &frame)
        case .hardwareVersion:
            Encoder.hardwareVersion(major: message.payload[0], minor: message.payload[1], into: &frame)
        case .setStringOutputType:
            guard let type = message.payload.bigEndian(UInt16.self, at: 0) else { return nil }
            Encoder.setStringOutputType(type, into: &frame)
        case .stringOutputType:
            if let type = message.payload.bigEndian(UInt16.self, at: 0) {
                Encoder.stringOutputType(type, into: &frame)
            } else {
                Encoder.setStringOutputTypeAck(into: &frame)
            }
        case .requestEMTS:
            Encoder.requestEMTS(bank: message.payload[0], page: message.payload[1], into: &frame)
        default:
            return nil
        }
        return frame.bytes
    }
}

extension Xsens.DataID {
    /// XDI_DeltaQ: an item RehabHost does not configure.
    fileprivate static let deltaQForTests = Xsens.DataID(rawValue: 0x8030)
}

/// Pushes `bytes`, then ends the exchange (`flush`), returning every result in order.
private func decodeAll(_ bytes: [UInt8], into decoder: inout Xsens.FrameDecoder) -> [Xsens.DecodeResult] {
    var results: [Xsens.DecodeResult] = []
    bytes.withUnsafeBytes { raw in decoder.push(raw) { results.append($0) } }
    decoder.flush { results.append($0) }
    return results
}

private func encoded(_ body: (inout Xsens.EncodedFrame) -> Void) -> [UInt8] {
    var frame = Xsens.EncodedFrame()
    body(&frame)
    return frame.bytes
}

/// The bytes of a frame carrying `message`, preamble to checksum.
private func frameSize(_ message: Xsens.Message) -> Int {
    let header = message.payload.count <= Xsens.maxStandardPayloadBytes ? Xsens.standardHeaderBytes : Xsens.extendedHeaderBytes
    return header + message.payload.count + 1
}

/// The wire bytes of an acceleration x component of `value` in `precision`, through the MTData2 encoder.
private func accelerationX(_ value: Double, _ precision: Xsens.Precision) -> [UInt8] {
    var frame = Xsens.EncodedFrame()
    let sample = Xsens.MTData2Sample(accelerationMetersPerSecondSquared: Xsens.Vector3(x: value, y: 0, z: 0))
    Xsens.FrameEncoder.mtData2(sample, precision: precision, into: &frame)
    // FA FF 36 LEN, then the item header (3 bytes): x is first.
    return Array(frame.bytes[7..<(7 + precision.valueBytes)])
}
