import Foundation
import Platform
import Primitives
import Synchronization
import XCTest

final class PlatformTests: XCTestCase {
    func testKernelPreemptionReadsTheMostAuthoritativeSourceFirst() {
        func model(realtime: String? = nil, dynamic: String? = nil, commandLine: String? = nil, version: String? = nil,
                   configuration: String? = nil) -> KernelPreemption {
            KernelPreemption.interpret(realtime: realtime, dynamic: dynamic, commandLine: commandLine, version: version,
                                       configuration: configuration).model
        }
        XCTAssertEqual(model(realtime: "1\n", dynamic: "none (voluntary) full"), .realtime)
        XCTAssertEqual(model(dynamic: "none (voluntary) full", commandLine: "preempt=full"), .voluntary)
        XCTAssertEqual(model(commandLine: "quiet preempt=full root=/dev/vda", configuration: "CONFIG_PREEMPT_NONE=y"), .full)
        XCTAssertEqual(model(version: "#1 SMP PREEMPT_DYNAMIC", configuration: "CONFIG_PREEMPT_NONE=y\nCONFIG_PREEMPT_DYNAMIC=y"), .none)
        XCTAssertEqual(model(version: "#1 SMP PREEMPT_RT"), .realtime)
        XCTAssertEqual(model(version: "#1 SMP PREEMPT_DYNAMIC"), .unknown)
        XCTAssertEqual(model(), .unknown)
        XCTAssertTrue(KernelPreemption.none.allowsLongKernelStalls)
        XCTAssertFalse(KernelPreemption.realtime.allowsLongKernelStalls)
    }

    func testTheRealClockNeverWakesBeforeItsDeadlineWithOrWithoutSpinning() {
        let clock = MonotonicClock.shared
        for spin: Int64 in [0, 200_000] {
            for _ in 0..<20 {
                let deadline = clock.now().advanced(byNanoseconds: 500_000)
                clock.sleep(until: deadline, spinningFinalNanoseconds: spin)
                XCTAssertGreaterThanOrEqual(clock.now(), deadline, "spin \(spin) ns")
            }
        }
    }

    /// A deadline already passed is not slept on: the kernel would arm a timer for it all the same
    /// and block the thread until that timer's interrupt (a voluntary context switch; 29 µs median
    /// on the 2-core VM). A late cycle, or the spin after the rehearsal, goes straight on.
    func testADeadlinePassedIsNotSleptOnWithOrWithoutSpinning() {
        func voluntarySwitches() -> Int? {
            let status = try? String(contentsOfFile: "/proc/thread-self/status", encoding: .utf8)
            let line = status?.split(separator: "\n").first { $0.hasPrefix("voluntary_ctxt_switches:") }
            return line.flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }
        }
        let clock = MonotonicClock.shared
        for spin: Int64 in [0, 50_000] {
            guard let before = voluntarySwitches() else { return XCTFail("no voluntary_ctxt_switches in /proc/thread-self/status") }
            for _ in 0..<100 {
                clock.sleep(until: clock.now().advanced(byNanoseconds: -1_000), spinningFinalNanoseconds: spin)
            }
            XCTAssertEqual(voluntarySwitches().map { $0 - before }, 0, "spin \(spin) ns: the thread blocked on a deadline already passed")
        }
    }

    func testAVirtualClockJumpsToTheDeadlineEvenWhenAskedToSpin() {
        let clock = VirtualClock()
        clock.sleep(until: MonotonicInstant(nanoseconds: 5_000), spinningFinalNanoseconds: 1_000)
        XCTAssertEqual(clock.now(), MonotonicInstant(nanoseconds: 5_000))
        clock.sleep(until: MonotonicInstant(nanoseconds: 1_000))
        XCTAssertEqual(clock.now(), MonotonicInstant(nanoseconds: 5_000), "time never goes back")
    }

    /// A helper thread (a tracker's reader, the recorder) keeps off the CPU reserved for the control
    /// loop, whichever thread started it; with nothing reserved it may run anywhere it inherited.
    func testHelperThreadsKeepOffTheCPUReservedForTheControlLoop() {
        let online = Realtime.onlineCPUCount
        func helperCPUs() -> [Int] {
            final class Seen: Sendable { let cpus = Mutex<[Int]>([]) }
            let seen = Seen()
            let thread = ControlThread.start(name: "rh-test-helper") {
                Realtime.makeCurrentThreadNormal()
                let cpus = Realtime.currentThreadCPUs
                seen.cpus.withLock { $0 = cpus }
            }
            thread.join()
            return seen.cpus.withLock { $0 }
        }
        let inherited = Realtime.currentThreadCPUs
        XCTAssertFalse(inherited.isEmpty)
        defer { Realtime.reserveCPUForControlLoop(nil) }
        let reserved = inherited.last!
        Realtime.reserveCPUForControlLoop(reserved)
        let kept = helperCPUs()
        if online > 1 {
            XCTAssertFalse(kept.contains(reserved), "reserved CPU \(reserved), the helper may run on \(kept)")
            XCTAssertEqual(Set(kept), Set(0..<online).subtracting([reserved]), "every other online CPU")
        } else {
            XCTAssertEqual(kept, [0], "one CPU: nowhere else to go")
        }
        Realtime.reserveCPUForControlLoop(nil)
        XCTAssertEqual(helperCPUs(), inherited, "nothing reserved: the helper keeps what it inherited")
    }

    func testRealtimeSetUpReportsWhatItGot() {
        let report = Realtime.apply(RealtimeRequest(priority: nil, lockMemory: false, cpu: 0, holdCPUDMALatency: false))
        XCTAssertEqual(report.cpu, 0)
        XCTAssertEqual(report.timerSlackNanoseconds, 1, "1 ns slack needs no privilege")
        XCTAssertFalse(report.schedFIFO, "no priority was asked for")
        XCTAssertTrue(report.lines.contains("scheduling: SCHED_OTHER (not real-time)"))
        let impossible = Realtime.apply(RealtimeRequest(priority: nil, lockMemory: false, cpu: 4_000, holdCPUDMALatency: false))
        XCTAssertNil(impossible.cpu)
        XCTAssertTrue(impossible.warnings.contains { $0.contains("cannot pin to CPU 4000") }, "\(impossible.warnings)")
    }
}
