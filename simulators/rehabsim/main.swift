import CSystemShims
import CommandLineSupport
import Foundation
import Platform
import Primitives
import Profiles
import RehabLinkSimulator
import Transport

let spec = CommandSpec(
    program: "rehabsim", name: nil,
    summary: "Run a simulated RehabLink robot on a pseudo-terminal.",
    discussion: """
        rehabsim presents the robot of a hardware profile on a new pseudo-terminal and prints its path
        on the first line of standard output as "robot: /dev/pts/N". Hosts connect to that path exactly
        as to a real device (for example `rehabctl identify --port /dev/pts/N`). The firmware follows
        protocols/rehablink/README.md, device watchdog and e-stop included; the joints have inertia,
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
        .init("--exit-with-parent", help: "Exit when the process that started rehabsim exits."),
        .init("--quiet", help: "Print only the robot: line (no device events on standard error)."),
    ],
    examples: [
        "rehabsim --link /tmp/wrist &            # then: rehabctl identify --port /tmp/wrist",
        "rehabsim --events device-events.jsonl",
    ])

func main() -> Never {
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
    let configuration = SimulatedDeviceConfiguration(profile: profile, serialNumber: arguments.string("--serial") ?? "SIM-0001")
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
    Terminal.printLine("robot: \(terminal.slavePath)")
    if !quiet {
        Terminal.printError("rehabsim: \(profile.name) (\(configuration.model), s/n \(configuration.serialNumber)) on \(terminal.slavePath); SIGINT or SIGTERM to stop")
    }

    let input = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
    let output = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 1)
    var droppedBytes = 0

    func flushOutput() {
        while !device.output.isEmpty {
            let count = device.output.pop(into: output)
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
            line += "}\n"
            if eventFile >= 0 { _ = line.withCString { write(eventFile, $0, strlen($0)) } }
            if !quiet {
                Terminal.printError("rehabsim: \(String(format: "%10.3f", milliseconds)) ms \(event.kind.rawValue)"
                                    + (event.faultCode != .none ? " \(event.faultCode)" : ""))
            }
        }
    }

    // The firmware runs when bytes arrive, at its own next deadline (the watchdog), and at least
    // every 10 ms for housekeeping; the physics is integrated up to each of those moments in fixed
    // steps, so sleeping in between costs no accuracy (and no CPU).
    while TerminationSignals.interrupts == 0 && TerminationSignals.terminations == 0 {
        let now = clock.now()
        device.advance(to: now)
        flushOutput()
        writeEvents()
        let housekeeping = now.advanced(byNanoseconds: 10 * Nanoseconds.perMillisecond)
        let wake = min(device.nextDeadline ?? housekeeping, housekeeping)
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
    terminal.hangUp()
    if let linkPath { unlink(linkPath) }
    if eventFile >= 0 { close(eventFile) }
    if !quiet && droppedBytes > 0 {
        Terminal.printError("rehabsim: \(droppedBytes) bytes were not read by any host")
    }
    Terminal.exit(.success)
}

main()
