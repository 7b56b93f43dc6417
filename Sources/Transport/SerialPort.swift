import CSystemShims
import Glibc
import Platform
import Primitives

/// An open serial port, configured raw 8N1, non-blocking, held exclusively.
///
/// One code path for every tty: USB-serial adapters (`/dev/ttyUSB*`), CDC-ACM devices
/// (`/dev/ttyACM*`), on-board UARTs (`/dev/ttyS*`) and pseudo-terminals (`/dev/pts/*`, which the
/// simulator uses), so that tests exercise exactly the code a lab runs. POSIX termios throughout;
/// any baud rate the driver supports goes through `termios2`/`BOTHER`.
///
/// The corresponding C functions are `open`, `tcsetattr`, `ioctl(TCSETS2)`, `flock`, `read`,
/// `write` and `ppoll`.
public final class SerialPort: ByteLink {
    public struct Options: Sendable, Equatable {
        public var baudRateBitsPerSecond: Int
        /// Refuse to share the port: `TIOCEXCL` plus an advisory `flock`, which also stops root.
        public var exclusive: Bool

        public init(baudRateBitsPerSecond: Int = 115_200, exclusive: Bool = true) {
            self.baudRateBitsPerSecond = baudRateBitsPerSecond
            self.exclusive = exclusive
        }
    }

    public let path: String
    public private(set) var options: Options
    public private(set) var fileDescriptor: Int32
    /// True for `/dev/pts/*` (the simulator), where baud rates are not real.
    public let isPseudoTerminal: Bool

    public var name: String { path }

    /// Opens and configures `path`.
    public init(path: String, options: Options = Options()) throws(TransportError) {
        self.path = path
        self.options = options
        guard options.baudRateBitsPerSecond > 0 else {
            throw .unsupportedBaudRate(path: path, bitsPerSecond: options.baudRateBitsPerSecond, granted: nil)
        }
        let descriptor = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        if descriptor < 0 {
            throw Self.openError(path: path, errno: errno)
        }
        fileDescriptor = descriptor
        var status = stat()
        isPseudoTerminal = fstat(descriptor, &status) == 0 && Self.isPseudoTerminalMajor(Self.deviceMajor(UInt64(status.st_rdev)))
        do throws(TransportError) {
            try configure()
        } catch {
            Glibc.close(descriptor)
            fileDescriptor = -1
            throw error
        }
    }

    deinit {
        close()
    }

    /// Closes the port (idempotent). Other processes may open it afterwards.
    public func close() {
        guard fileDescriptor >= 0 else { return }
        if options.exclusive { _ = rh_tty_set_exclusive(fileDescriptor, 0) }
        Glibc.close(fileDescriptor)
        fileDescriptor = -1
    }

    private func configure() throws(TransportError) {
        guard isatty(fileDescriptor) == 1 else { throw .notATerminal(path: path) }
        if options.exclusive {
            if flock(fileDescriptor, LOCK_EX | LOCK_NB) != 0 {
                let error = errno
                if error == EWOULDBLOCK { throw .busy(path: path, holder: Self.lockHolder(path: path)) }
                throw .system(path: path, operation: "flock", errno: Errno(rawValue: error))
            }
            let result = rh_tty_set_exclusive(fileDescriptor, 1)
            if result < 0 { throw .system(path: path, operation: "TIOCEXCL", errno: Errno(rawValue: -result)) }
        }
        var settings = termios()
        guard tcgetattr(fileDescriptor, &settings) == 0 else {
            throw .system(path: path, operation: "tcgetattr", errno: .current)
        }
        cfmakeraw(&settings)
        settings.c_cflag |= tcflag_t(CLOCAL) | tcflag_t(CREAD) | tcflag_t(CS8)
        settings.c_cflag &= ~(tcflag_t(CSTOPB) | tcflag_t(PARENB) | tcflag_t(CRTSCTS))
        settings.c_iflag &= ~(tcflag_t(IXON) | tcflag_t(IXOFF) | tcflag_t(IXANY))
        // VMIN 1 with O_NONBLOCK: an empty read is EAGAIN, so a read of 0 bytes always means hang-up.
        withUnsafeMutableBytes(of: &settings.c_cc) { controlCharacters in
            controlCharacters[Int(VMIN)] = 1
            controlCharacters[Int(VTIME)] = 0
        }
        guard tcsetattr(fileDescriptor, TCSANOW, &settings) == 0 else {
            throw .system(path: path, operation: "tcsetattr", errno: .current)
        }
        let requested = options.baudRateBitsPerSecond
        let result = rh_tty_set_baud(fileDescriptor, UInt32(clamping: requested))
        if result == -EINVAL { throw .unsupportedBaudRate(path: path, bitsPerSecond: requested, granted: nil) }
        if result < 0 { throw .system(path: path, operation: "setting the baud rate", errno: Errno(rawValue: -result)) }
        let granted = try configuredBaudRate()
        // Drivers round to what their clock divider can make; more than 2 % off breaks 8N1 framing.
        if abs(granted - requested) * 50 > requested {
            throw .unsupportedBaudRate(path: path, bitsPerSecond: requested, granted: granted)
        }
        tcflush(fileDescriptor, TCIOFLUSH)
    }

    /// Switches the port to `bitsPerSecond` (a device told to change its rate, as NDI's COMM does);
    /// the same 2 % check as at open. Bytes still buffered either way are dropped.
    public func changeBaudRate(to bitsPerSecond: Int) throws(TransportError) {
        guard bitsPerSecond > 0 else { throw .unsupportedBaudRate(path: path, bitsPerSecond: bitsPerSecond, granted: nil) }
        let result = rh_tty_set_baud(fileDescriptor, UInt32(clamping: bitsPerSecond))
        if result == -EINVAL { throw .unsupportedBaudRate(path: path, bitsPerSecond: bitsPerSecond, granted: nil) }
        if result < 0 { throw .system(path: path, operation: "setting the baud rate", errno: Errno(rawValue: -result)) }
        let granted = try configuredBaudRate()
        if abs(granted - bitsPerSecond) * 50 > bitsPerSecond {
            throw .unsupportedBaudRate(path: path, bitsPerSecond: bitsPerSecond, granted: granted)
        }
        options.baudRateBitsPerSecond = bitsPerSecond
        tcflush(fileDescriptor, TCIOFLUSH)
    }

    /// The baud rate the driver actually set.
    public func configuredBaudRate() throws(TransportError) -> Int {
        var input: UInt32 = 0
        var output: UInt32 = 0
        let result = rh_tty_get_baud(fileDescriptor, &input, &output)
        if result < 0 { throw .system(path: path, operation: "reading the baud rate", errno: Errno(rawValue: -result)) }
        return Int(output)
    }

    // MARK: ByteLink

    public func readAvailable(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> Int {
        try DescriptorIO.readAvailable(fileDescriptor, path: path, into: buffer)
    }

    public func write(_ bytes: UnsafeRawBufferPointer, deadline: MonotonicInstant) throws(TransportError) {
        try DescriptorIO.write(fileDescriptor, path: path, bytes: bytes, deadline: deadline)
    }

    public func waitReadable(until deadline: MonotonicInstant) throws(TransportError) -> Bool {
        try DescriptorIO.waitReadable(fileDescriptor, path: path, until: deadline)
    }

    // MARK: Buffers and lines

    /// Drops bytes received but not yet read (e.g. stale replies after reconnecting).
    public func discardPendingInput() {
        tcflush(fileDescriptor, TCIFLUSH)
    }

    /// Drops bytes written but not yet sent.
    public func discardPendingOutput() {
        tcflush(fileDescriptor, TCOFLUSH)
    }

    /// Sends a break: the line held at 0 for about `durationMilliseconds`, after dropping the bytes
    /// written but not yet sent (as ndicapi does before its break, protocols/ndi/README.md §2). Blocks
    /// for the break; set-up only. glibc's `tcsendbreak` on Linux takes a positive duration as
    /// milliseconds and sends it as `TCSBRKP` in tenths of a second (so it is rounded up to 100 ms); 0
    /// is the driver's default of 0.25–0.5 s.
    ///
    /// False on a pseudo-terminal, and nothing is sent: the pty driver has no break, so the kernel
    /// answers `TCSBRK` with success and the other end sees nothing, in packet mode (`TIOCPKT`) or not
    /// (measured on this project's machines: protocols/ndi/README.md §10.3). Saying so lets a driver
    /// fall back to what a pseudo-terminal can carry, instead of waiting for a reset that never comes.
    public func sendBreak(durationMilliseconds: Int) throws(TransportError) -> Bool {
        guard !isPseudoTerminal else { return false }
        tcflush(fileDescriptor, TCOFLUSH)
        if tcsendbreak(fileDescriptor, Int32(clamping: max(0, durationMilliseconds))) != 0 {
            throw .system(path: path, operation: "tcsendbreak", errno: .current)
        }
        return true
    }

    /// Waits until every written byte has left the port, at most until `deadline` (unlike
    /// `tcdrain`, which can block forever on a stuck device).
    public func drain(deadline: MonotonicInstant) throws(TransportError) {
        while true {
            var pending: Int32 = 0
            let result = rh_tty_output_queue(fileDescriptor, &pending)
            if result < 0 { throw .system(path: path, operation: "TIOCOUTQ", errno: Errno(rawValue: -result)) }
            if pending == 0 { return }
            if MonotonicClock.now() >= deadline { throw .timedOut(path: path, operation: "draining the output") }
            var pause = timespec(tv_sec: 0, tv_nsec: 100_000)
            nanosleep(&pause, nil)
        }
    }

    // MARK: Helpers

    static func openError(path: String, errno error: Int32) -> TransportError {
        switch error {
        case ENOENT, ENODEV, ENXIO: .notFound(path: path)
        case EACCES, EPERM: .permissionDenied(path: path)
        case EBUSY: .busy(path: path, holder: lockHolder(path: path))
        case EISDIR, ENOTDIR: .notATerminal(path: path)
        default: .system(path: path, operation: "open", errno: Errno(rawValue: error))
        }
    }

    /// The major number of a device id (glibc's `gnu_dev_major`, a macro Swift cannot import).
    static func deviceMajor(_ device: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: ((device >> 8) & 0xFFF) | ((device >> 32) & ~UInt64(0xFFF)))
    }

    /// Pseudo-terminal slaves are character devices with majors 136…143 (UNIX98_PTY_SLAVE_MAJOR).
    static func isPseudoTerminalMajor(_ major: UInt32) -> Bool {
        (136...143).contains(major)
    }

    /// "pid N (name)" of the process holding an advisory lock on `path`, from /proc/locks; best effort.
    static func lockHolder(path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0, let locks = readSmallFile("/proc/locks") else { return nil }
        let inode = String(status.st_ino)
        for line in locks.split(separator: "\n") {
            // "1: FLOCK  ADVISORY  WRITE 1234 00:05:87 0 EOF"
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK", fields[5].split(separator: ":").last.map(String.init) == inode
            else { continue }
            let pid = String(fields[4])
            let command = readSmallFile("/proc/\(pid)/comm")?.trimmingTrailingNewline ?? "?"
            return "pid \(pid), \(command)"
        }
        return nil
    }
}

/// Reads a small text file (procfs, sysfs) whole; nil when it cannot be read.
func readSmallFile(_ path: String) -> String? {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    defer { Glibc.close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        if count <= 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
        if bytes.count > 1 << 20 { break }
    }
    return String(decoding: bytes, as: UTF8.self)
}

extension String {
    var trimmingTrailingNewline: String {
        var text = self
        while text.last == "\n" || text.last == "\r" { text.removeLast() }
        return text
    }
}

extension SerialPort: SerialLineControl {
    /// The rate the port is set to [bit/s] (`options.baudRateBitsPerSecond`).
    public var lineRateBitsPerSecond: Int { options.baudRateBitsPerSecond }
}
