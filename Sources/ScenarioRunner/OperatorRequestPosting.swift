import Scenarios
import Session

extension TherapySession {
    /// Posts a scenario timeline's operator request — estop, stop, pause, resume, reset, mode NAME
    /// ("exercise": the exercise's own) — as the control socket posts it, the same for every target.
    /// What became of it (`.performed`, or `.skipped` with why: a mode this session does not have);
    /// nil for an entry that is no such request (release, faults, prompts and waits are the runner's own).
    public func post(_ action: TimelineAction) -> ObservedAction.Outcome? {
        switch action {
        case .emergencyStop: control.post(.emergencyStop)
        case .stop: control.post(.stop)
        case .pause: control.post(.pause)
        case .resume: control.post(.resume)
        case .reset: control.post(.reset)
        case .mode(let name):
            guard let index = name == "exercise" ? 0 : availableModes.firstIndex(where: { $0.name == name }) else {
                return .skipped("this session has no mode \"\(name)\" (modes: \(availableModes.map(\.name).joined(separator: ", ")))")
            }
            control.requestMode(index)
        default:
            return nil
        }
        return .performed
    }
}
