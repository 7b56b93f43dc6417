import Foundation
import StrictJSON
import Wire

/// One test vector from protocols/bno08x-rvc/vectors/ (README §10), turned into Swift values.
public struct BNO08xRVCVector: Sendable {
    public var name: String
    public var description: String
    /// The input: reports, junk, damaged and truncated reports.
    public var wire: [UInt8]
    /// Encoding the single expected frame reproduces `wire` exactly.
    public var canonical: Bool
    /// What the receiver of README §7 yields, in order.
    public var expected: [BNO08xRVCExpectedFrame]
    /// The counters after the whole input.
    public var statistics: BNO08xRVC.DecoderStatistics
    /// Bytes still in the receiver's window after the whole input.
    public var bufferedBytes: Int
}

/// One `{"frame": …}` entry of a vector's `expect`.
public struct BNO08xRVCExpectedFrame: Sendable {
    public var frame: BNO08xRVC.Frame
    /// The offset in `wire` of the byte that completes the frame (its checksum byte).
    public var endsAt: Int
    public var checksum: UInt8
    public var withinDocumentedRanges: Bool
    public var yawRadians: Double
    public var pitchRadians: Double
    public var rollRadians: Double
    public var accelerationXMetersPerSecondSquared: Double
    public var accelerationYMetersPerSecondSquared: Double
    public var accelerationZMetersPerSecondSquared: Double
}

/// One case of vectors/scaling/si_to_counts.json: SI → counts as the encoder's rules give it (README §6).
public struct BNO08xRVCScalingCase: Sendable {
    public enum Quantity: String, Sendable {
        /// `Scaling.wrappedCentidegrees(radians:)`.
        case yawRoll = "yaw_roll"
        /// `Scaling.pitchCentidegrees(radians:)`.
        case pitch
        /// `Scaling.milliG(metersPerSecondSquared:)`.
        case acceleration
    }

    public var quantity: Quantity
    public var si: Double
    public var counts: Int16
    public var note: String
}

public enum BNO08xRVCVectors {
    public static let directory = RepositoryPaths.file("protocols/bno08x-rvc/vectors")

    /// Every vector, sorted by name. Throws with the file name when a vector cannot be read.
    public static func all() throws -> [BNO08xRVCVector] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { try load(directory.appendingPathComponent($0)) }
    }

    public static func named(_ name: String) throws -> BNO08xRVCVector {
        try load(directory.appendingPathComponent(name + ".json"))
    }

    /// The SI → counts cases of vectors/scaling/si_to_counts.json.
    public static func scalingCases() throws -> [BNO08xRVCScalingCase] {
        let url = directory.appendingPathComponent("scaling/si_to_counts.json")
        let document = try JSONParser.parse(bytes: Array(try Data(contentsOf: url)))
        let file = Fields(try document.objectValue.orThrow("si_to_counts.json: not an object"), context: "si_to_counts.json")
        return try file.array("cases").enumerated().map { position, value in
            let context = "si_to_counts.json.cases[\(position)]"
            let object = try value.objectValue.orThrow("\(context): not an object")
            let entry = Fields(object, context: context)
            let quantityName = try entry.string("quantity")
            return BNO08xRVCScalingCase(
                quantity: try BNO08xRVCScalingCase.Quantity(rawValue: quantityName).orThrow("\(context).quantity \(quantityName)"),
                si: try double(object, "si", context: context),
                counts: try Int16(exactly: try entry.int("counts")).orThrow("\(context).counts: not an int16"),
                note: try entry.string("note"))
        }
    }

    static func load(_ url: URL) throws -> BNO08xRVCVector {
        let context = url.lastPathComponent
        let document = try JSONParser.parse(bytes: Array(try Data(contentsOf: url)))
        let file = Fields(try document.objectValue.orThrow("\(context): not an object"), context: context)
        guard try file.string("direction") == "device_to_host" else { throw VectorError("\(context): direction") }
        let stats = Fields(try file.object("statistics"), context: "\(context).statistics")
        var statistics = BNO08xRVC.DecoderStatistics()
        statistics.bytesReceived = try count(stats, "bytes_received")
        statistics.framesDecoded = try count(stats, "frames_decoded")
        statistics.checksumErrors = try count(stats, "checksum_errors")
        statistics.discardedBytes = try count(stats, "discarded_bytes")
        let expected = try file.array("expect").enumerated().map { position, value in
            let entryContext = "\(context).expect[\(position)]"
            let entry = try value.objectValue.orThrow("\(entryContext): not an object")
            let frame = try (entry["frame"]?.objectValue).orThrow("\(entryContext): no frame")
            return try expectedFrame(frame, context: "\(entryContext).frame")
        }
        return BNO08xRVCVector(
            name: try file.string("name"), description: try file.string("description"),
            wire: try hexBytes(try file.string("wire_hex")), canonical: try file.bool("canonical"), expected: expected,
            statistics: statistics, bufferedBytes: Int(try stats.int("buffered_bytes")))
    }

    static func expectedFrame(_ object: JSONObject, context: String) throws -> BNO08xRVCExpectedFrame {
        let fields = Fields(object, context: context)
        func byte(_ key: String) throws -> UInt8 {
            try UInt8(exactly: try fields.int(key)).orThrow("\(context).\(key): not a byte")
        }
        func int16(_ key: String) throws -> Int16 {
            try Int16(exactly: try fields.int(key)).orThrow("\(context).\(key): not an int16")
        }
        let si = try fields.object("si")
        let checksumText = try fields.string("checksum")
        guard checksumText.hasPrefix("0x") else { throw VectorError("\(context).checksum: \(checksumText)") }
        return BNO08xRVCExpectedFrame(
            frame: BNO08xRVC.Frame(
                index: try byte("index"), yawCentidegrees: try int16("yaw_cdeg"), pitchCentidegrees: try int16("pitch_cdeg"),
                rollCentidegrees: try int16("roll_cdeg"), accelerationXMilliG: try int16("accel_x_mg"),
                accelerationYMilliG: try int16("accel_y_mg"), accelerationZMilliG: try int16("accel_z_mg"),
                motionIntent: try byte("motion_intent"), motionRequest: try byte("motion_request"),
                reserved: try byte("reserved")),
            endsAt: Int(try fields.int("ends_at")),
            checksum: try UInt8(checksumText.dropFirst(2), radix: 16).orThrow("\(context).checksum: \(checksumText)"),
            withinDocumentedRanges: try fields.bool("within_documented_ranges"),
            yawRadians: try double(si, "yaw_rad", context: context), pitchRadians: try double(si, "pitch_rad", context: context),
            rollRadians: try double(si, "roll_rad", context: context),
            accelerationXMetersPerSecondSquared: try double(si, "accel_x_m_s2", context: context),
            accelerationYMetersPerSecondSquared: try double(si, "accel_y_m_s2", context: context),
            accelerationZMetersPerSecondSquared: try double(si, "accel_z_m_s2", context: context))
    }

    static func count(_ fields: Fields, _ key: String) throws -> UInt64 {
        try UInt64(exactly: try fields.int(key)).orThrow("\(key): negative")
    }

    static func double(_ object: JSONObject, _ key: String, context: String) throws -> Double {
        try (object[key]?.doubleValue).orThrow("\(context).\(key): missing or not a number")
    }

    /// "aaaade01…" → bytes.
    public static func hexBytes(_ hex: String) throws -> [UInt8] {
        let characters = Array(hex.utf8)
        guard characters.count % 2 == 0 else { throw VectorError("odd number of hex digits") }
        return try stride(from: 0, to: characters.count, by: 2).map { index in
            try UInt8(String(decoding: characters[index..<index + 2], as: UTF8.self), radix: 16).orThrow("bad hex")
        }
    }
}
