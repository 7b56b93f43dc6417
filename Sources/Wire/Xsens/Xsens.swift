/// Xsens Xbus protocol with MTData2 output (MTi 1/10/100/600-series IMUs over serial): the namespace of
/// its Wire codec. protocols/xsens/README.md is the spec as implemented, with the public sources it
/// follows (Xsens's MT Low Level Communication Protocol documentation and MTi User Manual).
///
/// ```
/// | FA | FF  | MID | LEN | DATA (LEN bytes) | CS |            standard: LEN 0 … 254
/// | FA | FF  | MID | FF  | LEN_H LEN_L | DATA | CS |         extended: LEN 255 … 2048, big-endian
///   preamble  bus ID        checksum: BID + MID + LEN (+ LEN_H + LEN_L) + DATA + CS ≡ 0 (mod 256)
/// ```
/// Every multi-byte value is big-endian. MTData2 (MID 0x36) carries a list of items, each a 2-byte data
/// identifier, a 1-byte size and that many bytes (`Xsens.MTData2Sample`).
///
/// Every type of the codec lives here: `Xsens.MessageID`, `Xsens.Message` (a checksum-valid frame, with
/// typed views of its payload), `Xsens.FrameDecoder` (bytes in any split → `Xsens.DecodeResult`),
/// `Xsens.FrameEncoder` (into a fixed `Xsens.EncodedFrame`), `Xsens.MTData2Sample` and the fixed-capacity
/// `Xsens.OutputConfiguration` (bytes are the shared `InlineBytes`). Nothing allocates per frame.
public enum Xsens {
    /// The first byte of every message (README §2.1).
    public static let preamble: UInt8 = 0xFA
    /// The bus identifier of every MTi message: the "master device" address (README §2.1).
    public static let masterBusID: UInt8 = 0xFF
    /// The LEN value that announces two extended-length bytes (README §2.2).
    public static let extendedLengthMarker: UInt8 = 0xFF
    /// The largest DATA field of a standard-length message.
    public static let maxStandardPayloadBytes = 254
    /// The smallest DATA field of an extended-length message; below it, the extended form is malformed.
    public static let minExtendedPayloadBytes = 255
    /// The largest DATA field this codec encodes or accepts (the documented extended-length maximum).
    /// Keep `Xsens.Payload`'s literal equal to it.
    public static let maxPayloadBytes = 2048
    /// PRE, BID, MID, LEN.
    public static let standardHeaderBytes = 4
    /// PRE, BID, MID, 0xFF, LEN_H, LEN_L.
    public static let extendedHeaderBytes = 6
    /// The largest frame on the wire, preamble to checksum. Keep the storage literals equal to it.
    public static let maxFrameBytes = extendedHeaderBytes + maxPayloadBytes + 1
    /// SampleTimeFine counts ticks of a 10 kHz clock: 100 µs each (README §4.2).
    public static let sampleTimeFineTicksPerSecond: UInt32 = 10_000
    /// The output frequency that asks for an item with every sample (README §3.6).
    public static let everySampleFrequency: UInt16 = 0xFFFF

    /// The checksum byte for `body` (BID through the last data byte): the byte that makes the sum of the
    /// body and the checksum ≡ 0 (mod 256).
    public static func checksum(_ body: UnsafeRawBufferPointer) -> UInt8 {
        var sum: UInt8 = 0
        for byte in body { sum &+= byte }
        return 0 &- sum
    }
}

extension Xsens {
    /// The MID byte (README §3). A struct, not an enum, so that any byte can be carried: the decoder
    /// rejects the ones outside RehabHost's subset (`isKnown`) rather than losing them silently.
    /// A request and its reply differ by one: the reply's MID is the request's plus one.
    public struct MessageID: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt8

        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// ReqDID: asks for the device ID (host → device, no data).
        public static let requestDeviceID = MessageID(rawValue: 0x00)
        /// DeviceID: the device's 4-byte serial number (device → host).
        public static let deviceID = MessageID(rawValue: 0x01)
        /// InitMT (InitBus in the MT SDK): a legacy Xbus Master request the MT SDK still sends while opening a
        /// port (host → device, no data; README §3.8).
        public static let initMT = MessageID(rawValue: 0x02)
        /// InitMTResults: the answer to InitMT, the device ID (4 or 8 bytes, device → host; README §3.8).
        public static let initMTResults = MessageID(rawValue: 0x03)
        /// ReqConfiguration: asks for the Configuration message (host → device). Its data, if any, is ignored
        /// (README §3.8: the MT SDK sends the 2 bytes of its previous ReqEMTS along).
        public static let requestConfiguration = MessageID(rawValue: 0x0C)
        /// Configuration: the 118-byte configuration record of a single device (device → host; README §3.8).
        public static let configuration = MessageID(rawValue: 0x0D)
        /// GoToMeasurement: Config → Measurement state (host → device, no data).
        public static let goToMeasurement = MessageID(rawValue: 0x10)
        public static let goToMeasurementAck = MessageID(rawValue: 0x11)
        /// ReqFWRev: asks for the firmware revision (host → device, no data).
        public static let requestFirmwareRevision = MessageID(rawValue: 0x12)
        /// FirmwareRev: major, minor, revision (and, in the 11-byte form, build and SVN revision).
        public static let firmwareRevision = MessageID(rawValue: 0x13)
        /// ReqProductCode: asks for the product code (host → device, no data).
        public static let requestProductCode = MessageID(rawValue: 0x1C)
        /// ProductCode: the product code in ASCII ("MTi-630-8A1G6").
        public static let productCode = MessageID(rawValue: 0x1D)
        /// ReqHardwareVersion: asks for the hardware version (host → device, no data; README §3.8).
        public static let requestHardwareVersion = MessageID(rawValue: 0x1E)
        /// HardwareVersion: major and minor hardware version, 2 bytes (device → host).
        public static let hardwareVersion = MessageID(rawValue: 0x1F)
        /// GoToConfig: → Config state, valid in both states (host → device, no data).
        public static let goToConfig = MessageID(rawValue: 0x30)
        public static let goToConfigAck = MessageID(rawValue: 0x31)
        /// MTData2: one sample, a list of items (device → host).
        public static let mtData2 = MessageID(rawValue: 0x36)
        /// WakeUp: sent by the device at power-up (device → host, no data).
        public static let wakeUp = MessageID(rawValue: 0x3E)
        /// WakeUpAck: within 500 ms of WakeUp, keeps the device in Config state (host → device, no data).
        public static let wakeUpAck = MessageID(rawValue: 0x3F)
        /// Error: the previous message was invalid or failed; its first data byte is the `ErrorCode`.
        public static let error = MessageID(rawValue: 0x42)
        /// ReqAvailableFilterProfiles: asks for the filter profiles the device offers (host → device, no data).
        public static let requestAvailableFilterProfiles = MessageID(rawValue: 0x62)
        /// AvailableFilterProfiles: 22 bytes per profile, type, version and a 20-byte label (device → host).
        public static let availableFilterProfiles = MessageID(rawValue: 0x63)
        /// SetStringOutputType (2 bytes: the NMEA string types, 0 for none) or ReqStringOutputType (no data).
        public static let setStringOutputType = MessageID(rawValue: 0x8E)
        /// SetStringOutputTypeAck (no data) or, to a ReqStringOutputType, the 2-byte type in use.
        public static let stringOutputType = MessageID(rawValue: 0x8F)
        /// ReqEMTS: asks for the eMTS (extended Motion Tracker Specification) data; 2 bytes, bank and page.
        public static let requestEMTS = MessageID(rawValue: 0x90)
        /// EMTSData: the device's eMTS data, any length (device → host; README §3.8).
        public static let emtsData = MessageID(rawValue: 0x91)
        /// SetOutputConfiguration (with data) or ReqOutputConfiguration (without): host → device.
        public static let setOutputConfiguration = MessageID(rawValue: 0xC0)
        /// OutputConfiguration: the acknowledgement, with the configuration the device actually uses.
        public static let outputConfiguration = MessageID(rawValue: 0xC1)

        /// Every message of README §3, in MID order.
        public static let known: [MessageID] = [
            .requestDeviceID, .deviceID, .initMT, .initMTResults, .requestConfiguration, .configuration, .goToMeasurement,
            .goToMeasurementAck, .requestFirmwareRevision, .firmwareRevision, .requestProductCode, .productCode,
            .requestHardwareVersion, .hardwareVersion, .goToConfig, .goToConfigAck, .mtData2, .wakeUp, .wakeUpAck, .error,
            .requestAvailableFilterProfiles, .availableFilterProfiles, .setStringOutputType, .stringOutputType, .requestEMTS,
            .emtsData, .setOutputConfiguration, .outputConfiguration,
        ]

        /// The snake_case name used by the vectors ("go_to_config_ack"), or nil outside the subset.
        public var name: String? {
            switch rawValue {
            case 0x00: return "req_did"
            case 0x01: return "device_id"
            case 0x02: return "init_mt"
            case 0x03: return "init_mt_results"
            case 0x0C: return "req_configuration"
            case 0x0D: return "configuration"
            case 0x10: return "go_to_measurement"
            case 0x11: return "go_to_measurement_ack"
            case 0x12: return "req_fw_rev"
            case 0x13: return "firmware_rev"
            case 0x1C: return "req_product_code"
            case 0x1D: return "product_code"
            case 0x1E: return "req_hardware_version"
            case 0x1F: return "hardware_version"
            case 0x30: return "go_to_config"
            case 0x31: return "go_to_config_ack"
            case 0x36: return "mt_data2"
            case 0x3E: return "wake_up"
            case 0x3F: return "wake_up_ack"
            case 0x42: return "error"
            case 0x62: return "req_available_filter_profiles"
            case 0x63: return "available_filter_profiles"
            case 0x8E: return "set_string_output_type"
            case 0x8F: return "string_output_type"
            case 0x90: return "req_emts"
            case 0x91: return "emts_data"
            case 0xC0: return "set_output_configuration"
            case 0xC1: return "output_configuration"
            default: return nil
            }
        }

        /// The message with that snake_case name.
        public init?(name: String) {
            for id in MessageID.known where id.name == name {
                self = id
                return
            }
            return nil
        }

        /// One of the messages RehabHost sends or accepts (README §3). A switch on the byte, not on `name`,
        /// because the decoder asks for every frame.
        public var isKnown: Bool {
            switch rawValue {
            case 0x00, 0x01, 0x02, 0x03, 0x0C, 0x0D, 0x10, 0x11, 0x12, 0x13, 0x1C, 0x1D, 0x1E, 0x1F, 0x30, 0x31, 0x36, 0x3E,
                0x3F, 0x42, 0x62, 0x63, 0x8E, 0x8F, 0x90, 0x91, 0xC0, 0xC1:
                return true
            default: return false
            }
        }

        /// True for the messages that carry no data (the requests, the state changes and their acks).
        public var carriesNoData: Bool {
            switch rawValue {
            case 0x00, 0x02, 0x10, 0x11, 0x12, 0x1C, 0x1E, 0x30, 0x31, 0x3E, 0x3F, 0x62: return true
            default: return false
            }
        }

        public var description: String { name ?? "0x" + Hex.text(rawValue) }
    }

    /// The error code in an Error message (MID 0x42), README §3.7. A struct so that an undocumented code
    /// is still carried (and reported with its number).
    public struct ErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt8

        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// The period sent is invalid.
        public static let invalidPeriod = ErrorCode(rawValue: 0x03)
        /// The message is invalid or not implemented.
        public static let invalidMessage = ErrorCode(rawValue: 0x04)
        /// Timer overflow: the period is too short.
        public static let timerOverflow = ErrorCode(rawValue: 0x1E)
        /// The baud rate is outside the valid range.
        public static let invalidBaudRate = ErrorCode(rawValue: 0x20)
        /// A parameter is invalid or out of range.
        public static let invalidParameter = ErrorCode(rawValue: 0x21)
        /// The device generated an error; Xsens advises a firmware update.
        public static let deviceError = ErrorCode(rawValue: 0x28)

        public static let known: [ErrorCode] = [
            .invalidPeriod, .invalidMessage, .timerOverflow, .invalidBaudRate, .invalidParameter, .deviceError,
        ]

        /// The snake_case name ("invalid_parameter"), or nil for an undocumented code.
        public var name: String? {
            switch rawValue {
            case 0x03: return "invalid_period"
            case 0x04: return "invalid_message"
            case 0x1E: return "timer_overflow"
            case 0x20: return "invalid_baud_rate"
            case 0x21: return "invalid_parameter"
            case 0x28: return "device_error"
            default: return nil
            }
        }

        /// What it means, for the operator.
        public var explanation: String {
            switch rawValue {
            case 0x03: return "Invalid period: the device refused the sampling period"
            case 0x04: return "Invalid message: the device does not accept this message (in this state)"
            case 0x1E: return "Timer overflow: the period is too short for the configured output"
            case 0x20: return "Invalid baud rate"
            case 0x21: return "Invalid parameter: a value is out of range (e.g. an output frequency)"
            case 0x28: return "Device error: the device reports an internal error; Xsens advises a firmware update"
            default: return "undocumented error code 0x" + Hex.text(rawValue)
            }
        }

        public var description: String { name ?? "0x" + Hex.text(rawValue) }
    }

    /// Why a checksum-valid frame is dropped (README §7 steps 6-7). The raw values are the vectors' names.
    public enum RejectionReason: String, Sendable, CaseIterable {
        /// A MID outside RehabHost's subset (README §3).
        case unknownMessageID = "unknown_message_id"
        /// A data length that the message cannot have.
        case badLength = "bad_length"
        /// A field with an impossible value (a ProductCode with a non-printable byte).
        case invalidField = "invalid_field"
    }

    /// A checksum-valid frame that was dropped, and why.
    public struct Rejection: Sendable, Equatable {
        public var reason: Xsens.RejectionReason
        public var messageID: Xsens.MessageID
        /// Its DATA length.
        public var length: Int

        public init(reason: Xsens.RejectionReason, messageID: Xsens.MessageID, length: Int) {
            self.reason = reason
            self.messageID = messageID
            self.length = length
        }
    }

    /// Why a frame could not be encoded; the frame is then left empty (`count == 0`).
    public enum EncodingError: Error, Sendable, Equatable {
        /// More than `Xsens.maxPayloadBytes` of data.
        case payloadTooLong(Int)
    }
}
