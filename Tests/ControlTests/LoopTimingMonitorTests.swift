import Control
import Primitives
import XCTest

/// SR-14: the loop's timing as a safety input.
final class LoopTimingMonitorTests: XCTestCase {
    private let period: Int64 = 1_000_000

    private func at(_ cycle: Int64) -> MonotonicInstant { MonotonicInstant(nanoseconds: cycle * period) }

    func testSR14AGapOfMoreThanTenMillisecondsIsAViolation() {
        var monitor = LoopTimingMonitor(rateHertz: 1000)
        XCTAssertNil(monitor.cycleStarted(at: at(0), lateCycles: 0, consecutiveOverruns: 0))
        XCTAssertNil(monitor.cycleStarted(at: at(10), lateCycles: 0, consecutiveOverruns: 0), "exactly 10 ms is allowed")
        XCTAssertEqual(monitor.cycleStarted(at: at(21), lateCycles: 1, consecutiveOverruns: 1), .gap(nanoseconds: 11_000_000))
    }

    func testSR14FiveOverrunsInARowIsAViolation() {
        var monitor = LoopTimingMonitor(rateHertz: 1000)
        for count in 1...4 {
            XCTAssertNil(monitor.cycleStarted(at: at(Int64(count * 2)), lateCycles: 0, consecutiveOverruns: count))
        }
        XCTAssertEqual(monitor.cycleStarted(at: at(10), lateCycles: 0, consecutiveOverruns: 5), .consecutiveOverruns(count: 5))
    }

    /// Feeds every cycle 0..<count, 1 ms apart, with a late cycle wherever `isLate` says.
    private func feed(_ monitor: inout LoopTimingMonitor, cycles count: Int64, isLate: (Int64) -> Bool)
        -> (cycle: Int64, violation: LoopTimingMonitor.Violation)?
    {
        for cycle in 0..<count {
            if let violation = monitor.cycleStarted(at: at(cycle), lateCycles: isLate(cycle) ? 1 : 0, consecutiveOverruns: isLate(cycle) ? 1 : 0) {
                return (cycle, violation)
            }
        }
        return nil
    }

    func testSR14MoreThanOnePercentLateWithinOneSecondIsAViolation() {
        var monitor = LoopTimingMonitor(rateHertz: 1000)
        XCTAssertEqual(monitor.allowedLateCycles, 10, "1 % of 1000 cycles")
        // One late cycle every 50 ms: the 11th is at 500 ms, within a second of the first.
        let found = feed(&monitor, cycles: 2_000) { $0 % 50 == 0 }
        XCTAssertEqual(found?.cycle, 500)
        XCTAssertEqual(found?.violation, .tooManyLateCycles(count: 11))
    }

    func testLateCyclesSpreadOverMoreThanASecondAreTolerated() {
        var monitor = LoopTimingMonitor(rateHertz: 1000)
        // One late cycle every 120 ms: never more than 9 in any second.
        XCTAssertNil(feed(&monitor, cycles: 10_000) { $0 % 120 == 0 })
    }
}
