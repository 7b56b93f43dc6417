/// Who a device says it is, in host terms (SR-17 compares it with the profile).
public struct DeviceIdentityInfo: Sendable, Equatable {
    public var model: String
    public var serialNumber: String
    public var firmware: String
    /// The protocol's major version the device speaks.
    public var protocolVersion: Int
    public var joints: [JointRating]

    public init(model: String, serialNumber: String, firmware: String, protocolVersion: Int, joints: [JointRating]) {
        self.model = model
        self.serialNumber = serialNumber
        self.firmware = firmware
        self.protocolVersion = protocolVersion
        self.joints = joints
    }

    /// One joint's ratings as the device reports them, in SI units.
    public struct JointRating: Sendable, Equatable {
        public var positionMinimumRadians: Double
        public var positionMaximumRadians: Double
        public var velocityMaximumRadiansPerSecond: Double
        public var torqueMaximumNewtonMeters: Double
        public var encoderCountsPerRevolution: Int
        /// False when the device cannot know the joint's hard limits (a servo chain: the stops are the
        /// mechanism's, not the servo's); the position fields are then meaningless and not compared.
        public var hardLimitsKnown: Bool

        public init(
            positionMinimumRadians: Double, positionMaximumRadians: Double, velocityMaximumRadiansPerSecond: Double,
            torqueMaximumNewtonMeters: Double, encoderCountsPerRevolution: Int, hardLimitsKnown: Bool = true
        ) {
            self.hardLimitsKnown = hardLimitsKnown
            self.positionMinimumRadians = positionMinimumRadians
            self.positionMaximumRadians = positionMaximumRadians
            self.velocityMaximumRadiansPerSecond = velocityMaximumRadiansPerSecond
            self.torqueMaximumNewtonMeters = torqueMaximumNewtonMeters
            self.encoderCountsPerRevolution = encoderCountsPerRevolution
        }
    }
}
