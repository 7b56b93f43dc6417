import Foundation
import StrictJSON
import TestSupport
import Transport
import XCTest

/// rehabctl and rehabsim as a user meets them: help, usage errors, and the exit code of every kind
/// of bad input.
final class CommandLineTests: XCTestCase {
    func testNoCommandPrintsUsageToStandardErrorAndExits64() throws {
        let run = try ProgramRun.run("rehabctl", [])
        XCTAssertEqual(run.exitCode, 64)
        XCTAssertTrue(run.standardError.contains("usage: rehabctl <command>"), run.standardError)
        XCTAssertTrue(run.standardOutput.isEmpty)
    }

    func testUnknownCommandSuggestsTheNearestAndExits64() throws {
        let run = try ProgramRun.run("rehabctl", ["dem"])
        XCTAssertEqual(run.exitCode, 64)
        XCTAssertTrue(run.standardError.contains("did you mean 'demo'"), run.standardError)
    }

    func testEveryCommandHasHelpThatTeachesItsOptions() throws {
        let top = try ProgramRun.run("rehabctl", ["--help"])
        XCTAssertEqual(top.exitCode, 0)
        for command in ["devices", "identify", "demo", "run", "bench", "doctor", "estop", "stop", "pause", "resume", "reset", "release", "status"] {
            XCTAssertTrue(top.standardOutput.contains(command))
            let run = try ProgramRun.run("rehabctl", [command, "--help"])
            XCTAssertEqual(run.exitCode, 0, command)
            XCTAssertTrue(run.standardOutput.contains("usage: rehabctl \(command)"), command)
            XCTAssertTrue(run.standardOutput.contains("Examples:"), command)
        }
        XCTAssertTrue(top.standardOutput.contains("Exit codes:"))
        let sim = try ProgramRun.run("rehabsim", ["--help"])
        XCTAssertEqual(sim.exitCode, 0)
        XCTAssertTrue(sim.standardOutput.contains("robot: /dev/pts/N"))
        XCTAssertTrue(sim.standardOutput.contains("--faults FILE"))
        let inject = try ProgramRun.run("rehabsim", ["inject", "--help"])
        XCTAssertEqual(inject.exitCode, 0)
        XCTAssertTrue(inject.standardOutput.contains("usage: rehabsim inject"), inject.standardOutput)
    }

    func testSessionCommandsMisusedAreUsageErrors() throws {
        let run = try ProgramRun.run("rehabctl", ["run", "--duration", "5"])
        XCTAssertEqual(run.exitCode, 64)
        XCTAssertTrue(run.standardError.contains("--port PATH is required"), run.standardError)
        let release = try ProgramRun.run("rehabctl", ["release", "--for", "-1"])
        XCTAssertEqual(release.exitCode, 64, release.standardError)
        let group = try ProgramRun.run("rehabctl", ["demo", "--control-group", "no-such-group-here"])
        XCTAssertEqual(group.exitCode, 64, group.standardError)
        XCTAssertTrue(group.standardError.contains("no group \"no-such-group-here\""), group.standardError)
        let inject = try ProgramRun.run("rehabsim", ["inject", "drop_replies"])
        XCTAssertEqual(inject.exitCode, 64, inject.standardError)
        XCTAssertTrue(inject.standardError.contains("--control SOCKET is required"), inject.standardError)
    }

    /// SR-14: a rate the profile's range or its watchdog cannot sustain can never work: refused before
    /// anything starts (no simulator, nothing enabled), with the reason, exit 78 — not "start again".
    func testARateTheWatchdogCannotCoverIsRefusedBeforeAnythingStarts() throws {
        for (rate, expected) in [("1", "rate_min_hz"), ("100", "rate_min_hz"), ("8000", "rate_max_hz")] {
            for command in ["demo", "bench"] {
                let run = try ProgramRun.run("rehabctl", [command, "--rate", rate, "--duration", "1"])
                XCTAssertEqual(run.exitCode, 78, "\(command) --rate \(rate): \(run.standardError)")
                XCTAssertTrue(run.standardError.contains(expected), run.standardError)
                XCTAssertFalse(run.standardError.contains("simulated"), "no simulator was started: \(run.standardError)")
            }
        }
    }

    /// SR-7 / SR-20 from the command line: a patient's range and torque caps may only narrow the
    /// profile's; malformed values are usage errors, values that would widen are refused (exit 78).
    func testPatientLimitsOnTheCommandLineMayOnlyNarrowTheProfile() throws {
        for (option, value, code, expected) in [
            ("--patient-torque-cap-nm", "flexion_extension=9:1", Int32(78), "may only lower"),
            ("--patient-torque-cap-nm", "elbow=1:1", 64, "no joint \"elbow\""),
            ("--patient-torque-cap-nm", "flexion_extension=1", 64, "expected JOINT=A:B"),
            ("--patient-rom-deg", "flexion_extension=80:90", 78, "lies outside its soft limits"),
            ("--patient-rom-deg", "flexion_extension=10:-10", 64, "must be below"),
        ] {
            let run = try ProgramRun.run("rehabctl", ["demo", "--duration", "1", option, value])
            XCTAssertEqual(run.exitCode, code, "\(option) \(value): \(run.standardError)")
            XCTAssertTrue(run.standardError.contains(expected), run.standardError)
            XCTAssertFalse(run.standardError.contains("self-test passed"), "refused before anything was enabled")
        }
    }

    func testBadOptionValuesAreUsageErrorsNamingTheOption() throws {
        let cases: [([String], String)] = [
            (["demo", "--rate", "0"], "--rate must be between 1 and 10000 Hz"),
            (["demo", "--rate", "20000"], "--rate must be between 1 and 10000 Hz"),
            (["demo", "--duration", "0"], "--duration must be between"),
            (["demo", "--duration", "ten"], "--duration expects a number in s"),
            (["demo", "--priority", "120"], "--priority must be between 0 and 99"),
            (["demo", "--cpu", "64"], "--cpu 64 does not exist"),
            (["demo", "--bogus"], "unknown option --bogus"),
            (["demo", "--rate"], "--rate needs a value"),
            (["demo", "extra"], "unexpected argument \"extra\""),
            (["identify"], "--port is required"),
            (["devices", "--json=yes"], "--json takes no value"),
        ]
        for (arguments, message) in cases {
            let run = try ProgramRun.run("rehabctl", arguments)
            XCTAssertEqual(run.exitCode, 64, "\(arguments)")
            XCTAssertTrue(run.standardError.contains(message), "\(arguments): \(run.standardError)")
            XCTAssertTrue(run.standardError.contains("usage: rehabctl"), "\(arguments): usage is printed")
        }
        let sim = try ProgramRun.run("rehabsim", ["--priority", "0"])
        XCTAssertEqual(sim.exitCode, 64)
    }

    func testMissingAndInvalidProfilesHaveTheirOwnExitCodes() throws {
        let missing = try ProgramRun.run("rehabctl", ["demo", "--profile", "/nonexistent/robot.json"])
        XCTAssertEqual(missing.exitCode, 66)
        XCTAssertTrue(missing.standardError.contains("/nonexistent/robot.json: no such file"), missing.standardError)
        let unknownName = try ProgramRun.run("rehabctl", ["demo", "--profile", "no-such-robot"])
        XCTAssertEqual(unknownName.exitCode, 66)
        XCTAssertTrue(unknownName.standardError.contains("no such profile; looked in"), unknownName.standardError)

        let invalid = NSTemporaryDirectory() + "rehabhost-invalid-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: invalid) }
        var text = try String(contentsOf: RepositoryPaths.file("hardware/wrist-trainer.json"), encoding: .utf8)
        text = text.replacingOccurrences(of: "\"rated_torque_nm\": 4.0", with: "\"rated_torque\": 4.0")
        try text.write(toFile: invalid, atomically: true, encoding: .utf8)
        let run = try ProgramRun.run("rehabctl", ["demo", "--profile", invalid])
        XCTAssertEqual(run.exitCode, 65)
        XCTAssertTrue(run.standardError.contains("joints[0].rated_torque: numbers carry their unit"), run.standardError)
        let sim = try ProgramRun.run("rehabsim", ["--profile", invalid])
        XCTAssertEqual(sim.exitCode, 65, "the simulator refuses the same profile")
    }

    /// A profile's protocol is the driver registry's business: one this build does not speak, or
    /// protocol fields its driver refuses, are a configuration error before anything starts.
    func testAProfileInAProtocolThisBuildDoesNotSpeakIsAConfigurationError() throws {
        let path = NSTemporaryDirectory() + "rehabhost-protocol-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let original = try String(contentsOf: RepositoryPaths.file("hardware/wrist-trainer.json"), encoding: .utf8)
        for (replacement, expected) in [
            (#""protocol": "canopen/402","#, #""canopen/402" is not a protocol this build speaks (supported: "rehablink/1", "dynamixel/2.0")"#),
            (#""protocol": "dynamixel/2.0","#, "device.dynamixel: missing: a Dynamixel profile names its servos"),
            (#""protocol": "rehablink/1", "rehablink": {"node_id": 3},"#, "device.rehablink: RehabLink has no fields of its own"),
        ] {
            try original.replacingOccurrences(of: #""protocol": "rehablink/1","#, with: replacement).write(toFile: path, atomically: true, encoding: .utf8)
            let run = try ProgramRun.run("rehabctl", ["demo", "--profile", path, "--record", "none"])
            XCTAssertEqual(run.exitCode, 78, run.standardError)
            XCTAssertTrue(run.standardError.contains(expected), run.standardError)
            XCTAssertFalse(run.standardError.contains("simulated wrist-trainer"), "refused before the simulator started")
        }
        let malformed = original.replacingOccurrences(of: #""protocol": "rehablink/1","#, with: #""protocol": "RehabLink v1","#)
        try malformed.write(toFile: path, atomically: true, encoding: .utf8)
        let run = try ProgramRun.run("rehabctl", ["demo", "--profile", path])
        XCTAssertEqual(run.exitCode, 65, run.standardError)
        XCTAssertTrue(run.standardError.contains(#"device.protocol: expected "family/version""#), run.standardError)
    }

    func testMissingPortIsUnavailableAndNamesThePortAndTheRemedy() throws {
        let run = try ProgramRun.run("rehabctl", ["identify", "--port", "/dev/ttyRehabHostMissing9"])
        XCTAssertEqual(run.exitCode, 69)
        XCTAssertTrue(run.standardError.contains("/dev/ttyRehabHostMissing9: no such port"), run.standardError)
        XCTAssertTrue(run.standardError.contains("rehabctl devices"))
        let notATerminal = try ProgramRun.run("rehabctl", ["identify", "--port", "/dev/null"])
        XCTAssertEqual(notATerminal.exitCode, 69)
        XCTAssertTrue(notATerminal.standardError.contains("not a serial port"), notATerminal.standardError)
    }

    func testAPortHeldByAnotherProcessIsBusy() throws {
        let pty = try PseudoTerminal()
        let holder = try SerialPort(path: pty.slavePath)
        defer { holder.close() }
        let run = try ProgramRun.run("rehabctl", ["identify", "--port", pty.slavePath])
        XCTAssertEqual(run.exitCode, 75)
        XCTAssertTrue(run.standardError.contains("busy"), run.standardError)
        XCTAssertTrue(run.standardError.contains("pid \(getpid())"), "names the holder: \(run.standardError)")
    }

    func testADeviceThatNeverAnswersIsUnavailableWithinASecond() throws {
        let pty = try PseudoTerminal()  // nobody answers on the master side
        let started = Date()
        let run = try ProgramRun.run("rehabctl", ["identify", "--port", pty.slavePath])
        XCTAssertEqual(run.exitCode, 69)
        XCTAssertTrue(run.standardError.contains("no answer to IDENTIFY"), run.standardError)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "three 200 ms attempts, not a hang")
    }

    func testPermissionDeniedOnAPortNamesTheDialoutGroup() throws {
        // A pseudo-terminal belongs to its creator (mode 0620); another user may not open it. As root
        // the check drops to user "nobody" with setpriv (util-linux), which every Debian has.
        guard getuid() == 0 else {
            let run = try ProgramRun.run("rehabctl", ["identify", "--port", "/dev/ttyS0"])
            if access("/dev/ttyS0", R_OK | W_OK) != 0 && FileManager.default.fileExists(atPath: "/dev/ttyS0") {
                XCTAssertEqual(run.exitCode, 77)
            }
            return
        }
        let pty = try PseudoTerminal()
        let run = try ProgramRun.run(
            "/usr/bin/setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", RepositoryPaths.product("rehabctl").path, "identify", "--port", pty.slavePath])
        XCTAssertEqual(run.exitCode, 77, run.standardError)
        XCTAssertTrue(run.standardError.contains("permission denied"), run.standardError)
        XCTAssertTrue(run.standardError.contains("dialout"), run.standardError)
    }

    func testRealtimeTuningScriptReportsAndRefusesWhatItCannotDo() throws {
        let script = RepositoryPaths.file("scripts/rt-tune.sh").path
        let status = try ProgramRun.run(script, ["status"])
        XCTAssertEqual(status.exitCode, 0, status.standardError)
        XCTAssertTrue(status.standardOutput.contains("unbound workqueue cpumask:"), status.standardOutput)
        let badCPU = try ProgramRun.run(script, ["apply", "4096"])
        XCTAssertNotEqual(badCPU.exitCode, 0, "no such CPU")
        XCTAssertEqual(try ProgramRun.run(script, ["bogus"]).exitCode, 64)
        if getuid() == 0 {
            let unprivileged = try ProgramRun.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", script, "apply"])
            XCTAssertEqual(unprivileged.exitCode, 77, unprivileged.standardError)
            XCTAssertTrue(unprivileged.standardError.contains("needs root"))
        }
    }

    func testEveryShellScriptParses() throws {
        for script in ["scripts/setup.sh", "scripts/rt-tune.sh", "scripts/demo.sh", ".ci/run"] {
            let run = try ProgramRun.run("/bin/bash", ["-n", RepositoryPaths.file(script).path])
            XCTAssertEqual(run.exitCode, 0, "\(script): \(run.standardError)")
        }
    }

    func testDevicesListsPortsOrSaysThereAreNone() throws {
        let run = try ProgramRun.run("rehabctl", ["devices"])
        XCTAssertEqual(run.exitCode, 0, run.standardError)
        XCTAssertTrue(run.standardOutput.hasPrefix("Serial ports:"))
        XCTAssertTrue(run.standardOutput.contains("USB devices:"))
        let listed = try SerialPortEnumerator.list()
        if listed.isEmpty {
            XCTAssertTrue(run.standardOutput.contains("none found"))
        } else {
            for port in listed { XCTAssertTrue(run.standardOutput.contains(port.path), port.path) }
        }
        let json = try ProgramRun.run("rehabctl", ["devices", "--json"])
        XCTAssertEqual(json.exitCode, 0)
        let document = try JSONParser.parse(json.standardOutput)
        XCTAssertEqual(document.objectValue?["serial_ports"]?.arrayValue?.count, listed.count)
    }
}
