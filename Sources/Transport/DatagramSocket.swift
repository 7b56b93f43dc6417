import Glibc
import Platform

/// A UDP socket on IPv4: bound to receive a reference stream (RehabRef), or connected to send one.
/// Datagrams keep their boundaries, and a lost one is simply lost: the receiver's staleness check
/// (SR-15), not the transport, decides what a gap means.
public final class DatagramSocket: @unchecked Sendable {
    // @unchecked: the descriptor is used by one thread at a time (the receiver thread, or the sender).
    private var descriptor: Int32
    /// "udp:ADDRESS:PORT", for messages.
    public let name: String
    /// The local port (the one the kernel chose when bound to port 0).
    public let localPort: UInt16

    private init(descriptor: Int32, name: String, localPort: UInt16) {
        self.descriptor = descriptor
        self.name = name
        self.localPort = localPort
    }

    deinit { close() }

    /// A socket receiving on `address:port` (port 0: the kernel picks one; see `localPort`).
    public static func bound(address: String = "127.0.0.1", port: UInt16) throws(TransportError) -> DatagramSocket {
        let descriptor = try open(address, port: port, operation: "binding", Glibc.bind)
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        let localPort = UInt16(bigEndian: actual.sin_port)
        return DatagramSocket(descriptor: descriptor, name: "udp:\(address):\(localPort)", localPort: localPort)
    }

    /// A socket sending to `address:port`.
    public static func connected(to address: String, port: UInt16) throws(TransportError) -> DatagramSocket {
        let descriptor = try open(address, port: port, operation: "connecting", Glibc.connect)
        return DatagramSocket(descriptor: descriptor, name: "udp:\(address):\(port)", localPort: 0)
    }

    /// A UDP socket with `attach` (bind or connect) done to `address:port`; its descriptor.
    private static func open(
        _ address: String, port: UInt16, operation: String, _ attach: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Int32
    ) throws(TransportError) -> Int32 {
        let name = "udp:\(address):\(port)"
        var socketAddress = try makeAddress(address, port: port, name: name)
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .system(path: name, operation: "creating a UDP socket", errno: Errno.current) }
        let attached = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { attach(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard attached == 0 else {
            let error = Errno.current
            Glibc.close(descriptor)
            if error.rawValue == EADDRINUSE { throw .busy(path: name, holder: "another program receives on this port") }
            if error.rawValue == EACCES { throw .permissionDenied(path: name) }
            throw .system(path: name, operation: operation, errno: error)
        }
        return descriptor
    }

    /// Waits up to `timeoutMilliseconds` for one datagram; its length (a longer one is cut to the
    /// buffer, which the caller's length check then refuses), or nil when none came.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int32) -> Int? {
        guard descriptor >= 0 else { return nil }
        var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&request, 1, timeoutMilliseconds) > 0 else { return nil }
        // MSG_TRUNC: the real length comes back even when the datagram was longer than the buffer.
        let count = recv(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT) | Int32(MSG_TRUNC))
        return count >= 0 ? count : nil
    }

    /// Sends one datagram; false when the kernel refused it (nobody listening shows up as
    /// ECONNREFUSED on a later send, which is not an error for a stream that may start first).
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard descriptor >= 0 else { return false }
        return Glibc.send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count
    }

    public func close() {
        if descriptor >= 0 {
            Glibc.close(descriptor)
            descriptor = -1
        }
    }

    private static func makeAddress(_ address: String, port: UInt16, name: String) throws(TransportError) -> sockaddr_in {
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_port = port.bigEndian
        guard inet_pton(AF_INET, address, &socketAddress.sin_addr) == 1 else {
            throw .system(path: name, operation: "reading \"\(address)\" as an IPv4 address", errno: Errno(rawValue: EINVAL))
        }
        return socketAddress
    }
}
