import DynamixelSimulator
import Primitives
import RehabLinkSimulator
import Transport
import Wire
import XCTest

/// The simulated Dynamixel bus against protocols/dynamixel/README.md, through the in-process link on a virtual clock:
/// packets built by `Dynamixel.PacketEncoder`, replies decoded by `Dynamixel.PacketDecoder`.
final class DynamixelBusTests: XCTestCase {
    private typealias P = DynamixelTestPackets
    private typealias Table = Dynamixel.ControlTable

    // MARK: Ping

    func testEveryServoAnswersItsPingAndABroadcastPingInIDOrderEachAfterItsReturnDelay() throws {
        // Configured out of ID order, with the factory Return Delay Time (250 = 500 µs), at 1 Mbit/s (10 µs a byte).
        let harness = DynamixelBusHarness(DynamixelBusHarness.configuration(ids: [3, 1, 2], returnDelayTime: 250))
        for id: UInt8 in [1, 2, 3] {
            let exchange = try harness.exchange(P.ping(id))
            XCTAssertEqual(exchange.statuses.map(\.id), [id])
            XCTAssertEqual(exchange.errors, [0x00])
            XCTAssertEqual(exchange.parameters, [0xFC, 0x03, 46], "model number 1020, firmware 46 (README §5.1)")
        }
        XCTAssertTrue(try harness.exchange(P.ping(4)).bytes.isEmpty, "nobody has ID 4")

        let broadcast = try harness.exchange(P.ping(Dynamixel.broadcastID))
        XCTAssertEqual(broadcast.statuses.map(\.id), [1, 2, 3], "in ID order, not bus order")
        XCTAssertEqual(broadcast.errors, [0, 0, 0])
        // The 10-byte ping arrives after 100 µs; then each servo waits its 500 µs and sends 14 bytes (140 µs), one
        // after the other on the half-duplex line.
        XCTAssertEqual(broadcast.replies.map { $0.completedAt.nanoseconds(since: broadcast.sentAt) }, [740_000, 1_380_000, 2_020_000])
    }

    // MARK: Read and write

    func testWriteThenReadRoundTripsAndIndirectDataStandsForItsTargets() throws {
        let harness = DynamixelBusHarness(ids: [1])
        XCTAssertEqual(try harness.exchange(P.write(1, 116, P.le32(2_048))).errors, [0x00])
        let goal = try harness.exchange(P.read(1, 116, 4))
        XCTAssertEqual(goal.errors, [0x00])
        XCTAssertEqual(goal.parameters, P.le32(2_048))
        // Several items in one write: Profile Acceleration and Profile Velocity (108 … 115).
        XCTAssertEqual(try harness.exchange(P.write(1, 108, P.le32(50) + P.le32(100))).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.read(1, 108, 8)).parameters, P.le32(50) + P.le32(100))
        // Model Number … Firmware Version (README §7.1 step 1).
        XCTAssertEqual(try harness.exchange(P.read(1, 0, 7)).parameters, [0xFC, 0x03, 0, 0, 0, 0, 46])

        // Indirect Address 1 … 4 name Present Position: Indirect Data 1 … 4 read it (README §7.2).
        XCTAssertEqual(try harness.exchange(P.write(1, 168, [132, 0, 133, 0, 134, 0, 135, 0])).errors, [0x00])
        try XCTUnwrap(harness.bus.servo(id: 1)).place(atRadians: P.radians(counts: 1_000))
        try harness.wait(milliseconds: 1)
        let direct = try harness.exchange(P.read(1, 132, 4)).parameters
        XCTAssertEqual(direct, P.le32(1_000))
        XCTAssertEqual(try harness.exchange(P.read(1, 224, 4)).parameters, direct)
        // Writing Indirect Data writes its target: Indirect Address 5, 6 → Goal Current (102, 103).
        XCTAssertEqual(try harness.exchange(P.write(1, 176, [102, 0, 103, 0])).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.write(1, 228, P.le16(-50))).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.read(1, 102, 2)).parameters, P.le16(-50))

        // Reg Write registers, Action executes (README §5.4, §5.5).
        XCTAssertEqual(try harness.exchange(P.regWrite(1, 65, [1])).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.read(1, 65, 1)).parameters, [0], "not yet executed")
        XCTAssertEqual(try harness.exchange(P.read(1, 69, 1)).parameters, [1], "Registered Instruction")
        XCTAssertEqual(try harness.exchange(P.action(1)).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.read(1, 65, 1)).parameters, [1])
        XCTAssertEqual(try harness.exchange(P.read(1, 69, 1)).parameters, [0])
        XCTAssertEqual(try harness.exchange(P.action(1)).errors, [0x02], "Action without Reg Write: Instruction Error")
    }

    func testEEPROMWritesWithTorqueOnReadOnlyAndUndefinedAddressesAndBadValuesAreRefused() throws {
        let harness = DynamixelBusHarness(ids: [1])
        XCTAssertEqual(try harness.exchange(P.write(1, 64, [1])).errors, [0x00], "torque on")
        let locked = try harness.exchange(P.write(1, 9, [100]))
        XCTAssertEqual(locked.errors, [0x07], "EEPROM while Torque Enable is 1: Access Error (README §6.1)")
        XCTAssertEqual(locked.bytes, try DynamixelTestVector.wire("status-error-access-error"))
        XCTAssertEqual(try harness.exchange(P.read(1, 9, 1)).parameters, [0], "unchanged")

        XCTAssertEqual(try harness.exchange(P.write(1, 0, [0x00, 0x00])).errors, [0x07], "Model Number is read-only")
        XCTAssertEqual(try harness.exchange(P.write(1, 70, [0])).errors, [0x07], "Hardware Error Status is read-only")
        XCTAssertEqual(try harness.exchange(P.write(1, 14, [0])).errors, [0x07], "14 is reserved")
        XCTAssertEqual(try harness.exchange(P.write(1, 660, [0, 0, 0])).errors, [0x07], "past the end of the table")
        XCTAssertEqual(try harness.exchange(P.read(1, 700, 4)).bytes, try DynamixelTestVector.wire("read-status-access-error-no-data"))
        XCTAssertEqual(try harness.exchange(P.write(1, 116, [0, 0])).errors, [0x05], "2 bytes of a 4-byte item: Data Length Error")
        XCTAssertEqual(try harness.exchange(P.write(1, 65, [2])).errors, [0x04], "LED is 0 ~ 1: Data Range Error")
        XCTAssertEqual(try harness.exchange(P.write(1, 116, P.le32(5_000))).errors, [0x06], "beyond Max Position Limit: Data Limit Error")

        XCTAssertEqual(try harness.exchange(P.write(1, 64, [0])).errors, [0x00], "torque off")
        XCTAssertEqual(try harness.exchange(P.write(1, 9, [100])).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.read(1, 9, 1)).parameters, [100])
        XCTAssertEqual(try harness.exchange(P.write(1, 7, [253])).errors, [0x04], "ID 253 (README §2.2)")
    }

    func testOperatingModeCannotChangeWhileTorqueIsOnAndAChangeResetsTheGoals() throws {
        let harness = DynamixelBusHarness(ids: [1])
        XCTAssertEqual(try harness.exchange(P.write(1, 64, [1])).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.write(1, 11, [0])).errors, [0x07], "an EEPROM item (README §6.5)")
        XCTAssertEqual(try harness.exchange(P.read(1, 11, 1)).parameters, [3])
        XCTAssertEqual(try harness.exchange(P.write(1, 64, [0])).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.write(1, 11, [2])).errors, [0x04], "2 is not a mode")
        XCTAssertEqual(try harness.exchange(P.write(1, 11, [0])).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.read(1, 11, 1)).parameters, [0])
        // README §6.5: the change sets Goal PWM and Goal Current to PWM Limit and Current Limit.
        XCTAssertEqual(try harness.exchange(P.read(1, 100, 4)).parameters, P.le16(885) + P.le16(1_193))
    }

    // MARK: Sync and bulk

    func testSyncWriteIsNotAnsweredAndFastSyncReadAnswersInOnePacket() throws {
        let harness = DynamixelBusHarness(ids: [1, 2])
        let write = try harness.exchange(P.syncWrite(116, 4, [(1, P.le32(1_000)), (2, P.le32(3_000))]))
        XCTAssertTrue(write.bytes.isEmpty, "nobody answers a Sync Write")

        let fast = try harness.exchange(P.fastSyncRead(116, 4, [1, 2]))
        XCTAssertEqual(fast.replies.count, 1)
        let reply = try XCTUnwrap(fast.statuses.first)
        XCTAssertTrue(reply.isFastReadReply)
        XCTAssertEqual(fast.bytes.count, 8 + 2 * (4 + 4))
        let slices = try Dynamixel.FastRead.slices(of: reply, ids: P.list([1, 2]), dataLength: 4)
        XCTAssertEqual(slices.map(\.id), [1, 2])
        XCTAssertEqual(slices.map(\.error), [.noError, .noError])
        XCTAssertEqual(reply.parameters.littleEndian(Int32.self, at: slices[0].dataOffset), 1_000)
        XCTAssertEqual(reply.parameters.littleEndian(Int32.self, at: slices[1].dataOffset), 3_000)

        // Sync Read: one packet per servo, in the order of the list.
        let sync = try harness.exchange(P.syncRead(116, 4, [2, 1]))
        XCTAssertEqual(sync.statuses.map(\.id), [2, 1])
        XCTAssertEqual(sync.statuses.map { $0.parameters.littleEndian(Int32.self, at: 0) }, [3_000, 1_000])
    }

    func testBulkReadAnswersEachServoFromItsOwnAddressInListOrder() throws {
        let harness = DynamixelBusHarness(ids: [1, 2, 3])
        let entries: [(id: UInt8, address: UInt16, length: UInt16)] = [(2, 146, 1), (1, 0, 2), (3, 70, 1)]
        let bulk = try harness.exchange(P.bulkRead(entries))
        XCTAssertEqual(bulk.statuses.map(\.id), [2, 1, 3])
        XCTAssertEqual(bulk.statuses.map { Array($0.parameters) }, [[25], [0xFC, 0x03], [0x00]], "25 °C, model 1020, no hardware error")

        let fast = try harness.exchange(P.fastBulkRead(entries))
        let reply = try XCTUnwrap(fast.statuses.first)
        XCTAssertEqual(fast.replies.count, 1)
        let slices = try Dynamixel.FastRead.slices(of: reply, entries: P.bulkEntries(entries))
        XCTAssertEqual(slices.map(\.id), [2, 1, 3])
        XCTAssertEqual(reply.parameters.uint8(at: slices[0].dataOffset), 25)
        XCTAssertEqual(reply.parameters.littleEndian(UInt16.self, at: slices[1].dataOffset), 1_020)
        XCTAssertEqual(reply.parameters.uint8(at: slices[2].dataOffset), 0)

        // Bulk Write: each servo its own item, nobody answers.
        XCTAssertTrue(try harness.exchange(P.bulkWrite([(1, 65, [1]), (3, 116, P.le32(100))])).bytes.isEmpty)
        XCTAssertEqual(try harness.exchange(P.read(1, 65, 1)).parameters, [1])
        XCTAssertEqual(try harness.exchange(P.read(3, 116, 4)).parameters, P.le32(100))
    }

    // MARK: Bus Watchdog

    func testBusWatchdogStopsTheServoAndGoalWritesAreRefusedUntilItIsWrittenZero() throws {
        let harness = DynamixelBusHarness(ids: [1]) { $0.operatingMode = 0 }
        // README §7.1's activation: Goal Current 0, Bus Watchdog 2 (40 ms), Torque Enable 1.
        XCTAssertEqual(try harness.exchange(P.write(1, 102, P.le16(0))).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.write(1, 98, [2])).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.write(1, 64, [1])).errors, [0x00])
        // Every instruction feeds it, reads included (README §6.6): 35 ms apart, it never expires.
        var lastRead = harness.clock.now()
        for _ in 0..<5 {
            try harness.wait(milliseconds: 30)
            let read = try harness.exchange(P.read(1, 64, 1))
            XCTAssertEqual(read.parameters, [1])
            lastRead = read.sentAt
        }
        _ = harness.events()
        try harness.wait(milliseconds: 50)
        let stops = harness.events().filter { $0.event == "watchdog_stop" }
        XCTAssertEqual(stops.count, 1)
        // The read's 14 bytes arrive 140 µs after it was written; the stop comes in the first step past 40 ms.
        let fedAt = lastRead.advanced(byNanoseconds: 140_000)
        if let stop = stops.first {
            XCTAssertGreaterThan(stop.time.nanoseconds(since: fedAt), 40_000_000)
            XCTAssertLessThanOrEqual(stop.time.nanoseconds(since: fedAt), 40_100_000)
            XCTAssertEqual(stop.joint, 0)
        }

        XCTAssertEqual(try harness.exchange(P.read(1, 98, 1)).bytes, try DynamixelTestVector.wire("read-bus-watchdog-status-expired"))
        XCTAssertEqual(try harness.exchange(P.read(1, 64, 1)).parameters, [0], "the default stop turns torque off")
        XCTAssertEqual(try harness.exchange(P.write(1, 102, P.le16(10))).errors, [0x04], "Goal items are read-only: Data Range Error")
        XCTAssertEqual(try harness.exchange(P.write(1, 98, [2])).errors, [0x04], "only 0 clears the expiry")
        XCTAssertEqual(try harness.exchange(P.write(1, 98, [0])).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.write(1, 102, P.le16(10))).errors, [0x00], "writable again")
        XCTAssertEqual(try harness.exchange(P.read(1, 98, 1)).parameters, [0])
    }

    func testABusWatchdogStopInItsModeKeepsTorqueOnWithAZeroGoal() throws {
        var configuration = DynamixelBusHarness.configuration(ids: [1]) { $0.operatingMode = 0 }
        configuration.busWatchdogStop = .stopInMode
        let harness = DynamixelBusHarness(configuration)
        XCTAssertEqual(try harness.exchange(P.write(1, 102, P.le16(100))).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.write(1, 98, [1])).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.write(1, 64, [1])).errors, [0x00])
        try harness.wait(milliseconds: 30)
        XCTAssertEqual(try harness.exchange(P.read(1, 98, 1)).parameters, [0xFF])
        XCTAssertEqual(try harness.exchange(P.read(1, 64, 1)).parameters, [1])
        XCTAssertEqual(try harness.exchange(P.read(1, 102, 2)).parameters, P.le16(0))
        XCTAssertEqual(try harness.exchange(P.write(1, 102, P.le16(100))).errors, [0x04])
    }

    // MARK: Hardware errors

    func testSustainedCurrentAtItsLimitLatchesOverloadWithTheAlertBitUntilAReboot() throws {
        // A horn blocked 0.05 rad away: the servo drives into it and stalls at the supply's limit (12 V / 5.2 Ω).
        let harness = DynamixelBusHarness(ids: [1]) { servo in
            servo.operatingMode = 0
            servo.plant = .xm430W350(hardLimitMaximumRadians: 0.05)
        }
        XCTAssertEqual(try harness.exchange(P.write(1, 102, P.le16(1_000))).errors, [0x00])
        let enable = try harness.exchange(P.write(1, 64, [1]))
        XCTAssertEqual(enable.errors, [0x00])
        let enabledAt = enable.sentAt.advanced(byNanoseconds: 130_000)
        _ = harness.events()
        try harness.wait(milliseconds: 1_200)
        let events = harness.events()
        let fault = try XCTUnwrap(events.first { $0.event == "fault" })
        XCTAssertEqual(fault.faultCode, 0x20)
        XCTAssertEqual(fault.faultName, "overload")
        XCTAssertGreaterThan(fault.time.nanoseconds(since: enabledAt), 1_000_000_000)
        XCTAssertLessThan(fault.time.nanoseconds(since: enabledAt), 1_100_000_000)
        XCTAssertTrue(events.contains { $0.event == "torque_off" }, "Overload is in the default Shutdown (0x34)")

        XCTAssertEqual(try harness.exchange(P.ping(1)).errors, [0x80], "the alert bit in every status packet")
        let status = try harness.exchange(P.read(1, 70, 1))
        XCTAssertEqual(status.errors, [0x80])
        XCTAssertEqual(status.parameters, [0x20])
        XCTAssertEqual(try harness.exchange(P.read(1, 64, 1)).parameters, [0])
        XCTAssertEqual(try harness.exchange(P.write(1, 64, [1])).errors, [0x80], "acknowledged …")
        XCTAssertEqual(try harness.exchange(P.read(1, 64, 1)).parameters, [0], "… but only a reboot turns torque on again")

        XCTAssertEqual(try harness.exchange(P.reboot(1)).errors, [0x80])
        XCTAssertTrue(try harness.exchange(P.ping(1)).bytes.isEmpty, "rebooting: no answer")
        try harness.wait(milliseconds: 300)
        XCTAssertEqual(try harness.exchange(P.ping(1)).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.read(1, 70, 1)).parameters, [0x00])
        XCTAssertTrue(harness.events().contains { $0.event == "fault_reset" })
        XCTAssertEqual(try harness.exchange(P.write(1, 102, P.le16(0))).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.write(1, 64, [1])).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.read(1, 64, 1)).parameters, [1])
    }

    func testInjectedHardwareErrorsLatchAndOnlyTheShutdownOnesTurnTorqueOff() throws {
        let harness = DynamixelBusHarness(ids: [1, 2])
        for id: UInt8 in [1, 2] { XCTAssertEqual(try harness.exchange(P.write(id, 64, [1])).errors, [0x00]) }
        // Input Voltage is not in the default Shutdown (0x34): reported, torque stays on. Overheating is.
        harness.link.inject([
            DynamixelInjectedFault(.inputVoltage(id: 1, volts: 17), .now, forMilliseconds: 5), DynamixelInjectedFault(.overheating(id: 2), .now),
        ])
        try harness.wait(milliseconds: 10)
        XCTAssertEqual(try harness.exchange(P.read(1, 70, 1)).parameters, [0x01], "latched after the supply came back")
        XCTAssertEqual(try harness.exchange(P.read(1, 64, 1)).parameters, [1])
        XCTAssertEqual(try harness.exchange(P.read(1, 144, 2)).parameters, P.le16(120), "12.0 V again")
        let overheated = try harness.exchange(P.read(2, 70, 1))
        XCTAssertEqual(overheated.errors, [0x80])
        XCTAssertEqual(overheated.parameters, [0x04])
        XCTAssertEqual(try harness.exchange(P.read(2, 64, 1)).parameters, [0])
        // An EEPROM write with torque on and an error latched: both in one error byte.
        XCTAssertEqual(try harness.exchange(P.write(1, 11, [0])).bytes, try DynamixelTestVector.wire("status-error-alert-and-access-error"))
        XCTAssertEqual(try harness.exchange(P.write(1, 65, [1])).bytes, try DynamixelTestVector.wire("status-error-alert-only"))
    }

    // MARK: Physics

    func testAGoalCurrentAcceleratesThePlantInItsDirectionAndDriveModeReversesIt() throws {
        // A heavier link (0.05 kg·m²) so that 50 ms stay far from the no-load speed.
        let harness = DynamixelBusHarness(ids: [1, 2]) { servo in
            servo.operatingMode = 0
            servo.plant = .xm430W350(inertiaKilogramSquareMeters: 0.05)
            if servo.id == 2 { servo.driveMode = Table.DriveModeBit.reverse }
        }
        for id: UInt8 in [1, 2] {
            XCTAssertEqual(try harness.exchange(P.write(id, 102, P.le16(200))).errors, [0x00], "538 mA, 0.96 N·m")
            XCTAssertEqual(try harness.exchange(P.write(id, 64, [1])).errors, [0x00])
        }
        try harness.wait(milliseconds: 50)
        let forward = try XCTUnwrap(harness.bus.servo(id: 1))
        let reversed = try XCTUnwrap(harness.bus.servo(id: 2))
        XCTAssertGreaterThan(forward.plant.positionRadians, 0)
        XCTAssertGreaterThan(forward.plant.velocityRadiansPerSecond, 0)
        XCTAssertLessThan(reversed.plant.positionRadians, 0, "Drive Mode bit 0 turns the other way …")
        for id: UInt8 in [1, 2] {
            let position = try XCTUnwrap(try harness.exchange(P.read(id, 132, 4)).statuses.first?.parameters.littleEndian(Int32.self, at: 0))
            XCTAssertGreaterThan(position, 0, "… and reports it in its own direction (servo \(id))")
            XCTAssertEqual(try harness.exchange(P.read(id, 126, 2)).parameters, P.le16(200), "Present Current (servo \(id))")
        }
        XCTAssertEqual(try harness.exchange(P.write(1, 102, P.le16(-200))).errors, [0x00])
        try harness.wait(milliseconds: 300)
        XCTAssertLessThan(forward.plant.velocityRadiansPerSecond, 0)
        let velocity = try XCTUnwrap(try harness.exchange(P.read(1, 128, 4)).statuses.first?.parameters.littleEndian(Int32.self, at: 0))
        XCTAssertLessThan(velocity, 0)
    }

    func testPositionControlHoldsAndReachesItsGoal() throws {
        let harness = DynamixelBusHarness(ids: [1])
        XCTAssertEqual(try harness.exchange(P.write(1, 116, P.le32(1_024))).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.write(1, 64, [1])).errors, [0x00])
        try harness.wait(milliseconds: 500)
        let position = try XCTUnwrap(try harness.exchange(P.read(1, 132, 4)).statuses.first?.parameters.littleEndian(Int32.self, at: 0))
        XCTAssertEqual(Double(position), 1_024, accuracy: 20, "a quarter turn")
        XCTAssertEqual(try harness.exchange(P.read(1, 122, 1)).parameters, [0], "not moving any more")
    }

    // MARK: Timing

    func testReplyTimeIsTheBytesOnTheWireAtTheBaudRatePlusTheReturnDelay() throws {
        for (code, bitsPerSecond) in [(UInt8(3), Int64(1_000_000)), (UInt8(6), Int64(4_000_000))] {
            for returnDelay: UInt8 in [0, 250] {
                let harness = DynamixelBusHarness(DynamixelBusHarness.configuration(ids: [1], baudRateCode: code, returnDelayTime: returnDelay))
                let ping = try harness.exchange(P.ping(1))
                XCTAssertEqual(ping.bytes.count, 14)
                // 10 bytes of Ping and 14 of reply, 10 bits each, and Return Delay Time × 2 µs.
                let expected = (10 + 14) * 10 * 1_000_000_000 / bitsPerSecond + Int64(returnDelay) * 2_000
                XCTAssertEqual(ping.lastByteAt?.nanoseconds(since: ping.sentAt), expected, "\(bitsPerSecond) bit/s, RDT \(returnDelay)")
            }
            // README §7.3: one cycle for two servos is 20 + 16 + 38 = 74 bytes: 740 µs at 1 Mbit/s, 185 µs at 4 Mbit/s.
            let harness = DynamixelBusHarness(DynamixelBusHarness.configuration(ids: [1, 2], baudRateCode: code))
            let command = try P.syncWrite(102, 2, [(1, P.le16(0)), (2, P.le16(0))])
            let read = try P.fastSyncRead(224, 11, [1, 2])
            XCTAssertEqual(command.count + read.count, 36)
            let cycle = try harness.exchange(command + read)
            XCTAssertEqual(cycle.bytes.count, 38)
            XCTAssertEqual(cycle.lastByteAt?.nanoseconds(since: cycle.sentAt), 740 * 1_000_000_000 / bitsPerSecond)
        }
    }

    func testReplyBytesAreReleasedOnlyAsTheyArrive() throws {
        let harness = DynamixelBusHarness(DynamixelBusHarness.configuration(ids: [1], baudRateCode: 1))  // 57 600 bit/s
        try P.ping(1).withUnsafeBytes { try harness.link.write($0, deadline: harness.clock.now()) }
        let start = harness.clock.now()
        var buffer = [UInt8](repeating: 0, count: 64)
        // The Ping takes 10 × 173.6 µs to arrive; halfway through the reply, only half of it is readable.
        harness.clock.advance(to: start.advanced(byNanoseconds: 17 * 173_612))
        let half = try buffer.withUnsafeMutableBytes { try harness.link.readAvailable(into: $0) }
        XCTAssertEqual(half, 7)
        harness.clock.advance(to: start.advanced(byNanoseconds: 24 * 173_612))
        let rest = try buffer.withUnsafeMutableBytes { try harness.link.readAvailable(into: $0) }
        XCTAssertEqual(rest, 7)
    }

    // MARK: Status Return Level

    func testStatusReturnLevelDecidesWhichInstructionsAreAnswered() throws {
        let harness = DynamixelBusHarness(ids: [1])
        // Level 2 (factory): everything. The write that lowers it is still answered: its reply follows the level in
        // force when it arrived.
        XCTAssertEqual(try harness.exchange(P.write(1, 65, [1])).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.write(1, 68, [1])).errors, [0x00])
        // Level 1: Ping and reads.
        XCTAssertEqual(try harness.exchange(P.ping(1)).replies.count, 1)
        XCTAssertEqual(try harness.exchange(P.read(1, 65, 1)).parameters, [1])
        XCTAssertTrue(try harness.exchange(P.write(1, 65, [0])).bytes.isEmpty)
        XCTAssertEqual(try harness.exchange(P.syncRead(65, 1, [1])).parameters, [0], "executed, not answered")
        XCTAssertTrue(try harness.exchange(P.write(1, 68, [0])).bytes.isEmpty)
        // Level 0: Ping only.
        XCTAssertEqual(try harness.exchange(P.ping(1)).replies.count, 1)
        XCTAssertEqual(try harness.exchange(P.ping(Dynamixel.broadcastID)).replies.count, 1)
        XCTAssertTrue(try harness.exchange(P.read(1, 65, 1)).bytes.isEmpty)
        XCTAssertTrue(try harness.exchange(P.write(1, 68, [2])).bytes.isEmpty)
        // Level 2 again.
        XCTAssertEqual(try harness.exchange(P.write(1, 65, [1])).errors, [0x00])
    }

    // MARK: Reboot, Factory Reset, Drive Mode bit 3

    func testFactoryResetRestoresTheEEPROMKeepingIDAndBaudRateThenReboots() throws {
        let harness = DynamixelBusHarness(ids: [1])
        XCTAssertEqual(try harness.exchange(P.read(1, 9, 1)).parameters, [0])
        XCTAssertEqual(try harness.exchange(P.factoryReset(1, .exceptIDAndBaudRate)).errors, [0x00])
        XCTAssertTrue(try harness.exchange(P.ping(1)).bytes.isEmpty, "rebooting")
        try harness.wait(milliseconds: 250)
        XCTAssertEqual(try harness.exchange(P.read(1, 7, 3)).parameters, [1, 3, 250], "ID and Baud Rate kept, Return Delay Time 250 again")
    }

    func testTorqueOnByGoalUpdateSwitchesTorqueOnWithAGoalWrite() throws {
        let harness = DynamixelBusHarness(ids: [1]) { servo in
            servo.operatingMode = 0
            servo.driveMode = Table.DriveModeBit.torqueOnByGoalUpdate
        }
        XCTAssertEqual(try harness.exchange(P.read(1, 64, 1)).parameters, [0])
        XCTAssertEqual(try harness.exchange(P.write(1, 102, P.le16(0))).errors, [0x00])
        XCTAssertEqual(try harness.exchange(P.read(1, 64, 1)).parameters, [1], "README §6.3: why RehabHost keeps bit 3 at 0")
    }

    // MARK: Injected faults

    func testInjectedFaultsSilenceAServoAndChangeItsModelNumber() throws {
        let harness = DynamixelBusHarness(ids: [1, 2, 3])
        harness.link.inject([
            DynamixelInjectedFault(.servoSilent(id: 2), .now, forMilliseconds: 50),
            DynamixelInjectedFault(.wrongModel(id: 3, modelNumber: 1_030), .now),
        ])
        let ping = try harness.exchange(P.ping(Dynamixel.broadcastID))
        XCTAssertEqual(ping.statuses.map(\.id), [1, 3])
        XCTAssertEqual(ping.statuses.last.map { Array($0.parameters) }, [0x06, 0x04, 46], "another model on ID 3")
        XCTAssertEqual(try harness.exchange(P.read(3, 0, 2)).parameters, [0x06, 0x04])
        // A silent servo in a Fast Sync Read breaks the chain: the host is left with the packet's first block.
        let fast = try harness.exchange(P.fastSyncRead(132, 4, [1, 2, 3]))
        XCTAssertTrue(fast.replies.isEmpty)
        XCTAssertEqual(fast.bytes.count, 8 + (4 + 4))
        XCTAssertEqual(fast.statistics.malformedFrames, 1)
        // It still executes what it hears.
        XCTAssertTrue(try harness.exchange(P.write(2, 65, [1])).bytes.isEmpty)
        try harness.wait(milliseconds: 50)
        XCTAssertEqual(try harness.exchange(P.read(2, 65, 1)).parameters, [1])
        let injections = harness.events().filter { $0.event.hasPrefix("fault_injection") || $0.event == "fault_injected" }
        XCTAssertEqual(injections.map { "\($0.event) \($0.detail)" },
                       ["fault_injected servo_silent", "fault_injected wrong_model", "fault_injection_ended servo_silent"])
    }

    func testLinkFaultsComeFromSimulatorKit() throws {
        let harness = DynamixelBusHarness(ids: [1])
        harness.link.inject([DynamixelInjectedFault(.dropReplies, .now, forMilliseconds: 10)])
        XCTAssertTrue(try harness.exchange(P.ping(1)).bytes.isEmpty)
        try harness.wait(milliseconds: 10)
        XCTAssertEqual(try harness.exchange(P.ping(1)).replies.count, 1)
    }

    func testTheFaultScriptParserReadsTheBusKinds() throws {
        typealias Parser = FaultScriptParser<DynamixelDeviceFault>
        let overload = try Parser.parseLive(#"{"kind": "overload", "id": 2, "after_enable_ms": 100}"#, jointCount: 2).get()
        XCTAssertEqual(overload.kind, .overload(id: 2))
        XCTAssertEqual(overload.trigger, .afterEnableMilliseconds(100))
        let model = try Parser.parseLive(#"{"kind": "wrong_model", "id": 1, "model_number": 1030}"#, jointCount: 2).get()
        XCTAssertEqual(model.kind, .wrongModel(id: 1, modelNumber: 1_030))
        let voltage = try Parser.parseLive(#"{"kind": "input_voltage", "id": 1, "for_ms": 20}"#, jointCount: 2).get()
        XCTAssertEqual(voltage.kind, .inputVoltage(id: 1, volts: 17))
        XCTAssertEqual(voltage.durationMilliseconds, 20)
        guard case .failure = Parser.parseLive(#"{"kind": "servo_silent", "id": 253}"#, jointCount: 2) else {
            return XCTFail("ID 253 accepted")
        }
        guard case .failure = Parser.parseLive(#"{"kind": "overload", "id": 1, "for_ms": 5}"#, jointCount: 2) else {
            return XCTFail("a latched error given a duration")
        }
    }

    func testAnInvalidConfigurationIsNamed() {
        var configuration = DynamixelBusHarness.configuration(ids: [1, 1])
        configuration.servos[0].plant = .xm430W350(inertiaKilogramSquareMeters: 1e-6)
        let problems = configuration.problems
        XCTAssertTrue(problems.contains { $0.contains("two servos have this ID") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("too stiff") }, "\(problems)")
        XCTAssertTrue(DynamixelBusHarness.configuration(ids: [1, 2]).problems.isEmpty)
    }
}
