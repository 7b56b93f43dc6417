import DeviceModel
import Primitives
import Profiles
import Transport
import Wire

/// The BNO08x in UART-RVC mode on the host (protocols/bno08x-rvc/README.md): nothing to configure —
/// the module streams 19-byte frames at 100 Hz from power-up — so set-up listens for valid frames and
/// reading decodes them. The orientation comes from yaw, pitch and roll (Z-Y-X); the index counter
/// (0 … 255) is unwrapped into the frame counter, and counts the module's 10 ms periods: the sample's clock.
public final class BNO08xTrackerProtocol: TrackerProtocol {
    private var decoder = BNO08xRVC.FrameDecoder()
    private var lastIndex: UInt8?
    private var counter: UInt32 = 0

    public init() {}

    public var frameBytes: Int { BNO08xRVC.frameBytes }
    public var checksumErrors: Int { Int(clamping: decoder.statistics.checksumErrors) }
    public var discardedBytes: Int { Int(clamping: decoder.statistics.discardedBytes) }

    public func configure(link: ByteLink, clock: LoopClock, profile: TrackerProfile) throws(DeviceSetupFailure) -> String {
        guard profile.rateHertz == Double(BNO08xRVC.framesPerSecond) else {
            throw DeviceSetupFailure(port: link.name, reason: "\(profile.name): UART-RVC streams at \(BNO08xRVC.framesPerSecond) Hz only, the profile says \(profile.rateHertz) Hz")
        }
        // Listen for one second: a module in RVC mode (PS0 high) sends 100 frames in that time.
        let deadline = clock.now().advanced(byNanoseconds: Nanoseconds.perSecond)
        var frames = 0
        var last: BNO08xRVC.Frame?
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 1)
        defer { buffer.deallocate() }
        do throws(TransportError) {
            while frames < 3 && clock.now() < deadline {
                guard try link.waitReadable(until: deadline) else { break }
                let count = try link.readAvailable(into: buffer)
                decoder.push(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { frame in
                    frames += 1
                    last = frame
                }
            }
        } catch {
            throw DeviceSetupFailure(port: link.name, reason: "\(error)")
        }
        guard frames >= 3, let last else {
            let statistics = decoder.statistics
            throw DeviceSetupFailure(
                port: link.name,
                reason: "\(profile.name): \(frames) UART-RVC frames in 1 s (\(statistics.bytesReceived) bytes, \(statistics.checksumErrors) checksum errors): is the module in RVC mode (PS0 high), at \(profile.baudRateBitsPerSecond) bit/s, powered?")
        }
        lastIndex = last.index
        return "BNO08x UART-RVC, streaming (index \(last.index))"
    }

    public func consume(_ bytes: UnsafeRawBufferPointer, receivedAt: MonotonicInstant, _ body: (TrackerMeasurement) -> Void) {
        decoder.push(bytes) { frame in
            if let lastIndex { counter &+= UInt32(BNO08xRVC.framesAdvanced(from: lastIndex, to: frame.index)) }
            lastIndex = frame.index
            var measurement = TrackerMeasurement()
            measurement.frameCounter = counter
            // The index counts the module's 100 Hz periods: a clock that dates a frame read late (a
            // reader held up, an adapter's latency timer) as old as it is.
            measurement.deviceTimeNanoseconds = Int64(counter) * BNO08xRVC.framePeriodNanoseconds
            measurement.orientation = Orientation.fromYawPitchRoll(yaw: frame.yawRadians, pitch: frame.pitchRadians, roll: frame.rollRadians)
            measurement.sensorFault = !frame.isWithinDocumentedRanges
            body(measurement)
        }
    }
}
