import Control
import DeviceModel
import Primitives
import Profiles
import RehabLinkSimulator
import Session
import StrictJSON
import TestSupport
import XCTest

/// Exercise files run as sessions, in virtual time: counted repetitions end the exercise by
/// themselves, the range reached is the file's, and a pause does not add or lose a repetition.
final class ExerciseSessionTests: XCTestCase {
    private func load(_ name: String, on profileName: String) throws -> (RangeOfMotionExercise, ExerciseDefinition, HardwareProfile) {
        let profile = try HardwareProfileLoader.load(path: RepositoryPaths.file("hardware/\(profileName).json").path)
        let definition = try ExerciseLoader.load(path: RepositoryPaths.file("hardware/exercises/\(name).json").path)
        return (try RangeOfMotionExercise(definition, profile: profile), definition, profile)
    }

    private func run(_ name: String, on profileName: String, requests: [(Double, OperatorRequests)] = []) throws -> SessionReport {
        let (exercise, definition, profile) = try load(name, on: profileName)
        let seconds = profile.control.enableRampSeconds + exercise.sessionSeconds(durationSeconds: definition.durationSeconds)
            + requests.reduce(0) { $0 + ($1.1 == .resume ? 2 : 0) }
        let harness = try VirtualSessionHarness(durationSeconds: seconds, exercise: exercise, profileName: profileName)
        try harness.session.prepare()
        let start = harness.clock.now()
        let control = harness.session.control
        for (milliseconds, request) in requests {
            harness.link.at(start.advanced(byNanoseconds: Int64(milliseconds * 1e6))) { control.post(request) }
        }
        let report = harness.session.run()
        harness.session.finish()
        return report
    }

    func testTenRepetitionsOverAnAsymmetricRangeThenTheExerciseEndsByItself() throws {
        let report = try run("wrist-flexion-passive", on: "wrist-trainer")
        XCTAssertEqual(report.finalState, .idle)
        XCTAssertTrue(report.safetyEvents.isEmpty, "\(report.safetyEvents)")
        let metrics = try XCTUnwrap(report.metrics.objectValue)
        XCTAssertEqual(metrics["repetitions"]?.integerValue, 10)
        let joint = report.joints[0]
        XCTAssertEqual(joint.maximumPositionRadians, 40 * Units.radiansPerDegree, accuracy: 0.5 * Units.radiansPerDegree)
        XCTAssertEqual(joint.minimumPositionRadians, -30 * Units.radiansPerDegree, accuracy: 0.5 * Units.radiansPerDegree)
        // 10 × 2 swings of 2.5 s + holds: about 60 s of exercise, then the stop.
        XCTAssertEqual(report.elapsedSeconds, 60.3, accuracy: 1.5)
        XCTAssertEqual(report.transitions.last?.cause, .standstillReached)
    }

    func testTheAnkleExerciseRunsOnTheAnkleTrainer() throws {
        let report = try run("ankle-dorsiflexion-passive", on: "ankle-trainer")
        XCTAssertTrue(report.safetyEvents.isEmpty, "\(report.safetyEvents)")
        XCTAssertEqual(report.metrics.objectValue?["repetitions"]?.integerValue, 8)
        XCTAssertEqual(report.joints[0].minimumPositionRadians, -40 * Units.radiansPerDegree, accuracy: 0.5 * Units.radiansPerDegree)
        XCTAssertLessThan(report.joints[0].rmsTrackingErrorRadians, 0.5 * Units.radiansPerDegree)
    }

    func testAPauseInTheMiddleStillGivesExactlyTheRepetitionsAsked() throws {
        let report = try run("wrist-flexion-passive", on: "wrist-trainer", requests: [(14_000, .pause), (16_000, .resume)])
        XCTAssertTrue(report.safetyEvents.isEmpty, "\(report.safetyEvents)")
        XCTAssertTrue(report.transitions.contains { $0.cause == .resumeRequested })
        XCTAssertEqual(report.metrics.objectValue?["repetitions"]?.integerValue, 10)
        XCTAssertEqual(report.finalState, .idle)
    }

    /// The shipped mode files carry exactly the settings TherapyModeTests proves against the patient.
    func testTheShippedModeFilesAreTheTestedOnes() throws {
        XCTAssertEqual(try load("wrist-flexion-assist", on: "wrist-trainer").0.mode, .activeAssist(TherapyModeTests.assistAsNeeded))
        XCTAssertEqual(try load("wrist-flexion-resist", on: "wrist-trainer").0.mode, .activeResist(Resistance(
            springNewtonMetersPerRadian: 0.5, damperNewtonMeterSecondsPerRadian: 0.4, constantNewtonMeters: 0.1, maximumTorqueNewtonMeters: 1.5)))
        XCTAssertEqual(try load("wrist-free-transparent", on: "wrist-trainer").0.mode,
                       .transparent(Transparency(frictionCompensation: 1, inertiaCompensation: 0.5)))
    }

    func testAnExerciseBeyondThePatientsRangeIsRefusedBeforeAnythingMoves() throws {
        let (exercise, _, _) = try load("wrist-flexion-passive", on: "wrist-trainer")
        let degree = Units.radiansPerDegree
        XCTAssertThrowsError(try VirtualSessionHarness(durationSeconds: 5, exercise: exercise, adjust: {
            $0.patientRange = [(-20 * degree)...(30 * degree)]
        })) { error in
            XCTAssertTrue("\(error)".contains("beyond the soft limits of flexion_extension"), "\(error)")
        }
    }
}

/// Durations as people read them (issue 15: "40.300999999999995 s").
final class DurationTextTests: XCTestCase {
    func testDurationsHaveAtMostThreeDecimalsAndNoTrailingZeros() {
        XCTAssertEqual(formatSeconds(40.300999999999995), "40.301")
        XCTAssertEqual(formatSeconds(10), "10")
        XCTAssertEqual(formatSeconds(2.5), "2.5")
        XCTAssertEqual(formatSeconds(0.25), "0.25")
        XCTAssertEqual(formatSeconds(1000.0004), "1000")
        XCTAssertEqual(formatSeconds(.infinity), "—")
    }
}
