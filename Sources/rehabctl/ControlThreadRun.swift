import CommandLineSupport
import Control
import DeviceModel
import Devices
import Platform
import Session
import StrictJSON
import Synchronization
import Glibc

/// The real-time options shared by the commands that run a control loop.
struct RealtimeOptions {
    var request: RealtimeRequest
    var required: Bool
    /// Where the simulator's firmware loop runs (demo and bench).
    var simulatorCPU: Int?

    init(_ parsed: ParsedArguments) throws(CommandFailure) {
        let priority = try parsed.integer("--priority", default: 80, in: 0...99, unit: "(SCHED_FIFO priority)")!
        let cpuCount = Realtime.onlineCPUCount
        let cpu = try parsed.integer("--cpu", default: nil, in: 0...Int.max, unit: "(CPU number)")
        if let cpu, cpu >= cpuCount {
            throw parsed.usageError("--cpu \(cpu) does not exist: this machine has CPUs 0…\(cpuCount - 1)")
        }
        request = RealtimeRequest(priority: priority == 0 ? nil : Int32(priority), lockMemory: true, cpu: cpu)
        // Before any tracker reader, recorder or receiver thread starts: they keep off the loop's CPU.
        Realtime.reserveCPUForControlLoop(cpu)
        required = parsed.flag("--require-realtime")
        simulatorCPU = try parsed.integer("--simulator-cpu", default: nil, in: 0...(cpuCount - 1), unit: "(CPU number)")
        if required && priority == 0 { throw parsed.usageError("--require-realtime needs a --priority above 0") }
    }

    /// rehabsim stands in for firmware on its own microcontroller: it runs just below the host's
    /// priority, on the CPU given with --simulator-cpu.
    var simulatorArguments: [String] {
        var arguments: [String] = []
        if let priority = request.priority { arguments += ["--priority", String(max(1, priority - 1))] }
        if let simulatorCPU { arguments += ["--cpu", String(simulatorCPU)] }
        return arguments
    }
}

extension RealtimeReport {
    var json: JSONValue {
        .object([
            "sched_fifo": .bool(schedFIFO), "priority": .int(Int(priority)), "mlockall": .bool(memoryLocked),
            "cpu": cpu.map { .int($0) } ?? .null, "timer_slack_ns": .int(timerSlackNanoseconds),
            "cpu_dma_latency_held": .bool(cpuDMALatencyHeld),
            "warnings": .array(warnings.map { .string($0) }),
        ])
    }
}

/// Runs a prepared-to-be session on a dedicated control thread: real-time set-up first (reported,
/// refused with --require-realtime before anything is enabled), then self-test and enable, then
/// the loop; the device is disabled afterwards whatever happened.
enum ControlThreadRun {
    struct Outcome {
        var session: SessionReport
        var realtime: RealtimeReport
    }

    private enum ThreadOutcome {
        case finished(SessionReport, RealtimeReport)
        case realtimeRefused(RealtimeReport)
        case prepareFailed(SessionError, RealtimeReport)
    }

    static func execute(
        session: TherapySession, realtime: RealtimeOptions, command: String,
        announce: @escaping @Sendable (_ identity: DeviceIdentityInfo?, _ directionCheckRepeats: Int, _ setUpStop: SafetyTrip?) -> Void
    ) throws(CommandFailure) -> Outcome {
        let handoff = Handoff(session)
        let result = ThreadResult<ThreadOutcome>()
        let finished = DoneFlag()
        let thread = ControlThread.start(name: "rehab-control") {
            defer { finished.set() }
            let session = handoff.value
            let report = Realtime.apply(realtime.request)
            for line in report.lines where line.hasPrefix("warning") || !report.isComplete {
                Terminal.printError("rehabctl \(command): real-time \(line)")
            }
            if realtime.required && !(report.schedFIFO && report.memoryLocked) {
                result.value = .realtimeRefused(report)
                return
            }
            do throws(SessionError) {
                try session.prepare()
            } catch {
                result.value = .prepareFailed(error, report)
                return
            }
            announce(session.identity, session.directionCheckRepeats, session.setUpStop)
            result.value = .finished(session.run(), report)
        }
        // SR-19: a fault freezes the black box in the loop; this (normal-priority) thread writes it
        // to disk while the loop goes on, so a crash afterwards loses nothing.
        while !finished.isSet {
            session.writeBlackBox()
            usleep(50_000)
        }
        thread.join()
        session.finish()
        switch result.value {
        case .finished(let report, let realtime):
            return Outcome(session: report, realtime: realtime)
        case .realtimeRefused(let report):
            throw CommandFailure(
                "rehabctl \(command): --require-realtime: not granted:\n" + report.warnings.map { "  " + $0 }.joined(separator: "\n"),
                exitCode: .permission)
        case .prepareFailed(let error, let realtime):
            var failure = CommandFailure("rehabctl \(command): \(error)", exitCode: error.exitCode)
            var details: JSONObject = ["error": .string(error.description), "realtime": realtime.json]
            if let check = session.linkCheck {
                details["link_check"] = .object([
                    "required_cycles": .int(check.requiredCycles), "cycles": .int(check.cycles), "gaps": .int(check.gaps),
                    "longest_gap_cycles": .int(check.longestGapCycles),
                ])
            }
            failure.details = .object(details)
            throw failure
        case nil:
            throw CommandFailure("rehabctl \(command): the control thread ended without a result", exitCode: .software)
        }
    }
}

/// Set once by the control thread when it is done.
final class DoneFlag: Sendable {
    private let value = Atomic(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
