import Primitives

/// Starts and ends injected faults on a simulated device and its link, when their triggers come:
/// one implementation for the in-process link (virtual time) and `rehabsim` (real time).
///
/// Call `update` whenever the device has been advanced (before its replies are handed to the
/// link). Adding faults allocates; `update` does not.
public final class FaultInjector {
    private struct Entry {
        var fault: InjectedFault
        var began: MonotonicInstant?
        var ended = false
    }

    private var entries: [Entry] = []
    /// What the link must currently do to the device's bytes.
    public private(set) var link = LinkFaults()

    public init(_ faults: [InjectedFault] = []) {
        entries.reserveCapacity(64)
        add(faults)
    }

    public func add(_ faults: [InjectedFault]) {
        entries.append(contentsOf: faults.map { Entry(fault: $0) })
    }

    /// Faults not yet begun or still running.
    public var pendingCount: Int { entries.count { !$0.ended } }

    /// Begins the faults whose trigger has come and ends those whose duration is over.
    public func update(device: SimulatedRehabLinkDevice, now: MonotonicInstant) {
        for index in entries.indices where !entries[index].ended {
            if let began = entries[index].began {
                guard let duration = entries[index].fault.durationMilliseconds,
                    now.nanoseconds(since: began) >= Self.nanoseconds(milliseconds: duration)
                else { continue }
                end(entries[index].fault.kind, device: device)
                entries[index].ended = true
            } else if isDue(entries[index].fault.trigger, device: device, now: now) {
                begin(entries[index].fault.kind, timed: entries[index].fault.durationMilliseconds != nil, device: device)
                entries[index].began = now
                if entries[index].fault.durationMilliseconds == nil { entries[index].ended = true }
            }
        }
    }

    /// Corrupts bytes leaving the device as the active `corrupt_bytes` fault says (in place).
    public func corrupt(_ bytes: UnsafeMutableRawBufferPointer) {
        link.corrupt(bytes)
    }

    /// Milliseconds as nanoseconds, saturated to Int64 (NaN: 0). A script's times are checked (at
    /// most a day), but a fault built in code is not: 1e13 ms is past Int64 in nanoseconds, and
    /// must mean "not yet", not a trap.
    static func nanoseconds(milliseconds: Double) -> Int64 {
        let nanoseconds = (milliseconds * 1e6).rounded()
        guard !nanoseconds.isNaN else { return 0 }
        guard nanoseconds < 0x1p63 else { return .max }
        guard nanoseconds >= -0x1p63 else { return .min }
        return Int64(nanoseconds)
    }

    private func isDue(_ trigger: InjectedFault.Trigger, device: SimulatedRehabLinkDevice, now: MonotonicInstant) -> Bool {
        switch trigger {
        case .now:
            return true
        case .atMilliseconds(let milliseconds):
            return now.nanoseconds(since: device.bootTime) >= Self.nanoseconds(milliseconds: milliseconds)
        case .afterEnableMilliseconds(let milliseconds):
            guard let enabled = device.firstEnableTime else { return false }
            return now.nanoseconds(since: enabled) >= Self.nanoseconds(milliseconds: milliseconds)
        case .atCommand(let count):
            return device.appliedCommandCount >= count
        }
    }

    private func begin(_ kind: InjectedFault.Kind, timed: Bool, device: SimulatedRehabLinkDevice) {
        device.recordInjection(kind.name, joint: kind.joint, began: true)
        switch kind {
        case .dropReplies: link.dropsReplies = true
        case .corruptBytes(let every): link.corruptEveryNth = every
        case .delayReplies(let milliseconds): link.delayNanoseconds = Self.nanoseconds(milliseconds: milliseconds)
        case .unplug: link.isUnplugged = true
        case .freezeEncoder(let joint): device.freezeEncoder(joint: joint, true)
        case .jumpEncoder(let joint, let counts): device.jumpEncoder(joint: joint, counts: counts)
        case .wrapEncoder(let joint, let before): device.placeRawCounterBeforeWrap(joint: joint, countsBeforeWrap: before)
        case .reverseEncoder(let joint): device.reverseEncoder(joint: joint, true)
        case .deviceFault(let code):
            // With a duration its cause persists that long (FAULT_RESET is refused); without, it is gone at once.
            device.injectedFaultPersists = timed
            device.injectFault(code, joint: nil, value: 0)
        case .overTemperature(let joint):
            device.setTemperature(joint: joint, celsius: device.configuration.joints[joint].maximumTemperatureCelsius + 10)
        case .pressEmergencyStop: device.pressEmergencyStop()
        case .releaseEmergencyStop: device.releaseEmergencyStop()
        case .externalTorque(let joint, let torque, let ramp):
            device.setExternalTorque(joint: joint, newtonMeters: torque, rampNanoseconds: Self.nanoseconds(milliseconds: ramp))
        case .brakeFailure(let joint): device.failBrake(joint: joint, true)
        case .disableWatchdog: device.isWatchdogDisabled = true
        case .ignoreCommands: device.ignoresCommands = true
        case .clockDrift(let percent): device.setClockDrift(percent: percent, from: device.now)
        case .ignoreLimitWrites: device.ignoresSafetyLimitWrites = true
        case .pressPatientStop: device.pressPatientStop()
        case .releasePatientStop: device.releasePatientStop()
        case .pressPatientPause: device.pressPatientPause()
        case .releasePatientPause: device.releasePatientPause()
        }
    }

    private func end(_ kind: InjectedFault.Kind, device: SimulatedRehabLinkDevice) {
        device.recordInjection(kind.name, joint: kind.joint, began: false)
        switch kind {
        case .dropReplies: link.dropsReplies = false
        case .corruptBytes: link.corruptEveryNth = 0
        case .delayReplies: link.delayNanoseconds = 0
        case .freezeEncoder(let joint): device.freezeEncoder(joint: joint, false)
        case .reverseEncoder(let joint): device.reverseEncoder(joint: joint, false)
        case .deviceFault: device.injectedFaultPersists = false
        case .pressEmergencyStop: device.releaseEmergencyStop()
        case .externalTorque(let joint, _, let ramp):
            device.setExternalTorque(joint: joint, newtonMeters: 0, rampNanoseconds: Self.nanoseconds(milliseconds: ramp))
        case .brakeFailure(let joint): device.failBrake(joint: joint, false)
        case .disableWatchdog: device.isWatchdogDisabled = false
        case .ignoreCommands: device.ignoresCommands = false
        case .clockDrift: device.setClockDrift(percent: 0, from: device.now)
        case .ignoreLimitWrites: device.ignoresSafetyLimitWrites = false
        case .pressPatientStop: device.releasePatientStop()
        case .pressPatientPause: device.releasePatientPause()
        case .unplug, .jumpEncoder, .wrapEncoder, .overTemperature, .releaseEmergencyStop, .releasePatientStop, .releasePatientPause:
            break
        }
    }
}
