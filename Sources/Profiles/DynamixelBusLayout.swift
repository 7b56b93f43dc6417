import StrictJSON

/// What a profile's `device.dynamixel` object says about a Dynamixel Protocol 2.0 servo chain
/// (protocols/dynamixel/README.md §7, hardware/README.md): one servo per joint, in the order of
/// `joints`. The Dynamixel driver's registry entry checks it, and rehabsim builds its simulated bus
/// from it.
///
/// ```json
/// "dynamixel": {
///   "servos": [
///     { "id": 1, "model_number": 1020, "direction": 1, "zero_offset_deg": 0 },
///     { "id": 2, "model_number": 1020, "direction": -1, "zero_offset_deg": 0 }
///   ]
/// }
/// ```
///
/// A joint's angle is `direction × (servo output angle − zero offset) / gear_ratio`, with the joint's
/// own `gear_ratio` (1 for a joint on the servo's horn). Direction and offset are applied by the host,
/// at the device edge: the servos keep Drive Mode bit 0 and Homing Offset at 0, so that what a servo
/// reports means the same on every bus. The firmware the servos need is the generic `firmware_min`,
/// whose major number is the servo's Firmware Version(6) (at least 45: the cycle's Fast Sync Read).
public struct DynamixelBusLayout: Sendable, Equatable {
    /// One servo: which ID, which model, how its output maps onto its joint.
    public struct Servo: Sendable, Equatable {
        /// Its ID on the bus, 0 … 252.
        public var id: UInt8
        /// The Model Number(0) it must report at identify (1020: XM430-W350).
        public var modelNumber: UInt16
        /// +1: the joint turns with the servo's positive (counter-clockwise) direction; −1: against it.
        public var direction: Double
        /// The servo's output angle at the joint's zero [rad].
        public var zeroOffsetRadians: Double

        public init(id: UInt8, modelNumber: UInt16 = DynamixelBusLayout.xm430W350ModelNumber, direction: Double = 1, zeroOffsetRadians: Double = 0) {
            self.id = id
            self.modelNumber = modelNumber
            self.direction = direction
            self.zeroOffsetRadians = zeroOffsetRadians
        }
    }

    /// In the order of the profile's joints.
    public var servos: [Servo]

    public init(servos: [Servo]) {
        self.servos = servos
    }

    /// The XM430-W350's Model Number (README §6.2).
    public static let xm430W350ModelNumber: UInt16 = 1020
    /// Fast Sync Read needs this firmware or newer (README §5.12).
    public static let fastReadFirmwareVersion: UInt8 = 45
    /// An X-series servo's encoder: counts per revolution of its output shaft.
    public static let countsPerServoRevolution = 4_096

    /// The layout in `fields` (the profile's `device.dynamixel`), checked against the joints (nil when
    /// anything is wrong), and every problem found, with its path (`device.dynamixel.servos[1].id`).
    public static func parse(_ fields: JSONObject?, joints: [JointProfile]) -> (layout: DynamixelBusLayout?, issues: [ProfileIssue]) {
        let issues = IssueCollector()
        guard let fields else {
            issues.add("device.dynamixel", "missing: a Dynamixel profile names its servos (\"servos\": one object per joint)")
            return (nil, issues.reported)
        }
        var reader = FieldReader(fields, path: "device.dynamixel", issues: issues)
        var servos: [Servo] = []
        if let entries = reader.array("servos") {
            if entries.count != joints.count {
                reader.report("servos", "lists \(entries.count) servo\(entries.count == 1 ? "" : "s"); the profile has \(joints.count) joint\(joints.count == 1 ? "" : "s") (one servo per joint, in their order)")
            }
            for (index, entry) in entries.prefix(joints.count).enumerated() {
                let path = "device.dynamixel.servos[\(index)]"
                guard let object = entry.objectValue else {
                    issues.add(path, "expected an object, found \(entry.kindDescription)")
                    continue
                }
                var servo = FieldReader(object, path: path, issues: issues)
                let id = servo.integer("id", unit: "(ID)", in: 0...252)
                let model = servo.integer("model_number", unit: "(Model Number)", in: 0...65_535, required: false,
                                          default: Int64(xm430W350ModelNumber))
                let direction = servo.integer("direction", unit: "(+1 or -1)", in: -1...1, required: false, default: 1)
                if direction == 0 { servo.report("direction", "must be 1 or -1 (found 0)") }
                let offset = servo.number("zero_offset_deg", unit: "°", in: -360...360, required: false, default: 0)
                servo.finish()
                let joint = joints[index]
                if joint.gearRatio != 1 || joint.encoderCountsPerRevolution != countsPerServoRevolution {
                    if Double(joint.encoderCountsPerRevolution) != Double(countsPerServoRevolution) * joint.gearRatio {
                        issues.add("joints[\(index)].encoder_counts_per_rev",
                                   "a joint driven by an X-series servo counts \(countsPerServoRevolution) × gear_ratio = \(format(Double(countsPerServoRevolution) * joint.gearRatio)) per revolution (found \(joint.encoderCountsPerRevolution))")
                    }
                }
                if let id, let model, let direction, direction != 0, let offset {
                    if servos.contains(where: { $0.id == UInt8(id) }) {
                        issues.add("\(path).id", "servo ID \(id) is listed twice: each joint needs its own servo")
                    }
                    servos.append(Servo(id: UInt8(id), modelNumber: UInt16(model), direction: Double(direction),
                                        zeroOffsetRadians: offset * .pi / 180))
                }
            }
        }
        reader.finish()
        guard issues.issues.isEmpty, servos.count == joints.count else { return (nil, issues.reported) }
        return (DynamixelBusLayout(servos: servos), [])
    }
}
