import CommandLineSupport
import DeviceModel
import Devices
import Platform
import Primitives
import Profiles
import Session
import StrictJSON
import Transport

/// `rehabctl identify`: who is on this port, and is it the robot of this profile?
enum IdentifyCommand {
    static let spec = CommandSpec(
        program: "rehabctl", name: "identify",
        summary: "Ask a device who it is (its protocol's identify request), and check it against a profile.",
        discussion: """
            Opens the port exclusively, asks the device to identify itself in its protocol (the
            profile's, or --protocol) and prints the model, serial number, firmware and
            each joint's ratings. With --profile it also runs the identity self-test (SR-17) and exits
            with 78 when the device is not the robot the profile describes. Nothing is enabled.
            """,
        options: [
            .init("--port", value: "PATH", help: "Serial port or pseudo-terminal (see `rehabctl devices`)."),
            .init("--profile", value: "NAME|PATH", help: "Check the device against this hardware profile."),
            .init("--protocol", value: "NAME", help: "The device's protocol without a profile (supported: \(DriverRegistry.standard.supportedProtocols.joined(separator: ", "))). (default: rehablink/1)"),
            .init("--baud", value: "BPS", help: "Baud rate; default: the profile's, else 2000000."),
            .init("--json", help: "Print one JSON object instead of text."),
        ],
        examples: ["rehabctl identify --port /dev/serial/by-id/usb-RehabHost_RH-WRIST-2_0042-if00 --profile wrist-trainer"])

    static func run(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        guard let port = parsed.string("--port") else { throw parsed.usageError("--port is required") }
        var profile: HardwareProfile?
        if let name = parsed.string("--profile") {
            profile = try DrivableProfile.load(name, command: "identify")
        }
        let protocolIdentifier = parsed.string("--protocol") ?? profile?.device.protocolIdentifier ?? "rehablink/1"
        if let profile, protocolIdentifier != profile.device.protocolIdentifier {
            throw parsed.usageError("--protocol \(protocolIdentifier) contradicts profile \(profile.name) (\(profile.device.protocolIdentifier)); give one of them")
        }
        guard DriverRegistry.standard.supportedProtocols.contains(protocolIdentifier) else {
            throw parsed.usageError(
                "--protocol: \"\(protocolIdentifier)\" is not a protocol this build speaks (supported: \(DriverRegistry.standard.supportedProtocols.joined(separator: ", ")))")
        }
        let baud = try parsed.integer("--baud", default: profile?.device.baudRateBitsPerSecond ?? 2_000_000, in: 300...12_000_000, unit: "bit/s")!
        let serial: SerialPort
        do {
            serial = try SerialPort(path: port, options: .init(baudRateBitsPerSecond: baud))
        } catch {
            throw CommandFailure("rehabctl identify: \(error)", exitCode: error.exitCode)
        }
        defer { serial.close() }
        let driver: any ActuatedDevice
        do {
            if let profile {
                driver = try DriverRegistry.standard.makeActuatedDevice(for: profile, link: serial)
            } else {
                driver = try DriverRegistry.standard.makeActuatedDevice(protocolIdentifier: protocolIdentifier, link: serial)
            }
        } catch {
            throw CommandFailure("rehabctl identify: \(error)", exitCode: .configuration)
        }
        let identity: DeviceIdentityInfo
        do {
            identity = try driver.identify()
        } catch {
            throw CommandFailure("rehabctl identify: \(error)", exitCode: error.exitCode)
        }
        let problems = profile.map { SelfTest.identityProblems(identity, profile: $0, resolution: driver.capabilities) } ?? []
        if parsed.flag("--json") {
            var object: JSONObject = [
                "port": .string(port), "model": .string(identity.model), "serial_number": .string(identity.serialNumber),
                "firmware": .string(identity.firmware), "protocol_version": .int(identity.protocolVersion),
                "joints": .array(
                    identity.joints.map { joint in
                        .object([
                            "position_min_rad": joint.hardLimitsKnown ? .number(joint.positionMinimumRadians) : .null,
                            "position_max_rad": joint.hardLimitsKnown ? .number(joint.positionMaximumRadians) : .null,
                            "velocity_max_rad_per_s": .number(joint.velocityMaximumRadiansPerSecond),
                            "torque_max_nm": .number(joint.torqueMaximumNewtonMeters),
                            "encoder_counts_per_rev": .int(joint.encoderCountsPerRevolution),
                        ])
                    }),
            ]
            if let profile {
                object["profile"] = .string(profile.name)
                object["profile_matches"] = .bool(problems.isEmpty)
                object["profile_problems"] = .array(problems.map { .string($0) })
            }
            Terminal.printLine(JSONValue.object(object).serialized(pretty: true))
        } else {
            var lines = ["\(port): \(identity.model), serial \(identity.serialNumber), firmware \(identity.firmware), \(protocolIdentifier.split(separator: "/").first.map(String.init) ?? protocolIdentifier) v\(identity.protocolVersion), \(identity.joints.count) joint\(identity.joints.count == 1 ? "" : "s")"]
            for (index, joint) in identity.joints.enumerated() {
                let name = profile.flatMap { index < $0.joints.count ? " \($0.joints[index].name)" : nil } ?? ""
                lines.append(
                    "  joint \(index)\(name): "
                        + (joint.hardLimitsKnown
                            ? "\(degrees(joint.positionMinimumRadians))…\(degrees(joint.positionMaximumRadians))°, " : "hard limits not known to the device, ")
                        + "\(joint.velocityMaximumRadiansPerSecond) rad/s, \(joint.torqueMaximumNewtonMeters) N·m, \(joint.encoderCountsPerRevolution) counts/rev")
            }
            if let profile {
                if problems.isEmpty {
                    lines.append("  profile \(profile.name): matches")
                } else {
                    lines.append("  profile \(profile.name): DOES NOT MATCH")
                    lines += problems.map { "    " + $0 }
                }
            }
            Terminal.printLine(lines.joined(separator: "\n"))
        }
        return problems.isEmpty ? .success : .configuration
    }

    static func degrees(_ radians: Double) -> String {
        let value = (Units.degrees(fromRadians: radians) * 10).rounded() / 10
        return String(value)
    }
}
