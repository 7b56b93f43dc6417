import Glibc

/// CPU time consumed by the calling thread or by the whole process.
///
/// The corresponding C function is `clock_gettime(CLOCK_THREAD_CPUTIME_ID / CLOCK_PROCESS_CPUTIME_ID)`.
public enum ThreadCPUTime {
    /// Seconds of CPU the calling thread has used.
    public static func seconds() -> Double {
        read(CLOCK_THREAD_CPUTIME_ID)
    }

    /// Seconds of CPU every thread of this process has used.
    public static func processSeconds() -> Double {
        read(CLOCK_PROCESS_CPUTIME_ID)
    }

    private static func read(_ clock: clockid_t) -> Double {
        var time = timespec()
        clock_gettime(clock, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}
