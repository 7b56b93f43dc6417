import DynamixelSimulator
import Primitives
import RehabLinkSimulator
import Wire
import XCTest

/// The simulated bus against protocols/dynamixel/vectors/ (README §11): it receives every host→device vector as the
/// reference receiver does and answers it as the spec says, and where a device→host vector is the reply to a
/// request, the bus's reply is that vector byte for byte.
///
/// The vector format does not link a reply to its request (`reply_to` describes the request without naming its
/// vector), so the pairs are listed here by name; the device state a reply shows (a position, a temperature) is set
/// up first.
final class DynamixelBusVectorTests: XCTestCase {
    private typealias P = DynamixelTestPackets

    /// What the bus answers: status packets (ID, error byte, number of parameters) or one fast reply (its parameters).
    private enum Answer: Equatable, CustomStringConvertible {
        case status(UInt8, error: UInt8, parameters: Int)
        case fast(parameters: Int)

        var description: String {
            switch self {
            case .status(let id, let error, let parameters): "status(id \(id), error 0x\(String(error, radix: 16)), \(parameters) bytes)"
            case .fast(let parameters): "fast(\(parameters) bytes)"
            }
        }
    }

    func testTheBusReceivesEveryHostVectorLikeTheReferenceAndAnswersItAsTheSpecSays() throws {
        func ok(_ id: UInt8) -> [Answer] { [.status(id, error: 0, parameters: 0)] }
        let ping: (UInt8) -> Answer = { .status($0, error: 0, parameters: 3) }
        // On a bus of IDs 1, 2, 3, 4, 7 (the e-Manual's examples name 3, 7 and 4), factory settings but 1 Mbit/s and
        // Return Delay Time 0, torque off.
        var expected: [String: [Answer]] = [:]
        expected["action-broadcast"] = []  // executed by all, answered by none (nothing registered: no reply either way)
        expected["back-to-back-cycle"] = [.fast(parameters: 27)]  // 2 × (ID, 11 data, CRC) less the first ERR and last CRC
        expected["bad-id-0xfd"] = [ping(1)]
        expected["bulk-read-hardware-error-and-temperature"] = [.status(1, error: 0, parameters: 1), .status(2, error: 0, parameters: 1)]
        expected["bulk-write-torque-off-and-watchdog-clear"] = []
        expected["clear-multi-turn-id2"] = ok(2)
        expected["clear-wrong-fixed-bytes"] = [.status(1, error: 1, parameters: 0)]  // rejected: Result Fail (README §8)
        expected["control-table-backup-store-id2"] = ok(2)
        expected["cycle-fast-sync-read"] = [.fast(parameters: 27)]
        expected["cycle-sync-write-goal-current"] = []
        expected["driver-fast-bulk-read"] = [.fast(parameters: 33)]  // 2 × (ID, 14 data, CRC) less the first ERR and last CRC
        expected["driver-fast-sync-read"] = [.fast(parameters: 33)]
        expected["driver-sync-write-goals"] = []
        expected["driver-sync-write-torque-off"] = []
        expected["driver-write-indirect-addresses"] = ok(1)
        expected["emanual-action"] = [.status(1, error: 2, parameters: 0)]  // Action without Reg Write
        expected["emanual-bulk-read"] = [.status(1, error: 0, parameters: 2), .status(2, error: 0, parameters: 1)]
        expected["emanual-bulk-write"] = []
        expected["emanual-clear-multi-turn"] = ok(1)
        expected["emanual-control-table-backup-restore-as-printed"] = [.status(1, error: 3, parameters: 0)]  // CRC Error from its ID
        expected["emanual-control-table-backup-restore"] = [.status(1, error: 1, parameters: 0)]  // no backup stored: Result Fail
        expected["emanual-control-table-backup-store"] = ok(1)
        expected["emanual-factory-reset-except-id"] = ok(1)
        expected["emanual-fast-bulk-read-as-printed"] = []  // a CRC failure to 0xFE: nobody answers
        expected["emanual-fast-bulk-read"] = [.fast(parameters: 16)]
        expected["emanual-fast-sync-read"] = [.fast(parameters: 21)]
        expected["emanual-ping-broadcast"] = [ping(1), ping(2), ping(3), ping(4), ping(7)]
        expected["emanual-ping-id1"] = [ping(1)]
        expected["emanual-read-present-position"] = [.status(1, error: 0, parameters: 4)]
        expected["emanual-reboot"] = ok(1)
        expected["emanual-reg-write-goal-velocity"] = ok(1)
        expected["emanual-sync-read"] = [.status(1, error: 0, parameters: 4), .status(2, error: 0, parameters: 4)]
        expected["emanual-sync-write-goal-position"] = []
        expected["emanual-write-goal-position"] = ok(1)
        expected["factory-reset-all"] = ok(2)
        expected["factory-reset-except-id-and-baud"] = ok(2)
        expected["factory-reset-undefined-option"] = [.status(1, error: 1, parameters: 0)]
        expected["fast-bulk-read-error-and-position"] = [.fast(parameters: 10)]
        expected["length-too-short"] = [ping(1)]
        expected["no-stuffing-crc-completes-a-header"] = ok(1)  // the status packet after it is not for a device
        expected["no-stuffing-near-misses"] = ok(1)
        expected["oversize-length"] = [ping(1)]
        expected["ping-id2"] = [ping(2)]
        expected["read-bad-length"] = [.status(1, error: 1, parameters: 0)]
        expected["read-hardware-error-status"] = [.status(1, error: 0, parameters: 1)]
        expected["read-model-and-firmware"] = [.status(1, error: 0, parameters: 7)]
        expected["reboot-id2"] = ok(2)
        expected["reg-write-goal-current"] = ok(2)
        expected["reserved-byte-not-zero"] = [ping(1)]
        expected["stuffing-at-end-of-parameters"] = ok(1)
        expected["stuffing-existing-fd-fd"] = ok(1)
        expected["stuffing-in-write-data"] = ok(1)
        expected["stuffing-overlap-ff-ff-ff-fd"] = ok(1)
        expected["stuffing-pushes-past-maximum"] = [ping(1)]
        expected["stuffing-several-occurrences"] = ok(1)
        expected["sync-read-cycle-record"] = [.status(1, error: 0, parameters: 11), .status(2, error: 0, parameters: 11)]
        expected["sync-read-duplicate-id"] = []  // rejected, and sent to 0xFE: nobody answers
        expected["sync-write-not-broadcast"] = [.status(1, error: 1, parameters: 0)]
        expected["sync-write-ragged"] = []
        expected["unknown-instruction"] = [.status(1, error: 2, parameters: 0)]
        expected["unstuffed-sender-accepted"] = ok(1)
        expected["write-bus-watchdog-40ms"] = ok(1)
        expected["write-bus-watchdog-clear"] = ok(1)
        expected["write-current-limit"] = ok(2)
        expected["write-goal-current-negative"] = ok(2)
        expected["write-indirect-addresses-cycle-record"] = ok(1)
        expected["write-operating-mode-current"] = ok(1)
        expected["write-return-delay-time-zero"] = ok(1)
        expected["write-torque-enable-on"] = ok(1)
        var checked = 0
        for vector in try DynamixelTestVector.all() where vector.direction == "host_to_device" {
            guard let want = expected[vector.name] else {
                XCTFail("\(vector.name): a new host→device vector; say here what the bus answers")
                continue
            }
            let harness = DynamixelBusHarness(ids: [1, 2, 3, 4, 7])
            let exchange = try harness.exchange(vector.wire, listenMilliseconds: 30)
            // README §11: the counters after the input and an end of exchange (the bus's 1.5 ms of silence).
            XCTAssertEqual(harness.bus.decoderStatistics, vector.statistics, vector.name)
            let got: [Answer] = exchange.statuses.map { packet in
                packet.isFastReadReply
                    ? .fast(parameters: packet.parameters.count)
                    : .status(packet.id, error: packet.error?.rawValue ?? 0xFF, parameters: packet.parameters.count)
            }
            XCTAssertEqual(got, want, vector.name)
            XCTAssertEqual(exchange.results.count, exchange.replies.count, "\(vector.name): every reply decodes")
            checked += 1
        }
        XCTAssertEqual(checked, expected.count, "every expectation has its vector")
    }

    // MARK: Replies byte for byte

    func testPingRepliesAreTheVectors() throws {
        // The e-Manual's examples are an XM430-W210 (model 1030) with firmware 38.
        try assertReply(
            to: "emanual-ping-id1", expecting: "emanual-ping-status-id1",
            on: DynamixelBusHarness(ids: [1]) { servo in
                servo.modelNumber = 1_030
                servo.firmwareVersion = 38
            })
        try assertReply(
            to: "emanual-ping-broadcast", expecting: "emanual-ping-broadcast-replies",
            on: DynamixelBusHarness(ids: [2, 1]) { servo in
                servo.modelNumber = 1_030
                servo.firmwareVersion = 38
            })
        try assertReply(to: "ping-id2", expecting: "ping-status-xm430-w350", on: DynamixelBusHarness(ids: [2]))
        try assertReply(to: "read-model-and-firmware", expecting: "read-status-model-and-firmware", on: DynamixelBusHarness(ids: [1]))
        try assertReply(to: "emanual-write-goal-position", expecting: "emanual-status-ok-no-parameters", on: DynamixelBusHarness(ids: [1]))
    }

    func testReadRepliesAreTheVectors() throws {
        let one = DynamixelBusHarness(ids: [1])
        try place(one, [1: 166])
        try assertReply(to: "emanual-read-present-position", expecting: "emanual-read-status", on: one)

        let two = DynamixelBusHarness(ids: [1, 2])
        try place(two, [1: 166, 2: 2_079])
        try assertReply(to: "emanual-sync-read", expecting: "emanual-sync-read-replies", on: two)

        let fast = DynamixelBusHarness(ids: [3, 7, 4])
        try place(fast, [3: 166, 7: 2_079, 4: 1_023])
        try assertReply(to: "emanual-fast-sync-read", expecting: "emanual-fast-sync-read-status", on: fast)

        // ID 1 on an 11.9 V supply, ID 2 at 36 °C.
        let bulk = DynamixelBusHarness(ids: [1, 2]) { servo in
            if servo.id == 1 { servo.supplyVoltageVolts = 11.9 }
            if servo.id == 2 { servo.plant.ambientTemperatureCelsius = 36 }
        }
        try assertReply(to: "emanual-bulk-read", expecting: "emanual-bulk-read-replies", on: bulk)

        // ID 3 at 166, ID 7 driving at PWM 421, ID 4 at 31 °C.
        let fastBulk = DynamixelBusHarness(ids: [3, 7, 4]) { servo in
            if servo.id == 7 { servo.operatingMode = 16 }
            if servo.id == 4 { servo.plant.ambientTemperatureCelsius = 31 }
        }
        try place(fastBulk, [3: 166])
        XCTAssertEqual(try fastBulk.exchange(P.write(7, 100, P.le16(421))).errors, [0x00])
        XCTAssertEqual(try fastBulk.exchange(P.write(7, 64, [1])).errors, [0x00])
        try assertReply(to: "emanual-fast-bulk-read", expecting: "emanual-fast-bulk-read-status", on: fastBulk)

        let negative = DynamixelBusHarness(ids: [1, 2])
        try place(negative, [2: -4_096])
        try assertReply(to: "fast-bulk-read-error-and-position", expecting: "fast-bulk-read-error-and-position-status", on: negative)

        let hot = DynamixelBusHarness(ids: [1, 2]) { servo in
            if servo.id == 2 { servo.plant.ambientTemperatureCelsius = 41 }
        }
        try assertReply(to: "bulk-read-hardware-error-and-temperature", expecting: "bulk-read-hardware-error-and-temperature-replies", on: hot)
    }

    func testCycleRecordRepliesAreTheVectors() throws {
        // README §7.2: Indirect Address 1 … 11 name Present Current, Velocity, Position and Hardware Error Status.
        // The readings are set to the vectors' (ID 1: 148, 12, 2150; ID 2: −80, −5, 1900).
        func cycleBus() throws -> DynamixelBusHarness {
            let harness = DynamixelBusHarness(ids: [1, 2])
            XCTAssertEqual(try harness.exchange(try DynamixelTestVector.wire("write-indirect-addresses-cycle-record")).errors, [0x00])
            let addresses = [126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 70].flatMap { P.le16($0) }
            XCTAssertEqual(try harness.exchange(P.write(2, 168, addresses)).errors, [0x00])
            try freeze(harness, id: 1, current: 148, velocity: 12, position: 2_150)
            try freeze(harness, id: 2, current: -80, velocity: -5, position: 1_900)
            return harness
        }
        try assertReply(to: "sync-read-cycle-record", expecting: "sync-read-cycle-record-replies", on: try cycleBus())
        try assertReply(to: "cycle-fast-sync-read", expecting: "cycle-fast-sync-read-status", on: try cycleBus())

        // ID 2 has latched Overload: the alert bit in its block and 0x20 in its record (at rest, no current).
        let alert = try cycleBus()
        try freeze(alert, id: 2, current: 0, velocity: 0, position: 1_900)
        alert.link.inject([DynamixelInjectedFault(.overload(id: 2), .now)])
        try assertReply(to: "cycle-fast-sync-read", expecting: "cycle-fast-sync-read-status-alert", on: alert)
    }

    func testHardwareErrorRepliesAreTheVectors() throws {
        let harness = DynamixelBusHarness(ids: [1])
        harness.link.inject([DynamixelInjectedFault(.overheating(id: 1), .now)])
        try harness.wait(milliseconds: 1)
        try assertReply(to: "read-hardware-error-status", expecting: "read-status-overheating", on: harness)
    }

    func testStatusErrorsAreTheVectors() throws {
        func fresh() -> DynamixelBusHarness { DynamixelBusHarness(ids: [1]) }
        let range = fresh()
        XCTAssertEqual(try range.exchange(P.write(1, 11, [2])).bytes, try DynamixelTestVector.wire("status-error-data-range-error"))
        let length = fresh()
        XCTAssertEqual(try length.exchange(P.write(1, 116, [0, 0])).bytes, try DynamixelTestVector.wire("status-error-data-length-error"))
        let limit = fresh()
        XCTAssertEqual(try limit.exchange(P.write(1, 116, P.le32(5_000))).bytes, try DynamixelTestVector.wire("status-error-data-limit-error"))
        let instruction = fresh()
        XCTAssertEqual(try instruction.exchange(P.action(1)).bytes, try DynamixelTestVector.wire("status-error-instruction-error"))
        let crc = fresh()
        XCTAssertEqual(
            try crc.exchange(try DynamixelTestVector.wire("emanual-control-table-backup-restore-as-printed")).bytes,
            try DynamixelTestVector.wire("status-error-crc-error"))
        let fail = fresh()
        XCTAssertEqual(try fail.exchange(P.write(1, 64, [1])).errors, [0x00])
        XCTAssertEqual(
            try fail.exchange(P.controlTableBackup(1, .store)).bytes, try DynamixelTestVector.wire("status-error-result-fail"),
            "Control Table Backup with torque on")
    }

    func testStuffedAndUnstuffedRepliesAreTheVectors() throws {
        // Present Velocity −1 then Present Position 253 hold FF FF FD: the reply is stuffed.
        let stuffed = DynamixelBusHarness(ids: [1])
        try freeze(stuffed, id: 1, current: 0, velocity: -1, position: 253)
        XCTAssertEqual(try stuffed.exchange(P.read(1, 126, 10)).bytes, try DynamixelTestVector.wire("stuffing-in-status"))

        let storage = DynamixelBusHarness(ids: [1])
        XCTAssertEqual(try storage.exchange(P.write(1, 224, [0xFF, 0xFF, 0xFD, 0x00, 0xFF, 0xFD, 0xFD])).errors, [0x00])
        XCTAssertEqual(try storage.exchange(P.read(1, 224, 7)).bytes, try DynamixelTestVector.wire("stuffing-status-then-ff-fd-fd"))

        // A fast reply is never stuffed (README §4.3 rule 5).
        let fast = DynamixelBusHarness(ids: [1, 2])
        XCTAssertEqual(try fast.exchange(P.write(1, 224, [0xFF, 0xFF, 0xFD, 0xFD])).errors, [0x00])
        XCTAssertEqual(try fast.exchange(P.write(2, 224, [0x00, 0x01, 0x02, 0x03])).errors, [0x00])
        XCTAssertEqual(try fast.exchange(P.fastSyncRead(224, 4, [1, 2])).bytes, try DynamixelTestVector.wire("fast-status-not-stuffed"))
    }

    // MARK: Helpers

    private func assertReply(
        to request: String, expecting reply: String, on harness: DynamixelBusHarness, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let exchange = try harness.exchange(try DynamixelTestVector.wire(request), listenMilliseconds: 20)
        XCTAssertEqual(exchange.bytes, try DynamixelTestVector.wire(reply), "\(request) → \(reply)", file: file, line: line)
    }

    /// Puts each servo's shaft at the given Present Position (at rest, torque off) and lets the readings follow.
    private func place(_ harness: DynamixelBusHarness, _ positions: [UInt8: Int]) throws {
        for (id, counts) in positions {
            try XCTUnwrap(harness.bus.servo(id: id)).place(atRadians: P.radians(counts: counts))
        }
        try harness.wait(milliseconds: 1)
    }

    /// Freezes a servo's readings at the given Present Current, Velocity and Position.
    private func freeze(_ harness: DynamixelBusHarness, id: UInt8, current: Int, velocity: Int, position: Int) throws {
        let servo = try XCTUnwrap(harness.bus.servo(id: id))
        servo.freezesReadings = true
        servo.poke(address: Dynamixel.ControlTable.presentCurrent, bytes: P.le16(current) + P.le32(velocity) + P.le32(position))
    }
}
