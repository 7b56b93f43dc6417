import Primitives
import RehabLinkSimulator
import TestSupport
import Wire
import XCTest

/// The device end of RehabLink against the same vectors as the host end.
final class DeviceVectorTests: XCTestCase {
    func testDeviceDecodesEveryHostVectorLikeTheReferenceAndAnswersEachAsTheSpecSays() throws {
        for vector in try RehabLinkVectors.all() where vector.direction == "host_to_device" {
            let harness = try SimulatorHarness()
            let replies = harness.send(bytes: vector.wire)
            XCTAssertEqual(harness.device.decoderStatistics, vector.statistics, vector.name)
            var expectedReplies: [RehabLink.MessageType] = []
            for outcome in vector.expected {
                switch outcome {
                case .rejected:
                    expectedReplies.append(.error)
                case .packet(let packet):
                    switch packet.message {
                    case .identify: expectedReplies.append(.identity)
                    case .enable, .disable, .faultReset: expectedReplies.append(.acknowledge)
                    case .command: expectedReplies += [.error, .state]  // not enabled: ERROR, then STATE
                    case .heartbeat: expectedReplies.append(.state)
                    case .parameterGet, .parameterSet: expectedReplies.append(.parameter)
                    default: XCTFail("\(vector.name): a device→host message in a host→device vector")
                    }
                }
            }
            XCTAssertEqual(replies.map(\.message.type), expectedReplies, vector.name)
            // Every rejection is answered with an ERROR naming the reason, type and sequence.
            let errors = replies.compactMap(\.protocolError)
            for case .rejected(let rejection) in vector.expected {
                XCTAssertTrue(
                    errors.contains(RehabLink.ProtocolErrorReport(code: rejection.reason, offendingType: rejection.type, offendingSequence: rejection.sequence)),
                    "\(vector.name): no ERROR for \(rejection)")
            }
        }
    }

    func testIdentityOfTheWristProfileMatchesTheSpecVector() throws {
        var configuration = try SimulatorHarness.wristConfiguration()
        (configuration.firmwareMajor, configuration.firmwareMinor, configuration.firmwarePatch) = (1, 2, 3)
        let harness = try SimulatorHarness(configuration: configuration)
        let vector = try RehabLinkVectors.named("identity-wrist-trainer")
        guard case .packet(let expected) = vector.expected.first else { return XCTFail("vector holds no packet") }
        XCTAssertEqual(harness.send(.identify).map(\.message), [expected.message])
    }

    func testEncodedDeviceRepliesDecodeWithTheReferenceCounters() throws {
        let harness = try SimulatorHarness()
        harness.send(.identify)
        harness.enable()
        for _ in 0..<20 {
            harness.send(SimulatorHarness.torqueCommand([0.1, -0.1]))
            harness.wait(milliseconds: 1)
        }
        XCTAssertEqual(harness.device.decoderStatistics.crcErrors, 0)
        XCTAssertEqual(harness.device.decoderStatistics.packetsDecoded, 22)
    }
}
