import Profiles
import SimulatorKit

/// A fault to inject into a simulated NDI tracker or its link (SimulatorKit's `ScheduledFault` with the
/// tracker's device-level faults).
public typealias NDIInjectedFault = ScheduledFault<NDITrackerFault>

/// The in-process virtual-time link to a simulated NDI tracker.
public typealias NDIInProcessLink = InProcessDeviceLink<SimulatedNDITracker>

/// The device-level faults a simulated NDI tracker understands. The link's faults are SimulatorKit's
/// `LinkFault`: `drop_replies`, `corrupt_bytes` (CRC errors on the host), `delay_replies`, `unplug`.
///
/// A tool is named by its port handle, `"handle": 10` or `"handle": "0A"`; for `tracker_drift` and
/// `tracker_inaccurate` it is optional (every tool when absent). A handle the tracker does not have is
/// accepted by the script and does nothing. Script form (simulators/README.md):
///
///     {"at_ms": 500, "for_ms": 200, "kind": "tool_missing", "handle": "0A"}
///     {"after_enable_ms": 100, "kind": "tool_out_of_volume", "handle": 11}
///     {"after_enable_ms": 1000, "for_ms": 300, "kind": "tracker_freeze"}
///     {"after_enable_ms": 0, "kind": "tracker_drift", "drift_mm_per_s": 2.5}
///     {"at_command": 40, "kind": "tracker_inaccurate", "rms_error_mm": 3}
///     {"at_ms": 8000, "kind": "tracker_reset"}
///     {"after_enable_ms": 2000, "for_ms": 100, "kind": "bx_error", "code": "0C"}
public enum NDITrackerFault: InjectableDeviceFault {
    /// The tool cannot be tracked (out of the field or the camera's view): BX status 02 missing, with its
    /// port status and a frame number that keeps counting (README §6.2).
    case toolMissing(handle: UInt8)
    /// The tool is reported outside the characterized volume wherever it is: port status 0x40; with reply
    /// option 0x0800 still a pose, without it status missing (README §9.3).
    case toolOutOfVolume(handle: UInt8)
    /// The system's measurements stop: frame number and poses stay those of the last frame while BX
    /// keeps being answered (what SR-15's frozen-counter rule must catch).
    case trackerFreeze
    /// The positions of the tool (every tool when nil) drift along the tracker's +x axis at this rate
    /// [mm/s] from the moment the fault begins (a metal object near an Aurora's field); gone when it ends.
    case trackerDrift(handle: UInt8?, millimetersPerSecond: Double)
    /// The reported RMS error of the tool (every tool when nil) becomes this [mm] while the poses stay as
    /// accurate as before: only the host's check of the reported error finds it.
    case trackerInaccurate(handle: UInt8?, rmsErrorMillimeters: Double)
    /// A serial break (or a power cycle): the device resets to 9600 8N1, forgets INIT, its tools' set-up
    /// and tracking, and sends `RESETBE6F⏎` when ready (README §2). The break a pseudo-terminal cannot
    /// carry (README §10.3); a one-off. While tracking, a host at 9600 reads the RESET; one at another rate
    /// reads noise, then nothing (README §9.4).
    case trackerReset
    /// While it lasts, BX (and TX) is answered `ERRORxx` with this code instead of data, as a system
    /// whose measurement failed answers (README §4.2, §9.4); set-up commands are served as usual. The
    /// script gives `code` as two hex digits ("0C") or a whole number 1 … 255; default 05 (time-out on
    /// command execution).
    case bxError(code: UInt8)

    /// The port handle concerned, when the fault is one tool's.
    public var handle: UInt8? {
        switch self {
        case .toolMissing(let handle), .toolOutOfVolume(let handle): handle
        case .trackerDrift(let handle, _), .trackerInaccurate(let handle, _): handle
        case .trackerFreeze, .trackerReset, .bxError: nil
        }
    }

    public var name: String {
        switch self {
        case .toolMissing: "tool_missing"
        case .toolOutOfVolume: "tool_out_of_volume"
        case .trackerFreeze: "tracker_freeze"
        case .trackerDrift: "tracker_drift"
        case .trackerInaccurate: "tracker_inaccurate"
        case .trackerReset: "tracker_reset"
        case .bxError: "bx_error"
        }
    }

    /// Faults name a tool by its port handle, not a joint.
    public var joint: Int? { nil }

    public var canEnd: Bool {
        switch self {
        case .trackerReset: false
        case .toolMissing, .toolOutOfVolume, .trackerFreeze, .trackerDrift, .trackerInaccurate, .bxError: true
        }
    }

    public static let names = ["tool_missing", "tool_out_of_volume", "tracker_freeze", "tracker_drift", "tracker_inaccurate", "tracker_reset", "bx_error"]

    public static func parse(kind: String, fields r: inout FieldReader, jointCount: Int, trigger: FaultTrigger?) -> Self? {
        switch kind {
        case "tool_missing":
            return handle(&r, required: true).map { .toolMissing(handle: $0 ?? 0) }
        case "tool_out_of_volume":
            return handle(&r, required: true).map { .toolOutOfVolume(handle: $0 ?? 0) }
        case "tracker_freeze":
            return .trackerFreeze
        case "tracker_drift":
            let tool = handle(&r, required: false)
            let rate = r.number("drift_mm_per_s", unit: "mm/s", in: -1_000...1_000)
            guard let tool, let rate else { return nil }
            return .trackerDrift(handle: tool, millimetersPerSecond: rate)
        case "tracker_inaccurate":
            let tool = handle(&r, required: false)
            let rms = r.number("rms_error_mm", unit: "mm", in: 0...1_000, required: false, default: 5)
            guard let tool, let rms else { return nil }
            return .trackerInaccurate(handle: tool, rmsErrorMillimeters: rms)
        case "tracker_reset":
            return .trackerReset
        case "bx_error":
            return errorCode(&r).map { .bxError(code: $0) }
        default:
            return nil
        }
    }

    /// Reads `code`, the xx of ERRORxx: two hex digits ("0C") or a whole number 1 … 255; 05 when absent.
    private static func errorCode(_ r: inout FieldReader) -> UInt8? {
        if let text = r.object["code"]?.stringValue {
            r.skip("code")
            guard text.utf8.count == 2, let value = UInt8(text, radix: 16), value != 0 else {
                r.report("code", "expected an NDI error code: two hex digits such as \"0C\" or 1 … 255 (found \"\(text)\")")
                return nil
            }
            return value
        }
        return r.integer("code", unit: "(error code)", in: 1...255, required: false, default: 0x05).map { UInt8($0) }
    }

    /// Reads `handle`: a whole number 1 … 255 or two hex digits ("0A"). The outer optional is nil when the
    /// field is invalid (or missing while required); the inner one when it is absent and optional.
    private static func handle(_ r: inout FieldReader, required: Bool) -> UInt8?? {
        if let text = r.object["handle"]?.stringValue {
            r.skip("handle")
            guard text.utf8.count == 2, let value = UInt8(text, radix: 16), value != 0 else {
                r.report("handle", "expected a port handle: 1 … 255 or two hex digits such as \"0A\" (found \"\(text)\")")
                return nil
            }
            return .some(value)
        }
        if !required && r.object["handle"] == nil {
            r.skip("handle")
            return .some(nil)
        }
        guard let value = r.integer("handle", unit: "(port handle)", in: 1...255) else { return nil }
        return .some(UInt8(value))
    }
}

/// The tracker's device-level kinds as members of a fault's kind: `NDIInjectedFault(.trackerFreeze, .now)`.
extension FaultKind where DeviceKind == NDITrackerFault {
    public static func toolMissing(handle: UInt8) -> Self { .device(.toolMissing(handle: handle)) }
    public static func toolOutOfVolume(handle: UInt8) -> Self { .device(.toolOutOfVolume(handle: handle)) }
    public static var trackerFreeze: Self { .device(.trackerFreeze) }
    public static func trackerDrift(handle: UInt8? = nil, millimetersPerSecond: Double) -> Self {
        .device(.trackerDrift(handle: handle, millimetersPerSecond: millimetersPerSecond))
    }
    public static func trackerInaccurate(handle: UInt8? = nil, rmsErrorMillimeters: Double) -> Self {
        .device(.trackerInaccurate(handle: handle, rmsErrorMillimeters: rmsErrorMillimeters))
    }
    public static var trackerReset: Self { .device(.trackerReset) }
    public static func bxError(code: UInt8 = 0x05) -> Self { .device(.bxError(code: code)) }
}
