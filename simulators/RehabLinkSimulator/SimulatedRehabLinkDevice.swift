import Primitives
import Wire

/// A RehabLink device in software: the firmware behaviour of protocols/rehablink/README.md (state
/// machine, control modes, watchdog, e-stop, faults; and from 1.1 the firmware limits, the local hold
/// and the patient's buttons) over the physics of `JointPlant`.
///
/// Bytes in, bytes out, time advanced by the caller: the same object runs behind a pseudo-terminal
/// in `rehabsim` (real time) and behind `InProcessDeviceLink` on a virtual clock (tests): SimulatorKit's
/// `FirmwareSimulator` (SimulatedRehabLinkDevice+FirmwareSimulator.swift). After
/// set-up it does not allocate, so it can run inside a host's allocation-counted control cycle.
public final class SimulatedRehabLinkDevice {
    public let configuration: SimulatedDeviceConfiguration
    public let bootTime: MonotonicInstant
    /// Encoded frames waiting to be sent to the host.
    public let output = ByteRing(capacity: 16 * 1024)
    public private(set) var droppedOutputBytes = 0
    public private(set) var now: MonotonicInstant
    public private(set) var isEnabled = false
    public private(set) var isWatchdogExpired = false
    public private(set) var isEmergencyStopPressed = false
    public private(set) var latchedFault = RehabLink.FaultCode.none
    public private(set) var watchdogPeriodMicroseconds: UInt32 = 0
    public private(set) var rejectedCommandCount: UInt32 = 0
    /// An injected fault stays active until this is cleared (FAULT_RESET is refused meanwhile).
    public var injectedFaultPersists = false
    /// Fault injection: a faulty firmware that acknowledges ENABLE with this watchdog period
    /// instead of the one it armed (the host must refuse to move, SR-3).
    public var acknowledgedWatchdogOverrideMicroseconds: UInt32?
    /// Fault injection: a firmware without a watchdog (acknowledges 0, never expires; SR-3).
    public var isWatchdogDisabled = false
    /// Fault injection (SR-25): COMMANDs are answered but not applied; the watchdog is still fed.
    public var ignoresCommands = false
    /// Fault injection (SR-23): the device clock's drift since `since` (rate: 0.05 = 5 % fast) and
    /// what earlier drifts added.
    private var clockDrift: (since: MonotonicInstant, rate: Double)?
    private var clockOffsetNanoseconds: Int64 = 0
    /// Fault injection: a faulty firmware that answers every SR-24 limit write `ok`, echoing the
    /// value, but keeps the value it had (only the host's read-back can find it; SR-24).
    public var ignoresSafetyLimitWrites = false
    /// 1.1: the patient's stop and pause buttons are held (reported in STATE, SR-22).
    public private(set) var isPatientStopPressed = false
    public private(set) var isPatientPausePressed = false
    /// 1.1: the joints are in the local hold (spec 6.1): the host missed two command periods.
    public private(set) var isHoldingLocally = false
    /// 1.1: the host's command period as the firmware measured it [ns] (median of recent intervals
    /// between applied COMMANDs); nil until enough were seen since the last ENABLE.
    public private(set) var commandPeriodNanoseconds: Int64?
    /// COMMAND frames applied since the first enable (fault triggers count them).
    public private(set) var appliedCommandCount = 0
    /// When the device was first enabled (fault triggers count from it).
    public private(set) var firstEnableTime: MonotonicInstant?
    /// The patient in the robot (nil: an empty robot). Its torque acts on the joints every inner step.
    public var patient: SimulatedPatient?
    /// The patient's torques in the last inner step, per joint.
    public private(set) var lastPatientTorques: [SimulatedPatient.Torques]

    /// What the encoder reports is not always where the joint is (fault injection, SR-10/SR-17):
    /// measured = frozen ?? sign × true count + shift; the raw 32-bit counter adds `rawOffset`.
    private struct EncoderFaults {
        var sign: Int64 = 1
        var shift: Int64 = 0
        var frozen: Int64?
        var rawOffset: Int64 = 0
    }

    /// An external torque being ramped toward its target.
    private struct TorqueRamp {
        var from = 0.0
        var to = 0.0
        var start = MonotonicInstant.zero
        var durationNanoseconds: Int64 = 0
        var active = false
    }

    private var encoderFaults: [EncoderFaults]
    private var torqueRamps: [TorqueRamp]
    private var brakeFailed: [Bool]

    private var plants: [JointPlant]
    private var setpoints: [RehabLink.JointCommand]
    private var estimatedVelocities: [Double]
    private var countHistory: [Int64]
    private var historyIndex = 0
    private var nextStepTime: MonotonicInstant
    private var lastFeed = MonotonicInstant.zero
    private var lastAppliedSequence: UInt16?
    private var sequence: UInt16 = 1
    private var decoder = RehabLink.FrameDecoder()
    private var frame = RehabLink.EncodedFrame()
    private var torqueOn = false
    private var positionStiffness: Int32
    private var positionDamping: Int32
    private var velocityGain: Int32
    private var eventLog: [DeviceEvent] = []

    /// 1.1, SR-24: each joint's limits in wire units, as the host wrote them (power-up: the ratings).
    /// Indexed by joint; the parameter ids are `RehabLink.JointLimitParameter` base + joint.
    private var softLimitMinimumMicroradians: [Int32]
    private var softLimitMaximumMicroradians: [Int32]
    private var torqueCapPositiveMillinewtonMeters: [Int32]
    private var torqueCapNegativeMillinewtonMeters: [Int32]
    private var velocityTripMicroradiansPerSecond: [Int32]
    /// The device's own over-speed cut per joint [µrad/s]: the velocity trip's power-up value and ceiling.
    private let overSpeedCutMicroradiansPerSecond: [Int32]
    /// The firmware's limits (cap, soft limit) changed the joint's torque in the last step.
    private var limitedByFirmware: [Bool]
    /// The measured positions the local hold holds [rad].
    private var holdPositions: [Double]
    /// The last intervals between applied COMMANDs [ns], a ring; and a scratch copy to take the median in.
    private var commandIntervals: [Int64]
    private var commandIntervalScratch: [Int64]
    private var commandIntervalCount = 0
    private var commandIntervalIndex = 0

    /// Samples in the velocity window: the firmware differentiates encoder counts over 1 ms.
    private static let velocityWindow = 10
    /// Intervals the command period is the median of, and how many it needs (spec 6.1).
    private static let periodWindow = 5
    private static let periodMinimumIntervals = 3

    public init(configuration: SimulatedDeviceConfiguration, bootTime: MonotonicInstant) {
        precondition(!configuration.joints.isEmpty && configuration.joints.count <= RehabLink.maxJoints)
        self.configuration = configuration
        self.bootTime = bootTime
        now = bootTime
        nextStepTime = bootTime.advanced(byNanoseconds: configuration.innerLoopPeriodNanoseconds)
        plants = configuration.joints.map { JointPlant(parameters: $0.plant) }
        setpoints = Array(repeating: .off, count: configuration.joints.count)
        estimatedVelocities = Array(repeating: 0, count: configuration.joints.count)
        countHistory = Array(repeating: 0, count: configuration.joints.count * Self.velocityWindow)
        encoderFaults = Array(repeating: EncoderFaults(), count: configuration.joints.count)
        torqueRamps = Array(repeating: TorqueRamp(), count: configuration.joints.count)
        brakeFailed = Array(repeating: false, count: configuration.joints.count)
        lastPatientTorques = Array(repeating: SimulatedPatient.Torques(), count: configuration.joints.count)
        positionStiffness = configuration.positionStiffnessMillinewtonMetersPerRadian
        positionDamping = configuration.positionDampingMillinewtonMeterSecondsPerRadian
        velocityGain = configuration.velocityGainMillinewtonMeterSecondsPerRadian
        let ratings = configuration.joints.map(Self.wireLimits)
        softLimitMinimumMicroradians = ratings.map(\.positionMinimumMicroradians)
        softLimitMaximumMicroradians = ratings.map(\.positionMaximumMicroradians)
        torqueCapPositiveMillinewtonMeters = ratings.map(\.torqueMaximumMillinewtonMeters)
        torqueCapNegativeMillinewtonMeters = ratings.map(\.torqueMaximumMillinewtonMeters)
        overSpeedCutMicroradiansPerSecond = configuration.joints.map { joint in
            RehabLink.Scaling.micro(joint.ratedVelocityRadiansPerSecond * configuration.overSpeedFactor)
        }
        velocityTripMicroradiansPerSecond = overSpeedCutMicroradiansPerSecond
        limitedByFirmware = Array(repeating: false, count: configuration.joints.count)
        holdPositions = Array(repeating: 0, count: configuration.joints.count)
        commandIntervals = Array(repeating: 0, count: Self.periodWindow)
        commandIntervalScratch = Array(repeating: 0, count: Self.periodWindow)
        eventLog.reserveCapacity(4096)
        for joint in plants.indices { resetVelocityHistory(joint) }
    }

    // MARK: Driving the device

    /// Bytes from the host arriving at `time`. Replies go to `output`.
    public func receive(_ bytes: UnsafeRawBufferPointer, at time: MonotonicInstant) {
        advance(to: time)
        var index = 0
        while index < bytes.count {
            let (next, result) = decoder.push(bytes, from: index)
            index = next
            if let result { handle(result, at: now) }
        }
    }

    /// Runs the firmware and the physics up to `time` in inner-loop steps.
    public func advance(to time: MonotonicInstant) {
        while nextStepTime <= time {
            step(at: nextStepTime)
            nextStepTime = nextStepTime.advanced(byNanoseconds: configuration.innerLoopPeriodNanoseconds)
        }
        if time > now { now = time }
    }

    /// The next moment the firmware must act without being spoken to (its local hold beginning, its
    /// watchdog expiring), if any: a real-time host of the simulator sleeps until then or until bytes arrive.
    public var nextDeadline: MonotonicInstant? {
        guard isEnabled && !isWatchdogExpired else { return nil }
        var deadline: MonotonicInstant?
        if !isWatchdogDisabled {
            deadline = lastFeed.advanced(byNanoseconds: Int64(watchdogPeriodMicroseconds) * Nanoseconds.perMicrosecond
                                         + configuration.innerLoopPeriodNanoseconds)
        }
        if let holdAfter = holdAfterNanoseconds, !isHoldingLocally, setpoints.contains(where: { $0.mode != .off }) {
            let hold = lastFeed.advanced(byNanoseconds: holdAfter + configuration.innerLoopPeriodNanoseconds)
            deadline = min(deadline ?? hold, hold)
        }
        return deadline
    }

    /// True when the firmware speaks 1.1 (limits, local hold, patient buttons); false for a 1.0 one.
    public var speaksVersion1_1: Bool { configuration.protocolMinorVersion >= 1 }

    /// The SR-24 limit in effect for `joint`, in wire units (what PARAM_GET would answer).
    public func jointLimit(_ parameter: RehabLink.JointLimitParameter, joint: Int) -> Int32 {
        switch parameter {
        case .softLimitMinimum: softLimitMinimumMicroradians[joint]
        case .softLimitMaximum: softLimitMaximumMicroradians[joint]
        case .torqueCapPositive: torqueCapPositiveMillinewtonMeters[joint]
        case .torqueCapNegative: torqueCapNegativeMillinewtonMeters[joint]
        case .velocityTrip: velocityTripMicroradiansPerSecond[joint]
        }
    }

    /// The frames the device's decoder dropped or rejected, as counted by its decoder.
    public var decoderStatistics: RehabLink.DecoderStatistics { decoder.statistics }

    // MARK: Observation (tests, rehabsim)

    public var jointCount: Int { plants.count }

    public func plant(_ joint: Int) -> JointPlant { plants[joint] }

    /// True while the drive produces torque.
    public var isTorqueOn: Bool { torqueOn }

    /// Hands every event recorded so far to `body`, oldest first, and forgets them. Allocation-free,
    /// so a real-time loop can call it every iteration.
    public func drainEvents(_ body: (DeviceEvent) -> Void) {
        guard !eventLog.isEmpty else { return }
        for event in eventLog { body(event) }
        eventLog.removeAll(keepingCapacity: true)
    }

    /// The events recorded so far, moved out (allocates: for tests and tools, not real-time loops).
    public func takeEvents() -> [DeviceEvent] {
        var events: [DeviceEvent] = []
        drainEvents { events.append($0) }
        return events
    }

    // MARK: Fault injection and the physical world

    /// The e-stop button: power to the drives is cut in hardware; the device leaves *enabled*.
    public func pressEmergencyStop() {
        guard !isEmergencyStopPressed else { return }
        isEmergencyStopPressed = true
        record(.estop)
        if isEnabled { leaveEnabled() }
        updateTorqueState()
    }

    /// Releasing the e-stop permits a new ENABLE; it never re-enables by itself.
    public func releaseEmergencyStop() {
        guard isEmergencyStopPressed else { return }
        isEmergencyStopPressed = false
        record(.estopReleased)
    }

    /// The patient's stop button (SR-22): reported in every STATE while held; the firmware does
    /// nothing else (the host stops). A 1.0 firmware has no such input and reports nothing.
    public func pressPatientStop() {
        guard !isPatientStopPressed else { return }
        isPatientStopPressed = true
        record(.patientStop)
    }

    public func releasePatientStop() {
        guard isPatientStopPressed else { return }
        isPatientStopPressed = false
        record(.patientStopReleased)
    }

    /// The patient's pause button (SR-22), reported like the stop button.
    public func pressPatientPause() {
        guard !isPatientPausePressed else { return }
        isPatientPausePressed = true
        record(.patientPause)
    }

    public func releasePatientPause() {
        guard isPatientPausePressed else { return }
        isPatientPausePressed = false
        record(.patientPauseReleased)
    }

    /// Latches a device fault now (as if the firmware detected it).
    public func injectFault(_ code: RehabLink.FaultCode, joint: Int?, value: Int32) {
        latchFault(code, joint: joint, value: value)
    }

    /// Torque the patient applies to `joint` [N·m], at once or ramped over `rampNanoseconds`.
    public func setExternalTorque(joint: Int, newtonMeters: Double, rampNanoseconds: Int64 = 0) {
        if rampNanoseconds <= 0 {
            torqueRamps[joint].active = false
            plants[joint].externalTorqueNewtonMeters = newtonMeters
        } else {
            torqueRamps[joint] = TorqueRamp(from: plants[joint].externalTorqueNewtonMeters, to: newtonMeters, start: now,
                                            durationNanoseconds: rampNanoseconds, active: true)
        }
    }

    /// The encoder of `joint` reads the same count from now on (`false`: it follows the joint again).
    public func freezeEncoder(joint: Int, _ frozen: Bool) {
        encoderFaults[joint].frozen = frozen ? measuredCount(joint) : nil
        if !frozen { resetVelocityHistory(joint) }
    }

    /// The encoder of `joint` steps by `counts`, once.
    public func jumpEncoder(joint: Int, counts: Int64) {
        encoderFaults[joint].shift += counts
    }

    /// The encoder of `joint` counts the other way from now on (continuously, without a step).
    public func reverseEncoder(joint: Int, _ reversed: Bool) {
        let measured = measuredCount(joint)
        encoderFaults[joint].sign = reversed ? -1 : 1
        encoderFaults[joint].shift = measured - encoderFaults[joint].sign * plants[joint].encoderCount
    }

    /// Puts the raw 32-bit counter of `joint` `countsBeforeWrap` below its wrap (a set-up, not a jump:
    /// call it before a host connects).
    public func placeRawCounterBeforeWrap(joint: Int, countsBeforeWrap: Int64) {
        let raw = measuredCount(joint) & 0xFFFF_FFFF
        encoderFaults[joint].rawOffset = (Int64(UInt32.max) + 1 - countsBeforeWrap) - raw
    }

    /// The drive of `joint` cannot produce torque against the motion (deceleration impossible).
    public func failBrake(joint: Int, _ failed: Bool) {
        brakeFailed[joint] = failed
    }

    /// Records an injection in the device's event log (begun or ended).
    public func recordInjection(_ name: String, joint: Int?, began: Bool) {
        record(began ? .faultInjected : .faultInjectionEnded, joint: joint, detail: name)
    }

    public func setTemperature(joint: Int, celsius: Double) {
        plants[joint].setTemperature(celsius)
    }

    /// Puts `joint` at `radians`, at rest (test set-up).
    public func placeJoint(_ joint: Int, atRadians radians: Double) {
        plants[joint].place(atRadians: radians)
        resetVelocityHistory(joint)
    }

    // MARK: Firmware

    private func step(at time: MonotonicInstant) {
        let dt = Double(configuration.innerLoopPeriodNanoseconds) * 1e-9
        if isEnabled && !isWatchdogExpired && !isWatchdogDisabled
            && time.nanoseconds(since: lastFeed) > Int64(watchdogPeriodMicroseconds) * Nanoseconds.perMicrosecond
        {
            isWatchdogExpired = true
            endLocalHold(at: time)
            setAllSetpointsOff()
            let sinceFeed = time.nanoseconds(since: lastFeed) / Nanoseconds.perMicrosecond
            record(.watchdogStop, at: time, fault: .watchdogExpired)
            send(.fault(RehabLink.FaultReport(code: .watchdogExpired, joint: 0xFF, value: Int32(clamping: sinceFeed),
                                    deviceTimeMicroseconds: deviceTime(time))))
        }
        let active = isEnabled && !isWatchdogExpired && !isEmergencyStopPressed && latchedFault == .none
        if active && !isHoldingLocally, let holdAfter = holdAfterNanoseconds, time.nanoseconds(since: lastFeed) > holdAfter,
            setpoints.contains(where: { $0.mode != .off })
        {
            beginLocalHold(at: time)
        }
        for joint in plants.indices {
            if torqueRamps[joint].active { applyTorqueRamp(joint, at: time) }
            if patient != nil {
                let plant = plants[joint]
                let torques = patient!.torques(
                    joint: joint, at: time, positionRadians: plant.positionRadians, velocityRadiansPerSecond: plant.velocityRadiansPerSecond)
                lastPatientTorques[joint] = torques
                plants[joint].patientTorqueNewtonMeters = torques.total
            }
            var demand = 0.0
            limitedByFirmware[joint] = false
            if active {
                let law = isHoldingLocally && setpoints[joint].mode != .off ? holdLaw(joint) : controlLaw(joint)
                demand = applyFirmwareLimits(joint, to: law)
            }
            if brakeFailed[joint] && demand * plants[joint].velocityRadiansPerSecond < 0 { demand = 0 }
            plants[joint].step(motorTorqueDemand: demand, seconds: dt)
            updateVelocityEstimate(joint, dt: dt)
            let plant = plants[joint]
            let settings = configuration.joints[joint]
            if plant.temperatureCelsius > settings.maximumTemperatureCelsius && latchedFault == .none {
                latchFault(.overTemperature, joint: joint, value: Int32(RehabLink.Scaling.decidegrees(plant.temperatureCelsius)), at: time)
            }
            // The velocity trip (SR-24; power-up: the device's own over-speed cut). On the joint's true
            // speed: a drive measures it at the motor, independent of the joint encoder.
            if abs(plant.velocityRadiansPerSecond) > RehabLink.Scaling.fromMicro(velocityTripMicroradiansPerSecond[joint])
                && latchedFault == .none
            {
                latchFault(.overSpeed, joint: joint, value: RehabLink.Scaling.micro(plant.velocityRadiansPerSecond), at: time)
            }
        }
        updateTorqueState(at: time)
    }

    private func applyTorqueRamp(_ joint: Int, at time: MonotonicInstant) {
        let ramp = torqueRamps[joint]
        let fraction = min(1, Double(time.nanoseconds(since: ramp.start)) / Double(ramp.durationNanoseconds))
        plants[joint].externalTorqueNewtonMeters = ramp.from + (ramp.to - ramp.from) * max(0, fraction)
        if fraction >= 1 { torqueRamps[joint].active = false }
    }

    /// The joint torque the firmware demands from the drive (spec section 5.4).
    private func controlLaw(_ joint: Int) -> Double {
        let command = setpoints[joint]
        let position = measuredPosition(joint)
        let velocity = estimatedVelocities[joint]
        let targetPosition = RehabLink.Scaling.fromMicro(command.positionMicroradians)
        let targetVelocity = RehabLink.Scaling.fromMicro(command.velocityMicroradiansPerSecond)
        let feedForward = RehabLink.Scaling.fromMilli(command.torqueMillinewtonMeters)
        switch command.mode {
        case .off:
            return 0
        case .torque:
            return feedForward
        case .position:
            return RehabLink.Scaling.fromMilli(positionStiffness) * (targetPosition - position)
                - RehabLink.Scaling.fromMilli(positionDamping) * velocity + feedForward
        case .velocity:
            return RehabLink.Scaling.fromMilli(velocityGain) * (targetVelocity - velocity) + feedForward
        case .impedance:
            return RehabLink.Scaling.fromMilli(command.stiffnessMillinewtonMetersPerRadian) * (targetPosition - position)
                + RehabLink.Scaling.fromMilli(command.dampingMillinewtonMeterSecondsPerRadian) * (targetVelocity - velocity)
                + feedForward
        }
    }

    /// The local hold (spec 6.1): the position loop around where the hold began, at rest.
    private func holdLaw(_ joint: Int) -> Double {
        RehabLink.Scaling.fromMilli(positionStiffness) * (holdPositions[joint] - measuredPosition(joint))
            - RehabLink.Scaling.fromMilli(positionDamping) * estimatedVelocities[joint]
    }

    /// The firmware's own limits on a joint's torque demand (spec 5.4, SR-24): the per-direction
    /// cap, then no torque pushing further out past a soft limit. The drive's rating follows in the plant.
    private func applyFirmwareLimits(_ joint: Int, to demand: Double) -> Double {
        var torque = min(max(demand, -RehabLink.Scaling.fromMilli(torqueCapNegativeMillinewtonMeters[joint])),
                         RehabLink.Scaling.fromMilli(torqueCapPositiveMillinewtonMeters[joint]))
        let position = measuredPosition(joint)
        if (torque > 0 && position > RehabLink.Scaling.fromMicro(softLimitMaximumMicroradians[joint]))
            || (torque < 0 && position < RehabLink.Scaling.fromMicro(softLimitMinimumMicroradians[joint]))
        {
            torque = 0
        }
        limitedByFirmware[joint] = torque != demand
        return torque
    }

    /// How long without an applied COMMAND before the local hold [ns]: 2 command periods; nil for a
    /// 1.0 firmware or before the period is known.
    private var holdAfterNanoseconds: Int64? {
        guard speaksVersion1_1, let period = commandPeriodNanoseconds else { return nil }
        return 2 * period
    }

    private func beginLocalHold(at time: MonotonicInstant) {
        for joint in plants.indices { holdPositions[joint] = measuredPosition(joint) }
        isHoldingLocally = true
        record(.localHold, at: time)
    }

    private func endLocalHold(at time: MonotonicInstant) {
        guard isHoldingLocally else { return }
        isHoldingLocally = false
        record(.localHoldEnded, at: time)
    }

    /// Adds one interval between applied COMMANDs and takes the period as the median of the last
    /// few: one late or early command must not make the hold come early or late. Allocation-free.
    private func measureCommandInterval(_ nanoseconds: Int64) {
        commandIntervals[commandIntervalIndex] = nanoseconds
        commandIntervalIndex = (commandIntervalIndex + 1) % Self.periodWindow
        commandIntervalCount = min(commandIntervalCount + 1, Self.periodWindow)
        guard commandIntervalCount >= Self.periodMinimumIntervals else {
            commandPeriodNanoseconds = nil
            return
        }
        // Insertion sort of at most 5 values into the scratch copy.
        for index in 0..<commandIntervalCount {
            let value = commandIntervals[index]
            var slot = index
            while slot > 0 && commandIntervalScratch[slot - 1] > value {
                commandIntervalScratch[slot] = commandIntervalScratch[slot - 1]
                slot -= 1
            }
            commandIntervalScratch[slot] = value
        }
        // Never shorter than the inner loop: the firmware cannot tell commands apart more finely.
        commandPeriodNanoseconds = max(commandIntervalScratch[commandIntervalCount / 2], configuration.innerLoopPeriodNanoseconds)
    }

    private func handle(_ result: RehabLink.DecodeResult, at time: MonotonicInstant) {
        switch result {
        case .rejected(let rejection):
            send(.error(RehabLink.ProtocolErrorReport(code: rejection.reason, offendingType: rejection.type, offendingSequence: rejection.sequence)))
        case .packet(let packet):
            switch packet.message {
            case .identify:
                send(.identity(identity))
            case .enable(let period):
                handleEnable(period: period, sequence: packet.sequence, at: time)
            case .disable:
                if isEnabled { leaveEnabled(at: time) }
                isWatchdogExpired = false
                updateTorqueState(at: time)
                send(.acknowledge(RehabLink.Acknowledgement(acknowledgedType: .disable, result: .ok, acknowledgedSequence: packet.sequence, value: 0)))
            case .command(let joints):
                handleCommand(joints, sequence: packet.sequence, at: time)
            case .heartbeat:
                send(.state(stateReport(at: time)))
            case .parameterGet(let parameter):
                send(.parameter(readParameter(parameter)))
            case .parameterSet(let parameter, let value):
                send(.parameter(writeParameter(parameter, value: value)))
            case .faultReset:
                handleFaultReset(sequence: packet.sequence, at: time)
            case .identity, .acknowledge, .state, .fault, .parameter, .error:
                // A device→host message sent to a device: not a request this end knows.
                send(.error(RehabLink.ProtocolErrorReport(code: .unknownType, offendingType: packet.message.type.rawValue, offendingSequence: packet.sequence)))
            }
        }
    }

    private func handleEnable(period: UInt32, sequence: UInt16, at time: MonotonicInstant) {
        let result: RehabLink.AcknowledgeResult
        if isEmergencyStopPressed {
            result = .refusedEmergencyStop
        } else if latchedFault != .none {
            result = .refusedFault
        } else if isEnabled {
            result = .refusedState
        } else if !RehabLink.watchdogPeriodRangeMicroseconds.contains(period) {
            result = .refusedWatchdogPeriod
        } else {
            result = .ok
            isEnabled = true
            isWatchdogExpired = false
            watchdogPeriodMicroseconds = period
            lastFeed = time
            lastAppliedSequence = nil
            // The host's period is measured afresh: the last session's says nothing about this one.
            commandIntervalCount = 0
            commandIntervalIndex = 0
            commandPeriodNanoseconds = nil
            if firstEnableTime == nil { firstEnableTime = time }
            setAllSetpointsOff()
            record(.enable, at: time)
        }
        let acknowledged = isWatchdogDisabled ? 0 : acknowledgedWatchdogOverrideMicroseconds ?? period
        send(.acknowledge(RehabLink.Acknowledgement(acknowledgedType: .enable, result: result, acknowledgedSequence: sequence,
                                          value: result == .ok ? Int32(clamping: Int64(acknowledged)) : 0)))
    }

    private func handleCommand(_ joints: JointList<RehabLink.JointCommand>, sequence: UInt16, at time: MonotonicInstant) {
        defer { send(.state(stateReport(at: time))) }
        guard isEnabled && !isWatchdogExpired else {
            sendError(.notEnabled, type: .command, sequence: sequence)
            return
        }
        if ignoresCommands {
            // The injected firmware bug: answered, not applied, yet the watchdog is fed.
            lastFeed = time
            return
        }
        if let last = lastAppliedSequence, !SequenceNumber.isNewer(sequence, than: last) {
            rejectedCommandCount &+= 1
            return
        }
        guard joints.count == plants.count else {
            rejectedCommandCount &+= 1
            sendError(.jointCountMismatch, type: .command, sequence: sequence)
            return
        }
        for joint in 0..<joints.count where !isInRange(joints[joint], joint: joint) {
            rejectedCommandCount &+= 1
            sendError(.outOfRange, type: .command, sequence: sequence)
            return
        }
        for joint in 0..<joints.count { setpoints[joint] = joints[joint] }
        if lastAppliedSequence != nil { measureCommandInterval(time.nanoseconds(since: lastFeed)) }
        endLocalHold(at: time)
        lastAppliedSequence = sequence
        appliedCommandCount += 1
        lastFeed = time
        updateTorqueState(at: time)
    }

    private func isInRange(_ command: RehabLink.JointCommand, joint: Int) -> Bool {
        let settings = configuration.joints[joint]
        let torqueLimit = Int64(RehabLink.Scaling.milli(settings.plant.ratedTorqueNewtonMeters))
        let lower = Int64(RehabLink.Scaling.micro(settings.plant.hardLimitMinimumRadians, rounding: .down))
        let upper = Int64(RehabLink.Scaling.micro(settings.plant.hardLimitMaximumRadians, rounding: .up))
        let speedLimit = Int64(RehabLink.Scaling.micro(settings.ratedVelocityRadiansPerSecond))
        return abs(Int64(command.torqueMillinewtonMeters)) <= torqueLimit
            && (lower...upper).contains(Int64(command.positionMicroradians))
            && abs(Int64(command.velocityMicroradiansPerSecond)) <= speedLimit
            && command.stiffnessMillinewtonMetersPerRadian >= 0
            && command.dampingMillinewtonMeterSecondsPerRadian >= 0
    }

    private func handleFaultReset(sequence: UInt16, at time: MonotonicInstant) {
        guard !isEnabled else {
            send(.acknowledge(RehabLink.Acknowledgement(acknowledgedType: .faultReset, result: .refusedState, acknowledgedSequence: sequence, value: 0)))
            return
        }
        if latchedFault != .none && !faultCausePersists {
            latchedFault = .none
            record(.faultReset, at: time)
        }
        send(.acknowledge(RehabLink.Acknowledgement(acknowledgedType: .faultReset, result: .ok, acknowledgedSequence: sequence,
                                          value: Int32(latchedFault.rawValue))))
    }

    private var faultCausePersists: Bool {
        switch latchedFault {
        case .overTemperature:
            // 5 °C of hysteresis below the trip point.
            return plants.indices.contains { plants[$0].temperatureCelsius > configuration.joints[$0].maximumTemperatureCelsius - 5 }
        default:
            return injectedFaultPersists
        }
    }

    private func readParameter(_ parameter: RehabLink.ParameterID) -> RehabLink.ParameterReport {
        if let limit = jointLimitParameter(parameter) {
            return RehabLink.ParameterReport(parameter: parameter, result: .ok, value: jointLimit(limit.parameter, joint: limit.joint))
        }
        let value: Int32
        switch parameter {
        case .watchdogPeriodMicroseconds: value = Int32(watchdogPeriodMicroseconds)
        case .replyBudgetMicroseconds: value = configuration.replyBudgetMicroseconds
        case .protocolMinor where speaksVersion1_1: value = configuration.protocolMinorVersion
        case .positionStiffness: value = positionStiffness
        case .positionDamping: value = positionDamping
        case .velocityGain: value = velocityGain
        case .temperatureLimitDecidegrees: value = Int32(RehabLink.Scaling.decidegrees(configuration.joints[0].maximumTemperatureCelsius))
        case .crcErrorCount: value = Int32(clamping: decoder.statistics.crcErrors)
        case .rejectedCommandCount: value = Int32(clamping: Int64(rejectedCommandCount))
        default: return RehabLink.ParameterReport(parameter: parameter, result: .unknownParameter, value: 0)
        }
        return RehabLink.ParameterReport(parameter: parameter, result: .ok, value: value)
    }

    private func writeParameter(_ parameter: RehabLink.ParameterID, value: Int32) -> RehabLink.ParameterReport {
        if let limit = jointLimitParameter(parameter) {
            return writeJointLimit(limit.parameter, joint: limit.joint, value: value, id: parameter)
        }
        switch parameter {
        case .positionStiffness, .positionDamping, .velocityGain:
            guard !isEnabled else { return RehabLink.ParameterReport(parameter: parameter, result: .notWhileEnabled, value: readParameter(parameter).value) }
            guard (0...1_000_000).contains(value) else { return RehabLink.ParameterReport(parameter: parameter, result: .outOfRange, value: readParameter(parameter).value) }
            switch parameter {
            case .positionStiffness: positionStiffness = value
            case .positionDamping: positionDamping = value
            default: velocityGain = value
            }
            return RehabLink.ParameterReport(parameter: parameter, result: .ok, value: value)
        case .watchdogPeriodMicroseconds, .replyBudgetMicroseconds, .temperatureLimitDecidegrees, .crcErrorCount,
            .rejectedCommandCount:
            return RehabLink.ParameterReport(parameter: parameter, result: .readOnly, value: readParameter(parameter).value)
        case .protocolMinor where speaksVersion1_1:
            return RehabLink.ParameterReport(parameter: parameter, result: .readOnly, value: readParameter(parameter).value)
        default:
            return RehabLink.ParameterReport(parameter: parameter, result: .unknownParameter, value: 0)
        }
    }

    /// The SR-24 limit and joint `parameter` names on this device: nil on a 1.0 firmware and for a
    /// joint it does not have (both `unknown_parameter`).
    private func jointLimitParameter(_ parameter: RehabLink.ParameterID) -> (parameter: RehabLink.JointLimitParameter, joint: Int)? {
        guard speaksVersion1_1, let limit = parameter.jointLimit, limit.joint < plants.count else { return nil }
        return limit
    }

    /// PARAM_SET of an SR-24 limit (spec 5.6.1): only while disabled, only within the joint's rating.
    private func writeJointLimit(_ limit: RehabLink.JointLimitParameter, joint: Int, value: Int32, id: RehabLink.ParameterID) -> RehabLink.ParameterReport {
        let inEffect = jointLimit(limit, joint: joint)
        guard !isEnabled else { return RehabLink.ParameterReport(parameter: id, result: .notWhileEnabled, value: inEffect) }
        let rating = Self.wireLimits(configuration.joints[joint])
        let hard = rating.positionMinimumMicroradians...rating.positionMaximumMicroradians
        let valid: Bool
        switch limit {
        case .softLimitMinimum: valid = hard.contains(value) && value < softLimitMaximumMicroradians[joint]
        case .softLimitMaximum: valid = hard.contains(value) && value > softLimitMinimumMicroradians[joint]
        case .torqueCapPositive, .torqueCapNegative: valid = (0...rating.torqueMaximumMillinewtonMeters).contains(value)
        case .velocityTrip: valid = (1...overSpeedCutMicroradiansPerSecond[joint]).contains(value)
        }
        guard valid else { return RehabLink.ParameterReport(parameter: id, result: .outOfRange, value: inEffect) }
        // The injected faulty firmware: says it took the value, keeps the old one.
        if ignoresSafetyLimitWrites { return RehabLink.ParameterReport(parameter: id, result: .ok, value: value) }
        switch limit {
        case .softLimitMinimum: softLimitMinimumMicroradians[joint] = value
        case .softLimitMaximum: softLimitMaximumMicroradians[joint] = value
        case .torqueCapPositive: torqueCapPositiveMillinewtonMeters[joint] = value
        case .torqueCapNegative: torqueCapNegativeMillinewtonMeters[joint] = value
        case .velocityTrip: velocityTripMicroradiansPerSecond[joint] = value
        }
        return RehabLink.ParameterReport(parameter: id, result: .ok, value: value)
    }

    // MARK: Helpers

    /// A joint's ratings as IDENTITY reports them.
    private static func wireLimits(_ joint: SimulatedDeviceConfiguration.Joint) -> RehabLink.JointLimits {
        RehabLink.JointLimits(
            positionMinimumMicroradians: RehabLink.Scaling.micro(joint.plant.hardLimitMinimumRadians),
            positionMaximumMicroradians: RehabLink.Scaling.micro(joint.plant.hardLimitMaximumRadians),
            velocityMaximumMicroradiansPerSecond: RehabLink.Scaling.micro(joint.ratedVelocityRadiansPerSecond),
            torqueMaximumMillinewtonMeters: RehabLink.Scaling.milli(joint.plant.ratedTorqueNewtonMeters),
            encoderCountsPerRevolution: UInt32(joint.plant.encoderCountsPerRevolution))
    }

    private var identity: RehabLink.DeviceIdentity {
        var joints = JointList(
            count: plants.count,
            repeating: RehabLink.JointLimits(
                positionMinimumMicroradians: 0, positionMaximumMicroradians: 0, velocityMaximumMicroradiansPerSecond: 0,
                torqueMaximumMillinewtonMeters: 0, encoderCountsPerRevolution: 0))
        for (index, joint) in configuration.joints.enumerated() { joints[index] = Self.wireLimits(joint) }
        return RehabLink.DeviceIdentity(
            protocolVersion: RehabLink.protocolVersion, firmwareMajor: configuration.firmwareMajor,
            firmwareMinor: configuration.firmwareMinor, firmwarePatch: configuration.firmwarePatch,
            model: FixedASCII(configuration.model), serialNumber: FixedASCII(configuration.serialNumber), joints: joints)
    }

    private func stateReport(at time: MonotonicInstant) -> RehabLink.StateReport {
        var status: RehabLink.StatusFlags = []
        if isEnabled { status.insert(.enabled) }
        if torqueOn { status.insert(.torqueOn) }
        if isWatchdogExpired { status.insert(.watchdogExpired) }
        if isEmergencyStopPressed { status.insert(.emergencyStop) }
        if latchedFault != .none { status.insert(.fault) }
        if speaksVersion1_1 && isPatientStopPressed { status.insert(.patientStop) }
        if speaksVersion1_1 && isPatientPausePressed { status.insert(.patientPause) }
        var joints = JointList(count: plants.count, repeating: RehabLink.JointState())
        for index in plants.indices {
            let plant = plants[index]
            var flags: RehabLink.JointFlags = []
            if plant.atLowerHardStop { flags.insert(.atLowerHardStop) }
            if plant.atUpperHardStop { flags.insert(.atUpperHardStop) }
            if plant.torqueLimited || limitedByFirmware[index] { flags.insert(.torqueLimited) }
            let sensor = configuration.joints[index].hasTorqueSensor
            if sensor { flags.insert(.torqueSensorFitted) }
            joints[index] = RehabLink.JointState(
                positionMicroradians: RehabLink.Scaling.micro(measuredPosition(index)),
                velocityMicroradiansPerSecond: RehabLink.Scaling.micro(estimatedVelocities[index]),
                torqueMillinewtonMeters: RehabLink.Scaling.milli(plant.motorTorqueNewtonMeters),
                interactionTorqueMillinewtonMeters: sensor ? RehabLink.Scaling.milli(plant.interactionTorqueNewtonMeters) : 0,
                encoderCounts: UInt32(truncatingIfNeeded: measuredCount(index) &+ encoderFaults[index].rawOffset),
                motorCurrentMilliamperes: RehabLink.Scaling.milliamperes(plant.motorCurrentAmperes),
                temperatureDecidegreesCelsius: RehabLink.Scaling.decidegrees(plant.temperatureCelsius),
                flags: flags)
        }
        return RehabLink.StateReport(
            deviceTimeMicroseconds: deviceTime(time), commandSequence: lastAppliedSequence ?? 0, status: status,
            faultCode: latchedFault, joints: joints)
    }

    /// The count the encoder reports (the true count unless a fault is injected).
    private func measuredCount(_ joint: Int) -> Int64 {
        let faults = encoderFaults[joint]
        return faults.frozen ?? (faults.sign * plants[joint].encoderCount + faults.shift)
    }

    /// Position as the firmware knows it: the quantised encoder count.
    private func measuredPosition(_ joint: Int) -> Double {
        Double(measuredCount(joint)) * 2 * Double.pi / Double(plants[joint].parameters.encoderCountsPerRevolution)
    }

    private func updateVelocityEstimate(_ joint: Int, dt: Double) {
        let window = Self.velocityWindow
        let slot = joint * window + historyIndex
        let oldest = countHistory[slot]
        let current = measuredCount(joint)
        countHistory[slot] = current
        if joint == plants.count - 1 { historyIndex = (historyIndex + 1) % window }
        let countsPerRadian = Double(plants[joint].parameters.encoderCountsPerRevolution) / (2 * Double.pi)
        estimatedVelocities[joint] = Double(current - oldest) / countsPerRadian / (dt * Double(window))
    }

    private func resetVelocityHistory(_ joint: Int) {
        let count = measuredCount(joint)
        for slot in 0..<Self.velocityWindow { countHistory[joint * Self.velocityWindow + slot] = count }
        estimatedVelocities[joint] = 0
    }

    private func latchFault(_ code: RehabLink.FaultCode, joint: Int?, value: Int32, at time: MonotonicInstant? = nil) {
        let time = time ?? now
        latchedFault = code
        if isEnabled { leaveEnabled(at: time) }
        record(.fault, at: time, fault: code, joint: joint)
        send(.fault(RehabLink.FaultReport(code: code, joint: joint.map { UInt8($0) } ?? 0xFF, value: value, deviceTimeMicroseconds: deviceTime(time))))
        updateTorqueState(at: time)
    }

    private func leaveEnabled(at time: MonotonicInstant? = nil) {
        endLocalHold(at: time ?? now)
        isEnabled = false
        setAllSetpointsOff()
        record(.disable, at: time ?? now)
    }

    private func setAllSetpointsOff() {
        for index in setpoints.indices { setpoints[index] = .off }
    }

    private func updateTorqueState(at time: MonotonicInstant? = nil) {
        let active = isEnabled && !isWatchdogExpired && !isEmergencyStopPressed && latchedFault == .none
            && setpoints.contains { $0.mode != .off }
        guard active != torqueOn else { return }
        torqueOn = active
        record(active ? .torqueOn : .torqueOff, at: time ?? now)
    }

    private func send(_ message: RehabLink.Message) {
        RehabLink.FrameEncoder.encode(message, sequence: sequence, into: &frame)
        sequence &+= 1
        let pushed = frame.withUnsafeBytes { output.push($0) }
        if !pushed { droppedOutputBytes += frame.count }
    }

    private func sendError(_ code: RehabLink.ProtocolErrorCode, type: RehabLink.MessageType, sequence: UInt16) {
        send(.error(RehabLink.ProtocolErrorReport(code: code, offendingType: type.rawValue, offendingSequence: sequence)))
    }

    private func record(
        _ kind: DeviceEvent.Kind, at time: MonotonicInstant? = nil, fault: RehabLink.FaultCode = .none, joint: Int? = nil, detail: String = ""
    ) {
        if eventLog.count == eventLog.capacity { eventLog.removeFirst() }
        eventLog.append(DeviceEvent(kind: kind, time: time ?? now, faultCode: fault, joint: joint, detail: detail))
    }

    private func deviceTime(_ time: MonotonicInstant) -> UInt32 {
        var nanoseconds = time.nanoseconds(since: bootTime) &+ clockOffsetNanoseconds
        if let drift = clockDrift {
            // A clock that runs fast (or slow) from the fault's start: SR-23's cross-check sees it.
            nanoseconds &+= Int64(Double(time.nanoseconds(since: drift.since)) * drift.rate)
        }
        return UInt32(truncatingIfNeeded: nanoseconds / Nanoseconds.perMicrosecond)
    }

    /// Fault injection (SR-23): from `time` on, the device's clock runs `percent` fast (0: at the true
    /// rate again, without a jump).
    public func setClockDrift(percent: Double, from time: MonotonicInstant) {
        if let drift = clockDrift {
            clockOffsetNanoseconds &+= Int64(Double(time.nanoseconds(since: drift.since)) * drift.rate)
        }
        clockDrift = percent == 0 ? nil : (time, percent / 100)
    }
}
