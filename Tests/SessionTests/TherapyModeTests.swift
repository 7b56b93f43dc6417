import Control
import Foundation
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

/// Switching between the exercise's mode and passive in the middle of a session: the torque blends
/// over the ramp (no step), assist-as-needed keeps its gain across, the robot takes over while passive.
final class ModeSwitchTests: XCTestCase {
    func testSwitchingToPassiveAndBackIsBumpless() throws {
        var exercise = RangeOfMotionExercise(jointIndex: 0, rangeRadians: -0.44...0.44, swingSeconds: 2, holdSeconds: 0.3, repetitions: 6)
        exercise.mode = .activeAssist(TherapyModeTests.assistAsNeeded)
        let path = NSTemporaryDirectory() + "rehabhost-modeswitch-\(UUID().uuidString).mcap"
        defer { unlink(path) }
        let harness = try VirtualSessionHarness(durationSeconds: 0.5 + exercise.sessionSeconds(durationSeconds: nil), exercise: exercise, adjust: {
            $0.recordingPath = path
            $0.telemetryRingSeconds = 40
        })
        try harness.session.prepare()
        harness.attachPatient(.strokeMild)
        let start = harness.clock.now()
        let control = harness.session.control
        let toPassive = start.advanced(byNanoseconds: 9_000_000_000)
        let back = start.advanced(byNanoseconds: 16_000_000_000)
        harness.link.at(toPassive) { control.requestPassive(true) }
        harness.link.at(back) { control.requestPassive(false) }
        let report = harness.session.run()
        harness.session.finish()
        XCTAssertTrue(report.safetyEvents.isEmpty, "\(report.safetyEvents)")
        XCTAssertEqual(report.recording?.recordsDropped, 0)

        let file = try MCAPFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        var torques: [(time: Int64, torque: Double)] = []
        for message in file.messages(onTopic: "/joint_command") {
            let object = try XCTUnwrap(JSONParser.parse(bytes: Array(file.data(of: message))).objectValue)
            let torque = try XCTUnwrap(object["torque_nm"]?.arrayValue?.first?.doubleValue)
            torques.append((Int64(message.logTime), torque))
        }
        let origin = Int64(file.messages(onTopic: "/joint_command").first!.logTime)
        func steps(around instant: MonotonicInstant) -> (largestStep: Double, change: Double) {
            let center = origin + instant.nanoseconds(since: start) - 1_000_000  // the first cycle ran one period after start
            let window = torques.filter { abs($0.time - center) < 700_000_000 }
            let largest = zip(window, window.dropFirst()).map { abs($1.torque - $0.torque) }.max() ?? .infinity
            return (largest, abs((window.last?.torque ?? 0) - (window.first?.torque ?? 0)))
        }
        let into = steps(around: toPassive)
        let outOf = steps(around: back)
        // A step would be the whole difference between the modes' torques; the blend spreads it over 500 cycles.
        // The torque moves by most of a newton-metre across each switch, never by more than a few
        // hundredths in one cycle (the swing itself changes it by up to ~0.02 N·m per cycle).
        for (name, window) in [("into passive", into), ("back", outOf)] {
            XCTAssertGreaterThan(window.change, 0.3, "\(name): the modes differ (\(window))")
            XCTAssertLessThan(window.largestStep, 0.03, "\(name): no torque step (\(window))")
            XCTAssertLessThan(window.largestStep, 0.05 * window.change, "\(name): spread over the ramp (\(window))")
        }
        let gains = report.metrics.objectValue?["assistance_gain_by_repetition"]?.arrayValue?.compactMap(\.doubleValue) ?? []
        XCTAssertGreaterThanOrEqual(gains.count, 3, "\(gains)")
        XCTAssertEqual(report.metrics.objectValue?["repetitions"]?.integerValue, 6)
    }
}
