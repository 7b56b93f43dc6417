import Primitives
import SimulatorKit
import Wire

/// An Xsens MTi IMU speaking Xbus with MTData2 output, in software (protocols/xsens/README.md): the device end of
/// §3, §4 and §6, built on the Wire codec (`Xsens.FrameDecoder` for the host's messages, `Xsens.FrameEncoder` for its
/// own). It is a `FirmwareSimulator`, so the same object runs behind `InProcessDeviceLink` on a virtual clock (tests)
/// and behind `RealTimeDeviceHost` on a pseudo-terminal (`rehabsim`).
///
/// States (README §3.1, §3.2):
/// - **power-up**: it sends WakeUp. A WakeUpAck within `wakeUpAckWindowNanoseconds` (500 ms) of the WakeUp's last
///   byte, or a GoToConfig (acknowledged), puts it in Config; without either it enters Measurement with the output
///   configuration it has stored (at first power-up the six items of README §5.2 at `rateHertz`);
/// - **Config**: GoToConfig → GoToConfigAck; ReqDID → DeviceID (4 bytes); ReqProductCode → ProductCode (unpadded);
///   ReqFWRev → FirmwareRev (11 bytes, or 3 without build and SVN revision); ReqOutputConfiguration (0xC0 without
///   data) → OutputConfiguration; SetOutputConfiguration → OutputConfiguration with the configuration as used
///   (`XsensOutputPlan` says what it accepts), or Error 0x21 (invalid parameter); GoToMeasurement →
///   GoToMeasurementAck, then MTData2. And what Xsens's MT SDK asks while opening the port (README §3.8): InitMT →
///   InitMTResults (the device ID); ReqConfiguration (any data) → Configuration (118 bytes, `configurationRecord`);
///   ReqHardwareVersion → HardwareVersion 1.0; ReqAvailableFilterProfiles → the five profiles of an MTi-300
///   (`filterProfiles`); SetStringOutputType 0 → its ack (no NMEA strings: any other type is Error 0x21),
///   ReqStringOutputType → 0; ReqEMTS → EMTSData without data (the simulator has no calibration data);
/// - **Measurement**: MTData2 at the configured rate; GoToConfig → the frames already on the line, then
///   GoToConfigAck (README §5.3: "its ack … arrives after the last MTData2");
/// - anything else — a message not accepted in the state, a device-to-host MID, a MID outside the subset, a known
///   MID with a length it cannot have — is answered with Error 0x04 (invalid message), except a
///   SetOutputConfiguration of a length that is not a whole number of entries (or more than 32) in Config: 0x21
///   (README §6). A frame that fails its checksum is not answered (README §2.4).
///
/// MTData2 (README §4.2, §4.4): the internal clock ticks at `maximumOutputRateHertz` from power-up; a frame goes out at
/// every tick where an item with a frequency of its own is due, with those items and the ones configured with every
/// sample (0xFFFF). PacketCounter counts frames, from 0 at each entry into Measurement (a simulator choice), wrapping at
/// 65 536; SampleTimeFine is the tick's time since power-up in 100 µs; Quaternion is the reported orientation in ENU
/// (or NED, NWU as configured); Acceleration (gravity included) and RateOfTurn are in the sensor frame; StatusWord is
/// 0x00000003 (self test, orientation valid), 0x00083F01 while `tracker_clipping` is injected. The output
/// configuration is kept across a reset, as a real MTi stores it.
///
/// Wire time: the host's bytes take 10 bit times each at the line's rate and a message is handled
/// `replyLatencyNanoseconds` after its last byte; each frame the MTi sends goes onto the line when it is ready (after
/// whatever is still being sent) and is readable as a whole once its last byte is over: an MTData2 frame at its
/// sample time + n × 10 / baud. A sample whose frame would wait more than `transmitBacklogLimitNanoseconds` for the
/// line is skipped (counted in `skippedSamples`; PacketCounter still counts it). At a host rate other than
/// `baudRateBitsPerSecond` (beyond the tolerance) the host's bytes are not understood and every byte the host reads
/// is garbage (`hostLineRateChanged`).
///
/// Events (`rehabsim --events`): `fault_injected` and `fault_injection_ended`. Nothing allocates after `init`.
public final class SimulatedXsensIMU {
    /// The MTi's state (README §3.1).
    public enum State: String, Sendable, Equatable {
        /// After power-up, waiting for WakeUpAck.
        case wakingUp = "waking_up"
        case config
        case measurement
    }

    public let configuration: TrackerSimulatorConfiguration
    public let bootTime: MonotonicInstant
    public let model: String
    public let serialNumber: String
    public private(set) var now: MonotonicInstant
    public private(set) var state: State = .wakingUp
    /// When the MTi first entered Measurement (by GoToMeasurement, or at the end of the WakeUp window).
    public private(set) var firstEnableTime: MonotonicInstant?
    /// Host messages the MTi acknowledged since it first entered Measurement.
    public private(set) var appliedCommandCount = 0
    /// When the MTi last powered up (boot, or an injected reset): SampleTimeFine counts from then.
    public private(set) var powerUpTime: MonotonicInstant
    /// MTData2 frames queued for the line (live and frozen ones).
    public private(set) var packetsSent = 0
    /// Samples dropped because the line could not carry them (the output needs more than the baud rate gives).
    public private(set) var skippedSamples = 0
    /// Host bytes the MTi could not understand (a wrong host rate), and bytes that did not fit its input queue.
    public private(set) var ignoredHostBytes = 0
    public private(set) var droppedInputBytes = 0

    let core: TrackerSensorCore
    private var plan: XsensOutputPlan
    private var decoder = Xsens.FrameDecoder()
    private var encoded = Xsens.EncodedFrame()
    private let productCode: FixedASCII<20>
    /// The data of OutputConfiguration: 4 bytes per entry, at most 32 entries.
    private let outputEntries: UnsafeMutableRawBufferPointer
    /// The data of Configuration and of AvailableFilterProfiles: fixed for the device, written once (README §3.8).
    private let configurationData: UnsafeMutableRawBufferPointer
    private let filterProfileData: UnsafeMutableRawBufferPointer
    private var wakeUpDeadline: MonotonicInstant?
    /// The internal tick of the next frame; `Int64.max` while not measuring.
    private var nextFrameTick = Int64.max
    private var packetCounter: UInt16 = 0
    /// The last live sample, repeated while frozen.
    private var lastLive: Xsens.MTData2Sample?

    // The host's bytes on their way, each with the moment the MTi handles it (its arrival + the reply latency) [ns].
    private static let inputCapacity = 4_096
    private let inputBytes: UnsafeMutableBufferPointer<UInt8>
    private let inputHandledAt: UnsafeMutableBufferPointer<Int64>
    private var inputHead = 0
    private var inputCount = 0
    /// When the last byte the host has written will have arrived.
    private var inputLineFreeAt: MonotonicInstant

    /// The StatusWord bits (README §5.6): self test OK and orientation valid; and while clipping, self test OK,
    /// accelerometer X/Y/Z and gyroscope X/Y/Z clipping and "clipping detected", orientation not valid.
    public static let normalStatusWord: UInt32 = 0x0000_0003
    public static let clippingStatusWord: UInt32 = 0x0008_3F01

    /// An MTi described by `configuration` (its `sensor` must be `.xsensMTi`) on a limb moving as `motion`, powered on
    /// at `bootTime`. Traps on a configuration with `problems`.
    public init(configuration: TrackerSimulatorConfiguration, motion: TrackerLimbMotion = .swing(), bootTime: MonotonicInstant) {
        precondition(configuration.sensor == .xsensMTi, "SimulatedXsensIMU simulates an Xsens MTi, not \(configuration.sensor.rawValue)")
        core = TrackerSensorCore(configuration: configuration, motion: motion, bootTime: bootTime)
        guard let plan = XsensOutputPlan(configuration.xsensPowerUpOutputConfiguration, maximumRateHertz: configuration.maximumOutputRateHertz)
        else { preconditionFailure("the MTi's power-up output configuration is not one it accepts") }
        self.plan = plan
        self.configuration = configuration
        self.bootTime = bootTime
        model = configuration.model
        serialNumber = configuration.serialNumber
        productCode = FixedASCII<20>(configuration.model)
        now = bootTime
        powerUpTime = bootTime
        inputLineFreeAt = bootTime
        inputBytes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: Self.inputCapacity)
        inputBytes.initialize(repeating: 0)
        inputHandledAt = UnsafeMutableBufferPointer<Int64>.allocate(capacity: Self.inputCapacity)
        inputHandledAt.initialize(repeating: 0)
        outputEntries = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 * Xsens.OutputConfiguration.capacity, alignment: 1)
        outputEntries.initializeMemory(as: UInt8.self, repeating: 0)
        configurationData = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.configurationRecordBytes, alignment: 1)
        configurationData.copyBytes(from: Self.configurationRecord(deviceID: configuration.deviceID, firmware: configuration.firmwareRevision))
        filterProfileData = UnsafeMutableRawBufferPointer.allocate(byteCount: 22 * Self.filterProfiles.count, alignment: 1)
        filterProfileData.copyBytes(from: Self.filterProfileRecords())
        primeReceiver()
        powerUp(at: bootTime)
    }

    deinit {
        inputBytes.deallocate()
        inputHandledAt.deallocate()
        outputEntries.deallocate()
        configurationData.deallocate()
        filterProfileData.deallocate()
    }

    // MARK: What the MT SDK reads while opening the port (README §3.8)

    /// The length of Configuration for one device: 98 bytes, then 20 for the device.
    public static let configurationRecordBytes = 118

    /// The filter profiles of an MTi-300 AHRS (number, label), README §3.8; the first one is in use.
    public static let filterProfiles: [(number: UInt8, label: String)] = [
        (39, "general"), (40, "high_mag_dep"), (41, "dynamic"), (42, "low_mag_dep"), (43, "vru_general"),
    ]

    /// The data of Configuration (MID 0x0D) as a real MTi-300 sends it (README §3.8), with this device's ID and firmware:
    /// master device ID (u32), sample period 1152 (u16, the legacy 100 Hz in 1/115 200 s), output skip factor 0, 88
    /// zero bytes, number of devices 1 (u16), then the device: its ID (u32), data length 0 (u16), output mode 0
    /// (u16), output settings 1 (u32), filter profile 39 (u16), firmware major, minor, revision, filter type "I" and
    /// filter version 5.1. Every word big-endian. Built once, at `init`.
    public static func configurationRecord(deviceID: UInt32, firmware: Xsens.FirmwareRevision) -> [UInt8] {
        var record = [UInt8](repeating: 0, count: configurationRecordBytes)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            let size = T.bitWidth / 8
            for index in 0..<size {
                record[offset + index] = UInt8(truncatingIfNeeded: UInt64(truncatingIfNeeded: value) >> UInt64(8 * (size - 1 - index)))
            }
        }
        put(deviceID, at: 0)
        put(UInt16(1_152), at: 4)
        put(UInt16(1), at: 96)
        put(deviceID, at: 98)
        put(UInt32(1), at: 106)
        put(UInt16(filterProfiles[0].number), at: 110)
        record[112] = firmware.major
        record[113] = firmware.minor
        record[114] = firmware.revision
        record[115] = UInt8(ascii: "I")
        record[116] = 5
        record[117] = 1
        return record
    }

    /// The data of AvailableFilterProfiles (MID 0x63): per profile its number (the type), version 1 and its label
    /// padded with NULs to 20 bytes.
    public static func filterProfileRecords() -> [UInt8] {
        var records: [UInt8] = []
        for profile in filterProfiles {
            records.append(profile.number)
            records.append(1)
            let label = Array(profile.label.utf8.prefix(20))
            records.append(contentsOf: label)
            records.append(contentsOf: [UInt8](repeating: 0, count: 20 - label.count))
        }
        return records
    }

    // MARK: Observation

    /// What the limb carrying the sensor does.
    public var motion: TrackerLimbMotion { core.motion }

    /// The output configuration in use (what ReqOutputConfiguration answers).
    public var outputConfiguration: Xsens.OutputConfiguration { plan.accepted }

    /// The rate of the output configuration in use: its highest item frequency [Hz].
    public var outputRateHertz: Int { plan.highestFrequencyHertz(maximumRateHertz: configuration.maximumOutputRateHertz) }

    /// What the MTi's receiver made of the host's bytes (README §7).
    public var decoderStatistics: Xsens.DecoderStatistics { decoder.statistics }

    /// Frames that did not fit the transmit queue (none unless the host never reads).
    public var droppedFrames: Int { core.line.droppedFrames }

    /// True while the host's line rate differs from the MTi's: they do not understand each other.
    public var hostReceivesGarbage: Bool { !core.hostUnderstands }

    // MARK: Driving the MTi

    /// Bytes the host writes at `time`: they go onto the line at its rate, after the bytes written before; the MTi
    /// handles each message `replyLatencyNanoseconds` after its last byte. At a wrong host rate they are not understood.
    public func receive(_ bytes: UnsafeRawBufferPointer, at time: MonotonicInstant) {
        advance(to: time)
        guard core.hostUnderstands else {
            ignoredHostBytes += bytes.count
            return
        }
        let start = max(time, inputLineFreeAt)
        var queued = 0
        for byte in bytes {
            guard inputCount < Self.inputCapacity else {
                droppedInputBytes += 1
                continue
            }
            queued += 1
            let arrival = start.advanced(byNanoseconds: core.line.wireNanoseconds(bytes: queued))
            let slot = (inputHead + inputCount) % Self.inputCapacity
            inputBytes[slot] = byte
            inputHandledAt[slot] = arrival.advanced(byNanoseconds: configuration.replyLatencyNanoseconds).nanoseconds
            inputCount += 1
            inputLineFreeAt = arrival
        }
        advance(to: time)
    }

    /// Runs the MTi up to `time`: the host's bytes as they are handled, the end of the WakeUp window, samples.
    public func advance(to time: MonotonicInstant) {
        while true {
            var next = MonotonicInstant(nanoseconds: .max)
            var action = Pending.none
            if inputCount > 0 {
                next = MonotonicInstant(nanoseconds: inputHandledAt[inputHead])
                action = .input
            }
            if let deadline = wakeUpDeadline, deadline < next {
                next = deadline
                action = .wakeUpExpired
            }
            if nextFrameTick != .max {
                let sampleTime = tickTime(nextFrameTick)
                if sampleTime < next {
                    next = sampleTime
                    action = .sample
                }
            }
            guard action != .none, next <= time else { break }
            if next > now { now = next }
            switch action {
            case .input:
                consumeInputByte()
            case .wakeUpExpired:
                // README §3.1: no WakeUpAck in time, so the MTi measures with the configuration it has.
                wakeUpDeadline = nil
                startMeasuring(at: next)
            case .sample:
                let tick = nextFrameTick
                sample(atTick: tick)
                nextFrameTick = plan.nextFrameTick(from: tick + 1)
            case .none:
                break
            }
        }
        if time > now { now = time }
    }

    /// The next moment the MTi acts or a frame of it is over on the line.
    public var nextDeadline: MonotonicInstant? {
        var deadline: MonotonicInstant?
        if inputCount > 0 { deadline = earliest(deadline, MonotonicInstant(nanoseconds: inputHandledAt[inputHead])) }
        if let wakeUp = wakeUpDeadline { deadline = earliest(deadline, wakeUp) }
        if nextFrameTick != .max { deadline = earliest(deadline, tickTime(nextFrameTick)) }
        if let ready = core.line.nextReadyTime(after: now) { deadline = earliest(deadline, ready) }
        return deadline
    }

    /// True when a frame has arrived whole and `popOutput` has not taken it yet.
    public var hasOutput: Bool { core.line.hasOutput(at: now) }

    /// Moves the bytes that have arrived, oldest first, into `buffer`; garbage at a wrong host rate.
    public func popOutput(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        core.popOutput(into: buffer, at: now)
    }

    // MARK: Implementation

    private enum Pending {
        case none
        case input
        case wakeUpExpired
        case sample
    }

    private func earliest(_ deadline: MonotonicInstant?, _ candidate: MonotonicInstant) -> MonotonicInstant? {
        guard candidate > now else { return deadline }
        guard let deadline else { return candidate }
        return min(deadline, candidate)
    }

    /// The moment of internal tick `tick` since power-up.
    private func tickTime(_ tick: Int64) -> MonotonicInstant {
        powerUpTime.advanced(byNanoseconds: tick * Nanoseconds.perSecond / Int64(configuration.maximumOutputRateHertz))
    }

    /// The first internal tick at or after `time`.
    private func firstTick(atOrAfter time: MonotonicInstant) -> Int64 {
        let elapsed = max(0, time.nanoseconds(since: powerUpTime))
        let rate = Int64(configuration.maximumOutputRateHertz)
        return (elapsed * rate + Nanoseconds.perSecond - 1) / Nanoseconds.perSecond
    }

    /// Runs one host message through a scratch decoder, so that what the Swift runtime sets up on first use (type
    /// metadata of the decoder's results) is set up here, not when the host's first message arrives.
    private func primeReceiver() {
        var scratch = Xsens.FrameDecoder()
        Xsens.FrameEncoder.goToConfig(into: &encoded)
        var seen = 0
        encoded.withUnsafeBytes { bytes in
            for byte in bytes {
                var result = scratch.push(byte)
                while let complete = result {
                    if case .message(let message) = complete, message.messageID == .goToConfig { seen += 1 }
                    result = scratch.next()
                }
            }
        }
        assert(seen == 1, "the codec decodes its own GoToConfig")
    }

    /// Power-up (boot, or an injected reset) at `time`: WakeUp, and its window.
    func powerUp(at time: MonotonicInstant) {
        powerUpTime = time
        state = .wakingUp
        nextFrameTick = .max
        packetCounter = 0
        lastLive = nil
        decoder.reset()
        inputHead = 0
        inputCount = 0
        inputLineFreeAt = time
        Xsens.FrameEncoder.wakeUp(into: &encoded)
        let sent = transmit(readyAt: time) ?? time
        wakeUpDeadline = sent.advanced(byNanoseconds: configuration.wakeUpAckWindowNanoseconds)
    }

    private func startMeasuring(at time: MonotonicInstant) {
        state = .measurement
        packetCounter = 0
        nextFrameTick = plan.nextFrameTick(from: firstTick(atOrAfter: time))
        if firstEnableTime == nil { firstEnableTime = time }
    }

    /// Queues `encoded` for the line, ready at `readyAt`; returns when it will have arrived (nil: queue full).
    @discardableResult
    private func transmit(readyAt: MonotonicInstant) -> MonotonicInstant? {
        encoded.withUnsafeBytes { core.line.send($0, readyAt: readyAt) }
    }

    private func consumeInputByte() {
        let byte = inputBytes[inputHead]
        inputHead = (inputHead + 1) % Self.inputCapacity
        inputCount -= 1
        var result = decoder.push(byte)
        while let complete = result {
            handle(complete)
            result = decoder.next()
        }
    }

    private func handle(_ result: Xsens.DecodeResult) {
        switch result {
        case .rejected(let rejection):
            // README §6: a SetOutputConfiguration that is not whole entries, or more than 32, is an invalid parameter
            // where the MTi takes configurations; every other rejected frame is an invalid message.
            if rejection.messageID == .setOutputConfiguration && rejection.reason == .badLength && state == .config {
                sendError(.invalidParameter)
            } else {
                sendError(.invalidMessage)
            }
        case .message(let message):
            handle(message)
        }
    }

    private func handle(_ message: Xsens.Message) {
        let id = message.messageID
        if id == .goToConfig {
            wakeUpDeadline = nil
            nextFrameTick = .max
            state = .config
            Xsens.FrameEncoder.goToConfigAck(into: &encoded)
            acknowledge()
            return
        }
        switch state {
        case .wakingUp:
            if id == .wakeUpAck {
                // README §3.1: the MTi enters Config; WakeUpAck itself is not answered.
                wakeUpDeadline = nil
                state = .config
            } else {
                sendError(.invalidMessage)
            }
        case .measurement:
            sendError(.invalidMessage)
        case .config:
            handleInConfig(message)
        }
    }

    private func handleInConfig(_ message: Xsens.Message) {
        switch message.messageID {
        case .requestDeviceID:
            Xsens.FrameEncoder.deviceID(configuration.deviceID, into: &encoded)
        case .requestProductCode:
            Xsens.FrameEncoder.productCode(productCode, into: &encoded)
        case .requestFirmwareRevision:
            Xsens.FrameEncoder.firmwareRevision(configuration.firmwareRevision, into: &encoded)
        case .initMT:
            Xsens.FrameEncoder.initMTResults(configuration.deviceID, into: &encoded)
        case .requestConfiguration:
            // Any data is ignored: the MT SDK sends the 2 bytes of its ReqEMTS along (README §3.8).
            encodeFixed(.configuration, UnsafeRawBufferPointer(configurationData))
        case .requestHardwareVersion:
            Xsens.FrameEncoder.hardwareVersion(major: 1, minor: 0, into: &encoded)
        case .requestAvailableFilterProfiles:
            encodeFixed(.availableFilterProfiles, UnsafeRawBufferPointer(filterProfileData))
        case .setStringOutputType:
            if message.payload.isEmpty {
                Xsens.FrameEncoder.stringOutputType(0, into: &encoded)
            } else if message.payload.bigEndian(UInt16.self, at: 0) == 0 {
                Xsens.FrameEncoder.setStringOutputTypeAck(into: &encoded)
            } else {
                // The simulated MTi sends no NMEA strings.
                return sendError(.invalidParameter)
            }
        case .requestEMTS:
            encodeFixed(.emtsData, UnsafeRawBufferPointer(start: nil, count: 0))
        case .setOutputConfiguration:
            if !message.payload.isEmpty {
                guard let requested = message.outputConfiguration,
                    let accepted = XsensOutputPlan(requested, maximumRateHertz: configuration.maximumOutputRateHertz)
                else { return sendError(.invalidParameter) }
                plan = accepted
            }
            encodeOutputConfiguration()
        case .goToMeasurement:
            Xsens.FrameEncoder.goToMeasurementAck(into: &encoded)
            acknowledge()
            // Samples from the ack on: the frames follow it on the line.
            startMeasuring(at: now)
            return
        default:
            return sendError(.invalidMessage)
        }
        acknowledge()
    }

    /// OutputConfiguration with the configuration in use, into `encoded`: its entries (data identifier and frequency,
    /// big-endian) written by index into `outputEntries`, then framed by the codec. Not
    /// `Xsens.FrameEncoder.outputConfigurationAck`: its `for … in` over the configuration allocates in a debug build
    /// (the standard library's unspecialised IndexingIterator), and the firmware must not.
    private func encodeOutputConfiguration() {
        let accepted = plan.accepted
        for index in 0..<accepted.count {
            let entry = accepted[index]
            outputEntries[4 * index] = UInt8(truncatingIfNeeded: entry.dataID.rawValue >> 8)
            outputEntries[4 * index + 1] = UInt8(truncatingIfNeeded: entry.dataID.rawValue)
            outputEntries[4 * index + 2] = UInt8(truncatingIfNeeded: entry.frequencyHertz >> 8)
            outputEntries[4 * index + 3] = UInt8(truncatingIfNeeded: entry.frequencyHertz)
        }
        do {
            try Xsens.FrameEncoder.frame(
                .outputConfiguration, payload: UnsafeRawBufferPointer(rebasing: outputEntries[0..<(4 * accepted.count)]), into: &encoded)
        } catch {
            // At most 32 entries, 128 bytes: always fits.
        }
    }

    /// `messageID` with `data` (written at `init`) into `encoded`.
    private func encodeFixed(_ messageID: Xsens.MessageID, _ data: UnsafeRawBufferPointer) {
        do {
            try Xsens.FrameEncoder.frame(messageID, payload: data, into: &encoded)
        } catch {
            // At most 118 bytes: always fits.
        }
    }

    /// Sends the reply in `encoded` now and counts the message as applied.
    private func acknowledge() {
        transmit(readyAt: now)
        if firstEnableTime != nil { appliedCommandCount += 1 }
    }

    private func sendError(_ code: Xsens.ErrorCode) {
        Xsens.FrameEncoder.error(code, into: &encoded)
        transmit(readyAt: now)
    }

    /// The MTData2 frame of internal tick `tick`: live, or the last live one again while frozen. The reading is
    /// taken either way, so that the noise after a freeze is what it would have been without it.
    private func sample(atTick tick: Int64) {
        let time = tickTime(tick)
        let reading = core.reading(at: time)
        let counter = packetCounter
        packetCounter &+= 1
        if core.line.backlogNanoseconds(at: time) > configuration.transmitBacklogLimitNanoseconds {
            skippedSamples += 1
            return
        }
        if core.isFrozen, let frozen = lastLive {
            Xsens.FrameEncoder.mtData2(frozen, precision: plan.precision, into: &encoded)
        } else {
            var sample = Xsens.MTData2Sample()
            if plan.includes(.packetCounter, tick: tick) { sample.packetCounter = counter }
            if plan.includes(.sampleTimeFine, tick: tick) {
                sample.sampleTimeFine = UInt32(truncatingIfNeeded: time.nanoseconds(since: powerUpTime) / 100_000)
            }
            if plan.includes(.quaternion, tick: tick) {
                let q = Self.fromENU(plan.coordinateSystem) * reading.reportedOrientation
                sample.quaternion = Xsens.Quaternion(w: q.w, x: q.x, y: q.y, z: q.z, coordinateSystem: plan.coordinateSystem)
            }
            if plan.includes(.acceleration, tick: tick) {
                let a = reading.accelerationMetersPerSecondSquared
                sample.accelerationMetersPerSecondSquared = Xsens.Vector3(x: a.x, y: a.y, z: a.z)
            }
            if plan.includes(.rateOfTurn, tick: tick) {
                let w = reading.rateOfTurnRadiansPerSecond
                sample.rateOfTurnRadiansPerSecond = Xsens.Vector3(x: w.x, y: w.y, z: w.z)
            }
            if plan.includes(.statusWord, tick: tick) {
                sample.statusWord = core.isClipping ? Self.clippingStatusWord : Self.normalStatusWord
            }
            lastLive = sample
            Xsens.FrameEncoder.mtData2(sample, precision: plan.precision, into: &encoded)
        }
        transmit(readyAt: time)
        packetsSent += 1
    }

    /// The rotation from ENU coordinates to `frame`'s (README §4.1 bits 3-2): NED swaps east and north and turns up
    /// down (180° about the north-east diagonal), NWU turns −90° about up.
    private static func fromENU(_ frame: Xsens.CoordinateSystem) -> TrackerQuaternion {
        let half = 0.5.squareRoot()
        switch frame {
        case .eastNorthUp: return .identity
        case .northEastDown: return TrackerQuaternion(w: 0, x: half, y: half, z: 0)
        case .northWestUp: return TrackerQuaternion(w: half, x: 0, y: 0, z: -half)
        }
    }
}
