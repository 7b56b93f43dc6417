import Primitives

/// Starts and ends injected faults on a simulated device and its link when their triggers come: the
/// one implementation behind the in-process link (virtual time) and `RealTimeDeviceHost` (rehabsim,
/// real time), for every firmware.
///
/// Link faults change `link`, which the link applies to the device's bytes; device-level faults go
/// to the firmware (`FirmwareSimulator.beginInjectedFault` / `endInjectedFault`). Every fault that
/// begins or ends is recorded in the device's event log.
///
/// Call `update` whenever the device has been advanced (before its replies are handed to the
/// link). Adding faults allocates; `update` does not.
public final class FaultInjector<DeviceKind: InjectableDeviceFault> {
    public typealias Fault = ScheduledFault<DeviceKind>

    private struct Entry {
        var fault: Fault
        var began: MonotonicInstant?
        var ended = false
    }

    private var entries: [Entry] = []
    /// What the link must currently do to the device's bytes.
    public private(set) var link = LinkFaults()

    public init(_ faults: [Fault] = []) {
        entries.reserveCapacity(64)
        add(faults)
    }

    public func add(_ faults: [Fault]) {
        entries.append(contentsOf: faults.map { Entry(fault: $0) })
        pendingCount += faults.count
    }

    /// Faults not yet begun or still running.
    public private(set) var pendingCount = 0

    /// Begins the faults whose trigger has come and ends those whose duration is over.
    public func update<Firmware: FirmwareSimulator>(device: Firmware, now: MonotonicInstant)
    where Firmware.InjectableFault == DeviceKind {
        // Called several times a cycle, mostly with nothing left to do: a virtual-time session spent
        // 4 % of its time walking an empty generic loop here (perf, 2026-12-07).
        guard pendingCount > 0 else { return }
        for index in 0..<entries.count where !entries[index].ended {
            if let began = entries[index].began {
                guard let duration = entries[index].fault.durationMilliseconds,
                    now.nanoseconds(since: began) >= Self.nanoseconds(milliseconds: duration)
                else { continue }
                end(entries[index].fault.kind, device: device)
                entries[index].ended = true
                pendingCount -= 1
            } else if isDue(entries[index].fault.trigger, device: device, now: now) {
                begin(entries[index].fault.kind, timed: entries[index].fault.durationMilliseconds != nil, device: device)
                entries[index].began = now
                if entries[index].fault.durationMilliseconds == nil {
                    entries[index].ended = true
                    pendingCount -= 1
                }
            }
        }
    }

    /// Corrupts bytes leaving the device as the active `corrupt_bytes` fault says (in place).
    public func corrupt(_ bytes: UnsafeMutableRawBufferPointer) {
        link.corrupt(bytes)
    }

    private static func nanoseconds(milliseconds: Double) -> Int64 {
        FaultTiming.nanoseconds(milliseconds: milliseconds)
    }

    private func isDue<Firmware: FirmwareSimulator>(_ trigger: FaultTrigger, device: Firmware, now: MonotonicInstant) -> Bool {
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

    private func begin<Firmware: FirmwareSimulator>(_ kind: FaultKind<DeviceKind>, timed: Bool, device: Firmware)
    where Firmware.InjectableFault == DeviceKind {
        device.recordInjection(kind.name, joint: kind.joint, began: true)
        switch kind {
        case .link(.dropReplies): link.dropsReplies = true
        case .link(.corruptBytes(let every)): link.corruptEveryNth = every
        case .link(.delayReplies(let milliseconds)): link.delayNanoseconds = Self.nanoseconds(milliseconds: milliseconds)
        case .link(.unplug): link.isUnplugged = true
        case .device(let fault): device.beginInjectedFault(fault, timed: timed)
        }
    }

    private func end<Firmware: FirmwareSimulator>(_ kind: FaultKind<DeviceKind>, device: Firmware)
    where Firmware.InjectableFault == DeviceKind {
        device.recordInjection(kind.name, joint: kind.joint, began: false)
        switch kind {
        case .link(.dropReplies): link.dropsReplies = false
        case .link(.corruptBytes): link.corruptEveryNth = 0
        case .link(.delayReplies): link.delayNanoseconds = 0
        case .link(.unplug): break
        case .device(let fault): device.endInjectedFault(fault)
        }
    }
}

/// Time arithmetic of injected faults.
public enum FaultTiming {
    /// Milliseconds as nanoseconds, saturated to Int64 (NaN: 0). A script's times are checked (at
    /// most a day), but a fault built in code is not: 1e13 ms is past Int64 in nanoseconds, and
    /// must mean "not yet", not a trap.
    public static func nanoseconds(milliseconds: Double) -> Int64 {
        let nanoseconds = (milliseconds * 1e6).rounded()
        guard !nanoseconds.isNaN else { return 0 }
        guard nanoseconds < 0x1p63 else { return .max }
        guard nanoseconds >= -0x1p63 else { return .min }
        return Int64(nanoseconds)
    }
}
