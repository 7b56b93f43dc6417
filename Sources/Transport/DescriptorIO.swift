import CSystemShims
import Glibc
import Platform
import Primitives

/// read/write/poll on a non-blocking file descriptor, with the errno → `TransportError` mapping
/// shared by serial ports and pseudo-terminal masters.
enum DescriptorIO {
    static func readAvailable(
        _ descriptor: Int32, path: String, into buffer: UnsafeMutableRawBufferPointer
    ) throws(TransportError) -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count > 0 { return count }
            if count == 0 { throw .deviceGone(path: path, reason: "end of file: the other side hung up") }
            let error = errno
            switch error {
            case EAGAIN: return 0
            case EINTR: continue
            case EIO, ENXIO, ENODEV: throw .deviceGone(path: path, reason: Errno(rawValue: error).description)
            default: throw .system(path: path, operation: "read", errno: Errno(rawValue: error))
            }
        }
    }

    static func write(
        _ descriptor: Int32, path: String, bytes: UnsafeRawBufferPointer, deadline: MonotonicInstant
    ) throws(TransportError) {
        var offset = 0
        while offset < bytes.count {
            let count = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if count > 0 {
                offset += count
                continue
            }
            let error = errno
            switch error {
            case EINTR:
                continue
            case EAGAIN:
                let remaining = deadline.nanoseconds(since: MonotonicClock.now())
                if remaining <= 0 { throw .timedOut(path: path, operation: "writing (output buffer full)") }
                let events = rh_poll_one(descriptor, Int16(POLLOUT), remaining)
                if events < 0 { throw .system(path: path, operation: "poll", errno: Errno(rawValue: -events)) }
                if events & Int32(POLLERR | POLLHUP) != 0 && events & Int32(POLLOUT) == 0 {
                    throw .deviceGone(path: path, reason: "hang-up while writing")
                }
            case EIO, ENXIO, ENODEV, EPIPE:
                throw .deviceGone(path: path, reason: Errno(rawValue: error).description)
            default:
                throw .system(path: path, operation: "write", errno: Errno(rawValue: error))
            }
        }
    }

    static func waitReadable(_ descriptor: Int32, path: String, until deadline: MonotonicInstant) throws(TransportError)
        -> Bool
    {
        while true {
            let remaining = max(0, deadline.nanoseconds(since: MonotonicClock.now()))
            let events = rh_poll_one(descriptor, Int16(POLLIN), remaining)
            if events == -EINTR { continue }
            if events < 0 { throw .system(path: path, operation: "poll", errno: Errno(rawValue: -events)) }
            if events & Int32(POLLNVAL) != 0 {
                throw .system(path: path, operation: "poll", errno: .invalidArgument)
            }
            // A hang-up or error is reported as readable: the following read says what happened.
            return events & Int32(POLLIN | POLLHUP | POLLERR) != 0
        }
    }
}
