import CSystemShims
import CommandLineSupport
import Control
import Foundation
import Platform
import Primitives
import Profiles
import RehabLinkSimulator
import StrictJSON
import Synchronization
import Transport

let spec = CommandSpec(
    program: "rehabsim", name: nil,
    summary: "Run a simulated RehabLink robot on a pseudo-terminal.",
    discussion: """
        rehabsim presents the robot of a hardware profile on a new pseudo-terminal and prints its path
        on the first line of standard output as "robot: /dev/pts/N". Hosts connect to that path exactly
        as to a real device (for example `rehabctl identify --port /dev/pts/N`). The firmware follows
        protocols/rehablink/README.md (v1.1), device watchdog, local hold, firmware limits, e-stop and
        the patient's stop and pause buttons included; the joints have inertia,
        friction, hard stops, a torque-limited drive and a quantised encoder (simulators/README.md).
        It runs until SIGINT or SIGTERM, and keeps running when hosts connect and disconnect.
        """,
    options: [
        .init("--profile", value: "NAME|PATH", help: "Hardware profile of the robot to simulate.", default: "wrist-trainer"),
        .init("--link", value: "PATH", help: "Also make a symlink at PATH to the pseudo-terminal (removed on exit)."),
        .init("--serial", value: "TEXT", help: "Serial number the device reports.", default: "SIM-0001"),
        .init("--events", value: "FILE", help: "Write what the device does as JSON lines: t_ms, unix_ns, event, …"),
        .init("--priority", value: "N", help: "Run the firmware loop with SCHED_FIFO at this priority (1 to 99), with locked memory."),
        .init("--cpu", value: "N", help: "Pin the firmware loop to this CPU."),
        .init("--faults", value: "FILE", help: "Inject the faults of this script (format rehabsim-faults/1, simulators/README.md)."),
        .init("--control", value: "SOCKET", help: "Accept live fault injections on this Unix socket (0600): see `rehabsim inject --help`."),
        .init("--patient", value: "PRESET",
              help: "Put a simulated patient in the robot: healthy, stroke-mild, stroke-severe or passive (simulators/README.md). Its voluntary effort follows the --exercise plan from the moment a cue_start_in_ms line arrives on --control (rehabctl demo --patient sends it when the exercise starts)."),
        .init("--exercise", value: "NAME|PATH", help: "The exercise the patient (and the --reference-to limb) follows (hardware/exercises/NAME.json); default: a ±25° swing of the first joint."),
        .init("--reference-to", value: "PORT",
              help: "Stream the patient's unaffected limb as RehabRef frames (protocols/rehabref/README.md) to UDP 127.0.0.1:PORT, for a mirror exercise given with --exercise; the limb follows the exercise's cue (from cue_start_in_ms on --control). Faults through --control: reference_stop, reference_freeze, reference_hide, reference_inaccurate, reference_normal."),
        .init("--reference-rate", value: "HZ", help: "Frames per second of --reference-to (SR-15 refuses a source slower than 60 Hz).", default: "100"),
        .init("--exit-with-parent", help: "Exit when the process that started rehabsim exits."),
        .init("--quiet", help: "Print only the robot: line (no device events on standard error)."),
    ],
    examples: [
        "rehabsim --link /tmp/wrist &            # then: rehabctl identify --port /tmp/wrist",
        "rehabsim --events device-events.jsonl",
        "rehabsim --faults hardware/faults/spasm.json --control /tmp/sim.sock",
        "rehabsim --exercise wrist-flexion-mirror --reference-to 47001 --control /tmp/sim.sock",
    ])

let injectSpec = CommandSpec(
    program: "rehabsim", name: "inject",
    summary: "Inject a fault into a running rehabsim, now, through its --control socket.",
    discussion: """
        KIND is a fault of simulators/README.md; its fields follow as key=value (numbers carry their
        unit in the key: for_ms, torque_nm, ramp_ms …). Without at_ms / after_enable_ms / at_command
        the fault begins at once. rehabsim validates it exactly as a fault script and answers.
        """,
    options: [.init("--control", value: "SOCKET", help: "The socket given to rehabsim --control.")],
    positionals: [.init("KIND", help: "drop_replies, corrupt_bytes, delay_replies, unplug, freeze_encoder, jump_encoder, reverse_encoder, device_fault, over_temperature, estop_press, estop_release, external_torque, brake_failure, disable_watchdog, ignore_limit_writes, patient_stop, patient_stop_release, patient_pause, patient_pause_release"),
                  .init("key=value…", help: "The fault's fields.", optional: true)],
    examples: ["rehabsim inject --control /tmp/sim.sock drop_replies for_ms=50",
               "rehabsim inject --control /tmp/sim.sock external_torque joint=0 torque_nm=2.5 ramp_ms=30 for_ms=500",
               "rehabsim inject --control /tmp/sim.sock patient_stop        # held until: patient_stop_release",
               "rehabsim inject --control /tmp/sim.sock patient_pause for_ms=2000"])

/// `rehabsim inject`: sends one live fault and prints rehabsim's answer.
func inject(_ words: [String]) -> Never {
    var options: [String] = []
    var fields: [String] = []
    var index = 0
    while index < words.count {
        if words[index] == "--control" || words[index] == "--help" {
            options.append(words[index])
            if words[index] == "--control", index + 1 < words.count { options.append(words[index + 1]); index += 1 }
        } else {
            fields.append(words[index])
        }
        index += 1
    }
    let parsed: ParsedArguments
    do {
        parsed = try ParsedArguments(options + Array(fields.prefix(1)), spec: injectSpec)
    } catch {
        Terminal.exit(with: error)
    }
    if parsed.wantsHelp {
        Terminal.printLine(injectSpec.helpText)
        Terminal.exit(.success)
    }
    guard let path = parsed.string("--control") else {
        Terminal.exit(with: parsed.usageError("--control SOCKET is required"))
    }
    var object: JSONObject = ["kind": .string(fields[0])]
    for field in fields.dropFirst() {
        let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else {
            Terminal.exit(with: parsed.usageError("expected key=value, found \"\(field)\""))
        }
        if let integer = Int64(parts[1]) {
            object[parts[0]] = .integer(integer)
        } else if let number = Double(parts[1]) {
            object[parts[0]] = .double(number)
        } else {
            object[parts[0]] = .string(parts[1])
        }
    }
    let connection: UnixSocketConnection
    do {
        connection = try UnixSocketConnection.connect(path: path)
    } catch {
        let code: ExitCode = (error == .permissionDenied || error == .notPermitted) ? .permission : .unavailable
        Terminal.exit(with: CommandFailure("rehabsim inject: cannot reach \(path): \(error)", exitCode: code))
    }
    guard connection.writeLine(JSONValue.object(object).serialized()),
        let reply = connection.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 3 * Nanoseconds.perSecond)),
        let answer = try? JSONParser.parse(reply).objectValue
    else {
        Terminal.exit(with: CommandFailure("rehabsim inject: no answer from \(path)", exitCode: .unavailable))
    }
    guard answer["ok"]?.boolValue == true else {
        Terminal.exit(with: CommandFailure("rehabsim inject: refused: \(answer["error"]?.stringValue ?? reply)", exitCode: .dataError))
    }
    Terminal.printLine("injected \(fields[0])")
    Terminal.exit(.success)
}

/// Live injections from the control socket, handed to the firmware loop; and the patient's cue start.
final class LiveFaults: Sendable {
    private let queue = Mutex<[InjectedFault]>([])
    private let cueStart = Mutex<MonotonicInstant?>(nil)

    func push(_ fault: InjectedFault) { queue.withLock { $0.append(fault) } }

    func take() -> [InjectedFault] { queue.withLock { faults in defer { faults.removeAll() }; return faults } }

    /// The exercise's plan begins at `start`: the patient's cue begins then.
    func startCue(at start: MonotonicInstant) { cueStart.withLock { $0 = start } }

    func takeCueStart() -> MonotonicInstant? { cueStart.withLock { value in defer { value = nil }; return value } }
}

/// When a cue line asks the cue to start: `cue_start_in_ms` from `now`, or `cue_start_at_ns`, an
/// instant of CLOCK_MONOTONIC (rehabctl's way: the plan's own start, however late the line arrives)
/// within an hour of `now`; nil for anything else.
func cueStart(_ request: JSONObject, now: MonotonicInstant) -> MonotonicInstant? {
    if let milliseconds = request["cue_start_in_ms"]?.doubleValue, milliseconds >= 0, milliseconds < 3_600_000 {
        return now.advanced(byNanoseconds: Int64(milliseconds * 1e6))
    }
    if let nanoseconds = request["cue_start_at_ns"]?.integerValue,
        abs(MonotonicInstant(nanoseconds: nanoseconds).nanoseconds(since: now)) < 3_600 * Nanoseconds.perSecond
    {
        return MonotonicInstant(nanoseconds: nanoseconds)
    }
    return nil
}

func serveControl(_ listener: UnixSocketListener, jointCount: Int, into live: LiveFaults, reference: ReferenceSender?) {
    let thread = Thread {
        while true {
            guard let connection = listener.accept(timeoutMilliseconds: 1_000) else { continue }
            let worker = Thread {
                while let line = connection.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 3_600 * Nanoseconds.perSecond)) {
                    let request = (try? JSONParser.parse(line))?.objectValue
                    if let request, request["cue_start_in_ms"] != nil || request["cue_start_at_ns"] != nil {
                        let now = MonotonicClock.now()
                        guard let start = cueStart(request, now: now) else {
                            connection.writeLine(JSONValue.object([
                                "ok": false, "error": "cue_start_in_ms takes 0 to 3600000 ms; cue_start_at_ns a CLOCK_MONOTONIC instant within an hour of now",
                            ]).serialized())
                            continue
                        }
                        live.startCue(at: start)
                        reference?.startCue(at: start)
                        connection.writeLine(JSONValue.object([
                            "ok": true, "cue_start_in_ms": .number(Double(start.nanoseconds(since: now)) * 1e-6, significantDigits: 6),
                        ]).serialized())
                        continue
                    }
                    if let kind = request?["kind"]?.stringValue, kind.hasPrefix("reference_") {
                        let known = ReferenceSender.Condition.allCases.map { "reference_" + $0.rawValue }
                        guard let reference, let condition = ReferenceSender.Condition(rawValue: String(kind.dropFirst("reference_".count))) else {
                            let error = reference == nil ? "no reference stream (start rehabsim with --reference-to)" : "unknown \(kind); known: \(known.joined(separator: ", "))"
                            connection.writeLine(JSONValue.object(["ok": false, "error": .string(error)]).serialized())
                            continue
                        }
                        reference.set(condition)
                        connection.writeLine(JSONValue.object(["ok": true, "kind": .string(kind)]).serialized())
                        continue
                    }
                    switch FaultScript.parseLive(line, jointCount: jointCount) {
                    case .success(let fault):
                        live.push(fault)
                        connection.writeLine(JSONValue.object(["ok": true, "kind": .string(fault.kind.name)]).serialized())
                    case .failure(let error):
                        connection.writeLine(JSONValue.object(["ok": false, "error": .string(error.description)]).serialized())
                    }
                }
                connection.close()
            }
            worker.start()
        }
    }
    thread.start()
}

/// The exercise of `--exercise` (or the default swing) and the cue a patient or a limb follows.
func loadCue(exercise name: String?, profile: HardwareProfile) -> (exercise: RangeOfMotionExercise, cue: WaypointTrajectory) {
    var exercise = RangeOfMotionExercise()
    var duration = 3_600.0
    if let name {
        do throws(ProfileError) {
            let definition = try ExerciseLoader.load(path: try ExerciseLoader.resolve(name, hardwareFolders: ProfileSearch.folders()))
            exercise = try RangeOfMotionExercise(definition, profile: profile)
            duration = definition.durationSeconds ?? exercise.durationSeconds(repetitions: definition.repetitions ?? 1)
        } catch {
            Terminal.exit(with: CommandFailure("rehabsim: --exercise: \(error)", exitCode: error.exitCode))
        }
    }
    return (exercise, exercise.trajectory(from: .zeros(profile.joints.count), durationSeconds: duration))
}

/// The patient of `--patient PRESET`, following `--exercise` (or the default swing) as its cue.
func makePatient(preset: String, exercise name: String?, profile: HardwareProfile) -> SimulatedPatient {
    guard let parameters = SimulatedPatient.Parameters.preset(named: preset) else {
        Terminal.exit(with: CommandFailure(
            "rehabsim: --patient: no preset \"\(preset)\"; presets: \(SimulatedPatient.Parameters.presets.map(\.name).joined(separator: ", "))",
            exitCode: .usage))
    }
    let (exercise, cue) = loadCue(exercise: name, profile: profile)
    return SimulatedPatient(parameters: parameters, cue: cue, cueJoint: exercise.jointIndex,
                            cueRange: exercise.rangeMinimumRadians...exercise.rangeMaximumRadians)
}

func main() -> Never {
    if CommandLine.arguments.dropFirst().first == "inject" { inject(Array(CommandLine.arguments.dropFirst(2))) }
    let arguments: ParsedArguments
    do {
        arguments = try ParsedArguments(Array(CommandLine.arguments.dropFirst()), spec: spec)
    } catch {
        Terminal.exit(with: error)
    }
    if arguments.wantsHelp {
        Terminal.printLine(spec.helpText)
        Terminal.exit(.success)
    }
    TerminationSignals.install()
    if arguments.flag("--exit-with-parent") {
        _ = rh_set_parent_death_signal(SIGTERM)
        if getppid() == 1 { Terminal.exit(.success) }
    }
    let profile: HardwareProfile
    do {
        profile = try ProfileSearch.load(arguments.string("--profile") ?? "wrist-trainer")
    } catch {
        Terminal.exit(with: CommandFailure("rehabsim: \(error)", exitCode: error.exitCode))
    }
    // The simulator's physics takes only plausible parameters (a profile's 1e300 Ω would trap it).
    let configuration: SimulatedDeviceConfiguration
    do {
        configuration = try SimulatedDeviceConfiguration(validating: profile, serialNumber: arguments.string("--serial") ?? "SIM-0001")
    } catch {
        Terminal.exit(with: CommandFailure("rehabsim: \(error)", exitCode: error.exitCode))
    }
    var scripted: [InjectedFault] = []
    if let path = arguments.string("--faults") {
        do {
            scripted = try FaultScript.load(path: path, jointCount: profile.joints.count)
        } catch {
            Terminal.exit(with: CommandFailure("rehabsim: --faults: \(error)", exitCode: error.exitCode))
        }
    }
    var reference: ReferenceSender?
    if let portText = arguments.string("--reference-to") {
        guard let port = UInt16(portText), port > 0 else {
            Terminal.exit(with: arguments.usageError("--reference-to takes a UDP port, 1 to 65535, not \"\(portText)\""))
        }
        let rate: Double
        do {
            rate = try arguments.double("--reference-rate", default: 100, in: 10...1_000, unit: "Hz")
        } catch {
            Terminal.exit(with: error)
        }
        let (exercise, cue) = loadCue(exercise: arguments.string("--exercise"), profile: profile)
        guard case .mirror(let mirror) = exercise.mode else {
            Terminal.exit(with: arguments.usageError("--reference-to streams the unaffected limb of a mirror exercise: give --exercise with mode \"mirror\""))
        }
        do throws(TransportError) {
            let socket = try DatagramSocket.connected(to: "127.0.0.1", port: port)
            reference = ReferenceSender(socket: socket, limb: SimulatedReferenceLimb(mirror: mirror, cue: cue, joint: exercise.jointIndex), rateHertz: rate)
        } catch {
            Terminal.exit(with: CommandFailure("rehabsim: --reference-to: \(error)", exitCode: error.exitCode))
        }
    }
    let live = LiveFaults()
    var controlListener: UnixSocketListener?
    if let path = arguments.string("--control") {
        do {
            controlListener = try UnixSocketListener(path: path)
        } catch {
            Terminal.exit(with: CommandFailure("rehabsim: cannot create the control socket \(path): \(error)", exitCode: .noInput))
        }
        serveControl(controlListener!, jointCount: profile.joints.count, into: live, reference: reference)
    }
    let terminal: PseudoTerminal
    do {
        terminal = try PseudoTerminal()
    } catch {
        Terminal.exit(with: CommandFailure("rehabsim: \(error)", exitCode: error.exitCode))
    }
    let linkPath = arguments.string("--link")
    if let linkPath {
        unlink(linkPath)
        guard symlink(terminal.slavePath, linkPath) == 0 else {
            Terminal.exit(with: CommandFailure("rehabsim: cannot create the link \(linkPath): \(Errno.current)", exitCode: .noInput))
        }
    }
    var eventFile: Int32 = -1
    if let path = arguments.string("--events") {
        eventFile = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if eventFile < 0 {
            Terminal.exit(with: CommandFailure("rehabsim: cannot write events to \(path): \(Errno.current)", exitCode: .noInput))
        }
    }
    let quiet = arguments.flag("--quiet")
    let priority: Int?
    do {
        priority = try arguments.integer("--priority", default: nil, in: 1...99, unit: "(SCHED_FIFO priority)")
    } catch {
        Terminal.exit(with: error)
    }
    let cpu: Int?
    do {
        cpu = try arguments.integer("--cpu", default: nil, in: 0...(Realtime.onlineCPUCount - 1), unit: "(CPU number)")
    } catch {
        Terminal.exit(with: error)
    }
    if priority != nil || cpu != nil {
        let report = Realtime.apply(RealtimeRequest(priority: priority.map { Int32($0) }, lockMemory: priority != nil, cpu: cpu))
        for warning in report.warnings { Terminal.printError("rehabsim: real-time warning: \(warning)") }
    }
    let clock = MonotonicClock.shared
    let device = SimulatedRehabLinkDevice(configuration: configuration, bootTime: clock.now())
    if let preset = arguments.string("--patient") {
        device.patient = makePatient(preset: preset, exercise: arguments.string("--exercise"), profile: profile)
    } else if arguments.string("--exercise") != nil && reference == nil {
        Terminal.exit(with: arguments.usageError("--exercise is the plan a simulated patient or limb follows: give --patient or --reference-to too"))
    }
    if let reference {
        reference.start()
        if !quiet { Terminal.printError("rehabsim: streaming the unaffected limb (RehabRef) to \(reference.destination)") }
    }
    let injector = FaultInjector(scripted)
    let inFlight = DelayedBytes()
    var unplugged = false
    Terminal.printLine("robot: \(terminal.slavePath)")
    if !quiet {
        Terminal.printError("rehabsim: \(profile.name) (\(configuration.model), s/n \(configuration.serialNumber)) on \(terminal.slavePath); SIGINT or SIGTERM to stop")
    }

    let input = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
    let output = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 1)
    var droppedBytes = 0

    // Injected faults act here, between the firmware and the wire: drop, corrupt and delay what the
    // device sends, or close the pseudo-terminal (unplug).
    func flushOutput() {
        let now = clock.now()
        injector.update(device: device, now: now)
        let link = injector.link
        if link.isUnplugged && !unplugged {
            unplugged = true
            terminal.hangUp()
            if let linkPath { unlink(linkPath) }
            if !quiet { Terminal.printError("rehabsim: unplugged (fault injection): the pseudo-terminal is closed") }
        }
        while !device.output.isEmpty {
            let count = device.output.pop(into: output)
            if link.dropsReplies || unplugged { continue }
            let bytes = UnsafeMutableRawBufferPointer(rebasing: output[0..<count])
            injector.corrupt(bytes)
            inFlight.push(UnsafeRawBufferPointer(bytes), readableAt: now.advanced(byNanoseconds: link.delayNanoseconds))
        }
        while true {
            let count = inFlight.pop(readableAt: clock.now(), into: output)
            guard count > 0 else { break }
            do throws(TransportError) {
                try terminal.write(UnsafeRawBufferPointer(rebasing: output[0..<count]), deadline: clock.now().advanced(byNanoseconds: 1_000_000))
            } catch {
                // Nobody reads the terminal (no host connected): the bytes are lost, as on a real wire.
                droppedBytes += count
            }
        }
    }

    func writeEvents() {
        let now = clock.now()
        let wallNow = WallClock.unixNanoseconds()
        device.drainEvents { event in
            let milliseconds = Double(event.time.nanoseconds(since: device.bootTime)) / 1e6
            let unix = wallNow - now.nanoseconds(since: event.time)
            var line = "{\"t_ms\":\(String(format: "%.3f", milliseconds)),\"unix_ns\":\(unix),\"event\":\"\(event.kind.rawValue)\""
            if event.faultCode != .none { line += ",\"fault_code\":\(event.faultCode.rawValue),\"fault\":\"\(event.faultCode.name)\"" }
            if let joint = event.joint { line += ",\"joint\":\(joint)" }
            if !event.detail.isEmpty { line += ",\"fault\":\"\(event.detail)\"" }
            line += "}\n"
            if eventFile >= 0 { _ = line.withCString { write(eventFile, $0, strlen($0)) } }
            if !quiet {
                Terminal.printError("rehabsim: \(String(format: "%10.3f", milliseconds)) ms \(event.kind.rawValue)"
                                    + (event.faultCode != .none ? " \(event.faultCode)" : "") + (event.detail.isEmpty ? "" : " \(event.detail)"))
            }
        }
    }

    // The firmware runs when bytes arrive, at its own next deadline (the watchdog), and at least
    // every 10 ms for housekeeping; the physics is integrated up to each of those moments in fixed
    // steps, so sleeping in between costs no accuracy (and no CPU).
    while TerminationSignals.interrupts == 0 && TerminationSignals.terminations == 0 {
        let now = clock.now()
        let arrived = live.take()
        if !arrived.isEmpty { injector.add(arrived) }
        if let start = live.takeCueStart() {
            device.patient?.startCue(at: start)
            if !quiet { Terminal.printError("rehabsim: the patient's cue starts in \(start.nanoseconds(since: now) / 1_000_000) ms") }
        }
        device.advance(to: now)
        flushOutput()
        writeEvents()
        // Housekeeping every 10 ms (2 ms while faults are pending, so that their times are kept).
        let housekeeping = now.advanced(byNanoseconds: (injector.pendingCount > 0 ? 2 : 10) * Nanoseconds.perMillisecond)
        var wake = min(device.nextDeadline ?? housekeeping, housekeeping)
        if let release = inFlight.nextRelease { wake = min(wake, release) }
        if unplugged {
            clock.sleep(until: wake)
            continue
        }
        do throws(TransportError) {
            if try terminal.waitReadable(until: wake) {
                let count = try terminal.readAvailable(into: input)
                if count > 0 {
                    device.receive(UnsafeRawBufferPointer(rebasing: input[0..<count]), at: clock.now())
                    flushOutput()
                }
            }
        } catch {
            Terminal.printError("rehabsim: \(error)")
            break
        }
    }
    writeEvents()
    if !unplugged { terminal.hangUp() }
    if let linkPath { unlink(linkPath) }
    controlListener?.close()
    if eventFile >= 0 { close(eventFile) }
    if !quiet && droppedBytes > 0 {
        Terminal.printError("rehabsim: \(droppedBytes) bytes were not read by any host")
    }
    Terminal.exit(.success)
}

main()
