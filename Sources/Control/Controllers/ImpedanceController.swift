import DeviceModel
import Primitives

/// Joint-space impedance control with model feed-forward:
///
/// τ = s·[K·(q_d − q) + D·(q̇_d − q̇)] + s·[I·q̈_d + b·q̇_d + c·q̇_d/√(q̇_d² + ε²)]
///
/// K stiffness [N·m/rad], D damping [N·m·s/rad], I inertia, b viscous and c Coulomb friction from
/// the profile; s ∈ [0, 1] is the ramp-in scale after enable (SR-5). The smooth sign (ε = 0.05
/// rad/s) keeps friction compensation from chattering at rest.
public struct ImpedanceController: Sendable {
    public struct JointParameters: Sendable, Equatable {
        public var stiffnessNewtonMetersPerRadian: Double
        public var dampingNewtonMeterSecondsPerRadian: Double
        public var inertiaKilogramSquareMeters: Double
        public var viscousFrictionNewtonMeterSecondsPerRadian: Double
        public var coulombFrictionNewtonMeters: Double

        public init(
            stiffnessNewtonMetersPerRadian: Double, dampingNewtonMeterSecondsPerRadian: Double,
            inertiaKilogramSquareMeters: Double, viscousFrictionNewtonMeterSecondsPerRadian: Double,
            coulombFrictionNewtonMeters: Double
        ) {
            self.stiffnessNewtonMetersPerRadian = stiffnessNewtonMetersPerRadian
            self.dampingNewtonMeterSecondsPerRadian = dampingNewtonMeterSecondsPerRadian
            self.inertiaKilogramSquareMeters = inertiaKilogramSquareMeters
            self.viscousFrictionNewtonMeterSecondsPerRadian = viscousFrictionNewtonMeterSecondsPerRadian
            self.coulombFrictionNewtonMeters = coulombFrictionNewtonMeters
        }
    }

    public var joints: JointList<JointParameters>
    public static let frictionSmoothingRadiansPerSecond = 0.05

    public init(joints: JointList<JointParameters>) {
        self.joints = joints
    }

    /// Torque commands for tracking `target` from `measured`, scaled by `scale`.
    public func compute(
        target: TrajectorySample, measured: JointList<JointMeasurement>, scale: Double,
        into actuation: inout JointList<JointActuation>
    ) {
        for joint in 0..<joints.count {
            actuation[joint] = JointActuation(
                mode: .torque,
                torqueNewtonMeters: torque(
                    joint: joint, targetPositionRadians: target.positions[joint], targetVelocityRadiansPerSecond: target.velocities[joint],
                    targetAccelerationRadiansPerSecondSquared: target.accelerations[joint], measured: measured[joint], scale: scale))
        }
    }

    /// One joint's torque for tracking the given target (what `compute` does for every joint).
    public func torque(
        joint: Int, targetPositionRadians: Double, targetVelocityRadiansPerSecond velocity: Double,
        targetAccelerationRadiansPerSecondSquared acceleration: Double, measured: JointMeasurement, scale: Double
    ) -> Double {
        let epsilon = Self.frictionSmoothingRadiansPerSecond
        let p = joints[joint]
        let positionError = targetPositionRadians - measured.positionRadians
        let velocityError = velocity - measured.velocityRadiansPerSecond
        let feedForward = p.inertiaKilogramSquareMeters * acceleration
            + p.viscousFrictionNewtonMeterSecondsPerRadian * velocity
            + p.coulombFrictionNewtonMeters * velocity / (velocity * velocity + epsilon * epsilon).squareRoot()
        let feedback = p.stiffnessNewtonMetersPerRadian * positionError + p.dampingNewtonMeterSecondsPerRadian * velocityError
        return scale * (feedback + feedForward)
    }
}

/// The enable ramp of SR-5: 0 → 1 over `durationSeconds` along a minimum-jerk curve, so gains and
/// torque grow without a step.
public struct RampIn: Sendable, Equatable {
    public var durationSeconds: Double

    public init(durationSeconds: Double) {
        self.durationSeconds = durationSeconds
    }

    public func scale(atSeconds t: Double) -> Double {
        MinimumJerk(from: 0, to: 1, durationSeconds: durationSeconds).sample(at: t).position
    }
}
