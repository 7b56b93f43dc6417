import Glibc
import Synchronization

/// SIGINT and SIGTERM, counted by an async-signal-safe handler and read by the control loop once
/// per cycle, so that no lock and no allocation is involved on either side.
///
/// SR-12: the first SIGINT asks for a Cat 1 stop; a second SIGINT or any SIGTERM asks for an
/// e-stop. The corresponding C function is `sigaction`.
public enum TerminationSignals {
    /// Installs the handlers (idempotent). Call before starting the control thread.
    public static func install() {
        // Touch the counters first: their lazy initialisation is not async-signal-safe.
        _ = interruptCounter.load(ordering: .relaxed)
        _ = terminateCounter.load(ordering: .relaxed)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            if signal == SIGINT {
                interruptCounter.add(1, ordering: .relaxed)
            } else {
                terminateCounter.add(1, ordering: .relaxed)
            }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
    }

    /// SIGINTs received since start.
    public static var interrupts: Int { interruptCounter.load(ordering: .relaxed) }
    /// SIGTERMs received since start.
    public static var terminations: Int { terminateCounter.load(ordering: .relaxed) }
}

private let interruptCounter = Atomic<Int>(0)
private let terminateCounter = Atomic<Int>(0)
