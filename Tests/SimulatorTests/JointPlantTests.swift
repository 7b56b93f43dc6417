import Foundation
import RehabLinkSimulator
import XCTest

final class JointPlantTests: XCTestCase {
    private let parameters = JointPlant.Parameters(
        inertiaKilogramSquareMeters: 0.0045, viscousFrictionNewtonMeterSecondsPerRadian: 0.02,
        coulombFrictionNewtonMeters: 0.04, hardLimitMinimumRadians: -1.2, hardLimitMaximumRadians: 1.2,
        ratedTorqueNewtonMeters: 4, jointTorquePerAmpere: 1, windingResistanceOhms: 1.2,
        thermalResistanceKelvinPerWatt: 4, thermalTimeConstantSeconds: 300, ambientTemperatureCelsius: 25,
        encoderCountsPerRevolution: 327_680)
    private let dt = 100e-6

    func testFreeJointUnderConstantTorqueFollowsTheFirstOrderSolution() {
        var plant = JointPlant(parameters: parameters, positionRadians: -1.0)
        let torque = 0.2
        for _ in 0..<1_000 { plant.step(motorTorqueDemand: torque, seconds: dt) }  // 100 ms
        // I·v̇ = τ − c − b·v  ⇒  v(t) = (τ − c)/b · (1 − e^(−b·t/I))
        let expected = (torque - 0.04) / 0.02 * (1 - exp(-0.02 * 0.1 / 0.0045))
        XCTAssertEqual(plant.velocityRadiansPerSecond, expected, accuracy: expected * 0.01)
    }

    func testHardStopHoldsTheJointAtTheLimit() {
        var plant = JointPlant(parameters: parameters, positionRadians: 1.0)
        for _ in 0..<20_000 { plant.step(motorTorqueDemand: 1.0, seconds: dt) }
        XCTAssertEqual(plant.positionRadians, 1.2)
        XCTAssertEqual(plant.velocityRadiansPerSecond, 0)
        XCTAssertTrue(plant.atUpperHardStop)
    }

    func testStictionHoldsBelowCoulombFrictionAndFrictionStopsACoastingJoint() {
        var plant = JointPlant(parameters: parameters)
        for _ in 0..<10_000 { plant.step(motorTorqueDemand: 0.039, seconds: dt) }
        XCTAssertEqual(plant.positionRadians, 0, "0.039 N·m does not break 0.04 N·m of stiction")
        for _ in 0..<500 { plant.step(motorTorqueDemand: 0.5, seconds: dt) }
        XCTAssertGreaterThan(plant.velocityRadiansPerSecond, 1)
        for _ in 0..<10_000 { plant.step(motorTorqueDemand: 0, seconds: dt) }
        XCTAssertEqual(plant.velocityRadiansPerSecond, 0, "friction brings it to rest and it stays")
    }

    func testDriveSaturatesAtItsRating() {
        var plant = JointPlant(parameters: parameters)
        plant.step(motorTorqueDemand: 10, seconds: dt)
        XCTAssertEqual(plant.motorTorqueNewtonMeters, 4)
        XCTAssertTrue(plant.torqueLimited)
        plant.step(motorTorqueDemand: .nan, seconds: dt)
        XCTAssertEqual(plant.motorTorqueNewtonMeters, 0, "a NaN demand produces no torque")
    }

    func testWindingHeatsTowardsItsSteadyState() {
        var plant = JointPlant(parameters: parameters)
        for _ in 0..<3_000_000 { plant.step(motorTorqueDemand: 2, seconds: 1e-3) }  // 3000 s ≫ τ = 300 s
        // 2 A through 1.2 Ω is 4.8 W; at 4 K/W that is 19.2 K above ambient.
        XCTAssertEqual(plant.temperatureCelsius, 25 + 19.2, accuracy: 0.1)
    }

    func testEncoderCountQuantisesPosition() {
        var plant = JointPlant(parameters: parameters)
        plant.place(atRadians: 0.5)
        let counts = plant.encoderCount
        XCTAssertEqual(counts, Int64((0.5 / (2 * Double.pi) * 327_680).rounded(.down)))
    }
}
