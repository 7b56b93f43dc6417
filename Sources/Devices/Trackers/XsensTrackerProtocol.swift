import DeviceModel
import Primitives
import Profiles
import Transport
import Wire

/// An Xsens MTi on the host (protocols/xsens/README.md): set-up goes to Config, asks who the device is
/// (DeviceID, ProductCode, FirmwareRev), sets the output to packet counter, SampleTimeFine, quaternion,
/// rate of turn, acceleration and status word at the profile's rate, and goes to Measurement; reading
/// decodes MTData2. SampleTimeFine (100 µs ticks) is the sensor's clock; the packet counter (16 bits)
/// is unwrapped; a status word without "orientation valid" (0x02) makes the sample unusable.
public final class XsensTrackerProtocol: TrackerProtocol {
    /// The bytes of one MTData2 frame with RehabHost's items in float32 (README §5.2): 73.
    public static let measurementFrameBytes = 73
    private var decoder = Xsens.FrameDecoder()
    private var lastPacketCounter: UInt16?
    private var counter: UInt32 = 0
    private var lastSampleTime: UInt32?
    private var sampleTimeWraps: Int64 = 0

    public init() {}

    public var frameBytes: Int { Self.measurementFrameBytes }
    public var checksumErrors: Int { Int(clamping: decoder.statistics.checksumErrors) }
    public var discardedBytes: Int { Int(clamping: decoder.statistics.discardedBytes) }

    /// The output configuration RehabHost asks for at `rateHertz`.
    public static func outputConfiguration(rateHertz: UInt16) -> Xsens.OutputConfiguration {
        var configuration = Xsens.OutputConfiguration()
        let every = Xsens.everySampleFrequency
        for (item, frequency) in [
            (Xsens.DataID.packetCounter, every), (.sampleTimeFine, every), (.quaternion, rateHertz), (.rateOfTurn, rateHertz),
            (.acceleration, rateHertz), (.statusWord, every),
        ] {
            _ = configuration.append(Xsens.OutputConfiguration.Entry(dataID: item, frequencyHertz: frequency))
        }
        return configuration
    }

    public func configure(link: ByteLink, clock: LoopClock, profile: TrackerProfile) throws(DeviceSetupFailure) -> String {
        let rate = profile.rateHertz
        guard rate == rate.rounded(), rate >= 1, rate <= 2_000 else {
            throw DeviceSetupFailure(port: link.name, reason: "\(profile.name): an MTi output rate is a whole number of hertz, not \(rate)")
        }
        var frame = Xsens.EncodedFrame()
        Xsens.FrameEncoder.goToConfig(into: &frame)
        // A measuring MTi may still send MTData2 before it acknowledges; a sleeping one needs a repeat.
        var configAck: Xsens.Message?
        for _ in 0..<3 where configAck == nil {
            configAck = try exchange(frame, expecting: .goToConfigAck, what: "GoToConfig", link: link, clock: clock, optional: true)
        }
        guard configAck != nil else {
            throw DeviceSetupFailure(
                port: link.name,
                reason: "\(profile.name): no GoToConfigAck to three GoToConfig (is it an MTi, at \(profile.baudRateBitsPerSecond) bit/s? \(decoder.statistics.bytesReceived) bytes, \(decoder.statistics.checksumErrors) checksum errors)")
        }
        Xsens.FrameEncoder.requestDeviceID(into: &frame)
        let id = try exchange(frame, expecting: .deviceID, what: "ReqDID", link: link, clock: clock)?.deviceID
        Xsens.FrameEncoder.requestProductCode(into: &frame)
        let product = try exchange(frame, expecting: .productCode, what: "ReqProductCode", link: link, clock: clock)?.productCode
        Xsens.FrameEncoder.requestFirmwareRevision(into: &frame)
        let firmware = try exchange(frame, expecting: .firmwareRevision, what: "ReqFWRev", link: link, clock: clock)?.firmwareRevision
        let wanted = Self.outputConfiguration(rateHertz: UInt16(rate))
        Xsens.FrameEncoder.setOutputConfiguration(wanted, into: &frame)
        let echo = try exchange(frame, expecting: .outputConfiguration, what: "SetOutputConfiguration", link: link, clock: clock)?.outputConfiguration
        guard let echo, echo == wanted else {
            throw DeviceSetupFailure(port: link.name, reason: "\(profile.name): the MTi did not take the output configuration (quaternion, rate of turn, acceleration at \(Int(rate)) Hz; counter, time, status with every sample)")
        }
        Xsens.FrameEncoder.goToMeasurement(into: &frame)
        _ = try exchange(frame, expecting: .goToMeasurementAck, what: "GoToMeasurement", link: link, clock: clock)
        let code = product.map { "\($0)".trimmingTrailingSpaces } ?? "MTi"
        return "\(code) id \(id.map { "0x" + String($0, radix: 16) } ?? "?") firmware \(firmware.map { "\($0)" } ?? "?")"
    }

    public func consume(_ bytes: UnsafeRawBufferPointer, receivedAt: MonotonicInstant, _ body: (TrackerMeasurement) -> Void) {
        decoder.push(bytes) { result in
            guard let message = result.decodedMessage, message.messageID == .mtData2, let data = message.mtData2Sample,
                let packetCounter = data.packetCounter
            else { return }
            if let last = lastPacketCounter { counter &+= UInt32(packetCounter &- last) }
            lastPacketCounter = packetCounter
            var measurement = TrackerMeasurement()
            measurement.frameCounter = counter
            if let ticks = data.sampleTimeFine {
                if let last = lastSampleTime, ticks < last { sampleTimeWraps += 1 }
                lastSampleTime = ticks
                measurement.deviceTimeNanoseconds = (sampleTimeWraps << 32 + Int64(ticks)) * 100_000
            }
            if let q = data.quaternion { measurement.orientation = Orientation.normalized(SIMD4(q.w, q.x, q.y, q.z)) }
            // Status word bit 0x02: orientation valid (README §5.6); clipping clears it. No status word, no
            // usable quaternion, or a damaged item: the frame does not vouch for its pose (README §5.4).
            let statusValid = data.statusWord.map { $0 & 0x02 != 0 } ?? false
            measurement.sensorFault = !statusValid || measurement.orientation == nil || data.malformedItemCount > 0 || data.isTruncated
            body(measurement)
        }
    }

    public func shutDown(link: ByteLink, clock: LoopClock) {
        var frame = Xsens.EncodedFrame()
        Xsens.FrameEncoder.goToConfig(into: &frame)
        _ = try? exchange(frame, expecting: .goToConfigAck, what: "GoToConfig", link: link, clock: clock, optional: true)
    }

    /// Writes `frame` and waits up to 500 ms for `expecting`; an Error message is refused with its
    /// explanation. `optional`: nil on silence instead of throwing.
    private func exchange(
        _ frame: Xsens.EncodedFrame, expecting: Xsens.MessageID, what: String, link: ByteLink, clock: LoopClock, optional: Bool = false
    ) throws(DeviceSetupFailure) -> Xsens.Message? {
        let deadline = clock.now().advanced(byNanoseconds: 500 * Nanoseconds.perMillisecond)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2_048, alignment: 1)
        defer { buffer.deallocate() }
        var found: Xsens.Message?
        var refusal: Xsens.ErrorCode?
        do throws(TransportError) {
            let bytes = frame.bytes
            buffer.copyBytes(from: bytes)
            try link.write(UnsafeRawBufferPointer(rebasing: buffer[0..<bytes.count]), deadline: deadline)
            while found == nil && refusal == nil {
                guard try link.waitReadable(until: deadline) else { break }
                let count = try link.readAvailable(into: buffer)
                decoder.push(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { result in
                    guard found == nil, refusal == nil, let message = result.decodedMessage else { return }
                    if message.messageID == expecting {
                        found = message
                    } else if message.messageID == .error {
                        refusal = message.errorCode
                    }
                }
            }
        } catch {
            throw DeviceSetupFailure(port: link.name, reason: "\(what): \(error)")
        }
        if let refusal { throw DeviceSetupFailure(port: link.name, reason: "the MTi refused \(what): \(refusal.explanation)") }
        if found == nil && !optional { throw DeviceSetupFailure(port: link.name, reason: "no answer to \(what) within 500 ms") }
        return found
    }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var text = self
        while let last = text.last, last == " " || last == "\0" { text.removeLast() }
        return text
    }
}
