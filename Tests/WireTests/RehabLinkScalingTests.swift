import Wire
import XCTest

/// The one SI ↔ wire conversion both ends of RehabLink use.
final class RehabLinkScalingTests: XCTestCase {
    func testSIToWireRoundsToTheNearestAndSaturates() {
        XCTAssertEqual(RehabLink.Scaling.micro(1.2345674), 1_234_567)
        XCTAssertEqual(RehabLink.Scaling.micro(-0.0000016), -2)
        XCTAssertEqual(RehabLink.Scaling.milli(2.5), 2_500)
        XCTAssertEqual(RehabLink.Scaling.micro(1e300), Int32.max, "saturated, not a trap")
        XCTAssertEqual(RehabLink.Scaling.milli(-1e300), Int32.min)
        XCTAssertEqual(RehabLink.Scaling.milliamperes(1e9), Int16.max)
        XCTAssertEqual(RehabLink.Scaling.decidegrees(36.56), 366)
    }

    func testNonFiniteValuesBecomeZero() {
        for value in [Double.nan, .infinity, -.infinity] {
            XCTAssertEqual(RehabLink.Scaling.micro(value), 0)
            XCTAssertEqual(RehabLink.Scaling.milli(value), 0)
            XCTAssertEqual(RehabLink.Scaling.micro(value, rounding: .up), 0)
            XCTAssertEqual(RehabLink.Scaling.milliamperes(value), 0)
            XCTAssertEqual(RehabLink.Scaling.decidegrees(value), 0)
        }
    }

    func testDirectedRoundingIgnoresFloatingPointResidue() {
        XCTAssertEqual(RehabLink.Scaling.micro(1.134464, rounding: .down), 1_134_464, "not one less")
        XCTAssertEqual(RehabLink.Scaling.micro(-1.134464, rounding: .up), -1_134_464)
        XCTAssertEqual(RehabLink.Scaling.micro(0.0000015, rounding: .down), 1)
        XCTAssertEqual(RehabLink.Scaling.micro(0.0000015, rounding: .up), 2)
        XCTAssertEqual(RehabLink.Scaling.milli(2.9996, rounding: .down), 2_999)
    }

    func testWireToSI() {
        XCTAssertEqual(RehabLink.Scaling.fromMicro(1_500_000), 1.5, accuracy: 1e-12)
        XCTAssertEqual(RehabLink.Scaling.fromMilli(-2_500), -2.5, accuracy: 1e-12)
        XCTAssertEqual(RehabLink.Scaling.amperes(milliamperes: 1_200), 1.2, accuracy: 1e-12)
        XCTAssertEqual(RehabLink.Scaling.celsius(decidegrees: 365), 36.5, accuracy: 1e-12)
    }
}
