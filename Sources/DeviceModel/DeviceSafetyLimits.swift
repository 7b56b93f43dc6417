/// SR-24 "Limits in the firmware too": the limits the host writes into the device before enable,
/// and reads back, so that the firmware enforces them on its own — host dead or alive. The host's
/// supervisor is one channel and the firmware the second; either alone still protects the patient.
///
/// In SI units; a driver converts them to its device's units at the device edge, rounding toward
/// the safe side (soft limits inward, caps and the trip down). What the firmware does with them
/// (RehabLink 1.1, protocols/rehablink/README.md 5.4 and 5.6.1): every mode's torque is limited to
/// −`torqueCapNegativeNewtonMeters` … +`torqueCapPositiveNewtonMeters` (a Cat 1 stop through the
/// device's velocity loop included); past a soft limit no torque may push the joint further out;
/// above `velocityTripRadiansPerSecond` torque goes off and an over-speed fault latches.
public struct DeviceSafetyLimits: Sendable, Equatable {
    public struct Joint: Sendable, Equatable {
        /// Soft lower and upper position limits [rad], inside the joint's hard limits (SR-7: the
        /// profile's soft limits, narrowed by the patient's range of motion).
        public var softMinimumRadians: Double
        public var softMaximumRadians: Double
        /// The largest positive torque [N·m], ≥ 0 (SR-20: the per-patient cap in that direction).
        public var torqueCapPositiveNewtonMeters: Double
        /// The largest negative torque, as a magnitude [N·m], ≥ 0 (SR-20).
        public var torqueCapNegativeNewtonMeters: Double
        /// The speed above which the firmware cuts torque by itself [rad/s], > 0. The host's own Cat 0
        /// speed (SR-8: 1.5 × v_trip) is the natural choice: the firmware then cuts where the host
        /// would, had it been able to.
        public var velocityTripRadiansPerSecond: Double

        public init(
            softMinimumRadians: Double, softMaximumRadians: Double, torqueCapPositiveNewtonMeters: Double,
            torqueCapNegativeNewtonMeters: Double, velocityTripRadiansPerSecond: Double
        ) {
            self.softMinimumRadians = softMinimumRadians
            self.softMaximumRadians = softMaximumRadians
            self.torqueCapPositiveNewtonMeters = torqueCapPositiveNewtonMeters
            self.torqueCapNegativeNewtonMeters = torqueCapNegativeNewtonMeters
            self.velocityTripRadiansPerSecond = velocityTripRadiansPerSecond
        }
    }

    /// One entry per joint, in the device's joint order.
    public var joints: [Joint]

    public init(joints: [Joint]) {
        self.joints = joints
    }

    /// What makes these limits unusable on a device with `jointCount` joints, whatever the device
    /// (empty when none): a wrong joint count, a non-finite value, an empty range, a negative cap,
    /// a trip that is not positive. The device checks the rest (its ratings) and refuses the write.
    public func problems(jointCount: Int) -> [String] {
        var problems: [String] = []
        if joints.count != jointCount {
            problems.append("limits for \(joints.count) joint\(joints.count == 1 ? "" : "s"), the device has \(jointCount)")
        }
        for (index, joint) in joints.enumerated() {
            let values = [
                joint.softMinimumRadians, joint.softMaximumRadians, joint.torqueCapPositiveNewtonMeters,
                joint.torqueCapNegativeNewtonMeters, joint.velocityTripRadiansPerSecond,
            ]
            guard values.allSatisfy(\.isFinite) else {
                problems.append("joint \(index): a limit is not a finite number")
                continue
            }
            if joint.softMinimumRadians >= joint.softMaximumRadians {
                problems.append("joint \(index): the soft minimum \(joint.softMinimumRadians) rad is not below the soft maximum \(joint.softMaximumRadians) rad")
            }
            if joint.torqueCapPositiveNewtonMeters < 0 || joint.torqueCapNegativeNewtonMeters < 0 {
                problems.append("joint \(index): a torque cap is negative (the negative direction's cap is a magnitude)")
            }
            if joint.velocityTripRadiansPerSecond <= 0 {
                problems.append("joint \(index): the velocity trip \(joint.velocityTripRadiansPerSecond) rad/s is not positive")
            }
        }
        return problems
    }
}
