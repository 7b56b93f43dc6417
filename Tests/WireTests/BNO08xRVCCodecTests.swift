import TestSupport
import Wire
import XCTest

/// The BNO08x UART-RVC codec against CEVA's BNO08X data sheet (1000-3927, "UART-RVC protocol", whose
/// worked example is `datasheet-example`) and against protocols/bno08x-rvc/vectors/, which the reference
/// implementation (protocols/bno08x-rvc/tools/rvc.py) generates from protocols/bno08x-rvc/README.md. If
/// the Swift code misreads the spec, it disagrees with those files. Then every split point, the SI
/// rules of the encoder, and seeded random garbage.
final class BNO08xRVCCodecTests: XCTestCase {
    /// The data sheet's example message (§1.2.5.2): AA AA DE 01 00 92 FF 25 08 8D FE EC FF D1 03 00 00 00 E7.
    private static let datasheetExample: [UInt8] = [
        0xAA, 0xAA, 0xDE, 0x01, 0x00, 0x92, 0xFF, 0x25, 0x08, 0x8D, 0xFE, 0xEC, 0xFF, 0xD1, 0x03, 0x00, 0x00, 0x00, 0xE7,
    ]

    // MARK: The data sheet's example

    func testTheDatasheetExampleDecodesToItsPrintedValues() {
        var decoder = BNO08xRVC.FrameDecoder()
        var frames: [BNO08xRVC.Frame] = []
        for (offset, byte) in Self.datasheetExample.enumerated() {
            let frame = decoder.push(byte)
            XCTAssertEqual(frame == nil, offset < 18, "only the checksum byte completes the frame (offset \(offset))")
            if let frame { frames.append(frame) }
        }
        XCTAssertEqual(frames.count, 1)
        guard let frame = frames.first else { return }
        XCTAssertEqual(frame.index, 222, "Index = 0xDE = 222")
        XCTAssertEqual(frame.yawCentidegrees, 1, "Yaw = 0.01°")
        XCTAssertEqual(frame.pitchCentidegrees, -110, "Pitch = -1.10°")
        XCTAssertEqual(frame.rollCentidegrees, 2085, "Roll = 20.85°")
        XCTAssertEqual(frame.accelerationXMilliG, -371)
        XCTAssertEqual(frame.accelerationYMilliG, -20)
        XCTAssertEqual(frame.accelerationZMilliG, 977)
        XCTAssertEqual(frame.motionIntent, 0)
        XCTAssertEqual(frame.motionRequest, 0)
        XCTAssertEqual(frame.reserved, 0)
        XCTAssertTrue(frame.isWithinDocumentedRanges)
        // The data sheet prints the accelerations in m/s² to three decimals: -3.638, -0.196, 9.581.
        XCTAssertEqual(frame.accelerationXMetersPerSecondSquared, -3.638, accuracy: 0.0005)
        XCTAssertEqual(frame.accelerationYMetersPerSecondSquared, -0.196, accuracy: 0.0005)
        XCTAssertEqual(frame.accelerationZMetersPerSecondSquared, 9.581, accuracy: 0.0005)
        XCTAssertEqual(frame.yawRadians, 0.01 * Double.pi / 180, accuracy: 1e-15)
        XCTAssertEqual(frame.pitchRadians, -1.10 * Double.pi / 180, accuracy: 1e-15)
        XCTAssertEqual(frame.rollRadians, 20.85 * Double.pi / 180, accuracy: 1e-15)
        XCTAssertEqual(decoder.statistics.framesDecoded, 1)
        XCTAssertEqual(decoder.statistics.bytesReceived, 19)
        XCTAssertEqual(decoder.statistics.checksumErrors, 0)
        XCTAssertEqual(decoder.statistics.discardedBytes, 0)
        XCTAssertEqual(decoder.bufferedByteCount, 0)
    }

    func testTheChecksumIsTheSumOfOffsetsTwoToSeventeen() {
        XCTAssertEqual(Self.datasheetExample.withUnsafeBytes { BNO08xRVC.checksum(ofFrame: $0) }, 0xE7, "Checksum = 0xE7")
        XCTAssertEqual(Self.datasheetExample[2...17].reduce(0) { $0 + Int($1) }, 0x6E7, "the plain sum, before modulo 256")
        XCTAssertEqual(BNO08xRVC.checksummedOffsets, 2...17)
        XCTAssertEqual(BNO08xRVC.checksumOffset, 18)
        // The header does not count: changing it changes nothing; the checksum byte itself does not count either.
        var changed = Self.datasheetExample
        changed[0] = 0x00
        changed[18] = 0x00
        XCTAssertEqual(changed.withUnsafeBytes { BNO08xRVC.checksum(ofFrame: $0) }, 0xE7)
        // Every covered byte counts.
        for offset in 2...17 {
            var bumped = Self.datasheetExample
            bumped[offset] &+= 1
            XCTAssertEqual(bumped.withUnsafeBytes { BNO08xRVC.checksum(ofFrame: $0) }, 0xE8, "offset \(offset)")
        }
    }

    func testTheEncoderReproducesTheDatasheetExample() {
        let frame = BNO08xRVC.Frame(
            index: 222, yawCentidegrees: 1, pitchCentidegrees: -110, rollCentidegrees: 2085,
            accelerationXMilliG: -371, accelerationYMilliG: -20, accelerationZMilliG: 977)
        let encoded = BNO08xRVC.FrameEncoder.frame(frame)
        XCTAssertEqual(encoded.count, 19)
        XCTAssertEqual(encoded.bytes, Self.datasheetExample)
        XCTAssertEqual(encoded[18], 0xE7)
        XCTAssertEqual(encoded.withUnsafeBytes { $0.count }, 19)
        // Encoding into a reused frame overwrites every byte.
        var reused = BNO08xRVC.FrameEncoder.frame(
            BNO08xRVC.Frame(
                index: 255, yawCentidegrees: -1, pitchCentidegrees: -1, rollCentidegrees: -1, accelerationXMilliG: -1,
                accelerationYMilliG: -1, accelerationZMilliG: -1, motionIntent: 255, motionRequest: 255, reserved: 255))
        BNO08xRVC.FrameEncoder.encode(frame, into: &reused)
        XCTAssertEqual(reused.bytes, Self.datasheetExample)
    }

    // MARK: The vectors

    func testEveryVectorDecodesAsTheReferenceImplementationSays() throws {
        let vectors = try BNO08xRVCVectors.all()
        XCTAssertGreaterThanOrEqual(vectors.count, 20)
        XCTAssertTrue(vectors.contains { $0.name == "datasheet-example" }, "the data sheet's worked example")
        for vector in vectors {
            var decoder = BNO08xRVC.FrameDecoder()
            var decoded: [(endsAt: Int, frame: BNO08xRVC.Frame)] = []
            for (offset, byte) in vector.wire.enumerated() {
                if let frame = decoder.push(byte) { decoded.append((offset, frame)) }
            }
            XCTAssertEqual(decoded.count, vector.expected.count, vector.name)
            for (got, want) in zip(decoded, vector.expected) {
                XCTAssertEqual(got.frame, want.frame, vector.name)
                XCTAssertEqual(got.endsAt, want.endsAt, "\(vector.name): the byte that completes \(want.frame)")
                XCTAssertEqual(BNO08xRVC.FrameEncoder.frame(got.frame)[18], want.checksum, vector.name)
                XCTAssertEqual(got.frame.isWithinDocumentedRanges, want.withinDocumentedRanges, vector.name)
                assertClose(got.frame.yawRadians, want.yawRadians, "\(vector.name) yaw")
                assertClose(got.frame.pitchRadians, want.pitchRadians, "\(vector.name) pitch")
                assertClose(got.frame.rollRadians, want.rollRadians, "\(vector.name) roll")
                assertClose(got.frame.accelerationXMetersPerSecondSquared, want.accelerationXMetersPerSecondSquared, "\(vector.name) x")
                assertClose(got.frame.accelerationYMetersPerSecondSquared, want.accelerationYMetersPerSecondSquared, "\(vector.name) y")
                assertClose(got.frame.accelerationZMetersPerSecondSquared, want.accelerationZMetersPerSecondSquared, "\(vector.name) z")
            }
            XCTAssertEqual(decoder.statistics, vector.statistics, vector.name)
            XCTAssertEqual(decoder.bufferedByteCount, vector.bufferedBytes, vector.name)
            assertEveryByteIsAccountedFor(decoder, vector.name)
        }
    }

    func testEveryCanonicalVectorEncodesToTheSameBytes() throws {
        var checked = 0
        for vector in try BNO08xRVCVectors.all() where vector.canonical {
            guard vector.expected.count == 1, let expected = vector.expected.first else {
                XCTFail("\(vector.name): a canonical vector holds exactly one frame")
                continue
            }
            XCTAssertEqual(BNO08xRVC.FrameEncoder.frame(expected.frame).bytes, vector.wire, vector.name)
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 9, "the data sheet's example and every single-frame case")
    }

    func testEveryVectorDecodesTheSameAtEverySplitPoint() throws {
        for vector in try BNO08xRVCVectors.all() {
            let whole = decodeInChunks(vector.wire, splits: [])
            XCTAssertEqual(whole.frames, vector.expected.map(\.frame), vector.name)
            for split in 0...vector.wire.count {
                let result = decodeInChunks(vector.wire, splits: [split])
                XCTAssertEqual(result.frames, whole.frames, "\(vector.name) split at \(split)")
                XCTAssertEqual(result.statistics, vector.statistics, "\(vector.name) split at \(split)")
                XCTAssertEqual(result.buffered, vector.bufferedBytes, "\(vector.name) split at \(split)")
            }
        }
    }

    func testEveryVectorDecodesTheSameInRandomChunks() throws {
        var generator = SplitMix64(seed: 0xB085)
        let vectors = try BNO08xRVCVectors.all()
        for vector in vectors {
            for _ in 0..<20 {
                var splits: [Int] = []
                var offset = 0
                while offset < vector.wire.count {
                    offset += Int(generator.next() % 23) + 1
                    splits.append(min(offset, vector.wire.count))
                }
                let result = decodeInChunks(vector.wire, splits: splits)
                XCTAssertEqual(result.frames, vector.expected.map(\.frame), "\(vector.name) chunks \(splits)")
                XCTAssertEqual(result.statistics, vector.statistics, "\(vector.name) chunks \(splits)")
            }
        }
    }

    // MARK: Resynchronisation

    func testAJunkAAGluedToTheHeaderCostsOneChecksumErrorAndTheFrameStillDecodes() {
        var decoder = BNO08xRVC.FrameDecoder()
        let stream: [UInt8] = [0xAA] + Self.datasheetExample
        let frames = stream.compactMap { decoder.push($0) }
        XCTAssertEqual(frames.map(\.index), [222])
        XCTAssertEqual(decoder.statistics.checksumErrors, 1, "AA AA AA …: the first window fails")
        XCTAssertEqual(decoder.statistics.discardedBytes, 1)
    }

    func testABadChecksumCostsOneErrorAndTheNextFrameDecodesOnTime() {
        var damaged = Self.datasheetExample
        damaged[18] = 0xE8
        let next = BNO08xRVC.FrameEncoder.frame(
            BNO08xRVC.Frame(
                index: 223, yawCentidegrees: 2, pitchCentidegrees: -111, rollCentidegrees: 2086, accelerationXMilliG: -370,
                accelerationYMilliG: -20, accelerationZMilliG: 977)
        ).bytes
        var decoder = BNO08xRVC.FrameDecoder()
        var completedAt: [Int] = []
        for (offset, byte) in (damaged + next).enumerated() {
            if decoder.push(byte) != nil { completedAt.append(offset) }
        }
        XCTAssertEqual(completedAt, [37], "the good frame completes with its own checksum byte")
        XCTAssertEqual(decoder.statistics.checksumErrors, 1)
        XCTAssertEqual(decoder.statistics.discardedBytes, 19)
    }

    func testAbandoningAPartialFrameCountsItsBytesAndStartsAfresh() {
        var decoder = BNO08xRVC.FrameDecoder()
        for byte in Self.datasheetExample[0..<10] { XCTAssertNil(decoder.push(byte)) }
        XCTAssertEqual(decoder.bufferedByteCount, 10)
        decoder.abandonPartialFrame()
        XCTAssertEqual(decoder.bufferedByteCount, 0)
        XCTAssertEqual(decoder.statistics.discardedBytes, 10)
        let frames = Self.datasheetExample.compactMap { decoder.push($0) }
        XCTAssertEqual(frames.count, 1)
        XCTAssertEqual(decoder.statistics.checksumErrors, 0)
        assertEveryByteIsAccountedFor(decoder, "after abandon")
        decoder.abandonPartialFrame()
        XCTAssertEqual(decoder.statistics.discardedBytes, 10, "nothing buffered, nothing more discarded")
    }

    func testGarbageWithoutAAIsDiscardedAndEveryFrameAfterItDecodes() {
        var generator = SplitMix64(seed: 0x7A5C)
        for iteration in 0..<500 {
            let garbage = (0..<Int(generator.next() % 60)).map { _ -> UInt8 in
                let byte = UInt8(truncatingIfNeeded: generator.next())
                return byte == 0xAA ? 0xAB : byte
            }
            let frame = randomFrame(&generator)
            var decoder = BNO08xRVC.FrameDecoder()
            let frames = (garbage + BNO08xRVC.FrameEncoder.frame(frame).bytes).compactMap { decoder.push($0) }
            XCTAssertEqual(frames, [frame], "iteration \(iteration)")
            XCTAssertEqual(decoder.statistics.discardedBytes, UInt64(garbage.count), "iteration \(iteration)")
            XCTAssertEqual(decoder.statistics.checksumErrors, 0, "iteration \(iteration)")
        }
    }

    /// With 0xAA in the garbage, a false header can pass its checksum by chance (1 in 256) and hide the
    /// first frame after it (README §7, the limit of an 8-bit sum). It cannot reach past that frame: a
    /// false window is 19 bytes long. So a second frame with no 0xAA outside its header always decodes,
    /// and it is the last thing decoded.
    func testGarbageWithAACanNeverHideTheSecondFrame() {
        var generator = SplitMix64(seed: 0xAA55)
        var firstFrameHidden = 0
        for iteration in 0..<2_000 {
            let garbage = (0..<Int(generator.next() % 80)).map { _ in aaBiasedByte(&generator) }
            let first = frameWithoutAA(&generator)
            let second = frameWithoutAA(&generator)
            let stream = garbage + BNO08xRVC.FrameEncoder.frame(first).bytes + BNO08xRVC.FrameEncoder.frame(second).bytes
            var decoder = BNO08xRVC.FrameDecoder()
            var decoded: [(endsAt: Int, frame: BNO08xRVC.Frame)] = []
            for (offset, byte) in stream.enumerated() {
                if let frame = decoder.push(byte) { decoded.append((offset, frame)) }
            }
            XCTAssertEqual(decoded.last?.frame, second, "iteration \(iteration)")
            XCTAssertEqual(decoded.last?.endsAt, stream.count - 1, "iteration \(iteration)")
            if !decoded.contains(where: { $0.frame == first }) { firstFrameHidden += 1 }
            assertRoundTrips(decoded, stream, "iteration \(iteration)")
            assertEveryByteIsAccountedFor(decoder, "iteration \(iteration)")
        }
        XCTAssertLessThan(firstFrameHidden, 200, "a false frame is a 1-in-256 event per false header it tries")
    }

    func testRandomBytesNeverTrapAndEveryFrameFoundIsExactlyItsBytes() {
        var generator = SplitMix64(seed: 0x5EED_B085)
        var framesFound = 0
        for iteration in 0..<3_000 {
            let stream = (0..<Int(generator.next() % 400)).map { _ in aaBiasedByte(&generator) }
            var decoder = BNO08xRVC.FrameDecoder()
            var decoded: [(endsAt: Int, frame: BNO08xRVC.Frame)] = []
            for (offset, byte) in stream.enumerated() {
                if let frame = decoder.push(byte) { decoded.append((offset, frame)) }
                XCTAssertLessThan(decoder.bufferedByteCount, 19)
            }
            framesFound += decoded.count
            assertRoundTrips(decoded, stream, "iteration \(iteration)")
            assertEveryByteIsAccountedFor(decoder, "iteration \(iteration)")
            XCTAssertEqual(decoder.statistics.bytesReceived, UInt64(stream.count))
        }
        XCTAssertGreaterThan(framesFound, 0, "the bias towards 0xAA makes some false frames; each must round-trip")
    }

    func testRandomFramesRoundTripBackToBack() {
        var generator = SplitMix64(seed: 0xF0_0D)
        var frames: [BNO08xRVC.Frame] = []
        var stream: [UInt8] = []
        var encoded = BNO08xRVC.EncodedFrame()
        for _ in 0..<2_000 {
            let frame = randomFrame(&generator)
            frames.append(frame)
            BNO08xRVC.FrameEncoder.encode(frame, into: &encoded)
            stream += encoded.bytes
        }
        // Back to back, a receiver that starts at a header stays in step, whatever the data holds.
        let result = decodeInChunks(stream, splits: [])
        XCTAssertEqual(result.frames, frames)
        XCTAssertEqual(result.statistics.checksumErrors, 0)
        XCTAssertEqual(result.statistics.discardedBytes, 0)
    }

    // MARK: Wire ↔ SI

    func testScalingMatchesTheReferenceImplementation() throws {
        let cases = try BNO08xRVCVectors.scalingCases()
        XCTAssertGreaterThan(cases.count, 20)
        for item in cases {
            let counts: Int16
            switch item.quantity {
            case .yawRoll: counts = BNO08xRVC.Scaling.wrappedCentidegrees(radians: item.si)
            case .pitch: counts = BNO08xRVC.Scaling.pitchCentidegrees(radians: item.si)
            case .acceleration: counts = BNO08xRVC.Scaling.milliG(metersPerSecondSquared: item.si)
            }
            XCTAssertEqual(counts, item.counts, "\(item.quantity) \(item.si): \(item.note)")
        }
    }

    func testNonFiniteAndHugeValuesNeverTrap() {
        typealias Scaling = BNO08xRVC.Scaling
        let nonFinite: [Double] = [.nan, .infinity, -.infinity, .signalingNaN]
        for value in nonFinite {
            XCTAssertEqual(Scaling.wrappedCentidegrees(radians: value), 0)
            XCTAssertEqual(Scaling.pitchCentidegrees(radians: value), 0)
            XCTAssertEqual(Scaling.milliG(metersPerSecondSquared: value), 0)
        }
        XCTAssertEqual(Scaling.milliG(metersPerSecondSquared: 1e300), Int16.max)
        XCTAssertEqual(Scaling.milliG(metersPerSecondSquared: -1e300), Int16.min)
        XCTAssertEqual(Scaling.pitchCentidegrees(radians: 1e300), 9_000)
        XCTAssertEqual(Scaling.pitchCentidegrees(radians: 1e307), 0, "1e307 rad is an infinite number of centidegrees: 0")
        XCTAssertEqual(Scaling.wrappedCentidegrees(radians: -1e307), 0, "likewise")
        XCTAssertEqual(Scaling.pitchCentidegrees(radians: 1e10), 9_000)
        XCTAssertEqual(Scaling.pitchCentidegrees(radians: -1e10), -9_000)
        let wrapped = Scaling.wrappedCentidegrees(radians: 1e10)
        XCTAssertLessThanOrEqual(abs(Int(wrapped)), 18_000)
        XCTAssertEqual(Scaling.wrappedCentidegrees(radians: .pi), 18_000)
        XCTAssertEqual(Scaling.wrappedCentidegrees(radians: -.pi), -18_000)
        XCTAssertEqual(Scaling.wrappedCentidegrees(radians: 2 * .pi), 0)
        XCTAssertEqual(Scaling.milliG(metersPerSecondSquared: BNO08xRVC.standardGravityMetersPerSecondSquared), 1_000)
        XCTAssertEqual(Scaling.radians(centidegrees: 18_000), Double.pi, accuracy: 1e-14)
        XCTAssertEqual(Scaling.metersPerSecondSquared(milliG: 1_000), 9.80665, accuracy: 1e-12)
        XCTAssertEqual(Scaling.metersPerSecondSquared(milliG: Int16.min), -32.768 * 9.80665, accuracy: 1e-9)
    }

    func testTheSIInitialiserIsWithinHalfACountOfItsInput() {
        var generator = SplitMix64(seed: 0x51)
        let halfCentidegree = 0.005 * Double.pi / 180
        let halfMilliG = 0.0005 * BNO08xRVC.standardGravityMetersPerSecondSquared
        for iteration in 0..<5_000 {
            let yaw = uniform(&generator, -Double.pi, Double.pi)
            let pitch = uniform(&generator, -Double.pi / 2, Double.pi / 2)
            let roll = uniform(&generator, -Double.pi, Double.pi)
            let acceleration = (0..<3).map { _ in uniform(&generator, -8 * 9.80665, 8 * 9.80665) }
            let frame = BNO08xRVC.Frame(
                index: UInt8(truncatingIfNeeded: iteration), yawRadians: yaw, pitchRadians: pitch, rollRadians: roll,
                accelerationXMetersPerSecondSquared: acceleration[0], accelerationYMetersPerSecondSquared: acceleration[1],
                accelerationZMetersPerSecondSquared: acceleration[2], motionIntent: 3, motionRequest: 1)
            XCTAssertTrue(frame.isWithinDocumentedRanges, "iteration \(iteration)")
            XCTAssertEqual(frame.yawRadians, yaw, accuracy: halfCentidegree + 1e-12, "iteration \(iteration)")
            XCTAssertEqual(frame.pitchRadians, pitch, accuracy: halfCentidegree + 1e-12, "iteration \(iteration)")
            XCTAssertEqual(frame.rollRadians, roll, accuracy: halfCentidegree + 1e-12, "iteration \(iteration)")
            XCTAssertEqual(frame.accelerationXMetersPerSecondSquared, acceleration[0], accuracy: halfMilliG + 1e-12)
            XCTAssertEqual(frame.accelerationYMetersPerSecondSquared, acceleration[1], accuracy: halfMilliG + 1e-12)
            XCTAssertEqual(frame.accelerationZMetersPerSecondSquared, acceleration[2], accuracy: halfMilliG + 1e-12)
            XCTAssertEqual(frame.motionIntent, 3)
            XCTAssertEqual(frame.motionRequest, 1)
            XCTAssertEqual(frame.reserved, 0)
        }
        // Past ±180° yaw and roll wrap; past ±90° pitch clamps.
        let wrapped = BNO08xRVC.Frame(
            index: 0, yawRadians: 190 * Double.pi / 180, pitchRadians: 100 * Double.pi / 180, rollRadians: -200 * Double.pi / 180,
            accelerationXMetersPerSecondSquared: 0, accelerationYMetersPerSecondSquared: 0, accelerationZMetersPerSecondSquared: 0)
        XCTAssertEqual(wrapped.yawCentidegrees, -17_000)
        XCTAssertEqual(wrapped.pitchCentidegrees, 9_000)
        XCTAssertEqual(wrapped.rollCentidegrees, 16_000)
    }

    func testDocumentedRanges() {
        func frame(yaw: Int16, pitch: Int16, roll: Int16) -> BNO08xRVC.Frame {
            BNO08xRVC.Frame(
                index: 0, yawCentidegrees: yaw, pitchCentidegrees: pitch, rollCentidegrees: roll, accelerationXMilliG: 0,
                accelerationYMilliG: 0, accelerationZMilliG: 0)
        }
        XCTAssertTrue(frame(yaw: 18_000, pitch: -9_000, roll: -18_000).isWithinDocumentedRanges)
        XCTAssertFalse(frame(yaw: 18_001, pitch: 0, roll: 0).isWithinDocumentedRanges)
        XCTAssertFalse(frame(yaw: 0, pitch: -9_001, roll: 0).isWithinDocumentedRanges)
        XCTAssertFalse(frame(yaw: 0, pitch: 0, roll: Int16.min).isWithinDocumentedRanges)
    }

    // MARK: The index

    func testFramesAdvancedCountsModulo256() {
        XCTAssertEqual(BNO08xRVC.framesAdvanced(from: 10, to: 11), 1)
        XCTAssertEqual(BNO08xRVC.framesAdvanced(from: 255, to: 0), 1, "255 wraps to 0")
        XCTAssertEqual(BNO08xRVC.framesAdvanced(from: 90, to: 90), 0, "a repeated index")
        XCTAssertEqual(BNO08xRVC.framesAdvanced(from: 11, to: 14), 3, "two reports lost")
        XCTAssertEqual(BNO08xRVC.framesAdvanced(from: 14, to: 11), 253, "backwards reads as almost a full turn")
    }

    func testTheNominalTiming() {
        XCTAssertEqual(BNO08xRVC.framePeriodNanoseconds * Int64(BNO08xRVC.framesPerSecond), 1_000_000_000)
        // 19 bytes × (start + 8 data + stop) bits at 115 200 bit/s.
        let transmission = Double(BNO08xRVC.frameBytes * 10) / Double(BNO08xRVC.baudRate) * 1e9
        XCTAssertEqual(Double(BNO08xRVC.frameTransmissionNanoseconds), transmission, accuracy: 1)
    }

    // MARK: Helpers

    private func decodeInChunks(_ stream: [UInt8], splits: [Int]) -> (
        frames: [BNO08xRVC.Frame], statistics: BNO08xRVC.DecoderStatistics, buffered: Int
    ) {
        var decoder = BNO08xRVC.FrameDecoder()
        var frames: [BNO08xRVC.Frame] = []
        var start = 0
        for end in splits + [stream.count] where end >= start {
            stream[start..<end].withUnsafeBytes { raw in decoder.push(raw) { frames.append($0) } }
            start = end
        }
        return (frames, decoder.statistics, decoder.bufferedByteCount)
    }

    /// Every frame decoded is exactly the 19 bytes that ended where it was completed.
    private func assertRoundTrips(
        _ decoded: [(endsAt: Int, frame: BNO08xRVC.Frame)], _ stream: [UInt8], _ message: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        for (endsAt, frame) in decoded {
            guard endsAt >= 18 else {
                XCTFail("\(message): a frame completed at offset \(endsAt)", file: file, line: line)
                continue
            }
            XCTAssertEqual(
                BNO08xRVC.FrameEncoder.frame(frame).bytes, Array(stream[(endsAt - 18)...endsAt]), message, file: file, line: line)
        }
    }

    private func assertEveryByteIsAccountedFor(
        _ decoder: BNO08xRVC.FrameDecoder, _ message: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        let statistics = decoder.statistics
        XCTAssertEqual(
            statistics.bytesReceived, 19 * statistics.framesDecoded + statistics.discardedBytes + UInt64(decoder.bufferedByteCount),
            "\(message): bytes received = 19 × frames + discarded + buffered", file: file, line: line)
    }

    private func assertClose(_ got: Double, _ want: Double, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got, want, accuracy: 1e-12 * max(1, abs(want)), message, file: file, line: line)
    }
}

private func randomFrame(_ generator: inout SplitMix64) -> BNO08xRVC.Frame {
    func int16() -> Int16 { Int16(truncatingIfNeeded: generator.next()) }
    func byte() -> UInt8 { UInt8(truncatingIfNeeded: generator.next()) }
    return BNO08xRVC.Frame(
        index: byte(), yawCentidegrees: int16(), pitchCentidegrees: int16(), rollCentidegrees: int16(),
        accelerationXMilliG: int16(), accelerationYMilliG: int16(), accelerationZMilliG: int16(),
        motionIntent: byte(), motionRequest: byte(), reserved: byte())
}

/// A random frame whose encoding has 0xAA only in its header (checksum included).
private func frameWithoutAA(_ generator: inout SplitMix64) -> BNO08xRVC.Frame {
    while true {
        let frame = randomFrame(&generator)
        if !BNO08xRVC.FrameEncoder.frame(frame).bytes.dropFirst(2).contains(0xAA) { return frame }
    }
}

/// Half 0xAA, so that false headers are common.
private func aaBiasedByte(_ generator: inout SplitMix64) -> UInt8 {
    generator.next() % 2 == 0 ? 0xAA : UInt8(truncatingIfNeeded: generator.next())
}

private func uniform(_ generator: inout SplitMix64, _ low: Double, _ high: Double) -> Double {
    low + (high - low) * Double(generator.next() >> 11) / Double(1 << 53)
}
