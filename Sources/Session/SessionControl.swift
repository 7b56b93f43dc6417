import Control
import Synchronization

/// Requests to a running session from other threads (a control socket, a test), collected with
/// one atomic and taken by the control loop once per cycle: no lock on either side.
public final class SessionControl: Sendable {
    private let pending = Atomic<UInt32>(0)

    public init() {}

    /// Posts `requests`; they take effect in the next control cycle.
    public func post(_ requests: OperatorRequests) {
        pending.bitwiseOr(requests.rawValue, ordering: .releasing)
    }

    /// Takes everything posted since the last call.
    func take() -> OperatorRequests {
        OperatorRequests(rawValue: pending.exchange(0, ordering: .acquiring))
    }
}
