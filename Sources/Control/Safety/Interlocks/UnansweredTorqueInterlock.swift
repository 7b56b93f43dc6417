import DeviceModel
import Primitives

/// SR-10 (R1): torque that the position does not answer. A frozen encoder makes every position
/// controller push harder against a joint that "does not move", while the real joint accelerates:
/// in the review's fault campaign the firmware's own over-speed cut was the first to act, 27–34 ms
/// after the freeze. This is a model check on the device's own report: while a joint's encoder
/// count stays bit-identical, the torque it applies beyond what it applied when the count last
/// changed (so a static load such as gravity or a patient's steady hold is not counted) less twice
/// the joint's Coulomb friction — and, when the joint held no load then (its torque within twice the
/// friction), never more than the torque itself beyond Coulomb friction — less the change the joint's
/// torque sensor attributes to the patient, must accelerate the joint's inertia. Integrated twice, that is a displacement the
/// encoder must show: once it exceeds `countsExpected` counts with none seen → Cat 1
/// (`motion_not_answering`), typically within 5–10 ms of the runaway starting.
///
/// Only joints with a torque sensor are checked: without one, a patient holding the joint against
/// the robot is indistinguishable from a frozen encoder (SR-10's 200 ms frozen-count check still
/// applies to them). Allocation-free.
///
/// The torque a state reports is taken as applied from that state on (over the interval up to the next
/// state), not back to the one before: a device's state can catch a torque that lasted a fraction of a
/// millisecond. Seen at 500 Hz over a PTY: a host command 0.17 ms past two periods put the firmware
/// in its local hold (no torque around the frozen target) for 0.17 ms; the state sampled then said
/// 0 N·m where 0.151 N·m had held a patient's push for seconds, and counted over the 4 ms since the
/// previous state (one reply had been missed) that implied 14.8 counts: a false Cat 1. A real runaway
/// is counted one state later (1 ms at 1 kHz).
///
/// A joint that was still moving at the count's last change is braked by a torque that is no load
/// and fades once it has stopped (seen in a healthy 500 Hz soak: −0.084 N·m at 0.038 rad/s, then
/// −0.023 N·m 6 ms later and held; a +0.009 N·m much later counted as 0.013 N·m beyond the band
/// around the braking torque: a false Cat 1). So when the torque and friction it reported could stop
/// it within two counts, the reference follows the torque down to its smallest magnitude for
/// `settlingLimitNanoseconds`. A torque growing away from the reference is counted as before; only
/// a held load falling away at the very moment a braked joint's encoder freezes is seen up to that
/// much later (and by SR-10's frozen-count check regardless).
public struct UnansweredTorqueInterlock: Sendable {
    public struct Joint: Sendable, Equatable {
        public var inertiaKilogramSquareMeters: Double
        public var coulombFrictionNewtonMeters: Double
        public var countsPerRevolution: Int
        public var hasTorqueSensor: Bool

        public init(inertiaKilogramSquareMeters: Double, coulombFrictionNewtonMeters: Double, countsPerRevolution: Int, hasTorqueSensor: Bool) {
            self.inertiaKilogramSquareMeters = inertiaKilogramSquareMeters
            self.coulombFrictionNewtonMeters = coulombFrictionNewtonMeters
            self.countsPerRevolution = countsPerRevolution
            self.hasTorqueSensor = hasTorqueSensor
        }
    }

    /// The displacement, in encoder counts, that the unanswered torque must have produced.
    public static let countsExpected = 10.0
    /// How long after a braked joint's last count change the reference may still settle.
    public static let settlingLimitNanoseconds: Int64 = 10_000_000
    public let joints: JointList<Joint>
    private var lastCounts: JointList<Int64>
    /// The motor and interaction torque when the count last changed [N·m].
    private var referenceMotorTorques: JointList<Double>
    private var referenceInteractionTorques: JointList<Double>
    /// The motor and interaction torque of the previous state: what was applied up to this one [N·m].
    private var appliedMotorTorques: JointList<Double>
    private var appliedInteractionTorques: JointList<Double>
    /// The motion the unanswered torque implies since then: speed [rad/s] and displacement [rad].
    private var impliedSpeeds: JointList<Double>
    private var impliedDisplacements: JointList<Double>
    /// Device time of the count's last change, and whether the joint could stop there (reference settling).
    private var countChangedAt: JointList<Int64>
    private var settles: JointList<Bool>
    private var lastDeviceTime: Int64 = 0
    private var started = false

    public init(joints: JointList<Joint>) {
        self.joints = joints
        lastCounts = JointList(count: joints.count, repeating: 0)
        referenceMotorTorques = .zeros(joints.count)
        referenceInteractionTorques = .zeros(joints.count)
        appliedMotorTorques = .zeros(joints.count)
        appliedInteractionTorques = .zeros(joints.count)
        impliedSpeeds = .zeros(joints.count)
        impliedDisplacements = .zeros(joints.count)
        countChangedAt = JointList(count: joints.count, repeating: 0)
        settles = JointList(count: joints.count, repeating: false)
    }

    /// Call with every fresh state (its device time gives the elapsed time).
    public mutating func evaluate(_ state: RobotState) -> SafetyTrip? {
        guard state.joints.count == joints.count else { return nil }
        defer {
            lastDeviceTime = state.deviceTimeNanoseconds
            started = true
        }
        guard started else {
            for joint in 0..<joints.count { restart(joint, state.joints[joint], at: state.deviceTimeNanoseconds) }
            return nil
        }
        let elapsed = min(0.05, Double(max(0, state.deviceTimeNanoseconds - lastDeviceTime)) * 1e-9)
        var worst: SafetyTrip?
        for joint in 0..<joints.count {
            let parameters = joints[joint]
            let measured = state.joints[joint]
            guard parameters.hasTorqueSensor, parameters.inertiaKilogramSquareMeters > 0, measured.encoderCounts == lastCounts[joint]
            else {
                restart(joint, measured, at: state.deviceTimeNanoseconds)
                continue
            }
            // What acted over the interval that just ended: the previous state's torques.
            let appliedMotor = appliedMotorTorques[joint]
            let appliedInteraction = appliedInteractionTorques[joint]
            appliedMotorTorques[joint] = measured.motorTorqueNewtonMeters
            appliedInteractionTorques[joint] = measured.interactionTorqueNewtonMeters
            if settles[joint], state.deviceTimeNanoseconds - countChangedAt[joint] <= Self.settlingLimitNanoseconds,
                abs(measured.motorTorqueNewtonMeters) < abs(referenceMotorTorques[joint])
            {
                referenceMotorTorques[joint] = measured.motorTorqueNewtonMeters
                referenceInteractionTorques[joint] = measured.interactionTorqueNewtonMeters
            }
            let motorChange = appliedMotor - referenceMotorTorques[joint]
            let patientChange = abs(appliedInteraction - referenceInteractionTorques[joint])
            // Two bounds on the torque that must be accelerating the joint, the smaller counts: the change
            // since the count last moved beyond the whole static-friction band (a steady load is not
            // counted), and the torque itself beyond static friction (a joint that came to rest under a
            // braking torque and is now pushed the other way, still inside friction, is held by it: the
            // change alone called that a runaway after a FAIR hold resumed, 190 ms in, in a healthy session).
            // The second bound only where the reference itself was no load (within twice the friction):
            // against a held load (a limb's weight, a patient's steady push) the load is what moves the
            // joint when the torque falls, and the change is the right measure whatever the torque's sign.
            // The torque itself is the net torque on the joint, the patient's included: a state taken in the
            // firmware's sub-millisecond local hold (0 N·m) at the very count change made the reference "no
            // load", and the torque back at 0.133 N·m against the patient's steady −0.129 N·m counted as a
            // runaway (mirror at 500 Hz over a PTY: 11.6 counts, a false Cat 1, at the swing's end).
            let changeBound = abs(motorChange) - 2 * parameters.coulombFrictionNewtonMeters
            let heldNoLoad = abs(referenceMotorTorques[joint]) <= 2 * parameters.coulombFrictionNewtonMeters
            let netTorque = appliedMotor + appliedInteraction
            let unanswered = heldNoLoad
                ? min(changeBound - patientChange, abs(netTorque) - parameters.coulombFrictionNewtonMeters)
                : changeBound - patientChange
            guard unanswered > 0 else {
                // Within friction and the patient's share: no motion is implied; let what was implied decay.
                impliedSpeeds[joint] = 0
                continue
            }
            impliedSpeeds[joint] += unanswered / parameters.inertiaKilogramSquareMeters * elapsed
            impliedDisplacements[joint] += impliedSpeeds[joint] * elapsed
            let radiansPerCount = 2 * Double.pi / Double(parameters.countsPerRevolution)
            let counts = impliedDisplacements[joint] / radiansPerCount
            if counts > Self.countsExpected {
                worst = SafetyTrip.moreSevere(worst, SafetyTrip(category: .cat1, cause: .motionNotAnswering, value: counts, joint: joint))
            }
        }
        return worst
    }

    private mutating func restart(_ joint: Int, _ measured: JointMeasurement, at deviceTime: Int64) {
        let parameters = joints[joint]
        let speed = abs(measured.velocityRadiansPerSecond)
        let twoCounts = 2 * 2 * Double.pi / Double(max(1, parameters.countsPerRevolution))
        // v² / 2d: the deceleration that stops it within two counts, against what torque and friction give.
        let decelerationAvailable = (abs(measured.motorTorqueNewtonMeters) + parameters.coulombFrictionNewtonMeters)
            / parameters.inertiaKilogramSquareMeters
        settles[joint] = speed > 0 && speed * speed / (2 * twoCounts) <= decelerationAvailable
        countChangedAt[joint] = deviceTime
        lastCounts[joint] = measured.encoderCounts
        referenceMotorTorques[joint] = measured.motorTorqueNewtonMeters
        referenceInteractionTorques[joint] = measured.interactionTorqueNewtonMeters
        appliedMotorTorques[joint] = measured.motorTorqueNewtonMeters
        appliedInteractionTorques[joint] = measured.interactionTorqueNewtonMeters
        impliedSpeeds[joint] = 0
        impliedDisplacements[joint] = 0
    }
}
