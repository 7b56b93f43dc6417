/// ROBOTIS Dynamixel Protocol 2.0: the namespace of its Wire codec (protocols/dynamixel/README.md).
///
/// The normative text is ROBOTIS's e-Manual, "DYNAMIXEL Protocol 2.0"
/// (https://emanual.robotis.com/docs/en/dxl/protocol2/), and its CRC page (/docs/en/dxl/crc/).
///
/// ```
/// | FF FF FD 00 | ID | LEN_L LEN_H | INST | [ERR] | PARAM … | CRC_L CRC_H |
///   header        id   length        the stuffed body         CRC-16 (LE)
///                      = body + 2    (ERR in status packets only)
/// ```
/// - LENGTH counts the instruction, the parameters (after byte stuffing) and the CRC: parameters + 3.
/// - Byte stuffing: in the instruction and parameters, every `FF FF FD` gets an extra `FD`
///   (`Dynamixel.ByteStuffing`), so that a header never appears inside a packet. The status packet of a
///   Fast Sync Read or Fast Bulk Read (ID 0xFE) is the exception: the e-Manual says it is not stuffed.
/// - CRC: `Dynamixel.CRC16` over everything from the header to the last (stuffed) parameter.
///
/// Every type of the codec lives here: `Dynamixel.Instruction`, `Dynamixel.StatusError`,
/// `Dynamixel.PacketEncoder` (into a fixed `Dynamixel.EncodedPacket`), `Dynamixel.PacketDecoder` (yielding
/// `Dynamixel.DecodeResult`: a `Dynamixel.Packet` or a rejection), `Dynamixel.FastRead` (splits a fast read's
/// reply), `Dynamixel.FastReadReplyBuilder` (builds one), and the fixed-capacity `Dynamixel.DeviceList`
/// (bytes are the shared `InlineBytes`). Nothing allocates per packet. protocols/dynamixel/README.md restates the
/// e-Manual and fixes what it leaves open (§8: the receiver); its vectors check this codec.
public enum Dynamixel {
    /// FF FF FD 00: three header bytes and the reserved byte.
    public static let headerBytes = 4
    /// Header, ID and LENGTH: the bytes before the instruction.
    public static let prefixBytes = 7
    public static let crcBytes = 2
    /// The smallest legal LENGTH: an instruction and the CRC, no parameters.
    public static let minimumLength = 3
    /// The largest packet, header to CRC, that this codec encodes or accepts (the DynamixelSDK's limit too).
    public static let maxPacketBytes = 1024
    /// The largest legal LENGTH field.
    public static let maxLength = maxPacketBytes - prefixBytes
    /// The most parameter bytes an instruction packet can carry (after stuffing); `ParameterBytes.capacity`.
    public static let maxParameterBytes = maxLength - minimumLength
    /// The packet ID every device executes. Only Ping, Sync Read, Bulk Read and the fast reads are answered;
    /// the one status packet of a fast read carries this ID.
    public static let broadcastID: UInt8 = 0xFE
    /// Device IDs are 0 … 252; 253 (0xFD) and 255 (0xFF) are never used, to stay clear of the header.
    public static let maxDeviceID: UInt8 = 0xFC

    /// True for an ID a device can have (0 … 252).
    @inlinable
    public static func isValidDeviceID(_ id: UInt8) -> Bool { id <= maxDeviceID }

    /// True for an ID a packet can carry: a device ID or the broadcast ID.
    @inlinable
    public static func isValidPacketID(_ id: UInt8) -> Bool { id <= maxDeviceID || id == broadcastID }
}

extension Dynamixel {
    /// The INSTRUCTION byte (e-Manual, "Instruction"). A struct, not an enum, so that any byte can be
    /// carried; the decoder rejects the ones the e-Manual does not define (`isKnown`), and a device answers
    /// those with Instruction Error.
    public struct Instruction: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt8

        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let ping = Instruction(rawValue: 0x01)
        public static let read = Instruction(rawValue: 0x02)
        public static let write = Instruction(rawValue: 0x03)
        public static let regWrite = Instruction(rawValue: 0x04)
        public static let action = Instruction(rawValue: 0x05)
        public static let factoryReset = Instruction(rawValue: 0x06)
        public static let reboot = Instruction(rawValue: 0x08)
        public static let clear = Instruction(rawValue: 0x10)
        public static let controlTableBackup = Instruction(rawValue: 0x20)
        /// The instruction of every status packet (a device's reply).
        public static let status = Instruction(rawValue: 0x55)
        public static let syncRead = Instruction(rawValue: 0x82)
        public static let syncWrite = Instruction(rawValue: 0x83)
        public static let fastSyncRead = Instruction(rawValue: 0x8A)
        public static let bulkRead = Instruction(rawValue: 0x92)
        public static let bulkWrite = Instruction(rawValue: 0x93)
        public static let fastBulkRead = Instruction(rawValue: 0x9A)

        /// Every instruction of the e-Manual's table, in its order.
        public static let known: [Instruction] = [
            .ping, .read, .write, .regWrite, .action, .factoryReset, .reboot, .clear, .controlTableBackup, .status,
            .syncRead, .syncWrite, .fastSyncRead, .bulkRead, .bulkWrite, .fastBulkRead,
        ]

        /// The snake_case name (`"fast_sync_read"`), or nil for an instruction the e-Manual does not define.
        public var name: String? {
            switch rawValue {
            case 0x01: return "ping"
            case 0x02: return "read"
            case 0x03: return "write"
            case 0x04: return "reg_write"
            case 0x05: return "action"
            case 0x06: return "factory_reset"
            case 0x08: return "reboot"
            case 0x10: return "clear"
            case 0x20: return "control_table_backup"
            case 0x55: return "status"
            case 0x82: return "sync_read"
            case 0x83: return "sync_write"
            case 0x8A: return "fast_sync_read"
            case 0x92: return "bulk_read"
            case 0x93: return "bulk_write"
            case 0x9A: return "fast_bulk_read"
            default: return nil
            }
        }

        /// The instruction with that snake_case name.
        public init?(name: String) {
            for instruction in Instruction.known where instruction.name == name {
                self = instruction
                return
            }
            return nil
        }

        /// One of the e-Manual's instructions (`known`).
        public var isKnown: Bool {
            switch rawValue {
            case 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x10, 0x20, 0x55, 0x82, 0x83, 0x8A, 0x92, 0x93, 0x9A: return true
            default: return false
            }
        }

        public var description: String { name ?? "0x" + Hex.text(rawValue) }
    }

    /// The ERR byte of a status packet (e-Manual, "Error"): bit 7 is the alert (the device has a hardware
    /// error: read its Hardware Error Status), bits 0 … 6 the error number of processing the instruction.
    public struct StatusError: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt8

        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public init(alert: Bool = false, _ number: ErrorNumber? = nil) {
            rawValue = (alert ? StatusError.alertBit : 0) | (number?.rawValue ?? 0)
        }

        /// No alert and no error (0x00). (Not `.none`, which reads as `Optional.none` for a `StatusError?`.)
        public static let noError = StatusError(rawValue: 0)
        public static let alertBit: UInt8 = 0x80

        /// The device has a hardware error; its Hardware Error Status item says which.
        public var alert: Bool { rawValue & StatusError.alertBit != 0 }
        /// Bits 0 … 6: 0 when the instruction was processed.
        public var errorNumber: UInt8 { rawValue & 0x7F }
        /// The error number as a known error, nil when it is 0 or one the e-Manual does not define.
        public var error: ErrorNumber? { ErrorNumber(rawValue: errorNumber) }
        /// Neither an alert nor an error number.
        public var isOK: Bool { rawValue == 0 }

        /// The error numbers of the e-Manual's table.
        public enum ErrorNumber: UInt8, Sendable, CaseIterable {
            /// Failed to process the instruction packet.
            case resultFail = 0x01
            /// An undefined instruction, or Action without Reg Write.
            case instructionError = 0x02
            /// The instruction packet's CRC did not match.
            case crcError = 0x03
            /// The value to write is outside the item's minimum … maximum.
            case dataRangeError = 0x04
            /// The data is shorter than the item (e.g. 2 bytes written to a 4-byte item).
            case dataLengthError = 0x05
            /// The value to write is outside the item's configured limit.
            case dataLimitError = 0x06
            /// Read-only, write-only or undefined address, or an EEPROM item written with the torque on.
            case accessError = 0x07

            /// The e-Manual's name and what usually causes it, for people ("Access Error: …").
            public var explanation: String {
                switch self {
                case .resultFail: "Result Fail: the servo could not process the instruction"
                case .instructionError: "Instruction Error: an undefined instruction, or Action without Reg Write"
                case .crcError: "CRC Error: the instruction arrived damaged"
                case .dataRangeError: "Data Range Error: the value is outside the field's range (or a Goal after a Bus Watchdog expiry)"
                case .dataLengthError: "Data Length Error: fewer bytes than the field has"
                case .dataLimitError: "Data Limit Error: the value is outside the field's configured limit"
                case .accessError: "Access Error: a read-only or undefined field, or an EEPROM field (below address 64) with torque on"
                }
            }
        }

        public var description: String {
            var text = "0x" + Hex.text(rawValue)
            if alert { text += " alert" }
            if let error { text += " \(error)" } else if errorNumber != 0 { text += " error \(errorNumber)" }
            return text
        }
    }

    /// Factory Reset's parameter (e-Manual, "Factory Reset"). A device ignores `.resetAll` sent to the broadcast ID.
    public enum FactoryResetOption: UInt8, Sendable, CaseIterable {
        case resetAll = 0xFF
        case exceptID = 0x01
        case exceptIDAndBaudRate = 0x02
    }

    /// Control Table Backup's first parameter (e-Manual, "Control Table Backup"); it needs the torque off.
    public enum ControlTableBackupOperation: UInt8, Sendable, CaseIterable {
        /// Store the control table in the backup area.
        case store = 0x01
        /// Restore the EEPROM area from the backup; the device then reboots.
        case restore = 0x02
    }

    /// Why a packet could not be encoded. On any of these the packet is left empty (`count == 0`).
    public enum EncodingError: Error, Sendable, Equatable {
        /// A packet ID that is neither 0 … 252 nor broadcast, or a device in a list that is not 0 … 252.
        case invalidID(UInt8)
        /// The same device twice in one Sync/Bulk instruction (the e-Manual forbids it for Bulk Read/Write).
        case duplicateID(UInt8)
        /// A Sync/Bulk instruction, or a fast read reply, for no device.
        case noDevices
        /// The data does not match the declared length (Sync Write), devices' data lengths differ, or a fast
        /// read reply's segments do not add up to what it was built for.
        case dataLengthMismatch
        /// A read or write of 0 bytes (a receiver rejects it, README §8), or a write without data.
        case zeroLength
        /// The packet would exceed `Dynamixel.maxPacketBytes` once stuffed.
        case tooLong
        /// A fast read reply was finished before all its segments were appended.
        case incompleteReply
    }

    /// Why a receiver rejects a packet whose CRC matched (protocols/dynamixel/README.md §8, step 7). The raw
    /// values are the vectors' names.
    public enum RejectionReason: String, Sendable, CaseIterable {
        /// An instruction byte the e-Manual does not define (a device answers Instruction Error).
        case unknownInstruction = "unknown_instruction"
        /// Parameters that do not fit the instruction, or a status packet without its ERR byte.
        case badLength = "bad_length"
        /// A broadcast-only instruction not sent to 0xFE, a bad or repeated ID in a list, a data length of 0,
        /// an undefined option or wrong fixed bytes, or an undefined error number in a status packet.
        case invalidField = "invalid_field"
    }

    /// A CRC-valid packet that was discarded, and why.
    public struct PacketRejection: Sendable, Equatable {
        public var reason: Dynamixel.RejectionReason
        /// The packet ID (a device answers only a rejection addressed to itself).
        public var id: UInt8
        /// The raw instruction byte (it may be unknown).
        public var instruction: UInt8

        public init(reason: Dynamixel.RejectionReason, id: UInt8, instruction: UInt8) {
            self.reason = reason
            self.id = id
            self.instruction = instruction
        }
    }
}
