extension Dynamixel {
    /// The control table of an X-series servo as the simulated firmware keeps it: protocols/dynamixel/README.md §6.2
    /// (from the e-Manual's XM430-W350 page), each item with its address, size, access, area, range and factory default.
    ///
    /// Covered: every item of README §6.2, Secondary ID(12) (stored only; the reference implementation
    /// tools/dynamixel.py lists it), and both blocks of indirect items. README §6.2 names Indirect Address 1 … 28 and
    /// Indirect Data 1 … 28; README §4.1 says the whole table is 662 bytes and §6.2 that an indirect address may be
    /// 64 ~ 661, which is where the e-Manual's second block lies (Indirect Address 29 … 56 at 578 … 633, Indirect Data
    /// 29 … 56 at 634 … 661). Bytes between items are reserved: they read as 0, and a write that touches one is an
    /// Access Error.
    ///
    /// ```
    ///   0 …  63  EEPROM  identity, bus settings, limits, Shutdown       writable only while Torque Enable = 0
    ///  64 … 147  RAM     torque, gains, watchdog, goals, readings       reset at power-up and reboot
    /// 168 … 251  RAM     Indirect Address 1 … 28, Indirect Data 1 … 28
    /// 578 … 661  RAM     Indirect Address 29 … 56, Indirect Data 29 … 56
    /// ```
    public enum ControlTable {
        /// Bytes in the table: addresses 0 … 661.
        public static let size = 662
        /// Addresses below this are the EEPROM area (README §6.1).
        public static let ramStart = 64

        // MARK: EEPROM

        public static let modelNumber = 0
        public static let modelInformation = 2
        public static let firmwareVersion = 6
        public static let id = 7
        public static let baudRate = 8
        public static let returnDelayTime = 9
        public static let driveMode = 10
        public static let operatingMode = 11
        public static let secondaryID = 12
        public static let protocolType = 13
        public static let homingOffset = 20
        public static let movingThreshold = 24
        public static let temperatureLimit = 31
        public static let maxVoltageLimit = 32
        public static let minVoltageLimit = 34
        public static let pwmLimit = 36
        public static let currentLimit = 38
        public static let velocityLimit = 44
        public static let maxPositionLimit = 48
        public static let minPositionLimit = 52
        public static let shutdown = 63

        // MARK: RAM

        public static let torqueEnable = 64
        public static let led = 65
        public static let statusReturnLevel = 68
        public static let registeredInstruction = 69
        public static let hardwareErrorStatus = 70
        public static let velocityIGain = 76
        public static let velocityPGain = 78
        public static let positionDGain = 80
        public static let positionIGain = 82
        public static let positionPGain = 84
        public static let feedforward2ndGain = 88
        public static let feedforward1stGain = 90
        public static let busWatchdog = 98
        public static let goalPWM = 100
        public static let goalCurrent = 102
        public static let goalVelocity = 104
        public static let profileAcceleration = 108
        public static let profileVelocity = 112
        public static let goalPosition = 116
        public static let realtimeTick = 120
        public static let moving = 122
        public static let movingStatus = 123
        public static let presentPWM = 124
        public static let presentCurrent = 126
        public static let presentVelocity = 128
        public static let presentPosition = 132
        public static let velocityTrajectory = 136
        public static let positionTrajectory = 140
        public static let presentInputVoltage = 144
        public static let presentTemperature = 146
        /// Indirect Address k (2 bytes each) for k = 1 … 28 starts here; Indirect Data k (1 byte) at `indirectData1 + k − 1`.
        public static let indirectAddress1 = 168
        public static let indirectData1 = 224
        /// The second block: Indirect Address 29 … 56 and Indirect Data 29 … 56.
        public static let indirectAddress29 = 578
        public static let indirectData29 = 634
        public static let indirectItemsPerBlock = 28

        /// Drive Mode(10) bits (README §6.3).
        public enum DriveModeBit {
            /// Reverse the direction of position, velocity, current and PWM.
            public static let reverse: UInt8 = 0x01
            /// Time-based profile (not simulated: the profile is always velocity-based).
            public static let timeBasedProfile: UInt8 = 0x04
            /// "Torque On by Goal Update" (firmware ≥ 45): a Goal write switches torque on.
            public static let torqueOnByGoalUpdate: UInt8 = 0x08
            /// Every defined bit.
            public static let defined: UInt8 = 0x0D
        }

        /// One item of the table.
        public struct Item: Sendable, Equatable {
            /// The e-Manual's name in snake case ("present_position"), as `rehabctl dynamixel read` takes it.
            public let name: String
            public let address: Int
            /// 1, 2 or 4 bytes, little-endian.
            public let size: Int
            /// "RW" in the e-Manual; "R" items answer a write with Access Error.
            public let isWritable: Bool
            /// Two's complement.
            public let isSigned: Bool
            /// The item's own range (README §6.2); a write outside it is a Data Range Error. Items whose range depends on
            /// other items (the Goal items, Profile Velocity) or on bits are checked by the firmware besides.
            public let minimum: Int64
            public let maximum: Int64
            /// The factory value (EEPROM) or power-up value (RAM).
            public let factoryDefault: Int64

            /// In the EEPROM area: writable only while Torque Enable is 0.
            public var isEEPROM: Bool { address < ControlTable.ramStart }

            /// Goal PWM, Goal Current, Goal Velocity or Goal Position: read-only after a Bus Watchdog expiry (README §6.6).
            public var isGoal: Bool {
                address == ControlTable.goalPWM || address == ControlTable.goalCurrent
                    || address == ControlTable.goalVelocity || address == ControlTable.goalPosition
            }

            public var addresses: Range<Int> { address..<(address + size) }

            /// How a raw value reads in SI (README §6.7): raw × `factor` [`symbol`]; nil for items without a unit
            /// (modes, bits, gains, IDs, indirect items).
            public var siUnit: (factor: Double, symbol: String)? {
                switch name {
                case "homing_offset", "goal_position", "present_position", "position_trajectory", "max_position_limit", "min_position_limit":
                    (2 * Double.pi / Double(Units.countsPerRevolution), "rad")
                case "goal_velocity", "present_velocity", "velocity_trajectory", "velocity_limit", "profile_velocity", "moving_threshold":
                    (Units.velocityRadiansPerSecond, "rad/s")
                case "goal_current", "present_current", "current_limit": (Units.currentAmperes, "A")
                case "present_input_voltage", "max_voltage_limit", "min_voltage_limit": (Units.voltageVolts, "V")
                case "present_temperature", "temperature_limit": (1, "°C")
                case "return_delay_time": (Double(Units.returnDelayNanoseconds) * 1e-9, "s")
                case "bus_watchdog": (Double(Units.busWatchdogNanoseconds) * 1e-9, "s")
                case "realtime_tick": (0.001, "s")
                case "goal_pwm", "present_pwm", "pwm_limit": (1 / Units.pwmFullScale, "of full duty")
                default: nil
                }
            }
        }

        /// The item called `name` (`Item.name`), or nil.
        public static func item(named name: String) -> Item? {
            items.first { $0.name == name }
        }

        /// Every item, in address order.
        public static let items: [Item] = {
            var list: [Item] = []
            func add(_ name: String, _ address: Int, _ size: Int, writable: Bool, _ range: ClosedRange<Int64>, default value: Int64 = 0, signed: Bool = false) {
                list.append(
                    Item(name: name, address: address, size: size, isWritable: writable, isSigned: signed, minimum: range.lowerBound,
                         maximum: range.upperBound, factoryDefault: value))
            }
            let int32Range: ClosedRange<Int64> = Int64(Int32.min)...Int64(Int32.max)
            // EEPROM
            add("model_number", modelNumber, 2, writable: false, 0...0xFFFF, default: 1020)
            add("model_information", modelInformation, 4, writable: false, 0...0xFFFF_FFFF)
            add("firmware_version", firmwareVersion, 1, writable: false, 0...0xFF)
            add("id", id, 1, writable: true, 0...252, default: 1)  // README §2.2, §9 A6: 0 … 252
            add("baud_rate", baudRate, 1, writable: true, 0...7, default: 1)
            add("return_delay_time", returnDelayTime, 1, writable: true, 0...254, default: 250)
            add("drive_mode", driveMode, 1, writable: true, 0...0x0D)
            add("operating_mode", operatingMode, 1, writable: true, 0...16, default: 3)
            add("secondary_id", secondaryID, 1, writable: true, 0...0xFF, default: 255)
            add("protocol_type", protocolType, 1, writable: true, 1...2, default: 2)
            add("homing_offset", homingOffset, 4, writable: true, -1_044_479...1_044_479, signed: true)
            add("moving_threshold", movingThreshold, 4, writable: true, 0...1_023, default: 10)
            add("temperature_limit", temperatureLimit, 1, writable: true, 0...100, default: 80)
            add("max_voltage_limit", maxVoltageLimit, 2, writable: true, 95...160, default: 160)  // README §9 A5
            add("min_voltage_limit", minVoltageLimit, 2, writable: true, 95...160, default: 95)
            add("pwm_limit", pwmLimit, 2, writable: true, 0...885, default: 885)
            add("current_limit", currentLimit, 2, writable: true, 0...1_193, default: 1_193)
            add("velocity_limit", velocityLimit, 4, writable: true, 0...1_023, default: 200)
            add("max_position_limit", maxPositionLimit, 4, writable: true, 0...4_095, default: 4_095)
            add("min_position_limit", minPositionLimit, 4, writable: true, 0...4_095)
            add("shutdown", shutdown, 1, writable: true, 0...0x3D, default: 0x34)
            // RAM
            add("torque_enable", torqueEnable, 1, writable: true, 0...1)
            add("led", led, 1, writable: true, 0...1)
            add("status_return_level", statusReturnLevel, 1, writable: true, 0...2, default: 2)
            add("registered_instruction", registeredInstruction, 1, writable: false, 0...1)
            add("hardware_error_status", hardwareErrorStatus, 1, writable: false, 0...0xFF)
            add("velocity_i_gain", velocityIGain, 2, writable: true, 0...16_383, default: 1_920)
            add("velocity_p_gain", velocityPGain, 2, writable: true, 0...16_383, default: 100)
            add("position_d_gain", positionDGain, 2, writable: true, 0...16_383)
            add("position_i_gain", positionIGain, 2, writable: true, 0...16_383)
            add("position_p_gain", positionPGain, 2, writable: true, 0...16_383, default: 800)
            add("feedforward_2nd_gain", feedforward2ndGain, 2, writable: true, 0...16_383)
            add("feedforward_1st_gain", feedforward1stGain, 2, writable: true, 0...16_383)
            add("bus_watchdog", busWatchdog, 1, writable: true, 0...127, signed: true)
            add("goal_pwm", goalPWM, 2, writable: true, -885...885, signed: true)
            add("goal_current", goalCurrent, 2, writable: true, -1_193...1_193, signed: true)
            add("goal_velocity", goalVelocity, 4, writable: true, -1_023...1_023, signed: true)
            add("profile_acceleration", profileAcceleration, 4, writable: true, 0...32_767)
            add("profile_velocity", profileVelocity, 4, writable: true, 0...32_767)
            add("goal_position", goalPosition, 4, writable: true, -1_048_575...1_048_575, signed: true)
            add("realtime_tick", realtimeTick, 2, writable: false, 0...32_767)
            add("moving", moving, 1, writable: false, 0...1)
            add("moving_status", movingStatus, 1, writable: false, 0...0xFF)
            add("present_pwm", presentPWM, 2, writable: false, -885...885, signed: true)
            add("present_current", presentCurrent, 2, writable: false, -32_768...32_767, signed: true)
            add("present_velocity", presentVelocity, 4, writable: false, int32Range, signed: true)
            add("present_position", presentPosition, 4, writable: false, int32Range, signed: true)
            add("velocity_trajectory", velocityTrajectory, 4, writable: false, int32Range, signed: true)
            add("position_trajectory", positionTrajectory, 4, writable: false, int32Range, signed: true)
            add("present_input_voltage", presentInputVoltage, 2, writable: false, 0...0xFFFF)
            add("present_temperature", presentTemperature, 1, writable: false, 0...0xFF)
            for k in 0..<indirectItemsPerBlock {
                add("indirect_address_\(k + 1)", indirectAddress1 + 2 * k, 2, writable: true, 64...661, default: Int64(indirectData1 + k))
            }
            for k in 0..<indirectItemsPerBlock {
                add("indirect_data_\(k + 1)", indirectData1 + k, 1, writable: true, 0...0xFF)
            }
            for k in 0..<indirectItemsPerBlock {
                add("indirect_address_\(k + 29)", indirectAddress29 + 2 * k, 2, writable: true, 64...661, default: Int64(indirectData29 + k))
            }
            for k in 0..<indirectItemsPerBlock {
                add("indirect_data_\(k + 29)", indirectData29 + k, 1, writable: true, 0...0xFF)
            }
            return list
        }()

        /// For every address, the index in `items` of the item it belongs to; −1 for a reserved byte.
        public static let itemIndex: [Int16] = {
            var index = [Int16](repeating: -1, count: size)
            for (number, item) in items.enumerated() {
                for address in item.addresses { index[address] = Int16(number) }
            }
            return index
        }()

        /// The item `address` belongs to, or nil for a reserved byte or an address outside the table.
        public static func item(containing address: Int) -> Item? {
            guard address >= 0 && address < size else { return nil }
            let number = Int(itemIndex[address])
            return number < 0 ? nil : items[number]
        }
    }

    /// Hardware Error Status(70) and Shutdown(63) bits (README §6.4).
    public enum HardwareError {
        public static let inputVoltage: UInt8 = 0x01
        public static let overheating: UInt8 = 0x04
        public static let motorEncoder: UInt8 = 0x08
        public static let electricalShock: UInt8 = 0x10
        public static let overload: UInt8 = 0x20
        /// Every defined bit (README §6.4; bits 1, 6 and 7 are always 0).
        public static let defined: UInt8 = 0x3D

        /// The bit's name as the event log writes it ("overload").
        public static func name(_ bit: UInt8) -> String {
            switch bit {
            case inputVoltage: "input_voltage"
            case overheating: "overheating"
            case motorEncoder: "motor_encoder"
            case electricalShock: "electrical_shock"
            case overload: "overload"
            default: "hardware_error"
            }
        }

        /// The bit as people read it ("overload (0x20)").
        public static func description(_ bit: UInt8) -> String {
            switch bit {
            case inputVoltage: "input_voltage (0x01)"
            case overheating: "overheating (0x04)"
            case motorEncoder: "motor_encoder (0x08)"
            case electricalShock: "electrical_shock (0x10)"
            case overload: "overload (0x20)"
            default: "hardware_error"
            }
        }
    }

    /// The X series' units (README §6.7) and bus constants (README §1, §5.16, §6.6).
    public enum Units {
        /// Goal/Present Current and Current Limit: 2.69 mA.
        public static let currentAmperes = 0.00269
        /// Goal/Present Velocity, Velocity Limit, Profile Velocity: 0.229 rev/min.
        public static let velocityRadiansPerSecond = 0.229 * 2 * Double.pi / 60
        public static let countsPerRevolution = 4_096
        /// PWM: 885 = 100 %.
        public static let pwmFullScale = 885.0
        /// Present Input Voltage and the voltage limits: 0.1 V.
        public static let voltageVolts = 0.1
        /// Profile Acceleration: 214.577 rev/min².
        public static let profileAccelerationRevolutionsPerMinuteSquared = 214.577
        /// Return Delay Time: 2 µs.
        public static let returnDelayNanoseconds: Int64 = 2_000
        /// Bus Watchdog: 20 ms (README §9 A4).
        public static let busWatchdogNanoseconds: Int64 = 20_000_000
        /// 8N1: every byte on the wire takes 10 bit times (README §1, §7.3).
        public static let bitsPerByte: Int64 = 10

        /// The bit rate of Baud Rate(8)'s value (README §1), nil for an undefined one.
        public static func baudRate(code: UInt8) -> Int? {
            switch code {
            case 0: 9_600
            case 1: 57_600
            case 2: 115_200
            case 3: 1_000_000
            case 4: 2_000_000
            case 5: 3_000_000
            case 6: 4_000_000
            case 7: 4_500_000
            default: nil
            }
        }
    }
}
