import Control
import DeviceModel
import Primitives
import StrictJSON

/// Turns control cycles and supervisor transitions into the JSON messages of `TelemetryChannel`
/// inside an MCAP file: the one encoding used by the recorder and by the black box.
///
/// Log times are Unix-epoch nanoseconds (what MCAP tools show as dates), derived from the monotonic
/// cycle time and one wall-clock reading taken at the start; each message also carries the
/// monotonic time or cycle number it came from.
public struct TelemetryEncoder: Sendable {
    public let jointNames: [String]
    /// The session's trackers, in the order of `TelemetryFrame.trackers`.
    public let trackerNames: [String]
    private var writer: MCAPWriter
    private var sequences = [UInt32](repeating: 0, count: TelemetryChannel.allCases.count + 1)
    private var poseSequences: [UInt32]
    private let monotonicOrigin: Int64
    private let unixOrigin: Int64

    /// Starts a file: header, one schema and one channel per `TelemetryChannel`, and a `session`
    /// metadata record (`sessionMetadata` plus the joints and the time origin). Chunks are
    /// zstd-compressed unless `compression` says otherwise.
    public init(
        jointNames: [String], rateHertz: Double, sessionMetadata: [(String, String)], monotonicOrigin: MonotonicInstant,
        unixOriginNanoseconds: Int64, trackerNames: [String] = [], library: String = "RehabHost", chunkSizeBytes: Int = 1 << 20,
        compression: MCAPCompression = .zstd
    ) {
        self.jointNames = jointNames
        self.trackerNames = trackerNames
        poseSequences = [UInt32](repeating: 0, count: trackerNames.count)
        self.monotonicOrigin = monotonicOrigin.nanoseconds
        unixOrigin = unixOriginNanoseconds
        writer = MCAPWriter(profile: "", library: library, chunkSizeBytes: chunkSizeBytes, compression: compression)
        let joints = jointNames.joined(separator: ",")
        for channel in TelemetryChannel.allCases {
            writer.addSchema(id: channel.rawValue, name: channel.schemaName, encoding: "jsonschema", data: Array(channel.jsonSchema.utf8))
            writer.addChannel(
                id: channel.rawValue, schemaID: channel.rawValue, topic: channel.topic, messageEncoding: "json",
                metadata: [("joints", joints), ("rate_hz", Self.number(rateHertz))]
                    + (channel == .trackerSample ? [("trackers", trackerNames.joined(separator: ","))] : []))
        }
        if !trackerNames.isEmpty {
            writer.addSchema(
                id: TrackerPoseChannel.schemaID, name: TrackerPoseChannel.schemaName, encoding: "jsonschema",
                data: Array(TrackerPoseChannel.jsonSchema.utf8))
            for (index, name) in trackerNames.enumerated() {
                writer.addChannel(
                    id: TrackerPoseChannel.channelID(trackerIndex: index), schemaID: TrackerPoseChannel.schemaID,
                    topic: TrackerPoseChannel.topic(trackerName: name), messageEncoding: "json", metadata: [("tracker", name)])
            }
        }
        writer.addMetadata(
            name: "session",
            sessionMetadata + [
                ("joints", joints), ("rate_hz", Self.number(rateHertz)),
                ("monotonic_origin_ns", String(monotonicOrigin.nanoseconds)), ("unix_origin_ns", String(unixOriginNanoseconds)),
            ])
    }

    /// Unix-epoch nanoseconds of a monotonic instant.
    public func logTime(_ time: MonotonicInstant) -> UInt64 {
        UInt64(max(0, unixOrigin + (time.nanoseconds - monotonicOrigin)))
    }

    // MARK: Messages

    /// Writes one record's messages (four per cycle, one or two per transition).
    public mutating func write(_ record: TelemetryRecord) {
        switch record {
        case .cycle(let frame): write(frame)
        case .transition(let transition): write(transition)
        }
    }

    public mutating func write(_ frame: TelemetryFrame) {
        let time = logTime(frame.time)
        message(.jointState, time) { out in
            out.field("cycle", first: true); out.integer(frame.cycle)
            out.field("t_monotonic_ns"); out.integer(frame.time.nanoseconds)
            out.field("fresh"); out.boolean(frame.freshState)
            out.field("position_rad"); out.numbers(frame.positionsRadians)
            out.field("velocity_rad_per_s"); out.numbers(frame.velocitiesRadiansPerSecond)
            out.field("motor_torque_nm"); out.numbers(frame.motorTorquesNewtonMeters)
            out.field("interaction_torque_nm"); out.numbers(frame.interactionTorquesNewtonMeters)
        }
        message(.jointCommand, time) { out in
            out.field("cycle", first: true); out.integer(frame.cycle)
            out.field("wire"); out.string(frame.wire.name)
            out.field("mode"); out.append(0x5B)
            for joint in 0..<frame.jointCount {
                if joint > 0 { out.append(0x2C) }
                out.string(TelemetryCodes.modeName(frame.commandModes[joint]))
            }
            out.append(0x5D)
            out.field("target_position_rad"); out.numbers(frame.targetPositionsRadians)
            out.field("target_velocity_rad_per_s"); out.numbers(frame.targetVelocitiesRadiansPerSecond)
            out.field("torque_nm"); out.numbers(frame.commandTorquesNewtonMeters)
            out.field("velocity_rad_per_s"); out.numbers(frame.commandVelocitiesRadiansPerSecond)
        }
        message(.supervisorState, time) { out in
            out.field("cycle", first: true); out.integer(frame.cycle)
            out.field("state"); out.string(frame.state.rawValue)
            out.field("action"); out.string(TelemetryCodes.actionName(frame.action))
            out.field("stop_category")
            if let category = frame.activeStop { out.integer(Int64(category.rawValue)) } else { out.null() }
        }
        message(.loopTiming, time) { out in
            out.field("cycle", first: true); out.integer(frame.cycle)
            out.field("wake_latency_ns"); out.integer(frame.wakeLatencyNanoseconds)
            out.field("compute_ns"); out.integer(frame.computeNanoseconds)
            out.field("cycle_ns"); out.integer(frame.cycleNanoseconds)
            out.field("round_trip_ns")
            if frame.roundTripNanoseconds >= 0 { out.integer(frame.roundTripNanoseconds) } else { out.null() }
            out.field("late_cycles"); out.integer(Int64(frame.lateCycles))
            out.field("state_age_ns")
            if frame.stateAgeNanoseconds != .max { out.integer(frame.stateAgeNanoseconds) } else { out.null() }
            out.field("link_quality"); out.string(frame.linkGrade.description)
        }
        for index in 0..<frame.trackers.count {
            let sample = frame.trackers[index]
            let name = index < trackerNames.count ? trackerNames[index] : "tracker \(index)"
            message(.trackerSample, time) { out in
                out.field("cycle", first: true); out.integer(frame.cycle)
                out.field("t_monotonic_ns"); out.integer(frame.time.nanoseconds)
                out.field("tracker"); out.string(name)
                out.field("frame_counter"); out.integer(Int64(sample.frameCounter))
                out.field("age_ns")
                let age = sample.ageNanoseconds(at: frame.time)
                if age != .max { out.integer(age) } else { out.null() }
                out.field("position_rad"); out.number(sample.positionRadians)
                out.field("tool_position_m")
                if let position = sample.toolPositionMeters {
                    out.append(0x5B); out.number(position.x); out.append(0x2C); out.number(position.y); out.append(0x2C); out.number(position.z); out.append(0x5D)
                } else {
                    out.null()
                }
                out.field("tool_orientation_wxyz")
                if let quaternion = sample.toolOrientation {
                    out.append(0x5B)
                    for axis in 0..<4 {
                        if axis > 0 { out.append(0x2C) }
                        out.number(quaternion[axis])
                    }
                    out.append(0x5D)
                } else {
                    out.null()
                }
                out.field("visible"); out.boolean(sample.toolVisible)
                out.field("rms_error_mm"); out.number(sample.rmsErrorMillimeters)
            }
            // The pose for Foxglove's 3-D panel, when the tracker has one and sees its tool.
            guard sample.samplesReceived > 0, sample.toolVisible, sample.toolPositionMeters != nil || sample.toolOrientation != nil else { continue }
            let position = sample.toolPositionMeters ?? SIMD3(0, 0, 0)
            let orientation = sample.toolOrientation ?? SIMD4(1, 0, 0, 0)
            let sequence = poseSequences[index]
            poseSequences[index] = sequence &+ 1
            writer.addMessage(channel: TrackerPoseChannel.channelID(trackerIndex: index), sequence: sequence, logTime: time, publishTime: time) { out in
                out.append(0x7B)
                out.field("timestamp", first: true)
                out.append(0x7B)
                out.field("sec", first: true); out.integer(Int64(time / 1_000_000_000))
                out.field("nsec"); out.integer(Int64(time % 1_000_000_000))
                out.append(0x7D)
                out.field("frame_id"); out.string(TrackerPoseChannel.frameID(trackerName: name))
                out.field("pose")
                out.append(0x7B)
                out.field("position", first: true)
                out.append(0x7B)
                out.field("x", first: true); out.number(position.x)
                out.field("y"); out.number(position.y)
                out.field("z"); out.number(position.z)
                out.append(0x7D)
                out.field("orientation")
                out.append(0x7B)
                // foxglove.Quaternion is x, y, z, w; TrackerSample's is (w, x, y, z).
                out.field("x", first: true); out.number(orientation[1])
                out.field("y"); out.number(orientation[2])
                out.field("z"); out.number(orientation[3])
                out.field("w"); out.number(orientation[0])
                out.append(0x7D)
                out.append(0x7D)
                out.append(0x7D)
            }
        }
    }

    public mutating func write(_ transition: SupervisorTransition) {
        let time = logTime(transition.time)
        let names = jointNames
        let body: (inout [UInt8]) -> Void = { out in
            // The set-up's transitions happened before the loop's cycle 0, in none of its cycles.
            out.field("cycle", first: true)
            if transition.isDuringSetUp { out.null() } else { out.integer(transition.cycle) }
            out.field("phase"); out.string(transition.phaseName)
            out.field("t_monotonic_ns"); out.integer(transition.time.nanoseconds)
            out.field("from"); out.string(transition.from.rawValue)
            out.field("to"); out.string(transition.to.rawValue)
            out.field("cause"); out.string(transition.cause.rawValue)
            out.field("requirement"); out.string(transition.cause.requirement)
            out.field("stop_category")
            if let category = transition.category { out.integer(Int64(category.rawValue)) } else { out.null() }
            out.field("value"); out.number(transition.value)
            out.field("value_unit"); out.string(transition.cause.valueUnit)
            out.field("joint")
            if let joint = transition.joint, joint < names.count { out.string(names[joint]) } else { out.null() }
            out.field("device_code"); out.integer(Int64(transition.deviceCode))
        }
        message(.supervisorTransition, time, body)
        if transition.category != nil { message(.safetyEvent, time, body) }
    }

    /// Writes the exercise metrics (an object with the keys of `TelemetryChannel.exerciseMetrics`).
    public mutating func writeMetrics(_ metrics: JSONValue, at time: MonotonicInstant) {
        let text = metrics.serialized()
        message(.exerciseMetrics, logTime(time)) { out in
            out.removeLast()  // the opening brace the helper wrote; the serialized object brings its own
            out.append(contentsOf: text.utf8.dropLast())
        }
    }

    /// Writes the `session_result` metadata record (`SessionResult.metadata`: how the session ended
    /// and the exercised joint's figures) after the last message. Metadata is indexed in the summary,
    /// so a catalogue finds it with one read (`MCAPSummaryReader`) instead of the last chunk's
    /// `/exercise/metrics` message. Closes the open chunk first, as every metadata record does.
    public mutating func writeSessionResult(_ entries: [(String, String)]) {
        writer.addMetadata(name: SessionResult.metadataName, entries)
    }

    private mutating func message(_ channel: TelemetryChannel, _ logTime: UInt64, _ body: (inout [UInt8]) -> Void) {
        let id = Int(channel.rawValue)
        let sequence = sequences[id]
        sequences[id] = sequence &+ 1
        writer.addMessage(channel: channel.rawValue, sequence: sequence, logTime: logTime, publishTime: logTime) { out in
            out.append(0x7B)
            body(&out)
            out.append(0x7D)
        }
    }

    // MARK: File

    /// Closes the open chunk (the recorder does this at least every 100 ms).
    public mutating func closeChunk() { writer.closeChunk() }
    public var openChunkBytes: Int { writer.openChunkBytes }
    public var openChunkMessages: UInt64 { writer.openChunkMessages }
    /// Data end, summary, footer.
    public mutating func finish() { writer.finish() }
    /// The bytes produced since the last call.
    public mutating func takeOutput() -> [UInt8] { writer.takeOutput() }
    /// The bytes produced since the last call, handed over without a copy (`MCAPWriter.drainOutput`).
    public mutating func drainOutput<Failure: Error>(_ body: ([UInt8]) throws(Failure) -> Void) throws(Failure) {
        try writer.drainOutput(body)
    }
    public var messagesWritten: UInt64 { writer.messagesWritten }

    static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// Appending JSON to bytes, without building strings for the common cases (the writer thread
/// encodes about four thousand messages a second).
extension [UInt8] {
    mutating func field(_ name: StaticString, first: Bool = false) {
        if !first { append(0x2C) }
        append(0x22)
        name.withUTF8Buffer { append(contentsOf: $0) }
        append(0x22)
        append(0x3A)
    }

    mutating func integer(_ value: Int64) {
        if value == 0 {
            append(0x30)
            return
        }
        let magnitude = value.magnitude
        if value < 0 { append(0x2D) }
        var divisor: UInt64 = 1
        while magnitude / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            append(0x30 + UInt8(magnitude / divisor % 10))
            divisor /= 10
        }
    }

    /// Shortest round-trip decimal; null for NaN and infinities (JSON has neither). −0 keeps its sign
    /// ("-0.0"): a recording holds exactly the values the host had.
    mutating func number(_ value: Double) {
        if !value.isFinite {
            null()
        } else if value == 0 && value.sign == .minus {
            append(contentsOf: "-0.0".utf8)
        } else if value.rounded() == value && abs(value) < 1e15 {
            integer(Int64(value))
        } else {
            append(contentsOf: value.description.utf8)
        }
    }

    mutating func numbers(_ values: JointList<Double>) {
        append(0x5B)
        for index in 0..<values.count {
            if index > 0 { append(0x2C) }
            number(values[index])
        }
        append(0x5D)
    }

    mutating func boolean(_ value: Bool) {
        append(contentsOf: value ? [0x74, 0x72, 0x75, 0x65] : [0x66, 0x61, 0x6C, 0x73, 0x65])
    }

    mutating func null() { append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C]) }

    mutating func string(_ value: String) {
        append(0x22)
        for byte in value.utf8 {
            if byte == 0x22 || byte == 0x5C {
                append(0x5C)
                append(byte)
            } else if byte < 0x20 {
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            } else {
                append(byte)
            }
        }
        append(0x22)
    }
}
