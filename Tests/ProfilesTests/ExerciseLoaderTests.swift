import Control
import DeviceModel
import Foundation
import Profiles
import StrictJSON
import TestSupport
import XCTest

/// Exercise files: every shipped one loads and fits its robot; every kind of mistake is refused
/// with the path of the field and the unit expected, before anything moves.
final class ExerciseLoaderTests: XCTestCase {
    private let folder = RepositoryPaths.file("hardware").path

    private func profile(_ name: String) throws -> HardwareProfile {
        try HardwareProfileLoader.load(path: folder + "/\(name).json")
    }

    private let valid: JSONObject = [
        "format": .string("rehabhost-exercise/1"), "name": .string("t"), "mode": .string("passive"),
        "joint": .string("flexion_extension"), "range_min_deg": .double(-20), "range_max_deg": .double(30),
        "repetitions": .int(3), "movement_s": .double(2),
    ]

    private func issues(_ change: (inout JSONObject) -> Void) -> [ProfileIssue] {
        var object = valid
        change(&object)
        do {
            _ = try ExerciseLoader.parse(object, sourcePath: "x.json")
            return []
        } catch {
            guard case .invalid(_, let issues) = error else { return [ProfileIssue(path: "?", message: "\(error)")] }
            return issues
        }
    }

    func testEveryShippedExerciseLoadsAndFitsItsRobot() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder + "/exercises").filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertEqual(names, ["ankle-dorsiflexion-passive.json", "forearm-rotation-timed.json", "wrist-flexion-assist.json", "wrist-flexion-mirror.json", "wrist-flexion-passive.json", "wrist-flexion-resist.json", "wrist-free-transparent.json"])
        for name in names {
            let exercise = try ExerciseLoader.load(path: folder + "/exercises/" + name)
            XCTAssertEqual(exercise.name + ".json", name)
            let robot = try profile(name.hasPrefix("ankle") ? "ankle-trainer" : "wrist-trainer")
            XCTAssertEqual(ExerciseLoader.problems(exercise, profile: robot), [], name)
        }
        let wrist = try ExerciseLoader.load(path: folder + "/exercises/wrist-flexion-passive.json")
        XCTAssertEqual(wrist.rangeMinimumRadians, -30 * .pi / 180, accuracy: 1e-12, "degrees in the file, radians inside")
        XCTAssertEqual(wrist.repetitions, 10)
        XCTAssertEqual(wrist.stiffnessNewtonMetersPerRadian, 20)
        XCTAssertEqual(try ExerciseLoader.resolve("wrist-flexion-passive", hardwareFolders: ["/nonexistent", folder]),
                       folder + "/exercises/wrist-flexion-passive.json")
    }

    func testModesAreCheckedByName() {
        XCTAssertEqual(issues { $0["mode"] = .string("mirror") }.map(\.description), ["mirror: missing"])
        XCTAssertEqual(issues { $0["mode"] = .string("active_assist") }.map(\.description), ["assistance: missing"])
        // Another mode's block makes that mode available to switch to: it is checked like the mode's own.
        XCTAssertEqual(issues { $0["resistance"] = .object(["spring_nm_per_rad": .double(1)]) }.map(\.description),
                       ["resistance.damper_nm_s_per_rad: missing", "resistance.constant_nm: missing", "resistance.max_torque_nm: missing"])
        let assistance: JSONObject = [
            "gain_min": .double(0.8), "gain_max": .double(0.5), "gain_initial": .double(0.6), "forgetting_factor_per_s": .double(0.9),
            "error_gain_per_rad_s": .double(5), "error_deadband": .double(3),
        ]
        let found = issues {
            $0["mode"] = .string("active_assist")
            $0["assistance"] = .object(assistance)
        }
        XCTAssertEqual(found.map(\.path).sorted(), ["assistance.error_deadband", "assistance.gain_min"], "\(found)")
        XCTAssertTrue(found.contains { $0.message.contains("did you mean \"error_deadband_deg\"") }, "\(found)")
        XCTAssertEqual(issues { $0["mode"] = .string("zero_g") }.map(\.path), ["mode"])
        XCTAssertTrue(issues { $0["mode"] = .string("zero_g") }[0].message.contains("unknown mode"))
    }

    func testMirrorSettingsAreReadInSIUnitsAndCheckedAgainstTheRobot() throws {
        let mirror = try ExerciseLoader.load(path: folder + "/exercises/wrist-flexion-mirror.json")
        let settings = try XCTUnwrap(mirror.mirror)
        XCTAssertEqual(settings.scale, -1)
        XCTAssertEqual(settings.maximumSpeedRadiansPerSecond, 60 * .pi / 180, accuracy: 1e-12, "°/s in the file, rad/s inside")
        XCTAssertEqual(settings.maximumRmsErrorMillimeters, 1)
        let exercise = try RangeOfMotionExercise(mirror, profile: try profile("wrist-trainer"))
        XCTAssertEqual(exercise.mode, .mirror(settings))

        let tooFast = issues {
            $0["mode"] = .string("mirror")
            $0["mirror"] = .object(["scale": .double(0.05), "max_speed": .double(500)])
        }
        XCTAssertEqual(tooFast.map(\.path).sorted(), ["mirror.max_speed", "mirror.max_speed_deg_per_s", "mirror.scale"], "\(tooFast)")
        XCTAssertTrue(tooFast.contains { $0.message.contains("did you mean \"max_speed_deg_per_s\"") }, "\(tooFast)")
        var fast = mirror
        fast.mirror?.maximumSpeedRadiansPerSecond = 100 * .pi / 180
        let problems = ExerciseLoader.problems(fast, profile: try profile("wrist-trainer"))
        XCTAssertEqual(problems.map(\.path), ["mirror.max_speed_deg_per_s"], "\(problems)")
        XCTAssertTrue(problems[0].message.contains("at most 68.8 °/s"), "\(problems)")
    }

    /// R3: the mirror target's acceleration is limited (default: full speed in 0.25 s), never above the
    /// robot's quick-stop rate.
    func testMirrorAccelerationIsReadAndCheckedAgainstTheQuickStop() throws {
        let mirror = try ExerciseLoader.load(path: folder + "/exercises/wrist-flexion-mirror.json")
        let settings = try XCTUnwrap(mirror.mirror)
        XCTAssertEqual(settings.maximumAccelerationRadiansPerSecondSquared, settings.maximumSpeedRadiansPerSecond / 0.25, accuracy: 1e-9)
        var steep = mirror
        steep.mirror?.maximumAccelerationRadiansPerSecondSquared = 30
        let problems = ExerciseLoader.problems(steep, profile: try profile("wrist-trainer"))
        XCTAssertEqual(problems.map(\.path), ["mirror.max_acceleration_rad_per_s2"], "\(problems)")
        XCTAssertTrue(problems[0].message.contains("quick-stop"), "\(problems)")
    }

    func testTheBlocksOfOtherModesMakeThemAvailableToSwitchTo() throws {
        let assist = try ExerciseLoader.load(path: folder + "/exercises/wrist-flexion-assist.json")
        let exercise = try RangeOfMotionExercise(assist, profile: try profile("wrist-trainer"))
        XCTAssertEqual(exercise.availableModes.map(\.name), ["active_assist", "transparent", "passive"],
                       "the shipped assist exercise offers transparency (its block) and passive (always)")
        XCTAssertEqual(exercise.mode.name, "active_assist", "it starts in its `mode`")
    }

    func testAMissingUnitGetsTheUnitHint() {
        let found = issues {
            $0["range_min"] = $0["range_min_deg"]
            $0["range_min_deg"] = nil
        }
        XCTAssertEqual(found.map(\.path).sorted(), ["range_min", "range_min_deg"])
        XCTAssertTrue(found.contains { $0.path == "range_min" && $0.message.contains("did you mean \"range_min_deg\"") }, "\(found)")
    }

    func testRepetitionsOrDurationExactlyOne() {
        XCTAssertEqual(issues { $0["duration_s"] = .double(30) }.map(\.path), ["repetitions"])
        XCTAssertEqual(issues { $0["repetitions"] = nil }.map(\.path), ["repetitions"])
        XCTAssertEqual(issues { $0["repetitions"] = .int(0) }.map(\.path), ["repetitions"])
    }

    func testTheRangeMustContainNeutralAndBeNumbersInDegrees() {
        XCTAssertEqual(issues { $0["range_min_deg"] = .double(5) }.map(\.path), ["range_min_deg"])
        XCTAssertEqual(issues { $0["range_max_deg"] = .string("30") }.map(\.description),
                       ["range_max_deg: expected a number in °, found a string"])
    }

    func testWhatDoesNotFitTheRobotIsRefusedWithTheLimit() throws {
        let wrist = try profile("wrist-trainer")
        var object = valid
        object["range_max_deg"] = .double(68)   // hard limit 70°, soft limit 65°
        object["movement_s"] = .double(0.5)     // 88° in 0.5 s peaks far above the 1.5 rad/s trip
        object["joint"] = .string("flexion_extension")
        let exercise = try ExerciseLoader.parse(object, sourcePath: "x.json")
        let problems = ExerciseLoader.problems(exercise, profile: wrist)
        XCTAssertEqual(problems.map(\.path), ["range_max_deg", "movement_s"])
        XCTAssertTrue(problems[0].message.contains("beyond the soft limit of flexion_extension (65°"), problems[0].message)
        XCTAssertTrue(problems[1].message.contains("above 80 % of the velocity trip"), problems[1].message)
        object["joint"] = .string("knee")
        let other = try ExerciseLoader.parse(object, sourcePath: "x.json")
        XCTAssertEqual(ExerciseLoader.problems(other, profile: wrist).map(\.description),
                       ["joint: \"knee\" is not a joint of wrist-trainer (joints: flexion_extension, pronation_supination)"])
    }
}
