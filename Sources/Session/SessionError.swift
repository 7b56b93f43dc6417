import Devices

/// Why a session could not start. Nothing was enabled when one of these is thrown.
public enum SessionError: Error, Sendable, Equatable, CustomStringConvertible {
    case device(DeviceError)
    /// The options make no sense for this profile (rate, duration, exercise).
    case invalidOptions(String)
    /// SR-14: the rate is outside the profile's range or too slow for the device watchdog; it can never work.
    case rateNotSustainable(String)

    public var description: String {
        switch self {
        case .device(let error): error.description
        case .invalidOptions(let message): message
        case .rateNotSustainable(let reason): "refused before enable: \(reason)"
        }
    }
}
