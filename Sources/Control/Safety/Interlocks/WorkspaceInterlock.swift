import DeviceModel
/// SR-16: the tracked hand or the robot's end effector outside the profile's workspace box by more
/// than 20 mm → Cat 1.
public struct WorkspaceInterlock: Sendable {
    public let minimumMeters: SIMD3<Double>
    public let maximumMeters: SIMD3<Double>
    public static let marginMeters = 0.020

    public init(minimumMeters: SIMD3<Double>, maximumMeters: SIMD3<Double>) {
        self.minimumMeters = minimumMeters
        self.maximumMeters = maximumMeters
    }

    /// `position` nil: nothing tracked this cycle (the tracker interlock deals with that).
    public func evaluate(_ position: SIMD3<Double>?) -> SafetyTrip? {
        guard let position else { return nil }
        var outside = 0.0
        for axis in 0..<3 {
            outside = max(outside, minimumMeters[axis] - position[axis], position[axis] - maximumMeters[axis])
        }
        guard outside > Self.marginMeters else { return nil }
        return SafetyTrip(category: .cat1, cause: .workspace, value: outside * 1_000)
    }
}
