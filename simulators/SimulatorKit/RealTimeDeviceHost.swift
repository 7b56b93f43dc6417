import CSystemShims
import Control
import Foundation
import Glibc
import Platform
import Primitives
import Profiles
import Synchronization
import Transport

/// One simulated device behind its own pseudo-terminal, on the real clock: what `rehabsim` runs
/// for every device it presents, whatever its firmware.
///
/// It reads the bytes hosts write to the terminal, feeds them to the firmware, advances the
/// firmware on the monotonic clock (when bytes arrive, at the firmware's own deadlines, and every
/// 10 ms for housekeeping), applies injected faults (`FaultInjector`: drop, corrupt and delay what
/// the device sends, or close the terminal for an unplug; the rest on the firmware), writes the
/// replies, and logs the firmware's events (`--events` JSON lines, messages on standard error).
/// Live injections and cue starts arrive from other threads through `live`.
///
/// `DeviceHostLoop.serve` runs any number of hosts in one poll loop on the calling thread.
public final class RealTimeDeviceHost<Firmware: FirmwareSimulator>: HostedDevice {
    public let label: String
    public let device: Firmware
    public let terminal: PseudoTerminal
    /// Live injections and the cue start, handed over by other threads (the control socket).
    public let live: LiveInjections<Firmware.InjectableFault>
    public private(set) var isUnplugged = false
    /// Bytes the device sent while no host read the terminal (lost, as on a real wire).
    public private(set) var droppedBytes = 0

    private let clock: MonotonicClock
    private let injector: FaultInjector<Firmware.InjectableFault>
    private let inFlight = DelayedBytes()
    private let linkPath: String?
    private var eventFile: Int32
    /// The rate the host last set on its end of the pseudo-terminal [bit/s] (0: not read yet).
    private var hostLineRate = 0
    private let messages: ((String) -> Void)?
    private let input = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
    private let output = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 1)

    /// Opens a pseudo-terminal for `device`; with `linkPath`, a symlink to it there (replacing what
    /// was there, removed again on unplug and in `shutdown`); with `eventsPath`, a JSON-lines event
    /// log. `jointCount` bounds the joints of live injections; `messages` receives what is worth
    /// telling a person (events, unplug), without a program prefix; nil: quiet.
    public convenience init(
        label: String, device: Firmware, jointCount: Int, faults: [ScheduledFault<Firmware.InjectableFault>] = [],
        linkPath: String? = nil, eventsPath: String? = nil, clock: MonotonicClock = .shared, messages: ((String) -> Void)? = nil
    ) throws(DeviceHostSetupError) {
        let terminal: PseudoTerminal
        do throws(TransportError) {
            terminal = try PseudoTerminal()
        } catch {
            throw .pseudoTerminal(error)
        }
        if let linkPath {
            unlink(linkPath)
            guard symlink(terminal.slavePath, linkPath) == 0 else {
                let error = Errno.current
                terminal.hangUp()
                throw .link(path: linkPath, error)
            }
        }
        var eventFile: Int32 = -1
        if let eventsPath {
            eventFile = open(eventsPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if eventFile < 0 {
                let error = Errno.current
                terminal.hangUp()
                if let linkPath { unlink(linkPath) }
                throw .events(path: eventsPath, error)
            }
        }
        self.init(label: label, device: device, terminal: terminal, jointCount: jointCount, faults: faults, linkPath: linkPath,
                  eventFile: eventFile, clock: clock, messages: messages)
    }

    private init(
        label: String, device: Firmware, terminal: PseudoTerminal, jointCount: Int, faults: [ScheduledFault<Firmware.InjectableFault>],
        linkPath: String?, eventFile: Int32, clock: MonotonicClock, messages: ((String) -> Void)?
    ) {
        self.label = label
        self.device = device
        self.terminal = terminal
        self.clock = clock
        self.messages = messages
        self.linkPath = linkPath
        self.eventFile = eventFile
        live = LiveInjections(jointCount: jointCount)
        injector = FaultInjector(faults)
    }

    deinit {
        input.deallocate()
        output.deallocate()
        if eventFile >= 0 { close(eventFile) }
    }

    public var slavePath: String { terminal.slavePath }

    public var model: String { device.model }

    public var serialNumber: String { device.serialNumber }

    public var inbox: any LiveControlInbox { live }

    public var inputDescriptor: Int32? { isUnplugged ? nil : terminal.masterFileDescriptor }

    public func service(now: MonotonicInstant) -> MonotonicInstant {
        let arrived = live.take()
        if !arrived.isEmpty { injector.add(arrived) }
        for change in live.takeCueChanges() {
            switch change {
            case .start(let start, let plan):
                device.startCue(at: start, plan: plan)
                messages?("the patient's cue starts in \(start.nanoseconds(since: now) / 1_000_000) ms")
            case .hold(let time): device.holdCue(at: time)
            case .resume(let time, let plan): device.resumeCue(at: time, plan: plan)
            }
        }
        noticeHostLineRate()
        device.advance(to: now)
        flushOutput()
        writeEvents()
        // Housekeeping every 10 ms (2 ms while faults are pending, so that their times are kept).
        let housekeeping = now.advanced(byNanoseconds: (injector.pendingCount > 0 ? 2 : 10) * Nanoseconds.perMillisecond)
        var wake = min(device.nextDeadline ?? housekeeping, housekeeping)
        if let release = inFlight.nextRelease { wake = min(wake, release) }
        return wake
    }

    public func readInput() throws(TransportError) {
        guard !isUnplugged else { return }
        let count = try terminal.readAvailable(into: input)
        if count > 0 {
            noticeHostLineRate()  // before its bytes: they were sent at that rate
            device.receive(UnsafeRawBufferPointer(rebasing: input[0..<count]), at: clock.now())
            flushOutput()
        }
    }

    /// The rate the host set on its end (the master sees the slave's settings), read at every wake-up
    /// and before the host's bytes. A sensor that only talks (a BNO08x in UART-RVC mode) hears no byte
    /// from its host, so waiting for input would never notice a host listening at the wrong rate.
    private func noticeHostLineRate() {
        guard !isUnplugged else { return }
        var inputRate: UInt32 = 0
        var outputRate: UInt32 = 0
        if rh_tty_get_baud(terminal.masterFileDescriptor, &inputRate, &outputRate) == 0, Int(outputRate) != hostLineRate {
            hostLineRate = Int(outputRate)
            device.hostLineRateChanged(bitsPerSecond: hostLineRate)
        }
    }

    public func shutdown() {
        writeEvents()
        if !isUnplugged { terminal.hangUp() }
        if let linkPath { unlink(linkPath) }
        if eventFile >= 0 {
            close(eventFile)
            eventFile = -1
        }
        if droppedBytes > 0 { messages?("\(droppedBytes) bytes were not read by any host") }
    }

    /// Injected faults act here, between the firmware and the wire: drop, corrupt and delay what the
    /// device sends, or close the pseudo-terminal (unplug).
    private func flushOutput() {
        let now = clock.now()
        injector.update(device: device, now: now)
        let link = injector.link
        if link.isUnplugged && !isUnplugged {
            isUnplugged = true
            terminal.hangUp()
            if let linkPath { unlink(linkPath) }
            messages?("unplugged (fault injection): the pseudo-terminal is closed")
        }
        while device.hasOutput {
            let count = device.popOutput(into: output)
            if link.dropsReplies || isUnplugged { continue }
            let bytes = UnsafeMutableRawBufferPointer(rebasing: output[0..<count])
            injector.corrupt(bytes)
            inFlight.push(UnsafeRawBufferPointer(bytes), readableAt: now.advanced(byNanoseconds: link.delayNanoseconds))
        }
        while true {
            let count = inFlight.pop(readableAt: clock.now(), into: output)
            guard count > 0 else { break }
            if isUnplugged { continue }
            do throws(TransportError) {
                try terminal.write(UnsafeRawBufferPointer(rebasing: output[0..<count]), deadline: clock.now().advanced(byNanoseconds: 1_000_000))
            } catch {
                // Nobody reads the terminal (no host connected): the bytes are lost, as on a real wire.
                droppedBytes += count
            }
        }
    }

    private func writeEvents() {
        let now = clock.now()
        let wallNow = WallClock.unixNanoseconds()
        let bootTime = device.bootTime
        device.drainEventRecords { event in
            let milliseconds = Double(event.time.nanoseconds(since: bootTime)) / 1e6
            let unix = wallNow - now.nanoseconds(since: event.time)
            var line = "{\"t_ms\":\(String(format: "%.3f", milliseconds)),\"unix_ns\":\(unix),\"event\":\"\(event.event)\""
            if let code = event.faultCode { line += ",\"fault_code\":\(code),\"fault\":\"\(event.faultName)\"" }
            if let joint = event.joint { line += ",\"joint\":\(joint)" }
            if !event.detail.isEmpty { line += ",\"fault\":\"\(event.detail)\"" }
            line += "}\n"
            if eventFile >= 0 { _ = line.withCString { write(eventFile, $0, strlen($0)) } }
            messages?("\(String(format: "%10.3f", milliseconds)) ms \(event.event)"
                      + (event.faultCode != nil ? " \(event.faultDescription)" : "") + (event.detail.isEmpty ? "" : " \(event.detail)"))
        }
    }
}

/// Why a `RealTimeDeviceHost` could not be set up.
public enum DeviceHostSetupError: Error, CustomStringConvertible {
    /// No pseudo-terminal could be opened.
    case pseudoTerminal(TransportError)
    /// The symlink at `path` could not be made.
    case link(path: String, Errno)
    /// The event log at `path` could not be created.
    case events(path: String, Errno)

    public var description: String {
        switch self {
        case .pseudoTerminal(let error): "\(error)"
        case .link(let path, let error): "cannot create the link \(path): \(error)"
        case .events(let path, let error): "cannot write events to \(path): \(error)"
        }
    }
}

/// A device served by `DeviceHostLoop`, whatever its firmware (`RealTimeDeviceHost` erased).
public protocol HostedDevice: AnyObject {
    /// The name its pseudo-terminal is announced under ("robot").
    var label: String { get }
    /// The pseudo-terminal hosts open (`/dev/pts/N`).
    var slavePath: String { get }
    /// The device's model and serial number, for messages.
    var model: String { get }
    var serialNumber: String { get }
    /// Where other threads hand over live injections and the cue start.
    var inbox: any LiveControlInbox { get }
    /// The descriptor to watch for bytes from the host; nil once the device is unplugged.
    var inputDescriptor: Int32? { get }
    /// Takes what arrived from other threads, runs the firmware up to `now`, applies faults, sends
    /// the replies due and logs events; returns when it must run again at the latest.
    func service(now: MonotonicInstant) -> MonotonicInstant
    /// Reads what a host wrote (its descriptor is readable) and feeds it to the firmware.
    func readInput() throws(TransportError)
    /// Logs the last events, closes the pseudo-terminal, removes the symlink.
    func shutdown()
}

/// Serves any number of hosted devices in one poll loop on the calling thread.
public enum DeviceHostLoop {
    /// Why serving stopped early: a device's terminal failed.
    public struct Failure: Error {
        public var label: String
        public var error: TransportError
    }

    /// Runs `hosts` until `shouldStop` answers true (checked at least every 10 ms, and at once after
    /// a signal interrupts the wait), or a terminal fails. Does not shut the hosts down.
    public static func serve(
        _ hosts: [any HostedDevice], clock: MonotonicClock = .shared, until shouldStop: () -> Bool
    ) -> Failure? {
        guard !hosts.isEmpty else { return nil }
        let descriptors = UnsafeMutableBufferPointer<Int32>.allocate(capacity: hosts.count)
        let events = UnsafeMutableBufferPointer<Int16>.allocate(capacity: hosts.count)
        defer {
            descriptors.deallocate()
            events.deallocate()
        }
        while !shouldStop() {
            let now = clock.now()
            var wake = MonotonicInstant(nanoseconds: .max)
            for index in hosts.indices {
                wake = min(wake, hosts[index].service(now: now))
                descriptors[index] = hosts[index].inputDescriptor ?? -1
            }
            let remaining = max(0, wake.nanoseconds(since: clock.now()))
            let ready = rh_poll_readable(descriptors.baseAddress, hosts.count, remaining, events.baseAddress)
            if ready == -EINTR || ready == 0 { continue }
            if ready < 0 {
                return Failure(label: hosts[0].label, error: .system(path: "ppoll", operation: "poll", errno: Errno(rawValue: -ready)))
            }
            for index in hosts.indices where descriptors[index] >= 0 {
                let revents = Int32(events[index])
                if revents & Int32(POLLNVAL) != 0 {
                    return Failure(label: hosts[index].label,
                                   error: .system(path: hosts[index].slavePath, operation: "poll", errno: .invalidArgument))
                }
                // A hang-up or error is reported as readable: the read says what happened.
                guard revents & Int32(POLLIN | POLLHUP | POLLERR) != 0 else { continue }
                do throws(TransportError) {
                    try hosts[index].readInput()
                } catch {
                    return Failure(label: hosts[index].label, error: error)
                }
            }
        }
        return nil
    }
}

/// Live injections and the cue start from another thread (a control socket), for one device.
public protocol LiveControlInbox: AnyObject, Sendable {
    /// Parses `line` as a live injection for this device (simulators/README.md) and queues it;
    /// the fault's name, or why it was refused.
    func submit(_ line: String) -> Result<String, ProfileError>
    /// The exercise's plan begins at `start`, along the plan the session made (nil: the exercise's own):
    /// the device's patient follows its cue from then on.
    func startCue(at start: MonotonicInstant, plan: PlanInputs?)
    /// The plan stands still from `time` on, and runs again from a later `resumeCue(at:plan:)`, along
    /// the plan the host made then (nil: the old one).
    func holdCue(at time: MonotonicInstant)
    func resumeCue(at time: MonotonicInstant, plan: PlanInputs?)
}

/// The queue between a control thread and a device's host: faults and the cue start.
public final class LiveInjections<DeviceKind: InjectableDeviceFault>: LiveControlInbox {
    private let queue = Mutex<[ScheduledFault<DeviceKind>]>([])
    private let cueChanges = Mutex<[CueChange]>([])
    /// The device's joints (bounds the joints of injections).
    public let jointCount: Int

    public init(jointCount: Int) {
        self.jointCount = jointCount
    }

    public func push(_ fault: ScheduledFault<DeviceKind>) { queue.withLock { $0.append(fault) } }

    public func submit(_ line: String) -> Result<String, ProfileError> {
        switch FaultScriptParser<DeviceKind>.parseLive(line, jointCount: jointCount) {
        case .success(let fault):
            push(fault)
            return .success(fault.kind.name)
        case .failure(let error):
            return .failure(error)
        }
    }

    /// Everything queued since the last call.
    public func take() -> [ScheduledFault<DeviceKind>] {
        queue.withLock { faults in
            defer { faults.removeAll() }
            return faults
        }
    }

    public func startCue(at start: MonotonicInstant, plan: PlanInputs?) { cueChanges.withLock { $0.append(.start(start, plan)) } }
    public func holdCue(at time: MonotonicInstant) { cueChanges.withLock { $0.append(.hold(time)) } }
    public func resumeCue(at time: MonotonicInstant, plan: PlanInputs?) { cueChanges.withLock { $0.append(.resume(time, plan)) } }

    /// The cue's changes handed over since the last call, oldest first.
    public func takeCueChanges() -> [CueChange] {
        cueChanges.withLock { changes in
            defer { changes.removeAll() }
            return changes
        }
    }
}
