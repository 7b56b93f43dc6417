import Wire

/// What a simulated tracking sensor is and how it sits on the limb: one description for both simulated sensors,
/// the Xsens MTi (`SimulatedXsensIMU`, protocols/xsens/README.md) and the BNO08x in UART-RVC mode
/// (`SimulatedBNO08xRVC`, protocols/bno08x-rvc/README.md). Fields a sensor has no use for are ignored by it (a BNO08x
/// has no device ID on the wire and no gyro output). SI units throughout, with the unit in each name.
///
/// The sensor model, sample by sample at time t (`TrackerSensorModel`):
///
/// ```
/// φ(t)        = sign · limb(t) + offset                               the rotation about the mounting axis a
/// q_true(t)   = base ⊗ rot(a, φ(t))                                   sensor frame → world frame (ENU, z up)
/// q_out(t)    = rot(z_world, drift(t)) ⊗ q_true(t) ⊗ rot(n(t))        what the sensor reports: heading drift, noise
/// ω(t)        = sign · limb'(t) · a + noise                           rate of turn, sensor frame [rad/s]
/// f(t)        = q_true* ⊗ (0, 0, g) ⊗ q_true + sign·limb''·(a × r) + limb'²·(a × (a × r)) + noise
///                                                                     specific force, sensor frame [m/s²]
/// ```
/// `base` is the sensor's orientation when the limb is at 0, `r` the sensor's position relative to the joint's axis
/// (in the sensor frame: a sensor on the axis feels gravity only), g = 9.80665 m/s². The heading drift is the
/// orientation filter's error: it turns the reported orientation about the world's vertical and leaves the rate of
/// turn and the specific force true.
public struct TrackerSimulatorConfiguration: Sendable, Equatable {
    /// Which sensor, and so which protocol, is simulated.
    public enum Sensor: String, Sendable, Equatable, CaseIterable {
        /// An Xsens MTi (1/10/100/600-series) speaking Xbus with MTData2 output.
        case xsensMTi = "xsens-xbus"
        /// A CEVA (Hillcrest) BNO080/BNO085/BNO086 strapped for UART-RVC.
        case bno08xRVC = "bno08x-rvc"
    }

    /// An axis of the sensor's own frame.
    public enum Axis: String, Sendable, Equatable, CaseIterable {
        case x
        case y
        case z

        /// The axis as a unit vector of the sensor frame.
        public var unitVector: TrackerVector3 {
            switch self {
            case .x: TrackerVector3(x: 1, y: 0, z: 0)
            case .y: TrackerVector3(x: 0, y: 1, z: 0)
            case .z: TrackerVector3(x: 0, y: 0, z: 1)
            }
        }
    }

    /// How the sensor sits on the limb: the limb's angle turns the sensor about one of its own axes.
    public struct Mounting: Sendable, Equatable {
        /// The sensor axis about which the limb's angle turns the sensor (the joint's axis, seen from the sensor).
        public var axis: Axis
        /// +1 when a positive limb angle is a right-handed rotation about `axis`, −1 when it is the opposite.
        public var sign: Double
        /// The rotation about `axis` when the limb is at 0, on top of `baseOrientation` [rad]: the angle about the
        /// axis is `sign · limb + offsetRadians` (as a profile's joint = direction · (sensor − zero) inverts).
        public var offsetRadians: Double
        /// The sensor's orientation in the world frame (ENU, z up) when the limb is at 0 and the offset is 0.
        public var baseOrientation: TrackerQuaternion
        /// Where the sensor is relative to the joint's axis, in the sensor frame [m]: its tangential and centripetal
        /// acceleration add to gravity. Zero: the sensor sits on the axis and feels gravity only.
        public var leverArmMeters: TrackerVector3

        public init(
            axis: Axis = .z, sign: Double = 1, offsetRadians: Double = 0, baseOrientation: TrackerQuaternion = .identity,
            leverArmMeters: TrackerVector3 = .zero
        ) {
            self.axis = axis
            self.sign = sign
            self.offsetRadians = offsetRadians
            self.baseOrientation = baseOrientation
            self.leverArmMeters = leverArmMeters
        }
    }

    /// White noise on every output, one standard deviation each, drawn from the seeded generator.
    public struct Noise: Sendable, Equatable {
        /// Per axis of a small random rotation applied to the reported orientation [rad].
        public var orientationRadians: Double
        /// Per axis of the rate of turn [rad/s] (Xsens RateOfTurn; the BNO08x has no gyro output).
        public var rateOfTurnRadiansPerSecond: Double
        /// Per axis of the acceleration [m/s²].
        public var accelerationMetersPerSecondSquared: Double

        public init(orientationRadians: Double, rateOfTurnRadiansPerSecond: Double, accelerationMetersPerSecondSquared: Double) {
            self.orientationRadians = orientationRadians
            self.rateOfTurnRadiansPerSecond = rateOfTurnRadiansPerSecond
            self.accelerationMetersPerSecondSquared = accelerationMetersPerSecondSquared
        }

        /// No noise at all (exact values, up to the wire's resolution).
        public static let none = Noise(orientationRadians: 0, rateOfTurnRadiansPerSecond: 0, accelerationMetersPerSecondSquared: 0)
    }

    public var sensor: Sensor
    /// The model: for an Xsens MTi its product code, sent in ProductCode (≤ 20 printable ASCII characters); for a
    /// BNO08x only a name for messages and link names (nothing on the wire says it).
    public var model: String
    /// The serial number `FirmwareSimulator.serialNumber` reports, for messages. For an MTi the presets make it the
    /// device ID in 8 hex digits, as a host reports it (protocols/xsens/README.md §5.1).
    public var serialNumber: String
    /// The MTi's DeviceID (README §3.3); unused by a BNO08x.
    public var deviceID: UInt32
    /// The MTi's FirmwareRev (README §3.5); unused by a BNO08x.
    public var firmwareRevision: Xsens.FirmwareRevision
    /// The output rate [Hz]: the BNO08x's fixed 100 Hz; for an MTi the rate of its output configuration at power-up
    /// (the one it measures with when no host answers its WakeUp), until a host sets another.
    public var rateHertz: Int
    /// The rate the sensor's UART is set to [bit/s] (8N1: 10 bits a byte on the line). A host at another rate
    /// receives garbage and is not understood (`hostLineRateChanged`).
    public var baudRateBitsPerSecond: Int
    /// The MTi's internal sample clock [Hz]: every output frequency must divide it (400 Hz: orientation on the
    /// MTi 10/100-series, README §5.2). It must divide 10 000, so that SampleTimeFine (10 kHz) is exact.
    public var maximumOutputRateHertz: Int
    public var mounting: Mounting
    public var noise: Noise
    /// The reported heading's drift about the world's vertical [rad/s] (an IMU without a magnetic reference drifts in
    /// yaw); `tracker_drift` adds to it while injected.
    public var headingDriftRadiansPerSecond: Double
    /// The seed of the noise and of the wrong-baud garbage: the same seed, the same bytes.
    public var seed: UInt64
    /// What a BNO08x sends after reset before its first report (protocols/bno08x-rvc/README.md §2, a BNO080's banner
    /// with LF line ends, §11 A1); unused by an MTi.
    public var startupBanner: String
    /// The MTi's WakeUp window: without a WakeUpAck this long after its WakeUp has been sent, it measures with the
    /// output configuration it has (README §3.1: 500 ms) [ns].
    public var wakeUpAckWindowNanoseconds: Int64
    /// How long the MTi takes to answer a message once its last byte has arrived [ns]. Not documented; 1 ms.
    public var replyLatencyNanoseconds: Int64
    /// The most the sensor's transmit queue holds, as time on the line [ns]: a sample whose frame would start later
    /// than this after the sample is skipped (an MTi configured beyond its baud rate loses samples; its PacketCounter
    /// still counts them, so the host sees the gap).
    public var transmitBacklogLimitNanoseconds: Int64
    /// How far the host's rate may be from the sensor's before the sensor's bytes become garbage to it (UARTs
    /// tolerate a few percent of mismatch) [fraction of the sensor's rate].
    public var baudRateToleranceFraction: Double

    /// A sensor of that kind with its defaults: for an MTi an MTi-300 at 100 Hz over 115 200 bit/s, measuring
    /// PacketCounter, SampleTimeFine, Quaternion, Acceleration, RateOfTurn and StatusWord at power-up (the set of
    /// README §5.2), no heading drift (an AHRS with its magnetometer); for a BNO08x a BNO085 at its fixed 100 Hz and
    /// 115 200 bit/s, drifting 0.5°/min in heading (a plausible figure for a sensor without a magnetic reference,
    /// not a data-sheet one). Both on the limb's axis, mounting axis z, the sensor flat (base orientation identity).
    public init(sensor: Sensor) {
        self.sensor = sensor
        mounting = Mounting()
        seed = 0x7AC4_E250_0000_0001
        wakeUpAckWindowNanoseconds = 500_000_000
        replyLatencyNanoseconds = 1_000_000
        transmitBacklogLimitNanoseconds = 20_000_000
        baudRateToleranceFraction = 0.02
        baudRateBitsPerSecond = 115_200
        rateHertz = 100
        switch sensor {
        case .xsensMTi:
            model = "MTi-300-2A8G4"
            deviceID = 0x0370_0001
            serialNumber = "03700001"
            firmwareRevision = Xsens.FirmwareRevision(major: 1, minor: 8, revision: 2, build: 37, svnRevision: 70_964)
            maximumOutputRateHertz = 400
            noise = Noise(orientationRadians: 0.001, rateOfTurnRadiansPerSecond: 0.002, accelerationMetersPerSecondSquared: 0.01)
            headingDriftRadiansPerSecond = 0
            startupBanner = ""
        case .bno08xRVC:
            model = "BNO085"
            deviceID = 0
            serialNumber = "BNO08X-SIM-0001"
            firmwareRevision = Xsens.FirmwareRevision(major: 0, minor: 0, revision: 0)
            maximumOutputRateHertz = BNO08xRVC.framesPerSecond
            noise = Noise(orientationRadians: 0.002, rateOfTurnRadiansPerSecond: 0, accelerationMetersPerSecondSquared: 0.03)
            headingDriftRadiansPerSecond = 0.5 * Double.pi / 180 / 60
            startupBanner = "%Hillcrest Labs 10003608\n%SW Ver 3.2.x\n%(c) 2017 Hillcrest Laboratories, Inc.\n"
        }
    }

    /// An Xsens MTi with its defaults (`init(sensor:)`), then `adjust`.
    public static func xsensMTi(_ adjust: (inout TrackerSimulatorConfiguration) -> Void = { _ in }) -> TrackerSimulatorConfiguration {
        var configuration = TrackerSimulatorConfiguration(sensor: .xsensMTi)
        adjust(&configuration)
        return configuration
    }

    /// A BNO08x in UART-RVC mode with its defaults (`init(sensor:)`), then `adjust`.
    public static func bno08xRVC(_ adjust: (inout TrackerSimulatorConfiguration) -> Void = { _ in }) -> TrackerSimulatorConfiguration {
        var configuration = TrackerSimulatorConfiguration(sensor: .bno08xRVC)
        adjust(&configuration)
        return configuration
    }

    // MARK: The MTi's output

    /// The MTi's output configuration at power-up: README §5.2's six items, float32, ENU, the data at `rateHertz` and
    /// PacketCounter, SampleTimeFine and StatusWord with every sample.
    public var xsensPowerUpOutputConfiguration: Xsens.OutputConfiguration {
        let frequency = UInt16(clamping: rateHertz)
        return [
            .init(dataID: .packetCounter, frequencyHertz: Xsens.everySampleFrequency),
            .init(dataID: .sampleTimeFine, frequencyHertz: Xsens.everySampleFrequency),
            .init(dataID: .quaternion, frequencyHertz: frequency),
            .init(dataID: .acceleration, frequencyHertz: frequency),
            .init(dataID: .rateOfTurn, frequencyHertz: frequency),
            .init(dataID: .statusWord, frequencyHertz: Xsens.everySampleFrequency),
        ]
    }

    /// The bytes of one MTData2 frame with all six items in `precision` (73 in float32, README §5.2), measured with the
    /// codec's own encoder.
    public static func xsensFullFrameBytes(precision: Xsens.Precision = .float32) -> Int {
        let vector = Xsens.Vector3(x: 0, y: 0, z: 0)
        let sample = Xsens.MTData2Sample(
            packetCounter: 0, sampleTimeFine: 0, quaternion: Xsens.Quaternion(w: 1, x: 0, y: 0, z: 0),
            accelerationMetersPerSecondSquared: vector, rateOfTurnRadiansPerSecond: vector, statusWord: 0)
        var frame = Xsens.EncodedFrame()
        Xsens.FrameEncoder.mtData2(sample, precision: precision, into: &frame)
        return frame.count
    }

    /// The highest rate whose frames of `frameBytes` fit README §5.2's budget at `baudRateBitsPerSecond`:
    /// rate × frame bytes × 10 ≤ 0.8 × baud.
    public static func highestRateHertz(frameBytes: Int, baudRateBitsPerSecond: Int) -> Int {
        guard frameBytes > 0, baudRateBitsPerSecond > 0 else { return 0 }
        return (8 * baudRateBitsPerSecond) / (100 * frameBytes)
    }

    // MARK: Validation

    /// Everything wrong with it, one line each; empty when a simulator can be built with it (the simulators trap on a
    /// configuration with problems).
    public var problems: [String] {
        var list: [String] = []
        if model.isEmpty || !Self.isPrintableASCII(model) { list.append("the model must be printable ASCII, not empty") }
        if serialNumber.isEmpty { list.append("the serial number must not be empty") }
        switch sensor {
        case .xsensMTi:
            if model.utf8.count > 20 { list.append("an MTi's product code has at most 20 characters (README §3.4)") }
            if !(1...2_000).contains(maximumOutputRateHertz) || 10_000 % maximumOutputRateHertz != 0 {
                list.append("the MTi's internal rate must be 1 … 2000 Hz and divide 10 000 (SampleTimeFine's 10 kHz)")
            } else if !(1...maximumOutputRateHertz).contains(rateHertz) || maximumOutputRateHertz % rateHertz != 0 {
                list.append("the MTi outputs at rates that divide its internal \(maximumOutputRateHertz) Hz, not \(rateHertz) Hz")
            }
            if !(1_200...4_000_000).contains(baudRateBitsPerSecond) {
                list.append("the MTi's baud rate must be 1200 … 4 000 000 bit/s")
            } else {
                let frameBytes = Self.xsensFullFrameBytes()
                let highest = Self.highestRateHertz(frameBytes: frameBytes, baudRateBitsPerSecond: baudRateBitsPerSecond)
                if rateHertz > highest {
                    list.append(
                        "\(rateHertz) Hz of \(frameBytes)-byte MTData2 frames needs \(rateHertz * frameBytes * 10) bit/s, more than 80 % of "
                            + "\(baudRateBitsPerSecond) bit/s (README §5.2: at most \(highest) Hz at this rate)")
                }
            }
        case .bno08xRVC:
            if rateHertz != BNO08xRVC.framesPerSecond {
                list.append("a BNO08x in UART-RVC mode reports at \(BNO08xRVC.framesPerSecond) Hz only, not \(rateHertz) Hz")
            }
            if baudRateBitsPerSecond != BNO08xRVC.baudRate {
                list.append("a BNO08x in UART-RVC mode sends at \(BNO08xRVC.baudRate) bit/s only, not \(baudRateBitsPerSecond) bit/s")
            }
            if startupBanner.utf8.count > 512 || !startupBanner.unicodeScalars.allSatisfy({ ($0.value >= 0x20 && $0.value < 0x7F) || $0 == "\n" || $0 == "\r" }) {
                list.append("the start-up banner must be printable ASCII lines, at most 512 bytes")
            }
        }
        let m = mounting
        if !(m.sign == 1 || m.sign == -1) { list.append("the mounting sign must be +1 or −1") }
        if !m.offsetRadians.isFinite || abs(m.offsetRadians) > 2 * Double.pi { list.append("the mounting offset must be within ±2π rad") }
        let q = m.baseOrientation
        if !(q.w.isFinite && q.x.isFinite && q.y.isFinite && q.z.isFinite) || abs(q.norm - 1) > 1e-6 {
            list.append("the base orientation must be a unit quaternion")
        }
        let r = m.leverArmMeters
        if !(r.x.isFinite && r.y.isFinite && r.z.isFinite) || r.length > 2 { list.append("the lever arm must be at most 2 m") }
        if !(noise.orientationRadians.isFinite && (0...0.1).contains(noise.orientationRadians)) {
            list.append("the orientation noise must be 0 … 0.1 rad")
        }
        if !(noise.rateOfTurnRadiansPerSecond.isFinite && (0...1).contains(noise.rateOfTurnRadiansPerSecond)) {
            list.append("the rate-of-turn noise must be 0 … 1 rad/s")
        }
        if !(noise.accelerationMetersPerSecondSquared.isFinite && (0...5).contains(noise.accelerationMetersPerSecondSquared)) {
            list.append("the acceleration noise must be 0 … 5 m/s²")
        }
        if !(headingDriftRadiansPerSecond.isFinite && abs(headingDriftRadiansPerSecond) <= 0.1) {
            list.append("the heading drift must be within ±0.1 rad/s")
        }
        if !(1_000_000...10_000_000_000).contains(wakeUpAckWindowNanoseconds) { list.append("the WakeUp window must be 1 ms … 10 s") }
        if !(0...100_000_000).contains(replyLatencyNanoseconds) { list.append("the reply latency must be 0 … 100 ms") }
        if !(0...1_000_000_000).contains(transmitBacklogLimitNanoseconds) { list.append("the transmit backlog limit must be 0 … 1 s") }
        if !(baudRateToleranceFraction.isFinite && (0...0.5).contains(baudRateToleranceFraction)) {
            list.append("the baud-rate tolerance must be 0 … 0.5")
        }
        return list
    }

    private static func isPrintableASCII(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
    }
}
