import DeviceModel
import Primitives

/// How the robot works with the patient during an exercise. In every mode the exercise's plan is
/// the cue the patient follows and the session's clock; what differs is the torque the robot adds.
/// Every mode's output goes through the supervisor's last-stage clamp like any command.
public enum TherapyMode: Sendable, Equatable {
    /// The robot moves the limb along the plan (impedance tracking); the patient may rest.
    case passive
    /// Assist-as-needed: impedance tracking scaled by an assistance gain that grows with the tracking
    /// error and is forgotten while the patient performs.
    case activeAssist(AssistAsNeeded.Parameters)
    /// Spring, damper and constant (Coulomb-like) resistance the patient works against.
    case activeResist(Resistance)
    /// Friction and inertia compensation: the patient should feel as little of the robot as possible.
    case transparent(Transparency)
    /// The exercised joint follows a reference from another source (`Mirror`), gated by SR-15.
    case mirror(Mirror)

    /// The name in exercise files and reports.
    public var name: String {
        switch self {
        case .passive: "passive"
        case .activeAssist: "active_assist"
        case .activeResist: "active_resist"
        case .transparent: "transparent"
        case .mirror: "mirror"
        }
    }

    /// Every mode's name, in the order exercise files list them.
    public static let names = ["passive", "active_assist", "active_resist", "transparent", "mirror"]
}

/// The assist-as-needed law of the robot-assisted training literature (an error-based learning
/// controller with a forgetting factor, after Emken et al. 2007), per control cycle:
///
///   g ← clamp(g · f^Δt + k_e · max(0, |e| − e₀) · Δt, g_min, g_max)
///
/// g scales the impedance-tracking torque; e is the tracking error of the exercised joint; f is the
/// fraction of the gain kept per second when the patient tracks (the forgetting factor), k_e how fast
/// it grows per radian of error beyond the dead band e₀ (a healthy reaction delay leaves some lag).
public struct AssistAsNeeded: Sendable, Equatable {
    public struct Parameters: Sendable, Equatable {
        public var minimumGain: Double
        public var maximumGain: Double
        public var initialGain: Double
        /// Fraction of the gain kept after one second of good tracking (0 < f < 1).
        public var forgettingFactorPerSecond: Double
        /// Growth per radian of error beyond the dead band, per second [1/(rad·s)].
        public var errorGainPerRadianSecond: Double
        public var errorDeadbandRadians: Double

        public init(minimumGain: Double, maximumGain: Double, initialGain: Double, forgettingFactorPerSecond: Double,
                    errorGainPerRadianSecond: Double, errorDeadbandRadians: Double) {
            self.minimumGain = minimumGain
            self.maximumGain = maximumGain
            self.initialGain = initialGain
            self.forgettingFactorPerSecond = forgettingFactorPerSecond
            self.errorGainPerRadianSecond = errorGainPerRadianSecond
            self.errorDeadbandRadians = errorDeadbandRadians
        }
    }

    public let parameters: Parameters
    public private(set) var gain: Double
    private let keptPerCycle: Double
    private let periodSeconds: Double

    public init(parameters: Parameters, periodSeconds: Double) {
        self.parameters = parameters
        self.periodSeconds = periodSeconds
        gain = min(max(parameters.initialGain, parameters.minimumGain), parameters.maximumGain)
        // f^Δt, once: the cycle has no logarithms to spare.
        keptPerCycle = Self.power(parameters.forgettingFactorPerSecond, periodSeconds)
    }

    /// One cycle with tracking error `errorRadians`; returns the new gain.
    @discardableResult
    public mutating func update(errorRadians: Double) -> Double {
        let excess = max(0, abs(errorRadians) - parameters.errorDeadbandRadians)
        let next = gain * keptPerCycle + parameters.errorGainPerRadianSecond * excess * periodSeconds
        gain = next.isFinite ? min(max(next, parameters.minimumGain), parameters.maximumGain) : parameters.maximumGain
        return gain
    }

    /// x^y for 0 < x ≤ 1 without Foundation (exp(y·ln x) by series is overkill; Double has no pow).
    static func power(_ base: Double, _ exponent: Double) -> Double {
        guard base > 0 else { return 0 }
        // ln(base) by the atanh series, then exp by its series: plenty for a constant computed once.
        let y = (base - 1) / (base + 1)
        var term = y
        var logarithm = 0.0
        var k = 1.0
        for _ in 0..<60 {
            logarithm += term / k
            term *= y * y
            k += 2
        }
        let z = 2 * logarithm * exponent
        var sum = 1.0
        var factor = 1.0
        for n in 1..<40 {
            factor *= z / Double(n)
            sum += factor
        }
        return sum
    }
}

/// Resistance for the active-resist mode: τ = −k·(q − q₀) − b·q̇ − c·q̇/√(q̇² + ε²), limited to ±τ_max.
public struct Resistance: Sendable, Equatable {
    public var springNewtonMetersPerRadian: Double
    public var damperNewtonMeterSecondsPerRadian: Double
    public var constantNewtonMeters: Double
    public var maximumTorqueNewtonMeters: Double
    /// The spring's rest position [rad].
    public var restPositionRadians: Double

    public init(springNewtonMetersPerRadian: Double, damperNewtonMeterSecondsPerRadian: Double, constantNewtonMeters: Double,
                maximumTorqueNewtonMeters: Double, restPositionRadians: Double = 0) {
        self.springNewtonMetersPerRadian = springNewtonMetersPerRadian
        self.damperNewtonMeterSecondsPerRadian = damperNewtonMeterSecondsPerRadian
        self.constantNewtonMeters = constantNewtonMeters
        self.maximumTorqueNewtonMeters = maximumTorqueNewtonMeters
        self.restPositionRadians = restPositionRadians
    }

    /// The resisting torque for the limb at `position` moving at `velocity`.
    public func torque(positionRadians position: Double, velocityRadiansPerSecond velocity: Double) -> Double {
        let epsilon = ImpedanceController.frictionSmoothingRadiansPerSecond
        let raw = -springNewtonMetersPerRadian * (position - restPositionRadians) - damperNewtonMeterSecondsPerRadian * velocity
            - constantNewtonMeters * velocity / (velocity * velocity + epsilon * epsilon).squareRoot()
        return min(max(raw, -maximumTorqueNewtonMeters), maximumTorqueNewtonMeters)
    }
}

/// Transparency: the robot's own friction (viscous and Coulomb, from the profile) and a share of its
/// inertia compensated, from the measured velocity and a low-pass filtered acceleration estimate.
public struct Transparency: Sendable, Equatable {
    /// Share of the modelled friction compensated (0…1; above 1 would push the limb).
    public var frictionCompensation: Double
    /// Share of the link inertia compensated (0…0.8; the acceleration estimate is noisy and late).
    public var inertiaCompensation: Double

    public init(frictionCompensation: Double, inertiaCompensation: Double) {
        self.frictionCompensation = frictionCompensation
        self.inertiaCompensation = inertiaCompensation
    }

    /// The compensating torque of one joint.
    public func torque(velocityRadiansPerSecond velocity: Double, accelerationRadiansPerSecondSquared acceleration: Double,
                       joint: ImpedanceController.JointParameters) -> Double {
        let epsilon = ImpedanceController.frictionSmoothingRadiansPerSecond
        let friction = joint.viscousFrictionNewtonMeterSecondsPerRadian * velocity
            + joint.coulombFrictionNewtonMeters * velocity / (velocity * velocity + epsilon * epsilon).squareRoot()
        return frictionCompensation * friction + inertiaCompensation * joint.inertiaKilogramSquareMeters * acceleration
    }
}
