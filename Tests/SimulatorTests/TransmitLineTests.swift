import Primitives
import SimulatorKit
import XCTest

/// `TransmitLine`, the serial transmit line the Dynamixel bus and the NDI tracker answer through: bytes
/// readable one by one as their 10 bit times pass, replies in order, each at its own rate.
final class TransmitLineTests: XCTestCase {
    private let start = MonotonicInstant(nanoseconds: 1_000_000)

    func testBytesArriveOneByOneAtTheRateTheyWereSentAt() throws {
        let line = TransmitLine(segmentCapacity: 4)
        let reply: [UInt8] = [0x10, 0x20, 0x30, 0x40]
        // 100 kbit/s: 10 bits a byte = 100 µs a byte.
        let end = try XCTUnwrap(reply.withUnsafeBytes { line.enqueue($0, startingAt: start, bitsPerSecond: 100_000) })
        XCTAssertEqual(end, start.advanced(byNanoseconds: 400_000))
        XCTAssertFalse(line.hasOutput(at: start.advanced(byNanoseconds: 99_999)), "the first byte is still on the line")
        XCTAssertEqual(line.nextReplyEnd(after: start), end)

        var buffer = [UInt8](repeating: 0, count: 8)
        let early = buffer.withUnsafeMutableBytes { line.pop(into: $0, at: start.advanced(byNanoseconds: 250_000)) }
        XCTAssertEqual(Array(buffer[0..<early]), [0x10, 0x20])
        let rest = buffer.withUnsafeMutableBytes { line.pop(into: $0, at: end) }
        XCTAssertEqual(Array(buffer[0..<rest]), [0x30, 0x40])
        XCTAssertNil(line.nextReplyEnd(after: end))
    }

    func testEachRunIsReportedWithItsRateAndAFullQueueRefuses() {
        let line = TransmitLine(segmentCapacity: 2, byteCapacity: 4)
        let two: [UInt8] = [1, 2]
        XCTAssertNotNil(two.withUnsafeBytes { line.enqueue($0, startingAt: start, bitsPerSecond: 9_600) })
        XCTAssertNotNil(two.withUnsafeBytes { line.enqueue($0, startingAt: start, bitsPerSecond: 115_200) })
        XCTAssertNil(two.withUnsafeBytes { line.enqueue($0, startingAt: start, bitsPerSecond: 9_600) }, "queue full")

        var runs: [(Range<Int>, Int)] = []
        var buffer = [UInt8](repeating: 0, count: 8)
        let later = start.advanced(byNanoseconds: 1_000_000_000)
        let moved = buffer.withUnsafeMutableBytes { raw in
            line.pop(into: raw, at: later) { runs.append(($0, $1)) }
        }
        XCTAssertEqual(moved, 4)
        XCTAssertEqual(runs.map(\.0), [0..<2, 2..<4])
        XCTAssertEqual(runs.map(\.1), [9_600, 115_200])
    }

    func testWithoutWireTimeAReplyIsReadableWholeFromItsStart() {
        let line = TransmitLine(segmentCapacity: 2, modelsWireTime: false)
        let reply: [UInt8] = [7, 8, 9]
        let end = reply.withUnsafeBytes { line.enqueue($0, startingAt: start, bitsPerSecond: 9_600) }
        XCTAssertEqual(end, start)
        XCTAssertFalse(line.hasOutput(at: start.advanced(byNanoseconds: -1)))
        XCTAssertTrue(line.hasOutput(at: start))
        line.removeAll()
        XCTAssertFalse(line.hasOutput(at: start))
        XCTAssertEqual(TransmitLine.wireNanoseconds(bytes: 1, bitsPerSecond: 3), 3_333_333_334, "rounded up")
    }
}
