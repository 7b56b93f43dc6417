import Control
import DeviceModel
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

/// Switching modes in the middle of a session: the torque blends over the ramp (no step),
/// assist-as-needed keeps its gain across, any of the exercise's modes can follow any other.
final class ModeSwitchTests: XCTestCase {
    private struct Switched {
        let report: SessionReport
        /// The exercised joint's commanded torque, per cycle, from the recording.
        let torques: [(time: Int64, torque: Double)]
        let origin: Int64
        let start: MonotonicInstant
    }

    /// Runs `exercise` with a stroke-mild patient, recorded, asking for the named modes at the given
    /// seconds after the start.
    private func run(_ exercise: RangeOfMotionExercise, switches: [(seconds: Double, mode: String)]) throws -> Switched {
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
        for (seconds, mode) in switches {
            let index = try XCTUnwrap(harness.session.availableModes.firstIndex { $0.name == mode }, mode)
            harness.link.at(start.advanced(byNanoseconds: Int64(seconds * 1e9))) { control.requestMode(index) }
        }
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
        return Switched(report: report, torques: torques, origin: Int64(file.messages(onTopic: "/joint_command").first!.logTime), start: start)
    }

    /// The largest per-cycle torque change within ±0.7 s of `seconds`, and the change across that window.
    private func steps(_ run: Switched, around seconds: Double) -> (largestStep: Double, change: Double) {
        let center = run.origin + Int64(seconds * 1e9) - 1_000_000  // the first cycle ran one period after start
        let window = run.torques.filter { abs($0.time - center) < 700_000_000 }
        let largest = zip(window, window.dropFirst()).map { abs($1.torque - $0.torque) }.max() ?? .infinity
        return (largest, abs((window.last?.torque ?? 0) - (window.first?.torque ?? 0)))
    }

    func testSwitchingToPassiveAndBackIsBumpless() throws {
        var exercise = RangeOfMotionExercise(jointIndex: 0, rangeRadians: -0.44...0.44, swingSeconds: 2, holdSeconds: 0.3, repetitions: 6)
        exercise.mode = .activeAssist(TherapyModeTests.assistAsNeeded)
        let run = try run(exercise, switches: [(9, "passive"), (16, "active_assist")])
        // A step would be the whole difference between the modes' torques; the blend spreads it over 500 cycles.
        // The torque moves by most of a newton-metre across each switch, never by more than a few
        // hundredths in one cycle (the swing itself changes it by up to ~0.02 N·m per cycle).
        for (name, window) in [("into passive", steps(run, around: 9)), ("back", steps(run, around: 16))] {
            XCTAssertGreaterThan(window.change, 0.3, "\(name): the modes differ (\(window))")
            XCTAssertLessThan(window.largestStep, 0.03, "\(name): no torque step (\(window))")
            XCTAssertLessThan(window.largestStep, 0.05 * window.change, "\(name): spread over the ramp (\(window))")
        }
        let gains = run.report.metrics.objectValue?["assistance_gain_by_repetition"]?.arrayValue?.compactMap(\.doubleValue) ?? []
        XCTAssertGreaterThanOrEqual(gains.count, 3, "\(gains)")
        XCTAssertEqual(run.report.metrics.objectValue?["repetitions"]?.integerValue, 6)
    }

    /// Resist → transparent → assist → resist, and transparent again 0.2 s into that last blend:
    /// every switch between two non-passive modes is as smooth as one to passive.
    func testAnyModeOfTheExerciseFollowsAnyOtherWithoutAStep() throws {
        var exercise = RangeOfMotionExercise(jointIndex: 0, rangeRadians: -0.44...0.44, swingSeconds: 2, holdSeconds: 0.3, repetitions: 5)
        // Smooth laws (no Coulomb terms, which flip within a few cycles at each reversal on their own),
        // so that what a switch adds shows against the clamp's slew limit (0.05 N·m per cycle).
        exercise.mode = .activeResist(Resistance(springNewtonMetersPerRadian: 1.5, damperNewtonMeterSecondsPerRadian: 0.3,
                                                 constantNewtonMeters: 0, maximumTorqueNewtonMeters: 1.5))
        exercise.otherModes = [.transparent(Transparency(frictionCompensation: 0, inertiaCompensation: 0.5)),
                               .activeAssist(TherapyModeTests.assistAsNeeded)]
        let switches: [(seconds: Double, mode: String)] = [(5.1, "transparent"), (9.3, "active_assist"), (13.2, "active_resist"), (13.4, "transparent")]
        let run = try run(exercise, switches: switches)
        XCTAssertEqual(run.report.metrics.objectValue?["repetitions"]?.integerValue, 5)
        var changes: [Double] = []
        for (seconds, mode) in switches {
            let window = steps(run, around: seconds)
            changes.append(window.change)
            // Within a mode the torque moves ≤ 0.012 N·m per cycle here; a switch without the blend
            // shows as a run of 0.05 N·m steps (the clamp's slew limit).
            XCTAssertLessThan(window.largestStep, 0.02, "into \(mode) at \(seconds) s: no torque step (\(window))")
        }
        XCTAssertGreaterThan(changes.max() ?? 0, 0.2, "the modes' torques differ enough for a step to show: \(changes)")
    }
}
