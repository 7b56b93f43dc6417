import Control
import Platform
import StrictJSON

/// A recording's messages decoded into plain values for the report: samples for the plots, the
/// supervisor's transitions and what they mean (`RecordedEvent`), loop timing and the link's grade
/// per cycle, the exercise metrics, the session metadata with the plan, the session's result and
/// the control socket's audit. Any value a file holds is taken (NaN, ±∞, 1e308, huge times).
struct RecordingData {
    struct Sample {
        var t: Double
        var position: [Double]
        var motorTorque: [Double]
        var interactionTorque: [Double]
        var target: [Double] = []
        var commandTorque: [Double] = []
    }

    struct Transition {
        var t: Double
        /// nil: none in the file, or made during the set-up (`duringSetUp`).
        var cycle: Int64?
        /// Made before the loop's cycle 0 (`"phase": "set_up"`).
        var duringSetUp: Bool
        var monotonicNanoseconds: Int64?
        var from: String
        var to: String
        var cause: String
        var requirement: String
        var category: Int?
        var value: Double?
        var unit: String
        var joint: String?
        var deviceCode: Int64

        /// The one definition of a safety event, as `SessionReport.safetyEvents` and the metrics'
        /// `safety_events` count them: a fault or a stop by an interlock or an operator, a transition
        /// into `fault` or `estop` with a stop category. A normal stop (→ stopping → idle) is none.
        var isSafetyEvent: Bool { (to == SupervisorState.fault.rawValue || to == SupervisorState.estop.rawValue) && category != nil }
    }

    struct Timing {
        var wake: Double
        var compute: Double
        var roundTrip: Double?
        /// SR-1's grade this cycle ("GOOD", "FAIR", "POOR", "LOST"); nil in files without it.
        var linkGrade: String?
        var stateAgeMilliseconds: Double?
    }

    /// One request to the control socket (SR-25), from the metrics or a black box's metadata.
    struct AuditEntry {
        var monotonicNanoseconds: Int64
        var request: String
        var outcome: String
        var pid: Int64?
        var uid: Int64?
    }

    /// What each tracker gave, cycle by cycle (`/tracker/sample`).
    struct Tracker {
        var name: String
        var angle: [(Double, Double)] = []
        var ageMilliseconds: [Double] = []
        var invisibleCycles = 0
        var largestRmsErrorMillimeters = 0.0
        var frames = 0
        var lastFrame: Int64 = -1
    }

    var joints: [String] = []
    var samples: [Sample] = []
    var timing: [Timing] = []
    var bands: [SVGPlot.Band] = []
    var transitions: [Transition] = []
    /// The transitions a therapist is told about, numbered as their markers.
    var events: [RecordedEvent] = []
    var metrics: JSONObject?
    /// The `session` metadata record as written.
    var metadata: [(String, String)] = []
    /// The entries of it the engineering overview shows.
    var session: [(String, String)] = []
    var plan: RecordedPlan?
    /// The `session_result` record, in files that have one.
    var result: SessionResult?
    var audit: [AuditEntry] = []
    var durationSeconds = 0.0
    var startText = ""
    /// The loop's rate [Hz], from the channels' metadata.
    var rateHertz: Double?
    var trackers: [Tracker] = []
    /// Unix-epoch ns of the first message: every `t` counts from it.
    private var origin: UInt64 = 0

    var safetyEvents: [Transition] { transitions.filter(\.isSafetyEvent) }
    var markers: [SVGPlot.Marker] { events.map(\.marker) }
    var isBlackBox: Bool { metadata.contains { $0.0 == "kind" && $0.1.hasPrefix("black box") } }

    init(_ file: MCAPFile) throws(MCAPError) {
        guard let jointChannel = file.channels.values.first(where: { $0.topic == TelemetryChannel.jointState.topic }) else {
            throw .inconsistent("not a RehabHost recording: it has no \(TelemetryChannel.jointState.topic) channel")
        }
        joints = jointChannel.metadata["joints"]?.split(separator: ",").map(String.init) ?? []
        rateHertz = jointChannel.metadata["rate_hz"].flatMap { Double($0) }.flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
        let first = file.messages.map(\.logTime).min() ?? 0
        origin = first
        let end = file.messages.map(\.logTime).max() ?? first
        durationSeconds = Double(end - first) / 1e9
        // Log times are the file's, any 64-bit value: no conversion or difference that can trap.
        startText = WallClock.utcTimestamp(Int64(clamping: first))
        func sinceStart(_ time: UInt64) -> Double { time >= first ? Double(time - first) / 1e9 : -(Double(first - time) / 1e9) }
        func numbers(_ value: JSONValue?) -> [Double] { value?.arrayValue?.map { $0.doubleValue ?? .nan } ?? [] }
        func objects(_ channel: TelemetryChannel) throws(MCAPError) -> [(UInt64, JSONObject)] {
            var result: [(UInt64, JSONObject)] = []
            for message in file.messages(onTopic: channel.topic) {
                do throws(JSONParseError) {
                    if let object = try JSONParser.parse(bytes: Array(file.data(of: message))).objectValue { result.append((message.logTime, object)) }
                } catch {
                    throw .inconsistent("a \(channel.topic) message at \(message.logTime) ns is not JSON: \(error)")
                }
            }
            return result
        }
        var byCycle: [Int64: Int] = [:]
        for (time, object) in try objects(.jointState) {
            byCycle[object["cycle"]?.integerValue ?? -1] = samples.count
            samples.append(Sample(t: sinceStart(time), position: numbers(object["position_rad"]),
                                  motorTorque: numbers(object["motor_torque_nm"]), interactionTorque: numbers(object["interaction_torque_nm"])))
        }
        for (_, object) in try objects(.jointCommand) {
            guard let index = byCycle[object["cycle"]?.integerValue ?? -1] else { continue }
            samples[index].target = numbers(object["target_position_rad"])
            samples[index].commandTorque = numbers(object["torque_nm"])
        }
        for (_, object) in try objects(.loopTiming) {
            timing.append(Timing(
                wake: Double(object["wake_latency_ns"]?.integerValue ?? 0), compute: Double(object["compute_ns"]?.integerValue ?? 0),
                roundTrip: object["round_trip_ns"]?.integerValue.map(Double.init), linkGrade: object["link_quality"]?.stringValue,
                stateAgeMilliseconds: object["state_age_ns"]?.integerValue.map { Double($0) / 1e6 }))
        }
        for (time, object) in try objects(.supervisorState) {
            let state = object["state"]?.stringValue ?? "?"
            let t = sinceStart(time)
            if var last = bands.last, last.state == state {
                last.end = t
                bands[bands.count - 1] = last
            } else {
                if !bands.isEmpty { bands[bands.count - 1].end = t }
                bands.append(.init(start: t, end: t, state: state))
            }
        }
        for (time, object) in try objects(.supervisorTransition) {
            transitions.append(Transition(
                t: sinceStart(time), cycle: object["cycle"]?.integerValue, duringSetUp: object["phase"]?.stringValue == "set_up",
                monotonicNanoseconds: object["t_monotonic_ns"]?.integerValue, from: object["from"]?.stringValue ?? "",
                to: object["to"]?.stringValue ?? "", cause: object["cause"]?.stringValue ?? "",
                requirement: object["requirement"]?.stringValue ?? "", category: object["stop_category"]?.integerValue.map { Int(clamping: $0) },
                value: object["value"]?.doubleValue, unit: object["value_unit"]?.stringValue ?? "", joint: object["joint"]?.stringValue,
                deviceCode: object["device_code"]?.integerValue ?? 0))
        }
        var trackerIndex: [String: Int] = [:]
        for (time, object) in try objects(.trackerSample) {
            let name = object["tracker"]?.stringValue ?? "?"
            let index = trackerIndex[name] ?? {
                trackers.append(Tracker(name: name))
                trackerIndex[name] = trackers.count - 1
                return trackers.count - 1
            }()
            trackers[index].angle.append((sinceStart(time), (object["position_rad"]?.doubleValue ?? .nan) * 180 / Double.pi))
            trackers[index].ageMilliseconds.append((object["age_ns"]?.doubleValue).map { $0 / 1e6 } ?? .nan)
            if object["visible"]?.boolValue == false { trackers[index].invisibleCycles += 1 }
            trackers[index].largestRmsErrorMillimeters = max(trackers[index].largestRmsErrorMillimeters, object["rms_error_mm"]?.doubleValue ?? 0)
            let frame = object["frame_counter"]?.integerValue ?? 0
            if frame != trackers[index].lastFrame {
                trackers[index].frames += 1
                trackers[index].lastFrame = frame
            }
        }
        metrics = try objects(.exerciseMetrics).last?.1
        metadata = file.metadata.first(where: { $0.name == "session" })?.entries ?? []
        let wanted = [
            "patient_label", "profile", "device", "identity", "protocol", "exercise_name", "exercise", "mode", "rate_hz", "duration_s", "trackers",
            "kind", "trigger_cause", "trigger_cycle",
        ]
        session = wanted.compactMap { key in metadata.first { $0.0 == key && !$0.1.isEmpty } }
        if rateHertz == nil { rateHertz = metadataValue("rate_hz").flatMap { Double($0) }.flatMap { $0.isFinite && $0 > 0 ? $0 : nil } }
        plan = RecordedPlan(metadata: metadata)
        result = file.metadata.first(where: { $0.name == SessionResult.metadataName }).flatMap { SessionResult(metadata: $0.entries) }
        audit = Self.auditEntries(metrics?["control_audit"] ?? metadataValue("control_audit").flatMap { try? JSONParser.parse($0) })
        events = RecordedEvent.events(of: self)
    }

    private static func auditEntries(_ value: JSONValue?) -> [AuditEntry] {
        (value?.arrayValue ?? []).compactMap { element in
            guard let object = element.objectValue, let time = object["time_ns"]?.integerValue else { return nil }
            return AuditEntry(monotonicNanoseconds: time, request: object["request"]?.stringValue ?? "", outcome: object["outcome"]?.stringValue ?? "",
                              pid: object["pid"]?.integerValue, uid: object["uid"]?.integerValue)
        }
    }

    func metadataValue(_ key: String) -> String? { metadata.first { $0.0 == key && !$0.1.isEmpty }?.1 }

    /// Seconds from the first message to a time on the session's monotonic clock (nil without the
    /// `session` record's origins).
    func seconds(monotonicNanoseconds time: Int64) -> Double? {
        guard let monotonicOrigin = metadataValue("monotonic_origin_ns").flatMap({ Int64($0) }),
            let unixOrigin = metadataValue("unix_origin_ns").flatMap({ Int64($0) })
        else { return nil }
        // In doubles: the file's numbers are any 64-bit values.
        return (Double(unixOrigin) + (Double(time) - Double(monotonicOrigin)) - Double(origin)) / 1e9
    }

    // MARK: Metrics

    /// The joint the exercise moves: the metrics' `exercised_joint`, else the plan's, else the first.
    var exercisedJointIndex: Int {
        let name = metrics?["exercised_joint"]?.stringValue ?? plan?.joint
        return name.flatMap { joints.firstIndex(of: $0) } ?? 0
    }

    var exercisedJointName: String? {
        joints.indices.contains(exercisedJointIndex) ? joints[exercisedJointIndex] : nil
    }

    /// A per-joint metric as numbers (nil: not in the file, or not per joint).
    func perJoint(_ key: String) -> [Double?]? {
        guard let values = metrics?[key]?.arrayValue else { return nil }
        return values.map { $0.doubleValue.flatMap { $0.isFinite ? $0 : nil } }
    }

    /// A per-joint metric of the exercised joint.
    func exercised(_ key: String) -> Double? {
        guard let values = perJoint(key), values.indices.contains(exercisedJointIndex) else { return nil }
        return values[exercisedJointIndex]
    }

    var repetitionsDone: Int? { metrics?["repetitions"]?.integerValue.map { Int(clamping: $0) } }

    /// The exercise's mode: the metrics' (the mode at the start), else the plan's.
    var mode: String? { metrics?["mode"]?.stringValue ?? plan?.mode }

    /// The lowest and highest position of `joint` [rad]: the metrics', else from the samples.
    func positionRange(_ joint: Int) -> (minimum: Double, maximum: Double)? {
        if let low = perJoint("min_position_rad"), let high = perJoint("max_position_rad"),
            low.indices.contains(joint), high.indices.contains(joint), let minimum = low[joint], let maximum = high[joint]
        {
            return (minimum, maximum)
        }
        let positions = samples.compactMap { joint < $0.position.count && $0.position[joint].isFinite ? $0.position[joint] : nil }
        guard let minimum = positions.min(), let maximum = positions.max() else { return nil }
        return (minimum, maximum)
    }

    /// The largest |interaction torque| of `joint` [N·m]: the metrics', else from the samples.
    func peakInteractionTorque(_ joint: Int) -> Double? {
        if let values = perJoint("peak_interaction_torque_nm"), values.indices.contains(joint), let value = values[joint] { return value }
        let torques = samples.compactMap { joint < $0.interactionTorque.count && $0.interactionTorque[joint].isFinite ? abs($0.interactionTorque[joint]) : nil }
        return torques.max()
    }

    func series(_ field: KeyPath<Sample, [Double]>, _ joint: Int, scale: Double = 1) -> [(Double, Double)] {
        samples.map { sample in
            let values = sample[keyPath: field]
            return (sample.t, joint < values.count ? values[joint] * scale : .nan)
        }
    }
}
