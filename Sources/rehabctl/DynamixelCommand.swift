import CommandLineSupport
import Devices
import Platform
import Primitives
import StrictJSON
import Transport
import Wire

/// `rehabctl dynamixel`: a Dynamixel Protocol 2.0 bus by hand, as the vendor's wizard does it: find
/// the servos at every baud rate, read and write control-table fields by name, in SI units.
enum DynamixelCommand {
    static let baudRates = [57_600, 1_000_000, 2_000_000, 3_000_000, 4_000_000, 4_500_000, 115_200, 9_600]

    static let spec = CommandSpec(
        program: "rehabctl", name: "dynamixel",
        summary: "Find Dynamixel servos on a bus, read and write their control table.",
        discussion: """
            scan     pings every ID (broadcast ping) at each baud rate and lists what answers: ID,
                     model number, firmware version, and the baud rate it was found at.
            read     reads FIELD of servo --id, printed in SI units (and the raw value).
            write    writes VALUE to FIELD of servo --id (SI units unless --raw) and reads it back.
            fields   lists the control-table fields: address, size, access, area, unit.
            reboot   reboots servo --id: the one way to clear a hardware error its Shutdown latched
                     (overload, overheating, input voltage …). The servo comes back with torque off
                     and its RAM at power-up values; the hardware error status before and after is
                     printed, and a fault that is still there (a supply still out of range) exits 3.
                     A session never does this by itself: a device fault is the operator's to clear.
            Fields are named as in the e-Manual's XM430-W350 table, in snake case (present_position,
            goal_current, bus_watchdog …; protocols/dynamixel/README.md §6.2). EEPROM fields (below
            address 64) can only be written with torque off; the servo answers Access Error otherwise.
            Writes that can make a servo move (torque_enable 1 and the Goal fields) are refused
            unless --allow-motion is given: nothing here watches a patient. A servo that refuses
            exits with 3, one that does not answer with 69.
            """,
        options: [
            .init("--port", value: "PATH", help: "Serial port of the bus adapter (U2D2, FTDI) or rehabsim's pseudo-terminal."),
            .init("--baud", value: "BPS[,BPS…]", help: "Baud rate(s); scan default: all X-series rates; read/write default: 4000000."),
            .init("--id", value: "N", help: "Servo ID, 0 to 252 (read, write, reboot)."),
            .init("--raw", help: "Values as the control table holds them (integers), not in SI units."),
            .init("--allow-motion", help: "Permit writes that can make the servo move (torque_enable 1, goal_*)."),
            .init("--timeout-ms", value: "MS", help: "Reply timeout per instruction.", default: "100"),
            .init("--json", help: "Print JSON instead of text."),
        ],
        positionals: [
            .init("ACTION", help: "scan, read, write, fields or reboot"),
            .init("FIELD", help: "A control-table field (read, write).", optional: true),
            .init("VALUE", help: "The value to write.", optional: true),
        ],
        examples: [
            "rehabctl dynamixel scan --port /dev/ttyUSB0",
            "rehabctl dynamixel read --port /dev/ttyUSB0 --id 1 present_position",
            "rehabctl dynamixel write --port /dev/ttyUSB0 --id 1 return_delay_time 0 --raw",
            "rehabctl dynamixel reboot --port /dev/ttyUSB0 --id 2",
        ])

    static func run(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        let action = parsed.positionals[0]
        switch action {
        case "fields":
            guard parsed.positionals.count == 1 else { throw parsed.usageError("fields takes no FIELD or VALUE") }
            return fields(json: parsed.flag("--json"))
        case "scan":
            guard parsed.positionals.count == 1 else { throw parsed.usageError("scan takes no FIELD or VALUE") }
            return try scan(parsed)
        case "read", "write":
            return try readOrWrite(parsed, writing: action == "write")
        case "reboot":
            guard parsed.positionals.count == 1 else { throw parsed.usageError("reboot takes no FIELD or VALUE") }
            return try reboot(parsed)
        default:
            throw parsed.usageError("ACTION must be scan, read, write, fields or reboot, not \"\(action)\"")
        }
    }

    // MARK: Actions

    private static func fields(json: Bool) -> ExitCode {
        let items = Dynamixel.ControlTable.items.filter { !$0.name.hasPrefix("indirect_") }
        if json {
            let list: [JSONValue] = items.map { item in
                var object: JSONObject = [
                    "name": .string(item.name), "address": .int(item.address), "size": .int(item.size),
                    "access": .string(item.isWritable ? "RW" : "R"), "area": .string(item.isEEPROM ? "EEPROM" : "RAM"),
                    "min": .int(Int(item.minimum)), "max": .int(Int(item.maximum)),
                ]
                if let unit = item.siUnit {
                    object["unit"] = .string(unit.symbol)
                    object["unit_per_raw"] = .number(unit.factor)
                }
                return .object(object)
            }
            Terminal.printLine(JSONValue.array(list).serialized(pretty: true))
        } else {
            Terminal.printLine("field                    addr size access area    unit (per raw step)")
            for item in items {
                let unit = item.siUnit.map { "\($0.symbol) (\(formatted($0.factor)))" } ?? "—"
                Terminal.printLine(
                    item.name.padding(toLength: 25, withPad: " ", startingAt: 0) + String(item.address).padding(toLength: 5, withPad: " ", startingAt: 0)
                        + String(item.size).padding(toLength: 5, withPad: " ", startingAt: 0)
                        + (item.isWritable ? "RW" : "R").padding(toLength: 7, withPad: " ", startingAt: 0)
                        + (item.isEEPROM ? "EEPROM" : "RAM").padding(toLength: 8, withPad: " ", startingAt: 0) + unit)
            }
            Terminal.printLine("(and indirect_address_1 … 56, indirect_data_1 … 56)")
        }
        return .success
    }

    private static func scan(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        let port = try requiredPort(parsed)
        let rates = try parsedRates(parsed, default: baudRates)
        let timeout = try replyTimeout(parsed)
        var found: [(reply: DynamixelBusClient.PingReply, baud: Int)] = []
        for rate in rates {
            let client = try open(port, baud: rate, timeout: timeout)
            defer { (client.link as? SerialPort)?.close() }
            // Every servo answers after the one before it: 253 replies of 14 bytes each and the default
            // Return Delay Time of 500 µs, plus the reply timeout for the adapter's latency.
            let window = Int64(253 * 14 * 10) * Nanoseconds.perSecond / Int64(rate) + 253 * 500_000 + timeout
            do {
                for reply in try client.broadcastPing(windowNanoseconds: window) { found.append((reply, rate)) }
            } catch {
                throw failure(error)
            }
        }
        if parsed.flag("--json") {
            var servos: [JSONValue] = []
            for (reply, baud) in found {
                let servo: JSONObject = [
                    "id": .int(Int(reply.id)), "model_number": .int(Int(reply.modelNumber)), "model": .string(modelName(reply.modelNumber)),
                    "firmware_version": .int(Int(reply.firmwareVersion)), "baud_rate_bps": .int(baud), "alert": .bool(reply.alert),
                ]
                servos.append(.object(servo))
            }
            let object: JSONObject = ["port": .string(port), "servos": .array(servos)]
            Terminal.printLine(JSONValue.object(object).serialized(pretty: true))
        } else if found.isEmpty {
            Terminal.printError("rehabctl dynamixel scan: no servo answered on \(port) at \(rates.map(String.init).joined(separator: ", ")) bit/s")
        } else {
            for (reply, baud) in found {
                Terminal.printLine("id \(reply.id): \(modelName(reply.modelNumber)) (model \(reply.modelNumber)), firmware \(reply.firmwareVersion), \(baud) bit/s"
                                   + (reply.alert ? "; ALERT: a hardware error is latched (read hardware_error_status)" : ""))
            }
        }
        return found.isEmpty ? .unavailable : .success
    }

    private static func readOrWrite(_ parsed: ParsedArguments, writing: Bool) throws(CommandFailure) -> ExitCode {
        let action = writing ? "write" : "read"
        guard parsed.positionals.count == (writing ? 3 : 2) else {
            throw parsed.usageError(writing ? "write takes FIELD and VALUE" : "read takes FIELD (and no VALUE)")
        }
        let name = parsed.positionals[1]
        guard let item = Dynamixel.ControlTable.item(named: name) else {
            let near = Dynamixel.ControlTable.items.map(\.name).filter { $0.contains(name) || name.contains($0) }.prefix(4)
            throw parsed.usageError("no control-table field \"\(name)\"" + (near.isEmpty ? "" : "; did you mean \(near.joined(separator: ", "))?")
                                    + " (rehabctl dynamixel fields lists them)")
        }
        guard let idValue = try parsed.integer("--id", default: nil, in: 0...252, unit: "(servo ID)") else {
            throw parsed.usageError("--id is required for \(action)")
        }
        let id = UInt8(idValue)
        let raw = parsed.flag("--raw")
        let port = try requiredPort(parsed)
        let rates = try parsedRates(parsed, default: [4_000_000])
        guard rates.count == 1 else { throw parsed.usageError("--baud: \(action) takes one rate") }
        let client = try open(port, baud: rates[0], timeout: try replyTimeout(parsed))
        defer { (client.link as? SerialPort)?.close() }
        if writing {
            let text = parsed.positionals[2]
            guard item.isWritable else { throw parsed.usageError("\(name) is read-only") }
            let value = try rawValue(text, for: item, raw: raw, parsed: parsed)
            let movesServo = item.isGoal || (item.name == "torque_enable" && value != 0)
            if movesServo && !parsed.flag("--allow-motion") {
                throw parsed.usageError("writing \(name) \(text) can make servo \(id) move; give --allow-motion if nothing and nobody is in its way")
            }
            do {
                try client.write(id: id, address: item.address, bytes: bytes(of: value, size: item.size))
            } catch {
                throw failure(error)
            }
        }
        let value: Int64
        let alert: Bool
        do {
            let reply = try client.read(id: id, address: item.address, length: item.size)
            value = integer(from: reply.bytes, signed: item.isSigned)
            alert = reply.alert
        } catch {
            throw failure(error)
        }
        let si = item.siUnit.map { Double(value) * $0.factor }
        if parsed.flag("--json") {
            var object: JSONObject = ["id": .int(Int(id)), "field": .string(name), "address": .int(item.address), "raw": .int(Int(value)),
                                      "alert": .bool(alert)]
            if let si, let unit = item.siUnit {
                object["value"] = .number(si)
                object["unit"] = .string(unit.symbol)
            }
            Terminal.printLine(JSONValue.object(object).serialized(pretty: true))
        } else {
            let shown = si.map { "\(formatted($0)) \(item.siUnit!.symbol) (raw \(value))" } ?? "\(value)"
            Terminal.printLine("id \(id) \(name) = \(shown)" + (writing ? " (written and read back)" : "")
                               + (alert ? "; ALERT: a hardware error is latched" : ""))
        }
        return .success
    }

    /// Reboot (README §5.7), then waits for the servo to answer a ping again and reads what is latched.
    private static func reboot(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        guard let idValue = try parsed.integer("--id", default: nil, in: 0...252, unit: "(servo ID)") else {
            throw parsed.usageError("--id is required for reboot")
        }
        let id = UInt8(idValue)
        let port = try requiredPort(parsed)
        let rates = try parsedRates(parsed, default: [4_000_000])
        guard rates.count == 1 else { throw parsed.usageError("--baud: reboot takes one rate") }
        let client = try open(port, baud: rates[0], timeout: try replyTimeout(parsed))
        defer { (client.link as? SerialPort)?.close() }
        let status = Dynamixel.ControlTable.hardwareErrorStatus
        let before: UInt8
        do {
            before = try client.read(id: id, address: status, length: 1).bytes[0]
            try client.reboot(id: id)
        } catch {
            throw failure(error)
        }
        // The servo answers the Reboot before it restarts, then is deaf while it boots.
        let deadline = MonotonicClock.now().advanced(byNanoseconds: 3 * Nanoseconds.perSecond)
        var after: UInt8?
        while after == nil && MonotonicClock.now() < deadline {
            after = try? client.read(id: id, address: status, length: 1).bytes[0]
        }
        guard let after else {
            throw CommandFailure("rehabctl dynamixel: servo \(id) did not answer within 3 s of its reboot", exitCode: .unavailable)
        }
        if parsed.flag("--json") {
            let object: JSONObject = [
                "id": .int(Int(id)), "hardware_error_status_before": .int(Int(before)), "hardware_error_status_after": .int(Int(after)),
                "errors_before": .array(errorNames(before).map { .string($0) }), "errors_after": .array(errorNames(after).map { .string($0) }),
            ]
            Terminal.printLine(JSONValue.object(object).serialized(pretty: true))
        } else {
            let described = { (byte: UInt8) in byte == 0 ? "none" : errorNames(byte).joined(separator: ", ") }
            Terminal.printLine("id \(id) rebooted: hardware errors before \(described(before)), after \(described(after)); torque off, RAM at power-up values")
        }
        if after != 0 {
            Terminal.printError("rehabctl dynamixel: servo \(id) latched \(errorNames(after).joined(separator: ", ")) again after its reboot: the cause is still there")
            return .refused
        }
        return .success
    }

    /// The names of the bits set in a Hardware Error Status byte ("overload (0x20)").
    private static func errorNames(_ byte: UInt8) -> [String] {
        (0..<8).map { UInt8(1) << $0 }.filter { byte & $0 != 0 }.map { Dynamixel.HardwareError.description($0) }
    }

    // MARK: Helpers

    private static func requiredPort(_ parsed: ParsedArguments) throws(CommandFailure) -> String {
        guard let port = parsed.string("--port") else { throw parsed.usageError("--port is required (see `rehabctl devices`)") }
        return port
    }

    private static func parsedRates(_ parsed: ParsedArguments, default rates: [Int]) throws(CommandFailure) -> [Int] {
        guard let text = parsed.string("--baud") else { return rates }
        var list: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let rate = Int(part), baudRates.contains(rate) else {
                throw parsed.usageError("--baud: \"\(part)\" is not an X-series rate (\(baudRates.sorted().map(String.init).joined(separator: ", ")))")
            }
            if !list.contains(rate) { list.append(rate) }
        }
        return list
    }

    private static func replyTimeout(_ parsed: ParsedArguments) throws(CommandFailure) -> Int64 {
        Int64(try parsed.integer("--timeout-ms", default: 100, in: 1...10_000, unit: "ms")!) * Nanoseconds.perMillisecond
    }

    private static func open(_ port: String, baud: Int, timeout: Int64) throws(CommandFailure) -> DynamixelBusClient {
        do {
            let serial = try SerialPort(path: port, options: .init(baudRateBitsPerSecond: baud))
            return DynamixelBusClient(link: serial, replyTimeoutNanoseconds: timeout)
        } catch {
            throw CommandFailure("rehabctl dynamixel: \(error)", exitCode: error.exitCode)
        }
    }

    private static func failure(_ error: DynamixelBusError) -> CommandFailure {
        let code: ExitCode
        switch error {
        case .noReply: code = .unavailable
        case .refused: code = .refused
        case .unexpectedReply: code = .protocolError
        case .link(let transport): code = transport.exitCode
        }
        return CommandFailure("rehabctl dynamixel: \(error)", exitCode: code)
    }

    /// The raw integer of `text` for `item`: SI units through its unit unless `raw`, within its range.
    private static func rawValue(_ text: String, for item: Dynamixel.ControlTable.Item, raw: Bool, parsed: ParsedArguments) throws(CommandFailure) -> Int64 {
        let value: Int64
        if raw || item.siUnit == nil {
            guard let integer = Int64(text) else { throw parsed.usageError("VALUE \"\(text)\" is not a whole number (\(item.name) takes raw integers)") }
            value = integer
        } else {
            guard let number = Double(text), number.isFinite, let unit = item.siUnit else {
                throw parsed.usageError("VALUE \"\(text)\" is not a number in \(item.siUnit?.symbol ?? "")")
            }
            let steps = (number / unit.factor).rounded()
            guard abs(steps) < 1e15 else { throw parsed.usageError("VALUE \(text) \(unit.symbol) is far outside \(item.name)'s range") }
            value = Int64(steps)
        }
        guard value >= item.minimum && value <= item.maximum else {
            let unit = item.siUnit.map { " (\(formatted(Double(item.minimum) * $0.factor)) … \(formatted(Double(item.maximum) * $0.factor)) \($0.symbol))" } ?? ""
            throw parsed.usageError("\(item.name) takes \(item.minimum) … \(item.maximum) raw\(unit); \(text) is raw \(value)")
        }
        return value
    }

    private static func bytes(of value: Int64, size: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    private static func integer(from bytes: [UInt8], signed: Bool) -> Int64 {
        var value: UInt64 = 0
        for (index, byte) in bytes.enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
        guard signed, let top = bytes.last, top & 0x80 != 0 else { return Int64(value) }
        return Int64(value) - (Int64(1) << (8 * Int64(bytes.count)))
    }

    private static func modelName(_ number: UInt16) -> String {
        switch number {
        case 1020: "XM430-W350"
        case 1030: "XM430-W210"
        case 1060: "XL430-W250"
        case 1120: "XM540-W270"
        default: "model \(number)"
        }
    }

    private static func formatted(_ value: Double) -> String {
        let rounded = (value * 1e6).rounded() / 1e6
        return rounded == rounded.rounded() && abs(rounded) < 1e15 ? String(Int64(rounded)) : String(rounded)
    }
}
