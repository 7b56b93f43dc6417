import Profiles
import SimulatorKit
import Wire

/// A fault to inject into a simulated Dynamixel bus or its link (SimulatorKit's `ScheduledFault` with the bus's
/// device-level faults).
public typealias DynamixelInjectedFault = ScheduledFault<DynamixelDeviceFault>

/// The in-process virtual-time link to a simulated Dynamixel bus.
public typealias DynamixelInProcessLink = InProcessDeviceLink<SimulatedDynamixelBus>

/// The device-level faults a simulated Dynamixel bus understands, each on the servo with ID `id` (the link's faults
/// are SimulatorKit's `LinkFault`: drop, corrupt, delay, unplug). The hardware errors latch as README §6.4 says and
/// stay until a reboot; the others last while injected.
///
/// Script form (simulators/README.md): `{"at_ms": 500, "kind": "overload", "id": 2}`,
/// `{"after_enable_ms": 100, "for_ms": 50, "kind": "servo_silent", "id": 1}`,
/// `{"at_ms": 0, "kind": "wrong_model", "id": 1, "model_number": 1030}`,
/// `{"at_ms": 200, "for_ms": 1000, "kind": "input_voltage", "id": 2, "voltage_v": 17}`.
public enum DynamixelDeviceFault: InjectableDeviceFault {
    /// The servo latches Overload (0x20), as if its output had been held at its limit.
    case overload(id: UInt8)
    /// The winding heats 10 °C past the Temperature Limit: the servo latches Overheating (0x04) at its next step.
    case overheating(id: UInt8)
    /// The supply the servo sees becomes `volts`: outside Min/Max Voltage Limit it latches Input Voltage (0x01);
    /// the supply comes back at the end.
    case inputVoltage(id: UInt8, volts: Double)
    /// The servo latches Motor Encoder (0x08).
    case motorEncoder(id: UInt8)
    /// The servo latches Electrical Shock (0x10).
    case electricalShock(id: UInt8)
    /// The servo stops answering: it still executes what it hears (a broken transmit line).
    case servoSilent(id: UInt8)
    /// The servo reports `modelNumber` (Ping, Model Number(0)): another model on that ID.
    case wrongModel(id: UInt8, modelNumber: UInt16)

    /// The servo concerned.
    public var id: UInt8 {
        switch self {
        case .overload(let id), .overheating(let id), .inputVoltage(let id, _), .motorEncoder(let id), .electricalShock(let id),
            .servoSilent(let id), .wrongModel(let id, _):
            id
        }
    }

    public var name: String {
        switch self {
        case .overload: "overload"
        case .overheating: "overheating"
        case .inputVoltage: "input_voltage"
        case .motorEncoder: "motor_encoder"
        case .electricalShock: "electrical_shock"
        case .servoSilent: "servo_silent"
        case .wrongModel: "wrong_model"
        }
    }

    /// Faults name a servo by its ID, not a joint index.
    public var joint: Int? { nil }

    public var canEnd: Bool {
        switch self {
        case .inputVoltage, .servoSilent, .wrongModel: true
        case .overload, .overheating, .motorEncoder, .electricalShock: false
        }
    }

    public static let names = ["overload", "overheating", "input_voltage", "motor_encoder", "electrical_shock", "servo_silent", "wrong_model"]

    public static func parse(kind: String, fields r: inout FieldReader, jointCount: Int, trigger: FaultTrigger?) -> Self? {
        let id = r.integer("id", unit: "(servo ID)", in: 0...252).map { UInt8($0) }
        switch kind {
        case "overload": return id.map { .overload(id: $0) }
        case "overheating": return id.map { .overheating(id: $0) }
        case "motor_encoder": return id.map { .motorEncoder(id: $0) }
        case "electrical_shock": return id.map { .electricalShock(id: $0) }
        case "servo_silent": return id.map { .servoSilent(id: $0) }
        case "input_voltage":
            let volts = r.number("voltage_v", unit: "V", in: 0...30, required: false, default: 17)
            guard let id, let volts else { return nil }
            return .inputVoltage(id: id, volts: volts)
        case "wrong_model":
            let model = r.integer("model_number", unit: "(model number)", in: 0...0xFFFF)
            guard let id, let model else { return nil }
            return .wrongModel(id: id, modelNumber: UInt16(model))
        default:
            return nil
        }
    }
}

/// The bus's device-level kinds as members of a fault's kind: `DynamixelInjectedFault(.servoSilent(id: 2), .now)`.
extension FaultKind where DeviceKind == DynamixelDeviceFault {
    public static func overload(id: UInt8) -> Self { .device(.overload(id: id)) }
    public static func overheating(id: UInt8) -> Self { .device(.overheating(id: id)) }
    public static func inputVoltage(id: UInt8, volts: Double) -> Self { .device(.inputVoltage(id: id, volts: volts)) }
    public static func motorEncoder(id: UInt8) -> Self { .device(.motorEncoder(id: id)) }
    public static func electricalShock(id: UInt8) -> Self { .device(.electricalShock(id: id)) }
    public static func servoSilent(id: UInt8) -> Self { .device(.servoSilent(id: id)) }
    public static func wrongModel(id: UInt8, modelNumber: UInt16) -> Self { .device(.wrongModel(id: id, modelNumber: modelNumber)) }
}
