import DeviceModel
import Devices
import DynamixelSimulator
import Primitives
import Profiles
import SimulatorKit
import StrictJSON
import TestSupport
import Transport
import Wire
import XCTest

/// The Dynamixel driver (`DynamixelServoChain`, built by the registry from the shipped profile) against
/// the simulated bus of that profile, through the in-process link on a virtual clock: set-up writes and
/// reads back what README §7.1 says, and each cycle's torque, hold, ramp and stop do what the servo's
/// Current-based Position Control makes of them.
final class DynamixelServoChainTests: XCTestCase {
    private var profile: HardwareProfile!
    private var clock: VirtualClock!
    private var bus: SimulatedDynamixelBus!
    private var link: InProcessDeviceLink<SimulatedDynamixelBus>!
    private var device: DynamixelServoChain!
    private var client: DynamixelBusClient!

    override func setUpWithError() throws {
        profile = try HardwareProfileLoader.load(path: RepositoryPaths.file("hardware/dynamixel-wrist.json").path)
        try build()
    }

    private func build(watchdogStop: DynamixelBusWatchdogStop = .torqueOff) throws {
        var configuration = try XCTUnwrap(DynamixelBusConfiguration.simulating(profile).configuration)
        configuration.busWatchdogStop = watchdogStop
        clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        bus = SimulatedDynamixelBus(configuration: configuration, bootTime: clock.now())
        link = InProcessDeviceLink(device: bus, clock: clock, replyLatencyNanoseconds: 0)
        device = try XCTUnwrap(DriverRegistry.standard.makeActuatedDevice(for: profile, link: link, clock: clock) as? DynamixelServoChain)
        client = DynamixelBusClient(link: link, replyTimeoutNanoseconds: 20 * Nanoseconds.perMillisecond, clock: clock)
    }

    private static let degree = Double.pi / 180

    /// ±65°, 2 N·m each way, a 2.25 rad/s trip: what the session derives from the shipped profile.
    private func limits() -> DeviceSafetyLimits {
        DeviceSafetyLimits(joints: (0..<2).map { _ in
            DeviceSafetyLimits.Joint(
                softMinimumRadians: -65 * Self.degree, softMaximumRadians: 65 * Self.degree, torqueCapPositiveNewtonMeters: 2,
                torqueCapNegativeNewtonMeters: 2, velocityTripRadiansPerSecond: 2.25)
        })
    }

    private func readItem(_ id: UInt8, _ address: Int, _ size: Int) throws -> Int64 {
        let bytes = try client.read(id: id, address: address, length: size).bytes
        var value: Int64 = 0
        for (index, byte) in bytes.enumerated() { value |= Int64(byte) << (8 * Int64(index)) }
        return size == 4 ? Int64(Int32(truncatingIfNeeded: value)) : value
    }

    /// Runs `seconds` of 1 kHz cycles with `intent` (computed from the newest state); the last state.
    @discardableResult
    private func cycles(seconds: Double, _ intent: (RobotState) -> DeviceIntent) -> RobotState {
        let period: Int64 = 1_000_000
        var next = clock.now()
        for _ in 0..<Int(seconds * 1_000) {
            next = next.advanced(byNanoseconds: period)
            _ = device.read(now: clock.now())
            device.write(intent(device.latestState), now: clock.now(), deadline: next)
            _ = device.waitForState(until: next)
            clock.sleep(until: next)
        }
        return device.latestState
    }

    /// A joint list of two actuations.
    private func pair(_ first: JointActuation, _ second: JointActuation) -> JointList<JointActuation> {
        var list = JointList(count: 2, repeating: JointActuation.off)
        list[0] = first
        list[1] = second
        return list
    }

    private func torques(_ first: Double, _ second: Double) -> DeviceIntent {
        .command(pair(JointActuation(mode: .torque, torqueNewtonMeters: first), JointActuation(mode: .torque, torqueNewtonMeters: second)))
    }

    private func enable() throws {
        try device.configure(limits())
        XCTAssertEqual(try device.activate(watchdogPeriodNanoseconds: 20 * Nanoseconds.perMillisecond), 20 * Nanoseconds.perMillisecond)
        _ = try device.requestFreshState()
    }

    // MARK: Set-up

    func testIdentifyReportsTheModelTheFirmwareAndTheDatasheetRatingsButNoHardLimits() throws {
        let identity = try device.identify()
        XCTAssertEqual(identity.model, "XM430-W350")
        XCTAssertEqual(identity.firmware, "46.0.0")
        XCTAssertEqual(identity.protocolVersion, 2)
        XCTAssertEqual(identity.serialNumber, "Dynamixel ID 1, 2")
        XCTAssertEqual(identity.joints.map(\.torqueMaximumNewtonMeters), [4.1, 4.1])
        XCTAssertEqual(identity.joints[0].velocityMaximumRadiansPerSecond, 4.817, accuracy: 0.001, "46 rev/min")
        XCTAssertEqual(identity.joints.map(\.encoderCountsPerRevolution), [4_096, 4_096])
        XCTAssertEqual(identity.joints.map(\.hardLimitsKnown), [false, false], "a servo does not know its mechanism's stops")
    }

    func testAServoOfAnotherModelIsNamedAtIdentify() throws {
        bus.servo(id: 2)?.poke(address: Dynamixel.ControlTable.modelNumber, bytes: [0x24, 0x04])  // 1060
        let identity = try device.identify()
        XCTAssertEqual(identity.model, "model number 1060 on ID 2 (the profile's servo there is 1020)")
    }

    func testAMissingServoIsNoAnswerNamingItsID() throws {
        profile.device.protocolFields = try XCTUnwrap(JSONParser.parse(#"{"servos": [{"id": 1, "zero_offset_deg": 180}, {"id": 9, "zero_offset_deg": 180}]}"#).objectValue)
        device = try XCTUnwrap(DriverRegistry.standard.makeActuatedDevice(for: profile, link: link, clock: clock) as? DynamixelServoChain)
        XCTAssertThrowsError(try device.identify()) { error in
            guard case .noAnswer(_, let request, _) = error as? DeviceError else { return XCTFail("\(error)") }
            XCTAssertTrue(request.contains("PING to ID 9"), request)
        }
    }

    func testConfigureWritesTheLimitsAndTheCycleRecordAndReadsThemBack() throws {
        try device.configure(limits())
        for id: UInt8 in [1, 2] {
            XCTAssertEqual(try readItem(id, Dynamixel.ControlTable.operatingMode, 1), 5, "Current-based Position Control")
            XCTAssertEqual(try readItem(id, Dynamixel.ControlTable.returnDelayTime, 1), 0)
            XCTAssertEqual(try readItem(id, Dynamixel.ControlTable.driveMode, 1), 0, "never torque-on-by-goal-update")
            XCTAssertEqual(try readItem(id, Dynamixel.ControlTable.shutdown, 1), 0x3D)
            // 2 N·m / 1.78 N·m/A = 1.1236 A = 417.7 units of 2.69 mA, rounded down.
            XCTAssertEqual(try readItem(id, Dynamixel.ControlTable.currentLimit, 2), 417)
            // 2.25 rad/s / 0.0239808 = 93.8, rounded down.
            XCTAssertEqual(try readItem(id, Dynamixel.ControlTable.velocityLimit, 4), 93)
            // The joint's zero at 180° (2048 counts); ±65° = ±739.6 counts, rounded inward.
            XCTAssertEqual(try readItem(id, Dynamixel.ControlTable.minPositionLimit, 4), 2048 - 739)
            XCTAssertEqual(try readItem(id, Dynamixel.ControlTable.maxPositionLimit, 4), 2048 + 739)
            let indirect = try client.read(id: id, address: Dynamixel.ControlTable.indirectAddress1, length: 40).bytes
            XCTAssertEqual(Array(indirect[0..<6]), [126, 0, 127, 0, 128, 0], "Present Current first")
            XCTAssertEqual(Array(indirect[28..<32]), [102, 0, 103, 0], "then the write record: Goal Current")
        }
    }

    func testLimitsTheServoCannotHoldAreRefusedAndNothingIsEnabled() throws {
        // The joint's zero at the servo's 0°: the soft limits would be negative positions.
        profile.device.protocolFields = try XCTUnwrap(JSONParser.parse(#"{"servos": [{"id": 1}, {"id": 2}]}"#).objectValue)
        try build()
        XCTAssertThrowsError(try device.configure(limits())) { error in
            guard case .safetyLimitsNotConfirmed(_, let problems) = error as? DeviceError else { return XCTFail("\(error)") }
            XCTAssertTrue(problems.contains { $0.contains("Min Position Limit") && $0.contains("Data Range Error") }, "\(problems)")
            XCTAssertTrue(problems.contains { $0.contains("zero_offset_deg") }, "says what to change: \(problems)")
        }
        XCTAssertThrowsError(try device.activate(watchdogPeriodNanoseconds: 20 * Nanoseconds.perMillisecond)) { error in
            guard case .notReady = error as? DeviceError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try readItem(1, Dynamixel.ControlTable.torqueEnable, 1), 0)
    }

    func testAWatchdogTheBusCannotCountIsRefusedAndTheConfirmedOneIsReadBack() throws {
        try device.configure(limits())
        XCTAssertThrowsError(try device.activate(watchdogPeriodNanoseconds: 30 * Nanoseconds.perMillisecond)) { error in
            XCTAssertTrue("\(error)".contains("steps of 20 ms"), "\(error)")
        }
        XCTAssertEqual(try device.activate(watchdogPeriodNanoseconds: 40 * Nanoseconds.perMillisecond), 40 * Nanoseconds.perMillisecond)
        XCTAssertEqual(try readItem(1, Dynamixel.ControlTable.busWatchdog, 1), 2)
        XCTAssertEqual(try readItem(2, Dynamixel.ControlTable.torqueEnable, 1), 1)
        XCTAssertEqual(try readItem(2, Dynamixel.ControlTable.goalCurrent, 2), 0, "enabled with no current asked")
        try device.deactivate()
        XCTAssertEqual(try readItem(1, Dynamixel.ControlTable.torqueEnable, 1), 0)
        XCTAssertEqual(try readItem(1, Dynamixel.ControlTable.busWatchdog, 1), 0)
    }

    // MARK: The cycle

    func testOneCycleTakesTheWireTimeOfItsThreePackets() throws {
        try enable()
        // Sync Write of 2 × 6 bytes: 28 bytes; Fast Sync Read: 16; its reply: 8 + 2 × 18 = 44. 88 bytes at
        // 4 Mbit/s, 10 bits a byte = 220 µs; Return Delay Time 0.
        let start = clock.now()
        device.write(torques(0, 0), now: start, deadline: start.advanced(byNanoseconds: 1_000_000))
        XCTAssertTrue(device.waitForState(until: start.advanced(byNanoseconds: 1_000_000)))
        XCTAssertEqual(clock.now().nanoseconds(since: start), 220_000)
        XCTAssertEqual(device.linkHealth.lastRoundTripNanoseconds, 220_000)
        XCTAssertEqual(device.latestState.sampledAt, start, "dated by its read instruction")
    }

    /// A chain of two models, XM430-W350 and XM430-W210 (the same control table): identify rates each
    /// joint by its own model, and each cycle reads by Fast Bulk Read (README §7.2) — 10 + 5n = 20 bytes
    /// instead of the Fast Sync Read's 16: 92 bytes in all, 230 µs at 4 Mbit/s.
    func testAChainOfTwoModelsIsReadByFastBulkReadAndRatedByEachModel() throws {
        var text = try String(contentsOf: RepositoryPaths.file("hardware/dynamixel-wrist.json"), encoding: .utf8)
        let second = try XCTUnwrap(text.range(of: "\"model_number\": 1020", options: .backwards))
        text.replaceSubrange(second, with: "\"model_number\": 1030")
        text = text.replacingOccurrences(of: "\"model\": \"XM430-W350\"", with: "\"model\": \"XM430-W210 + XM430-W350\"")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dynamixel-mixed-\(getpid()).json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        profile = try HardwareProfileLoader.load(path: path)
        try build()
        let recorder = RecordingLink(link)
        device = try XCTUnwrap(DriverRegistry.standard.makeActuatedDevice(for: profile, link: recorder, clock: clock) as? DynamixelServoChain)
        let identity = try device.identify()
        XCTAssertEqual(identity.model, "XM430-W210 + XM430-W350")
        XCTAssertEqual(identity.joints[0].torqueMaximumNewtonMeters, 4.1, accuracy: 1e-9)
        XCTAssertEqual(identity.joints[1].torqueMaximumNewtonMeters, 3.0, accuracy: 1e-9)
        XCTAssertEqual(identity.joints[1].velocityMaximumRadiansPerSecond, 77 * 2 * Double.pi / 60, accuracy: 1e-9)
        try enable()
        let start = clock.now()
        device.write(torques(0, 0), now: start, deadline: start.advanced(byNanoseconds: 1_000_000))
        XCTAssertTrue(device.waitForState(until: start.advanced(byNanoseconds: 1_000_000)))
        XCTAssertEqual(clock.now().nanoseconds(since: start), 230_000, "28 + 20 + 44 bytes")
        XCTAssertEqual(recorder.instructions.last, try DynamixelTestVector.wire("driver-fast-bulk-read"))
        let state = cycles(seconds: 0.05) { _ in self.torques(0, 0.3) }
        XCTAssertGreaterThan(state.joints[1].positionRadians, 2 * Self.degree, "the W210 joint is driven and read")
        XCTAssertEqual(state.joints[1].motorTorqueNewtonMeters, 0.3, accuracy: 0.01)
    }

    /// The driver's instructions are the vectors of README §7 byte for byte (protocols/dynamixel/vectors/driver-*,
    /// written by the reference implementation and cross-checked against the ROBOTIS SDK): the indirect addresses
    /// of its records, a cycle's Sync Write of goals and Fast Sync Read, and the Cat 0.
    func testTheDriversInstructionsAreItsVectorsByteForByte() throws {
        let recorder = RecordingLink(link)
        device = try XCTUnwrap(DriverRegistry.standard.makeActuatedDevice(for: profile, link: recorder, clock: clock) as? DynamixelServoChain)
        try device.configure(limits())
        XCTAssertTrue(recorder.instructions.contains(try DynamixelTestVector.wire("driver-write-indirect-addresses")),
                      "the set-up wrote ID 1's indirect addresses as the vector")
        XCTAssertEqual(try device.activate(watchdogPeriodNanoseconds: 20 * Nanoseconds.perMillisecond), 20 * Nanoseconds.perMillisecond)
        _ = try device.requestFreshState()
        recorder.instructions.removeAll()
        let start = clock.now()
        device.write(torques(0.3, -0.2), now: start, deadline: start.advanced(byNanoseconds: 1_000_000))
        XCTAssertEqual(recorder.instructions, [try DynamixelTestVector.wire("driver-sync-write-goals"), try DynamixelTestVector.wire("driver-fast-sync-read")])
        recorder.instructions.removeAll()
        device.write(.torqueOff, now: start, deadline: start.advanced(byNanoseconds: 1_000_000))
        XCTAssertEqual(recorder.instructions, [try DynamixelTestVector.wire("driver-sync-write-torque-off"), try DynamixelTestVector.wire("driver-fast-sync-read")])
    }

    /// A link that keeps every write (one instruction each, as the driver writes them) and passes everything on.
    private final class RecordingLink: ByteLink {
        let inner: any ByteLink
        var instructions: [[UInt8]] = []
        init(_ inner: any ByteLink) { self.inner = inner }
        var name: String { inner.name }
        func readAvailable(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> Int { try inner.readAvailable(into: buffer) }
        func write(_ bytes: UnsafeRawBufferPointer, deadline: MonotonicInstant) throws(TransportError) {
            instructions.append(Array(bytes))
            try inner.write(bytes, deadline: deadline)
        }
        func waitReadable(until deadline: MonotonicInstant) throws(TransportError) -> Bool { try inner.waitReadable(until: deadline) }
    }

    func testATorqueTurnsItsJointThatWayAtTheCommandedCurrent() throws {
        try enable()
        // 50 ms: under way, still far from the soft limit (65°), where the push fades.
        let state = cycles(seconds: 0.05) { _ in self.torques(0.3, 0) }
        XCTAssertTrue(state.condition.contains(.enabled))
        XCTAssertGreaterThan(state.joints[0].positionRadians, 2 * Self.degree, "pushed the positive way")
        XCTAssertLessThan(state.joints[0].positionRadians, 30 * Self.degree)
        XCTAssertEqual(state.joints[1].positionRadians, 0, accuracy: 0.5 * Self.degree, "no torque, no motion")
        // 0.3 N·m / 1.78 N·m/A = 0.1685 A = 62 units: the servo's loop saturates at Goal Current.
        XCTAssertEqual(state.joints[0].motorCurrentAmperes, 62 * 0.00269, accuracy: 2 * 0.00269)
        XCTAssertEqual(state.joints[0].motorTorqueNewtonMeters, 0.3, accuracy: 0.01)
        let back = cycles(seconds: 0.2) { _ in self.torques(-0.3, 0) }
        XCTAssertLessThan(back.joints[0].positionRadians, state.joints[0].positionRadians, "and back the other way")
    }

    func testATorqueNeverPushesPastTheSoftLimit() throws {
        try enable()
        let state = cycles(seconds: 3) { _ in self.torques(1.5, -1.5) }
        XCTAssertLessThanOrEqual(state.joints[0].positionRadians, 65 * Self.degree + 0.5 * Self.degree)
        XCTAssertGreaterThan(state.joints[0].positionRadians, 55 * Self.degree, "it got there")
        XCTAssertGreaterThanOrEqual(state.joints[1].positionRadians, -65 * Self.degree - 0.5 * Self.degree)
    }

    func testAHoldIsTheServosOwnAndOutlastsASilentHost() throws {
        try enable()
        let hold = DeviceIntent.command(pair(
            .hold(atRadians: 20 * Self.degree, stiffnessNewtonMetersPerRadian: 4, dampingNewtonMeterSecondsPerRadian: 0.1),
            .hold(atRadians: -10 * Self.degree, stiffnessNewtonMetersPerRadian: 4, dampingNewtonMeterSecondsPerRadian: 0.1)))
        let held = cycles(seconds: 1) { _ in hold }
        XCTAssertEqual(held.joints[0].positionRadians, 20 * Self.degree, accuracy: 1 * Self.degree)
        XCTAssertEqual(held.joints[1].positionRadians, -10 * Self.degree, accuracy: 1 * Self.degree)
        // The host falls silent for 100 ms: the Bus Watchdog (20 ms) stops the servos where they are.
        clock.sleep(until: clock.now().advanced(byNanoseconds: 100_000_000))
        let after = cycles(seconds: 0.01) { _ in .observe }
        XCTAssertTrue(after.condition.contains(.watchdogExpired), "the record shows Bus Watchdog −1")
        XCTAssertEqual(after.joints[0].positionRadians, 20 * Self.degree, accuracy: 1 * Self.degree)
    }

    func testAHostRampedStopBrakesAlongTheRampOnTheServosLoop() throws {
        try enable()
        // 0.06 N·m against 0.02 N·m of friction on 0.004 kg·m²: about 2.5 rad/s after 0.3 s, 20° on.
        let moving = cycles(seconds: 0.3) { _ in self.torques(0.06, 0) }
        let speed = moving.joints[0].velocityRadiansPerSecond
        XCTAssertGreaterThan(speed, 1, "moving first")
        // Ramp the reference from the measured speed to 0 at 20 rad/s² (the profile's quick stop).
        var reference = speed
        let stopped = cycles(seconds: 0.3) { _ in
            reference = max(0, reference - 20 * 0.001)
            return .quickStop(self.pair(JointActuation(mode: .velocity, velocityRadiansPerSecond: reference), JointActuation(mode: .velocity)))
        }
        XCTAssertEqual(stopped.joints[0].velocityRadiansPerSecond, 0, accuracy: 0.05, "standstill after the ramp")
        let travelled = stopped.joints[0].positionRadians - moving.joints[0].positionRadians
        // The ramp's own distance is v²/(2a); the servo's loop lags it a little.
        XCTAssertEqual(travelled, speed * speed / 40, accuracy: 0.05)
    }

    func testCat0TurnsTorqueOffAndTheStateKeepsComing() throws {
        try enable()
        cycles(seconds: 0.1) { _ in self.torques(0.3, 0.3) }
        let off = cycles(seconds: 0.01) { _ in .torqueOff }
        XCTAssertFalse(off.condition.contains(.enabled))
        XCTAssertFalse(off.condition.contains(.torqueOn))
        XCTAssertEqual(try readItem(1, Dynamixel.ControlTable.torqueEnable, 1), 0)
        XCTAssertEqual(try readItem(2, Dynamixel.ControlTable.torqueEnable, 1), 0)
    }

    func testAHardwareErrorIsTheDevicesFaultWithTheServoAndItsByte() throws {
        try enable()
        bus.servo(id: 2)?.latchHardwareError(Dynamixel.HardwareError.overheating, at: clock.now())
        let state = cycles(seconds: 0.01) { _ in self.torques(0, 0) }
        XCTAssertTrue(state.condition.contains(.fault))
        XCTAssertFalse(state.condition.contains(.enabled), "Shutdown turned its torque off")
        XCTAssertEqual(state.fault, DeviceFault(kind: .overTemperature, deviceCode: 2 << 8 | 0x04))
    }
    func testASilentServoLeavesNoFreshStateAndItsMissingRepliesAreCounted() throws {
        try enable()
        let before = cycles(seconds: 0.01) { _ in self.torques(0, 0) }
        link.inject([DynamixelInjectedFault(.servoSilent(id: 2), .now)])
        let after = cycles(seconds: 0.02) { _ in self.torques(0, 0) }
        XCTAssertLessThanOrEqual(after.sampledAt.nanoseconds(since: before.sampledAt), 2_000_000, "no state since the servo fell silent")
        XCTAssertGreaterThanOrEqual(device.linkHealth.unansweredRequests, 10, "20 reads, 8 still awaited")
        // The combined reply stops where servo 2's part should begin: each such cut packet fails its CRC.
        XCTAssertGreaterThanOrEqual(device.linkHealth.checksumErrors, 10)
    }
    /// The e-Manual's "stop" after a Bus Watchdog expiry need not turn torque off (README §6.6): a servo
    /// that holds with torque on is turned off by the reset before its watchdog is cleared, and the device
    /// counts as disabled until it is enabled again.
    func testAResetAfterAWatchdogExpiryTurnsTorqueOffBeforeClearingIt() throws {
        try build(watchdogStop: .stopInMode)
        try enable()
        cycles(seconds: 0.05) { _ in self.torques(0, 0) }
        clock.sleep(until: clock.now().advanced(byNanoseconds: 100_000_000))
        let expired = cycles(seconds: 0.005) { _ in .observe }
        XCTAssertTrue(expired.condition.contains(.watchdogExpired))
        XCTAssertEqual(try readItem(1, Dynamixel.ControlTable.torqueEnable, 1), 1, "this servo stopped with torque on")
        let reset = cycles(seconds: 0.005) { _ in .faultReset }
        XCTAssertFalse(reset.condition.contains(.watchdogExpired))
        XCTAssertFalse(reset.condition.contains(.enabled), "disabled until enabled again")
        for id: UInt8 in [1, 2] {
            XCTAssertEqual(try readItem(id, Dynamixel.ControlTable.torqueEnable, 1), 0)
            XCTAssertEqual(try readItem(id, Dynamixel.ControlTable.busWatchdog, 1), 0)
        }
    }

    func testATorqueAtTheSoftLimitItPushesTowardIsNotSent() throws {
        try enable()
        cycles(seconds: 3) { _ in self.torques(1.5, 0) }
        let atLimit = cycles(seconds: 0.05) { _ in self.torques(1.5, 0) }
        XCTAssertGreaterThan(atLimit.joints[0].positionRadians, 60 * Self.degree)
        bus.servo(id: 1)?.place(atRadians: .pi + 70 * Self.degree)  // pushed past it by hand
        let past = cycles(seconds: 0.02) { _ in self.torques(1.5, 0) }
        XCTAssertEqual(past.joints[0].motorCurrentAmperes, 0, accuracy: 0.01, "no current while past the limit it pushes toward")
    }
}
