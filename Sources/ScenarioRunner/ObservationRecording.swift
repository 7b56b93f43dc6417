import Control
import Primitives
import Scenarios
import Session

extension ScenarioObservation {
    /// Takes what a session showed: its transitions (set-up included) timed from `origin` (the loop's
    /// start), and from its report, when it ran, the final state, SR-1's figures, the exercise
    /// metrics and the black-box files. The same for every target.
    public mutating func take(transitions: [SupervisorTransition], report: SessionReport?, origin: MonotonicInstant) {
        self.transitions = transitions.map { ObservedTransition($0, origin: origin) }
        guard let report else { return }
        finalState = report.finalState
        if let quality = report.linkQuality {
            linkQuality = ObservedLinkQuality(
                secondsGood: quality.secondsGood, secondsFair: quality.secondsFair, secondsPoor: quality.secondsPoor,
                secondsLost: quality.secondsLost, fairEpisodes: quality.fairEpisodes, poorEpisodes: quality.poorEpisodes)
        }
        metrics = report.metrics
        blackBoxFiles = report.blackBoxFiles
    }

    /// Takes the simulated device's event log (times from the origin), and from it whether the device
    /// was ever enabled and when each of the scenario's fault-script entries began (`fault_injected`).
    public mutating func take(deviceEvents events: [ObservedDeviceEvent], faults: [FaultEntry]) {
        deviceEvents = events
        deviceEverEnabled = events.contains { $0.name == "enable" || $0.name == "torque_on" }
        faultInjections = []
        var used = Set<Int>()
        for (index, fault) in faults.enumerated() {
            // The n-th entry of a kind is the n-th `fault_injected` of that kind.
            if let position = events.indices.first(where: { !used.contains($0) && events[$0].name == "fault_injected" && events[$0].detail == fault.kind }) {
                used.insert(position)
                faultInjections.append(ObservedInjection(index: index, timeNanoseconds: events[position].timeNanoseconds))
            }
        }
    }
}
