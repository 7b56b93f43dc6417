import Primitives
import TestSupport
import Wire
import XCTest

/// What RehabLink 1.1 adds to the codec: the patient's status bits, the version probe and the SR-24
/// limit parameters — with the same numbers as the spec and the Python reference's vectors.
final class RehabLinkVersion1_1Tests: XCTestCase {
    private func decode(_ bytes: [UInt8]) -> [RehabLinkDecodeResult] {
        var decoder = RehabLinkFrameDecoder()
        return bytes.compactMap { decoder.push($0) }
    }

    private func state(status: DeviceStatusFlags) -> RehabLinkMessage {
        .state(DeviceStateReport(deviceTimeMicroseconds: 5, commandSequence: 9, status: status, faultCode: .none,
                                 joints: JointList(count: 2, repeating: WireJointState(positionMicroradians: 100))))
    }

    func testPatientStopAndPauseAreStatusBits6And7AndRoundTrip() {
        XCTAssertEqual(DeviceStatusFlags.patientStop.rawValue, 0x0040)
        XCTAssertEqual(DeviceStatusFlags.patientPause.rawValue, 0x0080)
        XCTAssertEqual(DeviceStatusFlags.definedInVersion1_1.rawValue, 0x00FF)
        for status: DeviceStatusFlags in [[.enabled, .torqueOn, .patientStop], [.enabled, .patientPause], .definedInVersion1_1] {
            let message = state(status: status)
            let frame = RehabLinkFrameEncoder.frame(message, sequence: 300)
            XCTAssertEqual(decode(frame.bytes), [.packet(RehabLinkPacket(sequence: 300, message: message))], "status \(status.rawValue)")
        }
    }

    func testStatusBitsAbove7AreStillReserved() {
        let frame = RehabLinkFrameEncoder.frame(state(status: DeviceStatusFlags(rawValue: 0x0100)), sequence: 301)
        XCTAssertEqual(decode(frame.bytes), [.rejected(PacketRejection(reason: .invalidField, version: 1, type: 0x83, sequence: 301))])
    }

    func testJointLimitParameterIDsAreBasePlusJointIndex() {
        XCTAssertEqual(ParameterID.protocolMinor.rawValue, 0x0003)
        XCTAssertEqual(JointLimitParameter.softLimitMinimum.id(joint: 0).rawValue, 0x0040)
        XCTAssertEqual(JointLimitParameter.softLimitMaximum.id(joint: 1).rawValue, 0x0049)
        XCTAssertEqual(JointLimitParameter.torqueCapPositive.id(joint: 2).rawValue, 0x0052)
        XCTAssertEqual(JointLimitParameter.torqueCapNegative.id(joint: 1).rawValue, 0x0059)
        XCTAssertEqual(JointLimitParameter.velocityTrip.id(joint: 7).rawValue, 0x0067)
        for parameter in JointLimitParameter.allCases {
            for joint in 0..<RehabLink.maxJoints {
                let decoded = parameter.id(joint: joint).jointLimit
                XCTAssertEqual(decoded?.parameter, parameter)
                XCTAssertEqual(decoded?.joint, joint)
            }
        }
        for other: UInt16 in [0x0001, 0x0003, 0x0012, 0x0031, 0x003F, 0x0068, 0xFFFF] {
            XCTAssertNil(ParameterID(rawValue: other).jointLimit, "0x\(String(other, radix: 16)) is not a joint limit")
        }
        XCTAssertEqual(JointLimitParameter.torqueCapNegative.id(joint: 1).description, "0x0059 (torque_cap_negative_mnm, joint 1)")
    }

    func testLimitParametersRoundTripInParamSetGetAndReply() {
        let id = JointLimitParameter.softLimitMinimum.id(joint: 3)
        for message: RehabLinkMessage in [
            .parameterSet(id, value: -1_134_464), .parameterGet(id),
            .parameter(ParameterReport(parameter: id, result: .outOfRange, value: -1_221_730)),
            .parameter(ParameterReport(parameter: .protocolMinor, result: .unknownParameter, value: 0)),
        ] {
            let frame = RehabLinkFrameEncoder.frame(message, sequence: 40)
            XCTAssertEqual(decode(frame.bytes), [.packet(RehabLinkPacket(sequence: 40, message: message))])
        }
    }

    /// The ids in the Python reference's vectors are the Swift constants: the spec's table, twice.
    func testTheVersion1_1VectorsCarryTheSwiftParameterIDsAndStatusBits() throws {
        let expected: [(String, RehabLinkMessage)] = [
            ("param-get-protocol-minor", .parameterGet(.protocolMinor)),
            ("param-set-soft-limit-min-joint-0", .parameterSet(JointLimitParameter.softLimitMinimum.id(joint: 0), value: -1_134_464)),
            ("param-set-soft-limit-max-joint-1", .parameterSet(JointLimitParameter.softLimitMaximum.id(joint: 1), value: 1_396_263)),
            ("param-set-torque-cap-positive-joint-0", .parameterSet(JointLimitParameter.torqueCapPositive.id(joint: 0), value: 3_000)),
            ("param-set-torque-cap-negative-joint-1", .parameterSet(JointLimitParameter.torqueCapNegative.id(joint: 1), value: 2_500)),
            ("param-set-velocity-trip-joint-7", .parameterSet(JointLimitParameter.velocityTrip.id(joint: 7), value: 2_250_000)),
            ("param-get-velocity-trip-joint-0", .parameterGet(JointLimitParameter.velocityTrip.id(joint: 0))),
        ]
        for (name, message) in expected {
            let vector = try RehabLinkVectors.named(name)
            guard case .packet(let packet) = vector.expected.first else { return XCTFail("\(name): no packet") }
            XCTAssertEqual(packet.message, message, name)
        }
        let buttons: [(String, DeviceStatusFlags)] = [("state-patient-stop", .patientStop), ("state-patient-pause", .patientPause)]
        for (name, bit) in buttons {
            let vector = try RehabLinkVectors.named(name)
            guard case .packet(let packet) = vector.expected.first, case .state(let report) = packet.message else {
                return XCTFail("\(name): no STATE")
            }
            XCTAssertEqual(report.status, [.enabled, .torqueOn, bit], name)
        }
    }
}
