/// How a scenario runs on one target: whether it runs at all (and why not), at what rate, with what
/// slack on its deadlines, and what becomes of each timeline entry there. Pure: the runner follows it.
///
/// Virtual time and the simulator inject every fault; `operator_prompt` entries are skipped there
/// (nobody is at a keyboard). On a rig, what needs a simulator cannot happen: the scenario's fault
/// script, a patient preset's motion or a timeline fault without a `rig_prompt` skip the whole scenario,
/// with the reason — a fault not injected would make its expectations pass or fail for nothing. A
/// timeline fault with a `rig_prompt` becomes a prompt to the operator, and its deadlines are not
/// measured (a person's reaction is no deadline of the host's).
public struct ScenarioPlan: Sendable, Equatable {
    /// What the runner does with one timeline entry.
    public enum Step: Sendable, Equatable {
        case perform
        /// Show the prompt and wait for the operator's answer (or its timeout).
        case prompt(OperatorPrompt)
        /// Leave it out, for this reason.
        case skip(String)
    }

    public var target: ScenarioTarget
    /// Why the scenario does not run on this target (nil: it runs).
    public var skipReason: String?
    /// The loop rate: the target's, else the scenario's; nil: the profile's `control.rate_hz`.
    public var rateHertz: Double?
    /// Added to every upper deadline on this target.
    public var slackMilliseconds: Double
    /// One step per timeline entry, in the timeline's order.
    public var steps: [Step]
    /// What the report should say about this run besides its results.
    public var notes: [String]

    public init(_ scenario: Scenario, target: ScenarioTarget) {
        self.target = target
        let settings = scenario.settings(for: target)
        rateHertz = settings.rateHertz ?? scenario.rateHertz
        slackMilliseconds = settings.slackMilliseconds
        notes = []
        if let note = settings.note { notes.append("\(target): \(note)") }
        steps = scenario.timeline.map { (entry: TimelineEntry) -> Step in
            switch entry.action {
            case .operatorPrompt(let prompt):
                return target == .rig ? .prompt(prompt) : .skip("an operator prompt: only on a rig")
            case .hostStall:
                return target == .virtual ? .perform : .skip("needs the virtual clock: timeline[\(entry.index)] \(entry.summary)")
            case .deviceFault, .trackerFault:
                guard target == .rig else { return .perform }
                if let prompt = entry.action.rigPrompt { return .prompt(prompt) }
                return .skip("needs a simulator: timeline[\(entry.index)] \(entry.summary)")
            default:
                return .perform
            }
        }
        guard settings.runs else {
            skipReason = settings.note ?? "not run on \(target)"
            return
        }
        skipReason = nil
        // A stall not made would make its expectations pass or fail for nothing, as a fault not injected.
        let stalls = scenario.timeline.filter { if case .hostStall = $0.action { true } else { false } }
        if target != .virtual && !stalls.isEmpty {
            skipReason = "needs the virtual clock: " + stalls.map { "timeline[\($0.index)] \($0.summary)" }.joined(separator: "; ")
                + " (in real time the host's stalls are its own)"
            return
        }
        if target == .rig {
            var needs: [String] = []
            if !scenario.faults.isEmpty {
                needs.append("its fault script (" + scenario.faults.enumerated().map { "faults[\($0.offset)] \($0.element.kind)" }.joined(separator: ", ") + ")")
            }
            for (entry, step) in zip(scenario.timeline, steps) {
                if case .skip = step, entry.action.isInjection { needs.append("timeline[\(entry.index)] \(entry.summary)") }
            }
            if !needs.isEmpty {
                skipReason = "needs a simulator: " + needs.joined(separator: "; ")
            }
            if let patient = scenario.patient {
                notes.append("rig: the patient preset \"\(patient.rawValue)\" describes a simulated patient; on the rig the patient (or none) is real")
            }
            if scenario.referenceTracker == nil && scenario.timeline.contains(where: {
                if case .trackerFault(let tracker, _, _) = $0.action { tracker == "reference" } else { false }
            }) {
                notes.append("rig: the mirror's RehabRef stream comes from the rig's own source")
            }
        }
        for (entry, step) in zip(scenario.timeline, steps) {
            if case .prompt = step, entry.action.isInjection {
                notes.append("\(target): timeline[\(entry.index)] is done by hand after a prompt; deadlines from it are not measured")
            }
        }
    }

    /// Whether the scenario runs on this target.
    public var runs: Bool { skipReason == nil }
}
