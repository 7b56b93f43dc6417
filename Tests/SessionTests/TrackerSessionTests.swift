import Control
import DeviceModel
import Devices
import Foundation
import Primitives
import Profiles
import RehabLinkSimulator
import Session
import StrictJSON
import Telemetry
import Transport
import XCTest

/// Trackers in a whole session, in virtual time (real driver, codec and supervisor; simulated
/// firmware): read every cycle and recorded on `/tracker/sample`; SR-16's workspace tracker stopping
/// the robot when the tool leaves the box or the tracker falls silent; the session's limits on
/// trackers and on what the device must be able to do.
final class TrackerSessionTests: XCTestCase {
    /// SR-16's box [m] for the workspace runs.
    private static let box = (minimum: SIMD3<Double>(-0.2, -0.2, 0), maximum: SIMD3<Double>(0.2, 0.2, 0.4))

    // MARK: Recording

    func testEveryTrackerIsRecordedOncePerCycleWithThePoseItGaveThatCycle() throws {
        let forearm = ComputedPoseTracker(name: "forearm imu", center: SIMD3(0.05, -0.1, 0.3))
        let tool = ComputedPoseTracker(name: "optical tool", center: SIMD3(-0.2, 0.15, 0.1))
        let folder = NSTemporaryDirectory() + "rehabhost-trackers-\(UUID().uuidString)"
        let path = folder + "/session.mcap"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let seconds = 2.0
        let harness = try VirtualSessionHarness(durationSeconds: seconds, adjust: {
            $0.trackers = [forearm, tool]
            $0.recordingPath = path
            // Virtual time runs far faster than the writer thread: room for the whole session.
            $0.telemetryRingSeconds = seconds + 2
        })
        XCTAssertEqual(harness.session.trackers.map(\.trackerName), ["forearm imu", "optical tool"])
        try harness.session.prepare()
        let report = harness.session.run()
        harness.session.finish()
        XCTAssertTrue(report.endedCleanly, "trackers that gate nothing stop nothing: \(report.safetyEvents)")
        let recording = try XCTUnwrap(report.recording)
        XCTAssertNil(recording.failure)
        XCTAssertEqual(recording.recordsDropped, 0)

        let file = try MCAPFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        let channel = try XCTUnwrap(file.channels.values.first { $0.topic == "/tracker/sample" }, "a /tracker/sample channel")
        XCTAssertEqual(channel.metadata["trackers"], "forearm imu,optical tool", "the trackers in order")
        let cycles = file.messages(onTopic: "/joint_state").count
        XCTAssertEqual(Int64(cycles), report.cycles, "every cycle recorded")
        var byTracker: [String: [JSONObject]] = [:]
        for message in file.messages(onTopic: "/tracker/sample") {
            let object = try XCTUnwrap(try JSONParser.parse(bytes: Array(file.data(of: message))).objectValue)
            byTracker[object["tracker"]?.stringValue ?? "(no name)", default: []].append(object)
        }
        XCTAssertEqual(Set(byTracker.keys), ["forearm imu", "optical tool"])
        // The report has a row and a plot per tracker, with its frames counted from /tracker/sample.
        let html = try HTMLReport.render(file, title: "trackers")
        XCTAssertTrue(html.contains("<h2>Trackers</h2>"), "a trackers section")
        for name in ["forearm imu", "optical tool"] {
            XCTAssertTrue(html.contains("<tr><td>\(name)</td><td class=\"n\">\(cycles)</td>"), "\(name)'s row, one sample per cycle")
            XCTAssertTrue(html.contains("<h3>\(name)</h3>"), "\(name)'s plot")
        }
        // Each pose also as foxglove.PoseInFrame on a channel of its own, for Foxglove's 3-D panel.
        for (index, tracker) in [forearm, tool].enumerated() {
            let pose = try XCTUnwrap(file.channels.values.first { $0.topic == "/tracker/\(tracker.trackerName)/pose" }, "a pose channel")
            XCTAssertEqual(file.schemas[pose.schemaID]?.name, "foxglove.PoseInFrame")
            let poses = file.messages(onTopic: pose.topic)
            XCTAssertEqual(poses.count, cycles, "one pose per cycle")
            let first = try XCTUnwrap(try JSONParser.parse(bytes: Array(file.data(of: poses[0]))).objectValue)
            XCTAssertEqual(first["frame_id"]?.stringValue, "tracker_\(tracker.trackerName)")
            let position = try XCTUnwrap(first["pose"]?.objectValue?["position"]?.objectValue)
            let center = index == 0 ? SIMD3(0.05, -0.1, 0.3) : SIMD3(-0.2, 0.15, 0.1)
            XCTAssertEqual(position["x"]?.doubleValue ?? .nan, center.x, accuracy: 0.1)
            XCTAssertNotNil(first["pose"]?.objectValue?["orientation"]?.objectValue?["w"]?.doubleValue)
            XCTAssertNotNil(first["timestamp"]?.objectValue?["nsec"]?.integerValue)
        }
        for tracker in [forearm, tool] {
            let samples = byTracker[tracker.trackerName] ?? []
            XCTAssertEqual(samples.count, cycles, "\(tracker.trackerName): one sample per cycle")
            var mismatches: [String] = []
            var heights: [Double] = []
            for sample in samples {
                // The tracker's sample at the cycle's time is what the cycle read and recorded.
                let time = MonotonicInstant(nanoseconds: try XCTUnwrap(sample["t_monotonic_ns"]?.integerValue))
                let expected = tracker.latestSample(at: time)
                let position = sample["tool_position_m"]?.arrayValue?.compactMap(\.doubleValue) ?? []
                let orientation = sample["tool_orientation_wxyz"]?.arrayValue?.compactMap(\.doubleValue) ?? []
                let age = sample["age_ns"]?.integerValue ?? -1
                let expectedPosition = expected.toolPositionMeters.map { [$0.x, $0.y, $0.z] } ?? []
                let expectedOrientation = expected.toolOrientation.map { [$0[0], $0[1], $0[2], $0[3]] } ?? []
                if sample["frame_counter"]?.integerValue != Int64(expected.frameCounter) || position.count != 3
                    || orientation.count != 4 || zip(position, expectedPosition).contains(where: { abs($0.0 - $0.1) > 1e-12 })
                    || zip(orientation, expectedOrientation).contains(where: { abs($0.0 - $0.1) > 1e-12 })
                    || sample["visible"]?.boolValue != true || !(0..<tracker.framePeriodNanoseconds).contains(age)
                {
                    mismatches.append("\(sample) vs \(expected)")
                }
                if position.count == 3 { heights.append(position[2]) }
            }
            XCTAssertEqual(mismatches.count, 0, "\(tracker.trackerName): \(mismatches.prefix(3))")
            XCTAssertGreaterThan((heights.max() ?? 0) - (heights.min() ?? 0), 0.001, "\(tracker.trackerName): the recorded pose moves")
        }
    }

    // MARK: SR-16

    /// A session whose workspace tracker follows `hand`, set up by `configure` with the instant the
    /// loop starts from (after `prepare`).
    private func workspaceRun(seconds: Double = 3, _ configure: (ComputedPoseTracker, MonotonicInstant) -> Void) throws
        -> (report: SessionReport, hand: ComputedPoseTracker)
    {
        let hand = ComputedPoseTracker(name: "hand", center: SIMD3(0.1, 0, 0.2))
        let box = Self.box
        let harness = try VirtualSessionHarness(durationSeconds: seconds, adjust: {
            $0.workspace = TherapySession.Options.WorkspaceTracking(tracker: hand, minimumMeters: box.minimum, maximumMeters: box.maximum)
        })
        XCTAssertEqual(harness.session.trackers.count, 1, "the workspace tracker is read (and recorded) like any other")
        try harness.session.prepare()
        configure(hand, harness.clock.now())
        let report = harness.session.run()
        harness.session.finish()
        return (report, hand)
    }

    func testSR16AToolInsideTheWorkspaceLetsTheExerciseEndNormally() throws {
        let run = try workspaceRun { _, _ in }
        XCTAssertTrue(run.report.safetyEvents.isEmpty, "\(run.report.safetyEvents)")
        XCTAssertTrue(run.report.endedCleanly)
        XCTAssertEqual(run.report.finalState, .idle)
    }

    func testSR16AToolThatLeavesTheWorkspaceByMoreThan20MillimetersStopsTheSessionCat1() throws {
        var driftsAt = MonotonicInstant.zero
        let run = try workspaceRun { hand, start in
            driftsAt = start.advanced(byNanoseconds: 500_000_000)
            hand.driftsAt = driftsAt
        }
        let hand = run.hand
        // SR-16: out of the box by more than 20 mm; the tool drifts along +x from its centre.
        let outsideBy = 0.020
        let crossing = driftsAt.advanced(
            byNanoseconds: Int64((Self.box.maximum.x + outsideBy - hand.center.x) / hand.driftMetersPerSecond * 1e9))
        let trip = try XCTUnwrap(run.report.safetyEvents.first, "the tool left the workspace")
        XCTAssertEqual(trip.cause, .workspace)
        XCTAssertEqual(trip.category, .cat1)
        XCTAssertGreaterThanOrEqual(trip.time, crossing, "not while within 20 mm of the box: \(trip)")
        // Seen with the first frame beyond it (a frame period at most), in the cycle that reads it.
        let period = hand.framePeriodNanoseconds
        XCTAssertLessThanOrEqual(trip.time.nanoseconds(since: crossing), period + 1_000_000, "\(trip)")
        XCTAssertGreaterThan(trip.value, outsideBy * 1_000, "how far out [mm]")
        XCTAssertLessThanOrEqual(trip.value, (outsideBy + hand.driftMetersPerSecond * Double(period + 1_000_000) * 1e-9) * 1_000 + 1e-6)
        XCTAssertEqual(run.report.latchedCause, .workspace)
        XCTAssertEqual(run.report.finalState, .fault)
        XCTAssertFalse(run.report.endedCleanly)
    }

    /// SR-16 with SR-15's checks: a workspace tracker that stops updating can no longer vouch for the
    /// workspace, so the robot stops (Cat 1, tracker_stale).
    func testSR16AWorkspaceTrackerThatStopsUpdatingStopsTheSessionAsStale() throws {
        var stopsAt = MonotonicInstant.zero
        let run = try workspaceRun { hand, start in
            stopsAt = start.advanced(byNanoseconds: 1_000_000_000)
            hand.stopsAt = stopsAt
        }
        let period = run.hand.framePeriodNanoseconds
        let trip = try XCTUnwrap(run.report.safetyEvents.first, "the silent tracker stopped the robot")
        XCTAssertEqual(trip.cause, .trackerStale)
        XCTAssertEqual(trip.category, .cat1)
        XCTAssertGreaterThan(trip.time, stopsAt, "\(trip)")
        // SR-15: stale beyond 3 frame periods; the last frame came less than a period before the stop.
        XCTAssertLessThanOrEqual(trip.time.nanoseconds(since: stopsAt), 3 * period + 1_000_000, "\(trip)")
        XCTAssertGreaterThan(trip.value, Double(3 * period) * 1e-6, "the sample's age [ms]")
        XCTAssertEqual(run.report.latchedCause, .trackerStale)
        XCTAssertEqual(run.report.finalState, .fault)
    }

    /// SR-16 with a tracker that gives no position (visible, fresh, accurate by its own account):
    /// it cannot vouch for the workspace, so it counts as a missing tool — never as nothing to check.
    func testSR16AWorkspaceTrackerWithoutAPositionStopsTheSessionAsAMissingTool() throws {
        var from = MonotonicInstant.zero
        let run = try workspaceRun { hand, start in
            from = start.advanced(byNanoseconds: 700_000_000)
            hand.positionlessFrom = from
        }
        let trip = try XCTUnwrap(run.report.safetyEvents.first, "a position-less workspace tracker stopped the robot")
        XCTAssertEqual(trip.cause, .trackerToolMissing)
        XCTAssertEqual(trip.category, .cat1)
        XCTAssertGreaterThanOrEqual(trip.time, from)
        XCTAssertLessThanOrEqual(trip.time.nanoseconds(since: from), run.hand.framePeriodNanoseconds + 1_000_000, "\(trip)")
    }

    // MARK: Limits

    func testMoreTrackersThanTheCapacityAreRefusedAtInit() throws {
        let capacity = TrackerReadings.capacity
        let trackers = (0...capacity).map { ComputedPoseTracker(name: "tracker \($0)", center: .zero) }
        let box = Self.box
        func workspace(_ tracker: ComputedPoseTracker) -> TherapySession.Options.WorkspaceTracking {
            TherapySession.Options.WorkspaceTracking(tracker: tracker, minimumMeters: box.minimum, maximumMeters: box.maximum)
        }
        func assertRefused(_ adjust: (inout TherapySession.Options) -> Void, _ message: String, line: UInt = #line) {
            XCTAssertThrowsError(try VirtualSessionHarness(adjust: adjust), message, line: line) { error in
                guard case .invalidOptions(let text)? = error as? SessionError else { return XCTFail("\(error)", line: line) }
                XCTAssertTrue(text.contains("at most \(capacity)"), text, line: line)
            }
        }
        assertRefused({ $0.trackers = trackers }, "one more than the capacity")
        let full = Array(trackers.prefix(capacity))
        let accepted = try VirtualSessionHarness(adjust: { $0.trackers = full })
        XCTAssertEqual(accepted.session.trackers.count, capacity, "exactly the capacity")
        // A workspace tracker already listed is read once; another one counts.
        let shared = try VirtualSessionHarness(adjust: {
            $0.trackers = full
            $0.workspace = workspace(full[0])
        })
        XCTAssertEqual(shared.session.trackers.count, capacity)
        assertRefused({
            $0.trackers = full
            $0.workspace = workspace(trackers[capacity])
        }, "the capacity plus a separate workspace tracker")
    }

    /// What the session needs of the device (`TherapySession.capabilityProblem`), checked at init
    /// against the capabilities its driver declares: nothing is opened or enabled when it refuses.
    func testADeviceWithoutWhatTheSessionNeedsIsRefusedAtInit() throws {
        let profile = try VirtualSessionHarness.profile("wrist-trainer")
        XCTAssertNil(try refusal(profile) { _ in }, "the RehabLink driver as it is")

        let noHold = try XCTUnwrap(try refusal(profile) { $0.controlModes.subtract(.localHold) })
        XCTAssertTrue(noHold.contains("local hold"), noHold)
        XCTAssertFalse(noHold.contains("torque mode"), "only what is missing: \(noHold)")
        let noTorque = try XCTUnwrap(try refusal(profile) { $0.controlModes.subtract(.torque) })
        XCTAssertTrue(noTorque.contains("torque mode"), noTorque)
        XCTAssertFalse(noTorque.contains("local hold"), "only what is missing: \(noTorque)")
        // A host-ramped Cat 1 needs velocity mode; a device that brakes by itself does not.
        let noVelocity = try XCTUnwrap(try refusal(profile) { $0.controlModes.subtract(.velocity) })
        XCTAssertTrue(noVelocity.contains("velocity mode"), noVelocity)
        XCTAssertNil(try refusal(profile) {
            $0.controlModes.subtract(.velocity)
            $0.quickStop = .deviceQuickStop
        })
        let noFirmwareLimits = try XCTUnwrap(try refusal(profile) { $0.holdsSafetyLimits = false })
        XCTAssertTrue(noFirmwareLimits.contains("SR-24"), noFirmwareLimits)

        let watchdog = profile.device.watchdogPeriodNanoseconds
        let below = try XCTUnwrap(try refusal(profile) { $0.watchdogPeriodRangeNanoseconds = 1_000_000...(watchdog - 1) })
        XCTAssertTrue(below.contains("watchdog_period_ms"), below)
        let above = try XCTUnwrap(try refusal(profile) { $0.watchdogPeriodRangeNanoseconds = (watchdog + 1)...(2 * watchdog) })
        XCTAssertTrue(above.contains("watchdog_period_ms"), above)
        XCTAssertNil(try refusal(profile) { $0.watchdogPeriodRangeNanoseconds = watchdog...(2 * watchdog) }, "the profile's period at the range's edge")
        XCTAssertNil(try refusal(profile) { $0.watchdogPeriodRangeNanoseconds = (watchdog / 2)...watchdog }, "the profile's period at the range's edge")

        let tooSmall = try XCTUnwrap(try refusal(profile) { $0.maximumJoints = profile.joints.count - 1 })
        XCTAssertTrue(tooSmall.contains("\(profile.joints.count) joints"), tooSmall)
    }

    /// What `TherapySession.init` says to the wrist's RehabLink driver declaring capabilities changed
    /// by `adjust` (nil: accepted).
    private func refusal(_ profile: HardwareProfile, _ adjust: (inout DeviceCapabilities) -> Void) throws -> String? {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 5_000_000_000))
        let simulator = SimulatedRehabLinkDevice(configuration: SimulatedDeviceConfiguration(profile: profile), bootTime: clock.now())
        let link = InProcessDeviceLink(device: simulator, clock: clock)
        let driver = RehabLinkDevice(link: link, jointCount: profile.joints.count, clock: clock)
        var capabilities = driver.capabilities
        adjust(&capabilities)
        let device = DeclaredCapabilitiesDevice(driver, capabilities: capabilities)
        do {
            _ = try TherapySession(profile: profile, device: device, clock: clock, options: TherapySession.Options(rateHertz: 1000, durationSeconds: 2))
            return nil
        } catch {
            guard case .invalidOptions(let message) = error else {
                XCTFail("expected invalidOptions, got \(error)")
                return "\(error)"
            }
            return message
        }
    }
}

/// A pose tracker computed from time alone: a frame every `framePeriodNanoseconds` since time 0, its
/// tool circling 5 mm around `center` in y and z and turning about z — unless told to drift away
/// along +x (`driftsAt`) or to stop sending (`stopsAt`: the newest frame stays the last one before).
private final class ComputedPoseTracker: TrackerDevice, @unchecked Sendable {
    let trackerName: String
    let center: SIMD3<Double>
    let framePeriodNanoseconds: Int64 = 10_000_000
    var driftsAt: MonotonicInstant?
    var driftMetersPerSecond = 0.1
    var stopsAt: MonotonicInstant?
    /// From this instant on it gives no position (as an angle-only source would).
    var positionlessFrom: MonotonicInstant?

    init(name: String, center: SIMD3<Double>) {
        trackerName = name
        self.center = center
    }

    func latestSample(at now: MonotonicInstant) -> TrackerSample {
        var newest = now.nanoseconds / framePeriodNanoseconds
        if let stopsAt { newest = min(newest, (stopsAt.nanoseconds - 1) / framePeriodNanoseconds) }
        let frameTime = MonotonicInstant(nanoseconds: newest * framePeriodNanoseconds)
        let seconds = Double(frameTime.nanoseconds) * 1e-9
        var position = center + SIMD3(0, 0.005 * sin(seconds), 0.005 * cos(seconds))
        if let driftsAt, frameTime > driftsAt { position.x += driftMetersPerSecond * frameTime.seconds(since: driftsAt) }
        let half = 0.1 * seconds
        var sample = TrackerSample()
        sample.frameCounter = UInt32(truncatingIfNeeded: newest)
        sample.receivedAt = frameTime
        sample.framePeriodNanoseconds = framePeriodNanoseconds
        sample.toolPositionMeters = positionlessFrom.map { frameTime >= $0 } == true ? nil : position
        sample.toolOrientation = SIMD4(cos(half), 0, 0, sin(half))
        sample.toolVisible = true
        sample.rmsErrorMillimeters = 0.3
        sample.samplesReceived = newest + 1
        return sample
    }
}

/// The RehabLink driver, declaring other capabilities than its own (what the session checks at init).
private final class DeclaredCapabilitiesDevice: ActuatedDevice {
    private let driver: any ActuatedDevice
    let capabilities: DeviceCapabilities

    init(_ driver: any ActuatedDevice, capabilities: DeviceCapabilities) {
        self.driver = driver
        self.capabilities = capabilities
    }

    var name: String { driver.name }
    var jointCount: Int { driver.jointCount }
    func identify() throws(DeviceError) -> DeviceIdentityInfo { try driver.identify() }
    func requestFreshState() throws(DeviceError) -> RobotState { try driver.requestFreshState() }
    func configure(_ limits: DeviceSafetyLimits) throws(DeviceError) { try driver.configure(limits) }
    func activate(watchdogPeriodNanoseconds: Int64) throws(DeviceError) -> Int64 {
        try driver.activate(watchdogPeriodNanoseconds: watchdogPeriodNanoseconds)
    }
    func deactivate() throws(DeviceError) { try driver.deactivate() }
    func read(now: MonotonicInstant) -> ReadOutcome { driver.read(now: now) }
    @discardableResult
    func write(_ intent: DeviceIntent, now: MonotonicInstant, deadline: MonotonicInstant) -> Bool {
        driver.write(intent, now: now, deadline: deadline)
    }
    func waitForState(until deadline: MonotonicInstant) -> Bool { driver.waitForState(until: deadline) }
    var latestState: RobotState { driver.latestState }
    var linkHealth: LinkHealth { driver.linkHealth }
    var oldestUnechoedCommandAt: MonotonicInstant? { driver.oldestUnechoedCommandAt }
    var linkError: TransportError? { driver.linkError }
}
