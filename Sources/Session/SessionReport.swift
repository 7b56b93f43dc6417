import Control
import DeviceModel
import Devices
import StrictJSON
import Telemetry

/// What a session did: timing, tracking, safety; as numbers, as JSON and as a human summary.
public struct SessionReport: Sendable {
    /// Percentiles of one timing histogram [ns].
    public struct Percentiles: Sendable, Equatable {
        public var count: UInt64
        public var p50: UInt64
        public var p90: UInt64
        public var p99: UInt64
        public var p999: UInt64
        public var max: UInt64
        public var mean: Double

        public init(_ histogram: LatencyHistogram) {
            count = histogram.count
            p50 = histogram.value(atQuantile: 0.5)
            p90 = histogram.value(atQuantile: 0.9)
            p99 = histogram.value(atQuantile: 0.99)
            p999 = histogram.value(atQuantile: 0.999)
            max = histogram.maxNanoseconds
            mean = histogram.meanNanoseconds
        }

        /// {p50, p90, p99, p999, max} in microseconds, and how many samples; null when nothing was measured.
        public var json: JSONValue {
            guard count > 0 else { return .null }
            func us(_ value: UInt64) -> JSONValue { .number(Double(value) / 1_000, significantDigits: 4) }
            return .object(["p50": us(p50), "p90": us(p90), "p99": us(p99), "p999": us(p999), "max": us(max), "count": .integer(Int64(count))])
        }
    }

    /// SR-1: how the link was graded over the session.
    public struct LinkQuality: Sendable, Equatable {
        public var secondsGood: Double
        public var secondsFair: Double
        public var secondsPoor: Double
        public var secondsLost: Double
        public var fairEpisodes: Int
        public var poorEpisodes: Int
        /// The oldest newest-state seen in a cycle, and the longest gap between cycle starts [ms].
        public var worstStateAgeMilliseconds: Double
        public var longestGapMilliseconds: Double
        /// The thresholds in force [ms]: GOOD age, GOOD gap, LOST Cat 1 and Cat 0 ages.
        public var goodAgeMilliseconds: Double
        public var goodGapMilliseconds: Double
        public var lostCat1AgeMilliseconds: Double
        public var lostCat0AgeMilliseconds: Double

        public init(_ monitor: LinkQualityMonitor) {
            let limits = monitor.limits
            secondsGood = monitor.seconds(in: .good)
            secondsFair = monitor.seconds(in: .fair)
            secondsPoor = monitor.seconds(in: .poor)
            secondsLost = monitor.seconds(in: .lost)
            fairEpisodes = monitor.fairEpisodes
            poorEpisodes = monitor.poorEpisodes
            worstStateAgeMilliseconds = Double(monitor.worstAgeNanoseconds) * 1e-6
            longestGapMilliseconds = Double(monitor.longestGapNanoseconds) * 1e-6
            goodAgeMilliseconds = Double(limits.goodAgeNanoseconds) * 1e-6
            goodGapMilliseconds = Double(limits.goodGapNanoseconds) * 1e-6
            lostCat1AgeMilliseconds = Double(limits.lostCat1AgeNanoseconds) * 1e-6
            lostCat0AgeMilliseconds = Double(limits.lostCat0AgeNanoseconds) * 1e-6
        }

        public var json: JSONValue {
            func number(_ value: Double) -> JSONValue { .number(value, significantDigits: 6) }
            return .object([
                "time_in_grade_s": .object(["GOOD": number(secondsGood), "FAIR": number(secondsFair), "POOR": number(secondsPoor),
                                            "LOST": number(secondsLost)]),
                "fair_episodes": .int(fairEpisodes),
                "poor_episodes": .int(poorEpisodes),
                "worst_state_age_ms": number(worstStateAgeMilliseconds),
                "longest_gap_ms": number(longestGapMilliseconds),
                "limits_ms": .object(["good_age": number(goodAgeMilliseconds), "good_gap": number(goodGapMilliseconds),
                                      "lost_cat1_age": number(lostCat1AgeMilliseconds), "lost_cat0_age": number(lostCat0AgeMilliseconds)]),
            ])
        }

        /// One line for the summary.
        public var summary: String {
            func s(_ value: Double) -> String { format(value, decimals: 2) + " s" }
            var text = "  link quality (SR-1): GOOD \(s(secondsGood)), FAIR \(s(secondsFair)) in \(fairEpisodes) episode\(fairEpisodes == 1 ? "" : "s")"
            text += ", POOR \(s(secondsPoor))" + (poorEpisodes > 0 ? " (\(poorEpisodes) pause\(poorEpisodes == 1 ? "" : "s"))" : "")
            if secondsLost > 0 { text += ", LOST \(s(secondsLost))" }
            text += "; oldest state \(format(worstStateAgeMilliseconds, decimals: 1)) ms (GOOD ≤ \(format(goodAgeMilliseconds, decimals: 1)), LOST ≥ \(format(lostCat1AgeMilliseconds, decimals: 1))), longest gap \(format(longestGapMilliseconds, decimals: 1)) ms"
            return text
        }
    }

    public struct Joint: Sendable, Equatable {
        public var name: String
        public var rmsTrackingErrorRadians: Double
        public var maxAbsTrackingErrorRadians: Double
        public var maxAbsTorqueNewtonMeters: Double
        /// The range of motion reached while the exercise ran.
        public var minimumPositionRadians: Double
        public var maximumPositionRadians: Double
        public var rangeOfMotionRadians: Double { maximumPositionRadians - minimumPositionRadians }
    }

    public var profileName: String
    public var port: String
    public var rateHertz: Double
    public var requestedDurationSeconds: Double
    public var elapsedSeconds: Double
    public var cycles: Int64
    /// Cycles whose work ran past the next deadline.
    public var overruns: Int64
    public var skippedCycles: Int64
    public var wakeLatency: Percentiles
    public var computeTime: Percentiles
    public var roundTrip: Percentiles
    public var cycleTime: Percentiles
    public var supervisorTime: Percentiles
    /// The rehearsal before each deadline (the computation with cold caches; empty when off).
    public var rehearsalTime: Percentiles
    public var joints: [Joint]
    public var transitions: [SupervisorTransition]
    public var finalState: SupervisorState
    public var latchedCause: SafetyCause?
    public var linkError: String?
    public var identity: DeviceIdentityInfo?
    public var linkCheck: LinkCheck?
    /// SR-1: time in each grade, episodes, the worst age and gap.
    public var linkQuality: LinkQuality?
    /// What the device's driver counted on the link (checksum errors, malformed frames, stale states,
    /// protocol violations): the evidence that tells a noisy cable from a held-up host.
    public var deviceLinkHealth: LinkHealth?
    /// Whether the device's replies were garbled beyond a stray frame: at least 3 frames thrown away
    /// (a bad checksum, malformed) or 256 bytes in no frame. One partial frame at start-up, or a
    /// byte lost in a host stall, is not a cable fault.
    public var deviceRepliesWereGarbled: Bool {
        guard let health = deviceLinkHealth else { return false }
        return health.checksumErrors + health.malformedFrames >= 3 || health.discardedBytes >= 256
    }
    /// How often a short stall made SR-17's direction test start again (0: it ran once).
    public var directionCheckRepeats = 0
    public var allocations: AllocationTally
    /// CPU time the control thread used while the loop ran.
    public var controlThreadCPUSeconds: Double
    /// CPU time the whole host process used while the loop ran.
    public var processCPUSeconds: Double
    /// SR-19: black-box files written during the session, and why writing one failed.
    public var blackBoxFiles: [String] = []
    public var blackBoxError: String?
    /// The exercise metrics (`TelemetryChannel.exerciseMetrics`), as in the recording.
    public var metrics: JSONValue = .null
    /// What the recording did (nil: none was asked for).
    public var recording: TelemetryRecorder.Figures?

    /// Heap allocations per control cycle (nil when allocations were not counted).
    public var allocationsPerCycle: Double? {
        guard allocations.counting, cycles > 0 else { return nil }
        return Double(allocations.total) / Double(cycles)
    }

    /// Transitions that stopped motion for a safety reason (faults, e-stops, escalations).
    public var safetyEvents: [SupervisorTransition] {
        // Stops carry their category; releases and the link's grade changes logged while latched do not.
        transitions.filter { ($0.to == .fault || $0.to == .estop) && $0.category != nil }
    }

    /// True when the session ended in a normal stop.
    public var endedCleanly: Bool {
        (finalState == .idle || finalState == .disabled) && safetyEvents.isEmpty && linkError == nil
    }

    public func json(extra: [(String, JSONValue)] = []) -> JSONValue {
        let start = transitions.first?.time
        func transition(_ t: SupervisorTransition) -> JSONValue {
            var object: JSONObject = [
                // The set-up's transitions were made before the loop's cycle 0, in none of its cycles.
                "cycle": t.isDuringSetUp ? JSONValue.null : .integer(t.cycle),
                "phase": .string(t.phaseName),
                "t_ms": .number(Double(t.time.nanoseconds(since: start ?? t.time)) / 1e6, significantDigits: 6),
                "from": .string(t.from.rawValue), "to": .string(t.to.rawValue), "cause": .string(t.cause.rawValue),
            ]
            if let category = t.category { object["stop_category"] = .int(category.rawValue) }
            if t.value != 0 { object["value"] = .number(t.value, significantDigits: 6) }
            if t.deviceCode != 0 { object["device_code"] = .int(Int(t.deviceCode)) }
            if let joint = t.joint { object["joint"] = .int(joint) }
            if !t.cause.requirement.isEmpty { object["requirement"] = .string(t.cause.requirement) }
            return .object(object)
        }
        var object: JSONObject = [
            "profile": .string(profileName),
            "port": .string(port),
            "rate_hz": .number(rateHertz),
            "duration_s": .number(requestedDurationSeconds),
            "elapsed_s": .number(elapsedSeconds, significantDigits: 6),
            "cycles": .integer(cycles),
            "missed_deadlines": .integer(overruns),
            "skipped_cycles": .integer(skippedCycles),
            "wake_latency_us": wakeLatency.json,
            "compute_us": computeTime.json,
            "round_trip_us": roundTrip.json,
            "cycle_us": cycleTime.json,
            "supervisor_us": supervisorTime.json,
            "rehearsal_us": rehearsalTime.json,
            "link_quality": linkQuality?.json ?? .null,
            "device_link": deviceLinkHealth.map { health in
                JSONValue.object([
                    "checksum_errors": .int(health.checksumErrors), "malformed_frames": .int(health.malformedFrames), "discarded_bytes": .int(health.discardedBytes),
                    "stale_states": .int(health.staleStates), "protocol_violations": .int(health.protocolViolations),
                    "unanswered_requests": .int(health.unansweredRequests),
                ])
            } ?? .null,
            "joints": .array(
                joints.map { joint in
                    .object([
                        "name": .string(joint.name),
                        "rms_tracking_error_rad": .number(joint.rmsTrackingErrorRadians, significantDigits: 4),
                        "max_abs_tracking_error_rad": .number(joint.maxAbsTrackingErrorRadians, significantDigits: 4),
                        "max_abs_torque_nm": .number(joint.maxAbsTorqueNewtonMeters, significantDigits: 4),
                        "rom_rad": .number(joint.rangeOfMotionRadians, significantDigits: 4),
                    ])
                }),
            "safety_events": .array(safetyEvents.map(transition)),
            "supervisor_transitions": .array(transitions.map(transition)),
            "supervisor_final_state": .string(finalState.rawValue),
        ]
        if let latchedCause { object["latched_cause"] = .string(latchedCause.rawValue) }
        if let linkError { object["link_error"] = .string(linkError) }
        object["black_box_files"] = .array(blackBoxFiles.map { .string($0) })
        if let blackBoxError { object["black_box_error"] = .string(blackBoxError) }
        object["metrics"] = metrics
        if let recording {
            var entry: JSONObject = [
                "path": .string(recording.path), "messages_written": .integer(Int64(recording.messagesWritten)),
                "messages_not_written": .integer(Int64(recording.messagesNotWritten)),
                "records_dropped": .int(recording.recordsDropped), "bytes": .integer(Int64(recording.bytesWritten)),
                "ring_high_water": .int(recording.ringHighWater), "ring_capacity": .int(recording.ringCapacity),
            ]
            entry["failure"] = recording.failure.map { .string($0) } ?? .null
            object["recording"] = .object(entry)
        }
        if let identity {
            object["device"] = .object([
                "model": .string(identity.model), "serial_number": .string(identity.serialNumber),
                "firmware": .string(identity.firmware),
            ])
        }
        object["allocations_per_cycle"] = allocationsPerCycle.map { .number($0, significantDigits: 4) } ?? .null
        object["allocating_cycles"] = .integer(allocations.cyclesWithAllocations)
        object["control_thread_cpu_seconds_per_second"] = .number(
            elapsedSeconds > 0 ? controlThreadCPUSeconds / elapsedSeconds : 0, significantDigits: 3)
        object["cpu_seconds_per_second"] = .number(elapsedSeconds > 0 ? processCPUSeconds / elapsedSeconds : 0, significantDigits: 3)
        if let linkCheck {
            object["link_check"] = .object([
                "required_cycles": .int(linkCheck.requiredCycles), "cycles": .int(linkCheck.cycles),
                "gaps": .int(linkCheck.gaps), "longest_gap_cycles": .int(linkCheck.longestGapCycles),
            ])
        }
        object["direction_check_repeats"] = .int(directionCheckRepeats)
        for (key, value) in extra { object[key] = value }
        return .object(object)
    }

    /// A short, readable summary for the terminal.
    public func humanSummary() -> String {
        func us(_ ns: UInt64) -> String { format(Double(ns) / 1_000, decimals: 1) }
        var lines: [String] = []
        let device = identity.map { " — \($0.model) s/n \($0.serialNumber), firmware \($0.firmware)" } ?? ""
        lines.append("Session on \(port)\(device)")
        if let linkCheck {
            lines.append(
                "  link pre-flight: \(linkCheck.cycles) cycles to get \(linkCheck.requiredCycles) in a row without a risky silence"
                    + (linkCheck.gaps > 0
                        ? " (\(linkCheck.gaps) gap\(linkCheck.gaps == 1 ? "" : "s"), the longest \(linkCheck.longestGapCycles) cycle\(linkCheck.longestGapCycles == 1 ? "" : "s"))"
                        : ""))
        }
        if directionCheckRepeats > 0 {
            lines.append("  direction test (SR-17): started again \(directionCheckRepeats)× after a short stall of the host or the link, then passed")
        }
        lines.append(
            "  \(cycles) cycles at \(format(rateHertz, decimals: 0)) Hz in \(format(elapsedSeconds, decimals: 2)) s; missed deadlines: \(overruns)")
        if let linkQuality { lines.append(linkQuality.summary) }
        if let health = deviceLinkHealth,
            health.checksumErrors + health.malformedFrames + health.discardedBytes + health.staleStates + health.protocolViolations
                + health.unansweredRequests > 0
        {
            lines.append(
                "  device link: \(health.checksumErrors) frames with a bad checksum, \(health.malformedFrames) malformed, \(health.discardedBytes) bytes in no frame, \(health.staleStates) stale states, \(health.protocolViolations) protocol violations, \(health.unansweredRequests) requests unanswered")
        }
        lines.append("  timing [µs]        p50     p99    p99.9      max")
        for (name, p) in [("wake latency", wakeLatency), ("compute", computeTime), ("  supervisor", supervisorTime),
                          ("  rehearsal", rehearsalTime), ("round trip", roundTrip), ("cycle", cycleTime)] {
            if p.count == 0 && name == "  rehearsal" { continue }
            if p.count == 0 {
                lines.append("    " + name.padding(toLength: 14, withPad: " ", startingAt: 0) + "    not measured")
                continue
            }
            lines.append(
                "    " + name.padding(toLength: 14, withPad: " ", startingAt: 0)
                    + [us(p.p50), us(p.p99), us(p.p999), us(p.max)].map { String(repeating: " ", count: max(0, 8 - $0.count)) + $0 }.joined(separator: " "))
        }
        lines.append("  tracking               RMS error    max error   max |torque|   range of motion")
        for joint in joints {
            lines.append(
                "    " + joint.name.padding(toLength: 20, withPad: " ", startingAt: 0)
                    + "\(format(joint.rmsTrackingErrorRadians * 180 / .pi, decimals: 2))°".leftPadded(11)
                    + "\(format(joint.maxAbsTrackingErrorRadians * 180 / .pi, decimals: 2))°".leftPadded(13)
                    + "\(format(joint.maxAbsTorqueNewtonMeters, decimals: 3)) N·m".leftPadded(15)
                    + "\(format(joint.minimumPositionRadians * 180 / .pi, decimals: 1))…\(format(joint.maximumPositionRadians * 180 / .pi, decimals: 1))°".leftPadded(18))
        }
        if let metrics = metrics.objectValue {
            let exercised = metrics["exercised_joint"]?.stringValue ?? joints.first?.name ?? ""
            let index = joints.firstIndex { $0.name == exercised } ?? 0
            func first(_ key: String) -> Double? {
                guard let values = metrics[key]?.arrayValue, index < values.count else { return nil }
                return values[index].doubleValue
            }
            var parts = ["mode \(metrics["mode"]?.stringValue ?? "passive")"]
            if let repetitions = metrics["repetitions"]?.integerValue { parts.append("\(repetitions) repetitions") }
            if let ratio = first("assistance_ratio") { parts.append("assistance ratio \(format(ratio, decimals: 2))") }
            if let robot = first("robot_work_j"), let patient = first("patient_work_j") {
                parts.append("work robot \(format(robot, decimals: 2)) J, patient \(format(patient, decimals: 2)) J")
            }
            if let peak = first("peak_interaction_torque_nm") { parts.append("peak interaction \(format(peak, decimals: 3)) N·m") }
            if let gains = metrics["assistance_gain_by_repetition"]?.arrayValue?.compactMap(\.doubleValue), !gains.isEmpty {
                parts.append("assistance by repetition " + gains.map { format($0, decimals: 2) }.joined(separator: " → "))
            }
            lines.append("  exercise, \(exercised): " + parts.joined(separator: ", "))
        }
        if safetyEvents.isEmpty {
            lines.append("  safety events: none")
        } else {
            lines.append("  safety events:")
            for event in safetyEvents {
                let category = event.category.map { " (\($0))" } ?? ""
                let code = event.deviceCode != 0 ? " device code 0x\(String(event.deviceCode, radix: 16))" : ""
                let joint = event.joint.map { " joint \(joints.indices.contains($0) ? joints[$0].name : String($0))" } ?? ""
                let value = event.value != 0 ? " \(format(event.value, decimals: 3))\(event.cause.valueUnit.isEmpty ? "" : " " + event.cause.valueUnit)" : ""
                let requirement = event.cause.requirement.isEmpty ? "" : " [\(event.cause.requirement)]"
                let when = event.isDuringSetUp ? "during the set-up" : "cycle \(event.cycle)"
                lines.append("    \(when): \(event.from.rawValue) → \(event.to.rawValue): \(event.cause.rawValue)\(requirement)\(category)\(joint)\(value)\(code)")
            }
        }
        if let perCycle = allocationsPerCycle {
            lines.append(
                "  heap allocations in the control cycle: \(allocations.total) in \(cycles) cycles (\(format(perCycle, decimals: 3)) per cycle)"
                    + (allocations.firstAllocatingCycle.map { "; first in cycle \($0)" } ?? ""))
        }
        if let linkError { lines.append("  link: \(linkError)") }
        if let recording {
            if let failure = recording.failure {
                lines.append("  recording FAILED: \(failure); \(recording.messagesNotWritten) messages not written, \(recording.messagesWritten) written (the session went on)")
            } else {
                let megabytes = format(Double(recording.bytesWritten) / 1e6, decimals: 1)
                lines.append("  recording: \(recording.path) (\(recording.messagesWritten) messages, \(megabytes) MB, \(recording.recordsDropped) samples dropped)")
            }
        }
        for file in blackBoxFiles { lines.append("  black box (SR-19): \(file)") }
        if let blackBoxError { lines.append("  black box (SR-19): \(blackBoxError)") }
        lines.append("  supervisor final state: \(finalState.rawValue)")
        return lines.joined(separator: "\n")
    }
}

/// A duration for people: at most `decimals` decimals, trailing zeros dropped ("40.301", "10", not
/// "40.300999999999995").
public func formatSeconds(_ seconds: Double, decimals: Int = 3) -> String {
    var text = format(seconds, decimals: decimals)
    guard text.contains("."), !text.contains("e") else { return text }
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return text
}

func format(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return "—" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = "\(rounded)"
    if decimals == 0, let dot = text.firstIndex(of: ".") { text = String(text[..<dot]) }
    if let dot = text.firstIndex(of: "."), decimals > 0 {
        let fraction = text.distance(from: dot, to: text.endIndex) - 1
        if fraction < decimals { text += String(repeating: "0", count: decimals - fraction) }
    }
    if text.contains("e") { return String(value) }
    return text
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
