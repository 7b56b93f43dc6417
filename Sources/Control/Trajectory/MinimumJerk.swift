import DeviceModel
/// The minimum-jerk point-to-point profile (Flash & Hogan, 1985): the smoothest motion between two
/// positions at rest, and the way human reaching movements look.
///
/// s(τ) = 10τ³ − 15τ⁴ + 6τ⁵ with τ = t/T; position q = q₀ + (q₁ − q₀)·s.
/// Peak velocity 1.875·Δq/T at τ = ½, peak acceleration 5.774·Δq/T².
public struct MinimumJerk: Sendable, Equatable {
    public var startRadians: Double
    public var endRadians: Double
    public var durationSeconds: Double

    public init(from start: Double, to end: Double, durationSeconds: Double) {
        precondition(durationSeconds > 0, "a minimum-jerk segment needs a positive duration")
        startRadians = start
        endRadians = end
        self.durationSeconds = durationSeconds
    }

    /// Position [rad], velocity [rad/s] and acceleration [rad/s²] at `t` seconds from the start,
    /// held at the ends outside 0…T.
    public func sample(at t: Double) -> (position: Double, velocity: Double, acceleration: Double) {
        let span = endRadians - startRadians
        if t <= 0 { return (startRadians, 0, 0) }
        if t >= durationSeconds { return (endRadians, 0, 0) }
        let tau = t / durationSeconds
        let tau2 = tau * tau
        let tau3 = tau2 * tau
        let s = tau3 * (10 - 15 * tau + 6 * tau2)
        let ds = 30 * tau2 * (1 - 2 * tau + tau2)
        let dds = 60 * tau * (1 - 3 * tau + 2 * tau2)
        return (
            startRadians + span * s, span * ds / durationSeconds, span * dds / (durationSeconds * durationSeconds)
        )
    }

    /// The largest speed along the segment [rad/s].
    public var peakVelocityRadiansPerSecond: Double { 1.875 * abs(endRadians - startRadians) / durationSeconds }
}
