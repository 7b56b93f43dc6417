import Primitives

/// RehabLink v1.1 constants. The normative description is protocols/rehablink/README.md.
public enum RehabLink {
    /// The protocol version carried in byte 0 of every packet (and in IDENTITY): the major version.
    /// 1.1 keeps it at 1: every 1.0 frame stays valid, and 1.1 adds no field a 1.0 receiver would
    /// misread (only parameters, and status bits that a 1.0 host rejects instead of ignoring).
    public static let protocolVersion: UInt8 = 1
    /// The minor version this implementation speaks, as a 1.1 device reports it in parameter 0x0003
    /// (`RehabLink.ParameterID.protocolMinor`); a 1.0 device answers that parameter `unknown_parameter`.
    public static let protocolMinorVersion: Int32 = 1
    /// Joints a single device may have; fixes the size of every per-joint array.
    public static let maxJoints = JointList<Int>.capacity
    /// version + type + sequence.
    public static let headerBytes = 4
    public static let crcBytes = 4
    /// The largest packet (header + payload + CRC) before COBS.
    public static let maxPacketBytes = 254
    public static let maxPayloadBytes = maxPacketBytes - headerBytes - crcBytes
    /// The largest COBS-encoded frame, without its 0x00 delimiter.
    public static let maxEncodedBytes = 255
    /// The largest frame on the wire, delimiter included.
    public static let maxFrameBytes = maxEncodedBytes + 1
    /// The device watchdog periods a device must accept in ENABLE; 0 (off) is never accepted.
    public static let watchdogPeriodRangeMicroseconds: ClosedRange<UInt32> = 1_000...100_000
}
extension RehabLink {

    /// Byte 1 of a packet: what the payload is. Host → device types are below 0x80.
    public enum MessageType: UInt8, Sendable, CaseIterable {
        case identify = 0x01
        case enable = 0x02
        case disable = 0x03
        case command = 0x04
        case heartbeat = 0x05
        case parameterGet = 0x06
        case parameterSet = 0x07
        case faultReset = 0x08
        case identity = 0x81
        case acknowledge = 0x82
        case state = 0x83
        case fault = 0x84
        case parameter = 0x85
        case error = 0x8F

        /// True for messages a host sends to a device.
        public var isHostToDevice: Bool { rawValue < 0x80 }
    }

    /// How a device turns one joint's command into torque (see the spec's "Control modes").
    public enum JointCommandMode: UInt8, Sendable, CaseIterable {
        /// Zero torque; the brake engages where fitted.
        case off = 0
        /// Device position loop with the device's own gains, plus feed-forward torque.
        case position = 1
        /// Device velocity loop with the device's own gain, plus feed-forward torque.
        case velocity = 2
        /// The feed-forward torque alone.
        case torque = 3
        /// τ = K·(q_d − q) + D·(q̇_d − q̇) + τ_ff with K and D from the command.
        case impedance = 4
    }

    /// One joint of a COMMAND, in wire units (22 bytes on the wire).
    public struct JointCommand: Sendable, Equatable {
        public var mode: RehabLink.JointCommandMode
        /// Position set-point [µrad].
        public var positionMicroradians: Int32
        /// Velocity set-point [µrad/s].
        public var velocityMicroradiansPerSecond: Int32
        /// Feed-forward (or, in torque mode, demanded) joint torque [mN·m].
        public var torqueMillinewtonMeters: Int32
        /// Impedance stiffness K [mN·m/rad], ≥ 0.
        public var stiffnessMillinewtonMetersPerRadian: Int32
        /// Impedance damping D [mN·m·s/rad], ≥ 0.
        public var dampingMillinewtonMeterSecondsPerRadian: Int32

        public init(
            mode: RehabLink.JointCommandMode, positionMicroradians: Int32 = 0, velocityMicroradiansPerSecond: Int32 = 0,
            torqueMillinewtonMeters: Int32 = 0, stiffnessMillinewtonMetersPerRadian: Int32 = 0,
            dampingMillinewtonMeterSecondsPerRadian: Int32 = 0
        ) {
            self.mode = mode
            self.positionMicroradians = positionMicroradians
            self.velocityMicroradiansPerSecond = velocityMicroradiansPerSecond
            self.torqueMillinewtonMeters = torqueMillinewtonMeters
            self.stiffnessMillinewtonMetersPerRadian = stiffnessMillinewtonMetersPerRadian
            self.dampingMillinewtonMeterSecondsPerRadian = dampingMillinewtonMeterSecondsPerRadian
        }

        /// Zero torque.
        public static let off = RehabLink.JointCommand(mode: .off)
    }

    /// Flags of one joint in a STATE.
    public struct JointFlags: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let atLowerHardStop = RehabLink.JointFlags(rawValue: 1 << 0)
        public static let atUpperHardStop = RehabLink.JointFlags(rawValue: 1 << 1)
        public static let brakeEngaged = RehabLink.JointFlags(rawValue: 1 << 2)
        public static let torqueLimited = RehabLink.JointFlags(rawValue: 1 << 3)
        public static let torqueSensorFitted = RehabLink.JointFlags(rawValue: 1 << 4)
        /// Bits a v1 (1.0 and 1.1) device may set; others must be 0.
        public static let definedInVersion1: RehabLink.JointFlags = [
            .atLowerHardStop, .atUpperHardStop, .brakeEngaged, .torqueLimited, .torqueSensorFitted,
        ]
    }

    /// One joint of a STATE, in wire units (25 bytes on the wire).
    public struct JointState: Sendable, Equatable {
        /// Joint position [µrad], from the encoder.
        public var positionMicroradians: Int32
        /// Joint velocity [µrad/s].
        public var velocityMicroradiansPerSecond: Int32
        /// Motor torque at the joint, estimated from current [mN·m].
        public var torqueMillinewtonMeters: Int32
        /// Torque measured by the joint's interaction torque sensor [mN·m]; 0 when none is fitted.
        public var interactionTorqueMillinewtonMeters: Int32
        /// Raw encoder count at the joint; wraps modulo 2³².
        public var encoderCounts: UInt32
        /// Motor current [mA].
        public var motorCurrentMilliamperes: Int16
        /// Motor winding temperature [0.1 °C].
        public var temperatureDecidegreesCelsius: Int16
        public var flags: RehabLink.JointFlags

        public init(
            positionMicroradians: Int32 = 0, velocityMicroradiansPerSecond: Int32 = 0, torqueMillinewtonMeters: Int32 = 0,
            interactionTorqueMillinewtonMeters: Int32 = 0, encoderCounts: UInt32 = 0, motorCurrentMilliamperes: Int16 = 0,
            temperatureDecidegreesCelsius: Int16 = 0, flags: RehabLink.JointFlags = []
        ) {
            self.positionMicroradians = positionMicroradians
            self.velocityMicroradiansPerSecond = velocityMicroradiansPerSecond
            self.torqueMillinewtonMeters = torqueMillinewtonMeters
            self.interactionTorqueMillinewtonMeters = interactionTorqueMillinewtonMeters
            self.encoderCounts = encoderCounts
            self.motorCurrentMilliamperes = motorCurrentMilliamperes
            self.temperatureDecidegreesCelsius = temperatureDecidegreesCelsius
            self.flags = flags
        }
    }

    /// One joint's ratings in an IDENTITY (20 bytes on the wire).
    public struct JointLimits: Sendable, Equatable {
        /// Hard (mechanical) lower limit [µrad].
        public var positionMinimumMicroradians: Int32
        /// Hard (mechanical) upper limit [µrad].
        public var positionMaximumMicroradians: Int32
        /// Rated maximum speed [µrad/s].
        public var velocityMaximumMicroradiansPerSecond: Int32
        /// Rated maximum joint torque [mN·m]; the device clamps every demand to it.
        public var torqueMaximumMillinewtonMeters: Int32
        /// Encoder counts per joint revolution.
        public var encoderCountsPerRevolution: UInt32

        public init(
            positionMinimumMicroradians: Int32, positionMaximumMicroradians: Int32,
            velocityMaximumMicroradiansPerSecond: Int32, torqueMaximumMillinewtonMeters: Int32,
            encoderCountsPerRevolution: UInt32
        ) {
            self.positionMinimumMicroradians = positionMinimumMicroradians
            self.positionMaximumMicroradians = positionMaximumMicroradians
            self.velocityMaximumMicroradiansPerSecond = velocityMaximumMicroradiansPerSecond
            self.torqueMaximumMillinewtonMeters = torqueMaximumMillinewtonMeters
            self.encoderCountsPerRevolution = encoderCountsPerRevolution
        }
    }

    /// Status bits of a device (STATE byte 6–7).
    public struct StatusFlags: OptionSet, Sendable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        /// Accepted ENABLE, not yet disabled.
        public static let enabled = RehabLink.StatusFlags(rawValue: 1 << 0)
        /// The drive produces torque now.
        public static let torqueOn = RehabLink.StatusFlags(rawValue: 1 << 1)
        /// The device watchdog expired; latched until DISABLE then ENABLE.
        public static let watchdogExpired = RehabLink.StatusFlags(rawValue: 1 << 2)
        /// The emergency stop circuit is open (button pressed); power to the drive is cut.
        public static let emergencyStop = RehabLink.StatusFlags(rawValue: 1 << 3)
        /// A device fault is latched; its code is in `faultCode`.
        public static let fault = RehabLink.StatusFlags(rawValue: 1 << 4)
        /// At least one brake is engaged.
        public static let brakeEngaged = RehabLink.StatusFlags(rawValue: 1 << 5)
        /// 1.1, SR-22: the patient's own stop button on the device is held. Only reported: the host stops (Cat 1).
        public static let patientStop = RehabLink.StatusFlags(rawValue: 1 << 6)
        /// 1.1, SR-22: the patient's pause button on the device is held. Only reported: the host pauses (Cat 2).
        public static let patientPause = RehabLink.StatusFlags(rawValue: 1 << 7)
        public static let definedInVersion1: RehabLink.StatusFlags = [
            .enabled, .torqueOn, .watchdogExpired, .emergencyStop, .fault, .brakeEngaged,
        ]
        /// Bits a 1.1 device may set; the others (8 … 15) must be 0.
        public static let definedInVersion1_1: RehabLink.StatusFlags = definedInVersion1.union([.patientStop, .patientPause])
    }

    /// A device-reported fault code (FAULT messages and STATE.fault_code). Unknown codes are kept.
    public struct FaultCode: RawRepresentable, Sendable, Equatable, Hashable, CustomStringConvertible {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        public static let none = RehabLink.FaultCode(rawValue: 0x0000)
        public static let overTemperature = RehabLink.FaultCode(rawValue: 0x0001)
        public static let overload = RehabLink.FaultCode(rawValue: 0x0002)
        public static let overSpeed = RehabLink.FaultCode(rawValue: 0x0003)
        public static let encoder = RehabLink.FaultCode(rawValue: 0x0004)
        public static let supplyVoltage = RehabLink.FaultCode(rawValue: 0x0005)
        public static let watchdogExpired = RehabLink.FaultCode(rawValue: 0x0010)

        public var name: String {
            switch self {
            case .none: "none"
            case .overTemperature: "over_temperature"
            case .overload: "overload"
            case .overSpeed: "over_speed"
            case .encoder: "encoder"
            case .supplyVoltage: "supply_voltage"
            case .watchdogExpired: "watchdog_expired"
            default: "unknown"
            }
        }

        public var description: String {
            let hex = String(rawValue, radix: 16, uppercase: true)
            return "\(name) (0x\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex))"
        }
    }

    /// Result byte of an ACK.
    public enum AcknowledgeResult: UInt8, Sendable, CaseIterable {
        case ok = 0
        case refusedEmergencyStop = 1
        case refusedFault = 2
        case refusedWatchdogPeriod = 3
        case refusedState = 4
    }

    /// Error byte of an ERROR: why a device discarded a CRC-valid packet.
    public enum ProtocolErrorCode: UInt8, Sendable, CaseIterable {
        case unknownType = 1
        case unsupportedVersion = 2
        case badLength = 3
        case outOfRange = 4
        case notEnabled = 5
        case jointCountMismatch = 6
        case invalidField = 7
    }

    /// A device parameter number (PARAM_GET / PARAM_SET).
    public struct ParameterID: RawRepresentable, Sendable, Equatable, Hashable, CustomStringConvertible {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        /// Watchdog period in effect [µs]; read-only.
        public static let watchdogPeriodMicroseconds = RehabLink.ParameterID(rawValue: 0x0001)
        /// Longest time from the last byte of a request to the first byte of its reply [µs]; read-only.
        public static let replyBudgetMicroseconds = RehabLink.ParameterID(rawValue: 0x0002)
        /// 1.1: the protocol's minor version (1); read-only. A 1.0 device answers `unknown_parameter`:
        /// this is how a host tells the two apart.
        public static let protocolMinor = RehabLink.ParameterID(rawValue: 0x0003)
        /// Position-mode stiffness [mN·m/rad]; writable while disabled.
        public static let positionStiffness = RehabLink.ParameterID(rawValue: 0x0010)
        /// Position-mode damping [mN·m·s/rad]; writable while disabled.
        public static let positionDamping = RehabLink.ParameterID(rawValue: 0x0011)
        /// Velocity-mode gain [mN·m·s/rad]; writable while disabled.
        public static let velocityGain = RehabLink.ParameterID(rawValue: 0x0012)
        /// Winding temperature at which the device faults [0.1 °C]; read-only.
        public static let temperatureLimitDecidegrees = RehabLink.ParameterID(rawValue: 0x0020)
        /// Frames the device dropped for a bad CRC since power-up; read-only.
        public static let crcErrorCount = RehabLink.ParameterID(rawValue: 0x0030)
        /// Commands the device discarded (stale sequence, out of range) since power-up; read-only.
        public static let rejectedCommandCount = RehabLink.ParameterID(rawValue: 0x0031)

        /// 1.1: the SR-24 limit and joint this id names (`RehabLink.JointLimitParameter.id(joint:)` in reverse), or
        /// nil for any other parameter.
        public var jointLimit: (parameter: RehabLink.JointLimitParameter, joint: Int)? {
            for parameter in RehabLink.JointLimitParameter.allCases
            where rawValue >= parameter.rawValue && rawValue < parameter.rawValue + UInt16(RehabLink.maxJoints) {
                return (parameter, Int(rawValue - parameter.rawValue))
            }
            return nil
        }

        /// "0x0051 (torque_cap_positive_mnm, joint 1)", for messages.
        public var description: String {
            let hex = String(rawValue, radix: 16, uppercase: true)
            let number = "0x\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex)"
            guard let limit = jointLimit else { return number }
            return "\(number) (\(limit.parameter.name), joint \(limit.joint))"
        }
    }

    /// RehabLink 1.1, SR-24: the limits a host writes into the firmware at set-up, which the firmware
    /// then enforces on its own, host dead or alive. One parameter per joint: id = base (the raw value)
    /// + joint index. Writable only while disabled; a value outside the joint's rating is `out_of_range`.
    public enum JointLimitParameter: UInt16, Sendable, CaseIterable {
        /// Soft lower position limit [µrad], within the hard limits, below the soft upper limit.
        case softLimitMinimum = 0x0040
        /// Soft upper position limit [µrad], within the hard limits, above the soft lower limit.
        case softLimitMaximum = 0x0048
        /// Largest positive joint torque [mN·m], 0 … `torque_max_mnm`.
        case torqueCapPositive = 0x0050
        /// Largest negative joint torque, as a magnitude [mN·m], 0 … `torque_max_mnm`.
        case torqueCapNegative = 0x0058
        /// Speed above which the firmware cuts torque and latches `over_speed` [µrad/s], 1 … the device's
        /// own over-speed cut (the power-up value): a host may lower it, never raise it.
        case velocityTrip = 0x0060

        /// The parameter id for `joint` (0 … 7).
        public func id(joint: Int) -> RehabLink.ParameterID {
            precondition(joint >= 0 && joint < RehabLink.maxJoints, "RehabLink joints are 0 … 7")
            return RehabLink.ParameterID(rawValue: rawValue + UInt16(joint))
        }

        /// The spec's name, unit suffix included.
        public var name: String {
            switch self {
            case .softLimitMinimum: "soft_limit_min_urad"
            case .softLimitMaximum: "soft_limit_max_urad"
            case .torqueCapPositive: "torque_cap_positive_mnm"
            case .torqueCapNegative: "torque_cap_negative_mnm"
            case .velocityTrip: "velocity_trip_urad_s"
            }
        }
    }

    /// Result byte of a PARAM reply.
    public enum ParameterResult: UInt8, Sendable, CaseIterable {
        case ok = 0
        case unknownParameter = 1
        case readOnly = 2
        case outOfRange = 3
        case notWhileEnabled = 4
    }

    /// IDENTITY: who the device is and what its joints are rated for.
    public struct DeviceIdentity: Sendable, Equatable {
        public var protocolVersion: UInt8
        public var firmwareMajor: UInt8
        public var firmwareMinor: UInt8
        public var firmwarePatch: UInt8
        public var model: FixedASCII<24>
        public var serialNumber: FixedASCII<16>
        public var joints: JointList<RehabLink.JointLimits>

        public init(
            protocolVersion: UInt8, firmwareMajor: UInt8, firmwareMinor: UInt8, firmwarePatch: UInt8,
            model: FixedASCII<24>, serialNumber: FixedASCII<16>, joints: JointList<RehabLink.JointLimits>
        ) {
            self.protocolVersion = protocolVersion
            self.firmwareMajor = firmwareMajor
            self.firmwareMinor = firmwareMinor
            self.firmwarePatch = firmwarePatch
            self.model = model
            self.serialNumber = serialNumber
            self.joints = joints
        }
    }

    /// STATE: the device's answer to every COMMAND and HEARTBEAT.
    public struct StateReport: Sendable, Equatable {
        /// Device clock at sampling [µs]; wraps modulo 2³².
        public var deviceTimeMicroseconds: UInt32
        /// Sequence number of the last COMMAND the device applied (0 before the first).
        public var commandSequence: UInt16
        public var status: RehabLink.StatusFlags
        /// The latched device fault, `.none` when there is none.
        public var faultCode: RehabLink.FaultCode
        public var joints: JointList<RehabLink.JointState>

        public init(
            deviceTimeMicroseconds: UInt32, commandSequence: UInt16, status: RehabLink.StatusFlags,
            faultCode: RehabLink.FaultCode, joints: JointList<RehabLink.JointState>
        ) {
            self.deviceTimeMicroseconds = deviceTimeMicroseconds
            self.commandSequence = commandSequence
            self.status = status
            self.faultCode = faultCode
            self.joints = joints
        }
    }

    /// ACK: the device's answer to ENABLE, DISABLE and FAULT_RESET.
    public struct Acknowledgement: Sendable, Equatable {
        public var acknowledgedType: RehabLink.MessageType
        public var result: RehabLink.AcknowledgeResult
        public var acknowledgedSequence: UInt16
        /// ENABLE: the watchdog period in effect [µs]; FAULT_RESET: the fault code still latched; else 0.
        public var value: Int32

        public init(acknowledgedType: RehabLink.MessageType, result: RehabLink.AcknowledgeResult, acknowledgedSequence: UInt16, value: Int32) {
            self.acknowledgedType = acknowledgedType
            self.result = result
            self.acknowledgedSequence = acknowledgedSequence
            self.value = value
        }
    }

    /// FAULT: sent once, unsolicited, when the device latches a fault.
    public struct FaultReport: Sendable, Equatable {
        public var code: RehabLink.FaultCode
        /// Joint index, or 0xFF for the whole device.
        public var joint: UInt8
        /// The measurement that tripped it, in the unit the spec gives for the code.
        public var value: Int32
        public var deviceTimeMicroseconds: UInt32

        public init(code: RehabLink.FaultCode, joint: UInt8, value: Int32, deviceTimeMicroseconds: UInt32) {
            self.code = code
            self.joint = joint
            self.value = value
            self.deviceTimeMicroseconds = deviceTimeMicroseconds
        }
    }

    /// PARAM: the answer to PARAM_GET and PARAM_SET.
    public struct ParameterReport: Sendable, Equatable {
        public var parameter: RehabLink.ParameterID
        public var result: RehabLink.ParameterResult
        public var value: Int32

        public init(parameter: RehabLink.ParameterID, result: RehabLink.ParameterResult, value: Int32) {
            self.parameter = parameter
            self.result = result
            self.value = value
        }
    }

    /// ERROR: the device discarded a CRC-valid packet and says why.
    public struct ProtocolErrorReport: Sendable, Equatable {
        public var code: RehabLink.ProtocolErrorCode
        /// The type byte of the discarded packet (kept raw: it may be unknown).
        public var offendingType: UInt8
        public var offendingSequence: UInt16

        public init(code: RehabLink.ProtocolErrorCode, offendingType: UInt8, offendingSequence: UInt16) {
            self.code = code
            self.offendingType = offendingType
            self.offendingSequence = offendingSequence
        }
    }

    /// Every RehabLink v1.1 message, host → device and device → host (1.1 added none).
    public enum Message: Sendable, Equatable {
        case identify
        case enable(watchdogPeriodMicroseconds: UInt32)
        case disable
        case command(JointList<RehabLink.JointCommand>)
        case heartbeat
        case parameterGet(RehabLink.ParameterID)
        case parameterSet(RehabLink.ParameterID, value: Int32)
        case faultReset
        case identity(RehabLink.DeviceIdentity)
        case acknowledge(RehabLink.Acknowledgement)
        case state(RehabLink.StateReport)
        case fault(RehabLink.FaultReport)
        case parameter(RehabLink.ParameterReport)
        case error(RehabLink.ProtocolErrorReport)

        public var type: RehabLink.MessageType {
            switch self {
            case .identify: .identify
            case .enable: .enable
            case .disable: .disable
            case .command: .command
            case .heartbeat: .heartbeat
            case .parameterGet: .parameterGet
            case .parameterSet: .parameterSet
            case .faultReset: .faultReset
            case .identity: .identity
            case .acknowledge: .acknowledge
            case .state: .state
            case .fault: .fault
            case .parameter: .parameter
            case .error: .error
            }
        }
    }

    /// A decoded packet: the sender's sequence number and the message.
    public struct Packet: Sendable, Equatable {
        public var sequence: UInt16
        public var message: RehabLink.Message

        public init(sequence: UInt16, message: RehabLink.Message) {
            self.sequence = sequence
            self.message = message
        }
    }
}
