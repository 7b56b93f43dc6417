import Foundation
import Platform
import Primitives
import StrictJSON
import TestSupport
import XCTest

/// `rehabctl dynamixel` against rehabsim's simulated bus over its pseudo-terminal, through the real
/// serial code path: the scan finds the servos only at the rate they listen at (the simulator takes the
/// rate the host set on its end), fields are read and written by name in SI units, and what a servo
/// refuses, what nobody answers and what could move a servo get clear messages and stable exit codes.
final class DynamixelCommandTests: XCTestCase {
    private var port = ""

    override func setUpWithError() throws {
        let profile = RepositoryPaths.file("hardware/dynamixel-wrist.json").path
        let process = try ProgramRun.start("rehabsim", ["--profile", profile, "--quiet"])
        addTeardownBlock { process.terminate() }
        let line = try XCTUnwrap(process.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 10 * Nanoseconds.perSecond)))
        XCTAssertTrue(line.hasPrefix("robot: /dev/pts/"), line)
        port = String(line.dropFirst("robot: ".count))
    }

    private func dynamixel(_ arguments: [String]) throws -> ProgramRun {
        try ProgramRun.run("rehabctl", ["dynamixel"] + arguments)
    }

    func testTheScanFindsBothServosAtTheirRateAndNowhereElse() throws {
        let scan = try dynamixel(["scan", "--port", port, "--baud", "57600,1000000,4000000", "--json"])
        XCTAssertEqual(scan.exitCode, 0, scan.standardError)
        let servos = try XCTUnwrap(JSONParser.parse(scan.standardOutput).objectValue?["servos"]?.arrayValue)
        XCTAssertEqual(servos.compactMap { $0.objectValue?["id"]?.integerValue }, [1, 2])
        XCTAssertEqual(servos.compactMap { $0.objectValue?["baud_rate_bps"]?.integerValue }, [4_000_000, 4_000_000],
                       "servos at Baud Rate 6 do not understand 57 600 or 1 000 000 bit/s")
        XCTAssertEqual(servos.compactMap { $0.objectValue?["model"]?.stringValue }, ["XM430-W350", "XM430-W350"])
        let elsewhere = try dynamixel(["scan", "--port", port, "--baud", "1000000"])
        XCTAssertEqual(elsewhere.exitCode, 69)
        XCTAssertTrue(elsewhere.standardError.contains("no servo answered on \(port) at 1000000 bit/s"), elsewhere.standardError)
    }

    func testFieldsAreReadAndWrittenByNameInSIUnitsAndReadBack() throws {
        let temperature = try dynamixel(["read", "--port", port, "--id", "2", "present_temperature", "--json"])
        XCTAssertEqual(temperature.exitCode, 0, temperature.standardError)
        let reading = try XCTUnwrap(JSONParser.parse(temperature.standardOutput).objectValue)
        XCTAssertEqual(reading["unit"]?.stringValue, "°C")
        XCTAssertEqual(reading["value"]?.doubleValue ?? 0, 25, accuracy: 5, "room temperature at power-up")

        let delay = try dynamixel(["write", "--port", port, "--id", "1", "return_delay_time", "0.0001"])
        XCTAssertEqual(delay.exitCode, 0, delay.standardError)
        XCTAssertEqual(delay.standardOutput, "id 1 return_delay_time = 0.0001 s (raw 50) (written and read back)")
        let raw = try dynamixel(["read", "--port", port, "--id", "1", "return_delay_time", "--raw"])
        XCTAssertTrue(raw.standardOutput.contains("(raw 50)"), raw.standardOutput)
    }

    func testWhatCouldMoveAServoNeedsAllowMotionAndNothingIsWrittenWithout() throws {
        let refused = try dynamixel(["write", "--port", port, "--id", "1", "torque_enable", "1"])
        XCTAssertEqual(refused.exitCode, 64)
        XCTAssertTrue(refused.standardError.contains("can make servo 1 move; give --allow-motion"), refused.standardError)
        let torque = try dynamixel(["read", "--port", port, "--id", "1", "torque_enable"])
        XCTAssertEqual(torque.standardOutput, "id 1 torque_enable = 0", "nothing was written")
        let goal = try dynamixel(["write", "--port", port, "--id", "1", "goal_current", "0.1"])
        XCTAssertEqual(goal.exitCode, 64, "a Goal field too")
    }

    func testTheServosRefusalsAndSilenceHaveTheirOwnExitCodes() throws {
        XCTAssertEqual(try dynamixel(["write", "--port", port, "--id", "1", "torque_enable", "1", "--allow-motion"]).exitCode, 0)
        let eeprom = try dynamixel(["write", "--port", port, "--id", "1", "return_delay_time", "0", "--raw"])
        XCTAssertEqual(eeprom.exitCode, 3)
        XCTAssertTrue(eeprom.standardError.contains("servo 1 refused: Access Error"), eeprom.standardError)
        XCTAssertEqual(try dynamixel(["write", "--port", port, "--id", "1", "torque_enable", "0"]).exitCode, 0, "torque off needs no permission")

        let nobody = try dynamixel(["read", "--port", port, "--id", "9", "led", "--timeout-ms", "30"])
        XCTAssertEqual(nobody.exitCode, 69)
        XCTAssertTrue(nobody.standardError.contains("servo 9 did not answer within"), nobody.standardError)

        let range = try dynamixel(["write", "--port", port, "--id", "1", "operating_mode", "20"])
        XCTAssertEqual(range.exitCode, 64, "outside the field's range: refused before anything is sent")
        XCTAssertTrue(range.standardError.contains("operating_mode takes 0 … 16 raw"), range.standardError)
        let undefined = try dynamixel(["write", "--port", port, "--id", "1", "operating_mode", "2"])
        XCTAssertEqual(undefined.exitCode, 3, "inside the range but not a mode: the servo's Data Range Error")
        XCTAssertTrue(undefined.standardError.contains("Data Range Error"), undefined.standardError)
    }

    /// A latched hardware error is cleared only by a Reboot, which the operator asks for: an overload
    /// that is gone is cleared (exit 0, both bytes shown); a supply still out of range latches again
    /// (exit 3, naming it).
    func testARebootClearsAHardwareErrorWhoseCauseIsGoneAndSaysWhenItIsNot() throws {
        let script = NSTemporaryDirectory() + "rehabhost-dynamixel-faults-\(UUID().uuidString).json"
        try #"{"format": "rehabsim-faults/1", "faults": [{"at_ms": 0, "kind": "overload", "id": 2}, {"at_ms": 0, "kind": "input_voltage", "id": 1, "voltage_v": 17}]}"#
            .write(toFile: script, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: script) }
        let profile = RepositoryPaths.file("hardware/dynamixel-wrist.json").path
        let process = try ProgramRun.start("rehabsim", ["--profile", profile, "--quiet", "--faults", script])
        addTeardownBlock { process.terminate() }
        let line = try XCTUnwrap(process.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 10 * Nanoseconds.perSecond)))
        let faulty = String(line.dropFirst("robot: ".count))

        let latched = try dynamixel(["read", "--port", faulty, "--id", "2", "hardware_error_status", "--raw"])
        XCTAssertEqual(latched.standardOutput, "id 2 hardware_error_status = 32; ALERT: a hardware error is latched")
        let cleared = try dynamixel(["reboot", "--port", faulty, "--id", "2", "--json"])
        XCTAssertEqual(cleared.exitCode, 0, cleared.standardError)
        let report = try XCTUnwrap(JSONParser.parse(cleared.standardOutput).objectValue)
        XCTAssertEqual(report["hardware_error_status_before"]?.integerValue, 0x20)
        XCTAssertEqual(report["hardware_error_status_after"]?.integerValue, 0)
        XCTAssertEqual(report["errors_before"]?.arrayValue?.compactMap(\.stringValue), ["overload (0x20)"])
        XCTAssertEqual(try dynamixel(["read", "--port", faulty, "--id", "2", "hardware_error_status", "--raw"]).standardOutput,
                       "id 2 hardware_error_status = 0")

        let supply = try dynamixel(["reboot", "--port", faulty, "--id", "1"])
        XCTAssertEqual(supply.exitCode, 3, supply.standardOutput + supply.standardError)
        XCTAssertTrue(supply.standardError.contains("servo 1 latched input_voltage (0x01) again after its reboot"), supply.standardError)
        XCTAssertEqual(try dynamixel(["reboot", "--port", faulty]).exitCode, 64, "--id is required")
    }

    func testWrongUseIsExplained() throws {
        let unknown = try dynamixel(["read", "--port", port, "--id", "1", "position"])
        XCTAssertEqual(unknown.exitCode, 64)
        XCTAssertTrue(unknown.standardError.contains("no control-table field \"position\"; did you mean"), unknown.standardError)
        XCTAssertEqual(try dynamixel(["read", "--port", port, "present_position"]).exitCode, 64, "--id is required")
        XCTAssertEqual(try dynamixel(["write", "--port", port, "--id", "1", "present_position", "0"]).exitCode, 64, "read-only")
        XCTAssertEqual(try dynamixel(["scan", "--port", port, "--baud", "12345"]).exitCode, 64)
        XCTAssertEqual(try dynamixel(["jump", "--port", port]).exitCode, 64)
        let missing = try dynamixel(["scan", "--port", "/dev/no-such-adapter"])
        XCTAssertEqual(missing.exitCode, 69, "a missing device, as everywhere in rehabctl: \(missing.standardError)")
        XCTAssertTrue(missing.standardError.contains("no such port"), missing.standardError)
        let fields = try dynamixel(["fields"])
        XCTAssertTrue(fields.standardOutput.contains("present_position         132  4    R      RAM     rad"), fields.standardOutput)
    }
    /// `rehabctl identify` goes through the registry's driver: with the profile it pings the servos and
    /// runs SR-17's comparison; without one it cannot know the chain and says what to give.
    func testIdentifyKnowsTheChainByItsProfileAndAsksForOneWithout() throws {
        let profile = RepositoryPaths.file("hardware/dynamixel-wrist.json").path
        let identify = try ProgramRun.run("rehabctl", ["identify", "--port", port, "--profile", profile])
        XCTAssertEqual(identify.exitCode, 0, identify.standardError)
        XCTAssertTrue(identify.standardOutput.contains("XM430-W350, serial Dynamixel ID 1, 2, firmware 46.0.0"), identify.standardOutput)
        XCTAssertTrue(identify.standardOutput.contains("hard limits not known to the device"), identify.standardOutput)
        XCTAssertTrue(identify.standardOutput.contains("profile dynamixel-wrist: matches"), identify.standardOutput)
        let bare = try ProgramRun.run("rehabctl", ["identify", "--port", port, "--protocol", "dynamixel/2.0"])
        XCTAssertEqual(bare.exitCode, 78, bare.standardError)
        XCTAssertTrue(bare.standardError.contains("give --profile"), bare.standardError)
        XCTAssertTrue(bare.standardError.contains("rehabctl dynamixel scan"), bare.standardError)
    }
}
