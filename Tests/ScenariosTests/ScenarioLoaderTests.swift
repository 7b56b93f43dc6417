import Control
import DeviceModel
import Foundation
import Profiles
import Scenarios
import StrictJSON
import TestSupport
import XCTest

/// Scenario files: every shipped one loads and fits its robot, exercise and trackers; the shipped set
/// covers every requirement a scenario can show, every therapy mode and every device kind; every kind
/// of mistake is refused with the path of the field and the file's name, before anything runs.
final class ScenarioLoaderTests: XCTestCase {
    private let hardware = RepositoryPaths.file("hardware").path
    private var folder: String { hardware + "/scenarios" }

    /// A valid scenario to break one field at a time.
    static let valid = #"""
        {
          "format": "rehabhost-scenario/1",
          "name": "t",
          "requirements": ["SR-12"],
          "profile": "wrist-trainer",
          "exercise": "wrist-flexion-passive",
          "duration_s": 4,
          "timeline": [{"at_ms": 1000, "label": "estop", "action": "estop"}],
          "expect": [{"event": {"to": "estop", "cause": "operator_estop", "category": 0, "after": "estop", "within_ms": 2}}]
        }
        """#

    static func object(_ text: String) -> JSONObject {
        guard let object = try? JSONParser.parse(text).objectValue else { fatalError("not a JSON object: \(text)") }
        return object
    }

    static func value(_ text: String) -> JSONValue {
        guard let value = try? JSONParser.parse(text) else { fatalError("not JSON: \(text)") }
        return value
    }

    /// The problems of `valid` changed by `change`, as "path: message" lines ([] when it loads).
    private func issues(_ change: (inout JSONObject) -> Void) -> [String] {
        var object = Self.object(Self.valid)
        change(&object)
        return issues(object)
    }

    private func issues(_ object: JSONObject) -> [String] {
        do {
            _ = try ScenarioLoader.parse(object, sourcePath: "bad.json")
            return []
        } catch {
            guard case .invalid(let path, let issues) = error else { return ["\(error)"] }
            XCTAssertEqual(path, "bad.json", "every error names the file")
            return issues.map(\.description)
        }
    }

    private func assertIssue(_ issues: [String], _ prefix: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(issues.contains { $0.hasPrefix(prefix) }, "no issue starting \"\(prefix)\" in \(issues)", file: file, line: line)
    }

    // MARK: The shipped files

    private func shipped() throws -> [Scenario] {
        try ScenarioLoader.files(at: folder).map { try ScenarioLoader.load(path: $0) }
    }

    func testEveryShippedScenarioLoadsAndFitsItsRobotExerciseAndTrackers() throws {
        let files = try ScenarioLoader.files(at: folder)
        XCTAssertGreaterThanOrEqual(files.count, 40)
        XCTAssertFalse(files.contains { $0.contains("/exercises/") }, "the folder's own exercises are not scenarios")
        var names = Set<String>()
        for file in files {
            let scenario = try ScenarioLoader.load(path: file)
            XCTAssertEqual(scenario.name + ".json", URL(fileURLWithPath: file).lastPathComponent, "a scenario is named after its file")
            XCTAssertTrue(names.insert(scenario.name).inserted, "\(scenario.name) twice")
            XCTAssertFalse(scenario.description.isEmpty, "\(scenario.name): say what it shows")
            let profile = try HardwareProfileLoader.load(path: hardware + "/\(scenario.profile).json")
            let exercisePath: String
            switch scenario.exercise {
            case .named(let name): exercisePath = try ExerciseLoader.resolve(name, hardwareFolders: [hardware])
            case .file(_, let path): exercisePath = path
            }
            let exercise = try ExerciseLoader.load(path: exercisePath)
            let trackers = try scenario.trackers.map { try TrackerProfileLoader.load(path: hardware + "/trackers/\($0).json") }
            XCTAssertEqual(ScenarioProfileCheck.problems(scenario, profile: profile, exercise: exercise, trackers: trackers).map(\.description), [],
                           scenario.name)
            // The robot's fault script is exactly a fault script.
            if let script = scenario.faultScript {
                XCTAssertEqual(script["format"]?.stringValue, "rehabsim-faults/1")
                XCTAssertEqual(script["faults"]?.arrayValue?.count, scenario.faults.count)
            }
        }
    }

    func testTheFoldersOwnExercisesLoadAndFitTheWrist() throws {
        let wrist = try HardwareProfileLoader.load(path: hardware + "/wrist-trainer.json")
        for name in ["wrist-swing-25deg", "wrist-swing-8deg"] {
            let exercise = try ExerciseLoader.load(path: folder + "/exercises/\(name).json")
            XCTAssertEqual(exercise.name, name)
            XCTAssertEqual(ExerciseLoader.problems(exercise, profile: wrist), [], name)
        }
    }

    /// At least one scenario per requirement where a fault or an action can show it; the two that
    /// none can are the catalog's "not by a scenario", proven by the tests it names.
    func testEveryRequirementHasAScenarioOrItsTests() throws {
        let scenarios = try shipped()
        let covered = Set(scenarios.flatMap(\.requirements))
        let uncovered = RequirementID.all.filter { !covered.contains($0) }
        XCTAssertEqual(uncovered.map(\.description), ["SR-6", "SR-21"])
        for requirement in uncovered {
            let entry = SafetyRequirementCatalog.entry(requirement)
            XCTAssertNotNil(entry.notByScenario, "\(requirement): say why no scenario shows it")
            XCTAssertFalse(entry.tests.isEmpty, "\(requirement): name the tests that do")
        }
        // Each scenario that names a requirement expects something of it: a refusal, or an event,
        // no event, or a check that names its cause.
        for scenario in scenarios where !scenario.requirements.isEmpty {
            XCTAssertFalse(scenario.expectations.isEmpty, scenario.name)
        }
    }

    func testEveryTherapyModeAndEveryDeviceKindHasAScenario() throws {
        let scenarios = try shipped()
        var modes = Set<String>()
        for scenario in scenarios {
            let path: String
            switch scenario.exercise {
            case .named(let name): path = hardware + "/exercises/\(name).json"
            case .file(_, let file): path = file
            }
            let exercise = try ExerciseLoader.load(path: path)
            if scenario.expectations.allSatisfy({ if case .refusedAtSetup = $0.kind { false } else { true } }) { modes.insert(exercise.mode) }
        }
        XCTAssertEqual(modes, Set(TherapyMode.names), "a scenario runs each mode")
        XCTAssertEqual(Set(scenarios.map(\.profile)), ["wrist-trainer", "ankle-trainer", "dynamixel-wrist"])
    }

    func testAScenarioReadsAsWritten() throws {
        let scenario = try ScenarioLoader.load(path: folder + "/sr12-operator-estop.json")
        XCTAssertEqual(scenario.requirements, [RequirementID("SR-12")!])
        XCTAssertEqual(scenario.profile, "wrist-trainer")
        XCTAssertEqual(scenario.exercise, .named("wrist-flexion-passive"))
        XCTAssertEqual(scenario.timeline.first?.action, .emergencyStop)
        XCTAssertEqual(scenario.timeline.first?.atMilliseconds, 3000)
        XCTAssertEqual(scenario.settings(for: .sim).rateHertz, 500)
        XCTAssertEqual(scenario.settings(for: .virtual).slackMilliseconds, 0)
        guard case .event(let event)? = scenario.expectations.first?.kind else { return XCTFail("an event first") }
        XCTAssertEqual(event.matcher.causes, [.operatorEmergencyStop])
        XCTAssertEqual(event.matcher.category, .cat0)
        XCTAssertEqual(event.after, .timeline(0))
        XCTAssertEqual(event.withinMilliseconds, 2)
        XCTAssertTrue(event.first)

        let relative = try ScenarioLoader.load(path: folder + "/sr13-cat1-stop-that-cannot-brake.json")
        XCTAssertEqual(relative.exercise, .file(written: "exercises/wrist-swing-25deg.json", path: folder + "/exercises/wrist-swing-25deg.json"))
        XCTAssertEqual(relative.faults.map(\.kind), ["brake_failure", "external_torque"])
        XCTAssertEqual(relative.faults.first?.trigger, .afterEnableMilliseconds(600))
        XCTAssertEqual(relative.faults.first?.joint, 0)
        // The entries are kept exactly as written: what rehabsim --faults takes.
        XCTAssertEqual(relative.faults[1].entry, Self.object(#"{"after_enable_ms": 600, "kind": "external_torque", "joint": 0, "torque_nm": 0.05, "ramp_ms": 0}"#))
        guard case .torqueOff(let torqueOff) = relative.expectations[2].kind else { return XCTFail("torque_off third") }
        XCTAssertEqual(torqueOff.after, .expectation(1), "counted from the escalation event's transition")
    }

    func testTheValidExampleLoads() {
        XCTAssertEqual(issues { _ in }, [])
    }

    // MARK: Mistakes, each with its path

    func testUnknownKeysAreErrorsWithASuggestion() {
        assertIssue(issues { $0["profil"] = "wrist-trainer" }, #"profil: unknown key; did you mean "profile"?"#)
        assertIssue(issues { $0["duration"] = 4 }, #"duration: numbers carry their unit in the key name: did you mean "duration_s"?"#)
        assertIssue(issues { $0["timeline"] = Self.value(#"[{"at_ms": 1000, "label": "estop", "action": "estop", "force": true}]"#) },
                    "timeline[0].force: unknown key")
        assertIssue(issues { $0["expect"] = Self.value(#"[{"event": {"to": "estop", "after": "estop", "within": 2}}]"#) },
                    #"expect[0].event.within: numbers carry their unit in the key name: did you mean "within_ms"?"#)
        assertIssue(issues { $0["targets"] = Self.value(#"{"simulator": {"rate_hz": 500}}"#) }, "targets.simulator: unknown target")
    }

    func testAWrongTypeOrUnitIsNamed() {
        assertIssue(issues { $0["expect"] = Self.value(#"[{"event": {"to": "estop", "after": "estop", "within_ms": "2"}}]"#) },
                    "expect[0].event.within_ms: expected a number in ms, found a string")
        assertIssue(issues { $0["duration_s"] = "4 s" }, "duration_s: expected a number in s, found a string")
        assertIssue(issues { $0["rate_hz"] = 0 }, "rate_hz: must be between 1 and 10000 Hz (found 0)")
        assertIssue(issues { $0["patient_limits"] = Self.value(#"{"rom_deg": {"flexion_extension": [10, -10]}}"#) },
                    "patient_limits.rom_deg.flexion_extension: the minimum (10°) must be below the maximum (-10°)")
    }

    func testNegativeTimesAreRefused() {
        assertIssue(issues { $0["timeline"] = Self.value(#"[{"at_ms": -5, "action": "estop"}]"#) },
                    "timeline[0].at_ms: must be between 0 and 86400000 ms (found -5)")
        assertIssue(issues { $0["expect"] = Self.value(#"[{"event": {"to": "estop", "after": "estop", "within_ms": -1}}]"#) },
                    "expect[0].event.within_ms: must be between 0 and 86400000 ms (found -1)")
        assertIssue(issues { $0["faults"] = Self.value(#"[{"after_enable_ms": -1, "kind": "drop_replies"}]"#) },
                    "faults[0].after_enable_ms: must be between 0 and 86400000 ms (found -1)")
    }

    func testTheTimelineIsInTimeOrder() {
        assertIssue(issues {
            $0["timeline"] = Self.value(#"[{"at_ms": 2000, "label": "estop", "action": "estop"}, {"at_ms": 1000, "action": "stop"}]"#)
        }, "timeline[1].at_ms: 1000 ms comes before timeline[0]'s 2000 ms: the timeline is in time order")
        assertIssue(issues {
            $0["timeline"] = Self.value(#"[{"at_ms": 100, "label": "estop", "action": "estop"}, {"setup_at_ms": 50, "action": "stop"}]"#)
        }, "timeline[1].setup_at_ms: set-up entries come before the loop's")
        assertIssue(issues { $0["timeline"] = Self.value(#"[{"at_ms": 1, "setup_at_ms": 1, "label": "estop", "action": "estop"}]"#) },
                    "timeline[0].setup_at_ms: give one time")
        assertIssue(issues { $0["timeline"] = Self.value(#"[{"label": "estop", "action": "estop"}]"#) }, "timeline[0]: needs its time")
    }

    func testUnknownActionsAndWhatActionsNeed() {
        assertIssue(issues { $0["timeline"] = Self.value(#"[{"at_ms": 1000, "label": "estop", "action": "jump", "height_m": 1}]"#) },
                    #"timeline[0].action: unknown action "jump" (actions: estop, stop, pause, resume, reset, release, mode, device_fault, tracker_fault, operator_prompt, wait, host_stall)"#)
        assertIssue(issues { $0["timeline"] = Self.value(#"[{"at_ms": 1000, "label": "estop", "action": "release", "for_ms": 300}]"#) },
                    "timeline[0].action: release acts on a latched fault or e-stop: it needs \"hold_after_fault\": true")
        assertIssue(issues { $0["timeline"] = Self.value(#"[{"at_ms": 1000, "label": "estop", "action": "mode", "mode": "turbo"}]"#) },
                    "timeline[0].mode: unknown mode \"turbo\"")
        assertIssue(issues { $0["timeline"] = Self.value(#"[{"setup_at_ms": 100, "label": "estop", "action": "pause"}]"#) },
                    "timeline[0].action: pause needs the running loop")
        assertIssue(issues { $0["timeline"] = Self.value(#"[{"at_ms": 1000, "label": "estop", "action": "wait", "state": "sleeping", "timeout_ms": 100}]"#) },
                    "timeline[0].state: unknown supervisor state \"sleeping\"")
        assertIssue(issues { $0["timeline"] = Self.value(#"[{"at_ms": 1000, "label": "estop", "action": "tracker_fault", "tracker": "xsens-mti-wrist", "fault": {"kind": "tracker_freeze"}}]"#) },
                    "timeline[0].tracker: \"xsens-mti-wrist\" is not in \"trackers\"")
    }

    func testRequirementTagsAreSR1ToSR25() {
        assertIssue(issues { $0["requirements"] = ["SR-26"] }, #"requirements[0]: "SR-26" is not a safety requirement: SR-1 … SR-25"#)
        assertIssue(issues { $0["requirements"] = ["SR-0"] }, #"requirements[0]: "SR-0" is not a safety requirement"#)
        assertIssue(issues { $0["requirements"] = ["sr-12"] }, #"requirements[0]: "sr-12" is not a safety requirement"#)
        assertIssue(issues { $0["requirements"] = ["SR-12", "SR-12"] }, "requirements[1]: SR-12 is listed twice")
        assertIssue(issues { $0["requirements"] = [12] }, "requirements[0]: expected a requirement such as \"SR-12\", found a number")
        XCTAssertEqual(issues { $0["requirements"] = [] }, [], "a scenario may prove no requirement by itself")
        XCTAssertEqual(RequirementID("SR-25")?.number, 25)
        XCTAssertNil(RequirementID("SR-01"))
        XCTAssertNil(RequirementID("SR-"))
    }

    func testFaultsAreCheckedLikeAFaultScript() {
        assertIssue(issues { $0["faults"] = Self.value(#"[{"kind": "drop_replies"}]"#) },
                    #"faults[0]: needs one trigger: "at_ms", "after_enable_ms" or "at_command""#)
        assertIssue(issues { $0["faults"] = Self.value(#"[{"at_ms": 0, "after_enable_ms": 5, "kind": "drop_replies"}]"#) },
                    "faults[0].after_enable_ms: only one trigger per fault")
        assertIssue(issues { $0["faults"] = Self.value(#"[{"at_ms": 0, "kind": "unplug", "for_ms": 10}]"#) },
                    "faults[0].for_ms: unplug cannot end by itself")
        assertIssue(issues { $0["faults"] = Self.value(#"[{"at_ms": 0, "kind": "external_torque", "joint": 0, "torque": 2}]"#) },
                    "faults[0].torque_nm: missing")
        assertIssue(issues { $0["faults"] = Self.value(#"[{"at_ms": 0, "kind": "device_fault", "code": "melted"}]"#) },
                    #"faults[0].code: unknown fault code "melted""#)
        assertIssue(issues { $0["faults"] = Self.value(#"[{"at_ms": 0, "kind": "teleport"}]"#) }, #"faults[0].kind: unknown fault "teleport""#)
        assertIssue(issues { $0["faults"] = Self.value(#"[{"at_ms": 0, "kind": "tracker_freeze"}]"#) },
                    "faults[0].kind: tracker_freeze is a fault of a tracker: give it as a tracker_fault")
        assertIssue(issues { $0["faults"] = Self.value(#"[{"after_enable_ms": 10, "kind": "wrap_encoder", "joint": 0, "counts_before_wrap": 5}]"#) },
                    "faults[0]: wrap_encoder places the raw counter before the host connects")
        assertIssue(issues { $0["faults"] = Self.value(#"[{"at_ms": 0, "kind": "jump_encoder", "joint": 0, "counts": 0}]"#) },
                    "faults[0].counts: a jump of 0 counts is no fault")
        // A timeline's fault has no trigger of its own: its entry's time is it.
        assertIssue(issues {
            $0["timeline"] = Self.value(#"[{"at_ms": 1000, "label": "estop", "action": "device_fault", "fault": {"at_ms": 5, "kind": "drop_replies"}}]"#)
        }, "timeline[0].fault.at_ms: a timeline's fault begins at its entry's time")
    }

    func testReferencesAndLabelsAreResolved() {
        assertIssue(issues { $0["expect"] = Self.value(#"[{"event": {"to": "estop", "after": "estp", "within_ms": 2}}]"#) },
                    #"expect[0].event.after: no timeline entry or earlier event expectation is labelled "estp" (labels: estop)"#)
        assertIssue(issues { $0["expect"] = Self.value(#"[{"event": {"to": "estop", "after": 3, "within_ms": 2}}]"#) },
                    "expect[0].event.after: timeline[3] does not exist")
        assertIssue(issues { $0["expect"] = Self.value(#"[{"event": {"to": "estop", "after": "faults[0]", "within_ms": 2}}]"#) },
                    #"expect[0].event.after: the scenario has no "faults""#)
        assertIssue(issues { $0["expect"] = Self.value(#"[{"event": {"to": "estop", "within_ms": 2}}]"#) },
                    "expect[0].event.within_ms: needs \"after\"")
        assertIssue(issues {
            $0["expect"] = Self.value(#"[{"torque_off": {"after": "later", "within_ms": 2}}, {"label": "later", "event": {"to": "estop"}}]"#)
        }, #"expect[0].torque_off.after: no timeline entry or earlier event expectation is labelled "later""#)
        assertIssue(issues {
            $0["expect"] = Self.value(#"[{"label": "fin", "final_state": "estop"}, {"torque_off": {"after": "fin", "within_ms": 2}}]"#)
        }, #"expect[1].torque_off.after: "fin" is not an event expectation"#)
        assertIssue(issues { $0["expect"] = Self.value(#"[{"label": "estop", "final_state": "estop"}]"#) },
                    #"expect[0].label: "estop" labels an earlier entry already"#)
        // A reference to an earlier event works.
        XCTAssertEqual(issues {
            $0["expect"] = Self.value(#"[{"label": "trip", "event": {"to": "estop"}}, {"torque_off": {"after": "trip", "within_ms": 2}}]"#)
        }, [])
    }

    func testExpectationsAreCheckedByKind() {
        assertIssue(issues { $0["expect"] = Self.value(#"[{"event": {"to": "estop"}, "final_state": "estop"}]"#) },
                    "expect[0]: one expectation per object: found event and final_state")
        assertIssue(issues { $0["expect"] = Self.value(#"[{"label": "x"}]"#) }, "expect[0]: needs one of: event, no_event")
        assertIssue(issues { $0["expect"] = Self.value("[]") }, "expect: a scenario proves something")
        assertIssue(issues { $0["expect"] = Self.value(#"[{"event": {"cause": "operator_estop", "requirement": "SR-11"}}]"#) },
                    "expect[0].event.requirement: operator_estop belongs to SR-12, not SR-11")
        assertIssue(issues { $0["expect"] = Self.value(#"[{"event": {"cause": "estop_pressed"}}]"#) },
                    #"expect[0].event.cause: unknown cause "estop_pressed""#)
        assertIssue(issues { $0["expect"] = Self.value(#"[{"event": {"after": "estop"}}]"#) },
                    "expect[0].event: say which transition")
        assertIssue(issues { $0["expect"] = Self.value(#"[{"event": {"cause": "position_beyond_soft_limit", "value_min_ms": 2}}]"#) },
                    "expect[0].event.value_min_ms: position_beyond_soft_limit's value is in deg: use value_min_deg")
        XCTAssertEqual(issues { $0["expect"] = Self.value(#"[{"event": {"cause": "position_beyond_soft_limit", "value_min_deg": 2, "value_max_deg": 2.2}}]"#) }, [])
        assertIssue(issues { $0["expect"] = Self.value(#"[{"final_state": "asleep"}]"#) }, #"expect[0].final_state: unknown supervisor state "asleep""#)
        assertIssue(issues { $0["expect"] = Self.value(#"[{"metric": {"name": "rom_furlongs", "min": 1}}]"#) }, #"expect[0].metric.name: unknown metric "rom_furlongs""#)
        assertIssue(issues { $0["expect"] = Self.value(#"[{"metric": {"name": "rom_deg"}}]"#) }, "expect[0].metric: give \"min\", \"max\" or both")
        assertIssue(issues { $0["expect"] = Self.value(#"[{"metric": {"name": "cycles", "joint": "flexion_extension", "min": 1}}]"#) },
                    "expect[0].metric.joint: cycles is one number for the session")
        XCTAssertEqual(issues { $0["expect"] = Self.value(#"[{"metric": {"name": "time_in_state_s.paused", "max": 0}}]"#) }, [])
        assertIssue(issues { $0["expect"] = Self.value(#"[{"link_quality": {"grade": "OK", "max_s": 0}}]"#) }, #"expect[0].link_quality.grade: unknown grade "OK""#)
        assertIssue(issues { $0["expect"] = Self.value(#"[{"link_quality": {"grade": "LOST", "max_episodes": 0}}]"#) },
                    "expect[0].link_quality.max_episodes: episodes are counted for FAIR and POOR only")
        assertIssue(issues { $0["expect"] = Self.value(#"[{"device_event": {"event": "explosion"}}]"#) },
                    #"expect[0].device_event.event: unknown device event "explosion""#)
        assertIssue(issues { $0["expect"] = Self.value(#"[{"torque_off": {"after": "estop", "within_ms": 2, "evidence": "rumour"}}]"#) },
                    "expect[0].torque_off.evidence: expected \"command\"")
        assertIssue(issues { $0["expect"] = Self.value(#"[{"refused_at_setup": {"reason_contains": 3}}]"#) },
                    "expect[0].refused_at_setup.reason_contains: expected a non-empty string, or a list of them")
        assertIssue(issues { $0["expect"] = Self.value(#"[{"refused_at_setup": {}}]"#) },
                    "timeline[0]: the scenario expects a refusal at set-up, so there is no loop for this entry")
        assertIssue(issues { $0["expect"] = Self.value(#"[{"only_on": ["moon"], "final_state": "idle"}]"#) }, "expect[0].only_on[0]: expected a target")
    }

    func testNamesAndPathsOfTheSession() {
        assertIssue(issues { $0["profile"] = "hardware/wrist-trainer.json" }, "profile: a hardware profile's name")
        assertIssue(issues { $0["exercise"] = "/etc/passwd" }, "exercise: a path is taken from the scenario's folder")
        assertIssue(issues { $0["patient"] = "zombie" }, #"patient: unknown patient "zombie" (the simulated patients: healthy, stroke-mild, stroke-severe, passive)"#)
        assertIssue(issues { $0["name"] = "with space" }, "name: use letters, digits")
        assertIssue(issues { $0["format"] = "rehabhost-scenario/2" }, #"format: expected "rehabhost-scenario/1", found "rehabhost-scenario/2""#)
        assertIssue(issues { $0["reference_tracker"] = "xsens-mti-wrist" }, "reference_tracker: \"xsens-mti-wrist\" is not in \"trackers\"")
        assertIssue(issues { $0["workspace"] = Self.value(#"{"tracker": "ndi-polaris-hand", "min_m": [0, 0, 0], "max_m": [1, 1, 1]}"#) },
                    "workspace.tracker: \"ndi-polaris-hand\" is not in \"trackers\"")
        assertIssue(issues { $0["targets"] = Self.value(#"{"rig": {"runs": false}}"#) }, "targets.rig.note: say why the scenario does not run on rig")
        // A path to an exercise is taken from the scenario's folder.
        var object = Self.object(Self.valid)
        object["exercise"] = "exercises/wrist-swing-25deg.json"
        let scenario = try? ScenarioLoader.parse(object, sourcePath: "/x/y/scenario.json")
        XCTAssertEqual(scenario?.exercise, .file(written: "exercises/wrist-swing-25deg.json", path: "/x/y/exercises/wrist-swing-25deg.json"))
    }

    func testEveryProblemIsReportedAtOnce() {
        let problems = issues {
            $0["format"] = "nope"
            $0["rate_hz"] = -1
            $0["requirements"] = ["SR-99"]
            $0["timeline"] = Self.value(#"[{"at_ms": 1000, "label": "estop", "action": "fly"}]"#)
        }
        XCTAssertGreaterThanOrEqual(problems.count, 4, "\(problems)")
    }

    func testAMissingFileAndBadJSONNameTheFile() {
        XCTAssertThrowsError(try ScenarioLoader.load(path: "/nonexistent/scenario.json")) { error in
            XCTAssertEqual("\(error)", "/nonexistent/scenario.json: no such file")
        }
        XCTAssertThrowsError(try ScenarioLoader.files(at: "/nonexistent/folder"))
    }

    func testTheProfileCheckFindsWhatTheRobotCannotDo() throws {
        let wrist = try HardwareProfileLoader.load(path: hardware + "/wrist-trainer.json")
        let dynamixel = try HardwareProfileLoader.load(path: hardware + "/dynamixel-wrist.json")
        let assist = try ExerciseLoader.load(path: hardware + "/exercises/wrist-flexion-assist.json")
        var object = Self.object(Self.valid)
        object["faults"] = Self.value(#"[{"at_ms": 0, "kind": "overload", "id": 7}, {"at_ms": 0, "kind": "freeze_encoder", "joint": 5}]"#)
        object["timeline"] = Self.value(#"[{"at_ms": 1000, "label": "estop", "action": "mode", "mode": "mirror"}]"#)
        object["patient_limits"] = Self.value(#"{"rom_deg": {"elbow": [-10, 10]}}"#)
        object["expect"] = Self.value(#"[{"metric": {"name": "rom_deg", "joint": "knee", "min": 1}}]"#)
        let scenario = try ScenarioLoader.parse(object, sourcePath: "t.json")
        let onWrist = ScenarioProfileCheck.problems(scenario, profile: wrist, exercise: assist).map(\.description)
        assertIssue(onWrist, "faults[0].kind: overload is not a fault of wrist-trainer's simulator (rehablink/1:")
        assertIssue(onWrist, "faults[0].id: wrist-trainer has no servo 7")
        assertIssue(onWrist, "faults[1].joint: wrist-trainer has joints 0 … 1")
        assertIssue(onWrist, "timeline[0].mode: wrist-flexion-assist offers no mirror")
        assertIssue(onWrist, "patient_limits.rom_deg.elbow: no joint \"elbow\"")
        assertIssue(onWrist, "expect[0].metric.joint: no joint \"knee\"")
        let onServos = ScenarioProfileCheck.problems(scenario, profile: dynamixel).map(\.description)
        assertIssue(onServos, "faults[0].id: dynamixel-wrist has no servo 7 (its servos: 1, 2)")
        assertIssue(onServos, "faults[1].kind: freeze_encoder is not a fault of dynamixel-wrist's simulator")
    }
}
