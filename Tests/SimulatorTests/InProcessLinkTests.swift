import Foundation
import Primitives
import RehabLinkSimulator
import Transport
import TestSupport
import Wire
import XCTest

final class InProcessLinkTests: XCTestCase {
    func testReplyArrivesAfterTheLatencyAndWaitingAdvancesVirtualTime() throws {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 5_000_000))
        let device = SimulatedRehabLinkDevice(configuration: try SimulatorHarness.wristConfiguration(), bootTime: clock.now())
        let link = InProcessDeviceLink(device: device, clock: clock, replyLatencyNanoseconds: 150_000)
        let request = RehabLink.FrameEncoder.frame(.heartbeat, sequence: 1)
        let start = clock.now()
        try request.withUnsafeBytes { try link.write($0, deadline: start) }
        var buffer = [UInt8](repeating: 0, count: 512)
        XCTAssertEqual(try buffer.withUnsafeMutableBytes { try link.readAvailable(into: $0) }, 0, "not before the latency")
        XCTAssertTrue(try link.waitReadable(until: start.advanced(byNanoseconds: 1_000_000)))
        XCTAssertEqual(clock.now().nanoseconds(since: start), 150_000)
        let count = try buffer.withUnsafeMutableBytes { try link.readAvailable(into: $0) }
        var decoder = RehabLink.FrameDecoder()
        let replies = buffer[0..<count].compactMap { decoder.push($0) }
        XCTAssertEqual(replies.count, 1)
        guard case .packet(let packet) = replies.first, case .state = packet.message else { return XCTFail("\(replies)") }
    }

    func testWaitingWithNothingToReadStopsAtTheDeadline() throws {
        let clock = VirtualClock()
        let device = SimulatedRehabLinkDevice(configuration: try SimulatorHarness.wristConfiguration(), bootTime: clock.now())
        let link = InProcessDeviceLink(device: device, clock: clock)
        XCTAssertFalse(try link.waitReadable(until: MonotonicInstant(nanoseconds: 2_000_000)))
        XCTAssertEqual(clock.now(), MonotonicInstant(nanoseconds: 2_000_000))
    }

    func testUnpluggedLinkThrowsDeviceGoneAndMuteLinkDeliversNothing() throws {
        let clock = VirtualClock()
        let device = SimulatedRehabLinkDevice(configuration: try SimulatorHarness.wristConfiguration(), bootTime: clock.now())
        let link = InProcessDeviceLink(device: device, clock: clock)
        link.inject([InjectedFault(.dropReplies, .now)])
        try RehabLink.FrameEncoder.frame(.heartbeat, sequence: 1).withUnsafeBytes { try link.write($0, deadline: clock.now()) }
        XCTAssertFalse(try link.waitReadable(until: MonotonicInstant(nanoseconds: 5_000_000)))
        link.inject([InjectedFault(.unplug, .now)])
        XCTAssertTrue(link.isUnplugged)
        var buffer = [UInt8](repeating: 0, count: 16)
        XCTAssertThrowsError(try buffer.withUnsafeMutableBytes { try link.readAvailable(into: $0) }) {
            guard case .deviceGone = $0 as? TransportError else { return XCTFail("\($0)") }
        }
    }
}

/// The fault scripts shipped in hardware/faults/ are valid, and each names what it injects.
final class ShippedFaultScriptTests: XCTestCase {
    func testEveryShippedFaultScriptLoads() throws {
        let folder = RepositoryPaths.file("hardware/faults").path
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 8)
        let readme = try String(contentsOfFile: folder + "/README.md", encoding: .utf8)
        for name in names {
            let faults = try FaultScript.load(path: folder + "/" + name, jointCount: 2)
            XCTAssertFalse(faults.isEmpty, name)
            XCTAssertTrue(readme.contains("`\(name)`"), "\(name) is described in hardware/faults/README.md")
        }
    }
}

/// The list of fault names in messages and the names the parser accepts are the same set.
final class FaultKindNameTests: XCTestCase {
    func testEveryListedKindParsesToAFaultOfThatName() {
        let fields: [String: String] = [
            "corrupt_bytes": #","every_nth":3"#, "delay_replies": #","delay_ms":2"#, "freeze_encoder": #","joint":0"#,
            "jump_encoder": #","joint":0,"counts":5"#, "wrap_encoder": #","joint":0,"counts_before_wrap":5,"at_ms":0"#,
            "reverse_encoder": #","joint":0"#, "device_fault": #","code":"overload""#, "over_temperature": #","joint":0"#,
            "external_torque": #","joint":0,"torque_nm":1"#, "brake_failure": #","joint":0"#, "clock_drift": #","percent":3"#,
        ]
        for name in InjectedFault.Kind.names {
            let line = #"{"kind":""# + name + #"""# + (fields[name] ?? "") + "}"
            switch FaultScript.parseLive(line, jointCount: 2) {
            case .success(let fault): XCTAssertEqual(fault.kind.name, name)
            case .failure(let error): XCTFail("\(name): \(error)")
            }
        }
        XCTAssertEqual(Set(InjectedFault.Kind.names).count, 22)
    }
}
