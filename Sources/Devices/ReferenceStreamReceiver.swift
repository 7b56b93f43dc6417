import Control
import Platform
import Primitives
import Synchronization
import Transport
import Wire

/// Receives a RehabRef stream (protocols/rehabref/README.md) on its own thread and holds the newest
/// sample for mirror mode. The control loop reads it through a sequence lock: no lock, no
/// allocation, whatever the network does. Refused datagrams are counted by reason, never seen by
/// the loop; staleness is the supervisor's judgement (SR-15), made from the sample's age.
public final class ReferenceStreamReceiver: ReferenceSource, @unchecked Sendable {
    // @unchecked: `sample` and the thread handle are touched by the receiver thread only until
    // `stop()` joins it; the figures are behind a mutex; the board is the sequence lock.
    public let socket: DatagramSocket
    private let board = SnapshotBoard(ReferenceSample())
    private var sample = ReferenceSample()
    private let stopRequested = Atomic<Bool>(false)
    private var thread: ControlThread?
    private let counts = Mutex(Figures())

    /// What the receiver saw, for the session summary.
    public struct Figures: Sendable, Equatable {
        public var accepted = 0
        /// Same frame counter again (a frozen source: bytes arrive, the counter does not move).
        public var repeated = 0
        /// Older than the newest accepted (UDP may reorder): ignored.
        public var outOfOrder = 0
        public var rejected: [ReferenceDatagram.Rejection: Int] = [:]
        public var rejectedTotal: Int { rejected.values.reduce(0, +) }
    }

    public init(socket: DatagramSocket) {
        self.socket = socket
    }

    deinit { stop() }

    /// Starts receiving; samples arriving before the session starts are already counted.
    public func start() {
        guard thread == nil else { return }
        thread = ControlThread.start(name: "rh-reference", stackBytes: 256 << 10) { [self] in
            // Started from the control thread or the main thread: never inherit real-time priority.
            _ = Realtime.makeCurrentThreadNormal()
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 8)
            defer { buffer.deallocate() }
            while !stopRequested.load(ordering: .acquiring) {
                guard let count = socket.receive(into: buffer, timeoutMilliseconds: 20) else { continue }
                take(UnsafeRawBufferPointer(rebasing: buffer[0..<min(count, buffer.count)]), declaredCount: count,
                     at: MonotonicClock.now())
            }
        }
    }

    /// Stops the thread and closes the socket; idempotent.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        thread?.join()
        thread = nil
        socket.close()
    }

    public func latestSample(at now: MonotonicInstant) -> ReferenceSample { board.snapshot() }

    public var figures: Figures { counts.withLock { $0 } }

    /// One datagram of `declaredCount` bytes (more than the buffer when it was cut), received at `time`.
    func take(_ bytes: UnsafeRawBufferPointer, declaredCount: Int, at time: MonotonicInstant) {
        let decoded = declaredCount == bytes.count ? ReferenceDatagram.decode(bytes) : .failure(.wrongLength)
        switch decoded {
        case .failure(let rejection):
            counts.withLock { $0.rejected[rejection, default: 0] += 1 }
        case .success(let datagram):
            accept(datagram, at: time)
        }
    }

    private func accept(_ datagram: ReferenceDatagram, at time: MonotonicInstant) {
        if sample.samplesReceived > 0 {
            let ahead = Int32(bitPattern: datagram.frameCounter &- sample.frameCounter)
            if ahead < 0 {
                counts.withLock { $0.outOfOrder += 1 }
                return
            }
            if ahead == 0 {
                // Bytes arrive, the counter does not move: fresh in time, frozen in content.
                sample.repeatedFrames &+= 1
                sample.receivedAt = time
                board.publish(sample)
                counts.withLock { $0.repeated += 1 }
                return
            }
        }
        sample.frameCounter = datagram.frameCounter
        sample.receivedAt = time
        sample.sourceLatencyNanoseconds = Int64(datagram.latencyMicroseconds) * 1_000
        sample.framePeriodNanoseconds = Int64(datagram.framePeriodMicroseconds) * 1_000
        sample.positionRadians = datagram.positionRadians
        sample.toolVisible = datagram.toolVisible
        sample.repeatedFrames = 0
        sample.rmsErrorMillimeters = Double(datagram.rmsErrorMicrometers) * 1e-3
        sample.samplesReceived += 1
        board.publish(sample)
        counts.withLock { $0.accepted += 1 }
    }
}
