import Primitives
import TestSupport
import Wire
import XCTest

/// What RehabLink 1.1 adds to the codec: the patient's status bits, the version probe and the SR-24
/// limit parameters — with the same numbers as the spec and the Python reference's vectors.
final class RehabLinkVersion1_1Tests: XCTestCase {
    private func decode(_ bytes: [UInt8]) -> [RehabLink.DecodeResult] {
        var decoder = RehabLink.FrameDecoder()
        return bytes.compactMap { decoder.push($0) }
    }

    private func state(status: RehabLink.StatusFlags) -> RehabLink.Message {
        .state(RehabLink.StateReport(deviceTimeMicroseconds: 5, commandSequence: 9, status: status, faultCode: .none,
                                 joints: JointList(count: 2, repeating: RehabLink.JointState(positionMicroradians: 100))))
    }

    func testPatientStopAndPauseAreStatusBits6And7AndRoundTrip() {
        XCTAssertEqual(RehabLink.StatusFlags.patientStop.rawValue, 0x0040)
        XCTAssertEqual(RehabLink.StatusFlags.patientPause.rawValue, 0x0080)
        XCTAssertEqual(RehabLink.StatusFlags.definedInVersion1_1.rawValue, 0x00FF)
        for status: RehabLink.StatusFlags in [[.enabled, .torqueOn, .patientStop], [.enabled, .patientPause], .definedInVersion1_1] {
            let message = state(status: status)
            let frame = RehabLink.FrameEncoder.frame(message, sequence: 300)
            XCTAssertEqual(decode(frame.bytes), [.packet(RehabLink.Packet(sequence: 300, message: message))], "status \(status.rawValue)")
        }
    }

    func testStatusBitsAbove7AreStillReserved() {
        let frame = RehabLink.FrameEncoder.frame(state(status: RehabLink.StatusFlags(rawValue: 0x0100)), sequence: 301)
        XCTAssertEqual(decode(frame.bytes), [.rejected(RehabLink.PacketRejection(reason: .invalidField, version: 1, type: 0x83, sequence: 301))])
    }

    func testJointLimitParameterIDsAreBasePlusJointIndex() {
        XCTAssertEqual(RehabLink.ParameterID.protocolMinor.rawValue, 0x0003)
        XCTAssertEqual(RehabLink.JointLimitParameter.softLimitMinimum.id(joint: 0).rawValue, 0x0040)
        XCTAssertEqual(RehabLink.JointLimitParameter.softLimitMaximum.id(joint: 1).rawValue, 0x0049)
        XCTAssertEqual(RehabLink.JointLimitParameter.torqueCapPositive.id(joint: 2).rawValue, 0x0052)
        XCTAssertEqual(RehabLink.JointLimitParameter.torqueCapNegative.id(joint: 1).rawValue, 0x0059)
        XCTAssertEqual(RehabLink.JointLimitParameter.velocityTrip.id(joint: 7).rawValue, 0x0067)
        for parameter in RehabLink.JointLimitParameter.allCases {
            for joint in 0..<RehabLink.maxJoints {
                let decoded = parameter.id(joint: joint).jointLimit
                XCTAssertEqual(decoded?.parameter, parameter)
                XCTAssertEqual(decoded?.joint, joint)
            }
        }
        for other: UInt16 in [0x0001, 0x0003, 0x0012, 0x0031, 0x003F, 0x0068, 0xFFFF] {
            XCTAssertNil(RehabLink.ParameterID(rawValue: other).jointLimit, "0x\(String(other, radix: 16)) is not a joint limit")
        }
        XCTAssertEqual(RehabLink.JointLimitParameter.torqueCapNegative.id(joint: 1).description, "0x0059 (torque_cap_negative_mnm, joint 1)")
    }

    func testLimitParametersRoundTripInParamSetGetAndReply() {
        let id = RehabLink.JointLimitParameter.softLimitMinimum.id(joint: 3)
        for message: RehabLink.Message in [
            .parameterSet(id, value: -1_134_464), .parameterGet(id),
            .parameter(RehabLink.ParameterReport(parameter: id, result: .outOfRange, value: -1_221_730)),
            .parameter(RehabLink.ParameterReport(parameter: .protocolMinor, result: .unknownParameter, value: 0)),
        ] {
            let frame = RehabLink.FrameEncoder.frame(message, sequence: 40)
            XCTAssertEqual(decode(frame.bytes), [.packet(RehabLink.Packet(sequence: 40, message: message))])
        }
    }

    /// The ids in the Python reference's vectors are the Swift constants: the spec's table, twice.
    func testTheVersion1_1VectorsCarryTheSwiftParameterIDsAndStatusBits() throws {
        let expected: [(String, RehabLink.Message)] = [
            ("param-get-protocol-minor", .parameterGet(.protocolMinor)),
            ("param-set-soft-limit-min-joint-0", .parameterSet(RehabLink.JointLimitParameter.softLimitMinimum.id(joint: 0), value: -1_134_464)),
            ("param-set-soft-limit-max-joint-1", .parameterSet(RehabLink.JointLimitParameter.softLimitMaximum.id(joint: 1), value: 1_396_263)),
            ("param-set-torque-cap-positive-joint-0", .parameterSet(RehabLink.JointLimitParameter.torqueCapPositive.id(joint: 0), value: 3_000)),
            ("param-set-torque-cap-negative-joint-1", .parameterSet(RehabLink.JointLimitParameter.torqueCapNegative.id(joint: 1), value: 2_500)),
            ("param-set-velocity-trip-joint-7", .parameterSet(RehabLink.JointLimitParameter.velocityTrip.id(joint: 7), value: 2_250_000)),
            ("param-get-velocity-trip-joint-0", .parameterGet(RehabLink.JointLimitParameter.velocityTrip.id(joint: 0))),
        ]
        for (name, message) in expected {
            let vector = try RehabLinkVectors.named(name)
            guard case .packet(let packet) = vector.expected.first else { return XCTFail("\(name): no packet") }
            XCTAssertEqual(packet.message, message, name)
        }
        let buttons: [(String, RehabLink.StatusFlags)] = [("state-patient-stop", .patientStop), ("state-patient-pause", .patientPause)]
        for (name, bit) in buttons {
            let vector = try RehabLinkVectors.named(name)
            guard case .packet(let packet) = vector.expected.first, case .state(let report) = packet.message else {
                return XCTFail("\(name): no STATE")
            }
            XCTAssertEqual(report.status, [.enabled, .torqueOn, bit], name)
        }
    }
}
