import Profiles
import SimulatorKit

/// A fault to inject into a simulated tracker or its link (SimulatorKit's `ScheduledFault` with the trackers'
/// device-level faults).
public typealias TrackerInjectedFault = ScheduledFault<TrackerSimulatorFault>

/// The in-process virtual-time link to a simulated Xsens MTi.
public typealias XsensInProcessLink = InProcessDeviceLink<SimulatedXsensIMU>

/// The in-process virtual-time link to a simulated BNO08x in UART-RVC mode.
public typealias BNO08xRVCInProcessLink = InProcessDeviceLink<SimulatedBNO08xRVC>

/// The device-level faults a simulated tracker understands, the same kinds for both sensors (the link's faults are
/// SimulatorKit's `LinkFault`: `drop_replies` silences it, `corrupt_bytes` gives checksum errors, `delay_replies`,
/// `unplug`). A wrong baud rate is not a fault to inject: it is the host's rate (`hostLineRateChanged`).
///
/// Script form (simulators/README.md): `{"at_ms": 2000, "for_ms": 500, "kind": "tracker_freeze"}`,
/// `{"at_ms": 1000, "kind": "tracker_drift", "drift_deg_per_s": 2}`, `{"at_ms": 3000, "kind": "tracker_reset"}`,
/// `{"at_ms": 500, "for_ms": 200, "kind": "tracker_clipping"}`.
public enum TrackerSimulatorFault: InjectableDeviceFault {
    /// Frames keep coming at the sensor's rate, but they repeat the last one sent before the injection: counter,
    /// time and values frozen (SR-15's "frozen counter": a BNO08x's index, an MTi's PacketCounter and
    /// SampleTimeFine). At the end the live stream resumes; its counter shows the frozen frames as a jump.
    case freeze
    /// The reported heading (yaw about the world's vertical) ramps by this much more from the injection on
    /// [rad/s; the script gives `drift_deg_per_s`]. At the end the ramp stops; the error it built stays, as an IMU's
    /// heading error does.
    case drift(radiansPerSecond: Double)
    /// The sensor resets (a brown-out): the bytes still on the line are cut off, a BNO08x sends its banner again and
    /// restarts its index at 0 and its yaw's zero at the heading it has then; an MTi sends WakeUp again and, without
    /// a WakeUpAck, measures with its stored output configuration, its PacketCounter and SampleTimeFine from 0.
    case reset
    /// The MTi's sensors clip (a knock): its StatusWord clears "orientation valid" and sets the accelerometer,
    /// gyroscope and "clipping detected" flags while injected (protocols/xsens/README.md §5.6). A BNO08x has no
    /// status field: it ignores it (the injection is still recorded).
    case clipping

    public var name: String {
        switch self {
        case .freeze: "tracker_freeze"
        case .drift: "tracker_drift"
        case .reset: "tracker_reset"
        case .clipping: "tracker_clipping"
        }
    }

    /// A tracker's faults concern the whole sensor.
    public var joint: Int? { nil }

    public var canEnd: Bool {
        switch self {
        case .freeze, .drift, .clipping: true
        case .reset: false
        }
    }

    public static let names = ["tracker_freeze", "tracker_drift", "tracker_reset", "tracker_clipping"]

    public static func parse(kind: String, fields r: inout FieldReader, jointCount: Int, trigger: FaultTrigger?) -> Self? {
        switch kind {
        case "tracker_freeze": return .freeze
        case "tracker_reset": return .reset
        case "tracker_clipping": return .clipping
        case "tracker_drift":
            // Degrees per second in the script (what an IMU's data sheet states), radians per second inside.
            return r.number("drift_deg_per_s", unit: "deg/s", in: -360...360).map { .drift(radiansPerSecond: $0 * Double.pi / 180) }
        default:
            return nil
        }
    }
}

/// The trackers' device-level kinds as members of a fault's kind: `TrackerInjectedFault(.trackerFreeze, .now)`.
extension FaultKind where DeviceKind == TrackerSimulatorFault {
    public static var trackerFreeze: Self { .device(.freeze) }
    public static func trackerDrift(degreesPerSecond: Double) -> Self { .device(.drift(radiansPerSecond: degreesPerSecond * Double.pi / 180)) }
    public static var trackerReset: Self { .device(.reset) }
    public static var trackerClipping: Self { .device(.clipping) }
}
