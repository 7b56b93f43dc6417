import Control
import DeviceModel
import Platform
import Primitives
import Telemetry
import XCTest

/// The loop's hand-off ring: order, overflow counting, and two threads under producer bursts.
final class TelemetryRingTests: XCTestCase {
    private func frame(_ cycle: Int64) -> TelemetryRecord {
        var frame = TelemetryFrame(jointCount: 2)
        frame.cycle = cycle
        frame.positionsRadians[1] = Double(cycle) * 0.001
        return .cycle(frame)
    }

    private func cycle(of record: TelemetryRecord?) -> Int64? {
        if case .cycle(let frame)? = record { return frame.cycle }
        return nil
    }

    func testAFullRingDropsAndCountsWithoutBlocking() {
        let ring = TelemetryRing(capacity: 4)
        for index in 0..<6 { ring.push(frame(Int64(index))) }
        XCTAssertEqual(ring.overflows, 2)
        XCTAssertEqual(ring.pending, 4)
        XCTAssertEqual((0..<4).map { _ in cycle(of: ring.pop()) }, [0, 1, 2, 3], "the oldest kept, in order")
        XCTAssertNil(ring.pop())
        XCTAssertEqual(ring.highWaterMark, 4)
    }

    func testBurstsFromTheProducerArriveCompleteAndInOrderOnAnotherThread() {
        let ring = TelemetryRing(capacity: 512)
        let total: Int64 = 200_000
        let received = ThreadResult<[Int64]>()
        let consumer = ControlThread.start(name: "test-consumer") {
            var cycles: [Int64] = []
            cycles.reserveCapacity(Int(total))
            while cycles.count < Int(total) {
                if case .cycle(let frame)? = ring.pop() {
                    // The payload travels with the cycle number: no torn slot.
                    if frame.positionsRadians[1] != Double(frame.cycle) * 0.001 { cycles.append(-1) }
                    cycles.append(frame.cycle)
                } else {
                    sched_yield()
                }
            }
            received.value = cycles
        }
        // Bursts of up to 400 records back to back, then a pause: retry only when the ring is full.
        var next: Int64 = 0
        var burst = 0
        while next < total {
            if ring.push(frame(next)) {
                next += 1
                burst += 1
                if burst == 400 {
                    burst = 0
                    usleep(200)
                }
            } else {
                sched_yield()
            }
        }
        consumer.join()
        let cycles = received.value ?? []
        XCTAssertEqual(cycles.count, Int(total))
        XCTAssertEqual(cycles, Array(0..<total), "complete, in order, no torn records")
        XCTAssertEqual(ring.pushed, Int(total))
    }
}
