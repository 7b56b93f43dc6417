import DeviceModel
import Devices
import Primitives
import Profiles
import TestSupport
import Transport
import SimulatorKit
import StrictJSON
import TrackerSimulators
import Wire
import XCTest

/// The tracker drivers' own logic on real protocol bytes (the Wire encoders), fed at set times on a
/// virtual clock: the mounting's joint angle after zeroing, counters unwrapped, frozen frames, the
/// sample's age, the status word; and the orientation arithmetic they rest on.
final class TrackerDriverTests: XCTestCase {
    private let degree = Units.radiansPerDegree

    /// Bytes that become readable at given times (a sensor streaming on a line), written bytes kept.
    private final class TimedLink: ByteLink {
        let clock: VirtualClock
        var pending: [(at: MonotonicInstant, bytes: [UInt8])] = []
        var written: [[UInt8]] = []
        init(clock: VirtualClock) { self.clock = clock }
        var name: String { "timed link" }
        func readAvailable(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> Int {
            var count = 0
            while let first = pending.first, first.at <= clock.now(), count + first.bytes.count <= buffer.count {
                for byte in first.bytes {
                    buffer[count] = byte
                    count += 1
                }
                pending.removeFirst()
            }
            return count
        }
        func write(_ bytes: UnsafeRawBufferPointer, deadline: MonotonicInstant) throws(TransportError) { written.append(Array(bytes)) }
        func waitReadable(until deadline: MonotonicInstant) throws(TransportError) -> Bool {
            if let first = pending.first, first.at <= deadline {
                clock.advance(to: max(clock.now(), first.at))
                return true
            }
            clock.advance(to: max(clock.now(), deadline))
            return false
        }
    }

    // MARK: Orientation

    func testTheTwistAboutTheMountingAxisIgnoresTheSwingAboutTheOthers() {
        let tilt = Orientation.rotation(about: SIMD3(1, 0, 0), radians: 20 * degree)
        let flexion = Orientation.rotation(about: SIMD3(0, 1, 0), radians: 30 * degree)
        let q = Orientation.multiply(tilt, flexion)
        XCTAssertEqual(Orientation.twistAngle(of: q, about: SIMD3(0, 1, 0)), 30 * degree, accuracy: 1e-12)
        XCTAssertEqual(Orientation.twistAngle(of: Orientation.conjugate(flexion), about: SIMD3(0, 1, 0)), -30 * degree, accuracy: 1e-12)
        let pitched = Orientation.fromYawPitchRoll(yaw: 0, pitch: 25 * degree, roll: 0)
        XCTAssertEqual(Orientation.twistAngle(of: pitched, about: SIMD3(0, 1, 0)), 25 * degree, accuracy: 1e-12)
        XCTAssertEqual(Orientation.swingAngle(of: q, about: SIMD3(0, 1, 0)), 20 * degree, accuracy: 1e-12, "the tilt alone")
        XCTAssertEqual(Orientation.swingAngle(of: flexion, about: SIMD3(0, 1, 0)), 0, accuracy: 1e-12)
        XCTAssertEqual(Orientation.swingAngle(of: Orientation.rotation(about: SIMD3(0, 0, 1), radians: -7 * degree), about: SIMD3(0, 1, 0)),
                       7 * degree, accuracy: 1e-9)
    }

    // MARK: BNO08x UART-RVC

    private func bnoFrames(
        _ link: TimedLink, from start: MonotonicInstant, count: Int, firstIndex: Int = 0, yaw: (Int) -> Double = { _ in 0 }, pitch: (Int) -> Double
    ) {
        for n in 0..<count {
            let frame = BNO08xRVC.Frame(
                index: UInt8(truncatingIfNeeded: firstIndex + n), yawRadians: yaw(n), pitchRadians: pitch(n), rollRadians: 0,
                accelerationXMetersPerSecondSquared: 0, accelerationYMetersPerSecondSquared: 0, accelerationZMetersPerSecondSquared: 9.81)
            link.pending.append((start.advanced(byNanoseconds: Int64(n) * 10_000_000), BNO08xRVC.FrameEncoder.frame(frame).bytes))
        }
    }

    func testABNO08xIsZeroedAtTheNeutralPoseAndReportsTheFlexionAboutItsMountingAxis() throws {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        let link = TimedLink(clock: clock)
        let profile = try TrackerProfileLoader.load(path: RepositoryPaths.file("hardware/trackers/bno085-forearm.json").path)
        let start = clock.now()
        // 0.5 s still at a pitch of 3° (the neutral pose need not be level), then a swing to 3° + 20°;
        // the index wraps past 255 on the way.
        bnoFrames(link, from: start, count: 50, firstIndex: 230) { _ in 3 * self.degree }
        bnoFrames(link, from: start.advanced(byNanoseconds: 500_000_000), count: 50, firstIndex: 280) { n in (3 + 20 * Double(n) / 49) * self.degree }
        let tracker = try TrackerRegistry.standard.makeTracker(for: profile, link: link, clock: clock, readsInCycle: true)
        try tracker.configure()
        XCTAssertTrue(tracker.identity.contains("UART-RVC"), tracker.identity)
        try tracker.zero(seconds: 0.2)
        XCTAssertTrue(tracker.isZeroed)
        // Read every millisecond, as the reader thread does.
        var sample = tracker.latestSample(at: clock.now())
        while clock.now() < start.advanced(byNanoseconds: 1_000_000_000) {
            clock.advance(byNanoseconds: 1_000_000)
            sample = tracker.latestSample(at: clock.now())
        }
        XCTAssertEqual(sample.positionRadians, 20 * degree, accuracy: 0.02 * degree, "the turn about y since the neutral pose")
        XCTAssertTrue(sample.toolVisible)
        XCTAssertEqual(sample.frameCounter, 97, "counted from the last frame the set-up heard (the third), through the index's wrap")
        XCTAssertEqual(sample.repeatedFrames, 0)
        XCTAssertEqual(sample.framePeriodNanoseconds, 10_000_000)
        // Dated by the index's 10 ms periods through the smallest delay seen (every frame here arrives
        // with the same delay, so none is added), plus the 19-byte frame's 1.65 ms at 115200 bit/s and
        // the profile's 10 ms.
        XCTAssertEqual(sample.sourceLatencyNanoseconds, 10_000_000 + 1_649_305)
        XCTAssertEqual(tracker.figures.checksumErrors, 0)
    }

    func testAZeroingWhileTheLimbMovesIsRefusedWithWhatMoved() throws {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        let link = TimedLink(clock: clock)
        let profile = try TrackerProfileLoader.load(path: RepositoryPaths.file("hardware/trackers/bno085-forearm.json").path)
        bnoFrames(link, from: clock.now(), count: 100) { n in Double(n) * 0.2 * self.degree }
        let tracker = try TrackerRegistry.standard.makeTracker(for: profile, link: link, clock: clock, readsInCycle: true)
        try tracker.configure()
        XCTAssertThrowsError(try tracker.zero(seconds: 0.3)) { error in
            XCTAssertTrue("\(error)".contains("hold the neutral pose still"), "\(error)")
        }
        XCTAssertFalse(tracker.isZeroed)
    }

    func testAZeroingWhileTheLimbSwingsAwayFromTheMountingAxisIsRefusedThoughItsTwistStaysStill() throws {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        let link = TimedLink(clock: clock)
        let profile = try TrackerProfileLoader.load(path: RepositoryPaths.file("hardware/trackers/bno085-forearm.json").path)
        // The forearm held at its flexion zero (pitch, the mounting's y) but turning 0.3° a frame in yaw: 9° in 0.3 s.
        bnoFrames(link, from: clock.now(), count: 100, yaw: { n in Double(n) * 0.3 * self.degree }) { _ in 0 }
        let tracker = try TrackerRegistry.standard.makeTracker(for: profile, link: link, clock: clock, readsInCycle: true)
        try tracker.configure()
        XCTAssertThrowsError(try tracker.zero(seconds: 0.3)) { error in
            XCTAssertTrue("\(error)".contains("swung"), "\(error)")
            XCTAssertTrue("\(error)".contains("hold the neutral pose still"), "\(error)")
        }
        XCTAssertFalse(tracker.isZeroed)

        // Within the swing limit (0.1° a frame: under 3°) it is taken.
        let steady = TimedLink(clock: clock)
        bnoFrames(steady, from: clock.now(), count: 100, yaw: { n in Double(n) * 0.1 * self.degree }) { _ in 0 }
        let second = try TrackerRegistry.standard.makeTracker(for: profile, link: steady, clock: clock, readsInCycle: true)
        try second.configure()
        try second.zero(seconds: 0.3)
        XCTAssertTrue(second.isZeroed)
    }

    func testAFrozenIndexIsCountedAsRepeatedFramesAndASilentModuleIsRefusedAtSetUp() throws {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        let link = TimedLink(clock: clock)
        let profile = try TrackerProfileLoader.load(path: RepositoryPaths.file("hardware/trackers/bno085-forearm.json").path)
        bnoFrames(link, from: clock.now(), count: 10) { _ in 0 }
        for n in 0..<5 {  // the same index five more times: bytes arrive, the counter does not move
            let frame = BNO08xRVC.Frame(
                index: 9, yawRadians: 0, pitchRadians: 0, rollRadians: 0, accelerationXMetersPerSecondSquared: 0,
                accelerationYMetersPerSecondSquared: 0, accelerationZMetersPerSecondSquared: 9.81)
            link.pending.append((clock.now().advanced(byNanoseconds: Int64(10 + n) * 10_000_000), BNO08xRVC.FrameEncoder.frame(frame).bytes))
        }
        let tracker = try TrackerRegistry.standard.makeTracker(for: profile, link: link, clock: clock, readsInCycle: true)
        try tracker.configure()
        clock.advance(byNanoseconds: 200_000_000)
        let sample = tracker.latestSample(at: clock.now())
        XCTAssertEqual(sample.repeatedFrames, 5)
        XCTAssertTrue(sample.trackerStatus(at: clock.now())?.frameCounterFrozen ?? false, "SR-15 sees a frozen counter")

        let silent = try TrackerRegistry.standard.makeTracker(for: profile, link: TimedLink(clock: clock), clock: clock, readsInCycle: true)
        XCTAssertThrowsError(try silent.configure()) { error in
            XCTAssertTrue("\(error)".contains("0 UART-RVC frames in 1 s"), "\(error)")
        }
    }

    // MARK: Xsens MTi

    func testAnMTiIsSetUpInItsProtocolAndItsSamplesAreDatedByItsOwnClock() throws {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        let link = TimedLink(clock: clock)
        let profile = try TrackerProfileLoader.load(path: RepositoryPaths.file("hardware/trackers/xsens-mti-wrist.json").path)
        // The device's side of the set-up, answered in order (each reply a little after the request).
        var frame = Xsens.EncodedFrame()
        let origin = clock.now()
        let at = { (ms: Int64) in origin.advanced(byNanoseconds: ms * 1_000_000) }
        Xsens.FrameEncoder.goToConfigAck(into: &frame)
        link.pending.append((at(1), frame.bytes))
        Xsens.FrameEncoder.deviceID(0x0388_0001, into: &frame)
        link.pending.append((at(2), frame.bytes))
        Xsens.FrameEncoder.productCode(FixedASCII<20>("MTi-3-8A7G6"), into: &frame)
        link.pending.append((at(3), frame.bytes))
        Xsens.FrameEncoder.firmwareRevision(Xsens.FirmwareRevision(major: 1, minor: 8, revision: 2), into: &frame)
        link.pending.append((at(4), frame.bytes))
        Xsens.FrameEncoder.outputConfigurationAck(XsensTrackerProtocol.outputConfiguration(rateHertz: 100), into: &frame)
        link.pending.append((at(5), frame.bytes))
        Xsens.FrameEncoder.goToMeasurementAck(into: &frame)
        link.pending.append((at(6), frame.bytes))
        // Then MTData2 at 100 Hz: flexion about y ramps 0 → 30° over the second 0.5 s; 65 530 → wraps.
        for n in 0..<100 {
            let angle = n < 50 ? 0 : 30 * degree * Double(n - 50) / 49
            let q = Orientation.rotation(about: SIMD3(0, 1, 0), radians: angle)
            let sample = Xsens.MTData2Sample(
                packetCounter: UInt16(truncatingIfNeeded: 65_530 + n), sampleTimeFine: UInt32(1_000_000 + 100 * n),
                quaternion: Xsens.Quaternion(w: q.x, x: q.y, y: q.z, z: q.w), statusWord: 0x03)
            Xsens.FrameEncoder.mtData2(sample, into: &frame)
            link.pending.append((at(10 + 10 * Int64(n)), frame.bytes))
        }
        let tracker = try TrackerRegistry.standard.makeTracker(for: profile, link: link, clock: clock, readsInCycle: true)
        try tracker.configure()
        XCTAssertEqual(tracker.identity, "MTi-3-8A7G6 id 0x3880001 firmware 1.8.2")
        XCTAssertEqual(link.written.count, 6, "GoToConfig, ReqDID, ReqProductCode, ReqFWRev, SetOutputConfiguration, GoToMeasurement")
        try tracker.zero(seconds: 0.2)
        // Read every millisecond, as the reader thread does.
        var sample = tracker.latestSample(at: clock.now())
        while clock.now() < at(1_100) {
            clock.advance(byNanoseconds: 1_000_000)
            sample = tracker.latestSample(at: clock.now())
        }
        XCTAssertEqual(sample.positionRadians, 30 * degree, accuracy: 1e-4)
        XCTAssertEqual(sample.frameCounter, 99, "the 16-bit counter unwrapped")
        XCTAssertTrue(sample.toolVisible)
        // Dated by SampleTimeFine through the smallest delay seen (every frame here arrives with the same
        // delay, so none is added), plus the 73-byte frame's 6.34 ms at 115200 bit/s and the profile's 2 ms.
        XCTAssertEqual(sample.sourceLatencyNanoseconds, 2_000_000 + 6_336_805)
    }

    func testAnMTiThatRefusesItsOutputConfigurationSaysWhy() throws {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        let link = TimedLink(clock: clock)
        var profile = try TrackerProfileLoader.load(path: RepositoryPaths.file("hardware/trackers/xsens-mti-wrist.json").path)
        profile.rateHertz = 100
        var frame = Xsens.EncodedFrame()
        let origin = clock.now()
        let at = { (ms: Int64) in origin.advanced(byNanoseconds: ms * 1_000_000) }
        Xsens.FrameEncoder.goToConfigAck(into: &frame)
        link.pending.append((at(1), frame.bytes))
        Xsens.FrameEncoder.deviceID(1, into: &frame)
        link.pending.append((at(2), frame.bytes))
        Xsens.FrameEncoder.productCode(FixedASCII<20>("MTi-3"), into: &frame)
        link.pending.append((at(3), frame.bytes))
        Xsens.FrameEncoder.firmwareRevision(Xsens.FirmwareRevision(major: 1, minor: 0, revision: 0), into: &frame)
        link.pending.append((at(4), frame.bytes))
        Xsens.FrameEncoder.error(.invalidParameter, into: &frame)
        link.pending.append((at(5), frame.bytes))
        let tracker = try TrackerRegistry.standard.makeTracker(for: profile, link: link, clock: clock, readsInCycle: true)
        XCTAssertThrowsError(try tracker.configure()) { error in
            XCTAssertTrue("\(error)".contains("refused SetOutputConfiguration"), "\(error)")
        }
    }

    /// A repeated frame is no fresher than the frame it repeats: its age keeps running (SR-15), and a
    /// sample without a usable orientation from a zeroed tracker is not a visible 0.
    func testARepeatKeepsItsAgeAndAFrameWithoutOrientationIsNotVisible() throws {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        let link = TimedLink(clock: clock)
        let profile = try TrackerProfileLoader.load(path: RepositoryPaths.file("hardware/trackers/bno085-forearm.json").path)
        let origin = clock.now()
        bnoFrames(link, from: origin, count: 30) { _ in 0 }
        for n in 1...2 {  // index 29 again, 10 and 20 ms after it
            let frame = BNO08xRVC.Frame(
                index: 29, yawRadians: 0, pitchRadians: 0, rollRadians: 0, accelerationXMetersPerSecondSquared: 0,
                accelerationYMetersPerSecondSquared: 0, accelerationZMetersPerSecondSquared: 9.81)
            link.pending.append((origin.advanced(byNanoseconds: 290_000_000 + Int64(n) * 10_000_000), BNO08xRVC.FrameEncoder.frame(frame).bytes))
        }
        let tracker = try TrackerRegistry.standard.makeTracker(for: profile, link: link, clock: clock, readsInCycle: true)
        try tracker.configure()
        try tracker.zero(seconds: 0.15)
        func read(until milliseconds: Int64) -> TrackerSample {
            var sample = tracker.latestSample(at: clock.now())
            while clock.now() < origin.advanced(byNanoseconds: milliseconds * 1_000_000) {
                clock.advance(byNanoseconds: 1_000_000)
                sample = tracker.latestSample(at: clock.now())
            }
            return sample
        }
        let fresh = read(until: 295)
        XCTAssertEqual(fresh.repeatedFrames, 0)
        let repeated = read(until: 325)
        XCTAssertEqual(repeated.repeatedFrames, 2)
        XCTAssertEqual(repeated.receivedAt, fresh.receivedAt, "a repeat does not make the sample younger")
        XCTAssertEqual(repeated.ageNanoseconds(at: clock.now()), fresh.ageNanoseconds(at: clock.now()))
        XCTAssertGreaterThan(repeated.ageNanoseconds(at: clock.now()), 30_000_000, "35 ms since frame 29, plus its latency")

        XCTAssertNil(Orientation.normalized(SIMD4(0, 0, 0, 0)), "no rotation")
        XCTAssertNil(Orientation.normalized(SIMD4(.nan, 0, 0, 0)))
        XCTAssertNotNil(Orientation.normalized(SIMD4(0.999, 0.01, 0, 0)))
    }

    // MARK: NDI

    /// Two tools in the field: the driver will not guess which is the patient's hand — it asks for
    /// `ndi.port_handle`, and with it tracks that tool (at 9600 bit/s in process: no COMM).
    func testAnNDISystemWithTwoToolsNeedsTheProfileToNameOne() throws {
        var profile = try TrackerProfileLoader.load(path: RepositoryPaths.file("hardware/trackers/ndi-aurora-hand.json").path)
        profile.baudRateBitsPerSecond = 9_600
        let tools = [NDIToolConfiguration(portHandle: 0x0A), NDIToolConfiguration(portHandle: 0x0B, basePositionMeters: SIMD3(0.05, 0.02, -0.25))]
        func tracker(_ fields: JSONObject?) throws -> (SerialTracker, VirtualClock) {
            var named = profile
            named.protocolFields = fields
            let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
            let device = SimulatedNDITracker(configuration: .aurora(tools: tools), bootTime: clock.now())
            let link = InProcessDeviceLink(device: device, clock: clock)
            return (try TrackerRegistry.standard.makeTracker(for: named, link: link, clock: clock, readsInCycle: true), clock)
        }
        let (ambiguous, _) = try tracker(nil)
        XCTAssertThrowsError(try ambiguous.configure()) { error in
            XCTAssertTrue("\(error)".contains("2 tools found (0A, 0B): name the one to track in ndi.port_handle"), "\(error)")
        }
        let (chosen, clock) = try tracker(["port_handle": .string("0B")])
        try chosen.configure()
        XCTAssertTrue(chosen.identity.hasSuffix("tool handle B"), chosen.identity)
        var sample = chosen.latestSample(at: clock.now())
        for _ in 0..<200 {
            clock.advance(byNanoseconds: 1_000_000)
            sample = chosen.latestSample(at: clock.now())
        }
        let position = try XCTUnwrap(sample.toolPositionMeters)
        XCTAssertEqual(position.z, -0.25, accuracy: 0.01, "tool 0B's position, not 0A's")
        let (wrong, _) = try tracker(["port_handle": .string("0C")])
        XCTAssertThrowsError(try wrong.configure()) { error in
            XCTAssertTrue("\(error)".contains("0C (ndi.port_handle) is not among the tools found: 0A, 0B"), "\(error)")
        }
    }
}
