import Foundation
import StrictJSON
import Wire

/// One test vector from protocols/xsens/vectors/ (README §9), turned into Swift values. The codec tests
/// (WireTests) and the simulator's tests read the same files.
public struct XsensVector: Sendable {
    /// What the reference implementation decoded from one expected message, beyond the message itself.
    public struct Details: Sendable {
        /// The frame used the extended length form.
        public var extendedLength: Bool
        /// The checksum byte on the wire.
        public var checksum: UInt8
        public var deviceID: UInt64?
        public var productCode: String?
        public var firmwareRevision: Xsens.FirmwareRevision?
        public var outputConfiguration: Xsens.OutputConfiguration?
        public var errorCode: Xsens.ErrorCode?
        /// MTData2: every whole item, in order.
        public var items: [Xsens.MTData2Item]
        /// MTData2: the bytes of each item in `items`.
        public var itemData: [[UInt8]]
        /// MTData2: the sample the reference parsed.
        public var sample: Xsens.MTData2Sample?
        /// MTData2: the precision with which `FrameEncoder.mtData2` rebuilds the payload from `sample`, when it does.
        public var encodingPrecision: Xsens.Precision?
    }

    public var name: String
    public var description: String
    /// "host_to_device" or "device_to_host".
    public var direction: String
    /// "xsens-document", "capture" or "rehabhost".
    public var sourceKind: String
    public var wire: [UInt8]
    /// Encoding the single expected message reproduces `wire` exactly.
    public var canonical: Bool
    public var expected: [Xsens.DecodeResult]
    /// For each entry of `expected`: its details, nil for a rejection.
    public var details: [Details?]
    /// The decoder's counters after `wire` and a final `flush`.
    public var statistics: Xsens.DecoderStatistics
}

public enum XsensVectors {
    public static let directory = RepositoryPaths.file("protocols/xsens/vectors")

    /// Every vector, sorted by name. Throws with the file name when a vector cannot be read.
    public static func all() throws -> [XsensVector] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { try load(directory.appendingPathComponent($0)) }
    }

    public static func named(_ name: String) throws -> XsensVector {
        try load(directory.appendingPathComponent(name + ".json"))
    }

    static func load(_ url: URL) throws -> XsensVector {
        let context = url.lastPathComponent
        let document = try JSONParser.parse(bytes: Array(try Data(contentsOf: url)))
        let file = Fields(try document.objectValue.orThrow("\(context): not an object"), context: context)
        let stats = Fields(try file.object("statistics"), context: "\(context).statistics")
        var statistics = Xsens.DecoderStatistics()
        statistics.bytesReceived = UInt64(try stats.int("bytes_received"))
        statistics.framesDecoded = UInt64(try stats.int("frames_decoded"))
        statistics.checksumErrors = UInt64(try stats.int("checksum_errors"))
        statistics.oversizeFrames = UInt64(try stats.int("oversize_frames"))
        statistics.malformedFrames = UInt64(try stats.int("malformed_frames"))
        statistics.rejectedFrames = UInt64(try stats.int("rejected_frames"))
        statistics.discardedBytes = UInt64(try stats.int("discarded_bytes"))
        var expected: [Xsens.DecodeResult] = []
        var details: [XsensVector.Details?] = []
        for (index, value) in try file.array("expect").enumerated() {
            let location = "\(context).expect[\(index)]"
            let entry = try value.objectValue.orThrow("\(location): not an object")
            if let packet = entry["packet"]?.objectValue {
                let (message, detail) = try decodePacket(Fields(packet, context: location + ".packet"))
                expected.append(.message(message))
                details.append(detail)
            } else {
                let rejected = Fields(
                    try (entry["rejected"]?.objectValue).orThrow("\(location): neither packet nor rejected"),
                    context: location + ".rejected")
                let reasonName = try rejected.string("reason")
                expected.append(
                    .rejected(
                        Xsens.Rejection(
                            reason: try Xsens.RejectionReason(rawValue: reasonName).orThrow("reason \(reasonName)"),
                            messageID: Xsens.MessageID(rawValue: UInt8(try rejected.int("mid"))),
                            length: Int(try rejected.int("length")))))
                details.append(nil)
            }
        }
        let source = Fields(try file.object("source"), context: "\(context).source")
        return XsensVector(
            name: try file.string("name"), description: try file.string("description"),
            direction: try file.string("direction"), sourceKind: try source.string("kind"),
            wire: try hexBytes(try file.string("wire_hex")), canonical: try file.bool("canonical"),
            expected: expected, details: details, statistics: statistics)
    }

    /// The message (mid, payload_hex) and what the reference decoded from it (`fields`).
    static func decodePacket(_ packet: Fields) throws -> (Xsens.Message, XsensVector.Details) {
        let id = Xsens.MessageID(rawValue: UInt8(try packet.int("mid")))
        let name = try packet.string("name")
        guard id.name == name else { throw VectorError("\(packet.context): mid \(id.rawValue) is not \(name)") }
        let bytes = try hexBytes(try packet.string("payload_hex"))
        let payload = try bytes.withUnsafeBytes { Xsens.Payload(copying: $0) }.orThrow("\(packet.context): payload too long")
        let checksumText = try packet.string("checksum")
        var details = XsensVector.Details(
            extendedLength: try packet.bool("extended_length"),
            checksum: try UInt8(checksumText.dropFirst(2), radix: 16).orThrow("checksum \(checksumText)"),
            items: [], itemData: [])
        let fields = Fields(try packet.object("fields"), context: packet.context + ".fields")
        switch id {
        case .deviceID:
            details.deviceID = UInt64(try fields.int("device_id"))
        case .productCode:
            details.productCode = try fields.string("product_code")
        case .firmwareRevision:
            var revision = Xsens.FirmwareRevision(
                major: UInt8(try fields.int("major")), minor: UInt8(try fields.int("minor")),
                revision: UInt8(try fields.int("revision")))
            if fields.object["build"] != nil {
                revision.build = UInt32(try fields.int("build"))
                revision.svnRevision = UInt32(try fields.int("svn_revision"))
            }
            details.firmwareRevision = revision
        case .setOutputConfiguration, .outputConfiguration:
            var configuration = Xsens.OutputConfiguration()
            for (index, value) in try fields.array("entries").enumerated() {
                let entry = Fields(try value.objectValue.orThrow("entry"), context: "\(fields.context).entries[\(index)]")
                configuration.append(
                    .init(
                        dataID: Xsens.DataID(rawValue: UInt16(try entry.int("data_id"))),
                        frequencyHertz: UInt16(try entry.int("frequency_hz"))))
            }
            details.outputConfiguration = configuration
        case .error:
            details.errorCode = Xsens.ErrorCode(rawValue: UInt8(try fields.int("error_code")))
        case .mtData2:
            var offset = 0
            for (index, value) in try fields.array("items").enumerated() {
                let item = Fields(try value.objectValue.orThrow("item"), context: "\(fields.context).items[\(index)]")
                let idText = try item.string("data_id")
                let dataID = try UInt16(idText.dropFirst(2), radix: 16).orThrow("data_id \(idText)")
                let size = Int(try item.int("size"))
                details.items.append(Xsens.MTData2Item(dataID: Xsens.DataID(rawValue: dataID), dataOffset: offset + 3, size: size))
                details.itemData.append(try hexBytes(try item.string("data_hex")))
                offset += 3 + size
            }
            details.sample = try sample(Fields(try fields.object("sample"), context: fields.context + ".sample"))
            if let encoding = fields.object["encoding"]?.objectValue {
                let precisionName = try Fields(encoding, context: "encoding").string("precision")
                details.encodingPrecision = try Xsens.Precision.allCases.first { $0.name == precisionName }
                    .orThrow("precision \(precisionName)")
            }
        default:
            break
        }
        return (Xsens.Message(id, payload: payload), details)
    }

    /// The reference's MTData2Sample; JSON null (or a missing key) is an absent item.
    static func sample(_ f: Fields) throws -> Xsens.MTData2Sample {
        func vector(_ key: String) throws -> Xsens.Vector3? {
            guard let object = f.object[key]?.objectValue else { return nil }
            let v = Fields(object, context: "\(f.context).\(key)")
            return Xsens.Vector3(x: try v.xsensDouble("x"), y: try v.xsensDouble("y"), z: try v.xsensDouble("z"))
        }
        var sample = Xsens.MTData2Sample()
        sample.packetCounter = (f.object["packet_counter"]?.integerValue).map { UInt16($0) }
        sample.sampleTimeFine = (f.object["sample_time_fine"]?.integerValue).map { UInt32($0) }
        sample.statusWord = (f.object["status_word"]?.integerValue).map { UInt32($0) }
        if let object = f.object["quaternion"]?.objectValue {
            let q = Fields(object, context: "\(f.context).quaternion")
            let frameName = try q.string("coordinate_system")
            sample.quaternion = Xsens.Quaternion(
                w: try q.xsensDouble("w"), x: try q.xsensDouble("x"), y: try q.xsensDouble("y"), z: try q.xsensDouble("z"),
                coordinateSystem: try Xsens.CoordinateSystem.allCases.first { $0.name == frameName }
                    .orThrow("coordinate system \(frameName)"))
        }
        sample.accelerationMetersPerSecondSquared = try vector("acceleration_m_s2")
        sample.rateOfTurnRadiansPerSecond = try vector("rate_of_turn_rad_s")
        sample.unusedItemCount = Int(try f.int("unused_items"))
        sample.malformedItemCount = Int(try f.int("malformed_items"))
        sample.isTruncated = try f.bool("truncated")
        return sample
    }

    static func hexBytes(_ hex: String) throws -> [UInt8] {
        let characters = Array(hex.utf8)
        guard characters.count % 2 == 0 else { throw VectorError("odd number of hex digits") }
        return try stride(from: 0, to: characters.count, by: 2).map { index in
            try UInt8(String(decoding: characters[index..<index + 2], as: UTF8.self), radix: 16).orThrow("bad hex")
        }
    }
}

extension Fields {
    /// A number as a Double (integers included: the reference writes 0.5 and 2.0 but also, for
    /// integral values, may write them as integers).
    fileprivate func xsensDouble(_ key: String) throws -> Double {
        try (object[key]?.doubleValue).orThrow("\(context).\(key): missing or not a number")
    }
}
