import Platform
import Synchronization

/// Hosts served by a poll loop of their own, on a normal-priority thread kept off the firmware
/// loop's CPU: rehabsim's tracking sensors. A sensor's stream can wait to be written (up to 1 ms a
/// chunk when its reader lags); in the robot's loop that wait delayed the robot's replies and fed
/// its watchdog late, so each kind of device now has its own loop, as each has its own
/// microcontroller in a lab.
public final class BackgroundDeviceHostLoop: @unchecked Sendable {
    // @unchecked: `hosts` are used only by the loop's thread between `start` and `stop` (their live
    // inboxes, the only part other threads touch, are thread-safe); `thread` only by the starting thread.
    private let hosts: [any HostedDevice]
    private let name: String
    private let stopRequested = Atomic<Bool>(false)
    private let stoppedBy = Mutex<DeviceHostLoop.Failure?>(nil)
    private var thread: ControlThread?

    /// `name` names the thread (at most 15 characters are kept).
    public init(_ hosts: [any HostedDevice], name: String) {
        self.hosts = hosts
        self.name = name
    }

    /// Starts serving (nothing to do without hosts).
    public func start() {
        guard !hosts.isEmpty, thread == nil else { return }
        thread = ControlThread.start(name: name, stackBytes: 512 << 10) { [self] in
            _ = Realtime.makeCurrentThreadNormal()
            let failure = DeviceHostLoop.serve(hosts) { stopRequested.load(ordering: .acquiring) }
            stoppedBy.withLock { $0 = failure }
        }
    }

    /// Why the loop stopped by itself (a terminal failed), else nil.
    public var failure: DeviceHostLoop.Failure? { stoppedBy.withLock { $0 } }

    /// Stops the loop (noticed within its 10 ms housekeeping) and waits for it. The hosts are not shut down.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        thread?.join()
        thread = nil
    }
}
