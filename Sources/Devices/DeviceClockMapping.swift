import Primitives

/// Dates a device's states on the host's clock from the device's own timestamp (SR-1 v2: "each
/// state carries its age"). A state read after a host stall was sampled before the stall: dating it
/// when the host got round to reading it would make it look fresh (the defect D4).
///
/// The offset host − device is the smallest (receipt − device time) seen: the sample with the least
/// transport delay. It may rise by `driftAllowance` of the elapsed time (SAFETY.md SR-23 allows the
/// two clocks 2 % apart), so a device clock that runs slow does not make every later state look
/// older and older. A state is never dated after its receipt.
public struct DeviceClockMapping: Sendable {
    public static let driftAllowance = 0.02
    private var offsetNanoseconds: Int64?
    private var lastUpdate = MonotonicInstant.zero

    public init() {}

    /// When a state with `deviceTimeNanoseconds` (device clock, extended to 64 bits) was sampled, on
    /// the host's clock, given that it was read at `receivedAt`.
    public mutating func sampledAt(deviceTimeNanoseconds device: Int64, receivedAt: MonotonicInstant) -> MonotonicInstant {
        let observed = receivedAt.nanoseconds &- device
        if let offset = offsetNanoseconds {
            let drift = Int64(Double(max(0, receivedAt.nanoseconds(since: lastUpdate))) * Self.driftAllowance)
            offsetNanoseconds = min(offset &+ drift, observed)
        } else {
            offsetNanoseconds = observed
        }
        lastUpdate = receivedAt
        let estimate = MonotonicInstant(nanoseconds: device &+ offsetNanoseconds!)
        return min(estimate, receivedAt)
    }
}
