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
