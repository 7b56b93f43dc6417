import DeviceModel
import Primitives

/// SR-17's sign test, run after ENABLE and before anything may move: one joint at a time gets a
/// small positive torque (a ramp to at most `torqueFraction` of its limit) and must move positive
/// by its threshold within `deadlineNanoseconds`. A reversed encoder or motor, a disconnected
/// drive or an engaged brake is found here instead of by a runaway in the exercise.
///
/// Noise-aware: a patient may already be in the robot, and a tremor or spastic twitches move the
/// joint by themselves. So each joint is first watched at zero torque for `watchNanoseconds` (250 ms:
/// a full period of the slowest pathological tremor, 4 Hz and up); the push is then judged from the
/// middle of the band the joint moved in, against a threshold of at least ¾ of that band's width
/// (1.5 times what the noise alone reaches from the middle), and it has stopped once it moves no
/// faster than twice its own fastest motion while watched.
///
/// Pure and cycle-driven: `step` is given each cycle's time and newest state and fills the command.
public struct DirectionCheck: Sendable {
    public enum Verdict: Sendable, Equatable {
        case running
        case passed
        /// The joint moved the wrong way by `radians` (< 0): encoder or motor reversed.
        case reversed(joint: Int, radians: Double)
        /// No motion of the threshold within the deadline (brake, drive, or a blocked joint).
        case noMotion(joint: Int, radians: Double)
        /// It moved the right way but did not come to a standstill within the deadline (brake or drive).
        case notStopped(joint: Int, radiansPerSecond: Double)
        /// No fresh state for `silenceCycles` cycles during the test.
        case deviceSilent(joint: Int)
        /// The device stopped itself during the test (its watchdog expired, or it left `enabled`):
        /// the commands came too late, which says nothing about the wiring.
        case deviceStopped(joint: Int)
    }

    public let torqueLimits: JointList<Double>
    public let torqueFraction: Double
    public let rampNanoseconds: Int64
    public let deadlineNanoseconds: Int64
    /// The smallest displacement that counts, without noise: 4 encoder counts, at least 0.1°.
    public let thresholdRadians: JointList<Double>
    public let watchNanoseconds: Int64
    public let standstillRadiansPerSecond: Double
    public let silenceCycles: Int
    public private(set) var verdict: Verdict = .running
    /// Displacement each joint showed when its test ended [rad].
    public private(set) var displacements: JointList<Double>
    /// How far each joint moved by itself while watched at zero torque (peak to peak) [rad], and
    /// the fastest it moved then [rad/s].
    public private(set) var noiseBands: JointList<Double>
    public private(set) var noiseSpeeds: JointList<Double>

    private var joint = 0
    private var phase = Phase.start
    private var phaseBegan = MonotonicInstant.zero
    private var startPosition = 0.0
    private var watchLowest = 0.0
    private var watchHighest = 0.0
    private var silent = 0

    private enum Phase { case start, watch, push, brake, done }

    /// `countsPerRevolution` sets the smallest detectable motion (4 counts, at least 0.1°).
    public init(
        torqueLimits: JointList<Double>, countsPerRevolution: JointList<Int>, torqueFraction: Double = 0.2,
        rampNanoseconds: Int64 = 50_000_000, deadlineNanoseconds: Int64 = 100_000_000, watchNanoseconds: Int64 = 250_000_000,
        standstillRadiansPerSecond: Double = 0.02, silenceCycles: Int = 3
    ) {
        self.watchNanoseconds = watchNanoseconds
        self.torqueLimits = torqueLimits
        self.torqueFraction = torqueFraction
        self.rampNanoseconds = rampNanoseconds
        self.deadlineNanoseconds = deadlineNanoseconds
        self.standstillRadiansPerSecond = standstillRadiansPerSecond
        self.silenceCycles = silenceCycles
        var thresholds = JointList<Double>.zeros(countsPerRevolution.count)
        for index in 0..<countsPerRevolution.count {
            thresholds[index] = max(0.1 * Units.radiansPerDegree, 4 * 2 * Double.pi / Double(max(1, countsPerRevolution[index])))
        }
        thresholdRadians = thresholds
        displacements = .zeros(torqueLimits.count)
        noiseBands = .zeros(torqueLimits.count)
        noiseSpeeds = .zeros(torqueLimits.count)
    }

    /// The displacement that counts for `joint`: the base threshold, or ¾ of the noise band when
    /// wider (the noise alone reaches ½ of the band from its middle: a margin of 1.5).
    public func effectiveThreshold(joint: Int) -> Double { max(thresholdRadians[joint], 0.75 * noiseBands[joint]) }

    /// One cycle: `fresh` when `state` arrived since the last cycle. Fills `command` for every joint.
    public mutating func step(
        at time: MonotonicInstant, state: RobotState, fresh: Bool, command: inout JointList<JointActuation>
    ) -> Verdict {
        for index in 0..<command.count { command[index] = .off }
        guard verdict == .running else { return verdict }
        silent = fresh ? 0 : silent + 1
        if silent >= silenceCycles {
            verdict = .deviceSilent(joint: joint)
            return verdict
        }
        if fresh && (state.condition.contains(.watchdogExpired) || !state.condition.contains(.enabled)) {
            verdict = .deviceStopped(joint: joint)
            return verdict
        }
        let measured = state.joints[joint]
        switch phase {
        case .start:
            guard fresh else { return verdict }
            startPosition = measured.positionRadians
            watchLowest = 0
            watchHighest = 0
            phaseBegan = time
            phase = .watch
            fallthrough
        case .watch:
            let offset = measured.positionRadians - startPosition
            watchLowest = min(watchLowest, offset)
            watchHighest = max(watchHighest, offset)
            noiseSpeeds[joint] = max(noiseSpeeds[joint], abs(measured.velocityRadiansPerSecond))
            if time.nanoseconds(since: phaseBegan) < watchNanoseconds {
                // Powered at zero torque, as the exercise will start: the limb moves as it would anyway.
                command[joint] = JointActuation(mode: .torque, torqueNewtonMeters: 0)
                return verdict
            }
            noiseBands[joint] = watchHighest - watchLowest
            startPosition += (watchLowest + watchHighest) / 2
            phaseBegan = time
            phase = .push
            fallthrough
        case .push:
            let elapsed = time.nanoseconds(since: phaseBegan)
            let moved = measured.positionRadians - startPosition
            displacements[joint] = moved
            let threshold = effectiveThreshold(joint: joint)
            if moved >= threshold {
                phase = .brake
                phaseBegan = time
            } else if moved <= -threshold {
                // Braking with the device's velocity loop would be positive feedback on a reversed
                // encoder: torque off.
                verdict = .reversed(joint: joint, radians: moved)
                return verdict
            } else if elapsed > deadlineNanoseconds {
                verdict = .noMotion(joint: joint, radians: moved)
                return verdict
            } else {
                let cap = torqueFraction * torqueLimits[joint]
                let torque = min(cap, cap * Double(elapsed) / Double(rampNanoseconds))
                command[joint] = JointActuation(mode: .torque, torqueNewtonMeters: torque)
                return verdict
            }
            fallthrough
        case .brake:
            displacements[joint] = measured.positionRadians - startPosition
            // Stopped: back to standstill, or to the joint's own motion while it was watched (with a margin).
            let stopped = abs(measured.velocityRadiansPerSecond) < max(standstillRadiansPerSecond, 2 * noiseSpeeds[joint])
            if !stopped && time.nanoseconds(since: phaseBegan) > deadlineNanoseconds {
                verdict = .notStopped(joint: joint, radiansPerSecond: measured.velocityRadiansPerSecond)
                return verdict
            }
            if stopped {
                joint += 1
                if joint == torqueLimits.count {
                    phase = .done
                    verdict = .passed
                } else {
                    phase = .start
                }
                return verdict
            }
            command[joint] = JointActuation(mode: .velocity, velocityRadiansPerSecond: 0)
        case .done:
            break
        }
        return verdict
    }
}
