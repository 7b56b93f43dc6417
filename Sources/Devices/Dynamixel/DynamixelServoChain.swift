import DeviceModel
import Platform
import Primitives
import Transport
import Wire

/// A rehabilitation device built from a chain of Dynamixel X-series servos on one Protocol 2.0 bus,
/// one servo per joint (protocols/dynamixel/README.md §7): the `ActuatedDevice` for `"dynamixel/2.0"`.
///
/// The servos run in Current-based Position Control (Operating Mode 5), chosen over Current Control
/// because it gives what the session needs without switching modes while torque is on (README §6.5):
/// - a torque: Goal Current = |τ| / (kt·gear) with Goal Position at the soft limit the torque pushes
///   toward, so the servo's position loop saturates and delivers Goal Current; within a few degrees of
///   that limit the push fades (the loop is no longer saturated), and it never pushes past it;
/// - SR-5's local hold: Goal Position = the hold position on the servo's own loop, current capped;
/// - a Cat 1 stop (host-ramped velocity): Goal Position follows the ramp's integral, current capped;
/// - a Cat 0 stop: Torque Enable = 0.
/// A host that falls silent leaves each servo holding its last Goal Position (always inside the soft
/// limits), current capped, until the Bus Watchdog stops it (SR-3).
///
/// Set-up (identify, configure, activate) uses `DynamixelBusClient`, one instruction at a time. Each
/// cycle is one Sync Write of the write record and one Fast Sync Read of the read record, both through
/// indirect addresses, and allocates nothing.
public final class DynamixelServoChain: ActuatedDevice, ByteLinkDriver {
    public let link: ByteLink
    public let clock: LoopClock
    /// The servos in joint order.
    public let servos: [DynamixelJointServo]
    public let jointCount: Int
    /// The model name the profile expects (reported when every servo is the model its profile names).
    public let modelName: String
    /// How long a set-up request waits for its status packet.
    public var requestTimeoutNanoseconds: Int64 = 100 * Nanoseconds.perMillisecond {
        didSet { client.replyTimeoutNanoseconds = requestTimeoutNanoseconds }
    }

    public private(set) var latestState: RobotState
    public private(set) var linkError: TransportError?
    public var name: String { link.name }
    public let capabilities: DeviceCapabilities

    // MARK: The cycle records (README §7.2)

    /// What each servo reports every cycle, in order, through Indirect Address 1 …: Present Current,
    /// Present Velocity, Present Position, Hardware Error Status, Torque Enable, Bus Watchdog, Present
    /// Temperature — 14 bytes at Indirect Data 1.
    static let readRecordItems: [(address: Int, size: Int)] = [
        (Dynamixel.ControlTable.presentCurrent, 2), (Dynamixel.ControlTable.presentVelocity, 4),
        (Dynamixel.ControlTable.presentPosition, 4), (Dynamixel.ControlTable.hardwareErrorStatus, 1),
        (Dynamixel.ControlTable.torqueEnable, 1), (Dynamixel.ControlTable.busWatchdog, 1),
        (Dynamixel.ControlTable.presentTemperature, 1),
    ]
    /// What the host writes every cycle, after the read record: Goal Current, Goal Position — 6 bytes.
    static let writeRecordItems: [(address: Int, size: Int)] = [
        (Dynamixel.ControlTable.goalCurrent, 2), (Dynamixel.ControlTable.goalPosition, 4),
    ]
    static let readRecordLength = readRecordItems.reduce(0) { $0 + $1.size }
    static let writeRecordLength = writeRecordItems.reduce(0) { $0 + $1.size }
    static let readRecordAddress = Dynamixel.ControlTable.indirectData1
    static let writeRecordAddress = Dynamixel.ControlTable.indirectData1 + readRecordLength
    /// Indirect Address 1 … 20: the control-table address of every record byte, read record first.
    static let indirectAddresses: [UInt16] = (readRecordItems + writeRecordItems).flatMap { item in
        (0..<item.size).map { UInt16(item.address + $0) }
    }
    /// The position loop's settings for the torque and hold mapping (README §7): P 800 (the X-series
    /// default) and D 4000, no I, no feedforward, no profile; every write answered (Status Return Level 2).
    static let positionLoopSettings: [(address: Int, size: Int, value: Int64, name: String)] = [
        (Dynamixel.ControlTable.statusReturnLevel, 1, 2, "Status Return Level"),
        (Dynamixel.ControlTable.positionDGain, 2, 4_000, "Position D Gain"), (Dynamixel.ControlTable.positionIGain, 2, 0, "Position I Gain"),
        (Dynamixel.ControlTable.positionPGain, 2, 800, "Position P Gain"),
        (Dynamixel.ControlTable.feedforward2ndGain, 2, 0, "Feedforward 2nd Gain"),
        (Dynamixel.ControlTable.feedforward1stGain, 2, 0, "Feedforward 1st Gain"),
        (Dynamixel.ControlTable.profileAcceleration, 4, 0, "Profile Acceleration"),
        (Dynamixel.ControlTable.profileVelocity, 4, 0, "Profile Velocity"),
    ]
    /// Current-based Position Control.
    static let operatingMode: Int64 = 5
    /// Every hardware error shuts the motor down (README §6.4).
    static let shutdownMask = Int64(Dynamixel.HardwareError.defined)

    private let client: DynamixelBusClient
    private var ids = Dynamixel.DeviceList<UInt8>()
    private var decoder = Dynamixel.PacketDecoder()
    private var packet = Dynamixel.EncodedPacket()
    private var cycleReadPacket = Dynamixel.EncodedPacket()
    /// A chain of different models reads its records by Fast Bulk Read, one entry per servo (README §7.2);
    /// one model, by Fast Sync Read.
    private var bulkReadEntries = Dynamixel.DeviceList<Dynamixel.BulkReadEntry>()
    private let readsInBulk: Bool
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4_096, alignment: 1)
    /// The write record of every servo, back to back; and one zero byte per servo (Torque Enable and
    /// Bus Watchdog writes).
    private let writeData: UnsafeMutableRawBufferPointer
    private let zeroBytes: UnsafeMutableRawBufferPointer

    /// Per joint, from `configure`'s read-back: the soft limits in servo counts (low ≤ high) and the
    /// Current Limit in 2.69 mA units.
    private var softLowCounts: JointList<Int32>
    private var softHighCounts: JointList<Int32>
    private var currentCapUnits: JointList<Int16>
    private var lastPresentCounts: JointList<Int32>
    private var velocityReferenceRadians: JointList<Double>
    private var lastModes: JointList<JointActuation.Mode>
    private var lastCycleWriteAt = MonotonicInstant.zero
    private var isConfigured = false
    /// Whether this driver has written the cycle records' indirect addresses (RAM: lost at a reboot).
    private var isCycleRecordMapped = false
    private var isActive = false

    /// When each Fast Sync Read still unanswered was written, oldest first (a ring).
    private var pendingReads = InlineArray<8, MonotonicInstant>(repeating: .zero)
    private var pendingReadStart = 0
    private var pendingReadCount = 0
    /// The bytes of one Fast Sync Read reply on the wire (README §5.14: 8 + Σ (4 + record)).
    private let cycleReplyWireBytes: UInt64
    /// The decoder's discarded bytes when the last cycle reply arrived: a whole reply's worth discarded
    /// since then is a reply the line damaged, and its read is retired (see `accept`).
    private var discardedBytesAtLastReply: UInt64 = 0

    private var protocolViolations = 0
    private var unexpectedReplies = 0
    private var unansweredReads = 0
    private var lastRoundTripNanoseconds: Int64?

    public init(link: ByteLink, servos: [DynamixelJointServo], modelName: String, clock: LoopClock = MonotonicClock.shared) {
        precondition(servos.count <= JointList<Double>.capacity)
        self.link = link
        self.clock = clock
        self.servos = servos
        self.modelName = modelName
        jointCount = servos.count
        cycleReplyWireBytes = UInt64(8 + servos.count * (4 + Self.readRecordLength))
        client = DynamixelBusClient(link: link, replyTimeoutNanoseconds: 100 * Nanoseconds.perMillisecond, clock: clock)
        latestState = RobotState(jointCount: servos.count)
        for servo in servos { _ = ids.append(servo.id) }
        readsInBulk = Set(servos.map(\.modelNumber)).count > 1
        for servo in servos {
            _ = bulkReadEntries.append(
                Dynamixel.BulkReadEntry(id: servo.id, address: UInt16(Self.readRecordAddress), length: UInt16(Self.readRecordLength)))
        }
        writeData = .allocate(byteCount: max(1, servos.count * Self.writeRecordLength), alignment: 8)
        writeData.initializeMemory(as: UInt8.self, repeating: 0)
        zeroBytes = .allocate(byteCount: max(1, servos.count), alignment: 8)
        zeroBytes.initializeMemory(as: UInt8.self, repeating: 0)
        softLowCounts = JointList(count: servos.count, repeating: 0)
        softHighCounts = JointList(count: servos.count, repeating: 0)
        currentCapUnits = JointList(count: servos.count, repeating: 0)
        lastPresentCounts = JointList(count: servos.count, repeating: 0)
        velocityReferenceRadians = JointList(count: servos.count, repeating: 0)
        lastModes = JointList(count: servos.count, repeating: .off)
        capabilities = DeviceCapabilities(
            controlModes: [.torque, .velocity, .localHold], torqueOff: .disableTorque, quickStop: .hostVelocityRamp,
            pause: .hostImpedanceHold,
            // Bus Watchdog counts in 20 ms; the host's SR-3 allows at most 50 ms (README §6.6).
            watchdogPeriodRangeNanoseconds: Dynamixel.Units.busWatchdogNanoseconds...(2 * Dynamixel.Units.busWatchdogNanoseconds),
            positionResolutionRadians: servos.map(\.positionResolutionRadians).max() ?? 0,
            velocityResolutionRadiansPerSecond: servos.map(\.velocityResolutionRadiansPerSecond).max() ?? 0,
            torqueResolutionNewtonMeters: servos.map(\.torqueResolutionNewtonMeters).max() ?? 0,
            maximumJoints: min(JointList<Double>.capacity, Dynamixel.DeviceList<UInt8>.capacity), holdsSafetyLimits: true)
        if servos.isEmpty {
        } else if readsInBulk {
            try? Dynamixel.PacketEncoder.fastBulkRead(bulkReadEntries, into: &cycleReadPacket)
        } else {
            try? Dynamixel.PacketEncoder.fastSyncRead(
                address: UInt16(Self.readRecordAddress), length: UInt16(Self.readRecordLength), ids: ids, into: &cycleReadPacket)
        }
    }

    deinit {
        readBuffer.deallocate()
        writeData.deallocate()
        zeroBytes.deallocate()
    }

    public var linkHealth: LinkHealth {
        var health = LinkHealth()
        let statistics = decoder.statistics
        health.checksumErrors = Int(clamping: statistics.crcErrors)
        health.malformedFrames = Int(clamping: statistics.malformedFrames &+ statistics.oversizeFrames &+ statistics.rejectedPackets)
        health.discardedBytes = Int(clamping: statistics.discardedBytes)
        health.staleStates = unexpectedReplies
        health.protocolViolations = protocolViolations
        health.unansweredRequests = unansweredReads
        health.lastRoundTripNanoseconds = lastRoundTripNanoseconds
        health.lastReplyAt = latestState.isValid ? latestState.receivedAt : nil
        return health
    }

    /// A Sync Write carries no reply, so nothing shows whether a servo applied it (SR-25 cannot age a
    /// command here; a refused Goal write after a Bus Watchdog expiry shows in the read record instead).
    public var oldestUnechoedCommandAt: MonotonicInstant? { nil }

    // MARK: Set-up

    public func identify() throws(DeviceError) -> DeviceIdentityInfo {
        try requireServos()
        var firmware = UInt8.max
        var mismatches: [String] = []
        var ratings: [DeviceIdentityInfo.JointRating] = []
        for servo in servos {
            let reply = try setUp("PING", servo) { (client: DynamixelBusClient) throws(DynamixelBusError) in try client.ping(id: servo.id) }
            firmware = min(firmware, reply.firmwareVersion)
            if reply.modelNumber != servo.modelNumber {
                mismatches.append("model number \(reply.modelNumber) on ID \(servo.id) (the profile's servo there is \(servo.modelNumber))")
            }
            let model = DynamixelServoModel.model(number: reply.modelNumber)
            ratings.append(
                DeviceIdentityInfo.JointRating(
                    positionMinimumRadians: 0, positionMaximumRadians: 0,
                    velocityMaximumRadiansPerSecond: (model?.noLoadSpeedRadiansPerSecond ?? 0) / servo.gearRatio,
                    torqueMaximumNewtonMeters: (model?.stallTorqueNewtonMeters ?? 0) * servo.gearRatio,
                    encoderCountsPerRevolution: Int((Double(Dynamixel.Units.countsPerRevolution) * servo.gearRatio).rounded()),
                    hardLimitsKnown: false))
        }
        let models = Set(servos.map(\.modelNumber)).compactMap { DynamixelServoModel.model(number: $0)?.name }
        let model: String
        if !mismatches.isEmpty {
            model = mismatches.joined(separator: "; ")
        } else if models.count == 1, models[0] == modelName {
            model = modelName
        } else {
            model = models.sorted().joined(separator: " + ")
        }
        return DeviceIdentityInfo(
            model: model, serialNumber: "Dynamixel ID " + servos.map { String($0.id) }.joined(separator: ", "),
            firmware: "\(firmware).0.0", protocolVersion: 2, joints: ratings)
    }

    public func requestFreshState() throws(DeviceError) -> RobotState {
        try requireServos()
        try mapCycleRecord()
        // Once, before the attempts: a late reply to one attempt is then taken as that attempt's (older),
        // never as a later one's.
        resetCycleExchange()
        for _ in 0..<3 {
            guard sendCycleRead(now: clock.now(), deadline: clock.now().advanced(byNanoseconds: requestTimeoutNanoseconds)) else {
                throw .transport(linkError!)
            }
            if waitForState(until: clock.now().advanced(byNanoseconds: requestTimeoutNanoseconds)) { return latestState }
            if let linkError { throw .transport(linkError) }
        }
        throw .noAnswer(port: name, request: (readsInBulk ? "FAST BULK READ" : "FAST SYNC READ") + " of the cycle record", waitedMilliseconds: Int(requestTimeoutNanoseconds / Nanoseconds.perMillisecond))
    }

    /// SR-24 for a servo chain (README §7.1): with torque off, each servo's EEPROM gets Return Delay
    /// Time 0, Drive Mode 0 (never "torque on by goal update"), Operating Mode 5, Shutdown on every
    /// hardware error, Current Limit = the smaller torque cap, Velocity Limit = the velocity trip, and
    /// Min/Max Position Limit = the soft limits (in servo counts, rounded inward); its RAM gets the cycle
    /// records' indirect addresses and the position loop's settings. Every value is read back.
    ///
    /// What the firmware enforces of these in Operating Mode 5: the Current Limit (symmetric: the host's
    /// per-direction caps stay the host's), and the Shutdown errors. The position limits bound only the
    /// Goal Positions the host computes (the driver never sends one outside them, so a servo left alone
    /// holds inside them); the Velocity Limit bounds only profiles. The host's supervisor remains the
    /// channel for speed.
    public func configure(_ limits: DeviceSafetyLimits) throws(DeviceError) {
        try requireServos()
        let invalid = limits.problems(jointCount: jointCount)
        guard invalid.isEmpty else { throw .safetyLimitsNotConfirmed(port: name, problems: invalid) }
        isConfigured = false
        var problems: [String] = []
        var lows = softLowCounts, highs = softHighCounts, caps = currentCapUnits
        for (joint, servo) in servos.enumerated() {
            let wanted = limits.joints[joint]
            try write(servo, Dynamixel.ControlTable.torqueEnable, size: 1, value: 0, name: "Torque Enable", problems: &problems)
            try write(servo, Dynamixel.ControlTable.busWatchdog, size: 1, value: 0, name: "Bus Watchdog", problems: &problems)
            let ends = [servo.servoCounts(jointRadians: wanted.softMinimumRadians), servo.servoCounts(jointRadians: wanted.softMaximumRadians)]
            let low = (ends.min() ?? 0).rounded(.up)
            let high = (ends.max() ?? 0).rounded(.down)
            let cap = servo.currentUnits(jointNewtonMeters: min(wanted.torqueCapPositiveNewtonMeters, wanted.torqueCapNegativeNewtonMeters))
                .rounded(.down)
            let speed = servo.velocityUnits(jointRadiansPerSecond: wanted.velocityTripRadiansPerSecond).rounded(.down)
            let settings: [(address: Int, size: Int, value: Int64, name: String)] = [
                (Dynamixel.ControlTable.returnDelayTime, 1, 0, "Return Delay Time"),
                (Dynamixel.ControlTable.driveMode, 1, 0, "Drive Mode"),
                (Dynamixel.ControlTable.operatingMode, 1, Self.operatingMode, "Operating Mode"),
                (Dynamixel.ControlTable.shutdown, 1, Self.shutdownMask, "Shutdown"),
                (Dynamixel.ControlTable.currentLimit, 2, Self.integer(cap), "Current Limit (the torque cap, \(Self.format(wanted.torqueCapPositiveNewtonMeters, wanted.torqueCapNegativeNewtonMeters)) at the joint)"),
                (Dynamixel.ControlTable.velocityLimit, 4, Self.integer(speed), "Velocity Limit (the velocity trip, \(wanted.velocityTripRadiansPerSecond) rad/s at the joint)"),
                (Dynamixel.ControlTable.minPositionLimit, 4, Self.integer(low), "Min Position Limit (a soft limit)"),
                (Dynamixel.ControlTable.maxPositionLimit, 4, Self.integer(high), "Max Position Limit (a soft limit)"),
            ] + Self.positionLoopSettings
            for setting in settings {
                try write(servo, setting.address, size: setting.size, value: setting.value, name: setting.name, problems: &problems)
            }
            if low < 0 || high > 4_095 {
                problems.append(
                    "servo ID \(servo.id): the soft limits are servo positions \(Self.integer(low)) … \(Self.integer(high)), outside 0 … 4095, which Min/Max Position Limit take; set the servo's zero_offset_deg so that the joint's range lies within one turn of the servo (180 puts the joint's zero at the middle)")
            }
            let indirect = Self.indirectAddresses.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
            do throws(DynamixelBusError) {
                try client.write(id: servo.id, address: Dynamixel.ControlTable.indirectAddress1, bytes: indirect)
                let back = try client.read(id: servo.id, address: Dynamixel.ControlTable.indirectAddress1, length: indirect.count).bytes
                if back != indirect { problems.append("servo ID \(servo.id): Indirect Address 1 … \(Self.indirectAddresses.count) read back differently") }
            } catch {
                try rethrowUnlessRefused(error, servo: servo, what: "Indirect Address 1 … \(Self.indirectAddresses.count)", problems: &problems)
            }
            for setting in settings {
                guard let back = try readBack(servo, setting.address, size: setting.size, name: setting.name, problems: &problems) else { continue }
                if back != setting.value {
                    problems.append("servo ID \(servo.id) \(setting.name) (\(setting.address)): wrote \(setting.value), read back \(back)")
                }
            }
            lows[joint] = Int32(clamping: Self.integer(low))
            highs[joint] = Int32(clamping: Self.integer(high))
            caps[joint] = Int16(clamping: Self.integer(cap))
        }
        guard problems.isEmpty else { throw .safetyLimitsNotConfirmed(port: name, problems: problems) }
        softLowCounts = lows
        softHighCounts = highs
        currentCapUnits = caps
        isConfigured = true
    }

    /// Goal Current 0 (read back: an Operating Mode change sets it to the Current Limit, README §6.5),
    /// Goal Position where the servo is, the Bus Watchdog cleared and armed, Torque Enable 1; then the
    /// Bus Watchdog and Torque Enable read back from every servo (SR-3).
    public func activate(watchdogPeriodNanoseconds: Int64) throws(DeviceError) -> Int64 {
        try requireServos()
        guard isConfigured else {
            throw .notReady(port: name, reason: "the servos' limits were not written and read back (configure) before enable")
        }
        let unit = Dynamixel.Units.busWatchdogNanoseconds
        let periods = watchdogPeriodNanoseconds / unit
        guard watchdogPeriodNanoseconds % unit == 0, (1...2).contains(periods) else {
            throw .refused(
                port: name, request: "Bus Watchdog \(Double(watchdogPeriodNanoseconds) / 1e6) ms",
                reason: "the X-series Bus Watchdog counts in steps of 20 ms (20 or 40 ms within the host's 50 ms, README §6.6)")
        }
        var problems: [String] = []
        do throws(DeviceError) {
            for servo in servos {
                try write(servo, Dynamixel.ControlTable.goalCurrent, size: 2, value: 0, name: "Goal Current", problems: &problems)
                if let back = try readBack(servo, Dynamixel.ControlTable.goalCurrent, size: 2, name: "Goal Current", problems: &problems), back != 0 {
                    problems.append("servo ID \(servo.id) Goal Current: wrote 0, read back \(back)")
                }
                if let present = try readBack(servo, Dynamixel.ControlTable.presentPosition, size: 4, name: "Present Position", problems: &problems) {
                    try write(servo, Dynamixel.ControlTable.goalPosition, size: 4, value: present, name: "Goal Position", problems: &problems)
                }
                try write(servo, Dynamixel.ControlTable.busWatchdog, size: 1, value: 0, name: "Bus Watchdog", problems: &problems)
            }
            guard problems.isEmpty else { throw DeviceError.refused(port: name, request: "enable", reason: problems.joined(separator: "; ")) }
            for servo in servos {
                try write(servo, Dynamixel.ControlTable.busWatchdog, size: 1, value: periods, name: "Bus Watchdog", problems: &problems)
                try write(servo, Dynamixel.ControlTable.torqueEnable, size: 1, value: 1, name: "Torque Enable", problems: &problems)
            }
            guard problems.isEmpty else { throw DeviceError.refused(port: name, request: "enable", reason: problems.joined(separator: "; ")) }
            for servo in servos {
                let watchdog = try readBack(servo, Dynamixel.ControlTable.busWatchdog, size: 1, name: "Bus Watchdog", problems: &problems)
                if watchdog == 0xFF {
                    throw DeviceError.refused(
                        port: name, request: "Bus Watchdog on servo ID \(servo.id)",
                        reason: "it expired at once (it reads −1, README §6.6): the servo saw no instruction within the period")
                }
                guard watchdog == periods else {
                    throw DeviceError.watchdogNotConfirmed(
                        port: name, requestedMicroseconds: Int(watchdogPeriodNanoseconds / 1_000),
                        confirmedMicroseconds: Int((watchdog ?? 0) * unit / 1_000))
                }
                let torque = try readBack(servo, Dynamixel.ControlTable.torqueEnable, size: 1, name: "Torque Enable", problems: &problems)
                if torque != 1 {
                    throw DeviceError.refused(
                        port: name, request: "Torque Enable on servo ID \(servo.id)",
                        reason: "it stayed off (a hardware error latched in Shutdown needs a reboot, README §6.4)")
                }
            }
        } catch {
            // Never leave a servo powered that the host could not confirm.
            try? deactivate()
            throw error
        }
        resetCycleExchange()
        for joint in 0..<jointCount { lastModes[joint] = .off }
        isActive = true
        return periods * unit
    }

    /// Torque Enable 0 on every servo (each tried even when one fails), then the Bus Watchdog off.
    public func deactivate() throws(DeviceError) {
        try requireServos()
        var first: DeviceError?
        var problems: [String] = []
        for servo in servos {
            do throws(DeviceError) {
                try write(servo, Dynamixel.ControlTable.torqueEnable, size: 1, value: 0, name: "Torque Enable", problems: &problems)
                try write(servo, Dynamixel.ControlTable.busWatchdog, size: 1, value: 0, name: "Bus Watchdog", problems: &problems)
            } catch {
                first = first ?? error
            }
        }
        isActive = false
        if let first { throw first }
        guard problems.isEmpty else { throw .refused(port: name, request: "disable", reason: problems.joined(separator: "; ")) }
    }

    // MARK: The cycle

    public func read(now: MonotonicInstant) -> ReadOutcome {
        if linkError != nil { return .linkLost }
        let fresh = collect(now: now)
        if linkError != nil { return .linkLost }
        return fresh ? .freshState : .nothingNew
    }

    @discardableResult
    public func write(_ intent: DeviceIntent, now: MonotonicInstant, deadline: MonotonicInstant) -> Bool {
        guard linkError == nil, jointCount > 0 else { return false }
        switch intent {
        case .command(let actuation), .quickStop(let actuation):
            fillWriteRecord(actuation, now: now)
            guard syncWrite(address: Self.writeRecordAddress, length: Self.writeRecordLength, data: UnsafeRawBufferPointer(writeData), deadline: deadline)
            else { return false }
        case .torqueOff:
            guard syncWrite(address: Dynamixel.ControlTable.torqueEnable, length: 1, data: UnsafeRawBufferPointer(zeroBytes), deadline: deadline)
            else { return false }
        case .observe:
            break
        case .faultReset:
            // Torque off first (the e-Manual does not say that an expiry turned it off, §6.6), then Bus
            // Watchdog 0 clears the expiry; the device counts as disabled until `activate` arms the
            // watchdog again. A hardware error latched by Shutdown needs a Reboot, which resets the RAM
            // the cycle relies on: that is a new session's set-up (README §6.4), not a cycle's.
            isActive = false
            guard syncWrite(address: Dynamixel.ControlTable.torqueEnable, length: 1, data: UnsafeRawBufferPointer(zeroBytes), deadline: deadline),
                syncWrite(address: Dynamixel.ControlTable.busWatchdog, length: 1, data: UnsafeRawBufferPointer(zeroBytes), deadline: deadline)
            else { return false }
        }
        return sendCycleRead(now: now, deadline: deadline)
    }

    public func waitForState(until deadline: MonotonicInstant) -> Bool { waitForFreshState(until: deadline) }

    package func linkFailed(_ error: TransportError) { linkError = error }

    /// Each joint's Goal Current and Goal Position for this cycle's actuation, into `writeData`.
    private func fillWriteRecord(_ actuation: JointList<JointActuation>, now: MonotonicInstant) {
        let elapsed = lastCycleWriteAt == .zero ? 0 : now.nanoseconds(since: lastCycleWriteAt)
        // A ramp integrates over at most 40 ms (the longest watchdog): a longer gap is a stall, not motion.
        let seconds = Double(min(max(0, elapsed), 2 * Dynamixel.Units.busWatchdogNanoseconds)) / 1e9
        lastCycleWriteAt = now
        for joint in 0..<jointCount {
            let servo = servos[joint]
            // A joint the actuation does not name is off, never left with last cycle's record.
            let command = joint < actuation.count ? actuation[joint] : .off
            var current: Int16 = 0
            var position = min(max(lastPresentCounts[joint], softLowCounts[joint]), softHighCounts[joint])
            switch command.mode {
            case .off:
                break
            case .torque:
                let units = servo.currentUnits(jointNewtonMeters: command.torqueNewtonMeters).rounded(.down)
                let pushesServoUp = (command.torqueNewtonMeters > 0) == servo.servoTurnsWithJoint
                let limit = pushesServoUp ? softHighCounts[joint] : softLowCounts[joint]
                // At or past the limit it pushes toward, the servo's loop would push back: no torque there.
                let roomLeft = pushesServoUp ? lastPresentCounts[joint] < limit : lastPresentCounts[joint] > limit
                if units.isFinite && units >= 1 && roomLeft {
                    current = Int16(min(units, Double(currentCapUnits[joint])))
                    position = limit
                }
            case .hold:
                position = clampedCounts(servo.servoCounts(jointRadians: command.positionRadians), joint: joint)
                current = currentCapUnits[joint]
            case .velocity:
                if lastModes[joint] != .velocity { velocityReferenceRadians[joint] = latestState.joints[joint].positionRadians }
                if command.velocityRadiansPerSecond.isFinite { velocityReferenceRadians[joint] += command.velocityRadiansPerSecond * seconds }
                position = clampedCounts(servo.servoCounts(jointRadians: velocityReferenceRadians[joint]), joint: joint)
                current = currentCapUnits[joint]
            }
            lastModes[joint] = command.mode
            let base = joint * Self.writeRecordLength
            let currentBits = UInt16(bitPattern: current)
            let positionBits = UInt32(bitPattern: position)
            writeData[base] = UInt8(truncatingIfNeeded: currentBits)
            writeData[base + 1] = UInt8(truncatingIfNeeded: currentBits >> 8)
            for byte in 0..<4 { writeData[base + 2 + byte] = UInt8(truncatingIfNeeded: positionBits >> (8 * UInt32(byte))) }
        }
    }

    /// A servo position inside the joint's soft limits; the last measured one when not a number.
    private func clampedCounts(_ counts: Double, joint: Int) -> Int32 {
        guard counts.isFinite else { return min(max(lastPresentCounts[joint], softLowCounts[joint]), softHighCounts[joint]) }
        return Int32(min(max(counts.rounded(), Double(softLowCounts[joint])), Double(softHighCounts[joint])))
    }

    private func syncWrite(address: Int, length: Int, data: UnsafeRawBufferPointer, deadline: MonotonicInstant) -> Bool {
        do throws(Dynamixel.EncodingError) {
            try Dynamixel.PacketEncoder.syncWrite(
                address: UInt16(address), length: UInt16(length), ids: ids, data: UnsafeRawBufferPointer(rebasing: data[0..<(jointCount * length)]),
                into: &packet)
        } catch {
            protocolViolations += 1
            return false
        }
        return send(packet, deadline: deadline)
    }

    private func sendCycleRead(now: MonotonicInstant, deadline: MonotonicInstant) -> Bool {
        guard send(cycleReadPacket, deadline: deadline) else { return false }
        if pendingReadCount == 8 {
            // Eight reads outstanding: the oldest will not be answered. Until then a reply is taken as
            // the oldest read's, so a lost reply makes later states look older, never newer.
            pendingReadStart = (pendingReadStart + 1) % 8
            pendingReadCount -= 1
            unansweredReads += 1
        }
        pendingReads[(pendingReadStart + pendingReadCount) % 8] = now
        pendingReadCount += 1
        return true
    }

    private func send(_ packet: Dynamixel.EncodedPacket, deadline: MonotonicInstant) -> Bool {
        guard linkError == nil else { return false }
        do throws(TransportError) {
            try packet.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws(TransportError) in try link.write(bytes, deadline: deadline) }
        } catch {
            linkError = error
            return false
        }
        return true
    }

    /// Forgets replies still on their way (set-up and enable start the exchange afresh).
    private func resetCycleExchange() {
        while let count = try? link.readAvailable(into: readBuffer), count > 0 {}
        decoder.reset()
        discardedBytesAtLastReply = decoder.statistics.discardedBytes
        pendingReadStart = 0
        pendingReadCount = 0
        lastCycleWriteAt = .zero
    }

    // MARK: Decoding

    /// Reads all pending bytes; true when a fresh state arrived.
    package func collect(now: MonotonicInstant) -> Bool {
        var fresh = false
        while linkError == nil {
            let count: Int
            do throws(TransportError) {
                count = try link.readAvailable(into: readBuffer)
            } catch {
                linkError = error
                break
            }
            if count == 0 { break }
            var local = decoder
            for index in 0..<count {
                guard let result = local.push(readBuffer[index]) else { continue }
                guard case .packet(let reply) = result, reply.isFastReadReply else { continue }
                let discarded = local.statistics.discardedBytes &- discardedBytesAtLastReply
                discardedBytesAtLastReply = local.statistics.discardedBytes
                retireDamagedReads(Int(clamping: discarded / cycleReplyWireBytes))
                if accept(reply, now: now) { fresh = true }
            }
            decoder = local
            if count < readBuffer.count { break }
        }
        return fresh
    }

    /// Retires the oldest `count` reads (keeping one for the reply in hand): their replies arrived damaged.
    ///
    /// A reply the line damaged is lost, and the next one would otherwise be taken as the lost one's
    /// answer — every later state dated a period too old, for good: one byte in 997 damaged held a 1 kHz
    /// session FAIR and then POOR. The replies come in order and are of one known size, so each whole
    /// reply's worth of discarded bytes between two good replies is one lost reply, however the damage
    /// split it (a broken header leaves junk, a broken LENGTH swallows the next reply: two replies'
    /// bytes). A reply lost without a trace keeps its read pending: older, never newer.
    private func retireDamagedReads(_ count: Int) {
        let retired = min(count, pendingReadCount - 1)
        guard retired > 0 else { return }
        pendingReadStart = (pendingReadStart + retired) % 8
        pendingReadCount -= retired
        unansweredReads += retired
    }

    /// One Fast Sync Read reply as the newest state; false when it is not one this host asked for.
    private func accept(_ reply: Dynamixel.Packet, now: MonotonicInstant) -> Bool {
        guard pendingReadCount > 0 else {
            unexpectedReplies += 1
            return false
        }
        let writtenAt = pendingReads[pendingReadStart]
        pendingReadStart = (pendingReadStart + 1) % 8
        pendingReadCount -= 1
        let slices: Dynamixel.DeviceList<Dynamixel.FastReadSlice>
        do throws(Dynamixel.FastReadError) {
            slices = readsInBulk
                ? try Dynamixel.FastRead.slices(of: reply, entries: bulkReadEntries)
                : try Dynamixel.FastRead.slices(of: reply, ids: ids, dataLength: Self.readRecordLength)
        } catch {
            protocolViolations += 1
            return false
        }
        let parameters = reply.parameters
        var state = latestState
        var allTorqueOn = true
        var watchdogExpired = false
        var fault = DeviceFault.none
        for joint in 0..<jointCount {
            let slice = slices[joint]
            let offset = slice.dataOffset
            guard slice.error.errorNumber == 0, let current = parameters.littleEndian(Int16.self, at: offset), let velocity = parameters.littleEndian(Int32.self, at: offset + 2),
                let position = parameters.littleEndian(Int32.self, at: offset + 6), let hardwareError = parameters.uint8(at: offset + 10),
                let torque = parameters.uint8(at: offset + 11), let watchdog = parameters.uint8(at: offset + 12),
                let temperature = parameters.uint8(at: offset + 13)
            else {
                protocolViolations += 1
                return false
            }
            let servo = servos[joint]
            var measurement = JointMeasurement()
            measurement.positionRadians = servo.jointRadians(servoCounts: position)
            measurement.velocityRadiansPerSecond = servo.jointRadiansPerSecond(servoVelocityUnits: velocity)
            measurement.motorCurrentAmperes = servo.jointCurrentAmperes(servoCurrentUnits: current)
            measurement.motorTorqueNewtonMeters = servo.jointNewtonMeters(servoCurrentUnits: current)
            measurement.temperatureCelsius = Double(temperature)
            measurement.encoderCounts = Int64(position)
            measurement.torqueLimited = currentCapUnits[joint] > 0 && abs(Int32(current)) >= Int32(currentCapUnits[joint])
            state.joints[joint] = measurement
            lastPresentCounts[joint] = position
            if torque != 1 { allTorqueOn = false }
            if watchdog == 0xFF { watchdogExpired = true }
            if hardwareError != 0 && fault.isNone { fault = Self.fault(hardwareError: hardwareError, id: servo.id) }
        }
        var condition: DeviceCondition = []
        if allTorqueOn && isActive {
            condition.insert(.enabled)
            condition.insert(.torqueOn)
        }
        if watchdogExpired { condition.insert(.watchdogExpired) }
        if !fault.isNone { condition.insert(.fault) }
        state.condition = condition
        state.fault = fault
        // The servos' record carries no cycle clock: the state was sampled after its read instruction
        // was written, on the host's clock.
        state.sampledAt = writtenAt
        state.deviceTimeNanoseconds = writtenAt.nanoseconds(since: .zero)
        state.receivedAt = now
        state.isValid = true
        latestState = state
        lastRoundTripNanoseconds = now.nanoseconds(since: writtenAt)
        return true
    }

    /// Hardware Error Status as the neutral fault (README §6.4), most severe bit first; the device code
    /// is the servo's ID × 256 + the whole byte.
    static func fault(hardwareError: UInt8, id: UInt8) -> DeviceFault {
        let kind: DeviceFault.Kind =
            if hardwareError & Dynamixel.HardwareError.motorEncoder != 0 {
                .encoder
            } else if hardwareError & Dynamixel.HardwareError.electricalShock != 0 {
                .other
            } else if hardwareError & Dynamixel.HardwareError.overload != 0 {
                .overload
            } else if hardwareError & Dynamixel.HardwareError.overheating != 0 {
                .overTemperature
            } else if hardwareError & Dynamixel.HardwareError.inputVoltage != 0 {
                .supplyVoltage
            } else {
                .other
            }
        return DeviceFault(kind: kind, deviceCode: UInt32(id) << 8 | UInt32(hardwareError))
    }

    // MARK: Set-up helpers

    private func requireServos() throws(DeviceError) {
        guard !servos.isEmpty else {
            throw .needsConfiguration(
                port: name,
                reason: "a Dynamixel chain is known by its profile's servos (device.dynamixel.servos): give --profile; without one, find the servos with rehabctl dynamixel scan")
        }
    }

    /// Writes the cycle records' indirect addresses into every servo, once (RAM: allowed with torque
    /// on, but written before anything is enabled: `requestFreshState` comes first).
    private func mapCycleRecord() throws(DeviceError) {
        guard !isCycleRecordMapped else { return }
        let indirect = Self.indirectAddresses.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
        for servo in servos {
            try setUp("WRITE Indirect Address", servo) { (client: DynamixelBusClient) throws(DynamixelBusError) in
                try client.write(id: servo.id, address: Dynamixel.ControlTable.indirectAddress1, bytes: indirect)
            }
        }
        isCycleRecordMapped = true
    }

    /// Writes `value` into `size` bytes at `address`; a servo's refusal becomes a line in `problems`,
    /// silence or a broken link a thrown error.
    private func write(_ servo: DynamixelJointServo, _ address: Int, size: Int, value: Int64, name item: String, problems: inout [String]) throws(DeviceError) {
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * Int64($0))) }
        do throws(DynamixelBusError) {
            try client.write(id: servo.id, address: address, bytes: bytes)
        } catch {
            try rethrowUnlessRefused(error, servo: servo, what: "writing \(item) (\(address)) = \(value)", problems: &problems)
        }
    }

    /// Reads `size` bytes at `address` as a signed little-endian integer of that size; nil when refused.
    private func readBack(_ servo: DynamixelJointServo, _ address: Int, size: Int, name item: String, problems: inout [String]) throws(DeviceError) -> Int64? {
        do throws(DynamixelBusError) {
            let bytes = try client.read(id: servo.id, address: address, length: size).bytes
            var value: UInt64 = 0
            for (index, byte) in bytes.enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
            let shift = UInt64(64 - 8 * size)
            let signed = Int64(bitPattern: value << shift) >> Int64(shift)
            // Unsigned items (the limits, the gains) are never above the signed range of their size here.
            return size == 1 ? Int64(value) : signed
        } catch {
            try rethrowUnlessRefused(error, servo: servo, what: "reading \(item) (\(address))", problems: &problems)
            return nil
        }
    }

    private func rethrowUnlessRefused(_ error: DynamixelBusError, servo: DynamixelJointServo, what: String, problems: inout [String]) throws(DeviceError) {
        switch error {
        case .refused:
            problems.append("servo ID \(servo.id): \(what): \(error)")
        default:
            throw Self.deviceError(error, port: name, request: what, servo: servo)
        }
    }

    @discardableResult
    private func setUp<Value>(_ request: String, _ servo: DynamixelJointServo, _ body: (DynamixelBusClient) throws(DynamixelBusError) -> Value) throws(DeviceError) -> Value {
        do throws(DynamixelBusError) {
            return try body(client)
        } catch {
            throw Self.deviceError(error, port: name, request: "\(request) to ID \(servo.id)", servo: servo)
        }
    }

    private static func deviceError(_ error: DynamixelBusError, port: String, request: String, servo: DynamixelJointServo) -> DeviceError {
        switch error {
        case .noReply(_, let waited):
            .noAnswer(port: port, request: request + " (servo ID \(servo.id): wrong ID or baud rate, or not powered)", waitedMilliseconds: Int(waited / Nanoseconds.perMillisecond))
        case .refused:
            .refused(port: port, request: request, reason: "\(error)")
        case .unexpectedReply(let text):
            .protocolViolation(port: port, detail: text)
        case .link(let transport):
            .transport(transport)
        }
    }

    private static func integer(_ value: Double) -> Int64 {
        value.isFinite ? Int64(max(min(value, 1e15), -1e15)) : 0
    }

    private static func format(_ positive: Double, _ negative: Double) -> String {
        positive == negative ? "\(positive) N·m" : "min(+\(positive), −\(negative)) = \(min(positive, negative)) N·m"
    }
}
