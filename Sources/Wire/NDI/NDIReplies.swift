extension NDI {
    /// What a device answered in ASCII (README §4): the text without its CRC and CR. `ReplyDecoder` has
    /// checked the CRC; `ReplyEncoder.ascii(_:into:)` adds it.
    public struct ASCIIReply: Sendable, Equatable, CustomStringConvertible {
        public var text: NDI.ReplyText

        public init(text: NDI.ReplyText) {
            self.text = text
        }

        /// What the text is: OKAY, RESET, ERRORxx, WARNINGxx, or data (everything else, e.g. a PHSR list).
        public var kind: NDI.ReplyKind {
            if text.equals(ascii: "OKAY") { return .okay }
            if text.equals(ascii: "RESET") { return .reset }
            if text.count == 7, text.hasPrefix(ascii: "ERROR"), let code = text.hexValue(at: 5, digits: 2) {
                return .error(code: UInt8(code))
            }
            if text.count == 9, text.hasPrefix(ascii: "WARNING"), let code = text.hexValue(at: 7, digits: 2) {
                return .warning(code: UInt8(code))
            }
            return .data
        }

        /// The CRC the line carried (the text's CRC).
        public var crc: UInt16 { NDI.CRC16.checksum(text) }

        public var description: String { "ASCIIReply(\"\(text.string)\")" }
    }

    /// The meaning of an ASCII reply's text (README §4.2, §4.3).
    public enum ReplyKind: Sendable, Equatable {
        /// "OKAY": the command was carried out.
        case okay
        /// "RESET": the system has reset (after a serial break, README §2).
        case reset
        /// "ERRORxx": the command was refused; `code` is the hex number xx (`NDI.errorMeaning(_:)`).
        case error(code: UInt8)
        /// "WARNINGxx": carried out, with a warning (the host treats it as OKAY and logs the code).
        case warning(code: UInt8)
        /// Any other text: a command's data (PHSR, PHRQ, VER, TX …).
        case data
    }

    /// The meaning of the ERROR codes a host meets in the set-up and tracking sequence (README §4.2),
    /// for messages to the operator; nil for the others.
    public static func errorMeaning(_ code: UInt8) -> String? {
        switch code {
        case 0x01: return "invalid command"
        case 0x02: return "command too long"
        case 0x03: return "command too short"
        case 0x04: return "invalid CRC calculated for command"
        case 0x05: return "time-out on command execution"
        case 0x06: return "unable to set up new communication parameters"
        case 0x07: return "incorrect number of command parameters"
        case 0x08: return "invalid port handle selected"
        case 0x09: return "invalid tracking priority selected (must be S, D or B)"
        case 0x0C: return "command is invalid while in the current operating mode"
        case 0x0D: return "no tool is assigned to the selected port handle"
        case 0x0E: return "selected port handle not initialized"
        case 0x0F: return "selected port handle not enabled"
        case 0x10: return "system not initialized"
        case 0x11: return "unable to stop tracking"
        case 0x12: return "unable to start tracking"
        case 0x13: return "unable to initialize the tool in the port"
        case 0x23: return "command parameter out of range"
        case 0x28: return "too many tools are enabled"
        case 0x2B: return "requested port handle has not been allocated"
        case 0x2C: return "requested port handle is unoccupied"
        case 0x2D: return "no more port handles available"
        default: return nil
        }
    }

    /// A handle's status byte in a BX reply (README §6.2). Any other value makes the reply unreadable
    /// (`ReplyRejectionReason.unknownHandleStatus`): what follows the byte depends on it.
    public enum HandleStatus: UInt8, Sendable, CaseIterable {
        /// A transformation follows, then the port status and frame number.
        case valid = 0x01
        /// The tool could not be tracked (out of view, out of the volume): port status and frame number only.
        case missing = 0x02
        /// The handle is not enabled: nothing follows.
        case disabled = 0x04

        /// The name the vectors use ("valid", "missing", "disabled").
        public var name: String {
            switch self {
            case .valid: "valid"
            case .missing: "missing"
            case .disabled: "disabled"
            }
        }

        public init?(name: String) {
            guard let status = Self.allCases.first(where: { $0.name == name }) else { return nil }
            self = status
        }
    }

    /// The 32-bit port status of a handle in a BX reply (README §6.3; the low byte is the one documented).
    public struct PortStatus: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32

        public init(rawValue: UInt32) {
            self.rawValue = rawValue
        }

        /// A tool is in the port (occupied).
        public static let occupied = PortStatus(rawValue: 0x0001)
        public static let switch1Closed = PortStatus(rawValue: 0x0002)
        public static let switch2Closed = PortStatus(rawValue: 0x0004)
        public static let switch3Closed = PortStatus(rawValue: 0x0008)
        public static let initialized = PortStatus(rawValue: 0x0010)
        public static let enabled = PortStatus(rawValue: 0x0020)
        /// The tool is outside the characterized measurement volume.
        public static let outOfVolume = PortStatus(rawValue: 0x0040)
        /// The tool is partly outside the characterized measurement volume.
        public static let partiallyOutOfVolume = PortStatus(rawValue: 0x0080)
    }

    /// The 16-bit system status at the end of a BX reply (README §6.4).
    public struct SystemStatus: OptionSet, Sendable, Hashable {
        public let rawValue: UInt16

        public init(rawValue: UInt16) {
            self.rawValue = rawValue
        }

        public static let communicationSynchronizationError = SystemStatus(rawValue: 0x0001)
        public static let tooMuchExternalInfrared = SystemStatus(rawValue: 0x0002)
        public static let communicationCRCError = SystemStatus(rawValue: 0x0004)
        public static let recoverableException = SystemStatus(rawValue: 0x0008)
        public static let hardwareFailure = SystemStatus(rawValue: 0x0010)
        public static let hardwareChanged = SystemStatus(rawValue: 0x0020)
        /// Some port handle has become occupied (a tool was plugged in).
        public static let portOccupied = SystemStatus(rawValue: 0x0040)
        /// Some port handle has become unoccupied (a tool was unplugged).
        public static let portUnoccupied = SystemStatus(rawValue: 0x0080)
    }

    /// A tool's pose in the tracker's frame, in SI units: what a valid handle of a BX reply carries.
    ///
    /// The wire has float32 millimetres; this edge converts (`Double(mm) / 1000`, and back with
    /// `Float(m × 1000)`). For every finite float32 the round trip wire → `ToolPose` → wire gives the
    /// same bits, so re-encoding a decoded reply reproduces it byte for byte.
    public struct ToolPose: Sendable, Equatable, CustomStringConvertible {
        /// The rotation as a unit quaternion (w, x, y, z): the API's q0, qx, qy, qz.
        public var orientation: SIMD4<Double>
        /// The translation [m].
        public var positionMeters: SIMD3<Double>
        /// The RMS error of the tool's fit [mm], as the device reports it.
        public var rmsErrorMillimeters: Double

        public init(orientation: SIMD4<Double>, positionMeters: SIMD3<Double>, rmsErrorMillimeters: Double) {
            self.orientation = orientation
            self.positionMeters = positionMeters
            self.rmsErrorMillimeters = rmsErrorMillimeters
        }

        /// The pose of the eight float32 values of the wire, in their order: q0 qx qy qz (index 0 … 3),
        /// tx ty tz [mm], error [mm].
        public init(wireQuaternion q: SIMD4<Float>, wirePositionMillimeters t: SIMD3<Float>, wireRMSErrorMillimeters error: Float) {
            orientation = SIMD4(Double(q[0]), Double(q[1]), Double(q[2]), Double(q[3]))
            positionMeters = SIMD3(
                Self.meters(fromMillimeters: t[0]), Self.meters(fromMillimeters: t[1]), Self.meters(fromMillimeters: t[2]))
            rmsErrorMillimeters = Double(error)
        }

        /// q0 qx qy qz as the wire carries them (index 0 is q0, the scalar part w).
        public var wireQuaternion: SIMD4<Float> {
            SIMD4(Float(orientation[0]), Float(orientation[1]), Float(orientation[2]), Float(orientation[3]))
        }

        /// tx ty tz [mm] as the wire carries them.
        public var wirePositionMillimeters: SIMD3<Float> {
            SIMD3(
                Self.millimeters(fromMeters: positionMeters[0]), Self.millimeters(fromMeters: positionMeters[1]),
                Self.millimeters(fromMeters: positionMeters[2]))
        }

        /// The error as the wire carries it [mm].
        public var wireRMSErrorMillimeters: Float { Float(rmsErrorMillimeters) }

        /// True when every value, as the wire would carry it, is finite (what the encoder requires and the
        /// decoder accepts: a NaN pose would reach SR-15 and SR-16 as a position).
        public var isFiniteOnTheWire: Bool {
            let q = wireQuaternion
            let t = wirePositionMillimeters
            for index in 0..<4 where !q[index].isFinite { return false }
            for index in 0..<3 where !t[index].isFinite { return false }
            return wireRMSErrorMillimeters.isFinite
        }

        static func meters(fromMillimeters value: Float) -> Double { Double(value) / 1000 }
        static func millimeters(fromMeters value: Double) -> Float { Float(value * 1000) }

        public var description: String {
            "ToolPose(q: \(orientation), t: \(positionMeters) m, rms: \(rmsErrorMillimeters) mm)"
        }
    }

    /// One handle of a BX reply (README §6.2). A valid handle has a pose; valid and missing ones have a
    /// port status and frame number; a disabled one has neither (they are 0 here). Build them with
    /// `valid(…)`, `missing(…)` and `disabled(handle:)`, which keep that shape.
    public struct HandleReport: Sendable, Equatable, CustomStringConvertible {
        /// The port handle (01 … FF).
        public var handle: UInt8
        public var status: NDI.HandleStatus
        /// The tool's pose; nil unless `status` is `.valid`.
        public var pose: NDI.ToolPose?
        /// The port status; empty for a disabled handle (not sent).
        public var portStatus: NDI.PortStatus
        /// The device's frame counter when this was measured; 0 for a disabled handle (not sent). It
        /// increases once per measurement (README §9.2) and wraps at 2³².
        public var frameNumber: UInt32

        public init(handle: UInt8, status: NDI.HandleStatus, pose: NDI.ToolPose?, portStatus: NDI.PortStatus, frameNumber: UInt32) {
            self.handle = handle
            self.status = status
            self.pose = pose
            self.portStatus = portStatus
            self.frameNumber = frameNumber
        }

        public static func valid(handle: UInt8, pose: NDI.ToolPose, portStatus: NDI.PortStatus, frameNumber: UInt32) -> Self {
            HandleReport(handle: handle, status: .valid, pose: pose, portStatus: portStatus, frameNumber: frameNumber)
        }

        public static func missing(handle: UInt8, portStatus: NDI.PortStatus, frameNumber: UInt32) -> Self {
            HandleReport(handle: handle, status: .missing, pose: nil, portStatus: portStatus, frameNumber: frameNumber)
        }

        public static func disabled(handle: UInt8) -> Self {
            HandleReport(handle: handle, status: .disabled, pose: nil, portStatus: [], frameNumber: 0)
        }

        /// True when the fields have the shape `status` gives them (what `ReplyEncoder.bx` requires).
        public var isWellFormed: Bool {
            switch status {
            case .valid: return pose != nil
            case .missing: return pose == nil
            case .disabled: return pose == nil && portStatus.isEmpty && frameNumber == 0
            }
        }

        /// Whether the host may use this tool's pose (README §9.3): valid, and not outside the
        /// characterized volume. Missing and disabled tools are not visible (SR-15).
        public var isToolVisible: Bool {
            status == .valid && pose != nil && !portStatus.contains(.outOfVolume)
        }

        public var description: String {
            var text = "HandleReport(\(Hex.text(handle)), \(status.name)"
            if let pose { text += ", \(pose)" }
            if status != .disabled { text += ", port status 0x\(String(portStatus.rawValue, radix: 16)), frame \(frameNumber)" }
            return text + ")"
        }
    }

    /// A decoded BX reply to reply option 0x0001 (with or without 0x0800): every handle the device
    /// listed, and the system status (README §6.2).
    public struct BXReply: Sendable, Equatable, CustomStringConvertible {
        public var handles: NDI.HandleList
        public var systemStatus: NDI.SystemStatus

        public init(handles: NDI.HandleList = NDI.HandleList(), systemStatus: NDI.SystemStatus = []) {
            self.handles = handles
            self.systemStatus = systemStatus
        }

        public var description: String {
            "BXReply(\(handles), system status 0x\(String(systemStatus.rawValue, radix: 16)))"
        }
    }

    /// The reply options of BX (and TX) as a 16-bit mask (README §6). This codec decodes the layout of
    /// `.transformations`, alone or with `.allTransformations` (`isDecodable`); the other options add
    /// per-handle data it does not parse.
    public struct BXReplyOptions: OptionSet, Sendable, Hashable {
        public let rawValue: UInt16

        public init(rawValue: UInt16) {
            self.rawValue = rawValue
        }

        /// 0x0001: the transformation, port status and frame number of each handle.
        public static let transformations = BXReplyOptions(rawValue: 0x0001)
        /// 0x0002: tool and marker information.
        public static let toolAndMarkerInformation = BXReplyOptions(rawValue: 0x0002)
        /// 0x0004: the 3D position of a single stray active marker.
        public static let strayActiveMarker = BXReplyOptions(rawValue: 0x0004)
        /// 0x0008: the 3D positions of the markers on tools.
        public static let toolMarkerPositions = BXReplyOptions(rawValue: 0x0008)
        /// 0x0800: also the transformations not normally reported (e.g. out of volume, flagged in the port status).
        public static let allTransformations = BXReplyOptions(rawValue: 0x0800)
        /// 0x1000: the 3D positions of stray passive markers.
        public static let strayPassiveMarkers = BXReplyOptions(rawValue: 0x1000)

        /// 0x0801, what the host sends (as ndicapi's users and NDI's sample code do).
        public static let hostDefault: BXReplyOptions = [.transformations, .allTransformations]

        /// True for the options whose reply `ReplyDecoder` can lay out: 0x0001 or 0x0801.
        public var isDecodable: Bool {
            contains(.transformations) && isSubset(of: [.transformations, .allTransformations])
        }
    }
}

extension NDI {
    /// A PHSR reply (README §5.4): the port handles it lists, each with its 12-bit status (0x001
    /// occupied, 0x010 initialised, 0x020 enabled …), stored inline. The host reads it to know what to
    /// PINIT and PENA; a simulator builds it and sends `text`.
    public struct PortHandleSearchReply: Sendable, Equatable {
        /// One listed handle.
        public struct Entry: Sendable, Equatable {
            public var handle: UInt8
            /// The three hex digits after the handle.
            public var status: UInt16

            public init(handle: UInt8, status: UInt16) {
                self.handle = handle
                self.status = status
            }
        }

        /// The most handles one reply holds here (an Aurora lists at most 16 wired channels' handles).
        public static var capacity: Int { 16 }

        private var storage = InlineArray<16, Entry>(repeating: Entry(handle: 0, status: 0))
        public private(set) var count = 0

        public init() {}

        /// The entries of a PHSR reply's text: two hex digits of count, then per handle two of handle and
        /// three of status. Nil when the text is not that (or lists more than `capacity`).
        public init?(_ reply: NDI.ASCIIReply) {
            let text = reply.text
            guard let listed = text.hexValue(at: 0, digits: 2), text.count == 2 + 5 * Int(listed), Int(listed) <= Self.capacity else {
                return nil
            }
            for index in 0..<Int(listed) {
                guard let handle = text.hexValue(at: 2 + 5 * index, digits: 2), let status = text.hexValue(at: 4 + 5 * index, digits: 3) else {
                    return nil
                }
                append(Entry(handle: UInt8(handle), status: UInt16(status)))
            }
        }

        public subscript(index: Int) -> Entry {
            precondition(index >= 0 && index < count, "entry index out of range")
            return storage[index]
        }

        /// Appends `entry`; false (and nothing appended) when full.
        @discardableResult
        public mutating func append(_ entry: Entry) -> Bool {
            guard count < Self.capacity else { return false }
            storage[count] = entry
            count += 1
            return true
        }

        /// The reply's text as a device sends it (before the CRC): "020A0010B001".
        public var text: NDI.ReplyText {
            var text = NDI.ReplyText()
            text.append(hex: UInt32(count), digits: 2)
            for index in 0..<count {
                text.append(hex: UInt32(storage[index].handle), digits: 2)
                text.append(hex: UInt32(storage[index].status), digits: 3)
            }
            return text
        }

        public static func == (lhs: Self, rhs: Self) -> Bool {
            guard lhs.count == rhs.count else { return false }
            for index in 0..<lhs.count where lhs.storage[index] != rhs.storage[index] { return false }
            return true
        }
    }
}
