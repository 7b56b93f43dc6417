import CSystemShims
import Glibc
import Platform
import Primitives

/// A pseudo-terminal pair whose master end a simulated device owns. Hosts open `slavePath`
/// (`/dev/pts/N`) with `SerialPort`, exactly as they open a real device.
///
/// The slave end is held open and set raw here, so that no byte is echoed or translated before a
/// host configures it, and so that the terminal survives hosts connecting and disconnecting.
/// `hangUp()` closes both ends: every host then sees end-of-file, as after an unplug.
public final class PseudoTerminal: ByteLink {
    public let slavePath: String
    public private(set) var masterFileDescriptor: Int32
    private var heldSlaveDescriptor: Int32

    public var name: String { "\(slavePath) (master)" }

    public init() throws(TransportError) {
        var buffer = [CChar](repeating: 0, count: 128)
        let master = rh_pty_open_master(&buffer, buffer.count)
        guard master >= 0 else {
            throw .system(path: "/dev/ptmx", operation: "posix_openpt", errno: Errno(rawValue: -master))
        }
        let path = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let slave = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard slave >= 0 else {
            let error = errno
            Glibc.close(master)
            throw .system(path: path, operation: "open", errno: Errno(rawValue: error))
        }
        var settings = termios()
        tcgetattr(slave, &settings)
        cfmakeraw(&settings)
        tcsetattr(slave, TCSANOW, &settings)
        slavePath = path
        masterFileDescriptor = master
        heldSlaveDescriptor = slave
    }

    deinit {
        hangUp()
    }

    /// Closes both ends; hosts see end-of-file. Idempotent.
    public func hangUp() {
        if masterFileDescriptor >= 0 {
            Glibc.close(masterFileDescriptor)
            masterFileDescriptor = -1
        }
        if heldSlaveDescriptor >= 0 {
            Glibc.close(heldSlaveDescriptor)
            heldSlaveDescriptor = -1
        }
    }

    public func readAvailable(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> Int {
        try DescriptorIO.readAvailable(masterFileDescriptor, path: name, into: buffer)
    }

    public func write(_ bytes: UnsafeRawBufferPointer, deadline: MonotonicInstant) throws(TransportError) {
        try DescriptorIO.write(masterFileDescriptor, path: name, bytes: bytes, deadline: deadline)
    }

    public func waitReadable(until deadline: MonotonicInstant) throws(TransportError) -> Bool {
        try DescriptorIO.waitReadable(masterFileDescriptor, path: name, until: deadline)
    }
}
