import Control
import DeviceModel
import Devices
import Foundation
import Primitives
import Profiles
import RehabLinkSimulator
import Session
import StrictJSON
import TestSupport
import Transport
import XCTest

// "FakeLink/1": a second protocol that exists only in this file — a codec, a driver, a firmware
// simulator and a profile — to prove that a protocol is added without a change above Devices: the
// session, the cycle, the supervisor, the registry's users never heard of it.
//
// Frames: A5 TYPE LEN PAYLOAD… SUM (SUM = the low byte of TYPE + LEN + every payload byte).
// Integers little-endian; positions µrad, speeds µrad/s, torques mN·m, gains mN·m/rad, mN·m·s/rad.
//   host → device: 01 IDENT · 02 POLL · 03 ENABLE u16 watchdog_ms · 04 DISABLE
//                  05 COMMAND u16 seq, per joint: u8 mode (0 off, 1 torque, 2 velocity, 3 hold), i32 a, i32 b, i32 c
//                  06 SET_LIMITS u8 joint, i32 min, i32 max, i32 cap+, i32 cap−, i32 trip · 07 GET_LIMITS u8 joint · 08 RESET
//   device → host: 81 IDENTITY char[12] model, u8 major, minor, patch, u8 joints, per joint i32 min, max, vmax, tmax, cpr
//                  82 STATE u8 status (1 enabled, 2 torque, 4 watchdog, 8 e-stop, 16 fault), u8 fault, u32 time_us,
//                     u16 echo, per joint i32 position, velocity, torque, encoder counts
//                  83 ACK u8 ok, i32 value · 84 LIMITS u8 joint, 5 × i32
private enum FakeLink {
    static let sync: UInt8 = 0xA5

    static func frame(_ type: UInt8, _ payload: [UInt8]) -> [UInt8] {
        var sum = UInt8(truncatingIfNeeded: Int(type) + payload.count)
        for byte in payload { sum &+= byte }
        return [sync, type, UInt8(payload.count)] + payload + [sum]
    }

    static func int32(_ value: Int32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    static func uint16(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    static func micro(_ value: Double) -> Int32 { value.isFinite ? Int32(clamping: Int64((value * 1e6).rounded())) : 0 }
    static func milli(_ value: Double) -> Int32 { value.isFinite ? Int32(clamping: Int64((value * 1e3).rounded())) : 0 }

    /// Reads fields from a payload in order.
    struct Reader {
        let bytes: [UInt8]
        var offset = 0
        mutating func u8() -> UInt8 {
            defer { offset += 1 }
            return offset < bytes.count ? bytes[offset] : 0
        }
        mutating func u16() -> UInt16 { UInt16(u8()) | UInt16(u8()) << 8 }
        mutating func i32() -> Int32 { Int32(bitPattern: UInt32(u16()) | UInt32(u16()) << 16) }
    }

    /// Bytes in, frames out, resynchronising on the next sync byte after garbage or a bad sum.
    struct Decoder {
        private var buffer: [UInt8] = []
        private(set) var checksumErrors = 0

        mutating func push(_ byte: UInt8) -> (type: UInt8, payload: [UInt8])? {
            if buffer.isEmpty && byte != FakeLink.sync { return nil }
            buffer.append(byte)
            guard buffer.count >= 3, buffer.count == Int(buffer[2]) + 4 else { return nil }
            let type = buffer[1]
            let payload = Array(buffer[3..<(buffer.count - 1)])
            let expected = FakeLink.frame(type, payload).last
            let received = buffer.last
            buffer.removeAll(keepingCapacity: true)
            guard expected == received else {
                checksumErrors += 1
                return nil
            }
            return (type, payload)
        }
    }
}

/// The simulated FakeLink firmware: one `JointPlant` per joint, torque / velocity / hold control, a
/// watchdog, soft limits and torque caps of its own (SR-24), an e-stop.
private final class FakeLinkFirmware: FirmwareSimulator {
    enum Fault: InjectableDeviceFault {
        case emergencyStop
        var name: String { "estop_press" }
        var joint: Int? { nil }
        var canEnd: Bool { true }
        static let names = ["estop_press"]
        static func parse(kind: String, fields: inout FieldReader, jointCount: Int, trigger: FaultTrigger?) -> Fault? { .emergencyStop }
    }

    typealias InjectableFault = Fault

    struct Limits {
        var minimum: Int32, maximum: Int32, capPositive: Int32, capNegative: Int32, trip: Int32
    }

    let configuration: SimulatedDeviceConfiguration
    let model: String
    let serialNumber = "FAKE-0001"
    let bootTime: MonotonicInstant
    private(set) var firstEnableTime: MonotonicInstant?
    private(set) var appliedCommandCount = 0
    private(set) var plants: [JointPlant]
    private(set) var enabled = false
    private(set) var watchdogExpired = false
    private var emergencyStop = false
    private var watchdogNanoseconds: Int64 = 0
    private var lastCommandAt = MonotonicInstant.zero
    private var modes: [UInt8]
    private var setpoints: [(Int32, Int32, Int32)]
    private(set) var limits: [Limits]
    private var echo: UInt16 = 0
    private var now: MonotonicInstant
    private var decoder = FakeLink.Decoder()
    private let output = ByteRing(capacity: 1 << 16)

    init(configuration: SimulatedDeviceConfiguration, model: String, bootTime: MonotonicInstant) {
        self.configuration = configuration
        self.model = model
        self.bootTime = bootTime
        now = bootTime
        plants = configuration.joints.map { JointPlant(parameters: $0.plant) }
        modes = Array(repeating: 0, count: configuration.joints.count)
        setpoints = Array(repeating: (0, 0, 0), count: configuration.joints.count)
        limits = configuration.joints.map {
            Limits(minimum: FakeLink.micro($0.plant.hardLimitMinimumRadians), maximum: FakeLink.micro($0.plant.hardLimitMaximumRadians),
                   capPositive: FakeLink.milli($0.plant.ratedTorqueNewtonMeters), capNegative: FakeLink.milli($0.plant.ratedTorqueNewtonMeters),
                   trip: FakeLink.micro(2 * $0.ratedVelocityRadiansPerSecond))
        }
    }

    func pressEmergencyStop() {
        emergencyStop = true
        leaveEnabled()
    }

    func receive(_ bytes: UnsafeRawBufferPointer, at time: MonotonicInstant) {
        advance(to: time)
        for byte in bytes {
            if let (type, payload) = decoder.push(byte) { handle(type, payload) }
        }
    }

    func advance(to time: MonotonicInstant) {
        let step: Int64 = 100_000
        while now.nanoseconds(since: .zero) + step <= time.nanoseconds(since: .zero) {
            now = now.advanced(byNanoseconds: step)
            if enabled && now.nanoseconds(since: lastCommandAt) > watchdogNanoseconds {
                watchdogExpired = true
                leaveEnabled()
            }
            for joint in plants.indices {
                plants[joint].step(motorTorqueDemand: enabled ? demand(joint) : 0, seconds: 1e-4)
            }
        }
    }

    private func demand(_ joint: Int) -> Double {
        let plant = plants[joint]
        let (a, b, c) = setpoints[joint]
        var torque: Double
        switch modes[joint] {
        case 1: torque = Double(a) * 1e-3
        case 2: torque = 0.5 * (Double(a) * 1e-6 - plant.velocityRadiansPerSecond)
        case 3: torque = Double(b) * 1e-3 * (Double(a) * 1e-6 - plant.positionRadians) - Double(c) * 1e-3 * plant.velocityRadiansPerSecond
        default: torque = 0
        }
        // The firmware's own limits (SR-24): the caps per direction, and no push further out past a soft limit.
        let limit = limits[joint]
        torque = min(max(torque, -Double(limit.capNegative) * 1e-3), Double(limit.capPositive) * 1e-3)
        if plant.positionRadians > Double(limit.maximum) * 1e-6 { torque = min(torque, 0) }
        if plant.positionRadians < Double(limit.minimum) * 1e-6 { torque = max(torque, 0) }
        return torque
    }

    private func leaveEnabled() {
        enabled = false
        for joint in modes.indices { modes[joint] = 0 }
    }

    private func handle(_ type: UInt8, _ payload: [UInt8]) {
        var reader = FakeLink.Reader(bytes: payload)
        switch type {
        case 0x01:
            var body = Array(model.utf8.prefix(12)) + Array(repeating: 0, count: max(0, 12 - model.utf8.count))
            body += [configuration.firmwareMajor, configuration.firmwareMinor, configuration.firmwarePatch, UInt8(plants.count)]
            for joint in configuration.joints {
                body += FakeLink.int32(FakeLink.micro(joint.plant.hardLimitMinimumRadians)) + FakeLink.int32(FakeLink.micro(joint.plant.hardLimitMaximumRadians))
                body += FakeLink.int32(FakeLink.micro(joint.ratedVelocityRadiansPerSecond)) + FakeLink.int32(FakeLink.milli(joint.plant.ratedTorqueNewtonMeters))
                body += FakeLink.int32(Int32(joint.plant.encoderCountsPerRevolution))
            }
            send(0x81, body)
        case 0x02:
            sendState()
        case 0x03:
            let milliseconds = Int64(reader.u16())
            guard !emergencyStop, (5...50).contains(milliseconds) else { return send(0x83, [0] + FakeLink.int32(0)) }
            enabled = true
            watchdogExpired = false
            watchdogNanoseconds = milliseconds * 1_000_000
            lastCommandAt = now
            if firstEnableTime == nil { firstEnableTime = now }
            send(0x83, [1] + FakeLink.int32(Int32(milliseconds)))
        case 0x04:
            leaveEnabled()
            watchdogExpired = false
            send(0x83, [1] + FakeLink.int32(0))
        case 0x05:
            echo = reader.u16()
            appliedCommandCount += 1
            if enabled {
                lastCommandAt = now
                for joint in modes.indices {
                    modes[joint] = reader.u8()
                    setpoints[joint] = (reader.i32(), reader.i32(), reader.i32())
                }
            }
            sendState()
        case 0x06:
            let joint = Int(reader.u8())
            guard !enabled, limits.indices.contains(joint) else { return send(0x83, [0] + FakeLink.int32(0)) }
            limits[joint] = Limits(minimum: reader.i32(), maximum: reader.i32(), capPositive: reader.i32(), capNegative: reader.i32(), trip: reader.i32())
            send(0x83, [1] + FakeLink.int32(0))
        case 0x07:
            let joint = Int(reader.u8())
            guard limits.indices.contains(joint) else { return send(0x83, [0] + FakeLink.int32(0)) }
            let limit = limits[joint]
            send(0x84, [UInt8(joint)] + [limit.minimum, limit.maximum, limit.capPositive, limit.capNegative, limit.trip].flatMap(FakeLink.int32))
        case 0x08:
            send(0x83, [emergencyStop ? 0 : 1] + FakeLink.int32(0))
        default:
            break
        }
    }

    private func sendState() {
        var status: UInt8 = 0
        if enabled { status |= 1 }
        // Torque is on while some joint is commanded in a mode other than off (SR-23 waits for this to clear).
        if enabled && modes.contains(where: { $0 != 0 }) { status |= 2 }
        if watchdogExpired { status |= 4 }
        if emergencyStop { status |= 8 }
        var body: [UInt8] = [status, 0] + FakeLink.int32(Int32(truncatingIfNeeded: now.nanoseconds(since: bootTime) / 1_000))
        body += FakeLink.uint16(echo)
        for plant in plants {
            body += FakeLink.int32(FakeLink.micro(plant.positionRadians)) + FakeLink.int32(FakeLink.micro(plant.velocityRadiansPerSecond))
            body += FakeLink.int32(FakeLink.milli(plant.motorTorqueNewtonMeters)) + FakeLink.int32(Int32(truncatingIfNeeded: plant.encoderCount))
        }
        send(0x82, body)
    }

    private func send(_ type: UInt8, _ payload: [UInt8]) {
        FakeLink.frame(type, payload).withUnsafeBytes { _ = output.push($0) }
    }

    var nextDeadline: MonotonicInstant? { nil }
    var hasOutput: Bool { !output.isEmpty }
    func popOutput(into buffer: UnsafeMutableRawBufferPointer) -> Int { output.pop(into: buffer) }
    func beginInjectedFault(_ fault: Fault, timed: Bool) { pressEmergencyStop() }
    func endInjectedFault(_ fault: Fault) { emergencyStop = false }
    func recordInjection(_ name: String, joint: Int?, began: Bool) {}
    func drainEventRecords(_ body: (FirmwareEventRecord) -> Void) {}
}

/// The host end of FakeLink: what a protocol's driver is, in one screen.
private final class FakeLinkDevice: ActuatedDevice, ByteLinkDriver {
    let link: ByteLink
    let clock: LoopClock
    let jointCount: Int
    let capabilities = DeviceCapabilities(
        controlModes: [.torque, .velocity, .localHold], torqueOff: .commandAllJointsOff, quickStop: .hostVelocityRamp,
        pause: .hostImpedanceHold, watchdogPeriodRangeNanoseconds: 5_000_000...50_000_000, positionResolutionRadians: 1e-6,
        velocityResolutionRadiansPerSecond: 1e-6, torqueResolutionNewtonMeters: 1e-3, maximumJoints: 8, holdsSafetyLimits: true)
    private(set) var latestState: RobotState
    private(set) var linkError: TransportError?
    private(set) var oldestUnechoedCommandAt: MonotonicInstant?
    private var health = LinkHealth()
    private var decoder = FakeLink.Decoder()
    private var clockMapping = DeviceClockMapping()
    private var sequence: UInt16 = 0
    private var commandWrittenAt = MonotonicInstant.zero
    /// A set-up request's reply type, and what arrived of it.
    private var awaiting: UInt8?
    private var replies: [(type: UInt8, payload: [UInt8])] = []
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)

    var name: String { link.name }
    var linkHealth: LinkHealth {
        var copy = health
        copy.checksumErrors = decoder.checksumErrors
        return copy
    }

    init(link: ByteLink, jointCount: Int, clock: LoopClock) {
        self.link = link
        self.jointCount = jointCount
        self.clock = clock
        latestState = RobotState(jointCount: jointCount)
    }

    deinit { buffer.deallocate() }

    func identify() throws(DeviceError) -> DeviceIdentityInfo {
        var reader = FakeLink.Reader(bytes: try request(0x01, [], expecting: 0x81))
        let model = String(decoding: (0..<12).map { _ in reader.u8() }.filter { $0 != 0 }, as: UTF8.self)
        let firmware = "\(reader.u8()).\(reader.u8()).\(reader.u8())"
        let joints = (0..<Int(reader.u8())).map { _ in
            DeviceIdentityInfo.JointRating(
                positionMinimumRadians: Double(reader.i32()) * 1e-6, positionMaximumRadians: Double(reader.i32()) * 1e-6,
                velocityMaximumRadiansPerSecond: Double(reader.i32()) * 1e-6, torqueMaximumNewtonMeters: Double(reader.i32()) * 1e-3,
                encoderCountsPerRevolution: Int(reader.i32()))
        }
        return DeviceIdentityInfo(model: model, serialNumber: "FAKE-0001", firmware: firmware, protocolVersion: 1, joints: joints)
    }

    func requestFreshState() throws(DeviceError) -> RobotState {
        _ = try request(0x02, [], expecting: 0x82)
        return latestState
    }

    func configure(_ limits: DeviceSafetyLimits) throws(DeviceError) {
        var problems = limits.problems(jointCount: jointCount)
        for (index, joint) in limits.joints.enumerated() where problems.isEmpty {
            let wanted = [FakeLink.micro(joint.softMinimumRadians), FakeLink.micro(joint.softMaximumRadians), FakeLink.milli(joint.torqueCapPositiveNewtonMeters),
                          FakeLink.milli(joint.torqueCapNegativeNewtonMeters), FakeLink.micro(joint.velocityTripRadiansPerSecond)]
            var ack = FakeLink.Reader(bytes: try request(0x06, [UInt8(index)] + wanted.flatMap(FakeLink.int32), expecting: 0x83))
            if ack.u8() != 1 { problems.append("joint \(index): the limits were refused") }
            var readBack = FakeLink.Reader(bytes: try request(0x07, [UInt8(index)], expecting: 0x84))
            _ = readBack.u8()
            if (0..<5).map({ _ in readBack.i32() }) != wanted { problems.append("joint \(index): the read-back differs") }
        }
        guard problems.isEmpty else { throw .safetyLimitsNotConfirmed(port: name, problems: problems) }
    }

    func activate(watchdogPeriodNanoseconds: Int64) throws(DeviceError) -> Int64 {
        let milliseconds = UInt16(clamping: watchdogPeriodNanoseconds / 1_000_000)
        var ack = FakeLink.Reader(bytes: try request(0x03, FakeLink.uint16(milliseconds), expecting: 0x83))
        guard ack.u8() == 1 else { throw .refused(port: name, request: "ENABLE", reason: "the device said no") }
        oldestUnechoedCommandAt = nil
        return Int64(ack.i32()) * 1_000_000
    }

    func deactivate() throws(DeviceError) {
        _ = try request(0x04, [], expecting: 0x83)
    }

    func read(now: MonotonicInstant) -> ReadOutcome {
        guard linkError == nil else { return .linkLost }
        let fresh = collect(now: now)
        return linkError != nil ? .linkLost : (fresh ? .freshState : .nothingNew)
    }

    func write(_ intent: DeviceIntent, now: MonotonicInstant, deadline: MonotonicInstant) -> Bool {
        switch intent {
        case .command(let actuation), .quickStop(let actuation):
            return sendCommand(actuation, now: now, deadline: deadline)
        case .torqueOff:
            return sendCommand(JointList(count: jointCount, repeating: .off), now: now, deadline: deadline)
        case .observe:
            return send(0x02, [], deadline: deadline)
        case .faultReset:
            return send(0x04, [], deadline: deadline) && send(0x08, [], deadline: deadline) && send(0x02, [], deadline: deadline)
        }
    }

    func waitForState(until deadline: MonotonicInstant) -> Bool { waitForFreshState(until: deadline) }

    package func linkFailed(_ error: TransportError) { linkError = error }

    private func sendCommand(_ actuation: JointList<JointActuation>, now: MonotonicInstant, deadline: MonotonicInstant) -> Bool {
        sequence &+= 1
        var payload = FakeLink.uint16(sequence)
        for joint in 0..<jointCount {
            let command = actuation[joint]
            switch command.mode {
            case .off: payload += [0] + FakeLink.int32(0) + FakeLink.int32(0) + FakeLink.int32(0)
            case .torque: payload += [1] + FakeLink.int32(FakeLink.milli(command.torqueNewtonMeters)) + FakeLink.int32(0) + FakeLink.int32(0)
            case .velocity: payload += [2] + FakeLink.int32(FakeLink.micro(command.velocityRadiansPerSecond)) + FakeLink.int32(0) + FakeLink.int32(0)
            case .hold:
                payload += [3] + FakeLink.int32(FakeLink.micro(command.positionRadians))
                    + FakeLink.int32(FakeLink.milli(command.stiffnessNewtonMetersPerRadian)) + FakeLink.int32(FakeLink.milli(command.dampingNewtonMeterSecondsPerRadian))
            }
        }
        commandWrittenAt = now
        if oldestUnechoedCommandAt == nil { oldestUnechoedCommandAt = now }
        return send(0x05, payload, deadline: deadline)
    }

    @discardableResult
    private func send(_ type: UInt8, _ payload: [UInt8], deadline: MonotonicInstant) -> Bool {
        guard linkError == nil else { return false }
        var failure: TransportError?
        FakeLink.frame(type, payload).withUnsafeBytes { bytes in
            do throws(TransportError) { try link.write(bytes, deadline: deadline) } catch { failure = error }
        }
        if let failure {
            linkError = failure
            return false
        }
        return true
    }

    private func request(_ type: UInt8, _ payload: [UInt8], expecting expected: UInt8) throws(DeviceError) -> [UInt8] {
        replies.removeAll()
        awaiting = expected
        defer { awaiting = nil }
        let deadline = clock.now().advanced(byNanoseconds: 100 * Nanoseconds.perMillisecond)
        guard send(type, payload, deadline: deadline) else { throw .transport(linkError!) }
        while clock.now() < deadline {
            if let reply = replies.first(where: { $0.type == expected }) { return reply.payload }
            do throws(TransportError) {
                if try link.waitReadable(until: deadline) { collect(now: clock.now()) }
            } catch {
                throw .transport(error)
            }
        }
        if let reply = replies.first(where: { $0.type == expected }) { return reply.payload }
        throw .noAnswer(port: name, request: "FakeLink 0x\(String(type, radix: 16))", waitedMilliseconds: 100)
    }

    @discardableResult
    package func collect(now: MonotonicInstant) -> Bool {
        var fresh = false
        while linkError == nil {
            let count: Int
            do throws(TransportError) { count = try link.readAvailable(into: buffer) } catch {
                linkError = error
                break
            }
            if count == 0 { break }
            for index in 0..<count {
                guard let (type, payload) = decoder.push(buffer[index]) else { continue }
                if type == 0x82 {
                    accept(payload, now: now)
                    fresh = true
                }
                if type == awaiting { replies.append((type, payload)) }
            }
        }
        return fresh
    }

    private func accept(_ payload: [UInt8], now: MonotonicInstant) {
        var reader = FakeLink.Reader(bytes: payload)
        let status = reader.u8()
        let fault = reader.u8()
        let deviceTime = Int64(reader.u16()) | Int64(reader.u16()) << 16
        let echoed = reader.u16()
        var state = latestState
        var condition: DeviceCondition = []
        if status & 1 != 0 { condition.insert(.enabled) }
        if status & 2 != 0 { condition.insert(.torqueOn) }
        if status & 4 != 0 { condition.insert(.watchdogExpired) }
        if status & 8 != 0 { condition.insert(.emergencyStop) }
        if status & 16 != 0 { condition.insert(.fault) }
        state.condition = condition
        state.fault = fault == 0 ? .none : DeviceFault(kind: .other, deviceCode: UInt32(fault))
        for joint in 0..<jointCount {
            state.joints[joint].positionRadians = Double(reader.i32()) * 1e-6
            state.joints[joint].velocityRadiansPerSecond = Double(reader.i32()) * 1e-6
            state.joints[joint].motorTorqueNewtonMeters = Double(reader.i32()) * 1e-3
            state.joints[joint].encoderCounts = Int64(reader.i32())
        }
        state.deviceTimeNanoseconds = deviceTime * 1_000
        state.receivedAt = now
        state.sampledAt = clockMapping.sampledAt(deviceTimeNanoseconds: state.deviceTimeNanoseconds, receivedAt: now)
        state.isValid = true
        latestState = state
        health.lastReplyAt = now
        if echoed == sequence && oldestUnechoedCommandAt != nil {
            health.lastRoundTripNanoseconds = now.nanoseconds(since: commandWrittenAt)
            oldestUnechoedCommandAt = nil
        }
    }
}

/// The registry's entry for FakeLink: its own profile field `node_id` (1…127) under `"fakelink"`.
private let fakeLinkEntry = DriverRegistry.Entry(
    protocolIdentifier: "fakelink/1", summary: "FakeLink, a protocol that exists only in the tests",
    checkFields: { fields, _ in
        guard let node = fields?["node_id"]?.integerValue, (1...127).contains(node) else {
            return ["device.fakelink.node_id: expected the device's node id, 1 to 127"]
        }
        return []
    },
    makeActuatedDevice: { _, joints, link, clock in FakeLinkDevice(link: link, jointCount: joints.count, clock: clock) })

final class FakeProtocolSessionTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "fakelink-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The shipped wrist trainer's profile, speaking FakeLink with `fields` as its own fields.
    private func fakeProfile(fields: String = #"{"node_id": 3}"#) throws -> HardwareProfile {
        var text = try String(contentsOfFile: RepositoryPaths.file("hardware/wrist-trainer.json").path, encoding: .utf8)
        XCTAssertTrue(text.contains(#""protocol": "rehablink/1","#))
        text = text.replacingOccurrences(of: #""protocol": "rehablink/1","#, with: #""protocol": "fakelink/1", "fakelink": \#(fields),"#)
        let path = folder + "/fake-wrist.json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try HardwareProfileLoader.load(path: path)
    }

    private func session(_ profile: HardwareProfile, registry: DriverRegistry, seconds: Double)
        throws -> (TherapySession, FakeLinkFirmware, InProcessDeviceLink<FakeLinkFirmware>)
    {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 5_000_000_000))
        let firmware = FakeLinkFirmware(configuration: SimulatedDeviceConfiguration(profile: profile), model: profile.device.model, bootTime: clock.now())
        let link = InProcessDeviceLink(device: firmware, clock: clock)
        let device = try registry.makeActuatedDevice(for: profile, link: link, clock: clock)
        XCTAssertTrue(device is FakeLinkDevice, "the registry built the profile's protocol's driver")
        let session = try TherapySession(
            profile: profile, device: device, clock: clock, options: TherapySession.Options(rateHertz: 1_000, durationSeconds: seconds))
        return (session, firmware, link)
    }

    func testTheRegistryKnowsOnlyTheProtocolsItWasGiven() throws {
        let profile = try fakeProfile()
        XCTAssertEqual(profile.device.protocolFamily, "fakelink")
        let problems = DriverRegistry.standard.problems(with: profile)
        XCTAssertEqual(problems.count, 1)
        XCTAssertTrue(problems[0].contains(#""fakelink/1" is not a protocol this build speaks (supported: "rehablink/1", "dynamixel/2.0")"#), problems[0])
        let registry = DriverRegistry.standard.adding(fakeLinkEntry)
        XCTAssertEqual(registry.supportedProtocols, ["rehablink/1", "dynamixel/2.0", "fakelink/1"])
        XCTAssertEqual(registry.problems(with: profile), [])
        XCTAssertEqual(registry.problems(with: try fakeProfile(fields: #"{"node_id": 300}"#)), ["device.fakelink.node_id: expected the device's node id, 1 to 127"])
    }

    func testASecondProtocolRunsAWholeSupervisedSessionThroughTheRegistry() throws {
        let profile = try fakeProfile()
        let (session, firmware, _) = try self.session(profile, registry: DriverRegistry.standard.adding(fakeLinkEntry), seconds: 6)
        try session.prepare()
        XCTAssertEqual(session.identity?.model, profile.device.model, "identified in FakeLink, checked against the profile (SR-17)")
        let wanted = SafetySettings.deviceLimits(profile, clamp: try SafetySettings.clamp(
            profile, joints: session.jointLimits, periodNanoseconds: session.periodNanoseconds))
        XCTAssertEqual(firmware.limits[0].capPositive, FakeLink.milli(wanted.joints[0].torqueCapPositiveNewtonMeters), "SR-24: the limits are in its firmware")
        let report = session.run()
        session.finish()
        XCTAssertEqual(report.finalState, .idle)
        XCTAssertTrue(report.safetyEvents.isEmpty, "\(report.safetyEvents)")
        XCTAssertNil(report.linkError)
        // The plan ended the session by itself (a Cat 1 stop to standstill), after the whole exercise.
        XCTAssertEqual(report.transitions.last?.cause, .standstillReached)
        XCTAssertTrue(report.transitions.contains { $0.cause == .stopRequested })
        XCTAssertGreaterThanOrEqual(report.cycles, 6_000)
        XCTAssertGreaterThan(firmware.appliedCommandCount, 6_000, "every cycle reached the firmware as a FakeLink COMMAND")
        // The same tracking as over RehabLink (VirtualSessionTests): the driver, not the session, differs.
        let amplitude = RangeOfMotionExercise().rangeMaximumRadians
        XCTAssertEqual(report.joints[0].maximumPositionRadians, amplitude, accuracy: 0.02)
        XCTAssertLessThan(report.joints[0].rmsTrackingErrorRadians, 0.01)
        XCTAssertEqual(firmware.plants[0].positionRadians, 0, accuracy: 0.02, "back at neutral")
        XCTAssertFalse(firmware.enabled, "deactivated at the end")
        XCTAssertEqual(report.roundTrip.count, UInt64(report.cycles), "every command's echo was seen")
    }

    func testTheSupervisorActsOnTheSecondProtocolsConditions() throws {
        let profile = try fakeProfile()
        let (session, firmware, link) = try self.session(profile, registry: DriverRegistry.standard.adding(fakeLinkEntry), seconds: 6)
        try session.prepare()
        link.at(link.clock.now().advanced(byNanoseconds: 2 * Nanoseconds.perSecond)) { firmware.pressEmergencyStop() }
        let report = session.run()
        session.finish()
        let stop = try XCTUnwrap(report.safetyEvents.first)
        XCTAssertEqual(stop.cause, .deviceEmergencyStop, "the FakeLink e-stop bit, mapped to the neutral condition")
        XCTAssertEqual(report.finalState, .estop)
        XCTAssertLessThan(report.cycles, 3_000)
    }
}
