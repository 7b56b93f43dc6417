import Control
import DeviceModel
import Foundation
import Primitives
import RehabLinkSimulator
import Session
import StrictJSON
import Telemetry
import XCTest

/// Recording a whole session through the real hand-off (ring → writer thread → MCAP file), in
/// virtual time; and what happens when the disk refuses.
final class RecordingTests: XCTestCase {
    private func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "rehabhost-recording-\(UUID().uuidString)/\(name)"
    }

    private func record(seconds: Double, path: String, faults: [InjectedFault] = [],
                        failures: FailureLog = FailureLog()) throws -> (SessionReport, VirtualSessionHarness) {
        let harness = try VirtualSessionHarness(durationSeconds: seconds, adjust: {
            $0.recordingPath = path
            // Virtual time runs far faster than the writer thread: room for the whole session.
            $0.telemetryRingSeconds = seconds + 2
            $0.onRecordingFailure = { failures.append($0) }
        })
        try harness.session.prepare()
        if !faults.isEmpty { harness.link.inject(faults) }
        let report = harness.session.run()
        harness.session.finish()
        return (report, harness)
    }

    /// The device is disabled as soon as the loop ends, before the recording and the black box are
    /// synced to disk: a slow fsync (345 ms seen) must not leave it enabled and unfed until its watchdog fires.
    func testTheDeviceIsDisabledWhenTheLoopEndsBeforeTheFilesAreClosed() throws {
        let path = temporaryPath("disable.mcap")
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let harness = try VirtualSessionHarness(durationSeconds: 1, adjust: {
            $0.recordingPath = path
            $0.telemetryRingSeconds = 3
        })
        try harness.session.prepare()
        XCTAssertTrue(harness.simulator.isEnabled)
        let report = harness.session.run()
        XCTAssertNotNil(report.recording)
        XCTAssertFalse(harness.simulator.isEnabled, "disabled by run() itself, not left to finish()")
        XCTAssertFalse(harness.simulator.takeEvents().contains { $0.kind == .watchdogStop })
        harness.session.finish()
    }

    func testEveryCycleIsRecordedWithItsTransitionsAndTheMetrics() throws {
        let path = temporaryPath("session.mcap")
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let (report, _) = try record(seconds: 3, path: path)
        let recording = try XCTUnwrap(report.recording)
        XCTAssertNil(recording.failure)
        XCTAssertEqual(recording.recordsDropped, 0)
        XCTAssertEqual(recording.messagesNotWritten, 0)
        let file = try MCAPFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        XCTAssertTrue(file.isComplete)
        XCTAssertEqual(UInt64(file.messages.count), recording.messagesWritten)
        let states = file.messages(onTopic: "/joint_state")
        XCTAssertEqual(Int64(states.count), report.cycles, "one joint state per cycle, none lost")
        for topic in ["/joint_command", "/supervisor/state", "/loop/timing"] {
            XCTAssertEqual(Int64(file.messages(onTopic: topic).count), report.cycles, topic)
        }
        let cycles = try states.map { try XCTUnwrap(JSONParser.parse(bytes: Array(file.data(of: $0))).objectValue?["cycle"]?.integerValue) }
        XCTAssertEqual(cycles, Array(0..<report.cycles), "every cycle in order")
        XCTAssertEqual(file.messages(onTopic: "/supervisor/transition").count, report.transitions.count, "self-test to idle")
        let metrics = try XCTUnwrap(file.messages(onTopic: "/exercise/metrics").first)
        let object = try XCTUnwrap(JSONParser.parse(bytes: Array(file.data(of: metrics))).objectValue)
        XCTAssertEqual(object["cycles"]?.integerValue, report.cycles)
        let rom = try XCTUnwrap(object["rom_rad"]?.arrayValue?.first?.doubleValue)
        XCTAssertEqual(rom, report.joints[0].rangeOfMotionRadians, accuracy: 1e-5)
        XCTAssertGreaterThan(try XCTUnwrap(object["time_in_state_s"]?.objectValue?["active"]?.doubleValue), 2.5)
        XCTAssertEqual(report.json().objectValue?["metrics"]?.serialized(), JSONValue.object(object).serialized(), "--json carries the same metrics")
        let session = try XCTUnwrap(file.metadata.first { $0.name == "session" })
        XCTAssertTrue(session.entries.contains { $0 == ("profile", "wrist-trainer") })
        // Log times follow the cycle times exactly (1 ms apart at 1 kHz in virtual time).
        XCTAssertEqual(states[1].logTime - states[0].logTime, 1_000_000)
    }

    func testAFullDiskIsReportedOnceAndTheSessionGoesOnSafely() throws {
        // A disk that takes nothing: a file-size limit of 0 for this process while the session runs
        // (a recording is only ever created as a new regular file, so /dev/full is refused now).
        let failures = FailureLog()
        let path = NSTemporaryDirectory() + "rehabhost-full-\(UUID().uuidString).mcap"
        defer { unlink(path) }
        var original = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &original)
        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        var none = original
        none.rlim_cur = 0
        setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &none)
        let outcome = Result { try record(seconds: 2, path: path, failures: failures) }
        setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &original)
        signal(SIGXFSZ, previousHandler)
        let (report, _) = try outcome.get()
        XCTAssertEqual(report.finalState, .idle, "the exercise ran to its end")
        XCTAssertTrue(report.safetyEvents.isEmpty)
        let recording = try XCTUnwrap(report.recording)
        XCTAssertEqual(failures.messages.count, 1, "reported once: \(failures.messages)")
        XCTAssertTrue(failures.messages.first?.contains("File too large") == true, "\(failures.messages)")
        XCTAssertEqual(recording.failure, failures.messages.first)
        XCTAssertEqual(recording.messagesWritten, 0)
        XCTAssertGreaterThanOrEqual(recording.messagesNotWritten, UInt64(4 * report.cycles), "everything it could not write is counted")
        XCTAssertEqual(recording.recordsDropped, 0, "the loop never waited for the disk")
        XCTAssertTrue(report.humanSummary().contains("recording FAILED"))
    }

    func testAnUnwritablePathIsReportedOnceAndCounted() throws {
        let failures = FailureLog()
        let (report, _) = try record(seconds: 1, path: "/proc/rehabhost-no-such-folder/session.mcap", failures: failures)
        XCTAssertEqual(report.finalState, .idle)
        XCTAssertEqual(failures.messages.count, 1)
        XCTAssertTrue(failures.messages.first?.hasPrefix("cannot create /proc/rehabhost-no-such-folder/session.mcap") == true, "\(failures.messages)")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(report.recording).messagesNotWritten, UInt64(4 * report.cycles))
    }

    func testAFaultIsInTheRecordingAsASafetyEvent() throws {
        let path = temporaryPath("fault.mcap")
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let (report, _) = try record(seconds: 3, path: path, faults: [InjectedFault(.deviceFault(.overload), .afterEnableMilliseconds(1_500))])
        let trip = try XCTUnwrap(report.safetyEvents.first)
        let file = try MCAPFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        let events = try file.messages(onTopic: "/safety/event").map { try XCTUnwrap(JSONParser.parse(bytes: Array(file.data(of: $0))).objectValue) }
        XCTAssertEqual(events.first?["cause"]?.stringValue, "device_fault")
        XCTAssertEqual(events.first?["cycle"]?.integerValue, trip.cycle)
        XCTAssertEqual(events.first?["requirement"]?.stringValue, "SR-11")
    }
}

/// Failure messages told by the recorder's writer thread.
final class FailureLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ message: String) { lock.withLock { stored.append(message) } }
    var messages: [String] { lock.withLock { stored } }
}
