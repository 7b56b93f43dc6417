import CSystemShims
import CommandLineSupport
import Control
import DeviceModel
import DynamixelSimulator
import Foundation
import Platform
import Primitives
import Profiles
import RehabLinkSimulator
import SimulatorKit
import StrictJSON
import Transport

let spec = CommandSpec(
    program: "rehabsim", name: nil,
    summary: "Run simulated RehabLink robots, each on a pseudo-terminal of its own.",
    discussion: """
        rehabsim presents the robot of a hardware profile on a new pseudo-terminal and prints its path
        on the first line of standard output as "robot: /dev/pts/N". Hosts connect to that path exactly
        as to a real device (for example `rehabctl identify --port /dev/pts/N`). The firmware follows
        protocols/rehablink/README.md (v1.1), device watchdog, local hold, firmware limits, e-stop and
        the patient's stop and pause buttons included; the joints have inertia,
        friction, hard stops, a torque-limited drive and a quantised encoder (simulators/README.md).
        It runs until SIGINT or SIGTERM, and keeps running when hosts connect and disconnect.

        More devices at once: every --device PROFILE[,KEY=VALUE…] presents one more simulated device
        on a pseudo-terminal of its own, announced after the robot's line as "NAME: /dev/pts/M" (in
        the order given). Its keys are the device's own options, named as the robot's without the
        dashes: name=NAME (default device2, device3, …), link=PATH, serial=TEXT (default SIM-000N),
        events=FILE, faults=FILE, control=SOCKET, patient=PRESET, exercise=NAME|PATH; values contain
        no commas. The options --profile, --link, --serial, --events, --faults, --control, --patient,
        --exercise and --reference-to are the robot's (the first device's); --priority and --cpu
        apply to the one loop that serves the robots; the --tracker sensors have a loop of their
        own at normal priority, off that CPU. SIGINT or SIGTERM stops them all.
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
        .init("--device", value: "PROFILE[,KEY=VALUE…]",
              help: "Present one more simulated device, on its own pseudo-terminal (repeatable): its line is \"NAME: /dev/pts/M\"; keys name, link, serial, events, faults, control, patient, exercise (as the options of the same name)."),
        .init("--tracker", value: "TRACKER-PROFILE[,KEY=VALUE…]",
              help: "Present a simulated tracking sensor (hardware/trackers/NAME.json: an Xsens MTi, a BNO08x in UART-RVC mode, an NDI tracker) on its own pseudo-terminal (repeatable): its line is \"NAME: /dev/pts/M\". It rides on the patient's unaffected limb, following the --exercise's cue when it is a mirror exercise, else still until a session's cue (cue_start on --control), then swinging ±20° at 0.2 Hz (an NDI tool: still). Keys: link, faults (tracker_freeze, tracker_drift …), control, events, seed."),
        .init("--quiet", help: "Print only the robot: line and the device lines (no device events on standard error)."),
    ],
    examples: [
        "rehabsim --link /tmp/wrist &            # then: rehabctl identify --port /tmp/wrist",
        "rehabsim --events device-events.jsonl",
        "rehabsim --faults hardware/faults/spasm.json --control /tmp/sim.sock",
        "rehabsim --exercise wrist-flexion-mirror --reference-to 47001 --control /tmp/sim.sock",
        "rehabsim --link /tmp/wrist --device ankle-trainer,name=ankle,link=/tmp/ankle   # robot: /dev/pts/3, ankle: /dev/pts/4",
        "rehabsim --device wrist-trainer,control=/tmp/second.sock,events=second.jsonl --device ankle-trainer,faults=mute.json",
    ])

let injectSpec = CommandSpec(
    program: "rehabsim", name: "inject",
    summary: "Inject a fault into a running rehabsim, now, through its --control socket.",
    discussion: """
        KIND is a fault of simulators/README.md; its fields follow as key=value (numbers carry their
        unit in the key: for_ms, torque_nm, ramp_ms …). Without at_ms / after_enable_ms / at_command
        the fault begins at once. rehabsim validates it exactly as a fault script and answers.
        Every device of a rehabsim has its own socket: the robot's --control, or the control= of a
        --device; the fault goes to that device only.
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

/// The keys of the cue's lines on a control socket.
let cueKeys = ["cue_start_in_ms", "cue_start_at_ns", "cue_hold_at_ns", "cue_resume_at_ns"]

/// What a cue line asks: the cue starts (`cue_start_in_ms` from `now`, or `cue_start_at_ns`), stands
/// still (`cue_hold_at_ns`) or moves on (`cue_resume_at_ns`); each `_at_ns` an instant of
/// CLOCK_MONOTONIC within an hour of `now` (rehabctl's way: the plan's own instant, however late the
/// line arrives). Nil for anything else.
func cueChange(_ request: JSONObject, now: MonotonicInstant) -> CueChange? {
    if let milliseconds = request["cue_start_in_ms"]?.doubleValue, milliseconds >= 0, milliseconds < 3_600_000 {
        return .start(now.advanced(byNanoseconds: Int64(milliseconds * 1e6)), nil)
    }
    func instant(_ key: String) -> MonotonicInstant? {
        guard let nanoseconds = request[key]?.integerValue,
            abs(MonotonicInstant(nanoseconds: nanoseconds).nanoseconds(since: now)) < 3_600 * Nanoseconds.perSecond
        else { return nil }
        return MonotonicInstant(nanoseconds: nanoseconds)
    }
    // A start or a resume may carry the plan the host made then (`plan_start_rad`, `plan_duration_s`,
    // `plan_repetitions`); without them the exercise's own plan (or the old one) goes on. Half a plan is
    // no plan: refused.
    let planKeys = ["plan_start_rad", "plan_duration_s", "plan_repetitions"]
    var plan: PlanInputs?
    if planKeys.contains(where: { request[$0] != nil }) {
        guard let positions = request["plan_start_rad"]?.arrayValue?.compactMap({ $0.doubleValue }),
            request["plan_start_rad"]?.arrayValue?.count == positions.count, (1...JointList<Double>.capacity).contains(positions.count),
            positions.allSatisfy({ $0.isFinite && abs($0) < 10 }),
            let duration = request["plan_duration_s"]?.doubleValue, duration > 0, duration < 86_400
        else { return nil }
        var repetitions: Int?
        if let value = request["plan_repetitions"] {
            guard let count = value.integerValue, count >= 1, count <= 100_000 else { return nil }
            repetitions = Int(count)
        }
        var start = JointList<Double>.zeros(positions.count)
        for (joint, position) in positions.enumerated() { start[joint] = position }
        plan = PlanInputs(startPositionsRadians: start, durationSeconds: duration, repetitions: repetitions)
    }
    if let start = instant("cue_start_at_ns") { return .start(start, plan) }
    if let time = instant("cue_hold_at_ns") { return plan == nil ? .hold(time) : nil }
    if let time = instant("cue_resume_at_ns") { return .resume(time, plan) }
    return nil
}

/// Serves one device's control socket on threads of its own: live injections (parsed for that
/// device's firmware), the cue start and, for the device that has it, the reference stream's faults.
func serveControl(_ listener: UnixSocketListener, inbox: any LiveControlInbox, reference: ReferenceSender?, cueFollowers: [any LiveControlInbox] = []) {
    let thread = Thread {
        while true {
            guard let connection = listener.accept(timeoutMilliseconds: 1_000) else { continue }
            let worker = Thread {
                while let line = connection.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 3_600 * Nanoseconds.perSecond)) {
                    let request = (try? JSONParser.parse(line))?.objectValue
                    if let request, cueKeys.contains(where: { request[$0] != nil }) {
                        let now = MonotonicClock.now()
                        guard let change = cueChange(request, now: now) else {
                            connection.writeLine(JSONValue.object([
                                "ok": false,
                                "error": "cue_start_in_ms takes 0 to 3600000 ms; cue_start_at_ns, cue_hold_at_ns and cue_resume_at_ns a CLOCK_MONOTONIC instant within an hour of now; a resume's plan needs plan_start_rad (1 to 8 finite radians), plan_duration_s (> 0) and optionally plan_repetitions (≥ 1)",
                            ]).serialized())
                            continue
                        }
                        switch change {
                        case .start(let start, let plan):
                            inbox.startCue(at: start, plan: plan)
                            reference?.startCue(at: start)
                            for follower in cueFollowers { follower.startCue(at: start, plan: nil) }
                            connection.writeLine(JSONValue.object([
                                "ok": true, "cue_start_in_ms": .number(Double(start.nanoseconds(since: now)) * 1e-6, significantDigits: 6),
                            ]).serialized())
                        case .hold(let time):
                            inbox.holdCue(at: time)
                            for follower in cueFollowers { follower.holdCue(at: time) }
                            connection.writeLine(JSONValue.object(["ok": true, "cue": "hold"]).serialized())
                        case .resume(let time, let plan):
                            inbox.resumeCue(at: time, plan: plan)
                            for follower in cueFollowers { follower.resumeCue(at: time, plan: plan) }
                            connection.writeLine(JSONValue.object(["ok": true, "cue": "resume"]).serialized())
                        }
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
                    switch inbox.submit(line) {
                    case .success(let name):
                        connection.writeLine(JSONValue.object(["ok": true, "kind": .string(name)]).serialized())
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

/// The exercise of `--exercise` (or the default swing) and the cue a patient or a limb follows;
/// `option` names the option in messages.
func loadCue(exercise name: String?, profile: HardwareProfile, option: String = "--exercise")
    -> (exercise: RangeOfMotionExercise, cue: WaypointTrajectory)
{
    var exercise = RangeOfMotionExercise()
    var duration = 3_600.0
    if let name {
        do throws(ProfileError) {
            let definition = try ExerciseLoader.load(path: try ExerciseLoader.resolve(name, hardwareFolders: ProfileSearch.folders()))
            exercise = try RangeOfMotionExercise(definition, profile: profile)
            duration = definition.durationSeconds ?? exercise.durationSeconds(repetitions: definition.repetitions ?? 1)
        } catch {
            Terminal.exit(with: CommandFailure("rehabsim: \(option): \(error)", exitCode: error.exitCode))
        }
    }
    return (exercise, exercise.trajectory(from: .zeros(profile.joints.count), durationSeconds: duration))
}

/// The patient of `--patient PRESET`, following `--exercise` (or the default swing) as its cue;
/// `request` names the options in messages.
func makePatient(preset: String, exercise name: String?, profile: HardwareProfile, request: DeviceRequest) -> SimulatedPatient {
    guard let parameters = SimulatedPatient.Parameters.preset(named: preset) else {
        Terminal.exit(with: CommandFailure(
            "rehabsim: \(request.option("patient")): no preset \"\(preset)\"; presets: \(SimulatedPatient.Parameters.presets.map(\.name).joined(separator: ", "))",
            exitCode: .usage))
    }
    let (exercise, cue) = loadCue(exercise: name, profile: profile, option: request.option("exercise"))
    return SimulatedPatient(parameters: parameters, cue: cue, cueJoint: exercise.jointIndex,
                            cueRange: exercise.rangeMinimumRadians...exercise.rangeMaximumRadians, exercise: exercise)
}

// MARK: Devices

/// One simulated device rehabsim presents: the first from the top-level options (announced as
/// "robot"), every other from a `--device PROFILE[,KEY=VALUE…]`.
struct DeviceRequest {
    var name: String
    var profile: String
    var link: String?
    var serial: String
    var events: String?
    var faults: String?
    var control: String?
    var patient: String?
    var exercise: String?
    var isFirst: Bool

    /// The keys of `--device PROFILE[,KEY=VALUE…]`.
    static let keys = ["name", "link", "serial", "events", "faults", "control", "patient", "exercise"]

    /// How messages name one of this device's options: "--faults" for the first device, "--device
    /// ankle: faults" for another.
    func option(_ key: String) -> String { isFirst ? "--\(key)" : "--device \(name): \(key)" }

    /// What messages about this device on standard error begin with.
    var prefix: String { isFirst ? "rehabsim: " : "rehabsim: \(name): " }
}

/// Takes every `OPTION VALUE` and `OPTION=VALUE` out of `words` (`--device`, `--tracker`: repeatable,
/// which the parser of the other options refuses); `missingValue` when one has none.
func extractRepeated(_ words: [String], option: String) -> (rest: [String], devices: [String], missingValue: Bool) {
    var rest: [String] = []
    var devices: [String] = []
    var index = 0
    while index < words.count {
        let word = words[index]
        if word == "--" {
            rest.append(contentsOf: words[index...])
            break
        }
        if word == option {
            guard index + 1 < words.count, !words[index + 1].hasPrefix("--") else { return (rest, devices, true) }
            devices.append(words[index + 1])
            index += 2
            continue
        }
        if word.hasPrefix(option + "=") {
            devices.append(String(word.dropFirst(option.count + 1)))
        } else {
            rest.append(word)
        }
        index += 1
    }
    return (rest, devices, false)
}

/// The device of one `--device PROFILE[,KEY=VALUE…]`, the `number`-th device (the robot is the first).
func parseDevice(_ text: String, number: Int, arguments: ParsedArguments) -> DeviceRequest {
    let fields = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    guard let profile = fields.first, !profile.isEmpty, !profile.contains("=") else {
        Terminal.exit(with: arguments.usageError("--device \"\(text)\": give the profile (NAME|PATH) first, then KEY=VALUE fields"))
    }
    let digits = String(number)
    var request = DeviceRequest(
        name: "device\(number)", profile: profile, serial: "SIM-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits,
        isFirst: false)
    var seen: Set<String> = []
    for field in fields.dropFirst() {
        let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            Terminal.exit(with: arguments.usageError("--device \"\(text)\": expected KEY=VALUE, found \"\(field)\""))
        }
        guard DeviceRequest.keys.contains(parts[0]) else {
            Terminal.exit(with: arguments.usageError(
                "--device \"\(text)\": unknown key \"\(parts[0])\" (keys: \(DeviceRequest.keys.joined(separator: ", ")))"))
        }
        guard seen.insert(parts[0]).inserted else {
            Terminal.exit(with: arguments.usageError("--device \"\(text)\": \(parts[0]) given twice"))
        }
        let value = parts[1]
        switch parts[0] {
        case "name": request.name = value
        case "link": request.link = value
        case "serial": request.serial = value
        case "events": request.events = value
        case "faults": request.faults = value
        case "control": request.control = value
        case "patient": request.patient = value
        default: request.exercise = value
        }
    }
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
    guard let first = request.name.first, first.isLetter || first.isNumber, request.name.count <= 32,
        request.name.allSatisfy({ allowed.contains($0) })
    else {
        Terminal.exit(with: arguments.usageError(
            "--device \"\(text)\": name=\(request.name): use letters, digits, \"-\", \"_\" and \".\" (at most 32, first a letter or digit)"))
    }
    return request
}

/// Refuses two devices with the same name, link, event log or control socket.
func checkDistinct(_ requests: [DeviceRequest], arguments: ParsedArguments) {
    let fields: [(key: String, value: (DeviceRequest) -> String?)] = [
        ("name", { $0.name }), ("link", { $0.link }), ("events", { $0.events }), ("control", { $0.control }),
    ]
    for (key, value) in fields {
        var seen: [String: String] = [:]
        for request in requests {
            guard let text = value(request) else { continue }
            if let other = seen[text] {
                Terminal.exit(with: arguments.usageError(
                    "two devices (\(other) and \(request.name)) have the same \(key) \"\(text)\": each device needs its own"))
            }
            seen[text] = request.name
        }
    }
}

/// A device checked and ready to open: its profile, and how to power its firmware on behind a
/// pseudo-terminal of its own.
struct PreparedDevice {
    let request: DeviceRequest
    let profile: HardwareProfile
    /// Opens the pseudo-terminal (and the link and the event log), powers the firmware on and
    /// returns its host; `messages` gets what to tell a person (nil: quiet).
    let open: (_ messages: ((String) -> Void)?) throws(DeviceHostSetupError) -> any HostedDevice
}

/// Checks everything about `request` that can be checked before anything starts: its profile, its
/// simulator, its fault script, its patient. Exits with the reason when something is wrong.
func prepare(_ request: DeviceRequest, arguments: ParsedArguments) -> PreparedDevice {
    let profile: HardwareProfile
    do throws(ProfileError) {
        profile = try ProfileSearch.load(request.profile)
    } catch {
        Terminal.exit(with: CommandFailure("\(request.prefix)\(error)", exitCode: error.exitCode))
    }
    if request.exercise != nil && request.patient == nil {
        if !request.isFirst {
            Terminal.exit(with: arguments.usageError(
                "\(request.option("exercise")) is the plan a simulated patient follows: give patient= too"))
        } else if arguments.string("--reference-to") == nil && !CommandLine.arguments.contains(where: { $0 == "--tracker" || $0.hasPrefix("--tracker=") }) {
            Terminal.exit(with: arguments.usageError(
                "--exercise is the plan a simulated patient or limb follows: give --patient, --reference-to or --tracker too"))
        }
    }
    // One case per protocol that has a simulator: the firmware, its fault kinds, what only it has
    // (a patient in the robot). Links, fault pump, PTY host and this program are shared.
    switch profile.device.protocolFamily {
    case "rehablink":
        return prepareRehabLink(request, profile: profile)
    case "dynamixel":
        return prepareDynamixel(request, profile: profile)
    default:
        Terminal.exit(with: CommandFailure(
            "\(request.prefix)\(profile.name) speaks \"\(profile.device.protocolIdentifier)\", which has no simulator (simulated: rehablink, dynamixel)",
            exitCode: .configuration))
    }
}

/// A simulated Dynamixel bus (`SimulatedDynamixelBus`) for `request`: one servo per joint, with the wire
/// time of the profile's baud rate.
func prepareDynamixel(_ request: DeviceRequest, profile: HardwareProfile) -> PreparedDevice {
    let (built, problems) = DynamixelBusConfiguration.simulating(profile, serialNumber: request.serial)
    guard let configuration = built else {
        Terminal.exit(with: CommandFailure(request.prefix + problems.joined(separator: "\n" + request.prefix), exitCode: .configuration))
    }
    let faults = loadFaults(request, profile: profile, kinds: DynamixelDeviceFault.self)
    let patient = request.patient.map { makePatient(preset: $0, exercise: request.exercise, profile: profile, request: request) }
    return PreparedDevice(request: request, profile: profile) {
        (messages: ((String) -> Void)?) throws(DeviceHostSetupError) -> any HostedDevice in
        let bus = SimulatedDynamixelBus(configuration: configuration, bootTime: MonotonicClock.shared.now())
        bus.patient = patient
        return try host(bus, request: request, profile: profile, faults: faults, messages: messages)
    }
}

/// A simulated RehabLink robot (`SimulatedRehabLinkDevice`) for `request`.
func prepareRehabLink(_ request: DeviceRequest, profile: HardwareProfile) -> PreparedDevice {
    // The simulator's physics takes only plausible parameters (a profile's 1e300 Ω would trap it).
    let configuration: SimulatedDeviceConfiguration
    do throws(ProfileError) {
        configuration = try SimulatedDeviceConfiguration(validating: profile, serialNumber: request.serial)
    } catch {
        Terminal.exit(with: CommandFailure("\(request.prefix)\(error)", exitCode: error.exitCode))
    }
    let faults = loadFaults(request, profile: profile, kinds: RehabLinkDeviceFault.self)
    let patient = request.patient.map { makePatient(preset: $0, exercise: request.exercise, profile: profile, request: request) }
    return PreparedDevice(request: request, profile: profile) {
        (messages: ((String) -> Void)?) throws(DeviceHostSetupError) -> any HostedDevice in
        let device = SimulatedRehabLinkDevice(configuration: configuration, bootTime: MonotonicClock.shared.now())
        device.patient = patient
        return try host(device, request: request, profile: profile, faults: faults, messages: messages)
    }
}

/// The fault script of `request` (`--faults` / `faults=`), for a firmware with `kinds` of device faults.
func loadFaults<Kind: InjectableDeviceFault>(_ request: DeviceRequest, profile: HardwareProfile, kinds: Kind.Type)
    -> [ScheduledFault<Kind>]
{
    guard let path = request.faults else { return [] }
    do throws(ProfileError) {
        return try FaultScriptParser<Kind>.load(path: path, jointCount: profile.joints.count)
    } catch {
        Terminal.exit(with: CommandFailure("\(request.prefix)\(request.option("faults")): \(error)", exitCode: error.exitCode))
    }
}

/// `device` behind a pseudo-terminal of its own, as `request` asks.
func host<Firmware: FirmwareSimulator>(
    _ device: Firmware, request: DeviceRequest, profile: HardwareProfile, faults: [ScheduledFault<Firmware.InjectableFault>],
    messages: ((String) -> Void)?
) throws(DeviceHostSetupError) -> any HostedDevice {
    try RealTimeDeviceHost(
        label: request.name, device: device, jointCount: profile.joints.count, faults: faults, linkPath: request.link,
        eventsPath: request.events, messages: messages)
}

/// Shuts down the devices already opened (their links removed), then exits with `failure`.
func abandon(_ hosts: [any HostedDevice], _ failure: CommandFailure) -> Never {
    for host in hosts { host.shutdown() }
    Terminal.exit(with: failure)
}

// MARK: Main

func main() -> Never {
    if CommandLine.arguments.dropFirst().first == "inject" { inject(Array(CommandLine.arguments.dropFirst(2))) }
    let (afterDevices, deviceTexts, deviceMissingValue) = extractRepeated(Array(CommandLine.arguments.dropFirst()), option: "--device")
    let (words, trackerTexts, trackerMissingValue) = extractRepeated(afterDevices, option: "--tracker")
    let arguments: ParsedArguments
    do throws(CommandFailure) {
        arguments = try ParsedArguments(words, spec: spec)
    } catch {
        Terminal.exit(with: error)
    }
    if arguments.wantsHelp {
        Terminal.printLine(spec.helpText)
        Terminal.exit(.success)
    }
    if deviceMissingValue {
        Terminal.exit(with: arguments.usageError("--device needs a value (PROFILE[,KEY=VALUE…])"))
    }
    if trackerMissingValue {
        Terminal.exit(with: arguments.usageError("--tracker needs a value (TRACKER-PROFILE[,KEY=VALUE…])"))
    }
    TerminationSignals.install()
    if arguments.flag("--exit-with-parent") {
        _ = rh_set_parent_death_signal(SIGTERM)
        if getppid() == 1 { Terminal.exit(.success) }
    }
    let quiet = arguments.flag("--quiet")
    let priority: Int?
    let cpu: Int?
    do throws(CommandFailure) {
        priority = try arguments.integer("--priority", default: nil, in: 1...99, unit: "(SCHED_FIFO priority)")
        cpu = try arguments.integer("--cpu", default: nil, in: 0...(Realtime.onlineCPUCount - 1), unit: "(CPU number)")
    } catch {
        Terminal.exit(with: error)
    }

    // Every device, checked before anything starts.
    var requests = [
        DeviceRequest(
            name: "robot", profile: arguments.string("--profile") ?? "wrist-trainer", link: arguments.string("--link"),
            serial: arguments.string("--serial") ?? "SIM-0001", events: arguments.string("--events"), faults: arguments.string("--faults"),
            control: arguments.string("--control"), patient: arguments.string("--patient"), exercise: arguments.string("--exercise"),
            isFirst: true)
    ]
    for (index, text) in deviceTexts.enumerated() { requests.append(parseDevice(text, number: index + 2, arguments: arguments)) }
    checkDistinct(requests, arguments: arguments)
    let prepared = requests.map { prepare($0, arguments: arguments) }
    let trackerRequests = trackerTexts.enumerated().map { parseTracker($1, number: $0 + 1, arguments: arguments) }
    if Set(trackerRequests.map(\.profile.name)).count != trackerRequests.count || trackerRequests.contains(where: { name in requests.contains { $0.name == name.profile.name } }) {
        Terminal.exit(with: arguments.usageError("--tracker: every device needs its own name (a tracker is announced by its profile's name)"))
    }
    // The trackers ride on the patient's unaffected limb: following a mirror exercise's cue, else swinging.
    var trackerLimb = TrackerLimb.swing
    if !trackerRequests.isEmpty, arguments.string("--exercise") != nil {
        let (exercise, cue) = loadCue(exercise: arguments.string("--exercise"), profile: prepared[0].profile)
        if case .mirror(let mirror) = exercise.mode {
            trackerLimb = .following(SimulatedReferenceLimb(mirror: mirror, cue: cue, joint: exercise.jointIndex))
        }
    }

    // The robot's patient's unaffected limb, streamed for mirror exercises.
    var reference: ReferenceSender?
    if let portText = arguments.string("--reference-to") {
        guard let port = UInt16(portText), port > 0 else {
            Terminal.exit(with: arguments.usageError("--reference-to takes a UDP port, 1 to 65535, not \"\(portText)\""))
        }
        let rate: Double
        do throws(CommandFailure) {
            rate = try arguments.double("--reference-rate", default: 100, in: 10...1_000, unit: "Hz")
        } catch {
            Terminal.exit(with: error)
        }
        let (exercise, cue) = loadCue(exercise: arguments.string("--exercise"), profile: prepared[0].profile)
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

    // Each device on its own pseudo-terminal, with its control socket.
    var hosts: [any HostedDevice] = []
    for device in prepared {
        let prefix = device.request.prefix
        let messages: ((String) -> Void)? = quiet ? nil : { Terminal.printError(prefix + $0) }
        do throws(DeviceHostSetupError) {
            let opened = try device.open(messages)
            hosts.append(opened)
        } catch {
            let code: ExitCode
            switch error {
            case .pseudoTerminal(let transport): code = transport.exitCode
            case .link, .events: code = .noInput
            }
            abandon(hosts, CommandFailure("\(prefix)\(error)", exitCode: code))
        }
    }
    var trackerHosts: [any HostedDevice] = []
    for request in trackerRequests {
        let messages: ((String) -> Void)? = quiet ? nil : { Terminal.printError(request.prefix + $0) }
        do throws(DeviceHostSetupError) {
            trackerHosts.append(try openTracker(request, limb: trackerLimb, messages: messages))
        } catch {
            abandon(hosts + trackerHosts, CommandFailure("\(request.prefix)\(error)", exitCode: .noInput))
        }
    }
    var listeners: [UnixSocketListener] = []
    for (index, device) in prepared.enumerated() {
        guard let path = device.request.control else { continue }
        let listener: UnixSocketListener
        do throws(Errno) {
            listener = try UnixSocketListener(path: path)
        } catch {
            abandon(hosts + trackerHosts, CommandFailure("\(device.request.prefix)cannot create the control socket \(path): \(error)", exitCode: .noInput))
        }
        listeners.append(listener)
        // The robot's cue starts the trackers' limb too: they ride on the same patient.
        serveControl(listener, inbox: hosts[index].inbox, reference: index == 0 ? reference : nil, cueFollowers: index == 0 ? trackerHosts.map(\.inbox) : [])
    }
    for (index, request) in trackerRequests.enumerated() {
        guard let path = request.control else { continue }
        do throws(Errno) {
            let listener = try UnixSocketListener(path: path)
            listeners.append(listener)
            serveControl(listener, inbox: trackerHosts[index].inbox, reference: nil)
        } catch {
            abandon(hosts + trackerHosts, CommandFailure("\(request.prefix)cannot create the control socket \(path): \(error)", exitCode: .noInput))
        }
    }
    if priority != nil || cpu != nil {
        Realtime.reserveCPUForControlLoop(cpu)  // for the trackers' loop, started below
        let report = Realtime.apply(RealtimeRequest(priority: priority.map { Int32($0) }, lockMemory: priority != nil, cpu: cpu))
        for warning in report.warnings { Terminal.printError("rehabsim: real-time warning: \(warning)") }
    }
    if let reference {
        reference.start()
        if !quiet { Terminal.printError("rehabsim: streaming the unaffected limb (RehabRef) to \(reference.destination)") }
    }
    for host in hosts + trackerHosts { Terminal.printLine("\(host.label): \(host.slavePath)") }
    if !quiet {
        for (index, host) in hosts.enumerated() {
            Terminal.printError("\(prepared[index].request.prefix)\(prepared[index].profile.name) (\(host.model), s/n \(host.serialNumber)) on \(host.slavePath)")
        }
        for (index, host) in trackerHosts.enumerated() {
            Terminal.printError("\(trackerRequests[index].prefix)simulated \(host.model) on \(host.slavePath)")
        }
        Terminal.printError("rehabsim: SIGINT or SIGTERM to stop")
    }

    // One loop serves the robots (bytes in, firmware advanced, faults applied, replies out), on the
    // firmware's CPU and priority; the tracking sensors have a loop of their own, off that CPU.
    let trackerLoop = BackgroundDeviceHostLoop(trackerHosts, name: "rehabsim-trk")
    trackerLoop.start()
    let robotFailure = DeviceHostLoop.serve(hosts) {
        TerminationSignals.interrupts != 0 || TerminationSignals.terminations != 0 || trackerLoop.failure != nil
    }
    trackerLoop.stop()
    let everyHost = hosts + trackerHosts
    if let failure = robotFailure ?? trackerLoop.failure {
        if let index = hosts.firstIndex(where: { $0.label == failure.label }) {
            Terminal.printError("\(prepared[index].request.prefix)\(failure.error)")
        } else {
            Terminal.printError("rehabsim: \(failure.label): \(failure.error)")
        }
    }
    for host in everyHost { host.shutdown() }
    for listener in listeners { listener.close() }
    Terminal.exit(.success)
}

main()
