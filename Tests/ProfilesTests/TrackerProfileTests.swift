import Foundation
import Profiles
import StrictJSON
import TestSupport
import XCTest

/// hardware/trackers/*.json: the shipped profiles load with their units turned into SI, and every
/// problem of a broken one is reported at once with its path.
final class TrackerProfileTests: XCTestCase {
    func testTheShippedTrackerProfilesLoadInSIUnits() throws {
        let xsens = try TrackerProfileLoader.load(path: RepositoryPaths.file("hardware/trackers/xsens-mti-wrist.json").path)
        XCTAssertEqual(xsens.protocolIdentifier, "xsens/xbus")
        XCTAssertEqual(xsens.rateHertz, 100)
        XCTAssertEqual(xsens.framePeriodNanoseconds, 10_000_000)
        XCTAssertEqual(xsens.latencyNanoseconds, 2_000_000)
        XCTAssertEqual(xsens.mounting, TrackerProfile.Mounting(axis: .y, sign: 1, offsetRadians: 0))
        let bno = try TrackerProfileLoader.load(path: RepositoryPaths.file("hardware/trackers/bno085-forearm.json").path)
        XCTAssertEqual(bno.protocolIdentifier, "bno08x/uart-rvc")
        XCTAssertEqual(bno.usbVendorID, 0x0403)
        XCTAssertEqual(bno.baudRateBitsPerSecond, 115_200)
    }

    func testEveryProblemOfABrokenProfileIsReportedWithItsPath() throws {
        let broken: JSONObject = [
            "format": .string("rehabhost-tracker/1"), "name": .string("broken"), "protocol": .string("xsens"),
            "model": .string("MTi"), "baud_rate_bps": .int(100), "rate_hz": .number(0), "latency_ms": .number(-1),
            "mounting": .object(["axis": .string("w"), "sign": .int(0), "offset_deg": .number(200)]), "colour": .string("red"),
        ]
        XCTAssertThrowsError(try TrackerProfileLoader.parse(broken, sourcePath: "broken.json")) { error in
            guard case .invalid(_, let issues) = error as? ProfileError else { return XCTFail("\(error)") }
            let paths = Set(issues.map(\.path))
            for path in ["protocol", "baud_rate_bps", "rate_hz", "latency_ms", "mounting.axis", "mounting.sign", "mounting.offset_deg", "colour"] {
                XCTAssertTrue(paths.contains(path), "\(path) in \(issues)")
            }
        }
    }
}
