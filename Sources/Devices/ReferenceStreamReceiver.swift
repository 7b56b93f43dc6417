import DeviceModel
import Platform
import Primitives
import Synchronization
import Transport
import Wire

/// Receives a RehabRef stream (protocols/rehabref/README.md) on its own thread and holds the newest
/// sample for mirror mode. The control loop reads it through a sequence lock: no lock, no
/// allocation, whatever the network does. Refused datagrams are counted by reason, never seen by
/// the loop; staleness is the supervisor's judgement (SR-15), made from the sample's age.
///
/// The frame counter may move by at most `maximumCounterStep` from one accepted frame to the next
/// (§4): a single frame far from the stream — forged, or from a second sender — would otherwise
/// make every later genuine frame "old" and lock the real source out for the rest of the session.
/// Such a jump is refused (`counter_jump`); it starts a new stream only when
/// `framesToConfirmANewStream` consecutive frames continue from it with no frame of the current
/// stream in between (a source that restarted with a new counter).
public final class ReferenceStreamReceiver: TrackerDevice, @unchecked Sendable {
    // @unchecked: `sample`, the candidate stream and the thread handle are touched by the receiver
    // thread only until `stop()` joins it; the figures are behind a mutex; the board is the sequence lock.
    public let socket: DatagramSocket
    private let board = SnapshotBoard(TrackerSample())
    private var sample = TrackerSample()
    private let stopRequested = Atomic<Bool>(false)
    private var thread: ControlThread?
    private let counts = Mutex(Figures())
    /// A stream that jumped away from the current one: its newest counter, and how many consecutive
    /// frames it has brought so far (0: none pending).
    private var candidateCounter: UInt32 = 0
    private var candidateFrames = 0

    /// The largest counter step, either way, that is still the current stream (loss or reordering).
    /// 1 000 frames is a second even of a 1 kHz source: a real gap that long has tripped SR-15's age
    /// limit (3 frame periods, ≤ 50 ms) many times over, so nothing that may gate motion is refused.
    public static let maximumCounterStep: Int32 = 1_000
    /// Consecutive frames, each 1 … `maximumCounterStep` ahead of the one before, that a stream which
    /// jumped away must bring before it replaces the current one; the last of them is accepted.
    public static let framesToConfirmANewStream = 3

    /// Why a datagram was refused: the datagram's own faults (`RehabRef.Datagram.Rejection`, same
    /// names), or a well-formed frame that does not continue the stream.
    public enum Refusal: Sendable, Hashable {
        /// The datagram itself is faulty.
        case datagram(RehabRef.Datagram.Rejection)
        /// More than `maximumCounterStep` away from the newest accepted counter, and not (yet) a
        /// confirmed new stream.
        case counterJump

        /// The stable name in summaries and logs (a datagram fault's own name).
        public var name: String {
            switch self {
            case .datagram(let rejection): rejection.rawValue
            case .counterJump: "counter_jump"
            }
        }
    }

    /// What the receiver saw, for the session summary.
    public struct Figures: Sendable, Equatable {
        public var accepted = 0
        /// Same frame counter again (a frozen source: bytes arrive, the counter does not move).
        public var repeated = 0
        /// Older than the newest accepted, by at most `maximumCounterStep` (UDP may reorder): ignored.
        public var outOfOrder = 0
        public var rejected: [Refusal: Int] = [:]
        public var rejectedTotal: Int { rejected.values.reduce(0, +) }
    }

    public var trackerName: String { "RehabRef stream on UDP port \(socket.localPort)" }

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

    public func latestSample(at now: MonotonicInstant) -> TrackerSample { board.snapshot() }

    public var figures: Figures { counts.withLock { $0 } }

    /// One datagram of `declaredCount` bytes (more than the buffer when it was cut), received at `time`.
    func take(_ bytes: UnsafeRawBufferPointer, declaredCount: Int, at time: MonotonicInstant) {
        let decoded = declaredCount == bytes.count ? RehabRef.Datagram.decode(bytes) : .failure(.wrongLength)
        switch decoded {
        case .failure(let rejection):
            counts.withLock { $0.rejected[.datagram(rejection), default: 0] += 1 }
        case .success(let datagram):
            accept(datagram, at: time)
        }
    }

    private func accept(_ datagram: RehabRef.Datagram, at time: MonotonicInstant) {
        if sample.samplesReceived > 0 {
            let ahead = Int32(bitPattern: datagram.frameCounter &- sample.frameCounter)
            if ahead > Self.maximumCounterStep || ahead < -Self.maximumCounterStep {
                // Not this stream's loss or reordering: refused, unless it is the frame that confirms a new stream.
                guard confirmsNewStream(datagram.frameCounter) else {
                    counts.withLock { $0.rejected[.counterJump, default: 0] += 1 }
                    return
                }
            } else {
                // The current stream is alive: whatever jumped away was not its successor.
                candidateFrames = 0
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

    /// Counts `counter`, far from the current stream, toward a new stream; true when it is the
    /// frame that completes the confirmation (the candidate is then cleared).
    private func confirmsNewStream(_ counter: UInt32) -> Bool {
        let ahead = Int32(bitPattern: counter &- candidateCounter)
        if candidateFrames > 0 && ahead > 0 && ahead <= Self.maximumCounterStep {
            candidateFrames += 1
        } else {
            candidateFrames = 1
        }
        candidateCounter = counter
        guard candidateFrames >= Self.framesToConfirmANewStream else { return false }
        candidateFrames = 0
        return true
    }
}
