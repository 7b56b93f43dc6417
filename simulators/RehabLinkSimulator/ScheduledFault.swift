import Primitives
import Wire

/// A fault to inject into an in-process simulation at a given time (virtual time).
public struct ScheduledFault: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The device's bytes stop reaching the host (mute device, broken receive line).
        case muteDevice
        /// The device's bytes reach the host again.
        case unmuteDevice
        /// The link disappears: every call throws `.deviceGone`.
        case unplug
        case pressEmergencyStop
        case releaseEmergencyStop
        /// The firmware latches this fault code.
        case deviceFault(DeviceFaultCode)
        /// The patient (or a spasm) pushes on a joint [N·m].
        case externalTorque(joint: Int, newtonMeters: Double)
    }

    public var at: MonotonicInstant
    public var kind: Kind

    public init(at: MonotonicInstant, _ kind: Kind) {
        self.at = at
        self.kind = kind
    }
}
