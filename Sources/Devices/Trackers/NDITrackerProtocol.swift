import DeviceModel
import Primitives
import Profiles
import Transport
import Wire

/// An NDI Aurora or Polaris on the host (protocols/ndi/README.md §9): set-up is INIT at 9600, COMM to
/// the profile's rate (the port follows), VER, the wired tools' handles initialised (PHSR 02 / PINIT)
/// and enabled (PHSR 03 / PENA dynamic), TSTART; reading polls BX once per tracker frame and takes the
/// first enabled handle's report. The frame number is the tracker's clock; a missing, disabled or
/// out-of-volume tool is not visible.
public final class NDITrackerProtocol: TrackerProtocol {
    private var decoder = NDI.ReplyDecoder()
    private var pollLine = NDI.EncodedCommand()
    private var nextPoll = MonotonicInstant.zero
    private var periodNanoseconds: Int64 = 25_000_000
    private var handle: UInt8?
    private var lastFrameNumber: UInt32?
    private var frameWraps: Int64 = 0

    public init() {
        NDI.CommandEncoder.encode(.bx(), into: &pollLine)
    }

    /// One tool's BX reply: 2 + 4·4 + 3·4 + 4 + 4 + 4 bytes of handle report, the header and CRCs.
    public var frameBytes: Int { 53 }
    public var checksumErrors: Int { Int(clamping: decoder.statistics.crcErrors) }
    public var discardedBytes: Int { Int(clamping: decoder.statistics.discardedBytes) }

    public func configure(link: ByteLink, clock: LoopClock, profile: TrackerProfile) throws(DeviceSetupFailure) -> String {
        periodNanoseconds = profile.framePeriodNanoseconds
        // An NDI system talks 9600 8N1 after power-up and after a reset; COMM moves it on (below).
        if let port = link as? SerialPort, port.options.baudRateBitsPerSecond != 9_600 {
            do {
                try port.changeBaudRate(to: 9_600)
            } catch {
                throw DeviceSetupFailure(port: link.name, reason: "\(error)")
            }
        }
        try expectOkay(.initialize(), "INIT", link: link, clock: clock)
        if profile.baudRateBitsPerSecond != 9_600 {
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
        for index in 0..<ready.count {
            try expectOkay(.portHandleEnable(ready[index].handle, priority: .dynamicTool), "PENA", link: link, clock: clock)
        }
        handle = ready[0].handle
        try expectOkay(.startTracking(), "TSTART", link: link, clock: clock)
        decoder = NDI.ReplyDecoder()
        let firstLine = version.text.string.split(separator: "\n").first.map(String.init) ?? profile.model
        return "\(firstLine.trimmingCharacters(in: .whitespaces)), tool handle \(String(handle!, radix: 16, uppercase: true))"
    }

    public func poll(link: ByteLink, now: MonotonicInstant) -> Bool {
        // One BX per tracker frame: faster polls return the same frame again (README §9.2).
        guard now >= nextPoll else { return true }
        // On the tracker's own schedule, not from whenever this turn came (no drift); after a stall, from now.
        nextPoll = nextPoll.advanced(byNanoseconds: periodNanoseconds)
        if nextPoll <= now { nextPoll = now.advanced(byNanoseconds: periodNanoseconds) }
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
            measurement.deviceTimeNanoseconds = (frameWraps << 32 + Int64(report.frameNumber)) * periodNanoseconds
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
