import Devices

/// Why a session could not start. Nothing was enabled when one of these is thrown.
public enum SessionError: Error, Sendable, Equatable, CustomStringConvertible {
    case device(DeviceError)
    /// The options make no sense for this profile (rate, duration, exercise).
    case invalidOptions(String)

    public var description: String {
        switch self {
        case .device(let error): error.description
        case .invalidOptions(let message): message
        }
    }
}
