import Control

/// A supervisor transition as the report tells it to a therapist: a safety event, an interruption
/// (a pause, a hold while the link was slow), or the end of the exercise. The other transitions
/// (self-test, enable, start, resume, reset, standstill, release) are in the engineering log only.
///
/// A safety event is what `SessionReport.safetyEvents` and the metrics' `safety_events` count: a
/// fault or a stop by an interlock or an operator, that is a transition into `fault` or `estop`
/// with a stop category. The exercise's normal end (the plan's end or an operator's stop → stopping
/// → idle at standstill, both with a stop category) is none: it is an `end`.
struct RecordedEvent {
    enum Kind: Equatable {
        case safetyStop
        /// Into `paused` (the operator's or the patient's pause, SR-1 POOR), until it is left.
        case pause
        /// SR-1 FAIR while active: the robot held still until the link was good again.
        case linkHold
        case end(Ending)
    }

    /// Why the exercise ended, when no safety event stopped it.
    enum Ending: Equatable {
        /// The plan ran to its end: every repetition, or its whole time.
        case planCompleted
        /// A stop request before the plan's end: an operator (the control socket, Ctrl-C).
        case stoppedEarly
        /// The patient's stop input (SR-22).
        case patientStop
        /// A stop request, and the file cannot tell the plan's own from an operator's (a recording
        /// without its `session_result` record, its plan or its metrics).
        case stopRequested
        /// A stop during the set-up, before the exercise began.
        case setUpStopped
    }

    /// 1, 2, …: the marker's number on every plot and in the summary's list.
    var number: Int
    /// Its place in `RecordingData.transitions`.
    var index: Int
    var transition: RecordingData.Transition
    var kind: Kind
    /// How long a pause or a hold lasted [s]; nil for the others, or when the file ends first.
    var durationSeconds: Double?

    /// How the exercise ended, for an `end`.
    var ending: Ending? {
        if case .end(let ending) = kind { return ending }
        return nil
    }

    /// "Safety stop — a joint moved too fast (SR-8)": what happened, in words.
    var headline: String {
        let phrase = Self.phrase(transition.cause)
        let requirement = transition.requirement.isEmpty ? "" : " (\(transition.requirement))"
        switch kind {
        case .safetyStop: return (transition.to == "estop" ? "Emergency stop — " : "Safety stop — ") + phrase + requirement
        case .pause: return "Pause — " + phrase + requirement
        case .linkHold: return "Link hold — " + phrase + requirement
        case .end(let ending):
            switch ending {
            case .planCompleted: return "Exercise ended — the plan was completed"
            case .stoppedEarly: return "Exercise ended early — stopped by the operator"
            case .patientStop: return "Exercise ended early — " + phrase + requirement
            case .stopRequested: return "Exercise ended — a stop was requested (the plan's end or an operator)"
            case .setUpStopped: return "Stopped during the set-up, before the exercise"
            }
        }
    }

    /// The engineering details: "interaction_torque_severe SR-9, Cat 0 stop, 1.2 N·m, joint flexion".
    var details: String {
        var parts = [transition.cause + (transition.requirement.isEmpty ? "" : " " + transition.requirement)]
        if let category = transition.category { parts.append("Cat \(category) stop") }
        if let value = transition.value, value != 0 {
            parts.append(SVGPlot.label(value) + (transition.unit.isEmpty ? "" : " " + transition.unit))
        }
        if let joint = transition.joint { parts.append("joint " + joint) }
        if transition.deviceCode != 0 { parts.append("device code \(transition.deviceCode)") }
        if transition.duringSetUp {
            parts.append("during the set-up")
        } else if let cycle = transition.cycle {
            parts.append("cycle \(cycle)")
        }
        return parts.joined(separator: ", ")
    }

    var markerKind: SVGPlot.Marker.Kind {
        switch kind {
        case .safetyStop: .safety
        case .pause, .linkHold, .end(.stoppedEarly), .end(.patientStop), .end(.setUpStopped): .interruption
        case .end(.planCompleted), .end(.stopRequested): .neutral
        }
    }

    var marker: SVGPlot.Marker { SVGPlot.Marker(x: transition.t, label: headline, kind: markerKind) }

    // MARK: Classification

    /// The events of `data`'s transitions, numbered in time order.
    static func events(of data: RecordingData) -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        let transitions = data.transitions
        for (index, transition) in transitions.enumerated() {
            guard let kind = classify(transition, at: index, in: data) else { continue }
            var duration: Double?
            if kind == .pause || kind == .linkHold {
                // Until the supervisor leaves the pause, or the link is good again (or the hold ends in a stop).
                let rest = transitions[(index + 1)...]
                let end = kind == .pause
                    ? rest.first(where: { $0.from == "paused" && $0.to != "paused" })
                    : rest.first(where: { $0.cause != SafetyCause.linkDegraded.rawValue && ($0.cause == SafetyCause.linkRestored.rawValue || $0.to != "active") })
                duration = end.map { max(0, $0.t - transition.t) }
            }
            events.append(RecordedEvent(number: events.count + 1, index: index, transition: transition, kind: kind, durationSeconds: duration))
        }
        return events
    }

    private static func classify(_ transition: RecordingData.Transition, at index: Int, in data: RecordingData) -> Kind? {
        if transition.isSafetyEvent { return .safetyStop }
        let cause = SafetyCause(rawValue: transition.cause)
        if transition.to == "paused" && transition.from != "paused" && transition.category != nil { return .pause }
        if cause == .linkDegraded && transition.from == "active" { return .linkHold }
        if transition.to == "stopping" && transition.from != "stopping" {
            if cause == .patientStop { return .end(.patientStop) }
            return .end(ending(ofStopAt: index, in: data))
        }
        if transition.to == "disabled" && cause == .stopRequested { return .end(.setUpStopped) }
        return nil
    }

    /// Whether the stop request at `index` was the plan's own end or an operator's. The transition
    /// itself cannot say (both are `stop_requested`, SR-12, Cat 1, into `stopping`); the file's
    /// `session_result` record can, and without it the plan, the repetitions and the control
    /// socket's audit of the metrics can.
    private static func ending(ofStopAt index: Int, in data: RecordingData) -> Ending {
        let stop = data.transitions[index]
        let isLastStop = !data.transitions[(index + 1)...].contains { $0.to == "stopping" }
        if isLastStop, let result = data.result {
            switch result.ending {
            case .completed: return .planCompleted
            case .stopped, .fault: return .stoppedEarly
            }
        }
        if let time = stop.monotonicNanoseconds,
            data.audit.contains(where: {
                // In doubles: the file's times are any 64-bit values, their difference need not be one.
                $0.request == "stop" && $0.outcome == "accepted" && (0..<1.5e9).contains(Double(time) - Double($0.monotonicNanoseconds))
            })
        {
            return .stoppedEarly
        }
        if let planned = data.plan?.repetitions {
            guard let done = data.repetitionsDone else { return .stopRequested }
            return done >= planned ? .planCompleted : .stoppedEarly
        }
        // A timed plan: it ends once it has run its time, held time (pauses, FAIR holds) not counted,
        // so the exercise has been running at least that long when the plan stops it.
        guard let planned = data.plan?.durationSeconds,
            let start = data.transitions[..<index].last(where: { $0.to == "active" && $0.cause == SafetyCause.startRequested.rawValue })
        else { return .stopRequested }
        return stop.t - start.t >= planned - 0.1 ? .planCompleted : .stoppedEarly
    }

    // MARK: Words

    /// What a cause means, for people; a cause this build does not know by its name.
    static func phrase(_ cause: String) -> String {
        guard let known = SafetyCause(rawValue: cause) else { return String(cause.map { $0 == "_" ? " " : $0 }) }
        return phrase(known)
    }

    static func phrase(_ cause: SafetyCause) -> String {
        switch cause {
        case .selfTestStarted: "the self-test started"
        case .selfTestPassed: "the self-test passed"
        case .selfTestFailed: "the self-test failed"
        case .enabled: "the robot was enabled"
        case .startRequested: "the exercise started"
        case .stopRequested: "a stop was requested"
        case .pauseRequested: "the operator paused the exercise"
        case .resumeRequested: "the exercise resumed"
        case .resetRequested: "the operator reset the stop"
        case .standstillReached: "the robot came to a standstill"
        case .deviceSilent: "the robot stopped answering"
        case .deviceSilentTooLong: "the robot stopped answering for too long"
        case .linkDegraded: "the link to the robot was slow, so the robot held still"
        case .linkRestored: "the link to the robot was good again"
        case .linkPoor: "the link to the robot stayed poor, so the exercise paused"
        case .linkPoorRepeated: "the link to the robot was poor for the third time"
        case .loopGap: "the control computer stalled"
        case .linkLost: "the connection to the robot was lost"
        case .deviceFault: "the robot reported a fault"
        case .deviceWatchdogExpired: "the robot's own watchdog stopped it"
        case .deviceEmergencyStop: "the emergency stop button on the robot was pressed"
        case .deviceDisabled: "the robot switched itself off"
        case .operatorEmergencyStop: "the operator pressed the emergency stop"
        case .nonFiniteCommand: "the controller computed an invalid command"
        case .stopDeadlineMissed: "a stop took longer than allowed"
        case .positionBeyondSoftLimit: "a joint went past its safe range"
        case .positionHardLimit: "a joint reached its mechanical limit"
        case .velocityTrip: "a joint moved too fast"
        case .overspeed: "a joint moved far too fast"
        case .interactionTorque: "the torque between patient and robot was too high"
        case .interactionTorqueSevere: "the torque between patient and robot was far too high"
        case .encoderJump: "a position sensor jumped"
        case .encoderFrozen: "a position sensor froze"
        case .implausibleDeviceValue: "the robot reported an impossible value"
        case .motionNotAnswering: "a joint did not move when driven"
        case .trackerStale: "the motion tracker's data were too old"
        case .trackerToolMissing: "the motion tracker lost sight of its marker"
        case .trackerFrozen: "the motion tracker froze"
        case .trackerInaccurate: "the motion tracker was inaccurate"
        case .trackerTooSlow: "the motion tracker was too slow"
        case .workspace: "the hand left the allowed workspace"
        case .patientStop: "the patient pressed the stop button"
        case .patientPause: "the patient pressed the pause button"
        case .stopNotConfirmed: "the robot did not confirm that its torque was off"
        case .clockMismatch: "the robot's clock ran out of step"
        case .commandsIgnored: "the robot ignored commands"
        case .deviceProtocolViolation: "the robot sent malformed data"
        case .releaseStarted: "the operator began releasing the patient's limb"
        case .releaseEnded: "the limb release ended"
        }
    }
}
