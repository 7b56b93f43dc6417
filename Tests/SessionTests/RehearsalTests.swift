import Control
import DeviceModel
import Foundation
import Primitives
import RehabLinkSimulator
import Session
import StrictJSON
import Telemetry
import TestSupport
import XCTest

/// The rehearsal before each deadline (`TherapySession.Options.warmUpNanoseconds`) runs the next
/// cycle's computation on a copy to warm the caches. It must change nothing the session does —
/// not one bit of one command — and allocate nothing, on every path: every mode, a mode switch, a
/// pause and resume (a new plan), assist-as-needed repetitions (a log entry), a fault, an e-stop
/// with a release and a reset (supervisor transitions), mirror mode.
final class RehearsalTests: XCTestCase {
    private let warmUp: Int64 = 100_000

    private struct Recorded {
        let report: SessionReport
        /// Every message on the command and supervisor topics: log time and bytes.
        let messages: [String: [(UInt64, [UInt8])]]
        /// The simulated joints' final positions [rad].
        let finalPositions: [Double]
    }

    private enum Scenario: CaseIterable {
        case assistWithSwitchesPauseAndFault
        case estopReleaseAndReset
        case mirror
    }

    private static let mirror = Mirror(scale: -1, offsetRadians: 0, maximumSpeedRadiansPerSecond: 1.2, maximumRmsErrorMillimeters: 1)

    private func exercise(_ scenario: Scenario) -> RangeOfMotionExercise {
        var exercise = RangeOfMotionExercise(jointIndex: 0, rangeRadians: -0.3...0.3, swingSeconds: 2, holdSeconds: 0.3, repetitions: 3)
        switch scenario {
        case .assistWithSwitchesPauseAndFault:
            exercise.mode = .activeAssist(TherapyModeTests.assistAsNeeded)
            exercise.otherModes = [.transparent(Transparency(frictionCompensation: 1, inertiaCompensation: 0.5))]
        case .estopReleaseAndReset:
            exercise.mode = .passive
        case .mirror:
            exercise.mode = .mirror(Self.mirror)
        }
        return exercise
    }

    /// Runs `scenario` in virtual time, recorded, with the rehearsal's lead `warmUpNanoseconds`.
    private func run(_ scenario: Scenario, warmUpNanoseconds: Int64) throws -> Recorded {
        let path = NSTemporaryDirectory() + "rehabhost-rehearsal-\(UUID().uuidString).mcap"
        defer { unlink(path) }
        let exercise = exercise(scenario)
        var stream: SimulatedReferenceStream?
        if case .mirror = scenario {
            let cue = exercise.trajectory(from: .zeros(2), durationSeconds: exercise.sessionSeconds(durationSeconds: nil))
            stream = SimulatedReferenceStream(limb: SimulatedReferenceLimb(mirror: Self.mirror, cue: cue, joint: 0), origin: .zero)
        }
        let harness = try VirtualSessionHarness(
            durationSeconds: 0.5 + exercise.sessionSeconds(durationSeconds: nil), exercise: exercise,
            adjust: {
                $0.recordingPath = path
                $0.telemetryRingSeconds = 30
                $0.warmUpNanoseconds = warmUpNanoseconds
                $0.reference = stream
                $0.holdsAfterFault = scenario == .estopReleaseAndReset
            })
        try harness.session.prepare()
        // A patient who moves would keep SR-18's release from starting (it needs the joints still).
        if scenario != .estopReleaseAndReset { harness.attachPatient(.strokeMild) }
        let start = harness.clock.now()
        stream?.limb.startCue(at: start.advanced(
            byNanoseconds: harness.session.periodNanoseconds + Int64(harness.profile.control.enableRampSeconds * 1e9)))
        let control = harness.session.control
        let clock = harness.clock
        func at(_ seconds: Double, _ action: @escaping () -> Void) {
            harness.link.at(start.advanced(byNanoseconds: Int64(seconds * 1e9)), perform: action)
        }
        switch scenario {
        case .assistWithSwitchesPauseAndFault:
            at(1.2) { control.requestMode(1) }
            at(2.0) { control.post(.pause) }
            at(2.6) { control.post(.resume) }
            at(3.4) { control.requestMode(0) }
            harness.link.inject([InjectedFault(.deviceFault(.overload), .afterEnableMilliseconds(8_000))])
        case .estopReleaseAndReset:
            at(1.0) { control.post(.emergencyStop) }
            at(1.2) { control.holdRelease(until: clock.now().advanced(byNanoseconds: 200_000_000)) }
            at(1.6) { control.post(.reset) }
        case .mirror:
            break
        }
        let report = harness.session.run()
        harness.session.finish()
        let file = try MCAPFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        var messages: [String: [(UInt64, [UInt8])]] = [:]
        for topic in ["/joint_command", "/supervisor"] {
            // Log times count from the wall clock at the start: compared relative to the session's first message.
            let origin = UInt64(file.messages(onTopic: "/joint_command").first?.logTime ?? 0)
            messages[topic] = file.messages(onTopic: topic).map { (UInt64($0.logTime) &- origin, Array(file.data(of: $0))) }
        }
        let simulator = harness.simulator
        return Recorded(report: report, messages: messages, finalPositions: (0..<simulator.jointCount).map { simulator.plant($0).positionRadians })
    }

    func testARehearsedSessionSendsExactlyWhatAnUnrehearsedOneSends() throws {
        for scenario in Scenario.allCases {
            let plain = try run(scenario, warmUpNanoseconds: 0)
            let rehearsed = try run(scenario, warmUpNanoseconds: warmUp)
            let name = "\(scenario)"
            XCTAssertEqual(plain.report.rehearsalTime.count, 0, name)
            XCTAssertEqual(rehearsed.report.rehearsalTime.count, UInt64(rehearsed.report.cycles), "\(name): one rehearsal per cycle")
            XCTAssertEqual(plain.report.cycles, rehearsed.report.cycles, name)
            XCTAssertGreaterThan(plain.report.cycles, 1_500, name)
            for topic in ["/joint_command", "/supervisor"] {
                let a = try XCTUnwrap(plain.messages[topic]), b = try XCTUnwrap(rehearsed.messages[topic])
                XCTAssertEqual(a.count, b.count, "\(name) \(topic)")
                let firstDifference = a.indices.first { $0 < b.count && (a[$0].0 != b[$0].0 || a[$0].1 != b[$0].1) }
                XCTAssertNil(firstDifference, "\(name) \(topic): message \(firstDifference ?? -1) differs")
            }
            XCTAssertEqual(plain.report.transitions, rehearsed.report.transitions, name)
            XCTAssertEqual(plain.report.metrics.serialized(pretty: false), rehearsed.report.metrics.serialized(pretty: false), name)
            XCTAssertEqual(plain.finalPositions, rehearsed.finalPositions, name)
            // The scenarios reach the paths they are for.
            switch scenario {
            case .assistWithSwitchesPauseAndFault:
                XCTAssertEqual(rehearsed.report.safetyEvents.first?.cause, .deviceFault, name)
                XCTAssertTrue(rehearsed.report.transitions.contains { $0.to == .paused }, name)
                let gains = rehearsed.report.metrics.objectValue?["assistance_gain_by_repetition"]?.arrayValue ?? []
                XCTAssertGreaterThanOrEqual(gains.count, 1, "\(name): a repetition logged")
            case .estopReleaseAndReset:
                XCTAssertTrue(rehearsed.report.transitions.contains { $0.cause == .releaseStarted }, name)
                XCTAssertEqual(rehearsed.report.finalState, .idle, name)
            case .mirror:
                XCTAssertTrue(rehearsed.report.safetyEvents.isEmpty, "\(name): \(rehearsed.report.safetyEvents)")
            }
        }
    }

    /// The rehearsal is part of the loop thread's cycle: counted, and it allocates nothing either —
    /// also when it meets a transition, a new plan or a repetition (its copy shares their storage).
    func testRehearsalsAllocateNothing() throws {
        guard BuildConfiguration.isOptimized else {
            throw XCTSkip("allocation-free cycles are checked in release builds: run `make test`")
        }
        for scenario in Scenario.allCases {
            let report = try run(scenario, warmUpNanoseconds: warmUp).report
            XCTAssertTrue(report.allocations.counting)
            XCTAssertEqual(report.allocations.total, 0,
                           "\(scenario): \(report.allocations.cyclesWithAllocations) cycles allocated; the first was cycle \(report.allocations.firstAllocatingCycle ?? -1)")
        }
    }

    /// The lead is at most half the period, whatever is asked.
    func testTheLeadIsAtMostHalfThePeriod() throws {
        let harness = try VirtualSessionHarness(durationSeconds: 1, rateHertz: 4_000, adjust: { $0.warmUpNanoseconds = 400_000 })
        try harness.session.prepare()
        let report = harness.session.run()
        harness.session.finish()
        // 400 µs before a deadline 250 µs apart is before the previous cycle began: it would never run.
        XCTAssertGreaterThan(report.cycles, 1_000)
        XCTAssertEqual(report.rehearsalTime.count, UInt64(report.cycles), "a rehearsal 125 µs before each deadline")
        XCTAssertTrue(report.endedCleanly, "\(report.safetyEvents)")
    }
}
