@_exported import SimulatorKit
import Profiles
import Wire

/// One fault to inject into a simulated RehabLink device or its link: what, when, and for how long
/// (SimulatorKit's `ScheduledFault` with the RehabLink firmware's device-level faults).
///
/// The same value drives the in-process simulator (tests, virtual time) and `rehabsim` (a fault
/// script given with `--faults`, or a line on its `--control` socket). The JSON form is documented
/// in simulators/README.md and parsed by `FaultScript`. Kinds read as before:
/// `InjectedFault(.dropReplies, .afterEnableMilliseconds(2_000), forMilliseconds: 50)`,
/// `InjectedFault(.freezeEncoder(joint: 0), .atCommand(3_000))`.
public typealias InjectedFault = ScheduledFault<RehabLinkDeviceFault>

/// The in-process virtual-time link to a simulated RehabLink device, named without its generic argument.
public typealias RehabLinkInProcessLink = InProcessDeviceLink<SimulatedRehabLinkDevice>

/// The fault-injection pump for a simulated RehabLink device, named without its generic argument.
public typealias RehabLinkFaultInjector = FaultInjector<RehabLinkDeviceFault>

/// The device-level faults the simulated RehabLink firmware understands (the link's are SimulatorKit's
/// `LinkFault`): what `SimulatedRehabLinkDevice.beginInjectedFault` does with each.
public enum RehabLinkDeviceFault: InjectableDeviceFault {
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
    case deviceFault(RehabLink.FaultCode)
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
        case .jumpEncoder, .wrapEncoder, .overTemperature, .releaseEmergencyStop, .releasePatientStop, .releasePatientPause:
            false
        default: true
        }
    }

    /// Every kind's script name, for messages.
    public static let names = [
        "freeze_encoder", "jump_encoder", "wrap_encoder", "reverse_encoder", "device_fault", "over_temperature", "estop_press",
        "estop_release", "external_torque", "brake_failure", "disable_watchdog", "ignore_commands", "clock_drift",
        "ignore_limit_writes", "patient_stop", "patient_stop_release", "patient_pause", "patient_pause_release",
    ]

    /// The fault codes a script may name (the firmware's own are raised by the physics).
    static let faultCodes: [String: RehabLink.FaultCode] = [
        "over_temperature": .overTemperature, "overload": .overload, "over_speed": .overSpeed, "encoder": .encoder,
        "supply_voltage": .supplyVoltage,
    ]

    public static func parse(kind name: String, fields r: inout FieldReader, jointCount: Int, trigger: FaultTrigger?) -> Self? {
        switch name {
        case "freeze_encoder": return FaultScriptFormat.joint(&r, jointCount: jointCount).map { .freezeEncoder(joint: $0) }
        case "jump_encoder":
            let index = FaultScriptFormat.joint(&r, jointCount: jointCount)
            let counts = r.integer("counts", unit: "counts", in: -1_000_000_000...1_000_000_000)
            if counts == 0 { r.report("counts", "a jump of 0 counts is no fault") }
            if let index, let counts, counts != 0 { return .jumpEncoder(joint: index, counts: counts) }
            return nil
        case "wrap_encoder":
            let index = FaultScriptFormat.joint(&r, jointCount: jointCount)
            let before = r.integer("counts_before_wrap", unit: "counts", in: 0...2_000_000_000)
            if trigger != .atMilliseconds(0) && trigger != nil {
                r.report("", "wrap_encoder places the raw counter before the host connects: use \"at_ms\": 0 (moving it later is a jump)")
            } else if let index, let before {
                return .wrapEncoder(joint: index, countsBeforeWrap: before)
            }
            return nil
        case "reverse_encoder": return FaultScriptFormat.joint(&r, jointCount: jointCount).map { .reverseEncoder(joint: $0) }
        case "device_fault":
            if let code = r.string("code") {
                if let known = faultCodes[code] { return .deviceFault(known) }
                r.report("code", "unknown fault code \"\(code)\" (known: \(faultCodes.keys.sorted().joined(separator: ", ")))")
            }
            return nil
        case "over_temperature": return FaultScriptFormat.joint(&r, jointCount: jointCount).map { .overTemperature(joint: $0) }
        case "estop_press": return .pressEmergencyStop
        case "estop_release": return .releaseEmergencyStop
        case "external_torque":
            let index = FaultScriptFormat.joint(&r, jointCount: jointCount)
            let torque = r.number("torque_nm", unit: "N·m", in: -1_000...1_000)
            let ramp = r.number("ramp_ms", unit: "ms", in: 0...60_000, required: false, default: 0)
            if let index, let torque, let ramp { return .externalTorque(joint: index, newtonMeters: torque, rampMilliseconds: ramp) }
            return nil
        case "brake_failure": return FaultScriptFormat.joint(&r, jointCount: jointCount).map { .brakeFailure(joint: $0) }
        case "disable_watchdog": return .disableWatchdog
        case "ignore_commands": return .ignoreCommands
        case "clock_drift": return r.number("percent", unit: "%", in: -50...50).map { .clockDrift(percent: $0) }
        case "ignore_limit_writes": return .ignoreLimitWrites
        case "patient_stop": return .pressPatientStop
        case "patient_stop_release": return .releasePatientStop
        case "patient_pause": return .pressPatientPause
        case "patient_pause_release": return .releasePatientPause
        default: return nil
        }
    }
}

/// The RehabLink firmware's device-level kinds as members of a fault's kind, so that
/// `InjectedFault(.freezeEncoder(joint: 0), …)` reads like `InjectedFault(.dropReplies, …)`.
extension FaultKind where DeviceKind == RehabLinkDeviceFault {
    public static func freezeEncoder(joint: Int) -> Self { .device(.freezeEncoder(joint: joint)) }
    public static func jumpEncoder(joint: Int, counts: Int64) -> Self { .device(.jumpEncoder(joint: joint, counts: counts)) }
    public static func wrapEncoder(joint: Int, countsBeforeWrap: Int64) -> Self {
        .device(.wrapEncoder(joint: joint, countsBeforeWrap: countsBeforeWrap))
    }
    public static func reverseEncoder(joint: Int) -> Self { .device(.reverseEncoder(joint: joint)) }
    public static func deviceFault(_ code: RehabLink.FaultCode) -> Self { .device(.deviceFault(code)) }
    public static func overTemperature(joint: Int) -> Self { .device(.overTemperature(joint: joint)) }
    public static var pressEmergencyStop: Self { .device(.pressEmergencyStop) }
    public static var releaseEmergencyStop: Self { .device(.releaseEmergencyStop) }
    public static func externalTorque(joint: Int, newtonMeters: Double, rampMilliseconds: Double) -> Self {
        .device(.externalTorque(joint: joint, newtonMeters: newtonMeters, rampMilliseconds: rampMilliseconds))
    }
    public static func brakeFailure(joint: Int) -> Self { .device(.brakeFailure(joint: joint)) }
    public static var disableWatchdog: Self { .device(.disableWatchdog) }
    public static var ignoreCommands: Self { .device(.ignoreCommands) }
    public static func clockDrift(percent: Double) -> Self { .device(.clockDrift(percent: percent)) }
    public static var ignoreLimitWrites: Self { .device(.ignoreLimitWrites) }
    public static var pressPatientStop: Self { .device(.pressPatientStop) }
    public static var releasePatientStop: Self { .device(.releasePatientStop) }
    public static var pressPatientPause: Self { .device(.pressPatientPause) }
    public static var releasePatientPause: Self { .device(.releasePatientPause) }
}
