import Control
import Primitives
import RehabLinkSimulator
import Session
import StrictJSON
import Telemetry
import XCTest

/// The therapy modes against the simulated patient, in virtual time at 1 kHz: each mode does what
/// the literature says it should, and the supervisor still has the last word.
final class TherapyModeTests: XCTestCase {
    private let degree = Units.radiansPerDegree

    private func exercise(_ mode: TherapyMode, repetitions: Int = 8, swing: Double = 2.0) -> RangeOfMotionExercise {
        var exercise = RangeOfMotionExercise(jointIndex: 0, rangeRadians: (-25 * degree)...(25 * degree), swingSeconds: swing,
                                             holdSeconds: 0.3, repetitions: repetitions)
        exercise.mode = mode
        return exercise
    }

    private func run(_ exercise: RangeOfMotionExercise, patient: SimulatedPatient.Parameters, faults: [InjectedFault] = [])
        throws -> (SessionReport, VirtualSessionHarness)
    {
        let seconds = 0.5 + exercise.sessionSeconds(durationSeconds: nil)
        let harness = try VirtualSessionHarness(durationSeconds: seconds, exercise: exercise)
        try harness.session.prepare()
        harness.attachPatient(patient)
        if !faults.isEmpty { harness.link.inject(faults) }
        let report = harness.session.run()
        harness.session.finish()
        return (report, harness)
    }

    private func metric(_ report: SessionReport, _ key: String) -> [Double] {
        report.metrics.objectValue?[key]?.arrayValue?.compactMap(\.doubleValue) ?? []
    }

    static let assistAsNeeded = AssistAsNeeded.Parameters(
        minimumGain: 0.05, maximumGain: 1, initialGain: 1, forgettingFactorPerSecond: 0.6, errorGainPerRadianSecond: 30,
        errorDeadbandRadians: 2.5 * Units.radiansPerDegree)

    func testPassiveTracksWithinHalfADegreeForAPatientWhoDoesNothing() throws {
        let (report, _) = try run(exercise(.passive, repetitions: 4), patient: .passive)
        XCTAssertTrue(report.safetyEvents.isEmpty, "\(report.safetyEvents)")
        XCTAssertLessThan(report.joints[0].rmsTrackingErrorRadians, 0.5 * degree)
        XCTAssertEqual(report.joints[0].rangeOfMotionRadians, 50 * degree, accuracy: 1 * degree)
        XCTAssertGreaterThan(try XCTUnwrap(metric(report, "assistance_ratio").first), 0.95, "the robot does the work")
    }

    func testAssistanceFallsOverRepetitionsForAHealthyPatient() throws {
        let (report, _) = try run(exercise(.activeAssist(Self.assistAsNeeded)), patient: .healthy)
        XCTAssertTrue(report.safetyEvents.isEmpty, "\(report.safetyEvents)")
        let gains = metric(report, "assistance_gain_by_repetition")
        XCTAssertEqual(gains.count, 8, "\(gains)")
        XCTAssertLessThan(gains.last!, 0.5 * gains.first!, "assistance withdrawn as the patient performs: \(gains)")
        XCTAssertLessThan(gains.last!, 0.3, "\(gains)")
        XCTAssertEqual(gains.last!, Self.assistAsNeeded.minimumGain, accuracy: 0.01, "down to the floor: \(gains)")
        // Over the whole session, the first repetition (full assistance) included.
        XCTAssertLessThan(try XCTUnwrap(metric(report, "assistance_ratio").first), 0.6, "the patient does about half the work or more")
        XCTAssertGreaterThan(try XCTUnwrap(metric(report, "patient_work_j").first), 0.2)
    }

    func testAssistanceStaysHighForASeverelyImpairedPatient() throws {
        let (report, _) = try run(exercise(.activeAssist(Self.assistAsNeeded)), patient: .strokeSevere)
        XCTAssertTrue(report.safetyEvents.isEmpty, "\(report.safetyEvents)")
        let gains = metric(report, "assistance_gain_by_repetition")
        XCTAssertEqual(gains.count, 8, "\(gains)")
        XCTAssertGreaterThan(gains.last!, 0.5, "ten times the healthy patient's floor: \(gains)")
        XCTAssertLessThan(gains.last!, 1, "but not all of it: the patient's own effort still counts")
        XCTAssertGreaterThan(try XCTUnwrap(metric(report, "assistance_ratio").first), 0.7, "the robot does most of the work")
        XCTAssertLessThan(report.joints[0].rmsTrackingErrorRadians, 5 * degree, "and the limb still gets through the range")
    }

    func testResistanceFollowsItsTorqueVelocityRelation() throws {
        let resistance = Resistance(springNewtonMetersPerRadian: 0.5, damperNewtonMeterSecondsPerRadian: 0.4, constantNewtonMeters: 0.1,
                                    maximumTorqueNewtonMeters: 1.5)
        let (report, harness) = try run(exercise(.activeResist(resistance), repetitions: 3), patient: .healthy)
        XCTAssertTrue(report.safetyEvents.isEmpty, "\(report.safetyEvents)")
        let frames = harness.session.blackBox.samples().filter { $0.action == 1 }
        XCTAssertGreaterThan(frames.count, 3_000)
        // After the enable ramp, each commanded torque is −k·q − b·q̇ − c·q̇/√(q̇² + ε²), within the slew limit's reach.
        var checked = 0
        for frame in frames.dropFirst(1_000) where abs(frame.velocitiesRadiansPerSecond[0]) > 0.2 {
            let expected = resistance.torque(positionRadians: frame.positionsRadians[0], velocityRadiansPerSecond: frame.velocitiesRadiansPerSecond[0])
            XCTAssertEqual(frame.commandTorquesNewtonMeters[0], expected, accuracy: 0.02, "cycle \(frame.cycle)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 500)
        XCTAssertGreaterThan(report.joints[0].rangeOfMotionRadians, 30 * degree, "the patient moved against it")
        XCTAssertLessThan(try XCTUnwrap(metric(report, "assistance_ratio").first), 0.05, "all the positive work is the patient's")
        XCTAssertGreaterThan(try XCTUnwrap(metric(report, "patient_work_j").first), 0.1)
    }

    func testTransparentModeKeepsTheInteractionTorqueLowWhileTheHealthyPatientMoves() throws {
        let (compensated, _) = try run(exercise(.transparent(Transparency(frictionCompensation: 1, inertiaCompensation: 0.5)), repetitions: 3),
                                       patient: .healthy)
        let (bare, _) = try run(exercise(.transparent(Transparency(frictionCompensation: 0, inertiaCompensation: 0)), repetitions: 3),
                                patient: .healthy)
        XCTAssertTrue(compensated.safetyEvents.isEmpty, "\(compensated.safetyEvents)")
        let withCompensation = try XCTUnwrap(metric(compensated, "rms_interaction_torque_nm").first)
        let without = try XCTUnwrap(metric(bare, "rms_interaction_torque_nm").first)
        XCTAssertLessThan(try XCTUnwrap(metric(compensated, "peak_interaction_torque_nm").first), 0.3, "bounded while moving 50°")
        XCTAssertLessThan(withCompensation, 0.8 * without, "compensation makes the robot lighter: \(withCompensation) vs \(without) N·m RMS")
        XCTAssertGreaterThan(compensated.joints[0].rangeOfMotionRadians, 40 * degree, "the patient moves the robot through the range")
    }

    func testASpasmInASeverelyImpairedPatientTripsSR9ButTheirTremorDoesNot() throws {
        let (calm, _) = try run(exercise(.passive, repetitions: 4), patient: .strokeSevere)
        XCTAssertTrue(calm.safetyEvents.isEmpty, "tremor and spasticity alone stay below the trip: \(calm.safetyEvents)")
        let spasm = InjectedFault(.externalTorque(joint: 0, newtonMeters: 2.8, rampMilliseconds: 200), .afterEnableMilliseconds(3_000))
        let (spastic, _) = try run(exercise(.passive, repetitions: 4), patient: .strokeSevere, faults: [spasm])
        let trip = try XCTUnwrap(spastic.safetyEvents.first)
        XCTAssertEqual(trip.cause.requirement, "SR-9", "\(spastic.safetyEvents.map(\.cause))")
    }
}
