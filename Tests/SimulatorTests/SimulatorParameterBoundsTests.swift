import Foundation
import Primitives
import Profiles
import RehabLinkSimulator
import TestSupport
import Wire
import XCTest

/// What `rehabsim` accepts it can run: a fault's times are at most a day (the injector counts in
/// Int64 nanoseconds), and a profile's physics is within the ranges the simulated joint is made for.
/// Before these bounds, each value here was accepted and then trapped the simulator (an Int64 or
/// Int32 conversion of a time or temperature past its range).
final class SimulatorParameterBoundsTests: XCTestCase {
    // MARK: Fault times

    func testALiveFaultLongerThanADayIsRefusedNamingTheFieldAndTheRange() {
        let result = FaultScript.parseLive(#"{"kind": "drop_replies", "for_ms": 1e13}"#, jointCount: 2)
        guard case .failure(.invalid(_, let issues)) = result else { return XCTFail("accepted: \(result)") }
        XCTAssertEqual(issues.map(\.path), ["for_ms"])
        XCTAssertTrue(issues.first?.message.contains("between 0 and 86400000 ms") == true, "\(issues)")
        XCTAssertTrue(issues.first?.message.contains("found 10000000000000") == true, "\(issues)")
    }

    func testAScriptedFaultLongerThanADayIsRefusedAndOneOfADayIsAccepted() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rehabsim-faults-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        func load(forMilliseconds duration: String) throws -> [InjectedFault] {
            let text = #"{"format": "rehabsim-faults/1", "faults": [{"at_ms": 100, "for_ms": \#(duration), "kind": "drop_replies"}]}"#
            try Data(text.utf8).write(to: url)
            return try FaultScript.load(path: url.path, jointCount: 2)
        }
        XCTAssertThrowsError(try load(forMilliseconds: "1e13")) { error in
            guard case .invalid(_, let issues)? = error as? ProfileError else { return XCTFail("\(error)") }
            XCTAssertEqual(issues.map(\.path), ["faults[0].for_ms"])
            XCTAssertTrue(issues.first?.message.contains("between 0 and 86400000 ms") == true, "\(issues)")
        }
        XCTAssertEqual(try load(forMilliseconds: "86400000").first?.durationMilliseconds, 86_400_000)
    }

    func testTheInjectorTakesAnUncheckedTimePastInt64AsNotYetInsteadOfTrapping() throws {
        let harness = try SimulatorHarness()
        harness.enable()
        // Built in code, so not checked by the script parser: 1e13 ms is 1e19 ns, past Int64.
        let injector = FaultInjector([
            InjectedFault(.dropReplies, .now, forMilliseconds: 1e13),
            InjectedFault(.ignoreCommands, .atMilliseconds(1e300)),
            InjectedFault(.disableWatchdog, .afterEnableMilliseconds(.infinity)),
        ])
        injector.update(device: harness.device, now: harness.time)
        XCTAssertTrue(injector.link.dropsReplies, "begun")
        harness.wait(milliseconds: 10)
        injector.update(device: harness.device, now: harness.time)
        XCTAssertTrue(injector.link.dropsReplies, "1e13 ms are not over after 10 ms")
        XCTAssertEqual(injector.pendingCount, 3, "one running, two not yet due")
    }

    // MARK: Physical parameters

    private func profile(_ name: String = "wrist-trainer") throws -> HardwareProfile {
        try HardwareProfileLoader.load(path: RepositoryPaths.file("hardware/\(name).json").path)
    }

    /// The issues `SimulatedDeviceConfiguration(validating:)` refuses `profile` with.
    private func issues(_ profile: HardwareProfile, file: StaticString = #filePath, line: UInt = #line) -> [ProfileIssue] {
        var found: [ProfileIssue] = []
        XCTAssertThrowsError(try SimulatedDeviceConfiguration(validating: profile), file: file, line: line) { error in
            guard case .invalid(_, let issues)? = error as? ProfileError else { return XCTFail("\(error)", file: file, line: line) }
            found = issues
        }
        return found
    }

    func testTheShippedProfilesAreWithinTheSimulatorsRanges() throws {
        for name in ["wrist-trainer", "ankle-trainer"] {
            XCTAssertNoThrow(try SimulatedDeviceConfiguration(validating: try profile(name)), name)
        }
    }

    func testEachPhysicalParameterOutsideItsRangeIsRefusedWithItsNameValueAndRange() throws {
        let cases: [(WritableKeyPath<JointProfile, Double>, Double, String, String)] = [
            (\.windingResistanceOhms, 1e300, "winding_resistance_ohm", "between 0.01 and 100 Ω"),
            (\.windingResistanceOhms, 0.001, "winding_resistance_ohm", "between 0.01 and 100 Ω"),
            (\.thermalResistanceKelvinPerWatt, 1e300, "thermal_resistance_k_per_w", "between 0.01 and 100 K/W"),
            (\.thermalTimeConstantSeconds, 1e-300, "thermal_time_constant_s", "between 1 and 10000 s"),
            (\.thermalTimeConstantSeconds, 20_000.5, "thermal_time_constant_s", "between 1 and 10000 s"),
            (\.motorTorqueConstantNewtonMetersPerAmpere, 1e-300, "motor_torque_constant_nm_per_a", "between 0.001 and 10 N·m/A"),
            (\.motorTorqueConstantNewtonMetersPerAmpere, 10.5, "motor_torque_constant_nm_per_a", "between 0.001 and 10 N·m/A"),
            (\.inertiaKilogramSquareMeters, 1e-300, "inertia_kg_m2", "and 10 kg·m²"),
            (\.inertiaKilogramSquareMeters, 10.5, "inertia_kg_m2", "and 10 kg·m²"),
        ]
        let wrist = try profile()
        for (field, value, key, range) in cases {
            var bad = wrist
            bad.joints[1][keyPath: field] = value
            let found = issues(bad)
            XCTAssertEqual(found.map(\.path), ["joints[1].\(key)"], "\(key) = \(value)")
            let message = found.first?.message ?? ""
            XCTAssertTrue(message.contains(range), "\(key) = \(value): \(message)")
            XCTAssertTrue(message.contains("found \(value)"), "\(key) = \(value): \(message)")
        }
    }

    func testEveryBadParameterIsReportedAtOnce() throws {
        var bad = try profile()
        bad.joints[0].windingResistanceOhms = 1e300
        bad.joints[1].thermalTimeConstantSeconds = 1e-300
        bad.joints[1].motorTorqueConstantNewtonMetersPerAmpere = 1e-300
        XCTAssertEqual(
            Set(issues(bad).map(\.path)),
            ["joints[0].winding_resistance_ohm", "joints[1].thermal_time_constant_s", "joints[1].motor_torque_constant_nm_per_a"])
    }

    func testViscousFrictionTheSimulationStepCannotDampIsRefused() throws {
        var bad = try profile()
        bad.joints[0].inertiaKilogramSquareMeters = 1e-5
        bad.joints[0].viscousFrictionNewtonMeterSecondsPerRadian = 1  // × 100 µs / 1e-5 kg·m² = 10: diverges
        let found = issues(bad)
        XCTAssertEqual(found.map(\.path), ["joints[0].viscous_friction_nm_s_per_rad"])
        XCTAssertTrue(found.first?.message.contains("µs step") == true, "\(found)")
    }

    func testARatedTorqueNeedingMoreThanAThousandAmperesIsRefused() throws {
        var bad = try profile()
        bad.joints[0].motorTorqueConstantNewtonMetersPerAmpere = 0.001
        bad.joints[0].gearRatio = 1  // 4 N·m at 0.001 N·m/A: 4 000 A
        let found = issues(bad)
        XCTAssertEqual(found.map(\.path), ["joints[0]"])
        XCTAssertTrue(found.first?.message.contains("rated_torque_nm") == true, "\(found)")
        XCTAssertTrue(found.first?.message.contains("at most 1000 A") == true, "\(found)")
    }

    /// The corners of the ranges together (least inertia, most viscous friction the step damps, most
    /// resistance, shortest thermal time, 800 A at rated torque): torque on at the rating trips the
    /// firmware, and nothing traps.
    func testAProfileAtTheEdgesOfTheRangesRunsWithTorqueOnWithoutTrapping() throws {
        var edge = try profile()
        for index in edge.joints.indices {
            edge.joints[index].inertiaKilogramSquareMeters = 1e-6
            edge.joints[index].viscousFrictionNewtonMeterSecondsPerRadian = 0.009
            edge.joints[index].windingResistanceOhms = 100
            edge.joints[index].thermalResistanceKelvinPerWatt = 100
            edge.joints[index].thermalTimeConstantSeconds = 1
            edge.joints[index].motorTorqueConstantNewtonMetersPerAmpere = 0.001
            edge.joints[index].gearRatio = edge.joints[index].ratedTorqueNewtonMeters * 1.25
        }
        let harness = try SimulatorHarness(configuration: try SimulatedDeviceConfiguration(validating: edge))
        harness.enable()
        for _ in 0..<50 {
            harness.send(SimulatorHarness.torqueCommand(edge.joints.map(\.ratedTorqueNewtonMeters)))
            harness.wait(milliseconds: 1)
        }
        let latched = harness.device.latchedFault
        XCTAssertTrue(latched == .overTemperature || latched == .overSpeed, "the firmware trips: \(latched)")
        for joint in edge.joints.indices {
            XCTAssertTrue(harness.device.plant(joint).temperatureCelsius.isFinite)
            XCTAssertTrue(harness.device.plant(joint).velocityRadiansPerSecond.isFinite)
        }
    }
}
