import Platform

/// Why a serial or USB operation failed. Every case names the port, and `description` says what
/// to do about it.
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case permissionDenied(path: String)
    /// Another process has the port open (exclusive access or an advisory lock).
    case busy(path: String, holder: String?)
    case notATerminal(path: String)
    case unsupportedBaudRate(path: String, bitsPerSecond: Int, granted: Int?)
    /// End of file, EIO or ENXIO: unplugged, powered off, or the simulator exited.
    case deviceGone(path: String, reason: String)
    case timedOut(path: String, operation: String)
    /// The operation makes no sense on this kind of port (e.g. modem lines on a pseudo-terminal).
    case unsupported(path: String, operation: String)
    case usbUnavailable(reason: String)
    case system(path: String, operation: String, errno: Errno)

    public var path: String? {
        switch self {
        case .notFound(let path), .permissionDenied(let path), .busy(let path, _), .notATerminal(let path),
            .unsupportedBaudRate(let path, _, _), .deviceGone(let path, _), .timedOut(let path, _),
            .unsupported(let path, _), .system(let path, _, _):
            path
        case .usbUnavailable: nil
        }
    }

    public var description: String {
        switch self {
        case .notFound(let path):
            "\(path): no such port. List ports with `rehabctl devices`; prefer a stable /dev/serial/by-id/… name over /dev/ttyUSB*."
        case .permissionDenied(let path):
            "\(path): permission denied: add your user to the 'dialout' group (sudo usermod -aG dialout $USER, then log in again) or install hardware/udev/99-rehabhost.rules."
        case .busy(let path, let holder):
            "\(path): busy: already open in another process\(holder.map { " (\($0))" } ?? ""). Stop that program first; two programs must never drive one device."
        case .notATerminal(let path):
            "\(path): not a serial port (not a terminal device)."
        case .unsupportedBaudRate(let path, let rate, let granted):
            "\(path): the driver does not support \(rate) bit/s" + (granted.map { " (it set \($0) bit/s)" } ?? "") + "; check the profile's baud_rate_bps."
        case .deviceGone(let path, let reason):
            "\(path): device gone (\(reason)): unplugged, powered off, or the simulator exited."
        case .timedOut(let path, let operation):
            "\(path): timed out while \(operation)."
        case .unsupported(let path, let operation):
            "\(path): \(operation) is not supported on this port."
        case .usbUnavailable(let reason):
            "USB is not available: \(reason)."
        case .system(let path, let operation, let errno):
            "\(path): \(operation) failed: \(errno) (errno \(errno.rawValue))."
        }
    }
}
