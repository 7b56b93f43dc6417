import Glibc

/// Unit-quaternion arithmetic for tracker orientations, (w, x, y, z) in SIMD4 (DeviceModel's
/// `TrackerSample.toolOrientation` convention). Pure, allocation-free.
public enum Orientation {
    public static let identity = SIMD4<Double>(1, 0, 0, 0)

    /// a ⊗ b (the rotation b, then a, in the fixed frame).
    public static func multiply(_ a: SIMD4<Double>, _ b: SIMD4<Double>) -> SIMD4<Double> {
        SIMD4(
            a.x * b.x - a.y * b.y - a.z * b.z - a.w * b.w,
            a.x * b.y + a.y * b.x + a.z * b.w - a.w * b.z,
            a.x * b.z - a.y * b.w + a.z * b.x + a.w * b.y,
            a.x * b.w + a.y * b.z - a.z * b.y + a.w * b.x)
    }

    /// The inverse of a unit quaternion.
    public static func conjugate(_ q: SIMD4<Double>) -> SIMD4<Double> { SIMD4(q.x, -q.y, -q.z, -q.w) }

    /// `q` scaled to unit length; nil for a quaternion that is no rotation (zero, non-finite, or far
    /// from unit length, as a damaged or invalid sensor value would be).
    public static func normalized(_ q: SIMD4<Double>) -> SIMD4<Double>? {
        let length = (q * q).sum().squareRoot()
        guard length.isFinite, length > 0.9, length < 1.1 else { return nil }
        return q / length
    }

    /// The rotation by `angle` [rad] about the unit vector `axis`.
    public static func rotation(about axis: SIMD3<Double>, radians angle: Double) -> SIMD4<Double> {
        let half = angle / 2
        let s = sin(half)
        return SIMD4(cos(half), axis.x * s, axis.y * s, axis.z * s)
    }

    /// Yaw ψ about Z, then pitch θ about the new Y, then roll φ about the newest X (Z-Y-X Tait–Bryan,
    /// intrinsic: protocols/bno08x-rvc/README.md §4).
    public static func fromYawPitchRoll(yaw: Double, pitch: Double, roll: Double) -> SIMD4<Double> {
        multiply(multiply(rotation(about: SIMD3(0, 0, 1), radians: yaw), rotation(about: SIMD3(0, 1, 0), radians: pitch)),
                 rotation(about: SIMD3(1, 0, 0), radians: roll))
    }

    /// The angle [rad, −π … π] of the part of `q` that turns about `axis` (swing–twist decomposition):
    /// how far a sensor turned about its own mounting axis, whatever it did about the others.
    public static func twistAngle(of q: SIMD4<Double>, about axis: SIMD3<Double>) -> Double {
        let projection = q.y * axis.x + q.z * axis.y + q.w * axis.z
        var angle = 2 * atan2(projection, q.x)
        if angle > Double.pi { angle -= 2 * Double.pi }
        if angle < -Double.pi { angle += 2 * Double.pi }
        return angle
    }

    /// The angle [rad, 0 … π] of the other part of `q` (swing–twist decomposition, q = swing ⊗ twist):
    /// how far the sensor's mounting axis itself was tilted, whatever turn it made about it.
    public static func swingAngle(of q: SIMD4<Double>, about axis: SIMD3<Double>) -> Double {
        // The swing's scalar part is the length of the twist's unnormalised (w, projection) pair.
        let projection = q.y * axis.x + q.z * axis.y + q.w * axis.z
        let scalar = min(1, (q.x * q.x + projection * projection).squareRoot())
        return 2 * acos(scalar)
    }
}
