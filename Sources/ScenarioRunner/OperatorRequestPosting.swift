import Scenarios
import Session

extension TherapySession {
    /// What became of a timeline entry offered as an operator request.
    public enum TimelineRequestOutcome: Equatable {
        /// Posted, as the control socket posts it (taken by the next cycle).
        case posted
        /// Not posted, and why (a mode this session does not have).
        case refused(String)
        /// Not an operator request of this kind (release, faults, prompts and waits are the runner's own).
        case notARequest
    }

    /// Posts a scenario timeline's operator request — estop, stop, pause, resume, reset, mode NAME
    /// ("exercise": the exercise's own) — the same for every target.
    public func post(_ action: TimelineAction) -> TimelineRequestOutcome {
        switch action {
        case .emergencyStop: control.post(.emergencyStop)
        case .stop: control.post(.stop)
        case .pause: control.post(.pause)
        case .resume: control.post(.resume)
        case .reset: control.post(.reset)
        case .mode(let name):
            guard let index = name == "exercise" ? 0 : availableModes.firstIndex(where: { $0.name == name }) else {
                return .refused("this session has no mode \"\(name)\" (modes: \(availableModes.map(\.name).joined(separator: ", ")))")
            }
            control.requestMode(index)
        default:
            return .notARequest
        }
        return .posted
    }
}
