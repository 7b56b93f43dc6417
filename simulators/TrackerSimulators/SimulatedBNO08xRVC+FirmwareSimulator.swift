import Primitives
import SimulatorKit

/// The BNO08x behind SimulatorKit's shared links, fault pump and real-time host.
///
/// The trigger counts: `at_ms` from boot; `after_enable_ms` also from boot (the sensor streams from power-up without
/// being enabled); `at_command` never fires (the sensor takes no commands). Events: `fault_injected` and
/// `fault_injection_ended` for every injection.
extension SimulatedBNO08xRVC: FirmwareSimulator {
    public typealias InjectableFault = TrackerSimulatorFault

    /// The sensor needs no enabling: it is active from power-up.
    public var firstEnableTime: MonotonicInstant? { bootTime }

    /// A sensor in UART-RVC mode takes no commands.
    public var appliedCommandCount: Int { 0 }

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

    /// The host opened its port at `bitsPerSecond`: anything but 115 200 bit/s (within the tolerance) reads garbage.
    public func hostLineRateChanged(bitsPerSecond: Int) {
        core.hostLineRateChanged(bitsPerSecond: bitsPerSecond)
    }
}
