import Primitives
import RehabLinkSimulator
import Wire

/// One simulated X-series servo on a `SimulatedDynamixelBus`: its control table (README §6), the rules of a write
/// (§5.3, §6.1), its operating modes (§6.5), Drive Mode (§6.3), hardware errors and Shutdown (§6.4), the Bus Watchdog
/// (§6.6), and the physics of `JointPlant` driven through a model of the motor (supply voltage, PWM, back-EMF,
/// winding resistance).
///
/// The bus routes instructions to it and times the replies; the servo keeps its own state. Nothing here allocates
/// after set-up.
///
/// The drive: the output voltage is limited to the supply × PWM Limit; the winding current is
/// (voltage − back-EMF) / resistance, and the joint torque is the current × the torque constant (the plant then
/// limits it to the rating). Current Control (0) sets the current directly within that voltage; Velocity (1),
/// Position (3, 4) and PWM (16) Control set the voltage, as the X series' PID loops set the PWM; Current-based
/// Position (5) sets the voltage and then limits the current to Goal Current. The loops use the e-Manual's gain
/// scaling (KvP/128, KvI/65536, KpP/128, KpI/65536, KpD/16, feedforward/4) in PWM units per control-table unit.
public final class SimulatedDynamixelServo {
    typealias Table = Dynamixel.ControlTable

    public let configuration: DynamixelServoConfiguration
    /// Its place on the bus, in configuration order: the joint it drives.
    public let index: Int
    public private(set) var plant: JointPlant
    /// The supply the servo sees [V] (fault injection changes it).
    public private(set) var supplyVoltageVolts: Double
    /// When it last finished booting (Realtime Tick counts from here).
    public private(set) var bootedAt: MonotonicInstant
    /// Until then the servo reboots: it neither hears nor answers.
    public private(set) var rebootingUntil: MonotonicInstant?
    /// Fault injection: it executes what it hears but sends nothing (a broken transmit line).
    public internal(set) var isSilent = false
    /// Fault injection: the model number it reports (Ping, Model Number(0)) instead of its own.
    public internal(set) var reportedModelNumber: UInt16?
    /// Tests: the readings (Realtime Tick … Present Temperature) keep what `poke` put there instead of following the
    /// physics, so that a reply can be compared byte for byte with a vector.
    public var freezesReadings = false
    /// Bus Watchdog(98) reads −1: the Goal items refuse writes until it is written 0 (README §6.6).
    public private(set) var isBusWatchdogExpired = false
    /// When the last instruction packet for this servo arrived (the Bus Watchdog measures from it).
    public private(set) var lastInstructionTime: MonotonicInstant
    /// The last write touched a Goal item (the bus counts applied commands).
    public private(set) var wroteGoalInLastWrite = false

    private let events: DynamixelEventLog
    private let watchdogStop: DynamixelBusWatchdogStop
    private let overloadTripNanoseconds: Int64
    private var table: [UInt8]
    /// Present Position = (±encoder count) + this + Homing Offset: what resets "within one revolution" move.
    private var turnOffsetCounts: Int64 = 0
    private var overloadSince: MonotonicInstant?
    private var registeredData: [UInt8]
    private var registeredCount = 0
    private var registeredAddress = 0
    private var backupTable: [UInt8]
    private var hasBackup = false
    // The control loops.
    private var velocityIntegral = 0.0
    private var positionIntegral = 0.0
    /// The position profile [counts, Present Position's frame], its velocity [counts/s] and acceleration [counts/s²].
    private var trajectoryPosition = 0.0
    private var trajectoryVelocity = 0.0
    private var trajectoryAcceleration = 0.0
    /// The velocity profile in Velocity Control [0.229 rev/min].
    private var velocityTarget = 0.0
    /// The voltage the drive applied in the last step [V, the servo's direction].
    private var appliedVolts = 0.0
    /// The most current the output can give in the last step [A]: Current Limit (modes 0, 5) or the stall current.
    private var currentCap = 0.0

    /// Velocity units (0.229 rev/min) per second gained per unit of Profile Acceleration (214.577 rev/min²).
    private static let velocityUnitsPerSecondPerAccelerationUnit = Dynamixel.Units.profileAccelerationRevolutionsPerMinuteSquared / 60 / 0.229
    /// Counts per second per velocity unit, and counts per second² per unit of Profile Acceleration.
    private static let countsPerSecondPerVelocityUnit = 0.229 * Double(Dynamixel.Units.countsPerRevolution) / 60
    private static let countsPerSecondSquaredPerAccelerationUnit =
        Dynamixel.Units.profileAccelerationRevolutionsPerMinuteSquared * Double(Dynamixel.Units.countsPerRevolution) / 3_600
    private static let countsPerRadian = Double(Dynamixel.Units.countsPerRevolution) / (2 * Double.pi)

    init(
        configuration: DynamixelServoConfiguration, index: Int, bootTime: MonotonicInstant, events: DynamixelEventLog,
        watchdogStop: DynamixelBusWatchdogStop, overloadTripNanoseconds: Int64
    ) {
        self.configuration = configuration
        self.index = index
        self.events = events
        self.watchdogStop = watchdogStop
        self.overloadTripNanoseconds = overloadTripNanoseconds
        plant = JointPlant(parameters: configuration.plant, positionRadians: configuration.initialPositionRadians)
        supplyVoltageVolts = configuration.supplyVoltageVolts
        bootedAt = bootTime
        lastInstructionTime = bootTime
        table = [UInt8](repeating: 0, count: Table.size)
        registeredData = [UInt8](repeating: 0, count: Dynamixel.maxParameterBytes)
        backupTable = [UInt8](repeating: 0, count: Table.size)
        loadFactoryEEPROM()
        // What the servo is.
        setUInt16(Table.modelNumber, configuration.modelNumber)
        setUInt32(Table.modelInformation, configuration.modelInformation)
        table[Table.firmwareVersion] = configuration.firmwareVersion
        // What an earlier set-up left in its EEPROM.
        table[Table.id] = configuration.id
        table[Table.baudRate] = configuration.baudRateCode
        table[Table.returnDelayTime] = configuration.returnDelayTime
        table[Table.driveMode] = configuration.driveMode
        table[Table.operatingMode] = configuration.operatingMode
        setUInt16(Table.currentLimit, configuration.currentLimit)
        table[Table.shutdown] = configuration.shutdown
        initializeRAM(bootedAt: bootTime)
    }

    // MARK: Observation

    /// ID(7) now.
    public var id: UInt8 { table[Table.id] }
    /// The model number it reports.
    public var modelNumber: UInt16 { reportedModelNumber ?? uint16(Table.modelNumber) }
    public var firmwareVersion: UInt8 { table[Table.firmwareVersion] }
    public var baudRateBitsPerSecond: Int { Dynamixel.Units.baudRate(code: table[Table.baudRate]) ?? 57_600 }
    public var returnDelayNanoseconds: Int64 { Int64(table[Table.returnDelayTime]) * Dynamixel.Units.returnDelayNanoseconds }
    public var operatingMode: UInt8 { table[Table.operatingMode] }
    public var isTorqueOn: Bool { table[Table.torqueEnable] == 1 }
    public var statusReturnLevel: UInt8 { table[Table.statusReturnLevel] }
    public var hardwareErrorStatus: UInt8 { table[Table.hardwareErrorStatus] }
    public var hasRegisteredInstruction: Bool { table[Table.registeredInstruction] == 1 }

    /// Present Position as the servo counts it now [1/4096 rev] (README §6.2: actual position + Homing Offset).
    public var presentPosition: Int64 { actualCounts + Int64(int32(Table.homingOffset)) }

    /// The control-table byte at `address` as stored (an indirect data byte as its own storage); 0 outside the table.
    public func controlTableByte(_ address: Int) -> UInt8 {
        guard address >= 0 && address < Table.size else { return 0 }
        return table[address]
    }

    /// True while the servo reboots.
    public func isRebooting(at time: MonotonicInstant) -> Bool {
        guard let until = rebootingUntil else { return false }
        return time < until
    }

    // MARK: The physical world, tests and fault injection

    /// Puts the output shaft at `radians`, at rest.
    public func place(atRadians radians: Double) {
        plant.place(atRadians: radians)
    }

    /// Torque from outside on the output [N·m] (a load, a test's hand).
    public func setExternalTorque(newtonMeters: Double) {
        plant.externalTorqueNewtonMeters = newtonMeters
    }

    public func setTemperature(celsius: Double) {
        plant.setTemperature(celsius)
    }

    public func setSupplyVoltage(volts: Double) {
        supplyVoltageVolts = volts
    }

    /// Writes raw bytes into the control table, past every rule (tests: with `freezesReadings`, readings a vector
    /// expects).
    public func poke(address: Int, bytes: [UInt8]) {
        for (offset, byte) in bytes.enumerated() where address + offset >= 0 && address + offset < Table.size {
            table[address + offset] = byte
        }
    }

    /// Latches a hardware error (README §6.4): the bit stays until a reboot; an error selected in Shutdown turns
    /// torque off and keeps it off.
    public func latchHardwareError(_ bit: UInt8, at time: MonotonicInstant) {
        guard table[Table.hardwareErrorStatus] & bit == 0 else { return }
        table[Table.hardwareErrorStatus] |= bit
        events.record(
            time, "fault", faultCode: Int(bit), faultName: Dynamixel.HardwareError.name(bit),
            faultDescription: Dynamixel.HardwareError.description(bit), joint: index)
        if table[Table.shutdown] & bit != 0 && isTorqueOn { disableTorque(at: time) }
    }

    var patientTorqueNewtonMeters: Double {
        get { plant.patientTorqueNewtonMeters }
        set { plant.patientTorqueNewtonMeters = newValue }
    }

    // MARK: What the bus asks

    /// The alert bit of every status packet while a hardware error is latched (README §5.15).
    var alertBit: UInt8 { table[Table.hardwareErrorStatus] != 0 ? Dynamixel.StatusError.alertBit : 0 }

    /// It hears the bus: not rebooting, and speaking Protocol 2.0 (Protocol Type 2).
    func listens(at time: MonotonicInstant) -> Bool {
        !isRebooting(at: time) && table[Table.protocolType] == 2
    }

    var replySettings: DynamixelReplySettings {
        DynamixelReplySettings(
            id: id, baudRate: baudRateBitsPerSecond, returnDelayNanoseconds: returnDelayNanoseconds,
            statusReturnLevel: table[Table.statusReturnLevel])
    }

    /// An instruction packet for this servo arrived: the Bus Watchdog starts again.
    func feedBusWatchdog(at time: MonotonicInstant) {
        lastInstructionTime = time
    }

    /// When the Bus Watchdog expires if nothing arrives (one control step after the period, when the firmware sees
    /// it), or nil when it is not armed.
    func busWatchdogDeadline(stepNanoseconds: Int64) -> MonotonicInstant? {
        let period = Int8(bitPattern: table[Table.busWatchdog])
        guard isTorqueOn && period > 0 && !isBusWatchdogExpired else { return nil }
        return lastInstructionTime.advanced(byNanoseconds: Int64(period) * Dynamixel.Units.busWatchdogNanoseconds + stepNanoseconds)
    }

    /// Read (README §5.2): `length` bytes from `address` into `destination`, Indirect Data as the bytes its Indirect
    /// Address names. Returns the error number: Access Error for a read that leaves the table.
    func read(address: Int, length: Int, into destination: UnsafeMutableRawBufferPointer) -> UInt8 {
        guard address >= 0 && length >= 1 && address + length <= Table.size && length <= destination.count else {
            return DynamixelErrorNumber.accessError
        }
        for offset in 0..<length { destination[offset] = readByte(resolve(address + offset)) }
        return DynamixelErrorNumber.ok
    }

    /// Write (README §5.3): all or nothing. Returns the error number.
    func write(address: Int, data: UnsafeRawBufferPointer, at time: MonotonicInstant, scratch: DynamixelWriteScratch) -> UInt8 {
        wroteGoalInLastWrite = false
        let number = stageWrite(address: address, data: data, into: scratch)
        guard number == DynamixelErrorNumber.ok else {
            scratch.reset()
            return number
        }
        commitStagedWrite(scratch, at: time)
        return DynamixelErrorNumber.ok
    }

    /// Reg Write (README §5.4): checked now as a write would be, kept for Action.
    func registerWrite(address: Int, data: UnsafeRawBufferPointer, scratch: DynamixelWriteScratch) -> UInt8 {
        let number = stageWrite(address: address, data: data, into: scratch)
        scratch.reset()
        guard number == DynamixelErrorNumber.ok else { return number }
        guard data.count <= registeredData.count else { return DynamixelErrorNumber.dataLength }
        for offset in 0..<data.count { registeredData[offset] = data[offset] }
        registeredCount = data.count
        registeredAddress = address
        table[Table.registeredInstruction] = 1
        return DynamixelErrorNumber.ok
    }

    /// Action (README §5.5): the registered write, checked again; Instruction Error without one.
    func action(at time: MonotonicInstant, scratch: DynamixelWriteScratch) -> UInt8 {
        wroteGoalInLastWrite = false
        guard table[Table.registeredInstruction] == 1 else { return DynamixelErrorNumber.instructionError }
        table[Table.registeredInstruction] = 0
        let address = registeredAddress
        let count = registeredCount
        return registeredData.withUnsafeBytes { raw in
            write(address: address, data: UnsafeRawBufferPointer(rebasing: raw[0..<count]), at: time, scratch: scratch)
        }
    }

    /// Clear (README §5.8): Present Position within one revolution again, only while not moving.
    func clearMultiTurn() -> UInt8 {
        guard firmwareVersion >= 42 else { return DynamixelErrorNumber.instructionError }
        guard table[Table.moving] == 0 else { return DynamixelErrorNumber.resultFail }
        resetWithinOneRevolution()
        return DynamixelErrorNumber.ok
    }

    /// Control Table Backup (README §5.9). Returns the error number and whether the servo reboots after its reply
    /// (a restore). A restore without a stored backup is Result Fail.
    func controlTableBackup(operation: UInt8) -> (error: UInt8, reboots: Bool) {
        guard firmwareVersion >= 45 else { return (DynamixelErrorNumber.instructionError, false) }
        guard !isTorqueOn else { return (DynamixelErrorNumber.resultFail, false) }
        switch operation {
        case Dynamixel.ControlTableBackupOperation.store.rawValue:
            for address in 0..<Table.size { backupTable[address] = table[address] }
            hasBackup = true
            return (DynamixelErrorNumber.ok, false)
        case Dynamixel.ControlTableBackupOperation.restore.rawValue:
            guard hasBackup else { return (DynamixelErrorNumber.resultFail, false) }
            for item in Table.items where item.isEEPROM && item.isWritable {
                for address in item.addresses { table[address] = backupTable[address] }
            }
            return (DynamixelErrorNumber.ok, true)
        default:
            return (DynamixelErrorNumber.resultFail, false)
        }
    }

    /// Factory Reset (README §5.6): the EEPROM's factory values, keeping the ID (option 0x01, 0x02) and the baud
    /// rate (0x02). The bus reboots the servo afterwards.
    func factoryReset(option: UInt8) {
        let id = table[Table.id]
        let baudRate = table[Table.baudRate]
        loadFactoryEEPROM()
        if option != Dynamixel.FactoryResetOption.resetAll.rawValue { table[Table.id] = id }
        if option == Dynamixel.FactoryResetOption.exceptIDAndBaudRate.rawValue { table[Table.baudRate] = baudRate }
    }

    /// Reboot (README §5.7): torque off, the RAM at its power-up values (hardware errors cleared), unreachable until
    /// `reachableAt`.
    func reboot(at time: MonotonicInstant, reachableAt: MonotonicInstant) {
        let hadErrors = table[Table.hardwareErrorStatus] != 0
        if isTorqueOn { disableTorque(at: time) }
        rebootingUntil = reachableAt
        initializeRAM(bootedAt: reachableAt)
        if hadErrors { events.record(time, "fault_reset", joint: index) }
    }

    /// One control step: the Bus Watchdog, the operating mode's loop, the drive, the plant, the readings, the
    /// hardware errors.
    func step(at time: MonotonicInstant, seconds dt: Double) {
        let period = Int8(bitPattern: table[Table.busWatchdog])
        if isTorqueOn && period > 0 && !isBusWatchdogExpired
            && time.nanoseconds(since: lastInstructionTime) > Int64(period) * Dynamixel.Units.busWatchdogNanoseconds
        {
            expireBusWatchdog(at: time)
        }
        var current = 0.0
        if isTorqueOn {
            current = controlCurrent(seconds: dt)
        } else {
            appliedVolts = 0
            currentCap = 0
        }
        let sign = directionSign
        plant.step(motorTorqueDemand: sign * current * plant.parameters.jointTorquePerAmpere, seconds: dt)
        // What the drive delivered (the plant limits the torque to its rating), in the servo's direction.
        let delivered = isTorqueOn ? sign * plant.motorCurrentAmperes : 0
        refreshReadings(at: time, current: delivered)
        checkHardware(at: time, current: delivered)
    }

    // MARK: The write rules

    /// Checks a write as README §5.3 and §6 say and stages its bytes in `scratch`; returns the error number, 0 when
    /// it may be applied. In order: Access Error (leaves the table, a reserved byte, a read-only item, EEPROM while
    /// torque is on), Data Length Error (part of an item), then per item Data Range Error (a Goal item after a Bus
    /// Watchdog expiry, a value outside the item's range) and Data Limit Error (outside a limit another item sets).
    func stageWrite(address: Int, data: UnsafeRawBufferPointer, into s: DynamixelWriteScratch) -> UInt8 {
        s.reset()
        guard address >= 0 && !data.isEmpty && address + data.count <= Table.size else { return DynamixelErrorNumber.accessError }
        for offset in 0..<data.count {
            let target = resolve(address + offset)
            let number = Int(Table.itemIndex[target])
            guard number >= 0 else { return DynamixelErrorNumber.accessError }
            s.stage(target, data[offset])
            s.noteItem(number)
        }
        for k in 0..<s.itemCount {
            let item = Table.items[s.itemList[k]]
            guard item.isWritable else { return DynamixelErrorNumber.accessError }
            guard !(item.isEEPROM && isTorqueOn) else { return DynamixelErrorNumber.accessError }
        }
        for k in 0..<s.itemCount {
            for address in Table.items[s.itemList[k]].addresses where !s.written[address] { return DynamixelErrorNumber.dataLength }
        }
        for k in 0..<s.itemCount {
            let item = Table.items[s.itemList[k]]
            let number = check(item, value(of: item) { s.pending[$0] })
            guard number == DynamixelErrorNumber.ok else { return number }
        }
        return DynamixelErrorNumber.ok
    }

    private func check(_ item: Table.Item, _ value: Int64) -> UInt8 {
        if item.isGoal && isBusWatchdogExpired { return DynamixelErrorNumber.dataRange }
        switch item.address {
        case Table.driveMode:
            return value & ~Int64(Table.DriveModeBit.defined) == 0 ? DynamixelErrorNumber.ok : DynamixelErrorNumber.dataRange
        case Table.operatingMode:
            switch value {
            case 0, 1, 3, 4, 5, 16: return DynamixelErrorNumber.ok
            default: return DynamixelErrorNumber.dataRange
            }
        case Table.shutdown:
            return value & ~Int64(Dynamixel.HardwareError.defined) == 0 ? DynamixelErrorNumber.ok : DynamixelErrorNumber.dataRange
        case Table.busWatchdog:
            // 1 … 127 arms it, 0 disarms it and clears an expiry; only 0 clears an expiry (README §6.6).
            guard value >= 0 && value <= 127 else { return DynamixelErrorNumber.dataRange }
            return isBusWatchdogExpired && value != 0 ? DynamixelErrorNumber.dataRange : DynamixelErrorNumber.ok
        case Table.goalPWM:
            return limited(value, range: 885, limit: Int64(uint16(Table.pwmLimit)))
        case Table.goalCurrent:
            return limited(value, range: 1_193, limit: Int64(uint16(Table.currentLimit)))
        case Table.goalVelocity:
            return limited(value, range: 1_023, limit: Int64(uint32(Table.velocityLimit)))
        case Table.profileVelocity:
            guard value >= item.minimum && value <= item.maximum else { return DynamixelErrorNumber.dataRange }
            let velocityBased = table[Table.driveMode] & Table.DriveModeBit.timeBasedProfile == 0
            return velocityBased && value > Int64(uint32(Table.velocityLimit)) ? DynamixelErrorNumber.dataLimit : DynamixelErrorNumber.ok
        case Table.goalPosition:
            guard abs(value) <= 1_048_575 else { return DynamixelErrorNumber.dataRange }
            // Min/Max Position Limit act in Position Control only (README §6.5).
            guard table[Table.operatingMode] == 3 else { return DynamixelErrorNumber.ok }
            let inside = value >= Int64(uint32(Table.minPositionLimit)) && value <= Int64(uint32(Table.maxPositionLimit))
            return inside ? DynamixelErrorNumber.ok : DynamixelErrorNumber.dataLimit
        default:
            return value >= item.minimum && value <= item.maximum ? DynamixelErrorNumber.ok : DynamixelErrorNumber.dataRange
        }
    }

    /// A Goal item: outside its own range a Data Range Error, outside the limit item a Data Limit Error.
    private func limited(_ value: Int64, range: Int64, limit: Int64) -> UInt8 {
        guard abs(value) <= range else { return DynamixelErrorNumber.dataRange }
        return abs(value) <= limit ? DynamixelErrorNumber.ok : DynamixelErrorNumber.dataLimit
    }

    private func commitStagedWrite(_ s: DynamixelWriteScratch, at time: MonotonicInstant) {
        let oldMode = table[Table.operatingMode]
        let oldTorque = table[Table.torqueEnable]
        let touchedTorque = s.written[Table.torqueEnable]
        let touchedMode = s.written[Table.operatingMode]
        let touchedWatchdog = s.written[Table.busWatchdog]
        let touchedGoal = s.written[Table.goalPWM] || s.written[Table.goalCurrent] || s.written[Table.goalVelocity]
            || s.written[Table.goalPosition]
        for k in 0..<s.touchedCount {
            let address = s.touched[k]
            table[address] = s.pending[address]
        }
        s.reset()
        wroteGoalInLastWrite = touchedGoal
        if touchedMode && table[Table.operatingMode] != oldMode { operatingModeChanged() }
        if touchedWatchdog && table[Table.busWatchdog] == 0 { isBusWatchdogExpired = false }
        if touchedTorque {
            let requested = table[Table.torqueEnable]
            table[Table.torqueEnable] = oldTorque
            if requested == 1 && oldTorque == 0 {
                enableTorque(at: time)
            } else if requested == 0 && oldTorque == 1 {
                disableTorque(at: time)
            }
        }
        if touchedGoal && table[Table.driveMode] & Table.DriveModeBit.torqueOnByGoalUpdate != 0 && firmwareVersion >= 45 && !isTorqueOn {
            enableTorque(at: time)
        }
    }

    /// README §6.5: a new operating mode resets the gains, the profile and Goal PWM / Goal Current to their limits.
    private func operatingModeChanged() {
        setUInt16(Table.velocityIGain, 1_920)
        setUInt16(Table.velocityPGain, 100)
        setUInt16(Table.positionDGain, 0)
        setUInt16(Table.positionIGain, 0)
        setUInt16(Table.positionPGain, 800)
        setUInt16(Table.feedforward2ndGain, 0)
        setUInt16(Table.feedforward1stGain, 0)
        setUInt32(Table.profileAcceleration, 0)
        setUInt32(Table.profileVelocity, 0)
        setInt16(Table.goalPWM, Int16(clamping: uint16(Table.pwmLimit)))
        setInt16(Table.goalCurrent, Int16(clamping: uint16(Table.currentLimit)))
        if table[Table.operatingMode] == 3 { resetWithinOneRevolution() }
    }

    private func enableTorque(at time: MonotonicInstant) {
        // README §6.4: after a shutdown only a reboot turns torque on again; the write is acknowledged, torque stays off.
        guard table[Table.hardwareErrorStatus] & table[Table.shutdown] == 0 else { return }
        if table[Table.operatingMode] == 3 { resetWithinOneRevolution() }
        table[Table.torqueEnable] = 1
        resetControllers()
        overloadSince = nil
        events.record(time, "torque_on", joint: index)
    }

    private func disableTorque(at time: MonotonicInstant) {
        table[Table.torqueEnable] = 0
        overloadSince = nil
        appliedVolts = 0
        events.record(time, "torque_off", joint: index)
    }

    private func expireBusWatchdog(at time: MonotonicInstant) {
        isBusWatchdogExpired = true
        table[Table.busWatchdog] = 0xFF
        events.record(time, "watchdog_stop", joint: index)
        switch watchdogStop {
        case .torqueOff:
            disableTorque(at: time)
        case .stopInMode:
            switch table[Table.operatingMode] {
            case 0: setInt16(Table.goalCurrent, 0)
            case 1:
                setInt32(Table.goalVelocity, 0)
                velocityTarget = 0
            case 16: setInt16(Table.goalPWM, 0)
            default:
                setInt32(Table.goalPosition, Int32(clamping: presentPosition))
                trajectoryPosition = Double(presentPosition)
                trajectoryVelocity = 0
                trajectoryAcceleration = 0
            }
        }
    }

    /// The power-up values of the RAM area. README §9 A12: the power-up Goal values are not given; the simulator
    /// takes an operating-mode change's (Goal PWM = PWM Limit, Goal Current = Current Limit), Goal Velocity 0 and
    /// Goal Position = Present Position. Present Position starts within one revolution (README §6.2).
    private func initializeRAM(bootedAt time: MonotonicInstant) {
        for item in Table.items where !item.isEEPROM { setValue(item, item.factoryDefault) }
        setInt16(Table.goalPWM, Int16(clamping: uint16(Table.pwmLimit)))
        setInt16(Table.goalCurrent, Int16(clamping: uint16(Table.currentLimit)))
        setInt32(Table.goalVelocity, 0)
        resetWithinOneRevolution()
        setInt32(Table.goalPosition, Int32(clamping: presentPosition))
        isBusWatchdogExpired = false
        overloadSince = nil
        registeredCount = 0
        appliedVolts = 0
        currentCap = 0
        bootedAt = time
        resetControllers()
        refreshReadings(at: time, current: 0)
    }

    private func loadFactoryEEPROM() {
        for item in Table.items where item.isEEPROM && item.isWritable { setValue(item, item.factoryDefault) }
    }

    // MARK: Control

    /// −1 when Drive Mode reverses the direction.
    private var directionSign: Double { table[Table.driveMode] & Table.DriveModeBit.reverse != 0 ? -1 : 1 }

    private var actualCounts: Int64 {
        let count = plant.encoderCount
        return (table[Table.driveMode] & Table.DriveModeBit.reverse != 0 ? -count : count) + turnOffsetCounts
    }

    private var measuredVelocityUnits: Double {
        directionSign * plant.velocityRadiansPerSecond / Dynamixel.Units.velocityRadiansPerSecond
    }

    /// Profiles act as if Profile Velocity and Acceleration were 0 while a Bus Watchdog stop holds (README §6.6).
    private var profileSuppressed: Bool { isBusWatchdogExpired && watchdogStop == .stopInMode }

    private func resetWithinOneRevolution() {
        let actual = actualCounts
        let counts = Int64(Dynamixel.Units.countsPerRevolution)
        let wrapped = ((actual % counts) + counts) % counts
        turnOffsetCounts += wrapped - actual
    }

    private func resetControllers() {
        velocityIntegral = 0
        positionIntegral = 0
        trajectoryPosition = Double(presentPosition)
        trajectoryVelocity = 0
        trajectoryAcceleration = 0
        velocityTarget = measuredVelocityUnits
    }

    /// The winding current the drive makes this step [A, the servo's direction].
    private func controlCurrent(seconds dt: Double) -> Double {
        let supply = supplyVoltageVolts
        let torqueConstant = plant.parameters.jointTorquePerAmpere
        let resistance = plant.parameters.windingResistanceOhms
        let available = supply * min(1, Double(uint16(Table.pwmLimit)) / Dynamixel.Units.pwmFullScale)
        let backEMF = torqueConstant * directionSign * plant.velocityRadiansPerSecond
        let stall = available / resistance
        let currentLimit = Double(uint16(Table.currentLimit)) * Dynamixel.Units.currentAmperes
        /// The current a PWM command gives (PWM units, 885 = the full supply).
        func currentForPWM(_ pwm: Double) -> Double {
            let volts = min(max(pwm / Dynamixel.Units.pwmFullScale * supply, -available), available)
            return (volts - backEMF) / resistance
        }
        var current: Double
        switch table[Table.operatingMode] {
        case 0:
            let goal = Double(int16(Table.goalCurrent)) * Dynamixel.Units.currentAmperes
            current = min(max(goal, -currentLimit), currentLimit)
            current = min(max(current, (-available - backEMF) / resistance), (available - backEMF) / resistance)
            currentCap = min(currentLimit, stall)
        case 1:
            current = currentForPWM(velocityLoop(seconds: dt))
            currentCap = stall
        case 3, 4, 5:
            current = currentForPWM(positionLoop(seconds: dt))
            currentCap = stall
            if table[Table.operatingMode] == 5 {
                let limit = min(abs(Double(int16(Table.goalCurrent)) * Dynamixel.Units.currentAmperes), currentLimit)
                current = min(max(current, -limit), limit)
                // Goal Current is a limit the host chooses (a gripper holds at it for hours); overload is a
                // load at the servo's maximum output, its Current Limit, as in Current Control.
                currentCap = min(currentLimit, stall)
            }
        case 16:
            current = currentForPWM(Double(int16(Table.goalPWM)))
            currentCap = stall
        default:
            current = 0
            currentCap = 0
        }
        if !current.isFinite { current = 0 }
        appliedVolts = current * resistance + backEMF
        return current
    }

    /// Velocity Control's PI loop (PWM units).
    private func velocityLoop(seconds dt: Double) -> Double {
        let goal = Double(int32(Table.goalVelocity))
        let acceleration = Double(uint32(Table.profileAcceleration))
        if acceleration == 0 || profileSuppressed {
            velocityTarget = goal
        } else {
            let most = acceleration * Self.velocityUnitsPerSecondPerAccelerationUnit * dt
            velocityTarget += min(max(goal - velocityTarget, -most), most)
        }
        let error = velocityTarget - measuredVelocityUnits
        let ki = Double(uint16(Table.velocityIGain)) / 65_536
        let kp = Double(uint16(Table.velocityPGain)) / 128
        velocityIntegral += error * dt * 1_000
        velocityIntegral = ki > 0 ? min(max(velocityIntegral, -Dynamixel.Units.pwmFullScale / ki), Dynamixel.Units.pwmFullScale / ki) : 0
        return kp * error + ki * velocityIntegral
    }

    /// The position loops' PID with feedforward (PWM units), on the profile toward Goal Position.
    private func positionLoop(seconds dt: Double) -> Double {
        advancePositionProfile(toward: Double(int32(Table.goalPosition)), seconds: dt)
        let error = trajectoryPosition - Double(presentPosition)
        let kp = Double(uint16(Table.positionPGain)) / 128
        let ki = Double(uint16(Table.positionIGain)) / 65_536
        let kd = Double(uint16(Table.positionDGain)) / 16
        let feedforward1 = Double(uint16(Table.feedforward1stGain)) / 4
        let feedforward2 = Double(uint16(Table.feedforward2ndGain)) / 4
        positionIntegral += error * dt * 1_000
        positionIntegral = ki > 0 ? min(max(positionIntegral, -Dynamixel.Units.pwmFullScale / ki), Dynamixel.Units.pwmFullScale / ki) : 0
        let measuredCountsPerSecond = directionSign * plant.velocityRadiansPerSecond * Self.countsPerRadian
        // Per millisecond, the firmware's control period.
        let errorRate = (trajectoryVelocity - measuredCountsPerSecond) / 1_000
        return kp * error + ki * positionIntegral + kd * errorRate + feedforward1 * trajectoryVelocity / 1_000
            + feedforward2 * trajectoryAcceleration / 1_000_000
    }

    /// A velocity-based trapezoidal profile (Profile Velocity 0: straight to the goal). The time-based profile of
    /// Drive Mode bit 2 is not simulated.
    private func advancePositionProfile(toward goal: Double, seconds dt: Double) {
        let profileVelocity = Double(uint32(Table.profileVelocity))
        guard profileVelocity > 0 && !profileSuppressed else {
            trajectoryPosition = goal
            trajectoryVelocity = 0
            trajectoryAcceleration = 0
            return
        }
        let most = profileVelocity * Self.countsPerSecondPerVelocityUnit
        let profileAcceleration = Double(uint32(Table.profileAcceleration))
        let acceleration = profileAcceleration > 0 ? profileAcceleration * Self.countsPerSecondSquaredPerAccelerationUnit : Double.infinity
        let remaining = goal - trajectoryPosition
        let direction: Double = remaining >= 0 ? 1 : -1
        let stopping = acceleration.isFinite ? (2 * acceleration * abs(remaining)).squareRoot() : most
        let wanted = direction * min(most, stopping)
        let change = wanted - trajectoryVelocity
        let reachable = acceleration.isFinite ? acceleration * dt : abs(change)
        let velocity = trajectoryVelocity + min(max(change, -reachable), reachable)
        trajectoryAcceleration = (velocity - trajectoryVelocity) / dt
        trajectoryVelocity = velocity
        var position = trajectoryPosition + velocity * dt
        if (goal - position) * direction <= 0 {
            position = goal
            trajectoryVelocity = 0
        }
        trajectoryPosition = position
    }

    // MARK: Readings and hardware errors

    private func refreshReadings(at time: MonotonicInstant, current: Double) {
        guard !freezesReadings else { return }
        let sinceBoot = max(0, time.nanoseconds(since: bootedAt)) / Nanoseconds.perMillisecond
        setUInt16(Table.realtimeTick, UInt16(sinceBoot % 32_768))
        let velocity = Self.rounded32(measuredVelocityUnits)
        setInt32(Table.presentVelocity, velocity)
        table[Table.moving] = abs(Int64(velocity)) > Int64(uint32(Table.movingThreshold)) ? 1 : 0
        setInt16(Table.presentCurrent, Int16(clamping: Self.rounded32(current / Dynamixel.Units.currentAmperes)))
        let pwm = supplyVoltageVolts > 0 ? appliedVolts / supplyVoltageVolts * Dynamixel.Units.pwmFullScale : 0
        setInt16(Table.presentPWM, Int16(clamping: Self.rounded32(min(max(pwm, -Dynamixel.Units.pwmFullScale), Dynamixel.Units.pwmFullScale))))
        let present = presentPosition
        setInt32(Table.presentPosition, Int32(truncatingIfNeeded: present))
        var status: UInt8 = 0
        switch table[Table.operatingMode] {
        case 1:
            setInt32(Table.velocityTrajectory, Self.rounded32(velocityTarget))
            setInt32(Table.positionTrajectory, 0)
            if isTorqueOn && velocityTarget != Double(int32(Table.goalVelocity)) { status |= 0x02 }
        case 3, 4, 5:
            setInt32(Table.velocityTrajectory, Self.rounded32(trajectoryVelocity / Self.countsPerSecondPerVelocityUnit))
            setInt32(Table.positionTrajectory, Self.rounded32(trajectoryPosition))
            let goal = Double(int32(Table.goalPosition))
            if isTorqueOn {
                // Bit 1: the profile is under way; bit 0: in position (within 10 pulses of the goal).
                if trajectoryPosition != goal {
                    status |= 0x02
                } else if abs(goal - Double(present)) <= 10 {
                    status |= 0x01
                }
            }
        default:
            setInt32(Table.velocityTrajectory, 0)
            setInt32(Table.positionTrajectory, 0)
        }
        table[Table.movingStatus] = status
        setUInt16(Table.presentInputVoltage, UInt16(clamping: Self.rounded32(supplyVoltageVolts / Dynamixel.Units.voltageVolts)))
        table[Table.presentTemperature] = UInt8(clamping: Self.rounded32(plant.temperatureCelsius))
    }

    private func checkHardware(at time: MonotonicInstant, current: Double) {
        if Self.rounded32(plant.temperatureCelsius) > Int32(table[Table.temperatureLimit]) {
            latchHardwareError(Dynamixel.HardwareError.overheating, at: time)
        }
        let volts = Int64(Self.rounded32(supplyVoltageVolts / Dynamixel.Units.voltageVolts))
        if volts > Int64(uint16(Table.maxVoltageLimit)) || volts < Int64(uint16(Table.minVoltageLimit)) {
            latchHardwareError(Dynamixel.HardwareError.inputVoltage, at: time)
        }
        // Overload: the output held at its limit (README §6.4: "persistent load above the maximum output").
        if isTorqueOn && currentCap > 0.01 && abs(current) >= 0.95 * currentCap {
            if let since = overloadSince {
                if time.nanoseconds(since: since) > overloadTripNanoseconds {
                    latchHardwareError(Dynamixel.HardwareError.overload, at: time)
                }
            } else {
                overloadSince = time
            }
        } else {
            overloadSince = nil
        }
    }

    // MARK: The table's bytes

    /// Indirect Data k is the byte its Indirect Address names (README §6.2, §7.2); one naming an indirect data byte
    /// (the power-up value names itself) is plain storage.
    private func resolve(_ address: Int) -> Int {
        let slot: Int
        if address >= Table.indirectData1 && address < Table.indirectData1 + Table.indirectItemsPerBlock {
            slot = Table.indirectAddress1 + 2 * (address - Table.indirectData1)
        } else if address >= Table.indirectData29 && address < Table.indirectData29 + Table.indirectItemsPerBlock {
            slot = Table.indirectAddress29 + 2 * (address - Table.indirectData29)
        } else {
            return address
        }
        let target = Int(uint16(slot))
        return target >= Table.ramStart && target < Table.size ? target : address
    }

    private func readByte(_ address: Int) -> UInt8 {
        if let model = reportedModelNumber, address == Table.modelNumber || address == Table.modelNumber + 1 {
            return UInt8(truncatingIfNeeded: address == Table.modelNumber ? model : model >> 8)
        }
        return table[address]
    }

    private func value(of item: Table.Item, reading byte: (Int) -> UInt8) -> Int64 {
        var raw: UInt64 = 0
        for offset in 0..<item.size { raw |= UInt64(byte(item.address + offset)) << UInt64(8 * offset) }
        guard item.isSigned else { return Int64(bitPattern: raw) }
        let shift = UInt64(64 - 8 * item.size)
        return Int64(bitPattern: raw << shift) >> Int64(shift)
    }

    private func setValue(_ item: Table.Item, _ value: Int64) {
        for offset in 0..<item.size { table[item.address + offset] = UInt8(truncatingIfNeeded: value >> Int64(8 * offset)) }
    }

    private func uint16(_ address: Int) -> UInt16 { UInt16(table[address]) | UInt16(table[address + 1]) << 8 }
    private func uint32(_ address: Int) -> UInt32 { UInt32(uint16(address)) | UInt32(uint16(address + 2)) << 16 }
    private func int16(_ address: Int) -> Int16 { Int16(bitPattern: uint16(address)) }
    private func int32(_ address: Int) -> Int32 { Int32(bitPattern: uint32(address)) }

    private func setUInt16(_ address: Int, _ value: UInt16) {
        table[address] = UInt8(truncatingIfNeeded: value)
        table[address + 1] = UInt8(truncatingIfNeeded: value >> 8)
    }

    private func setUInt32(_ address: Int, _ value: UInt32) {
        setUInt16(address, UInt16(truncatingIfNeeded: value))
        setUInt16(address + 2, UInt16(truncatingIfNeeded: value >> 16))
    }

    private func setInt16(_ address: Int, _ value: Int16) { setUInt16(address, UInt16(bitPattern: value)) }
    private func setInt32(_ address: Int, _ value: Int32) { setUInt32(address, UInt32(bitPattern: value)) }

    /// Rounded and saturated; a non-finite value becomes 0.
    private static func rounded32(_ value: Double) -> Int32 {
        guard value.isFinite else { return 0 }
        return Int32(min(max(value.rounded(), -2_147_483_648), 2_147_483_647))
    }
}
