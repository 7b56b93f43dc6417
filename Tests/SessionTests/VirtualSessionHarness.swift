import Control
import Devices
import Primitives
import Profiles
import RehabLinkSimulator
import Session
import TestSupport

/// A complete session in virtual time: real driver, real codec, simulated firmware in-process.
struct VirtualSessionHarness {
    let profile: HardwareProfile
    let clock: VirtualClock
    let simulator: SimulatedRehabLinkDevice
    let link: InProcessDeviceLink
    let driver: RehabLinkDevice
    let session: TherapySession

    init(durationSeconds: Double = 10, rateHertz: Double = 1000, exercise: PassiveRangeOfMotion = PassiveRangeOfMotion(),
         profileName: String = "wrist-trainer",
         configure: (SimulatedRehabLinkDevice, InProcessDeviceLink) -> Void = { _, _ in },
         adjust: (inout TherapySession.Options) -> Void = { _ in }) throws {
        profile = try HardwareProfileLoader.load(path: RepositoryPaths.file("hardware/\(profileName).json").path)
        clock = VirtualClock(start: MonotonicInstant(nanoseconds: 5_000_000_000))
        simulator = SimulatedRehabLinkDevice(configuration: SimulatedDeviceConfiguration(profile: profile), bootTime: clock.now())
        link = InProcessDeviceLink(device: simulator, clock: clock)
        configure(simulator, link)
        driver = RehabLinkDevice(link: link, jointCount: profile.joints.count, clock: clock)
        var options = TherapySession.Options(rateHertz: rateHertz, durationSeconds: durationSeconds, exercise: exercise)
        adjust(&options)
        session = try TherapySession(profile: profile, device: driver, clock: clock, options: options)
    }
}
