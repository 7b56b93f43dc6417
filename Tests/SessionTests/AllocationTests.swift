import AllocationCounter
import Control
import DeviceModel
import Devices
import Foundation
import Platform
import Primitives
import RehabLinkSimulator
import Session
import Synchronization
import Transport
import Wire
import TestSupport
import XCTest

/// The control cycle allocates nothing: counted by the interposed allocator, over whole sessions
/// in virtual time, for the full cycle the product runs (RehabLink exchange with the simulated
/// firmware, supervisor, controller, clamp, histograms).
final class AllocationTests: XCTestCase {
    func testTheCounterSeesAllocationsOnThisThread() {
        XCTAssertEqual(rh_allocation_counting_active(), 1, "malloc is interposed in this process")
        let before = rh_thread_allocations()
        // Strings longer than 15 UTF-8 bytes live on the heap: one allocation each.
        let array = (0..<1_000).map { String(repeating: "x", count: 32 + $0 % 3) }
        XCTAssertEqual(array.reduce(0) { $0 + $1.utf8.count }, 32_999)
        XCTAssertGreaterThanOrEqual(rh_thread_allocations() - before, 1_000, "each heap string is counted")
    }

    /// Zero allocations is a property of optimised code (the shipped build, and `make test`);
    /// unoptimised builds box generics and existentials.
    private func requireOptimisedBuild() throws {
        if !BuildConfiguration.isOptimized {
            throw XCTSkip("allocation-free cycles are checked in release builds: run `make test`")
        }
    }

    func testTwelveThousandCyclesOfTheFullSessionAllocateNothing() throws {
        try requireOptimisedBuild()
        let harness = try VirtualSessionHarness(durationSeconds: 12)
        harness.simulator.placeJoint(0, atRadians: -0.2)  // so that the plan includes a centring move
        try harness.session.prepare()
        let report = harness.session.run()
        harness.session.finish()
        XCTAssertTrue(report.allocations.counting)
        XCTAssertGreaterThanOrEqual(report.cycles, 12_000)
        XCTAssertEqual(report.allocations.total, 0,
                       "\(report.allocations.cyclesWithAllocations) cycles allocated; the first was cycle \(report.allocations.firstAllocatingCycle ?? -1)")
        XCTAssertEqual(report.allocationsPerCycle, 0)
        XCTAssertEqual(report.finalState, .idle, "including activation, the exercise and the Cat 1 stop")
    }

    /// Recording (the hand-off ring, the transitions) and the black box add nothing to the cycle.
    func testARecordedSessionAllocatesNothingInTheCycle() throws {
        try requireOptimisedBuild()
        let path = NSTemporaryDirectory() + "rehabhost-alloc-\(UUID().uuidString).mcap"
        defer { unlink(path) }
        let harness = try VirtualSessionHarness(durationSeconds: 4, adjust: {
            $0.recordingPath = path
            $0.telemetryRingSeconds = 6
        })
        try harness.session.prepare()
        harness.link.inject([InjectedFault(.deviceFault(.overload), .afterEnableMilliseconds(3_000))])
        let report = harness.session.run()
        harness.session.finish()
        XCTAssertEqual(report.safetyEvents.first?.cause, .deviceFault, "a fault too: transitions and the black-box trigger")
        XCTAssertEqual(report.recording?.recordsDropped, 0)
        XCTAssertGreaterThanOrEqual(report.recording?.messagesWritten ?? 0, UInt64(4 * report.cycles))
        XCTAssertEqual(report.allocations.total, 0,
                       "\(report.allocations.cyclesWithAllocations) cycles allocated; the first was cycle \(report.allocations.firstAllocatingCycle ?? -1)")
    }

    /// Every therapy mode, with a simulated patient in the robot (the patient model runs inside the
    /// counted cycle too, in the in-process simulator).
    func testEveryTherapyModeAllocatesNothing() throws {
        try requireOptimisedBuild()
        let modes: [TherapyMode] = [
            .passive, .activeAssist(TherapyModeTests.assistAsNeeded),
            .activeResist(Resistance(springNewtonMetersPerRadian: 0.5, damperNewtonMeterSecondsPerRadian: 0.4, constantNewtonMeters: 0.1,
                                     maximumTorqueNewtonMeters: 1.5)),
            .transparent(Transparency(frictionCompensation: 1, inertiaCompensation: 0.5)),
            .mirror(mirror),
        ]
        for mode in modes {
            var exercise = RangeOfMotionExercise(jointIndex: 0, rangeRadians: -0.4...0.4, swingSeconds: 2, holdSeconds: 0.3, repetitions: 2)
            exercise.mode = mode
            var stream: SimulatedReferenceStream?
            if case .mirror = mode {
                let cue = exercise.trajectory(from: .zeros(2), durationSeconds: exercise.sessionSeconds(durationSeconds: nil))
                stream = SimulatedReferenceStream(limb: SimulatedReferenceLimb(mirror: mirror, cue: cue, joint: 0), origin: .zero)
            }
            let harness = try VirtualSessionHarness(durationSeconds: 0.5 + exercise.sessionSeconds(durationSeconds: nil), exercise: exercise,
                                                    adjust: { $0.reference = stream })
            try harness.session.prepare()
            harness.attachPatient(.strokeMild)
            stream?.limb.startCue(at: harness.clock.now().advanced(
                byNanoseconds: harness.session.periodNanoseconds + Int64(harness.profile.control.enableRampSeconds * 1e9)))
            let report = harness.session.run()
            harness.session.finish()
            XCTAssertTrue(report.safetyEvents.isEmpty, "\(mode.name): \(report.safetyEvents)")
            XCTAssertEqual(report.metrics.objectValue?["repetitions"]?.integerValue, 2, mode.name)
            XCTAssertEqual(report.allocations.total, 0,
                           "\(mode.name): \(report.allocations.cyclesWithAllocations) cycles allocated; the first was cycle \(report.allocations.firstAllocatingCycle ?? -1)")
        }
    }

    private let mirror = Mirror(scale: -1, offsetRadians: 0, maximumSpeedRadiansPerSecond: 1.2, maximumRmsErrorMillimeters: 1)

    /// Mirror mode's read of the real receiver (UDP, its own thread), from a thread started after
    /// it as the control thread is: no allocation, while frames keep arriving.
    func testReadingTheReferenceReceiverAllocatesNothing() throws {
        try requireOptimisedBuild()
        let receiver = ReferenceStreamReceiver(socket: try DatagramSocket.bound(port: 0))
        receiver.start()
        defer { receiver.stop() }
        let sender = try DatagramSocket.connected(to: "127.0.0.1", port: receiver.socket.localPort)
        let stop = Atomic<Bool>(false)
        let sending = ControlThread.start(name: "test-sender") {
            var bytes = [UInt8](repeating: 0, count: RehabRef.Datagram.byteCount)
            var counter: UInt32 = 0
            while !stop.load(ordering: .relaxed) {
                counter &+= 1
                let frame = RehabRef.Datagram(frameCounter: counter, framePeriodMicroseconds: 1_000, latencyMicroseconds: 0,
                                              rmsErrorMicrometers: 0, positionRadians: 0.1, toolVisible: true)
                bytes.withUnsafeMutableBytes { _ = frame.encode(into: $0) }
                bytes.withUnsafeBytes { _ = sender.send($0) }
                usleep(200)
            }
        }
        let result = ThreadResult<(allocations: Int64, first: UInt32, last: UInt32)>()
        let reader = ControlThread.start(name: "test-control") {
            let source: any TrackerDevice = receiver
            // Counted from the loop thread's very first read (the session's first cycle counts too).
            let before = rh_thread_allocations()
            let first = source.latestSample(at: MonotonicClock.now()).frameCounter
            var last: UInt32 = 0
            // At least 200 000 reads, and on until a frame has arrived (the receiving thread may
            // not have run yet on a busy 2-core machine), for at most 2 s.
            let giveUp = MonotonicClock.now().advanced(byNanoseconds: 2_000_000_000)
            var reads = 0
            while reads < 200_000 || (last <= first && MonotonicClock.now() < giveUp) {
                last = max(last, source.latestSample(at: .zero).frameCounter)
                reads += 1
            }
            result.value = (Int64(rh_thread_allocations() - before), first, last)
        }
        reader.join()
        stop.store(true, ordering: .relaxed)
        sending.join()
        let (allocations, first, last) = try XCTUnwrap(result.value)
        XCTAssertGreaterThan(last, first, "frames arrived while the loop read")
        XCTAssertEqual(allocations, 0)
    }

    func testAFaultInTheMiddleAllocatesNothingEither() throws {
        try requireOptimisedBuild()
        let harness = try VirtualSessionHarness(durationSeconds: 5)
        try harness.session.prepare()
        harness.link.inject([InjectedFault(.dropReplies, .afterEnableMilliseconds(2_000))])
        let report = harness.session.run()
        XCTAssertEqual(report.safetyEvents.first?.cause, .deviceSilent)
        XCTAssertEqual(report.allocations.total, 0)
    }

    /// The latched paths allocate nothing either: e-stop, hold-to-run release, operator reset; and a
    /// device fault cleared through DISABLE + FAULT_RESET.
    func testEstopReleaseAndResetAndADeviceFaultResetAllocateNothing() throws {
        try requireOptimisedBuild()
        for deviceFault in [false, true] {
            let harness = try VirtualSessionHarness(durationSeconds: 5, adjust: { $0.holdsAfterFault = true })
            try harness.session.prepare()
            let start = harness.clock.now()
            let control = harness.session.control
            let clock = harness.clock
            let millisecond: Int64 = 1_000_000
            if deviceFault {
                harness.link.inject([InjectedFault(.deviceFault(.overload), .afterEnableMilliseconds(1_000))])
            } else {
                harness.link.at(start.advanced(byNanoseconds: 1_000 * millisecond)) { control.post(.emergencyStop) }
                harness.link.at(start.advanced(byNanoseconds: 1_200 * millisecond)) {
                    control.holdRelease(until: clock.now().advanced(byNanoseconds: 200 * millisecond))
                }
            }
            harness.link.at(start.advanced(byNanoseconds: 1_600 * millisecond)) { control.post(.reset) }
            let report = harness.session.run()
            harness.session.finish()
            XCTAssertEqual(report.finalState, .idle, "reset to idle (device fault: \(deviceFault))")
            XCTAssertTrue(report.transitions.contains { $0.cause == (deviceFault ? .deviceFault : .releaseStarted) })
            XCTAssertEqual(report.allocations.total, 0,
                           "device fault \(deviceFault): \(report.allocations.cyclesWithAllocations) cycles allocated; the first was cycle \(report.allocations.firstAllocatingCycle ?? -1)")
        }
    }
}
