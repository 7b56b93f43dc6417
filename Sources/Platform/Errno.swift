import Glibc

/// An errno value, typed; `description` is the C library's text for it.
///
/// The corresponding C function for the text is `strerror_r`.
public struct Errno: RawRepresentable, Error, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The calling thread's current errno.
    public static var current: Errno { Errno(rawValue: errno) }

    public static let noSuchFileOrDirectory = Errno(rawValue: ENOENT)
    public static let permissionDenied = Errno(rawValue: EACCES)
    public static let notPermitted = Errno(rawValue: EPERM)
    public static let resourceBusy = Errno(rawValue: EBUSY)
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    public static let interrupted = Errno(rawValue: EINTR)
    public static let ioError = Errno(rawValue: EIO)
    public static let noSuchDevice = Errno(rawValue: ENODEV)
    public static let noSuchDeviceOrAddress = Errno(rawValue: ENXIO)
    public static let notATerminal = Errno(rawValue: ENOTTY)
    public static let invalidArgument = Errno(rawValue: EINVAL)
    public static let isADirectory = Errno(rawValue: EISDIR)

    public var description: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard strerror_r(rawValue, &buffer, buffer.count) == 0 else { return "errno \(rawValue)" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
