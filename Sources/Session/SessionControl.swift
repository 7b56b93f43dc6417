import Control
import DeviceModel
import Primitives
import Synchronization

/// Requests to a running session from other threads (the control socket, signals, a test),
/// collected with atomics and taken by the control loop once per cycle: no lock on either side.
///
/// Each `post` gets a serial number; the loop publishes the newest serial it has acted on in
/// `SessionStatus.handledRequestSerial`, so a requester can tell when (in which cycle) it took effect.
public final class SessionControl: Sendable {
    private let pending = Atomic<UInt32>(0)
    private let posted = Atomic<UInt64>(0)
    /// SR-18: the hold-to-run release is held until this monotonic time [ns] (0: not held).
    private let releaseHeldUntil = Atomic<Int64>(0)
    /// The therapist's choice of mode, as an index into the session's `availableModes` (0: the exercise's own).
    private let requestedMode = Atomic<Int>(0)

    public init() {}

    /// Posts `requests`; they take effect in the next control cycle. Returns the request's serial.
    @discardableResult
    public func post(_ requests: OperatorRequests) -> UInt64 {
        pending.bitwiseOr(requests.rawValue, ordering: .releasing)
        return posted.add(1, ordering: .releasing).newValue
    }

    /// Holds `release` until `until` (a keep-alive from the operator's client extends it).
    public func holdRelease(until: MonotonicInstant) {
        releaseHeldUntil.store(until.nanoseconds, ordering: .releasing)
    }

    /// Lets go of `release`: the loop holds the joints again in its next cycle.
    public func letGoOfRelease() {
        releaseHeldUntil.store(0, ordering: .releasing)
    }

    /// Switches the exercised joint to the session's mode number `index` (`TherapySession.availableModes`;
    /// 0 is the exercise's own); the loop blends the torque over the enable-ramp time (bumpless).
    /// An index the session does not have is ignored by the loop.
    public func requestMode(_ index: Int) {
        requestedMode.store(index, ordering: .releasing)
    }

    /// The mode the operator asked for last.
    public var requestedModeIndex: Int { requestedMode.load(ordering: .acquiring) }

    /// Takes everything posted since the last call, and the serial it covers. The serial is read
    /// first, so it never claims a request the loop has not taken.
    func take() -> (requests: OperatorRequests, serial: UInt64) {
        let serial = posted.load(ordering: .acquiring)
        // Nearly every cycle finds nothing: a plain load then, not a locked exchange, which would
        // also take the cache line away from the threads that post.
        guard pending.load(ordering: .acquiring) != 0 else { return ([], serial) }
        return (OperatorRequests(rawValue: pending.exchange(0, ordering: .acquiringAndReleasing)), serial)
    }

    func isReleaseHeld(at time: MonotonicInstant) -> Bool {
        time.nanoseconds < releaseHeldUntil.load(ordering: .acquiring)
    }
}
