import Glibc

/// Three components along the axes of a named frame (the sensor's, or the world's); the unit is in the name of the
/// property that holds one. The simulated trackers' own small vector type, so that the sensor model needs neither
/// a codec's type nor Foundation.
public struct TrackerVector3: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var z: Double

    public init(x: Double, y: Double, z: Double) {
        self.x = x
        self.y = y
        self.z = z
    }

    public static let zero = TrackerVector3(x: 0, y: 0, z: 0)

    /// The Euclidean length.
    public var length: Double { (x * x + y * y + z * z).squareRoot() }

    public static func + (a: TrackerVector3, b: TrackerVector3) -> TrackerVector3 {
        TrackerVector3(x: a.x + b.x, y: a.y + b.y, z: a.z + b.z)
    }

    public static func - (a: TrackerVector3, b: TrackerVector3) -> TrackerVector3 {
        TrackerVector3(x: a.x - b.x, y: a.y - b.y, z: a.z - b.z)
    }

    public static func * (scale: Double, v: TrackerVector3) -> TrackerVector3 {
        TrackerVector3(x: scale * v.x, y: scale * v.y, z: scale * v.z)
    }

    /// The cross product `a × b`.
    public static func cross(_ a: TrackerVector3, _ b: TrackerVector3) -> TrackerVector3 {
        TrackerVector3(x: a.y * b.z - a.z * b.y, y: a.z * b.x - a.x * b.z, z: a.x * b.y - a.y * b.x)
    }
}

/// An orientation as a unit quaternion (w, x, y, z), Hamilton convention: `q` maps a vector given in the rotated
/// (sensor) frame to the reference (world) frame, v_world = q ⊗ v_sensor ⊗ q*. This is what Xsens's Quaternion output
/// means (README §4.2: "the orientation of the sensor frame in the frame of bits 3-2") and what the BNO08x's
/// yaw, pitch and roll are read into (protocols/bno08x-rvc/README.md §4).
public struct TrackerQuaternion: Sendable, Equatable {
    public var w: Double
    public var x: Double
    public var y: Double
    public var z: Double

    public init(w: Double, x: Double, y: Double, z: Double) {
        self.w = w
        self.x = x
        self.y = y
        self.z = z
    }

    /// No rotation: the sensor's axes are the world's.
    public static let identity = TrackerQuaternion(w: 1, x: 0, y: 0, z: 0)

    /// A right-handed rotation by `angleRadians` about `axis` (any length but zero).
    public init(axis: TrackerVector3, angleRadians: Double) {
        let length = axis.length
        guard length > 0, angleRadians.isFinite else {
            self = .identity
            return
        }
        let half = angleRadians / 2
        let s = sin(half) / length
        self.init(w: cos(half), x: axis.x * s, y: axis.y * s, z: axis.z * s)
    }

    /// The orientation of intrinsic Z-Y-X (yaw ψ, then pitch θ, then roll φ) rotations, right-handed:
    /// R = Rz(ψ)·Ry(θ)·Rx(φ), as protocols/bno08x-rvc/README.md §4 reads the BNO08x's angles.
    public init(yawRadians: Double, pitchRadians: Double, rollRadians: Double) {
        let (sy, cy) = (sin(yawRadians / 2), cos(yawRadians / 2))
        let (sp, cp) = (sin(pitchRadians / 2), cos(pitchRadians / 2))
        let (sr, cr) = (sin(rollRadians / 2), cos(rollRadians / 2))
        self.init(
            w: cr * cp * cy + sr * sp * sy, x: sr * cp * cy - cr * sp * sy, y: cr * sp * cy + sr * cp * sy,
            z: cr * cp * sy - sr * sp * cy)
    }

    /// The Hamilton product `a ⊗ b`: first `b`, then `a` (in the frame `a` maps into).
    public static func * (a: TrackerQuaternion, b: TrackerQuaternion) -> TrackerQuaternion {
        TrackerQuaternion(
            w: a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
            x: a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
            y: a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
            z: a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w)
    }

    /// The inverse rotation (for a unit quaternion).
    public var conjugate: TrackerQuaternion { TrackerQuaternion(w: w, x: -x, y: -y, z: -z) }

    /// The norm; 1 for an orientation.
    public var norm: Double { (w * w + x * x + y * y + z * z).squareRoot() }

    /// Scaled to norm 1 (identity for a zero or non-finite quaternion).
    public var normalized: TrackerQuaternion {
        let n = norm
        guard n > 0, n.isFinite else { return .identity }
        return TrackerQuaternion(w: w / n, x: x / n, y: y / n, z: z / n)
    }

    /// `v` (in the rotated frame) expressed in the reference frame: q ⊗ v ⊗ q*.
    public func rotate(_ v: TrackerVector3) -> TrackerVector3 {
        let u = TrackerVector3(x: x, y: y, z: z)
        let t = 2 * TrackerVector3.cross(u, v)
        return v + w * t + TrackerVector3.cross(u, t)
    }

    /// Intrinsic Z-Y-X angles (yaw about Z, pitch about the new Y, roll about the newest X), the inverse of
    /// `init(yawRadians:pitchRadians:rollRadians:)`: yaw and roll in (−π, π], pitch in [−π/2, π/2].
    public var yawPitchRollRadians: (yaw: Double, pitch: Double, roll: Double) {
        let yaw = atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
        let pitch = asin(min(1, max(-1, 2 * (w * y - z * x))))
        let roll = atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
        return (yaw, pitch, roll)
    }

    /// The angle of this rotation's component about `axis` (a unit vector of the rotated frame), in (−π, π]: the
    /// swing-twist decomposition's twist. For a rotation about `axis` alone, its angle.
    public func twistRadians(about axis: TrackerVector3) -> Double {
        let projection = x * axis.x + y * axis.y + z * axis.z
        return 2 * atan2(projection, w)
    }
}

/// A small deterministic generator (SplitMix64, Steele, Lea and Flood 2014): the simulated sensors' noise and the
/// wrong-baud garbage come from it, so that a run is the same for the same seed. Not Foundation's, whose generator
/// is seeded by the system.
struct TrackerRandom {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1]: 53 random bits, never 0 (the logarithm below needs that).
    mutating func unitInterval() -> Double {
        Double((next() >> 11) + 1) * 0x1p-53
    }

    /// Normally distributed with mean 0 and standard deviation `sigma` (Box–Muller; one value per call, so that the
    /// number of draws per sample is fixed and a run stays reproducible whatever asks for what).
    mutating func gaussian(sigma: Double) -> Double {
        let u1 = unitInterval()
        let u2 = unitInterval()
        let value = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        return sigma * value
    }
}
