import CommandLineSupport
import Devices
import Session

extension DeviceError {
    var exitCode: ExitCode {
        switch self {
        case .transport(let error): error.exitCode
        case .noAnswer, .refused, .watchdogNotConfirmed, .safetyLimitsNotConfirmed, .notReady: .unavailable
        case .protocolViolation: .protocolError
        case .identityMismatch, .directionCheckFailed, .needsConfiguration: .configuration
        }
    }
}

extension SessionError {
    var exitCode: ExitCode {
        switch self {
        case .device(let error): error.exitCode
        case .invalidOptions, .rateNotSustainable: .configuration
        }
    }
}
