import CommandLineSupport
import Session
import StrictJSON

/// `rehabctl bench`: the real loop against rehabsim behind a PTY, with honest percentiles.
enum BenchCommand {
    static let spec = CommandSpec(
        program: "rehabctl", name: "bench",
        summary: "Measure the control loop: timing percentiles, allocations and CPU, against rehabsim over a PTY.",
        discussion: """
            Runs the same session as `demo` (self-test, enable, passive exercise, supervisor, Cat 1 stop) and
            reports, as percentiles (p50, p90, p99, p99.9, max): wake latency (actual − scheduled wake),
            compute (fresh state → command encoded; the supervisor's share on its own line), the
            rehearsal (the same computation on a copy, --warm-up-us before the deadline, as the caches
            come out of a sleep), round trip (command written → the state echoing it decoded) and cycle
            time (wake → end of the cycle's work); missed deadlines; heap allocations per cycle (counted
            by libRehabHostAllocationCounter.so, which bench preloads by re-executing itself; `run` never
            has it); CPU of the host and of the simulator, in seconds per second. It
            states what real-time set-up it got. Compare with `cyclictest -m -p80 -i<period µs> -D10` run
            in the same session: p99.9 and max on a shared machine are the host's noise
            (docs/performance.md).

            A safety stop ends the run early with the figures gathered so far and a non-zero exit.

            With --record FILE it runs twice, first without recording, then recording to FILE, and
            compares wake latency and compute time (p50, p99) of the two, with what the recording wrote
            (messages, samples dropped, MB per minute). Repeat it to see how much is the host's noise.
            """,
        options: LoopOptions.common(defaultDuration: "10") + [
            .init("--spin-us", value: "MICROSECONDS", help: "Sleep-then-spin: busy-wait this long before each deadline.", default: "0"),
            .init("--json", help: "Print one JSON object instead of the table."),
        ],
        examples: ["rehabctl bench", "rehabctl bench --rate 4000 --cpu 1 --json", "rehabctl bench --spin-us 50",
                   "rehabctl bench --duration 60 --record /tmp/bench.mcap"])

    static func run(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        // Allocations per cycle are one of the figures: re-executes with the counter preloaded.
        AllocationCounting.countAllocationsInThisProcess(command: "bench")
        var run = try SupervisedSessionRun(command: "bench", parsed, defaultDurationSeconds: 10)
        let spin = try parsed.integer("--spin-us", default: 0, in: 0...1_000_000, unit: "µs")!
        if Double(spin) * 1e3 >= 1e9 / run.rateHertz {
            throw parsed.usageError("--spin-us \(spin) is not shorter than the period (\(Int(1e6 / run.rateHertz)) µs)")
        }
        run.spinNanoseconds = Int64(spin) * 1_000
        if run.recordPath != nil { return try compareRecording(run, parsed, spin: spin) }
        let outcome: SupervisedSessionRun.Outcome
        do {
            outcome = try run.run()
        } catch {
            // A refusal (e.g. the link cannot sustain the rate) is a measurement too: with --json,
            // scripts still get an object saying what was measured.
            if parsed.flag("--json") {
                var object: JSONObject = ["rate_hz": .number(run.rateHertz), "exit_code": .int(Int(error.exitCode.rawValue))]
                for (key, value) in error.details?.objectValue?.entries ?? [("error", .string(error.message))] { object[key] = value }
                Terminal.printLine(JSONValue.object(object).serialized(pretty: true))
            }
            throw error
        }
        if parsed.flag("--json") {
            Terminal.printLine(outcome.session.json(extra: outcome.json + [("spin_us", .int(spin))]).serialized(pretty: true))
        } else {
            Terminal.printLine(table(outcome, run: run, spinMicroseconds: spin))
        }
        return outcome.exitCode
    }

    /// `--record`: the same bench without and with recording, one after the other.
    static func compareRecording(_ run: SupervisedSessionRun, _ parsed: ParsedArguments, spin: Int) throws(CommandFailure) -> ExitCode {
        var without = run
        without.recordPath = nil
        run.status("run 1 of 2: recording off")
        let off = try without.run()
        run.status("run 2 of 2: recording to \(run.recordPath!)")
        let on = try run.run()
        let comparison = recordingComparison(off: off.session, on: on.session)
        if parsed.flag("--json") {
            Terminal.printLine(JSONValue.object([
                "recording_off": off.session.json(extra: off.json + [("spin_us", .int(spin))]),
                "recording_on": on.session.json(extra: on.json + [("spin_us", .int(spin))]),
                "comparison": comparison.json,
            ]).serialized(pretty: true))
        } else {
            Terminal.printLine("recording off:\n" + table(off, run: run, spinMicroseconds: spin))
            Terminal.printLine("\nrecording on:\n" + table(on, run: run, spinMicroseconds: spin))
            Terminal.printLine("\n" + comparison.text)
        }
        return off.exitCode != .success ? off.exitCode : on.exitCode
    }

    struct RecordingComparison {
        var json: JSONValue
        var text: String
    }

    static func recordingComparison(off: SessionReport, on: SessionReport) -> RecordingComparison {
        func us(_ ns: UInt64) -> Double { Double(ns) / 1_000 }
        func ratio(_ on: UInt64, _ off: UInt64) -> Double { off == 0 ? 0 : Double(on) / Double(off) }
        let minutes = max(on.elapsedSeconds, 1e-9) / 60
        let rows: [(String, SessionReport.Percentiles, SessionReport.Percentiles)] = [
            ("wake latency", off.wakeLatency, on.wakeLatency), ("compute", off.computeTime, on.computeTime),
        ]
        var lines = ["recording on vs off [µs]      p50 off   p50 on  p99 off   p99 on  p99 on/off"]
        var object = JSONObject()
        for (name, a, b) in rows {
            lines.append("  " + name.padding(toLength: 24, withPad: " ", startingAt: 0)
                + [us(a.p50), us(b.p50), us(a.p99), us(b.p99)].map { String(format: "%9.1f", $0) }.joined()
                + String(format: "%11.2f", ratio(b.p99, a.p99)))
            object[name.replacingOccurrences(of: " ", with: "_")] = .object([
                "p50_off_us": .number(us(a.p50), significantDigits: 4), "p50_on_us": .number(us(b.p50), significantDigits: 4),
                "p99_off_us": .number(us(a.p99), significantDigits: 4), "p99_on_us": .number(us(b.p99), significantDigits: 4),
                "p99_ratio": .number(ratio(b.p99, a.p99), significantDigits: 3),
            ])
        }
        if let recording = on.recording {
            let megabytesPerMinute = Double(recording.bytesWritten) / 1e6 / minutes
            lines.append("  recorded \(recording.messagesWritten) messages in \(String(format: "%.2f", on.elapsedSeconds)) s: "
                + "\(recording.recordsDropped) samples dropped, \(recording.messagesNotWritten) not written, "
                + String(format: "%.1f MB (%.1f MB per minute)", Double(recording.bytesWritten) / 1e6, megabytesPerMinute)
                + "; ring high water \(recording.ringHighWater) of \(recording.ringCapacity)"
                + String(format: "; writer thread CPU %.3f s (%.2f %% of one core)", recording.writerCPUSeconds,
                         100 * recording.writerCPUSeconds / max(on.elapsedSeconds, 1e-9))
                + (recording.failure.map { "; FAILED: \($0)" } ?? ""))
            object["messages_written"] = .integer(Int64(recording.messagesWritten))
            object["samples_dropped"] = .int(recording.recordsDropped)
            object["messages_not_written"] = .integer(Int64(recording.messagesNotWritten))
            object["megabytes_per_minute"] = .number(megabytesPerMinute, significantDigits: 3)
            object["ring_high_water"] = .int(recording.ringHighWater)
            object["writer_cpu_s"] = .number(recording.writerCPUSeconds, significantDigits: 3)
        }
        lines.append("  one run each: on a shared machine run it several times and compare medians (docs/performance.md)")
        return RecordingComparison(json: .object(object), text: lines.joined(separator: "\n"))
    }


    static func table(_ outcome: SupervisedSessionRun.Outcome, run: SupervisedSessionRun, spinMicroseconds: Int) -> String {
        let report = outcome.session
        let rt = outcome.realtime
        func us(_ ns: UInt64) -> String {
            let text = String(format: "%.1f", Double(ns) / 1_000)
            return String(repeating: " ", count: max(0, 9 - text.count)) + text
        }
        func percent(_ value: Double?) -> String { value.map { String(format: "%.2f %%", $0 * 100) } ?? "n/a" }
        var lines = [
            "rehabctl bench: \(report.profileName) at \(Int(report.rateHertz)) Hz for \(String(format: "%.2f", report.elapsedSeconds)) s over \(report.port)",
            "  real-time: " + (rt.schedFIFO ? "SCHED_FIFO \(rt.priority)" : "SCHED_OTHER") + ", memory " + (rt.memoryLocked ? "locked" : "not locked")
                + ", CPU " + (rt.cpu.map(String.init) ?? "any") + ", timer slack \(rt.timerSlackNanoseconds) ns"
                + (spinMicroseconds > 0 ? ", spin \(spinMicroseconds) µs" : "")
                + (run.warmUpNanoseconds > 0 ? ", warm-up \(run.warmUpNanoseconds / 1_000) µs" : ""),
            "  kernel: preempt=\(outcome.kernel.rawValue)",
            "  [µs]                p50      p90      p99    p99.9      max",
        ]
        for (name, p) in [("wake latency", report.wakeLatency), ("compute", report.computeTime), ("  supervisor", report.supervisorTime),
                          ("rehearsal", report.rehearsalTime), ("round trip", report.roundTrip), ("cycle", report.cycleTime)] {
            if p.count == 0 && name == "rehearsal" {
                lines.append("  rehearsal         off (--warm-up-us 0)")
                continue
            }
            if p.count == 0 {
                lines.append("  " + name.padding(toLength: 14, withPad: " ", startingAt: 0) + "    not measured (--reply-wait next-wake)")
                continue
            }
            lines.append("  " + name.padding(toLength: 14, withPad: " ", startingAt: 0) + us(p.p50) + us(p.p90) + us(p.p99) + us(p.p999) + us(p.max))
        }
        let elapsed = max(report.elapsedSeconds, 1e-9)
        lines.append("  cycles \(report.cycles), missed deadlines \(report.overruns) (skipped \(report.skippedCycles)), allocations per cycle "
                     + (report.allocationsPerCycle.map { String(format: "%.3f", $0) } ?? "not counted"))
        lines.append("  CPU: host \(percent(report.processCPUSeconds / elapsed)) of a core (control thread \(percent(report.controlThreadCPUSeconds / elapsed))), simulator \(percent(outcome.simulatorCPUSecondsPerSecond))")
        if report.safetyEvents.isEmpty {
            lines.append("  safety events: none; supervisor final state: \(report.finalState.rawValue)")
        } else {
            for event in report.safetyEvents {
                lines.append("  SAFETY STOP \(event.isDuringSetUp ? "during the set-up" : "at cycle \(event.cycle)"): \(event.cause.rawValue)" + (event.category.map { " (\($0))" } ?? "")
                             + "; the figures above cover the run up to here")
            }
        }
        if let linkError = report.linkError { lines.append("  link: \(linkError)") }
        return lines.joined(separator: "\n")
    }
}
