import Primitives
import SimulatorKit
import Wire

/// A BNO08x (BNO080/085/086) strapped for UART-RVC, in software (protocols/bno08x-rvc/README.md): after power-up its
/// start-up banner, then one 19-byte report every 10 ms, forever, whatever the host does. It is a
/// `FirmwareSimulator`, so the same object runs behind `InProcessDeviceLink` on a virtual clock (tests) and behind
/// `RealTimeDeviceHost` on a pseudo-terminal (`rehabsim`).
///
/// Each report (README §3, §4, §6), for the sample at time t = power-up + k × 10 ms (k ≥ 1):
/// - index: +1 per report, wrapping 255 → 0, from 0 after power-up;
/// - yaw, pitch, roll: intrinsic Z-Y-X angles of the reported orientation (`TrackerSimulatorConfiguration`'s model)
///   in the frame whose heading is the sensor's at power-up ("yaw since reset"): pitch and roll against gravity, yaw
///   relative; encoded by `BNO08xRVC.Frame(index:yawRadians:…)` (0.01°, wrapped, clamped, rounded as README §6 says);
/// - acceleration: the specific force along the sensor's axes, gravity included (README §4, A4), in mg;
/// - MI, MR and the reserved byte 0 (a BNO080/BNO085).
///
/// Wire time: the report goes onto the line at its sample time (after whatever is still being sent) and is readable
/// as a whole when its last byte is over, 19 × 10 / 115 200 s = 1.65 ms later (`BNO08xRVC.frameTransmissionNanoseconds`).
/// The sensor has no receive line in this mode: the host's bytes are ignored (and counted). At a host rate other than
/// 115 200 bit/s every byte the host reads is garbage (`hostLineRateChanged`).
///
/// Events (`rehabsim --events`): `fault_injected` and `fault_injection_ended`. Nothing allocates after `init`.
public final class SimulatedBNO08xRVC {
    public let configuration: TrackerSimulatorConfiguration
    public let bootTime: MonotonicInstant
    public let model: String
    public let serialNumber: String
    public private(set) var now: MonotonicInstant
    /// Reports queued for the line since power-up (live and frozen ones).
    public private(set) var reportsSent = 0
    /// Bytes the host wrote (a sensor in UART-RVC mode reads none).
    public private(set) var ignoredHostBytes = 0
    /// When the sensor last powered up (boot, or an injected reset): its yaw's zero and index restart then.
    public private(set) var powerUpTime: MonotonicInstant

    let core: TrackerSensorCore
    private var encoded = BNO08xRVC.EncodedFrame()
    /// The last live report, repeated while frozen.
    private var lastLive = BNO08xRVC.EncodedFrame()
    private var hasSentLive = false
    private var index: UInt8 = 0
    private var nextSampleTime: MonotonicInstant
    /// Turns the world's heading into "yaw since reset": the inverse of the heading at power-up.
    private var headingZero = TrackerQuaternion.identity
    private let banner: UnsafeMutableRawBufferPointer
    private let bannerCount: Int

    /// A sensor described by `configuration` (its `sensor` must be `.bno08xRVC`) on a limb moving as `motion`, powered
    /// on at `bootTime`. Traps on a configuration with `problems`.
    public init(configuration: TrackerSimulatorConfiguration, motion: TrackerLimbMotion = .swing(), bootTime: MonotonicInstant) {
        precondition(configuration.sensor == .bno08xRVC, "SimulatedBNO08xRVC simulates a BNO08x, not \(configuration.sensor.rawValue)")
        core = TrackerSensorCore(configuration: configuration, motion: motion, bootTime: bootTime)
        self.configuration = configuration
        self.bootTime = bootTime
        model = configuration.model
        serialNumber = configuration.serialNumber
        now = bootTime
        powerUpTime = bootTime
        nextSampleTime = bootTime
        let text = Array(configuration.startupBanner.utf8)
        banner = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, text.count), alignment: 1)
        banner.initializeMemory(as: UInt8.self, repeating: 0)
        for (offset, byte) in text.enumerated() { banner[offset] = byte }
        bannerCount = text.count
        // Encode one report before the first is due: what the Swift runtime sets up on first use happens here.
        BNO08xRVC.FrameEncoder.encode(
            BNO08xRVC.Frame(
                index: 0, yawRadians: 0, pitchRadians: 0, rollRadians: 0, accelerationXMetersPerSecondSquared: 0,
                accelerationYMetersPerSecondSquared: 0, accelerationZMetersPerSecondSquared: 0),
            into: &encoded)
        powerUp(at: bootTime)
    }

    deinit {
        banner.deallocate()
    }

    // MARK: Observation

    /// What the limb carrying the sensor does.
    public var motion: TrackerLimbMotion { core.motion }

    /// Reports that did not fit the transmit queue (none unless the host never reads).
    public var droppedReports: Int { core.line.droppedFrames }

    /// True while the host's line rate differs from 115 200 bit/s: it reads garbage.
    public var hostReceivesGarbage: Bool { !core.hostUnderstands }

    /// The sample time of the next report.
    public var nextReportSampleTime: MonotonicInstant { nextSampleTime }

    // MARK: Driving the sensor

    /// Bytes from the host: a sensor in UART-RVC mode has no receive line; they are counted and ignored.
    public func receive(_ bytes: UnsafeRawBufferPointer, at time: MonotonicInstant) {
        advance(to: time)
        ignoredHostBytes += bytes.count
    }

    /// Runs the sensor up to `time`: one report per 10 ms sample due by then.
    public func advance(to time: MonotonicInstant) {
        while nextSampleTime <= time {
            if nextSampleTime > now { now = nextSampleTime }
            report(at: nextSampleTime)
            nextSampleTime = nextSampleTime.advanced(byNanoseconds: BNO08xRVC.framePeriodNanoseconds)
        }
        if time > now { now = time }
    }

    /// The next sample, or a report's last byte being over, whichever comes first.
    public var nextDeadline: MonotonicInstant? {
        var deadline = nextSampleTime
        if let ready = core.line.nextReadyTime(after: now) { deadline = min(deadline, ready) }
        return deadline > now ? deadline : nil
    }

    /// True when a report (or the banner) has arrived whole and `popOutput` has not taken it yet.
    public var hasOutput: Bool { core.line.hasOutput(at: now) }

    /// Moves the bytes that have arrived, oldest first, into `buffer`; garbage at a wrong host rate.
    public func popOutput(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        core.popOutput(into: buffer, at: now)
    }

    // MARK: Implementation

    /// Power-up (boot, or an injected reset) at `time`: the banner, the index from 0, yaw's zero at the present
    /// heading, the first report one period later.
    func powerUp(at time: MonotonicInstant) {
        powerUpTime = time
        index = 0
        hasSentLive = false
        if bannerCount > 0 { core.line.send(UnsafeRawBufferPointer(rebasing: banner[0..<bannerCount]), readyAt: time) }
        // The heading the sensor has now (drift included, noise not) becomes yaw 0.
        let orientation = core.noiselessReportedOrientation(at: time)
        headingZero = TrackerQuaternion(
            axis: TrackerVector3(x: 0, y: 0, z: 1), angleRadians: -orientation.yawPitchRollRadians.yaw)
        nextSampleTime = time.advanced(byNanoseconds: BNO08xRVC.framePeriodNanoseconds)
    }

    /// One report for the sample at `time`: live, or the last live one again while frozen. The reading is taken
    /// either way, so that the noise after a freeze is what it would have been without it.
    private func report(at time: MonotonicInstant) {
        let reading = core.reading(at: time)
        let sentIndex = index
        index &+= 1
        reportsSent += 1
        if core.isFrozen && hasSentLive {
            lastLive.withUnsafeBytes { _ = core.line.send($0, readyAt: time) }
            return
        }
        let angles = (headingZero * reading.reportedOrientation).yawPitchRollRadians
        let a = reading.accelerationMetersPerSecondSquared
        let frame = BNO08xRVC.Frame(
            index: sentIndex, yawRadians: angles.yaw, pitchRadians: angles.pitch, rollRadians: angles.roll,
            accelerationXMetersPerSecondSquared: a.x, accelerationYMetersPerSecondSquared: a.y, accelerationZMetersPerSecondSquared: a.z)
        BNO08xRVC.FrameEncoder.encode(frame, into: &encoded)
        encoded.withUnsafeBytes { _ = core.line.send($0, readyAt: time) }
        lastLive = encoded
        hasSentLive = true
    }
}
