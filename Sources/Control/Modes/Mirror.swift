import DeviceModel
import Primitives

/// Mirror mode: the exercised joint follows a reference taken from another source (the patient's
/// unaffected limb in a second device, or a tracker), mapped by `scale` and `offsetRadians`,
/// kept inside the exercise's range and limited in speed and acceleration. The reference gates
/// motion like a tracker (SR-15): stale, frozen, hidden or inaccurate → Cat 1.
public struct Mirror: Sendable, Equatable {
    /// −1: the mirror image (flexion on one side is extension on the other); +1: the same motion.
    public var scale: Double
    public var offsetRadians: Double
    /// The fastest the target may move toward the reference [rad/s]: a jump in the reference
    /// becomes a ramp, never a step.
    public var maximumSpeedRadiansPerSecond: Double
    /// The fastest the target's speed may change [rad/s²]: the ramp itself starts and ends
    /// smoothly. A speed limit alone let the target's velocity step from 0 to full speed in one
    /// cycle, and the impedance loop answered such a step with a joint speed overshoot nearly to
    /// SR-8's Cat 0 trip (review R3: 2.17 rad/s against 2.25).
    public var maximumAccelerationRadiansPerSecondSquared: Double
    /// SR-15's accuracy limit for the source's own fit error [mm].
    public var maximumRmsErrorMillimeters: Double

    /// Without an acceleration of its own the target reaches full speed in this time [s], no
    /// sooner: gentle for a patient's limb, and still well above what a limb moving in a
    /// therapy swing asks for (a 2 s minimum-jerk swing over 50° peaks at about 1.3 rad/s²).
    public static let defaultSecondsToFullSpeed = 0.25

    /// `maximumAccelerationRadiansPerSecondSquared` nil: full speed in `defaultSecondsToFullSpeed`
    /// (derived here, once: changing the speed later does not change it).
    public init(scale: Double, offsetRadians: Double, maximumSpeedRadiansPerSecond: Double, maximumRmsErrorMillimeters: Double,
                maximumAccelerationRadiansPerSecondSquared: Double? = nil) {
        self.scale = scale
        self.offsetRadians = offsetRadians
        self.maximumSpeedRadiansPerSecond = maximumSpeedRadiansPerSecond
        self.maximumAccelerationRadiansPerSecondSquared =
            maximumAccelerationRadiansPerSecondSquared ?? maximumSpeedRadiansPerSecond / Self.defaultSecondsToFullSpeed
        self.maximumRmsErrorMillimeters = maximumRmsErrorMillimeters
    }

    /// Where the exercised joint should be for a reference at `referenceRadians`.
    public func mapped(_ referenceRadians: Double) -> Double { scale * referenceRadians + offsetRadians }

    /// The reference position that maps to `targetRadians` (what a simulated unaffected limb does
    /// when it follows the exercise's cue).
    public func referencePosition(forTarget targetRadians: Double) -> Double { (targetRadians - offsetRadians) / scale }
}

/// The mirror target, cycle by cycle: the mapped reference extrapolated over its age (at most two
/// frames) so that a 100 Hz source gives a smooth 1 kHz target, clamped into the range and moved
/// toward at no more than the mode's speed and acceleration. Pure: time and samples are given.
///
/// It tracks like a time-optimal controller with bounded acceleration: the target moves at the
/// reference's own speed (while that is extrapolated and inside the range) plus a closing speed
/// from which it can still stop exactly on the reference — the discrete form of √(2·a·distance)
/// — and never faster toward an end of the range than it can stop there (SR-21's rule). Then
/// |speed| ≤ the mode's speed and |Δspeed| ≤ acceleration · period in every cycle; a jump in the
/// reference becomes an accelerate, cruise, brake ramp that ends on the reference.
public struct MirrorFollower: Sendable {
    public let mirror: Mirror
    public private(set) var positionRadians: Double
    public private(set) var velocityRadiansPerSecond = 0.0
    private var lastCounter: UInt32?
    private var lastMapped = 0.0
    private var referenceVelocity = 0.0

    /// Starts at the joint's measured position: the target moves from there, not from the reference.
    public init(mirror: Mirror, startPositionRadians: Double) {
        self.mirror = mirror
        positionRadians = startPositionRadians
    }

    /// Restarts from `positionRadians` (a resume after a pause), keeping what it learnt of the source.
    public mutating func restart(atRadians positionRadians: Double) {
        self.positionRadians = positionRadians
        velocityRadiansPerSecond = 0
    }

    /// One cycle: moves the target toward `sample` (a hidden or missing sample holds it).
    public mutating func follow(_ sample: TrackerSample, now: MonotonicInstant, range: ClosedRange<Double>, periodSeconds: Double) {
        guard sample.samplesReceived > 0, sample.toolVisible, sample.positionRadians.isFinite else {
            // Held, not braked: SR-15 stops the robot (Cat 1, at the profile's rate) whenever this
            // happens while mirror drives the joint, so the target's own speed no longer matters.
            velocityRadiansPerSecond = 0
            return
        }
        let mapped = mirror.mapped(sample.positionRadians)
        let framePeriodSeconds = Double(sample.framePeriodNanoseconds) * 1e-9
        if sample.frameCounter != lastCounter {
            if let last = lastCounter {
                let frames = Int32(bitPattern: sample.frameCounter &- last)
                if frames > 0 {
                    let raw = (mapped - lastMapped) / max(Double(frames) * framePeriodSeconds, 1e-4)
                    // Light smoothing: a tracker's quantisation noise must not become a velocity target.
                    referenceVelocity += 0.5 * (raw - referenceVelocity)
                    if !referenceVelocity.isFinite { referenceVelocity = 0 }
                } else {
                    // The counter went back: a new stream (the source restarted); its speed is not known yet.
                    referenceVelocity = 0
                }
            }
            lastCounter = sample.frameCounter
            lastMapped = mapped
        }
        let ageSeconds = max(0, Double(now.nanoseconds(since: sample.receivedAt) + sample.sourceLatencyNanoseconds) * 1e-9)
        let extrapolated = mapped + referenceVelocity * min(ageSeconds, 2 * framePeriodSeconds)
        let desired = min(max(extrapolated, range.lowerBound), range.upperBound)
        let speed = mirror.maximumSpeedRadiansPerSecond
        // The desired target's own speed: the reference's while it is extrapolated and inside the
        // range; past two frames, or clamped at an end, it stands.
        let extrapolating = ageSeconds < 2 * framePeriodSeconds && range.contains(extrapolated)
        let feedForward = extrapolating ? min(max(referenceVelocity, -speed), speed) : 0
        let acceleration = max(0, mirror.maximumAccelerationRadiansPerSecondSquared)
        let error = desired - positionRadians
        let closing = Self.stoppingSpeed(withinRadians: abs(error), acceleration: acceleration, periodSeconds: periodSeconds)
        var velocity = feedForward + (error < 0 ? -closing : closing)
        // Never faster toward an end of the range than allows stopping on it (and nothing outward once past it).
        let towardUpper = Self.stoppingSpeed(
            withinRadians: max(0, range.upperBound - positionRadians), acceleration: acceleration, periodSeconds: periodSeconds)
        let towardLower = Self.stoppingSpeed(
            withinRadians: max(0, positionRadians - range.lowerBound), acceleration: acceleration, periodSeconds: periodSeconds)
        velocity = min(max(velocity, -towardLower), towardUpper)
        velocity = min(max(velocity, -speed), speed)
        // Last, so that it always holds: the speed changes by at most a·dt per cycle. The braking
        // speeds above are exact for this discrete ramp, so it never has to override them.
        let largestChange = acceleration * periodSeconds
        velocity = min(max(velocity, velocityRadiansPerSecond - largestChange), velocityRadiansPerSecond + largestChange)
        positionRadians += velocity * periodSeconds
        velocityRadiansPerSecond = velocity
    }

    /// The highest speed [rad/s] from which a target that moves `speed · period` per cycle, and
    /// slows by at most `acceleration · period` per cycle, stops within `distance` without passing
    /// it: √(2·a·d) in continuous time, made exact for the discrete ramp (k full braking steps,
    /// then the remainder spread over them), so that braking from it ends exactly on the point.
    static func stoppingSpeed(withinRadians distance: Double, acceleration: Double, periodSeconds: Double) -> Double {
        let step = acceleration * periodSeconds * periodSeconds  // what one a·dt of speed covers in one cycle
        guard distance > 0, step > 0, periodSeconds > 0 else { return 0 }
        // Infinitely far (an open range) or no limit at all: nothing to brake for.
        guard distance.isFinite, step.isFinite else { return .infinity }
        // k full steps cover step · k(k+1)/2: the largest k that fits. The square root is off by
        // at most one step at the sizes that occur; each correction runs once, never loops.
        var steps = (((1 + 8 * distance / step).squareRoot() - 1) / 2).rounded(.down)
        if step * (steps + 1) * (steps + 2) / 2 <= distance { steps += 1 }
        if steps > 0 && step * steps * (steps + 1) / 2 > distance { steps -= 1 }
        let remainder = max(0, distance - step * steps * (steps + 1) / 2)
        return steps * acceleration * periodSeconds + remainder / ((steps + 1) * periodSeconds)
    }
}
