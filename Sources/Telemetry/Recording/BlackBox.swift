import Control
import DeviceModel
import Platform
import Primitives
import Synchronization

/// SR-19: every cycle of the last seconds, kept in memory at full rate and written as an MCAP file
/// (the recording's channels and encoding) when the supervisor latches a fault or an e-stop —
/// whether or not a recording was asked for.
///
/// The control loop copies each cycle's `TelemetryFrame` into a preallocated ring (no allocation, no
/// lock). On a fault it keeps recording for `postTriggerCycles` more, then freezes the ring and
/// hands it over through one atomic; a normal thread (`writePendingDump`) writes the file and hands
/// it back. While frozen the loop skips recording, so nothing it does waits for the disk.
public final class BlackBox: @unchecked Sendable {
    // @unchecked: the frames are touched by the loop only while `phase` is `.recording`, and by the
    // writer only while it is `.writing`; the phase changes are release/acquire atomics.

    public let capacity: Int
    public let jointCount: Int
    public let postTriggerCycles: Int
    public let rateHertz: Double

    private let frames: UnsafeMutablePointer<TelemetryFrame>
    private var head = 0
    private var count = 0
    private var trigger: (cycle: Int64, trip: SafetyTrip?, state: SupervisorState)?
    private var remainingAfterTrigger = 0
    private var frozenTransitions: [SupervisorTransition]
    private let phase = Atomic<UInt8>(Phase.recording.rawValue)
    /// Files written so far (paths), and why the last write failed.
    public private(set) var writtenFiles: [String] = []
    public private(set) var lastWriteError: String?

    private enum Phase: UInt8 {
        case recording = 0
        case frozen = 1
        case writing = 2
    }

    /// Room for `seconds` before a trigger and `postTriggerSeconds` after it, at `rateHertz`.
    public init(jointCount: Int, rateHertz: Double, seconds: Double = 5, postTriggerSeconds: Double = 0.5) {
        self.jointCount = jointCount
        self.rateHertz = rateHertz
        postTriggerCycles = max(1, Int((postTriggerSeconds * rateHertz).rounded(.up)))
        capacity = max(16, Int((seconds * rateHertz).rounded(.up)) + postTriggerCycles + 1)
        frames = .allocate(capacity: capacity)
        frames.initialize(repeating: TelemetryFrame(jointCount: jointCount), count: capacity)
        frozenTransitions = []
        frozenTransitions.reserveCapacity(Supervisor.transitionCapacity)
    }

    deinit {
        frames.deinitialize(count: capacity)
        frames.deallocate()
    }

    // MARK: The control loop's side

    /// Records one cycle (skipped while a dump is pending). `transitions` is the supervisor's log,
    /// kept with the dump when it freezes (the log alone: copying the whole supervisor every cycle
    /// to read it once would cost a 700-byte copy and its retains).
    public func record(_ frame: TelemetryFrame, transitions: [SupervisorTransition]) {
        guard phase.load(ordering: .acquiring) == Phase.recording.rawValue else { return }
        frames[head] = frame
        head = (head + 1) % capacity
        count = min(count + 1, capacity)
        if trigger != nil {
            remainingAfterTrigger -= 1
            if remainingAfterTrigger <= 0 { freeze(transitions) }
        }
    }

    /// A fault or e-stop latched in `cycle`: keep `postTriggerCycles` more, then hand over for writing.
    public func triggered(cycle: Int64, trip: SafetyTrip?, state: SupervisorState) {
        guard trigger == nil, phase.load(ordering: .acquiring) == Phase.recording.rawValue else { return }
        trigger = (cycle, trip, state)
        remainingAfterTrigger = postTriggerCycles
    }

    /// The loop has ended: hand over a pending trigger now.
    public func sessionEnded(transitions: [SupervisorTransition]) {
        if trigger != nil && phase.load(ordering: .acquiring) == Phase.recording.rawValue { freeze(transitions) }
    }

    private func freeze(_ transitions: [SupervisorTransition]) {
        frozenTransitions.removeAll(keepingCapacity: true)
        frozenTransitions.append(contentsOf: transitions)
        phase.store(Phase.frozen.rawValue, ordering: .releasing)
    }

    // MARK: The writer's side (a normal thread)

    /// True when a dump waits to be written.
    public var hasPendingDump: Bool { phase.load(ordering: .acquiring) == Phase.frozen.rawValue }

    /// Writes a pending dump into `directory` as MCAP and returns its path (nil: nothing pending, or
    /// the write failed — then `lastWriteError` says why and the dump stays pending for another try).
    @discardableResult
    public func writePendingDump(
        to directory: String, jointNames: [String], trackerNames: [String] = [], sessionMetadata: [(String, String)]
    ) -> String? {
        guard phase.compareExchange(expected: Phase.frozen.rawValue, desired: Phase.writing.rawValue, ordering: .acquiringAndReleasing).exchanged
        else { return nil }
        let bytes = mcap(jointNames: jointNames, trackerNames: trackerNames, sessionMetadata: sessionMetadata)
        let cause = trigger?.trip?.cause.rawValue ?? "stop"
        let stamp = WallClock.utcTimestamp(WallClock.unixNanoseconds()).replacingColons()
        let path = directory + "/blackbox-\(stamp)-cycle\(trigger?.cycle ?? 0)-\(cause).mcap"
        do throws(OutputFileError) {
            // Patient data: 0600. A temporary beside it, renamed on; never through a link or into a device.
            try DurableFile.save(bytes: bytes, to: path, mode: 0o600)
        } catch {
            lastWriteError = "cannot write the black box to \(path): \(error.problem)"
            phase.store(Phase.frozen.rawValue, ordering: .releasing)
            return nil
        }
        writtenFiles.append(path)
        lastWriteError = nil
        trigger = nil
        head = 0
        count = 0
        phase.store(Phase.recording.rawValue, ordering: .releasing)
        return path
    }

    /// The frames held now, oldest first (for tests; call only when the loop is not running).
    public func samples() -> [TelemetryFrame] {
        (0..<count).map { frames[(head - count + $0 + capacity) % capacity] }
    }

    /// The held frames and the supervisor's transitions, in time order, as an MCAP file.
    private func mcap(jointNames: [String], trackerNames: [String], sessionMetadata: [(String, String)]) -> [UInt8] {
        let held = samples()
        let origin = held.first?.time ?? .zero
        let unixNow = WallClock.unixNanoseconds()
        // The newest frame is "now" on the wall clock; the time origin follows from it.
        let unixOrigin = unixNow - (held.last.map { $0.time.nanoseconds(since: origin) } ?? 0)
        var metadata = sessionMetadata + [("kind", "black box (SAFETY.md SR-19)")]
        if let trigger {
            metadata.append(("trigger_cycle", String(trigger.cycle)))
            metadata.append(("trigger_state", trigger.state.rawValue))
            if let trip = trigger.trip {
                metadata.append(("trigger_cause", trip.cause.rawValue))
                metadata.append(("trigger_requirement", trip.cause.requirement))
            }
        }
        var encoder = TelemetryEncoder(
            jointNames: jointNames, rateHertz: rateHertz, sessionMetadata: metadata, monotonicOrigin: origin,
            unixOriginNanoseconds: unixOrigin, trackerNames: trackerNames)
        var transitions = frozenTransitions[...]
        for frame in held {
            while let next = transitions.first, next.cycle <= frame.cycle {
                // The set-up's transitions (before cycle 0) belong with a ring that still holds cycle 0.
                if next.cycle >= (held.first?.cycle ?? 0) || (next.isDuringSetUp && held.first?.cycle == 0) { encoder.write(next) }
                transitions = transitions.dropFirst()
            }
            encoder.write(frame)
        }
        for transition in transitions { encoder.write(transition) }
        encoder.finish()
        return encoder.takeOutput()
    }
}

extension String {
    /// ":" is awkward in file names on some systems; the timestamp keeps its digits.
    fileprivate func replacingColons() -> String {
        String(map { $0 == ":" ? "-" : $0 })
    }
}
