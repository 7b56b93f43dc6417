import CommandLineSupport
import Control
import Platform
import Primitives
import Profiles
import RehabLinkSimulator
import SimulatorKit
import TrackerSimulators

/// One `--tracker PROFILE[,KEY=VALUE…]`: a simulated tracking sensor of a tracker profile
/// (hardware/trackers), on a pseudo-terminal of its own announced as "NAME: /dev/pts/M".
struct TrackerRequest {
    var profile: TrackerProfile
    var link: String?
    var faults: String?
    var control: String?
    var events: String?
    var seed: UInt64

    static let keys = ["link", "faults", "control", "events", "seed"]

    var prefix: String { "rehabsim: \(profile.name): " }
}

/// Parses one `--tracker` value; exits with the reason when it is wrong.
func parseTracker(_ text: String, number: Int, arguments: ParsedArguments) -> TrackerRequest {
    let fields = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    guard let name = fields.first, !name.isEmpty, !name.contains("=") else {
        Terminal.exit(with: arguments.usageError("--tracker \"\(text)\": give the tracker profile (NAME|PATH) first, then KEY=VALUE fields"))
    }
    let profile: TrackerProfile
    do throws(ProfileError) {
        profile = try ProfileSearch.loadTracker(name)
    } catch {
        Terminal.exit(with: CommandFailure("rehabsim: --tracker: \(error)", exitCode: error.exitCode))
    }
    var request = TrackerRequest(profile: profile, seed: UInt64(number))
    for field in fields.dropFirst() {
        let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, TrackerRequest.keys.contains(parts[0]), !parts[1].isEmpty else {
            Terminal.exit(with: arguments.usageError("--tracker \"\(text)\": expected KEY=VALUE with a key of \(TrackerRequest.keys.joined(separator: ", ")), found \"\(field)\""))
        }
        switch parts[0] {
        case "link": request.link = parts[1]
        case "faults": request.faults = parts[1]
        case "control": request.control = parts[1]
        case "events": request.events = parts[1]
        default:
            guard let seed = UInt64(parts[1]) else { Terminal.exit(with: arguments.usageError("--tracker \"\(text)\": seed takes a whole number")) }
            request.seed = seed
        }
    }
    return request
}

/// What the simulated sensor rides on (TrackerSimulators' `SimulatedTracker.Limb`): the patient's
/// unaffected limb following a mirror exercise's cue (when the robot's --exercise is one), else a slow
/// swing of ±20° from the session's cue on.
typealias TrackerLimb = SimulatedTracker.Limb

/// The simulated sensor of `request` (made as the virtual-time scenario runner makes it:
/// `SimulatedTracker`), opened behind its pseudo-terminal; exits with the reason when the profile
/// cannot be simulated.
func openTracker(_ request: TrackerRequest, limb: TrackerLimb, messages: ((String) -> Void)?) throws(DeviceHostSetupError) -> any HostedDevice {
    let simulated: SimulatedTracker
    do throws(SimulatedTracker.Failure) {
        simulated = try SimulatedTracker(simulating: request.profile, limb: limb, seed: request.seed, bootTime: MonotonicClock.shared.now())
    } catch {
        Terminal.exit(with: CommandFailure(request.prefix + error.description, exitCode: .configuration))
    }
    switch simulated {
    case .xsens(let device): return try hostTracker(device, request, messages: messages)
    case .bno08x(let device): return try hostTracker(device, request, messages: messages)
    case .ndi(let device): return try hostTracker(device, request, messages: messages)
    }
}

/// `device` behind a pseudo-terminal of its own, with the request's fault script (`faults=`), link and event log.
private func hostTracker<Firmware: FirmwareSimulator>(
    _ device: Firmware, _ request: TrackerRequest, messages: ((String) -> Void)?
) throws(DeviceHostSetupError) -> any HostedDevice {
    try RealTimeDeviceHost(
        label: request.profile.name, device: device, jointCount: 1, faults: loadTrackerFaults(request, kinds: Firmware.InjectableFault.self),
        linkPath: request.link, eventsPath: request.events, messages: messages)
}

/// The fault script of a tracker (`faults=`).
func loadTrackerFaults<Kind: InjectableDeviceFault>(_ request: TrackerRequest, kinds: Kind.Type) -> [ScheduledFault<Kind>] {
    guard let path = request.faults else { return [] }
    do throws(ProfileError) {
        return try FaultScriptParser<Kind>.load(path: path, jointCount: 1)
    } catch {
        Terminal.exit(with: CommandFailure("\(request.prefix)faults: \(error)", exitCode: error.exitCode))
    }
}
