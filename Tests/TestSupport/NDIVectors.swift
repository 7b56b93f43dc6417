import Foundation
import StrictJSON
import Wire

/// One test vector from protocols/ndi/vectors/ (README §11), turned into Swift values. A
/// `device_to_host` vector holds replies for the host's `NDI.ReplyDecoder`; a `host_to_device` one
/// holds command lines for the device's `NDI.CommandParser`.
public struct NDIVector: Sendable {
    public var name: String
    public var description: String
    /// "host_to_device" or "device_to_host".
    public var direction: String
    public var wire: [UInt8]
    /// Encoding the single expected reply or command reproduces `wire` exactly.
    public var canonical: Bool
    /// What the host expects (device_to_host only).
    public var expecting: NDI.ReplyDecoder.Expectation?
    /// device_to_host: the replies, in order, after the bytes and the end of the exchange (`flush`).
    public var expectedReplies: [NDI.DecodeResult]
    /// device_to_host: each expected ASCII reply's meaning as the reference classifies it (nil otherwise).
    public var expectedKinds: [NDI.ReplyKind?]
    public var replyStatistics: NDI.DecoderStatistics
    /// host_to_device: the commands and refusals, in order.
    public var expectedCommands: [NDI.CommandResult]
    /// host_to_device: each refusal's ERROR code as the reference gives it (nil for a command).
    public var expectedErrorCodes: [UInt8?]
    public var commandStatistics: NDI.CommandStatistics

    public var isReply: Bool { direction == "device_to_host" }
}

/// One example of protocols/ndi/vectors/crc/crc16.json.
public struct NDICRCExample: Sendable {
    public var description: String
    public var input: [UInt8]
    public var crc: UInt16
    /// The CRC as a binary reply carries it (low byte first).
    public var binaryWireOrder: [UInt8]
}

/// Loads protocols/ndi/vectors/, which protocols/ndi/tools/make_vectors.py writes from the reference
/// implementation (protocols/ndi/tools/ndi.py).
public enum NDIVectors {
    public static let directory = RepositoryPaths.file("protocols/ndi/vectors")

    /// Every vector, sorted by name. Throws with the file name when a vector cannot be read.
    public static func all() throws -> [NDIVector] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { try load(directory.appendingPathComponent($0)) }
    }

    public static func named(_ name: String) throws -> NDIVector {
        try load(directory.appendingPathComponent(name + ".json"))
    }

    public static func crcExamples() throws -> [NDICRCExample] {
        let url = directory.appendingPathComponent("crc").appendingPathComponent("crc16.json")
        let document = try JSONParser.parse(bytes: Array(try Data(contentsOf: url)))
        let file = Fields(try present(document.objectValue, "crc16.json: not an object"), context: "crc16.json")
        return try file.array("examples").enumerated().map { index, value in
            let example = Fields(try present(value.objectValue, "examples[\(index)]"), context: "crc16.json.examples[\(index)]")
            return NDICRCExample(
                description: try example.string("description"), input: try hexBytes(try example.string("input_hex")),
                crc: UInt16(try hexNumber(try example.string("crc"))),
                binaryWireOrder: try hexBytes(try example.string("binary_wire_order_hex")))
        }
    }

    static func load(_ url: URL) throws -> NDIVector {
        let context = url.lastPathComponent
        let document = try JSONParser.parse(bytes: Array(try Data(contentsOf: url)))
        let file = Fields(try present(document.objectValue, "\(context): not an object"), context: context)
        let direction = try file.string("direction")
        var vector = NDIVector(
            name: try file.string("name"), description: try file.string("description"), direction: direction,
            wire: try hexBytes(try file.string("wire_hex")), canonical: try file.bool("canonical"), expecting: nil,
            expectedReplies: [], expectedKinds: [], replyStatistics: NDI.DecoderStatistics(), expectedCommands: [],
            expectedErrorCodes: [], commandStatistics: NDI.CommandStatistics())
        let stats = Fields(try file.object("statistics"), context: "\(context).statistics")
        let entries = try file.array("expect")
        if direction == "device_to_host" {
            let expecting = try file.string("expecting")
            vector.expecting = try present(NDI.ReplyDecoder.Expectation(rawValue: expecting), "\(context): expecting \(expecting)")
            for (index, value) in entries.enumerated() {
                let (result, kind) = try reply(try present(value.objectValue, "expect[\(index)]"), context: "\(context).expect[\(index)]")
                vector.expectedReplies.append(result)
                vector.expectedKinds.append(kind)
            }
            vector.replyStatistics.bytesReceived = UInt64(try stats.int("bytes_received"))
            vector.replyStatistics.repliesDecoded = UInt64(try stats.int("replies_decoded"))
            vector.replyStatistics.crcErrors = UInt64(try stats.int("crc_errors"))
            vector.replyStatistics.oversizeFrames = UInt64(try stats.int("oversize_frames"))
            vector.replyStatistics.malformedFrames = UInt64(try stats.int("malformed_frames"))
            vector.replyStatistics.rejectedReplies = UInt64(try stats.int("rejected_replies"))
            vector.replyStatistics.discardedBytes = UInt64(try stats.int("discarded_bytes"))
        } else {
            for (index, value) in entries.enumerated() {
                let (result, code) = try command(try present(value.objectValue, "expect[\(index)]"), context: "\(context).expect[\(index)]")
                vector.expectedCommands.append(result)
                vector.expectedErrorCodes.append(code)
            }
            vector.commandStatistics.bytesReceived = UInt64(try stats.int("bytes_received"))
            vector.commandStatistics.commandsDecoded = UInt64(try stats.int("commands_decoded"))
            vector.commandStatistics.crcErrors = UInt64(try stats.int("crc_errors"))
            vector.commandStatistics.oversizeLines = UInt64(try stats.int("oversize_lines"))
            vector.commandStatistics.malformedLines = UInt64(try stats.int("malformed_lines"))
            vector.commandStatistics.discardedBytes = UInt64(try stats.int("discarded_bytes"))
        }
        return vector
    }

    /// `{"reply": {...}}` or `{"rejected": {"reason": ...}}`.
    static func reply(_ entry: JSONObject, context: String) throws -> (NDI.DecodeResult, NDI.ReplyKind?) {
        if let rejected = entry["rejected"]?.objectValue {
            let reason = try Fields(rejected, context: context).string("reason")
            let known = try present(NDI.ReplyRejectionReason(rawValue: reason), "\(context): reason \(reason)")
            return (.rejected(NDI.ReplyRejection(reason: known)), nil)
        }
        let reply = Fields(try present(entry["reply"]?.objectValue, "\(context): neither reply nor rejected"), context: context)
        switch try reply.string("kind") {
        case "ascii":
            let text = try present(NDI.ReplyText(try reply.string("text")), "\(context): text too long")
            let classification = Fields(try reply.object("classification"), context: "\(context).classification")
            let kind: NDI.ReplyKind
            switch try classification.string("kind") {
            case "okay": kind = .okay
            case "reset": kind = .reset
            case "error": kind = .error(code: UInt8(try classification.int("code")))
            case "warning": kind = .warning(code: UInt8(try classification.int("code")))
            case "data": kind = .data
            case let other: throw VectorError("\(context): classification \(other)")
            }
            let crc = UInt16(try hexNumber(try reply.string("crc")))
            guard crc == NDI.CRC16.checksum(text) else { throw VectorError("\(context): the vector's CRC disagrees with its text") }
            return (.ascii(NDI.ASCIIReply(text: text)), kind)
        case "bx":
            var bx = NDI.BXReply(systemStatus: NDI.SystemStatus(rawValue: UInt16(try reply.int("system_status"))))
            for (index, value) in try reply.array("handles").enumerated() {
                let handle = Fields(try present(value.objectValue, "handles[\(index)]"), context: "\(context).handles[\(index)]")
                guard bx.handles.append(try handleReport(handle)) else { throw VectorError("\(context): more handles than a HandleList holds") }
            }
            return (.bx(bx), nil)
        case let other:
            throw VectorError("\(context): reply kind \(other)")
        }
    }

    /// One handle of a BX reply. The floats are read from their bit patterns (exact), and millimetres are
    /// turned into metres here by the README's rule (m = mm / 1000), not by the codec.
    static func handleReport(_ handle: Fields) throws -> NDI.HandleReport {
        let number = UInt8(try handle.int("handle"))
        let statusName = try handle.string("status")
        switch try present(NDI.HandleStatus(name: statusName), "status \(statusName)") {
        case .disabled:
            return .disabled(handle: number)
        case .missing:
            return .missing(
                handle: number, portStatus: NDI.PortStatus(rawValue: UInt32(try handle.int("port_status"))),
                frameNumber: UInt32(try handle.int("frame_number")))
        case .valid:
            let q = try floats(try handle.array("orientation_bits"))
            let t = try floats(try handle.array("position_bits"))
            let error = Float(bitPattern: UInt32(try hexNumber(try handle.string("rms_error_bits"))))
            guard q.count == 4, t.count == 3 else { throw VectorError("orientation_bits / position_bits: wrong count") }
            let pose = NDI.ToolPose(
                orientation: SIMD4(Double(q[0]), Double(q[1]), Double(q[2]), Double(q[3])),
                positionMeters: SIMD3(Double(t[0]) / 1000, Double(t[1]) / 1000, Double(t[2]) / 1000),
                rmsErrorMillimeters: Double(error))
            return .valid(
                handle: number, pose: pose, portStatus: NDI.PortStatus(rawValue: UInt32(try handle.int("port_status"))),
                frameNumber: UInt32(try handle.int("frame_number")))
        }
    }

    /// `{"command": {...}}` or `{"rejected": {"reason": ..., "error_code": ...}}`.
    static func command(_ entry: JSONObject, context: String) throws -> (NDI.CommandResult, UInt8?) {
        if let rejected = entry["rejected"]?.objectValue {
            let fields = Fields(rejected, context: context)
            let reason = try fields.string("reason")
            let known = try present(NDI.CommandRejectionReason(rawValue: reason), "\(context): reason \(reason)")
            return (.rejected(NDI.CommandRejection(reason: known)), UInt8(try fields.int("error_code")))
        }
        let fields = Fields(try present(entry["command"]?.objectValue, "\(context): neither command nor rejected"), context: context)
        let form = try fields.string("form")
        let command = try present(
            NDI.Command(
                try fields.string("name"), parameters: try fields.string("parameters"),
                form: try present(NDI.CommandForm(rawValue: form), "\(context): form \(form)")),
            "\(context): not a valid command")
        return (.command(command), nil)
    }

    static func floats(_ values: [JSONValue]) throws -> [Float] {
        try values.map { Float(bitPattern: UInt32(try hexNumber(try present($0.stringValue, "a float's bits")))) }
    }

    /// "0x1A2B" or "1A2B".
    static func hexNumber(_ text: String) throws -> UInt64 {
        let digits = text.hasPrefix("0x") ? String(text.dropFirst(2)) : text
        return try present(UInt64(digits, radix: 16), "bad hex number \(text)")
    }

    static func hexBytes(_ hex: String) throws -> [UInt8] {
        let characters = Array(hex.utf8)
        guard characters.count % 2 == 0 else { throw VectorError("odd number of hex digits") }
        return try stride(from: 0, to: characters.count, by: 2).map { index in
            try present(UInt8(String(decoding: characters[index..<index + 2], as: UTF8.self), radix: 16), "bad hex")
        }
    }

    private static func present<T>(_ value: T?, _ message: @autoclosure () -> String) throws -> T {
        guard let value else { throw VectorError(message()) }
        return value
    }
}
