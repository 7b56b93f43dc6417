import Primitives
import Transport

/// A driver that reads its device's replies from a byte link — every protocol's driver. The cycle's
/// wait for a reply (`ActuatedDevice.waitForState`) is the same loop for all of them: wait until bytes
/// are readable, decode what came, stop at a fresh state, the deadline or a failed link. Only the
/// decoding (`collect`) is the protocol's.
package protocol ByteLinkDriver: AnyObject {
    var link: ByteLink { get }
    var clock: LoopClock { get }
    /// Why the link failed; nil while it works.
    var linkError: TransportError? { get }
    /// Records that the link failed: `linkError` from now on.
    func linkFailed(_ error: TransportError)
    /// Reads every pending byte and decodes it; true when a fresh state arrived. Allocation-free.
    func collect(now: MonotonicInstant) -> Bool
}

extension ByteLinkDriver {
    /// Waits at most until `deadline` for a fresh state; true when one arrived.
    package func waitForFreshState(until deadline: MonotonicInstant) -> Bool {
        while linkError == nil {
            do throws(TransportError) {
                guard try link.waitReadable(until: deadline) else { return false }
            } catch {
                linkFailed(error)
                return false
            }
            if collect(now: clock.now()) { return true }
            if clock.now() >= deadline { return false }
        }
        return false
    }
}
