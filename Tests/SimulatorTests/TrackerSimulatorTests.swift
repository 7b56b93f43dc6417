import Control
import Foundation
import Primitives
import RehabLinkSimulator
import TrackerSimulators
import Wire
import XCTest

/// The simulated tracking sensors against protocols/xsens/README.md and protocols/bno08x-rvc/README.md, through the
/// in-process link on a virtual clock: the host's messages built by `Xsens.FrameEncoder`, everything the sensors send
/// decoded by the Wire decoders, byte by byte, with the moment each byte became readable.
final class TrackerSimulatorTests: XCTestCase {
    private static let boot = MonotonicInstant(nanoseconds: 1_000_000_000)
    private static let millisecond = Nanoseconds.perMillisecond

    // MARK: BNO08x UART-RVC

    func testTheBNO08xSendsItsBannerThen100ReportsASecondEachReadableWhenItsLastByteIsOver() throws {
        let harness = TrackerLinkHarness(SimulatedBNO08xRVC(configuration: .bno08xRVC(), bootTime: Self.boot))
        // 2 s of reports (the one sampled at 2 s is over on the line 1.65 ms later).
        harness.run(untilNanosecondsAfterBoot: 2_002 * Self.millisecond)
        let decoded = harness.bnoReports()
        XCTAssertEqual(decoded.reports.count, 200, "100 Hz for 2 s")
        XCTAssertEqual(decoded.statistics.checksumErrors, 0)
        let banner = TrackerSimulatorConfiguration.bno08xRVC().startupBanner
        XCTAssertEqual(decoded.statistics.discardedBytes, UInt64(banner.utf8.count), "only the banner is not a report")
        XCTAssertEqual(Array(harness.bytes.prefix(banner.utf8.count)), Array(banner.utf8))
        for (k, report) in decoded.reports.enumerated() {
            XCTAssertEqual(report.frame.index, UInt8(k % 256), "+1 per report from 0")
            XCTAssertTrue(report.frame.isWithinDocumentedRanges)
            // Sampled at power-up + (k + 1) × 10 ms; the first byte is readable only when all 19 are over.
            let sampled = Self.boot.advanced(byNanoseconds: Int64(k + 1) * BNO08xRVC.framePeriodNanoseconds)
            XCTAssertEqual(report.firstByteReadableAt.nanoseconds(since: sampled), BNO08xRVC.frameTransmissionNanoseconds)
        }
    }

    func testNoByteOfABNO08xReportIsReadableBeforeItsSampleTimePlusItsTransmission() {
        let sensor = SimulatedBNO08xRVC(configuration: .bno08xRVC(), bootTime: Self.boot)
        var buffer = [UInt8](repeating: 0, count: 4_096)
        let firstSample = Self.boot.advanced(byNanoseconds: BNO08xRVC.framePeriodNanoseconds)
        sensor.advance(to: firstSample.advanced(byNanoseconds: -1))
        let bannerBytes = buffer.withUnsafeMutableBytes { sensor.popOutput(into: $0) }
        XCTAssertEqual(bannerBytes, TrackerSimulatorConfiguration.bno08xRVC().startupBanner.utf8.count)
        sensor.advance(to: firstSample.advanced(byNanoseconds: BNO08xRVC.frameTransmissionNanoseconds - 1))
        XCTAssertFalse(sensor.hasOutput, "the report's last byte is still on the line")
        XCTAssertEqual(buffer.withUnsafeMutableBytes { sensor.popOutput(into: $0) }, 0)
        sensor.advance(to: firstSample.advanced(byNanoseconds: BNO08xRVC.frameTransmissionNanoseconds))
        XCTAssertTrue(sensor.hasOutput)
        XCTAssertEqual(buffer.withUnsafeMutableBytes { sensor.popOutput(into: $0) }, BNO08xRVC.frameBytes)
        XCTAssertEqual(buffer[0], 0xAA)
    }

    func testTheBNO08xYawFollowsTheSwingAboutTheMountingAxisWithinItsNoiseAndGravityIsOnItsUpAxis() throws {
        let configuration = TrackerSimulatorConfiguration.bno08xRVC { $0.headingDriftRadiansPerSecond = 0 }
        let sigma = configuration.noise.orientationRadians
        var limb = TrackerLimbMotion.swing()
        let harness = TrackerLinkHarness(SimulatedBNO08xRVC(configuration: configuration, motion: limb, bootTime: Self.boot))
        harness.run(untilNanosecondsAfterBoot: 2_002 * Self.millisecond)
        let reports = harness.bnoReports().reports
        XCTAssertEqual(reports.count, 200)
        // Yaw is relative to the heading at power-up (README §4): the limb's angle then is its zero.
        let zero = limb.angleRadians(at: Self.boot)
        var squares = 0.0
        var sum = 0.0
        var largestSwing = 0.0
        for (k, report) in reports.enumerated() {
            let sampled = Self.boot.advanced(byNanoseconds: Int64(k + 1) * BNO08xRVC.framePeriodNanoseconds)
            let expected = limb.angleRadians(at: sampled) - zero
            let error = remainder(report.frame.yawRadians - expected, 2 * Double.pi)
            XCTAssertEqual(error, 0, accuracy: 5 * sigma, "report \(k)")
            squares += error * error
            sum += error
            largestSwing = max(largestSwing, abs(expected))
            XCTAssertEqual(report.frame.pitchRadians, 0, accuracy: 5 * sigma)
            XCTAssertEqual(report.frame.rollRadians, 0, accuracy: 5 * sigma)
            let noise = 5 * configuration.noise.accelerationMetersPerSecondSquared + 0.01
            XCTAssertEqual(report.frame.accelerationXMetersPerSecondSquared, 0, accuracy: noise)
            XCTAssertEqual(report.frame.accelerationYMetersPerSecondSquared, 0, accuracy: noise)
            XCTAssertEqual(report.frame.accelerationZMetersPerSecondSquared, 9.80665, accuracy: noise, "+1 g up, gravity included")
        }
        XCTAssertGreaterThan(largestSwing, 0.3, "the limb swung (±20°)")
        let rms = (squares / Double(reports.count)).squareRoot()
        XCTAssertGreaterThan(rms, 0.5 * sigma, "the noise is there")
        XCTAssertLessThan(rms, 1.5 * sigma)
        XCTAssertEqual(sum / Double(reports.count), 0, accuracy: 0.5 * sigma, "and unbiased")
    }

    func testAMountingAboutTheSensorsXAxisIsRollWithGravityTurningIntoY() throws {
        let configuration = TrackerSimulatorConfiguration.bno08xRVC {
            $0.mounting = .init(axis: .x, sign: -1, offsetRadians: 0.1)
            $0.noise = .none
            $0.headingDriftRadiansPerSecond = 0
        }
        var limb = TrackerLimbMotion.swing(amplitudeRadians: 0.5, frequencyHertz: 0.5)
        let harness = TrackerLinkHarness(SimulatedBNO08xRVC(configuration: configuration, motion: limb, bootTime: Self.boot))
        harness.run(untilNanosecondsAfterBoot: 1_002 * Self.millisecond)
        let reports = harness.bnoReports().reports
        XCTAssertEqual(reports.count, 100)
        let resolution = 0.01 * Double.pi / 180
        for (k, report) in reports.enumerated() {
            let sampled = Self.boot.advanced(byNanoseconds: Int64(k + 1) * BNO08xRVC.framePeriodNanoseconds)
            let roll = -limb.angleRadians(at: sampled) + 0.1
            XCTAssertEqual(report.frame.rollRadians, roll, accuracy: resolution)
            XCTAssertEqual(report.frame.pitchRadians, 0, accuracy: resolution)
            XCTAssertEqual(report.frame.yawRadians, 0, accuracy: resolution)
            // Up, seen from a sensor rolled by φ about its x axis: (0, sin φ, cos φ) g (1 mg resolution).
            XCTAssertEqual(report.frame.accelerationYMetersPerSecondSquared, 9.80665 * sin(roll), accuracy: 0.01)
            XCTAssertEqual(report.frame.accelerationZMetersPerSecondSquared, 9.80665 * cos(roll), accuracy: 0.01)
        }
    }

    func testTheBNO08xFollowsTheUnaffectedLimbOnceTheCueStarts() throws {
        let mirror = Mirror(scale: -1, offsetRadians: 0, maximumSpeedRadiansPerSecond: 2, maximumRmsErrorMillimeters: 2)
        let cue = WaypointTrajectory(
            start: .zeros(1), waypoints: [.init(positions: JointList(count: 1, repeating: 0.5), moveSeconds: 1, holdSeconds: 5)])
        let configuration = TrackerSimulatorConfiguration.bno08xRVC {
            $0.noise = .none
            $0.headingDriftRadiansPerSecond = 0
        }
        let sensor = SimulatedBNO08xRVC(
            configuration: configuration, motion: .following(SimulatedReferenceLimb(mirror: mirror, cue: cue, joint: 0)), bootTime: Self.boot)
        let harness = TrackerLinkHarness(sensor)
        sensor.startCue(at: Self.boot.advanced(byNanoseconds: 500 * Self.millisecond))
        XCTAssertEqual(sensor.motion.cueStart, Self.boot.advanced(byNanoseconds: 500 * Self.millisecond))
        harness.run(untilNanosecondsAfterBoot: 2_002 * Self.millisecond)
        let reports = harness.bnoReports().reports
        // At rest (1 mrad tremor) until the cue starts and the 150 ms reaction has passed.
        for report in reports.prefix(60) { XCTAssertEqual(report.frame.yawRadians, 0, accuracy: 0.003) }
        // The cue ends at 0.5 rad 1.65 s after power-up; the reference limb mirrors it (scale −1).
        for report in reports.suffix(20) { XCTAssertEqual(report.frame.yawRadians, -0.5, accuracy: 0.003) }
    }

    func testTheBNO08xIgnoresTheHostAndAtAnotherBaudRateTheHostReadsOnlyGarbage() throws {
        let harness = TrackerLinkHarness(SimulatedBNO08xRVC(configuration: .bno08xRVC(), bootTime: Self.boot))
        harness.link.device.hostLineRateChanged(bitsPerSecond: 57_600)
        XCTAssertTrue(harness.link.device.hostReceivesGarbage)
        try harness.write([0xAA, 0xAA, 0x00, 0x01])
        harness.run(untilNanosecondsAfterBoot: 1_000 * Self.millisecond)
        XCTAssertEqual(harness.link.device.ignoredHostBytes, 4)
        let garbage = harness.bnoReports()
        XCTAssertGreaterThan(harness.bytes.count, 99 * BNO08xRVC.frameBytes, "the bytes still come, as many as ever")
        XCTAssertEqual(garbage.reports.count, 0, "no valid report in what a UART at the wrong rate assembles")

        // At 115 200 bit/s again, the reports decode again.
        harness.link.device.hostLineRateChanged(bitsPerSecond: 115_200)
        let before = harness.bytes.count
        harness.run(untilNanosecondsAfterBoot: 1_500 * Self.millisecond)
        let recovered = harness.bnoReports(from: before)
        XCTAssertEqual(recovered.reports.count, 50)
        XCTAssertEqual(recovered.statistics.checksumErrors, 0)
    }

    func testTheSameSeedGivesTheSameBytesAndAnotherSeedOtherNoise() throws {
        func bytes(seed: UInt64) -> [UInt8] {
            let harness = TrackerLinkHarness(SimulatedBNO08xRVC(configuration: .bno08xRVC { $0.seed = seed }, bootTime: Self.boot))
            harness.run(untilNanosecondsAfterBoot: 500 * Self.millisecond)
            return harness.bytes
        }
        XCTAssertEqual(bytes(seed: 7), bytes(seed: 7))
        XCTAssertNotEqual(bytes(seed: 7), bytes(seed: 8))
    }

    // MARK: Faults

    func testAFrozenBNO08xKeepsSendingTheSameReportThenItsIndexJumps() throws {
        let harness = TrackerLinkHarness(SimulatedBNO08xRVC(configuration: .bno08xRVC(), bootTime: Self.boot))
        harness.link.inject([TrackerInjectedFault(.trackerFreeze, .atMilliseconds(1_000), forMilliseconds: 500)])
        harness.run(untilNanosecondsAfterBoot: 2_002 * Self.millisecond)
        let reports = harness.bnoReports().reports
        XCTAssertEqual(reports.count, 200, "frames keep coming at 100 Hz while frozen")
        // Reports sampled at 1.01 … 1.50 s repeat the one sampled at 1.00 s (index 99), bytes and all.
        let frozen = reports[99]
        XCTAssertEqual(frozen.frame.index, 99)
        for report in reports[100..<150] { XCTAssertEqual(report.frame, frozen.frame) }
        XCTAssertNotEqual(reports[150].frame, frozen.frame)
        XCTAssertEqual(reports[150].frame.index, 150, "the live stream resumes; the index shows the frozen reports as a jump")
        for k in 151..<reports.count { XCTAssertEqual(BNO08xRVC.framesAdvanced(from: reports[k - 1].frame.index, to: reports[k].frame.index), 1) }

        let events = harness.events()
        XCTAssertEqual(events.map(\.event), ["fault_injected", "fault_injection_ended"])
        XCTAssertEqual(events.map(\.detail), ["tracker_freeze", "tracker_freeze"])
        XCTAssertEqual(events[0].time.nanoseconds(since: Self.boot), 1_000 * Self.millisecond)
        XCTAssertEqual(events[1].time.nanoseconds(since: events[0].time), 500 * Self.millisecond)
    }

    func testAnInjectedDriftRampsTheBNO08xYawAtItsRate() throws {
        let configuration = TrackerSimulatorConfiguration.bno08xRVC {
            $0.noise = .none
            $0.headingDriftRadiansPerSecond = 0
        }
        let harness = TrackerLinkHarness(SimulatedBNO08xRVC(configuration: configuration, motion: .resting(), bootTime: Self.boot))
        harness.link.inject([TrackerInjectedFault(.trackerDrift(degreesPerSecond: 10), .atMilliseconds(1_000))])
        harness.run(untilNanosecondsAfterBoot: 2_002 * Self.millisecond)
        let reports = harness.bnoReports().reports
        XCTAssertEqual(reports.count, 200)
        for (k, report) in reports.enumerated() {
            let sampledMilliseconds = Double(10 * (k + 1))
            let expectedCentidegrees = max(0, sampledMilliseconds - 1_000) * 10 / 1_000 * 100
            XCTAssertEqual(Double(report.frame.yawCentidegrees), expectedCentidegrees, accuracy: 1, "report \(k)")
        }
    }

    func testAResetBNO08xLosesTheReportOnTheLineSendsItsBannerAgainAndRestartsItsIndexAndYaw() throws {
        let configuration = TrackerSimulatorConfiguration.bno08xRVC {
            $0.noise = .none
            $0.headingDriftRadiansPerSecond = 0
        }
        var limb = TrackerLimbMotion.swing()
        let harness = TrackerLinkHarness(SimulatedBNO08xRVC(configuration: configuration, motion: limb, bootTime: Self.boot))
        harness.link.inject([TrackerInjectedFault(.trackerReset, .atMilliseconds(1_000))])
        harness.run(untilNanosecondsAfterBoot: 2_002 * Self.millisecond)
        let decoded = harness.bnoReports()
        // The report sampled at 1.00 s was still on the line: cut off. Then the banner, and reports from 1.01 s.
        XCTAssertEqual(decoded.reports.map(\.frame.index), Array(0...98) + Array(0...99))
        XCTAssertEqual(decoded.statistics.discardedBytes, 2 * UInt64(configuration.startupBanner.utf8.count))
        XCTAssertEqual(decoded.statistics.checksumErrors, 0)
        let resetAt = Self.boot.advanced(byNanoseconds: 1_000 * Self.millisecond)
        let zero = limb.angleRadians(at: resetAt)
        for (k, report) in decoded.reports.dropFirst(99).enumerated() {
            let sampled = resetAt.advanced(byNanoseconds: Int64(k + 1) * BNO08xRVC.framePeriodNanoseconds)
            XCTAssertEqual(report.frame.yawRadians, limb.angleRadians(at: sampled) - zero, accuracy: 0.01 * Double.pi / 180, "yaw since reset")
        }
        XCTAssertEqual(harness.events().map(\.detail), ["tracker_reset"])
    }

    func testTheScriptFormsOfTheTrackerFaults() throws {
        let drift = try FaultScriptParser<TrackerSimulatorFault>.parseLive(
            #"{"kind": "tracker_drift", "drift_deg_per_s": 2, "for_ms": 100}"#, jointCount: 0
        ).get()
        XCTAssertEqual(drift.kind, .device(.drift(radiansPerSecond: 2 * Double.pi / 180)))
        XCTAssertEqual(drift.durationMilliseconds, 100)
        XCTAssertEqual(try FaultScriptParser<TrackerSimulatorFault>.parseLive(#"{"kind": "tracker_freeze"}"#, jointCount: 0).get().kind, .trackerFreeze)
        XCTAssertEqual(try FaultScriptParser<TrackerSimulatorFault>.parseLive(#"{"kind": "tracker_clipping"}"#, jointCount: 0).get().kind, .trackerClipping)
        XCTAssertThrowsError(
            try FaultScriptParser<TrackerSimulatorFault>.parseLive(#"{"kind": "tracker_reset", "for_ms": 10}"#, jointCount: 0).get(),
            "a reset cannot end")
        XCTAssertThrowsError(
            try FaultScriptParser<TrackerSimulatorFault>.parseLive(#"{"kind": "tracker_drift", "drift": 2}"#, jointCount: 0).get(),
            "the unit is in the key")
    }

    // MARK: Xsens MTi

    func testTheXsensHandshakeConfiguresExactlyTheRequestedItemsAndTheCounterAdvancesByOnePerFrame() throws {
        let harness = TrackerLinkHarness(SimulatedXsensIMU(configuration: .xsensMTi(), bootTime: Self.boot))
        harness.run(untilNanosecondsAfterBoot: 10 * Self.millisecond)
        XCTAssertEqual(harness.xsensMessages().map(\.messageID), [.wakeUp], "WakeUp at power-up")

        XCTAssertEqual(try harness.exchange(XsensHost.goToConfig).map(\.messageID), [.goToConfigAck])
        XCTAssertEqual(harness.link.device.state, .config)
        XCTAssertEqual(try harness.exchange(XsensHost.requestDeviceID).first?.deviceID, 0x0370_0001)
        XCTAssertEqual(try harness.exchange(XsensHost.requestProductCode).first?.productCode?.string, "MTi-300-2A8G4")
        XCTAssertEqual(try harness.exchange(XsensHost.requestFirmwareRevision).first?.firmwareRevision?.description, "1.8.2 build 37 rev 70964")
        let requested: Xsens.OutputConfiguration = [
            .init(dataID: .packetCounter, frequencyHertz: 0xFFFF), .init(dataID: .sampleTimeFine, frequencyHertz: 0xFFFF),
            .init(dataID: .quaternion, frequencyHertz: 100),
        ]
        let acknowledged = try harness.exchange(XsensHost.setOutputConfiguration(requested))
        XCTAssertEqual(acknowledged.map(\.messageID), [.outputConfiguration])
        XCTAssertEqual(acknowledged.first?.outputConfiguration, requested, "the configuration as used: as requested")
        XCTAssertEqual(try harness.exchange(XsensHost.requestOutputConfiguration).first?.outputConfiguration, requested)

        let startIndex = harness.bytes.count
        XCTAssertEqual(try harness.exchange(XsensHost.goToMeasurement, listenMilliseconds: 0.5).map(\.messageID), [])
        let measuringFrom = harness.link.clock.now()
        harness.run(untilNanosecondsAfterBoot: measuringFrom.nanoseconds(since: Self.boot) + 2_000 * Self.millisecond)
        let decoded = harness.xsensFrames(from: startIndex)
        XCTAssertEqual(decoded.frames.first?.message.messageID, .goToMeasurementAck)
        let data = decoded.frames.filter { $0.message.messageID == .mtData2 }
        XCTAssertEqual(decoded.frames.count, data.count + 1, "the ack, then only MTData2")
        XCTAssertEqual(Double(data.count), 200, accuracy: 1, "100 Hz for 2 s")
        XCTAssertEqual(decoded.statistics.checksumErrors, 0)
        XCTAssertEqual(decoded.statistics.rejectedFrames, 0)
        XCTAssertEqual(decoded.statistics.discardedBytes, 0)

        var limb = TrackerLimbMotion.swing()
        let sigma = TrackerSimulatorConfiguration.xsensMTi().noise.orientationRadians
        for (k, frame) in data.enumerated() {
            var ids: [UInt16] = []
            _ = frame.message.payload.withUnsafeBytes { payload in Xsens.MTData2Item.forEach(in: payload) { ids.append($0.dataID.rawValue) } }
            XCTAssertEqual(ids, [0x1020, 0x1060, 0x2010], "exactly the configured items, in order")
            let sample = try XCTUnwrap(frame.message.mtData2Sample)
            XCTAssertNil(sample.accelerationMetersPerSecondSquared)
            XCTAssertNil(sample.statusWord)
            XCTAssertEqual(sample.packetCounter, UInt16(k), "+1 per frame from 0 in Measurement")
            let ticks = try XCTUnwrap(sample.sampleTimeFine)
            if k > 0 { XCTAssertEqual(ticks, try XCTUnwrap(data[k - 1].message.mtData2Sample?.sampleTimeFine) + 100, "10 ms in 100 µs ticks") }
            // SampleTimeFine counts from power-up; the frame is readable when its 36 bytes are over.
            let sampled = Self.boot.advanced(byNanoseconds: Int64(ticks) * 100_000)
            XCTAssertGreaterThanOrEqual(sampled, measuringFrom.advanced(byNanoseconds: -Self.millisecond))
            XCTAssertEqual(frame.bytes, 36)
            XCTAssertEqual(frame.firstByteReadableAt.nanoseconds(since: sampled), 3_125_000, "36 × 10 bits at 115 200 bit/s")
            // The orientation turns about the sensor's z axis (the mounting's) by the limb's angle.
            let q = try XCTUnwrap(sample.quaternion)
            XCTAssertEqual(q.coordinateSystem, .eastNorthUp)
            XCTAssertEqual(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z, 1, accuracy: 1e-6)
            let heading = 2 * atan2(q.z, q.w)
            XCTAssertEqual(remainder(heading - limb.angleRadians(at: sampled), 2 * Double.pi), 0, accuracy: 5 * sigma)
        }
    }

    /// README §3.8: the whole exchange by which Xsens's MT SDK (as built into MRPT 2.5.8's rawlog-grabber) opens an
    /// MTi-300 and starts it, request by request in the SDK's order, with the simulated MTi's exact answers.
    func testTheMTiAnswersEveryRequestOfTheXsensMTSDKOpeningAPortWithTheExactBytes() throws {
        let harness = TrackerLinkHarness(SimulatedXsensIMU(configuration: .xsensMTi(), bootTime: Self.boot))
        // The SDK opens a port some time after power-up: the WakeUp is already out.
        harness.run(untilNanosecondsAfterBoot: 10 * Self.millisecond)
        XCTAssertEqual(harness.xsensMessages().map(\.messageID), [.wakeUp])
        func bytes(_ hex: String) -> [UInt8] {
            let digits = Array(hex.utf8)
            return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16) ?? 0 }
        }
        func wire(_ messages: [Xsens.Message]) -> [[UInt8]] {
            messages.map { message in
                var frame = Xsens.EncodedFrame()
                Xsens.FrameEncoder.encode(message, into: &frame)
                return frame.bytes
            }
        }
        // (request, answer) in the order the SDK sends them: XsControl::openPort, XsDevice::initialize, then
        // MRPT's CIMUXSens_MT4::initialize (readEmtsAndDeviceConfiguration, setOutputConfiguration, gotoMeasurement).
        // Configuration (MID 0x0D, 118 bytes): master device ID, sampling period 0x0480, output skip factor,
        // 88 reserved bytes, one device: its ID, data length, output mode and settings, the 0x0027 period
        // field, firmware 1.8.2, a filter type and version (README §3.8).
        let configuration = "faff0d76" + "03700001" + "0480" + "0000" + String(repeating: "00", count: 88)
            + "0001" + "03700001" + "0000" + "0000" + "00000001" + "0027" + "010802" + "49" + "0501" + "8f"
        let profiles = "faff636e270167656e6572616c000000000000000000000000002801686967685f6d61675f646570000000000000000029"
            + "0164796e616d6963000000000000000000000000002a016c6f775f6d61675f6465700000000000000000002b017672755f67656e"
            + "6572616c000000000000000000b7"
        let sequence: [(String, String, String)] = [
            ("GoToConfig", "faff3000d1", "faff3100d0"),
            ("ReqDID", "faff000001", "faff01040370000188"),
            ("ReqProductCode", "faff1c00e5", "faff1d0d4d54692d3330302d3241384734ba"),
            ("ReqHardwareVersion", "faff1e00e3", "faff1f020100df"),
            ("ReqFWRev", "faff1200ef", "faff130b010802000000250001153469"),
            ("GoToConfig", "faff3000d1", "faff3100d0"),
            ("InitMT", "faff0200ff", "faff03040370000186"),
            ("ReqConfiguration", "faff0c00f5", configuration),
            ("ReqFWRev", "faff1200ef", "faff130b010802000000250001153469"),
            ("ReqAvailableFilterProfiles", "faff62009f", profiles),
            ("ReqProductCode", "faff1c00e5", "faff1d0d4d54692d3330302d3241384734ba"),
            ("ReqEMTS bank 0 page 0xFF", "faff900200ff70", "faff910070"),
            ("ReqConfiguration with ReqEMTS's bytes", "faff0c0200fff4", configuration),
            ("SetStringOutputType 0", "faff8e02000071", "faff8f0072"),
            ("ReqStringOutputType (not sent by the SDK)", "faff8e0073", "faff8f02000070"),
            // MRPT asks for 13 items at 100 Hz; the MTi keeps the ones it sends: SampleTimeFine, Quaternion,
            // Acceleration, RateOfTurn.
            (
                "SetOutputConfiguration (MRPT's 13 items)",
                "faffc03410a00064106000641070006420100064081000644020006480200064c0200064d0100064e0100064504000641010006450200064"
                    + "41",
                "faffc1101060006420100064402000648020006400"
            ),
        ]
        for (what, request, answer) in sequence {
            // 20 ms: Configuration (123 bytes) takes 10.7 ms on the line at 115 200 bit/s.
            XCTAssertEqual(wire(try harness.exchange(bytes(request), listenMilliseconds: 20)), [bytes(answer)], what)
        }
        XCTAssertEqual(harness.link.device.outputRateHertz, 100)
        XCTAssertEqual(try harness.exchange(bytes("faff8e02000170")).map(\.errorCode), [.invalidParameter], "no NMEA strings")
        XCTAssertEqual(try harness.exchange(bytes("faff9001016f")).map(\.errorCode), [.invalidMessage], "ReqEMTS of 1 byte")

        let startIndex = harness.bytes.count
        _ = try harness.exchange(XsensHost.goToMeasurement, listenMilliseconds: 0.5)
        harness.run(until: harness.link.clock.now().advanced(byNanoseconds: 1_000 * Self.millisecond))
        let frames = harness.xsensFrames(from: startIndex).frames
        XCTAssertEqual(frames.first?.message.messageID, .goToMeasurementAck)
        let data = frames.dropFirst()
        XCTAssertEqual(Double(data.count), 100, accuracy: 1, "100 Hz for 1 s")
        for frame in data {
            var ids: [UInt16] = []
            _ = frame.message.payload.withUnsafeBytes { payload in Xsens.MTData2Item.forEach(in: payload) { ids.append($0.dataID.rawValue) } }
            XCTAssertEqual(ids, [0x1060, 0x2010, 0x4020, 0x8020])
        }
    }

    func testWithoutAWakeUpAckTheMTiMeasuresWithItsPowerUpConfigurationAfter500Milliseconds() throws {
        let harness = TrackerLinkHarness(SimulatedXsensIMU(configuration: .xsensMTi(), bootTime: Self.boot))
        harness.run(untilNanosecondsAfterBoot: 1_000 * Self.millisecond)
        XCTAssertEqual(harness.link.device.state, .measurement)
        let frames = harness.xsensFrames().frames
        XCTAssertEqual(frames.first?.message.messageID, .wakeUp)
        let wakeUpOver = try XCTUnwrap(frames.first?.firstByteReadableAt)
        let data = frames.dropFirst()
        XCTAssertTrue(data.allSatisfy { $0.message.messageID == .mtData2 })
        XCTAssertEqual(Double(data.count), 50, accuracy: 1, "100 Hz from 0.5 s on")
        let first = try XCTUnwrap(data.first?.message.mtData2Sample)
        let sampled = Self.boot.advanced(byNanoseconds: Int64(try XCTUnwrap(first.sampleTimeFine)) * 100_000)
        XCTAssertGreaterThanOrEqual(sampled.nanoseconds(since: wakeUpOver), 500 * Self.millisecond)
        XCTAssertEqual(first.packetCounter, 0)
        XCTAssertEqual(data.first?.bytes, TrackerSimulatorConfiguration.xsensFullFrameBytes(), "the six items of README §5.2")
        XCTAssertEqual(first.statusWord, SimulatedXsensIMU.normalStatusWord)
        let a = try XCTUnwrap(first.accelerationMetersPerSecondSquared)
        XCTAssertEqual(a.z, 9.80665, accuracy: 0.06)
        XCTAssertNotNil(first.rateOfTurnRadiansPerSecond)
        XCTAssertEqual(
            harness.link.device.firstEnableTime, wakeUpOver.advanced(byNanoseconds: 500 * Self.millisecond),
            "README §3.1: measuring 500 ms after the WakeUp, which is over 5 × 10 bits after power-up")
        XCTAssertEqual(wakeUpOver.nanoseconds(since: Self.boot), 434_028)
    }

    func testTheMTiAnswersAnUnsupportedFrequencyOrItemWithInvalidParameterAndWhatItDoesNotAcceptWithInvalidMessage() throws {
        let harness = TrackerLinkHarness(SimulatedXsensIMU(configuration: .xsensMTi(), bootTime: Self.boot))
        _ = try harness.exchange(XsensHost.wakeUpAck)
        XCTAssertEqual(harness.link.device.state, .config)
        func errorCode(_ bytes: [UInt8]) throws -> Xsens.ErrorCode? {
            let replies = try harness.exchange(bytes)
            XCTAssertEqual(replies.count, 1)
            return replies.first?.errorCode
        }
        let quaternionAt = { (hertz: UInt16) in XsensHost.setOutputConfiguration([.init(dataID: .quaternion, frequencyHertz: hertz)]) }
        XCTAssertEqual(try errorCode(quaternionAt(300)), .invalidParameter, "300 Hz does not divide the internal 400 Hz")
        XCTAssertEqual(try errorCode(quaternionAt(800)), .invalidParameter, "above the internal rate")
        XCTAssertEqual(try errorCode(quaternionAt(0)), .invalidParameter)
        XCTAssertEqual(
            try errorCode(XsensHost.setOutputConfiguration([.init(dataID: Xsens.DataID(rawValue: 0x0810), frequencyHertz: 100)])),
            .invalidParameter, "temperature is not an item this MTi sends")
        XCTAssertEqual(
            try errorCode(XsensHost.setOutputConfiguration([.init(dataID: .packetCounter, frequencyHertz: 0xFFFF)])), .invalidParameter,
            "no item with a frequency of its own: no sample rate")
        XCTAssertEqual(try errorCode(XsensHost.frame(.setOutputConfiguration, [0x20, 0x10, 0x00])), .invalidParameter, "not whole entries")
        XCTAssertEqual(try errorCode(XsensHost.frame(Xsens.MessageID(rawValue: 0x99), [])), .invalidMessage, "outside the subset")
        XCTAssertEqual(try errorCode(XsensHost.frame(.deviceID, [0, 0, 0, 1])), .invalidMessage, "a device-to-host message")
        XCTAssertEqual(try errorCode(XsensHost.wakeUpAck), .invalidMessage, "only in the WakeUp window")
        // The configuration is unchanged by the refusals.
        XCTAssertEqual(harness.link.device.outputConfiguration, TrackerSimulatorConfiguration.xsensMTi().xsensPowerUpOutputConfiguration)

        // 200 Hz divides 400: accepted. In Measurement only GoToConfig is.
        XCTAssertEqual(try harness.exchange(quaternionAt(200)).first?.messageID, .outputConfiguration)
        XCTAssertEqual(harness.link.device.outputRateHertz, 200)
        _ = try harness.exchange(XsensHost.goToMeasurement)
        let replies = try harness.exchange(XsensHost.requestDeviceID).filter { $0.messageID != .mtData2 }
        XCTAssertEqual(replies.map(\.errorCode), [.invalidMessage])
        let stop = try harness.exchange(XsensHost.goToConfig, listenMilliseconds: 20)
        XCTAssertEqual(stop.last?.messageID, .goToConfigAck, "the ack follows the last MTData2")
        XCTAssertEqual(try harness.exchange(XsensHost.requestDeviceID, listenMilliseconds: 20).map(\.messageID), [.deviceID], "no MTData2 in Config")
    }

    func testAFrozenMTiKeepsSendingFramesWhosePacketCounterStopsAndClippingShowsInTheStatusWord() throws {
        let harness = TrackerLinkHarness(SimulatedXsensIMU(configuration: .xsensMTi(), bootTime: Self.boot))
        harness.link.inject([
            TrackerInjectedFault(.trackerFreeze, .atMilliseconds(1_000), forMilliseconds: 300),
            TrackerInjectedFault(.trackerClipping, .atMilliseconds(1_500), forMilliseconds: 100),
        ])
        harness.run(untilNanosecondsAfterBoot: 2_000 * Self.millisecond)
        let samples = harness.xsensFrames().frames.compactMap { $0.message.mtData2Sample }
        XCTAssertEqual(Double(samples.count), 150, accuracy: 1, "100 Hz from 0.5 s, frozen or not")
        let counters = samples.compactMap(\.packetCounter)
        XCTAssertEqual(counters.count, samples.count)
        var longestRepeat = 0
        var run = 0
        for k in 1..<counters.count {
            run = counters[k] == counters[k - 1] ? run + 1 : 0
            longestRepeat = max(longestRepeat, run)
            XCTAssertTrue(counters[k] == counters[k - 1] || counters[k] > counters[k - 1])
        }
        XCTAssertEqual(longestRepeat, 30, "the frames sampled over 300 ms repeat the one sampled at the injection")
        XCTAssertEqual(counters.last, UInt16(samples.count - 1), "the counter kept counting underneath")
        let clipped = samples.filter { $0.statusWord == SimulatedXsensIMU.clippingStatusWord }
        XCTAssertEqual(clipped.count, 10, "100 ms of clipping")
        XCTAssertEqual(harness.events().map(\.detail), ["tracker_freeze", "tracker_freeze", "tracker_clipping", "tracker_clipping"])
    }

    func testAnInjectedDriftRampsTheMTisHeading() throws {
        let configuration = TrackerSimulatorConfiguration.xsensMTi { $0.noise = .none }
        let harness = TrackerLinkHarness(SimulatedXsensIMU(configuration: configuration, motion: .resting(), bootTime: Self.boot))
        harness.link.inject([TrackerInjectedFault(.trackerDrift(degreesPerSecond: -5), .atMilliseconds(1_000), forMilliseconds: 500)])
        harness.run(untilNanosecondsAfterBoot: 2_000 * Self.millisecond)
        let samples = harness.xsensFrames().frames.compactMap { $0.message.mtData2Sample }
        XCTAssertFalse(samples.isEmpty)
        for sample in samples {
            let q = try XCTUnwrap(sample.quaternion)
            let seconds = Double(try XCTUnwrap(sample.sampleTimeFine)) / 10_000
            let expectedDegrees = -5 * min(0.5, max(0, seconds - 1))
            XCTAssertEqual(2 * atan2(q.z, q.w) * 180 / Double.pi, expectedDegrees, accuracy: 1e-4, "at \(seconds) s")
        }
    }

    func testAResetMTiSendsWakeUpAgainAndMeasuresWithItsStoredConfigurationFromCounterZero() throws {
        let harness = TrackerLinkHarness(SimulatedXsensIMU(configuration: .xsensMTi(), bootTime: Self.boot))
        _ = try harness.exchange(XsensHost.goToConfig)
        let stored: Xsens.OutputConfiguration = [
            .init(dataID: .packetCounter, frequencyHertz: 0xFFFF), .init(dataID: .quaternion, frequencyHertz: 50),
        ]
        XCTAssertEqual(try harness.exchange(XsensHost.setOutputConfiguration(stored)).first?.outputConfiguration, stored)
        _ = try harness.exchange(XsensHost.goToMeasurement, listenMilliseconds: 300)
        harness.link.inject([TrackerInjectedFault(.trackerReset, .now)])
        let start = harness.bytes.count
        harness.run(until: harness.link.clock.now().advanced(byNanoseconds: 1_000 * Self.millisecond))
        XCTAssertEqual(harness.link.device.state, .measurement, "no WakeUpAck: measuring again after 500 ms")
        let frames = harness.xsensFrames(from: start).frames
        let wakeUp = try XCTUnwrap(frames.firstIndex { $0.message.messageID == .wakeUp })
        let after = frames[(wakeUp + 1)...].compactMap { $0.message.mtData2Sample }
        XCTAssertEqual(Double(after.count), 25, accuracy: 1, "50 Hz for the last 0.5 s")
        XCTAssertEqual(after.map(\.packetCounter), (0..<after.count).map { UInt16($0) }, "from 0")
        XCTAssertTrue(after.allSatisfy { $0.quaternion != nil && $0.sampleTimeFine == nil }, "the stored configuration")
        XCTAssertEqual(harness.link.device.outputConfiguration, stored)
    }

    func testAtAnotherBaudRateTheMTiDoesNotUnderstandTheHostAndTheHostDecodesNothing() throws {
        let harness = TrackerLinkHarness(SimulatedXsensIMU(configuration: .xsensMTi(), bootTime: Self.boot))
        harness.link.device.hostLineRateChanged(bitsPerSecond: 9_600)
        _ = try harness.exchange(XsensHost.goToConfig)
        XCTAssertEqual(harness.link.device.ignoredHostBytes, 5)
        harness.run(untilNanosecondsAfterBoot: 1_000 * Self.millisecond)
        XCTAssertEqual(harness.link.device.state, .measurement, "it never heard GoToConfig: it measures after the WakeUp window")
        let garbage = harness.xsensFrames()
        XCTAssertGreaterThan(harness.bytes.count, 40 * 73)
        XCTAssertEqual(garbage.frames.count, 0)
        XCTAssertEqual(garbage.statistics.framesDecoded + garbage.statistics.rejectedFrames, 0, "no valid frame at all")

        harness.link.device.hostLineRateChanged(bitsPerSecond: 115_200)
        let before = harness.bytes.count
        let replies = try harness.exchange(XsensHost.goToConfig, listenMilliseconds: 20)
        XCTAssertEqual(replies.last?.messageID, .goToConfigAck)
        XCTAssertEqual(harness.xsensFrames(from: before).statistics.checksumErrors, 0)
    }

    // MARK: Configuration

    func testConfigurationsTheSensorsCannotRunAreRefusedWithTheReason() {
        XCTAssertEqual(TrackerSimulatorConfiguration.bno08xRVC().problems, [])
        XCTAssertEqual(TrackerSimulatorConfiguration.xsensMTi().problems, [])
        XCTAssertEqual(
            TrackerSimulatorConfiguration.bno08xRVC { $0.rateHertz = 200 }.problems,
            ["a BNO08x in UART-RVC mode reports at 100 Hz only, not 200 Hz"])
        XCTAssertEqual(
            TrackerSimulatorConfiguration.bno08xRVC { $0.baudRateBitsPerSecond = 460_800 }.problems,
            ["a BNO08x in UART-RVC mode sends at 115200 bit/s only, not 460800 bit/s"])
        XCTAssertEqual(TrackerSimulatorConfiguration.xsensFullFrameBytes(), 73, "README §5.2")
        XCTAssertEqual(TrackerSimulatorConfiguration.highestRateHertz(frameBytes: 73, baudRateBitsPerSecond: 115_200), 126)
        let tooFast = TrackerSimulatorConfiguration.xsensMTi { $0.rateHertz = 200 }.problems
        XCTAssertEqual(tooFast.count, 1)
        XCTAssertTrue(tooFast[0].contains("README §5.2"), tooFast[0])
        XCTAssertEqual(TrackerSimulatorConfiguration.xsensMTi { $0.rateHertz = 400; $0.baudRateBitsPerSecond = 460_800 }.problems, [])
        XCTAssertEqual(
            TrackerSimulatorConfiguration.xsensMTi { $0.rateHertz = 300; $0.baudRateBitsPerSecond = 921_600 }.problems,
            ["the MTi outputs at rates that divide its internal 400 Hz, not 300 Hz"])
        XCTAssertEqual(TrackerSimulatorConfiguration.xsensMTi { $0.mounting.sign = 0.5 }.problems, ["the mounting sign must be +1 or −1"])
        XCTAssertEqual(
            TrackerSimulatorConfiguration.xsensMTi { $0.mounting.baseOrientation = TrackerQuaternion(w: 1, x: 1, y: 0, z: 0) }.problems,
            ["the base orientation must be a unit quaternion"])
    }
}

/// Talks to a simulated tracker through `InProcessDeviceLink` on a `VirtualClock`, as a host would. The link adds no
/// latency of its own (the sensors model the wire), and the clock steps to the sensor's own deadlines, so every time
/// measured is exact. Keeps every byte read with the moment it became readable.
private final class TrackerLinkHarness<Firmware: FirmwareSimulator> {
    let clock: VirtualClock
    let link: InProcessDeviceLink<Firmware>
    let bootTime: MonotonicInstant
    private(set) var bytes: [UInt8] = []
    private(set) var readableAt: [MonotonicInstant] = []
    private var buffer = [UInt8](repeating: 0, count: 4_096)
    /// Where `xsensMessages()` continues.
    private var xsensCursor = 0

    init(_ device: Firmware) {
        bootTime = device.bootTime
        clock = VirtualClock(start: device.bootTime)
        link = InProcessDeviceLink(device: device, clock: clock, replyLatencyNanoseconds: 0)
    }

    /// Runs the clock to `nanoseconds` after power-up, reading everything as it becomes readable.
    func run(untilNanosecondsAfterBoot nanoseconds: Int64) {
        run(until: bootTime.advanced(byNanoseconds: nanoseconds))
    }

    func run(until end: MonotonicInstant) {
        while true {
            drain()
            guard clock.now() < end else { break }
            var next = min(link.device.nextDeadline ?? end, end)
            if next <= clock.now() { next = clock.now().advanced(byNanoseconds: 1_000) }
            clock.advance(to: next)
        }
    }

    func write(_ frame: [UInt8]) throws {
        try frame.withUnsafeBytes { try link.write($0, deadline: clock.now()) }
    }

    /// Writes `frame` now and returns the messages decoded over the next `listenMilliseconds` (MTi).
    func exchange(_ frame: [UInt8], listenMilliseconds: Double = 10) throws -> [Xsens.Message] {
        _ = xsensMessages()
        try write(frame)
        run(until: clock.now().advanced(byNanoseconds: Int64(listenMilliseconds * 1e6)))
        return xsensMessages()
    }

    private func drain() {
        while true {
            let count = (try? buffer.withUnsafeMutableBytes { try link.readAvailable(into: $0) }) ?? 0
            guard count > 0 else { return }
            bytes.append(contentsOf: buffer[0..<count])
            readableAt.append(contentsOf: repeatElement(clock.now(), count: count))
        }
    }

    func events() -> [FirmwareEventRecord] {
        var events: [FirmwareEventRecord] = []
        link.device.drainEventRecords { events.append($0) }
        return events
    }

    // MARK: Decoding

    struct BNOReport {
        var frame: BNO08xRVC.Frame
        var firstByteReadableAt: MonotonicInstant
    }

    /// The BNO08x reports in the bytes read from `start` on.
    func bnoReports(from start: Int = 0) -> (reports: [BNOReport], statistics: BNO08xRVC.DecoderStatistics) {
        var decoder = BNO08xRVC.FrameDecoder()
        var reports: [BNOReport] = []
        for index in start..<bytes.count {
            if let frame = decoder.push(bytes[index]) {
                reports.append(BNOReport(frame: frame, firstByteReadableAt: readableAt[index - (BNO08xRVC.frameBytes - 1)]))
            }
        }
        return (reports, decoder.statistics)
    }

    struct XsensFrame {
        var message: Xsens.Message
        /// The frame's length on the wire.
        var bytes: Int
        var firstByteReadableAt: MonotonicInstant
    }

    /// The Xbus messages in the bytes read from `start` on, after a final end of exchange.
    func xsensFrames(from start: Int = 0) -> (frames: [XsensFrame], statistics: Xsens.DecoderStatistics) {
        var decoder = Xsens.FrameDecoder()
        var frames: [XsensFrame] = []
        for index in start..<bytes.count {
            var result = decoder.push(bytes[index])
            while let complete = result {
                if let message = complete.decodedMessage {
                    let length = message.payload.count
                    let total = (length > Xsens.maxStandardPayloadBytes ? Xsens.extendedHeaderBytes : Xsens.standardHeaderBytes) + length + 1
                    frames.append(XsensFrame(message: message, bytes: total, firstByteReadableAt: readableAt[index - (total - 1)]))
                }
                result = decoder.next()
            }
        }
        decoder.flush { _ in }
        return (frames, decoder.statistics)
    }

    /// The messages read since the last call.
    func xsensMessages() -> [Xsens.Message] {
        let messages = xsensFrames(from: xsensCursor).frames.map(\.message)
        xsensCursor = bytes.count
        return messages
    }
}

/// The host's side of the Xbus exchange, built by the codec's own encoders.
private enum XsensHost {
    static func encoded(_ build: (inout Xsens.EncodedFrame) -> Void) -> [UInt8] {
        var frame = Xsens.EncodedFrame()
        build(&frame)
        return frame.bytes
    }

    static var wakeUpAck: [UInt8] { encoded { Xsens.FrameEncoder.wakeUpAck(into: &$0) } }
    static var goToConfig: [UInt8] { encoded { Xsens.FrameEncoder.goToConfig(into: &$0) } }
    static var goToMeasurement: [UInt8] { encoded { Xsens.FrameEncoder.goToMeasurement(into: &$0) } }
    static var requestDeviceID: [UInt8] { encoded { Xsens.FrameEncoder.requestDeviceID(into: &$0) } }
    static var requestProductCode: [UInt8] { encoded { Xsens.FrameEncoder.requestProductCode(into: &$0) } }
    static var requestFirmwareRevision: [UInt8] { encoded { Xsens.FrameEncoder.requestFirmwareRevision(into: &$0) } }
    static var requestOutputConfiguration: [UInt8] { encoded { Xsens.FrameEncoder.requestOutputConfiguration(into: &$0) } }

    static func setOutputConfiguration(_ configuration: Xsens.OutputConfiguration) -> [UInt8] {
        encoded { Xsens.FrameEncoder.setOutputConfiguration(configuration, into: &$0) }
    }

    static func frame(_ id: Xsens.MessageID, _ payload: [UInt8]) throws -> [UInt8] {
        var frame = Xsens.EncodedFrame()
        try payload.withUnsafeBytes { try Xsens.FrameEncoder.frame(id, payload: $0, into: &frame) }
        return frame.bytes
    }
}
