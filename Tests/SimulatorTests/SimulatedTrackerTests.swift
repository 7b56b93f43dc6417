import Control
import DeviceModel
import Devices
import Primitives
import Profiles
import RehabLinkSimulator
import SimulatorKit
import TestSupport
import TrackerSimulators
import XCTest

/// `SimulatedTracker`: the one way a tracker profile (hardware/trackers) becomes a simulated sensor, for
/// rehabsim's `--tracker` and the virtual-time scenario runner alike — configured from the profile, seeded,
/// on the limb asked for — and what the real driver (`TrackerRegistry`'s `SerialTracker`) makes of it on a
/// virtual clock, as the runner uses it.
final class SimulatedTrackerTests: XCTestCase {
    private static let boot = MonotonicInstant(nanoseconds: 1_000_000_000)
    private static let millisecond = Nanoseconds.perMillisecond
    private static let degree = Double.pi / 180

    private static func profile(_ name: String) throws -> TrackerProfile {
        try TrackerProfileLoader.load(path: RepositoryPaths.file("hardware/trackers/\(name).json").path)
    }

    func testEachShippedProfileGivesTheSensorOfItsProtocolConfiguredFromTheProfile() throws {
        let xsens = try Self.profile("xsens-mti-wrist")
        guard case .xsens(let mti) = try SimulatedTracker(simulating: xsens, limb: .swing, seed: 7, bootTime: Self.boot)
        else { return XCTFail("xsens/xbus must give an MTi") }
        XCTAssertEqual(mti.configuration.sensor, .xsensMTi)
        XCTAssertEqual(mti.configuration.rateHertz, 100)
        XCTAssertEqual(mti.configuration.baudRateBitsPerSecond, 115_200)
        XCTAssertEqual(mti.configuration.mounting.axis, .y)
        XCTAssertEqual(mti.configuration.mounting.sign, 1)
        XCTAssertEqual(mti.configuration.mounting.offsetRadians, 0)
        XCTAssertEqual(mti.configuration.seed, 7)
        XCTAssertFalse(mti.motion.followsCue, "no mirror exercise: the limb swings")

        let bno085 = try Self.profile("bno085-forearm")
        guard case .bno08x(let bno) = try SimulatedTracker(simulating: bno085, limb: .swing, seed: 2, bootTime: Self.boot)
        else { return XCTFail("bno08x/uart-rvc must give a BNO08x") }
        XCTAssertEqual(bno.configuration.sensor, .bno08xRVC)
        XCTAssertEqual(bno.configuration.mounting.axis, .y)
        XCTAssertEqual(bno.configuration.seed, 2)

        let polarisHand = try Self.profile("ndi-polaris-hand")
        guard case .ndi(let polaris) = try SimulatedTracker(simulating: polarisHand, limb: .swing, seed: 3, bootTime: Self.boot)
        else { return XCTFail("ndi/combined-api must give an NDI tracker") }
        XCTAssertEqual(polaris.configuration.model, "Polaris")
        XCTAssertEqual(polaris.configuration.frameRateHertz, 60)
        XCTAssertEqual(polaris.configuration.seed, 3)
        XCTAssertEqual(polaris.portHandles, [0x01])
        XCTAssertEqual(polaris.limbAngleRadians(at: Self.boot.advanced(byNanoseconds: 2_000 * Self.millisecond)), 0, "an NDI tool on no mirror's limb stays still")

        let auroraHand = try Self.profile("ndi-aurora-hand")
        guard case .ndi(let aurora) = try SimulatedTracker(simulating: auroraHand, limb: .swing, seed: 4, bootTime: Self.boot)
        else { return XCTFail("ndi/combined-api must give an NDI tracker") }
        XCTAssertEqual(aurora.configuration.model, "Aurora")
        XCTAssertEqual(aurora.configuration.frameRateHertz, 40)
        XCTAssertEqual(aurora.portHandles, [0x0A])
    }

    func testOnAMirrorExercisesLimbTheSensorFollowsItsCue() throws {
        let mirror = Mirror(scale: -1, offsetRadians: 0, maximumSpeedRadiansPerSecond: 2, maximumRmsErrorMillimeters: 2)
        let cue = WaypointTrajectory(
            start: .zeros(1), waypoints: [.init(positions: JointList(count: 1, repeating: 0.5), moveSeconds: 1, holdSeconds: 5)])
        let limb = SimulatedReferenceLimb(mirror: mirror, cue: cue, joint: 0)
        let polarisHand = try Self.profile("ndi-polaris-hand")
        let xsens = try Self.profile("xsens-mti-wrist")
        guard case .ndi(let ndi) = try SimulatedTracker(simulating: polarisHand, limb: .following(limb), seed: 1, bootTime: Self.boot)
        else { return XCTFail("ndi/combined-api must give an NDI tracker") }
        XCTAssertEqual(ndi.limbAngleRadians(at: Self.boot.advanced(byNanoseconds: 400 * Self.millisecond)), 0, accuracy: 0.003, "at rest before the cue")
        ndi.startCue(at: Self.boot.advanced(byNanoseconds: 500 * Self.millisecond))
        // The cue reaches 0.5 rad 1 s (and a 150 ms reaction) after it starts; the reference limb mirrors it (scale −1).
        XCTAssertEqual(ndi.limbAngleRadians(at: Self.boot.advanced(byNanoseconds: 3_000 * Self.millisecond)), -0.5, accuracy: 0.003)

        guard case .xsens(let mti) = try SimulatedTracker(simulating: xsens, limb: .following(limb), seed: 1, bootTime: Self.boot)
        else { return XCTFail("xsens/xbus must give an MTi") }
        XCTAssertTrue(mti.motion.followsCue)
    }

    func testAProfileNoSimulatorSpeaksOrOneItsSimulatorCannotRunIsRefusedWithTheReason() throws {
        var unknown = try Self.profile("xsens-mti-wrist")
        unknown.protocolIdentifier = "acme/imu"
        XCTAssertThrowsError(try SimulatedTracker(simulating: unknown, limb: .swing, seed: 1, bootTime: Self.boot)) { error in
            XCTAssertEqual("\(error)", "\"acme/imu\" has no simulator (simulated: xsens/xbus, bno08x/uart-rvc, ndi/combined-api)")
        }
        var slowLine = try Self.profile("bno085-forearm")
        slowLine.baudRateBitsPerSecond = 9_600
        XCTAssertThrowsError(try SimulatedTracker(simulating: slowLine, limb: .swing, seed: 1, bootTime: Self.boot)) { error in
            XCTAssertTrue("\(error)".contains("not 9600 bit/s"), "\(error)")
        }
    }

    /// What the virtual-time runner does with an MTi profile: the driver sets the sensor up, zeroes it while
    /// the limb waits for the cue, and read every millisecond (as its reader thread would) follows the swing
    /// with samples fresh enough for SR-15.
    func testTheDriverSetsUpZeroesAndFollowsTheMTiOfAProfileInVirtualTime() throws {
        let clock = VirtualClock(start: Self.boot)
        let profile = try Self.profile("xsens-mti-wrist")
        guard case .xsens(let mti) = try SimulatedTracker(simulating: profile, limb: .swing, seed: 1, bootTime: clock.now())
        else { return XCTFail("xsens/xbus must give an MTi") }
        let tracker = try TrackerRegistry.standard.makeTracker(
            for: profile, link: InProcessDeviceLink(device: mti, clock: clock), clock: clock, readsInCycle: true)
        try tracker.configure()
        try tracker.zero()
        XCTAssertTrue(tracker.isZeroed)
        let cueStart = clock.now()
        mti.startCue(at: cueStart)
        // To the swing's first peak: +20° a quarter of its 5 s period after the cue.
        var sample = tracker.latestSample(at: clock.now())
        while clock.now() < cueStart.advanced(byNanoseconds: 1_250 * Self.millisecond) {
            clock.advance(byNanoseconds: Self.millisecond)
            sample = tracker.latestSample(at: clock.now())
        }
        XCTAssertTrue(sample.toolVisible)
        XCTAssertEqual(sample.positionRadians, 20 * Self.degree, accuracy: 0.5 * Self.degree)
        let status = try XCTUnwrap(sample.trackerStatus(at: clock.now()))
        XCTAssertLessThanOrEqual(status.sampleAgeNanoseconds, min(3 * profile.framePeriodNanoseconds, 50 * Self.millisecond), "fresh enough for SR-15")
        XCTAssertFalse(status.frameCounterFrozen)
        XCTAssertEqual(tracker.figures.checksumErrors, 0)
    }

    /// The same for an NDI profile (at 9600 bit/s: the in-process link has no line control for COMM).
    func testTheDriverSetsUpTheNDITrackerOfAProfileAndReadsItsToolWhereTheProfilesSimulatorPutsIt() throws {
        let clock = VirtualClock(start: Self.boot)
        var profile = try Self.profile("ndi-aurora-hand")
        profile.baudRateBitsPerSecond = 9_600
        profile.rateHertz = 10
        guard case .ndi(let ndi) = try SimulatedTracker(simulating: profile, limb: .swing, seed: 1, bootTime: clock.now())
        else { return XCTFail("ndi/combined-api must give an NDI tracker") }
        let tracker = try TrackerRegistry.standard.makeTracker(
            for: profile, link: InProcessDeviceLink(device: ndi, clock: clock), clock: clock, readsInCycle: true)
        try tracker.configure()
        XCTAssertTrue(ndi.isTracking)
        var sample = tracker.latestSample(at: clock.now())
        for _ in 0..<500 {
            clock.advance(byNanoseconds: Self.millisecond)
            sample = tracker.latestSample(at: clock.now())
        }
        XCTAssertTrue(sample.toolVisible)
        let position = try XCTUnwrap(sample.toolPositionMeters)
        // The Aurora's tool: 0.1 m out along x from the joint 0.3 m in front of the field generator, the limb still.
        XCTAssertEqual(position.x, 0.1, accuracy: 0.002)
        XCTAssertEqual(position.y, 0, accuracy: 0.002)
        XCTAssertEqual(position.z, -0.3, accuracy: 0.002)
    }
}
