import Primitives
import SimulatorKit

/// The MTi behind SimulatorKit's shared links, fault pump and real-time host.
///
/// The trigger counts: `at_ms` from boot; `after_enable_ms` from the MTi's first entry into Measurement;
/// `at_command` counts the host messages it acknowledged since then. Events: `fault_injected` and
/// `fault_injection_ended` for every injection.
extension SimulatedXsensIMU: FirmwareSimulator {
    public typealias InjectableFault = TrackerSimulatorFault

    public func beginInjectedFault(_ fault: TrackerSimulatorFault, timed: Bool) {
        core.begin(fault, at: now) { powerUp(at: $0) }
    }

    public func endInjectedFault(_ fault: TrackerSimulatorFault) {
        core.end(fault, at: now)
    }

    public func recordInjection(_ name: String, joint: Int?, began: Bool) {
        core.recordInjection(name, began: began, at: now)
    }

    public func drainEventRecords(_ body: (FirmwareEventRecord) -> Void) {
        core.events.drain(body)
    }

    /// The limb carrying the sensor starts following the exercise's cue (a swing ignores it).
    public func startCue(at start: MonotonicInstant) {
        core.motion.startCue(at: start)
    }

    /// The host opened its port at `bitsPerSecond`: at another rate than the MTi's (beyond the tolerance) neither
    /// understands the other.
    public func hostLineRateChanged(bitsPerSecond: Int) {
        core.hostLineRateChanged(bitsPerSecond: bitsPerSecond)
    }
}
