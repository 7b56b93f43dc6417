import Control
import Scenarios
import StrictJSON
import XCTest

/// The evaluator against made-up observations: each kind of expectation passes when the run did what
/// it says and fails (saying what was expected and what was observed) when it did not; what a target
/// cannot see is unobservable, never passed.
final class ScenarioEvaluatorTests: XCTestCase {
    private let ms: Int64 = 1_000_000

    private func scenario(_ expect: String, timeline: String = #"[{"at_ms": 3000, "label": "estop", "action": "estop"}]"#,
                          extra: String = "") throws -> Scenario {
        let text = """
            {"format": "rehabhost-scenario/1", "name": "t", "requirements": ["SR-12"], "profile": "wrist-trainer",
             "exercise": "wrist-flexion-passive", \(extra) "timeline": \(timeline), "expect": \(expect)}
            """
        return try ScenarioLoader.parse(ScenarioLoaderTests.object(text), sourcePath: "t.json")
    }

    private func transition(_ milliseconds: Double, _ from: SupervisorState, _ to: SupervisorState, _ cause: SafetyCause,
                            _ category: StopCategory? = nil, value: Double = 0, joint: Int? = nil) -> ObservedTransition {
        ObservedTransition(cycle: Int64(milliseconds), timeNanoseconds: Int64(milliseconds * 1e6), from: from, to: to, cause: cause,
                           category: category, value: value, joint: joint)
    }

    /// A run that started, was e-stopped `estopAfter` ms after the request posted at 3000 ms, and
    /// commanded torque off `torqueOffAfter` ms after it.
    private func estopRun(estopAfter: Double = 0.9, torqueOffAfter: Double = 0.9, target: ScenarioTarget = .virtual) -> ScenarioObservation {
        ScenarioObservation(
            target: target, rateHertz: 1_000,
            transitions: [
                transition(1, .ready, .active, .startRequested),
                transition(3_000 + estopAfter, .active, .estop, .operatorEmergencyStop, .cat0),
            ],
            actions: [ObservedAction(index: 0, outcome: .performed, timeNanoseconds: 3_000 * ms, accepted: true)],
            finalState: .estop, deviceEverEnabled: true, deviceEnabledAtEnd: false,
            linkQuality: ObservedLinkQuality(secondsGood: 3, secondsFair: 0.5, secondsPoor: 0, secondsLost: 0, fairEpisodes: 1, poorEpisodes: 0),
            torqueOffCommandTimes: [Int64((3_000 + torqueOffAfter) * 1e6)])
    }

    private func verdicts(_ scenario: Scenario, _ observation: ScenarioObservation) -> [ExpectationResult] {
        ScenarioEvaluator.evaluate(scenario, plan: ScenarioPlan(scenario, target: observation.target), observation: observation)
    }

    private func statuses(_ scenario: Scenario, _ observation: ScenarioObservation) -> [ExpectationResult.Status] {
        verdicts(scenario, observation).map(\.status)
    }

    // MARK: event

    func testAnEventWithinItsDeadlinePassesAndALateOneFailsSayingBoth() throws {
        let s = try scenario(#"[{"event": {"to": "estop", "cause": "operator_estop", "requirement": "SR-12", "category": 0, "after": "estop", "within_ms": 2, "first": true}}]"#)
        let passed = verdicts(s, estopRun())
        XCTAssertEqual(passed.map(\.status), [.passed])
        XCTAssertTrue(passed[0].expected.contains("within 2 ms of timeline[0] \"estop\" (estop at 3000 ms)"), passed[0].expected)
        XCTAssertTrue(passed[0].observed.contains("active → estop, operator_estop (SR-12), Cat 0, at 3000.9 ms"), passed[0].observed)
        XCTAssertTrue(passed[0].observed.contains("0.9 ms after it"), passed[0].observed)

        let late = verdicts(s, estopRun(estopAfter: 3.5))
        XCTAssertEqual(late.map(\.status), [.failed])
        XCTAssertTrue(late[0].observed.contains("3.5 ms after it — too late"), late[0].observed)
        let result = ScenarioEvaluator.result(s, plan: ScenarioPlan(s, target: .virtual), observation: estopRun(estopAfter: 3.5), timeSeconds: 0.1)
        XCTAssertEqual(result.outcome, .failed)
        XCTAssertTrue(result.message?.hasPrefix("expect[0] event: expected a transition to estop") == true, result.message ?? "")
        XCTAssertTrue(result.progressLine.hasPrefix("FAIL  t  virtual  0.1 s — expect[0] event"), result.progressLine)
    }

    func testTheTargetsSlackWidensTheUpperDeadlineOnly() throws {
        let s = try scenario(#"[{"event": {"to": "estop", "after": "estop", "not_before_ms": 0.5, "within_ms": 2}}]"#)
        XCTAssertEqual(statuses(s, estopRun(estopAfter: 3.5, target: .virtual)), [.failed])
        XCTAssertEqual(statuses(s, estopRun(estopAfter: 3.5, target: .sim)), [.passed], "5 ms of slack on the simulator")
        XCTAssertEqual(statuses(s, estopRun(estopAfter: 0.2, target: .sim)), [.failed], "no slack on a lower bound")
        XCTAssertTrue(verdicts(s, estopRun(estopAfter: 0.2)).first?.observed.hasSuffix("too early") == true)
    }

    func testFirstMeansTheFirstSafetyEventFromTheReferenceOn() throws {
        let s = try scenario(#"[{"event": {"to": "estop", "cause": "operator_estop", "after": "estop", "within_ms": 10, "first": true}}]"#)
        var run = estopRun(estopAfter: 5)
        run.transitions.insert(transition(3_001, .active, .fault, .deviceSilent, .cat1), at: 1)
        let verdict = verdicts(s, run)[0]
        XCTAssertEqual(verdict.status, .failed)
        XCTAssertTrue(verdict.observed.contains("the first safety event from 3000 ms on was active → fault, device_silent (SR-1), Cat 1"), verdict.observed)
        // Without "first", the later e-stop matches.
        let any = try scenario(#"[{"event": {"to": "estop", "cause": "operator_estop", "after": "estop", "within_ms": 10}}]"#)
        XCTAssertEqual(statuses(any, run), [.passed])
    }

    func testAMissingEventListsWhatHappenedInstead() throws {
        let s = try scenario(#"[{"event": {"cause": ["overspeed", "device_fault"], "category": 0, "after": "estop"}}]"#)
        let verdict = verdicts(s, estopRun())[0]
        XCTAssertEqual(verdict.status, .failed)
        XCTAssertTrue(verdict.expected.contains("cause overspeed or device_fault"), verdict.expected)
        XCTAssertTrue(verdict.observed.contains("no such transition from 3000 ms on; the transitions were: active → estop"), verdict.observed)
    }

    func testValueBoundsAndJoints() throws {
        let s = try scenario(#"[{"event": {"cause": "position_beyond_soft_limit", "joint": 0, "value_min_deg": 2, "value_max_deg": 2.2}}]"#)
        var run = estopRun()
        run.transitions = [transition(1_500, .active, .fault, .positionBeyondSoftLimit, .cat1, value: 2.1, joint: 0)]
        XCTAssertEqual(statuses(s, run), [.passed])
        run.transitions = [transition(1_500, .active, .fault, .positionBeyondSoftLimit, .cat1, value: 2.5, joint: 0)]
        XCTAssertEqual(statuses(s, run), [.failed])
        run.transitions = [transition(1_500, .active, .fault, .positionBeyondSoftLimit, .cat1, value: 2.1, joint: 1)]
        XCTAssertEqual(statuses(s, run), [.failed])
    }

    func testAReferenceToAnEarlierEventCountsFromItsTransition() throws {
        let s = try scenario(#"[{"label": "trip", "event": {"to": "estop", "after": "estop"}}, {"torque_off": {"after": "trip", "within_ms": 0.5}}]"#)
        XCTAssertEqual(statuses(s, estopRun(estopAfter: 0.9, torqueOffAfter: 1.2)), [.passed, .passed])
        XCTAssertEqual(statuses(s, estopRun(estopAfter: 0.9, torqueOffAfter: 2)), [.passed, .failed])
        // When the event itself was not seen, what counts from it fails too, saying why.
        var run = estopRun()
        run.transitions.removeLast()
        let results = verdicts(s, run)
        XCTAssertEqual(results.map(\.status), [.failed, .failed])
        XCTAssertTrue(results[1].observed.contains("was not observed, so nothing counts from it"), results[1].observed)
    }

    // MARK: no_event, no_safety_event, final_state

    func testAbsenceInAWindow() throws {
        let s = try scenario(#"[{"no_event": {"to": "active", "after": "estop"}}, {"no_safety_event": {"before": "estop"}}, {"no_safety_event": {"from_ms": 2000, "to_ms": 3500}}]"#)
        XCTAssertEqual(statuses(s, estopRun()), [.passed, .passed, .failed])
        var restarted = estopRun()
        restarted.transitions.append(transition(3_400, .estop, .active, .startRequested))
        let results = verdicts(s, restarted)
        XCTAssertEqual(results[0].status, .failed)
        XCTAssertTrue(results[0].observed.hasPrefix("estop → active, start_requested"), results[0].observed)
        // SR-1's grade changes are logged as active → active: no transition *to* active (seen on a rig, where
        // "never restarts after the e-stop" failed on a link restored while the robot stood still).
        var restored = estopRun()
        restored.transitions.append(transition(3_300, .active, .active, .linkRestored))
        XCTAssertEqual(verdicts(s, restored)[0].status, .passed)
        // Named by its cause, it is matched.
        let named = try scenario(#"[{"no_event": {"to": "active", "cause": "link_restored", "after": "estop"}}]"#)
        XCTAssertEqual(verdicts(named, restored)[0].status, .failed)
    }

    func testFinalState() throws {
        let s = try scenario(#"[{"final_state": ["idle", "disabled"]}]"#)
        XCTAssertEqual(statuses(s, estopRun()), [.failed])
        var run = estopRun()
        run.finalState = .idle
        XCTAssertEqual(statuses(s, run), [.passed])
        run.finalState = nil
        XCTAssertEqual(statuses(s, run), [.unobservable])
    }

    // MARK: metric, link_quality

    func testMetricsByNameJointAndUnit() throws {
        let s = try scenario(#"""
            [{"metric": {"name": "rom_deg", "min": 50}},
             {"metric": {"name": "rom_rad", "joint": "pronation_supination", "max": 0.01}},
             {"metric": {"name": "cycles", "min": 5000}},
             {"metric": {"name": "time_in_state_s.paused", "max": 0}},
             {"metric": {"name": "link_quality.fair_episodes", "max": 0}},
             {"metric": {"name": "rom_deg", "joint": "elbow", "min": 1}}]
            """#)
        var run = estopRun()
        run.metrics = ScenarioLoaderTests.value(#"""
            {"joints": ["flexion_extension", "pronation_supination"], "exercised_joint": "flexion_extension", "rom_rad": [1.0, 0.0],
             "cycles": 4000, "time_in_state_s": {"active": 3.2}, "link_quality": {"fair_episodes": 2}}
            """#)
        let results = verdicts(s, run)
        XCTAssertEqual(results.map(\.status), [.passed, .passed, .failed, .passed, .failed, .failed])
        XCTAssertTrue(results[0].observed.contains("rom_deg of the exercised joint = 57.2958"), results[0].observed)
        XCTAssertTrue(results[5].observed.contains("no joint \"elbow\""), results[5].observed)
        run.metrics = .null
        XCTAssertEqual(statuses(s, run), Array(repeating: .unobservable, count: 6))
    }

    func testLinkQuality() throws {
        let s = try scenario(#"[{"link_quality": {"grade": "FAIR", "max_s": 0}}, {"link_quality": {"grade": "POOR", "max_s": 0}}, {"link_quality": {"grade": "FAIR", "min_episodes": 1, "max_episodes": 1}}]"#)
        let results = verdicts(s, estopRun())
        XCTAssertEqual(results.map(\.status), [.failed, .passed, .passed])
        XCTAssertEqual(results[0].observed, "FAIR 0.5 s in 1 episode")
    }

    // MARK: torque_off, device events

    func testTorqueOffByTheHostAndByTheDevice() throws {
        let s = try scenario(#"[{"torque_off": {"after": "estop", "within_ms": 2}}, {"torque_off": {"after": "estop", "within_ms": 3, "evidence": "device"}}]"#)
        var run = estopRun(torqueOffAfter: 1)
        XCTAssertEqual(statuses(s, run), [.passed, .unobservable], "no device log: unobservable, not passed")
        run.deviceEvents = [ObservedDeviceEvent(timeNanoseconds: 3_002 * ms, name: "torque_off", joint: 0)]
        XCTAssertEqual(statuses(s, run), [.passed, .passed])
        run.deviceEvents = [ObservedDeviceEvent(timeNanoseconds: 3_004 * ms, name: "torque_off")]
        XCTAssertEqual(statuses(s, run), [.passed, .failed])
        run.torqueOffCommandTimes = []
        let results = verdicts(s, run)
        XCTAssertEqual(results[0].status, .failed)
        XCTAssertEqual(results[0].observed, "no torque off from 3000 ms on")
    }

    func testDeviceEventsAndTheirAbsence() throws {
        let s = try scenario(#"""
            [{"device_event": {"event": "estop_released", "after": "estop", "not_before_ms": 199, "within_ms": 210}},
             {"no_device_event": {"event": "fault_reset", "before": "estop"}},
             {"device_event": {"event": "torque_off", "joint": 1}}]
            """#)
        var run = estopRun()
        run.deviceEvents = [
            ObservedDeviceEvent(timeNanoseconds: 3_200 * ms, name: "estop_released"),
            ObservedDeviceEvent(timeNanoseconds: 3_500 * ms, name: "fault_reset"),
            ObservedDeviceEvent(timeNanoseconds: 3_001 * ms, name: "torque_off", joint: 0),
        ]
        XCTAssertEqual(statuses(s, run), [.passed, .passed, .failed])
        run.deviceEvents?.append(ObservedDeviceEvent(timeNanoseconds: 2_000 * ms, name: "fault_reset"))
        run.deviceEvents?.append(ObservedDeviceEvent(timeNanoseconds: 3_001 * ms, name: "torque_off", joint: 1))
        XCTAssertEqual(statuses(s, run), [.passed, .failed, .passed])
        run.deviceEvents = nil
        XCTAssertEqual(statuses(s, run), [.unobservable, .unobservable, .unobservable])
    }

    // MARK: script faults

    func testDeadlinesFromAScriptFaultCountFromTheDevicesRecord() throws {
        let s = try scenario(#"[{"event": {"cause": "device_fault", "after": "faults[0]", "within_ms": 3}}]"#, timeline: "[]",
                             extra: #""faults": [{"after_enable_ms": 1000, "kind": "over_temperature", "joint": 0}],"#)
        var run = ScenarioObservation(target: .virtual, rateHertz: 1_000,
                                      transitions: [transition(700, .active, .fault, .deviceFault, .cat0)], deviceEvents: [])
        run.faultInjections = [ObservedInjection(index: 0, timeNanoseconds: 698 * ms)]
        XCTAssertEqual(statuses(s, run), [.passed])
        run.faultInjections = []
        let never = verdicts(s, run)[0]
        XCTAssertEqual(never.status, .failed)
        XCTAssertTrue(never.observed.contains("never began"), never.observed)
        run.deviceEvents = nil
        XCTAssertEqual(statuses(s, run), [.unobservable], "no device log on this target")
    }

    // MARK: refused_at_setup, action_outcome, black_box

    func testARefusalAtSetUp() throws {
        let s = try scenario(#"[{"refused_at_setup": {"reason_contains": ["IDENTIFY", "no answer"], "exit_code": 69, "never_enabled": true}}]"#,
                             timeline: "[]")
        var run = ScenarioObservation(target: .virtual, rateHertz: 1_000, finalState: .disabled, deviceEverEnabled: false)
        run.setUpRefusal = ObservedRefusal(reason: "/dev/pts/3: no answer to IDENTIFY within 200 ms.", exitCode: 69)
        XCTAssertEqual(statuses(s, run), [.passed])
        run.setUpRefusal?.exitCode = 78
        XCTAssertEqual(statuses(s, run), [.failed])
        run.setUpRefusal?.exitCode = nil
        run.deviceEverEnabled = nil
        let partly = verdicts(s, run)[0]
        XCTAssertEqual(partly.status, .passed, "what can be seen holds")
        XCTAssertTrue(partly.observed.contains("not observable on virtual: the exit code, whether the device was ever enabled"), partly.observed)
        run.setUpRefusal = nil
        run.transitions = [transition(1, .ready, .active, .startRequested)]
        let started = verdicts(s, run)[0]
        XCTAssertEqual(started.status, .failed)
        XCTAssertTrue(started.observed.hasPrefix("the session started"), started.observed)
    }

    func testARefusalNobodyExpectedFailsTheRun() throws {
        let s = try scenario(#"[{"final_state": "disabled"}]"#, timeline: "[]")
        let run = ScenarioObservation(target: .virtual, rateHertz: 1_000, setUpRefusal: ObservedRefusal(reason: "no answer to IDENTIFY"),
                                      finalState: .disabled)
        let results = verdicts(s, run)
        XCTAssertEqual(results.map(\.status), [.passed, .failed])
        XCTAssertNil(results[1].index)
        XCTAssertEqual(results[1].kind, "run")
        XCTAssertEqual(ScenarioEvaluator.result(s, plan: ScenarioPlan(s, target: .virtual), observation: run, timeSeconds: 0).outcome, .failed)
    }

    func testActionOutcomes() throws {
        let s = try scenario(#"[{"action_outcome": {"action": "estop", "accepted": true}}, {"action_outcome": {"action": 0, "accepted": false, "reason_contains": "latched"}}]"#)
        var run = estopRun()
        XCTAssertEqual(statuses(s, run), [.passed, .failed])
        run.actions = [ObservedAction(index: 0, outcome: .performed, timeNanoseconds: 3_000 * ms, accepted: false, refusal: "resume refused: latched")]
        XCTAssertEqual(statuses(s, run), [.failed, .passed])
        run.actions = [ObservedAction(index: 0, outcome: .performed, timeNanoseconds: 3_000 * ms)]
        XCTAssertEqual(statuses(s, run), [.unobservable, .unobservable])
        run.actions = [ObservedAction(index: 0, outcome: .notReached)]
        XCTAssertEqual(statuses(s, run), [.failed, .failed])
    }

    func testBlackBox() throws {
        let s = try scenario(#"[{"black_box": {"cause": "device_fault"}}]"#)
        var run = estopRun()
        XCTAssertEqual(statuses(s, run), [.unobservable])
        run.blackBoxFiles = []
        XCTAssertEqual(statuses(s, run), [.failed])
        run.blackBoxFiles = ["/tmp/bb/blackbox-2026-12-07T10:00:00Z-cycle3001-operator_estop.mcap"]
        XCTAssertEqual(statuses(s, run), [.failed])
        run.blackBoxFiles = ["/tmp/bb/blackbox-2026-12-07T10:00:00Z-cycle1001-device_fault.mcap"]
        XCTAssertEqual(statuses(s, run), [.passed])
    }

    // MARK: targets, prompts, waits, outcomes

    func testOnlyOnAndAScenarioWithNothingObservableIsSkipped() throws {
        let s = try scenario(#"[{"only_on": ["virtual"], "final_state": "estop"}, {"torque_off": {"after": "estop", "within_ms": 3, "evidence": "device"}}]"#)
        let onRig = ScenarioObservation(target: .rig, rateHertz: 1_000, actions: [ObservedAction(index: 0, outcome: .performed, timeNanoseconds: 3_000 * ms)],
                                        finalState: .estop)
        let result = ScenarioEvaluator.result(s, plan: ScenarioPlan(s, target: .rig), observation: onRig, timeSeconds: 1)
        XCTAssertEqual(result.expectations.map(\.status), [.notApplicable, .unobservable])
        XCTAssertEqual(result.outcome, .skipped)
        XCTAssertTrue(result.message?.hasPrefix("nothing this scenario expects can be observed on rig") == true, result.message ?? "")
    }

    func testAFaultMadeByHandOnARigHasNoDeadline() throws {
        let s = try scenario(#"[{"event": {"to": "estop", "cause": "device_estop", "after": "press", "within_ms": 2}}]"#,
                             timeline: #"[{"at_ms": 1000, "label": "press", "action": "device_fault", "fault": {"kind": "estop_press"}, "rig_prompt": {"text": "Press the e-stop.", "timeout_s": 30}}]"#)
        let plan = ScenarioPlan(s, target: .rig)
        XCTAssertEqual(plan.steps, [.prompt(OperatorPrompt(text: "Press the e-stop.", timeoutSeconds: 30))])
        XCTAssertNil(plan.skipReason)
        var run = ScenarioObservation(target: .rig, rateHertz: 1_000, actions: [ObservedAction(index: 0, outcome: .prompted, timeNanoseconds: 1_000 * ms)])
        run.transitions = [transition(4_200, .active, .estop, .deviceEmergencyStop, .cat0)]
        let verdict = ScenarioEvaluator.evaluate(s, plan: plan, observation: run)[0]
        XCTAssertEqual(verdict.status, .passed)
        XCTAssertTrue(verdict.observed.contains("the deadline is not measured"), verdict.observed)
        run.transitions = [transition(40_000, .active, .estop, .deviceEmergencyStop, .cat0)]
        XCTAssertEqual(ScenarioEvaluator.evaluate(s, plan: plan, observation: run)[0].status, .failed, "after the prompt's 30 s")
    }

    func testAWaitThatTimesOutFailsTheRun() throws {
        let s = try scenario(#"[{"final_state": "estop"}]"#,
                             timeline: #"[{"at_ms": 1000, "label": "w", "action": "wait", "state": "estop", "timeout_ms": 500}]"#)
        let run = ScenarioObservation(target: .virtual, rateHertz: 1_000, actions: [ObservedAction(index: 0, outcome: .timedOut)], finalState: .estop)
        let results = verdicts(s, run)
        XCTAssertEqual(results.map(\.status), [.passed, .failed])
        XCTAssertEqual(results[1].expected, "the supervisor in estop within 500 ms")
    }

    func testARunnerErrorIsAnErrorNotAVerdict() throws {
        let s = try scenario(#"[{"final_state": "estop"}]"#)
        let run = ScenarioObservation(target: .sim, rateHertz: 500, runnerError: "rehabsim exited with status 1")
        let result = ScenarioEvaluator.result(s, plan: ScenarioPlan(s, target: .sim), observation: run, timeSeconds: 0.2)
        XCTAssertEqual(result.outcome, .error)
        XCTAssertEqual(result.message, "rehabsim exited with status 1")
        XCTAssertTrue(result.expectations.isEmpty)
        XCTAssertTrue(result.progressLine.hasPrefix("ERROR t  sim"), result.progressLine)
    }

    func testAPassingRunAndItsNotes() throws {
        let s = try scenario(#"[{"event": {"to": "estop", "after": "estop", "within_ms": 2}}, {"final_state": "estop"}]"#,
                             timeline: #"[{"at_ms": 3000, "label": "estop", "action": "estop"}, {"at_ms": 3500, "action": "operator_prompt", "text": "Look.", "timeout_s": 5}, {"at_ms": 9000, "action": "stop"}]"#)
        var run = estopRun()
        run.actions.append(ObservedAction(index: 1, outcome: .skipped("an operator prompt: only on a rig")))
        let result = ScenarioEvaluator.result(s, plan: ScenarioPlan(s, target: .virtual), observation: run, timeSeconds: 0.05)
        XCTAssertEqual(result.outcome, .passed)
        XCTAssertEqual(result.progressLine, "PASS  t  virtual  0.05 s")
        XCTAssertTrue(result.notes.contains { $0.hasPrefix("timeline[1] operator_prompt \"Look.\" at 3500 ms: skipped") }, "\(result.notes)")
        XCTAssertTrue(result.notes.contains { $0.hasPrefix("timeline[2] stop at 9000 ms: not reached") }, "\(result.notes)")
    }

    func testTheRigPlanSkipsWhatNeedsASimulatorWithTheReason() throws {
        let s = try scenario(#"[{"final_state": "fault"}]"#,
                             timeline: #"[{"at_ms": 1000, "action": "device_fault", "fault": {"kind": "drop_replies"}}, {"at_ms": 2000, "action": "operator_prompt", "text": "Check.", "timeout_s": 5}]"#,
                             extra: #""faults": [{"at_ms": 0, "kind": "clock_drift", "percent": 5}], "patient": "healthy","#)
        let rig = ScenarioPlan(s, target: .rig)
        XCTAssertEqual(rig.skipReason, "needs a simulator: its fault script (faults[0] clock_drift); timeline[0] device_fault drop_replies at 1000 ms")
        XCTAssertEqual(rig.steps, [.skip("needs a simulator: timeline[0] device_fault drop_replies at 1000 ms"), .prompt(OperatorPrompt(text: "Check.", timeoutSeconds: 5))])
        XCTAssertTrue(rig.notes.contains { $0.contains("patient preset \"healthy\"") })
        let virtual = ScenarioPlan(s, target: .virtual)
        XCTAssertNil(virtual.skipReason)
        XCTAssertEqual(virtual.steps, [.perform, .skip("an operator prompt: only on a rig")])
        XCTAssertEqual(ScenarioEvaluator.skipped(s, plan: rig).outcome, .skipped)

        let notHere = try scenario(#"[{"final_state": "estop"}]"#, extra: #""targets": {"sim": {"runs": false, "note": "needs a tracker rehabsim lacks"}, "virtual": {"rate_hz": 2000}},"#)
        XCTAssertEqual(ScenarioPlan(notHere, target: .sim).skipReason, "needs a tracker rehabsim lacks")
        XCTAssertEqual(ScenarioPlan(notHere, target: .virtual).rateHertz, 2000)
        XCTAssertEqual(ScenarioPlan(notHere, target: .sim).slackMilliseconds, 5)
    }

    func testTheFaultScriptAndLiveInjectionsAreTheFilesEntries() throws {
        let s = try scenario(#"[{"final_state": "fault"}]"#,
                             timeline: #"[{"at_ms": 1000, "action": "device_fault", "fault": {"kind": "external_torque", "joint": 0, "torque_nm": 3.0, "ramp_ms": 40, "for_ms": 400}}]"#,
                             extra: #""faults": [{"after_enable_ms": 2000, "kind": "drop_replies"}],"#)
        XCTAssertEqual(s.faultScript.map { JSONValue.object($0).serialized() },
                       #"{"format":"rehabsim-faults/1","faults":[{"after_enable_ms":2000,"kind":"drop_replies"}]}"#)
        guard case .deviceFault(let fault, .none) = s.timeline[0].action else { return XCTFail("a device fault") }
        XCTAssertEqual(fault.liveLine, #"{"kind":"external_torque","joint":0,"torque_nm":3,"ramp_ms":40,"for_ms":400}"#)
        XCTAssertEqual(fault.durationMilliseconds, 400)
        XCTAssertNil(fault.trigger)
        XCTAssertEqual(fault.summary, "external_torque joint=0 torque_nm=3 ramp_ms=40 for_ms=400")
    }
}
