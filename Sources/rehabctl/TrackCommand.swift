import CommandLineSupport
import Control
import DeviceModel
import Devices
import Foundation
import Platform
import Primitives
import Profiles
import StrictJSON
import Transport

/// `rehabctl track`: one tracking sensor live — what it says, how fast, how old its samples are when
/// the host looks, and how clean its line is: the lab engineer's check before a session relies on it.
enum TrackCommand {
    static let spec = CommandSpec(
        program: "rehabctl", name: "track",
        summary: "Read a tracking sensor live: samples, rate, age and line quality.",
        discussion: """
            Opens the port at the profile's baud rate, sets the sensor up in its protocol (the
            profile's: \(TrackerRegistry.standard.supportedProtocols.joined(separator: ", "))) and prints
            ten lines a second: frame counter, joint angle (after --zero), orientation, tool position,
            visibility, fit error and the age of the newest sample. The age is what the control loop
            would see: time since receipt plus the sensor's own latency (hardware/trackers/README.md).
            At the end (--duration, or Ctrl-C) it prints the rate achieved, the age's p50/p99/max as
            polled every millisecond, frozen frames, checksum errors and discarded bytes, polls left
            unanswered, and what the sensor reported about itself (an NDI system that reset, an ERROR
            in answer to BX: the sample is unusable from that moment, and the line says why). --zero
            takes the neutral pose first: hold the limb still at its zero for a moment.
            Exit 69 when the sensor does not answer or reset during the run, 78 for a profile this build
            cannot use.
            """,
        options: [
            .init("--port", value: "PATH", help: "Serial port of the sensor, or rehabsim's pseudo-terminal for it."),
            .init("--profile", value: "NAME|PATH", help: "Tracker profile (hardware/trackers/NAME.json)."),
            .init("--duration", value: "SECONDS", help: "Stop after this long (default: until Ctrl-C)."),
            .init("--zero", help: "Take the neutral pose first (the joint angle is 0 there)."),
            .init("--baud", value: "BPS", help: "Open the port at this rate instead of the profile's (to test a wrong rate)."),
            .init("--json", help: "One JSON object per printed sample, then one summary object."),
        ],
        examples: [
            "rehabctl track --port /dev/ttyUSB1 --profile xsens-mti-wrist --zero",
            "rehabctl track --port /dev/pts/5 --profile bno085-forearm --duration 5 --json",
        ])

    static func run(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        guard let port = parsed.string("--port") else { throw parsed.usageError("--port is required (see `rehabctl devices`)") }
        guard let name = parsed.string("--profile") else { throw parsed.usageError("--profile is required (hardware/trackers/*.json)") }
        let profile: TrackerProfile
        do {
            profile = try ProfileSearch.loadTracker(name)
        } catch {
            throw CommandFailure("rehabctl track: \(error)", exitCode: error.exitCode)
        }
        let problems = TrackerRegistry.standard.problems(with: profile)
        guard problems.isEmpty else { throw CommandFailure("rehabctl track: \(profile.name): " + problems.joined(separator: "; "), exitCode: .configuration) }
        let duration = parsed.string("--duration") == nil ? nil : try parsed.double("--duration", default: 0, in: 0.1...86_400, unit: "s")
        let baud = try parsed.integer("--baud", default: profile.baudRateBitsPerSecond, in: 1_200...12_000_000, unit: "bit/s")!
        let json = parsed.flag("--json")
        TerminationSignals.install()
        let serial: SerialPort
        do {
            serial = try SerialPort(path: port, options: .init(baudRateBitsPerSecond: baud))
        } catch {
            throw CommandFailure("rehabctl track: \(error)", exitCode: error.exitCode)
        }
        defer { serial.close() }
        let tracker: SerialTracker
        do {
            tracker = try TrackerRegistry.standard.makeTracker(for: profile, link: serial)
            try tracker.configure()
            try tracker.start()
        } catch {
            throw CommandFailure("rehabctl track: \(error)", exitCode: .unavailable)
        }
        defer { tracker.shutDown() }
        if !json { Terminal.printLine("\(profile.name): \(tracker.identity) on \(port) at \(baud) bit/s, \(Self.format(profile.rateHertz)) Hz") }
        if parsed.flag("--zero") {
            do {
                try tracker.zero()
            } catch {
                throw CommandFailure("rehabctl track: \(error)", exitCode: .refused)
            }
            if !json { Terminal.printLine("neutral pose taken") }
        }

        let ages = LatencyHistogram()
        let start = MonotonicClock.now()
        let end = duration.map { start.advanced(byNanoseconds: Int64($0 * 1e9)) }
        var nextPrint = start
        var first: TrackerSample?
        var last = TrackerSample()
        var next = start
        while end.map({ MonotonicClock.now() < $0 }) ?? true, TerminationSignals.interrupts == 0 && TerminationSignals.terminations == 0 {
            next = next.advanced(byNanoseconds: Nanoseconds.perMillisecond)
            MonotonicClock.shared.sleep(until: next)
            let now = MonotonicClock.now()
            let sample = tracker.latestSample(at: now)
            guard sample.samplesReceived > 0 else { continue }
            if first == nil { first = sample }
            last = sample
            ages.record(nanoseconds: sample.ageNanoseconds(at: now))
            if now >= nextPrint {
                nextPrint = now.advanced(byNanoseconds: 100 * Nanoseconds.perMillisecond)
                let condition = tracker.figures.condition(explaining: sample)
                Terminal.printLine(json ? sampleJSON(sample, condition, at: now).serialized() : sampleLine(sample, condition, at: now))
            }
        }
        let elapsed = MonotonicClock.now().seconds(since: start)
        tracker.stop()
        let figures = tracker.figures
        let received = first.map { Double(last.samplesReceived - $0.samplesReceived) } ?? 0
        let span = first.map { last.receivedAt.seconds(since: $0.receivedAt) } ?? 0
        let rate = span > 0 ? received / span : 0
        let p50 = Double(ages.value(atQuantile: 0.5)) / 1e6
        let p99 = Double(ages.value(atQuantile: 0.99)) / 1e6
        let maximum = Double(ages.maxNanoseconds) / 1e6
        if json {
            var summary: JSONObject = [
                "tracker": .string(profile.name), "identity": .string(tracker.identity), "seconds": .number(elapsed),
                "samples": .int(Int(last.samplesReceived)), "rate_hz": .number(rate), "rate_profile_hz": .number(profile.rateHertz),
                "age_ms": .object(["p50": .number(p50), "p99": .number(p99), "max": .number(maximum)]),
                "repeated_frames": .int(figures.repeated), "checksum_errors": .int(figures.checksumErrors),
                "discarded_bytes": .int(figures.discardedBytes),
            ]
            if let error = figures.linkError { summary["link_error"] = .string(error) }
            if figures.unansweredRequests > 0 { summary["unanswered_polls"] = .int(figures.unansweredRequests) }
            if figures.deviceConditions > 0 { summary["device_conditions"] = .int(figures.deviceConditions) }
            if let condition = figures.lastCondition { summary["last_condition"] = conditionJSON(condition) }
            Terminal.printLine(JSONValue.object(["summary": .object(summary)]).serialized())
        } else {
            var line = "\(last.samplesReceived) samples in \(Self.format(elapsed)) s: \(Self.format(rate)) Hz (profile \(Self.format(profile.rateHertz))); "
                + "age p50 \(Self.format(p50)) ms, p99 \(Self.format(p99)) ms, max \(Self.format(maximum)) ms; "
                + "\(figures.repeated) frozen frames, \(figures.checksumErrors) checksum errors, \(figures.discardedBytes) bytes discarded"
            if figures.unansweredRequests > 0 { line += ", \(figures.unansweredRequests) polls unanswered" }
            if let condition = figures.lastCondition { line += "; the sensor reported \(figures.deviceConditions)× a condition, the last: \(condition)" }
            if let error = figures.linkError { line += "; line: \(error)" }
            Terminal.printLine(line)
        }
        if let condition = figures.lastCondition, condition.kind.requiresSetUp {
            Terminal.printError("rehabctl track: \(profile.name) \(condition); its samples were unusable from then on")
            return .unavailable
        }
        if last.samplesReceived == 0 {
            Terminal.printError("rehabctl track: no sample from \(profile.name) on \(port)")
            return .unavailable
        }
        if let error = figures.linkError {
            Terminal.printError("rehabctl track: the line to \(profile.name) failed: \(error)")
            return .ioError
        }
        return .success
    }

    private static func sampleLine(_ sample: TrackerSample, _ condition: TrackerCondition?, at now: MonotonicInstant) -> String {
        var line = "frame \(sample.frameCounter)  angle \(format(sample.positionRadians / Units.radiansPerDegree))°"
        if let q = sample.toolOrientation { line += "  q (\(format(q.x)), \(format(q.y)), \(format(q.z)), \(format(q.w)))" }
        if let p = sample.toolPositionMeters { line += "  at (\(format(p.x * 1e3)), \(format(p.y * 1e3)), \(format(p.z * 1e3))) mm" }
        if sample.rmsErrorMillimeters > 0 { line += "  rms \(format(sample.rmsErrorMillimeters)) mm" }
        line += sample.toolVisible ? "" : "  NOT VISIBLE"
        if let condition { line += " (\(condition))" }
        if sample.repeatedFrames > 0 { line += "  frozen ×\(sample.repeatedFrames)" }
        return line + "  age \(format(Double(sample.ageNanoseconds(at: now)) / 1e6)) ms"
    }

    private static func sampleJSON(_ sample: TrackerSample, _ condition: TrackerCondition?, at now: MonotonicInstant) -> JSONValue {
        var object: JSONObject = [
            "frame": .int(Int(sample.frameCounter)), "angle_rad": .number(sample.positionRadians), "visible": .bool(sample.toolVisible),
            "repeated_frames": .int(Int(sample.repeatedFrames)), "rms_error_mm": .number(sample.rmsErrorMillimeters),
            "age_ms": .number(Double(sample.ageNanoseconds(at: now)) / 1e6),
        ]
        if let q = sample.toolOrientation { object["orientation_wxyz"] = .array([q[0], q[1], q[2], q[3]].map { .number($0) }) }
        if let p = sample.toolPositionMeters { object["position_m"] = .array([p.x, p.y, p.z].map { .number($0) }) }
        if let condition { object["condition"] = conditionJSON(condition) }
        return .object(object)
    }

    /// `{"kind": "request_refused", "device_code": 5, "meaning": "time-out on command execution"}`.
    private static func conditionJSON(_ condition: TrackerCondition) -> JSONValue {
        .object(["kind": .string(condition.kind.rawValue), "device_code": .int(Int(condition.deviceCode)), "meaning": .string(condition.meaning)])
    }

    private static func format(_ value: Double) -> String {
        String(format: "%.3g", value)
    }
}
