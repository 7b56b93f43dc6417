import Wire

/// One fault to inject into a simulated device or its link: what, when, and for how long.
///
/// The same value drives the in-process simulator (tests, virtual time) and `rehabsim` (a fault
/// script given with `--faults`, or a line on its `--control` socket). The JSON form is documented
/// in simulators/README.md and parsed by `FaultScript`.
public struct InjectedFault: Sendable, Equatable {
    /// When the fault begins.
    public enum Trigger: Sendable, Equatable {
        /// As soon as the injector sees it (a live injection).
        case now
        /// This long after the simulator started [ms].
        case atMilliseconds(Double)
        /// This long after the device was first enabled [ms].
        case afterEnableMilliseconds(Double)
        /// When the device applies its N-th COMMAND (counted from 1 since the first enable).
        case atCommand(Int)
    }

    public enum Kind: Sendable, Equatable {
        /// The device's bytes never reach the host (a mute device, a broken receive line).
        case dropReplies
        /// Every n-th byte the device sends is flipped (0x5A XOR): CRC and framing errors on the host.
        case corruptBytes(everyNth: Int)
        /// The device's bytes reach the host this much later [ms].
        case delayReplies(milliseconds: Double)
        /// The link disappears (USB unplugged): in `rehabsim` the pseudo-terminal is closed.
        case unplug
        /// The joint's encoder reading stops changing (bit-identical counts).
        case freezeEncoder(joint: Int)
        /// The joint's encoder reading steps by this many counts, once (a glitch or a slipped disc).
        case jumpEncoder(joint: Int, counts: Int64)
        /// The joint's 32-bit raw counter starts this many counts below its wrap; only at start
        /// (`atMilliseconds(0)`), since moving a counter later is a jump.
        case wrapEncoder(joint: Int, countsBeforeWrap: Int64)
        /// The joint's encoder counts the wrong way (miswired or mis-configured).
        case reverseEncoder(joint: Int)
        /// The firmware latches this fault code; with a duration, its cause persists that long
        /// (FAULT_RESET is refused meanwhile).
        case deviceFault(DeviceFaultCode)
        /// The joint's winding heats past its limit: the firmware's own over-temperature trip.
        case overTemperature(joint: Int)
        case pressEmergencyStop
        case releaseEmergencyStop
        /// The patient pushes (a spasm): torque on the joint, ramped in over `rampMilliseconds`.
        case externalTorque(joint: Int, newtonMeters: Double, rampMilliseconds: Double)
        /// The drive cannot produce braking torque on the joint (deceleration impossible).
        case brakeFailure(joint: Int)
        /// A faulty firmware: ENABLE is acknowledged with watchdog 0 and the watchdog never expires.
        case disableWatchdog
        /// A faulty firmware that answers every COMMAND with a STATE but applies none (its echo stops
        /// advancing) and still feeds its watchdog: only the host can notice (SR-25).
        case ignoreCommands
        /// A faulty firmware clock that runs fast by `percent` (SR-23's cross-check).
        case clockDrift(percent: Double)
        /// A faulty firmware: SR-24 limit writes are answered `ok` but not applied (the read-back differs).
        case ignoreLimitWrites
        /// 1.1, SR-22: the patient presses the stop button on the device (held until released).
        case pressPatientStop
        case releasePatientStop
        /// 1.1, SR-22: the patient presses the pause button on the device (held until released).
        case pressPatientPause
        case releasePatientPause

        /// The name used in fault scripts and device events.
        public var name: String {
            switch self {
            case .dropReplies: "drop_replies"
            case .corruptBytes: "corrupt_bytes"
            case .delayReplies: "delay_replies"
            case .unplug: "unplug"
            case .freezeEncoder: "freeze_encoder"
            case .jumpEncoder: "jump_encoder"
            case .wrapEncoder: "wrap_encoder"
            case .reverseEncoder: "reverse_encoder"
            case .deviceFault: "device_fault"
            case .overTemperature: "over_temperature"
            case .pressEmergencyStop: "estop_press"
            case .releaseEmergencyStop: "estop_release"
            case .externalTorque: "external_torque"
            case .brakeFailure: "brake_failure"
            case .disableWatchdog: "disable_watchdog"
            case .ignoreCommands: "ignore_commands"
            case .clockDrift: "clock_drift"
            case .ignoreLimitWrites: "ignore_limit_writes"
            case .pressPatientStop: "patient_stop"
            case .releasePatientStop: "patient_stop_release"
            case .pressPatientPause: "patient_pause"
            case .releasePatientPause: "patient_pause_release"
            }
        }

        /// The joint concerned, when the fault is one joint's.
        public var joint: Int? {
            switch self {
            case .freezeEncoder(let joint), .jumpEncoder(let joint, _), .wrapEncoder(let joint, _), .reverseEncoder(let joint),
                .overTemperature(let joint), .externalTorque(let joint, _, _), .brakeFailure(let joint):
                joint
            default: nil
            }
        }

        /// Whether the fault can be given a duration (`for_ms`) after which it ends by itself.
        public var canEnd: Bool {
            switch self {
            case .unplug, .jumpEncoder, .wrapEncoder, .overTemperature, .releaseEmergencyStop, .releasePatientStop,
                .releasePatientPause:
                false
            default: true
            }
        }

        /// Every kind's script name, for messages.
        public static let names = [
            "drop_replies", "corrupt_bytes", "delay_replies", "unplug", "freeze_encoder", "jump_encoder", "wrap_encoder",
            "reverse_encoder", "device_fault", "over_temperature", "estop_press", "estop_release", "external_torque",
            "brake_failure", "disable_watchdog", "ignore_commands", "clock_drift", "ignore_limit_writes", "patient_stop", "patient_stop_release",
            "patient_pause", "patient_pause_release",
        ]
    }

    public var trigger: Trigger
    public var kind: Kind
    /// How long it lasts [ms]; nil: until the simulator stops (or, for one-off kinds, not applicable).
    public var durationMilliseconds: Double?

    public init(_ kind: Kind, _ trigger: Trigger, forMilliseconds duration: Double? = nil) {
        precondition(duration == nil || kind.canEnd, "\(kind.name) cannot be given a duration")
        self.kind = kind
        self.trigger = trigger
        durationMilliseconds = duration
    }
}
