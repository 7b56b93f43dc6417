import Primitives
import Profiles
import RehabLinkSimulator

/// How the simulated limb that carries an NDI tracker's tools moves: its angle over time [rad].
///
/// The tools (`NDIToolConfiguration`) turn by this angle about their rotation axis. Written for the NDI
/// simulator alone (hence the prefix): the Xsens and BNO08x simulators of this module have their own.
public enum NDILimbMotion: Sendable {
    /// The limb holds this angle [rad].
    case still(angleRadians: Double)
    /// `center + amplitude · sin(2π · frequency · (t − boot))` [rad, rad, Hz]: a limb swinging by itself from power-up.
    case sinusoid(centerRadians: Double, amplitudeRadians: Double, frequencyHertz: Double)
    /// The patient's unaffected limb (RehabLinkSimulator): at rest until the exercise's cue starts
    /// (`FirmwareSimulator.startCue(at:)`, rehabsim's `cue_start_in_ms`), then following it a reaction
    /// time late with a physiological tremor. Its angle is `SimulatedReferenceLimb.positionRadians(at:)`.
    case followingCue(SimulatedReferenceLimb)
}

/// One tool on a port handle of the simulated tracker: a sensor coil (Aurora) or a marker array
/// (Polaris) fixed on the simulated limb, or a static reference.
///
/// Its pose in the tracker's frame at limb angle θ [rad] is
///
///     position    = basePositionMeters + R(rotationAxis, θ) · leverArmMeters
///     orientation = q(rotationAxis, θ) ⊗ orientationAtZero
///
/// `basePositionMeters` is a point on the limb's rotation axis (the joint centre) in the tracker's
/// measurement frame, `leverArmMeters` where the tool sits relative to that point at θ = 0, both in the
/// tracker's axes; a tool that does not follow the limb (`followsLimb` false) stays at θ = 0.
public struct NDIToolConfiguration: Sendable, Equatable {
    /// The port handle the tracker gives the tool (0x01 … 0xFF; an Aurora's wired ports get 0A, 0B, …).
    public var portHandle: UInt8
    /// A point on the rotation axis, in the tracker's frame [m].
    public var basePositionMeters: SIMD3<Double>
    /// The tool relative to `basePositionMeters` at limb angle 0, in the tracker's axes [m].
    public var leverArmMeters: SIMD3<Double>
    /// The limb's rotation axis in the tracker's frame (normalised on use); the tool turns by the limb
    /// angle about it, right-handed. For a tool whose joint angle is read with a sign of −1, use −axis.
    public var rotationAxis: SIMD3<Double>
    /// The tool's orientation at limb angle 0, a unit quaternion (w, x, y, z) (normalised on use).
    public var orientationAtZero: SIMD4<Double>
    /// False: a static tool (a reference) that keeps its angle-0 pose.
    public var followsLimb: Bool
    /// True for a tool the host must ask a port handle for with PHRQ (and describe with PVWR) before
    /// PINIT, as a Polaris passive tool (README §5.5, §9.1 step 4); false for a wired tool, whose handle
    /// exists from power-up (an Aurora's sensors, README §9.1 step 4).
    public var requiresPortHandleRequest: Bool

    public init(
        portHandle: UInt8, basePositionMeters: SIMD3<Double> = SIMD3(0, 0, -0.3), leverArmMeters: SIMD3<Double> = SIMD3(0.1, 0, 0),
        rotationAxis: SIMD3<Double> = SIMD3(0, 1, 0), orientationAtZero: SIMD4<Double> = SIMD4(1, 0, 0, 0), followsLimb: Bool = true,
        requiresPortHandleRequest: Bool = false
    ) {
        self.portHandle = portHandle
        self.basePositionMeters = basePositionMeters
        self.leverArmMeters = leverArmMeters
        self.rotationAxis = rotationAxis
        self.orientationAtZero = orientationAtZero
        self.followsLimb = followsLimb
        self.requiresPortHandleRequest = requiresPortHandleRequest
    }
}

/// The characterized measurement volume, as an axis-aligned box in the tracker's frame [m]. A tool whose
/// reported position lies outside it gets port status 0x40 (README §6.3, §9.3).
public struct NDIMeasurementVolume: Sendable, Equatable {
    public var minimumMeters: SIMD3<Double>
    public var maximumMeters: SIMD3<Double>

    public init(minimumMeters: SIMD3<Double>, maximumMeters: SIMD3<Double>) {
        self.minimumMeters = minimumMeters
        self.maximumMeters = maximumMeters
    }

    /// A 0.5 m cube in front of the field generator (NDI's frame: z points away from it, so the volume
    /// lies at negative z), roughly an Aurora planar field generator's cube volume.
    public static let auroraCube = NDIMeasurementVolume(minimumMeters: SIMD3(-0.25, -0.25, -0.55), maximumMeters: SIMD3(0.25, 0.25, -0.05))

    /// A box inside a Polaris Vicra/Spectra pyramid (z away from the camera): 1 m wide and deep, from
    /// 0.95 m to 2.4 m in front of it. The real volume is a pyramid; the box is the simulator's.
    public static let polarisBox = NDIMeasurementVolume(minimumMeters: SIMD3(-0.5, -0.5, -2.4), maximumMeters: SIMD3(0.5, 0.5, -0.95))

    /// True when `position` [m] is inside (boundary included).
    public func contains(_ position: SIMD3<Double>) -> Bool {
        for axis in 0..<3 where !(position[axis] >= minimumMeters[axis] && position[axis] <= maximumMeters[axis]) { return false }
        return true
    }
}

/// Everything that makes one simulated NDI tracker (`SimulatedNDITracker`): its identity, frame rate,
/// tools, volume, the limb's motion, noise and timing. SI units; the names carry them.
public struct NDITrackerConfiguration: Sendable {
    /// The model reported in messages and in the VER text ("Aurora", "Polaris Vega" …).
    public var model: String
    public var serialNumber: String
    /// The rate of the system's measurements, at which the frame number counts [Hz] (Aurora 40, Polaris 60; README §9.2).
    public var frameRateHertz: Double
    /// 1 … 4 tools, on distinct port handles.
    public var tools: [NDIToolConfiguration]
    public var volume: NDIMeasurementVolume
    public var limbMotion: NDILimbMotion
    /// σ of the Gaussian noise added to each position coordinate [mm].
    public var positionNoiseMillimeters: Double
    /// σ of the Gaussian noise of each component of a small rotation applied to the orientation [rad].
    public var orientationNoiseRadians: Double
    /// The RMS error of the fit that BX reports for a valid tool [mm] (README §6.2).
    public var rmsErrorMillimeters: Double
    /// Seeds the noise: the same seed, commands and times give the same bytes.
    public var seed: UInt64
    /// The frame number of the first measurement after the first TSTART (it counts on from there).
    public var initialFrameNumber: UInt32
    /// From a command's last byte to the first byte of its reply [ns] (the firmware's own time; *ours*).
    public var commandProcessingNanoseconds: Int64
    /// From a reset (serial break, `tracker_reset`, the RESET command) to the RESET reply [ns]; the device
    /// hears nothing meanwhile. Hosts wait up to 5–7 s (README §2).
    public var resetNanoseconds: Int64
    /// True: bytes take 10 bits each on the line at its rate, both ways; false: replies are ready at once.
    public var modelsWireTime: Bool
    /// True: the device sends `RESETBE6F⏎` at 9600 bit/s at power-up, as it does after a break, so that a
    /// host finds it in the after-reset state. False (the default): it simply answers INIT — what ndicapi's
    /// probe needs on a pseudo-terminal, where no break can be seen (README §10.3).
    public var announcesResetAtBoot: Bool
    /// The VER reply's `Freeze Tag:` value. It must not name a firmware for which scikit-surgerynditracker
    /// switches to TX (`AURORA Rev 007`/`008`, README §5.3): `problems` refuses those.
    public var freezeTag: String

    /// The most tools a simulated tracker carries.
    public static let maximumToolCount = 4

    public init(
        model: String = "Aurora", serialNumber: String = "SIM-NDI-0001", frameRateHertz: Double = 40,
        tools: [NDIToolConfiguration] = [NDIToolConfiguration(portHandle: 0x0A)], volume: NDIMeasurementVolume = .auroraCube,
        limbMotion: NDILimbMotion = .still(angleRadians: 0), positionNoiseMillimeters: Double = 0.1, orientationNoiseRadians: Double = 0.0005,
        rmsErrorMillimeters: Double = 0.3, seed: UInt64 = 0x4E44_4953_494D, initialFrameNumber: UInt32 = 0,
        commandProcessingNanoseconds: Int64 = 500_000, resetNanoseconds: Int64 = 1_000_000_000, modelsWireTime: Bool = true,
        announcesResetAtBoot: Bool = false, freezeTag: String = "RehabSim NDI simulator 1.0"
    ) {
        self.model = model
        self.serialNumber = serialNumber
        self.frameRateHertz = frameRateHertz
        self.tools = tools
        self.volume = volume
        self.limbMotion = limbMotion
        self.positionNoiseMillimeters = positionNoiseMillimeters
        self.orientationNoiseRadians = orientationNoiseRadians
        self.rmsErrorMillimeters = rmsErrorMillimeters
        self.seed = seed
        self.initialFrameNumber = initialFrameNumber
        self.commandProcessingNanoseconds = commandProcessingNanoseconds
        self.resetNanoseconds = resetNanoseconds
        self.modelsWireTime = modelsWireTime
        self.announcesResetAtBoot = announcesResetAtBoot
        self.freezeTag = freezeTag
    }

    /// An Aurora: 40 Hz, the planar field generator's cube, wired tools on 0A, 0B, … (README §9.2).
    public static func aurora(tools: [NDIToolConfiguration] = [NDIToolConfiguration(portHandle: 0x0A)], limbMotion: NDILimbMotion = .still(angleRadians: 0)) -> Self {
        NDITrackerConfiguration(model: "Aurora", frameRateHertz: 40, tools: tools, volume: .auroraCube, limbMotion: limbMotion)
    }

    /// A Polaris: 60 Hz, a box inside its pyramid, tools 1.5 m in front of the camera; tools are given a
    /// handle at power-up unless configured to need PHRQ (README §9.2).
    public static func polaris(
        tools: [NDIToolConfiguration] = [NDIToolConfiguration(portHandle: 0x01, basePositionMeters: SIMD3(0, 0, -1.5))],
        limbMotion: NDILimbMotion = .still(angleRadians: 0)
    ) -> Self {
        NDITrackerConfiguration(
            model: "Polaris", serialNumber: "SIM-NDI-P001", frameRateHertz: 60, tools: tools, volume: .polarisBox, limbMotion: limbMotion,
            positionNoiseMillimeters: 0.08, rmsErrorMillimeters: 0.25)
    }

    /// The simulated tracker a tracker profile of protocol `ndi/combined-api` describes: its model and
    /// rate, one tool on handle 0A whose turn about the profile's mounting axis (with its sign) is the
    /// limb angle. The device powers up at 9600 bit/s whatever the profile's `baud_rate_bps` (the rate the
    /// host switches to with COMM); the mounting's offset is the host's to add.
    public static func simulating(_ profile: TrackerProfile, limbMotion: NDILimbMotion = .still(angleRadians: 0)) -> Self {
        let polaris = profile.model.lowercased().contains("polaris")
        var configuration: NDITrackerConfiguration = polaris ? .polaris(limbMotion: limbMotion) : .aurora(limbMotion: limbMotion)
        configuration.model = profile.model
        configuration.frameRateHertz = profile.rateHertz
        let tool = configuration.tools[0]
        configuration.tools = [
            NDIToolConfiguration(
                portHandle: polaris ? 0x01 : 0x0A, basePositionMeters: tool.basePositionMeters, leverArmMeters: tool.leverArmMeters,
                rotationAxis: profile.mounting.sign * profile.mounting.axis.unitVector)
        ]
        return configuration
    }

    /// What is wrong with the configuration, one sentence each (empty: valid).
    public var problems: [String] {
        var problems: [String] = []
        if !(frameRateHertz >= 1 && frameRateHertz <= 1_000) { problems.append("frame rate must be 1 … 1000 Hz (found \(frameRateHertz))") }
        if tools.isEmpty || tools.count > Self.maximumToolCount {
            problems.append("1 … \(Self.maximumToolCount) tools (found \(tools.count))")
        }
        for (index, tool) in tools.enumerated() {
            if tool.portHandle == 0 { problems.append("tools[\(index)]: port handle 00 is not a handle") }
            if tools[..<index].contains(where: { $0.portHandle == tool.portHandle }) {
                problems.append("tools[\(index)]: port handle \(Self.hex(tool.portHandle)) is given twice")
            }
            let axisLength = (tool.rotationAxis * tool.rotationAxis).sum().squareRoot()
            if !(axisLength > 1e-9 && axisLength.isFinite) { problems.append("tools[\(index)]: the rotation axis must be a non-zero finite vector") }
            let q = tool.orientationAtZero
            let qLength = (q * q).sum().squareRoot()
            if !(qLength > 1e-9 && qLength.isFinite) { problems.append("tools[\(index)]: the orientation at zero must be a non-zero finite quaternion") }
            for axis in 0..<3 where !(tool.basePositionMeters[axis].isFinite && tool.leverArmMeters[axis].isFinite) {
                problems.append("tools[\(index)]: positions must be finite")
                break
            }
        }
        for axis in 0..<3 where !(volume.minimumMeters[axis] < volume.maximumMeters[axis]) {
            problems.append("the measurement volume's minimum must be below its maximum on every axis")
            break
        }
        if !(positionNoiseMillimeters >= 0 && positionNoiseMillimeters <= 100) { problems.append("position noise must be 0 … 100 mm") }
        if !(orientationNoiseRadians >= 0 && orientationNoiseRadians <= 0.5) { problems.append("orientation noise must be 0 … 0.5 rad") }
        if !(rmsErrorMillimeters >= 0 && rmsErrorMillimeters <= 1_000) { problems.append("RMS error must be 0 … 1000 mm") }
        if commandProcessingNanoseconds < 0 || resetNanoseconds < 0 { problems.append("times must not be negative") }
        switch limbMotion {
        case .still(let angle):
            if !angle.isFinite { problems.append("the limb angle must be finite") }
        case .sinusoid(let center, let amplitude, let frequency):
            if !(center.isFinite && amplitude.isFinite && frequency.isFinite && frequency >= 0) {
                problems.append("the limb's sinusoid must be finite, with a frequency ≥ 0 Hz")
            }
        case .followingCue:
            break
        }
        let upper = freezeTag.uppercased()
        if upper.contains("AURORA REV 007") || upper.contains("AURORA REV 008") {
            problems.append("the freeze tag must not claim AURORA Rev 007/008: scikit-surgerynditracker would switch to TX")
        }
        if freezeTag.utf8.contains(where: { $0 < 0x20 || $0 > 0x7E }) || model.utf8.contains(where: { $0 < 0x20 || $0 > 0x7E })
            || serialNumber.utf8.contains(where: { $0 < 0x20 || $0 > 0x7E })
        {
            problems.append("model, serial number and freeze tag must be printable ASCII")
        }
        if freezeTag.utf8.count + model.utf8.count + serialNumber.utf8.count > 400 { problems.append("model, serial number and freeze tag are too long") }
        return problems
    }

    static func hex(_ value: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(value >> 4)], digits[Int(value & 0xF)]])
    }
}
