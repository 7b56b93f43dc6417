import Control
import StrictJSON

/// Checks a scenario's expectations against what a run observed. Pure and deterministic: the same
/// scenario, plan and observation give the same verdicts and the same words.
///
/// Each verdict says what was expected and what was observed ("a transition to estop, cause
/// operator_estop (SR-12), Cat 0, within 2 ms of timeline[0] \"estop\" (estop at 3000 ms)" /
/// "active → estop, operator_estop (SR-12), Cat 0, at 3000.98 ms (cycle 3001), 0.98 ms after it").
/// Deadlines get the target's slack (`ScenarioPlan.slackMilliseconds`) on their upper bound only.
public enum ScenarioEvaluator {
    /// The verdict on every expectation, in order, then the checks of the run itself (a refusal
    /// nobody expected, a wait or prompt that timed out).
    public static func evaluate(_ scenario: Scenario, plan: ScenarioPlan, observation: ScenarioObservation) -> [ExpectationResult] {
        var context = Context(scenario: scenario, plan: plan, observation: observation)
        var results = scenario.expectations.map { context.evaluate($0) }
        results += context.runChecks()
        return results
    }

    /// The scenario's result on the plan's target.
    public static func result(
        _ scenario: Scenario, plan: ScenarioPlan, observation: ScenarioObservation, timeSeconds: Double, timestamp: String? = nil
    ) -> ScenarioResult {
        var notes = plan.notes
        for entry in scenario.timeline {
            switch observation.action(entry.index)?.outcome {
            case .skipped(let reason)?: notes.append("timeline[\(entry.index)] \(entry.summary): skipped: \(reason)")
            case .notReached?, nil: notes.append("timeline[\(entry.index)] \(entry.summary): not reached (\(observation.sessionEndedNote))")
            case .performed?, .prompted?, .timedOut?: break
            }
        }
        if let error = observation.runnerError {
            return ScenarioResult(
                scenario: scenario.name, file: scenario.sourcePath, requirements: scenario.requirements, target: plan.target, outcome: .error,
                timeSeconds: timeSeconds, timestamp: timestamp, message: error, notes: notes)
        }
        let verdicts = evaluate(scenario, plan: plan, observation: observation)
        let outcome: ScenarioResult.Outcome
        let message: String?
        if let failure = verdicts.first(where: { $0.status == .failed }) {
            outcome = .failed
            let count = verdicts.filter { $0.status == .failed }.count
            message = failure.line + (count > 1 ? " (and \(count - 1) more)" : "")
        } else if !verdicts.contains(where: { $0.status == .passed }) {
            outcome = .skipped
            let unobservable = verdicts.filter { $0.status == .unobservable }
            message = "nothing this scenario expects can be observed on \(plan.target)"
                + (unobservable.first.map { ": " + $0.name + ": " + $0.observed } ?? "")
        } else {
            outcome = .passed
            message = nil
        }
        for verdict in verdicts where verdict.status == .unobservable {
            notes.append("\(verdict.name): not observable on \(plan.target): \(verdict.observed)")
        }
        return ScenarioResult(
            scenario: scenario.name, file: scenario.sourcePath, requirements: scenario.requirements, target: plan.target, outcome: outcome,
            timeSeconds: timeSeconds, timestamp: timestamp, expectations: verdicts, message: message, notes: notes)
    }

    /// The result of a scenario the plan does not run.
    public static func skipped(_ scenario: Scenario, plan: ScenarioPlan, timestamp: String? = nil) -> ScenarioResult {
        ScenarioResult(
            scenario: scenario.name, file: scenario.sourcePath, requirements: scenario.requirements, target: plan.target, outcome: .skipped,
            timestamp: timestamp, message: plan.skipReason ?? "not run", notes: plan.notes)
    }
}

/// A time an expectation counts from.
private enum Anchor {
    /// When it happened [ns].
    case time(Int64)
    /// Done by hand after a prompt shown at this time, within its timeout [ns]: no deadline is measured.
    case manual(Int64, timeoutNanoseconds: Int64)
    /// Not available, why, and whether that fails the expectation or only makes it unobservable.
    case missing(String, ExpectationResult.Status)

    var lowerBound: Int64? {
        switch self {
        case .time(let time), .manual(let time, _): time
        case .missing: nil
        }
    }
}

private struct Context {
    let scenario: Scenario
    let plan: ScenarioPlan
    let observation: ScenarioObservation
    /// The transition each event expectation matched, by its index.
    var matched: [Int: ObservedTransition] = [:]

    init(scenario: Scenario, plan: ScenarioPlan, observation: ScenarioObservation) {
        self.scenario = scenario
        self.plan = plan
        self.observation = observation
    }

    var slackNanoseconds: Int64 { Int64((plan.slackMilliseconds * 1e6).rounded()) }

    static func nanoseconds(_ milliseconds: Double) -> Int64 { Int64((milliseconds * 1e6).rounded()) }

    func anchor(_ reference: ScenarioReference) -> Anchor {
        switch reference {
        case .start:
            return .time(0)
        case .timeline(let index):
            let described = scenario.describe(reference)
            guard let action = observation.action(index) else {
                return .missing("\(described) was not reached (\(observation.sessionEndedNote))", .failed)
            }
            switch action.outcome {
            case .performed:
                guard let time = action.timeNanoseconds else { return .missing("\(described) has no recorded time", .unobservable) }
                return .time(time)
            case .prompted:
                guard let time = action.timeNanoseconds else { return .missing("\(described) has no recorded time", .unobservable) }
                return .manual(time, timeoutNanoseconds: Self.nanoseconds(promptTimeoutSeconds(timeline: index) * 1_000))
            case .skipped(let reason):
                return .missing("\(described) was skipped: \(reason)", .unobservable)
            case .notReached:
                return .missing("\(described) was not reached (\(observation.sessionEndedNote))", .failed)
            case .timedOut:
                return .missing("\(described) timed out", .failed)
            }
        case .fault(let index):
            if let injection = observation.faultInjections.first(where: { $0.index == index }) { return .time(injection.timeNanoseconds) }
            return observation.deviceEvents == nil
                ? .missing("\(scenario.describe(reference)): the device's record of its beginning is not available on \(plan.target)", .unobservable)
                : .missing("\(scenario.describe(reference)) never began (the device recorded no fault_injected for it)", .failed)
        case .expectation(let index):
            if let transition = matched[index] { return .time(transition.timeNanoseconds) }
            return .missing("\(scenario.describe(reference)) was not observed, so nothing counts from it", .failed)
        }
    }

    /// How long the prompt of timeline entry `index` waits for the operator [s].
    func promptTimeoutSeconds(timeline index: Int) -> Double {
        guard let entry = scenario.timeline.first(where: { $0.index == index }) else { return 60 }
        if let prompt = entry.action.rigPrompt { return prompt.timeoutSeconds }
        if case .operatorPrompt(let prompt) = entry.action { return prompt.timeoutSeconds }
        return 60
    }

    // MARK: Expectations

    mutating func evaluate(_ expectation: Expectation) -> ExpectationResult {
        func verdict(_ summary: String, _ expected: String, _ observed: String, _ status: ExpectationResult.Status) -> ExpectationResult {
            ExpectationResult(index: expectation.index, label: expectation.label, kind: expectation.kind.name, summary: summary,
                              expected: expected, observed: observed, status: status)
        }
        if let targets = expectation.onlyOn, !targets.contains(plan.target) {
            let list = targets.sorted().map(\.rawValue).joined(separator: ", ")
            return verdict("only on \(list)", "only on \(list)", "not checked on \(plan.target)", .notApplicable)
        }
        switch expectation.kind {
        case .event(let event):
            return evaluateEvent(event, index: expectation.index, verdict: verdict)
        case .noEvent(let matcher, let window):
            let expected = "no \(matcher.summary) \(describe(window))"
            return absence(expected, window: window, verdict: verdict) { matcher.matches($0) }
        case .noSafetyEvent(let window):
            let expected = "no safety event (a stop into fault or estop) \(describe(window))"
            return absence(expected, window: window, verdict: verdict) { $0.isSafetyEvent }
        case .finalState(let states):
            let expected = "the run ends in " + states.map(\.rawValue).joined(separator: " or ")
            guard let ending = observation.finalState else { return verdict(expected, expected, "the final state was not recorded", .unobservable) }
            return verdict(expected, expected, "it ended in \(ending.rawValue)", states.contains(ending) ? .passed : .failed)
        case .metric(let metric):
            return evaluateMetric(metric, verdict: verdict)
        case .linkQuality(let link):
            return evaluateLink(link, verdict: verdict)
        case .torqueOff(let torqueOff):
            return evaluateTorqueOff(torqueOff, verdict: verdict)
        case .deviceEvent(let event):
            return evaluateDeviceEvent(event, verdict: verdict)
        case .noDeviceEvent(let name, let joint, let window):
            let expected = "the device records no \(name)" + (joint.map { " of joint \($0)" } ?? "") + " \(describe(window))"
            guard let events = observation.deviceEvents else {
                return verdict(expected, expected, "the device's event log is not available on \(plan.target)", .unobservable)
            }
            let bounds = self.bounds(window)
            if case .missing(let reason, let status) = bounds.problem { return verdict(expected, expected, reason, status) }
            let found = events.first {
                $0.name == name && (joint == nil || $0.joint == joint) && $0.timeNanoseconds >= bounds.lower && $0.timeNanoseconds <= bounds.upper
            }
            guard let found else { return verdict(expected, expected, "none", .passed) }
            return verdict(expected, expected, describe(found), .failed)
        case .refusedAtSetup(let refusal):
            return evaluateRefusal(refusal, verdict: verdict)
        case .actionOutcome(let outcome):
            return evaluateActionOutcome(outcome, verdict: verdict)
        case .blackBox(let written, let cause):
            let expected = written
                ? "a black-box file written" + (cause.map { " for a trigger with cause \($0.rawValue) (…-\($0.rawValue).mcap)" } ?? "")
                : "no black-box file written"
            guard let files = observation.blackBoxFiles else {
                return verdict(expected, expected, "the black-box files are not known on \(plan.target)", .unobservable)
            }
            let observed = files.isEmpty ? "none written" : "written: " + files.joined(separator: ", ")
            guard written else { return verdict(expected, expected, observed, files.isEmpty ? .passed : .failed) }
            let ok = cause.map { cause in files.contains { $0.hasSuffix("-\(cause.rawValue).mcap") } } ?? !files.isEmpty
            return verdict(expected, expected, observed, ok ? .passed : .failed)
        }
    }

    typealias Verdict = (String, String, String, ExpectationResult.Status) -> ExpectationResult

    mutating func evaluateEvent(_ event: EventExpectation, index: Int, verdict: Verdict) -> ExpectationResult {
        var expected = event.matcher.summary
        var lower = Int64.min
        var manualTimeout: Int64?
        if let after = event.after {
            if event.withinMilliseconds == nil { expected += ", at or after " + scenario.describe(after) }
            switch anchor(after) {
            case .time(let time): lower = time
            case .manual(let time, let timeout):
                lower = time
                manualTimeout = timeout
            case .missing(let reason, let status):
                expected += deadlineText(event, after: after)
                return verdict(expected, expected, reason, status)
            }
            expected += deadlineText(event, after: after)
        }
        if event.first { expected += ", as the first safety event" + (event.after == nil ? " of the run" : " from then on") }
        let candidates = observation.transitions.filter { $0.timeNanoseconds >= lower }
        let hit: ObservedTransition
        if event.first {
            guard let first = candidates.first(where: \.isSafetyEvent) else {
                return verdict(expected, expected, "no safety event" + since(lower) + listing(candidates), .failed)
            }
            guard event.matcher.matches(first) else {
                return verdict(expected, expected, "the first safety event" + since(lower) + " was " + first.summary, .failed)
            }
            hit = first
        } else {
            guard let found = candidates.first(where: event.matcher.matches) else {
                return verdict(expected, expected, "no such transition" + since(lower) + listing(candidates), .failed)
            }
            hit = found
        }
        matched[index] = hit
        guard event.after != nil else { return verdict(expected, expected, hit.summary, .passed) }
        let elapsed = hit.timeNanoseconds - lower
        let observed = hit.summary + ", \(ScenarioText.milliseconds(elapsed)) ms after it"
        if let timeout = manualTimeout {
            let ok = elapsed <= timeout
            return verdict(expected, expected, observed + " (done by hand after a prompt: the deadline is not measured)", ok ? .passed : .failed)
        }
        if let within = event.withinMilliseconds, elapsed > Self.nanoseconds(within) + slackNanoseconds {
            return verdict(expected, expected, observed + " — too late", .failed)
        }
        if let notBefore = event.notBeforeMilliseconds, elapsed < Self.nanoseconds(notBefore) {
            return verdict(expected, expected, observed + " — too early", .failed)
        }
        return verdict(expected, expected, observed, .passed)
    }

    /// ", within 2 ms of timeline[0] "estop" (estop at 3000 ms)" and the rest of an event's timing.
    func deadlineText(_ event: EventExpectation, after: ScenarioReference) -> String {
        var text = ""
        if let within = event.withinMilliseconds {
            text += ", within \(ScenarioText.number(within)) ms" + slackText + " of " + scenario.describe(after)
        }
        if let notBefore = event.notBeforeMilliseconds { text += ", not before \(ScenarioText.number(notBefore)) ms" }
        return text
    }

    var slackText: String {
        plan.slackMilliseconds > 0 ? " (+ \(ScenarioText.number(plan.slackMilliseconds)) ms slack on \(plan.target))" : ""
    }

    func since(_ lower: Int64) -> String {
        lower == Int64.min ? " in the run" : " from \(ScenarioText.milliseconds(lower)) ms on"
    }

    /// "; the transitions were: …" (at most 6).
    func listing(_ transitions: [ObservedTransition]) -> String {
        guard !transitions.isEmpty else { return "; there were no transitions" }
        let shown = transitions.prefix(6).map(\.summary)
        return "; the transitions were: " + shown.joined(separator: "; ") + (transitions.count > 6 ? "; … (\(transitions.count - 6) more)" : "")
    }

    /// A window's bounds in nanoseconds [lower, upper], or why they cannot be had.
    func bounds(_ window: EventWindow) -> (lower: Int64, upper: Int64, problem: Anchor?) {
        var lower = Int64.min
        var upper = Int64.max
        if let from = window.fromMilliseconds { lower = max(lower, Self.nanoseconds(from)) }
        if let to = window.toMilliseconds { upper = min(upper, Self.nanoseconds(to)) }
        if let after = window.after {
            let start = anchor(after)
            guard let time = start.lowerBound else { return (lower, upper, start) }
            lower = max(lower, time)
        }
        if let before = window.before {
            let end = anchor(before)
            guard let time = end.lowerBound else { return (lower, upper, end) }
            upper = min(upper, time - 1)
        }
        return (lower, upper, nil)
    }

    func describe(_ window: EventWindow) -> String {
        var parts: [String] = []
        if let after = window.after { parts.append("from \(scenario.describe(after))") }
        if let from = window.fromMilliseconds { parts.append("from \(ScenarioText.number(from)) ms") }
        if let before = window.before { parts.append("before \(scenario.describe(before))") }
        if let to = window.toMilliseconds { parts.append("up to \(ScenarioText.number(to)) ms") }
        return parts.isEmpty ? "in the whole run" : parts.joined(separator: ", ")
    }

    func absence(_ expected: String, window: EventWindow, verdict: Verdict, _ matches: (ObservedTransition) -> Bool) -> ExpectationResult {
        let bounds = self.bounds(window)
        if case .missing(let reason, let status) = bounds.problem { return verdict(expected, expected, reason, status) }
        let found = observation.transitions.first {
            $0.timeNanoseconds >= bounds.lower && $0.timeNanoseconds <= bounds.upper && matches($0)
        }
        guard let found else { return verdict(expected, expected, "none", .passed) }
        return verdict(expected, expected, found.summary, .failed)
    }

    func evaluateMetric(_ metric: MetricExpectation, verdict: Verdict) -> ExpectationResult {
        let subject = metric.name + (metric.joint.map { " of \($0)" } ?? (MetricCatalog.isPerJoint(metric.name) ? " of the exercised joint" : ""))
        let expected: String
        switch (metric.minimum, metric.maximum) {
        case (let low?, let high?): expected = "\(subject) between \(ScenarioText.number(low)) and \(ScenarioText.number(high))"
        case (let low?, nil): expected = "\(subject) ≥ \(ScenarioText.number(low))"
        case (nil, let high?): expected = "\(subject) ≤ \(ScenarioText.number(high))"
        case (nil, nil): expected = subject
        }
        if observation.metrics == .null { return verdict(expected, expected, "the run reported no metrics", .unobservable) }
        switch MetricCatalog.value(of: metric.name, joint: metric.joint, in: observation.metrics) {
        case .failure(let failure):
            return verdict(expected, expected, failure.description, .failed)
        case .success(let value):
            var ok = true
            if let low = metric.minimum, !(value >= low) { ok = false }
            if let high = metric.maximum, !(value <= high) { ok = false }
            return verdict(expected, expected, "\(subject) = \(ScenarioText.number(value, decimals: 4))", ok ? .passed : .failed)
        }
    }

    func evaluateLink(_ link: LinkQualityExpectation, verdict: Verdict) -> ExpectationResult {
        let grade = link.grade.description
        var parts: [String] = []
        if let low = link.minimumSeconds { parts.append("at least \(ScenarioText.number(low)) s") }
        if let high = link.maximumSeconds { parts.append("at most \(ScenarioText.number(high)) s") }
        if let low = link.minimumEpisodes { parts.append("at least \(low) episodes") }
        if let high = link.maximumEpisodes { parts.append("at most \(high) episodes") }
        let expected = "link \(grade): " + parts.joined(separator: ", ")
        guard let quality = observation.linkQuality else { return verdict(expected, expected, "the link's grades were not recorded", .unobservable) }
        let seconds = quality.seconds(in: link.grade)
        let episodes = quality.episodes(in: link.grade)
        var ok = true
        if let low = link.minimumSeconds, !(seconds >= low) { ok = false }
        if let high = link.maximumSeconds, !(seconds <= high) { ok = false }
        if let low = link.minimumEpisodes, (episodes ?? 0) < low { ok = false }
        if let high = link.maximumEpisodes, (episodes ?? 0) > high { ok = false }
        let observed = "\(grade) \(ScenarioText.number(seconds)) s" + (episodes.map { " in \($0) episode\($0 == 1 ? "" : "s")" } ?? "")
        return verdict(expected, expected, observed, ok ? .passed : .failed)
    }

    func evaluateTorqueOff(_ torqueOff: TorqueOffExpectation, verdict: Verdict) -> ExpectationResult {
        let source = torqueOff.evidence == .command ? "commanded by the host" : "reported by the device"
        let expected = "torque off (\(source)) within \(ScenarioText.number(torqueOff.withinMilliseconds)) ms" + slackText
            + " of " + scenario.describe(torqueOff.after)
        let times: [Int64]
        switch torqueOff.evidence {
        case .command:
            guard let recorded = observation.torqueOffCommandTimes else {
                return verdict(expected, expected, "the host's torque-off commands were not recorded", .unobservable)
            }
            times = recorded
        case .device:
            guard let events = observation.deviceEvents else {
                return verdict(expected, expected, "the device's event log is not available on \(plan.target)", .unobservable)
            }
            times = events.filter { $0.name == "torque_off" }.map(\.timeNanoseconds)
        }
        let start = anchor(torqueOff.after)
        guard let lower = start.lowerBound else {
            if case .missing(let reason, let status) = start { return verdict(expected, expected, reason, status) }
            return verdict(expected, expected, "no time to count from", .unobservable)
        }
        guard let first = times.filter({ $0 >= lower }).min() else {
            return verdict(expected, expected, "no torque off" + since(lower), .failed)
        }
        let elapsed = first - lower
        let observed = "torque off at \(ScenarioText.milliseconds(first)) ms, \(ScenarioText.milliseconds(elapsed)) ms after it"
        if case .manual(_, let timeout) = start {
            return verdict(expected, expected, observed + " (done by hand after a prompt: the deadline is not measured)", elapsed <= timeout ? .passed : .failed)
        }
        let ok = elapsed <= Self.nanoseconds(torqueOff.withinMilliseconds) + slackNanoseconds
        return verdict(expected, expected, observed + (ok ? "" : " — too late"), ok ? .passed : .failed)
    }

    func evaluateDeviceEvent(_ event: DeviceEventExpectation, verdict: Verdict) -> ExpectationResult {
        var expected = "the device records \(event.name)" + (event.joint.map { " of joint \($0)" } ?? "")
        if let after = event.after {
            if let within = event.withinMilliseconds {
                expected += " within \(ScenarioText.number(within)) ms" + slackText + " of " + scenario.describe(after)
            } else {
                expected += " at or after " + scenario.describe(after)
            }
            if let notBefore = event.notBeforeMilliseconds { expected += ", not before \(ScenarioText.number(notBefore)) ms" }
        }
        guard let events = observation.deviceEvents else {
            return verdict(expected, expected, "the device's event log is not available on \(plan.target)", .unobservable)
        }
        var lower = Int64.min
        var manualTimeout: Int64?
        if let after = event.after {
            switch anchor(after) {
            case .time(let time): lower = time
            case .manual(let time, let timeout):
                lower = time
                manualTimeout = timeout
            case .missing(let reason, let status): return verdict(expected, expected, reason, status)
            }
        }
        guard let found = events.first(where: { $0.name == event.name && (event.joint == nil || $0.joint == event.joint) && $0.timeNanoseconds >= lower })
        else {
            return verdict(expected, expected, "no \(event.name)" + since(lower), .failed)
        }
        guard event.after != nil else { return verdict(expected, expected, describe(found), .passed) }
        let elapsed = found.timeNanoseconds - lower
        let observed = describe(found) + ", \(ScenarioText.milliseconds(elapsed)) ms after it"
        if let timeout = manualTimeout {
            return verdict(expected, expected, observed + " (done by hand after a prompt: the deadline is not measured)", elapsed <= timeout ? .passed : .failed)
        }
        if let within = event.withinMilliseconds, elapsed > Self.nanoseconds(within) + slackNanoseconds {
            return verdict(expected, expected, observed + " — too late", .failed)
        }
        if let notBefore = event.notBeforeMilliseconds, elapsed < Self.nanoseconds(notBefore) {
            return verdict(expected, expected, observed + " — too early", .failed)
        }
        return verdict(expected, expected, observed, .passed)
    }

    func describe(_ event: ObservedDeviceEvent) -> String {
        event.name + (event.joint.map { " of joint \($0)" } ?? "") + (event.detail.map { " (\($0))" } ?? "")
            + " at \(ScenarioText.milliseconds(event.timeNanoseconds)) ms"
    }

    func evaluateRefusal(_ refusal: SetupRefusalExpectation, verdict: Verdict) -> ExpectationResult {
        var parts = ["the session refuses to start"]
        if !refusal.reasonContains.isEmpty { parts.append("its reason containing " + refusal.reasonContains.map { "\"\($0)\"" }.joined(separator: " and ")) }
        if let code = refusal.exitCode { parts.append("exit code \(code)") }
        if let never = refusal.neverEnabled { parts.append(never ? "the device never enabled" : "the device enabled at some time") }
        if let left = refusal.leftDisabled { parts.append(left ? "the device left disabled" : "the device left enabled") }
        let expected = parts.joined(separator: ", ")
        guard let observed = observation.setUpRefusal else {
            let ending = observation.finalState.map { "; it ended in \($0.rawValue)" } ?? ""
            return verdict(expected, expected, "the session started (\(observation.transitions.count) transitions)\(ending)", .failed)
        }
        var problems: [String] = []
        var unknown: [String] = []
        for text in refusal.reasonContains where !observed.reason.contains(text) { problems.append("the reason lacks \"\(text)\"") }
        if let code = refusal.exitCode {
            if let actual = observed.exitCode {
                if actual != code { problems.append("exit code \(actual)") }
            } else {
                unknown.append("the exit code")
            }
        }
        if let never = refusal.neverEnabled {
            if let ever = observation.deviceEverEnabled {
                if ever == never { problems.append(ever ? "the device was enabled" : "the device was never enabled") }
            } else {
                unknown.append("whether the device was ever enabled")
            }
        }
        if let left = refusal.leftDisabled {
            if let enabled = observation.deviceEnabledAtEnd {
                if enabled == left { problems.append(enabled ? "the device was left enabled" : "the device was left disabled") }
            } else {
                unknown.append("whether the device was left enabled")
            }
        }
        var text = "refused: " + observed.reason + (observed.exitCode.map { " (exit code \($0))" } ?? "")
        if !problems.isEmpty { text += " — " + problems.joined(separator: "; ") }
        if !unknown.isEmpty { text += " (not observable on \(plan.target): " + unknown.joined(separator: ", ") + ")" }
        return verdict(expected, expected, text, problems.isEmpty ? .passed : .failed)
    }

    func evaluateActionOutcome(_ outcome: ActionOutcomeExpectation, verdict: Verdict) -> ExpectationResult {
        let subject = scenario.describe(outcome.action)
        let expected = outcome.accepted
            ? "\(subject) accepted"
            : "\(subject) refused" + (outcome.reasonContains.isEmpty ? "" : ", the reason containing " + outcome.reasonContains.map { "\"\($0)\"" }.joined(separator: " and "))
        guard case .timeline(let index) = outcome.action else { return verdict(expected, expected, "not a timeline entry", .failed) }
        guard let action = observation.action(index), action.outcome == .performed || action.outcome == .prompted else {
            return verdict(expected, expected, "\(subject) was not carried out", .failed)
        }
        guard let accepted = action.accepted else { return verdict(expected, expected, "the answer is not known on \(plan.target)", .unobservable) }
        let observed = accepted ? "accepted" : "refused" + (action.refusal.map { ": " + $0 } ?? "")
        guard accepted == outcome.accepted else { return verdict(expected, expected, observed, .failed) }
        let reason = action.refusal ?? ""
        let missing = outcome.reasonContains.filter { !reason.contains($0) }
        return verdict(expected, expected, observed + (missing.isEmpty ? "" : " — the reason lacks " + missing.map { "\"\($0)\"" }.joined(separator: ", ")),
                       missing.isEmpty ? .passed : .failed)
    }

    // MARK: The run itself

    func runChecks() -> [ExpectationResult] {
        var results: [ExpectationResult] = []
        let expectsRefusal = scenario.expectations.contains { if case .refusedAtSetup = $0.kind { true } else { false } }
        if let refusal = observation.setUpRefusal, !expectsRefusal {
            results.append(ExpectationResult(
                index: nil, kind: "run", summary: "the session starts", expected: "the session starts",
                observed: "refused at set-up: " + refusal.reason + (refusal.exitCode.map { " (exit code \($0))" } ?? ""), status: .failed))
        }
        for entry in scenario.timeline where observation.action(entry.index)?.outcome == .timedOut {
            let expected: String
            switch entry.action {
            case .wait(let state, let timeout): expected = "the supervisor in \(state.rawValue) within \(ScenarioText.number(timeout)) ms"
            default: expected = "the operator's answer within the prompt's time"
            }
            results.append(ExpectationResult(
                index: nil, kind: "run", summary: "timeline[\(entry.index)] \(entry.summary)", expected: expected,
                observed: "timed out", status: .failed))
        }
        return results
    }
}
