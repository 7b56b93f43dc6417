import DeviceModel
import Platform
import Primitives
import Transport
import Wire

/// The host end of RehabLink v1.1 (protocols/rehablink/README.md) over any `ByteLink`.
///
/// This is the device edge: wire integers (µrad, mN·m, …) become SI doubles here and nowhere else.
/// After `init`, the per-cycle calls use only preallocated storage.
public final class RehabLinkDevice: ActuatedDevice, ByteLinkDriver {
    public let link: ByteLink
    /// The clock of every deadline here: the real monotonic clock, or the virtual one in simulation.
    public let clock: LoopClock
    public let jointCount: Int
    /// How long set-up requests wait for their reply.
    public var requestTimeoutNanoseconds: Int64 = 200 * Nanoseconds.perMillisecond
    /// Set-up requests are sent this many times before the device counts as mute.
    public var requestAttempts = 3

    public private(set) var latestState: RobotState
    public private(set) var lastRoundTripNanoseconds: Int64?
    public private(set) var linkError: TransportError?
    /// Device-side errors (ERROR frames) received, and the last one.
    public private(set) var protocolErrorsReceived = 0
    public private(set) var lastProtocolError: RehabLink.ProtocolErrorReport?
    /// FAULT frames received, and the last one.
    public private(set) var faultReportsReceived = 0
    public private(set) var lastFaultReport: RehabLink.FaultReport?
    /// STATE frames discarded as stale (sequence not newer) or of the wrong shape.
    public private(set) var staleStates = 0
    public private(set) var malformedStates = 0

    public var name: String { link.name }

    /// RehabLink 1.1 devices: torque, velocity and impedance modes per joint; Cat 1 through the
    /// device's velocity loop; watchdog 1–100 ms; 1 µrad, 1 µrad/s and 1 mN·m on the wire.
    public let capabilities = DeviceCapabilities(
        controlModes: [.torque, .velocity, .localHold], torqueOff: .commandAllJointsOff, quickStop: .hostVelocityRamp,
        pause: .hostImpedanceHold,
        watchdogPeriodRangeNanoseconds: Int64(RehabLink.watchdogPeriodRangeMicroseconds.lowerBound) * Nanoseconds.perMicrosecond
            ... Int64(RehabLink.watchdogPeriodRangeMicroseconds.upperBound) * Nanoseconds.perMicrosecond,
        positionResolutionRadians: 1e-6, velocityResolutionRadiansPerSecond: 1e-6, torqueResolutionNewtonMeters: 1e-3,
        maximumJoints: RehabLink.maxJoints, holdsSafetyLimits: true)

    public var linkHealth: LinkHealth {
        var health = LinkHealth()
        let statistics = decoder.statistics
        health.checksumErrors = Int(clamping: statistics.crcErrors)
        health.malformedFrames = Int(clamping: statistics.malformedFrames &+ statistics.oversizeFrames &+ statistics.rejectedPackets)
        health.discardedBytes = Int(clamping: statistics.discardedBytes)
        health.staleStates = staleStates
        health.protocolViolations = protocolViolations
        health.lastRoundTripNanoseconds = lastRoundTripNanoseconds
        health.lastReplyAt = latestState.isValid ? latestState.receivedAt : nil
        return health
    }
    public var decoderStatistics: RehabLink.DecoderStatistics { decoder.statistics }

    private var decoder = RehabLink.FrameDecoder()
    private var frame = RehabLink.EncodedFrame()
    private var sequence: UInt16 = 1
    private var lastCommandSequence: UInt16?
    /// The last frames written (sequence, when, whether a COMMAND; a ring, newest at `recentFrameNext − 1`):
    /// a state echoing a COMMAND with no other frame written after it answers that COMMAND.
    private var recentFrames = InlineArray<16, (sequence: UInt16, writtenAt: MonotonicInstant, isCommand: Bool)>(
        repeating: (0, .zero, false))
    private var recentFrameNext = 0
    /// The command sequence the previous state echoed.
    private var lastEchoSeen: UInt16?
    private var lastCommandWrittenAt = MonotonicInstant.zero
    /// The oldest command not yet echoed as applied (SR-25), and when it was written.
    private var oldestUnechoed: (sequence: UInt16, writtenAt: MonotonicInstant)?
    /// Echoes of a sequence this host never sent as a COMMAND (newer than the last one).
    public private(set) var impossibleEchoes = 0
    public var oldestUnechoedCommandAt: MonotonicInstant? { oldestUnechoed?.writtenAt }
    public var protocolViolations: Int { malformedStates + impossibleEchoes }
    private var lastStateSequence: UInt16?
    private var deviceClock = WrappingCounterExtender()
    private var clockMapping = DeviceClockMapping()
    private var encoderCounters: JointList<WrappingCounterExtender>
    private var wireCommand: JointList<RehabLink.JointCommand>
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
    private var flushedOnce = false
    /// Where `collect` puts replies that set-up requests wait for.
    private var awaitedReply: RehabLink.Packet?
    private var awaiting: (type: RehabLink.MessageType, sequence: UInt16?)?
    /// An ACK that came while a request waited, but for another sequence (acknowledged, expected).
    private var misdirectedAcknowledgement: (acknowledged: UInt16, expected: UInt16)?

    public init(link: ByteLink, jointCount: Int, clock: LoopClock = MonotonicClock.shared) {
        precondition(jointCount >= 1 && jointCount <= RehabLink.maxJoints)
        self.link = link
        self.clock = clock
        self.jointCount = jointCount
        latestState = RobotState(jointCount: jointCount)
        encoderCounters = JointList(count: jointCount, repeating: WrappingCounterExtender())
        wireCommand = JointList(count: jointCount, repeating: .off)
    }

    deinit {
        readBuffer.deallocate()
    }

    // MARK: Set-up requests

    public func identify() throws(DeviceError) -> DeviceIdentityInfo {
        let reply = try request(.identify, expecting: .identity, name: "IDENTIFY")
        guard case .identity(let identity) = reply.message else {
            throw .protocolViolation(port: name, detail: "IDENTIFY answered with \(reply.message.type)")
        }
        return DeviceIdentityInfo(
            model: identity.model.string, serialNumber: identity.serialNumber.string,
            firmware: "\(identity.firmwareMajor).\(identity.firmwareMinor).\(identity.firmwarePatch)",
            protocolVersion: Int(identity.protocolVersion),
            joints: (0..<identity.joints.count).map { index in
                let limits = identity.joints[index]
                return DeviceIdentityInfo.JointRating(
                    positionMinimumRadians: RehabLink.Scaling.fromMicro(limits.positionMinimumMicroradians),
                    positionMaximumRadians: RehabLink.Scaling.fromMicro(limits.positionMaximumMicroradians),
                    velocityMaximumRadiansPerSecond: RehabLink.Scaling.fromMicro(limits.velocityMaximumMicroradiansPerSecond),
                    torqueMaximumNewtonMeters: RehabLink.Scaling.fromMilli(limits.torqueMaximumMillinewtonMeters),
                    encoderCountsPerRevolution: Int(limits.encoderCountsPerRevolution))
            })
    }

    public func requestFreshState() throws(DeviceError) -> RobotState {
        _ = try request(.heartbeat, expecting: .state, name: "HEARTBEAT")
        return latestState
    }

    public func activate(watchdogPeriodNanoseconds: Int64) throws(DeviceError) -> Int64 {
        let requested = Int(watchdogPeriodNanoseconds / Nanoseconds.perMicrosecond)
        let reply = try request(.enable(watchdogPeriodMicroseconds: UInt32(clamping: requested)), expecting: .acknowledge, name: "ENABLE")
        guard case .acknowledge(let ack) = reply.message else {
            throw .protocolViolation(port: name, detail: "ENABLE answered with \(reply.message.type)")
        }
        guard ack.result == .ok else {
            throw .refused(port: name, request: "ENABLE", reason: Self.describe(ack.result))
        }
        guard Int(ack.value) == requested else {
            // Never leave a device enabled with a watchdog the host did not ask for.
            try? deactivate()
            throw .watchdogNotConfirmed(port: name, requestedMicroseconds: requested, confirmedMicroseconds: Int(ack.value))
        }
        lastCommandSequence = nil
        oldestUnechoed = nil
        return Int64(ack.value) * Nanoseconds.perMicrosecond
    }

    public func deactivate() throws(DeviceError) {
        let reply = try request(.disable, expecting: .acknowledge, name: "DISABLE")
        guard case .acknowledge(let ack) = reply.message, ack.result == .ok else {
            throw .protocolViolation(port: name, detail: "DISABLE was not acknowledged")
        }
    }

    /// The RehabLink minor version the device speaks: 1 for 1.1, 0 for a 1.0 device (which does not
    /// know parameter 0x0003; spec "Changes in 1.1").
    public func readProtocolMinorVersion() throws(DeviceError) -> Int {
        let report = try parameterReply(to: .parameterGet(.protocolMinor), for: .protocolMinor, name: "PARAM_GET protocol_minor")
        switch report.result {
        case .ok: return Int(report.value)
        case .unknownParameter: return 0
        default: throw .protocolViolation(port: name, detail: "PARAM_GET protocol_minor answered \(Self.describe(report.result))")
        }
    }

    /// SR-24 through RehabLink 1.1's limit parameters (spec 5.6.1): each joint's limits are written
    /// in wire units rounded toward the safe side, then all are read back; every refusal and every
    /// read-back that differs by more than one wire unit, or on the unsafe side, is reported at once.
    public func configure(_ limits: DeviceSafetyLimits) throws(DeviceError) {
        let invalid = limits.problems(jointCount: jointCount)
        guard invalid.isEmpty else { throw .safetyLimitsNotConfirmed(port: name, problems: invalid) }
        guard try readProtocolMinorVersion() >= 1 else {
            throw .safetyLimitsNotConfirmed(port: name, problems: [
                "it speaks RehabLink 1.0 (it does not know parameter 0x0003 protocol_minor), which cannot hold limits in its firmware; RehabLink 1.1 firmware is needed",
            ])
        }
        var problems: [String] = []
        for joint in 0..<jointCount {
            let wanted = limits.joints[joint]
            // A soft minimum must stay below the soft maximum in effect (spec 5.6.1): when the range
            // moves up past it, the maximum goes first.
            let maximumID = RehabLink.JointLimitParameter.softLimitMaximum.id(joint: joint)
            let maximum = try parameterReply(to: .parameterGet(maximumID), for: maximumID, name: "PARAM_GET")
            let minimumFirst = maximum.result != .ok || Self.wireValue(.softLimitMinimum, of: wanted) < maximum.value
            let order: [RehabLink.JointLimitParameter] = minimumFirst
                ? [.softLimitMinimum, .softLimitMaximum, .torqueCapPositive, .torqueCapNegative, .velocityTrip]
                : [.softLimitMaximum, .softLimitMinimum, .torqueCapPositive, .torqueCapNegative, .velocityTrip]
            var refused: Set<UInt16> = []
            for parameter in order {
                let id = parameter.id(joint: joint)
                let written = Self.wireValue(parameter, of: wanted)
                let reply = try parameterReply(to: .parameterSet(id, value: written), for: id, name: "PARAM_SET")
                if reply.result != .ok {
                    refused.insert(id.rawValue)
                    problems.append(
                        "joint \(joint) \(Self.label(parameter)) (parameter \(Self.number(id))): writing \(Self.format(written, parameter)) was refused: \(Self.describe(reply.result)); \(Self.format(reply.value, parameter)) is still in effect")
                }
            }
            for parameter in RehabLink.JointLimitParameter.allCases {
                let id = parameter.id(joint: joint)
                guard !refused.contains(id.rawValue) else { continue }
                let written = Self.wireValue(parameter, of: wanted)
                let reply = try parameterReply(to: .parameterGet(id), for: id, name: "PARAM_GET")
                if reply.result != .ok {
                    problems.append("joint \(joint) \(Self.label(parameter)) (parameter \(Self.number(id))): the read-back was refused: \(Self.describe(reply.result))")
                } else if !Self.confirms(parameter, written: written, readBack: reply.value) {
                    problems.append(
                        "joint \(joint) \(Self.label(parameter)) (parameter \(Self.number(id))): wrote \(Self.format(written, parameter)), read back \(Self.format(reply.value, parameter))")
                }
            }
        }
        guard problems.isEmpty else { throw .safetyLimitsNotConfirmed(port: name, problems: problems) }
    }

    /// Sends a PARAM_GET or PARAM_SET and returns the PARAM that answers it, whatever its result.
    private func parameterReply(to message: RehabLink.Message, for parameter: RehabLink.ParameterID, name request: String)
        throws(DeviceError) -> RehabLink.ParameterReport
    {
        let reply = try self.request(message, expecting: .parameter, name: request)
        guard case .parameter(let report) = reply.message, report.parameter == parameter else {
            throw .protocolViolation(port: name, detail: "\(request) \(parameter) answered with \(reply.message)")
        }
        return report
    }

    /// Sends `message` and waits for the reply of type `expected`, retrying `requestAttempts` times.
    private func request(_ message: RehabLink.Message, expecting expected: RehabLink.MessageType, name request: String)
        throws(DeviceError) -> RehabLink.Packet
    {
        if let error = linkError { throw .transport(error) }
        if !flushedOnce {
            // Spec §4: a lone delimiter first, so that a partial frame left in the device is flushed.
            flushedOnce = true
            var delimiter: UInt8 = 0
            let deadline = clock.now().advanced(byNanoseconds: requestTimeoutNanoseconds)
            var failure: TransportError?
            withUnsafeBytes(of: &delimiter) { bytes in
                do throws(TransportError) { try link.write(bytes, deadline: deadline) } catch { failure = error }
            }
            if let failure {
                linkError = failure
                throw .transport(failure)
            }
        }
        misdirectedAcknowledgement = nil
        for _ in 0..<max(1, requestAttempts) {
            let sent = sequence
            awaiting = (expected, expected == .acknowledge ? sent : nil)
            awaitedReply = nil
            guard write(message) else { throw .transport(linkError!) }
            let deadline = clock.now().advanced(byNanoseconds: requestTimeoutNanoseconds)
            while awaitedReply == nil {
                if clock.now() >= deadline { break }
                do throws(TransportError) {
                    if try link.waitReadable(until: deadline) { collect(now: clock.now()) }
                } catch {
                    linkError = error
                }
                if let error = linkError { throw .transport(error) }
            }
            awaiting = nil
            if let reply = awaitedReply { return reply }
        }
        let waited = Int(requestTimeoutNanoseconds / Nanoseconds.perMillisecond) * max(1, requestAttempts)
        if let misdirected = misdirectedAcknowledgement {
            // It did answer: with an ACK for a request it was not sent. That is a broken device, not a silent one.
            throw .protocolViolation(
                port: name,
                detail: "\(request) was acknowledged for sequence \(misdirected.acknowledged), but the host sent it as sequence \(misdirected.expected) (spec 5.8: an ACK carries the sequence of the request it answers); the device answers requests it was not sent — a firmware defect, or a second host on the port")
        }
        throw .noAnswer(port: name, request: request, waitedMilliseconds: waited)
    }

    // MARK: Per cycle

    public func read(now: MonotonicInstant) -> ReadOutcome {
        guard linkError == nil else { return .linkLost }
        let fresh = collect(now: now)
        if linkError != nil { return .linkLost }
        return fresh ? .freshState : .nothingNew
    }

    /// The intent in RehabLink's verbs: COMMAND for actuation, a quick stop (velocity mode toward zero,
    /// tracked by the device's own loop) and torque off (every joint `off`); HEARTBEAT to observe;
    /// DISABLE (if enabled), FAULT_RESET and a HEARTBEAT for the operator's fault reset.
    @discardableResult
    public func write(_ intent: DeviceIntent, now: MonotonicInstant, deadline: MonotonicInstant) -> Bool {
        switch intent {
        case .command(let actuation), .quickStop(let actuation):
            for joint in 0..<jointCount { wireCommand[joint] = Self.wireCommand(for: actuation[joint]) }
            return sendCommand(now: now, deadline: deadline)
        case .torqueOff:
            for joint in 0..<jointCount { wireCommand[joint] = .off }
            return sendCommand(now: now, deadline: deadline)
        case .observe:
            return write(.heartbeat, deadline: deadline)
        case .faultReset:
            // FAULT_RESET is only accepted while disabled (spec 5.5).
            if latestState.condition.contains(.enabled) { write(.disable, deadline: deadline) }
            write(.faultReset, deadline: deadline)
            return write(.heartbeat, deadline: deadline)
        }
    }

    private func sendCommand(now: MonotonicInstant, deadline: MonotonicInstant) -> Bool {
        lastCommandSequence = sequence
        lastCommandWrittenAt = now
        if oldestUnechoed == nil { oldestUnechoed = (sequence, now) }
        let written = write(.command(wireCommand), deadline: deadline)
        recentFrames[(recentFrameNext + 15) % 16] = (sequence &- 1, now, true)
        return written
    }

    /// One joint's command in wire units: the device edge of every command the host sends.
    public static func wireCommand(for command: JointActuation) -> RehabLink.JointCommand {
        switch command.mode {
        case .off:
            .off
        case .torque:
            RehabLink.JointCommand(mode: .torque, torqueMillinewtonMeters: RehabLink.Scaling.milli(command.torqueNewtonMeters))
        case .velocity:
            RehabLink.JointCommand(mode: .velocity, velocityMicroradiansPerSecond: RehabLink.Scaling.micro(command.velocityRadiansPerSecond))
        case .hold:
            // RehabLink's impedance mode: K·(q_d − q) + D·(0 − q̇), evaluated by the firmware.
            RehabLink.JointCommand(
                mode: .impedance, positionMicroradians: RehabLink.Scaling.micro(command.positionRadians),
                stiffnessMillinewtonMetersPerRadian: RehabLink.Scaling.milli(command.stiffnessNewtonMetersPerRadian),
                dampingMillinewtonMeterSecondsPerRadian: RehabLink.Scaling.milli(command.dampingNewtonMeterSecondsPerRadian))
        }
    }

    public func waitForState(until deadline: MonotonicInstant) -> Bool { waitForFreshState(until: deadline) }

    package func linkFailed(_ error: TransportError) { linkError = error }

    // MARK: Decoding

    /// Reads all pending bytes and handles every packet; true when a fresh state arrived.
    @discardableResult
    package func collect(now: MonotonicInstant) -> Bool {
        var fresh = false
        while linkError == nil {
            let count: Int
            do throws(TransportError) {
                count = try link.readAvailable(into: readBuffer)
            } catch {
                linkError = error
                break
            }
            if count == 0 { break }
            // One access to the stored decoder per frame, not one per byte; none while a packet is handled.
            let bytes = UnsafeRawBufferPointer(rebasing: readBuffer[0..<count])
            var index = 0
            while index < count {
                let (next, result) = decoder.push(bytes, from: index)
                index = next
                if case .packet(let packet)? = result, handle(packet, now: now) { fresh = true }
            }
            if count < readBuffer.count { break }
        }
        return fresh
    }

    /// Handles one packet; true when it was a fresh state.
    private func handle(_ packet: RehabLink.Packet, now: MonotonicInstant) -> Bool {
        var fresh = false
        switch packet.message {
        case .state(let report):
            fresh = accept(report, sequence: packet.sequence, now: now)
        case .fault(let report):
            faultReportsReceived += 1
            lastFaultReport = report
        case .error(let report):
            protocolErrorsReceived += 1
            lastProtocolError = report
        default:
            break
        }
        if let awaiting, packet.message.type == awaiting.type, awaitedReply == nil {
            if case .acknowledge(let ack) = packet.message, let sequence = awaiting.sequence, ack.acknowledgedSequence != sequence {
                misdirectedAcknowledgement = (ack.acknowledgedSequence, sequence)
                return fresh
            }
            if awaiting.type == .state && !fresh { return fresh }
            awaitedReply = packet
        }
        return fresh
    }

    private func accept(_ report: RehabLink.StateReport, sequence: UInt16, now: MonotonicInstant) -> Bool {
        guard report.joints.count == jointCount else {
            malformedStates += 1
            return false
        }
        if let last = lastStateSequence, !SequenceNumber.isNewer(sequence, than: last) {
            staleStates += 1
            return false
        }
        lastStateSequence = sequence
        var state = latestState
        for joint in 0..<jointCount {
            let wire = report.joints[joint]
            var measurement = JointMeasurement()
            measurement.positionRadians = RehabLink.Scaling.fromMicro(wire.positionMicroradians)
            measurement.velocityRadiansPerSecond = RehabLink.Scaling.fromMicro(wire.velocityMicroradiansPerSecond)
            measurement.motorTorqueNewtonMeters = RehabLink.Scaling.fromMilli(wire.torqueMillinewtonMeters)
            measurement.interactionTorqueNewtonMeters = RehabLink.Scaling.fromMilli(wire.interactionTorqueMillinewtonMeters)
            measurement.motorCurrentAmperes = RehabLink.Scaling.amperes(milliamperes: wire.motorCurrentMilliamperes)
            measurement.temperatureCelsius = RehabLink.Scaling.celsius(decidegrees: wire.temperatureDecidegreesCelsius)
            measurement.encoderCounts = encoderCounters[joint].extend(wire.encoderCounts)
            measurement.atLowerHardStop = wire.flags.contains(.atLowerHardStop)
            measurement.atUpperHardStop = wire.flags.contains(.atUpperHardStop)
            measurement.torqueLimited = wire.flags.contains(.torqueLimited)
            state.joints[joint] = measurement
        }
        var condition: DeviceCondition = []
        if report.status.contains(.enabled) { condition.insert(.enabled) }
        if report.status.contains(.torqueOn) { condition.insert(.torqueOn) }
        if report.status.contains(.watchdogExpired) { condition.insert(.watchdogExpired) }
        if report.status.contains(.emergencyStop) { condition.insert(.emergencyStop) }
        if report.status.contains(.fault) { condition.insert(.fault) }
        if report.status.contains(.patientStop) { condition.insert(.patientStop) }
        if report.status.contains(.patientPause) { condition.insert(.patientPause) }
        state.condition = condition
        state.fault = Self.fault(report.faultCode)
        state.deviceTimeNanoseconds = deviceClock.extend(report.deviceTimeMicroseconds) &* Nanoseconds.perMicrosecond
        state.receivedAt = now
        state.sampledAt = clockMapping.sampledAt(deviceTimeNanoseconds: state.deviceTimeNanoseconds, receivedAt: now)
        if report.commandSequence != lastEchoSeen, let written = writtenAtOfAnsweredCommand(report.commandSequence) {
            // A new echo answers that command, so the state was sampled no earlier than the command was
            // written. The device's clock alone cannot show a link that is uniformly slow (R2: replies
            // 8 ms late look like a shifted clock); the command's age can, so the older of the two dates
            // the state. (An echo that stops advancing is SR-25's case, not an old state.)
            state.sampledAt = min(state.sampledAt, written)
        }
        lastEchoSeen = report.commandSequence
        state.isValid = true
        latestState = state
        if let command = lastCommandSequence, report.commandSequence == command {
            lastRoundTripNanoseconds = now.nanoseconds(since: lastCommandWrittenAt)
        }
        if let command = lastCommandSequence, SequenceNumber.isNewer(report.commandSequence, than: command) {
            impossibleEchoes += 1
        } else if let oldest = oldestUnechoed,
            report.commandSequence == oldest.sequence || SequenceNumber.isNewer(report.commandSequence, than: oldest.sequence)
        {
            // Commands up to the echoed one were applied (sequences only grow).
            oldestUnechoed = nil
        }
        return true
    }

    /// When the COMMAND `sequence` was written, if the device's state can only be its answer: it is among
    /// the last frames written and only COMMANDs followed it (a HEARTBEAT after it would be answered by a
    /// state that echoes it too, sampled later).
    private func writtenAtOfAnsweredCommand(_ sequence: UInt16) -> MonotonicInstant? {
        for back in 1...16 {
            let entry = recentFrames[(recentFrameNext - back + 16) % 16]
            guard entry.isCommand else { return nil }
            if entry.sequence == sequence { return entry.writtenAt }
        }
        return nil
    }

    /// A RehabLink fault code as the neutral fault (spec 5.7's codes; an unknown one is `other`).
    static func fault(_ code: RehabLink.FaultCode) -> DeviceFault {
        let kind: DeviceFault.Kind =
            switch code {
            case .none: .none
            case .overTemperature: .overTemperature
            case .overload: .overload
            case .overSpeed: .overSpeed
            case .encoder: .encoder
            case .supplyVoltage: .supplyVoltage
            case .watchdogExpired: .watchdogExpired
            default: .other
            }
        return DeviceFault(kind: kind, deviceCode: UInt32(code.rawValue))
    }

    // MARK: Encoding

    @discardableResult
    private func write(_ message: RehabLink.Message, deadline: MonotonicInstant? = nil) -> Bool {
        guard linkError == nil else { return false }
        // Recorded as not a command; `send` marks its own entry.
        recentFrameNext = (recentFrameNext + 1) % 16
        recentFrames[(recentFrameNext + 15) % 16] = (sequence, .zero, false)
        RehabLink.FrameEncoder.encode(message, sequence: sequence, into: &frame)
        sequence &+= 1
        let until = deadline ?? clock.now().advanced(byNanoseconds: requestTimeoutNanoseconds)
        do throws(TransportError) {
            try frame.withUnsafeBytes { bytes throws(TransportError) in try link.write(bytes, deadline: until) }
        } catch {
            linkError = error
            return false
        }
        return true
    }

    // MARK: SR-24 limits in wire units

    /// A joint's limit in wire units, rounded toward the safe side: soft limits inward, the caps and
    /// the trip down (a value within a billionth of a unit of an integer is that integer: 1.134464 rad
    /// is 1 134 464 µrad, not one less).
    static func wireValue(_ parameter: RehabLink.JointLimitParameter, of joint: DeviceSafetyLimits.Joint) -> Int32 {
        switch parameter {
        case .softLimitMinimum: RehabLink.Scaling.micro(joint.softMinimumRadians, rounding: .up)
        case .softLimitMaximum: RehabLink.Scaling.micro(joint.softMaximumRadians, rounding: .down)
        case .torqueCapPositive: RehabLink.Scaling.milli(joint.torqueCapPositiveNewtonMeters, rounding: .down)
        case .torqueCapNegative: RehabLink.Scaling.milli(joint.torqueCapNegativeNewtonMeters, rounding: .down)
        case .velocityTrip: RehabLink.Scaling.micro(joint.velocityTripRadiansPerSecond, rounding: .down)
        }
    }

    /// Whether a read-back confirms what was written: equal, or at most one wire unit off toward the
    /// safe side (spec 5.6.1: a device that approximates rounds inward and down).
    static func confirms(_ parameter: RehabLink.JointLimitParameter, written: Int32, readBack: Int32) -> Bool {
        let difference = Int64(readBack) - Int64(written)
        switch parameter {
        case .softLimitMinimum: return (0...1).contains(difference)
        case .softLimitMaximum, .torqueCapPositive, .torqueCapNegative, .velocityTrip: return (-1...0).contains(difference)
        }
    }

    /// "0x0050": a parameter's number as the spec writes it.
    private static func number(_ id: RehabLink.ParameterID) -> String {
        let hex = String(id.rawValue, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    private static func label(_ parameter: RehabLink.JointLimitParameter) -> String {
        switch parameter {
        case .softLimitMinimum: "soft minimum"
        case .softLimitMaximum: "soft maximum"
        case .torqueCapPositive: "torque cap, positive"
        case .torqueCapNegative: "torque cap, negative (magnitude)"
        case .velocityTrip: "velocity trip"
        }
    }

    /// A wire value in SI, exactly (no Foundation here): 2500 mN·m → "2.500 N·m".
    private static func format(_ value: Int32, _ parameter: RehabLink.JointLimitParameter) -> String {
        switch parameter {
        case .softLimitMinimum, .softLimitMaximum: decimal(value, places: 6) + " rad"
        case .torqueCapPositive, .torqueCapNegative: decimal(value, places: 3) + " N·m"
        case .velocityTrip: decimal(value, places: 6) + " rad/s"
        }
    }

    private static func decimal(_ value: Int32, places: Int) -> String {
        var divisor: Int64 = 1
        for _ in 0..<places { divisor *= 10 }
        let magnitude = abs(Int64(value))
        let fraction = String(magnitude % divisor)
        return (value < 0 ? "-" : "") + "\(magnitude / divisor)." + String(repeating: "0", count: places - fraction.count) + fraction
    }

    static func describe(_ result: RehabLink.ParameterResult) -> String {
        switch result {
        case .ok: "ok"
        case .unknownParameter: "unknown_parameter (the device does not have it)"
        case .readOnly: "read_only"
        case .outOfRange: "out_of_range (outside the joint's rating or range)"
        case .notWhileEnabled: "not_while_enabled (disable the device first)"
        }
    }

    static func describe(_ result: RehabLink.AcknowledgeResult) -> String {
        switch result {
        case .ok: "ok"
        case .refusedEmergencyStop: "its e-stop is open; release it first"
        case .refusedFault: "a device fault is latched; clear the cause and reset"
        case .refusedWatchdogPeriod: "the watchdog period is outside what it accepts (1–100 ms)"
        case .refusedState: "it is not in a state that allows this (already enabled?)"
        }
    }
}
