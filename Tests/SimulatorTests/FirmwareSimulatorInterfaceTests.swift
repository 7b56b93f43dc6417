import Primitives
import Profiles
import RehabLinkSimulator
import Transport
import XCTest

/// A second "protocol" in a few lines: a firmware that echoes every byte, upper-cased while its one
/// device-level fault (`shout`) is injected. SimulatorKit gives it the in-process link, the fault
/// pump (triggers, durations, link faults) and the fault-script parser without a line of its own.
private final class EchoFirmware: FirmwareSimulator {
    enum Fault: InjectableDeviceFault {
        case shout

        var name: String { "shout" }
        var joint: Int? { nil }
        var canEnd: Bool { true }
        static let names = ["shout"]

        static func parse(kind: String, fields: inout FieldReader, jointCount: Int, trigger: FaultTrigger?) -> Fault? {
            .shout
        }
    }

    typealias InjectableFault = Fault

    let model = "ECHO-1"
    let serialNumber = "E-0001"
    let bootTime: MonotonicInstant
    private(set) var firstEnableTime: MonotonicInstant?
    private(set) var appliedCommandCount = 0
    private(set) var isShouting = false
    private var now: MonotonicInstant
    private let ring = ByteRing(capacity: 1024)
    private var events: [FirmwareEventRecord] = []

    init(bootTime: MonotonicInstant) {
        self.bootTime = bootTime
        now = bootTime
    }

    func receive(_ bytes: UnsafeRawBufferPointer, at time: MonotonicInstant) {
        advance(to: time)
        if firstEnableTime == nil { firstEnableTime = time }
        appliedCommandCount += 1
        for byte in bytes {
            let echoed = isShouting && (0x61...0x7A).contains(byte) ? byte - 0x20 : byte
            withUnsafeBytes(of: echoed) { _ = ring.push($0) }
        }
    }

    func advance(to time: MonotonicInstant) {
        if time > now { now = time }
    }

    var nextDeadline: MonotonicInstant? { nil }

    var hasOutput: Bool { !ring.isEmpty }

    func popOutput(into buffer: UnsafeMutableRawBufferPointer) -> Int { ring.pop(into: buffer) }

    func beginInjectedFault(_ fault: Fault, timed: Bool) { isShouting = true }

    func endInjectedFault(_ fault: Fault) { isShouting = false }

    func recordInjection(_ name: String, joint: Int?, began: Bool) {
        events.append(FirmwareEventRecord(time: now, event: began ? "fault_injected" : "fault_injection_ended", joint: joint, detail: name))
    }

    func drainEventRecords(_ body: (FirmwareEventRecord) -> Void) {
        for event in events { body(event) }
        events.removeAll()
    }
}

final class FirmwareSimulatorInterfaceTests: XCTestCase {
    private func exchange(_ text: String, over link: InProcessDeviceLink<EchoFirmware>) throws -> String {
        try Array(text.utf8).withUnsafeBytes { try link.write($0, deadline: link.clock.now()) }
        guard try link.waitReadable(until: link.clock.now().advanced(byNanoseconds: 1_000_000)) else { return "" }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = try buffer.withUnsafeMutableBytes { try link.readAvailable(into: $0) }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    func testASecondFirmwareGetsTheLinkThePumpAndTheParserFromSimulatorKit() throws {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        let link = InProcessDeviceLink(device: EchoFirmware(bootTime: clock.now()), clock: clock)
        XCTAssertEqual(link.name, "in-process simulator (ECHO-1)")
        // Its own kind, with the shared trigger and duration, read by the shared parser.
        let shout = try FaultScriptParser<EchoFirmware.Fault>.parseLive(#"{"kind": "shout", "at_command": 2, "for_ms": 5}"#, jointCount: 0).get()
        link.inject([shout])
        XCTAssertEqual(try exchange("ab", over: link), "ab")
        XCTAssertEqual(try exchange("cd", over: link), "cd", "the second command triggers it, after its reply")
        XCTAssertEqual(try exchange("ef", over: link), "EF")
        clock.advance(byNanoseconds: 6_000_000)
        XCTAssertEqual(try exchange("gh", over: link), "gh", "ended after for_ms")
        var recorded: [String] = []
        link.device.drainEventRecords { recorded.append("\($0.event) \($0.detail)") }
        XCTAssertEqual(recorded, ["fault_injected shout", "fault_injection_ended shout"])
        // A link fault on the same firmware: the shared pump applies it on the shared link.
        link.inject([ScheduledFault(.dropReplies, .now, forMilliseconds: 1)])
        XCTAssertEqual(try exchange("ij", over: link), "", "muted")
        clock.advance(byNanoseconds: 2_000_000)
        XCTAssertEqual(try exchange("kl", over: link), "kl")
    }

    func testTheSharedParserListsTheLinkKindsAndTheFirmwaresOwn() {
        guard case .failure(let error) = FaultScriptParser<EchoFirmware.Fault>.parseLive(#"{"kind": "whisper"}"#, jointCount: 0) else {
            return XCTFail("an unknown kind parsed")
        }
        XCTAssertTrue("\(error)".contains("drop_replies, corrupt_bytes, delay_replies, unplug, shout"), "\(error)")
    }
}
