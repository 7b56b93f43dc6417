import DeviceModel
import Primitives
import Profiles
import Transport
import StrictJSON
import Wire

/// An NDI Aurora or Polaris on the host (protocols/ndi/README.md §9): set-up brings the system to a
/// known state (below), COMM to the profile's rate (the port follows), VER, the wired tools' handles
/// initialised (PHSR 02 / PINIT) and enabled (PHSR 03 / PENA dynamic), TSTART; reading polls BX once per
/// tracker frame, one request outstanding at a time, and takes the profile's tool (`ndi.port_handle`,
/// required when several tools are there). The frame number, counting at `ndi.frame_rate_hz` (default
/// `rate_hz`), is the tracker's clock; a missing, disabled or out-of-volume tool is not visible.
///
/// **A known state first** (README §9.1 step 1). The system may be anywhere: at 9600 after power-up, at
/// the profile's rate still tracking for a run that ended without TSTOP, at a rate nobody set back, in
/// the middle of a line, just reset. A CR (ending a line it holds half-received), then INIT, is tried at
/// 9600 and then at the profile's rate. Answered OKAY nowhere, the system is reset — by a serial break
/// where the line carries one, else by the RESET command at the profile's rate and at 9600 (a
/// pseudo-terminal carries no break, README §10.3) — and initialised at 9600 once it says RESET. Every
/// wait is bounded (1 s a reply, 7 s a reset); a failure names everything that was tried.
///
/// **While tracking** (README §9.4). An ERROR in answer to BX and a RESET (the system reset itself: a
/// power glitch, a break on its line) are not ignored: each is a `TrackerCondition` that makes the
/// tracker's sample unusable at once and tells the operator why. After a RESET the driver stops polling:
/// it never sets the system up again by itself (`SerialTracker.configure` does, at the next set-up).
///
/// Profile fields (`"ndi": {…}`): `port_handle` — two hex digits, the tool to track; `frame_rate_hz` —
/// the rate at which the system counts frames when the host polls slower (a Polaris counts at 60 Hz).
public final class NDITrackerProtocol: TrackerProtocol {
    /// How long a set-up command's reply may take.
    static let replyTimeoutNanoseconds = Nanoseconds.perSecond
    /// From a reset to its RESET reply, at most: ndicapi waits 7 s, cisst 5 s after its break (README §2).
    static let resetTimeoutNanoseconds = 7 * Nanoseconds.perSecond
    /// The break: NDI's sample code holds the line 250 ms; ndicapi's lasts 0.25–0.5 s, cisst's 0.5 s (README §2).
    static let breakMilliseconds = 250
    /// How long a RESET command may take to leave the port before the host switches its rate (which
    /// drops what is still unsent): its 12 bytes take 1 ms at 115200 bit/s, an adapter's latency timer 16 ms.
    static let drainNanoseconds = 200 * Nanoseconds.perMillisecond

    private var decoder = NDI.ReplyDecoder()
    private var pollLine = NDI.EncodedCommand()
    private var nextPoll = MonotonicInstant.zero
    private var periodNanoseconds: Int64 = 25_000_000
    private var handle: UInt8?
    private var lastFrameNumber: UInt32?
    private var frameWraps: Int64 = 0
    /// The tracker's frame period [ns]: the scale of its frame numbers.
    private var framePeriodNanoseconds: Int64 = 25_000_000
    /// When the BX in flight was sent (nil: none): the next waits for its reply, or for two periods.
    private var requestSentAt: MonotonicInstant?
    /// BX requests that got no reply within two periods.
    public private(set) var unansweredPolls = 0
    /// The system said RESET while tracking: it lost its set-up. Latched until the next `configure`; no
    /// more polls meanwhile (they could only be refused, ERROR10).
    public private(set) var lostSetUp = false
    /// `RESETBE6F⏎`, and how much of it the bytes received last have matched. The RESET line is looked
    /// for in the raw bytes as well as decoded: a system that resets in the middle of a BX reply sends
    /// RESET after that reply's start, where the receiver holds it as part of a binary reply that never
    /// completes (README §8.1 step 5) — and even at the end of the exchange, behind a cut-off body whose
    /// last byte is printable, would find its CRC wrong (step 7). Ten fixed bytes cannot occur by chance
    /// in a 53-byte reply (≈ 44 · 2⁻⁸⁰), and a false match would only make a sample unusable.
    private var resetLine = NDI.EncodedReply()
    private var resetMatched = 0

    public init() {
        NDI.CommandEncoder.encode(.bx(), into: &pollLine)
        NDI.ReplyEncoder.reset(into: &resetLine)
    }

    /// One tool's BX reply: 2 + 4·4 + 3·4 + 4 + 4 + 4 bytes of handle report, the header and CRCs.
    public var frameBytes: Int { 53 }
    public var checksumErrors: Int { Int(clamping: decoder.statistics.crcErrors) }
    public var discardedBytes: Int { Int(clamping: decoder.statistics.discardedBytes) }
    public var unansweredRequests: Int { unansweredPolls }

    public func configure(link: ByteLink, clock: LoopClock, profile: TrackerProfile) throws(DeviceSetupFailure) -> String {
        periodNanoseconds = profile.framePeriodNanoseconds
        let fields = profile.protocolFields ?? [:]
        for key in fields.keys where key != "port_handle" && key != "frame_rate_hz" {
            throw DeviceSetupFailure(port: link.name, reason: "\(profile.name): ndi.\(key) is not a field (ndi.port_handle, ndi.frame_rate_hz)")
        }
        var wantedHandle: UInt8?
        if let text = fields["port_handle"]?.stringValue {
            guard text.count == 2, let value = UInt8(text, radix: 16) else {
                throw DeviceSetupFailure(port: link.name, reason: "\(profile.name): ndi.port_handle takes two hex digits such as \"0A\", not \"\(text)\"")
            }
            wantedHandle = value
        }
        framePeriodNanoseconds = periodNanoseconds
        if let rate = fields["frame_rate_hz"]?.doubleValue {
            guard rate >= profile.rateHertz, rate <= 1_000 else {
                throw DeviceSetupFailure(port: link.name, reason: "\(profile.name): ndi.frame_rate_hz \(rate) must be at least rate_hz (\(profile.rateHertz)) and at most 1000")
            }
            framePeriodNanoseconds = Nanoseconds.period(rateHertz: rate)
        }
        // A set-up starts from nothing the last one knew (a system that reset has forgotten it too).
        handle = nil
        lastFrameNumber = nil
        frameWraps = 0
        requestSentAt = nil
        nextPoll = .zero
        lostSetUp = false
        resetMatched = 0
        decoder = NDI.ReplyDecoder()
        let line = link as? SerialLineControl
        let rate = try initializeFromAnyState(link: link, line: line, clock: clock, profile: profile)
        if profile.baudRateBitsPerSecond != rate {
            guard let line else {
                throw DeviceSetupFailure(port: link.name, reason: "\(profile.name): only a serial port can change its rate (the profile asks \(profile.baudRateBitsPerSecond) bit/s)")
            }
            guard let baud = NDI.SerialSettings.BaudRate.allCases.first(where: { $0.bitsPerSecond == profile.baudRateBitsPerSecond }) else {
                throw DeviceSetupFailure(port: link.name, reason: "\(profile.name): \(profile.baudRateBitsPerSecond) bit/s is not an NDI rate")
            }
            try expectOkay(.communication(NDI.SerialSettings(baudRate: baud)), "COMM", link: link, clock: clock)
            // The tracker switches once its OKAY is out; give it the time to (README §9.1 step 2).
            clock.sleep(until: clock.now().advanced(byNanoseconds: 150 * Nanoseconds.perMillisecond))
            try setRate(profile.baudRateBitsPerSecond, line: line, link: link)
        }
        let version = try request(.version(), "VER", link: link, clock: clock)
        for _ in 0..<4 {
            guard let list = NDI.PortHandleSearchReply(try request(.portHandleSearch(.notInitialized), "PHSR 02", link: link, clock: clock)),
                list.count > 0
            else { break }
            for index in 0..<list.count { try expectOkay(.portHandleInitialize(list[index].handle), "PINIT", link: link, clock: clock) }
        }
        guard let ready = NDI.PortHandleSearchReply(try request(.portHandleSearch(.notEnabled), "PHSR 03", link: link, clock: clock)), ready.count > 0
        else {
            throw DeviceSetupFailure(port: link.name, reason: "\(profile.name): no tool to enable (is a tool plugged in / in view?)")
        }
        let listed = (0..<ready.count).map { ready[$0].handle }
        let tracked: UInt8
        if let wantedHandle {
            guard listed.contains(wantedHandle) else {
                throw DeviceSetupFailure(
                    port: link.name,
                    reason: "\(profile.name): tool handle \(String(format: "%02X", wantedHandle)) (ndi.port_handle) is not among the tools found: \(listed.map { String(format: "%02X", $0) }.joined(separator: ", "))")
            }
            tracked = wantedHandle
        } else {
            guard listed.count == 1 else {
                throw DeviceSetupFailure(
                    port: link.name,
                    reason: "\(profile.name): \(listed.count) tools found (\(listed.map { String(format: "%02X", $0) }.joined(separator: ", "))): name the one to track in ndi.port_handle")
            }
            tracked = listed[0]
        }
        try expectOkay(.portHandleEnable(tracked, priority: .dynamicTool), "PENA", link: link, clock: clock)
        try expectOkay(.startTracking(), "TSTART", link: link, clock: clock)
        decoder = NDI.ReplyDecoder()
        handle = tracked
        let firstLine = version.text.string.split(separator: "\n").first.map(String.init) ?? profile.model
        return "\(firstLine.trimmingCharacters(in: .whitespaces)), tool handle \(String(tracked, radix: 16, uppercase: true))"
    }

    public func poll(link: ByteLink, now: MonotonicInstant) -> Bool {
        // A system that reset is not tracking: nothing to ask until a set-up (never started from here).
        guard !lostSetUp else { return true }
        // One BX per tracker frame: faster polls return the same frame again (README §9.2).
        guard now >= nextPoll else { return true }
        // One BX outstanding (README §9.1 step 6): a reply that has not come within two periods is lost.
        if let sent = requestSentAt {
            guard now.nanoseconds(since: sent) >= 2 * periodNanoseconds else { return true }
            unansweredPolls += 1
        }
        // On the tracker's own schedule, not from whenever this turn came (no drift); after a stall, from now.
        nextPoll = nextPoll.advanced(byNanoseconds: periodNanoseconds)
        if nextPoll <= now { nextPoll = now.advanced(byNanoseconds: periodNanoseconds) }
        requestSentAt = now
        decoder.expectation = .bx
        do throws(TransportError) {
            try pollLine.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws(TransportError) in try link.write(bytes, deadline: now.advanced(byNanoseconds: periodNanoseconds)) }
        } catch {
            return false
        }
        return true
    }

    public var nextPollAt: MonotonicInstant? { handle == nil || lostSetUp ? nil : nextPoll }

    public func consume(_ bytes: UnsafeRawBufferPointer, receivedAt: MonotonicInstant, _ body: (TrackerMeasurement) -> Void) {
        for byte in bytes where !lostSetUp {
            if byte == resetLine[resetMatched] {
                resetMatched += 1
            } else {
                // No other R in "RESETBE6F⏎": a mismatch can only restart the match at this byte.
                resetMatched = byte == resetLine[0] ? 1 : 0
            }
            if resetMatched == resetLine.count {
                resetMatched = 0
                systemReset(body)
            }
        }
        decoder.push(bytes) { result in
            interpret(result, body)
        }
    }

    /// One reply while tracking.
    private func interpret(_ result: NDI.DecodeResult, _ body: (TrackerMeasurement) -> Void) {
        requestSentAt = nil  // answered (a BX, or an ERROR that the next poll's BX may not get)
        // After a RESET nothing the system says is data: it is in set-up mode, its tools not set up.
        guard !lostSetUp else { return }
        switch result {
        case .bx(let reply):
            measure(reply, body)
        case .ascii(let reply):
            switch reply.kind {
            case .reset:
                systemReset(body)
            case .error(let code):
                // The system refused this BX (README §9.4: ERROR0C not tracking, 05 a time-out, …): no
                // data this frame, and the last good pose must not pass for a current one. Not latched:
                // a later BX answered with data is a measurement again (the supervisor latches its trip).
                body(TrackerMeasurement(condition: TrackerCondition(kind: .requestRefused, deviceCode: UInt32(code), meaning: NDI.errorMeaning(code) ?? "")))
            case .okay, .warning, .data:
                break  // a late answer to a set-up command: nothing to measure
            }
        case .rejected:
            break  // a CRC-valid reply the host cannot use is not a sample (README §9.3): the last one keeps ageing
        }
    }

    /// The system reset itself while tracking (README §2, §9.4): back at 9600 8N1 in set-up mode, its
    /// tools' set-up undone — it tracks no more. Latched, polls stopped. The driver does not initialise it
    /// again: a safety-relevant device must not come back by itself while a session relies on it (the
    /// spirit of SR-1, "never reconnects by itself while enabled"); the operator's next set-up does.
    private func systemReset(_ body: (TrackerMeasurement) -> Void) {
        lostSetUp = true
        requestSentAt = nil
        body(TrackerMeasurement(condition: TrackerCondition(kind: .deviceReset, meaning: "the system reset itself and lost its set-up: set it up again")))
    }

    /// The tracked tool's report in `reply`.
    private func measure(_ reply: NDI.BXReply, _ body: (TrackerMeasurement) -> Void) {
        guard let handle else { return }
        var report: NDI.HandleReport?
        for index in 0..<reply.handles.count where reply.handles[index].handle == handle { report = reply.handles[index] }
        guard let report, report.status != .disabled else {
            // The tool is absent from the reply or disabled: not visible, at once (README §9.3).
            var measurement = TrackerMeasurement()
            measurement.frameCounter = lastFrameNumber.map { $0 &+ 1 } ?? 0
            measurement.visible = false
            lastFrameNumber = measurement.frameCounter
            body(measurement)
            return
        }
        // Signed: a frame number a little behind (a repeat) is no wrap.
        if let last = lastFrameNumber, Int32(bitPattern: report.frameNumber &- last) > 0, report.frameNumber < last { frameWraps += 1 }
        lastFrameNumber = report.frameNumber
        var measurement = TrackerMeasurement()
        measurement.frameCounter = report.frameNumber
        measurement.deviceTimeNanoseconds = (frameWraps << 32 + Int64(report.frameNumber)) * framePeriodNanoseconds
        measurement.visible = report.isToolVisible
        if let pose = report.pose {
            measurement.orientation = pose.orientation
            measurement.positionMeters = pose.positionMeters
            measurement.rmsErrorMillimeters = pose.rmsErrorMillimeters
        }
        body(measurement)
    }

    public func shutDown(link: ByteLink, clock: LoopClock) {
        guard !lostSetUp else { return }  // already at 9600 in set-up mode
        _ = try? request(.stopTracking(), "TSTOP", link: link, clock: clock)
        // Back to 9600, where the next set-up starts (a serial break would do it too; a PTY cannot carry one).
        if let line = link as? SerialLineControl, line.lineRateBitsPerSecond != NDI.defaultBaudRate,
            (try? request(.communication(.powerUp), "COMM", link: link, clock: clock)) != nil
        {
            clock.sleep(until: clock.now().advanced(byNanoseconds: 150 * Nanoseconds.perMillisecond))
            try? line.changeBaudRate(to: NDI.defaultBaudRate)
        }
    }

    // MARK: A known state (README §9.1 step 1)

    /// What INIT met at one rate.
    private enum Probe {
        /// OKAY: the system is initialised and talks at that rate.
        case initialized
        /// RESET and no OKAY after it: it had just reset (a power glitch before the set-up) and is at
        /// 9600, waiting for INIT (the CR and INIT came while it was still resetting).
        case justReset
        /// Answered, but not OKAY (the system is there, refusing): the last reply's text.
        case refused(String)
        /// Nothing decodable within the reply time.
        case silent
    }

    /// Brings the system to a known state — initialised, at a rate known to the host — from any state it
    /// may have been left in, and returns that rate [bit/s]. The steps, in order, each bounded:
    ///
    /// 1. A CR, then INIT, at 9600 (power-up, after a reset) and then at the profile's rate (left there
    ///    by a host that ended without COMM back): OKAY → done.
    /// 2. A reset (README §2): a serial break at 9600 where the line carries one; where it cannot (a
    ///    pseudo-terminal) `RESET 0` at the profile's rate and at 9600 — and after a break that brought
    ///    no RESET, at the rates where the system did answer. Then up to 7 s for `RESETBE6F⏎` at 9600.
    /// 3. INIT at 9600.
    ///
    /// Throws naming every step tried and what it met.
    private func initializeFromAnyState(link: ByteLink, line: SerialLineControl?, clock: LoopClock, profile: TrackerProfile) throws(DeviceSetupFailure) -> Int {
        let power = NDI.defaultBaudRate
        var rates = [power]
        if line != nil && profile.baudRateBitsPerSecond != power { rates.append(profile.baudRateBitsPerSecond) }
        var tried: [String] = []
        var answering: [Int] = []
        for rate in rates {
            if let line { try setRate(rate, line: line, link: link) }
            switch try probe(link: link, clock: clock) {
            case .initialized:
                return rate
            case .justReset:
                if rate != power, let line { try setRate(power, line: line, link: link) }
                try initializeAfterReset(link: link, clock: clock)
                return power
            case .refused(let text):
                answering.append(rate)
                tried.append("INIT at \(rate) bit/s was answered \"\(text)\"")
            case .silent:
                tried.append("INIT at \(rate) bit/s: no reply within \(Self.seconds(Self.replyTimeoutNanoseconds)) s")
            }
        }

        // The reset. A break reaches the system at whatever rate it listens; the RESET command only at its own.
        var resetBy: [String] = []
        var breakSent = false
        if let line {
            try setRate(power, line: line, link: link)
            do {
                breakSent = try line.sendBreak(durationMilliseconds: Self.breakMilliseconds)
            } catch {
                throw DeviceSetupFailure(port: link.name, reason: "sending a serial break: \(error)")
            }
            if breakSent {
                if try awaitReset(link: link, clock: clock) {
                    try initializeAfterReset(link: link, clock: clock)
                    return power
                }
                tried.append("a serial break: no RESET within \(Self.seconds(Self.resetTimeoutNanoseconds)) s")
            } else {
                tried.append("a serial break: this line cannot carry one (a pseudo-terminal)")
            }
        } else {
            tried.append("a serial break: not on this link")
        }
        // RESET as a command (README §5.10): at the profile's rate first, then at 9600, where the reply
        // comes (after a break that brought nothing, only where the system did answer INIT).
        let commandRates: [Int] = Array((breakSent ? answering : rates).reversed())
        for rate in commandRates {
            if let line { try setRate(rate, line: line, link: link) }
            try send(.reset(), "RESET", link: link, clock: clock)
            if let line {
                // Let it leave before a switch of rate drops what is unsent.
                do {
                    try line.drain(deadline: clock.now().advanced(byNanoseconds: Self.drainNanoseconds))
                } catch {
                    throw DeviceSetupFailure(port: link.name, reason: "RESET at \(rate) bit/s: \(error)")
                }
            }
            resetBy.append("\(rate)")
        }
        if !resetBy.isEmpty {
            // At 9600 already when the last RESET went there: no switch, which would drop a quick reply.
            if let line, line.lineRateBitsPerSecond != power { try setRate(power, line: line, link: link) }
            if try awaitReset(link: link, clock: clock) {
                try initializeAfterReset(link: link, clock: clock)
                return power
            }
            tried.append("RESET at \(resetBy.joined(separator: " and ")) bit/s: no RESET within \(Self.seconds(Self.resetTimeoutNanoseconds)) s")
        }
        throw DeviceSetupFailure(
            port: link.name,
            reason: "\(profile.name): no NDI system could be brought to a known state — " + tried.joined(separator: "; ")
                + " (\(decoder.statistics.bytesReceived) bytes received, \(decoder.statistics.crcErrors) CRC errors). Is it on, on this port, and its cable connected?")
    }

    /// A CR, then INIT, at the rate the link is at; what came back within the reply time.
    private func probe(link: ByteLink, clock: LoopClock) throws(DeviceSetupFailure) -> Probe {
        // The CR ends whatever line the system holds half-received (bytes of a host that went away in
        // the middle of a command, noise), so that INIT is a line of its own. The system answers it
        // with an ERROR (an empty line: 03), which is passed over below: only OKAY or RESET ends the
        // wait (*ours*, README §9.1 step 1).
        var line = NDI.EncodedCommand()
        line.append(NDI.carriageReturn)
        let initialize = NDI.CommandEncoder.encoded(.initialize())
        for index in 0..<initialize.count { line.append(initialize[index]) }
        decoder.expectation = .ascii
        decoder.reset()
        let deadline = clock.now().advanced(byNanoseconds: Self.replyTimeoutNanoseconds)
        try write(line, "INIT", link: link, deadline: deadline)
        var outcome = Probe.silent
        var sawReset = false
        try collect("INIT", link: link, until: deadline) { reply in
            switch reply.kind {
            case .okay, .warning:
                outcome = .initialized
                return true
            case .reset:
                // It was up by the time the CR and INIT came (their answers follow), or it was still
                // resetting and heard neither (nothing follows): wait and see which.
                sawReset = true
                return false
            case .error, .data:
                outcome = .refused(reply.text.string)
                return false
            }
        }
        if case .initialized = outcome { return outcome }
        return sawReset ? .justReset : outcome
    }

    /// Waits up to 7 s for `RESETBE6F⏎` (README §2); true when it came.
    private func awaitReset(link: ByteLink, clock: LoopClock) throws(DeviceSetupFailure) -> Bool {
        decoder.expectation = .ascii
        return try collect("RESET", link: link, until: clock.now().advanced(byNanoseconds: Self.resetTimeoutNanoseconds)) { reply in
            reply.kind == .reset
        }
    }

    /// INIT after a RESET. A second RESET instead of OKAY (the system reset again: a break and a RESET
    /// command both reached it) is followed by INIT once more.
    private func initializeAfterReset(link: ByteLink, clock: LoopClock) throws(DeviceSetupFailure) {
        // ndicapi waits 100 ms after the RESET before it sends INIT (README [S1] L818–L820).
        clock.sleep(until: clock.now().advanced(byNanoseconds: 100 * Nanoseconds.perMillisecond))
        for attempt in 0..<2 {
            let reply = try request(.initialize(), "INIT after the reset", link: link, clock: clock)
            switch reply.kind {
            case .okay, .warning: return
            case .reset where attempt == 0: continue
            default: break
            }
            throw DeviceSetupFailure(port: link.name, reason: "INIT after the reset answered \"\(reply.text.string)\" instead of OKAY")
        }
    }

    /// Sets the host's end of the line to `rate` (nothing when it is there already).
    private func setRate(_ rate: Int, line: SerialLineControl, link: ByteLink) throws(DeviceSetupFailure) {
        guard line.lineRateBitsPerSecond != rate else {
            line.discardPendingInput()
            return
        }
        do {
            try line.changeBaudRate(to: rate)
        } catch {
            throw DeviceSetupFailure(port: link.name, reason: "\(error)")
        }
    }

    private static func seconds(_ nanoseconds: Int64) -> String {
        nanoseconds % Nanoseconds.perSecond == 0 ? String(nanoseconds / Nanoseconds.perSecond) : String(Double(nanoseconds) / 1e9)
    }

    // MARK: Set-up exchanges

    private func expectOkay(_ command: NDI.Command, _ what: String, link: ByteLink, clock: LoopClock) throws(DeviceSetupFailure) {
        let reply = try request(command, what, link: link, clock: clock)
        switch reply.kind {
        case .okay, .warning: return
        default: throw DeviceSetupFailure(port: link.name, reason: "\(what) answered \"\(reply.text.string)\" instead of OKAY")
        }
    }

    /// Sends `command` and waits up to 1 s for its ASCII reply; an ERROR is refused with its meaning.
    private func request(_ command: NDI.Command, _ what: String, link: ByteLink, clock: LoopClock) throws(DeviceSetupFailure) -> NDI.ASCIIReply {
        decoder.expectation = .ascii
        let deadline = clock.now().advanced(byNanoseconds: Self.replyTimeoutNanoseconds)
        try write(NDI.CommandEncoder.encoded(command), what, link: link, deadline: deadline)
        var reply: NDI.ASCIIReply?
        try collect(what, link: link, until: deadline) { ascii in
            reply = ascii
            return true
        }
        guard let reply else {
            throw DeviceSetupFailure(
                port: link.name,
                reason: "no reply to \(what) within 1 s (an NDI system at this rate? \(decoder.statistics.bytesReceived) bytes, \(decoder.statistics.crcErrors) CRC errors)")
        }
        if case .error(let code) = reply.kind {
            throw DeviceSetupFailure(port: link.name, reason: "\(what) refused: ERROR\(String(format: "%02X", code)) \(NDI.errorMeaning(code) ?? "")")
        }
        return reply
    }

    /// Sends `command` without waiting for a reply.
    private func send(_ command: NDI.Command, _ what: String, link: ByteLink, clock: LoopClock) throws(DeviceSetupFailure) {
        try write(NDI.CommandEncoder.encoded(command), what, link: link, deadline: clock.now().advanced(byNanoseconds: Self.replyTimeoutNanoseconds))
    }

    private func write(_ line: NDI.EncodedCommand, _ what: String, link: ByteLink, deadline: MonotonicInstant) throws(DeviceSetupFailure) {
        do throws(TransportError) {
            try line.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws(TransportError) in try link.write(bytes, deadline: deadline) }
        } catch {
            throw DeviceSetupFailure(port: link.name, reason: "\(what): \(error)")
        }
    }

    /// Reads ASCII replies until `take` accepts one (true) or `deadline` passes (false). Set-up only:
    /// it allocates its buffer.
    @discardableResult
    private func collect(_ what: String, link: ByteLink, until deadline: MonotonicInstant, _ take: (NDI.ASCIIReply) -> Bool) throws(DeviceSetupFailure) -> Bool {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2_048, alignment: 1)
        defer { buffer.deallocate() }
        var taken = false
        do throws(TransportError) {
            while !taken {
                guard try link.waitReadable(until: deadline) else { break }
                let count = try link.readAvailable(into: buffer)
                decoder.push(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { result in
                    if !taken, case .ascii(let reply) = result, take(reply) { taken = true }
                }
            }
        } catch {
            throw DeviceSetupFailure(port: link.name, reason: "\(what): \(error)")
        }
        return taken
    }
}
