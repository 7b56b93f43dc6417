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
    /// Set when this is no measurement but a report of the sensor about itself that makes its samples
    /// unusable from now on (it reset, it refused the poll): the tracker's sample stops being usable at
    /// once and keeps the age of the last real measurement; the other fields are not read.
    public var condition: TrackerCondition?

    public init() {}

    /// The report of `condition` (no measurement).
    public init(condition: TrackerCondition) {
        visible = false
        self.condition = condition
    }
}

/// Something a tracking sensor said about itself that makes its samples unusable at once, beside the
/// conditions a sample carries itself (a missing tool, a frozen counter). The operator reads it in
/// `SerialTracker.Figures` — `rehabctl track` and the session's tracker line — with the sensor's own code.
/// Built on the reader thread: `meaning` must be a literal (no allocation there).
public struct TrackerCondition: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// The sensor reset itself (a power glitch, a break on its line): it lost its set-up and gives no
        /// data until it is set up again — which a set-up does, never the driver by itself.
        case deviceReset = "device_reset"
        /// The sensor refused a request for data (NDI: ERRORxx in answer to BX); `deviceCode` is its code.
        case requestRefused = "request_refused"

        /// True when the sensor must be set up again before it can give data.
        public var requiresSetUp: Bool { self == .deviceReset }
    }

    public var kind: Kind
    /// The sensor's own code (NDI's xx of ERRORxx); 0 when it gives none.
    public var deviceCode: UInt32
    /// What the sensor's protocol says the condition or code means; empty when nothing.
    public var meaning: String

    public init(kind: Kind, deviceCode: UInt32 = 0, meaning: String = "") {
        self.kind = kind
        self.deviceCode = deviceCode
        self.meaning = meaning
    }

    /// "request_refused (device code 0x05: time-out on command execution)".
    public var description: String {
        var details: [String] = []
        if kind == .requestRefused || deviceCode != 0 {
            let hex = String(deviceCode, radix: 16, uppercase: true)
            details.append("device code 0x" + (hex.count < 2 ? "0" + hex : hex))
        }
        if !meaning.isEmpty { details.append(meaning) }
        return details.isEmpty ? kind.rawValue : "\(kind.rawValue) (\(details.joined(separator: ": ")))"
    }
}

/// What one tracker protocol does on the host: sets the sensor up over its line, then turns the bytes
/// it streams (or answers to a poll) into measurements. `configure` may block and allocate; `consume`
/// and `poll` run on the tracker's reader thread for every read and must not allocate.
public protocol TrackerProtocol: AnyObject {
    /// Identifies and configures the sensor (rate, items, tools) and starts it streaming; returns what
    /// it said it is ("MTi-3 id 0x03880001 firmware 1.8.2"). Throws with the reason for the operator.
    /// It may be called again after `shutDown`, or after the sensor reported a condition that needs a
    /// new set-up (`TrackerCondition.Kind.requiresSetUp`): it starts from nothing the last one knew.
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
    /// Polls the sensor did not answer in time (0 for a streaming protocol).
    var unansweredRequests: Int { get }
    /// Puts the sensor back in a quiet state on `stop` (MTi: GoToConfig); best effort.
    func shutDown(link: ByteLink, clock: LoopClock)
}

extension TrackerProtocol {
    public func poll(link: ByteLink, now: MonotonicInstant) -> Bool { true }
    public var nextPollAt: MonotonicInstant? { nil }
    public var unansweredRequests: Int { 0 }
    public func shutDown(link: ByteLink, clock: LoopClock) {}
}
