import AllocationCounter
import CommandLineSupport
import Foundation
import Platform

/// The allocation counter, for the commands whose report is the zero-allocation proof.
///
/// Counting allocations means replacing the C allocator (malloc and friends) for the whole process
/// (AllocationCounterInterposer), so rehabctl does not link it: `nm -D --defined-only rehabctl`
/// defines no malloc. `bench` and `demo` (measurements against the simulator) call
/// `countAllocationsInThisProcess` before they start anything: without the counter in the process,
/// they re-execute themselves once, with libRehabHostAllocationCounter.so (`swift build` builds it
/// beside rehabctl) in LD_PRELOAD: the same pid, arguments, standard streams and signal dispositions,
/// so the caller sees one process and its exit status. Without the library (or when the loader
/// refuses it) they run as they are and report allocations as not counted.
///
/// `run` never calls it: it drives a patient's robot, and that session runs on glibc's own
/// allocator, not on a measurement tool that replaces it process-wide (and it keeps its arguments,
/// environment and process as the caller started them: no re-execution in a safety path).
enum AllocationCounting {
    /// The interposer built as a shared library (Package.swift's RehabHostAllocationCounter product).
    static let libraryName = "libRehabHostAllocationCounter.so"
    /// Set only in the re-executed process, to LD_PRELOAD's value before (maybe empty): there is
    /// never a second re-execution, and LD_PRELOAD is put back so that children (rehabsim) run on
    /// their own allocator.
    static let markerVariable = "REHABHOST_ALLOCATION_COUNTER_PRELOADED"

    /// Returns with the counter in this process, or (said on standard error) without it; when it
    /// re-executes the program, it does not return.
    static func countAllocationsInThisProcess(command: String) {
        if let original = getenv(markerVariable).map({ String(cString: $0) }) {
            restore(preload: original)
            if rh_allocation_counter_loaded() == 0 {
                notCounted(command, "the dynamic loader did not preload \(libraryName) "
                    + "(it ignores LD_PRELOAD paths for a program with file capabilities or set-user-ID)")
            }
            return
        }
        // Already in the process (the caller preloaded it): nothing to do.
        if rh_allocation_counter_loaded() != 0 { return }
        guard let executable = currentExecutablePath() else {
            notCounted(command, "cannot read /proc/self/exe to find \(libraryName)")
            return
        }
        let library = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent(libraryName).path
        guard FileManager.default.fileExists(atPath: library) else {
            notCounted(command, "\(library) not found (`swift build` builds it beside rehabctl)")
            return
        }
        // Colons and spaces separate LD_PRELOAD's entries.
        guard !library.contains(":") && !library.contains(" ") else {
            notCounted(command, "LD_PRELOAD cannot name \(library) (a colon or space in the path)")
            return
        }
        let original = getenv("LD_PRELOAD").map { String(cString: $0) } ?? ""
        setenv(markerVariable, original, 1)
        setenv("LD_PRELOAD", original.isEmpty ? library : library + ":" + original, 1)
        // /proc/self/exe: this very program, even if a rebuild has replaced the file since it started.
        _ = execve("/proc/self/exe", CommandLine.unsafeArgv, environ)
        let failure = errno  // execve returned: it failed, and this process goes on uncounted
        restore(preload: original)
        notCounted(command, "cannot re-execute with \(libraryName) preloaded: \(String(cString: strerror(failure)))")
    }

    private static func restore(preload original: String) {
        if original.isEmpty {
            unsetenv("LD_PRELOAD")
        } else {
            setenv("LD_PRELOAD", original, 1)
        }
        unsetenv(markerVariable)
    }

    private static func notCounted(_ command: String, _ reason: String) {
        Terminal.printError("rehabctl \(command): allocations not counted: \(reason)")
    }
}
