import Primitives
import Transport
import Wire

/// A `ByteLink` to a `SimulatedRehabLinkDevice` in the same process, on a `VirtualClock`: the
/// host's real driver talks real RehabLink bytes to the simulated firmware, and a 10 s session
/// runs in milliseconds.
///
/// Replies become readable `replyLatencyNanoseconds` after the request (or after the device
/// produced them). Waiting for bytes advances the virtual clock. Never allocates after set-up.
public final class InProcessDeviceLink: ByteLink {
    public let device: SimulatedRehabLinkDevice
    public let clock: VirtualClock
    public var replyLatencyNanoseconds: Int64
    /// Fault injection: the device's bytes never reach the host (a mute or disconnected device).
    public var dropsDeviceOutput = false
    /// Fault injection: the link is gone; every call throws `.deviceGone` (an unplug).
    public var isUnplugged = false

    /// Faults applied when the virtual clock reaches their time, in order.
    public private(set) var scheduledFaults: [ScheduledFault] = []
    private var nextFault = 0

    private let inFlight = ByteRing(capacity: 64 * 1024)
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
    private var releaseTimes: [MonotonicInstant]
    private var releaseSizes: [Int]
    private var releaseHead = 0
    private var releaseCount = 0

    public var name: String { "in-process simulator (\(device.configuration.model))" }

    public init(device: SimulatedRehabLinkDevice, clock: VirtualClock, replyLatencyNanoseconds: Int64 = 100_000) {
        self.device = device
        self.clock = clock
        self.replyLatencyNanoseconds = replyLatencyNanoseconds
        releaseTimes = Array(repeating: .zero, count: 1024)
        releaseSizes = Array(repeating: 0, count: 1024)
    }

    deinit {
        scratch.deallocate()
    }

    public func readAvailable(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> Int {
        applyDueFaults()
        try checkPlugged()
        pump()
        let now = clock.now()
        var copied = 0
        while releaseCount > 0 && releaseTimes[releaseHead] <= now && copied < buffer.count {
            let take = min(releaseSizes[releaseHead], buffer.count - copied)
            inFlight.pop(into: UnsafeMutableRawBufferPointer(rebasing: buffer[copied...]), limit: take)
            copied += take
            releaseSizes[releaseHead] -= take
            if releaseSizes[releaseHead] == 0 {
                releaseHead = (releaseHead + 1) % releaseTimes.count
                releaseCount -= 1
            }
        }
        return copied
    }

    public func write(_ bytes: UnsafeRawBufferPointer, deadline: MonotonicInstant) throws(TransportError) {
        applyDueFaults()
        try checkPlugged()
        pump()
        device.receive(bytes, at: clock.now())
        collectDeviceOutput()
    }

    public func waitReadable(until deadline: MonotonicInstant) throws(TransportError) -> Bool {
        applyDueFaults()
        if isUnplugged { return true }
        pump()
        if releaseCount > 0 {
            let next = releaseTimes[releaseHead]
            if next <= clock.now() { return true }
            if next <= deadline {
                clock.advance(to: next)
                pump()
                return true
            }
        }
        clock.advance(to: deadline)
        pump()
        return releaseCount > 0 && releaseTimes[releaseHead] <= clock.now()
    }

    private var callbacks: [(time: MonotonicInstant, action: () -> Void)] = []

    /// Runs `action` once when the virtual clock reaches `time` (e.g. an operator request that a
    /// real system would receive from another thread). Call before the session starts.
    public func at(_ time: MonotonicInstant, perform action: @escaping () -> Void) {
        callbacks.append((time, action))
        callbacks.sort { $0.time < $1.time }
    }

    /// Schedules `faults` (kept sorted by time; call before the session starts).
    public func schedule(_ faults: [ScheduledFault]) {
        scheduledFaults = (scheduledFaults[nextFault...] + faults).sorted { $0.at < $1.at }
        nextFault = 0
    }

    private func applyDueFaults() {
        let now = clock.now()
        while let first = callbacks.first, first.time <= now {
            callbacks.removeFirst()
            first.action()
        }
        while nextFault < scheduledFaults.count && scheduledFaults[nextFault].at <= now {
            let fault = scheduledFaults[nextFault]
            nextFault += 1
            device.advance(to: fault.at)
            switch fault.kind {
            case .muteDevice: dropsDeviceOutput = true
            case .unmuteDevice: dropsDeviceOutput = false
            case .unplug: isUnplugged = true
            case .pressEmergencyStop: device.pressEmergencyStop()
            case .releaseEmergencyStop: device.releaseEmergencyStop()
            case .deviceFault(let code): device.injectFault(code, joint: nil, value: 0)
            case .externalTorque(let joint, let torque): device.setExternalTorque(joint: joint, newtonMeters: torque)
            }
        }
    }

    private func checkPlugged() throws(TransportError) {
        if isUnplugged { throw .deviceGone(path: name, reason: "unplugged (fault injection)") }
    }

    /// Brings the device up to the clock and collects what it sent meanwhile.
    private func pump() {
        device.advance(to: clock.now())
        collectDeviceOutput()
    }

    private func collectDeviceOutput() {
        let releaseAt = clock.now().advanced(byNanoseconds: replyLatencyNanoseconds)
        while !device.output.isEmpty {
            let count = device.output.pop(into: scratch)
            if dropsDeviceOutput { continue }
            guard releaseCount < releaseTimes.count,
                inFlight.push(UnsafeRawBufferPointer(rebasing: scratch[0..<count]))
            else { continue }  // the host stopped reading: like a full USB buffer, the bytes are lost
            let slot = (releaseHead + releaseCount) % releaseTimes.count
            releaseTimes[slot] = releaseAt
            releaseSizes[slot] = count
            releaseCount += 1
        }
    }
}
