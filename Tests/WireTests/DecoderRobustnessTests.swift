import Wire
import TestSupport
import XCTest

final class DecoderRobustnessTests: XCTestCase {
    private let reference = RehabLink.Packet(sequence: 77, message: .enable(watchdogPeriodMicroseconds: 20_000))

    func testDecoderResynchronisesAfterRandomGarbage() {
        var generator = SplitMix64(seed: 42)
        let good = RehabLink.FrameEncoder.frame(reference.message, sequence: reference.sequence).bytes
        for _ in 0..<2_000 {
            var decoder = RehabLink.FrameDecoder()
            let garbageLength = Int(generator.next() % 600)
            let garbage = (0..<garbageLength).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            var last: RehabLink.DecodeResult?
            for byte in garbage + [0] + good {
                if let result = decoder.push(byte) { last = result }
            }
            XCTAssertEqual(last, .packet(reference), "the frame after a delimiter must decode whatever came before")
        }
    }

    func testRandomBytesNeverYieldAPacketThatFailsItsOwnRoundTrip() {
        var generator = SplitMix64(seed: 7)
        var decoder = RehabLink.FrameDecoder()
        var packets = 0
        for _ in 0..<500_000 {
            // Bias towards small values and zeros so that short frames are common.
            let raw = generator.next()
            let byte: UInt8 = raw % 5 == 0 ? 0 : UInt8(truncatingIfNeeded: raw >> 8) & (raw % 3 == 0 ? 0x0F : 0xFF)
            if case .packet(let packet) = decoder.push(byte) {
                packets += 1
                let again = RehabLink.FrameEncoder.frame(packet.message, sequence: packet.sequence).bytes
                var check = RehabLink.FrameDecoder()
                XCTAssertEqual(again.compactMap { check.push($0) }, [.packet(packet)])
            }
        }
        XCTAssertEqual(decoder.statistics.bytesReceived, 500_000)
        XCTAssertEqual(decoder.statistics.packetsDecoded, UInt64(packets))
        XCTAssertGreaterThan(decoder.statistics.malformedFrames + decoder.statistics.crcErrors, 1000)
    }

    func testOversizeFrameIsCountedOnceAndTheNextFrameDecodes() {
        var decoder = RehabLink.FrameDecoder()
        let good = RehabLink.FrameEncoder.frame(.heartbeat, sequence: 3).bytes
        let stream = [UInt8](repeating: 0x7F, count: 1_000) + [0] + good
        XCTAssertEqual(stream.compactMap { decoder.push($0) }, [.packet(RehabLink.Packet(sequence: 3, message: .heartbeat))])
        XCTAssertEqual(decoder.statistics.oversizeFrames, 1)
        XCTAssertEqual(decoder.statistics.discardedBytes, 1_000)
    }

    func testResetDropsAPartialFrame() {
        var decoder = RehabLink.FrameDecoder()
        let good = RehabLink.FrameEncoder.frame(.heartbeat, sequence: 3).bytes
        for byte in good.prefix(5) { _ = decoder.push(byte) }
        decoder.reset()
        XCTAssertEqual(good.compactMap { decoder.push($0) }, [.packet(RehabLink.Packet(sequence: 3, message: .heartbeat))])
    }

    /// The buffer form decodes exactly what the byte form does, with the same counters, however the
    /// stream is cut into reads (frames split across reads, junk, oversize frames, idle delimiters).
    func testDecodingWholeBuffersGivesWhatDecodingByteByByteGives() {
        var generator = SplitMix64(seed: 11)
        var stream: [UInt8] = []
        for sequence in 0..<300 {
            switch generator.next() % 5 {
            case 0: stream += (0..<Int(generator.next() % 40)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            case 1: stream += [UInt8](repeating: 0x7F, count: 300) + [0]
            case 2: stream += [0, 0]
            default: break
            }
            stream += RehabLink.FrameEncoder.frame(.enable(watchdogPeriodMicroseconds: UInt32(sequence)), sequence: UInt16(sequence)).bytes
        }
        var byByte = RehabLink.FrameDecoder()
        let expected = stream.compactMap { byByte.push($0) }
        XCTAssertGreaterThan(expected.count, 200, "most frames decode (else this compares nothing)")
        var buffered = RehabLink.FrameDecoder()
        var results: [RehabLink.DecodeResult] = []
        var offset = 0
        while offset < stream.count {
            let read = Array(stream[offset..<min(stream.count, offset + 1 + Int(generator.next() % 97))])
            offset += read.count
            read.withUnsafeBytes { bytes in
                var index = 0
                while index < bytes.count {
                    let (next, result) = buffered.push(bytes, from: index)
                    XCTAssertGreaterThan(next, index, "every call takes at least one byte")
                    index = next
                    if let result { results.append(result) }
                }
            }
        }
        XCTAssertEqual(results, expected)
        XCTAssertEqual(buffered.statistics, byByte.statistics)
    }
}
