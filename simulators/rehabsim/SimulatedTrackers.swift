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

/// What the simulated sensor rides on: the patient's unaffected limb following a mirror exercise's
/// cue (when the robot's --exercise is one), else a slow swing of ±20°.
enum TrackerLimb {
    case following(SimulatedReferenceLimb)
    case swing
}

/// The simulated sensor of `request`, opened behind its pseudo-terminal; exits with the reason when
/// the profile cannot be simulated.
func openTracker(_ request: TrackerRequest, limb: TrackerLimb, messages: ((String) -> Void)?) throws(DeviceHostSetupError) -> any HostedDevice {
    let profile = request.profile
    let now = MonotonicClock.shared.now()
    switch profile.protocolIdentifier {
    case "xsens/xbus", "bno08x/uart-rvc":
        let isXsens = profile.protocolIdentifier == "xsens/xbus"
        let adjust = { (configuration: inout TrackerSimulatorConfiguration) in
            configuration.baudRateBitsPerSecond = profile.baudRateBitsPerSecond
            configuration.mounting.axis = TrackerSimulatorConfiguration.Axis(rawValue: profile.mounting.axis.rawValue) ?? .y
            configuration.mounting.sign = profile.mounting.sign
            configuration.mounting.offsetRadians = profile.mounting.offsetRadians
            configuration.seed = request.seed
            if isXsens { configuration.rateHertz = Int(profile.rateHertz) }
        }
        let configuration: TrackerSimulatorConfiguration = isXsens ? .xsensMTi(adjust) : .bno08xRVC(adjust)
        let problems = configuration.problems
        guard problems.isEmpty else {
            Terminal.exit(with: CommandFailure(request.prefix + problems.joined(separator: "; "), exitCode: .configuration))
        }
        let motion: TrackerLimbMotion
        switch limb {
        case .following(let reference): motion = .following(reference)
        case .swing: motion = .swingAfterCue()
        }
        let faults = loadTrackerFaults(request, kinds: TrackerSimulatorFault.self)
        if isXsens {
            let device = SimulatedXsensIMU(configuration: configuration, motion: motion, bootTime: now)
            return try RealTimeDeviceHost(
                label: profile.name, device: device, jointCount: 1, faults: faults, linkPath: request.link, eventsPath: request.events, messages: messages)
        }
        let device = SimulatedBNO08xRVC(configuration: configuration, motion: motion, bootTime: now)
        return try RealTimeDeviceHost(
            label: profile.name, device: device, jointCount: 1, faults: faults, linkPath: request.link, eventsPath: request.events, messages: messages)
    case "ndi/combined-api":
        let motion: NDILimbMotion
        switch limb {
        case .following(let reference): motion = .followingCue(reference)
        case .swing: motion = .still(angleRadians: 0)
        }
        var configuration = NDITrackerConfiguration.simulating(profile, limbMotion: motion)
        configuration.seed = request.seed
        let problems = configuration.problems
        guard problems.isEmpty else {
            Terminal.exit(with: CommandFailure(request.prefix + problems.joined(separator: "; "), exitCode: .configuration))
        }
        let device = SimulatedNDITracker(configuration: configuration, bootTime: now)
        return try RealTimeDeviceHost(
            label: profile.name, device: device, jointCount: 1, faults: loadTrackerFaults(request, kinds: NDITrackerFault.self),
            linkPath: request.link, eventsPath: request.events, messages: messages)
    default:
        Terminal.exit(with: CommandFailure(
            "\(request.prefix)\"\(profile.protocolIdentifier)\" has no simulator (simulated: xsens/xbus, bno08x/uart-rvc, ndi/combined-api)",
            exitCode: .configuration))
    }
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
