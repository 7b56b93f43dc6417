import CSystemShims
import Synchronization
import Glibc

/// What a real-time thread asks for. Each step is tried and reported; nothing fails silently.
public struct RealtimeRequest: Sendable, Equatable {
    /// SCHED_FIFO priority 1…99, or nil to stay SCHED_OTHER.
    public var priority: Int32?
    /// mlockall(MCL_CURRENT | MCL_FUTURE) and a prefaulted stack.
    public var lockMemory: Bool
    /// Pin the thread to this CPU.
    public var cpu: Int?
    /// Timer slack for the thread; 1 ns removes most of the 50 µs default (no privilege needed).
    public var timerSlackNanoseconds: UInt
    public var prefaultStackBytes: Int
    /// Ask the CPUs for 0 µs wake-up latency (no deep idle states) while the process runs.
    public var holdCPUDMALatency: Bool

    public init(
        priority: Int32? = 80, lockMemory: Bool = true, cpu: Int? = nil, timerSlackNanoseconds: UInt = 1,
        prefaultStackBytes: Int = 512 * 1024, holdCPUDMALatency: Bool = true
    ) {
        self.holdCPUDMALatency = holdCPUDMALatency
        self.priority = priority
        self.lockMemory = lockMemory
        self.cpu = cpu
        self.timerSlackNanoseconds = timerSlackNanoseconds
        self.prefaultStackBytes = prefaultStackBytes
    }
}

/// What the thread got, with the reason and the remedy for everything it did not get.
public struct RealtimeReport: Sendable, Equatable {
    public var schedFIFO = false
    public var priority: Int32 = 0
    public var memoryLocked = false
    public var cpu: Int?
    public var timerSlackNanoseconds: Int = -1
    /// /dev/cpu_dma_latency is held at 0 µs.
    public var cpuDMALatencyHeld = false
    /// One line per step that was refused, saying why and what to do.
    public var warnings: [String] = []

    /// True when everything that was asked for was granted.
    public var isComplete: Bool { warnings.isEmpty }

    /// One line per step: "SCHED_FIFO 80: granted", …
    public var lines: [String] {
        var lines = [
            "scheduling: " + (schedFIFO ? "SCHED_FIFO priority \(priority)" : "SCHED_OTHER (not real-time)"),
            "memory: " + (memoryLocked ? "locked (mlockall)" : "not locked"),
            "cpu: " + (cpu.map { "pinned to \($0)" } ?? "any"),
            "timer slack: \(timerSlackNanoseconds) ns",
            "CPU wake-up latency: " + (cpuDMALatencyHeld ? "held at 0 µs (/dev/cpu_dma_latency)" : "not requested"),
        ]
        lines += warnings.map { "warning: " + $0 }
        return lines
    }
}

/// Applies a `RealtimeRequest` to the calling thread (memory locking is process-wide).
///
/// The corresponding C functions are `pthread_setschedparam`, `mlockall`,
/// `pthread_setaffinity_np` and `prctl(PR_SET_TIMERSLACK)`.
public enum Realtime {
    public static let remedy =
        "allow it with an rtprio/memlock limit (hardware/limits/99-rehabhost.conf in /etc/security/limits.d/) or capabilities (sudo setcap cap_sys_nice,cap_ipc_lock+ep <binary>); running as root is not needed"

    public static func apply(_ request: RealtimeRequest) -> RealtimeReport {
        var report = RealtimeReport()
        if let cpu = request.cpu {
            let result = rh_set_current_thread_cpu(Int32(cpu))
            if result == 0 {
                report.cpu = cpu
            } else {
                report.warnings.append("cannot pin to CPU \(cpu): \(Errno(rawValue: -result))")
            }
        }
        if rh_set_timer_slack_ns(request.timerSlackNanoseconds) != 0 {
            report.warnings.append("cannot set the timer slack: \(Errno.current)")
        }
        report.timerSlackNanoseconds = rh_get_timer_slack_ns()
        if request.lockMemory {
            let result = rh_lock_all_memory()
            if result == 0 {
                report.memoryLocked = true
            } else {
                report.warnings.append("memory not locked (\(Errno(rawValue: -result))): page faults can stall the loop; \(remedy)")
            }
        }
        if request.prefaultStackBytes > 0 { rh_prefault_stack(request.prefaultStackBytes) }
        if request.holdCPUDMALatency {
            // The descriptor is kept open for the life of the process: closing it ends the request.
            let descriptor = rh_hold_cpu_dma_latency_zero()
            report.cpuDMALatencyHeld = descriptor >= 0
        }
        if let priority = request.priority {
            let result = rh_set_current_thread_fifo(priority)
            if result != 0 {
                report.warnings.append("SCHED_FIFO \(priority) refused (\(Errno(rawValue: -result))): the loop runs without real-time priority; \(remedy)")
            }
        }
        var policy: Int32 = 0
        var priority: Int32 = 0
        if rh_current_thread_policy(&policy, &priority) == 0 {
            report.schedFIFO = policy == SCHED_FIFO
            report.priority = priority
        }
        return report
    }

    /// For a helper thread (a tracker's reader, the recorder, the reference receiver), wherever it was
    /// started from: normal scheduling, and off the CPU reserved for the control loop
    /// (`reserveCPUForControlLoop`), or off the one CPU it inherited from a pinned control thread.
    /// Returns false when the policy could not be set.
    @discardableResult
    public static func makeCurrentThreadNormal() -> Bool {
        rh_make_current_thread_normal(Int32(reservedControlCPU.load(ordering: .acquiring))) == 0
    }

    /// Names the CPU the control loop will be pinned to (`--cpu`), before any helper thread starts:
    /// helpers started from the main thread inherit every CPU, and a tracker's reader waking on the
    /// loop's CPU delays its cycle. nil: none reserved.
    public static func reserveCPUForControlLoop(_ cpu: Int?) {
        reservedControlCPU.store(cpu ?? -1, ordering: .releasing)
    }

    /// The CPUs (0…63) the calling thread may run on.
    public static var currentThreadCPUs: [Int] {
        var mask: UInt64 = 0
        guard rh_current_thread_cpu_mask(&mask) == 0 else { return [] }
        return (0..<64).filter { mask & (1 << UInt64($0)) != 0 }
    }

    /// CPUs online.
    public static var onlineCPUCount: Int { Int(max(1, rh_online_cpu_count())) }

    private static let reservedControlCPU = Atomic<Int>(-1)
}
