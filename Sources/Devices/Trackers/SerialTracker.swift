import DeviceModel
import Platform
import Primitives
import Profiles
import Synchronization
import Transport

/// A tracking sensor on a serial line (an Xsens MTi, a BNO08x in UART-RVC mode, an NDI Aurora or
/// Polaris): its protocol's adapter sets it up, a reader thread decodes what it sends, and the
/// control loop reads the newest sample through a sequence lock — no lock, no allocation. The
/// sample carries what SR-15 judges (age, frame counter, visibility, fit error), the joint angle the
/// mounting gives (for mirror therapy) and the tool's pose (for SR-16 and the recording).
///
/// The joint angle is `sign × (turn about the mounting axis since the neutral pose) + offset`: the
/// neutral pose is taken by `zero`, during the session's set-up, while the patient holds still.
/// Until then the sample's angle is 0 and `isZeroed` is false: a mirror session zeroes first.
///
/// A sample's age: with a sensor clock (MTi SampleTimeFine, NDI frame numbers), the clock is mapped
/// to the host's (`DeviceClockMapping`: the smallest delay seen) and the profile's `latency_ms` is
/// added; without one (BNO08x), the frame's transmission time and `latency_ms` are.
public final class SerialTracker: TrackerDevice, @unchecked Sendable {
    // @unchecked: `sample`, `adapter` and the clock mapping are the reader thread's once `start` has
    // run (before that, and after `stop` has joined it, the caller's); the loop reads `board`; the
    // neutral pose and the figures are behind mutexes.
    public let profile: TrackerProfile
    public let link: ByteLink
    private let clock: LoopClock
    private let adapter: TrackerProtocol
    private let readsInCycle: Bool
    private let board = SnapshotBoard(TrackerSample())
    /// The control thread's last good copy of `board` (only `latestSample` touches it).
    private var lastSnapshot = TrackerSample()
    private var sample = TrackerSample()
    private var clockMapping = DeviceClockMapping()
    private let neutral = Mutex<SIMD4<Double>?>(nil)
    private let counts = Mutex(Figures())
    private let stopRequested = Atomic<Bool>(false)
    /// The sensor reported a condition that needs a new set-up (it reset): the next `configure` sets it
    /// up again. Set by the reader thread, read by the set-up.
    private let setUpLost = Atomic<Bool>(false)
    private var thread: ControlThread?
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4_096, alignment: 8)
    private let transmissionNanoseconds: Int64
    /// What the sensor said it is (`configure`).
    public private(set) var identity = ""

    /// What the reader saw, for the session summary and `rehabctl track`.
    public struct Figures: Sendable, Equatable {
        public var accepted = 0
        /// Frames whose counter did not move (a frozen sensor).
        public var repeated = 0
        public var checksumErrors = 0
        public var discardedBytes = 0
        /// Why the line stopped, if it did.
        public var linkError: String?
        /// Polls the sensor did not answer in time (NDI's BX; 0 for a streaming sensor). A sensor that
        /// reset at another rate than the host's shows here, its RESET being noise at the host's rate.
        public var unansweredRequests = 0
        /// Reports of the sensor about itself that made its samples unusable at once (it reset, it
        /// refused a poll), counted; the last one kept, with when it came (host clock).
        public var deviceConditions = 0
        public var lastCondition: TrackerCondition?
        public var lastConditionAt: MonotonicInstant?

        /// The condition that explains why `sample` is not usable: the last one, when it came after the
        /// sample was received (a later sample is explained by itself: a missing tool, a new frame).
        public func condition(explaining sample: TrackerSample) -> TrackerCondition? {
            guard !sample.toolVisible, let condition = lastCondition, let at = lastConditionAt else { return nil }
            return sample.samplesReceived == 0 || at >= sample.receivedAt ? condition : nil
        }
    }

    /// `readsInCycle`: no reader thread; `latestSample(at:)` decodes what the link holds (an in-process
    /// simulated sensor on a virtual clock, in tests).
    public init(profile: TrackerProfile, link: ByteLink, adapter: TrackerProtocol, clock: LoopClock = MonotonicClock.shared, readsInCycle: Bool = false) {
        self.profile = profile
        self.link = link
        self.adapter = adapter
        self.clock = clock
        self.readsInCycle = readsInCycle
        transmissionNanoseconds = Int64(adapter.frameBytes) * 10 * Nanoseconds.perSecond / Int64(max(1, profile.baudRateBitsPerSecond))
        sample.framePeriodNanoseconds = profile.framePeriodNanoseconds
    }

    deinit {
        stop()
        buffer.deallocate()
    }

    /// The profile's name: it names the tracker in recordings (topics, CSV files) whatever port it is on.
    public var trackerName: String { profile.name }

    /// The reader's counts (the adapter's line counters are copied in by the reader thread, which owns the decoder).
    public var figures: Figures { counts.withLock { $0 } }

    public var isZeroed: Bool { neutral.withLock { $0 != nil } }

    /// Sets the sensor up once (a session's set-up calls it again for a tracker already streaming).
    ///
    /// A sensor that reset since its set-up (`TrackerCondition.Kind.requiresSetUp`) is set up again
    /// here — and only here. The reader never does it by itself: a tracker a session relies on must
    /// not come back on its own in the middle of that session (SR-1's rule for the robot, "never
    /// reconnects by itself while enabled", kept for the sensors that gate it: SR-15, SR-16). Its
    /// samples stay unusable until a set-up — a new session, `rehabctl track` — brings it back.
    public func configure() throws(DeviceSetupFailure) {
        if !identity.isEmpty && setUpLost.load(ordering: .acquiring) {
            stop()  // the reader's state is the set-up's again
            identity = ""
            // A reset sensor's clock starts over: the old mapping would date its samples wrongly.
            clockMapping = DeviceClockMapping()
            sample.repeatedFrames = 0
        }
        guard identity.isEmpty else { return }
        setUpLost.store(false, ordering: .releasing)
        identity = try adapter.configure(link: link, clock: clock, profile: profile)
    }

    public func start() throws(DeviceSetupFailure) {
        guard !readsInCycle, thread == nil else { return }
        stopRequested.store(false, ordering: .releasing)
        thread = ControlThread.start(name: "rh-tracker", stackBytes: 256 << 10) { [self] in
            _ = Realtime.makeCurrentThreadNormal()
            let wait = min(profile.framePeriodNanoseconds, 20 * Nanoseconds.perMillisecond)
            while !stopRequested.load(ordering: .acquiring) {
                if !pump(waitingNanoseconds: wait) { break }
            }
        }
    }

    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        thread?.join()
        thread = nil
    }

    /// Stops the reader and puts the sensor back in a quiet state (best effort).
    public func shutDown() {
        stop()
        adapter.shutDown(link: link, clock: clock)
        identity = ""  // quiet now: a next session sets it up again
    }

    public func latestSample(at now: MonotonicInstant) -> TrackerSample {
        if readsInCycle { _ = pump(waitingNanoseconds: 0) }
        // Bounded: a reader thread preempted in mid-publish must not hold the control loop; the copy
        // before it is returned instead, and SR-15 judges it by its age.
        if let fresh = board.snapshot(attempts: 1_000) { lastSnapshot = fresh }
        return lastSnapshot
    }

    /// Takes the neutral pose: the patient holds the limb at its zero while the sensor's orientation
    /// is averaged over `seconds`; refused (with what moved) when it turned more than
    /// `maximumSpreadRadians` about the mounting axis meanwhile, swung more than `maximumSwingRadians`
    /// about the other two (the joint angle is measured about the axis of the neutral pose, so a pose
    /// taken mid-swing tilts every later reading), or no sample came.
    public func zero(
        seconds: Double = 0.3, maximumSpreadRadians: Double = 2 * Units.radiansPerDegree, maximumSwingRadians: Double = 5 * Units.radiansPerDegree
    ) throws(DeviceSetupFailure) {
        let end = clock.now().advanced(byNanoseconds: Int64(seconds * 1e9))
        var sum = SIMD4<Double>(0, 0, 0, 0)
        var first: SIMD4<Double>?
        var lowest = 0.0
        var highest = 0.0
        var widestSwing = 0.0
        var counted = Set<UInt32>()
        while true {
            let now = clock.now()
            let latest = latestSample(at: now)
            if latest.samplesReceived > 0, let orientation = latest.toolOrientation, latest.toolVisible,
                counted.insert(latest.frameCounter).inserted
            {
                var q = orientation
                if let first {
                    if (q * first).sum() < 0 { q = -q }  // the same rotation, on first's hemisphere
                    let relative = Orientation.multiply(Orientation.conjugate(first), q)
                    let turn = Orientation.twistAngle(of: relative, about: profile.mounting.axis.unitVector)
                    lowest = min(lowest, turn)
                    highest = max(highest, turn)
                    widestSwing = max(widestSwing, Orientation.swingAngle(of: relative, about: profile.mounting.axis.unitVector))
                } else {
                    first = q
                }
                sum += q
            }
            if now >= end { break }
            clock.sleep(until: now.advanced(byNanoseconds: min(profile.framePeriodNanoseconds, 5 * Nanoseconds.perMillisecond)))
        }
        guard first != nil, counted.count >= 2 else {
            throw DeviceSetupFailure(port: link.name, reason: "\(profile.name): no orientation to zero on (\(counted.count) samples in \(seconds) s)")
        }
        guard highest - lowest <= maximumSpreadRadians else {
            throw DeviceSetupFailure(
                port: link.name,
                reason: "\(profile.name): the limb moved \(Self.degrees(highest - lowest))° about the sensor's \(profile.mounting.axis.rawValue) axis while it was zeroed (at most \(Self.degrees(maximumSpreadRadians))°): hold the neutral pose still")
        }
        guard widestSwing <= maximumSwingRadians else {
            throw DeviceSetupFailure(
                port: link.name,
                reason: "\(profile.name): the limb swung \(Self.degrees(widestSwing))° away from the sensor's \(profile.mounting.axis.rawValue) axis while it was zeroed (at most \(Self.degrees(maximumSwingRadians))°): hold the neutral pose still")
        }
        // The mean of orientations this close together (≤ 2°) is within a hair of unit length.
        guard let mean = Orientation.normalized(sum / Double(counted.count)) else {
            throw DeviceSetupFailure(port: link.name, reason: "\(profile.name): the orientations while zeroing do not average to a rotation")
        }
        neutral.withLock { $0 = mean }
    }

    private static func degrees(_ radians: Double) -> String {
        String(Double(Int((radians / Units.radiansPerDegree * 10).rounded())) / 10)
    }

    // MARK: Reading

    /// Reads and decodes what the link holds (waiting up to `waitingNanoseconds` for it); false when
    /// the link failed.
    private func pump(waitingNanoseconds: Int64) -> Bool {
        let now = clock.now()
        guard adapter.poll(link: link, now: now) else {
            counts.withLock { $0.linkError = "the poll could not be written" }
            return false
        }
        do throws(TransportError) {
            if waitingNanoseconds > 0 {
                var until = now.advanced(byNanoseconds: waitingNanoseconds)
                if let poll = adapter.nextPollAt, poll < until { until = max(now, poll) }
                guard try link.waitReadable(until: until) else { return true }
            }
            while true {
                let count = try link.readAvailable(into: buffer)
                if count == 0 { break }
                let receivedAt = clock.now()
                adapter.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), receivedAt: receivedAt) { measurement in
                    accept(measurement, receivedAt: receivedAt)
                }
                let (checksumErrors, discarded, unanswered) = (adapter.checksumErrors, adapter.discardedBytes, adapter.unansweredRequests)
                counts.withLock {
                    $0.checksumErrors = checksumErrors
                    $0.discardedBytes = discarded
                    $0.unansweredRequests = unanswered
                }
                if count < buffer.count { break }
            }
        } catch {
            counts.withLock { $0.linkError = "\(error)" }
            return false
        }
        return true
    }

    private func accept(_ measurement: TrackerMeasurement, receivedAt: MonotonicInstant) {
        if let condition = measurement.condition {
            // No measurement: the sensor says its data cannot be had (it reset, it refused the poll). The
            // sample stops being usable now — SR-15 and SR-16 trip on it at once, never on the last good
            // pose served as if it were fresh — and stays as old as the last real measurement.
            sample.toolVisible = false
            sample.toolOrientation = nil
            sample.toolPositionMeters = nil
            board.publish(sample)
            if condition.kind.requiresSetUp { setUpLost.store(true, ordering: .releasing) }
            let unanswered = adapter.unansweredRequests
            counts.withLock {
                $0.deviceConditions += 1
                $0.lastCondition = condition
                $0.lastConditionAt = receivedAt
                $0.unansweredRequests = unanswered
            }
            return
        }
        if sample.samplesReceived > 0 && measurement.frameCounter == sample.frameCounter {
            // Bytes arrive, the counter does not move: frozen in content, and as old as it was — a repeat
            // is no fresher than the frame it repeats (its age keeps running for SR-15). Visibility can
            // only get worse.
            sample.repeatedFrames &+= 1
            if !measurement.visible || measurement.sensorFault { sample.toolVisible = false }
            board.publish(sample)
            counts.withLock { $0.repeated += 1 }
            return
        }
        var sourceLatency = profile.latencyNanoseconds + transmissionNanoseconds
        if let deviceTime = measurement.deviceTimeNanoseconds {
            // The sensor's clock dates the sample on the host's through the smallest delay seen, which
            // the mapping counts as none: the frame's transmission and the sensor's latency come on top
            // (README: age = time since the sample + transmission + latency_ms).
            let sampledAt = clockMapping.sampledAt(deviceTimeNanoseconds: deviceTime, receivedAt: receivedAt)
            sourceLatency += receivedAt.nanoseconds(since: sampledAt)
        }
        sample.frameCounter = measurement.frameCounter
        sample.receivedAt = receivedAt
        sample.sourceLatencyNanoseconds = sourceLatency
        sample.toolOrientation = measurement.orientation
        sample.toolPositionMeters = measurement.positionMeters
        sample.toolVisible = measurement.visible && !measurement.sensorFault
        sample.rmsErrorMillimeters = measurement.rmsErrorMillimeters
        sample.repeatedFrames = 0
        sample.positionRadians = 0
        if let orientation = measurement.orientation, let neutralPose = neutral.withLock({ $0 }) {
            let turn = Orientation.twistAngle(
                of: Orientation.multiply(Orientation.conjugate(neutralPose), orientation), about: profile.mounting.axis.unitVector)
            sample.positionRadians = profile.mounting.sign * turn + profile.mounting.offsetRadians
        } else if isZeroed {
            // A zeroed tracker whose frame carries no usable orientation gives no angle: not a visible 0.
            sample.toolVisible = false
        }
        sample.samplesReceived += 1
        board.publish(sample)
        counts.withLock { $0.accepted += 1 }
    }
}
