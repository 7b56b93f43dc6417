import Primitives

/// The last stage before encoding (SR-6): whatever any controller or mode produced, what reaches the
/// wire is finite, within the torque and speed limits, and changes torque no faster than the slew
/// limit. There is no way around it: the session encodes only what this returns.
public struct CommandClamp: Sendable {
    public struct JointLimits: Sendable, Equatable {
        public var torqueLimitNewtonMeters: Double
        public var velocityLimitRadiansPerSecond: Double

        public init(torqueLimitNewtonMeters: Double, velocityLimitRadiansPerSecond: Double) {
            self.torqueLimitNewtonMeters = torqueLimitNewtonMeters
            self.velocityLimitRadiansPerSecond = velocityLimitRadiansPerSecond
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
    }

    public let limits: JointList<JointLimits>
    public let torqueSlewPerCycleNewtonMeters: Double
    private var previousTorques: JointList<Double>

    public init(limits: JointList<JointLimits>, torqueSlewLimitNewtonMetersPerSecond: Double, periodSeconds: Double) {
        self.limits = limits
        torqueSlewPerCycleNewtonMeters = torqueSlewLimitNewtonMetersPerSecond * periodSeconds
        previousTorques = .zeros(limits.count)
    }

    /// Makes `actuation` safe to send, in place.
    public mutating func apply(to actuation: inout JointList<JointActuation>) -> Outcome {
        var outcome = Outcome()
        for joint in 0..<actuation.count {
            let command = actuation[joint]
            if !command.torqueNewtonMeters.isFinite || !command.velocityRadiansPerSecond.isFinite {
                outcome.foundNonFinite = true
            }
        }
        if outcome.foundNonFinite || actuation.count != limits.count {
            for joint in 0..<actuation.count { actuation[joint] = .off }
            for joint in 0..<previousTorques.count { previousTorques[joint] = 0 }
            outcome.foundNonFinite = true
            return outcome
        }
        for joint in 0..<actuation.count {
            var command = actuation[joint]
            let limit = limits[joint]
            switch command.mode {
            case .off:
                // Removing torque is never slew-limited: Cat 0 means now.
                command = .off
                previousTorques[joint] = 0
            case .torque:
                var torque = command.torqueNewtonMeters
                if abs(torque) > limit.torqueLimitNewtonMeters {
                    torque = torque > 0 ? limit.torqueLimitNewtonMeters : -limit.torqueLimitNewtonMeters
                    outcome.limited = true
                }
                let previous = previousTorques[joint]
                if abs(torque - previous) > torqueSlewPerCycleNewtonMeters {
                    torque = previous + (torque > previous ? torqueSlewPerCycleNewtonMeters : -torqueSlewPerCycleNewtonMeters)
                    outcome.slewLimited = true
                }
                command = JointActuation(mode: .torque, torqueNewtonMeters: torque)
                previousTorques[joint] = torque
            case .velocity:
                var velocity = command.velocityRadiansPerSecond
                if abs(velocity) > limit.velocityLimitRadiansPerSecond {
                    velocity = velocity > 0 ? limit.velocityLimitRadiansPerSecond : -limit.velocityLimitRadiansPerSecond
                    outcome.limited = true
                }
                command = JointActuation(mode: .velocity, velocityRadiansPerSecond: velocity)
                previousTorques[joint] = 0
            }
            actuation[joint] = command
        }
        return outcome
    }
}
