import Primitives
import Transport

/// A `ByteLink` to a simulated device in the same process, on a `VirtualClock`: the host's real
/// driver talks real protocol bytes to the simulated firmware, and a 10 s session runs in
/// milliseconds. One link for every firmware (`FirmwareSimulator`); `device` keeps its concrete
/// type, so tests reach the firmware's own controls (`link.device.pressEmergencyStop()`).
///
/// Replies become readable `replyLatencyNanoseconds` after the request (or after the device
/// produced them). Waiting for bytes advances the virtual clock. Never allocates after set-up.
public final class InProcessDeviceLink<Firmware: FirmwareSimulator>: ByteLink {
    public let device: Firmware
    public let clock: VirtualClock
    public var replyLatencyNanoseconds: Int64
    /// Injected faults (drop, corrupt, delay, unplug on this link; the rest on the device).
    public let faults = FaultInjector<Firmware.InjectableFault>()

    private let inFlight = DelayedBytes()
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)

    public var name: String { "in-process simulator (\(device.model))" }

    public init(device: Firmware, clock: VirtualClock, replyLatencyNanoseconds: Int64 = 100_000) {
        self.device = device
        self.clock = clock
        self.replyLatencyNanoseconds = replyLatencyNanoseconds
    }

    deinit {
        scratch.deallocate()
    }

    /// Adds faults to inject when their triggers come (call before the session starts: allocates).
    public func inject(_ faults: [ScheduledFault<Firmware.InjectableFault>]) {
        self.faults.add(faults)
        pump()
    }

    /// The link is gone (an injected unplug): every call throws `.deviceGone`.
    public var isUnplugged: Bool { faults.link.isUnplugged }

    public func readAvailable(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> Int {
        runDueCallbacks()
        pump()
        try checkPlugged()
        return inFlight.pop(readableAt: clock.now(), into: buffer)
    }

    public func write(_ bytes: UnsafeRawBufferPointer, deadline: MonotonicInstant) throws(TransportError) {
        runDueCallbacks()
        pump()
        try checkPlugged()
        device.receive(bytes, at: clock.now())
        pump()
    }

    public func waitReadable(until deadline: MonotonicInstant) throws(TransportError) -> Bool {
        runDueCallbacks()
        pump()
        while true {
            if isUnplugged { return true }
            if let next = inFlight.nextRelease, next <= clock.now() { return true }
            // The next moment something can happen: a reply released, or the firmware acting on its own
            // (a bus whose reply is still on the wire, a watchdog): step there, not straight to the deadline.
            var next = deadline
            if let release = inFlight.nextRelease { next = min(next, release) }
            if let due = device.nextDeadline, due > clock.now() { next = min(next, due) }
            guard next > clock.now() else { return false }
            clock.advance(to: next)
            pump()
            if clock.now() >= deadline {
                if isUnplugged { return true }
                return inFlight.nextRelease.map { $0 <= clock.now() } ?? false
            }
        }
    }

    private var callbacks: [(time: MonotonicInstant, action: () -> Void)] = []

    /// Runs `action` once when the virtual clock reaches `time` (e.g. an operator request that a
    /// real system would receive from another thread). Call before the session starts.
    public func at(_ time: MonotonicInstant, perform action: @escaping () -> Void) {
        callbacks.append((time, action))
        callbacks.sort { $0.time < $1.time }
    }

    private func runDueCallbacks() {
        let now = clock.now()
        while let first = callbacks.first, first.time <= now {
            callbacks.removeFirst()
            first.action()
        }
    }

    private func checkPlugged() throws(TransportError) {
        if isUnplugged { throw .deviceGone(path: name, reason: "unplugged (fault injection)") }
    }

    /// Brings the device up to the clock, applies due faults and collects what it sent meanwhile.
    private func pump() {
        device.advance(to: clock.now())
        faults.update(device: device, now: clock.now())
        let link = faults.link
        let releaseAt = clock.now().advanced(byNanoseconds: replyLatencyNanoseconds + link.delayNanoseconds)
        while device.hasOutput {
            let count = device.popOutput(into: scratch)
            if link.dropsReplies || link.isUnplugged { continue }
            let bytes = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<count])
            faults.corrupt(bytes)
            inFlight.push(UnsafeRawBufferPointer(bytes), readableAt: releaseAt)
        }
    }
}
