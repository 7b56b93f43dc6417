import Profiles

/// When an injected fault begins: the same triggers for every simulated device.
public enum FaultTrigger: Sendable, Equatable {
    /// As soon as the injector sees it (a live injection).
    case now
    /// This long after the simulator started (the firmware's boot) [ms].
    case atMilliseconds(Double)
    /// This long after the device was first enabled [ms].
    case afterEnableMilliseconds(Double)
    /// When the device applies its N-th command (counted from 1 since the first enable).
    case atCommand(Int)
}

/// A fault on the link between a simulated device and its host: what the link (in process or a
/// pseudo-terminal) does to the device's bytes. The same for every protocol.
public enum LinkFault: Sendable, Equatable {
    /// The device's bytes never reach the host (a mute device, a broken receive line).
    case dropReplies
    /// Every n-th byte the device sends is flipped (0x5A XOR): CRC and framing errors on the host.
    case corruptBytes(everyNth: Int)
    /// The device's bytes reach the host this much later [ms].
    case delayReplies(milliseconds: Double)
    /// The link disappears (USB unplugged): in `rehabsim` the pseudo-terminal is closed.
    case unplug

    /// The name used in fault scripts and device events.
    public var name: String {
        switch self {
        case .dropReplies: "drop_replies"
        case .corruptBytes: "corrupt_bytes"
        case .delayReplies: "delay_replies"
        case .unplug: "unplug"
        }
    }

    /// Whether the fault can be given a duration (`for_ms`) after which it ends by itself.
    public var canEnd: Bool { self != .unplug }

    /// Every link fault's script name, for messages.
    public static let names = ["drop_replies", "corrupt_bytes", "delay_replies", "unplug"]
}

/// The device-level faults one firmware understands (what `FirmwareSimulator.InjectableFault` is):
/// their script names and fields, and what they concern. The shared parser reads triggers,
/// `for_ms` and the link faults, and hands every other kind to `parse`.
public protocol InjectableDeviceFault: Sendable, Equatable {
    /// The name used in fault scripts and device events ("freeze_encoder").
    var name: String { get }
    /// The joint concerned, when the fault is one joint's.
    var joint: Int? { get }
    /// Whether the fault can be given a duration (`for_ms`) after which it ends by itself.
    var canEnd: Bool { get }
    /// Every kind's script name, in the order messages list them.
    static var names: [String] { get }
    /// Reads the fields of the fault named `kind` (one of `names`) from `fields`, reporting every
    /// problem there; nil when it is invalid. `jointCount` bounds joint indices; `trigger` is the
    /// fault's trigger (nil when it was invalid), for kinds that only make sense at one moment.
    static func parse(kind: String, fields: inout FieldReader, jointCount: Int, trigger: FaultTrigger?) -> Self?
}

/// What an injected fault does: to the link, or to the device (its firmware's own kinds).
public enum FaultKind<DeviceKind: InjectableDeviceFault>: Sendable, Equatable {
    case link(LinkFault)
    case device(DeviceKind)

    /// The name used in fault scripts and device events.
    public var name: String {
        switch self {
        case .link(let fault): fault.name
        case .device(let fault): fault.name
        }
    }

    /// The joint concerned, when the fault is one joint's.
    public var joint: Int? {
        switch self {
        case .link: nil
        case .device(let fault): fault.joint
        }
    }

    /// Whether the fault can be given a duration (`for_ms`) after which it ends by itself.
    public var canEnd: Bool {
        switch self {
        case .link(let fault): fault.canEnd
        case .device(let fault): fault.canEnd
        }
    }

    /// Every kind's script name, the link's first, for messages.
    public static var names: [String] { LinkFault.names + DeviceKind.names }

    /// The device's bytes never reach the host.
    public static var dropReplies: Self { .link(.dropReplies) }
    /// Every n-th byte the device sends is flipped.
    public static func corruptBytes(everyNth: Int) -> Self { .link(.corruptBytes(everyNth: everyNth)) }
    /// The device's bytes reach the host this much later [ms].
    public static func delayReplies(milliseconds: Double) -> Self { .link(.delayReplies(milliseconds: milliseconds)) }
    /// The link disappears.
    public static var unplug: Self { .link(.unplug) }
}

/// One fault to inject into a simulated device or its link: what, when, and for how long.
///
/// The same value drives the in-process link (tests, virtual time) and `rehabsim` (a fault script
/// given with `--faults`, or a line on its `--control` socket). The JSON form is documented in
/// simulators/README.md and parsed by `FaultScriptParser`.
public struct ScheduledFault<DeviceKind: InjectableDeviceFault>: Sendable, Equatable {
    public typealias Trigger = FaultTrigger
    public typealias Kind = FaultKind<DeviceKind>

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
