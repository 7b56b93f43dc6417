import Control
import DeviceModel
import Primitives

/// Everything one control cycle did, in SI units: the unit that the control loop hands to the
/// recorder (`TelemetryRing`) and keeps in the black box. Plain values only, so handing it over is a
/// copy of bytes — no allocation, no reference counting.
public struct TelemetryFrame: Sendable, Equatable, BitwiseCopyable {
    /// What went on the wire in a cycle.
    public enum Wire: UInt8, Sendable, BitwiseCopyable {
        case nothing = 0
        case command = 1
        case heartbeat = 2
        /// DISABLE and FAULT_RESET for an operator reset (then a heartbeat).
        case faultReset = 3

        public var name: String {
            switch self {
            case .nothing: "nothing"
            case .command: "command"
            case .heartbeat: "heartbeat"
            case .faultReset: "fault_reset"
            }
        }
    }

    public var cycle: Int64 = 0
    /// The cycle's wake time on the monotonic clock.
    public var time = MonotonicInstant.zero
    /// The supervisor's state after this cycle's evaluation.
    public var state = SupervisorState.disabled
    /// `TelemetryCodes.action(_:)` of the supervisor's action.
    public var action: UInt8 = 0
    public var activeStop: StopCategory?
    public var wire = Wire.nothing
    /// A new device state arrived since the previous cycle.
    public var freshState = false

    /// Actual wake − scheduled deadline [ns].
    public var wakeLatencyNanoseconds: Int64 = 0
    /// Fresh state in hand → command encoded [ns].
    public var computeNanoseconds: Int64 = 0
    /// Wake → end of the cycle's work [ns].
    public var cycleNanoseconds: Int64 = 0
    /// Command written → its echo decoded [ns]; -1 when this cycle measured none.
    public var roundTripNanoseconds: Int64 = -1
    /// Deadlines missed just before this cycle.
    public var lateCycles: Int32 = 0
    /// SR-1: the newest state's age this cycle [ns] (`Int64.max` before any) and the link's grade.
    public var stateAgeNanoseconds: Int64 = .max
    public var linkGrade = LinkGrade.good

    public var positionsRadians: JointList<Double>
    public var velocitiesRadiansPerSecond: JointList<Double>
    public var motorTorquesNewtonMeters: JointList<Double>
    public var interactionTorquesNewtonMeters: JointList<Double>
    /// The exercise's target; NaN while no target is tracked (stopping, torque off).
    public var targetPositionsRadians: JointList<Double>
    public var targetVelocitiesRadiansPerSecond: JointList<Double>
    /// `TelemetryCodes.mode(_:)` of each joint's command.
    public var commandModes: JointList<UInt8>
    public var commandTorquesNewtonMeters: JointList<Double>
    public var commandVelocitiesRadiansPerSecond: JointList<Double>
    /// Every tracker's newest sample this cycle, in the session's tracker order (none: count 0).
    public var trackers = TrackerReadings(count: 0)

    public init(jointCount: Int, trackerCount: Int = 0) {
        trackers = TrackerReadings(count: trackerCount)
        positionsRadians = .zeros(jointCount)
        velocitiesRadiansPerSecond = .zeros(jointCount)
        motorTorquesNewtonMeters = .zeros(jointCount)
        interactionTorquesNewtonMeters = .zeros(jointCount)
        targetPositionsRadians = JointList(count: jointCount, repeating: .nan)
        targetVelocitiesRadiansPerSecond = JointList(count: jointCount, repeating: .nan)
        commandModes = JointList(count: jointCount, repeating: 0)
        commandTorquesNewtonMeters = .zeros(jointCount)
        commandVelocitiesRadiansPerSecond = .zeros(jointCount)
    }

    public var jointCount: Int { positionsRadians.count }
}

/// Small stable codes for enums stored per cycle, and their names in recordings. Switches, not
/// `allCases` lookups: `allCases` builds an array, and the codes are taken every cycle.
public enum TelemetryCodes {
    public static let actionNames = ["torque_off", "move", "hold", "decelerate", "release"]
    public static let modeNames = ["off", "torque", "velocity", "hold"]

    public static func action(_ action: SupervisorAction) -> UInt8 {
        switch action {
        case .torqueOff: 0
        case .move: 1
        case .hold: 2
        case .decelerate: 3
        case .release: 4
        }
    }

    public static func mode(_ mode: JointActuation.Mode) -> UInt8 {
        switch mode {
        case .off: 0
        case .torque: 1
        case .velocity: 2
        case .hold: 3
        }
    }

    public static func actionName(_ code: UInt8) -> String {
        Int(code) < actionNames.count ? actionNames[Int(code)] : "unknown"
    }

    public static func modeName(_ code: UInt8) -> String {
        Int(code) < modeNames.count ? modeNames[Int(code)] : "unknown"
    }
}

/// What the control loop hands to the recorder, in order: every cycle, and every supervisor
/// transition as it happens.
public enum TelemetryRecord: Sendable, BitwiseCopyable {
    case cycle(TelemetryFrame)
    case transition(SupervisorTransition)
}
