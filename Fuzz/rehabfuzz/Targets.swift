import Control
import Foundation
import Primitives
import Profiles
import RehabLinkSimulator
import StrictJSON
import Telemetry
import Wire

/// The fuzz targets (issue 15, docs/reliability.md): one per decoder or parser that takes outside
/// input. Each takes any bytes and must neither trap, nor hang, nor allocate without bound on them;
/// then it checks what must hold of what it accepted (a round trip, a validated range, a plan that
/// stays inside the exercise). A broken invariant is a `fatalError`: libFuzzer reports it as a crash
/// and keeps the input, the replayer dies on it.
///
/// `run` returns whether the input got past the first check (decoded, parsed, loaded). The replayer
/// counts it, so that a seed corpus that no longer reaches the interesting code shows in its output.
enum FuzzTarget: String, CaseIterable, Sendable {
    /// RehabLink bytes off the serial line: the frame decoder and the message parser behind it.
    case rehablink
    /// One RehabRef UDP datagram (mirror mode's reference stream).
    case rehabref
    /// StrictJSON's parser and writer.
    case json
    /// A hardware profile file (hardware/*.json).
    case profile
    /// An exercise file (hardware/exercises/*.json).
    case exercise
    /// A fault script (rehabsim --faults) and a live injection line (rehabsim --control).
    case faults
    /// An MCAP file given to rehabctl export, report or recover.
    case mcap
    /// Dynamixel Protocol 2.0 bytes off the bus: the packet decoder and the fast read's splitter.
    case dynamixel
    /// Xsens Xbus bytes off an MTi's line: the frame decoder and the MTData2 parser.
    case xsens
    /// BNO08x UART-RVC bytes: the 19-byte frame decoder.
    case bno08x
    /// NDI combined-API bytes both ways: the host's reply decoder (ASCII and BX) and a device's command parser.
    case ndi

    func run(_ input: UnsafeRawBufferPointer) -> Bool {
        switch self {
        case .rehablink: FuzzTargets.rehablink(input)
        case .rehabref: FuzzTargets.rehabref(input)
        case .json: FuzzTargets.json(input)
        case .profile: FuzzTargets.profile(input)
        case .exercise: FuzzTargets.exercise(input)
        case .faults: FuzzTargets.faults(input)
        case .mcap: FuzzTargets.mcap(input)
        case .dynamixel: FuzzTargets.dynamixel(input)
        case .xsens: FuzzTargets.xsens(input)
        case .bno08x: FuzzTargets.bno08x(input)
        case .ndi: FuzzTargets.ndi(input)
        }
    }
}

/// Stops the process when an invariant does not hold (libFuzzer: a crash, with the input saved).
func invariant(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fatalError("rehabfuzz: invariant broken: \(message())", file: file, line: line) }
}

func printToStandardError(_ message: String) {
    try? FileHandle.standardError.write(contentsOf: Data(("rehabfuzz: " + message + "\n").utf8))
}

enum FuzzTargets {
    // MARK: RehabLink

    /// A mode byte, then:
    /// - mode bit 0 clear: bytes as they come off the serial line, pushed one by one into a decoder;
    /// - mode bit 0 set: packets without their CRC, each as `[length][length bytes]` (a last, shorter
    ///   one takes what is left). Each gets its CRC-32C, COBS and a delimiter here, so that mutations
    ///   reach the payload parser instead of dying at the CRC check.
    ///
    /// Every decoded packet, encoded again, must decode to itself, and the decoder's counters must
    /// add up (they feed the link-quality figures).
    static func rehablink(_ input: UnsafeRawBufferPointer) -> Bool {
        guard let mode = input.first else { return false }
        let body = UnsafeRawBufferPointer(rebasing: input[1...])
        let stream = mode & 1 == 0 ? Array(body) : framedPackets(body)
        var decoder = RehabLink.FrameDecoder()
        var packets: UInt64 = 0
        var rejections: UInt64 = 0
        for byte in stream {
            switch decoder.push(byte) {
            case .packet(let packet)?:
                packets += 1
                checkRehabLinkRoundTrip(packet)
            case .rejected?:
                rejections += 1
            case nil:
                break
            }
        }
        let statistics = decoder.statistics
        invariant(statistics.bytesReceived == UInt64(stream.count), "rehablink: \(statistics.bytesReceived) bytes counted of \(stream.count)")
        invariant(statistics.packetsDecoded == packets, "rehablink: \(statistics.packetsDecoded) packets counted, \(packets) returned")
        invariant(statistics.rejectedPackets == rejections, "rehablink: \(statistics.rejectedPackets) rejections counted, \(rejections) returned")
        invariant(statistics.discardedBytes <= statistics.bytesReceived,
                  "rehablink: \(statistics.discardedBytes) bytes discarded of \(statistics.bytesReceived) received")
        return packets > 0
    }

    /// `[length][bytes]…` → CRC-32C (little-endian), COBS and a 0x00 after each packet.
    static func framedPackets(_ body: UnsafeRawBufferPointer) -> [UInt8] {
        var stream: [UInt8] = []
        var index = 0
        while index < body.count {
            let length = Int(body[index])
            index += 1
            let end = min(index + length, body.count)
            var packet = Array(body[index..<end])
            index = end
            let crc = packet.withUnsafeBytes { CRC32C.checksum($0) }
            for shift in stride(from: 0, to: 32, by: 8) { packet.append(UInt8(truncatingIfNeeded: crc >> UInt32(shift))) }
            var encoded = [UInt8](repeating: 0, count: COBS.maxEncodedBytes(forPacketBytes: packet.count))
            let count = packet.withUnsafeBytes { source in encoded.withUnsafeMutableBytes { COBS.encode(source, into: $0) } }
            stream.append(contentsOf: encoded[0..<count])
            stream.append(0)
        }
        return stream
    }

    static func checkRehabLinkRoundTrip(_ packet: RehabLink.Packet) {
        let frame = RehabLink.FrameEncoder.frame(packet.message, sequence: packet.sequence).bytes
        invariant(frame.count >= 2 && frame.count <= RehabLink.maxFrameBytes, "rehablink: \(packet) re-encodes into \(frame.count) bytes")
        invariant(frame.last == 0 && !frame.dropLast().contains(0), "rehablink: the frame of \(packet) is not one COBS frame: \(frame)")
        var decoder = RehabLink.FrameDecoder()
        var results = 0
        var decoded: RehabLink.DecodeResult?
        for byte in frame {
            if let result = decoder.push(byte) {
                results += 1
                decoded = result
            }
        }
        invariant(results == 1 && decoded == RehabLink.DecodeResult.packet(packet),
                  "rehablink: \(packet) encoded again decodes as \(String(describing: decoded)) (\(results) results)")
    }

    // MARK: RehabRef

    /// One datagram as received; when it has the datagram's length, also a copy with its CRC made
    /// right (so that mutations reach the field checks). What is accepted must encode back to the
    /// very same 36 bytes and decode again to the same datagram.
    static func rehabref(_ input: UnsafeRawBufferPointer) -> Bool {
        var accepted = checkRehabRef(input)
        if input.count == RehabRef.Datagram.byteCount {
            var fixed = Array(input)
            let crc = fixed.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<32])) }
            for index in 0..<4 { fixed[32 + index] = UInt8(truncatingIfNeeded: crc >> UInt32(8 * index)) }
            if fixed.withUnsafeBytes({ checkRehabRef($0) }) { accepted = true }
        }
        return accepted
    }

    static func checkRehabRef(_ bytes: UnsafeRawBufferPointer) -> Bool {
        switch RehabRef.Datagram.decode(bytes) {
        case .failure:
            return false
        case .success(let datagram):
            var encoded = [UInt8](repeating: 0, count: RehabRef.Datagram.byteCount)
            let count = encoded.withUnsafeMutableBytes { datagram.encode(into: $0) }
            invariant(count == RehabRef.Datagram.byteCount && encoded.elementsEqual(bytes),
                      "rehabref: \(datagram) encodes to \(encoded), not to the \(Array(bytes)) it was decoded from")
            let again = encoded.withUnsafeBytes { RehabRef.Datagram.decode($0) }
            invariant(again == Result<RehabRef.Datagram, RehabRef.Datagram.Rejection>.success(datagram),
                      "rehabref: \(datagram) encoded again decodes as \(again)")
            return true
        }
    }

    // MARK: StrictJSON

    /// Any bytes as a JSON text. What parses must serialize to text that parses to the same value
    /// (numbers by value: an integral double is written as an integer), compact and pretty, and
    /// serializing that again must give the same text.
    static func json(_ input: UnsafeRawBufferPointer) -> Bool {
        guard input.count <= ConfigurationFile.maximumBytes else { return false }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes: Array(input))
        } catch {
            _ = String(describing: error)
            return false
        }
        for pretty in [false, true] {
            let text = value.serialized(pretty: pretty)
            let reparsed: JSONValue
            do {
                reparsed = try JSONParser.parse(text)
            } catch {
                fatalError("rehabfuzz: invariant broken: json: the writer's output does not parse (\(error)): \(text.prefix(2_000))")
            }
            invariant(equivalent(value, reparsed), "json: \(text.prefix(2_000)) parses to another value")
            invariant(Array(reparsed.serialized(pretty: pretty).utf8) == Array(text.utf8), "json: writing \(text.prefix(2_000)) again gives another text")
        }
        return true
    }

    /// Equal, with `reparsed` allowed to hold as `.integer` what `original` held as an integral `.double`
    /// (the writer prints those as integers); strings compared scalar by scalar.
    static func equivalent(_ original: JSONValue, _ reparsed: JSONValue) -> Bool {
        switch (original, reparsed) {
        case (.null, .null):
            return true
        case (.bool(let a), .bool(let b)):
            return a == b
        case (.integer(let a), .integer(let b)):
            return a == b
        case (.double(let a), .double(let b)):
            return a == b
        case (.double(let a), .integer(let b)):
            return a == Double(b)
        case (.string(let a), .string(let b)):
            return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.array(let a), .array(let b)):
            guard a.count == b.count else { return false }
            for index in a.indices where !equivalent(a[index], b[index]) { return false }
            return true
        case (.object(let a), .object(let b)):
            guard a.entries.count == b.entries.count else { return false }
            for index in a.entries.indices {
                let (left, right) = (a.entries[index], b.entries[index])
                guard left.key.unicodeScalars.elementsEqual(right.key.unicodeScalars), equivalent(left.value, right.value) else { return false }
            }
            return true
        default:
            return false
        }
    }

    /// The input as the configuration loaders read a file (`ConfigurationFile.loadObject`): at most
    /// `ConfigurationFile.maximumBytes`, strict JSON, an object at the top.
    static func jsonObject(_ input: UnsafeRawBufferPointer) -> JSONObject? {
        guard input.count <= ConfigurationFile.maximumBytes else { return nil }
        do {
            return try JSONParser.parse(bytes: Array(input)).objectValue
        } catch {
            _ = String(describing: error)
            return nil
        }
    }

    // MARK: Profiles and exercises

    /// A hardware profile. What loads must be what the loader promises (joints, limits, rates,
    /// watchdog); then it goes where rehabsim and rehabctl take it: the simulator's own bounds, and
    /// a shipped exercise planned on it.
    static func profile(_ input: UnsafeRawBufferPointer) -> Bool {
        guard let object = jsonObject(input) else { return false }
        let profile: HardwareProfile
        do {
            profile = try HardwareProfileLoader.parse(object, sourcePath: "fuzz.json")
        } catch {
            _ = String(describing: error)
            return false
        }
        checkProfile(profile)
        do {
            _ = try SimulatedDeviceConfiguration(validating: profile)
        } catch {
            _ = String(describing: error)
        }
        // One shipped exercise per input, chosen by the input's bytes: over a run every exercise meets
        // many profiles, at an eighth of the cost per input (10⁷ executions in reach).
        if !Reference.exercises.isEmpty {
            var hash: UInt32 = 2_166_136_261
            for byte in input { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
            planAndCheck(Reference.exercises[Int(hash % UInt32(Reference.exercises.count))], on: profile)
        }
        return true
    }

    static func checkProfile(_ profile: HardwareProfile) {
        let joints = profile.joints
        invariant((1...JointList<Double>.capacity).contains(joints.count), "profile: accepted with \(joints.count) joints")
        invariant(Set(joints.map(\.name)).count == joints.count, "profile: accepted with duplicate joint names \(joints.map(\.name))")
        for joint in joints {
            invariant(joint.hardLimitMinimumRadians < joint.hardLimitMaximumRadians,
                      "profile: joint \(joint.name) accepted with hard limits \(joint.hardLimitMinimumRadians) … \(joint.hardLimitMaximumRadians) rad")
            invariant(joint.hardLimitMaximumRadians - joint.hardLimitMinimumRadians > 2 * profile.safety.softLimitMarginRadians,
                      "profile: joint \(joint.name) accepted with soft limits that leave no range of motion")
            invariant(joint.torqueLimitNewtonMeters > 0 && joint.torqueLimitNewtonMeters <= joint.ratedTorqueNewtonMeters,
                      "profile: joint \(joint.name) accepted with torque limit \(joint.torqueLimitNewtonMeters) N·m (rated \(joint.ratedTorqueNewtonMeters))")
            invariant(joint.ratedVelocityRadiansPerSecond.isFinite && joint.ratedVelocityRadiansPerSecond > 0,
                      "profile: joint \(joint.name) accepted with rated velocity \(joint.ratedVelocityRadiansPerSecond) rad/s")
        }
        let control = profile.control
        invariant(control.minimumRateHertz <= control.rateHertz && control.rateHertz <= control.maximumRateHertz,
                  "profile: accepted with rate \(control.rateHertz) Hz outside \(control.minimumRateHertz) … \(control.maximumRateHertz) Hz")
        invariant((1_000_000...50_000_000).contains(profile.device.watchdogPeriodNanoseconds),
                  "profile: accepted with a device watchdog of \(profile.device.watchdogPeriodNanoseconds) ns")
    }

    /// An exercise file. What loads must be what the loader promises; then it is planned on each
    /// shipped profile as a session plans it (`RangeOfMotionExercise`), and the plan must stay inside
    /// the exercise's range, no faster than its peak speed (or the centring speed), and within the
    /// waypoint storage the control cycle reserved for it (beyond it, the cycle would allocate).
    static func exercise(_ input: UnsafeRawBufferPointer) -> Bool {
        guard let object = jsonObject(input) else { return false }
        let definition: ExerciseDefinition
        do {
            definition = try ExerciseLoader.parse(object, sourcePath: "fuzz.json")
        } catch {
            _ = String(describing: error)
            return false
        }
        checkExercise(definition)
        for profile in Reference.profiles { planAndCheck(definition, on: profile) }
        return true
    }

    static func checkExercise(_ definition: ExerciseDefinition) {
        invariant(definition.rangeMinimumRadians < 0 && definition.rangeMaximumRadians > 0,
                  "exercise: accepted with range \(definition.rangeMinimumRadians) … \(definition.rangeMaximumRadians) rad, not around neutral")
        invariant((definition.repetitions == nil) != (definition.durationSeconds == nil),
                  "exercise: accepted with repetitions \(String(describing: definition.repetitions)) and duration \(String(describing: definition.durationSeconds))")
        invariant(TherapyMode.names.contains(definition.mode), "exercise: accepted with mode \(definition.mode)")
        let hasSettings: Bool =
            switch definition.mode {
            case "active_assist": definition.assistance != nil
            case "active_resist": definition.resistance != nil
            case "transparent": definition.transparency != nil
            case "mirror": definition.mirror != nil
            default: true
            }
        invariant(hasSettings, "exercise: mode \(definition.mode) accepted without its settings block")
        invariant((0.3...60).contains(definition.movementSeconds) && (0...60).contains(definition.holdSeconds),
                  "exercise: accepted with movement \(definition.movementSeconds) s, hold \(definition.holdSeconds) s")
    }

    static func planAndCheck(_ definition: ExerciseDefinition, on profile: HardwareProfile) {
        let exercise: RangeOfMotionExercise
        do {
            exercise = try RangeOfMotionExercise(definition, profile: profile)
        } catch {
            _ = String(describing: error)
            return
        }
        let name = "exercise \(definition.name) on \(profile.name)"
        let seconds = exercise.sessionSeconds(durationSeconds: definition.durationSeconds)
        invariant(seconds.isFinite && seconds > 0, "\(name): a session of \(seconds) s")
        let capacity = exercise.waypointCapacity(durationSeconds: seconds)
        // A day of 0.3 s swings is ~290 000 waypoints: the same code, many more times; left out so
        // that one input stays within milliseconds. 10 000 repetitions (the most) stay in.
        guard capacity <= 25_000 else { return }
        let joint = exercise.jointIndex
        invariant(joint >= 0 && joint < profile.joints.count, "\(name): joint index \(joint) of \(profile.joints.count)")
        let neutral = JointList<Double>.zeros(profile.joints.count)
        var atSoftLimit = neutral
        atSoftLimit[joint] = profile.joints[joint].hardLimitMinimumRadians + profile.safety.softLimitMarginRadians
        let fastest = max(exercise.peakVelocityRadiansPerSecond, exercise.centeringSpeedRadiansPerSecond)
        for start in [neutral, atSoftLimit] {
            let trajectory = exercise.trajectory(from: start, durationSeconds: seconds)
            invariant(trajectory.waypoints.count <= capacity,
                      "\(name): \(trajectory.waypoints.count) waypoints planned into storage for \(capacity): the control cycle would allocate")
            // A start within 0.01 rad of neutral is not centred first (RangeOfMotionExercise.plan): its
            // first move is that much longer than planned, and so a little faster. The bound holds from
            // neutral exactly, and from farther away (centred at the centring speed first).
            var offset = 0.0
            for index in 0..<start.count { offset = max(offset, abs(start[index])) }
            if offset == 0 || offset > 0.01 {
                invariant(trajectory.peakVelocityRadiansPerSecond <= fastest * (1 + 1e-9),
                          "\(name): the plan peaks at \(trajectory.peakVelocityRadiansPerSecond) rad/s, the exercise at \(fastest) rad/s")
            }
            for waypoint in trajectory.waypoints {
                invariant(waypoint.moveSeconds.isFinite && waypoint.holdSeconds.isFinite,
                          "\(name): a waypoint of \(waypoint.moveSeconds) s + \(waypoint.holdSeconds) s")
                for index in 0..<start.count {
                    let position = waypoint.positions[index]
                    if index == joint {
                        invariant(position >= exercise.rangeMinimumRadians && position <= exercise.rangeMaximumRadians,
                                  "\(name): a waypoint at \(position) rad, outside \(exercise.rangeMinimumRadians) … \(exercise.rangeMaximumRadians) rad")
                    } else {
                        invariant(position == 0, "\(name): joint \(index), not exercised, planned to \(position) rad")
                    }
                }
            }
        }
    }

    // MARK: Fault scripts

    static let faultJointCount = 2

    /// The bytes as a fault script (`rehabsim --faults`, for a 2-joint device) and as one live
    /// injection line (`rehabsim --control`). What is accepted must keep its times within a day, its
    /// joints within the device and its durations on faults that can end.
    static func faults(_ input: UnsafeRawBufferPointer) -> Bool {
        var accepted = false
        if let object = jsonObject(input) {
            do {
                let faults = try FaultScript.parse(object, sourcePath: "fuzz.json", jointCount: faultJointCount)
                for fault in faults { checkFault(fault, live: false) }
                accepted = true
            } catch {
                _ = String(describing: error)
            }
        }
        switch FaultScript.parseLive(String(decoding: input, as: UTF8.self), jointCount: faultJointCount) {
        case .success(let fault):
            checkFault(fault, live: true)
            accepted = true
        case .failure(let error):
            _ = error.description
        }
        return accepted
    }

    static func checkFault(_ fault: InjectedFault, live: Bool) {
        let longest = FaultScript.longestMilliseconds
        switch fault.trigger {
        case .now:
            invariant(live, "faults: a scripted fault accepted without a trigger")
        case .atMilliseconds(let time), .afterEnableMilliseconds(let time):
            invariant(time.isFinite && time >= 0 && time <= longest, "faults: accepted with a trigger at \(time) ms")
        case .atCommand(let count):
            invariant(count >= 1 && count <= 1_000_000_000, "faults: accepted with a trigger at command \(count)")
        }
        if let duration = fault.durationMilliseconds {
            invariant(duration.isFinite && duration > 0 && duration <= longest, "faults: accepted with a duration of \(duration) ms")
            invariant(fault.kind.canEnd, "faults: \(fault.kind.name) accepted with a duration, but it cannot end")
        }
        if let joint = fault.kind.joint {
            invariant(joint >= 0 && joint < faultJointCount, "faults: accepted for joint \(joint) of \(faultJointCount)")
        }
    }

    // MARK: MCAP

    /// The bytes as a recording given to `rehabctl export`, `report` (read strictly, then exported
    /// and rendered) and `recover` (read up to the last good chunk and rebuilt). A file read strictly
    /// must be complete with every message inside it; a rebuilt file must read back strictly, with
    /// every message of every kept chunk, byte for byte, and the same schemas, channels and metadata.
    static func mcap(_ input: UnsafeRawBufferPointer) -> Bool {
        let bytes = Array(input)
        var accepted = false
        do {
            let file = try MCAPFile(bytes: bytes)
            accepted = true
            checkReadable(file, bytes: bytes)
            do {
                for table in try CSVExport.tables(of: file) { _ = table.text }
            } catch {
                _ = String(describing: error)
            }
            do {
                _ = try HTMLReport.render(file, title: "fuzz")
            } catch {
                _ = String(describing: error)
            }
        } catch {
            _ = String(describing: error)
        }
        checkRecovery(bytes)
        return accepted
    }

    static func checkReadable(_ file: MCAPFile, bytes: [UInt8]) {
        invariant(file.isComplete, "mcap: a file read without salvaging is not complete")
        var dataBytes = 0
        for message in file.messages {
            // A message of a zstd chunk is in the chunk's decompressed records, not in the file.
            let store = message.isDecompressed ? file.decompressedRecords.count : bytes.count
            invariant(message.dataRange.lowerBound >= 0 && message.dataRange.upperBound <= store,
                      "mcap: message data at \(message.dataRange) in \(message.isDecompressed ? "decompressed records" : "a file") of \(store) bytes")
            invariant(file.channels[message.channel] != nil, "mcap: a message on channel \(message.channel), which the file does not define")
            dataBytes += message.dataRange.count
        }
        invariant(dataBytes <= bytes.count + file.decompressedRecords.count,
                  "mcap: \(dataBytes) bytes of message data in a file of \(bytes.count) bytes (\(file.decompressedRecords.count) decompressed)")
        for chunk in file.chunks {
            invariant(chunk.messages.lowerBound >= 0 && chunk.messages.upperBound <= file.messages.count,
                      "mcap: a chunk holds messages \(chunk.messages) of \(file.messages.count)")
        }
        for channel in file.channels.values.prefix(8) { _ = file.messages(onTopic: channel.topic) }
    }

    static func checkRecovery(_ bytes: [UInt8]) {
        let outcome: MCAPRecovery.Outcome
        do {
            outcome = try MCAPRecovery.recover(bytes)
        } catch {
            _ = String(describing: error)
            return
        }
        let salvaged: MCAPFile
        let rebuilt: MCAPFile
        do {
            salvaged = try MCAPFile(bytes: bytes, salvaging: true)
            rebuilt = try MCAPFile(bytes: outcome.bytes)
        } catch {
            fatalError("rehabfuzz: invariant broken: mcap: recover succeeded, but its input or its output does not read back: \(error)")
        }
        invariant(rebuilt.isComplete, "mcap: the recovered file is not complete")
        var kept: [MCAPFile.Message] = []
        for chunk in salvaged.chunks { kept.append(contentsOf: salvaged.messages[chunk.messages]) }
        invariant(rebuilt.messages.count == kept.count,
                  "mcap: the recovered file has \(rebuilt.messages.count) messages, its input's complete chunks \(kept.count)")
        for (original, copy) in zip(kept, rebuilt.messages) {
            invariant(
                original.channel == copy.channel && original.sequence == copy.sequence && original.logTime == copy.logTime
                    && original.publishTime == copy.publishTime && salvaged.data(of: original).elementsEqual(rebuilt.data(of: copy)),
                "mcap: a recovered message differs from the one it was recovered from (channel \(original.channel), log time \(original.logTime) ns)")
        }
        invariant(rebuilt.channels == salvaged.channels, "mcap: the recovered file's channels differ from its input's")
        invariant(rebuilt.schemas == salvaged.schemas, "mcap: the recovered file's schemas differ from its input's")
        invariant(sameMetadata(rebuilt, salvaged), "mcap: the recovered file's metadata differs from its input's")
        invariant(outcome.chunksKept == salvaged.chunks.count, "mcap: recover reports \(outcome.chunksKept) chunks kept of \(salvaged.chunks.count)")
        invariant(outcome.messagesKept == kept.count, "mcap: recover reports \(outcome.messagesKept) messages kept, it wrote \(kept.count)")
    }

    static func sameMetadata(_ a: MCAPFile, _ b: MCAPFile) -> Bool {
        guard a.metadata.count == b.metadata.count else { return false }
        for index in a.metadata.indices {
            let (left, right) = (a.metadata[index], b.metadata[index])
            guard left.name == right.name, left.entries.count == right.entries.count else { return false }
            for entry in left.entries.indices where left.entries[entry].0 != right.entries[entry].0 || left.entries[entry].1 != right.entries[entry].1 {
                return false
            }
        }
        return true
    }
}

extension FuzzTargets {
    // MARK: Dynamixel

    /// Dynamixel bytes as a host or a simulated servo receives them. The first byte is a mode:
    /// - bit 0 clear: the bytes of a bus, pushed in chunks whose sizes the mode's upper bits vary (one
    ///   byte, or up to 31 at a time), then flushed as at a reply deadline;
    /// - bit 0 set: packets as `[id][instruction][count][count bytes]…`, each given its header, length,
    ///   stuffing and CRC here by the encoder (a status when the instruction is 0x55, the first byte
    ///   then its ERR), so that mutations reach the layout checks instead of dying at the CRC.
    ///
    /// Every decoded packet, encoded again, must decode to itself (but a fast read's reply, which is not
    /// stuffed: its slices must lie inside its parameters); the counters must add up, and after the
    /// flush nothing may be left in the decoder.
    static func dynamixel(_ input: UnsafeRawBufferPointer) -> Bool {
        guard let mode = input.first else { return false }
        let body = UnsafeRawBufferPointer(rebasing: input[1...])
        let stream = mode & 1 == 0 ? Array(body) : encodedDynamixelPackets(body)
        let chunk = max(1, Int(mode >> 3))
        var decoder = Dynamixel.PacketDecoder()
        var packets: UInt64 = 0
        var rejections: UInt64 = 0
        func take(_ result: Dynamixel.DecodeResult) {
            switch result {
            case .packet(let packet):
                packets += 1
                checkDynamixelPacket(packet)
            case .rejected:
                rejections += 1
            }
        }
        stream.withUnsafeBytes { bytes in
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + chunk)
                decoder.push(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), take)
                start = end
            }
        }
        decoder.flush(take)
        let statistics = decoder.statistics
        invariant(decoder.bufferedByteCount == 0, "dynamixel: \(decoder.bufferedByteCount) bytes left in the decoder after the flush")
        invariant(statistics.bytesReceived == UInt64(stream.count), "dynamixel: \(statistics.bytesReceived) bytes counted of \(stream.count)")
        invariant(statistics.packetsDecoded == packets, "dynamixel: \(statistics.packetsDecoded) packets counted, \(packets) returned")
        invariant(statistics.rejectedPackets == rejections, "dynamixel: \(statistics.rejectedPackets) rejections counted, \(rejections) returned")
        invariant(statistics.discardedBytes <= statistics.bytesReceived,
                  "dynamixel: \(statistics.discardedBytes) bytes discarded of \(statistics.bytesReceived) received")
        invariant(statistics.discardedBytes + 10 * packets <= statistics.bytesReceived,
                  "dynamixel: \(packets) packets of at least 10 bytes and \(statistics.discardedBytes) discarded bytes in \(statistics.bytesReceived)")
        return packets > 0
    }

    /// `[id][instruction][count][bytes]…` → whole packets (header, length, stuffing, CRC).
    static func encodedDynamixelPackets(_ body: UnsafeRawBufferPointer) -> [UInt8] {
        var stream: [UInt8] = []
        var index = 0
        var packet = Dynamixel.EncodedPacket()
        while index + 3 <= body.count {
            let id = body[index]
            let instruction = Dynamixel.Instruction(rawValue: body[index + 1])
            let count = Int(body[index + 2])
            index += 3
            let end = min(index + count, body.count)
            let parameters = UnsafeRawBufferPointer(rebasing: body[index..<end])
            index = end
            do {
                if instruction == .status, let error = parameters.first {
                    try Dynamixel.PacketEncoder.status(
                        id: id, error: Dynamixel.StatusError(rawValue: error),
                        parameters: UnsafeRawBufferPointer(rebasing: parameters[1...]), into: &packet)
                } else {
                    try Dynamixel.PacketEncoder.instruction(id: id, instruction, into: &packet) { $0.bytes(parameters) }
                }
            } catch {
                continue  // an impossible ID: nothing on the bus
            }
            stream.append(contentsOf: packet.bytes)
        }
        return stream
    }

    static func checkDynamixelPacket(_ packet: Dynamixel.Packet) {
        invariant(Dynamixel.isValidPacketID(packet.id), "dynamixel: a packet from ID \(packet.id) was accepted")
        invariant(packet.isStatus == (packet.error != nil), "dynamixel: \(packet) has an ERR byte exactly when it is a status")
        if packet.isFastReadReply {
            checkFastReadSlices(packet)
            return
        }
        var encoded = Dynamixel.EncodedPacket()
        do {
            try Dynamixel.PacketEncoder.encode(packet, into: &encoded)
        } catch {
            // Received without the stuffing the encoder adds, it may not fit once stuffed.
            invariant(error == .tooLong, "dynamixel: \(packet) does not encode again: \(error)")
            return
        }
        var decoder = Dynamixel.PacketDecoder()
        var results: [Dynamixel.DecodeResult] = []
        encoded.withUnsafeBytes { decoder.push($0) { results.append($0) } }
        invariant(results.count == 1 && results.first == .packet(packet),
                  "dynamixel: \(packet) encoded again decodes as \(results)")
    }

    /// A fast read's reply, split for each device count whose equal data lengths would add up: each
    /// slice lies inside the parameters, and belongs to the ID at its offset.
    static func checkFastReadSlices(_ packet: Dynamixel.Packet) {
        let parameters = packet.parameters.count
        for devices in 1...4 {
            let rest = parameters - (4 * devices - 3)
            guard rest >= 0, rest % devices == 0 else { continue }
            var ids = Dynamixel.DeviceList<UInt8>()
            var offset = 0
            for _ in 0..<devices {
                _ = ids.append(packet.parameters.uint8(at: offset) ?? 0)
                offset += 4 + rest / devices
            }
            let slices: Dynamixel.DeviceList<Dynamixel.FastReadSlice>
            do {
                slices = try Dynamixel.FastRead.slices(of: packet, ids: ids, dataLength: rest / devices)
            } catch {
                continue
            }
            invariant(slices.count == devices, "dynamixel: \(slices.count) slices of a fast read reply for \(devices) devices")
            for index in 0..<slices.count {
                let slice = slices[index]
                invariant(slice.dataOffset >= 0 && slice.dataLength == rest / devices && slice.dataOffset + slice.dataLength <= parameters,
                          "dynamixel: a fast read slice at \(slice.dataOffset)+\(slice.dataLength) of \(parameters) parameter bytes")
                invariant(slice.id == ids[index], "dynamixel: slice \(index) is from ID \(slice.id), requested \(ids[index])")
            }
        }
    }
}

/// The shipped profiles and exercises (hardware/), which the profile and exercise targets cross with
/// what they load: found from this source file's place in the checkout, or in REHABFUZZ_HARDWARE.
/// Loaded once (LLVMFuzzerInitialize loads them before the first input).
enum Reference {
    static let hardwareFolder: String = {
        if let folder = ProcessInfo.processInfo.environment["REHABFUZZ_HARDWARE"], !folder.isEmpty { return folder }
        var path: String = #filePath
        for _ in 0..<3 {
            if let slash = path.lastIndex(of: "/") { path = String(path[..<slash]) }
        }
        return path + "/hardware"
    }()

    static let profiles: [HardwareProfile] = {
        let loaded = ["wrist-trainer", "ankle-trainer"].compactMap { try? HardwareProfileLoader.load(path: "\(hardwareFolder)/\($0).json") }
        if loaded.isEmpty { printToStandardError("no hardware profile in \(hardwareFolder) (set REHABFUZZ_HARDWARE): exercises are not planned") }
        return loaded
    }()

    static let exercises: [ExerciseDefinition] = {
        let folder = hardwareFolder + "/exercises"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        let loaded = names.compactMap { try? ExerciseLoader.load(path: "\(folder)/\($0)") }
        if loaded.isEmpty { printToStandardError("no exercise in \(folder) (set REHABFUZZ_HARDWARE): profiles get no plan") }
        return loaded
    }()
}

extension FuzzTargets {
    // MARK: Trackers (issue 17)

    /// The bytes of an MTi's line, fed in chunks of the first byte's size (1 … 256): every byte ends up
    /// in a message, the discarded count or the buffer (empty after the flush), and every MTData2
    /// parses without trapping.
    static func xsens(_ input: UnsafeRawBufferPointer) -> Bool {
        guard let first = input.first else { return false }
        let chunk = Int(first) + 1
        let body = UnsafeRawBufferPointer(rebasing: input.dropFirst())
        var decoder = Xsens.FrameDecoder()
        var messages: UInt64 = 0
        var start = 0
        func take(_ result: Xsens.DecodeResult) {
            guard let message = result.decodedMessage else { return }
            messages += 1
            // The MTData2 parser walks every item by its own size field: it must stop inside the payload.
            if message.messageID == .mtData2 { _ = message.mtData2Sample }
        }
        while start < body.count {
            let end = min(body.count, start + chunk)
            decoder.push(UnsafeRawBufferPointer(rebasing: body[start..<end]), take)
            start = end
        }
        decoder.flush(take)
        let statistics = decoder.statistics
        invariant(decoder.bufferedByteCount == 0, "xsens: \(decoder.bufferedByteCount) bytes left after the flush")
        invariant(statistics.bytesReceived == UInt64(body.count), "xsens: \(statistics.bytesReceived) bytes counted of \(body.count)")
        invariant(statistics.framesDecoded == messages, "xsens: \(statistics.framesDecoded) frames counted, \(messages) returned")
        invariant(statistics.discardedBytes <= statistics.bytesReceived, "xsens: more bytes discarded than received")
        return messages > 0
    }

    /// A BNO08x RVC stream: received = 19 × frames + discarded, and every frame re-encodes to its bytes.
    static func bno08x(_ input: UnsafeRawBufferPointer) -> Bool {
        var decoder = BNO08xRVC.FrameDecoder()
        var frames: UInt64 = 0
        decoder.push(input) { frame in
            frames += 1
            let encoded = BNO08xRVC.FrameEncoder.frame(frame)
            var again = BNO08xRVC.FrameDecoder()
            var same = false
            encoded.withUnsafeBytes { again.push($0) { same = $0 == frame } }
            invariant(same, "bno08x: a decoded frame does not survive its own encoding: \(frame)")
        }
        let statistics = decoder.statistics
        invariant(statistics.bytesReceived == UInt64(input.count), "bno08x: \(statistics.bytesReceived) bytes counted of \(input.count)")
        invariant(statistics.framesDecoded == frames, "bno08x: \(statistics.framesDecoded) frames counted, \(frames) returned")
        invariant(
            statistics.bytesReceived == 19 * frames + statistics.discardedBytes + UInt64(decoder.bufferedByteCount),
            "bno08x: bytes unaccounted for (\(statistics))")
        return frames > 0
    }

    /// NDI bytes: the first byte's bit 0 chooses the host's reply decoder (expecting BX when bit 1 is
    /// set) or a device's command parser; neither may trap, and the reply decoder accounts for every byte.
    static func ndi(_ input: UnsafeRawBufferPointer) -> Bool {
        guard let mode = input.first else { return false }
        let body = UnsafeRawBufferPointer(rebasing: input.dropFirst())
        if mode & 1 == 0 {
            var decoder = NDI.ReplyDecoder(expecting: mode & 2 == 0 ? .ascii : .bx)
            var replies: UInt64 = 0
            func take(_ result: NDI.DecodeResult) {
                switch result {
                case .ascii, .bx: replies += 1
                case .rejected: break
                }
            }
            decoder.push(body, take)
            while let result = decoder.next() { take(result) }
            decoder.flush(take)
            let statistics = decoder.statistics
            invariant(statistics.bytesReceived == UInt64(body.count), "ndi: \(statistics.bytesReceived) bytes counted of \(body.count)")
            invariant(decoder.bufferedByteCount == 0, "ndi: \(decoder.bufferedByteCount) bytes left after the flush")
            invariant(statistics.discardedBytes <= statistics.bytesReceived, "ndi: more bytes discarded than received")
            return replies > 0
        }
        var parser = NDI.CommandParser()
        var commands = 0
        parser.push(body) { _ in commands += 1 }
        return commands > 0
    }
}
