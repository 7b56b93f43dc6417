import Devices
import DynamixelSimulator
import Primitives
import Profiles
import SimulatorKit
import TestSupport
import Wire
import XCTest

/// The host's bus client (set-up and `rehabctl dynamixel`) against the simulated bus of the shipped profile,
/// through the in-process link on a virtual clock: the link steps to the bus's own deadlines, so a round trip
/// takes exactly the wire time of 4 Mbit/s and the servo's Return Delay Time.
final class DynamixelBusClientTests: XCTestCase {
    private var clock: VirtualClock!
    private var link: InProcessDeviceLink<SimulatedDynamixelBus>!
    private var client: DynamixelBusClient!

    override func setUpWithError() throws {
        let profile = try HardwareProfileLoader.load(path: RepositoryPaths.file("hardware/dynamixel-wrist.json").path)
        let configuration = try XCTUnwrap(DynamixelBusConfiguration.simulating(profile).configuration)
        clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        link = InProcessDeviceLink(device: SimulatedDynamixelBus(configuration: configuration, bootTime: clock.now()), clock: clock,
                                   replyLatencyNanoseconds: 0)
        client = DynamixelBusClient(link: link, replyTimeoutNanoseconds: 20 * Nanoseconds.perMillisecond, clock: clock)
    }

    /// How long `body` took on the virtual clock [µs].
    private func microseconds(_ body: () throws -> Void) rethrows -> Double {
        let start = clock.now()
        try body()
        return Double(clock.now().nanoseconds(since: start)) / 1_000
    }

    func testAPingTakesTheWireTimeAndTheReturnDelayAndNothingElse() throws {
        // Ping: 10 bytes out, 14 back, 2.5 µs a byte at 4 Mbit/s; the factory Return Delay Time is 500 µs.
        var reply: DynamixelBusClient.PingReply?
        let factory = try microseconds { reply = try client.ping(id: 1) }
        XCTAssertEqual(reply?.id, 1)
        XCTAssertEqual(reply?.modelNumber, 1020)
        XCTAssertEqual(reply?.firmwareVersion, 46)
        XCTAssertEqual(reply?.alert, false)
        XCTAssertEqual(factory, 25 + 500 + 35, accuracy: 0.01)
        try client.write(id: 1, address: Dynamixel.ControlTable.returnDelayTime, bytes: [0])
        let immediate = try microseconds { _ = try client.ping(id: 1) }
        XCTAssertEqual(immediate, 25 + 35, accuracy: 0.01, "Return Delay Time 0 (README §7.3)")
    }

    func testABroadcastPingFindsEveryServoInIDOrder() throws {
        let found = try client.broadcastPing(windowNanoseconds: 5 * Nanoseconds.perMillisecond)
        XCTAssertEqual(found.map(\.id), [1, 2])
        XCTAssertEqual(found.map(\.modelNumber), [1020, 1020])
    }

    func testReadsAndWritesGoByAddressAndRefusalsSayWhy() throws {
        let model = try client.read(id: 2, address: Dynamixel.ControlTable.modelNumber, length: 2)
        XCTAssertEqual(model.bytes, [0xFC, 0x03], "1020, little-endian")
        try client.write(id: 1, address: Dynamixel.ControlTable.torqueEnable, bytes: [1])
        XCTAssertThrowsError(try client.write(id: 1, address: Dynamixel.ControlTable.returnDelayTime, bytes: [0])) { error in
            XCTAssertEqual(error as? DynamixelBusError, .refused(id: 1, Dynamixel.StatusError(rawValue: 0x07)))
            XCTAssertTrue("\(error)".contains("Access Error: a read-only or undefined field, or an EEPROM field"), "\(error)")
        }
    }

    func testASilentIDWaitsTheReplyTimeAndIsNamed() throws {
        var caught: (any Error)?
        let waited = microseconds {
            do { _ = try client.ping(id: 9) } catch { caught = error }
        }
        XCTAssertEqual(caught as? DynamixelBusError, .noReply(id: 9, waitedNanoseconds: 20 * Nanoseconds.perMillisecond))
        XCTAssertEqual(waited, 20_000, accuracy: 0.01, "the reply timeout, counted from the write")
    }
}
