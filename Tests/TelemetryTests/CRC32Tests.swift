import Telemetry
import XCTest

final class CRC32Tests: XCTestCase {
    func testTheStandardCheckValue() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([UInt8]()), 0)
    }

    func testIncrementalEqualsOneGo() {
        let bytes = (0..<1_000).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        var crc = CRC32()
        crc.update(bytes[0..<333])
        crc.update(bytes[333...])
        XCTAssertEqual(crc.value, CRC32.checksum(bytes))
    }
}
