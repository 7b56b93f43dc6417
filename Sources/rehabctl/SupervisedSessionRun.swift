import CommandLineSupport
import Control
import DeviceModel
import Devices
import Foundation
import Platform
import Primitives
import Profiles
import Session
import StrictJSON
import Transport

/// What `demo`, `bench` and `run` share: connect to the robot through the serial code path (a
/// real port, or rehabsim's pseudo-terminal), open the control socket, and run a supervised session
/// on a real-time control thread, writing the black box on any fault.
struct SupervisedSessionRun {
    struct Outcome {
        var session: SessionReport
        var realtime: RealtimeReport
        var kernel: KernelPreemption
        var simulatorCPUSecondsPerSecond: Double?

        /// Extra JSON fields beside the session report.
        var json: [(String, JSONValue)] {
            [
                ("realtime", realtime.json),
                ("kernel_preemption", .string(kernel.rawValue)),
                ("simulator_cpu_seconds_per_second", simulatorCPUSecondsPerSecond.map { .number($0, significantDigits: 3) } ?? .null),
            ]
        }

        /// Prints the session report (human summary, or JSON with `asJSON`) and returns the exit code.
        func printReport(asJSON: Bool) -> ExitCode {
            if asJSON {
                Terminal.printLine(session.json(extra: json).serialized(pretty: true))
            } else {
                Terminal.printLine(session.humanSummary())
            }
            return exitCode
        }

        /// The exit code for how the session ended.
        var exitCode: ExitCode {
            if session.linkError != nil { return .ioError }
            if !session.safetyEvents.isEmpty {
                if TerminationSignals.terminations > 0 { return .terminated }
                // A second Ctrl-C e-stops (SR-12): still "stopped by SIGINT", unless something else tripped first.
                if TerminationSignals.interrupts > 1 && session.safetyEvents.first?.cause == .operatorEmergencyStop { return .interrupted }
                return .safetyStop
            }
            if TerminationSignals.interrupts > 0 { return .interrupted }
            // The exercise went well, but what was asked to be recorded is not all on disk: not a success.
            if session.recording?.failure != nil { return .ioError }
            return .success
        }
    }

    var command: String
    var profile: HardwareProfile
    var rateHertz: Double
    var durationSeconds: Double
    var realtime: RealtimeOptions
    var spinNanoseconds: Int64 = 0
    /// The rehearsal's lead before each deadline (`--warm-up-us`).
    var warmUpNanoseconds: Int64
    var waitsForReplies = true
    var simulatorPath: String?
    /// A real device's port (`run`); nil: start rehabsim.
    var port: String?
    /// rehabsim's fault script (demo and bench).
    var faultScript: String?
    /// The control socket's path; nil: none (`--control-socket none`).
    var controlSocket: String?
    var controlGroup: gid_t?
    var blackBoxDirectory: String
    var holdsAfterFault: Bool
    /// Where the session is recorded (MCAP); nil: not recorded.
    var recordPath: String?
    /// The exercise (`--exercise FILE`, or the default passive swing of the first joint).
    var exercise = RangeOfMotionExercise()
    var exercisePath: String?
    /// A simulated patient in rehabsim (`--patient PRESET`).
    var patient: String?
    /// The operator's pseudonym for the patient (`--patient-label`, checked), written into the recording.
    var patientLabel: String?
    /// SR-7 / SR-20: the therapist's per-patient range [rad] and torque caps per joint (nil: the profile's).
    var patientRange: [ClosedRange<Double>?] = []
    var patientTorqueCaps: [SafetySettings.TorqueCap?] = []
    /// Mirror mode's RehabRef port (`--reference-port`; 0: a free one, for the simulator's limb).
    var referencePort: UInt16?
    /// Tracking sensors (`--tracker NAME=PORT,…`): each profile with its port, or nil for one rehabsim simulates.
    var trackerRequests: [(profile: TrackerProfile, port: String?)] = []
    /// The tracker that drives a mirror exercise instead of a RehabRef stream (`--reference-tracker NAME`).
    var referenceTrackerName: String?
    /// SR-16: the tracker whose tool must stay in the box, and the box [m] (`--workspace NAME:…`).
    var workspace: (trackerName: String, minimumMeters: SIMD3<Double>, maximumMeters: SIMD3<Double>)?

    // For `rehabctl scenario run --target sim`, which drives a session from a timeline.
    /// No status lines on standard error (the scenario runner prints one line per scenario).
    var quiet = false
    /// rehabsim's event log (`--events`): when its faults began, when it cut torque.
    var simulatorEventsPath: String?
    /// Give rehabsim a control socket even without a patient, reference or tracker (live fault injection).
    var alwaysControlsSimulator = false
    /// Called once the session exists, just before its set-up and loop start, with rehabsim's control
    /// socket (nil: none): a scenario's timeline starts from here.
    var onSessionReady: ((TherapySession, _ simulatorControl: String?, _ trackerControls: [String: String]) -> Void)?

    /// Parses the options `demo` and `bench` share.
    init(command: String, _ parsed: ParsedArguments, defaultDurationSeconds: Double) throws(CommandFailure) {
        self.command = command
        durationSeconds = try parsed.double("--duration", default: defaultDurationSeconds, in: 0.001...86_400, unit: "s")
        profile = try DrivableProfile.load(parsed.string("--profile") ?? "wrist-trainer", command: command)
        rateHertz = try parsed.double("--rate", default: profile.control.rateHertz, in: 1...10_000, unit: "Hz")
        // SR-14: a rate the profile or its watchdog cannot sustain can never work; say why before anything starts.
        if let problem = SafetySettings.rateProblem(profile, rateHertz: rateHertz) {
            throw CommandFailure("rehabctl \(command): --rate: \(problem)", exitCode: .configuration)
        }
        realtime = try RealtimeOptions(parsed)
        // After `scripts/rt-tune.sh apply N`, the loop and the simulator belong on CPU N.
        if realtime.request.cpu == nil && realtime.simulatorCPU == nil, let tuned = RealtimeTuning.appliedCPU(),
            tuned < Realtime.onlineCPUCount
        {
            realtime.request.cpu = tuned
            realtime.simulatorCPU = tuned
            Terminal.printError("rehabctl \(command): using the real-time tuning of scripts/rt-tune.sh: loop and simulator on CPU \(tuned)")
        }
        simulatorPath = parsed.string("--simulator")
        let periodMicroseconds = 1e6 / rateHertz
        if let given = try parsed.integer("--warm-up-us", default: nil, in: 0...1_000_000, unit: "µs") {
            guard given == 0 || Double(given) <= periodMicroseconds / 2 else {
                throw parsed.usageError("--warm-up-us \(given) is more than half the period (\(Int(periodMicroseconds)) µs at \(Int(rateHertz)) Hz)")
            }
            warmUpNanoseconds = Int64(given) * 1_000
        } else {
            warmUpNanoseconds = Int64(min(Double(LoopOptions.defaultWarmUpMicroseconds), periodMicroseconds / 2) * 1_000)
        }
        switch parsed.string("--reply-wait") ?? "cycle" {
        case "cycle": waitsForReplies = true
        case "next-wake": waitsForReplies = false
        case let other: throw parsed.usageError("--reply-wait takes cycle or next-wake, not \"\(other)\"")
        }
        if let name = parsed.string("--exercise") {
            do {
                let path = try ExerciseLoader.resolve(name, hardwareFolders: ProfileSearch.folders())
                exercisePath = path
                let definition = try ExerciseLoader.load(path: path)
                exercise = try RangeOfMotionExercise(definition, profile: profile)
                if parsed.string("--duration") != nil {
                    throw CommandFailure(
                        "rehabctl \(command): --duration and --exercise: the exercise file sets how long (repetitions or duration_s)",
                        exitCode: .usage)
                }
                durationSeconds = profile.control.enableRampSeconds + exercise.sessionSeconds(durationSeconds: definition.durationSeconds)
            } catch let error as ProfileError {
                throw CommandFailure("rehabctl \(command): --exercise: \(error)", exitCode: error.exitCode)
            } catch let error as CommandFailure {
                throw error
            } catch {
                throw CommandFailure("rehabctl \(command): --exercise: \(error)", exitCode: .software)
            }
        }
        port = parsed.string("--port")
        let jointNames = profile.joints.map(\.name)
        for (index, low, high) in try Self.jointPairs(parsed, "--patient-rom-deg", joints: jointNames) {
            guard low < high else { throw parsed.usageError("--patient-rom-deg: \(jointNames[index])'s minimum \(low)° must be below its maximum \(high)°") }
            if patientRange.count <= index { patientRange += Array(repeating: nil, count: index + 1 - patientRange.count) }
            patientRange[index] = Units.radians(fromDegrees: low)...Units.radians(fromDegrees: high)
        }
        for (index, positive, negative) in try Self.jointPairs(parsed, "--patient-torque-cap-nm", joints: jointNames) {
            if patientTorqueCaps.count <= index {
                patientTorqueCaps += Array(repeating: nil, count: index + 1 - patientTorqueCaps.count)
            }
            patientTorqueCaps[index] = SafetySettings.TorqueCap(positiveNewtonMeters: positive, negativeNewtonMeters: negative)
        }
        patient = parsed.string("--patient")
        patientLabel = try SessionMetadataOptions.patientLabel(parsed)
        // rehabsim checks the preset's name itself (SimulatorProcess.start passes its verdict on).
        if patient != nil && port != nil {
            throw parsed.usageError("--patient puts a simulated patient into rehabsim: it needs the simulator (--sim), not --port")
        }
        if let text = parsed.string("--tracker") {
            for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw parsed.usageError("--tracker takes NAME=PORT (NAME=sim for a simulated one), comma-separated; found \"\(item)\"")
                }
                let tracker: TrackerProfile
                do {
                    tracker = try ProfileSearch.loadTracker(parts[0])
                } catch {
                    throw CommandFailure("rehabctl \(command): --tracker: \(error)", exitCode: error.exitCode)
                }
                let problems = TrackerRegistry.standard.problems(with: tracker)
                guard problems.isEmpty else {
                    throw CommandFailure("rehabctl \(command): --tracker \(tracker.name): " + problems.joined(separator: "; "), exitCode: .configuration)
                }
                if parts[1] == "sim" && port != nil {
                    throw parsed.usageError("--tracker \(parts[0])=sim: simulated trackers run in rehabsim, with the simulated robot (not with --port)")
                }
                guard !trackerRequests.contains(where: { $0.profile.name == tracker.name }) else {
                    throw parsed.usageError("--tracker names \(tracker.name) twice")
                }
                trackerRequests.append((tracker, parts[1] == "sim" ? nil : parts[1]))
            }
            guard trackerRequests.count < TrackerReadings.capacity else {
                throw parsed.usageError("--tracker: at most \(TrackerReadings.capacity - 1) trackers in a session")
            }
        }
        if let name = parsed.string("--reference-tracker") {
            guard case .mirror = exercise.mode else {
                throw parsed.usageError("--reference-tracker is for a mirror exercise (this one is \(exercise.mode.name))")
            }
            guard let tracker = trackerRequests.first(where: { $0.profile.name == name || $0.profile.sourcePath == name }) else {
                throw parsed.usageError("--reference-tracker \(name): give it with --tracker \(name)=PORT too")
            }
            guard parsed.string("--reference-port") == nil else {
                throw parsed.usageError("--reference-tracker and --reference-port: a mirror exercise follows one reference")
            }
            guard tracker.profile.framePeriodNanoseconds <= TrackerInterlock.slowestAllowedPeriodNanoseconds else {
                throw CommandFailure("rehabctl \(command): --reference-tracker \(tracker.profile.name): \(tracker.profile.rateHertz) Hz; SR-15 lets nothing below 60 Hz gate motion", exitCode: .configuration)
            }
            referenceTrackerName = tracker.profile.name
        }
        if let text = parsed.string("--workspace") {
            let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
            let numbers = parts.count == 2 ? parts[1].split(separator: ",").compactMap { Double($0) } : []
            guard parts.count == 2, numbers.count == 6, numbers.allSatisfy(\.isFinite),
                numbers[0] < numbers[1], numbers[2] < numbers[3], numbers[4] < numbers[5]
            else {
                throw parsed.usageError("--workspace takes TRACKER:XMIN,XMAX,YMIN,YMAX,ZMIN,ZMAX in metres of the tracker's frame, each minimum below its maximum; found \"\(text)\"")
            }
            guard let tracker = trackerRequests.first(where: { $0.profile.name == parts[0] }) else {
                throw parsed.usageError("--workspace \(parts[0]): give it with --tracker \(parts[0])=PORT too")
            }
            guard TrackerRegistry.standard.entry(for: tracker.profile)?.reportsPosition == true else {
                throw CommandFailure("rehabctl \(command): --workspace \(tracker.profile.name): a \(tracker.profile.protocolIdentifier) sensor reports no position (SR-16 needs a tool's, e.g. an NDI tracker's)", exitCode: .configuration)
            }
            guard tracker.profile.framePeriodNanoseconds <= TrackerInterlock.slowestAllowedPeriodNanoseconds else {
                throw CommandFailure("rehabctl \(command): --workspace \(tracker.profile.name): \(tracker.profile.rateHertz) Hz; SR-15 lets nothing below 60 Hz gate motion", exitCode: .configuration)
            }
            workspace = (tracker.profile.name, SIMD3(numbers[0], numbers[2], numbers[4]), SIMD3(numbers[1], numbers[3], numbers[5]))
        }
        if referenceTrackerName != nil {
            // The mirror's reference is a tracker: no RehabRef stream.
        } else if let text = parsed.string("--reference-port") {
            guard let port = UInt16(text), port > 0 else { throw parsed.usageError("--reference-port takes a UDP port, 1 to 65535, not \"\(text)\"") }
            guard case .mirror = exercise.mode else {
                throw parsed.usageError("--reference-port is for a mirror exercise (this one is \(exercise.mode.name))")
            }
            referencePort = port
        } else if case .mirror = exercise.mode {
            guard port == nil else {
                throw parsed.usageError("a mirror exercise follows a RehabRef stream (protocols/rehabref/README.md): give --reference-port N, the UDP port its source sends to")
            }
            referencePort = 0
        }
        faultScript = parsed.string("--faults")
        // rehabsim checks the fault script and the patient preset itself (SimulatorProcess.start).
        holdsAfterFault = parsed.flag("--hold-after-fault") || command == "run"
        blackBoxDirectory = parsed.string("--black-box-dir") ?? BlackBoxLocation.defaultFolder
        switch parsed.string("--record") {
        case "none"?: recordPath = nil
        case let path?:
            guard !path.isEmpty, !path.hasSuffix("/") else { throw parsed.usageError("--record takes a file path (…/session.mcap) or none") }
            // A recording is only ever created as a new regular file: never over an earlier recording,
            // never through a link, never into a device or a FIFO (`lstat`: a link is seen as one).
            var existing = stat()
            if lstat(path, &existing) == 0 {
                throw parsed.usageError(
                    "--record \(path): \((existing.st_mode & S_IFMT) == S_IFREG ? "the file exists" : "something that is not a new file is there (a link, device, FIFO or folder)"); choose a new path or remove it first (recordings are never overwritten)")
            }
            recordPath = path
        case nil: recordPath = command == "demo" ? RecordingLocation.defaultPath(for: command) : nil
        }
        if let group = parsed.string("--control-group") {
            guard let entry = getgrnam(group) ?? UInt32(group).flatMap({ getgrgid($0) }) else {
                throw parsed.usageError("--control-group: no group \"\(group)\" on this machine")
            }
            controlGroup = entry.pointee.gr_gid
        }
        switch parsed.string("--control-socket") {
        case "none"?: controlSocket = nil
        case let path?: controlSocket = path
        case nil:
            do {
                controlSocket = try ControlSocketLocation.checkedDefaultPath()
            } catch {
                // SR-25: a folder someone else owns or may write is never used; say which and why.
                throw CommandFailure("rehabctl \(command): \(error); or give --control-socket PATH or none", exitCode: .permission)
            }
        }
    }

    func status(_ message: String) {
        if !quiet { Terminal.printError("rehabctl \(command): \(message)") }
    }

    func run() throws(CommandFailure) -> Outcome {
        let kernel = KernelPreemption.detect()
        if kernel.model.allowsLongKernelStalls && RealtimeTuning.appliedCPU() != nil {
            status("kernel not preemptible (preempt=\(kernel.model.rawValue)); the real-time tuning of scripts/rt-tune.sh is in effect")
        } else if kernel.model.allowsLongKernelStalls && rateHertz > 500 {
            status("warning: this kernel is not preemptible (preempt=\(kernel.model.rawValue), from the \(kernel.source)): a kernel thread can hold a CPU for several ms and delay the pseudo-terminal; at \(Int(rateHertz)) Hz the link then degrades (SR-1 FAIR: the exercise holds and resumes by itself) and, when stalls persist, pauses (POOR). Remedy: sudo scripts/rt-tune.sh apply 1, then --cpu 1 --simulator-cpu 1 (docs/performance.md).")
        }
        TerminationSignals.install()
        // Mirror mode: the reference is received from before the session starts (SR-15 gates from the
        // first cycle when the exercise starts in mirror mode).
        var reference: ReferenceStreamReceiver?
        if let referencePort {
            do throws(TransportError) {
                reference = ReferenceStreamReceiver(socket: try DatagramSocket.bound(port: referencePort))
            } catch {
                throw CommandFailure("rehabctl \(command): --reference-port: \(error)", exitCode: error.exitCode)
            }
            reference!.start()
            status("mirror reference: receiving RehabRef on \(reference!.socket.name)")
        }
        defer { reference?.stop() }
        // The simulator's control socket: the cue start for its patient and its unaffected limb.
        var simulatorControl: String?
        var trackerControls: [String: String] = [:]
        var simulator: SimulatorProcess?
        defer { simulator?.stop() }
        let robotPath: String
        if let port {
            robotPath = port
        } else {
            let executable = try SimulatorProcess.locate(explicit: simulatorPath)
            var extra = realtime.simulatorArguments
            if let faultScript { extra += ["--faults", faultScript] }
            if let simulatorEventsPath { extra += ["--events", simulatorEventsPath] }
            let simulatedTrackers = trackerRequests.filter { $0.port == nil }.map(\.profile)
            let followsTheExercise = patient != nil || reference != nil || !simulatedTrackers.isEmpty
            if followsTheExercise || alwaysControlsSimulator {
                simulatorControl = NSTemporaryDirectory() + "rehabsim-control-\(getpid()).sock"
                extra += ["--control", simulatorControl!]
                if followsTheExercise, let exercisePath { extra += ["--exercise", exercisePath] }
            }
            if let patient { extra += ["--patient", patient] }
            if let reference { extra += ["--reference-to", "\(reference.socket.localPort)"] }
            for tracker in simulatedTrackers {
                guard alwaysControlsSimulator else {
                    extra += ["--tracker", tracker.sourcePath]
                    continue
                }
                // Each simulated tracker's own control socket, for live tracker faults.
                let socket = NSTemporaryDirectory() + "rehabsim-control-\(getpid())-\(tracker.name).sock"
                trackerControls[tracker.name] = socket
                extra += ["--tracker", "\(tracker.sourcePath),control=\(socket)"]
            }
            let started = try SimulatorProcess.start(
                executable: executable, profilePath: profile.sourcePath, extraArguments: extra, otherDevices: simulatedTrackers.map(\.name))
            simulator = started
            robotPath = started.robotPath
            status("simulated \(profile.name) on \(robotPath)" + (faultScript.map { " with the faults of \($0)" } ?? ""))
            if reference != nil { status("simulated unaffected limb: streaming RehabRef at 100 Hz (inject reference faults: rehabsim inject --control \(simulatorControl!) reference_stop)") }
        }
        // The trackers: opened, set up and streaming before the robot is touched; the mirror's
        // reference tracker zeroed while the patient holds the neutral pose.
        var trackers: [SerialTracker] = []
        defer { for tracker in trackers { tracker.shutDown(); (tracker.link as? SerialPort)?.close() } }
        for request in trackerRequests {
            guard let path = request.port ?? simulator?.devicePaths[request.profile.name] else {
                throw CommandFailure("rehabctl \(command): rehabsim did not announce the tracker \(request.profile.name)", exitCode: .unavailable)
            }
            let tracker: SerialTracker
            do {
                let line = try SerialPort(path: path, options: .init(baudRateBitsPerSecond: request.profile.baudRateBitsPerSecond))
                tracker = try TrackerRegistry.standard.makeTracker(for: request.profile, link: line)
            } catch {
                throw CommandFailure("rehabctl \(command): --tracker \(request.profile.name): \(error)", exitCode: .unavailable)
            }
            trackers.append(tracker)
            do {
                try tracker.configure()
                try tracker.start()
            } catch {
                throw CommandFailure("rehabctl \(command): --tracker \(request.profile.name): \(error)", exitCode: .unavailable)
            }
            if request.profile.name == referenceTrackerName {
                status("zeroing \(request.profile.name): hold the unaffected limb still in its neutral pose")
                do {
                    try tracker.zero()
                } catch {
                    throw CommandFailure("rehabctl \(command): --tracker \(request.profile.name): \(error)", exitCode: .refused)
                }
            }
            status("tracker \(request.profile.name): \(tracker.identity) on \(path)" + (request.profile.name == referenceTrackerName ? ", zeroed: the mirror's reference" : ""))
        }
        let serialPort: SerialPort
        do {
            serialPort = try SerialPort(path: robotPath, options: .init(baudRateBitsPerSecond: profile.device.baudRateBitsPerSecond))
        } catch {
            throw CommandFailure("rehabctl \(command): \(error)", exitCode: error.exitCode)
        }
        let driver: any ActuatedDevice
        do {
            driver = try DriverRegistry.standard.makeActuatedDevice(for: profile, link: serialPort)
        } catch {
            serialPort.close()
            throw CommandFailure("rehabctl \(command): \(error)", exitCode: .configuration)
        }
        var options = TherapySession.Options(rateHertz: rateHertz, durationSeconds: durationSeconds, exercise: exercise)
        options.patientRange = patientRange
        options.patientTorqueCaps = patientTorqueCaps
        options.observesTerminationSignals = true
        options.spinNanoseconds = spinNanoseconds
        options.warmUpNanoseconds = warmUpNanoseconds
        options.waitsForReplies = waitsForReplies
        options.holdsAfterFault = holdsAfterFault
        options.blackBoxDirectory = blackBoxDirectory
        options.recordingPath = recordPath
        options.recordingMetadata = SessionMetadataOptions.entries(patientLabel: patientLabel, exercise: exercisePath)
        if let referenceTrackerName, let tracker = trackers.first(where: { $0.profile.name == referenceTrackerName }) {
            options.reference = tracker
            options.referenceMaximumRmsErrorMillimeters = tracker.profile.maximumRmsErrorMillimeters
            options.trackers = trackers.filter { $0 !== tracker }
        } else {
            options.reference = reference
            options.trackers = trackers
        }
        if let workspace, let tracker = trackers.first(where: { $0.profile.name == workspace.trackerName }) {
            var tracking = TherapySession.Options.WorkspaceTracking(tracker: tracker, minimumMeters: workspace.minimumMeters, maximumMeters: workspace.maximumMeters)
            if let rms = tracker.profile.maximumRmsErrorMillimeters { tracking.maximumRmsErrorMillimeters = rms }
            options.workspace = tracking
            status("SR-16: \(tracker.profile.name)'s tool must stay in x \(workspace.minimumMeters.x)…\(workspace.maximumMeters.x), y \(workspace.minimumMeters.y)…\(workspace.maximumMeters.y), z \(workspace.minimumMeters.z)…\(workspace.maximumMeters.z) m (+ 20 mm)")
        }
        let name = command
        options.onRecordingFailure = { message in
            Terminal.printError("rehabctl \(name): RECORDING FAILED: \(message); the session goes on under full supervision, and what is not written is counted")
        }
        if let recordPath { status("recording to \(recordPath)") }
        let session: TherapySession
        do {
            session = try TherapySession(profile: profile, device: driver, clock: MonotonicClock.shared, options: options)
        } catch {
            throw CommandFailure("rehabctl \(command): \(error)", exitCode: error.exitCode)
        }
        var server: ControlServer?
        if let controlSocket {
            do {
                server = try ControlServer(
                    path: controlSocket, group: controlGroup, control: session.control, statusBoard: session.statusBoard,
                    jointNames: profile.joints.map(\.name), exerciseName: options.exercise.description(jointNames: profile.joints.map(\.name)),
                    modeNames: session.availableModes.map(\.name))
            } catch {
                throw CommandFailure("rehabctl \(command): cannot create the control socket \(controlSocket): \(error)", exitCode: .noInput)
            }
            server?.start()
            session.controlServer = server
            status("control socket \(controlSocket) (from another terminal: rehabctl estop | stop | pause | resume | reset | release | status)")
        }
        defer { server?.stop() }
        if let simulatorControl {
            followCue(socket: simulatorControl, statusBoard: session.statusBoard, rampSeconds: profile.control.enableRampSeconds)
            if let patient { status("simulated patient: \(patient), following the exercise from its start") }
        }
        onSessionReady?(session, simulatorControl, trackerControls)
        let simulatorCPUBefore = simulator.flatMap { ProcessCPU.seconds(of: $0.process.pid) }
        let wallBefore = MonotonicClock.now()
        let watchdogMilliseconds = profile.device.watchdogPeriodNanoseconds / 1_000_000
        let (duration, rate) = (durationSeconds, rateHertz)
        let exercise = options.exercise.description(jointNames: profile.joints.map(\.name))
        let quiet = quiet
        let outcome = try ControlThreadRun.execute(session: session, realtime: realtime, command: command) { identity, repeats, setUpStop in
            if quiet { return }
            if let setUpStop {
                // SR-12 in the set-up: taken at once, torque off; the exercise never starts.
                Terminal.printError("rehabctl \(name): stopped during the set-up: the exercise does not start (\(setUpStop.cause == .operatorEmergencyStop ? "e-stop" : "stop") taken within a set-up cycle; torque off)")
                return
            }
            if let identity {
                Terminal.printError(
                    "rehabctl \(name): self-test passed: \(identity.model) s/n \(identity.serialNumber), firmware \(identity.firmware); watchdog \(watchdogMilliseconds) ms confirmed"
                        + (repeats > 0 ? "; direction test started again \(repeats)× after a short stall of the host or the link" : ""))
            }
            if TerminationSignals.interrupts > 0 || TerminationSignals.terminations > 0 {
                // Signalled during the set-up: the session stops in its first cycle (TherapySession.run).
                Terminal.printError("rehabctl \(name): stopped during the set-up: the exercise does not start")
            } else {
                Terminal.printError("rehabctl \(name): running \(exercise) for \(formatSeconds(duration)) s at \(formatSeconds(rate)) Hz (Ctrl-C stops; a second Ctrl-C e-stops)")
            }
        }
        let wallSeconds = MonotonicClock.now().seconds(since: wallBefore)
        var simulatorCPU: Double?
        if let before = simulatorCPUBefore, let simulator, let after = ProcessCPU.seconds(of: simulator.process.pid) {
            simulatorCPU = (after - before) / wallSeconds
        }
        let silenced = outcome.session.safetyEvents.first?.cause.isTimingInterlock == true
        if silenced {
            // Stable wording: test rigs look for it to tell a host stall from a defect.
            let health = outcome.session.deviceLinkHealth ?? LinkHealth()
            let hint: String
            if outcome.session.deviceRepliesWereGarbled {
                // The replies came but were thrown away: the link's data, not the host's timing (and not
                // worded as a host stall, which test rigs may repeat).
                status(
                    "the exercise was stopped because the device's replies did not get through: \(health.checksumErrors) frames with a bad checksum, \(health.malformedFrames) malformed, \(health.discardedBytes) bytes in no frame at all (line noise, a loose or too long cable, or a baud rate other than the device's: the profile says \(profile.device.baudRateBitsPerSecond) bit/s). Check the cable and the connectors; a lower rate does not help.")
                hint = ""
            } else if kernel.model.allowsLongKernelStalls {
                // A lower rate only where there is one to go to (never "--rate 250" at 250 Hz).
                let lower = max(profile.control.minimumRateHertz, 250)
                hint = "on this non-preemptible kernel the tty layer or the loop was held up by the kernel (see the warning above and docs/performance.md). Try sudo scripts/rt-tune.sh apply 1 with --cpu 1 --simulator-cpu 1"
                    + (rateHertz > lower ? ", or --rate \(formatSeconds(lower))." : ".")
            } else {
                hint = "the host held up the loop or the link (compare with cyclictest; docs/performance.md)."
            }
            if !hint.isEmpty { status("the exercise was stopped by a timing interlock; " + hint) }
        }
        for tracker in trackers {
            tracker.stop()
            let figures = tracker.figures
            var line = "tracker \(tracker.profile.name): \(figures.accepted) samples, \(figures.repeated) frozen, \(figures.checksumErrors) checksum errors, \(figures.discardedBytes) bytes discarded"
            if figures.unansweredRequests > 0 { line += ", \(figures.unansweredRequests) polls unanswered" }
            // What the sensor said about itself (an NDI system that reset, an ERROR to BX): why its samples stopped.
            if let condition = figures.lastCondition { line += "; the sensor reported \(figures.deviceConditions)× a condition, the last: \(condition)" }
            if let error = figures.linkError { line += "; the line failed: \(error)" }
            status(line)
        }
        if let reference {
            reference.stop()
            let figures = reference.figures
            status("mirror reference: \(figures.accepted) frames accepted, \(figures.repeated) repeated, \(figures.outOfOrder) out of order, \(figures.rejectedTotal) refused"
                   + (figures.rejected.isEmpty ? "" : " (" + figures.rejected.map { "\($0.key.name) \($0.value)" }.sorted().joined(separator: ", ") + ")"))
        }
        return Outcome(session: outcome.session, realtime: outcome.realtime, kernel: kernel.model, simulatorCPUSecondsPerSecond: simulatorCPU)
    }
}

extension SupervisedSessionRun {
    /// `JOINT=A:B,JOINT=A:B`: a joint of the profile by name and two numbers each; a usage error
    /// (exit 64) names what is wrong.
    static func jointPairs(_ parsed: ParsedArguments, _ option: String, joints: [String]) throws(CommandFailure) -> [(Int, Double, Double)] {
        guard let text = parsed.string(option) else { return [] }
        var pairs: [(Int, Double, Double)] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let numbers = parts.count == 2 ? parts[1].split(separator: ":", omittingEmptySubsequences: false).map { Double($0) } : []
            guard parts.count == 2, numbers.count == 2, let a = numbers[0], let b = numbers[1], a.isFinite, b.isFinite else {
                throw parsed.usageError("\(option): expected JOINT=A:B[,JOINT=A:B…], found \"\(item.prefix(80))\"")
            }
            guard let index = joints.firstIndex(of: parts[0]) else {
                throw parsed.usageError("\(option): no joint \"\(parts[0].prefix(40))\" in this profile; its joints: \(joints.joined(separator: ", "))")
            }
            guard !pairs.contains(where: { $0.0 == index }) else { throw parsed.usageError("\(option): \(parts[0]) is given twice") }
            pairs.append((index, a, b))
        }
        return pairs
    }

    /// A cue line: the instant under `key`, and the plan the session made as its inputs (rehabsim makes
    /// the same call), `plan_start_rad`, `plan_duration_s`, `plan_repetitions`.
    static func cueFields(_ key: String, _ at: MonotonicInstant, _ plan: PlanInputs?) -> JSONObject {
        var fields: JSONObject = [key: .int(Int(at.nanoseconds))]
        if let plan {
            fields["plan_start_rad"] = .array((0..<plan.startPositionsRadians.count).map { .number(plan.startPositionsRadians[$0]) })
            fields["plan_duration_s"] = .number(plan.durationSeconds)
            if let repetitions = plan.repetitions { fields["plan_repetitions"] = .int(repetitions) }
        }
        return fields
    }

    /// Keeps rehabsim's patient and limb on the exercise's cue (`ExerciseCueClock`): a normal thread
    /// watches the status board and sends when the plan begins (after the enable ramp), stands still
    /// and moves on, each as its instant on the shared CLOCK_MONOTONIC, so that however late this
    /// thread runs or a line arrives, the cue keeps time with the plan.
    func followCue(socket: String, statusBoard: SnapshotBoard<SessionStatus>, rampSeconds: Double) {
        let name = command
        let thread = Thread {
            var clock = ExerciseCueClock(rampSeconds: rampSeconds)
            while true {
                let status = statusBoard.snapshot()
                if status.finished { return }
                guard let change = clock.observe(status) else {
                    usleep(2_000)
                    continue
                }
                let line: JSONValue
                switch change {
                case .start(let at, let plan): line = .object(Self.cueFields("cue_start_at_ns", at, plan))
                case .hold(let at): line = .object(["cue_hold_at_ns": .int(Int(at.nanoseconds))])
                case .resume(let at, let plan): line = .object(Self.cueFields("cue_resume_at_ns", at, plan))
                }
                // One connection per line, closed at once: with one kept open for the whole session, the
                // scenarios' deadlines on the simulator came 6–8 ms late (ci-sim: 14–17 of 18 passed, 18 of 18
                // with the connection closed; the mechanism was not found).
                let connection: UnixSocketConnection
                do {
                    connection = try UnixSocketConnection.connect(path: socket)
                } catch {
                    Terminal.printError("rehabctl \(name): cannot reach the simulator at \(socket): \(error); its patient and limb rest")
                    return
                }
                defer { connection.close() }
                guard connection.writeLine(line.serialized()),
                    connection.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: Nanoseconds.perSecond))?.contains("\"ok\":true") == true
                else {
                    Terminal.printError("rehabctl \(name): the simulator did not take the exercise's cue (\(line.serialized())); its patient no longer follows the plan")
                    return
                }
            }
        }
        thread.start()
    }
}

/// The CPU `scripts/rt-tune.sh apply` prepared, when it is in effect.
enum RealtimeTuning {
    static let stateFile = "/run/rehabhost-rt-tune.state"

    static func appliedCPU() -> Int? {
        guard let text = try? String(contentsOfFile: stateFile, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2, words[0] == "cpu" { return Int(words[1]) }
        }
        return nil
    }
}

/// CPU time of another process, from /proc/<pid>/stat (utime + stime).
enum ProcessCPU {
    static func seconds(of pid: pid_t) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name; utime and stime are fields 14 and 15 of the whole line.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// Where a session's files go by default: ${XDG_STATE_HOME:-~/.local/state}/rehabhost/<kind>.
enum StateFolder {
    static func path(_ kind: String) -> String {
        let environment = ProcessInfo.processInfo.environment
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/rehabhost/" + kind }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state/rehabhost/" + kind
    }
}

/// Black boxes: <state>/rehabhost/blackbox.
enum BlackBoxLocation {
    static var defaultFolder: String { StateFolder.path("blackbox") }
}

/// Recordings: <state>/rehabhost/recordings/<command>-<UTC time>.mcap.
enum RecordingLocation {
    static func defaultPath(for command: String) -> String {
        let stamp = WallClock.utcTimestamp(WallClock.unixNanoseconds()).replacingOccurrences(of: ":", with: "-")
        return StateFolder.path("recordings") + "/\(command)-\(stamp).mcap"
    }
}

/// Options of every command that runs the loop.
enum LoopOptions {
    /// The rehearsal's default lead before each deadline [µs] (at most half the period).
    static let defaultWarmUpMicroseconds = 50

    /// The control socket, the black box and what happens after a fault (demo, bench, run).
    static let session: [CommandSpec.Option] = [
        .init("--exercise", value: "NAME|PATH",
              help: "An exercise file (hardware/exercises/NAME.json): mode, joint, range, speed, repetitions or duration; checked against the profile before anything moves. Default: a passive ±25° swing of the first joint."),
        .init("--control-socket", value: "PATH|none",
              help: "Unix socket for rehabctl estop/stop/pause/resume/reset/release/status from another terminal; default: session-<pid>.sock in /run/rehabhost (root), $XDG_RUNTIME_DIR/rehabhost or /tmp/rehabhost-<uid>."),
        .init("--control-group", value: "GROUP", help: "Let this group use the control socket too (mode 0660 instead of 0600)."),
        .init("--black-box-dir", value: "DIR", help: "Where the black box (the last 5 s at full rate, SR-19) is written on a fault.",
              default: "~/.local/state/rehabhost/blackbox"),
        .init("--record", value: "PATH|none",
              help: "Record every cycle to this MCAP file (joint state, commands, supervisor, safety events, loop timing, metrics); chunks reach the disk at least every 100 ms. `demo` records by default (none: don't).",
              default: "demo: ~/.local/state/rehabhost/recordings/demo-<time>.mcap; others: none"),
        .init("--warm-up-us", value: "MICROSECONDS",
              help: "Wake this long before each deadline, rehearse the cycle's computation on a copy (result thrown away) and spin to the deadline, so that the real cycle runs with warm caches; 0: off. At most half the period.",
              default: "\(defaultWarmUpMicroseconds) (at most half the period)"),
        .init("--patient-rom-deg", value: "JOINT=MIN:MAX,…",
              help: "The patient's range of motion per joint, in degrees (e.g. flexion_extension=-30:40); it can only narrow the profile's soft limits (SR-7), and is written into the firmware too (SR-24)."),
        .init("--patient-torque-cap-nm", value: "JOINT=POS:NEG,…",
              help: "The patient's torque cap per joint and direction, in N·m as magnitudes (e.g. flexion_extension=1.2:0.8); it can only lower the profile's torque limit (SR-20), and is written into the firmware too (SR-24)."),
        .init("--hold-after-fault", help: "After a fault, keep the loop running (joints held, release possible) until rehabctl stop or reset."),
        .init("--reference-port", value: "PORT",
              help: "Mirror exercises: receive the reference (RehabRef frames, protocols/rehabref/README.md) on UDP 127.0.0.1:PORT. Required with --port; with the simulator a free port is used and rehabsim streams the unaffected limb to it."),
        .init("--tracker", value: "NAME=PORT[,…]",
              help: "A tracking sensor read every cycle and recorded (hardware/trackers/NAME.json on PORT; NAME=sim: simulated by rehabsim on the patient's unaffected limb). Repeatable, or a comma list; at most 3.",
              repeatable: true),
        .init("--workspace", value: "TRACKER:XMIN,XMAX,YMIN,YMAX,ZMIN,ZMAX",
              help: "SR-16: the --tracker whose tool (the patient's hand) must stay in this box, in metres of the tracker's own frame (+ 20 mm); leaving it, or the tracker going stale, hidden or inaccurate, stops the robot Cat 1."),
        .init("--reference-tracker", value: "NAME",
              help: "Mirror exercises: the --tracker whose joint angle is the reference (instead of a RehabRef stream); zeroed during the set-up while the patient holds the neutral pose. SR-15 judges it like any reference."),
    ]

    static func common(defaultDuration: String) -> [CommandSpec.Option] {
        [
            .init("--duration", value: "SECONDS", help: "How long the exercise runs.", default: defaultDuration),
            .init("--rate", value: "HZ", help: "Control loop rate, 1 to 10000.", default: "1000"),
            .init("--profile", value: "NAME|PATH", help: "Hardware profile of the simulated robot.", default: "wrist-trainer"),
            .init("--priority", value: "N", help: "SCHED_FIFO priority of the control thread, 1 to 99; 0 for none.", default: "80"),
            .init("--cpu", value: "N", help: "Pin the control thread to this CPU."),
            .init("--simulator-cpu", value: "N", help: "Pin the simulator's firmware loop to this CPU."),
            .init("--require-realtime", help: "Refuse to start unless SCHED_FIFO and locked memory are granted."),
            .init("--reply-wait", value: "cycle|next-wake",
                  help: "Wait for each reply within the cycle (measures the round trip), or read it at the next wake (one context switch less per cycle).",
                  default: "cycle"),
            .init("--simulator", value: "PATH", help: "The rehabsim executable; default: the one next to rehabctl."),
            .init("--faults", value: "FILE", help: "A fault script for the simulator (simulators/README.md), e.g. hardware/faults/spasm.json."),
            .init("--patient", value: "PRESET", help: "A simulated patient in the robot: healthy, stroke-mild, stroke-severe or passive (simulators/README.md); it follows the exercise."),
        ] + session
    }
}
