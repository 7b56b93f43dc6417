import CSystemShims
import Glibc

/// A dedicated POSIX thread for the control loop, started and joined explicitly.
///
/// The corresponding C functions are `pthread_create` and `pthread_join`. Real-time attributes
/// (priority, affinity, locked memory) are applied by the code running on it.
public final class ControlThread: @unchecked Sendable {
    // @unchecked: `handle` is written once in `start` before any other thread can see the object,
    // then only read by `join` on the starting thread.
    private var handle = pthread_t()
    private var started = false

    private init() {}

    /// Starts `body` on a new thread named `name` (at most 15 characters are kept).
    public static func start(name: String, stackBytes: Int = 8 << 20, _ body: @escaping @Sendable () -> Void) -> ControlThread {
        let thread = ControlThread()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setstacksize(&attributes, stackBytes)
        let context = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
        let result = pthread_create(&thread.handle, &attributes, { context in
            let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
            _ = box.name.withCString { rh_set_current_thread_name($0) }
            box.body()
            return nil
        }, context)
        pthread_attr_destroy(&attributes)
        precondition(result == 0, "pthread_create failed: \(Errno(rawValue: result))")
        thread.started = true
        return thread
    }

    /// Waits for the thread to finish.
    public func join() {
        guard started else { return }
        started = false
        pthread_join(handle, nil)
    }

    private final class Box {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = String(name.prefix(15))
            self.body = body
        }
    }
}

/// Hands a non-Sendable object to exactly one other thread (e.g. a session to its control thread).
///
/// The caller guarantees exclusive use: the sender does not touch `value` until the receiving
/// thread has been joined.
public struct Handoff<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}

/// A value computed on another thread and read after joining it.
///
/// @unchecked: `value` is written once by the worker before it ends and read only after
/// `ControlThread.join()`, which orders the two (pthread_join synchronises memory).
public final class ThreadResult<Value>: @unchecked Sendable {
    public var value: Value?
    public init() {}
}
