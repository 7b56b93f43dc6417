import Control
import Foundation
import DeviceModel
import Devices
import DynamixelSimulator
import Primitives
import Platform
import Profiles
import RehabLinkSimulator
import Scenarios
import Session
import SimulatorKit
import TrackerSimulators

/// Runs a scenario in-process on a virtual clock: the real driver, codec, session, supervisor and
/// controllers against the simulated firmware of the profile's protocol (RehabLink or Dynamixel),
/// with the simulated patient, mirror's simulated RehabRef stream, and every timeline entry carried
/// out at its virtual time. Its trackers are the simulated sensors of their profiles (as rehabsim's)
/// on in-process lines, read by their real drivers. Deterministic: the same file gives the same
/// observation, bit for bit, as fast as the machine can compute it.
public enum VirtualScenarioRun {
    /// Where virtual time starts: any instant will do; 5 s keeps device times positive.
    static let bootTime = MonotonicInstant(nanoseconds: 5_000_000_000)

    /// What a run gives: the observation the expectations are judged on, and the session's own
    /// report (nil when the session was never made) for `rehabctl simulate`'s summary.
    ///
    /// A class: returned as a struct of this size from the generic runner, Swift 6.3.1 -O handed
    /// `rehabctl simulate` a garbage `setUpError` once `TelemetryRecorder.Figures` (inside the
    /// report) grew by one field (a crash printing it; AddressSanitizer builds were clean).
    public final class Outcome {
        public let observation: ScenarioObservation
        public let report: SessionReport?
        /// Why the session refused to start, as the session said it (the CLI's exit code comes from it).
        public let setUpError: SessionError?

        init(observation: ScenarioObservation, report: SessionReport? = nil, setUpError: SessionError? = nil) {
            self.observation = observation
            self.report = report
            self.setUpError = setUpError
        }
    }

    /// Runs `scenario` as `plan` says (the plan's target is `.virtual`); `adjust` changes the session's
    /// options last (a recording path).
    public static func run(
        _ scenario: Scenario, plan: ScenarioPlan, adjust: @escaping (inout TherapySession.Options) -> Void = { _ in }
    ) -> Outcome {
        let setUp: ScenarioSetUp
        do throws(ScenarioSetUp.Failure) {
            setUp = try ScenarioSetUp(scenario, plan: plan)
        } catch {
            return Outcome(observation: ScenarioObservation(target: .virtual, rateHertz: plan.rateHertz ?? 0, runnerError: error.description))
        }
        let clock = VirtualClock(start: bootTime)
        switch setUp.profile.device.protocolFamily {
        case "rehablink":
            let configuration: SimulatedDeviceConfiguration
            do throws(ProfileError) {
                configuration = try SimulatedDeviceConfiguration(validating: setUp.profile)
            } catch {
                return Outcome(observation: ScenarioObservation(target: .virtual, rateHertz: setUp.rateHertz, runnerError: "\(error)"))
            }
            let device = SimulatedRehabLinkDevice(configuration: configuration, bootTime: clock.now())
            return Run(scenario: scenario, plan: plan, setUp: setUp, clock: clock, device: device, adjust: adjust) { device.patient = $0 }.execute()
        case "dynamixel":
            let (built, problems) = DynamixelBusConfiguration.simulating(setUp.profile)
            guard let configuration = built else {
                return Outcome(observation: ScenarioObservation(target: .virtual, rateHertz: setUp.rateHertz, runnerError: problems.joined(separator: "; ")))
            }
            let bus = SimulatedDynamixelBus(configuration: configuration, bootTime: clock.now())
            return Run(scenario: scenario, plan: plan, setUp: setUp, clock: clock, device: bus, adjust: adjust) { bus.patient = $0 }.execute()
        default:
            return Outcome(observation: ScenarioObservation(
                target: .virtual, rateHertz: setUp.rateHertz,
                runnerError: "\(setUp.profile.name) speaks \"\(setUp.profile.device.protocolIdentifier)\", which has no simulator (simulated: rehablink, dynamixel)"))
        }
    }

    /// One run against one firmware type.
    private final class Run<Firmware: FirmwareSimulator> {
        let scenario: Scenario
        let plan: ScenarioPlan
        let setUp: ScenarioSetUp
        let clock: VirtualClock
        let device: Firmware
        let link: InProcessDeviceLink<Firmware>
        let attachPatient: (SimulatedPatient) -> Void
        var observation: ScenarioObservation
        /// The loop's start: every observed time counts from it.
        var origin = MonotonicInstant.zero
        var session: TherapySession?
        var reference: SimulatedReferenceStream?
        /// The scenario's trackers, in its order (`scenario.trackers`).
        var trackers: [any VirtualTracker] = []
        /// The driver as the session holds it, noting the host's torque offs.
        var recorder: TorqueOffRecordingDevice?
        /// The trackers are read every millisecond until the session has run (`readTrackers`).
        var readsTrackers = false
        var events: [ObservedDeviceEvent] = []

        let adjust: (inout TherapySession.Options) -> Void
        var report: SessionReport?
        var setUpError: SessionError?

        init(scenario: Scenario, plan: ScenarioPlan, setUp: ScenarioSetUp, clock: VirtualClock, device: Firmware,
             adjust: @escaping (inout TherapySession.Options) -> Void, attachPatient: @escaping (SimulatedPatient) -> Void) {
            self.adjust = adjust
            self.scenario = scenario
            self.plan = plan
            self.setUp = setUp
            self.clock = clock
            self.device = device
            self.attachPatient = attachPatient
            link = InProcessDeviceLink(device: device, clock: clock)
            observation = ScenarioObservation(target: .virtual, rateHertz: setUp.rateHertz)
        }

        func execute() -> Outcome {
            let started = clock.now()
            do throws(RunError) {
                try runSession()
            } catch {
                observation.runnerError = error.description
            }
            observation.elapsedNanoseconds = clock.now().nanoseconds(since: started)
            return Outcome(observation: observation, report: report, setUpError: setUpError)
        }

        struct RunError: Error, CustomStringConvertible {
            var description: String
        }

        private func runSession() throws(RunError) {
            var options: TherapySession.Options
            do throws(ScenarioSetUp.Failure) {
                options = try setUp.options(for: scenario)
            } catch {
                throw RunError(description: error.description)
            }
            // The trackers: set up, streaming and the mirror's reference tracker zeroed before the robot
            // is touched, as `rehabctl --tracker` does.
            try setUpTrackers(into: &options)
            if case .mirror(let mirror) = setUp.exercise.mode, scenario.referenceTracker == nil {
                // The unaffected limb, streamed as RehabRef frames every 10 ms, following the plan.
                let limb = SimulatedReferenceLimb(mirror: mirror, cue: setUp.cue, joint: setUp.exercise.jointIndex)
                let stream = SimulatedReferenceStream(limb: limb, origin: clock.now())
                reference = stream
                options.reference = stream
            }
            // The fault script, with the simulator's own parser: the same entries `rehabsim --faults` reads.
            if let script = scenario.faultScript {
                do throws(ProfileError) {
                    link.inject(try FaultScriptParser<Firmware.InjectableFault>.parse(
                        script, sourcePath: scenario.sourcePath, jointCount: setUp.profile.joints.count))
                } catch {
                    throw RunError(description: "faults: \(error)")
                }
            }
            // SR-19: the black box goes to a folder of the run's own (the observation keeps the names).
            let blackBoxFolder = NSTemporaryDirectory() + "rehabhost-virtual-blackbox-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
            options.blackBoxDirectory = blackBoxFolder
            // REHABHOST_SCENARIO_KEEP=1 keeps it for a look afterwards (`rehabctl export --csv`), as the simulator target keeps its run's folder.
            let keeps = ProcessInfo.processInfo.environment["REHABHOST_SCENARIO_KEEP"] == "1"
            defer {
                if keeps {
                    if FileManager.default.fileExists(atPath: blackBoxFolder) { FileHandle.standardError.write(Data("rehabctl scenario: kept \(blackBoxFolder)\n".utf8)) }
                } else {
                    try? FileManager.default.removeItem(atPath: blackBoxFolder)
                }
            }
            adjust(&options)
            let made: any ActuatedDevice
            do throws(DriverRegistryError) {
                made = try DriverRegistry.standard.makeActuatedDevice(for: setUp.profile, link: link, clock: clock)
            } catch {
                throw RunError(description: "\(error)")
            }
            // The session drives the driver through the recorder of its torque offs, which changes nothing.
            let driver = TorqueOffRecordingDevice(made)
            recorder = driver
            let session: TherapySession
            do throws(SessionError) {
                session = try TherapySession(profile: setUp.profile, device: driver, clock: clock, options: options)
            } catch {
                setUpError = error
                observation.setUpRefusal = ObservedRefusal(reason: error.description)
                return
            }
            self.session = session
            driver.supervisorTorqueOffSince = { [weak session] in session?.supervisor.torqueOffCommandedAt }
            let setUpBegan = clock.now()
            // Set-up entries count from here; the loop's from its start, known only after the set-up.
            scheduleSetUpEntries(from: setUpBegan)
            // A tracker's reader thread reads what arrives as it arrives, while the set-up runs too: without
            // it a polled sensor (NDI) would not be asked for a frame until the loop, and the first sample
            // of any would be as old as the set-up is long.
            if !trackers.isEmpty {
                readsTrackers = true
                readTrackers(at: setUpBegan)
            }
            defer { readsTrackers = false }
            do throws(SessionError) {
                try session.prepare()
            } catch {
                origin = clock.now()
                setUpError = error
                observation.setUpRefusal = ObservedRefusal(reason: error.description)
                collect(report: nil)
                return
            }
            // The loop's start: its first cycle, one period from now, posts the start (the status board's
            // `exerciseStartedAt`, the origin the simulator target measures from too).
            origin = clock.now().advanced(byNanoseconds: session.periodNanoseconds)
            let cueStart = origin.advanced(byNanoseconds: Int64(setUp.profile.control.enableRampSeconds * 1e9))
            if let preset = scenario.patient {
                do throws(ScenarioSetUp.Failure) {
                    attachPatient(try setUp.patient(preset))
                } catch {
                    throw RunError(description: error.description)
                }
                device.startCue(at: cueStart)
                followCue(session.statusBoard, clock: ExerciseCueClock(rampSeconds: setUp.profile.control.enableRampSeconds), at: origin)
            }
            reference?.limb.startCue(at: cueStart)
            // The trackers ride on the same patient: their limb follows the same cue (rehabsim's too).
            for tracker in trackers { tracker.startCue(at: cueStart) }
            scheduleLoopEntry(from: 0, shiftNanoseconds: 0)
            let report = session.run()
            readsTrackers = false
            session.finish()
            self.report = report
            // The device lives on after the host stops: its watchdog, its brakes (what a `device_event`
            // after an unplug or a host's death looks for).
            device.advance(to: clock.now().advanced(byNanoseconds: VirtualScenarioRun.afterlifeNanoseconds))
            collect(report: report)
        }

        // MARK: The trackers

        /// Makes the simulated sensor and the driver of every tracker of the scenario, sets each up as
        /// `rehabctl --tracker` does (configure, start, the mirror's reference zeroed while the limb holds
        /// its neutral pose), and hands them to the session's options: the reference tracker as mirror's
        /// reference with its profile's fit-error limit, the others as recorded trackers, the workspace
        /// tracker to SR-16 with its profile's fit-error limit.
        private func setUpTrackers(into options: inout TherapySession.Options) throws(RunError) {
            guard !setUp.trackers.isEmpty else { return }
            // The patient's unaffected limb: following a mirror exercise's cue, else swinging (rehabsim's).
            var limb = SimulatedTracker.Limb.swing
            if case .mirror(let mirror) = setUp.exercise.mode {
                limb = .following(SimulatedReferenceLimb(mirror: mirror, cue: setUp.cue, joint: setUp.exercise.jointIndex))
            }
            for (index, profile) in setUp.trackers.enumerated() {
                let tracker: any VirtualTracker
                do throws(VirtualTrackers.Failure) {
                    // Seeded by position, as rehabsim seeds its `--tracker` sensors (1, 2, …).
                    tracker = try VirtualTrackers.make(profile, limb: limb, seed: UInt64(index + 1), clock: clock)
                } catch {
                    throw RunError(description: error.description)
                }
                trackers.append(tracker)
                let isReference = profile.name == scenario.referenceTracker
                do throws(DeviceSetupFailure) {
                    try tracker.driver.configure()
                    try tracker.driver.start()
                    if isReference { try tracker.driver.zero() }
                } catch {
                    throw RunError(description: "tracker \(profile.name): \(error)")
                }
            }
            if let name = scenario.referenceTracker, let reference = trackers.first(where: { $0.profile.name == name }) {
                options.reference = reference.driver
                options.referenceMaximumRmsErrorMillimeters = reference.profile.maximumRmsErrorMillimeters
                options.trackers = trackers.filter { $0 !== reference }.map { $0.driver }
            } else {
                options.trackers = trackers.map { $0.driver }
            }
            if let workspace = scenario.workspace, let tracker = trackers.first(where: { $0.profile.name == workspace.tracker }) {
                var tracking = TherapySession.Options.WorkspaceTracking(
                    tracker: tracker.driver, minimumMeters: workspace.minimumMeters, maximumMeters: workspace.maximumMeters)
                if let rms = tracker.profile.maximumRmsErrorMillimeters { tracking.maximumRmsErrorMillimeters = rms }
                options.workspace = tracking
            }
        }

        /// Reads every tracker at `time`, then every millisecond after it while `readsTrackers` holds: what
        /// their reader threads do on a rig (a streaming sensor's frames taken as they arrive, a polled
        /// one asked once a frame). On the robot's link, whose set-up and cycles move the clock.
        private func readTrackers(at time: MonotonicInstant) {
            // Weak: the last one, scheduled as the session ends, never runs (the link would keep the run).
            link.at(time) { [weak self] in
                guard let self, readsTrackers else { return }
                let now = clock.now()
                for tracker in trackers { _ = tracker.driver.latestSample(at: now) }
                readTrackers(at: now.advanced(byNanoseconds: Nanoseconds.perMillisecond))
            }
        }

        /// Holds and resumes the patient's cue with the plan's clock (`ExerciseCueClock`), reading the
        /// status board every 2 ms as rehabctl's cue thread does for rehabsim; the instants are the
        /// cycles', so the reading's period does not move them. The start is the run's own (above).
        private func followCue(_ board: SnapshotBoard<SessionStatus>, clock cueClock: ExerciseCueClock, at time: MonotonicInstant) {
            // Weak, as the trackers' reading: the last one, scheduled as the session ends, never runs.
            link.at(time) { [weak self] in
                guard let self else { return }
                let status = board.snapshot()
                guard !status.finished else { return }
                var cueClock = cueClock
                switch cueClock.observe(status) {
                case .hold(let at): device.holdCue(at: at)
                case .resume(let at, let plan): device.resumeCue(at: at, plan: plan)
                case .start(let at, let plan?): device.startCue(at: at, plan: plan)
                case .start, nil: break
                }
                followCue(board, clock: cueClock, at: clock.now().advanced(byNanoseconds: 2 * Nanoseconds.perMillisecond))
            }
        }

        // MARK: The timeline

        private func scheduleSetUpEntries(from start: MonotonicInstant) {
            for (entry, step) in zip(scenario.timeline, plan.steps) where entry.phase == .setUp {
                let at = start.advanced(byNanoseconds: Self.nanoseconds(entry.atMilliseconds))
                link.at(at) { [self] in perform(entry, step: step) }
            }
        }

        /// Schedules the loop's entries one at a time from `index`, each after the previous (a wait
        /// shifts the ones after it by the time it took).
        private func scheduleLoopEntry(from index: Int, shiftNanoseconds: Int64) {
            guard let position = scenario.timeline.indices.first(where: { $0 >= index && scenario.timeline[$0].phase == .loop }) else { return }
            let entry = scenario.timeline[position]
            let step = plan.steps[position]
            let at = origin.advanced(byNanoseconds: Self.nanoseconds(entry.atMilliseconds) + shiftNanoseconds)
            link.at(max(at, clock.now())) { [self] in
                if case .wait(let state, let timeoutMilliseconds) = entry.action, case .perform = step {
                    waitFor(state, entry: entry, since: clock.now(), timeout: Self.nanoseconds(timeoutMilliseconds), shift: shiftNanoseconds)
                } else {
                    perform(entry, step: step)
                    scheduleLoopEntry(from: position + 1, shiftNanoseconds: shiftNanoseconds)
                }
            }
        }

        /// Checks every millisecond until the supervisor is in `state` (or the timeout), then goes on with the timeline.
        private func waitFor(_ state: SupervisorState, entry: TimelineEntry, since: MonotonicInstant, timeout: Int64, shift: Int64) {
            guard let session else { return }
            let now = clock.now()
            let waited = now.nanoseconds(since: since)
            if session.supervisor.state == state || waited >= timeout {
                record(entry.index, session.supervisor.state == state ? .performed : .timedOut, at: now)
                scheduleLoopEntry(from: entry.index + 1, shiftNanoseconds: shift + waited)
                return
            }
            link.at(now.advanced(byNanoseconds: Nanoseconds.perMillisecond)) { [self] in
                waitFor(state, entry: entry, since: since, timeout: timeout, shift: shift)
            }
        }

        private func perform(_ entry: TimelineEntry, step: ScenarioPlan.Step) {
            let now = clock.now()
            switch step {
            case .skip(let reason):
                record(entry.index, .skipped(reason), at: nil)
                return
            case .prompt:
                record(entry.index, .skipped("an operator prompt: only on a rig"), at: nil)
                return
            case .perform:
                break
            }
            guard let session else { return }
            let control = session.control
            if let outcome = session.post(entry.action) {
                record(entry.index, outcome, at: now)
                return
            }
            switch entry.action {
            case .release(let milliseconds):
                // The keep-alive of a client holding `release`, for the whole hold; let go at its end.
                let end = now.advanced(byNanoseconds: Self.nanoseconds(milliseconds))
                control.holdRelease(until: end)
                link.at(end) { control.letGoOfRelease() }
            case .deviceFault(let fault, _):
                switch FaultScriptParser<Firmware.InjectableFault>.parseLive(fault.liveLine, jointCount: setUp.profile.joints.count) {
                case .success(let parsed): link.inject([parsed])
                case .failure(let error):
                    record(entry.index, .skipped("the simulator refused the fault: \(error)"), at: now)
                    return
                }
            case .trackerFault(let tracker, let fault, _) where tracker != "reference":
                guard let simulated = trackers.first(where: { $0.profile.name == tracker }) else {
                    record(entry.index, .skipped("this run has no tracker \"\(tracker)\" (trackers: \(trackers.map { $0.profile.name }.joined(separator: ", ")))"), at: now)
                    return
                }
                if let error = simulated.inject(liveLine: fault.liveLine) {
                    record(entry.index, .skipped("the simulated \(tracker) refused the fault: \(error)"), at: now)
                    return
                }
            case .trackerFault(_, let fault, _):
                guard let reference else {
                    record(entry.index, .skipped("this run has no RehabRef stream (mirror's reference)"), at: now)
                    return
                }
                switch fault.kind {
                case "reference_stop": reference.stopsAt = now
                case "reference_freeze": reference.freezesAt = now
                case "reference_hide": reference.hidesAt = now
                case "reference_inaccurate": reference.inaccurateAt = now
                default:
                    record(entry.index, .skipped("the reference stream has no fault \"\(fault.kind)\""), at: now)
                    return
                }
            case .hostStall(let milliseconds):
                clock.stall(forNanoseconds: Self.nanoseconds(milliseconds))
            case .operatorPrompt, .wait, .emergencyStop, .stop, .pause, .resume, .reset, .mode:  // the requests are posted above
                break
            }
            record(entry.index, .performed, at: now)
        }

        /// What became of each timeline entry, by index, with its time on the clock (set-up entries
        /// happen before the origin is known: times are made relative in `collect`).
        private var outcomes: [Int: (outcome: ObservedAction.Outcome, time: MonotonicInstant?)] = [:]

        private func record(_ index: Int, _ outcome: ObservedAction.Outcome, at time: MonotonicInstant?) {
            outcomes[index] = (outcome, time)
        }

        // MARK: What the run showed

        private func collect(report: SessionReport?) {
            guard let session else { return }
            device.drainEventRecords { record in
                events.append(ObservedDeviceEvent(
                    timeNanoseconds: record.time.nanoseconds(since: origin), name: record.event, joint: record.joint,
                    detail: record.detail.isEmpty ? (record.faultCode != nil ? record.faultName : nil) : record.detail))
            }
            observation.deviceEvents = events
            observation.take(transitions: session.supervisor.transitions, report: report, origin: origin)
            observation.actions = scenario.timeline.indices.map { index in
                guard let done = outcomes[index] else { return ObservedAction(index: index, outcome: .notReached) }
                return ObservedAction(index: index, outcome: done.outcome, timeNanoseconds: done.time.map { $0.nanoseconds(since: origin) })
            }
            observation.finalState = report?.finalState ?? session.supervisor.state
            observation.take(deviceEvents: events, faults: scenario.faults)
            observation.torqueOffCommandTimes = recorder?.torqueOffTimes.map { $0.nanoseconds(since: origin) }
        }

        static func nanoseconds(_ milliseconds: Double) -> Int64 { Int64((milliseconds * 1e6).rounded()) }
    }

    /// How long the simulated device runs on after the session: longer than any watchdog (≤ 50 ms, SR-3).
    static let afterlifeNanoseconds: Int64 = 200 * Nanoseconds.perMillisecond
}
