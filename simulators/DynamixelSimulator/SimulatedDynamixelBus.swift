import Primitives
import RehabLinkSimulator
import SimulatorKit
import Wire

/// A Dynamixel Protocol 2.0 bus of X-series servos in software (protocols/dynamixel/README.md): every servo on one
/// half-duplex line, each a `SimulatedDynamixelServo` with its control table and `JointPlant` physics.
///
/// Bytes in, bytes out, time advanced by the caller: the same object runs behind `InProcessDeviceLink` on a virtual
/// clock (tests) and behind `RealTimeDeviceHost` on a pseudo-terminal (`rehabsim`), as SimulatorKit's
/// `FirmwareSimulator` (SimulatedDynamixelBus+FirmwareSimulator.swift). Nothing allocates after set-up: the
/// decoder, the encoder, the reply queue and the servos' tables are preallocated.
///
/// Wire time (README §1, §5.16, §7.3): every byte takes 10 bit times. The host's bytes arrive one after another at
/// the line's rate from the moment they are written; an instruction is executed when its last byte has arrived;
/// each reply starts Return Delay Time after that (or after the previous reply on the line, for the replies of one
/// instruction) and its bytes arrive at the replying servo's rate. `popOutput` releases only bytes that have
/// arrived, `hasOutput` is true only then, and `nextDeadline` names the moment the packet on the wire has arrived, so
/// that the timing over a link is what a real bus gives:
///
/// ```
/// host writes      ├─ instruction: n × 10 / baud ─┤─ Return Delay Time ─├─ reply: m × 10 / baud ─┤ readable
/// ```
///
/// Who answers (README §5.16): a unicast instruction to a servo's ID, as its Status Return Level allows (0: Ping,
/// 1: Ping and the reads, 2: everything); Ping to 0xFE by every servo in ID order; Sync Read and Bulk Read by every
/// listed servo in list order; the fast reads by one combined packet (`FastReadReplyBuilder`), which waits the first
/// listed servo's Return Delay Time once and breaks off at the first listed servo that does not answer. Writes,
/// Reg Write, Action, Sync Write, Bulk Write and Factory Reset to 0xFE are executed and not answered; Read, Reboot,
/// Clear and Control Table Backup to 0xFE are not executed (README §5, "device" only). A CRC-valid packet that is
/// rejected (README §8) and addressed to a servo's ID is answered with Result Fail, an unknown instruction with
/// Instruction Error; a CRC failure with CRC Error when the frame carried the servo's ID (README §8, §9 A9).
/// After 1.5 ms without a byte a partial packet is given up (README §1, §8 step 8).
public final class SimulatedDynamixelBus {
    public let configuration: DynamixelBusConfiguration
    public let bootTime: MonotonicInstant
    /// In configuration order.
    public let servos: [SimulatedDynamixelServo]
    public let model: String
    public let serialNumber: String
    public private(set) var now: MonotonicInstant
    /// When a servo's torque first went on.
    public private(set) var firstEnableTime: MonotonicInstant?
    /// Instruction packets that wrote a Goal item since the first torque-on.
    public private(set) var appliedCommandCount = 0
    /// The rate the host talks at: the host's bytes take 10 bits each at this rate, and a servo whose Baud Rate
    /// differs does not understand them. Change it when the host reopens its port at another rate.
    public var lineBaudRateBitsPerSecond: Int
    /// The patient in the robot, one joint per servo in configuration order (nil: nothing on the horns).
    public var patient: SimulatedPatient?
    /// Host bytes that did not fit in the input queue, and reply bytes that did not fit in the output queue.
    public private(set) var droppedInputBytes = 0
    public private(set) var droppedOutputBytes = 0

    /// The longest gap between two bytes of one instruction packet (README §1).
    public static let interByteTimeoutNanoseconds: Int64 = 1_500_000

    let events: DynamixelEventLog
    private let scratch = DynamixelWriteScratch()
    private var decoder = Dynamixel.PacketDecoder()
    private var encoded = Dynamixel.EncodedPacket()
    private let readBuffer: UnsafeMutableRawBufferPointer
    private let idOrder: UnsafeMutableBufferPointer<Int>

    // The host's bytes on their way: each with the moment its last bit arrives [ns].
    private static let inputCapacity = 4_096
    private let inputBytes: UnsafeMutableBufferPointer<UInt8>
    private let inputArrivals: UnsafeMutableBufferPointer<Int64>
    private var inputHead = 0
    private var inputCount = 0
    /// When the last byte the host has written will have arrived.
    private var lineFreeAt: MonotonicInstant
    /// When the last byte given to the decoder arrived.
    private var lastByteArrival: MonotonicInstant
    /// The last bytes given to the decoder, to find the ID of a frame that failed its CRC.
    private let history: UnsafeMutableBufferPointer<UInt8>
    private var historyTotal = 0

    /// The replies on their way to the host, each at the rate of the servo that sent it.
    private let transmit: TransmitLine
    /// When the line is free of replies.
    private var busFreeAt: MonotonicInstant
    /// Where the next reply of the instruction being executed goes.
    private var replyCursor: MonotonicInstant
    private var nextStepTime: MonotonicInstant

    /// A bus of `configuration.servos`, powered on at `bootTime`. Traps on a configuration with `problems`.
    public init(configuration: DynamixelBusConfiguration, bootTime: MonotonicInstant) {
        let problems = configuration.problems
        precondition(problems.isEmpty, "invalid Dynamixel bus: \(problems.joined(separator: "; "))")
        self.configuration = configuration
        self.bootTime = bootTime
        model = configuration.model
        serialNumber = configuration.serialNumber
        now = bootTime
        let events = DynamixelEventLog()
        self.events = events
        var servos: [SimulatedDynamixelServo] = []
        for (index, servo) in configuration.servos.enumerated() {
            servos.append(
                SimulatedDynamixelServo(
                    configuration: servo, index: index, bootTime: bootTime, events: events, watchdogStop: configuration.busWatchdogStop,
                    overloadTripNanoseconds: configuration.overloadTripNanoseconds))
        }
        self.servos = servos
        lineBaudRateBitsPerSecond = configuration.hostBaudRateBitsPerSecond ?? servos[0].baudRateBitsPerSecond
        readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Dynamixel.maxPacketBytes, alignment: 1)
        readBuffer.initializeMemory(as: UInt8.self, repeating: 0)
        idOrder = UnsafeMutableBufferPointer<Int>.allocate(capacity: servos.count)
        idOrder.initialize(repeating: 0)
        inputBytes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: SimulatedDynamixelBus.inputCapacity)
        inputBytes.initialize(repeating: 0)
        inputArrivals = UnsafeMutableBufferPointer<Int64>.allocate(capacity: SimulatedDynamixelBus.inputCapacity)
        inputArrivals.initialize(repeating: 0)
        history = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: Dynamixel.maxPacketBytes)
        history.initialize(repeating: 0)
        lineFreeAt = bootTime
        lastByteArrival = bootTime
        transmit = TransmitLine(segmentCapacity: 1_024, modelsWireTime: configuration.modelsWireTime)
        busFreeAt = bootTime
        replyCursor = bootTime
        nextStepTime = bootTime.advanced(byNanoseconds: configuration.innerLoopPeriodNanoseconds)
    }

    deinit {
        readBuffer.deallocate()
        idOrder.deallocate()
        inputBytes.deallocate()
        inputArrivals.deallocate()
        history.deallocate()
    }

    // MARK: Observation

    /// The servo with ID `id` now (the first, should two share it).
    public func servo(id: UInt8) -> SimulatedDynamixelServo? {
        for servo in servos where servo.id == id { return servo }
        return nil
    }

    /// What the servos' receiver made of the host's bytes (README §8), as counted by the shared decoder.
    public var decoderStatistics: Dynamixel.DecoderStatistics { decoder.statistics }

    // MARK: Driving the bus

    /// Bytes the host writes at `time`: they go onto the line at its rate, after the bytes written before.
    public func receive(_ bytes: UnsafeRawBufferPointer, at time: MonotonicInstant) {
        advance(to: time)
        let baudRate = lineBaudRateBitsPerSecond
        let start = max(time, lineFreeAt)
        var queued = 0
        for byte in bytes {
            guard inputCount < Self.inputCapacity else {
                droppedInputBytes += 1
                continue
            }
            queued += 1
            let arrival = start.advanced(byNanoseconds: transmit.lineNanoseconds(bytes: queued, bitsPerSecond: baudRate))
            let slot = (inputHead + inputCount) % Self.inputCapacity
            inputBytes[slot] = byte
            inputArrivals[slot] = arrival.nanoseconds
            inputCount += 1
            lineFreeAt = arrival
        }
        advance(to: time)
    }

    /// Runs the servos and their physics up to `time`: control steps, the host's bytes as they arrive (executing each
    /// instruction when its last byte is in), and the 1.5 ms end of a broken packet.
    public func advance(to time: MonotonicInstant) {
        while true {
            var next = nextStepTime
            var action = Pending.step
            if inputCount > 0 {
                let arrival = MonotonicInstant(nanoseconds: inputArrivals[inputHead])
                if arrival < next {
                    next = arrival
                    action = .input
                }
            }
            if decoder.bufferedByteCount > 0 {
                let silence = lastByteArrival.advanced(byNanoseconds: Self.interByteTimeoutNanoseconds + 1)
                if silence < next {
                    next = silence
                    action = .endOfExchange
                }
            }
            guard next <= time else { break }
            if next > now { now = next }
            switch action {
            case .step:
                step(at: next)
                nextStepTime = nextStepTime.advanced(byNanoseconds: configuration.innerLoopPeriodNanoseconds)
            case .input:
                consumeInputByte()
            case .endOfExchange:
                decoder.flush { handle($0) }
                // The decoder gives everything up at the end of an exchange; never wait for a packet again.
                if decoder.bufferedByteCount > 0 { decoder.reset() }
            }
        }
        if time > now { now = time }
    }

    /// The next moment the bus must run without being spoken to: the host's bytes all in, a reply fully arrived, a
    /// partial packet given up, a Bus Watchdog expiring. Only moments after `now`.
    public var nextDeadline: MonotonicInstant? {
        var deadline: MonotonicInstant?
        if inputCount > 0 { deadline = earliest(deadline, lineFreeAt) }
        if decoder.bufferedByteCount > 0 {
            deadline = earliest(deadline, lastByteArrival.advanced(byNanoseconds: Self.interByteTimeoutNanoseconds + 1))
        }
        if let end = transmit.nextReplyEnd(after: now) { deadline = earliest(deadline, end) }
        for servo in servos {
            if let due = servo.busWatchdogDeadline(stepNanoseconds: configuration.innerLoopPeriodNanoseconds) {
                deadline = earliest(deadline, due)
            }
        }
        return deadline
    }

    /// True when reply bytes have arrived that `popOutput` has not taken.
    public var hasOutput: Bool { transmit.hasOutput(at: now) }

    /// Moves the reply bytes that have arrived by `now`, oldest first, into `buffer`.
    public func popOutput(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        transmit.pop(into: buffer, at: now)
    }

    // MARK: Time on the wire

    private enum Pending {
        case step
        case input
        case endOfExchange
    }

    private func earliest(_ deadline: MonotonicInstant?, _ candidate: MonotonicInstant) -> MonotonicInstant? {
        guard candidate > now else { return deadline }
        guard let deadline else { return candidate }
        return min(deadline, candidate)
    }

    // MARK: Receiving

    private func consumeInputByte() {
        let byte = inputBytes[inputHead]
        lastByteArrival = MonotonicInstant(nanoseconds: inputArrivals[inputHead])
        inputHead = (inputHead + 1) % Self.inputCapacity
        inputCount -= 1
        history[historyTotal % history.count] = byte
        historyTotal += 1
        let crcErrors = decoder.statistics.crcErrors
        var result = decoder.push(byte)
        if decoder.statistics.crcErrors != crcErrors { answerCRCFailure() }
        while let decoded = result {
            handle(decoded)
            result = decoder.next()
        }
    }

    private func handle(_ result: Dynamixel.DecodeResult) {
        switch result {
        case .rejected(let rejection):
            answerRejection(rejection)
        case .packet(let packet):
            // A device ignores status packets (README §8): on a real bus it hears the other servos' replies.
            guard !packet.isStatus else { return }
            packet.parameters.withUnsafeBytes { execute(id: packet.id, packet.instruction, $0) }
        }
    }

    /// The frame that ended with the byte just received failed its CRC: its servo answers CRC Error (README §8).
    private func answerCRCFailure() {
        let end = historyTotal - 1
        let oldest = max(0, historyTotal - history.count)
        var start = end - (Dynamixel.prefixBytes + Dynamixel.minimumLength) + 1
        while start >= oldest {
            if historyByte(start) == 0xFF && historyByte(start + 1) == 0xFF && historyByte(start + 2) == 0xFD
                && historyByte(start + 3) == 0x00
            {
                let length = Int(historyByte(start + 5)) | Int(historyByte(start + 6)) << 8
                if start + Dynamixel.prefixBytes + length - 1 == end {
                    let id = historyByte(start + 4)
                    let instruction = historyByte(start + 7)
                    guard id != Dynamixel.broadcastID && instruction != Dynamixel.Instruction.status.rawValue else { return }
                    replyCursor = max(now, busFreeAt)
                    for servo in servos where servo.id == id && hears(servo) {
                        let settings = servo.replySettings
                        if settings.statusReturnLevel >= 2 { sendStatus(servo, settings, error: DynamixelErrorNumber.crcError) }
                    }
                    return
                }
            }
            start -= 1
        }
    }

    private func historyByte(_ index: Int) -> UInt8 { history[index % history.count] }

    /// A CRC-valid packet the receiver rejected (README §8 step 7), answered by the servo it names.
    private func answerRejection(_ rejection: Dynamixel.PacketRejection) {
        guard rejection.id != Dynamixel.broadcastID && rejection.instruction != Dynamixel.Instruction.status.rawValue else { return }
        replyCursor = max(now, busFreeAt)
        let number = rejection.reason == .unknownInstruction ? DynamixelErrorNumber.instructionError : DynamixelErrorNumber.resultFail
        for servo in servos where servo.id == rejection.id && hears(servo) {
            servo.feedBusWatchdog(at: now)
            let settings = servo.replySettings
            if Self.answers(rejection.instruction, statusReturnLevel: settings.statusReturnLevel) {
                sendStatus(servo, settings, error: number)
            }
        }
    }

    /// Status Return Level (README §5.16): 0 answers Ping, 1 also the reads, 2 everything.
    private static func answers(_ instruction: UInt8, statusReturnLevel level: UInt8) -> Bool {
        switch instruction {
        case Dynamixel.Instruction.ping.rawValue: true
        case Dynamixel.Instruction.read.rawValue, Dynamixel.Instruction.syncRead.rawValue, Dynamixel.Instruction.fastSyncRead.rawValue,
            Dynamixel.Instruction.bulkRead.rawValue, Dynamixel.Instruction.fastBulkRead.rawValue:
            level >= 1
        default: level >= 2
        }
    }

    /// The servo hears the host: powered up, Protocol 2.0, at the line's rate.
    private func hears(_ servo: SimulatedDynamixelServo) -> Bool {
        servo.listens(at: now) && servo.baudRateBitsPerSecond == lineBaudRateBitsPerSecond
    }

    // MARK: Executing

    private func execute(id: UInt8, _ instruction: Dynamixel.Instruction, _ p: UnsafeRawBufferPointer) {
        let time = now
        let broadcast = id == Dynamixel.broadcastID
        replyCursor = max(time, busFreeAt)
        var wroteGoal = false
        switch instruction {
        case .ping:
            if broadcast {
                let count = listenersInIDOrder()
                for k in 0..<count {
                    let servo = servos[idOrder[k]]
                    servo.feedBusWatchdog(at: time)
                    sendPing(servo, servo.replySettings)
                }
            } else {
                for servo in servos where servo.id == id && hears(servo) {
                    servo.feedBusWatchdog(at: time)
                    sendPing(servo, servo.replySettings)
                }
            }
        case .read:
            guard !broadcast else { break }
            let address = Self.uint16(p, 0)
            let length = Self.uint16(p, 2)
            for servo in servos where servo.id == id && hears(servo) {
                servo.feedBusWatchdog(at: time)
                let settings = servo.replySettings
                if settings.statusReturnLevel >= 1 { sendRead(servo, settings, address: address, length: length) }
            }
        case .write, .regWrite:
            let address = Self.uint16(p, 0)
            let data = UnsafeRawBufferPointer(rebasing: p[2...])
            for servo in servos where (broadcast || servo.id == id) && hears(servo) {
                servo.feedBusWatchdog(at: time)
                let settings = servo.replySettings
                let number: UInt8
                if instruction == .write {
                    number = servo.write(address: address, data: data, at: time, scratch: scratch)
                    wroteGoal = wroteGoal || servo.wroteGoalInLastWrite
                } else {
                    number = servo.registerWrite(address: address, data: data, scratch: scratch)
                }
                if !broadcast && settings.statusReturnLevel >= 2 { sendStatus(servo, settings, error: number) }
            }
        case .action:
            for servo in servos where (broadcast || servo.id == id) && hears(servo) {
                servo.feedBusWatchdog(at: time)
                let settings = servo.replySettings
                let number = servo.action(at: time, scratch: scratch)
                wroteGoal = wroteGoal || servo.wroteGoalInLastWrite
                if !broadcast && settings.statusReturnLevel >= 2 { sendStatus(servo, settings, error: number) }
            }
        case .factoryReset:
            let option = p[0]
            // README §5.6: a reset of everything sent to 0xFE is not executed.
            if broadcast && option == Dynamixel.FactoryResetOption.resetAll.rawValue { break }
            for servo in servos where (broadcast || servo.id == id) && hears(servo) {
                servo.feedBusWatchdog(at: time)
                let settings = servo.replySettings
                let replied = !broadcast && settings.statusReturnLevel >= 2 && sendStatus(servo, settings, error: DynamixelErrorNumber.ok)
                servo.factoryReset(option: option)
                reboot(servo, at: time, replied: replied)
            }
        case .reboot:
            guard !broadcast else { break }
            for servo in servos where servo.id == id && hears(servo) {
                servo.feedBusWatchdog(at: time)
                let settings = servo.replySettings
                let replied = settings.statusReturnLevel >= 2 && sendStatus(servo, settings, error: DynamixelErrorNumber.ok)
                reboot(servo, at: time, replied: replied)
            }
        case .clear:
            guard !broadcast else { break }
            for servo in servos where servo.id == id && hears(servo) {
                servo.feedBusWatchdog(at: time)
                let settings = servo.replySettings
                let number = servo.clearMultiTurn()
                if settings.statusReturnLevel >= 2 { sendStatus(servo, settings, error: number) }
            }
        case .controlTableBackup:
            guard !broadcast else { break }
            for servo in servos where servo.id == id && hears(servo) {
                servo.feedBusWatchdog(at: time)
                let settings = servo.replySettings
                let outcome = servo.controlTableBackup(operation: p[0])
                let replied = settings.statusReturnLevel >= 2 && sendStatus(servo, settings, error: outcome.error)
                if outcome.reboots { reboot(servo, at: time, replied: replied) }
            }
        case .syncRead:
            let address = Self.uint16(p, 0)
            let length = Self.uint16(p, 2)
            for k in stride(from: 4, to: p.count, by: 1) {
                for servo in servos where servo.id == p[k] && hears(servo) {
                    servo.feedBusWatchdog(at: time)
                    let settings = servo.replySettings
                    if settings.statusReturnLevel >= 1 { sendRead(servo, settings, address: address, length: length) }
                }
            }
        case .bulkRead:
            var offset = 0
            while offset + 5 <= p.count {
                let target = p[offset]
                let address = Self.uint16(p, offset + 1)
                let length = Self.uint16(p, offset + 3)
                for servo in servos where servo.id == target && hears(servo) {
                    servo.feedBusWatchdog(at: time)
                    let settings = servo.replySettings
                    if settings.statusReturnLevel >= 1 { sendRead(servo, settings, address: address, length: length) }
                }
                offset += 5
            }
        case .fastSyncRead:
            fastRead(p, sync: true, at: time)
        case .fastBulkRead:
            fastRead(p, sync: false, at: time)
        case .syncWrite:
            let address = Self.uint16(p, 0)
            let length = Self.uint16(p, 2)
            var offset = 4
            while length > 0 && offset + 1 + length <= p.count {
                let target = p[offset]
                let data = UnsafeRawBufferPointer(rebasing: p[(offset + 1)..<(offset + 1 + length)])
                for servo in servos where servo.id == target && hears(servo) {
                    servo.feedBusWatchdog(at: time)
                    _ = servo.write(address: address, data: data, at: time, scratch: scratch)
                    wroteGoal = wroteGoal || servo.wroteGoalInLastWrite
                }
                offset += 1 + length
            }
        case .bulkWrite:
            var offset = 0
            while offset + 5 <= p.count {
                let target = p[offset]
                let address = Self.uint16(p, offset + 1)
                let length = Self.uint16(p, offset + 3)
                guard length > 0 && offset + 5 + length <= p.count else { break }
                let data = UnsafeRawBufferPointer(rebasing: p[(offset + 5)..<(offset + 5 + length)])
                for servo in servos where servo.id == target && hears(servo) {
                    servo.feedBusWatchdog(at: time)
                    _ = servo.write(address: address, data: data, at: time, scratch: scratch)
                    wroteGoal = wroteGoal || servo.wroteGoalInLastWrite
                }
                offset += 5 + length
            }
        default:
            break
        }
        if firstEnableTime == nil {
            for servo in servos where servo.isTorqueOn {
                firstEnableTime = time
                break
            }
        }
        if wroteGoal && firstEnableTime != nil { appliedCommandCount += 1 }
    }

    /// Fast Sync Read / Fast Bulk Read (README §5.12 – §5.14): one packet the listed servos build in list order. A
    /// servo with an error still sends its block, with its error number and zeros for data (README §9 A2 leaves it
    /// open; this keeps the packet's length). The chain breaks at the first listed servo that does not answer
    /// (absent, rebooting, silent, Status Return Level 0, firmware below 45): the packet stops before its block.
    private func fastRead(_ p: UnsafeRawBufferPointer, sync: Bool, at time: MonotonicInstant) {
        let count = sync ? p.count - 4 : p.count / 5
        guard count > 0 else { return }
        var total = 0
        for k in 0..<count { total += Self.fastEntry(p, sync: sync, k).length }
        var builder: Dynamixel.FastReadReplyBuilder
        do {
            builder = try Dynamixel.FastReadReplyBuilder(segmentCount: count, totalDataBytes: total)
        } catch {
            // Too long for one packet: nobody answers, every listed servo has heard an instruction.
            for k in 0..<count {
                let target = Self.fastEntry(p, sync: sync, k).id
                for servo in servos where servo.id == target && hears(servo) { servo.feedBusWatchdog(at: time) }
            }
            return
        }
        // Header, ID, length and the status instruction, then per servo its error, ID, data and CRC.
        var emitted = Dynamixel.prefixBytes + 1
        var intact = true
        var first: DynamixelReplySettings?
        for k in 0..<count {
            let entry = Self.fastEntry(p, sync: sync, k)
            var error: UInt8 = 0
            var answers = false
            for servo in servos where servo.id == entry.id && hears(servo) {
                servo.feedBusWatchdog(at: time)
                let settings = servo.replySettings
                answers = settings.statusReturnLevel >= 1 && !servo.isSilent && servo.firmwareVersion >= 45
                if answers {
                    let number = servo.read(address: entry.address, length: entry.length, into: readBuffer)
                    error = servo.alertBit | number
                    if number != DynamixelErrorNumber.ok { zeroReadBuffer(entry.length) }
                    if k == 0 { first = settings }
                }
                break
            }
            if !answers {
                zeroReadBuffer(entry.length)
                intact = false
            }
            do {
                try builder.append(
                    id: entry.id, error: Dynamixel.StatusError(rawValue: error),
                    data: UnsafeRawBufferPointer(rebasing: readBuffer[0..<entry.length]))
            } catch {
                return
            }
            if intact { emitted += 4 + entry.length }
        }
        guard let first else { return }
        do {
            encoded = try builder.finish()
        } catch {
            return
        }
        _ = enqueue(count: emitted, settings: first)
    }

    private func zeroReadBuffer(_ count: Int) {
        for index in 0..<min(count, readBuffer.count) { readBuffer[index] = 0 }
    }

    private static func fastEntry(_ p: UnsafeRawBufferPointer, sync: Bool, _ k: Int) -> (id: UInt8, address: Int, length: Int) {
        if sync { return (p[4 + k], uint16(p, 0), uint16(p, 2)) }
        return (p[5 * k], uint16(p, 5 * k + 1), uint16(p, 5 * k + 3))
    }

    private static func uint16(_ p: UnsafeRawBufferPointer, _ offset: Int) -> Int {
        Int(p[offset]) | Int(p[offset + 1]) << 8
    }

    /// The servos that hear the bus, sorted by ID, in `idOrder`; returns how many.
    private func listenersInIDOrder() -> Int {
        var count = 0
        for index in servos.indices where hears(servos[index]) {
            var position = count
            while position > 0 && servos[idOrder[position - 1]].id > servos[index].id {
                idOrder[position] = idOrder[position - 1]
                position -= 1
            }
            idOrder[position] = index
            count += 1
        }
        return count
    }

    /// Reboots `servo` once its reply (if any) has left.
    private func reboot(_ servo: SimulatedDynamixelServo, at time: MonotonicInstant, replied: Bool) {
        let from = replied ? replyCursor : time
        servo.reboot(at: time, reachableAt: from.advanced(byNanoseconds: configuration.rebootNanoseconds))
    }

    // MARK: Replying

    private func sendPing(_ servo: SimulatedDynamixelServo, _ settings: DynamixelReplySettings) {
        let model = servo.modelNumber
        let firmware = servo.firmwareVersion
        sendStatus(servo, settings, error: DynamixelErrorNumber.ok) { writer in
            writer.uint16(model)
            writer.uint8(firmware)
        }
    }

    private func sendRead(_ servo: SimulatedDynamixelServo, _ settings: DynamixelReplySettings, address: Int, length: Int) {
        let number = servo.read(address: address, length: length, into: readBuffer)
        if number == DynamixelErrorNumber.ok {
            sendStatus(servo, settings, error: number, data: UnsafeRawBufferPointer(rebasing: readBuffer[0..<length]))
        } else {
            sendStatus(servo, settings, error: number)
        }
    }

    /// Encodes a status packet from `servo` (the alert bit while it has a hardware error) and queues it after the
    /// replies before it. False when nothing goes out (a silent servo, a full queue).
    @discardableResult
    private func sendStatus(
        _ servo: SimulatedDynamixelServo, _ settings: DynamixelReplySettings, error number: UInt8, data: UnsafeRawBufferPointer? = nil,
        writing parameters: (inout Dynamixel.ParameterWriter) -> Void = { _ in }
    ) -> Bool {
        guard !servo.isSilent else { return false }
        let status = Dynamixel.StatusError(rawValue: servo.alertBit | number)
        do {
            try Dynamixel.PacketEncoder.status(id: settings.id, error: status, into: &encoded) { writer in
                if let data { writer.bytes(data) }
                parameters(&writer)
            }
        } catch {
            return false
        }
        return enqueue(count: encoded.count, settings: settings)
    }

    /// Queues the first `count` bytes of `encoded`, starting Return Delay Time after the reply cursor.
    private func enqueue(count: Int, settings: DynamixelReplySettings) -> Bool {
        guard count > 0 && count <= encoded.count else { return false }
        let delay = configuration.modelsWireTime ? settings.returnDelayNanoseconds : 0
        let start = replyCursor.advanced(byNanoseconds: delay)
        let end = encoded.withUnsafeBytes {
            transmit.enqueue(UnsafeRawBufferPointer(rebasing: $0[0..<count]), startingAt: start, bitsPerSecond: settings.baudRate)
        }
        guard let end else {
            droppedOutputBytes += count
            return false
        }
        replyCursor = end
        busFreeAt = max(busFreeAt, replyCursor)
        return true
    }

    // MARK: Physics

    private func step(at time: MonotonicInstant) {
        let seconds = Double(configuration.innerLoopPeriodNanoseconds) * 1e-9
        for index in servos.indices {
            let servo = servos[index]
            if patient != nil {
                // The patient acts on the joint, in its angles: the servo's output mapped as the profile maps it.
                let plant = servo.plant
                let mapping = configuration.servos[index]
                let torques = patient!.torques(
                    joint: index, at: time, positionRadians: mapping.jointDirection * (plant.positionRadians - mapping.jointZeroRadians),
                    velocityRadiansPerSecond: mapping.jointDirection * plant.velocityRadiansPerSecond)
                servo.patientTorqueNewtonMeters = mapping.jointDirection * torques.total
            }
            servo.step(at: time, seconds: seconds)
        }
    }
}
