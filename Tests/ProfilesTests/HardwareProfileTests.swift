import Control
import DeviceModel
import Foundation
import Profiles
import StrictJSON
import TestSupport
import XCTest

final class HardwareProfileTests: XCTestCase {
    private let wristPath = RepositoryPaths.file("hardware/wrist-trainer.json").path

    func testWristTrainerProfileLoadsInSIUnits() throws {
        let profile = try HardwareProfileLoader.load(path: wristPath)
        XCTAssertEqual(profile.name, "wrist-trainer")
        XCTAssertEqual(profile.joints.map(\.name), ["flexion_extension", "pronation_supination"])
        XCTAssertEqual(profile.joints[0].hardLimitMaximumRadians, 70 * .pi / 180, accuracy: 1e-12)
        XCTAssertEqual(profile.device.watchdogPeriodNanoseconds, 20_000_000)
        XCTAssertEqual(profile.device.replyBudgetNanoseconds, 250_000)
        XCTAssertEqual(profile.device.usbVendorID, 0x1209)
        XCTAssertEqual(profile.safety.linkPoorFairShare, LinkQualityLimits.defaultPoorFairShare, "not written: the default")
        XCTAssertEqual(profile.control.rateHertz, 1000)
        XCTAssertEqual(profile.control.minimumRateHertz, 250)
        XCTAssertEqual(profile.control.maximumRateHertz, 4000)
    }

    /// Every profile shipped in hardware/ loads without a single issue.
    func testEveryShippedProfileLoads() throws {
        let folder = RepositoryPaths.file("hardware").path
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertEqual(names, ["ankle-trainer.json", "dynamixel-wrist.json", "wrist-trainer.json"])
        for name in names {
            let profile = try HardwareProfileLoader.load(path: folder + "/" + name)
            XCTAssertEqual(profile.name + ".json", name)
        }
        let ankle = try HardwareProfileLoader.load(path: folder + "/ankle-trainer.json")
        XCTAssertEqual(ankle.joints[0].hardLimitMinimumRadians, -50 * .pi / 180, accuracy: 1e-12, "asymmetric range")
        XCTAssertEqual(ankle.joints[0].hardLimitMaximumRadians, 32 * .pi / 180, accuracy: 1e-12)
        XCTAssertEqual(ankle.joints[0].torqueLimitNewtonMeters, 25)
    }

    func testResolveFindsAProfileByNameInTheSearchFolders() throws {
        let folder = RepositoryPaths.file("hardware").path
        XCTAssertEqual(try HardwareProfileLoader.resolve("wrist-trainer", searchFolders: ["/nonexistent", folder]),
                       folder + "/wrist-trainer.json")
        XCTAssertThrowsError(try HardwareProfileLoader.resolve("no-such-robot", searchFolders: [folder])) { error in
            XCTAssertEqual(error as? ProfileError, .notFound(path: "no-such-robot", searched: [folder]))
        }
    }

    func testUnknownKeyIsAnErrorWithItsPath() throws {
        let issues = try issuesAfter { $0.joint(0) { $0["max_torque_nm_typo"] = .double(3) } }
        XCTAssertEqual(issues.map(\.path), ["joints[0].max_torque_nm_typo"])
    }

    func testNumberWithoutItsUnitGetsTheUnitHint() throws {
        let issues = try issuesAfter { profile in
            profile.joint(0) { joint in
                joint["rated_torque"] = joint["rated_torque_nm"]
                joint["rated_torque_nm"] = nil
            }
        }
        XCTAssertEqual(issues.map(\.path).sorted(), ["joints[0].rated_torque", "joints[0].rated_torque_nm"])
        let hint = try XCTUnwrap(issues.first { $0.path == "joints[0].rated_torque" })
        XCTAssertTrue(hint.message.contains("\"rated_torque_nm\""), hint.message)
        XCTAssertTrue(hint.message.contains("unit"), hint.message)
    }

    /// Issue 15, input size: 100 000 made-up keys, a 3 MB key and a name with NUL and ESC are refused
    /// quickly, with a report of bounded size that prints no control character.
    func testHostileInputIsRefusedQuicklyWithABoundedPrintableReport() throws {
        var keys = (0..<100_000).map { "\"made_up_key_\($0)\": 1, " }.joined()
        keys += "\"" + String(repeating: "k", count: 3_000_000) + "\": 1, "
        let hostile = try String(contentsOfFile: wristPath, encoding: .utf8).replacingOccurrences(of: "\"safety\": {", with: "\"safety\": {" + keys)
        let started = Date()
        var many: [ProfileIssue] = []
        do {
            guard case .object(let object) = try JSONParser.parse(hostile) else { return XCTFail("not an object") }
            _ = try HardwareProfileLoader.parse(object, sourcePath: "hostile.json")
            XCTFail("accepted")
        } catch let error as ProfileError {
            guard case .invalid(_, let issues) = error else { return XCTFail("\(error)") }
            many = issues
        }
        // It took 97 s: the parser looked every key up in the object it was building.
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "parsed and refused in well under a minute")
        XCTAssertEqual(many.count, IssueCollector.capacity + 1, "the first 100 kept, the rest counted in one line")
        XCTAssertTrue(many.last?.message.contains("more problems were found and not kept") == true, "\(many.last!)")
        let text = "\(ProfileError.invalid(path: "p.json", issues: many))"
        XCTAssertLessThan(text.utf8.count, 10_000, "a bounded report")
        XCTAssertTrue(text.contains("… and 81 more"), String(text.suffix(200)))
        let named = try issuesAfter { $0.object["name"] = .string("wrist\u{0}\u{1B}[31mtrainer") }
        XCTAssertEqual(named.map(\.path), ["name"])
        XCTAssertTrue(named[0].message.contains("control character (U+0000)"), named[0].message)
        let long = ProfileIssue(path: String(repeating: "k", count: 3_000_000) + "\u{1B}", message: "unknown key")
        XCTAssertLessThan(long.description.utf8.count, 300)
        XCTAssertFalse(ProfileIssue(path: "a\u{1B}b", message: "m").description.unicodeScalars.contains { $0.value == 0x1B })
    }

    func testEveryProblemIsReportedAtOnce() throws {
        let issues = try issuesAfter { profile in
            profile.joint(0) { $0["torque_limit_nm"] = .double(9) }
            profile.joint(1) { $0["inertia_kg_m2"] = .double(-1) }
            profile.section("device") { $0["watchdog_period_ms"] = .double(80) }
            profile.section("safety") { $0["link_poor_fair_episodes_per_10_s"] = .double(2.5) }
        }
        XCTAssertEqual(
            Set(issues.map(\.path)),
            ["joints[0].torque_limit_nm", "joints[1].inertia_kg_m2", "device.watchdog_period_ms",
             "safety.link_poor_fair_episodes_per_10_s"])
        XCTAssertTrue(issues.first { $0.path == "device.watchdog_period_ms" }!.message.contains("between 1 and 50 ms"))
    }

    func testLoosenedSafetyDefaultIsRejected() throws {
        let issues = try issuesAfter { $0.section("safety") { $0["link_poor_fair_episodes_per_10_s"] = .integer(9) } }
        XCTAssertEqual(issues.map(\.path), ["safety.link_poor_fair_episodes_per_10_s"])
    }

    /// SR-1 v2: its thresholds are derived from the watchdog and the period; a count of cycles in a
    /// profile is an unknown key, not a setting.
    func testSilenceCountedInCyclesIsNoLongerAProfileSetting() throws {
        let issues = try issuesAfter { $0.section("safety") { $0["silence_cat1_cycles"] = .integer(3) } }
        XCTAssertEqual(issues.map(\.path), ["safety.silence_cat1_cycles"])
    }

    /// SR-14: the lowest rate a profile allows must leave the watchdog 4 periods.
    func testARateRangeTheWatchdogCannotCoverIsRejected() throws {
        let issues = try issuesAfter { $0.section("control") { $0["rate_min_hz"] = .integer(100) } }
        XCTAssertEqual(issues.map(\.path), ["control.rate_min_hz"])
        XCTAssertTrue(issues[0].message.contains("at least 200 Hz"), issues[0].message)
        let outside = try issuesAfter { $0.section("control") { $0["rate_hz"] = .integer(5000) } }
        XCTAssertEqual(outside.map(\.path), ["control.rate_hz"])
    }

    func testSafetyLimitsBeyondSAFETYmdOrTheDeviceRatingAreRejectedWithTheirPaths() throws {
        let issues = try issuesAfter { profile in
            profile.section("safety") {
                $0["emergency_stop_category"] = .integer(2)  // an e-stop is never Cat 2
                $0["link_poor_fair_share_percent"] = .integer(90)  // looser than SR-1's calibrated default (80 %)
                $0["interaction_dwell_ms"] = .double(-5)
                $0["beyond_soft_limit_cat1_deg"] = nil
                $0["beyond_soft_limit_cat1"] = .integer(2)
            }
            profile.joint(0) { $0["interaction_torque_trip_nm"] = .double(4.5) }  // above the 4 N·m rating
            profile.joint(1) { $0["interaction_torque_trip_nm"] = .double(-1) }
        }
        XCTAssertEqual(
            Set(issues.map(\.path)),
            ["safety.emergency_stop_category", "safety.link_poor_fair_share_percent", "safety.interaction_dwell_ms",
             "safety.beyond_soft_limit_cat1_deg", "safety.beyond_soft_limit_cat1", "joints[0].interaction_torque_trip_nm",
             "joints[1].interaction_torque_trip_nm"], "\(issues)")
        XCTAssertTrue(issues.contains { $0.message.contains("did you mean \"beyond_soft_limit_cat1_deg\"") }, "\(issues)")
        XCTAssertTrue(issues.contains { $0.message.contains("never Cat 2") }, "\(issues)")
    }

    /// D8 / SR-21: a quick-stop rate that cannot stop the velocity trip within the deadline and the
    /// soft-to-hard margin is refused with the rate that would.
    func testAQuickStopTooWeakForTheDeadlineOrTheMarginIsRejected() throws {
        let weak = try issuesAfter { $0.section("control") { $0["quick_stop_deceleration_rad_per_s2"] = .integer(1) } }
        XCTAssertEqual(weak.map(\.path), ["control.quick_stop_deceleration_rad_per_s2", "control.quick_stop_deceleration_rad_per_s2"], "\(weak)")
        XCTAssertTrue(weak[0].message.contains("past the stop deadline") && weak[0].message.contains("at least 7.5 rad/s²"), weak[0].message)
        XCTAssertTrue(weak[1].message.contains("soft-to-hard margin") && weak[1].message.contains("at least 12.9 rad/s²"), weak[1].message)
        // 10 rad/s²: 150 ms fits the 200 ms deadline, but 6.4° of braking does not fit the 5° margin.
        let marginOnly = try issuesAfter { $0.section("control") { $0["quick_stop_deceleration_rad_per_s2"] = .integer(10) } }
        XCTAssertEqual(marginOnly.count, 1)
        XCTAssertTrue(marginOnly[0].message.contains("SR-21"), marginOnly[0].message)
    }

    func testAVelocityTripWhoseCat0ThresholdExceedsTheRatingIsRejected() throws {
        let issues = try issuesAfter { profile in profile.section("safety") { $0["velocity_trip_rad_per_s"] = .double(2.5) } }
        XCTAssertEqual(issues.filter { $0.path == "safety.velocity_trip_rad_per_s" }.count, 2, "both joints are rated 3 rad/s")
        // And 20 rad/s² cannot stop 2.5 rad/s within the 5° soft-to-hard margin (SR-21).
        XCTAssertEqual(issues.map(\.path).last, "control.quick_stop_deceleration_rad_per_s2")
        XCTAssertTrue(issues[0].message.contains("exceeds the rated speed"), issues[0].message)
    }

    func testAJointWithATorqueSensorNeedsItsInteractionTrip() throws {
        let issues = try issuesAfter { profile in profile.joint(0) { $0["interaction_torque_trip_nm"] = nil } }
        XCTAssertEqual(issues.map(\.path), ["joints[0].interaction_torque_trip_nm"])
    }

    func testDuplicateJointNamesAndInvertedLimitsAreRejected() throws {
        let issues = try issuesAfter { profile in
            profile.joint(1) { $0["name"] = .string("flexion_extension") }
            profile.joint(0) { $0["hard_limit_min_deg"] = .double(80) }
        }
        XCTAssertEqual(Set(issues.map(\.path)), ["joints[1].name", "joints[0].hard_limit_max_deg"])
    }

    func testNonFiniteAndWrongTypesAreRejected() throws {
        let issues = try issuesAfter { profile in
            profile.joint(0) { $0["gear_ratio"] = .string("20") }
            profile.joint(0) { $0["torque_sensor"] = .integer(1) }
        }
        XCTAssertEqual(Set(issues.map(\.path)), ["joints[0].gear_ratio", "joints[0].torque_sensor"])
    }

    func testMissingFileFolderAndBadJSONHaveDistinctErrors() throws {
        XCTAssertThrowsError(try HardwareProfileLoader.load(path: "/nonexistent/robot.json")) {
            guard case .notFound = $0 as? ProfileError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try HardwareProfileLoader.load(path: NSTemporaryDirectory())) {
            guard case .unreadable(_, let reason) = $0 as? ProfileError else { return XCTFail("\($0)") }
            XCTAssertEqual(reason, "it is a folder")
        }
        let bad = try temporaryFile("{\n  \"format\": \"rehabhost-profile/1\",\n  \"name\": \"x\" \"oops\"\n}")
        XCTAssertThrowsError(try HardwareProfileLoader.load(path: bad)) {
            guard case .syntax(_, let error) = $0 as? ProfileError else { return XCTFail("\($0)") }
            XCTAssertEqual(error.line, 3)
            XCTAssertEqual(error.column, 15)
        }
    }

    // MARK: Helpers

    /// Loads the wrist profile, applies `change`, and returns the issues validation reports.
    private func issuesAfter(_ change: (inout EditableProfile) -> Void) throws -> [ProfileIssue] {
        guard case .object(let object) = try JSONParser.parse(String(contentsOfFile: wristPath, encoding: .utf8)) else {
            throw VectorError("profile is not an object")
        }
        var editable = EditableProfile(object: object)
        change(&editable)
        do {
            _ = try HardwareProfileLoader.parse(editable.object, sourcePath: "test.json")
            XCTFail("the changed profile was accepted")
            return []
        } catch {
            guard case .invalid(_, let issues) = error else {
                XCTFail("expected .invalid, got \(error)")
                return []
            }
            return issues
        }
    }

    private func temporaryFile(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "/rehabhost-test-\(UUID().uuidString).json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }
}

/// Edits nested objects of a parsed profile in place.
struct EditableProfile {
    var object: JSONObject

    mutating func joint(_ index: Int, _ edit: (inout JSONObject) -> Void) {
        guard var joints = object["joints"]?.arrayValue, var joint = joints[index].objectValue else { return }
        edit(&joint)
        joints[index] = .object(joint)
        object["joints"] = .array(joints)
    }

    mutating func section(_ name: String, _ edit: (inout JSONObject) -> Void) {
        guard var section = object[name]?.objectValue else { return }
        edit(&section)
        object[name] = .object(section)
    }
}
