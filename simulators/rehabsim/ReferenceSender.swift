import Control
import DeviceModel
import Foundation
import Platform
import Primitives
import RehabLinkSimulator
import Synchronization
import Transport
import Wire

/// rehabsim's simulated unaffected limb, streamed as RehabRef frames (protocols/rehabref/README.md)
/// at a fixed rate on its own thread, with the faults SR-15 must catch switched on and off through
/// the control socket (`reference_stop`, `reference_freeze`, `reference_hide`, `reference_inaccurate`,
/// `reference_normal`).
final class ReferenceSender: Sendable {
    enum Condition: String, CaseIterable, Sendable {
        case normal, stop, freeze, hide, inaccurate
    }

    /// How old each sample is when sent: a tracker's exposure and fit, say [µs].
    static let sourceLatencyMicroseconds: UInt32 = 3_000

    private let socket: DatagramSocket
    private let periodNanoseconds: Int64
    private let state: Mutex<(limb: SimulatedReferenceLimb, condition: Condition)>

    init(socket: DatagramSocket, limb: SimulatedReferenceLimb, rateHertz: Double) {
        self.socket = socket
        periodNanoseconds = Nanoseconds.period(rateHertz: rateHertz)
        state = Mutex((limb, .normal))
    }

    var destination: String { socket.name }

    func set(_ condition: Condition) { state.withLock { $0.condition = condition } }

    /// The cue (and the limb) starts at `start`.
    func startCue(at start: MonotonicInstant) {
        state.withLock { $0.limb.startCue(at: start) }
    }

    /// Sends until the process ends.
    func start() {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: RehabRef.Datagram.byteCount)
            var counter: UInt32 = 0
            var frozen: (counter: UInt32, position: Double)?
            var next = MonotonicClock.now()
            while true {
                next = next.advanced(byNanoseconds: periodNanoseconds)
                MonotonicClock.shared.sleep(until: next)
                let now = MonotonicClock.now()
                let (position, condition) = state.withLock { locked in
                    (locked.limb.positionRadians(at: now.advanced(byNanoseconds: -Int64(Self.sourceLatencyMicroseconds) * 1_000)),
                     locked.condition)
                }
                if condition == .stop { continue }
                counter &+= 1
                if condition == .freeze {
                    if frozen == nil { frozen = (counter &- 1, position) }
                } else {
                    frozen = nil
                }
                let frame = RehabRef.Datagram(
                    frameCounter: frozen?.counter ?? counter, framePeriodMicroseconds: UInt32(periodNanoseconds / 1_000),
                    latencyMicroseconds: Self.sourceLatencyMicroseconds, rmsErrorMicrometers: condition == .inaccurate ? 5_000 : 200,
                    positionRadians: frozen?.position ?? position, toolVisible: condition != .hide)
                buffer.withUnsafeMutableBytes { _ = frame.encode(into: $0) }
                buffer.withUnsafeBytes { _ = socket.send($0) }
            }
        }
        thread.start()
    }
}
