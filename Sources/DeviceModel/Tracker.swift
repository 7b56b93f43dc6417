import Primitives

/// A tracking sensor's newest sample, as the control loop reads it once per cycle: a joint angle
/// (an encoder on the unaffected limb, RehabRef) or a 6-DoF pose (an EM or optical tool, an IMU's
/// orientation), with what SR-15 judges it by — its age, frame counter, visibility and fit error.
/// Plain values only: it crosses threads through a sequence lock and is recorded every cycle.
/// `samplesReceived == 0`: none yet.
public struct TrackerSample: Sendable, Equatable, BitwiseCopyable {
    /// The source's frame counter of this sample.
    public var frameCounter: UInt32 = 0
    /// When the host received it (host monotonic clock).
    public var receivedAt = MonotonicInstant.zero
    /// How old the sample already was when the source sent it [ns] (its own processing latency).
    public var sourceLatencyNanoseconds: Int64 = 0
    /// The source's frame period [ns].
    public var framePeriodNanoseconds: Int64 = 0
    /// An angle source's reading [rad] (0 for a pose-only tracker).
    public var positionRadians = 0.0
    /// A pose source's tool position in the tracker's frame [m]; nil for an angle-only source.
    public var toolPositionMeters: SIMD3<Double>?
    /// A pose source's tool orientation as a unit quaternion (w, x, y, z); nil without one.
    public var toolOrientation: SIMD4<Double>?
    /// False when the source lost its tool or limb (out of view, disabled).
    public var toolVisible = false
    /// Consecutive frames that arrived with this same frame counter (bytes arrive, the counter does not move).
    public var repeatedFrames: Int32 = 0
    /// The source's own fit error [mm] (0 for an encoder).
    public var rmsErrorMillimeters = 0.0
    /// Frames accepted since the source started.
    public var samplesReceived: Int64 = 0

    public init() {}

    /// Three repeats of one counter while frames keep coming: a frozen source.
    public static let frozenAfterRepeats: Int32 = 3

    /// now − when the sample was taken [ns] (`Int64.max` before the first one).
    public func ageNanoseconds(at now: MonotonicInstant) -> Int64 {
        samplesReceived > 0 ? max(0, now.nanoseconds(since: receivedAt)) + sourceLatencyNanoseconds : .max
    }

    /// SR-15's view of this sample at `now`; nil while nothing has arrived.
    public func trackerStatus(at now: MonotonicInstant) -> TrackerStatus? {
        guard samplesReceived > 0 else { return nil }
        return TrackerStatus(
            sampleAgeNanoseconds: now.nanoseconds(since: receivedAt) + sourceLatencyNanoseconds,
            framePeriodNanoseconds: framePeriodNanoseconds, toolVisible: toolVisible,
            frameCounterFrozen: repeatedFrames >= Self.frozenAfterRepeats, rmsErrorMillimeters: rmsErrorMillimeters)
    }
}

/// A read-only tracking sensor (an IMU, an EM or optical tracker, a RehabRef stream, a simulated
/// limb): set up once, then read by the control thread once per cycle — and once more by the
/// rehearsal before it. `latestSample` takes no lock that a writer could hold, allocates nothing,
/// and changes nothing; the tracker's own I/O runs on its own thread (or, simulated, is computed).
///
/// Mirror mode's reference (SR-15) and the workspace interlock (SR-16) take any tracker through
/// this one interface.
public protocol TrackerDevice: AnyObject, Sendable {
    /// A human-readable name for messages and recordings (the port, or what it simulates).
    var trackerName: String { get }
    /// Set-up: identify the sensor and set what it streams (rate, tools). May block; before `start`.
    func configure() throws(DeviceSetupFailure)
    /// Starts streaming; samples arrive from now on.
    func start() throws(DeviceSetupFailure)
    /// The newest sample the host holds at `now` (a real source ignores `now`; a simulated one
    /// computes what would have arrived by then).
    func latestSample(at now: MonotonicInstant) -> TrackerSample
    /// Stops streaming (idempotent).
    func stop()
}

extension TrackerDevice {
    /// A source with nothing to configure (a UDP stream that is already bound, a simulation).
    public func configure() throws(DeviceSetupFailure) {}
    public func start() throws(DeviceSetupFailure) {}
    public func stop() {}
}

/// Why a device could not be set up, in words for the operator (the port first).
public struct DeviceSetupFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var port: String
    public var reason: String

    public init(port: String, reason: String) {
        self.port = port
        self.reason = reason
    }

    public var description: String { "\(port): \(reason)" }
}

/// What SR-15 judges a tracker's newest sample by (`TrackerSample.trackerStatus(at:)`).
public struct TrackerStatus: Sendable, Equatable {
    /// Age of the newest sample [ns].
    public var sampleAgeNanoseconds: Int64
    /// The tracker's frame period [ns].
    public var framePeriodNanoseconds: Int64
    /// False when the tool is missing (out of view) or disabled.
    public var toolVisible: Bool
    /// Bytes arrive but the frame counter does not advance.
    public var frameCounterFrozen: Bool
    /// The tracker's own fit error for the tool [mm].
    public var rmsErrorMillimeters: Double

    public init(sampleAgeNanoseconds: Int64, framePeriodNanoseconds: Int64, toolVisible: Bool, frameCounterFrozen: Bool,
                rmsErrorMillimeters: Double) {
        self.sampleAgeNanoseconds = sampleAgeNanoseconds
        self.framePeriodNanoseconds = framePeriodNanoseconds
        self.toolVisible = toolVisible
        self.frameCounterFrozen = frameCounterFrozen
        self.rmsErrorMillimeters = rmsErrorMillimeters
    }
}

/// The trackers' samples of one cycle, stored inline (no heap) so that a cycle's telemetry frame
/// stays plain bytes. At most `capacity` trackers per session.
public struct TrackerReadings: Sendable, Equatable, BitwiseCopyable {
    /// The most trackers one session reads (mirror's reference, the workspace tracker, observers).
    public static var capacity: Int { 4 }

    public private(set) var count: Int
    private var storage: InlineArray<4, TrackerSample>

    public init(count: Int) {
        precondition(count >= 0 && count <= Self.capacity, "a session reads 0...\(Self.capacity) trackers")
        self.count = count
        storage = InlineArray(repeating: TrackerSample())
    }

    public subscript(index: Int) -> TrackerSample {
        get {
            precondition(index >= 0 && index < count, "tracker index out of range")
            return storage[index]
        }
        set {
            precondition(index >= 0 && index < count, "tracker index out of range")
            storage[index] = newValue
        }
        // In place, as `JointList` (which documents the miscompile this avoids).
        _modify {
            precondition(index >= 0 && index < count, "tracker index out of range")
            yield &storage[index]
        }
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for index in 0..<lhs.count where lhs.storage[index] != rhs.storage[index] { return false }
        return true
    }
}
