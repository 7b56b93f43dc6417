import DeviceModel
import Primitives
import Profiles
import Transport
import StrictJSON
import Wire

/// An NDI Aurora or Polaris on the host (protocols/ndi/README.md §9): set-up is INIT at 9600, COMM to
/// the profile's rate (the port follows), VER, the wired tools' handles initialised (PHSR 02 / PINIT)
/// and enabled (PHSR 03 / PENA dynamic), TSTART; reading polls BX once per tracker frame, one request
/// outstanding at a time, and takes the profile's tool (`ndi.port_handle`, required when several tools
/// are there). The frame number, counting at `ndi.frame_rate_hz` (default `rate_hz`), is the tracker's
/// clock; a missing, disabled or out-of-volume tool is not visible.
///
/// Profile fields (`"ndi": {…}`): `port_handle` — two hex digits, the tool to track; `frame_rate_hz` —
/// the rate at which the system counts frames when the host polls slower (a Polaris counts at 60 Hz).
public final class NDITrackerProtocol: TrackerProtocol {
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

    public init() {
        NDI.CommandEncoder.encode(.bx(), into: &pollLine)
    }

    /// One tool's BX reply: 2 + 4·4 + 3·4 + 4 + 4 + 4 bytes of handle report, the header and CRCs.
    public var frameBytes: Int { 53 }
    public var checksumErrors: Int { Int(clamping: decoder.statistics.crcErrors) }
    public var discardedBytes: Int { Int(clamping: decoder.statistics.discardedBytes) }

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
        // An NDI system talks 9600 8N1 after power-up and after a reset; COMM moves it on (below). One
        // left at the profile's rate by a host that did not put it back answers there instead.
        var atProfileRate = false
        if let port = link as? SerialPort, port.options.baudRateBitsPerSecond != 9_600 {
            do {
                try port.changeBaudRate(to: 9_600)
            } catch {
                throw DeviceSetupFailure(port: link.name, reason: "\(error)")
            }
        }
        do {
            try expectOkay(.initialize(), "INIT", link: link, clock: clock)
        } catch {
            guard let port = link as? SerialPort, profile.baudRateBitsPerSecond != 9_600, (try? port.changeBaudRate(to: profile.baudRateBitsPerSecond)) != nil,
                (try? expectOkay(.initialize(), "INIT", link: link, clock: clock)) != nil
            else { throw error }
            atProfileRate = true
        }
        if profile.baudRateBitsPerSecond != 9_600 && !atProfileRate {
            guard let port = link as? SerialPort else {
                throw DeviceSetupFailure(port: link.name, reason: "\(profile.name): only a serial port can change its rate (the profile asks \(profile.baudRateBitsPerSecond) bit/s)")
            }
            guard let rate = NDI.SerialSettings.BaudRate.allCases.first(where: { $0.bitsPerSecond == profile.baudRateBitsPerSecond }) else {
                throw DeviceSetupFailure(port: link.name, reason: "\(profile.name): \(profile.baudRateBitsPerSecond) bit/s is not an NDI rate")
            }
            try expectOkay(.communication(NDI.SerialSettings(baudRate: rate)), "COMM", link: link, clock: clock)
            // The tracker switches once its OKAY is out; give it the time to (README §9.1 step 2).
            clock.sleep(until: clock.now().advanced(byNanoseconds: 150 * Nanoseconds.perMillisecond))
            do {
                try port.changeBaudRate(to: profile.baudRateBitsPerSecond)
            } catch {
                throw DeviceSetupFailure(port: link.name, reason: "\(error)")
            }
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
        if let wantedHandle {
            guard listed.contains(wantedHandle) else {
                throw DeviceSetupFailure(
                    port: link.name,
                    reason: "\(profile.name): tool handle \(String(format: "%02X", wantedHandle)) (ndi.port_handle) is not among the tools found: \(listed.map { String(format: "%02X", $0) }.joined(separator: ", "))")
            }
            handle = wantedHandle
        } else {
            guard listed.count == 1 else {
                throw DeviceSetupFailure(
                    port: link.name,
                    reason: "\(profile.name): \(listed.count) tools found (\(listed.map { String(format: "%02X", $0) }.joined(separator: ", "))): name the one to track in ndi.port_handle")
            }
            handle = listed[0]
        }
        try expectOkay(.portHandleEnable(handle!, priority: .dynamicTool), "PENA", link: link, clock: clock)
        try expectOkay(.startTracking(), "TSTART", link: link, clock: clock)
        decoder = NDI.ReplyDecoder()
        let firstLine = version.text.string.split(separator: "\n").first.map(String.init) ?? profile.model
        return "\(firstLine.trimmingCharacters(in: .whitespaces)), tool handle \(String(handle!, radix: 16, uppercase: true))"
    }

    public func poll(link: ByteLink, now: MonotonicInstant) -> Bool {
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

    public var nextPollAt: MonotonicInstant? { handle == nil ? nil : nextPoll }

    public func consume(_ bytes: UnsafeRawBufferPointer, receivedAt: MonotonicInstant, _ body: (TrackerMeasurement) -> Void) {
        decoder.push(bytes) { result in
            requestSentAt = nil  // answered (a BX, or an ERROR that the next poll's BX may not get)
            guard case .bx(let reply) = result else { return }
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
    }

    public func shutDown(link: ByteLink, clock: LoopClock) {
        _ = try? request(.stopTracking(), "TSTOP", link: link, clock: clock)
        // Back to 9600, where the next set-up starts (a serial break would do it too; a PTY cannot carry one).
        if let port = link as? SerialPort, port.options.baudRateBitsPerSecond != 9_600,
            (try? request(.communication(.powerUp), "COMM", link: link, clock: clock)) != nil
        {
            clock.sleep(until: clock.now().advanced(byNanoseconds: 150 * Nanoseconds.perMillisecond))
            try? port.changeBaudRate(to: 9_600)
        }
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
        let deadline = clock.now().advanced(byNanoseconds: Nanoseconds.perSecond)
        let line = NDI.CommandEncoder.encoded(command)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2_048, alignment: 1)
        defer { buffer.deallocate() }
        var reply: NDI.ASCIIReply?
        do throws(TransportError) {
            try line.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws(TransportError) in try link.write(bytes, deadline: deadline) }
            while reply == nil {
                guard try link.waitReadable(until: deadline) else { break }
                let count = try link.readAvailable(into: buffer)
                decoder.push(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { result in
                    if reply == nil, case .ascii(let ascii) = result { reply = ascii }
                }
            }
        } catch {
            throw DeviceSetupFailure(port: link.name, reason: "\(what): \(error)")
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
}
