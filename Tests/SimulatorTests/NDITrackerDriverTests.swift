import DeviceModel
import Devices
import Primitives
import Profiles
import SimulatorKit
import TestSupport
import TrackerSimulators
import Transport
import Wire
import XCTest

/// The NDI driver (`NDITrackerProtocol` in a `SerialTracker`) against the simulated tracker in virtual time
/// (protocols/ndi/README.md §9.1 step 1, §9.4): what it does when the system resets itself or refuses BX
/// while tracking — the sample is unusable at once and says why, and the system is not set up again
/// behind the session's back — and how its set-up brings a system left in any state to a known one, or
/// fails within its bounded waits naming what it tried.
final class NDITrackerDriverTests: XCTestCase {
    private static let millisecond: Int64 = 1_000_000

    /// The shipped Aurora profile at `baud` bit/s and `rateHertz`.
    private static func profile(baud: Int, rateHertz: Double = 40) throws -> TrackerProfile {
        var profile = try TrackerProfileLoader.load(path: RepositoryPaths.file("hardware/trackers/ndi-aurora-hand.json").path)
        profile.baudRateBitsPerSecond = baud
        profile.rateHertz = rateHertz
        return profile
    }

    /// Reads the tracker every millisecond for `milliseconds`, as the reader thread does; the last sample.
    @discardableResult
    private static func read(_ tracker: SerialTracker, _ clock: VirtualClock, milliseconds: Int) -> TrackerSample {
        var sample = tracker.latestSample(at: clock.now())
        for _ in 0..<milliseconds {
            clock.advance(byNanoseconds: millisecond)
            sample = tracker.latestSample(at: clock.now())
        }
        return sample
    }

    /// A 10 Hz Aurora on a 9600 bit/s line, in process: a host at 9600 reads a RESET as it comes (at 10 Hz a
    /// BX and its 53-byte reply, 68 ms at 9600, fit in a period). Its reset takes `resetMilliseconds`.
    private static func trackingAt9600(resetMilliseconds: Int64 = 20) throws -> (SerialTracker, NDIInProcessLink, VirtualClock, TrackerProfile) {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        var configuration = NDITrackerConfiguration.aurora()
        configuration.frameRateHertz = 10
        configuration.resetNanoseconds = resetMilliseconds * Self.millisecond
        let link = NDIInProcessLink(device: SimulatedNDITracker(configuration: configuration, bootTime: clock.now()), clock: clock)
        let profile = try Self.profile(baud: 9_600, rateHertz: 10)
        let tracker = try TrackerRegistry.standard.makeTracker(for: profile, link: link, clock: clock, readsInCycle: true)
        try tracker.configure()
        let sample = Self.read(tracker, clock, milliseconds: 500)
        XCTAssertTrue(sample.toolVisible)
        XCTAssertNotNil(sample.toolPositionMeters)
        XCTAssertEqual(tracker.figures.deviceConditions, 0)
        return (tracker, link, clock, profile)
    }

    /// Steps until nothing has been on the wire either way for 3 ms (a BX answered and read — its last
    /// bytes reach the host 0.1 ms after they left — and the next not yet sent).
    private static func waitForAQuietLine(_ tracker: SerialTracker, _ link: NDIInProcessLink, _ clock: VirtualClock) {
        var quiet = 0
        for _ in 0..<300 where quiet < 3 {
            clock.advance(byNanoseconds: millisecond)
            _ = tracker.latestSample(at: clock.now())
            quiet = link.device.nextDeadline == nil ? quiet + 1 : 0
        }
        XCTAssertEqual(quiet, 3)
    }

    // MARK: While tracking (README §9.4)

    func testAResetWhileTrackingMakesTheSampleUnusableAtOnceNamesItAndOnlyASetUpBringsItBack() throws {
        let (tracker, link, clock, profile) = try Self.trackingAt9600()
        Self.waitForAQuietLine(tracker, link, clock)
        let lastGood = tracker.latestSample(at: clock.now())
        XCTAssertTrue(lastGood.toolVisible)
        let resetAt = clock.now()
        link.inject([NDIInjectedFault(.trackerReset, .now)])
        // RESETBE6F⏎ leaves 20 ms later and takes 10.4 ms at 9600 bit/s.
        let replyEnd = resetAt.advanced(byNanoseconds: 20 * Self.millisecond + 10_416_667)
        var unusableAt: MonotonicInstant?
        var sample = lastGood
        while clock.now() < resetAt.advanced(byNanoseconds: 300 * Self.millisecond) {
            clock.advance(byNanoseconds: Self.millisecond)
            sample = tracker.latestSample(at: clock.now())
            if unusableAt == nil && !sample.toolVisible { unusableAt = clock.now() }
        }
        let at = try XCTUnwrap(unusableAt, "the RESET must make the sample unusable")
        XCTAssertGreaterThanOrEqual(at, replyEnd, "not before the RESET came")
        XCTAssertLessThanOrEqual(at.nanoseconds(since: replyEnd), profile.framePeriodNanoseconds, "within one frame period of it")
        XCTAssertLessThanOrEqual(at.nanoseconds(since: replyEnd), 2 * Self.millisecond, "in fact at the next read")
        XCTAssertNil(sample.toolPositionMeters, "the last good pose is not served any more")
        XCTAssertNil(sample.toolOrientation)
        XCTAssertEqual(sample.receivedAt, lastGood.receivedAt, "no fresher than the last real measurement: its age keeps running")
        XCTAssertEqual(sample.trackerStatus(at: clock.now())?.toolVisible, false, "SR-15 and SR-16 see no usable tool")
        let figures = tracker.figures
        XCTAssertEqual(figures.deviceConditions, 1)
        XCTAssertEqual(figures.lastCondition?.kind, .deviceReset)
        XCTAssertEqual(figures.condition(explaining: sample)?.kind, .deviceReset, "the reason the operator reads")
        XCTAssertTrue("\(try XCTUnwrap(figures.lastCondition))".hasPrefix("device_reset"))

        // It stays so: no poll, no INIT — it does not come back by itself while a session relies on it.
        let commands = link.device.commandStatistics.commandsDecoded
        sample = Self.read(tracker, clock, milliseconds: 1_000)
        XCTAssertEqual(link.device.commandStatistics.commandsDecoded, commands)
        XCTAssertFalse(link.device.isInitialized)
        XCTAssertFalse(sample.toolVisible)

        // The next set-up (a new session, rehabctl track) brings it back.
        try tracker.configure()
        XCTAssertTrue(link.device.isTracking)
        sample = Self.read(tracker, clock, milliseconds: 500)
        XCTAssertTrue(sample.toolVisible)
        XCTAssertNotNil(sample.toolPositionMeters)
        XCTAssertNil(tracker.figures.condition(explaining: sample))
    }

    /// A reset that cuts a BX reply short: the RESET arrives behind the start of a binary reply that will
    /// never complete, where the receiver alone would hold it (README §8.1); it is still named at once.
    func testAResetInTheMiddleOfABXReplyIsNamedAsItArrives() throws {
        let (tracker, link, clock, _) = try Self.trackingAt9600()
        Self.waitForAQuietLine(tracker, link, clock)
        // The next poll, then 30 ms: its reply (13 … 68 ms after the poll at 9600 bit/s) is half sent.
        for _ in 0..<200 where link.device.nextDeadline == nil {
            clock.advance(byNanoseconds: Self.millisecond)
            _ = tracker.latestSample(at: clock.now())
        }
        Self.read(tracker, clock, milliseconds: 30)
        XCTAssertNotNil(link.device.nextDeadline, "a reply on the wire")
        XCTAssertTrue(tracker.latestSample(at: clock.now()).toolVisible)
        let resetAt = clock.now()
        link.inject([NDIInjectedFault(.trackerReset, .now)])
        let sample = Self.read(tracker, clock, milliseconds: 20 + 11 + 2)
        XCTAssertFalse(sample.toolVisible, "unusable once the RESET has come, 31 ms after the reset")
        XCTAssertEqual(tracker.figures.lastCondition?.kind, .deviceReset)
        XCTAssertLessThanOrEqual(clock.now().nanoseconds(since: resetAt), 33 * Self.millisecond)
    }

    func testAnERRORInAnswerToBXMakesTheSampleUnusableWithItsCodeUntilDataComesAgain() throws {
        let (tracker, link, clock, profile) = try Self.trackingAt9600()
        Self.waitForAQuietLine(tracker, link, clock)
        let lastGood = tracker.latestSample(at: clock.now())
        let injectedAt = clock.now()
        link.inject([NDIInjectedFault(.bxError(code: 0x05), .now, forMilliseconds: 250)])
        var unusable: (at: MonotonicInstant, sample: TrackerSample)?
        while clock.now() < injectedAt.advanced(byNanoseconds: 200 * Self.millisecond) {
            clock.advance(byNanoseconds: Self.millisecond)
            let sample = tracker.latestSample(at: clock.now())
            if unusable == nil && !sample.toolVisible { unusable = (clock.now(), sample) }
        }
        let (at, sample) = try XCTUnwrap(unusable, "an ERROR to BX must make the sample unusable")
        // The next poll comes within a period; BX and ERROR05 take 13 + 0.5 + 12.5 ms at 9600 bit/s.
        XCTAssertLessThanOrEqual(at.nanoseconds(since: injectedAt), profile.framePeriodNanoseconds + 27 * Self.millisecond)
        XCTAssertNil(sample.toolPositionMeters)
        XCTAssertEqual(sample.receivedAt, lastGood.receivedAt, "the last good pose is not passed off as fresh")
        let figures = tracker.figures
        XCTAssertEqual(figures.lastCondition, TrackerCondition(kind: .requestRefused, deviceCode: 0x05, meaning: "time-out on command execution"))
        XCTAssertEqual(figures.condition(explaining: sample)?.deviceCode, 0x05)
        XCTAssertEqual("\(try XCTUnwrap(figures.lastCondition))", "request_refused (device code 0x05: time-out on command execution)")
        XCTAssertGreaterThanOrEqual(figures.deviceConditions, 2, "every refused BX counts (two polls in 200 ms)")

        // Not latched: once the system answers with data again, the sample is a measurement again.
        let after = Self.read(tracker, clock, milliseconds: 300)
        XCTAssertTrue(after.toolVisible)
        XCTAssertGreaterThan(after.receivedAt, lastGood.receivedAt)
        XCTAssertNil(tracker.figures.condition(explaining: after))
        XCTAssertTrue(link.device.isTracking)
    }

    // MARK: Set-up from any state (README §9.1 step 1)

    /// The system was left tracking at the profile's rate by a run that ended without TSTOP or COMM back
    /// (a crash): INIT at 9600 meets nothing, INIT at the profile's rate is answered — no reset needed.
    func testASetUpFindsASystemLeftTrackingAtTheProfilesRate() throws {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        let link = NDIInProcessLink(device: SimulatedNDITracker(configuration: .aurora(), bootTime: clock.now()), clock: clock)
        let profile = try Self.profile(baud: 115_200)
        let previous = try TrackerRegistry.standard.makeTracker(
            for: profile, link: SimulatedSerialLine(link, bitsPerSecond: 115_200, carriesBreaks: false), clock: clock, readsInCycle: true)
        try previous.configure()
        XCTAssertTrue(Self.read(previous, clock, milliseconds: 200).toolVisible)
        XCTAssertEqual(link.device.deviceBitsPerSecond, 115_200)

        let line = SimulatedSerialLine(link, bitsPerSecond: 115_200, carriesBreaks: false)
        let tracker = try TrackerRegistry.standard.makeTracker(for: profile, link: line, clock: clock, readsInCycle: true)
        let start = clock.now()
        try tracker.configure()
        XCTAssertLessThan(clock.now().nanoseconds(since: start), 2_000 * Self.millisecond)
        XCTAssertEqual(line.rates(ofLinesStartingWith: "\rINIT"), [9_600, 115_200], "a CR and INIT at 9600, then at the profile's rate")
        XCTAssertEqual(line.rates(ofLinesStartingWith: "RESET"), [], "no reset needed")
        XCTAssertEqual(line.rates(ofLinesStartingWith: "COMM"), [], "it is at the profile's rate already")
        let sample = Self.read(tracker, clock, milliseconds: 300)
        XCTAssertTrue(sample.toolVisible)
        XCTAssertNotNil(sample.toolPositionMeters)
    }

    /// Left at a rate neither 9600 nor the profile's (another program's): a serial break resets it,
    /// then INIT and COMM as usual.
    func testASetUpResetsASystemAtAnUnknownRateWithABreak() throws {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        let link = NDIInProcessLink(device: SimulatedNDITracker(configuration: .aurora(), bootTime: clock.now()), clock: clock)
        let previous = try TrackerRegistry.standard.makeTracker(
            for: try Self.profile(baud: 57_600), link: SimulatedSerialLine(link, bitsPerSecond: 57_600, carriesBreaks: true), clock: clock,
            readsInCycle: true)
        try previous.configure()
        XCTAssertTrue(Self.read(previous, clock, milliseconds: 200).toolVisible)
        XCTAssertEqual(link.device.deviceBitsPerSecond, 57_600)

        let line = SimulatedSerialLine(link, bitsPerSecond: 115_200, carriesBreaks: true)
        let tracker = try TrackerRegistry.standard.makeTracker(for: try Self.profile(baud: 115_200), link: line, clock: clock, readsInCycle: true)
        let start = clock.now()
        try tracker.configure()
        // 2 × 1 s of INIT, the break, the reset's 1 s, then the set-up proper.
        XCTAssertLessThan(clock.now().nanoseconds(since: start), 4_000 * Self.millisecond)
        XCTAssertEqual(line.breaks, 1)
        XCTAssertEqual(line.rates(ofLinesStartingWith: "\rINIT"), [9_600, 115_200])
        XCTAssertEqual(line.rates(ofLinesStartingWith: "RESET"), [], "the break did it")
        XCTAssertEqual(line.rates(ofLinesStartingWith: "INIT"), [9_600], "INIT after the RESET")
        XCTAssertEqual(line.rates(ofLinesStartingWith: "COMM"), [9_600])
        XCTAssertEqual(link.device.deviceBitsPerSecond, 115_200)
        XCTAssertTrue(link.device.isTracking)
        XCTAssertTrue(Self.read(tracker, clock, milliseconds: 300).toolVisible)
    }

    /// A pseudo-terminal carries no break: the RESET command is sent at the profile's rate and at 9600, and
    /// the set-up waits for the RESET — here of a system that had just reset itself when the set-up began
    /// (it hears nothing for 2.5 s, through both INITs).
    func testWithoutABreakASetUpSendsRESETAndWaitsForTheSystemToComeBack() throws {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        var configuration = NDITrackerConfiguration.aurora()
        configuration.resetNanoseconds = 2_500 * Self.millisecond
        let link = NDIInProcessLink(device: SimulatedNDITracker(configuration: configuration, bootTime: clock.now()), clock: clock)
        let profile = try Self.profile(baud: 115_200)
        let previous = try TrackerRegistry.standard.makeTracker(
            for: profile, link: SimulatedSerialLine(link, bitsPerSecond: 115_200, carriesBreaks: false), clock: clock, readsInCycle: true)
        try previous.configure()
        Self.read(previous, clock, milliseconds: 200)
        link.inject([NDIInjectedFault(.trackerReset, .now)])

        let line = SimulatedSerialLine(link, bitsPerSecond: 115_200, carriesBreaks: false)
        let tracker = try TrackerRegistry.standard.makeTracker(for: profile, link: line, clock: clock, readsInCycle: true)
        try tracker.configure()
        XCTAssertEqual(line.rates(ofLinesStartingWith: "\rINIT"), [9_600, 115_200])
        XCTAssertEqual(line.rates(ofLinesStartingWith: "RESET"), [115_200, 9_600], "at the profile's rate, then at 9600")
        XCTAssertEqual(line.rates(ofLinesStartingWith: "INIT"), [9_600])
        XCTAssertTrue(link.device.isTracking)
        XCTAssertEqual(link.device.deviceBitsPerSecond, 115_200)
        XCTAssertTrue(Self.read(tracker, clock, milliseconds: 300).toolVisible)
    }

    /// The RESET command itself resets a system the host could not hear (its replies lost for the first
    /// 2.5 s): without it no RESET would ever come.
    func testOnALineWithoutABreakTheRESETCommandResetsTheSystem() throws {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        let link = NDIInProcessLink(device: SimulatedNDITracker(configuration: .aurora(), bootTime: clock.now()), clock: clock)
        link.inject([NDIInjectedFault(.dropReplies, .now, forMilliseconds: 2_500)])
        let line = SimulatedSerialLine(link, bitsPerSecond: 115_200, carriesBreaks: false)
        let tracker = try TrackerRegistry.standard.makeTracker(for: try Self.profile(baud: 115_200), link: line, clock: clock, readsInCycle: true)
        try tracker.configure()
        var events: [FirmwareEventRecord] = []
        link.device.drainEventRecords { events.append($0) }
        XCTAssertEqual(events.filter { $0.event == "reset" }.count, 1, "the RESET at 9600 reset it")
        XCTAssertEqual(line.rates(ofLinesStartingWith: "RESET"), [115_200, 9_600])
        XCTAssertTrue(link.device.isTracking)
        XCTAssertTrue(Self.read(tracker, clock, milliseconds: 300).toolVisible)
    }

    /// Nothing on the port: every step is tried within its bounded wait, and the error names them all.
    func testASetUpAgainstASilentPortFailsWithinItsTimeoutsNamingWhatItTried() throws {
        for carriesBreaks in [true, false] {
            let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
            let line = SilentSerialLine(clock: clock, bitsPerSecond: 115_200, carriesBreaks: carriesBreaks)
            let tracker = try TrackerRegistry.standard.makeTracker(for: try Self.profile(baud: 115_200), link: line, clock: clock, readsInCycle: true)
            let start = clock.now()
            XCTAssertThrowsError(try tracker.configure()) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("no NDI system could be brought to a known state"), text)
                XCTAssertTrue(text.contains("INIT at 9600 bit/s: no reply within 1 s"), text)
                XCTAssertTrue(text.contains("INIT at 115200 bit/s: no reply within 1 s"), text)
                if carriesBreaks {
                    XCTAssertTrue(text.contains("a serial break: no RESET within 7 s"), text)
                    XCTAssertFalse(text.contains("RESET at"), "no RESET command where the system answered nothing: \(text)")
                } else {
                    XCTAssertTrue(text.contains("a serial break: this line cannot carry one (a pseudo-terminal)"), text)
                    XCTAssertTrue(text.contains("RESET at 115200 and 9600 bit/s: no RESET within 7 s"), text)
                }
            }
            // 1 s for each INIT, 7 s for the RESET, the break's 0.25 s and the RESET's drains: under 10 s.
            let elapsed = clock.now().nanoseconds(since: start)
            XCTAssertGreaterThanOrEqual(elapsed, 9_000 * Self.millisecond, "every wait was given its time")
            XCTAssertLessThan(elapsed, 10_000 * Self.millisecond, "and no more")
            XCTAssertEqual(line.breaks, carriesBreaks ? 1 : 0)
        }
        // A link with no line control at all (in process): 9600 only, RESET at 9600.
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        let silent = SilentSerialLine(clock: clock, bitsPerSecond: 9_600, carriesBreaks: false)
        let tracker = try TrackerRegistry.standard.makeTracker(for: try Self.profile(baud: 9_600), link: PlainLink(silent), clock: clock, readsInCycle: true)
        XCTAssertThrowsError(try tracker.configure()) { error in
            XCTAssertTrue("\(error)".contains("RESET at 9600 bit/s: no RESET within 7 s"), "\(error)")
            XCTAssertFalse("\(error)".contains("115200"), "\(error)")
        }
    }
}

/// The host's end of a serial line to an in-process simulated NDI tracker, with the line control of a
/// serial port: the rate the host sets is told to the tracker (at another rate than its own it hears
/// noise and sends noise), every write is kept with the rate it went at, and a break — where the line
/// `carriesBreaks` — resets the tracker as on a real port; without, it is refused as on a
/// pseudo-terminal (README §10.3).
private final class SimulatedSerialLine: ByteLink, SerialLineControl {
    struct Written {
        var bytes: [UInt8]
        var bitsPerSecond: Int
    }

    let inner: NDIInProcessLink
    let carriesBreaks: Bool
    private(set) var lineRateBitsPerSecond: Int
    private(set) var breaks = 0
    private(set) var written: [Written] = []
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 4_096, alignment: 1)

    init(_ inner: NDIInProcessLink, bitsPerSecond: Int, carriesBreaks: Bool) {
        self.inner = inner
        self.carriesBreaks = carriesBreaks
        lineRateBitsPerSecond = bitsPerSecond
        inner.device.hostLineRateChanged(bitsPerSecond: bitsPerSecond)
    }

    deinit {
        scratch.deallocate()
    }

    var name: String { inner.name }

    func readAvailable(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> Int {
        try inner.readAvailable(into: buffer)
    }

    func write(_ bytes: UnsafeRawBufferPointer, deadline: MonotonicInstant) throws(TransportError) {
        written.append(Written(bytes: Array(bytes), bitsPerSecond: lineRateBitsPerSecond))
        try inner.write(bytes, deadline: deadline)
    }

    func waitReadable(until deadline: MonotonicInstant) throws(TransportError) -> Bool {
        try inner.waitReadable(until: deadline)
    }

    func changeBaudRate(to bitsPerSecond: Int) throws(TransportError) {
        lineRateBitsPerSecond = bitsPerSecond
        inner.device.hostLineRateChanged(bitsPerSecond: bitsPerSecond)
        discardPendingInput()
    }

    /// The simulated tracker times every byte when it is written: nothing waits on the host's side.
    func drain(deadline: MonotonicInstant) throws(TransportError) {}

    func discardPendingInput() {
        while true {
            let count = (try? inner.readAvailable(into: scratch)) ?? 0
            if count == 0 { return }
        }
    }

    func sendBreak(durationMilliseconds: Int) throws(TransportError) -> Bool {
        guard carriesBreaks else { return false }
        breaks += 1
        inner.clock.advance(byNanoseconds: Int64(durationMilliseconds) * 1_000_000)
        inner.device.advance(to: inner.clock.now())
        inner.device.serialBreak()
        return true
    }

    /// The rates at which the lines starting with `text` were written, in order.
    func rates(ofLinesStartingWith text: String) -> [Int] {
        let prefix = Array(text.utf8)
        return written.filter { $0.bytes.starts(with: prefix) }.map { $0.bitsPerSecond }
    }
}

/// A serial line with nothing at its other end, on a virtual clock: every wait runs to its deadline.
private final class SilentSerialLine: ByteLink, SerialLineControl {
    let clock: VirtualClock
    let carriesBreaks: Bool
    private(set) var lineRateBitsPerSecond: Int
    private(set) var breaks = 0

    init(clock: VirtualClock, bitsPerSecond: Int, carriesBreaks: Bool) {
        self.clock = clock
        self.carriesBreaks = carriesBreaks
        lineRateBitsPerSecond = bitsPerSecond
    }

    var name: String { "silent line" }

    func readAvailable(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> Int { 0 }

    func write(_ bytes: UnsafeRawBufferPointer, deadline: MonotonicInstant) throws(TransportError) {}

    func waitReadable(until deadline: MonotonicInstant) throws(TransportError) -> Bool {
        clock.advance(to: max(clock.now(), deadline))
        return false
    }

    func changeBaudRate(to bitsPerSecond: Int) throws(TransportError) { lineRateBitsPerSecond = bitsPerSecond }

    func drain(deadline: MonotonicInstant) throws(TransportError) {}

    func discardPendingInput() {}

    func sendBreak(durationMilliseconds: Int) throws(TransportError) -> Bool {
        guard carriesBreaks else { return false }
        breaks += 1
        clock.advance(byNanoseconds: Int64(durationMilliseconds) * 1_000_000)
        return true
    }
}

/// Another link's bytes without its line control (as the in-process link has none).
private final class PlainLink: ByteLink {
    let inner: ByteLink

    init(_ inner: ByteLink) {
        self.inner = inner
    }

    var name: String { inner.name }

    func readAvailable(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> Int { try inner.readAvailable(into: buffer) }

    func write(_ bytes: UnsafeRawBufferPointer, deadline: MonotonicInstant) throws(TransportError) { try inner.write(bytes, deadline: deadline) }

    func waitReadable(until deadline: MonotonicInstant) throws(TransportError) -> Bool { try inner.waitReadable(until: deadline) }
}
