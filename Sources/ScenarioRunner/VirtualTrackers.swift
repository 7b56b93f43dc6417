import DeviceModel
import Devices
import Primitives
import Profiles
import SimulatorKit
import TrackerSimulators
import Transport

/// One of a scenario's trackers in virtual time: the simulated sensor of its profile (TrackerSimulators'
/// `SimulatedTracker`, as rehabsim makes it) on an in-process serial line on the run's clock, and the
/// real driver (`TrackerRegistry`'s `SerialTracker`, reading in the caller's turn instead of on a
/// thread of its own) set up on it as `rehabctl --tracker` sets a sensor up.
protocol VirtualTracker: AnyObject {
    var profile: TrackerProfile { get }
    var driver: SerialTracker { get }
    /// The session's cue starts at `start`: the limb the sensor rides on follows it (or starts swinging).
    func startCue(at start: MonotonicInstant)
    /// Begins a fault now, given as a live injection's line (`FaultEntry.liveLine`), with the parser of
    /// the sensor's own faults; the parser's refusal otherwise.
    func inject(liveLine: String) -> ProfileError?
}

enum VirtualTrackers {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The tracker of `profile` on `limb` (its noise seeded with `seed`), powered on now on `clock`, its
    /// driver made but not yet set up.
    static func make(_ profile: TrackerProfile, limb: SimulatedTracker.Limb, seed: UInt64, clock: VirtualClock) throws(Failure) -> any VirtualTracker {
        // What rehabctl refuses before it opens a port (a rate the sensor does not have, a line too slow).
        let problems = TrackerRegistry.standard.problems(with: profile)
        guard problems.isEmpty else { throw Failure(description: "tracker \(profile.name): " + problems.joined(separator: "; ")) }
        let simulated: SimulatedTracker
        do throws(SimulatedTracker.Failure) {
            simulated = try SimulatedTracker(simulating: profile, limb: limb, seed: seed, bootTime: clock.now())
        } catch {
            throw Failure(description: "tracker \(profile.name): \(error)")
        }
        do throws(DeviceSetupFailure) {
            switch simulated {
            case .xsens(let device): return try SimulatedTrackerOnLine(profile, device: device, clock: clock)
            case .bno08x(let device): return try SimulatedTrackerOnLine(profile, device: device, clock: clock)
            case .ndi(let device): return try SimulatedTrackerOnLine(profile, device: device, clock: clock)
            }
        } catch {
            throw Failure(description: "tracker \(profile.name): \(error)")
        }
    }
}

/// A simulated sensor of one firmware type behind its line, with the driver that reads it.
private final class SimulatedTrackerOnLine<Firmware: FirmwareSimulator>: VirtualTracker {
    let profile: TrackerProfile
    let line: InProcessSerialLine<Firmware>
    let driver: SerialTracker

    init(_ profile: TrackerProfile, device: Firmware, clock: VirtualClock) throws(DeviceSetupFailure) {
        self.profile = profile
        // The host opens the port at the profile's rate, as `rehabctl --tracker` does.
        line = InProcessSerialLine(InProcessDeviceLink(device: device, clock: clock), bitsPerSecond: profile.baudRateBitsPerSecond)
        driver = try TrackerRegistry.standard.makeTracker(for: profile, link: line, clock: clock, readsInCycle: true)
    }

    func startCue(at start: MonotonicInstant) {
        line.link.device.startCue(at: start)
    }

    func inject(liveLine: String) -> ProfileError? {
        switch FaultScriptParser<Firmware.InjectableFault>.parseLive(liveLine, jointCount: 1) {
        case .success(let fault):
            line.link.inject([fault])
            return nil
        case .failure(let error):
            return error
        }
    }
}

/// The host's end of a serial line to an in-process simulated device, with the line control of a
/// serial port (`SerialLineControl`): the rate the host sets is told to the device
/// (`FirmwareSimulator.hostLineRateChanged`: at another rate than its own it hears noise and sends
/// noise), as a pseudo-terminal's master sees it in rehabsim — so that a driver that switches rates
/// (NDI's COMM) sets its sensor up in virtual time exactly as on a port. Like a pseudo-terminal it
/// carries no break (`sendBreak` is false): the driver resets with the RESET command instead.
final class InProcessSerialLine<Firmware: FirmwareSimulator>: ByteLink, SerialLineControl {
    let link: InProcessDeviceLink<Firmware>
    private(set) var lineRateBitsPerSecond: Int
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 4_096, alignment: 1)

    /// The line, its host end opened at `bitsPerSecond`.
    init(_ link: InProcessDeviceLink<Firmware>, bitsPerSecond: Int) {
        self.link = link
        lineRateBitsPerSecond = bitsPerSecond
        link.device.hostLineRateChanged(bitsPerSecond: bitsPerSecond)
    }

    deinit {
        scratch.deallocate()
    }

    var name: String { link.name }

    func readAvailable(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> Int {
        try link.readAvailable(into: buffer)
    }

    func write(_ bytes: UnsafeRawBufferPointer, deadline: MonotonicInstant) throws(TransportError) {
        try link.write(bytes, deadline: deadline)
    }

    func waitReadable(until deadline: MonotonicInstant) throws(TransportError) -> Bool {
        try link.waitReadable(until: deadline)
    }

    func changeBaudRate(to bitsPerSecond: Int) throws(TransportError) {
        lineRateBitsPerSecond = bitsPerSecond
        link.device.hostLineRateChanged(bitsPerSecond: bitsPerSecond)
        discardPendingInput()
    }

    /// The simulated device times every byte when it is written: nothing waits on the host's side.
    func drain(deadline: MonotonicInstant) throws(TransportError) {}

    func discardPendingInput() {
        while true {
            let count = (try? link.readAvailable(into: scratch)) ?? 0
            if count == 0 { return }
        }
    }

    func sendBreak(durationMilliseconds: Int) throws(TransportError) -> Bool { false }
}
