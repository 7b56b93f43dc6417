/// How one scenario went on one target: its outcome, each expectation's verdict with what was
/// expected and what was observed, and why it was skipped or could not run. What the progress line,
/// the JUnit XML, the JSON result and the safety evidence report are made from.
public struct ScenarioResult: Sendable, Equatable {
    public enum Outcome: String, Sendable, CaseIterable {
        /// Every applicable, observable expectation held.
        case passed
        /// At least one did not (or the run itself went wrong: a refusal nobody expected, a wait that timed out).
        case failed
        /// Not run on this target (or nothing in it could be observed there), with the reason.
        case skipped
        /// The run could not be carried out (the runner's error, not the scenario's verdict).
        case error
    }

    /// The scenario's name.
    public var scenario: String
    /// The scenario's file.
    public var file: String
    public var requirements: [RequirementID]
    public var target: ScenarioTarget
    public var outcome: Outcome
    /// How long the run took on the wall clock [s] (what JUnit's `time` says).
    public var timeSeconds: Double
    /// When it ran (ISO 8601, as the runner writes it; nil: not recorded).
    public var timestamp: String?
    public var expectations: [ExpectationResult]
    /// The reason it was skipped, the runner's error, or the first failure in a line.
    public var message: String?
    /// Anything else the report should show (skipped prompts, a rig's notes, entries not reached).
    public var notes: [String]

    public init(
        scenario: String, file: String, requirements: [RequirementID], target: ScenarioTarget, outcome: Outcome, timeSeconds: Double = 0,
        timestamp: String? = nil, expectations: [ExpectationResult] = [], message: String? = nil, notes: [String] = []
    ) {
        self.scenario = scenario
        self.file = file
        self.requirements = requirements
        self.target = target
        self.outcome = outcome
        self.timeSeconds = timeSeconds
        self.timestamp = timestamp
        self.expectations = expectations
        self.message = message
        self.notes = notes
    }

    /// The expectations (and checks of the run) that failed.
    public var failures: [ExpectationResult] { expectations.filter { $0.status == .failed } }

    /// One line for the terminal: `PASS  sr12-operator-estop  virtual  0.12 s`, with the reason or
    /// the first failure after a dash for the others.
    public var progressLine: String {
        let word: String
        switch outcome {
        case .passed: word = "PASS "
        case .failed: word = "FAIL "
        case .skipped: word = "SKIP "
        case .error: word = "ERROR"
        }
        var line = "\(word) \(scenario)  \(target)  \(ScenarioText.number(timeSeconds, decimals: 3)) s"
        if outcome != .passed, let message { line += " — " + message }
        return line
    }
}

/// The verdict on one expectation (or on the run itself: `index` nil, `kind` "run").
public struct ExpectationResult: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        case passed
        case failed
        /// This target cannot observe it (no device event log on a rig, a time the run did not record).
        case unobservable
        /// Its `only_on` leaves this target out.
        case notApplicable = "not_applicable"
    }

    /// `expect[index]`; nil for a check of the run itself (the set-up, a wait that timed out).
    public var index: Int?
    public var label: String?
    /// The expectation's key ("event", "torque_off", …), or "run".
    public var kind: String
    /// What is checked, in a line.
    public var summary: String
    public var expected: String
    public var observed: String
    public var status: Status

    public init(index: Int?, label: String? = nil, kind: String, summary: String, expected: String, observed: String, status: Status) {
        self.index = index
        self.label = label
        self.kind = kind
        self.summary = summary
        self.expected = expected
        self.observed = observed
        self.status = status
    }

    /// "expect[2] \"spasm-trip\" event", or "run".
    public var name: String {
        guard let index else { return kind }
        return "expect[\(index)]" + (label.map { " \"\($0)\"" } ?? "") + " " + kind
    }

    /// "expect[0] event: expected …; observed …"
    public var line: String { "\(name): expected \(expected); observed \(observed)" }
}
