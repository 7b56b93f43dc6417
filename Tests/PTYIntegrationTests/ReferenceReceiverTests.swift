import Control
import DeviceModel
import Devices
import Platform
import Primitives
import Transport
import Wire
import XCTest

/// The RehabRef receiver on a real UDP socket: what reaches the loop, what is refused and counted,
/// and how repeats, reordering and garbage are told apart (protocols/rehabref/README.md §3–4).
final class ReferenceReceiverTests: XCTestCase {
    private func send(_ sender: DatagramSocket, counter: UInt32, position: Double = 0.2, visible: Bool = true) {
        var bytes = [UInt8](repeating: 0, count: RehabRef.Datagram.byteCount)
        let frame = RehabRef.Datagram(frameCounter: counter, framePeriodMicroseconds: 10_000, latencyMicroseconds: 2_000,
                                      rmsErrorMicrometers: 300, positionRadians: position, toolVisible: visible)
        bytes.withUnsafeMutableBytes { _ = frame.encode(into: $0) }
        bytes.withUnsafeBytes { _ = sender.send($0) }
    }

    /// Waits (up to 2 s) until the receiver has seen `total` datagrams of any kind.
    private func settle(_ receiver: ReferenceStreamReceiver, total: Int) {
        let end = MonotonicClock.now().advanced(byNanoseconds: 2 * Nanoseconds.perSecond)
        while MonotonicClock.now() < end {
            let figures = receiver.figures
            if figures.accepted + figures.repeated + figures.outOfOrder + figures.rejectedTotal >= total { return }
            usleep(2_000)
        }
    }

    func testFramesRepeatsReorderingAndGarbage() throws {
        let receiver = ReferenceStreamReceiver(socket: try DatagramSocket.bound(port: 0))
        receiver.start()
        defer { receiver.stop() }
        let sender = try DatagramSocket.connected(to: "127.0.0.1", port: receiver.socket.localPort)
        XCTAssertEqual(receiver.latestSample(at: .zero).samplesReceived, 0, "nothing yet")

        for counter: UInt32 in 1...3 { send(sender, counter: counter, position: 0.1 * Double(counter)) }
        settle(receiver, total: 3)
        var sample = receiver.latestSample(at: .zero)
        XCTAssertEqual(sample.frameCounter, 3)
        XCTAssertEqual(sample.positionRadians, 0.3, accuracy: 1e-12)
        XCTAssertEqual(sample.sourceLatencyNanoseconds, 2_000_000)
        XCTAssertEqual(sample.framePeriodNanoseconds, 10_000_000)
        XCTAssertEqual(sample.rmsErrorMillimeters, 0.3, accuracy: 1e-12)
        let received = sample.receivedAt
        XCTAssertLessThan(MonotonicClock.now().nanoseconds(since: received), Nanoseconds.perSecond, "stamped on arrival, host clock")

        send(sender, counter: 2, position: 9)  // late: ignored
        for _ in 0..<3 { send(sender, counter: 3, position: 0.3) }  // the same counter again: frozen
        settle(receiver, total: 7)
        sample = receiver.latestSample(at: .zero)
        XCTAssertEqual(sample.positionRadians, 0.3, accuracy: 1e-12, "the late frame did not reach the loop")
        XCTAssertEqual(sample.repeatedFrames, 3)
        XCTAssertEqual(sample.trackerStatus(at: MonotonicClock.now())?.frameCounterFrozen, true)

        [UInt8](repeating: 0x52, count: 10).withUnsafeBytes { _ = sender.send($0) }
        [UInt8](repeating: 0, count: 600).withUnsafeBytes { _ = sender.send($0) }  // longer than the receive buffer
        var corrupt = [UInt8](repeating: 0, count: RehabRef.Datagram.byteCount)
        let late = RehabRef.Datagram(frameCounter: 4, framePeriodMicroseconds: 10_000, latencyMicroseconds: 0, rmsErrorMicrometers: 0,
                                     positionRadians: 5, toolVisible: true)
        corrupt.withUnsafeMutableBytes { _ = late.encode(into: $0) }
        corrupt[30] ^= 0x40
        corrupt.withUnsafeBytes { _ = sender.send($0) }
        send(sender, counter: 5, visible: false)
        settle(receiver, total: 11)
        let figures = receiver.figures
        XCTAssertEqual(figures.accepted, 4)
        XCTAssertEqual(figures.repeated, 3)
        XCTAssertEqual(figures.outOfOrder, 1)
        XCTAssertEqual(figures.rejected, [.datagram(.wrongLength): 2, .datagram(.badCRC): 1])
        sample = receiver.latestSample(at: .zero)
        XCTAssertEqual(sample.frameCounter, 5)
        XCTAssertFalse(sample.toolVisible)
        XCTAssertEqual(sample.repeatedFrames, 0, "a new counter ends the repeat run")
        XCTAssertEqual(sample.samplesReceived, 4)
    }

    /// Review R3(b): one forged frame with a much higher counter used to make every later genuine
    /// frame "old", locking the real source out for the rest of the session. Now a jump beyond
    /// `maximumCounterStep` is refused as `counter_jump`, and only a run of consecutive frames
    /// continuing from it, with no genuine frame in between (a restarted source), replaces the stream.
    func testASpoofedCounterJumpIsRefusedAndTheGenuineStreamKeepsItsPlace() throws {
        let receiver = ReferenceStreamReceiver(socket: try DatagramSocket.bound(port: 0))
        receiver.start()
        defer { receiver.stop() }
        let sender = try DatagramSocket.connected(to: "127.0.0.1", port: receiver.socket.localPort)
        let spoofer = try DatagramSocket.connected(to: "127.0.0.1", port: receiver.socket.localPort)
        func position(_ counter: UInt32) -> Double { Double(counter % 1_000) * 1e-3 }

        for counter: UInt32 in 50_000...50_004 { send(sender, counter: counter, position: position(counter)) }
        settle(receiver, total: 5)
        send(spoofer, counter: 50_004 + 1_000_000, position: 1.5)
        settle(receiver, total: 6)
        var sample = receiver.latestSample(at: .zero)
        XCTAssertEqual(sample.frameCounter, 50_004, "the spoofed frame did not reach the loop")
        XCTAssertEqual(sample.positionRadians, position(50_004), accuracy: 1e-12)

        for counter: UInt32 in 50_005...50_009 { send(sender, counter: counter, position: position(counter)) }
        settle(receiver, total: 11)
        sample = receiver.latestSample(at: .zero)
        XCTAssertEqual(sample.frameCounter, 50_009, "the genuine stream is still accepted after the spoofed frame")
        XCTAssertEqual(sample.positionRadians, position(50_009), accuracy: 1e-12)
        XCTAssertEqual(receiver.figures.accepted, 10)
        XCTAssertEqual(receiver.figures.rejected, [.counterJump: 1])

        // A forger sending a consecutive run of its own, interleaved with the live stream: never confirmed.
        for step: UInt32 in 0..<3 {
            send(spoofer, counter: 2_000_000 + step, position: 1.5)
            send(sender, counter: 50_010 + step, position: position(50_010 + step))
        }
        settle(receiver, total: 17)
        sample = receiver.latestSample(at: .zero)
        XCTAssertEqual(sample.frameCounter, 50_012)
        XCTAssertEqual(sample.positionRadians, position(50_012), accuracy: 1e-12)
        XCTAssertEqual(receiver.figures.rejected, [.counterJump: 4])

        // The source restarts with a new counter (and the old stream is gone): the first frames are
        // refused, the third consecutive one takes over.
        for counter: UInt32 in 0...1 { send(sender, counter: counter, position: 0.25) }
        settle(receiver, total: 19)
        XCTAssertEqual(receiver.latestSample(at: .zero).frameCounter, 50_012, "not yet confirmed")
        send(sender, counter: 2, position: 0.3)
        settle(receiver, total: 20)
        sample = receiver.latestSample(at: .zero)
        XCTAssertEqual(sample.frameCounter, 2, "three consecutive frames: the new stream replaces the old one")
        XCTAssertEqual(sample.positionRadians, 0.3, accuracy: 1e-12)
        XCTAssertEqual(sample.repeatedFrames, 0)
        let figures = receiver.figures
        XCTAssertEqual(figures.accepted, 14)
        XCTAssertEqual(figures.rejected, [.counterJump: 6])
        XCTAssertEqual(figures.outOfOrder, 0)
        XCTAssertEqual(figures.repeated, 0)
    }
}
