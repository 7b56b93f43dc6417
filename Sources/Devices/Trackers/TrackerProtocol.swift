import DeviceModel
import Primitives
import Profiles
import Transport

/// One reading a tracker protocol decoded from its line, before the mounting and the neutral pose turn
/// it into a joint angle: what the sensor said, in SI units (the protocol's own units end in its adapter).
public struct TrackerMeasurement: Sendable, Equatable {
    /// The sensor's frame counter, extended to 32 bits (a BNO08x index counts to 255, an MTi packet
    /// counter to 65 535: the adapter unwraps them).
    public var frameCounter: UInt32 = 0
    /// The sensor's own clock at the sample [ns] (MTi SampleTimeFine, NDI frame number × period); nil
    /// for a sensor without one (BNO08x RVC).
    public var deviceTimeNanoseconds: Int64?
    /// The sensor's orientation in its reference frame, unit quaternion (w, x, y, z).
    public var orientation: SIMD4<Double>?
    /// A tool's position in the tracker's frame [m] (EM and optical trackers).
    public var positionMeters: SIMD3<Double>?
    /// False when the tool is missing, disabled or out of the measurement volume.
    public var visible = true
    /// The tracker's own fit error [mm] (0 where the sensor reports none).
    public var rmsErrorMillimeters = 0.0
    /// Flags the sensor raised that make the sample unusable (an MTi status word's clipping bits …).
    public var sensorFault = false

    public init() {}
}

/// What one tracker protocol does on the host: sets the sensor up over its line, then turns the bytes
/// it streams (or answers to a poll) into measurements. `configure` may block and allocate; `consume`
/// and `poll` run on the tracker's reader thread for every read and must not allocate.
public protocol TrackerProtocol: AnyObject {
    /// Identifies and configures the sensor (rate, items, tools) and starts it streaming; returns what
    /// it said it is ("MTi-3 id 0x03880001 firmware 1.8.2"). Throws with the reason for the operator.
    func configure(link: ByteLink, clock: LoopClock, profile: TrackerProfile) throws(DeviceSetupFailure) -> String
    /// Decodes `bytes` received at `receivedAt`; calls `body` with each measurement, oldest first.
    func consume(_ bytes: UnsafeRawBufferPointer, receivedAt: MonotonicInstant, _ body: (TrackerMeasurement) -> Void)
    /// A polled protocol's turn (NDI sends BX here); streaming protocols do nothing. False when the link failed.
    func poll(link: ByteLink, now: MonotonicInstant) -> Bool
    /// When a polled protocol wants its next turn (the reader waits for bytes at most until then); nil: no poll.
    var nextPollAt: MonotonicInstant? { get }
    /// The bytes of one frame on the wire (its transmission is part of a sample's age).
    var frameBytes: Int { get }
    /// Frames damaged on the line (checksum or CRC) and bytes thrown away, for the link's health.
    var checksumErrors: Int { get }
    var discardedBytes: Int { get }
    /// Puts the sensor back in a quiet state on `stop` (MTi: GoToConfig); best effort.
    func shutDown(link: ByteLink, clock: LoopClock)
}

extension TrackerProtocol {
    public func poll(link: ByteLink, now: MonotonicInstant) -> Bool { true }
    public var nextPollAt: MonotonicInstant? { nil }
    public func shutDown(link: ByteLink, clock: LoopClock) {}
}
