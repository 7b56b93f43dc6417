import Primitives

/// Byte layouts of RehabLink v1.1 payloads (the spec's "Messages" section, field for field).
enum RehabLinkPayload {
    static let jointCommandBytes = 22
    static let jointStateBytes = 25
    static let jointLimitsBytes = 20
    static let commandHeaderBytes = 2
    static let stateHeaderBytes = 12
    static let identityHeaderBytes = 46

    // MARK: Encoding

    static func write(_ message: RehabLink.Message, to writer: inout PacketWriter) {
        switch message {
        case .identify, .disable, .heartbeat, .faultReset:
            break
        case .enable(let watchdogPeriodMicroseconds):
            writer.u32(watchdogPeriodMicroseconds)
        case .command(let joints):
            writer.u8(UInt8(joints.count))
            writer.u8(0)
            for index in 0..<joints.count {
                let joint = joints[index]
                writer.u8(joint.mode.rawValue)
                writer.u8(0)
                writer.i32(joint.positionMicroradians)
                writer.i32(joint.velocityMicroradiansPerSecond)
                writer.i32(joint.torqueMillinewtonMeters)
                writer.i32(joint.stiffnessMillinewtonMetersPerRadian)
                writer.i32(joint.dampingMillinewtonMeterSecondsPerRadian)
            }
        case .parameterGet(let parameter):
            writer.u16(parameter.rawValue)
        case .parameterSet(let parameter, let value):
            writer.u16(parameter.rawValue)
            writer.i32(value)
        case .identity(let identity):
            writer.u8(identity.protocolVersion)
            writer.u8(UInt8(identity.joints.count))
            writer.u8(identity.firmwareMajor)
            writer.u8(identity.firmwareMinor)
            writer.u8(identity.firmwarePatch)
            writer.u8(0)
            writer.ascii(identity.model)
            writer.ascii(identity.serialNumber)
            for index in 0..<identity.joints.count {
                let limits = identity.joints[index]
                writer.i32(limits.positionMinimumMicroradians)
                writer.i32(limits.positionMaximumMicroradians)
                writer.i32(limits.velocityMaximumMicroradiansPerSecond)
                writer.i32(limits.torqueMaximumMillinewtonMeters)
                writer.u32(limits.encoderCountsPerRevolution)
            }
        case .acknowledge(let ack):
            writer.u8(ack.acknowledgedType.rawValue)
            writer.u8(ack.result.rawValue)
            writer.u16(ack.acknowledgedSequence)
            writer.i32(ack.value)
        case .state(let state):
            writer.u32(state.deviceTimeMicroseconds)
            writer.u16(state.commandSequence)
            writer.u16(state.status.rawValue)
            writer.u16(state.faultCode.rawValue)
            writer.u8(UInt8(state.joints.count))
            writer.u8(0)
            for index in 0..<state.joints.count {
                let joint = state.joints[index]
                writer.i32(joint.positionMicroradians)
                writer.i32(joint.velocityMicroradiansPerSecond)
                writer.i32(joint.torqueMillinewtonMeters)
                writer.i32(joint.interactionTorqueMillinewtonMeters)
                writer.u32(joint.encoderCounts)
                writer.i16(joint.motorCurrentMilliamperes)
                writer.i16(joint.temperatureDecidegreesCelsius)
                writer.u8(joint.flags.rawValue)
            }
        case .fault(let fault):
            writer.u16(fault.code.rawValue)
            writer.u8(fault.joint)
            writer.u8(0)
            writer.i32(fault.value)
            writer.u32(fault.deviceTimeMicroseconds)
        case .parameter(let report):
            writer.u16(report.parameter.rawValue)
            writer.u8(report.result.rawValue)
            writer.u8(0)
            writer.i32(report.value)
        case .error(let error):
            writer.u8(error.code.rawValue)
            writer.u8(error.offendingType)
            writer.u16(error.offendingSequence)
        }
    }

    // MARK: Decoding

    /// Parses a payload whose packet passed the CRC, version and type checks.
    static func read(_ type: RehabLink.MessageType, payload: UnsafeRawBufferPointer) throws(RehabLink.ProtocolErrorCode)
        -> RehabLink.Message
    {
        var reader = PacketReader(payload)
        switch type {
        case .identify:
            try expectLength(payload, 0)
            return .identify
        case .disable:
            try expectLength(payload, 0)
            return .disable
        case .heartbeat:
            try expectLength(payload, 0)
            return .heartbeat
        case .faultReset:
            try expectLength(payload, 0)
            return .faultReset
        case .enable:
            try expectLength(payload, 4)
            return .enable(watchdogPeriodMicroseconds: reader.u32())
        case .parameterGet:
            try expectLength(payload, 2)
            return .parameterGet(RehabLink.ParameterID(rawValue: reader.u16()))
        case .parameterSet:
            try expectLength(payload, 6)
            let parameter = RehabLink.ParameterID(rawValue: reader.u16())
            return .parameterSet(parameter, value: reader.i32())
        case .command:
            let count = try jointCount(payload, headerBytes: commandHeaderBytes, perJoint: jointCommandBytes)
            _ = reader.u8()
            guard reader.u8() == 0 else { throw .invalidField }
            var joints = JointList(count: count, repeating: RehabLink.JointCommand.off)
            for index in 0..<count {
                guard let mode = RehabLink.JointCommandMode(rawValue: reader.u8()) else { throw .invalidField }
                guard reader.u8() == 0 else { throw .invalidField }
                joints[index] = RehabLink.JointCommand(
                    mode: mode, positionMicroradians: reader.i32(), velocityMicroradiansPerSecond: reader.i32(),
                    torqueMillinewtonMeters: reader.i32(), stiffnessMillinewtonMetersPerRadian: reader.i32(),
                    dampingMillinewtonMeterSecondsPerRadian: reader.i32())
            }
            return .command(joints)
        case .identity:
            let count = try jointCount(payload, headerBytes: identityHeaderBytes, perJoint: jointLimitsBytes, countOffset: 1)
            let protocolVersion = reader.u8()
            _ = reader.u8()
            let major = reader.u8()
            let minor = reader.u8()
            let patch = reader.u8()
            guard reader.u8() == 0 else { throw .invalidField }
            let model: FixedASCII<24> = reader.ascii()
            let serial: FixedASCII<16> = reader.ascii()
            var joints = JointList(
                count: count,
                repeating: RehabLink.JointLimits(
                    positionMinimumMicroradians: 0, positionMaximumMicroradians: 0,
                    velocityMaximumMicroradiansPerSecond: 0, torqueMaximumMillinewtonMeters: 0,
                    encoderCountsPerRevolution: 0))
            for index in 0..<count {
                joints[index] = RehabLink.JointLimits(
                    positionMinimumMicroradians: reader.i32(), positionMaximumMicroradians: reader.i32(),
                    velocityMaximumMicroradiansPerSecond: reader.i32(), torqueMaximumMillinewtonMeters: reader.i32(),
                    encoderCountsPerRevolution: reader.u32())
            }
            return .identity(
                RehabLink.DeviceIdentity(
                    protocolVersion: protocolVersion, firmwareMajor: major, firmwareMinor: minor,
                    firmwarePatch: patch, model: model, serialNumber: serial, joints: joints))
        case .acknowledge:
            try expectLength(payload, 8)
            guard let acknowledged = RehabLink.MessageType(rawValue: reader.u8()),
                let result = RehabLink.AcknowledgeResult(rawValue: reader.u8())
            else { throw .invalidField }
            let sequence = reader.u16()
            return .acknowledge(
                RehabLink.Acknowledgement(
                    acknowledgedType: acknowledged, result: result, acknowledgedSequence: sequence, value: reader.i32()))
        case .state:
            let count = try jointCount(payload, headerBytes: stateHeaderBytes, perJoint: jointStateBytes, countOffset: 10)
            let time = reader.u32()
            let commandSequence = reader.u16()
            let status = RehabLink.StatusFlags(rawValue: reader.u16())
            // 1.1's patient buttons (bits 6, 7) are accepted; bits 8 … 15 are still reserved.
            guard status.isSubset(of: .definedInVersion1_1) else { throw .invalidField }
            let fault = RehabLink.FaultCode(rawValue: reader.u16())
            _ = reader.u8()
            guard reader.u8() == 0 else { throw .invalidField }
            var joints = JointList(count: count, repeating: RehabLink.JointState())
            for index in 0..<count {
                var joint = RehabLink.JointState()
                joint.positionMicroradians = reader.i32()
                joint.velocityMicroradiansPerSecond = reader.i32()
                joint.torqueMillinewtonMeters = reader.i32()
                joint.interactionTorqueMillinewtonMeters = reader.i32()
                joint.encoderCounts = reader.u32()
                joint.motorCurrentMilliamperes = reader.i16()
                joint.temperatureDecidegreesCelsius = reader.i16()
                joint.flags = RehabLink.JointFlags(rawValue: reader.u8())
                guard joint.flags.isSubset(of: .definedInVersion1) else { throw .invalidField }
                joints[index] = joint
            }
            return .state(
                RehabLink.StateReport(
                    deviceTimeMicroseconds: time, commandSequence: commandSequence, status: status, faultCode: fault,
                    joints: joints))
        case .fault:
            try expectLength(payload, 12)
            let code = RehabLink.FaultCode(rawValue: reader.u16())
            let joint = reader.u8()
            guard reader.u8() == 0 else { throw .invalidField }
            let value = reader.i32()
            return .fault(RehabLink.FaultReport(code: code, joint: joint, value: value, deviceTimeMicroseconds: reader.u32()))
        case .parameter:
            try expectLength(payload, 8)
            let parameter = RehabLink.ParameterID(rawValue: reader.u16())
            guard let result = RehabLink.ParameterResult(rawValue: reader.u8()) else { throw .invalidField }
            guard reader.u8() == 0 else { throw .invalidField }
            return .parameter(RehabLink.ParameterReport(parameter: parameter, result: result, value: reader.i32()))
        case .error:
            try expectLength(payload, 4)
            guard let code = RehabLink.ProtocolErrorCode(rawValue: reader.u8()) else { throw .invalidField }
            let offendingType = reader.u8()
            return .error(RehabLink.ProtocolErrorReport(code: code, offendingType: offendingType, offendingSequence: reader.u16()))
        }
    }

    private static func expectLength(_ payload: UnsafeRawBufferPointer, _ length: Int) throws(RehabLink.ProtocolErrorCode) {
        guard payload.count == length else { throw .badLength }
    }

    /// Validates a per-joint payload: joint_count at `countOffset` in 1...8 and the length matching it.
    private static func jointCount(
        _ payload: UnsafeRawBufferPointer, headerBytes: Int, perJoint: Int, countOffset: Int = 0
    ) throws(RehabLink.ProtocolErrorCode) -> Int {
        guard payload.count >= headerBytes else { throw .badLength }
        let count = Int(payload[countOffset])
        guard count >= 1 && count <= RehabLink.maxJoints else { throw .invalidField }
        guard payload.count == headerBytes + count * perJoint else { throw .badLength }
        return count
    }
}

extension RehabLink.ProtocolErrorCode: Error {}
