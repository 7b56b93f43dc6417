import StrictJSON

/// The exit codes of `rehabctl` and `rehabsim`: stable, documented in the README, following
/// sysexits.h where one fits.
public enum ExitCode: Int32, Sendable, CaseIterable {
    case success = 0
    /// The session ran but ended in a safety stop (fault or e-stop).
    case safetyStop = 1
    /// `rehabctl doctor`: at least one check failed.
    case checkFailed = 2
    /// The running session or the device refused the request (a reset while the cause persists, a
    /// release while moving, a servo's Access Error).
    case refused = 3
    /// Wrong command-line use (EX_USAGE).
    case usage = 64
    /// A file's content is invalid: profile, exercise, JSON (EX_DATAERR).
    case dataError = 65
    /// A file does not exist or cannot be read (EX_NOINPUT).
    case noInput = 66
    /// The device is missing, mute or not ready (EX_UNAVAILABLE).
    case unavailable = 69
    /// An internal error (EX_SOFTWARE).
    case software = 70
    /// The device was lost or an I/O operation failed (EX_IOERR).
    case ioError = 74
    /// The port is in use by another process (EX_TEMPFAIL).
    case busy = 75
    /// The device broke the protocol (EX_PROTOCOL).
    case protocolError = 76
    /// Permission denied on the port (EX_NOPERM).
    case permission = 77
    /// The device is not what the profile describes, or the configuration cannot work (EX_CONFIG).
    case configuration = 78
    /// Stopped by SIGINT (128 + 2), after a clean Cat 1 stop.
    case interrupted = 130
    /// Stopped by SIGTERM (128 + 15).
    case terminated = 143

    public var meaning: String {
        switch self {
        case .success: "success"
        case .safetyStop: "the session ended in a safety stop (fault or e-stop)"
        case .checkFailed: "doctor: at least one check failed"
        case .refused: "the running session or the device refused the request (e.g. a reset while the cause persists)"
        case .usage: "wrong command-line use"
        case .dataError: "invalid file content (profile, exercise, JSON)"
        case .noInput: "a file is missing or unreadable"
        case .unavailable: "device missing, mute or not ready"
        case .software: "internal error"
        case .ioError: "device lost or I/O error"
        case .busy: "port busy (open in another process)"
        case .protocolError: "the device broke the protocol"
        case .permission: "permission denied"
        case .configuration: "the device does not match the profile, or the configuration cannot work"
        case .interrupted: "stopped by SIGINT (Ctrl-C) after a clean stop"
        case .terminated: "stopped by SIGTERM"
        }
    }
}

/// An error that ends the program with a message and an exit code.
public struct CommandFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var exitCode: ExitCode
    /// What was measured before the failure, for commands whose --json output must always be an
    /// object (bench): printed to standard output by the command, the message still goes to stderr.
    public var details: JSONValue?

    public init(_ message: String, exitCode: ExitCode) {
        self.message = message
        self.exitCode = exitCode
    }

    public var description: String { message }
}
