import Control
import Platform
import Primitives
import Synchronization

/// SR-19: every cycle of the last seconds, kept in memory at full rate, written to a CSV file when
/// the supervisor latches a fault or an e-stop — whether or not a recording was asked for.
///
/// The control loop records into preallocated columns (no allocation, no lock). On a fault it keeps
/// recording for `postTriggerCycles` more, then freezes the ring and hands it over through one
/// atomic; a normal thread (`writePendingDump`) writes the file and hands it back. While frozen the
/// loop skips recording, so nothing it does waits for the disk.
public final class BlackBox: @unchecked Sendable {
    // @unchecked: the columns are touched by the loop only while `phase` is `.recording`, and by the
    // writer only while it is `.writing`; the phase changes are release/acquire atomics.

    /// What went on the wire in a cycle.
    public enum Wire: UInt8, Sendable {
        case nothing = 0
        case command = 1
        case heartbeat = 2
        /// DISABLE and FAULT_RESET for an operator reset (then a heartbeat).
        case faultReset = 3
    }

    /// One recorded cycle, as read back (tests, tools).
    public struct Sample: Sendable, Equatable {
        public var cycle: Int64
        public var time: MonotonicInstant
        public var state: SupervisorState
        public var action: UInt8
        public var wire: Wire
        public var freshState: Bool
        public var positionsRadians: JointList<Double>
        public var commandModes: JointList<UInt8>
        public var commandTorquesNewtonMeters: JointList<Double>
        public var commandVelocitiesRadiansPerSecond: JointList<Double>
    }

    public let capacity: Int
    public let jointCount: Int
    public let postTriggerCycles: Int
    public let rateHertz: Double
    /// Values stored per joint and cycle (see `columnNames`).
    static let valuesPerJoint = 7

    private var cycles: [Int64]
    private var times: [Int64]
    private var states: [UInt8]
    private var actions: [UInt8]
    private var wires: [UInt8]
    private var fresh: [Bool]
    private var values: [Double]
    private var head = 0
    private var count = 0
    private var trigger: (cycle: Int64, trip: SafetyTrip?, state: SupervisorState)?
    private var remainingAfterTrigger = 0
    private var frozenTransitions: [SupervisorTransition]
    private let phase = Atomic<UInt8>(Phase.recording.rawValue)
    /// Files written so far (paths), and why the last write failed.
    public private(set) var writtenFiles: [String] = []
    public private(set) var lastWriteError: String?

    private enum Phase: UInt8 {
        case recording = 0
        case frozen = 1
        case writing = 2
    }

    /// Room for `seconds` before a trigger and `postTriggerSeconds` after it, at `rateHertz`.
    public init(jointCount: Int, rateHertz: Double, seconds: Double = 5, postTriggerSeconds: Double = 0.5) {
        self.jointCount = jointCount
        self.rateHertz = rateHertz
        postTriggerCycles = max(1, Int((postTriggerSeconds * rateHertz).rounded(.up)))
        capacity = max(16, Int((seconds * rateHertz).rounded(.up)) + postTriggerCycles + 1)
        cycles = Array(repeating: 0, count: capacity)
        times = Array(repeating: 0, count: capacity)
        states = Array(repeating: 0, count: capacity)
        actions = Array(repeating: 0, count: capacity)
        wires = Array(repeating: 0, count: capacity)
        fresh = Array(repeating: false, count: capacity)
        values = Array(repeating: 0, count: capacity * jointCount * Self.valuesPerJoint)
        frozenTransitions = []
        frozenTransitions.reserveCapacity(Supervisor.transitionCapacity)
    }

    // MARK: The control loop's side

    /// Records one cycle (skipped while a dump is pending).
    public func record(
        cycle: Int64, time: MonotonicInstant, state: SupervisorState, action: SupervisorAction, wire: Wire, freshState: Bool,
        robot: RobotState, command: JointList<JointActuation>, supervisor: Supervisor
    ) {
        guard phase.load(ordering: .acquiring) == Phase.recording.rawValue else { return }
        let slot = head
        cycles[slot] = cycle
        times[slot] = time.nanoseconds
        states[slot] = Self.code(state)
        actions[slot] = Self.code(action)
        wires[slot] = wire.rawValue
        fresh[slot] = freshState
        var base = slot * jointCount * Self.valuesPerJoint
        for joint in 0..<jointCount {
            let measured = robot.joints[joint]
            let commanded = command[joint]
            values[base] = measured.positionRadians
            values[base + 1] = measured.velocityRadiansPerSecond
            values[base + 2] = measured.motorTorqueNewtonMeters
            values[base + 3] = measured.interactionTorqueNewtonMeters
            values[base + 4] = Double(Self.code(commanded.mode))
            values[base + 5] = commanded.torqueNewtonMeters
            values[base + 6] = commanded.velocityRadiansPerSecond
            base += Self.valuesPerJoint
        }
        head = (head + 1) % capacity
        count = min(count + 1, capacity)
        if trigger != nil {
            remainingAfterTrigger -= 1
            if remainingAfterTrigger <= 0 { freeze(supervisor) }
        }
    }

    /// A fault or e-stop latched in `cycle`: keep `postTriggerCycles` more, then hand over for writing.
    public func triggered(cycle: Int64, trip: SafetyTrip?, state: SupervisorState) {
        guard trigger == nil, phase.load(ordering: .acquiring) == Phase.recording.rawValue else { return }
        trigger = (cycle, trip, state)
        remainingAfterTrigger = postTriggerCycles
    }

    /// The loop has ended: hand over a pending trigger now.
    public func sessionEnded(_ supervisor: Supervisor) {
        if trigger != nil && phase.load(ordering: .acquiring) == Phase.recording.rawValue { freeze(supervisor) }
    }

    private func freeze(_ supervisor: Supervisor) {
        frozenTransitions.removeAll(keepingCapacity: true)
        frozenTransitions.append(contentsOf: supervisor.transitions)
        phase.store(Phase.frozen.rawValue, ordering: .releasing)
    }

    // MARK: The writer's side (a normal thread)

    /// True when a dump waits to be written.
    public var hasPendingDump: Bool { phase.load(ordering: .acquiring) == Phase.frozen.rawValue }

    /// Writes a pending dump into `directory` and returns its path (nil: nothing pending, or the
    /// write failed — then `lastWriteError` says why and the dump stays pending for another try).
    @discardableResult
    public func writePendingDump(to directory: String, profileName: String, jointNames: [String]) -> String? {
        guard phase.compareExchange(expected: Phase.frozen.rawValue, desired: Phase.writing.rawValue, ordering: .acquiringAndReleasing).exchanged
        else { return nil }
        let text = csv(profileName: profileName, jointNames: jointNames)
        let cause = trigger?.trip?.cause.rawValue ?? "stop"
        let stamp = WallClock.utcTimestamp(WallClock.unixNanoseconds()).replacingColons()
        let path = directory + "/blackbox-\(stamp)-cycle\(trigger?.cycle ?? 0)-\(cause).csv"
        do throws(Errno) {
            try DurableFile.write(text, to: path)
        } catch {
            lastWriteError = "cannot write the black box to \(path): \(error)"
            phase.store(Phase.frozen.rawValue, ordering: .releasing)
            return nil
        }
        writtenFiles.append(path)
        lastWriteError = nil
        trigger = nil
        head = 0
        count = 0
        phase.store(Phase.recording.rawValue, ordering: .releasing)
        return path
    }

    /// The samples held now, oldest first (for tests; call only when the loop is not running).
    public func samples() -> [Sample] {
        (0..<count).map { sample(at: (head - count + $0 + capacity) % capacity) }
    }

    private func sample(at slot: Int) -> Sample {
        var positions = JointList<Double>.zeros(jointCount)
        var modes = JointList<UInt8>(count: jointCount, repeating: 0)
        var torques = JointList<Double>.zeros(jointCount)
        var velocities = JointList<Double>.zeros(jointCount)
        for joint in 0..<jointCount {
            let base = (slot * jointCount + joint) * Self.valuesPerJoint
            positions[joint] = values[base]
            modes[joint] = UInt8(values[base + 4])
            torques[joint] = values[base + 5]
            velocities[joint] = values[base + 6]
        }
        return Sample(
            cycle: cycles[slot], time: MonotonicInstant(nanoseconds: times[slot]), state: Self.state(states[slot]),
            action: actions[slot], wire: Wire(rawValue: wires[slot]) ?? .nothing, freshState: fresh[slot], positionsRadians: positions,
            commandModes: modes, commandTorquesNewtonMeters: torques, commandVelocitiesRadiansPerSecond: velocities)
    }

    private func csv(profileName: String, jointNames: [String]) -> String {
        var lines: [String] = []
        lines.reserveCapacity(count + frozenTransitions.count + 16)
        lines.append("# RehabHost black box (SAFETY.md SR-19): the last \(count) control cycles at \(Int(rateHertz)) Hz")
        lines.append("# profile: \(profileName)")
        if let trigger {
            lines.append("# trigger: cycle \(trigger.cycle), \(trigger.state.rawValue)" + (trigger.trip.map { ": \($0)" } ?? ""))
        }
        lines.append("# action: 0 torque_off, 1 move, 2 hold, 3 decelerate, 4 release; wire: 0 nothing, 1 COMMAND, 2 HEARTBEAT, 3 DISABLE+FAULT_RESET")
        lines.append("# command_mode: 0 off, 1 torque, 2 velocity")
        lines.append("# supervisor transitions (cycle, t_ms, from, to, cause, category, value, joint, device_code):")
        let origin = count > 0 ? times[(head - count + capacity) % capacity] : 0
        for transition in frozenTransitions {
            let milliseconds = Double(transition.time.nanoseconds - origin) / 1e6
            lines.append(
                "#   \(transition.cycle), \(Self.fixed(milliseconds, 3)), \(transition.from.rawValue), \(transition.to.rawValue), \(transition.cause.rawValue), \(transition.category.map { "\($0.rawValue)" } ?? ""), \(Self.number(transition.value)), \(transition.joint.map(String.init) ?? ""), \(transition.deviceCode)")
        }
        var header = "cycle,t_ms,state,action,wire,fresh"
        for joint in 0..<jointCount {
            let name = joint < jointNames.count ? jointNames[joint] : "joint\(joint)"
            for column in ["position_rad", "velocity_rad_per_s", "motor_torque_nm", "interaction_torque_nm", "command_mode",
                           "command_torque_nm", "command_velocity_rad_per_s"] {
                header += ",\(name).\(column)"
            }
        }
        lines.append(header)
        for index in 0..<count {
            let slot = (head - count + index + capacity) % capacity
            var line = "\(cycles[slot]),\(Self.fixed(Double(times[slot] - origin) / 1e6, 3)),\(Self.state(states[slot]).rawValue),\(actions[slot]),\(wires[slot]),\(fresh[slot] ? 1 : 0)"
            let base = slot * jointCount * Self.valuesPerJoint
            for offset in 0..<(jointCount * Self.valuesPerJoint) {
                line += "," + Self.number(values[base + offset])
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Codes

    /// A switch, not `allCases.firstIndex`: `allCases` builds an array, and this runs every cycle.
    static func code(_ state: SupervisorState) -> UInt8 {
        switch state {
        case .disabled: 0
        case .selfTest: 1
        case .idle: 2
        case .ready: 3
        case .active: 4
        case .paused: 5
        case .stopping: 6
        case .fault: 7
        case .estop: 8
        }
    }

    static func state(_ code: UInt8) -> SupervisorState {
        let states: [SupervisorState] = [.disabled, .selfTest, .idle, .ready, .active, .paused, .stopping, .fault, .estop]
        return states[Int(code)]
    }

    static func code(_ action: SupervisorAction) -> UInt8 {
        switch action {
        case .torqueOff: 0
        case .move: 1
        case .hold: 2
        case .decelerate: 3
        case .release: 4
        }
    }

    static func code(_ mode: JointActuation.Mode) -> UInt8 {
        switch mode {
        case .off: 0
        case .torque: 1
        case .velocity: 2
        }
    }

    private static func number(_ value: Double) -> String {
        if value == 0 { return "0" }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    private static func fixed(_ value: Double, _ decimals: Int) -> String {
        format(value, decimals: decimals)
    }
}

extension String {
    /// ":" is awkward in file names on some systems; the timestamp keeps its digits.
    fileprivate func replacingColons() -> String {
        String(map { $0 == ":" ? "-" : $0 })
    }
}
