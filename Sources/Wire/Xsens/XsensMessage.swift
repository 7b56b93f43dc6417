extension Xsens {
    /// The firmware revision of a FirmwareRev message (README §3.5): the 3-byte form, or the 11-byte form
    /// that adds the build number and the SVN revision.
    public struct FirmwareRevision: Sendable, Equatable, CustomStringConvertible {
        public var major: UInt8
        public var minor: UInt8
        public var revision: UInt8
        /// Present in the 11-byte form only (together with `svnRevision`).
        public var build: UInt32?
        public var svnRevision: UInt32?

        public init(major: UInt8, minor: UInt8, revision: UInt8, build: UInt32? = nil, svnRevision: UInt32? = nil) {
            self.major = major
            self.minor = minor
            self.revision = revision
            self.build = build
            self.svnRevision = svnRevision
        }

        /// "1.8.2" (and " build 37 rev 70964" in the long form).
        public var description: String {
            var text = "\(major).\(minor).\(revision)"
            if let build, let svnRevision { text += " build \(build) rev \(svnRevision)" }
            return text
        }
    }

    /// One checksum-valid Xbus message: its MID and its DATA field, exactly as received (the bus ID is always
    /// `Xsens.masterBusID`). The typed views (`deviceID`, `mtData2Sample`, …) read the payload of their own
    /// message and are nil for any other message or for a payload that does not fit (README §3).
    public struct Message: Sendable, Equatable, CustomStringConvertible {
        public var messageID: Xsens.MessageID
        public var payload: Xsens.Payload

        public init(_ messageID: Xsens.MessageID, payload: Xsens.Payload = Xsens.Payload()) {
            self.messageID = messageID
            self.payload = payload
        }

        /// DeviceID: the device's serial number, from 4 data bytes (or 8, README §3.3).
        public var deviceID: UInt64? {
            guard messageID == .deviceID, payload.count == 4 || payload.count == 8 else { return nil }
            var value: UInt64 = 0
            for byte in payload { value = value << 8 | UInt64(byte) }
            return value
        }

        /// ProductCode: the ASCII code up to the first NUL, trailing spaces removed (README §3.4).
        public var productCode: FixedASCII<20>? {
            guard messageID == .productCode, rejectionReason == nil else { return nil }
            var code = FixedASCII<20>()
            var length = 0
            for byte in payload {
                if byte == 0 { break }
                code.bytes[length] = byte
                length += 1
            }
            while length > 0 && code.bytes[length - 1] == UInt8(ascii: " ") {
                length -= 1
                code.bytes[length] = 0
            }
            return code
        }

        /// FirmwareRev, in its 3- or 11-byte form (README §3.5).
        public var firmwareRevision: Xsens.FirmwareRevision? {
            guard messageID == .firmwareRevision, payload.count == 3 || payload.count == 11 else { return nil }
            var revision = Xsens.FirmwareRevision(major: payload[0], minor: payload[1], revision: payload[2])
            if payload.count == 11 {
                revision.build = payload.bigEndian(UInt32.self, at: 3)
                revision.svnRevision = payload.bigEndian(UInt32.self, at: 7)
            }
            return revision
        }

        /// The outputs of SetOutputConfiguration (empty for ReqOutputConfiguration) or of its
        /// acknowledgement OutputConfiguration (README §3.6).
        public var outputConfiguration: Xsens.OutputConfiguration? {
            guard messageID == .setOutputConfiguration || messageID == .outputConfiguration,
                payload.count % 4 == 0, payload.count <= 4 * Xsens.OutputConfiguration.capacity
            else { return nil }
            var configuration = Xsens.OutputConfiguration()
            var offset = 0
            while offset < payload.count, let id = payload.bigEndian(UInt16.self, at: offset), let frequency = payload.bigEndian(UInt16.self, at: offset + 2) {
                configuration.append(.init(dataID: Xsens.DataID(rawValue: id), frequencyHertz: frequency))
                offset += 4
            }
            return configuration
        }

        /// The code of an Error message: its first data byte (README §3.7). Further bytes, if any, stay in
        /// `payload`.
        public var errorCode: Xsens.ErrorCode? {
            guard messageID == .error, let code = payload.uint8(at: 0) else { return nil }
            return Xsens.ErrorCode(rawValue: code)
        }

        /// The items of an MTData2 message that RehabHost reads (README §4.3).
        public var mtData2Sample: Xsens.MTData2Sample? {
            guard messageID == .mtData2 else { return nil }
            return payload.withUnsafeBytes { Xsens.MTData2Sample(parsing: $0) }
        }

        /// Why a receiver drops this message (README §7 steps 6-7), or nil when it is one RehabHost can use.
        public var rejectionReason: Xsens.RejectionReason? {
            guard messageID.isKnown else { return .unknownMessageID }
            let count = payload.count
            if messageID.carriesNoData { return count == 0 ? nil : .badLength }
            switch messageID {
            case .deviceID, .initMTResults:
                return count == 4 || count == 8 ? nil : .badLength
            case .configuration:
                // README §3.8: 98 bytes, then 20 per device; the device count is the big-endian word at 96.
                guard count >= 118, (count - 98) % 20 == 0, let devices = payload.bigEndian(UInt16.self, at: 96) else { return .badLength }
                return count == 98 + 20 * Int(devices) ? nil : .badLength
            case .hardwareVersion:
                return count == 2 ? nil : .badLength
            case .availableFilterProfiles:
                return count % 22 == 0 ? nil : .badLength
            case .setStringOutputType, .stringOutputType:
                return count == 0 || count == 2 ? nil : .badLength
            case .requestEMTS:
                return count == 2 ? nil : .badLength
            case .productCode:
                guard count >= 1 && count <= 20 else { return .badLength }
                for byte in payload where byte != 0 && (byte < 0x20 || byte >= 0x7F) { return .invalidField }
                return nil
            case .firmwareRevision:
                return count == 3 || count == 11 ? nil : .badLength
            case .setOutputConfiguration, .outputConfiguration:
                return count % 4 == 0 && count <= 4 * Xsens.OutputConfiguration.capacity ? nil : .badLength
            case .error:
                return count >= 1 ? nil : .badLength
            default:
                // MTData2: any length; its items are checked one by one when it is parsed (README §4.3).
                // ReqConfiguration: any data, ignored; EMTSData: any length (README §3.8).
                return nil
            }
        }

        public var description: String {
            "Message(\(messageID), \(payload.count) bytes: [\(payload)])"
        }
    }
}
