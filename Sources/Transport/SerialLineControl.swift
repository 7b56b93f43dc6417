import Primitives

/// What a driver may do to the serial line under a `ByteLink` besides moving bytes: set the host's
/// end to another rate (a device told to switch, as NDI's COMM does, or one found at another rate),
/// wait for written bytes to leave, drop stale input, and send a break (NDI systems reset on one,
/// protocols/ndi/README.md §2).
///
/// `SerialPort` implements it for every tty. A test link on a simulated line implements it too, so that
/// a driver's set-up and recovery run in virtual time exactly as on a port. Set-up only: the calls may
/// block (a break lasts a quarter of a second) and are never made from a control cycle.
public protocol SerialLineControl: AnyObject {
    /// The rate the host's end of the line is set to [bit/s].
    var lineRateBitsPerSecond: Int { get }

    /// Sets the host's end to `bitsPerSecond`. Bytes received but not yet read, and bytes written but
    /// not yet sent, are dropped (they belong to the old rate).
    func changeBaudRate(to bitsPerSecond: Int) throws(TransportError)

    /// Waits until every written byte has left the host, at most until `deadline`.
    func drain(deadline: MonotonicInstant) throws(TransportError)

    /// Drops bytes received but not yet read (stale replies, noise).
    func discardPendingInput()

    /// Holds the line in the break condition (continuous 0, longer than a character) for about
    /// `durationMilliseconds`, after dropping what was written but not yet sent. Returns false, having
    /// sent nothing, when the line cannot carry a break at all — a pseudo-terminal, whose other end
    /// never sees one (protocols/ndi/README.md §10.3) — so that the caller can say so and try another way.
    func sendBreak(durationMilliseconds: Int) throws(TransportError) -> Bool
}
