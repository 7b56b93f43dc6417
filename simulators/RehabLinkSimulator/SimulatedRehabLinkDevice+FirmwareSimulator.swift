import Control
import Primitives
import SimulatorKit
import Wire

/// The RehabLink firmware behind SimulatorKit's shared links, fault pump and real-time host.
extension SimulatedRehabLinkDevice: FirmwareSimulator {
    public typealias InjectableFault = RehabLinkDeviceFault

    public var model: String { configuration.model }

    public var serialNumber: String { configuration.serialNumber }

    public var hasOutput: Bool { !output.isEmpty }

    public func popOutput(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        output.pop(into: buffer)
    }

    public func beginInjectedFault(_ fault: RehabLinkDeviceFault, timed: Bool) {
        switch fault {
        case .freezeEncoder(let joint): freezeEncoder(joint: joint, true)
        case .jumpEncoder(let joint, let counts): jumpEncoder(joint: joint, counts: counts)
        case .wrapEncoder(let joint, let before): placeRawCounterBeforeWrap(joint: joint, countsBeforeWrap: before)
        case .reverseEncoder(let joint): reverseEncoder(joint: joint, true)
        case .deviceFault(let code):
            // With a duration its cause persists that long (FAULT_RESET is refused); without, it is gone at once.
            injectedFaultPersists = timed
            injectFault(code, joint: nil, value: 0)
        case .overTemperature(let joint):
            setTemperature(joint: joint, celsius: configuration.joints[joint].maximumTemperatureCelsius + 10)
        case .pressEmergencyStop: pressEmergencyStop()
        case .releaseEmergencyStop: releaseEmergencyStop()
        case .externalTorque(let joint, let torque, let ramp):
            setExternalTorque(joint: joint, newtonMeters: torque, rampNanoseconds: FaultTiming.nanoseconds(milliseconds: ramp))
        case .brakeFailure(let joint): failBrake(joint: joint, true)
        case .disableWatchdog: isWatchdogDisabled = true
        case .ignoreCommands: ignoresCommands = true
        case .clockDrift(let percent): setClockDrift(percent: percent, from: now)
        case .ignoreLimitWrites: ignoresSafetyLimitWrites = true
        case .pressPatientStop: pressPatientStop()
        case .releasePatientStop: releasePatientStop()
        case .pressPatientPause: pressPatientPause()
        case .releasePatientPause: releasePatientPause()
        }
    }

    public func endInjectedFault(_ fault: RehabLinkDeviceFault) {
        switch fault {
        case .freezeEncoder(let joint): freezeEncoder(joint: joint, false)
        case .reverseEncoder(let joint): reverseEncoder(joint: joint, false)
        case .deviceFault: injectedFaultPersists = false
        case .pressEmergencyStop: releaseEmergencyStop()
        case .externalTorque(let joint, _, let ramp):
            setExternalTorque(joint: joint, newtonMeters: 0, rampNanoseconds: FaultTiming.nanoseconds(milliseconds: ramp))
        case .brakeFailure(let joint): failBrake(joint: joint, false)
        case .disableWatchdog: isWatchdogDisabled = false
        case .ignoreCommands: ignoresCommands = false
        case .clockDrift: setClockDrift(percent: 0, from: now)
        case .ignoreLimitWrites: ignoresSafetyLimitWrites = false
        case .pressPatientStop: releasePatientStop()
        case .pressPatientPause: releasePatientPause()
        case .jumpEncoder, .wrapEncoder, .overTemperature, .releaseEmergencyStop, .releasePatientStop, .releasePatientPause:
            break
        }
    }

    public func drainEventRecords(_ body: (FirmwareEventRecord) -> Void) {
        drainEvents { event in
            let fault = event.faultCode
            body(FirmwareEventRecord(
                time: event.time, event: event.kind.rawValue, faultCode: fault == .none ? nil : Int(fault.rawValue),
                faultName: fault == .none ? "" : fault.name, faultDescription: fault == .none ? "" : fault.description,
                joint: event.joint, detail: event.detail))
        }
    }

    public func startCue(at start: MonotonicInstant) {
        patient?.startCue(at: start)
    }

    public func holdCue(at time: MonotonicInstant) {
        patient?.holdCue(at: time)
    }

    public func resumeCue(at time: MonotonicInstant, plan: PlanInputs?) {
        patient?.resumeCue(at: time, plan: plan)
    }
}
