import Control
import DeviceModel
import Primitives
import XCTest

final class LoopScheduleTests: XCTestCase {
    func testCycleKStartsAtExactlyT0PlusKPeriodOverAMillionCycles() {
        let start = MonotonicInstant(nanoseconds: 123_456_789)
        let clock = VirtualClock(start: start)
        var schedule = LoopSchedule(start: start, periodNanoseconds: 1_000_000)
        var jitter: Int64 = 0
        for k in 0..<1_000_000 as Range<Int64> {
            clock.sleep(until: schedule.currentDeadline)
            XCTAssertEqual(schedule.cycle, k)
            if clock.now() != start.advanced(byNanoseconds: k * 1_000_000) {
                XCTFail("cycle \(k) woke at \(clock.now())")
                return
            }
            // Work takes a varying but always in-budget time: it must not shift later deadlines.
            jitter = (jitter * 1_103_515_245 + 12_345) % 900_000
            clock.advance(byNanoseconds: abs(jitter))
            schedule.advance(finishedAt: clock.now())
        }
        XCTAssertEqual(schedule.overruns, 0)
        XCTAssertEqual(schedule.currentDeadline, start.advanced(byNanoseconds: 1_000_000 * 1_000_000))
    }

    func testOverrunSkipsToTheNextFutureDeadlineAndCountsIt() {
        var schedule = LoopSchedule(start: .zero, periodNanoseconds: 1_000_000)
        schedule.advance(finishedAt: MonotonicInstant(nanoseconds: 400_000))
        XCTAssertEqual(schedule.cycle, 1)
        // Cycle 1 (due at 1 ms) finishes at 3.5 ms: deadlines 2 and 3 ms are gone; next is 4 ms.
        XCTAssertTrue(schedule.advance(finishedAt: MonotonicInstant(nanoseconds: 3_500_000)))
        XCTAssertEqual(schedule.cycle, 4)
        XCTAssertEqual(schedule.currentDeadline, MonotonicInstant(nanoseconds: 4_000_000))
        XCTAssertEqual(schedule.overruns, 1)
        XCTAssertEqual(schedule.skippedCycles, 2)
        XCTAssertEqual(schedule.consecutiveOverruns, 1)
        schedule.advance(finishedAt: MonotonicInstant(nanoseconds: 4_100_000))
        XCTAssertEqual(schedule.consecutiveOverruns, 0)
    }

    func testFinishingExactlyOnTheNextDeadlineIsNotAnOverrun() {
        var schedule = LoopSchedule(start: .zero, periodNanoseconds: 1_000)
        XCTAssertFalse(schedule.advance(finishedAt: MonotonicInstant(nanoseconds: 1_000)))
        XCTAssertEqual(schedule.cycle, 1)
    }
}

final class LatencyHistogramTests: XCTestCase {
    func testSmallValuesAreExactAndLargeOnesWithinOnePointSixPercent() {
        for value: UInt64 in [0, 1, 127, 128, 129, 1_000, 65_537, 1_000_000, 123_456_789, 9_000_000_000] {
            let histogram = LatencyHistogram()
            histogram.record(nanoseconds: Int64(value))
            histogram.record(nanoseconds: Int64(value) * 4)  // so that the quantile is not capped by max
            let reported = histogram.value(atQuantile: 0.5)
            XCTAssertGreaterThanOrEqual(reported, value)
            XCTAssertLessThanOrEqual(Double(reported), Double(value) * 1.016 + 0.5, "\(value) reported as \(reported)")
        }
    }

    func testQuantilesOfAUniformSpread() {
        let histogram = LatencyHistogram()
        for value in 1...10_000 { histogram.record(nanoseconds: Int64(value) * 1_000) }
        XCTAssertEqual(Double(histogram.value(atQuantile: 0.5)), 5_000_000, accuracy: 5_000_000 * 0.016)
        XCTAssertEqual(Double(histogram.value(atQuantile: 0.99)), 9_900_000, accuracy: 9_900_000 * 0.016)
        XCTAssertEqual(histogram.value(atQuantile: 1.0), 10_000_000, "the top quantile is the exact maximum")
        XCTAssertEqual(histogram.maxNanoseconds, 10_000_000)
        XCTAssertEqual(histogram.minNanoseconds, 1_000)
        XCTAssertEqual(histogram.count, 10_000)
    }

    func testNegativeDurationsCountAsZeroAndEmptyHistogramReportsZero() {
        let histogram = LatencyHistogram()
        XCTAssertEqual(histogram.value(atQuantile: 0.99), 0)
        histogram.record(nanoseconds: -5)
        XCTAssertEqual(histogram.maxNanoseconds, 0)
    }

    func testMergeAddsSamples() {
        let a = LatencyHistogram()
        let b = LatencyHistogram()
        a.record(nanoseconds: 10)
        b.record(nanoseconds: 1_000_000)
        a.merge(b)
        XCTAssertEqual(a.count, 2)
        XCTAssertEqual(a.maxNanoseconds, 1_000_000)
    }
}
