import CommandLineSupport
import Control
import Foundation
import Glibc
import Platform
import Primitives
import Profiles
import ScenarioRunner
import Scenarios
import Session
import StrictJSON
import Synchronization

/// Runs a scenario in real time: against `rehabsim` over pseudo-terminals (the session of `rehabctl
/// demo`: the same options, the same serial path, the control thread at its real-time priority), or
/// on a rig (`port`: the session of `rehabctl run` on the robot's port). The timeline is carried out
/// by a thread of its own at the real times — operator requests as the control socket posts them; on
/// the simulator the robot's and the trackers' faults as live injections on rehabsim's control
/// sockets, and what the robot did read back from rehabsim's event log; on a rig the plan's prompts
/// to the operator, answered with Enter on standard input within their timeout.
enum SimScenarioRun {
    static func run(_ scenario: Scenario, plan: ScenarioPlan, port: String? = nil, trackerPorts: [String: String] = [:]) -> ScenarioObservation {
        let target: ScenarioTarget = port == nil ? .sim : .rig
        let setUp: ScenarioSetUp
        do throws(ScenarioSetUp.Failure) {
            setUp = try ScenarioSetUp(scenario, plan: plan)
        } catch {
            return ScenarioObservation(target: target, rateHertz: plan.rateHertz ?? 0, runnerError: error.description)
        }
        var observation = ScenarioObservation(target: target, rateHertz: setUp.rateHertz)
        // On a rig every tracker the scenario names is read from its own port (`--tracker-port`).
        let missing = port == nil ? [] : scenario.trackers.filter { trackerPorts[$0] == nil }
        if !missing.isEmpty {
            observation.runnerError = "on a rig each tracker needs its port: give --tracker-port "
                + missing.map { "\($0)=PATH" }.joined(separator: ",")
            return observation
        }
        let folder = NSTemporaryDirectory() + "rehabhost-scenario-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        // REHABHOST_SCENARIO_KEEP=1 keeps the run's folder (black boxes, rehabsim's event log) for a look afterwards.
        let keeps = ProcessInfo.processInfo.environment["REHABHOST_SCENARIO_KEEP"] == "1"
        defer {
            if keeps { Terminal.printError("rehabctl scenario: kept \(folder)") } else { try? FileManager.default.removeItem(atPath: folder) }
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            observation.runnerError = "cannot create \(folder): \(error.localizedDescription)"
            return observation
        }
        var arguments = [
            "--profile", setUp.profile.sourcePath, "--exercise", setUp.exercisePath, "--rate", String(setUp.rateHertz),
            "--record", "none", "--control-socket", "none", "--black-box-dir", folder + "/blackbox",
        ]
        if let port { arguments += ["--port", port] }
        // On a rig the patient (or nobody) is real.
        if let patient = scenario.patient, port == nil { arguments += ["--patient", patient.rawValue] }
        if scenario.holdsAfterFault { arguments.append("--hold-after-fault") }
        if !scenario.patientRanges.isEmpty {
            arguments += ["--patient-rom-deg", scenario.patientRanges.map { "\($0.joint)=\($0.minimumDegrees):\($0.maximumDegrees)" }.joined(separator: ",")]
        }
        if !scenario.patientTorqueCaps.isEmpty {
            arguments += ["--patient-torque-cap-nm", scenario.patientTorqueCaps.map { "\($0.joint)=\($0.positiveNewtonMeters):\($0.negativeNewtonMeters)" }.joined(separator: ",")]
        }
        if !scenario.trackers.isEmpty {
            arguments += ["--tracker", scenario.trackers.map { "\($0)=\(port == nil ? "sim" : trackerPorts[$0]!)" }.joined(separator: ",")]
        }
        if let reference = scenario.referenceTracker { arguments += ["--reference-tracker", reference] }
        if let box = scenario.workspace {
            let numbers = [box.minimumMeters.x, box.maximumMeters.x, box.minimumMeters.y, box.maximumMeters.y, box.minimumMeters.z, box.maximumMeters.z]
            arguments += ["--workspace", box.tracker + ":" + numbers.map { String($0) }.joined(separator: ",")]
        }
        if let script = scenario.faultScript {
            let path = folder + "/faults.json"
            do throws(OutputFileError) {
                try DurableFile.save(JSONValue.object(script).serialized(), to: path)
            } catch {
                observation.runnerError = "cannot write the fault script: \(error)"
                return observation
            }
            arguments += ["--faults", path]
        }
        var session: SupervisedSessionRun
        do throws(CommandFailure) {
            let parsed = try ParsedArguments(arguments, spec: port == nil ? DemoCommand.spec : RunCommand.spec)
            session = try SupervisedSessionRun(command: "scenario", parsed, defaultDurationSeconds: setUp.durationSeconds)
        } catch {
            // What a session refuses before it starts (a rate the profile cannot sustain, SR-14) is the
            // scenario's observation; a wrong use of the options is the runner's error.
            if error.exitCode == .configuration {
                observation.setUpRefusal = ObservedRefusal(reason: error.message, exitCode: Int(error.exitCode.rawValue))
            } else {
                observation.runnerError = error.message
            }
            return observation
        }
        session.durationSeconds = setUp.durationSeconds
        session.exercise = setUp.exercise
        session.quiet = true
        let eventsPath = folder + "/events.jsonl"
        if port == nil {
            session.simulatorEventsPath = eventsPath
            session.alwaysControlsSimulator = true
        }
        let timeline = Timeline(scenario: scenario, plan: plan, jointCount: setUp.profile.joints.count)
        session.onSessionReady = { therapy, simulatorControl, trackerControls in
            timeline.start(session: therapy, simulatorControl: simulatorControl, trackerControls: trackerControls)
        }
        let started = MonotonicClock.now()
        var report: SessionReport?
        do throws(CommandFailure) {
            report = try session.run().session
        } catch {
            observation.setUpRefusal = ObservedRefusal(reason: error.message, exitCode: Int(error.exitCode.rawValue))
        }
        timeline.stop()
        if keeps, let report { try? DurableFile.save(report.json().serialized(pretty: true), to: folder + "/session.json") }
        observation.elapsedNanoseconds = MonotonicClock.now().nanoseconds(since: started)
        let origin = timeline.origin ?? started
        if let report {
            observation.take(transitions: report.transitions, report: report, origin: origin)
            observation.hostStall = hostStall(in: report, scenario: scenario)
        } else if let therapy = timeline.session {
            observation.take(transitions: therapy.supervisor.transitions, report: nil, origin: origin)
            observation.finalState = therapy.supervisor.state
        }
        observation.actions = timeline.actions(origin: origin)
        // A rig keeps no event log a runner can read: what needs one stays unobservable there.
        if port == nil { observation.take(deviceEvents: deviceEvents(eventsPath, origin: origin), faults: scenario.faults) }
        return observation
    }

    /// What the session measured of the host holding it up, in words (nil: nothing): deadlines its loop
    /// missed, a wake-up a whole period late, a first safety event that is a timing interlock (SR-1,
    /// SR-14, the device's watchdog: the same stall seen from the device), or FAIR episodes in a
    /// scenario that injects nothing into the robot's link.
    static func hostStall(in report: SessionReport, scenario: Scenario) -> String? {
        var signs: [String] = []
        if report.skippedCycles > 0 { signs.append("the loop missed \(report.skippedCycles) deadline(s)") }
        let periodNanoseconds = 1e9 / max(1, report.rateHertz)
        if Double(report.wakeLatency.max) >= periodNanoseconds {
            signs.append("it woke up \(ScenarioText.number(Double(report.wakeLatency.max) / 1e6)) ms late")
        }
        if let first = report.safetyEvents.first, first.cause.isTimingInterlock || first.cause == .deviceWatchdogExpired {
            signs.append("its first safety event was \(first.cause.rawValue), a timing interlock")
        }
        let injects = !scenario.faults.isEmpty || scenario.timeline.contains { if case .deviceFault = $0.action { true } else { false } }
        if !injects, let quality = report.linkQuality, quality.fairEpisodes > 0 {
            signs.append("SR-1 graded the link FAIR \(quality.fairEpisodes) time(s) with nothing injected")
        }
        return signs.isEmpty ? nil : signs.joined(separator: "; ")
    }

    /// rehabsim's event log, its wall-clock times brought to the monotonic clock and then to `origin`.
    static func deviceEvents(_ path: String, origin: MonotonicInstant) -> [ObservedDeviceEvent] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        // The same machine's clocks: wall minus monotonic is one offset for the few seconds of a run.
        let offset = WallClock.unixNanoseconds() - MonotonicClock.now().nanoseconds
        var events: [ObservedDeviceEvent] = []
        for line in text.split(separator: "\n") {
            guard let object = (try? JSONParser.parse(String(line)))?.objectValue, let name = object["event"]?.stringValue,
                let unix = object["unix_ns"]?.integerValue
            else { continue }
            let monotonic = MonotonicInstant(nanoseconds: Int64(unix) - offset)
            events.append(ObservedDeviceEvent(
                timeNanoseconds: monotonic.nanoseconds(since: origin), name: name, joint: object["joint"]?.integerValue.map { Int($0) },
                detail: object["fault"]?.stringValue))
        }
        return events
    }

    /// The timeline, carried out on a thread of its own at real times while the session runs.
    final class Timeline: @unchecked Sendable {
        // @unchecked: `session`, `simulatorControl` and `thread` are set by `start` before the thread
        // runs and read after `stop` joined it; the outcomes and the origin are behind a mutex.
        let scenario: Scenario
        let plan: ScenarioPlan
        let jointCount: Int
        private(set) var session: TherapySession?
        private var simulatorControl: String?
        private var trackerControls: [String: String] = [:]
        private var thread: ControlThread?
        private let stopRequested = Atomic<Bool>(false)
        private let state = Mutex<(origin: MonotonicInstant?, setUpBegan: MonotonicInstant?, outcomes: [Int: (ObservedAction.Outcome, MonotonicInstant?)])>(
            (nil, nil, [:]))

        init(scenario: Scenario, plan: ScenarioPlan, jointCount: Int) {
            self.scenario = scenario
            self.plan = plan
            self.jointCount = jointCount
        }

        var origin: MonotonicInstant? { state.withLock { $0.origin } }

        func start(session: TherapySession, simulatorControl: String?, trackerControls: [String: String]) {
            self.session = session
            self.simulatorControl = simulatorControl
            self.trackerControls = trackerControls
            let began = MonotonicClock.now()
            state.withLock { $0.setUpBegan = began }
            thread = ControlThread.start(name: "rh-scenario", stackBytes: 1 << 20) { [self] in
                Realtime.makeCurrentThreadNormal()
                // Only the session's thread-safe parts are used from here: its control, status board and modes.
                guard let session = self.session else { return }
                carryOut(session: session, setUpBegan: began)
            }
        }

        func stop() {
            stopRequested.store(true, ordering: .releasing)
            thread?.join()
            thread = nil
        }

        func actions(origin: MonotonicInstant) -> [ObservedAction] {
            let outcomes = state.withLock { $0.outcomes }
            return scenario.timeline.indices.map { index in
                guard let (outcome, time) = outcomes[index] else { return ObservedAction(index: index, outcome: .notReached) }
                return ObservedAction(index: index, outcome: outcome, timeNanoseconds: time.map { $0.nanoseconds(since: origin) })
            }
        }

        private func record(_ index: Int, _ outcome: ObservedAction.Outcome, at time: MonotonicInstant?) {
            state.withLock { $0.outcomes[index] = (outcome, time) }
        }

        private var finished: Bool {
            stopRequested.load(ordering: .acquiring) || (session?.statusBoard.snapshot().finished ?? true)
        }

        /// Sleeps until `time`; false when the session ended first.
        private func sleep(until time: MonotonicInstant) -> Bool {
            while MonotonicClock.now() < time {
                if finished { return false }
                let remaining = time.nanoseconds(since: MonotonicClock.now())
                MonotonicClock.shared.sleep(until: MonotonicClock.now().advanced(byNanoseconds: min(remaining, Nanoseconds.perMillisecond)))
            }
            return !finished
        }

        private func carryOut(session: TherapySession, setUpBegan: MonotonicInstant) {
            let entries = Array(zip(scenario.timeline, plan.steps))
            for (entry, step) in entries where entry.phase == .setUp {
                guard sleep(until: setUpBegan.advanced(byNanoseconds: Self.nanoseconds(entry.atMilliseconds))) else { return }
                perform(entry, step: step, session: session)
            }
            // The loop's start: the first cycle of the exercise (the status board's `exerciseStartedAt`).
            var origin: MonotonicInstant?
            while origin == nil {
                if finished { return }
                origin = session.statusBoard.snapshot().exerciseStartedAt
                if origin == nil { usleep(200) }
            }
            state.withLock { $0.origin = origin }
            var shift: Int64 = 0
            for (entry, step) in entries where entry.phase == .loop {
                guard sleep(until: origin!.advanced(byNanoseconds: Self.nanoseconds(entry.atMilliseconds) + shift)) else { return }
                if case .wait(let wanted, let timeoutMilliseconds) = entry.action, case .perform = step {
                    let since = MonotonicClock.now()
                    let timeout = Self.nanoseconds(timeoutMilliseconds)
                    while session.statusBoard.snapshot().state != wanted && MonotonicClock.now().nanoseconds(since: since) < timeout {
                        if finished { return }
                        usleep(500)
                    }
                    let now = MonotonicClock.now()
                    record(entry.index, session.statusBoard.snapshot().state == wanted ? .performed : .timedOut, at: now)
                    shift += now.nanoseconds(since: since)
                    continue
                }
                perform(entry, step: step, session: session)
            }
        }

        private func perform(_ entry: TimelineEntry, step: ScenarioPlan.Step, session: TherapySession) {
            switch step {
            case .skip(let reason):
                record(entry.index, .skipped(reason), at: nil)
                return
            case .prompt(let prompt):
                let shown = MonotonicClock.now()
                record(entry.index, Self.ask(prompt) ? .prompted : .timedOut, at: shown)
                return
            case .perform:
                break
            }
            let control = session.control
            let now = MonotonicClock.now()
            if let outcome = session.post(entry.action) {
                record(entry.index, outcome, at: now)
                return
            }
            switch entry.action {
            case .release(let milliseconds):
                // A client holding `release`: renewed every 50 ms for the hold, then let go.
                let end = now.advanced(byNanoseconds: Self.nanoseconds(milliseconds))
                record(entry.index, .performed, at: now)
                while MonotonicClock.now() < end && !finished {
                    control.holdRelease(until: MonotonicClock.now().advanced(byNanoseconds: ControlServer.releaseKeepAliveNanoseconds))
                    usleep(50_000)
                }
                control.letGoOfRelease()
                return
            case .deviceFault(let fault, _):
                if let refusal = inject(fault.liveLine, into: simulatorControl) {
                    record(entry.index, .skipped(refusal), at: now)
                    return
                }
            case .trackerFault(let tracker, let fault, _):
                let socket = tracker == "reference" ? simulatorControl : trackerControls[tracker]
                if let refusal = inject(fault.liveLine, into: socket) {
                    record(entry.index, .skipped(refusal), at: now)
                    return
                }
            case .hostStall:  // the plan skips the scenario on real time
                record(entry.index, .skipped("needs the virtual clock"), at: nil)
                return
            case .operatorPrompt, .wait, .emergencyStop, .stop, .pause, .resume, .reset, .mode:  // the requests are posted above
                break
            }
            record(entry.index, .performed, at: now)
        }

        /// Sends one live injection to a control socket of rehabsim's (the robot's, or a tracker's); the refusal, if any.
        private func inject(_ line: String, into socket: String?) -> String? {
            guard let simulatorControl = socket else { return "rehabsim has no control socket for it" }
            do {
                let connection = try UnixSocketConnection.connect(path: simulatorControl)
                defer { connection.close() }
                guard connection.writeLine(line) else { return "rehabsim's control socket took nothing" }
                guard let reply = connection.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: Nanoseconds.perSecond)) else {
                    return "rehabsim did not answer the injection"
                }
                return reply.contains("\"ok\":true") ? nil : "rehabsim refused the injection: \(reply)"
            } catch {
                return "cannot reach rehabsim at \(simulatorControl): \(error)"
            }
        }

        static func nanoseconds(_ milliseconds: Double) -> Int64 { Int64((milliseconds * 1e6).rounded()) }

        /// Shows `prompt` to the operator and waits for Enter on standard input; false when its timeout
        /// ran out (or there is no one to answer: standard input closed).
        static func ask(_ prompt: OperatorPrompt) -> Bool {
            Terminal.printError("rehabctl scenario: OPERATOR: \(prompt.text) — press Enter when done (\(Int(prompt.timeoutSeconds)) s)")
            var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(min(prompt.timeoutSeconds * 1000, Double(Int32.max)))) == 1 else { return false }
            var byte: UInt8 = 0
            while read(0, &byte, 1) == 1 { if byte == UInt8(ascii: "\n") { return true } }
            return false
        }
    }
}
