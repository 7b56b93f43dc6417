import Glibc
import Platform
import Primitives
import StrictJSON
import Synchronization

/// Writes a session's telemetry to an MCAP file on a normal-priority thread: it drains the
/// `TelemetryRing` the control loop fills, encodes the messages, and hands each chunk to the kernel
/// as soon as it closes — at the latest 100 ms after its first message — so that after a crash
/// (`kill -9`) the file holds everything up to the last complete chunk (`rehabctl recover`).
///
/// A recording failure (unwritable path, full disk) never touches the control loop: it is reported
/// once through `onFailure`, the ring is still drained, and what could not be written is counted.
public final class TelemetryRecorder: @unchecked Sendable {
    // @unchecked: `encoder`, `file` and the counters are used by the writer thread while it runs,
    // and by the thread that calls `finish` only after joining it.

    /// What the recording did.
    public struct Figures: Sendable, Equatable {
        public var path: String
        /// Messages in the file (complete chunks only).
        public var messagesWritten: UInt64 = 0
        /// Messages that could not be written (after a failure).
        public var messagesNotWritten: UInt64 = 0
        /// Records the loop handed over and the recorder took.
        public var recordsTaken: UInt64 = 0
        /// Records the loop could not hand over (ring full).
        public var recordsDropped: Int = 0
        /// The most records that waited in the ring at once, and its capacity.
        public var ringHighWater: Int = 0
        public var ringCapacity: Int = 0
        public var bytesWritten: UInt64 = 0
        /// The first failure, as reported.
        public var failure: String?
        /// CPU time the writer thread used while the session ran [s]: the cost of encoding,
        /// compressing and writing (what is left at `finish` runs on the caller's thread, not counted).
        public var writerCPUSeconds = 0.0
    }

    /// A chunk is on disk at the latest this long after its first message.
    public static let chunkFlushNanoseconds: Int64 = 100_000_000
    /// How often the writer wakes to drain the ring.
    public static let drainPeriodMicroseconds: UInt32 = 5_000

    public let path: String
    public let ring: TelemetryRing
    private var encoder: TelemetryEncoder
    private var file: AppendOnlyFile?
    private let onFailure: @Sendable (String) -> Void
    private var figures: Figures
    private var messagesOnDisk: UInt64 = 0
    private var chunkOpenedAt: MonotonicInstant?
    private var lastSync = MonotonicClock.now()
    private var thread: ControlThread?
    private let stopRequested = Atomic(false)

    /// Opens `path` and writes the file's start (a failure is reported and counted, not thrown:
    /// the session goes on without a recording).
    public init(path: String, ring: TelemetryRing, encoder: TelemetryEncoder, onFailure: @escaping @Sendable (String) -> Void) {
        self.path = path
        self.ring = ring
        self.encoder = encoder
        self.onFailure = onFailure
        figures = Figures(path: path, ringCapacity: ring.capacity)
        do throws(Errno) {
            // A new file only, mode 0600 (patient data): an earlier recording, a symbolic link, a
            // device or a FIFO at `path` is never written to.
            file = try AppendOnlyFile(creating: path, mode: 0o600)
        } catch {
            if error.rawValue == EEXIST, let kind = OutputFileError.kind(at: path) {
                fail(
                    "cannot create \(path): it exists (\(kind.rawValue)) and a recording never replaces or writes into anything: choose a new path")
            } else {
                fail("cannot create \(path): \(error)")
            }
        }
        flush()
    }

    /// Starts the writer thread.
    public func start() {
        // Started by the control thread: give up its real-time priority and its CPU first.
        thread = ControlThread.start(name: "rh-recorder", stackBytes: 512 << 10) { [self] in
            Realtime.makeCurrentThreadNormal()
            let cpuAtStart = ThreadCPUTime.seconds()
            while !stopRequested.load(ordering: .acquiring) {
                drain()
                usleep(Self.drainPeriodMicroseconds)
            }
            figures.writerCPUSeconds = ThreadCPUTime.seconds() - cpuAtStart
        }
    }

    /// Stops the writer thread, writes what is left, `metrics` (at `time`) and the `session_result`
    /// metadata (`result`), closes the file with its summary, and returns the figures. Call after the
    /// loop has ended.
    public func finish(metrics: JSONValue?, result: SessionResult? = nil, at time: MonotonicInstant) -> Figures {
        stopRequested.store(true, ordering: .releasing)
        thread?.join()
        thread = nil
        drain()
        if let metrics {
            if file != nil { encoder.writeMetrics(metrics, at: time) } else { figures.messagesNotWritten += 1 }
        }
        if let result, file != nil { encoder.writeSessionResult(result.metadata) }
        if file != nil {
            encoder.finish()
            flush()
            if let file {
                do throws(Errno) { try file.sync() } catch { fail("cannot sync \(path): \(error)") }
                file.close()
            }
        }
        figures.recordsDropped = ring.overflows
        figures.ringHighWater = ring.highWaterMark
        figures.messagesWritten = messagesOnDisk
        return figures
    }

    /// Takes everything in the ring; closes the chunk when it is due.
    private func drain() {
        while let record = ring.pop() {
            figures.recordsTaken += 1
            guard file != nil else {
                figures.messagesNotWritten += Self.messageCount(of: record)
                continue
            }
            if encoder.openChunkBytes == 0 { chunkOpenedAt = MonotonicClock.now() }
            encoder.write(record)
        }
        if let opened = chunkOpenedAt, encoder.openChunkBytes > 0,
            MonotonicClock.now().nanoseconds(since: opened) >= Self.chunkFlushNanoseconds
        {
            encoder.closeChunk()
        }
        if encoder.openChunkBytes == 0 { chunkOpenedAt = nil }
        flush()
        // Survive a power loss too: the page cache is synced about once a second.
        if file != nil && MonotonicClock.now().nanoseconds(since: lastSync) >= 1_000_000_000 {
            lastSync = MonotonicClock.now()
            do throws(Errno) { try file?.sync() } catch { fail("cannot sync \(path): \(error)") }
        }
    }

    /// Writes the bytes the encoder has finished (whole chunks and their indexes).
    private func flush() {
        guard let file else {
            encoder.drainOutput { _ in }
            return
        }
        var written = 0
        do throws(Errno) {
            try encoder.drainOutput { (bytes) throws(Errno) in
                try file.append(bytes)
                written = bytes.count
            }
        } catch {
            fail("cannot write \(path): \(error)")
            return
        }
        guard written > 0 else { return }
        figures.bytesWritten += UInt64(written)
        messagesOnDisk = encoder.messagesWritten - encoder.openChunkMessages
    }

    private func fail(_ message: String) {
        // Everything produced but not on disk is lost; from now on records are only counted.
        figures.messagesNotWritten += encoder.messagesWritten - messagesOnDisk
        file?.close()
        file = nil
        guard figures.failure == nil else { return }
        figures.failure = message
        onFailure(message)
    }

    static func messageCount(of record: TelemetryRecord) -> UInt64 {
        switch record {
        case .cycle: 4
        case .transition(let transition): transition.category == nil ? 1 : 2
        }
    }
}
