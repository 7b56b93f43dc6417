/// Unit conversions used at the edges (profiles in degrees, wire in micro-units). Inside the host
/// everything is SI: radians, rad/s, N·m, seconds.
public enum Units {
    public static let radiansPerDegree = Double.pi / 180
    public static let degreesPerRadian = 180 / Double.pi

    public static func radians(fromDegrees degrees: Double) -> Double { degrees * radiansPerDegree }
    public static func degrees(fromRadians radians: Double) -> Double { radians * degreesPerRadian }
}
