import Primitives
import Profiles
import RehabLinkSimulator

/// The simulated sensor a tracker profile (hardware/trackers) describes, of the protocol it names: an
/// Xsens MTi, a BNO08x in UART-RVC mode or an NDI Aurora/Polaris, configured from the profile (rate,
/// line rate, mounting), seeded, and strapped to the simulated patient's unaffected limb. The one way
/// a profile becomes a simulator: rehabsim puts it behind a pseudo-terminal (`--tracker`), the
/// virtual-time scenario runner behind an in-process line on its clock.
///
/// Each case keeps the simulator's own type, so that its caller reaches its firmware's faults
/// (`FirmwareSimulator.InjectableFault`) and links of that type.
public enum SimulatedTracker {
    case xsens(SimulatedXsensIMU)
    case bno08x(SimulatedBNO08xRVC)
    case ndi(SimulatedNDITracker)

    /// What the sensor rides on: the patient's unaffected limb following a mirror exercise's cue (the
    /// reference of mirror therapy), else a limb that holds still until a session's cue starts it
    /// (time for the host to take the neutral pose), then swings ±20° at 0.2 Hz — an NDI tool stays still.
    public enum Limb: Sendable {
        case following(SimulatedReferenceLimb)
        case swing
    }

    /// Why a profile cannot be simulated: a protocol no simulator speaks, or a configuration the
    /// simulator refuses (its problems, one after the other).
    public struct Failure: Error, CustomStringConvertible {
        public var description: String

        public init(_ description: String) {
            self.description = description
        }
    }

    /// The tracker protocols a simulator speaks, by a profile's `protocol`.
    public static let simulatedProtocols = ["xsens/xbus", "bno08x/uart-rvc", "ndi/combined-api"]

    /// The simulated sensor of `profile` on `limb`, its noise seeded with `seed`, powered on at `bootTime`.
    public init(simulating profile: TrackerProfile, limb: Limb, seed: UInt64, bootTime: MonotonicInstant) throws(Failure) {
        switch profile.protocolIdentifier {
        case "xsens/xbus", "bno08x/uart-rvc":
            let isXsens = profile.protocolIdentifier == "xsens/xbus"
            let adjust = { (configuration: inout TrackerSimulatorConfiguration) in
                configuration.baudRateBitsPerSecond = profile.baudRateBitsPerSecond
                configuration.mounting.axis = TrackerSimulatorConfiguration.Axis(rawValue: profile.mounting.axis.rawValue) ?? .y
                configuration.mounting.sign = profile.mounting.sign
                configuration.mounting.offsetRadians = profile.mounting.offsetRadians
                configuration.seed = seed
                if isXsens { configuration.rateHertz = Int(profile.rateHertz) }
            }
            let configuration: TrackerSimulatorConfiguration = isXsens ? .xsensMTi(adjust) : .bno08xRVC(adjust)
            let problems = configuration.problems
            guard problems.isEmpty else { throw Failure(problems.joined(separator: "; ")) }
            let motion: TrackerLimbMotion
            switch limb {
            case .following(let reference): motion = .following(reference)
            case .swing: motion = .swingAfterCue()
            }
            if isXsens {
                self = .xsens(SimulatedXsensIMU(configuration: configuration, motion: motion, bootTime: bootTime))
            } else {
                self = .bno08x(SimulatedBNO08xRVC(configuration: configuration, motion: motion, bootTime: bootTime))
            }
        case "ndi/combined-api":
            let motion: NDILimbMotion
            switch limb {
            case .following(let reference): motion = .followingCue(reference)
            case .swing: motion = .still(angleRadians: 0)
            }
            var configuration = NDITrackerConfiguration.simulating(profile, limbMotion: motion)
            configuration.seed = seed
            let problems = configuration.problems
            guard problems.isEmpty else { throw Failure(problems.joined(separator: "; ")) }
            self = .ndi(SimulatedNDITracker(configuration: configuration, bootTime: bootTime))
        default:
            throw Failure("\"\(profile.protocolIdentifier)\" has no simulator (simulated: \(Self.simulatedProtocols.joined(separator: ", ")))")
        }
    }
}
