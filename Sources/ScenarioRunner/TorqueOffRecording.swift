import DeviceModel
import Devices
import Primitives
import Transport

/// The robot's driver as the session sees it, with the host's torque offs noted on the way
/// (`ScenarioObservation.torqueOffCommandTimes`): every call goes to `driver` unchanged — what is sent,
/// when, and what comes back are the driver's — and `write` notes the start of each stretch of cycles
/// whose action is torque off, at the cycle's time (the time its transitions carry):
///
/// - a write of torque off (`DeviceIntent.torqueOff`) after a write of anything else, at its `now`
///   (the set-up's stops included);
/// - a stretch the supervisor began (`Supervisor.torqueOffCommandedAt`, read through
///   `supervisorTorqueOffSince` once the session exists) while the device had already taken its own
///   torque away, so that the cycle only heartbeats it (`DeviceIntent.observe`): nothing else shows it.
final class TorqueOffRecordingDevice: ActuatedDevice {
    let driver: any ActuatedDevice
    /// When each stretch of torque off began, on the run's clock.
    private(set) var torqueOffTimes: [MonotonicInstant] = []
    /// The session's `supervisor.torqueOffCommandedAt` (nil until the session exists).
    var supervisorTorqueOffSince: (() -> MonotonicInstant?)?
    private var lastWriteWasTorqueOff = false
    private var lastSupervisorTorqueOffSince: MonotonicInstant?

    init(_ driver: any ActuatedDevice) {
        self.driver = driver
        // Room for many stops before the session starts: the control cycle then appends without allocating.
        torqueOffTimes.reserveCapacity(256)
    }

    var name: String { driver.name }
    var jointCount: Int { driver.jointCount }
    var capabilities: DeviceCapabilities { driver.capabilities }

    func identify() throws(DeviceError) -> DeviceIdentityInfo { try driver.identify() }
    func requestFreshState() throws(DeviceError) -> RobotState { try driver.requestFreshState() }
    func configure(_ limits: DeviceSafetyLimits) throws(DeviceError) { try driver.configure(limits) }
    func activate(watchdogPeriodNanoseconds: Int64) throws(DeviceError) -> Int64 {
        try driver.activate(watchdogPeriodNanoseconds: watchdogPeriodNanoseconds)
    }
    func deactivate() throws(DeviceError) { try driver.deactivate() }

    func read(now: MonotonicInstant) -> ReadOutcome { driver.read(now: now) }

    @discardableResult
    func write(_ intent: DeviceIntent, now: MonotonicInstant, deadline: MonotonicInstant) -> Bool {
        var isTorqueOff = false
        if case .torqueOff = intent { isTorqueOff = true }
        if isTorqueOff && !lastWriteWasTorqueOff { note(now) }
        lastWriteWasTorqueOff = isTorqueOff
        // The supervisor has evaluated this cycle before its intent is written: a stretch it began is seen here.
        if let since = supervisorTorqueOffSince?(), since != lastSupervisorTorqueOffSince {
            lastSupervisorTorqueOffSince = since
            note(since)
        }
        return driver.write(intent, now: now, deadline: deadline)
    }

    /// One stretch's start (once, when both ways see it in the same cycle).
    private func note(_ time: MonotonicInstant) {
        if torqueOffTimes.last != time { torqueOffTimes.append(time) }
    }

    func waitForState(until deadline: MonotonicInstant) -> Bool { driver.waitForState(until: deadline) }

    var latestState: RobotState { driver.latestState }
    var linkHealth: LinkHealth { driver.linkHealth }
    var oldestUnechoedCommandAt: MonotonicInstant? { driver.oldestUnechoedCommandAt }
    var linkError: TransportError? { driver.linkError }
}
