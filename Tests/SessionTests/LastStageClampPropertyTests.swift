import Control
import DeviceModel
import Devices
import Primitives
import Profiles
import Session
import TestSupport
import Wire
import XCTest

/// SR-6: whatever a controller or mode produces, nothing out of range reaches the wire. 10⁶
/// random and adversarial outputs go through the clamp the session builds from the wrist profile
/// and through the encoder's conversion, and every wire command is checked against the limits.
extension SplitMix64 {
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func pick<T>(_ values: [T]) -> T { values[Int(next() % UInt64(values.count))] }
}

final class LastStageClampPropertyTests: XCTestCase {
    func testSR6AMillionAdversarialOutputsGiveZeroOutOfRangeWireCommands() throws {
        let profile = try HardwareProfileLoader.load(path: RepositoryPaths.file("hardware/wrist-trainer.json").path)
        let joints = try SafetySettings.jointLimits(profile)
        var clamp = try SafetySettings.clamp(profile, joints: joints, periodNanoseconds: 1_000_000)
        let slewPerCycle = profile.safety.torqueSlewLimitNewtonMetersPerSecond * 0.001
        let adversarial: [Double] = [.nan, -.nan, .infinity, -.infinity, 1e308, -1e308, .greatestFiniteMagnitude,
                                     -.leastNonzeroMagnitude, 0, -0.0, 3.0000001, -2.5000001, 1e-300]
        var random = SplitMix64(seed: 0x5EED_2026)
        var commands = JointList(count: 2, repeating: JointActuation.off)
        var measured = JointList(count: 2, repeating: JointMeasurement())
        var previousWireTorque = [Int64](repeating: 0, count: 2)
        var violations: [String] = []
        var counts = (nonFinite: 0, limited: 0, slewed: 0, soft: 0)
        for iteration in 0..<1_000_000 {
            for joint in 0..<2 {
                let limit = profile.joints[joint].torqueLimitNewtonMeters
                let value: Double
                switch random.next() % 4 {
                case 0: value = random.pick(adversarial)
                case 1: value = -commands[joint].torqueNewtonMeters  // a sign flip of the last output
                default: value = (random.unit() * 2 - 1) * 3 * limit
                }
                let mode: JointActuation.Mode = random.pick([.torque, .torque, .velocity, .off])
                commands[joint] = JointActuation(mode: mode, torqueNewtonMeters: value, velocityRadiansPerSecond: value * 2)
                // Joints sometimes past their soft limits, moving either way.
                let soft = joints[joint]
                measured[joint].positionRadians = random.next() % 8 == 0
                    ? random.pick([soft.softMaximumRadians + 0.01, soft.softMinimumRadians - 0.01])
                    : (random.unit() * 2 - 1) * soft.softMaximumRadians
                measured[joint].velocityRadiansPerSecond = (random.unit() * 2 - 1) * 0.05
            }
            let hadNonFinite = (0..<2).contains { !commands[$0].torqueNewtonMeters.isFinite || !commands[$0].velocityRadiansPerSecond.isFinite }
            let outcome = clamp.apply(to: &commands, measured: measured)
            if outcome.foundNonFinite { counts.nonFinite += 1 }
            if outcome.limited { counts.limited += 1 }
            if outcome.slewLimited { counts.slewed += 1 }
            if outcome.softLimited { counts.soft += 1 }
            for joint in 0..<2 {
                let wire = RehabLinkDevice.wireCommand(for: commands[joint])
                let limit = profile.joints[joint]
                let speedLimit = min(limit.ratedVelocityRadiansPerSecond, profile.safety.velocityTripRadiansPerSecond)
                let torque = Int64(wire.torqueMillinewtonMeters)
                let velocity = Int64(wire.velocityMicroradiansPerSecond)
                func fail(_ what: String) { violations.append("iteration \(iteration) joint \(joint): \(what) (\(wire))") }
                if hadNonFinite && wire.mode != .off { fail("a NaN/Inf output was not turned off") }
                if abs(torque) > Int64((limit.torqueLimitNewtonMeters * 1000).rounded()) { fail("torque beyond the limit") }
                if abs(velocity) > Int64((speedLimit * 1e6).rounded()) { fail("velocity beyond the limit") }
                // Any step is slew-limited except a cut to zero (torque off is never delayed).
                if wire.mode == .torque && torque != 0 && abs(torque - previousWireTorque[joint]) > Int64((slewPerCycle * 1000).rounded()) + 1 {
                    fail("torque step beyond the slew limit")
                }
                let position = measured[joint].positionRadians
                let outward: Double = position > joints[joint].softMaximumRadians ? 1 : (position < joints[joint].softMinimumRadians ? -1 : 0)
                if outward != 0 && (Double(torque) * outward > 0 || Double(velocity) * outward > 0) {
                    fail("pushes further past the soft limit")
                }
                previousWireTorque[joint] = wire.mode == .torque ? torque : 0
            }
            if violations.count > 10 { break }
        }
        XCTAssertEqual(violations, [], "out-of-range wire commands")
        print("SR-6 property: 10⁶ outputs; non-finite \(counts.nonFinite), limited \(counts.limited), slew-limited \(counts.slewed), soft-limited \(counts.soft); \(violations.count) out of range")
        // The generator really exercised every branch.
        XCTAssertGreaterThan(counts.nonFinite, 100_000)
        XCTAssertGreaterThan(counts.limited, 100_000)
        XCTAssertGreaterThan(counts.slewed, 100_000)
        XCTAssertGreaterThan(counts.soft, 10_000)
    }
}
