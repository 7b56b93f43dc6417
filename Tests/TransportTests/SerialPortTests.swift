import Foundation
import Platform
import Primitives
import Transport
import XCTest

/// The serial code path against real pseudo-terminals: the same calls a lab's USB-serial port gets.
final class SerialPortTests: XCTestCase {
    private func deadline(milliseconds: Int64) -> MonotonicInstant {
        MonotonicClock.now().advanced(byNanoseconds: milliseconds * Nanoseconds.perMillisecond)
    }

    private func readAll(_ link: ByteLink, expecting count: Int) throws -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let end = deadline(milliseconds: 2_000)
        while received.count < count, MonotonicClock.now() < end {
            _ = try link.waitReadable(until: end)
            let n = try buffer.withUnsafeMutableBytes { try link.readAvailable(into: $0) }
            received += buffer[0..<n]
        }
        return received
    }

    func testBytesCrossAPseudoTerminalBothWaysUnchanged() throws {
        let pty = try PseudoTerminal()
        let port = try SerialPort(path: pty.slavePath, options: .init(baudRateBitsPerSecond: 2_000_000))
        XCTAssertTrue(port.isPseudoTerminal)
        // Every byte value, including the ones a cooked terminal would translate (CR, NL, ^C, ^S, 0x00).
        let all = (0...255).map { UInt8($0) } + [0x0D, 0x0A, 0x03, 0x13, 0x11, 0x00]
        try all.withUnsafeBytes { try pty.write($0, deadline: deadline(milliseconds: 100)) }
        XCTAssertEqual(try readAll(port, expecting: all.count), all)
        try all.withUnsafeBytes { try port.write($0, deadline: deadline(milliseconds: 100)) }
        XCTAssertEqual(try readAll(pty, expecting: all.count), all)
    }

    func testEmptyReadReturnsZeroWithoutBlocking() throws {
        let pty = try PseudoTerminal()
        let port = try SerialPort(path: pty.slavePath)
        var buffer = [UInt8](repeating: 0, count: 16)
        XCTAssertEqual(try buffer.withUnsafeMutableBytes { try port.readAvailable(into: $0) }, 0)
    }

    func testWaitReadableReturnsFalseAtTheDeadlineAndTrueWhenDataArrives() throws {
        let pty = try PseudoTerminal()
        let port = try SerialPort(path: pty.slavePath)
        let start = MonotonicClock.now()
        XCTAssertFalse(try port.waitReadable(until: start.advanced(byNanoseconds: 20 * Nanoseconds.perMillisecond)))
        XCTAssertGreaterThanOrEqual(MonotonicClock.now().nanoseconds(since: start), 20 * Nanoseconds.perMillisecond)
        try [UInt8(1)].withUnsafeBytes { try pty.write($0, deadline: deadline(milliseconds: 100)) }
        XCTAssertTrue(try port.waitReadable(until: deadline(milliseconds: 1_000)))
    }

    func testSecondOpenOfAnOpenPortIsBusyAndNamesTheHolder() throws {
        let pty = try PseudoTerminal()
        let first = try SerialPort(path: pty.slavePath)
        XCTAssertThrowsError(try SerialPort(path: pty.slavePath)) { error in
            guard case .busy(let path, let holder) = error as? TransportError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, pty.slavePath)
            XCTAssertEqual(holder?.hasPrefix("pid \(getpid())"), true, "holder: \(holder ?? "nil")")
            XCTAssertTrue("\(error)".contains("two programs must never drive one device"))
        }
        first.close()
        XCTAssertNoThrow(try SerialPort(path: pty.slavePath), "closing releases the port")
    }

    func testMissingPortIsNotFoundWithARemedy() {
        XCTAssertThrowsError(try SerialPort(path: "/dev/ttyRehabHostMissing0")) { error in
            XCTAssertEqual(error as? TransportError, .notFound(path: "/dev/ttyRehabHostMissing0"))
            XCTAssertTrue("\(error)".contains("rehabctl devices"))
        }
    }

    func testAFileThatIsNotATerminalIsRejected() {
        XCTAssertThrowsError(try SerialPort(path: "/dev/null")) { error in
            XCTAssertEqual(error as? TransportError, .notATerminal(path: "/dev/null"))
        }
    }

    func testPermissionDeniedMessageNamesTheGroupAndTheUdevRule() {
        let message = TransportError.permissionDenied(path: "/dev/ttyACM0").description
        XCTAssertTrue(message.contains("dialout"))
        XCTAssertTrue(message.contains("hardware/udev/99-rehabhost.rules"))
    }

    func testHangUpOfTheOtherEndIsDeviceGone() throws {
        let pty = try PseudoTerminal()
        let port = try SerialPort(path: pty.slavePath)
        pty.hangUp()
        XCTAssertTrue(try port.waitReadable(until: deadline(milliseconds: 1_000)), "a hang-up wakes the waiter")
        var buffer = [UInt8](repeating: 0, count: 16)
        XCTAssertThrowsError(try buffer.withUnsafeMutableBytes { try port.readAvailable(into: $0) }) { error in
            guard case .deviceGone = error as? TransportError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try [UInt8(1)].withUnsafeBytes { try port.write($0, deadline: deadline(milliseconds: 10)) }) { error in
            guard case .deviceGone = error as? TransportError else { return XCTFail("\(error)") }
        }
    }

    func testWriteGivesUpAtTheDeadlineWhenNobodyReads() throws {
        let pty = try PseudoTerminal()
        let port = try SerialPort(path: pty.slavePath)
        let block = [UInt8](repeating: 0x55, count: 1 << 20)
        XCTAssertThrowsError(try block.withUnsafeBytes { try port.write($0, deadline: deadline(milliseconds: 50)) }) { error in
            guard case .timedOut = error as? TransportError else { return XCTFail("\(error)") }
        }
    }

    func testStandardAndNonStandardBaudRatesAreSet() throws {
        let pty = try PseudoTerminal()
        for rate in [9_600, 115_200, 1_000_000, 2_000_000, 1_234_567] {
            let port = try SerialPort(path: pty.slavePath, options: .init(baudRateBitsPerSecond: rate))
            XCTAssertEqual(try port.configuredBaudRate(), rate)
            port.close()
        }
        XCTAssertThrowsError(try SerialPort(path: pty.slavePath, options: .init(baudRateBitsPerSecond: 0)))
    }

    func testDrainReturnsOnceOutputIsConsumed() throws {
        let pty = try PseudoTerminal()
        let port = try SerialPort(path: pty.slavePath)
        try [UInt8](repeating: 1, count: 100).withUnsafeBytes { try port.write($0, deadline: deadline(milliseconds: 100)) }
        _ = try readAll(pty, expecting: 100)
        XCTAssertNoThrow(try port.drain(deadline: deadline(milliseconds: 500)))
    }
}

final class EnumerationTests: XCTestCase {
    func testListedSerialPortsAreCharacterDevicesWithConsistentMetadata() throws {
        for port in try SerialPortEnumerator.list() {
            var status = stat()
            XCTAssertEqual(stat(port.path, &status), 0, port.path)
            XCTAssertEqual(status.st_mode & S_IFMT, S_IFCHR, "\(port.path) is not a character device")
            if port.kind != .usb {
                XCTAssertNil(port.usbVendorID, "USB metadata on a \(port.kind) port: \(port.path)")
            }
        }
    }

    func testUSBListingEitherWorksOrSaysWhyNot() {
        do {
            for device in try USBDeviceEnumerator.list() {
                XCTAssertGreaterThan(device.bus, 0)
                XCTAssertFalse(device.sysfsName.isEmpty)
            }
        } catch {
            guard case .usbUnavailable(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertFalse(reason.isEmpty)
        }
    }
}
