import Control
import DeviceModel
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
    let link: RehabLinkInProcessLink
    let driver: RehabLinkDevice
    let session: TherapySession

    init(durationSeconds: Double = 10, rateHertz: Double = 1000, exercise: RangeOfMotionExercise = RangeOfMotionExercise(),
         profileName: String = "wrist-trainer",
         configure: (SimulatedRehabLinkDevice, RehabLinkInProcessLink) -> Void = { _, _ in },
         adjust: (inout TherapySession.Options) -> Void = { _ in }) throws {
        profile = try Self.profile(profileName)
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

extension VirtualSessionHarness {
    /// A shipped profile, by name.
    static func profile(_ name: String) throws -> HardwareProfile {
        try HardwareProfileLoader.load(path: RepositoryPaths.file("hardware/\(name).json").path)
    }

    /// Puts a simulated patient into the robot, following the session's own exercise plan as its
    /// cue from the moment the session's trajectory starts (call after `prepare()`, just before `run()`).
    func attachPatient(_ parameters: SimulatedPatient.Parameters) {
        let options = session.options
        let exercise = options.exercise
        let ramp = profile.control.enableRampSeconds
        let cue = exercise.trajectory(from: .zeros(profile.joints.count), durationSeconds: options.durationSeconds - ramp)
        var patient = SimulatedPatient(parameters: parameters, cue: cue, cueJoint: exercise.jointIndex,
                                       cueRange: exercise.rangeMinimumRadians...exercise.rangeMaximumRadians, exercise: exercise)
        // run() starts its first cycle one period from now; the plan starts after the enable ramp.
        patient.startCue(at: clock.now().advanced(byNanoseconds: session.periodNanoseconds + Int64(ramp * 1e9)))
        simulator.patient = patient
    }
}
