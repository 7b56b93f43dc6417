import Foundation
import Primitives
import StrictJSON
import Wire

/// One test vector from protocols/rehablink/vectors/, turned into Swift values.
public struct RehabLinkVector: Sendable {
    public var name: String
    public var description: String
    /// "host_to_device" or "device_to_host".
    public var direction: String
    public var wire: [UInt8]
    /// Encoding the single expected packet reproduces `wire` exactly.
    public var canonical: Bool
    public var expected: [RehabLink.DecodeResult]
    public var statistics: RehabLink.DecoderStatistics
}

public enum RehabLinkVectors {
    public static let directory = RepositoryPaths.file("protocols/rehablink/vectors")

    /// Every vector, sorted by name. Throws with the file name when a vector cannot be read.
    public static func all() throws -> [RehabLinkVector] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { try load(directory.appendingPathComponent($0)) }
    }

    public static func named(_ name: String) throws -> RehabLinkVector {
        try load(directory.appendingPathComponent(name + ".json"))
    }

    static func load(_ url: URL) throws -> RehabLinkVector {
        let data = try Data(contentsOf: url)
        let document = try JSONParser.parse(bytes: Array(data)).objectValue.orThrow("\(url.lastPathComponent): not an object")
        let field = Fields(document, context: url.lastPathComponent)
        var statistics = RehabLink.DecoderStatistics()
        let stats = Fields(try field.object("statistics"), context: "statistics")
        statistics.bytesReceived = UInt64(try stats.int("bytes_received"))
        statistics.packetsDecoded = UInt64(try stats.int("packets_decoded"))
        statistics.crcErrors = UInt64(try stats.int("crc_errors"))
        statistics.oversizeFrames = UInt64(try stats.int("oversize_frames"))
        statistics.malformedFrames = UInt64(try stats.int("malformed_frames"))
        statistics.rejectedPackets = UInt64(try stats.int("rejected_packets"))
        statistics.discardedBytes = UInt64(try stats.int("discarded_bytes"))
        return RehabLinkVector(
            name: try field.string("name"), description: try field.string("description"),
            direction: try field.string("direction"), wire: try hexBytes(try field.string("wire_hex")),
            canonical: try field.bool("canonical"),
            expected: try field.array("expect").map { try outcome($0) }, statistics: statistics)
    }

    static func outcome(_ value: JSONValue) throws -> RehabLink.DecodeResult {
        let object = try value.objectValue.orThrow("expect entry is not an object")
        if let packet = object["packet"]?.objectValue {
            let fields = Fields(packet, context: "packet")
            let type = try fields.string("type")
            return .packet(
                RehabLink.Packet(
                    sequence: UInt16(try fields.int("sequence")),
                    message: try message(type: type, Fields(try fields.object("fields"), context: type))))
        }
        let rejected = Fields(try (object["rejected"]?.objectValue).orThrow("expect entry has neither packet nor rejected"), context: "rejected")
        return .rejected(
            RehabLink.PacketRejection(
                reason: try errorCode(try rejected.string("reason")), version: 0,
                type: UInt8(try rejected.int("type")), sequence: UInt16(try rejected.int("sequence"))))
    }

    /// Builds the Swift message from the spec's field names.
    public static func message(type: String, _ f: Fields) throws -> RehabLink.Message {
        switch type {
        case "identify": return .identify
        case "disable": return .disable
        case "heartbeat": return .heartbeat
        case "fault_reset": return .faultReset
        case "enable": return .enable(watchdogPeriodMicroseconds: UInt32(try f.int("watchdog_period_us")))
        case "param_get": return .parameterGet(RehabLink.ParameterID(rawValue: UInt16(try f.int("param_id"))))
        case "param_set":
            return .parameterSet(RehabLink.ParameterID(rawValue: UInt16(try f.int("param_id"))), value: Int32(try f.int("value")))
        case "command":
            let joints = try f.array("joints")
            var list = JointList(count: joints.count, repeating: RehabLink.JointCommand.off)
            for (index, value) in joints.enumerated() {
                let j = Fields(try value.objectValue.orThrow("joint"), context: "joints[\(index)]")
                let modeName = try j.string("mode")
                let mode = try RehabLink.JointCommandMode.allCases.first { "\($0)" == modeName }.orThrow("mode \(modeName)")
                list[index] = RehabLink.JointCommand(
                    mode: mode, positionMicroradians: Int32(try j.int("position_urad")),
                    velocityMicroradiansPerSecond: Int32(try j.int("velocity_urad_s")),
                    torqueMillinewtonMeters: Int32(try j.int("torque_mnm")),
                    stiffnessMillinewtonMetersPerRadian: Int32(try j.int("stiffness_mnm_per_rad")),
                    dampingMillinewtonMeterSecondsPerRadian: Int32(try j.int("damping_mnms_per_rad")))
            }
            return .command(list)
        case "identity":
            let joints = try f.array("joints")
            var list = JointList(
                count: joints.count,
                repeating: RehabLink.JointLimits(
                    positionMinimumMicroradians: 0, positionMaximumMicroradians: 0,
                    velocityMaximumMicroradiansPerSecond: 0, torqueMaximumMillinewtonMeters: 0,
                    encoderCountsPerRevolution: 0))
            for (index, value) in joints.enumerated() {
                let j = Fields(try value.objectValue.orThrow("joint"), context: "joints[\(index)]")
                list[index] = RehabLink.JointLimits(
                    positionMinimumMicroradians: Int32(try j.int("position_min_urad")),
                    positionMaximumMicroradians: Int32(try j.int("position_max_urad")),
                    velocityMaximumMicroradiansPerSecond: Int32(try j.int("velocity_max_urad_s")),
                    torqueMaximumMillinewtonMeters: Int32(try j.int("torque_max_mnm")),
                    encoderCountsPerRevolution: UInt32(try j.int("encoder_counts_per_rev")))
            }
            return .identity(
                RehabLink.DeviceIdentity(
                    protocolVersion: UInt8(try f.int("protocol_version")), firmwareMajor: UInt8(try f.int("firmware_major")),
                    firmwareMinor: UInt8(try f.int("firmware_minor")), firmwarePatch: UInt8(try f.int("firmware_patch")),
                    model: FixedASCII(try f.string("model")), serialNumber: FixedASCII(try f.string("serial_number")),
                    joints: list))
        case "ack":
            let typeName = try f.string("acked_type")
            let resultName = try f.string("result")
            return .acknowledge(
                RehabLink.Acknowledgement(
                    acknowledgedType: try messageType(typeName),
                    result: try RehabLink.AcknowledgeResult.allCases.first { snake("\($0)") == resultName }.orThrow("result \(resultName)"),
                    acknowledgedSequence: UInt16(try f.int("acked_sequence")), value: Int32(try f.int("value"))))
        case "state":
            let joints = try f.array("joints")
            var list = JointList(count: joints.count, repeating: RehabLink.JointState())
            for (index, value) in joints.enumerated() {
                let j = Fields(try value.objectValue.orThrow("joint"), context: "joints[\(index)]")
                list[index] = RehabLink.JointState(
                    positionMicroradians: Int32(try j.int("position_urad")),
                    velocityMicroradiansPerSecond: Int32(try j.int("velocity_urad_s")),
                    torqueMillinewtonMeters: Int32(try j.int("torque_mnm")),
                    interactionTorqueMillinewtonMeters: Int32(try j.int("interaction_torque_mnm")),
                    encoderCounts: UInt32(try j.int("encoder_counts")),
                    motorCurrentMilliamperes: Int16(try j.int("current_ma")),
                    temperatureDecidegreesCelsius: Int16(try j.int("temperature_dc")),
                    flags: RehabLink.JointFlags(rawValue: UInt8(try j.int("flags"))))
            }
            return .state(
                RehabLink.StateReport(
                    deviceTimeMicroseconds: UInt32(try f.int("device_time_us")),
                    commandSequence: UInt16(try f.int("command_sequence")),
                    status: RehabLink.StatusFlags(rawValue: UInt16(try f.int("status"))),
                    faultCode: RehabLink.FaultCode(rawValue: UInt16(try f.int("fault_code"))), joints: list))
        case "fault":
            return .fault(
                RehabLink.FaultReport(
                    code: RehabLink.FaultCode(rawValue: UInt16(try f.int("fault_code"))), joint: UInt8(try f.int("joint")),
                    value: Int32(try f.int("value")), deviceTimeMicroseconds: UInt32(try f.int("device_time_us"))))
        case "param":
            let resultName = try f.string("result")
            return .parameter(
                RehabLink.ParameterReport(
                    parameter: RehabLink.ParameterID(rawValue: UInt16(try f.int("param_id"))),
                    result: try RehabLink.ParameterResult.allCases.first { snake("\($0)") == resultName }.orThrow("result \(resultName)"),
                    value: Int32(try f.int("value"))))
        case "error":
            return .error(
                RehabLink.ProtocolErrorReport(
                    code: try errorCode(try f.string("error_code")), offendingType: UInt8(try f.int("offending_type")),
                    offendingSequence: UInt16(try f.int("offending_sequence"))))
        default:
            throw VectorError("unknown message type \(type)")
        }
    }

    public static func messageType(_ name: String) throws -> RehabLink.MessageType {
        let spec: [String: RehabLink.MessageType] = [
            "identify": .identify, "enable": .enable, "disable": .disable, "command": .command, "heartbeat": .heartbeat,
            "param_get": .parameterGet, "param_set": .parameterSet, "fault_reset": .faultReset, "identity": .identity,
            "ack": .acknowledge, "state": .state, "fault": .fault, "param": .parameter, "error": .error,
        ]
        return try spec[name].orThrow("message type \(name)")
    }

    public static func errorCode(_ name: String) throws -> RehabLink.ProtocolErrorCode {
        try RehabLink.ProtocolErrorCode.allCases.first { snake("\($0)") == name }.orThrow("error code \(name)")
    }

    /// camelCase → snake_case, to match Swift case names with the spec's names.
    static func snake(_ name: String) -> String {
        var output = ""
        for character in name {
            if character.isUppercase {
                output += "_" + character.lowercased()
            } else {
                output.append(character)
            }
        }
        return output.replacingOccurrences(of: "refused_emergency_stop", with: "refused_estop")
    }

    static func hexBytes(_ hex: String) throws -> [UInt8] {
        let characters = Array(hex.utf8)
        guard characters.count % 2 == 0 else { throw VectorError("odd number of hex digits") }
        return try stride(from: 0, to: characters.count, by: 2).map { index in
            try UInt8(String(decoding: characters[index..<index + 2], as: UTF8.self), radix: 16).orThrow("bad hex")
        }
    }
}

/// Typed access to a vector's JSON object, with the path in every error.
public struct Fields {
    let object: JSONObject
    let context: String

    public init(_ object: JSONObject, context: String) {
        self.object = object
        self.context = context
    }

    public func int(_ key: String) throws -> Int64 {
        try (object[key]?.integerValue).orThrow("\(context).\(key): missing or not an integer")
    }

    public func string(_ key: String) throws -> String {
        try (object[key]?.stringValue).orThrow("\(context).\(key): missing or not a string")
    }

    public func bool(_ key: String) throws -> Bool {
        try (object[key]?.boolValue).orThrow("\(context).\(key): missing or not a boolean")
    }

    public func array(_ key: String) throws -> [JSONValue] {
        try (object[key]?.arrayValue).orThrow("\(context).\(key): missing or not an array")
    }

    public func object(_ key: String) throws -> JSONObject {
        try (object[key]?.objectValue).orThrow("\(context).\(key): missing or not an object")
    }
}

public struct VectorError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension Optional {
    func orThrow(_ message: @autoclosure () -> String) throws -> Wrapped {
        guard let value = self else { throw VectorError(message()) }
        return value
    }
}

extension RehabLink.DecodeResult {
    /// The result with the version of a rejection zeroed: the vectors do not record it.
    public var ignoringRejectedVersion: RehabLink.DecodeResult {
        if case .rejected(var rejection) = self {
            rejection.version = 0
            return .rejected(rejection)
        }
        return self
    }
}
