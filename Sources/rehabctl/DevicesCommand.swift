import CommandLineSupport
import Foundation
import Profiles
import StrictJSON
import Transport

/// `rehabctl devices`: what is plugged in, with stable names and the matching profile.
enum DevicesCommand {
    static let spec = CommandSpec(
        program: "rehabctl", name: "devices",
        summary: "List serial ports and USB devices, and which hardware profile matches each.",
        discussion: """
            Serial ports come from libserialport (USB VID:PID, serial number, manufacturer, product) and
            libudev (stable /dev/serial/by-id names, driver). Use the stable name with --port: /dev/ttyUSB0
            can change when devices are re-plugged. A profile matches when its device.usb_vendor_id and
            device.usb_product_id equal the port's; every matching profile is proposed (one adapter chip
            may serve several devices). Known adapters are named (an FT232H is a ROBOTIS U2D2: a
            Dynamixel bus). FTDI adapters show their latency timer: 1 ms is needed for a 1 kHz loop
            (hardware/udev/99-rehabhost.rules sets it).
            """,
        options: [.init("--json", help: "Print one JSON object instead of text.")],
        examples: ["rehabctl devices", "rehabctl devices --json"])

    static func run(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        let profiles = loadProfiles()
        let trackerProfiles = loadTrackerProfiles()
        let ports: [SerialPortInfo]
        do {
            ports = try SerialPortEnumerator.list()
        } catch {
            throw CommandFailure("rehabctl devices: \(error)", exitCode: error.exitCode)
        }
        var usbDevices: [USBDeviceInfo] = []
        var usbProblem: String?
        do {
            usbDevices = try USBDeviceEnumerator.list()
        } catch {
            usbProblem = error.description
        }
        if parsed.flag("--json") {
            Terminal.printLine(json(ports: ports, usb: usbDevices, usbProblem: usbProblem, profiles: profiles).serialized(pretty: true))
            return .success
        }
        var lines = ["Serial ports:"]
        if ports.isEmpty { lines.append("  none found (no /dev/ttyUSB*, /dev/ttyACM* or /dev/ttyS* with a driver)") }
        for port in ports {
            var head = "  \(port.path)  \(port.kind.rawValue)"
            if let vendor = port.usbVendorID, let product = port.usbProductID { head += " \(hex(vendor)):\(hex(product))" }
            let names = [port.usbManufacturer, port.usbProduct].compactMap { $0 }.joined(separator: " ")
            if !names.isEmpty { head += " \"\(names)\"" } else if let description = port.description { head += " (\(description))" }
            if let serial = port.usbSerialNumber { head += " s/n \(serial)" }
            if let driver = port.driver { head += ", driver \(driver)" }
            lines.append(head)
            if let vendor = port.usbVendorID, let product = port.usbProductID,
                let known = USBDeviceCatalog.entry(vendorID: vendor, productID: product, productName: port.usbProduct)
            {
                lines.append("      recognised: \(known.name)")
            }
            if let vendor = port.usbVendorID, let product = port.usbProductID {
                let trackers = USBDeviceCatalog.trackerProfiles(vendorID: vendor, productID: product, in: trackerProfiles)
                if !trackers.isEmpty { lines.append("      tracker profile: " + trackers.map { "\($0.name) (rehabctl track --port \(port.preferredPath) --profile \($0.name))" }.joined(separator: ", ")) }
            }
            for link in port.stableLinks { lines.append("      stable name: \(link)") }
            if let latency = port.latencyTimerMilliseconds {
                lines.append("      latency timer: \(latency) ms" + (latency > 1 ? " (set it to 1 ms for a 1 kHz loop: see hardware/udev/99-rehabhost.rules)" : ""))
            }
            let matching = match(port, profiles)
            lines.append("      profile: " + (matching.isEmpty ? "none matches" : matching.map { "\($0.name) (\($0.sourcePath))" }.joined(separator: ", ")))
        }
        lines.append("USB devices:")
        if let usbProblem {
            lines.append("  \(usbProblem)")
        } else if usbDevices.isEmpty {
            lines.append("  none found")
        }
        for device in usbDevices {
            var line = "  bus \(device.bus) port \(device.sysfsName) address \(device.address): \(hex(device.vendorID)):\(hex(device.productID))"
            let names = [device.manufacturer, device.product].compactMap { $0 }.joined(separator: " ")
            if !names.isEmpty { line += " \"\(names)\"" }
            if let serial = device.serialNumber { line += " s/n \(serial)" }
            if let known = USBDeviceCatalog.entry(vendorID: device.vendorID, productID: device.productID, productName: device.product) { line += " — \(known.name)" }
            let matching = USBDeviceCatalog.profiles(vendorID: device.vendorID, productID: device.productID, in: profiles)
            if !matching.isEmpty { line += "  → profile " + matching.map(\.name).joined(separator: ", ") }
            lines.append(line)
        }
        Terminal.printLine(lines.joined(separator: "\n"))
        return .success
    }

    /// Every valid profile in the search folders (invalid ones are reported on standard error).
    static func loadProfiles() -> [HardwareProfile] {
        var profiles: [HardwareProfile] = []
        for folder in ProfileSearch.folders() {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for file in files.sorted() where file.hasSuffix(".json") {
                do {
                    profiles.append(try HardwareProfileLoader.load(path: folder + "/" + file))
                } catch {
                    Terminal.printError("rehabctl devices: skipping an invalid profile: \(error)")
                }
            }
        }
        return profiles
    }

    /// Every valid tracker profile in the search folders' `trackers/` (invalid ones reported on standard error).
    static func loadTrackerProfiles() -> [TrackerProfile] {
        var profiles: [TrackerProfile] = []
        for folder in ProfileSearch.folders().map({ $0 + "/trackers" }) {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for file in files.sorted() where file.hasSuffix(".json") {
                do {
                    profiles.append(try TrackerProfileLoader.load(path: folder + "/" + file))
                } catch {
                    Terminal.printError("rehabctl devices: skipping an invalid tracker profile: \(error)")
                }
            }
        }
        return profiles
    }

    static func match(_ port: SerialPortInfo, _ profiles: [HardwareProfile]) -> [HardwareProfile] {
        guard let vendor = port.usbVendorID, let product = port.usbProductID else { return [] }
        return USBDeviceCatalog.profiles(vendorID: vendor, productID: product, in: profiles)
    }

    static func json(ports: [SerialPortInfo], usb: [USBDeviceInfo], usbProblem: String?, profiles: [HardwareProfile]) -> JSONValue {
        func optional(_ text: String?) -> JSONValue { text.map { .string($0) } ?? .null }
        var object: JSONObject = [
            "serial_ports": .array(
                ports.map { port in
                    .object([
                        "path": .string(port.path), "stable_path": .string(port.preferredPath), "kind": .string(port.kind.rawValue),
                        "description": optional(port.description),
                        "usb_vendor_id": optional(port.usbVendorID.map(hex)), "usb_product_id": optional(port.usbProductID.map(hex)),
                        "serial_number": optional(port.usbSerialNumber), "manufacturer": optional(port.usbManufacturer),
                        "product": optional(port.usbProduct), "stable_links": .array(port.stableLinks.map { .string($0) }),
                        "driver": optional(port.driver),
                        "latency_timer_ms": port.latencyTimerMilliseconds.map { .int($0) } ?? .null,
                        "profile": optional(match(port, profiles).first?.name),
                        "profiles": .array(match(port, profiles).map { .string($0.name) }),
                        "recognised_as": optional(port.usbVendorID.flatMap { vendor in
                            port.usbProductID.flatMap { USBDeviceCatalog.entry(vendorID: vendor, productID: $0, productName: port.usbProduct)?.name }
                        }),
                    ])
                }),
            "usb_devices": .array(
                usb.map { device in
                    .object([
                        "bus": .int(device.bus), "address": .int(device.address), "port_path": .string(device.sysfsName),
                        "vendor_id": .string(hex(device.vendorID)), "product_id": .string(hex(device.productID)),
                        "manufacturer": optional(device.manufacturer), "product": optional(device.product),
                        "serial_number": optional(device.serialNumber),
                        "recognised_as": optional(USBDeviceCatalog.entry(vendorID: device.vendorID, productID: device.productID, productName: device.product)?.name),
                        "profiles": .array(USBDeviceCatalog.profiles(vendorID: device.vendorID, productID: device.productID, in: profiles).map { .string($0.name) }),
                    ])
                }),
        ]
        if let usbProblem { object["usb_error"] = .string(usbProblem) }
        return .object(object)
    }

    static func hex(_ value: UInt16) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}
