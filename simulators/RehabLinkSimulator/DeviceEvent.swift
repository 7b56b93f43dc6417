import Primitives
import Wire

/// Something the simulated device did, for tests and `rehabsim --events`: the device-side truth
/// against which host behaviour is checked (e.g. `watchdog_stop` within the watchdog period after
/// the host died).
public struct DeviceEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case enable
        case disable
        case watchdogStop = "watchdog_stop"
        case estop
        case estopReleased = "estop_released"
        case fault
        case faultReset = "fault_reset"
        case torqueOn = "torque_on"
        case torqueOff = "torque_off"
        /// A fault injection began (`detail`: its script name).
        case faultInjected = "fault_injected"
        /// A fault injection with a duration ended.
        case faultInjectionEnded = "fault_injection_ended"
        /// 1.1: the host missed two command periods; the joints hold locally (spec 6.1).
        case localHold = "local_hold"
        /// The local hold ended: a COMMAND arrived, or the watchdog, a fault, the e-stop or DISABLE ended it.
        case localHoldEnded = "local_hold_ended"
        /// 1.1, SR-22: the patient's stop button was pressed, or released.
        case patientStop = "patient_stop"
        case patientStopReleased = "patient_stop_released"
        /// 1.1, SR-22: the patient's pause button was pressed, or released.
        case patientPause = "patient_pause"
        case patientPauseReleased = "patient_pause_released"
    }

    public var kind: Kind
    /// When it happened, on the clock that drives the device (monotonic or virtual).
    public var time: MonotonicInstant
    /// The fault code for `.fault` (and `.watchdogStop`), `.none` otherwise.
    public var faultCode: RehabLink.FaultCode
    /// The joint concerned, or nil for the whole device.
    public var joint: Int?
    /// For injections: which fault (a script kind name).
    public var detail: String

    public init(kind: Kind, time: MonotonicInstant, faultCode: RehabLink.FaultCode = .none, joint: Int? = nil, detail: String = "") {
        self.kind = kind
        self.detail = detail
        self.time = time
        self.faultCode = faultCode
        self.joint = joint
    }
}
