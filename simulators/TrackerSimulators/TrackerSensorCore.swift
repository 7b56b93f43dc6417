import Primitives
import SimulatorKit
import Wire

/// What one sample of a simulated tracker measures, before any protocol's encoding: the model of
/// `TrackerSimulatorConfiguration`'s documentation, evaluated at one instant.
struct TrackerReading {
    /// The sensor frame's true orientation in the world frame (ENU, z up).
    var trueOrientation: TrackerQuaternion
    /// What the sensor's orientation filter reports: the true orientation turned by the heading drift about the
    /// world's vertical, with orientation noise.
    var reportedOrientation: TrackerQuaternion
    /// The heading drift alone, the part of `reportedOrientation` that is not noise [rad].
    var headingDriftRadians: Double
    /// Angular velocity in the sensor frame, with noise [rad/s].
    var rateOfTurnRadiansPerSecond: TrackerVector3
    /// Specific force (the accelerometer's reading: gravity included, +g on the axis pointing up at rest) in the
    /// sensor frame, with noise [m/s²].
    var accelerationMetersPerSecondSquared: TrackerVector3
}

/// What both simulated trackers share: the limb and the sensor model, the seeded noise, the injected heading drift,
/// freeze and clipping, the transmit line, the host's line rate (and the garbage a wrong one makes), the event log.
/// Each firmware (`SimulatedBNO08xRVC`, `SimulatedXsensIMU`) owns one and adds its protocol. Allocation-free after
/// `init`.
final class TrackerSensorCore {
    let configuration: TrackerSimulatorConfiguration
    var motion: TrackerLimbMotion
    let line: TrackerLine
    let events = TrackerEventLog()
    let bootTime: MonotonicInstant
    /// Standard gravity, the magnitude of the specific force at rest [m/s²] (the same constant both codecs use).
    static let gravityMetersPerSecondSquared = BNO08xRVC.standardGravityMetersPerSecondSquared

    private let axis: TrackerVector3
    private var noise: TrackerRandom
    private var garbage: TrackerRandom
    /// The rate the host set on its end of the line [bit/s]; nil until told (an in-process link never tells: the host
    /// is then taken to be at the sensor's rate).
    private(set) var hostLineRateBitsPerSecond: Int?
    /// Injections in force (faults may overlap: each ends its own).
    private(set) var freezeCount = 0
    private(set) var clippingCount = 0
    private var injectedDriftRadiansPerSecond = 0.0
    private var injectedDriftRadiansAtChange = 0.0
    private var injectedDriftChangedAt: MonotonicInstant

    init(configuration: TrackerSimulatorConfiguration, motion: TrackerLimbMotion, bootTime: MonotonicInstant) {
        let problems = configuration.problems + motion.problems
        precondition(problems.isEmpty, "invalid simulated tracker: \(problems.joined(separator: "; "))")
        self.configuration = configuration
        self.motion = motion
        self.bootTime = bootTime
        line = TrackerLine(baudRateBitsPerSecond: configuration.baudRateBitsPerSecond, freeAt: bootTime)
        axis = configuration.mounting.axis.unitVector
        // Two streams from one seed: the garbage a wrong baud rate makes must not shift the sensor's noise.
        noise = TrackerRandom(seed: configuration.seed)
        garbage = TrackerRandom(seed: configuration.seed ^ 0xBAD0_BAD0_BAD0_BAD0)
        injectedDriftChangedAt = bootTime
        // Sample the limb once here: whatever copy-on-write its storage needs happens now, not in the first cycle.
        _ = self.motion.state(at: bootTime)
    }

    // MARK: The host's line

    /// The host set its end of the line to `bitsPerSecond` (0: unknown, taken as the sensor's rate).
    func hostLineRateChanged(bitsPerSecond: Int) {
        hostLineRateBitsPerSecond = bitsPerSecond > 0 ? bitsPerSecond : nil
    }

    /// True when the host's UART and the sensor's agree within the tolerance: each understands the other's bytes.
    var hostUnderstands: Bool {
        guard let host = hostLineRateBitsPerSecond else { return true }
        let sensor = Double(configuration.baudRateBitsPerSecond)
        return abs(Double(host) - sensor) <= configuration.baudRateToleranceFraction * sensor
    }

    /// Moves the bytes readable at `now` into `buffer`. At a wrong host rate every byte is replaced by one from the
    /// garbage stream: a UART sampling at the wrong rate assembles bytes from the wrong bits (framing errors, noise),
    /// and no frame survives that. Deterministic for the seed.
    func popOutput(into buffer: UnsafeMutableRawBufferPointer, at now: MonotonicInstant) -> Int {
        let count = line.pop(into: buffer, at: now)
        if count > 0 && !hostUnderstands {
            for index in 0..<count { buffer[index] = UInt8(truncatingIfNeeded: garbage.next() >> 32) }
        }
        return count
    }

    // MARK: Faults

    /// Starts `fault` at `time` (the shared part of both firmwares' `beginInjectedFault`); a reset cuts the line and
    /// then calls `powerUp`, the firmware's own restart.
    func begin(_ fault: TrackerSimulatorFault, at time: MonotonicInstant, powerUp: (MonotonicInstant) -> Void) {
        switch fault {
        case .freeze: beginFreeze()
        case .drift(let rate): changeInjectedDrift(by: rate, at: time)
        case .reset:
            line.cut(at: time)
            powerUp(time)
        case .clipping: beginClipping()
        }
    }

    /// Ends `fault` at `time` (a reset has nothing to end).
    func end(_ fault: TrackerSimulatorFault, at time: MonotonicInstant) {
        switch fault {
        case .freeze: endFreeze()
        case .drift(let rate): changeInjectedDrift(by: -rate, at: time)
        case .clipping: endClipping()
        case .reset: break
        }
    }

    var isFrozen: Bool { freezeCount > 0 }
    var isClipping: Bool { clippingCount > 0 }

    func beginFreeze() { freezeCount += 1 }
    func endFreeze() { freezeCount = max(0, freezeCount - 1) }
    func beginClipping() { clippingCount += 1 }
    func endClipping() { clippingCount = max(0, clippingCount - 1) }

    /// The injected heading ramp changes by `radiansPerSecond` at `time`; what it built so far stays.
    func changeInjectedDrift(by radiansPerSecond: Double, at time: MonotonicInstant) {
        injectedDriftRadiansAtChange = injectedDriftRadians(at: time)
        injectedDriftChangedAt = time
        injectedDriftRadiansPerSecond += radiansPerSecond
    }

    private func injectedDriftRadians(at time: MonotonicInstant) -> Double {
        injectedDriftRadiansAtChange + injectedDriftRadiansPerSecond * time.seconds(since: injectedDriftChangedAt)
    }

    /// The reported heading's total drift at `time`: the configured rate since boot plus the injected ramps [rad].
    func headingDriftRadians(at time: MonotonicInstant) -> Double {
        configuration.headingDriftRadiansPerSecond * time.seconds(since: bootTime) + injectedDriftRadians(at: time)
    }

    // MARK: The sensor model

    /// What the sensor measures at `time`. Draws the same nine noise values every call (orientation, rate of turn,
    /// acceleration, three each), so that the noise of a sample depends only on the seed and the sample's rank.
    func reading(at time: MonotonicInstant) -> TrackerReading {
        let mounting = configuration.mounting
        let sigma = configuration.noise
        let limb = motion.state(at: time)
        let angle = mounting.sign * limb.angleRadians + mounting.offsetRadians
        let trueOrientation = mounting.baseOrientation * TrackerQuaternion(axis: axis, angleRadians: angle)

        let drift = headingDriftRadians(at: time)
        let tilt = TrackerVector3(
            x: noise.gaussian(sigma: sigma.orientationRadians), y: noise.gaussian(sigma: sigma.orientationRadians),
            z: noise.gaussian(sigma: sigma.orientationRadians))
        // Drift turns about the world's vertical (left), noise about the sensor's own axes (right).
        let reported = TrackerQuaternion(axis: TrackerVector3(x: 0, y: 0, z: 1), angleRadians: drift) * trueOrientation
            * TrackerQuaternion(axis: tilt, angleRadians: tilt.length)

        let angularVelocity = mounting.sign * limb.velocityRadiansPerSecond
        let gyroNoise = TrackerVector3(
            x: noise.gaussian(sigma: sigma.rateOfTurnRadiansPerSecond), y: noise.gaussian(sigma: sigma.rateOfTurnRadiansPerSecond),
            z: noise.gaussian(sigma: sigma.rateOfTurnRadiansPerSecond))
        let rateOfTurn = angularVelocity * axis + gyroNoise

        // A rigid rotation about a fixed axis a through the joint: the sensor at r (sensor frame) accelerates by
        // α (a × r) + ω² a × (a × r); the accelerometer adds the reaction to gravity, +g up, turned into the sensor frame.
        let leverArm = mounting.leverArmMeters
        let tangentialDirection = TrackerVector3.cross(axis, leverArm)
        let motionAcceleration = (mounting.sign * limb.accelerationRadiansPerSecondSquared) * tangentialDirection
            + (angularVelocity * angularVelocity) * TrackerVector3.cross(axis, tangentialDirection)
        let up = trueOrientation.conjugate.rotate(TrackerVector3(x: 0, y: 0, z: Self.gravityMetersPerSecondSquared))
        let accelerometerNoise = TrackerVector3(
            x: noise.gaussian(sigma: sigma.accelerationMetersPerSecondSquared),
            y: noise.gaussian(sigma: sigma.accelerationMetersPerSecondSquared),
            z: noise.gaussian(sigma: sigma.accelerationMetersPerSecondSquared))
        return TrackerReading(
            trueOrientation: trueOrientation, reportedOrientation: reported.normalized, headingDriftRadians: drift,
            rateOfTurnRadiansPerSecond: rateOfTurn, accelerationMetersPerSecondSquared: up + motionAcceleration + accelerometerNoise)
    }

    /// The reported orientation at `time` without noise (the true one turned by the heading drift), drawing nothing
    /// from the noise stream: what a BNO08x takes as its heading's zero at power-up.
    func noiselessReportedOrientation(at time: MonotonicInstant) -> TrackerQuaternion {
        let mounting = configuration.mounting
        let limb = motion.state(at: time)
        let angle = mounting.sign * limb.angleRadians + mounting.offsetRadians
        let trueOrientation = mounting.baseOrientation * TrackerQuaternion(axis: axis, angleRadians: angle)
        return TrackerQuaternion(axis: TrackerVector3(x: 0, y: 0, z: 1), angleRadians: headingDriftRadians(at: time)) * trueOrientation
    }

    // MARK: Events

    func recordInjection(_ name: String, began: Bool, at time: MonotonicInstant) {
        events.record(time, began ? "fault_injected" : "fault_injection_ended", detail: name)
    }
}
