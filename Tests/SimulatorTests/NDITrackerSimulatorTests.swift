import Control
import Primitives
import RehabLinkSimulator
import StrictJSON
import TrackerSimulators
import Transport
import Wire
import XCTest

/// The simulated NDI tracker against protocols/ndi/README.md, through the in-process link on a virtual clock:
/// commands built by `NDI.CommandEncoder`, replies decoded by `NDI.ReplyDecoder`, exactly as a host does.
final class NDITrackerSimulatorTests: XCTestCase {
    private typealias H = NDITrackerHarness

    // MARK: ndicapi's sequence (README §10.2)

    func testNdicapiSequenceIsAnsweredByteExactlyAndDecodesWithGoodCRCs() throws {
        let harness = H(H.configuration(noise: true))
        harness.tracker.hostLineRateChanged(bitsPerSecond: 9_600)

        // The bytes ndicapi sends are the codec's encoding (README §10.2's table, wire for wire).
        XCTAssertEqual(H.line(.initialize()), Array("INIT:E3A5\r".utf8))
        XCTAssertEqual(H.line(.communication(NDI.SerialSettings(baudRate: .bps115200))), Array("COMM:500000048\r".utf8))
        XCTAssertEqual(H.line(.version(0)), Array("VER:065EE\r".utf8))
        XCTAssertEqual(H.line(.portHandleSearch(.notInitialized)), Array("PHSR:02E17E\r".utf8))
        XCTAssertEqual(H.line(.portHandleInitialize(0x0A)), Array("PINIT:0AD5EB\r".utf8))
        XCTAssertEqual(H.line(.portHandleSearch(.notEnabled)), Array("PHSR:0321BF\r".utf8))
        XCTAssertEqual(H.line(.portHandleEnable(0x0A, priority: .dynamicTool)), Array("PENA:0ADAD1E\r".utf8))
        XCTAssertEqual(H.line(.startTracking()), Array("TSTART:5423\r".utf8))
        XCTAssertEqual(H.line(.bx()), Array("BX:080100EC\r".utf8))
        XCTAssertEqual(H.line(.stopTracking()), Array("TSTOP:2C14\r".utf8))

        let initialize = try harness.exchange(.initialize())
        XCTAssertEqual(initialize.bytes, Array("OKAYA896\r".utf8))
        // At 9600 bit/s: 10 bytes in (10.4 ms), 0.5 ms of firmware, 9 bytes out (9.4 ms).
        XCTAssertEqual(initialize.lastByteAt?.nanoseconds(since: initialize.sentAt), 10_416_667 + 500_000 + 9_375_000)

        // COMM 50000: OKAY at the old rate (README §2), then the device is at 115200.
        let comm = try harness.exchange(.communication(NDI.SerialSettings(baudRate: .bps115200)))
        XCTAssertEqual(comm.bytes, Array("OKAYA896\r".utf8))
        XCTAssertEqual(comm.lastByteAt?.nanoseconds(since: comm.sentAt), 15_625_000 + 500_000 + 9_375_000, "the OKAY goes at 9600 bit/s")
        XCTAssertEqual(harness.tracker.deviceBitsPerSecond, 115_200)
        harness.tracker.hostLineRateChanged(bitsPerSecond: 115_200)   // ndicapi: 100 ms later, its port to 115200

        let version = try harness.exchange(.version(0))
        let versionText = try XCTUnwrap(version.asciiTexts.first)
        XCTAssertEqual(version.bytes, H.asciiLine(versionText))
        XCTAssertTrue(versionText.contains("\nFreeze Tag: "), versionText)
        XCTAssertFalse(versionText.uppercased().contains("AURORA REV 007") || versionText.uppercased().contains("AURORA REV 008"))

        let search = try harness.exchange(.portHandleSearch(.notInitialized))
        XCTAssertEqual(search.bytes, H.asciiLine("010A001"), "one handle, 0A, occupied")
        XCTAssertEqual(try harness.exchange(.portHandleInitialize(0x0A)).bytes, Array("OKAYA896\r".utf8))
        XCTAssertEqual(try harness.exchange(.portHandleSearch(.notInitialized)).bytes, H.asciiLine("00"))
        XCTAssertEqual(try harness.exchange(.portHandleSearch(.notEnabled)).bytes, H.asciiLine("010A011"), "occupied and initialised")
        XCTAssertEqual(try harness.exchange(.portHandleEnable(0x0A, priority: .dynamicTool)).bytes, Array("OKAYA896\r".utf8))
        XCTAssertEqual(try harness.exchange(.portHandleSearch(.enabled)).bytes, H.asciiLine("010A031"))
        XCTAssertEqual(try harness.exchange(.startTracking()).bytes, Array("OKAYA896\r".utf8))

        var frameNumbers: [UInt32] = []
        for _ in 0..<10 {
            let exchange = try harness.exchange(.bx(), expecting: .bx)
            XCTAssertEqual(exchange.statistics.crcErrors, 0)
            XCTAssertEqual(exchange.statistics.discardedBytes, 0)
            let reply = try XCTUnwrap(exchange.bxReplies.first)
            XCTAssertEqual(exchange.bytes.count, 53, "one valid handle: 45 bytes of body (README §6.2)")
            XCTAssertEqual(Array(exchange.bytes.prefix(4)), [0xC4, 0xA5, 45, 0])
            // What the decoder made of it re-encodes to the very bytes that came (README §6.2).
            var encoded = NDI.EncodedReply()
            try NDI.ReplyEncoder.bx(reply, into: &encoded)
            XCTAssertEqual(encoded.bytes, exchange.bytes)
            let handle = try XCTUnwrap(reply.handles.report(forHandle: 0x0A))
            XCTAssertEqual(handle.status, .valid)
            XCTAssertEqual(handle.portStatus, [.occupied, .initialized, .enabled])
            XCTAssertTrue(handle.isToolVisible)
            XCTAssertEqual(try XCTUnwrap(handle.pose).rmsErrorMillimeters, Double(Float(0.3)))
            XCTAssertEqual(reply.systemStatus, [])
            frameNumbers.append(handle.frameNumber)
            try harness.wait(milliseconds: 25)
        }
        XCTAssertEqual(frameNumbers, frameNumbers.sorted())
        XCTAssertGreaterThan(Set(frameNumbers).count, 5, "the frame number moves at 40 Hz: \(frameNumbers)")
        XCTAssertEqual(try harness.exchange(.stopTracking()).bytes, Array("OKAYA896\r".utf8))
        XCTAssertEqual(try harness.exchange(.bx(), expecting: .bx).bytes, H.asciiLine("ERROR0C"), "no longer tracking")
    }

    func testTheProbeIsAnsweredAtPowerUpAndGETINFOIsAnInvalidCommand() throws {
        let harness = H(H.configuration())
        harness.tracker.hostLineRateChanged(bitsPerSecond: 9_600)
        let initialize = try harness.exchange(.initialize())
        XCTAssertEqual(initialize.bytes, Array("OKAYA896\r".utf8))
        XCTAssertLessThan(try XCTUnwrap(initialize.lastByteAt).nanoseconds(since: initialize.sentAt), 200_000_000, "ndicapi waits ~200 ms")
        let getinfo = try XCTUnwrap(NDI.Command("GETINFO", parameters: "Features.Firmware.Version"))
        XCTAssertEqual(H.line(getinfo), Array("GETINFO:Features.Firmware.Version0492\r".utf8))
        let info = try harness.exchange(getinfo)
        XCTAssertEqual(info.bytes, H.asciiLine("ERROR01"))
        XCTAssertLessThan(try XCTUnwrap(info.lastByteAt).nanoseconds(since: info.sentAt), 100_000_000, "ndicapi's probe waits 100 ms")
        let version = try harness.exchange(.version(0))
        XCTAssertGreaterThanOrEqual(version.bytes.count, 7)
        XCTAssertEqual(version.bytes.last, 0x0D)
    }

    // MARK: The line (README §2)

    func testAHostAtTheWrongRateSeesNothingDecodableAndIsNotUnderstood() throws {
        let harness = H(H.configuration())
        harness.tracker.hostLineRateChanged(bitsPerSecond: 115_200)   // the device is at 9600 after power-up
        let unheard = try harness.exchange(.initialize(), listenMilliseconds: 500)
        XCTAssertTrue(unheard.bytes.isEmpty)
        XCTAssertEqual(harness.tracker.misunderstoodInputBytes, 10)
        XCTAssertFalse(harness.tracker.isInitialized)

        harness.tracker.hostLineRateChanged(bitsPerSecond: 9_600)
        XCTAssertEqual(try harness.exchange(.initialize()).bytes, Array("OKAYA896\r".utf8))

        // A reply sent at 9600 that the host reads at 19200: noise, byte for byte, and nothing decodes.
        try harness.write(.version(0))
        harness.tracker.hostLineRateChanged(bitsPerSecond: 19_200)
        let noise = try harness.wait(milliseconds: 500, expecting: .ascii)
        XCTAssertGreaterThan(noise.bytes.count, 40)
        XCTAssertFalse(noise.bytes.contains(0x0D), "never a CR: no ASCII reply can end")
        XCTAssertFalse(noise.bytes.contains(0xC4), "never C4: no BX reply can start")
        XCTAssertTrue(noise.results.allSatisfy { $0.asciiReply == nil && $0.bxReply == nil })
        XCTAssertEqual(noise.statistics.repliesDecoded, 0)
        XCTAssertEqual(harness.tracker.garbledOutputBytes, noise.bytes.count)

        // After COMM the device is at 115200: a host still at 9600 is not understood.
        harness.tracker.hostLineRateChanged(bitsPerSecond: 9_600)
        XCTAssertEqual(try harness.exchange(.communication(NDI.SerialSettings(baudRate: .bps115200))).bytes, Array("OKAYA896\r".utf8))
        XCTAssertTrue(try harness.exchange(.version(0), listenMilliseconds: 500).bytes.isEmpty)
        harness.tracker.hostLineRateChanged(bitsPerSecond: 115_200)
        XCTAssertFalse(try harness.exchange(.version(0)).asciiTexts.isEmpty)
    }

    func testRepliesTakeTheirWireTimeAtTheCurrentRate() throws {
        let harness = try H.tracking(H.configuration())
        // 115200 bit/s: BX:080100EC⏎ (12 bytes) in 1.04 ms, 0.5 ms of firmware, 53 bytes out in 4.6 ms.
        let exchange = try harness.exchange(.bx(), expecting: .bx)
        XCTAssertEqual(exchange.lastByteAt?.nanoseconds(since: exchange.sentAt), 1_041_667 + 500_000 + 4_600_695)
    }

    func testACommandWithABadCRCOrUnknownNameGetsItsError() throws {
        let harness = H(H.configuration())
        XCTAssertEqual(try harness.exchange(raw: "INIT:0000\r").bytes, H.asciiLine("ERROR04"), "bad CRC (README §8.2)")
        XCTAssertEqual(try harness.exchange(raw: "\r").bytes, H.asciiLine("ERROR03"), "empty line")
        XCTAssertEqual(try harness.exchange(raw: "INIT:E3A\r").bytes, H.asciiLine("ERROR03"), "too short to hold its CRC")
        XCTAssertEqual(try harness.exchange(raw: "init:E3A5\r").bytes, H.asciiLine("ERROR01"), "lower-case name")
        XCTAssertEqual(try harness.exchange(raw: String(repeating: "A", count: 300) + "\r").bytes, H.asciiLine("ERROR02"))
        XCTAssertEqual(try harness.exchange(try XCTUnwrap(NDI.Command("BEEP", parameters: "1"))).bytes, H.asciiLine("ERROR01"))
        XCTAssertEqual(try harness.exchange(raw: "INIT:e3a5\r").bytes, Array("OKAYA896\r".utf8), "lower-case CRC digits are accepted")
        XCTAssertEqual(try harness.exchange(raw: "INIT \r").bytes, Array("OKAYA896\r".utf8), "the space form")
        XCTAssertEqual(try harness.exchange(raw: "INIT\r").bytes, Array("OKAYA896\r".utf8), "the bare form")
        XCTAssertEqual(harness.tracker.commandStatistics.crcErrors, 1)
    }

    func testStateErrorsHaveTheirCodes() throws {
        let harness = H(H.configuration(tools: [NDIToolConfiguration(portHandle: 0x0A)]))
        XCTAssertEqual(try harness.exchange(.portHandleSearch(.all)).bytes, H.asciiLine("ERROR10"), "before INIT")
        XCTAssertEqual(try harness.exchange(.startTracking()).bytes, H.asciiLine("ERROR10"))
        XCTAssertEqual(try harness.exchange(.initialize()).bytes, Array("OKAYA896\r".utf8))
        XCTAssertEqual(try harness.exchange(.bx(), expecting: .bx).bytes, H.asciiLine("ERROR0C"), "BX before TSTART (README §9.1)")
        XCTAssertEqual(try harness.exchange(.tx()).bytes, H.asciiLine("ERROR0C"))
        XCTAssertEqual(try harness.exchange(.portHandleEnable(0x0A, priority: .dynamicTool)).bytes, H.asciiLine("ERROR0E"), "PENA before PINIT")
        XCTAssertEqual(try harness.exchange(.portHandleDisable(0x0A)).bytes, H.asciiLine("ERROR0E"))
        XCTAssertEqual(try harness.exchange(.portHandleInitialize(0x0C)).bytes, H.asciiLine("ERROR2B"), "no such handle")
        XCTAssertEqual(try harness.exchange(try XCTUnwrap(NDI.Command("PINIT", parameters: "ZZ"))).bytes, H.asciiLine("ERROR08"))
        XCTAssertEqual(try harness.exchange(try XCTUnwrap(NDI.Command("PINIT", parameters: "0A0"))).bytes, H.asciiLine("ERROR07"))
        XCTAssertEqual(try harness.exchange(.portHandleInitialize(0x0A)).bytes, Array("OKAYA896\r".utf8))
        XCTAssertEqual(try harness.exchange(try XCTUnwrap(NDI.Command("PENA", parameters: "0AX"))).bytes, H.asciiLine("ERROR09"))
        XCTAssertEqual(try harness.exchange(try XCTUnwrap(NDI.Command("PENA", parameters: "0ad"))).bytes, Array("OKAYA896\r".utf8),
                       "lower-case hex, as scikit-surgerynditracker sends (README §3.1)")
        XCTAssertEqual(try harness.exchange(try XCTUnwrap(NDI.Command("PHRQ", parameters: "*********1****"))).bytes, H.asciiLine("ERROR2D"))
        XCTAssertEqual(try harness.exchange(try XCTUnwrap(NDI.Command("COMM", parameters: "90000"))).bytes, H.asciiLine("ERROR06"))
        XCTAssertEqual(try harness.exchange(.version(7)).bytes, H.asciiLine("ERROR23"))
        XCTAssertEqual(try harness.exchange(.startTracking()).bytes, Array("OKAYA896\r".utf8))
        XCTAssertEqual(try harness.exchange(.startTracking()).bytes, H.asciiLine("ERROR0C"), "already tracking")
        XCTAssertEqual(try harness.exchange(.portHandleInitialize(0x0A)).bytes, H.asciiLine("ERROR0C"), "set-up during tracking")
        XCTAssertEqual(try harness.exchange(.communication(.powerUp)).bytes, H.asciiLine("ERROR0C"))
        XCTAssertEqual(try harness.exchange(.bx(NDI.BXReplyOptions(rawValue: 0x0003)), expecting: .bx).bytes, H.asciiLine("ERROR23"),
                       "only the layout of 0x0001 / 0x0801 is served")
        XCTAssertEqual(try harness.exchange(.bx(.transformations), expecting: .bx).bxReplies.count, 1)
        // PDIS during tracking: the handle is listed as disabled until TSTOP.
        XCTAssertEqual(try harness.exchange(.portHandleDisable(0x0A)).bytes, Array("OKAYA896\r".utf8))
        let disabled = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first)
        XCTAssertEqual(disabled.handles.report(forHandle: 0x0A)?.status, .disabled)
        XCTAssertEqual(try harness.exchange(.stopTracking()).bytes, Array("OKAYA896\r".utf8))
        XCTAssertEqual(try harness.exchange(.stopTracking()).bytes, Array("OKAYA896\r".utf8), "TSTOP outside tracking is harmless")
        // INIT returns every tool to "occupied, not initialised": a second client's set-up finds it again.
        XCTAssertEqual(try harness.exchange(.initialize()).bytes, Array("OKAYA896\r".utf8))
        XCTAssertEqual(try harness.exchange(.portHandleSearch(.notInitialized)).bytes, H.asciiLine("010A001"))
    }

    func testAPolarisPassiveToolNeedsPHRQAndPVWRBeforePINIT() throws {
        var configuration = NDITrackerConfiguration.polaris(
            tools: [NDIToolConfiguration(portHandle: 0x01, basePositionMeters: SIMD3(0, 0, -1.5), requiresPortHandleRequest: true)])
        configuration.positionNoiseMillimeters = 0
        let harness = H(configuration)
        XCTAssertEqual(try harness.exchange(.initialize()).bytes, Array("OKAYA896\r".utf8))
        XCTAssertEqual(try harness.exchange(.portHandleSearch(.all)).bytes, H.asciiLine("00"), "no handle until PHRQ")
        XCTAssertEqual(try harness.exchange(.portHandleInitialize(0x01)).bytes, H.asciiLine("ERROR2B"))
        XCTAssertEqual(try harness.exchange(try XCTUnwrap(NDI.Command("PHRQ", parameters: "*********1****"))).bytes, H.asciiLine("01"))
        XCTAssertEqual(try harness.exchange(.portHandleInitialize(0x01)).bytes, H.asciiLine("ERROR13"), "no tool definition yet")
        let chunk = "01" + "0000" + String(repeating: "0", count: 128)
        XCTAssertEqual(try harness.exchange(try XCTUnwrap(NDI.Command("PVWR", parameters: chunk))).bytes, Array("OKAYA896\r".utf8))
        XCTAssertEqual(try harness.exchange(.portHandleInitialize(0x01)).bytes, Array("OKAYA896\r".utf8))
        XCTAssertEqual(try harness.exchange(.portHandleEnable(0x01, priority: .dynamicTool)).bytes, Array("OKAYA896\r".utf8))
        XCTAssertEqual(try harness.exchange(.startTracking()).bytes, Array("OKAYA896\r".utf8))
        let reply = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first)
        XCTAssertEqual(reply.handles.report(forHandle: 0x01)?.status, .valid)
    }

    // MARK: Tools and frames (README §6, §9)

    func testBXPosesFollowTheLimbWithinTheNoise() throws {
        var configuration = H.configuration(noise: false)
        configuration.limbMotion = .sinusoid(centerRadians: 0.1, amplitudeRadians: 0.5, frequencyHertz: 0.5)
        configuration.positionNoiseMillimeters = 0.2
        configuration.orientationNoiseRadians = 0.001
        let harness = try H.tracking(configuration)
        let start = try XCTUnwrap(harness.tracker.trackingStartTime)
        var errors: [SIMD3<Double>] = []
        var seen = Set<UInt32>()
        for _ in 0..<200 {
            let handle = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles.report(forHandle: 0x0A))
            try harness.wait(milliseconds: 20)
            guard seen.insert(handle.frameNumber).inserted else { continue }
            let pose = try XCTUnwrap(handle.pose)
            // Measurement k at TSTART + k · 25 ms (frame numbers start at 0); the limb's angle then, about the tracker's y axis.
            let taken = start.advanced(byNanoseconds: Int64(handle.frameNumber) * 25_000_000)
            let angle = 0.1 + 0.5 * sin(2 * Double.pi * 0.5 * taken.seconds(since: harness.bootTime))
            let expected = SIMD3(0.1 * cos(angle), 0, -0.3 - 0.1 * sin(angle))
            let error = (pose.positionMeters - expected) * 1000
            XCTAssertLessThan(max(abs(error.x), abs(error.y), abs(error.z)), 1.0, "within 5 σ [mm]")
            errors.append(error)
            let q = pose.orientation
            XCTAssertEqual((q * q).sum(), 1, accuracy: 1e-6)
            let dot = abs(q[0] * cos(angle / 2) + q[2] * sin(angle / 2))
            XCTAssertLessThan(2 * acos(min(1, dot)), 0.01, "orientation within 5 σ √3 [rad]")
        }
        XCTAssertGreaterThan(errors.count, 150)
        let mean = errors.reduce(SIMD3<Double>.zero, +) / Double(errors.count)
        let variance = errors.map { ($0 - mean) * ($0 - mean) }.reduce(SIMD3<Double>.zero, +) / Double(errors.count)
        for axis in 0..<3 {
            XCTAssertLessThan(abs(mean[axis]), 0.1, "unbiased [mm]")
            XCTAssertEqual(variance[axis].squareRoot(), 0.2, accuracy: 0.05, "σ = 0.2 mm")
        }
    }

    func testTheFrameNumberAdvancesAtTheFrameRateAndRepeatsWhenPolledFaster() throws {
        for (configuration, rate) in [(H.configuration(), 40.0), (NDITrackerConfiguration.polaris(), 60.0)] {
            let harness = try H.tracking(configuration)
            let start = try XCTUnwrap(harness.tracker.trackingStartTime)
            let handle = harness.tracker.portHandles[0]
            var numbers: [UInt32] = []
            while harness.clock.now().nanoseconds(since: start) < 1_000_000_000 {
                let exchange = try harness.exchange(.bx(), expecting: .bx)
                let report = try XCTUnwrap(exchange.bxReplies.first?.handles.report(forHandle: handle))
                // The BX line's CR arrives 12 bytes after it was written (115200 bit/s): the newest frame then.
                let executed = exchange.sentAt.advanced(byNanoseconds: 1_041_667)
                XCTAssertEqual(report.frameNumber, UInt32((Double(executed.nanoseconds(since: start)) * rate / 1e9).rounded(.down)))
                numbers.append(report.frameNumber)
            }
            XCTAssertEqual(numbers, numbers.sorted())
            XCTAssertGreaterThan(numbers.count, Set(numbers).count, "polling faster than the rate repeats frame numbers")
            XCTAssertEqual(Double(numbers.last! - numbers.first!), rate, accuracy: 1, "one frame number per measurement over 1 s")
        }
    }

    func testTheFrameNumberContinuesAcrossTrackingRunsFromTheConfiguredStart() throws {
        var configuration = H.configuration()
        configuration.initialFrameNumber = 1_000
        let harness = try H.tracking(configuration)
        try harness.wait(milliseconds: 100)
        let first = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles[0].frameNumber)
        XCTAssertEqual(first, 1_004)
        XCTAssertEqual(try harness.exchange(.stopTracking()).bytes, Array("OKAYA896\r".utf8))
        try harness.wait(milliseconds: 500)
        XCTAssertEqual(try harness.exchange(.startTracking()).bytes, Array("OKAYA896\r".utf8))
        let resumed = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles[0].frameNumber)
        XCTAssertEqual(resumed, 1_005, "the counter goes on where it stopped")
    }

    func testOutOfVolumeAndMissingToolsAreReportedAsREADME9Says() throws {
        let tools = [
            NDIToolConfiguration(portHandle: 0x0A),
            NDIToolConfiguration(portHandle: 0x0B, basePositionMeters: SIMD3(0.3, 0, -0.3)),   // x 0.4 m: outside the ±0.25 m cube
        ]
        let harness = try H.tracking(H.configuration(tools: tools))
        let all = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first)
        XCTAssertEqual(all.handles.report(forHandle: 0x0A)?.portStatus, [.occupied, .initialized, .enabled])
        let outside = try XCTUnwrap(all.handles.report(forHandle: 0x0B))
        XCTAssertEqual(outside.status, .valid, "reported because of 0x0800")
        XCTAssertEqual(outside.portStatus.rawValue, 0x71)
        XCTAssertFalse(outside.isToolVisible)
        let plain = try XCTUnwrap(try harness.exchange(.bx(.transformations), expecting: .bx).bxReplies.first)
        XCTAssertEqual(plain.handles.report(forHandle: 0x0B)?.status, .missing, "without 0x0800: missing")
        XCTAssertEqual(plain.handles.report(forHandle: 0x0B)?.portStatus.rawValue, 0x71)

        // tool_missing: status 02, port status and a counting frame number still there.
        harness.link.inject([NDIInjectedFault(.toolMissing(handle: 0x0A), .now, forMilliseconds: 100)])
        let before = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles.report(forHandle: 0x0A))
        XCTAssertEqual(before.status, .missing)
        XCTAssertEqual(before.portStatus.rawValue, 0x31)
        XCTAssertFalse(before.isToolVisible)
        try harness.wait(milliseconds: 50)
        let later = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles.report(forHandle: 0x0A))
        XCTAssertEqual(later.status, .missing)
        XCTAssertGreaterThan(later.frameNumber, before.frameNumber, "the frame number still counts")
        try harness.wait(milliseconds: 60)
        XCTAssertEqual(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles.report(forHandle: 0x0A)?.status, .valid)

        // tool_out_of_volume: 0x40 wherever the tool is.
        harness.link.inject([NDIInjectedFault(.toolOutOfVolume(handle: 0x0A), .now)])
        let flagged = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles.report(forHandle: 0x0A))
        XCTAssertEqual(flagged.status, .valid)
        XCTAssertEqual(flagged.portStatus.rawValue, 0x71)
        XCTAssertFalse(flagged.isToolVisible)
    }

    func testAFrozenTrackerRepeatsItsLastFrameWhileRepliesKeepComing() throws {
        var configuration = H.configuration(noise: true)
        configuration.limbMotion = .sinusoid(centerRadians: 0, amplitudeRadians: 0.5, frequencyHertz: 1)
        let harness = try H.tracking(configuration)
        try harness.wait(milliseconds: 100)
        harness.link.inject([NDIInjectedFault(.trackerFreeze, .now, forMilliseconds: 300)])
        let frozen = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles[0])
        for _ in 0..<8 {
            try harness.wait(milliseconds: 25)
            let exchange = try harness.exchange(.bx(), expecting: .bx)
            XCTAssertEqual(exchange.bxReplies.first?.handles[0], frozen, "same frame number, same pose, same noise")
        }
        try harness.wait(milliseconds: 120)
        let thawed = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles[0])
        XCTAssertGreaterThan(thawed.frameNumber, frozen.frameNumber + 10)
        XCTAssertNotEqual(thawed.pose, frozen.pose)
        var events: [FirmwareEventRecord] = []
        harness.tracker.drainEventRecords { events.append($0) }
        XCTAssertEqual(events.filter { $0.detail == "tracker_freeze" }.map(\.event), ["fault_injected", "fault_injection_ended"])
        XCTAssertTrue(events.contains { $0.event == "tracking_start" })
    }

    func testDriftIsARampOfTheGivenRate() throws {
        let harness = try H.tracking(H.configuration(noise: false))
        let rest = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles[0].pose)
        XCTAssertEqual(rest.positionMeters.x, 0.1, accuracy: 1e-7)
        harness.link.inject([NDIInjectedFault(.trackerDrift(millimetersPerSecond: 2), .now, forMilliseconds: 1_500)])
        try harness.wait(milliseconds: 1_000)
        let drifted = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles[0].pose)
        XCTAssertEqual((drifted.positionMeters.x - rest.positionMeters.x) * 1000, 2, accuracy: 0.06, "2 mm/s for 1 s, to a frame")
        XCTAssertEqual(drifted.positionMeters.y, rest.positionMeters.y)
        XCTAssertEqual(drifted.positionMeters.z, rest.positionMeters.z)
        try harness.wait(milliseconds: 600)
        let after = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles[0].pose)
        XCTAssertEqual(after.positionMeters, rest.positionMeters, "gone when the fault ends")
    }

    func testInaccurateRaisesTheReportedRMSErrorOnly() throws {
        let tools = [NDIToolConfiguration(portHandle: 0x0A), NDIToolConfiguration(portHandle: 0x0B, followsLimb: false)]
        let harness = try H.tracking(H.configuration(tools: tools, noise: false))
        // Counted from TSTART: the third BX served triggers it; the fourth shows it.
        harness.link.inject([NDIInjectedFault(.trackerInaccurate(handle: 0x0A, rmsErrorMillimeters: 3.5), .atCommand(3), forMilliseconds: 200)])
        var rms: [Double] = []
        for _ in 0..<4 {
            rms.append(try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles.report(forHandle: 0x0A)?.pose).rmsErrorMillimeters)
        }
        XCTAssertEqual(rms, [0.3, 0.3, 0.3, 3.5].map { Double(Float($0)) })
        let other = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles.report(forHandle: 0x0B)?.pose)
        XCTAssertEqual(other.rmsErrorMillimeters, Double(Float(0.3)), "only the named tool")
        try harness.wait(milliseconds: 250)
        let healed = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles.report(forHandle: 0x0A)?.pose)
        XCTAssertEqual(healed.rmsErrorMillimeters, Double(Float(0.3)))
    }

    func testTXCarriesTheSameFrameAsText() throws {
        let harness = try H.tracking(H.configuration(noise: false))
        let exchange = try harness.exchange(.tx())
        let text = try XCTUnwrap(exchange.asciiTexts.first)
        // Tool 0A at (100, 0, −300) mm, unrotated, RMS 0.3 mm, port status 0x31, frame 0 (README §7).
        XCTAssertEqual(text, "010A+10000+00000+00000+00000+010000+000000-030000+03000" + "00000031" + "00000000" + "\n0000")
        XCTAssertEqual(exchange.bytes, H.asciiLine(text))
    }

    // MARK: Reset (README §2, §10.3)

    func testAResetSendsRESETAt9600AndTheHostMustINITAgain() throws {
        let harness = try H.tracking(H.configuration())
        XCTAssertEqual(harness.tracker.deviceBitsPerSecond, 115_200)
        harness.link.inject([NDIInjectedFault(.trackerReset, .now)])
        harness.tracker.hostLineRateChanged(bitsPerSecond: 9_600)   // the host goes back to 9600 after its break
        let reset = try harness.wait(milliseconds: 1_100, expecting: .ascii)
        XCTAssertEqual(reset.bytes, Array("RESETBE6F\r".utf8))
        XCTAssertEqual(harness.tracker.deviceBitsPerSecond, 9_600)
        XCTAssertFalse(harness.tracker.isTracking)
        XCTAssertEqual(try harness.exchange(.portHandleSearch(.all)).bytes, H.asciiLine("ERROR10"))
        XCTAssertEqual(try harness.exchange(.initialize()).bytes, Array("OKAYA896\r".utf8))
        XCTAssertEqual(try harness.exchange(.portHandleSearch(.notInitialized)).bytes, H.asciiLine("010A001"))
    }

    func testADeviceThatAnnouncesItsResetAtBootSendsRESETFirst() throws {
        var configuration = H.configuration()
        configuration.announcesResetAtBoot = true
        let harness = H(configuration)
        harness.tracker.hostLineRateChanged(bitsPerSecond: 9_600)
        XCTAssertEqual(try harness.wait(milliseconds: 20, expecting: .ascii).bytes, Array("RESETBE6F\r".utf8))
        XCTAssertEqual(try harness.exchange(.initialize()).bytes, Array("OKAYA896\r".utf8))
    }

    /// A host at 115200 cannot read the RESET of a system that reset itself (it comes at 9600): noise, then
    /// silence — BX at 115200 is not understood any more (README §9.4).
    func testAResetWhileTheHostIsAtAnotherRateReachesItAsNoiseThenSilence() throws {
        let harness = try H.tracking(H.configuration())
        XCTAssertEqual(try harness.exchange(.bx(), expecting: .bx).bxReplies.count, 1)
        harness.link.inject([NDIInjectedFault(.trackerReset, .now)])
        let noise = try harness.wait(milliseconds: 1_100, expecting: .bx)
        XCTAssertEqual(noise.bytes.count, 10, "RESETBE6F⏎, at 9600")
        XCTAssertNotEqual(noise.bytes, Array("RESETBE6F\r".utf8))
        XCTAssertEqual(noise.statistics.repliesDecoded, 0)
        XCTAssertEqual(harness.tracker.garbledOutputBytes, 10)
        XCTAssertTrue(try harness.exchange(.bx(), expecting: .bx, listenMilliseconds: 200).bytes.isEmpty, "a BX at 115200 is not understood")
        XCTAssertGreaterThan(harness.tracker.misunderstoodInputBytes, 0)
    }

    /// RESET 0 (README §5.10) does what a break does, in any state, and is answered RESET at 9600 once the
    /// reset is over: the way to reset a system behind a pseudo-terminal, which carries no break.
    func testTheRESETCommandResetsTheSystemAsABreakDoes() throws {
        let harness = try H.tracking(H.configuration())
        try harness.write(.reset())   // at 115200, where the system is
        harness.tracker.hostLineRateChanged(bitsPerSecond: 9_600)   // the host follows it to 9600
        let reset = try harness.wait(milliseconds: 1_100, expecting: .ascii)
        XCTAssertEqual(reset.bytes, Array("RESETBE6F\r".utf8))
        XCTAssertEqual(harness.tracker.deviceBitsPerSecond, 9_600)
        XCTAssertFalse(harness.tracker.isTracking)
        XCTAssertFalse(harness.tracker.isInitialized)
        XCTAssertEqual(try harness.exchange(.portHandleSearch(.all)).bytes, H.asciiLine("ERROR10"))
        XCTAssertEqual(try harness.exchange(.initialize()).bytes, Array("OKAYA896\r".utf8))
        XCTAssertEqual(try harness.exchange(.portHandleSearch(.notInitialized)).bytes, H.asciiLine("010A001"), "its handles freed")

        // Before INIT too, and in the space form; an option other than 0 is refused.
        let fresh = H(H.configuration())
        fresh.tracker.hostLineRateChanged(bitsPerSecond: 9_600)
        let early = try fresh.exchange(.reset(form: .space), listenMilliseconds: 1_200)
        XCTAssertEqual(early.bytes, Array("RESETBE6F\r".utf8))
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(early.lastByteAt).nanoseconds(since: early.sentAt), 1_000_000_000, "after resetNanoseconds")
        XCTAssertEqual(try fresh.exchange(try XCTUnwrap(NDI.Command("RESET", parameters: "1"))).bytes, H.asciiLine("ERROR23"))
        var events: [FirmwareEventRecord] = []
        harness.tracker.drainEventRecords { events.append($0) }
        XCTAssertEqual(events.filter { $0.event == "reset" }.count, 1)
    }

    /// `bx_error`: BX and TX are answered ERRORxx while it lasts; set-up commands are served; data again after.
    func testBXErrorAnswersTrackingDataWithItsCodeWhileItLasts() throws {
        let harness = try H.tracking(H.configuration())
        harness.link.inject([NDIInjectedFault(.bxError(code: 0x0C), .now, forMilliseconds: 100)])
        XCTAssertEqual(try harness.exchange(.bx(), expecting: .bx).bytes, H.asciiLine("ERROR0C"))
        XCTAssertEqual(try harness.exchange(.tx()).bytes, H.asciiLine("ERROR0C"))
        XCTAssertEqual(try harness.exchange(.portHandleSearch(.enabled)).bytes, H.asciiLine("010A031"), "set-up commands are served")
        try harness.wait(milliseconds: 120)
        XCTAssertEqual(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles.report(forHandle: 0x0A)?.status, .valid)
        XCTAssertTrue(harness.tracker.isTracking, "a refused BX does not end tracking")

        typealias Parser = FaultScriptParser<NDITrackerFault>
        XCTAssertEqual(try Parser.parseLive(#"{"kind": "bx_error"}"#, jointCount: 0).get().kind, .bxError(code: 0x05), "05 by default")
        XCTAssertEqual(try Parser.parseLive(#"{"kind": "bx_error", "code": "0c"}"#, jointCount: 0).get().kind, .bxError(code: 0x0C))
        XCTAssertEqual(try Parser.parseLive(#"{"kind": "bx_error", "code": 18, "for_ms": 50}"#, jointCount: 0).get(),
                       NDIInjectedFault(.bxError(code: 0x12), .now, forMilliseconds: 50))
        for bad in [#"{"kind": "bx_error", "code": "0G"}"#, #"{"kind": "bx_error", "code": 0}"#, #"{"kind": "bx_error", "code": 256}"#,
                    #"{"kind": "bx_error", "code": "00"}"#] {
            guard case .failure = Parser.parseLive(bad, jointCount: 0) else { return XCTFail("accepted \(bad)") }
        }
    }

    // MARK: Faults, determinism, cue

    func testFaultScriptsNameTheTrackersFaults() throws {
        typealias Parser = FaultScriptParser<NDITrackerFault>
        let missing = try Parser.parseLive(#"{"kind": "tool_missing", "handle": "0A", "for_ms": 100}"#, jointCount: 0).get()
        XCTAssertEqual(missing, NDIInjectedFault(.toolMissing(handle: 0x0A), .now, forMilliseconds: 100))
        XCTAssertEqual(try Parser.parseLive(#"{"kind": "tool_out_of_volume", "handle": 11}"#, jointCount: 0).get().kind, .toolOutOfVolume(handle: 0x0B))
        XCTAssertEqual(try Parser.parseLive(#"{"kind": "tracker_drift", "drift_mm_per_s": 2.5}"#, jointCount: 0).get().kind,
                       .trackerDrift(millimetersPerSecond: 2.5))
        XCTAssertEqual(try Parser.parseLive(#"{"kind": "tracker_inaccurate", "handle": "0b"}"#, jointCount: 0).get().kind,
                       .trackerInaccurate(handle: 0x0B, rmsErrorMillimeters: 5))
        XCTAssertEqual(try Parser.parseLive(#"{"kind": "tracker_freeze", "for_ms": 300}"#, jointCount: 0).get().kind, .trackerFreeze)
        for bad in [
            #"{"kind": "tool_missing"}"#, #"{"kind": "tool_missing", "handle": "0G"}"#, #"{"kind": "tool_missing", "handle": 0}"#,
            #"{"kind": "tracker_drift"}"#, #"{"kind": "tracker_drift", "drift": 2}"#, #"{"kind": "tracker_reset", "for_ms": 10}"#,
        ] {
            guard case .failure = Parser.parseLive(bad, jointCount: 0) else { return XCTFail("accepted \(bad)") }
        }
        let script = try XCTUnwrap(try JSONParser.parse(#"""
            {"format": "rehabsim-faults/1", "faults": [
              {"after_enable_ms": 1000, "for_ms": 300, "kind": "tracker_freeze"},
              {"at_command": 40, "kind": "tracker_inaccurate", "rms_error_mm": 3},
              {"at_ms": 8000, "kind": "tracker_reset"},
              {"at_ms": 0, "kind": "corrupt_bytes", "every_nth": 50}]}
            """#).objectValue)
        let faults = try Parser.parse(script, sourcePath: "script", jointCount: 0)
        XCTAssertEqual(faults.map(\.kind.name), ["tracker_freeze", "tracker_inaccurate", "tracker_reset", "corrupt_bytes"])
    }

    func testTheSameSeedGivesTheSameBytesAndAnotherSeedOthers() throws {
        func run(seed: UInt64) throws -> [[UInt8]] {
            var configuration = H.configuration(noise: true)
            configuration.seed = seed
            let harness = try H.tracking(configuration)
            var replies: [[UInt8]] = []
            for _ in 0..<5 {
                replies.append(try harness.exchange(.bx(), expecting: .bx).bytes)
                try harness.wait(milliseconds: 30)
            }
            return replies
        }
        XCTAssertEqual(try run(seed: 7), try run(seed: 7))
        XCTAssertNotEqual(try run(seed: 7), try run(seed: 8))
    }

    func testALimbFollowingTheCueRestsUntilTheCueStarts() throws {
        let mirror = Mirror(scale: 1, offsetRadians: 0, maximumSpeedRadiansPerSecond: 1, maximumRmsErrorMillimeters: 1)
        var start = JointList<Double>.zeros(1)
        start[0] = 0
        var target = JointList<Double>.zeros(1)
        target[0] = 0.5
        let cue = WaypointTrajectory(start: start, waypoints: [WaypointTrajectory.Waypoint(positions: target, moveSeconds: 1, holdSeconds: 10)])
        let limb = SimulatedReferenceLimb(mirror: mirror, cue: cue, joint: 0, tremorAmplitudeRadians: 0)
        var configuration = H.configuration(noise: false)
        configuration.limbMotion = .followingCue(limb)
        let harness = try H.tracking(configuration)
        let resting = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles[0].pose)
        XCTAssertEqual(resting.positionMeters.x, 0.1, accuracy: 1e-7)
        harness.tracker.startCue(at: harness.clock.now())
        try harness.wait(milliseconds: 2_000)
        let moved = try XCTUnwrap(try harness.exchange(.bx(), expecting: .bx).bxReplies.first?.handles[0].pose)
        XCTAssertEqual(moved.positionMeters.x, 0.1 * cos(0.5), accuracy: 1e-6, "turned by the cue's 0.5 rad about y")
        XCTAssertEqual(moved.positionMeters.z, -0.3 - 0.1 * sin(0.5), accuracy: 1e-6)
    }
}

/// Talks to a simulated NDI tracker through `InProcessDeviceLink` on a `VirtualClock`, as a host would: lines built
/// by `NDI.CommandEncoder` go in, replies are decoded by `NDI.ReplyDecoder`. The link adds no latency of its own (the
/// tracker models the wire), and the clock steps to the tracker's own deadlines, so every time measured is exact.
private final class NDITrackerHarness {
    let clock: VirtualClock
    let link: NDIInProcessLink
    var tracker: SimulatedNDITracker { link.device }
    var bootTime: MonotonicInstant { tracker.bootTime }
    private var buffer = [UInt8](repeating: 0, count: 4_096)

    init(_ configuration: NDITrackerConfiguration) {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        self.clock = clock
        link = InProcessDeviceLink(device: SimulatedNDITracker(configuration: configuration, bootTime: clock.now()), clock: clock, replyLatencyNanoseconds: 0)
    }

    /// An Aurora with `tools` (one on 0A by default), the limb still at 0; without noise unless asked.
    static func configuration(tools: [NDIToolConfiguration] = [NDIToolConfiguration(portHandle: 0x0A)], noise: Bool = false) -> NDITrackerConfiguration {
        var configuration = NDITrackerConfiguration.aurora(tools: tools)
        if !noise {
            configuration.positionNoiseMillimeters = 0
            configuration.orientationNoiseRadians = 0
        }
        return configuration
    }

    /// A tracker set up as ndicapi's users do (README §9.1): INIT, COMM 50000, every handle PINIT'd and PENA'd, TSTART.
    static func tracking(_ configuration: NDITrackerConfiguration) throws -> NDITrackerHarness {
        let harness = NDITrackerHarness(configuration)
        harness.tracker.hostLineRateChanged(bitsPerSecond: 9_600)
        for command in [NDI.Command.initialize(), .communication(NDI.SerialSettings(baudRate: .bps115200))] {
            XCTAssertEqual(try harness.exchange(command).bytes, Array("OKAYA896\r".utf8), "\(command)")
        }
        harness.tracker.hostLineRateChanged(bitsPerSecond: 115_200)
        for handle in harness.tracker.portHandles {
            XCTAssertEqual(try harness.exchange(.portHandleInitialize(handle)).bytes, Array("OKAYA896\r".utf8))
            XCTAssertEqual(try harness.exchange(.portHandleEnable(handle, priority: .dynamicTool)).bytes, Array("OKAYA896\r".utf8))
        }
        XCTAssertEqual(try harness.exchange(.startTracking()).bytes, Array("OKAYA896\r".utf8))
        return harness
    }

    /// What the tracker sent back after a write.
    struct Exchange {
        var sentAt: MonotonicInstant
        var bytes: [UInt8] = []
        var results: [NDI.DecodeResult] = []
        /// When the last byte became readable.
        var lastByteAt: MonotonicInstant?
        var statistics = NDI.DecoderStatistics()

        var asciiTexts: [String] { results.compactMap { $0.asciiReply?.text.string } }
        var bxReplies: [NDI.BXReply] { results.compactMap(\.bxReply) }
    }

    static func line(_ command: NDI.Command) -> [UInt8] { NDI.CommandEncoder.encoded(command).bytes }

    /// `text`, its CRC as four upper-case hex digits, CR (README §4.1), written out independently of the encoder.
    static func asciiLine(_ text: String) -> [UInt8] {
        var crc: UInt16 = 0
        for byte in text.utf8 {
            crc ^= UInt16(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1 }
        }
        let digits = Array("0123456789ABCDEF".utf8)
        return Array(text.utf8) + [12, 8, 4, 0].map { digits[Int(crc >> UInt16($0)) & 0xF] } + [0x0D]
    }

    func write(_ command: NDI.Command) throws {
        try Self.line(command).withUnsafeBytes { try link.write($0, deadline: clock.now()) }
    }

    /// Writes `command` and collects the reply: until one reply has decoded and nothing is left arriving, or `listenMilliseconds`.
    func exchange(_ command: NDI.Command, expecting: NDI.ReplyDecoder.Expectation = .ascii, listenMilliseconds: Double = 400) throws -> Exchange {
        try exchange(bytes: Self.line(command), expecting: expecting, listenMilliseconds: listenMilliseconds)
    }

    /// Writes the raw line `text` (its CR included) and collects the reply.
    func exchange(raw text: String, listenMilliseconds: Double = 400) throws -> Exchange {
        try exchange(bytes: Array(text.utf8), expecting: .ascii, listenMilliseconds: listenMilliseconds)
    }

    private func exchange(bytes: [UInt8], expecting: NDI.ReplyDecoder.Expectation, listenMilliseconds: Double) throws -> Exchange {
        let sentAt = clock.now()
        try bytes.withUnsafeBytes { try link.write($0, deadline: sentAt) }
        return try listen(milliseconds: listenMilliseconds, from: sentAt, expecting: expecting, untilReply: true)
    }

    /// Lets `milliseconds` pass; returns what the tracker sent meanwhile.
    @discardableResult
    func wait(milliseconds: Double, expecting: NDI.ReplyDecoder.Expectation = .ascii) throws -> Exchange {
        try listen(milliseconds: milliseconds, from: clock.now(), expecting: expecting, untilReply: false)
    }

    private func listen(milliseconds: Double, from sentAt: MonotonicInstant, expecting: NDI.ReplyDecoder.Expectation, untilReply: Bool) throws -> Exchange {
        let end = clock.now().advanced(byNanoseconds: Int64((milliseconds * 1e6).rounded()))
        var exchange = Exchange(sentAt: sentAt)
        var decoder = NDI.ReplyDecoder(expecting: expecting)
        while true {
            try drain(into: &exchange, decoder: &decoder)
            if untilReply && !exchange.results.isEmpty && decoder.bufferedByteCount == 0 && !tracker.hasOutput { break }
            guard clock.now() < end else { break }
            var next = min(tracker.nextDeadline ?? end, end)
            if next <= clock.now() { next = clock.now().advanced(byNanoseconds: 1_000) }
            clock.advance(to: next)
        }
        decoder.flush { exchange.results.append($0) }
        exchange.statistics = decoder.statistics
        return exchange
    }

    private func drain(into exchange: inout Exchange, decoder: inout NDI.ReplyDecoder) throws {
        while true {
            let count = try buffer.withUnsafeMutableBytes { try link.readAvailable(into: $0) }
            guard count > 0 else { return }
            exchange.lastByteAt = clock.now()
            for byte in buffer[0..<count] {
                exchange.bytes.append(byte)
                var result = decoder.push(byte)
                while let decoded = result {
                    exchange.results.append(decoded)
                    result = decoder.next()
                }
            }
        }
    }
}
