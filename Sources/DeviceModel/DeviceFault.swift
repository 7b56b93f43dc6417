/// A device's latched fault in two parts: a protocol-neutral kind that the host reasons and reports
/// with, and the device's own code (a RehabLink fault code, a Dynamixel hardware-error byte, a CiA 402
/// error code), kept for the service engineer. The driver maps one onto the other at the device edge.
public struct DeviceFault: Sendable, Equatable, Hashable, BitwiseCopyable, CustomStringConvertible {
    /// What went wrong, in terms every device shares.
    public enum Kind: UInt8, Sendable, Equatable, Hashable, CaseIterable, BitwiseCopyable {
        case none = 0
        case overTemperature
        /// Over-current, overload, a torque the drive could not hold.
        case overload
        case overSpeed
        case encoder
        /// Supply under- or over-voltage.
        case supplyVoltage
        /// The device's own watchdog stopped it (commands came too late).
        case watchdogExpired
        /// A position limit inside the device (its soft or hard limit).
        case positionLimit
        /// A fault the device reports that none of the above describes; see `deviceCode`.
        case other

        /// The stable name in messages, recordings and JSON.
        public var name: String {
            switch self {
            case .none: "none"
            case .overTemperature: "over_temperature"
            case .overload: "overload"
            case .overSpeed: "over_speed"
            case .encoder: "encoder"
            case .supplyVoltage: "supply_voltage"
            case .watchdogExpired: "watchdog_expired"
            case .positionLimit: "position_limit"
            case .other: "other"
            }
        }
    }

    public var kind: Kind
    /// The device's own code for it (0 when none), widened to 32 bits.
    public var deviceCode: UInt32

    public init(kind: Kind, deviceCode: UInt32) {
        self.kind = kind
        self.deviceCode = deviceCode
    }

    public static let none = DeviceFault(kind: .none, deviceCode: 0)

    public var isNone: Bool { kind == .none && deviceCode == 0 }

    /// "over_speed (device code 0x3)".
    public var description: String {
        "\(kind.name) (device code 0x\(String(deviceCode, radix: 16, uppercase: true)))"
    }
}
