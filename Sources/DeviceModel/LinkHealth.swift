import Primitives

/// How the byte link to a device is doing, counted by its driver since it was made: what the
/// session summary, `rehabctl status` and the recording show for every device alike.
public struct LinkHealth: Sendable, Equatable, BitwiseCopyable {
    /// Frames whose checksum failed (line noise, a baud-rate mismatch).
    public var checksumErrors: Int = 0
    /// Frames that could not be decoded otherwise (framing, length, an unknown type).
    public var malformedFrames: Int = 0
    /// Bytes that did not end up in any frame (noise, frames cut short or run together).
    public var discardedBytes: Int = 0
    /// Valid states discarded as not newer than one already taken.
    public var staleStates: Int = 0
    /// D5: states or echoes that break the protocol (a wrong joint count, an echo of a command never sent).
    public var protocolViolations: Int = 0
    /// Requests for a state that the device never answered (a servo bus's missing status packets; 0 where
    /// the protocol cannot tell).
    public var unansweredRequests: Int = 0
    /// Time from writing the last command to decoding the state that echoed it [ns]; nil until measured.
    public var lastRoundTripNanoseconds: Int64?
    /// When the last valid state was decoded (host clock); nil before any.
    public var lastReplyAt: MonotonicInstant?

    public init() {}

    /// now − the last valid reply [ns]; `Int64.max` before any.
    public func lastReplyAgeNanoseconds(at now: MonotonicInstant) -> Int64 {
        lastReplyAt.map { max(0, now.nanoseconds(since: $0)) } ?? .max
    }
}
