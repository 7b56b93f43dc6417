import DeviceModel
import Primitives
import XCTest

/// `JointList` element mutation in place. Swift 6.3.1 -O lost the first of two successive writes to
/// one element's fields (`list[i].velocity = v; list[i].position += v·dt`: the velocity stayed) when
/// the list sat in a class property and the value came from an enum's payload — found by a
/// TherapyCycle test whose ideal plant never slowed down. The `_modify` accessor avoids it; these
/// reproduce the shapes that failed, in the release build the suite runs.
final class JointListTests: XCTestCase {
    private final class Plant {
        var state = RobotState(jointCount: 2)

        @inline(never)
        func follow(_ intent: DeviceIntent) {
            switch intent {
            case .command:
                for joint in 0..<state.joints.count { state.joints[joint].velocityRadiansPerSecond = 0 }
            case .quickStop(let joints):
                for joint in 0..<state.joints.count {
                    state.joints[joint].velocityRadiansPerSecond = joints[joint].velocityRadiansPerSecond
                    state.joints[joint].positionRadians += joints[joint].velocityRadiansPerSecond * 1e-3
                }
            case .torqueOff, .observe, .faultReset:
                break
            }
        }
    }

    /// A value the optimiser cannot know (the test process's argument count is at least 1).
    private var opaque: Double { Double(CommandLine.arguments.count) }

    func testTwoSuccessiveFieldWritesToOneElementOfAListInAClassBothLand() {
        let plant = Plant()
        plant.state.joints[0].velocityRadiansPerSecond = 0.8
        plant.state.joints[1].velocityRadiansPerSecond = -0.5
        var references = JointList(count: 2, repeating: JointActuation(mode: .velocity))
        references[0].velocityRadiansPerSecond = 0.78 * opaque
        references[1].velocityRadiansPerSecond = -0.48 * opaque
        plant.follow(.quickStop(references))
        for joint in 0..<2 {
            XCTAssertEqual(plant.state.joints[joint].velocityRadiansPerSecond, references[joint].velocityRadiansPerSecond, "joint \(joint)'s velocity")
            XCTAssertEqual(plant.state.joints[joint].positionRadians, references[joint].velocityRadiansPerSecond * 1e-3, accuracy: 1e-15)
        }
    }

    func testEveryFieldWrittenInTurnIsKept() {
        var list = JointList(count: 3, repeating: JointMeasurement())
        for joint in 0..<3 {
            let base = opaque * Double(joint + 1)
            list[joint].positionRadians = base
            list[joint].velocityRadiansPerSecond = base + 1
            list[joint].motorTorqueNewtonMeters += base + 2
            list[joint].encoderCounts = Int64(base) + 3
        }
        for joint in 0..<3 {
            let base = opaque * Double(joint + 1)
            XCTAssertEqual(list[joint].positionRadians, base)
            XCTAssertEqual(list[joint].velocityRadiansPerSecond, base + 1)
            XCTAssertEqual(list[joint].motorTorqueNewtonMeters, base + 2)
            XCTAssertEqual(list[joint].encoderCounts, Int64(base) + 3)
        }
    }
}
