import Wire
import TestSupport
import XCTest

final class FramingTests: XCTestCase {
    func testCRC32CMatchesThePublishedCheckValue() {
        let bytes = Array("123456789".utf8)
        XCTAssertEqual(bytes.withUnsafeBytes { CRC32C.checksum($0) }, 0xE306_9283)
    }

    func testCOBSRoundTripsEveryPacketLengthWithAndWithoutZeros() {
        var generator = SplitMix64(seed: 1)
        for length in 0...RehabLink.maxPacketBytes {
            for zeroEvery in [0, 1, 2, 7, 254] {
                let packet: [UInt8] = (0..<length).map { index in
                    zeroEvery > 0 && index % zeroEvery == 0 ? 0 : UInt8(generator.next() % 255) + 1
                }
                var encoded = [UInt8](repeating: 0xEE, count: COBS.maxEncodedBytes(forPacketBytes: length))
                let count = packet.withUnsafeBytes { source in
                    encoded.withUnsafeMutableBytes { COBS.encode(source, into: $0) }
                }
                XCTAssertLessThanOrEqual(count, length + 1, "overhead for ≤ 254 bytes is one byte")
                XCTAssertFalse(encoded[0..<count].contains(0), "COBS output must never contain 0x00")
                let decodedCount = encoded.withUnsafeMutableBytes { COBS.decodeInPlace($0, count: count) }
                XCTAssertEqual(decodedCount, length)
                XCTAssertEqual(Array(encoded[0..<(decodedCount ?? 0)]), packet, "length \(length), zero every \(zeroEvery)")
            }
        }
    }

    func testCOBSFullBlockAtTheEndHasNoTrailingEmptyBlock() {
        let packet = [UInt8](repeating: 0x41, count: 254)
        var encoded = [UInt8](repeating: 0, count: 256)
        let count = packet.withUnsafeBytes { source in encoded.withUnsafeMutableBytes { COBS.encode(source, into: $0) } }
        XCTAssertEqual(count, 255)
        XCTAssertEqual(encoded[0], 0xFF)
    }

    func testCOBSDecodeRejectsAZeroInsideAndACodePastTheEnd() {
        var zeroInside: [UInt8] = [0x03, 0x11, 0x00]
        XCTAssertNil(zeroInside.withUnsafeMutableBytes { COBS.decodeInPlace($0, count: 3) })
        var pastEnd: [UInt8] = [0x05, 0x11, 0x22]
        XCTAssertNil(pastEnd.withUnsafeMutableBytes { COBS.decodeInPlace($0, count: 3) })
    }

    func testSequenceNewerAcrossTheWrap() {
        XCTAssertTrue(SequenceNumber.isNewer(0, than: 65535))
        XCTAssertTrue(SequenceNumber.isNewer(5, than: 65530))
        XCTAssertFalse(SequenceNumber.isNewer(65530, than: 5))
        XCTAssertFalse(SequenceNumber.isNewer(7, than: 7), "a resent frame is not newer")
        XCTAssertTrue(SequenceNumber.isNewer(32767, than: 0))
        XCTAssertFalse(SequenceNumber.isNewer(32768, than: 0), "half the space away is ambiguous: not newer")
    }

    func testWrappingCounterExtenderMakesACleanWrapASmallStep() {
        var extender = WrappingCounterExtender()
        XCTAssertEqual(extender.extend(0xFFFF_FFF0), 0xFFFF_FFF0)
        XCTAssertEqual(extender.extend(0x0000_0010), 0x1_0000_0010)
        XCTAssertEqual(extender.extend(0xFFFF_FFF8), 0xFFFF_FFF8, "and back across the wrap")
    }

    func testFixedASCIITruncatesAndReplacesNonPrintable() {
        XCTAssertEqual(FixedASCII<4>("ABCDEF").string, "ABCD")
        XCTAssertEqual(FixedASCII<8>("Ä-1").string, "?-1")
        XCTAssertEqual(FixedASCII<8>("").string, "")
    }
}

/// `InlineBytes`, the one inline byte container of every codec: fields in both byte orders, all-or-nothing
/// appends, the ASCII helpers of text protocols, and in-place encoding.
final class InlineBytesTests: XCTestCase {
    func testFieldsReadBackInTheByteOrderTheyWereWrittenIn() {
        var bytes = InlineBytes<16>()
        XCTAssertTrue(bytes.appendLittleEndian(Int16(-300)))
        XCTAssertTrue(bytes.appendBigEndian(UInt32(0x0102_0304)))
        XCTAssertEqual(bytes.bytes, [0xD4, 0xFE, 0x01, 0x02, 0x03, 0x04])
        XCTAssertEqual(bytes.littleEndian(Int16.self, at: 0), -300)
        XCTAssertEqual(bytes.bigEndian(Int16.self, at: 0), Int16(bitPattern: 0xD4FE))
        XCTAssertEqual(bytes.bigEndian(UInt32.self, at: 2), 0x0102_0304)
        XCTAssertEqual(bytes.littleEndian(UInt32.self, at: 2), 0x0403_0201)
        XCTAssertEqual(InlineBytes<4>(littleEndian: Int32(-2)).bytes, [0xFE, 0xFF, 0xFF, 0xFF])
    }

    func testReadsPastTheEndAreNilAndAppendsThatDoNotFitAppendNothing() {
        var bytes: InlineBytes<3> = [0x01, 0x02]
        XCTAssertNil(bytes.littleEndian(UInt16.self, at: 1))
        XCTAssertNil(bytes.bigEndian(UInt16.self, at: -1))
        XCTAssertNil(bytes.uint8(at: 2))
        XCTAssertFalse(bytes.appendBigEndian(UInt16(0xFFFF)))
        XCTAssertEqual(bytes.count, 2, "all or nothing")
        XCTAssertTrue(bytes.append(0x03))
        XCTAssertFalse(bytes.append(0x04))
        XCTAssertEqual(bytes.description, "01 02 03")
        XCTAssertNil(InlineBytes<2>(ascii: "OKAY"))
    }

    func testASCIIFieldsOfTextProtocols() throws {
        var line = try XCTUnwrap(InlineBytes<32>(ascii: "ERROR"))
        XCTAssertTrue(line.append(hex: 0x0A, digits: 2))
        XCTAssertTrue(line.append(decimal: 1200))
        XCTAssertEqual(line.string, "ERROR0A1200")
        XCTAssertEqual(line.hexValue(at: 5, digits: 2), 0x0A)
        XCTAssertNil(line.hexValue(at: 0, digits: 2), "not hex digits")
        XCTAssertTrue(line.hasPrefix(ascii: "ERR"))
        XCTAssertFalse(line.equals(ascii: "ERROR"))
        let mixed: InlineBytes<4> = [0x41, 0x00, 0x0A, 0x7F]
        XCTAssertEqual(mixed.string, "A?\n?")
    }

    func testOverwriteKeepsWhatTheEncoderWroteClampedToTheCapacity() {
        var frame = InlineBytes<4>()
        frame.overwrite { raw in
            raw[0] = 0xAA
            raw[1] = 0xBB
            return 2
        }
        XCTAssertEqual(frame.bytes, [0xAA, 0xBB])
        frame.overwrite { $0.count + 10 }
        XCTAssertEqual(frame.count, 4)
        frame.overwrite { _ in -1 }
        XCTAssertTrue(frame.isEmpty)
    }
}
