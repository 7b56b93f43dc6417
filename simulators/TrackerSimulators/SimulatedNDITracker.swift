import Glibc
import Primitives
import RehabLinkSimulator
import SimulatorKit
import Wire

/// An NDI Aurora/Polaris-like tracker on a serial line, in software: the device end of the combined API
/// as protocols/ndi/README.md specifies it, with its tools on a simulated limb.
///
/// Bytes in, bytes out, time advanced by the caller: the same object runs behind `InProcessDeviceLink` on a
/// virtual clock (tests) and behind `RealTimeDeviceHost` on a pseudo-terminal (`rehabsim`), as SimulatorKit's
/// `FirmwareSimulator`. Commands are read by the codec's `NDI.CommandParser` and answered with
/// `NDI.ReplyEncoder` (ASCII with CRC, BX binary); nothing here frames bytes by itself. Nothing allocates
/// after set-up: the input queue, the reply queue, the event log and the tools' state are preallocated.
///
/// **The line** (README §2). The device powers up at 9600 8N1. `COMM` is answered OKAY at the old rate; the
/// device switches when that OKAY's last byte has left. Every byte takes 10 bit times at the line's rate,
/// both ways: a command is executed when its CR has arrived, its reply starts `commandProcessingNanoseconds`
/// later (after the replies before it) and `popOutput` releases only bytes that have arrived, so a host
/// sees the real wire time (a one-tool BX reply, 53 bytes: 55 ms at 9600 bit/s, 4.6 ms at 115200).
/// The host's rate is what it set on its end (`hostLineRateChanged`; unknown: assumed to match). When it
/// differs from the device's, the host's bytes are not understood (dropped, the line being assembled is
/// lost: framing errors) and what the device sends reaches the host as noise — a deterministic byte per
/// byte that is never CR nor C4 (the first byte of a BX reply), so nothing in it can decode.
///
/// **Reset** (README §2, §10.3). A serial break cannot reach a device behind a pseudo-terminal, so the
/// power-up state simply answers INIT (what ndicapi's probe needs). `serialBreak()` — the `tracker_reset`
/// fault, a host's break on an in-process line, and the `RESET 0` command (README §5.10), which a
/// pseudo-terminal can carry — does what a break does: back to 9600 8N1, not initialised, tools and
/// tracking forgotten, what was being sent cut off, and `RESETBE6F⏎` after `resetNanoseconds`;
/// `announcesResetAtBoot` sends it at power-up too.
///
/// **Commands** (README §5–§7): INIT, COMM, VER (0 and 4: the control firmware's text, 3: the TIU's), RESET
/// (no option or 0; in any state), PHSR, PHRQ, PVWR (accepted, the data is not kept), PINIT, PENA, PDIS,
/// PHF, TSTART, TSTOP, BX and TX with reply option 0x0001 or 0x0801 (`bx_error`: ERRORxx instead, while
/// it lasts). GETINFO and every other name: ERROR01. A line the parser refuses: its
/// ERRORxx (01 invalid, 02 too long, 03 too short, 04 bad CRC; README §8.2). Where README is silent the
/// codes are ours: a wrong number of parameter characters 07, a value that is not one 23, a handle
/// that is not hex 08, a handle not allocated 2B, a priority other than S/D/B 09, PENA or PDIS before
/// PINIT 0E, anything but INIT, COMM and VER before INIT 10, PINIT of a PHRQ tool before PVWR 13, PHRQ
/// with no tool left 2D, COMM values the codec does not know 06, BX/TX outside tracking and set-up
/// commands (COMM, PHRQ, PVWR, PINIT, PHF, TSTART) during tracking 0C. INIT leaves tracking and returns
/// every tool to "occupied, not initialised" (*ours*: so that a second client's set-up loop finds
/// handles to PINIT and PENA); TSTOP outside tracking is OKAY (*ours*: hosts send it when closing).
///
/// **Tools and frames** (README §6, §9.2, §9.3). Each configured tool sits on the limb
/// (`NDIToolConfiguration`); BX lists the enabled handles (and those PDIS'd since TSTART, as disabled) in
/// handle order. The system measures at `frameRateHertz` from TSTART: measurement k is taken at
/// TSTART + k / rate with frame number base + k, where base continues after the last frame of the previous
/// tracking run (`initialFrameNumber` at the first). BX returns the newest measurement, so polling faster
/// than the rate repeats the frame number, as the real device does. Its pose is the limb's at the
/// measurement's time plus Gaussian noise that depends only on the seed, the frame number, the tool and
/// the component: repeated polls of one frame return the same bytes. Outside the volume a tool carries
/// port status 0x40 and, without reply option 0x0800, is reported missing (README §9.3).
public final class SimulatedNDITracker {
    public let configuration: NDITrackerConfiguration
    public let bootTime: MonotonicInstant
    public let model: String
    public let serialNumber: String
    public private(set) var now: MonotonicInstant
    /// When a host first started tracking (TSTART): `after_enable_ms` triggers count from it.
    public private(set) var firstEnableTime: MonotonicInstant?
    /// Tracking frames served (BX and TX replies with data) since the first TSTART: `at_command` triggers count them.
    public private(set) var appliedCommandCount = 0
    /// The device's serial settings (README §5.2); power-up: 9600 8N1.
    public private(set) var serialSettings = NDI.SerialSettings.powerUp
    /// The rate the host last set on its end [bit/s]; nil until told (then assumed to match the device's).
    public private(set) var hostBitsPerSecond: Int?
    /// INIT has been carried out since power-up or the last reset.
    public private(set) var isInitialized = false
    public private(set) var isTracking = false
    /// When the current tracking run began (its measurement 0); nil outside tracking.
    public private(set) var trackingStartTime: MonotonicInstant?
    /// True from a reset until its RESET reply is queued: the device hears nothing meanwhile.
    public var isResetting: Bool { resetEndsAt != nil }
    /// Host bytes that arrived at a rate other than the device's (not understood).
    public private(set) var misunderstoodInputBytes = 0
    /// Host bytes that arrived while the device was resetting.
    public private(set) var ignoredInputBytes = 0
    /// Host bytes that did not fit in the input queue, and reply bytes that did not fit in the output queue.
    public private(set) var droppedInputBytes = 0
    public private(set) var droppedOutputBytes = 0
    /// Reply bytes the host received as noise (its rate differed from the one they were sent at).
    public private(set) var garbledOutputBytes = 0

    /// The device's current rate [bit/s].
    public var deviceBitsPerSecond: Int { serialSettings.baudRate.bitsPerSecond }

    /// What the device's receiver made of the host's lines (README §8.2).
    public var commandStatistics: NDI.CommandStatistics { parser.statistics }

    private let events = NDITrackerEventLog()
    private var parser = NDI.CommandParser()
    private var encoded = NDI.EncodedReply()
    private var tools: [NDIToolState]
    private let motion: NDILimbMotion
    private var referenceLimb: SimulatedReferenceLimb?
    private let noise: NDIGaussianNoise
    private let controlVersionText: NDI.ReplyText
    private let interfaceUnitVersionText: NDI.ReplyText

    // The host's bytes on their way: each with the moment its last bit arrives [ns] and the rate the host sent
    // it at (0: unknown, taken to match).
    private static let inputCapacity = 4_096
    private let inputBytes: UnsafeMutableBufferPointer<UInt8>
    private let inputArrivals: UnsafeMutableBufferPointer<Int64>
    private let inputRates: UnsafeMutableBufferPointer<Int>
    private var inputHead = 0
    private var inputCount = 0
    /// When the last byte the host has written will have arrived.
    private var lineFreeAt: MonotonicInstant

    /// The replies on their way to the host, each at the rate the device sent it at.
    private let transmit: TransmitLine
    /// When the device's transmit line is free of replies.
    private var transmitFreeAt: MonotonicInstant
    /// How many bytes have been garbled so far (the noise's counter).
    private var garbleCounter: UInt64 = 0

    /// COMM's new settings, taken when the OKAY has left (`rateSwitchAt`).
    private var pendingSettings: NDI.SerialSettings?
    private var rateSwitchAt = MonotonicInstant.zero
    /// While resetting: when the RESET reply goes out.
    private var resetEndsAt: MonotonicInstant?

    // Frames.
    /// The frame number of measurement 0 of the current tracking run.
    private var frameBase: UInt32
    /// The frame number the next tracking run starts at.
    private var nextFrameBase: UInt32
    /// `tracker_freeze`: measurements stop; the frame they stopped at (captured at the first look).
    private var isFrozen = false
    private var hasFrozenFrame = false
    private var frozenFrame = NDIFrame(number: 0, time: .zero)
    /// `bx_error`: the code BX and TX are answered with while it lasts.
    private var trackingDataErrorCode: UInt8?

    /// A tracker of `configuration.tools`, powered on at `bootTime`. Traps on a configuration with `problems`.
    public init(configuration: NDITrackerConfiguration, bootTime: MonotonicInstant) {
        let problems = configuration.problems
        precondition(problems.isEmpty, "invalid NDI tracker: \(problems.joined(separator: "; "))")
        self.configuration = configuration
        self.bootTime = bootTime
        model = configuration.model
        serialNumber = configuration.serialNumber
        now = bootTime
        motion = configuration.limbMotion
        if case .followingCue(let limb) = configuration.limbMotion { referenceLimb = limb }
        noise = NDIGaussianNoise(seed: configuration.seed)
        tools = configuration.tools.sorted { $0.portHandle < $1.portHandle }.map { NDIToolState($0) }
        frameBase = configuration.initialFrameNumber
        nextFrameBase = configuration.initialFrameNumber

        let control = "\(configuration.model) Control Firmware\nRehabHost simulated NDI tracker\nSerial Number: \(configuration.serialNumber)\n"
            + "Freeze Tag: \(configuration.freezeTag)\n"
        let interfaceUnit = "\(configuration.model) Tool Interface Unit Firmware\nFreeze Tag: \(configuration.freezeTag)\n"
        guard let controlText = NDI.ReplyText(control), let interfaceUnitText = NDI.ReplyText(interfaceUnit) else {
            preconditionFailure("the VER texts do not fit a reply")
        }
        controlVersionText = controlText
        interfaceUnitVersionText = interfaceUnitText

        inputBytes = .allocate(capacity: Self.inputCapacity)
        inputBytes.initialize(repeating: 0)
        inputArrivals = .allocate(capacity: Self.inputCapacity)
        inputArrivals.initialize(repeating: 0)
        inputRates = .allocate(capacity: Self.inputCapacity)
        inputRates.initialize(repeating: 0)
        lineFreeAt = bootTime
        transmit = TransmitLine(segmentCapacity: 512, modelsWireTime: configuration.modelsWireTime)
        transmitFreeAt = bootTime
        if configuration.announcesResetAtBoot {
            NDI.ReplyEncoder.reset(into: &encoded)
            enqueueEncoded(startingAt: bootTime)
        }
    }

    deinit {
        inputBytes.deallocate()
        inputArrivals.deallocate()
        inputRates.deallocate()
    }

    // MARK: Observation and control

    /// The port handles of the configured tools, in handle order.
    public var portHandles: [UInt8] { tools.map { $0.configuration.portHandle } }

    /// The limb's angle at `time` [rad].
    public func limbAngleRadians(at time: MonotonicInstant) -> Double {
        switch motion {
        case .still(let angle):
            return angle
        case .sinusoid(let center, let amplitude, let frequency):
            return center + amplitude * sin(2 * Double.pi * frequency * time.seconds(since: bootTime))
        case .followingCue:
            return referenceLimb?.positionRadians(at: time) ?? 0
        }
    }

    /// The pose of the tool on `handle` at `time` as it truly is: no noise, no drift (tests, diagnostics).
    public func truePose(ofHandle handle: UInt8, at time: MonotonicInstant) -> NDI.ToolPose? {
        guard let index = toolIndex(handle: handle) else { return nil }
        let pose = geometricPose(index, angle: limbAngleRadians(at: time))
        return NDI.ToolPose(orientation: pose.orientation, positionMeters: pose.position, rmsErrorMillimeters: configuration.rmsErrorMillimeters)
    }

    /// A serial break reaches the device at `now` (what `tracker_reset` injects): it resets to 9600 8N1,
    /// forgets INIT, the tools' set-up and tracking, drops what it was receiving and sending, and sends
    /// `RESETBE6F⏎` after `resetNanoseconds` (README §2).
    public func serialBreak() {
        let time = now
        inputHead = 0
        inputCount = 0
        lineFreeAt = time
        parser.reset()
        transmit.removeAll()
        transmitFreeAt = time
        pendingSettings = nil
        serialSettings = .powerUp
        stopTracking(at: time)
        isInitialized = false
        resetTools()
        resetEndsAt = time.advanced(byNanoseconds: configuration.resetNanoseconds)
        events.record(time, "reset")
    }

    /// Makes the tool on `handle` missing (not tracked) or tracked again; false when there is no such tool.
    @discardableResult
    public func setToolMissing(handle: UInt8, _ missing: Bool) -> Bool {
        guard let index = toolIndex(handle: handle) else { return false }
        tools[index].forcedMissing = missing
        return true
    }

    /// Reports the tool on `handle` outside the volume wherever it is, or not; false when there is no such tool.
    @discardableResult
    public func setToolOutOfVolume(handle: UInt8, _ outside: Bool) -> Bool {
        guard let index = toolIndex(handle: handle) else { return false }
        tools[index].forcedOutOfVolume = outside
        return true
    }

    /// Stops (true) or resumes the system's measurements; replies keep coming.
    public func setFrozen(_ frozen: Bool) {
        guard frozen != isFrozen else { return }
        isFrozen = frozen
        hasFrozenFrame = false
        if frozen, isTracking { captureFrozenFrame(at: now) }
    }

    // MARK: Driving the device

    /// Bytes the host writes at `time`: they go onto the line at the host's rate, after the bytes written before.
    public func receive(_ bytes: UnsafeRawBufferPointer, at time: MonotonicInstant) {
        advance(to: time)
        let sentRate = hostBitsPerSecond ?? 0
        let wireRate = hostBitsPerSecond ?? pendingOrCurrentRate
        let start = max(time, lineFreeAt)
        var queued = 0
        for byte in bytes {
            guard inputCount < Self.inputCapacity else {
                droppedInputBytes += 1
                continue
            }
            queued += 1
            let arrival = start.advanced(byNanoseconds: transmit.lineNanoseconds(bytes: queued, bitsPerSecond: wireRate))
            let slot = (inputHead + inputCount) % Self.inputCapacity
            inputBytes[slot] = byte
            inputArrivals[slot] = arrival.nanoseconds
            inputRates[slot] = sentRate
            inputCount += 1
            lineFreeAt = arrival
        }
        advance(to: time)
    }

    /// Runs the device up to `time`: the host's bytes as they arrive (executing each command at its CR), COMM's
    /// switch of rate, the end of a reset.
    public func advance(to time: MonotonicInstant) {
        while true {
            var next = MonotonicInstant(nanoseconds: .max)
            var action = Pending.idle
            if let resetEnd = resetEndsAt {
                next = resetEnd
                action = .endReset
            }
            if pendingSettings != nil && rateSwitchAt < next {
                next = rateSwitchAt
                action = .switchRate
            }
            if inputCount > 0 {
                let arrival = MonotonicInstant(nanoseconds: inputArrivals[inputHead])
                if arrival < next {
                    next = arrival
                    action = .input
                }
            }
            guard action != .idle, next <= time else { break }
            if next > now { now = next }
            switch action {
            case .endReset:
                resetEndsAt = nil
                NDI.ReplyEncoder.reset(into: &encoded)
                enqueueEncoded(startingAt: now)
            case .switchRate:
                if let settings = pendingSettings { serialSettings = settings }
                pendingSettings = nil
            case .input:
                consumeInputByte()
            case .idle:
                break
            }
        }
        if time > now { now = time }
    }

    /// The next moment the device must run without being spoken to: a command's CR arriving, COMM's switch,
    /// the end of a reset, a reply fully arrived. Only moments after `now`.
    public var nextDeadline: MonotonicInstant? {
        var deadline: MonotonicInstant?
        if let resetEnd = resetEndsAt { deadline = earliest(deadline, resetEnd) }
        if pendingSettings != nil { deadline = earliest(deadline, rateSwitchAt) }
        var slot = inputHead
        for _ in 0..<inputCount {
            if inputBytes[slot] == NDI.carriageReturn {
                deadline = earliest(deadline, MonotonicInstant(nanoseconds: inputArrivals[slot]))
                break
            }
            slot = (slot + 1) % Self.inputCapacity
        }
        if let end = transmit.nextReplyEnd(after: now) { deadline = earliest(deadline, end) }
        return deadline
    }

    /// True when reply bytes have arrived that `popOutput` has not taken.
    public var hasOutput: Bool { transmit.hasOutput(at: now) }

    /// Moves the reply bytes that have arrived by `now`, oldest first, into `buffer`; bytes sent at a rate
    /// other than the host's become noise.
    public func popOutput(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        transmit.pop(into: buffer, at: now) { moved, bitsPerSecond in
            guard let host = hostBitsPerSecond, host != bitsPerSecond else { return }
            for index in moved { buffer[index] = garble(buffer[index]) }
            garbledOutputBytes += moved.count
        }
    }

    // MARK: Faults (NDITrackerFault)

    private func begin(_ fault: NDITrackerFault) {
        switch fault {
        case .toolMissing(let handle): setToolMissing(handle: handle, true)
        case .toolOutOfVolume(let handle): setToolOutOfVolume(handle: handle, true)
        case .trackerFreeze: setFrozen(true)
        case .trackerDrift(let handle, let rate):
            for index in tools.indices where handle == nil || tools[index].configuration.portHandle == handle {
                tools[index].driftStart = now
                tools[index].driftMillimetersPerSecond = rate
            }
        case .trackerInaccurate(let handle, let rms):
            for index in tools.indices where handle == nil || tools[index].configuration.portHandle == handle {
                tools[index].rmsErrorOverrideMillimeters = rms
            }
        case .trackerReset: serialBreak()
        case .bxError(let code): trackingDataErrorCode = code
        }
    }

    private func end(_ fault: NDITrackerFault) {
        switch fault {
        case .toolMissing(let handle): setToolMissing(handle: handle, false)
        case .toolOutOfVolume(let handle): setToolOutOfVolume(handle: handle, false)
        case .trackerFreeze: setFrozen(false)
        case .trackerDrift(let handle, _):
            for index in tools.indices where handle == nil || tools[index].configuration.portHandle == handle {
                tools[index].driftStart = nil
                tools[index].driftMillimetersPerSecond = 0
            }
        case .trackerInaccurate(let handle, _):
            for index in tools.indices where handle == nil || tools[index].configuration.portHandle == handle {
                tools[index].rmsErrorOverrideMillimeters = nil
            }
        case .trackerReset: break
        case .bxError: trackingDataErrorCode = nil
        }
    }

    // MARK: The line

    private enum Pending {
        case idle
        case endReset
        case switchRate
        case input
    }

    /// The rate the device will listen at once a pending COMM has taken effect (for the wire time of host bytes
    /// when the host's own rate is unknown).
    private var pendingOrCurrentRate: Int { (pendingSettings ?? serialSettings).baudRate.bitsPerSecond }

    private func earliest(_ deadline: MonotonicInstant?, _ candidate: MonotonicInstant) -> MonotonicInstant? {
        guard candidate > now else { return deadline }
        guard let deadline else { return candidate }
        return min(deadline, candidate)
    }

    /// What a host at the wrong rate reads for `byte`: a deterministic noise byte, never CR (so no ASCII reply
    /// can end) nor C4 (so no BX reply can start).
    private func garble(_ byte: UInt8) -> UInt8 {
        garbleCounter &+= 1
        var noisy = UInt8(truncatingIfNeeded: NDIGaussianNoise.mix(garbleCounter &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(byte)))
        if noisy == NDI.carriageReturn || noisy == NDI.bxFirstByte { noisy ^= 0x80 }
        return noisy
    }

    /// Queues the reply in `encoded`, starting on the wire at `start` or when the replies before it have left.
    private func enqueueEncoded(startingAt start: MonotonicInstant) {
        let count = encoded.count
        guard count > 0 else { return }
        let begin = max(start, transmitFreeAt)
        let end = encoded.withUnsafeBytes { transmit.enqueue($0, startingAt: begin, bitsPerSecond: deviceBitsPerSecond) }
        guard let end else {
            droppedOutputBytes += count
            return
        }
        transmitFreeAt = end
    }

    /// Queues the reply in `encoded` as the answer to a command whose CR arrived at `now`.
    private func sendEncoded() {
        enqueueEncoded(startingAt: now.advanced(byNanoseconds: configuration.commandProcessingNanoseconds))
    }

    private func sendOkay() {
        NDI.ReplyEncoder.okay(into: &encoded)
        sendEncoded()
    }

    private func sendError(_ code: UInt8) {
        NDI.ReplyEncoder.error(code, into: &encoded)
        sendEncoded()
    }

    private func sendText(_ text: NDI.ReplyText) {
        do {
            try NDI.ReplyEncoder.ascii(text, into: &encoded)
        } catch {
            // Texts are built here from printable characters; should one not be, the host learns it failed.
            NDI.ReplyEncoder.error(NDIErrorCode.invalidCommand, into: &encoded)
        }
        sendEncoded()
    }

    // MARK: Receiving

    private func consumeInputByte() {
        let byte = inputBytes[inputHead]
        let rate = inputRates[inputHead]
        inputHead = (inputHead + 1) % Self.inputCapacity
        inputCount -= 1
        if resetEndsAt != nil {
            ignoredInputBytes += 1
            return
        }
        if rate != 0 && rate != deviceBitsPerSecond {
            // Framing errors at the wrong rate: the byte is not understood and the line being assembled is lost.
            misunderstoodInputBytes += 1
            parser.reset()
            return
        }
        guard let result = parser.push(byte) else { return }
        switch result {
        case .rejected(let rejection): sendError(rejection.errorCode)
        case .command(let command): execute(command)
        }
    }

    // MARK: Executing (README §5–§7)

    private func execute(_ c: NDI.Command) {
        if c.isNamed("INIT") { return initialize(c) }
        if c.isNamed("COMM") { return communication(c) }
        if c.isNamed("VER") { return version(c) }
        if c.isNamed("RESET") { return resetCommand(c) }
        let known = c.isNamed("PHSR") || c.isNamed("PHRQ") || c.isNamed("PVWR") || c.isNamed("PINIT") || c.isNamed("PENA")
            || c.isNamed("PDIS") || c.isNamed("PHF") || c.isNamed("TSTART") || c.isNamed("TSTOP") || c.isNamed("BX") || c.isNamed("TX")
        guard known else { return sendError(NDIErrorCode.invalidCommand) }
        guard isInitialized else { return sendError(NDIErrorCode.systemNotInitialized) }
        if c.isNamed("PHSR") { return portHandleSearch(c) }
        if c.isNamed("PHRQ") { return portHandleRequest(c) }
        if c.isNamed("PVWR") { return portVirtualWrite(c) }
        if c.isNamed("PINIT") { return portInitialize(c) }
        if c.isNamed("PENA") { return portEnable(c) }
        if c.isNamed("PDIS") { return portDisable(c) }
        if c.isNamed("PHF") { return portFree(c) }
        if c.isNamed("TSTART") { return startTracking(c) }
        if c.isNamed("TSTOP") { return stopTracking(c) }
        if c.isNamed("BX") { return trackingData(c, binary: true) }
        trackingData(c, binary: false)
    }

    private func initialize(_ c: NDI.Command) {
        guard c.parameters.isEmpty else { return sendError(NDIErrorCode.wrongParameterCount) }
        stopTracking(at: now)
        resetTools()
        isInitialized = true
        events.record(now, "init")
        sendOkay()
    }

    /// RESET 0 (README §5.10): what a break does, asked for in words — in any state, before INIT too. The
    /// reply is the RESET the reset sends when it is over; only option 0 (or none) is known (*ours*: 23
    /// for others).
    private func resetCommand(_ c: NDI.Command) {
        guard c.parameters.isEmpty || (c.parameters.count == 1 && c.parameters[0] == UInt8(ascii: "0")) else {
            return sendError(NDIErrorCode.parameterOutOfRange)
        }
        serialBreak()
    }

    private func communication(_ c: NDI.Command) {
        guard c.parameters.count == 5 else { return sendError(NDIErrorCode.wrongParameterCount) }
        guard !isTracking else { return sendError(NDIErrorCode.invalidInMode) }
        guard let settings = NDI.SerialSettings(commParameters: c.parameters) else {
            return sendError(NDIErrorCode.cannotSetCommunication)
        }
        sendOkay()
        // README §2: OKAY at the old settings, then the switch — when the OKAY's last byte has left.
        pendingSettings = settings
        rateSwitchAt = max(transmitFreeAt, now)
        events.record(now, "serial_settings_changed")
    }

    private func version(_ c: NDI.Command) {
        var option: UInt32 = 0
        guard c.parameters.count <= 3 else { return sendError(NDIErrorCode.wrongParameterCount) }
        for byte in c.parameters {
            guard byte >= 0x30 && byte <= 0x39 else { return sendError(NDIErrorCode.parameterOutOfRange) }
            option = option * 10 + UInt32(byte - 0x30)
        }
        switch option {
        case 0, 4: sendText(controlVersionText)
        case 3: sendText(interfaceUnitVersionText)
        default: sendError(NDIErrorCode.parameterOutOfRange)
        }
    }

    private func portHandleSearch(_ c: NDI.Command) {
        var option: UInt32 = 0
        switch c.parameters.count {
        case 0: option = 0
        case 2:
            guard let value = c.hexParameter(at: 0, digits: 2), value <= 4 else { return sendError(NDIErrorCode.parameterOutOfRange) }
            option = value
        default: return sendError(NDIErrorCode.wrongParameterCount)
        }
        var reply = NDI.PortHandleSearchReply()
        for tool in tools where tool.isAllocated {
            let listed: Bool
            switch option {
            case 0: listed = true
            case 1: listed = false   // no handle waits to be freed: no tool is ever unplugged here
            case 2: listed = !tool.isInitialized
            case 3: listed = tool.isInitialized && !tool.isEnabled
            default: listed = tool.isEnabled
            }
            guard listed else { continue }
            var status: UInt16 = 0x001
            if tool.isInitialized { status |= 0x010 }
            if tool.isEnabled { status |= 0x020 }
            reply.append(NDI.PortHandleSearchReply.Entry(handle: tool.configuration.portHandle, status: status))
        }
        sendText(reply.text)
    }

    private func portHandleRequest(_ c: NDI.Command) {
        guard c.parameters.count == 14 else { return sendError(NDIErrorCode.wrongParameterCount) }
        guard !isTracking else { return sendError(NDIErrorCode.invalidInMode) }
        for index in tools.indices where tools[index].configuration.requiresPortHandleRequest && !tools[index].isAllocated {
            tools[index].isAllocated = true
            var text = NDI.ReplyText()
            text.append(hex: UInt32(tools[index].configuration.portHandle), digits: 2)
            return sendText(text)
        }
        sendError(NDIErrorCode.noMoreHandles)
    }

    private func portVirtualWrite(_ c: NDI.Command) {
        // PVWR hh aaaa + 64 bytes as 128 hex digits: one chunk of a tool definition file.
        let lookup = allocatedTool(c, parameterCount: 2 + 4 + 128)
        guard lookup.error == 0 else { return sendError(lookup.error) }
        guard !isTracking else { return sendError(NDIErrorCode.invalidInMode) }
        guard c.hexParameter(at: 2, digits: 4) != nil else { return sendError(NDIErrorCode.parameterOutOfRange) }
        for offset in stride(from: 6, to: 134, by: 8) where c.hexParameter(at: offset, digits: 8) == nil {
            return sendError(NDIErrorCode.parameterOutOfRange)
        }
        tools[lookup.index].hasToolDefinition = true
        sendOkay()
    }

    private func portInitialize(_ c: NDI.Command) {
        let lookup = allocatedTool(c, parameterCount: 2)
        guard lookup.error == 0 else { return sendError(lookup.error) }
        guard !isTracking else { return sendError(NDIErrorCode.invalidInMode) }
        let tool = tools[lookup.index]
        guard !tool.configuration.requiresPortHandleRequest || tool.hasToolDefinition else {
            return sendError(NDIErrorCode.cannotInitializeTool)
        }
        tools[lookup.index].isInitialized = true
        sendOkay()
    }

    private func portEnable(_ c: NDI.Command) {
        let lookup = allocatedTool(c, parameterCount: 3)
        guard lookup.error == 0 else { return sendError(lookup.error) }
        guard let byte = c.parameter(at: 2), let priority = NDI.TrackingPriority(rawValue: Self.upperCased(byte)) else {
            return sendError(NDIErrorCode.invalidPriority)
        }
        guard tools[lookup.index].isInitialized else { return sendError(NDIErrorCode.portNotInitialized) }
        tools[lookup.index].isEnabled = true
        tools[lookup.index].priority = priority
        tools[lookup.index].wasDisabledWhileTracking = false
        sendOkay()
    }

    private func portDisable(_ c: NDI.Command) {
        let lookup = allocatedTool(c, parameterCount: 2)
        guard lookup.error == 0 else { return sendError(lookup.error) }
        guard tools[lookup.index].isInitialized else { return sendError(NDIErrorCode.portNotInitialized) }
        if tools[lookup.index].isEnabled && isTracking { tools[lookup.index].wasDisabledWhileTracking = true }
        tools[lookup.index].isEnabled = false
        sendOkay()
    }

    private func portFree(_ c: NDI.Command) {
        let lookup = allocatedTool(c, parameterCount: 2)
        guard lookup.error == 0 else { return sendError(lookup.error) }
        guard !isTracking else { return sendError(NDIErrorCode.invalidInMode) }
        // A wired tool is still in its port: the Aurora gives it its handle again, not initialised (*ours*).
        // A PHRQ tool's handle is gone until the next PHRQ.
        tools[lookup.index].resetSetUp()
        sendOkay()
    }

    private func startTracking(_ c: NDI.Command) {
        // cisst sends "TSTART 80" (README §5.9); the option is accepted and has no effect here.
        guard c.parameters.isEmpty || (c.parameters.count == 2 && c.hexParameter(at: 0, digits: 2) != nil) else {
            return sendError(NDIErrorCode.wrongParameterCount)
        }
        guard !isTracking else { return sendError(NDIErrorCode.invalidInMode) }
        isTracking = true
        trackingStartTime = now
        frameBase = nextFrameBase
        if firstEnableTime == nil { firstEnableTime = now }
        if isFrozen && !hasFrozenFrame { captureFrozenFrame(at: now) }
        events.record(now, "tracking_start")
        sendOkay()
    }

    private func stopTracking(_ c: NDI.Command) {
        guard c.parameters.isEmpty else { return sendError(NDIErrorCode.wrongParameterCount) }
        stopTracking(at: now)
        sendOkay()
    }

    private func trackingData(_ c: NDI.Command, binary: Bool) {
        var options = NDI.BXReplyOptions.transformations
        switch c.parameters.count {
        case 0: break
        case 4:
            guard let value = c.hexParameter(at: 0, digits: 4) else { return sendError(NDIErrorCode.parameterOutOfRange) }
            options = NDI.BXReplyOptions(rawValue: UInt16(value))
        default: return sendError(NDIErrorCode.wrongParameterCount)
        }
        // Only the layout of 0x0001 (with or without 0x0800) is served: the others add data the codec does not lay out.
        guard options.isDecodable else { return sendError(NDIErrorCode.parameterOutOfRange) }
        guard isTracking else { return sendError(NDIErrorCode.invalidInMode) }
        // bx_error: the measurement failed; the host gets the code instead of data (README §9.4).
        if let code = trackingDataErrorCode { return sendError(code) }
        let frame = currentFrame(at: now)
        var reply = NDI.BXReply()
        for index in tools.indices where tools[index].isEnabled || tools[index].wasDisabledWhileTracking {
            reply.handles.append(report(index, frame: frame, options: options))
        }
        if binary {
            do {
                try NDI.ReplyEncoder.bx(reply, into: &encoded)
            } catch {
                // Poses are finite by construction; should one not be, the host gets a refusal, not a NaN.
                NDI.ReplyEncoder.error(NDIErrorCode.parameterOutOfRange, into: &encoded)
            }
            sendEncoded()
        } else {
            sendText(Self.txText(reply))
        }
        if firstEnableTime != nil { appliedCommandCount += 1 }
    }

    // MARK: State

    private func stopTracking(at time: MonotonicInstant) {
        if isTracking {
            nextFrameBase = liveFrame(at: time).number &+ 1
            events.record(time, "tracking_stop")
        }
        isTracking = false
        trackingStartTime = nil
        for index in tools.indices { tools[index].wasDisabledWhileTracking = false }
    }

    private func resetTools() {
        for index in tools.indices { tools[index].resetSetUp() }
    }

    private func toolIndex(handle: UInt8) -> Int? {
        for index in tools.indices where tools[index].configuration.portHandle == handle { return index }
        return nil
    }

    /// The allocated tool named by the first two parameter characters; `error` is 0 when found, else the
    /// code to answer (07 wrong length, 08 not hex, 2B not allocated).
    private func allocatedTool(_ c: NDI.Command, parameterCount: Int) -> (index: Int, error: UInt8) {
        guard c.parameters.count == parameterCount else { return (-1, NDIErrorCode.wrongParameterCount) }
        guard let handle = c.hexParameter(at: 0, digits: 2), handle != 0 else { return (-1, NDIErrorCode.invalidPortHandle) }
        guard let index = toolIndex(handle: UInt8(handle)), tools[index].isAllocated else { return (-1, NDIErrorCode.portNotAllocated) }
        return (index, 0)
    }

    private static func upperCased(_ byte: UInt8) -> UInt8 {
        byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte
    }

    // MARK: Frames and poses

    /// The newest measurement at `time` of the current tracking run.
    private func liveFrame(at time: MonotonicInstant) -> NDIFrame {
        guard let start = trackingStartTime else { return NDIFrame(number: frameBase, time: time) }
        let rate = configuration.frameRateHertz
        let k = Int64((Double(max(0, time.nanoseconds(since: start))) * rate / 1e9).rounded(.down))
        let taken = start.advanced(byNanoseconds: Int64((Double(k) * 1e9 / rate).rounded()))
        return NDIFrame(number: frameBase &+ UInt32(truncatingIfNeeded: k), time: taken)
    }

    private func captureFrozenFrame(at time: MonotonicInstant) {
        frozenFrame = liveFrame(at: time)
        hasFrozenFrame = true
    }

    /// The measurement BX reports at `time`: the newest, or the one measurements stopped at.
    private func currentFrame(at time: MonotonicInstant) -> NDIFrame {
        guard isFrozen else { return liveFrame(at: time) }
        if !hasFrozenFrame { captureFrozenFrame(at: time) }
        return frozenFrame
    }

    /// The tool's pose at limb angle `angle` [rad]: position [m] and orientation (w, x, y, z).
    private func geometricPose(_ index: Int, angle: Double) -> (position: SIMD3<Double>, orientation: SIMD4<Double>) {
        let tool = tools[index]
        let theta = tool.configuration.followsLimb ? angle : 0
        let axis = tool.axis
        let lever = tool.configuration.leverArmMeters
        let c = cos(theta)
        let s = sin(theta)
        // Rodrigues: v cos θ + (u × v) sin θ + u (u · v)(1 − cos θ).
        let cross = SIMD3(axis.y * lever.z - axis.z * lever.y, axis.z * lever.x - axis.x * lever.z, axis.x * lever.y - axis.y * lever.x)
        let dot = (axis * lever).sum()
        let rotated = lever * c + cross * s + axis * (dot * (1 - c))
        let half = theta / 2
        let turn = SIMD4(cos(half), axis.x * sin(half), axis.y * sin(half), axis.z * sin(half))
        return (tool.configuration.basePositionMeters + rotated, Self.multiply(turn, tool.orientationAtZero))
    }

    /// The tool's handle in a BX reply for `frame`.
    private func report(_ index: Int, frame: NDIFrame, options: NDI.BXReplyOptions) -> NDI.HandleReport {
        let tool = tools[index]
        let handle = tool.configuration.portHandle
        guard tool.isEnabled else { return .disabled(handle: handle) }
        var portStatus: NDI.PortStatus = [.occupied, .initialized, .enabled]
        guard !tool.forcedMissing else { return .missing(handle: handle, portStatus: portStatus, frameNumber: frame.number) }
        var pose = geometricPose(index, angle: limbAngleRadians(at: frame.time))
        // Drift: a ramp along the tracker's +x axis from the fault's start [mm/s → m].
        if let driftStart = tool.driftStart {
            let seconds = max(0, frame.time.seconds(since: driftStart))
            pose.position.x += tool.driftMillimetersPerSecond * seconds / 1000
        }
        // Noise, a function of the seed, the frame number, the tool and the component only.
        let key = UInt64(frame.number) << 8 | UInt64(index) << 4
        let sigmaMeters = configuration.positionNoiseMillimeters / 1000
        if sigmaMeters > 0 {
            pose.position += SIMD3(noise.gaussian(key | 0), noise.gaussian(key | 1), noise.gaussian(key | 2)) * sigmaMeters
        }
        let sigmaRadians = configuration.orientationNoiseRadians
        if sigmaRadians > 0 {
            let v = SIMD3(noise.gaussian(key | 3), noise.gaussian(key | 4), noise.gaussian(key | 5)) * sigmaRadians
            let angle = (v * v).sum().squareRoot()
            if angle > 0 {
                let k = sin(angle / 2) / angle
                pose.orientation = Self.multiply(SIMD4(cos(angle / 2), v.x * k, v.y * k, v.z * k), pose.orientation)
            }
        }
        var q = pose.orientation / (pose.orientation * pose.orientation).sum().squareRoot()
        if q[0] < 0 { q = -q }   // one of the two quaternions of a rotation: the one with q0 ≥ 0
        if tool.forcedOutOfVolume || !configuration.volume.contains(pose.position) {
            portStatus.insert(.outOfVolume)
            // README §9.3: outside the volume a pose is reported only because of reply option 0x0800.
            guard options.contains(.allTransformations) else {
                return .missing(handle: handle, portStatus: portStatus, frameNumber: frame.number)
            }
        }
        let rms = tool.rmsErrorOverrideMillimeters ?? configuration.rmsErrorMillimeters
        return .valid(
            handle: handle, pose: NDI.ToolPose(orientation: q, positionMeters: pose.position, rmsErrorMillimeters: rms), portStatus: portStatus,
            frameNumber: frame.number)
    }

    /// The Hamilton product a ⊗ b of quaternions (w, x, y, z): b's rotation first, then a's.
    private static func multiply(_ a: SIMD4<Double>, _ b: SIMD4<Double>) -> SIMD4<Double> {
        SIMD4(
            a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
            a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
            a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
            a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0])
    }

    // MARK: TX (README §7)

    /// The TX text of `reply`: `nn`, then per handle `hh` and the transformation (q0 qx qy qz as sign + 5 digits
    /// ×10⁻⁴, tx ty tz as sign + 6 digits ×10⁻² mm, error as sign + 5 digits ×10⁻⁴ mm) or MISSING or DISABLED,
    /// the port status (8 hex) and the frame number (8 hex), LF; then the system status (4 hex). Values are
    /// rounded half away from zero and clamped to the digits.
    private static func txText(_ reply: NDI.BXReply) -> NDI.ReplyText {
        var text = NDI.ReplyText()
        text.append(hex: UInt32(reply.handles.count), digits: 2)
        for handle in reply.handles {
            text.append(hex: UInt32(handle.handle), digits: 2)
            switch handle.status {
            case .disabled: text.append(ascii: "DISABLED")
            case .missing: text.append(ascii: "MISSING")
            case .valid:
                if let pose = handle.pose {
                    for index in 0..<4 { appendSigned(&text, pose.orientation[index] * 1e4, digits: 5) }
                    for index in 0..<3 { appendSigned(&text, pose.positionMeters[index] * 1e5, digits: 6) }   // m → 10⁻² mm
                    appendSigned(&text, pose.rmsErrorMillimeters * 1e4, digits: 5)
                }
            }
            text.append(hex: handle.portStatus.rawValue, digits: 8)
            text.append(hex: handle.frameNumber, digits: 8)
            text.append(NDI.lineFeed)
        }
        text.append(hex: UInt32(reply.systemStatus.rawValue), digits: 4)
        return text
    }

    /// Appends a sign and `digits` decimal digits of `scaled`, rounded and clamped.
    private static func appendSigned(_ text: inout NDI.ReplyText, _ scaled: Double, digits: Int) {
        var limit: Int64 = 1
        for _ in 0..<digits { limit *= 10 }
        limit -= 1
        let rounded = scaled.isFinite ? scaled.rounded() : 0
        let value = Int64(max(-Double(limit), min(Double(limit), rounded)))
        text.append(value < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        var magnitude = value < 0 ? -value : value
        var divisor = (limit + 1) / 10
        for _ in 0..<digits {
            text.append(UInt8(ascii: "0") + UInt8(magnitude / divisor))
            magnitude %= divisor
            divisor = max(1, divisor / 10)
        }
    }
}

/// The tracker as SimulatorKit's firmware: the shared links, fault pump, script parser and real-time host run it.
///
/// Events (`rehabsim --events`): `init`, `serial_settings_changed` (COMM accepted), `tracking_start`, `tracking_stop`, `reset`, and `fault_injected` / `fault_injection_ended` for every injection.
extension SimulatedNDITracker: FirmwareSimulator {
    public typealias InjectableFault = NDITrackerFault

    public func beginInjectedFault(_ fault: NDITrackerFault, timed: Bool) {
        begin(fault)
    }

    public func endInjectedFault(_ fault: NDITrackerFault) {
        end(fault)
    }

    public func recordInjection(_ name: String, joint: Int?, began: Bool) {
        events.record(now, began ? "fault_injected" : "fault_injection_ended", detail: name)
    }

    public func drainEventRecords(_ body: (FirmwareEventRecord) -> Void) {
        events.drain(body)
    }

    /// A limb that follows the exercise's cue (`NDILimbMotion.followingCue`) starts moving along it at `start`.
    public func startCue(at start: MonotonicInstant) {
        referenceLimb?.startCue(at: start)
    }

    /// The host (re)configured its end of the line: from its next byte on it talks and listens at
    /// `bitsPerSecond`; at any other rate than the device's it sees noise and is not understood.
    public func hostLineRateChanged(bitsPerSecond: Int) {
        hostBitsPerSecond = bitsPerSecond
    }
}

/// One measurement: its frame number and when it was taken.
struct NDIFrame {
    var number: UInt32
    var time: MonotonicInstant
}

/// A tool's state in the simulated tracker: its handle's set-up (README §5.4–§5.8) and the faults on it.
struct NDIToolState {
    let configuration: NDIToolConfiguration
    /// The rotation axis, normalised.
    let axis: SIMD3<Double>
    /// The orientation at limb angle 0, normalised.
    let orientationAtZero: SIMD4<Double>
    var isAllocated: Bool
    var hasToolDefinition = false
    var isInitialized = false
    var isEnabled = false
    var priority = NDI.TrackingPriority.dynamicTool
    /// PDIS'd during this tracking run: BX lists it as disabled until TSTOP.
    var wasDisabledWhileTracking = false
    var forcedMissing = false
    var forcedOutOfVolume = false
    var driftStart: MonotonicInstant?
    var driftMillimetersPerSecond = 0.0
    var rmsErrorOverrideMillimeters: Double?

    init(_ configuration: NDIToolConfiguration) {
        self.configuration = configuration
        axis = configuration.rotationAxis / (configuration.rotationAxis * configuration.rotationAxis).sum().squareRoot()
        orientationAtZero = configuration.orientationAtZero / (configuration.orientationAtZero * configuration.orientationAtZero).sum().squareRoot()
        isAllocated = !configuration.requiresPortHandleRequest
    }

    /// Back to the state after power-up, INIT or PHF: a wired tool's handle occupied and not initialised, a
    /// PHRQ tool's handle not allocated.
    mutating func resetSetUp() {
        isAllocated = !configuration.requiresPortHandleRequest
        if configuration.requiresPortHandleRequest { hasToolDefinition = false }
        isInitialized = false
        isEnabled = false
        wasDisabledWhileTracking = false
    }
}

/// The ERROR codes the simulated tracker answers (README §4.2).
enum NDIErrorCode {
    static let invalidCommand: UInt8 = 0x01
    static let cannotSetCommunication: UInt8 = 0x06
    static let wrongParameterCount: UInt8 = 0x07
    static let invalidPortHandle: UInt8 = 0x08
    static let invalidPriority: UInt8 = 0x09
    static let invalidInMode: UInt8 = 0x0C
    static let portNotInitialized: UInt8 = 0x0E
    static let systemNotInitialized: UInt8 = 0x10
    static let cannotInitializeTool: UInt8 = 0x13
    static let parameterOutOfRange: UInt8 = 0x23
    static let portNotAllocated: UInt8 = 0x2B
    static let noMoreHandles: UInt8 = 0x2D
}

/// Deterministic Gaussian noise, written here so that a run is reproducible from its seed: counter-based
/// (SplitMix64's finaliser over the seed and a key), so a value depends only on the seed and its key — the
/// frame number, the tool and the component — not on how often or in which order it is asked for.
struct NDIGaussianNoise: Sendable {
    let seed: UInt64

    /// SplitMix64's output function: a bijective mix of 64 bits.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in (0, 1] for `key` and `stream`.
    private func uniform(_ key: UInt64, _ stream: UInt64) -> Double {
        let bits = Self.mix(seed ^ Self.mix(key &* 2 &+ stream))
        return (Double(bits >> 11) + 1) / 9_007_199_254_740_992   // (1 … 2⁵³) / 2⁵³
    }

    /// A standard normal value for `key` (Box–Muller).
    func gaussian(_ key: UInt64) -> Double {
        let radius = (-2 * log(uniform(key, 0))).squareRoot()
        return radius * cos(2 * Double.pi * uniform(key, 1))
    }
}

/// The tracker's event log in the neutral form of `rehabsim --events`. Preallocated: recording allocates
/// nothing (the oldest record goes when it is full).
final class NDITrackerEventLog {
    private var records: [FirmwareEventRecord] = []

    init(capacity: Int = 4_096) {
        records.reserveCapacity(capacity)
    }

    func record(_ time: MonotonicInstant, _ event: String, detail: String = "") {
        if records.count >= records.capacity { records.removeFirst() }
        records.append(FirmwareEventRecord(time: time, event: event, detail: detail))
    }

    func drain(_ body: (FirmwareEventRecord) -> Void) {
        guard !records.isEmpty else { return }
        for record in records { body(record) }
        records.removeAll(keepingCapacity: true)
    }
}
