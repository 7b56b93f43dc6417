import Control
import Primitives

/// What every simulated device firmware offers, whatever protocol it speaks: bytes in, bytes out,
/// time advanced by the caller, device-level faults begun and ended on request.
///
/// The rest is written once for every protocol on top of this interface: the in-process
/// virtual-time link (`InProcessDeviceLink`), the fault-injection pump (`FaultInjector`), the
/// real-time host behind a pseudo-terminal (`RealTimeDeviceHost`) and with it `rehabsim`. A new
/// protocol's simulator (a Dynamixel chain, a tracker) is a class conforming to this protocol and
/// an `InjectableDeviceFault` type for the faults it understands.
///
/// A conforming firmware must not allocate in `receive`, `advance`, `popOutput` or the fault
/// hooks after set-up: it runs inside the host's allocation-counted control cycle in tests.
public protocol FirmwareSimulator: AnyObject {
    /// The device-level faults this firmware understands (encoder glitches, over-temperature, its
    /// buttons …): parsed from fault scripts and live injections by `FaultScriptParser`, begun and
    /// ended by `FaultInjector` through `beginInjectedFault` / `endInjectedFault`. Link faults
    /// (drop, corrupt, delay, unplug) are not the firmware's: the links apply them.
    associatedtype InjectableFault: InjectableDeviceFault

    /// The device's model, for messages and link names ("in-process simulator (RH-WRIST-2)").
    var model: String { get }

    /// The serial number the device reports, for messages.
    var serialNumber: String { get }

    /// When the firmware was powered on: `at_ms` fault triggers and the `t_ms` of events count from it.
    var bootTime: MonotonicInstant { get }

    /// When a host first enabled (activated) the device; nil until then. `after_enable_ms` fault
    /// triggers count from it.
    var firstEnableTime: MonotonicInstant? { get }

    /// Commands the firmware applied since it was first enabled; `at_command` fault triggers count them.
    var appliedCommandCount: Int { get }

    /// Bytes from the host arriving at `time` (the firmware first runs up to `time`). Replies are
    /// queued for `popOutput`.
    func receive(_ bytes: UnsafeRawBufferPointer, at time: MonotonicInstant)

    /// Runs the firmware and its physics up to `time` (never backward), queueing whatever it sends
    /// meanwhile (unsolicited reports, fault messages).
    func advance(to time: MonotonicInstant)

    /// The next moment the firmware must act without being spoken to (a watchdog expiring, a local
    /// hold beginning), if any: a real-time host sleeps until then or until bytes arrive.
    var nextDeadline: MonotonicInstant? { get }

    /// True when the firmware has produced bytes that `popOutput` has not taken yet.
    var hasOutput: Bool { get }

    /// Moves bytes the firmware produced, oldest first, into `buffer` (at most its size) and returns
    /// how many. Never allocates: links call it in a loop until `hasOutput` is false.
    func popOutput(into buffer: UnsafeMutableRawBufferPointer) -> Int

    /// A device-level injected fault begins now (its trigger came). `timed`: it was given a
    /// duration, so `endInjectedFault` follows (a firmware may make the fault's cause persist
    /// until then). Called after `recordInjection(_:joint:began:)` with `began: true`.
    func beginInjectedFault(_ fault: InjectableFault, timed: Bool)

    /// A device-level injected fault's duration is over: undo what `beginInjectedFault` did. Only
    /// called for faults that can end (`InjectableDeviceFault.canEnd`).
    func endInjectedFault(_ fault: InjectableFault)

    /// Notes in the device's event log that an injection (of any kind, the link's too) began or
    /// ended, so that tests and `rehabsim --events` measure deadlines from the device's own record.
    func recordInjection(_ name: String, joint: Int?, began: Bool)

    /// Hands every event recorded since the last call to `body`, oldest first, in the neutral form
    /// `rehabsim --events` writes, and forgets them. Allocation-free after set-up.
    func drainEventRecords(_ body: (FirmwareEventRecord) -> Void)

    /// The exercise's cue begins at `start`: a simulated patient or limb in the device follows it
    /// from then on (`rehabsim --control` line `cue_start_in_ms`). A device without one ignores it.
    func startCue(at start: MonotonicInstant)

    /// The host's plan stands still from `time` on (a pause, a FAIR hold) and runs again from a later
    /// `resumeCue(at:plan:)`, along the plan the host made then (nil: the old one goes on): the cue does
    /// the same (`rehabsim --control` lines `cue_hold_at_ns`, `cue_resume_at_ns` with `plan_*`). A
    /// device without a patient ignores them.
    func holdCue(at time: MonotonicInstant)
    func resumeCue(at time: MonotonicInstant, plan: PlanInputs?)

    /// The host has set its end of the line to `bitsPerSecond` (a pseudo-terminal carries no signal,
    /// but its master sees the rate the host configured): called before the bytes that follow. A
    /// firmware whose timing or understanding depends on the rate (a servo bus) takes it; others
    /// ignore it.
    func hostLineRateChanged(bitsPerSecond: Int)
}

extension FirmwareSimulator {
    /// Devices without a simulated patient have no cue to follow.
    public func startCue(at start: MonotonicInstant) {}

    /// The cue starts at `start` along the plan the session made (nil: the exercise's own): a start, then
    /// at the same instant a hold and a resume along that plan, which is what a resume with a plan does.
    public func startCue(at start: MonotonicInstant, plan: PlanInputs?) {
        startCue(at: start)
        guard let plan else { return }
        holdCue(at: start)
        resumeCue(at: start, plan: plan)
    }
    public func holdCue(at time: MonotonicInstant) {}
    public func resumeCue(at time: MonotonicInstant, plan: PlanInputs?) {}

    /// Devices whose link does not depend on the rate ignore it.
    public func hostLineRateChanged(bitsPerSecond: Int) {}
}

/// Something a simulated device did, in the protocol-neutral form of `rehabsim --events`:
/// `{"t_ms":…, "unix_ns":…, "event":"…", "fault_code":…, "fault":"…", "joint":…}`.
public struct FirmwareEventRecord: Sendable, Equatable {
    /// When it happened, on the clock that drives the device.
    public var time: MonotonicInstant
    /// The event's name ("enable", "watchdog_stop", "fault_injected" …).
    public var event: String
    /// The device's own fault code, when the event concerns one.
    public var faultCode: Int?
    /// The fault code's name ("over_speed"), written as "fault" next to `fault_code`.
    public var faultName: String
    /// The fault code as people read it ("over_speed (0x0003)"), for the terminal.
    public var faultDescription: String
    /// The joint concerned, or nil for the whole device.
    public var joint: Int?
    /// For injections: which fault (a script kind name); empty otherwise.
    public var detail: String

    public init(
        time: MonotonicInstant, event: String, faultCode: Int? = nil, faultName: String = "", faultDescription: String = "",
        joint: Int? = nil, detail: String = ""
    ) {
        self.time = time
        self.event = event
        self.faultCode = faultCode
        self.faultName = faultName
        self.faultDescription = faultDescription
        self.joint = joint
        self.detail = detail
    }
}
