import DeviceModel
import Devices
import Primitives
import RehabLinkSimulator
import Transport
import Wire
import XCTest

/// A RehabLink device that answers ENABLE with an ACK for another request: it is a broken device,
/// and the driver says so (issue 15: it used to be "no answer to ENABLE … is the device powered?").
private final class MisacknowledgingLink: ByteLink {
    let firmware: SimulatedRehabLinkDevice
    let clock: VirtualClock
    private var decoder = RehabLink.FrameDecoder()
    private var pending: [UInt8] = []
    private var frame = RehabLink.EncodedFrame()
    private var replySequence: UInt16 = 500

    var name: String { "misacknowledging test link" }

    init(firmware: SimulatedRehabLinkDevice, clock: VirtualClock) {
        self.firmware = firmware
        self.clock = clock
    }

    func write(_ bytes: UnsafeRawBufferPointer, deadline: MonotonicInstant) throws(TransportError) {
        for byte in bytes {
            guard case .packet(let packet)? = decoder.push(byte) else { continue }
            if case .enable = packet.message {
                // Acknowledged as if it were a request 7 sequences earlier.
                let ack = RehabLink.Acknowledgement(acknowledgedType: .enable, result: .ok, acknowledgedSequence: packet.sequence &- 7, value: 20_000)
                RehabLink.FrameEncoder.encode(.acknowledge(ack), sequence: replySequence, into: &frame)
                replySequence &+= 1
                pending += frame.bytes
            } else {
                // Everything else goes to the real simulated firmware.
                var one = RehabLink.EncodedFrame()
                RehabLink.FrameEncoder.encode(packet.message, sequence: packet.sequence, into: &one)
                one.withUnsafeBytes { firmware.receive($0, at: clock.now()) }
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = buffer.withUnsafeMutableBytes { firmware.popOutput(into: $0) }
                pending += buffer[0..<count]
            }
        }
    }

    func readAvailable(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> Int {
        let count = min(buffer.count, pending.count)
        for index in 0..<count { buffer[index] = pending[index] }
        pending.removeFirst(count)
        return count
    }

    func waitReadable(until deadline: MonotonicInstant) throws(TransportError) -> Bool {
        if !pending.isEmpty { return true }
        clock.advance(to: deadline)
        return false
    }
}

final class DriverDiagnosisTests: XCTestCase {
    func testAnEnableAcknowledgedForAnotherSequenceIsAProtocolViolationNotSilence() throws {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        let firmware = SimulatedRehabLinkDevice(configuration: try SimulatorHarness.wristConfiguration(), bootTime: clock.now())
        let driver = RehabLinkDevice(link: MisacknowledgingLink(firmware: firmware, clock: clock), jointCount: 2, clock: clock)
        XCTAssertEqual(try driver.identify().model, "RH-WRIST-2", "the link passes everything else through")
        XCTAssertThrowsError(try driver.activate(watchdogPeriodNanoseconds: 20_000_000)) { error in
            guard case .protocolViolation(_, let detail) = error as? DeviceError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("ENABLE was acknowledged for sequence"), detail)
            XCTAssertTrue(detail.contains("a firmware defect, or a second host on the port"), detail)
            XCTAssertFalse("\(error)".contains("no answer"), "\(error)")
        }
    }
}
