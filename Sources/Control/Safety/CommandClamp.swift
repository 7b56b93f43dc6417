import DeviceModel
import Primitives

/// The last stage before encoding (SR-6, SR-7): whatever any controller or mode produced, what
/// reaches the wire is finite, within the torque and speed limits, changes torque no faster than the
/// slew limit, and never drives a joint further past a soft limit. There is no way around it: the
/// session encodes only what this returns, and its `switch` over `JointActuation.Mode` has no
/// `default`, so a mode added later does not compile until it is clamped here.
public struct CommandClamp: Sendable {
    public struct JointLimits: Sendable, Equatable {
        public var torqueLimitNewtonMeters: Double
        public var velocityLimitRadiansPerSecond: Double
        /// SR-7 soft limits (hard − margin, narrowed for the patient).
        public var softMinimumRadians: Double
        public var softMaximumRadians: Double
        /// SR-20: a patient's torque cap in each direction (magnitudes [N·m]); never above the limit.
        public var torqueCapPositiveNewtonMeters: Double
        public var torqueCapNegativeNewtonMeters: Double

        public init(
            torqueLimitNewtonMeters: Double, velocityLimitRadiansPerSecond: Double,
            softMinimumRadians: Double = -.infinity, softMaximumRadians: Double = .infinity,
            torqueCapPositiveNewtonMeters: Double? = nil, torqueCapNegativeNewtonMeters: Double? = nil
        ) {
            self.torqueLimitNewtonMeters = torqueLimitNewtonMeters
            self.velocityLimitRadiansPerSecond = velocityLimitRadiansPerSecond
            self.softMinimumRadians = softMinimumRadians
            self.softMaximumRadians = softMaximumRadians
            self.torqueCapPositiveNewtonMeters = min(torqueCapPositiveNewtonMeters ?? torqueLimitNewtonMeters, torqueLimitNewtonMeters)
            self.torqueCapNegativeNewtonMeters = min(torqueCapNegativeNewtonMeters ?? torqueLimitNewtonMeters, torqueLimitNewtonMeters)
        }
    }

    /// What the clamp had to do this cycle.
    public struct Outcome: Sendable, Equatable {
        /// A NaN or infinity was found: every joint was set to off (and the supervisor must fault).
        public var foundNonFinite = false
        /// A torque or velocity exceeded its limit and was clamped.
        public var limited = false
        /// The torque change was cut to the slew limit.
        public var slewLimited = false
        /// A joint past a soft limit was only allowed to creep inward.
        public var softLimited = false

        public init() {}
    }

    public let limits: JointList<JointLimits>
    public let torqueSlewPerCycleNewtonMeters: Double
    /// SR-7: past a soft limit, the inward creep speed.
    public let inwardSpeedPastSoftLimitRadiansPerSecond: Double
    /// SR-21: the Cat 1 deceleration [rad/s²]; toward a soft limit at distance d the joint may move at
    /// most √(2·a·d), so that a Cat 1 always stops it inside (0: not applied).
    public let quickStopDecelerationRadiansPerSecondSquared: Double
    private var previousTorques: JointList<Double>

    public init(
        limits: JointList<JointLimits>, torqueSlewLimitNewtonMetersPerSecond: Double, periodSeconds: Double,
        inwardSpeedPastSoftLimitRadiansPerSecond: Double = Units.radiansPerDegree, quickStopDecelerationRadiansPerSecondSquared: Double = 0
    ) {
        self.limits = limits
        torqueSlewPerCycleNewtonMeters = torqueSlewLimitNewtonMetersPerSecond * periodSeconds
        self.inwardSpeedPastSoftLimitRadiansPerSecond = inwardSpeedPastSoftLimitRadiansPerSecond
        self.quickStopDecelerationRadiansPerSecondSquared = quickStopDecelerationRadiansPerSecondSquared
        previousTorques = .zeros(limits.count)
    }

    /// SR-21: the fastest a joint at `position` may move in the direction of `velocity` [rad/s]:
    /// √(2·a·d), d the distance to the soft limit ahead (infinite when not applied).
    public func endOfRangeSpeedLimit(position: Double, velocity: Double, limit: JointLimits) -> Double {
        guard quickStopDecelerationRadiansPerSecondSquared > 0 else { return .infinity }
        let distance = velocity >= 0 ? limit.softMaximumRadians - position : position - limit.softMinimumRadians
        return (2 * quickStopDecelerationRadiansPerSecondSquared * max(0, distance)).squareRoot()
    }

    /// Keeps trajectory targets inside the soft limits (a plan can never aim past them).
    public func clampTargets(_ target: inout TrajectorySample) {
        for joint in 0..<min(limits.count, target.positions.count) {
            let limit = limits[joint]
            let position = target.positions[joint]
            if position > limit.softMaximumRadians || position < limit.softMinimumRadians || !position.isFinite {
                target.positions[joint] = position.isFinite ? min(max(position, limit.softMinimumRadians), limit.softMaximumRadians) : 0
                target.velocities[joint] = 0
                target.accelerations[joint] = 0
            }
        }
    }

    /// Makes `actuation` safe to send, in place, given the newest measurement of each joint.
    /// `degraded` (SR-1 FAIR/POOR): torque heads for at most half its limit, at half the slew limit.
    public mutating func apply(
        to actuation: inout JointList<JointActuation>, measured: JointList<JointMeasurement>, degraded: Bool = false
    ) -> Outcome {
        let slew = degraded ? torqueSlewPerCycleNewtonMeters / 2 : torqueSlewPerCycleNewtonMeters
        var outcome = Outcome()
        for joint in 0..<actuation.count {
            let command = actuation[joint]
            if !command.torqueNewtonMeters.isFinite || !command.velocityRadiansPerSecond.isFinite || !command.positionRadians.isFinite
                || !command.stiffnessNewtonMetersPerRadian.isFinite || !command.dampingNewtonMeterSecondsPerRadian.isFinite
            {
                outcome.foundNonFinite = true
            }
        }
        if outcome.foundNonFinite || actuation.count != limits.count || measured.count != limits.count {
            for joint in 0..<actuation.count { actuation[joint] = .off }
            for joint in 0..<previousTorques.count { previousTorques[joint] = 0 }
            outcome.foundNonFinite = true
            return outcome
        }
        for joint in 0..<actuation.count {
            var command = actuation[joint]
            let limit = limits[joint]
            // Read once: each read of an element of `measured` copies the whole list (docs/performance.md, session G).
            let measuredJoint = measured[joint]
            let position = measuredJoint.positionRadians
            // Which way "inward" is for a joint past a soft limit (0: inside).
            let inward: Double = position > limit.softMaximumRadians ? -1 : (position < limit.softMinimumRadians ? 1 : 0)
            switch command.mode {
            case .off:
                // Removing torque is never slew-limited: Cat 0 means now.
                command = .off
                previousTorques[joint] = 0
            case .torque:
                var torque = command.torqueNewtonMeters
                // SR-20: the patient's cap in the torque's direction, itself never above the limit.
                let cap = torque > 0 ? limit.torqueCapPositiveNewtonMeters : limit.torqueCapNegativeNewtonMeters
                let torqueLimit = degraded ? cap / 2 : cap
                if abs(torque) > torqueLimit {
                    torque = torque > 0 ? torqueLimit : -torqueLimit
                    outcome.limited = true
                }
                // The slew limit applies last: a torque above half the limit when the link degrades
                // fades down to it instead of stepping (the previous torque was within the full limit).
                let previous = previousTorques[joint]
                if abs(torque - previous) > slew {
                    torque = previous + (torque > previous ? slew : -slew)
                    outcome.slewLimited = true
                }
                let velocityNow = measuredJoint.velocityRadiansPerSecond
                if inward == 0 && torque * velocityNow > 0
                    && abs(velocityNow) > endOfRangeSpeedLimit(position: position, velocity: velocityNow, limit: limit)
                {
                    // SR-21: too fast toward the end of the range for a Cat 1 to stop inside it: no more
                    // push that way (braking torque is still allowed).
                    torque = 0
                    outcome.softLimited = true
                }
                if inward != 0 {
                    // Past a soft limit: never push further out (not even while a slew ramp winds down:
                    // the cut to zero is immediate, like torque off), and never pull back faster than
                    // the inward creep speed; the controller's inward pull holds against the patient.
                    let inwardSpeed = measuredJoint.velocityRadiansPerSecond * inward
                    if torque * inward < 0 || (torque * inward > 0 && inwardSpeed > inwardSpeedPastSoftLimitRadiansPerSecond) {
                        torque = 0
                        outcome.softLimited = true
                    }
                }
                command = JointActuation(mode: .torque, torqueNewtonMeters: torque)
                previousTorques[joint] = torque
            case .velocity:
                var velocity = command.velocityRadiansPerSecond
                if abs(velocity) > limit.velocityLimitRadiansPerSecond {
                    velocity = velocity > 0 ? limit.velocityLimitRadiansPerSecond : -limit.velocityLimitRadiansPerSecond
                    outcome.limited = true
                }
                let envelope = endOfRangeSpeedLimit(position: position, velocity: velocity, limit: limit)
                if inward == 0 && abs(velocity) > envelope {
                    // SR-21: a velocity command toward the end of the range stays within its stopping envelope.
                    velocity = velocity > 0 ? envelope : -envelope
                    outcome.softLimited = true
                }
                if inward != 0 && velocity * inward < 0 {
                    // Outward past a soft limit: hold (velocity 0) instead.
                    velocity = 0
                    outcome.softLimited = true
                } else if inward != 0 && abs(velocity) > inwardSpeedPastSoftLimitRadiansPerSecond {
                    velocity = inward * inwardSpeedPastSoftLimitRadiansPerSecond
                    outcome.softLimited = true
                }
                command = JointActuation(mode: .velocity, velocityRadiansPerSecond: velocity)
                previousTorques[joint] = 0
            case .hold:
                // Inside the soft limits, never stiffer than the torque limit over 0.1 rad, no negative
                // gains. The device limits the torque it computes to the limits the host wrote (SR-24);
                // the slew limit goes on from the torque the joint had.
                let position = min(max(command.positionRadians, limit.softMinimumRadians), limit.softMaximumRadians)
                let stiffness = min(
                    max(0, command.stiffnessNewtonMetersPerRadian),
                    min(limit.torqueCapPositiveNewtonMeters, limit.torqueCapNegativeNewtonMeters) / 0.1)
                let damping = min(max(0, command.dampingNewtonMeterSecondsPerRadian), stiffness * 0.1)
                if position != command.positionRadians || stiffness != command.stiffnessNewtonMetersPerRadian
                    || damping != command.dampingNewtonMeterSecondsPerRadian
                {
                    outcome.limited = true
                }
                command = .hold(atRadians: position, stiffnessNewtonMetersPerRadian: stiffness, dampingNewtonMeterSecondsPerRadian: damping)
                previousTorques[joint] = min(
                    max(measuredJoint.motorTorqueNewtonMeters, -limit.torqueCapNegativeNewtonMeters), limit.torqueCapPositiveNewtonMeters)
            }
            actuation[joint] = command
        }
        return outcome
    }
}
