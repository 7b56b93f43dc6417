import Primitives

/// A byte stream to a device: a serial port, a pseudo-terminal, or (in unit tests and virtual-time
/// simulation) an in-memory pipe. Drivers talk to every device through this one interface.
///
/// Calls never allocate and never block past the deadline they are given, so a driver may use
/// them inside the control cycle.
public protocol ByteLink: AnyObject {
    /// A human-readable name (the port path) for messages.
    var name: String { get }

    /// Copies the bytes available now into `buffer`, up to its size; 0 when none are pending.
    /// Never blocks. Throws `.deviceGone` on end of file or a lost device.
    func readAvailable(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> Int

    /// Writes all of `bytes`, waiting for room in the output buffer at most until `deadline`.
    func write(_ bytes: UnsafeRawBufferPointer, deadline: MonotonicInstant) throws(TransportError)

    /// Waits until bytes can be read or `deadline` passes; true when readable.
    func waitReadable(until deadline: MonotonicInstant) throws(TransportError) -> Bool
}
