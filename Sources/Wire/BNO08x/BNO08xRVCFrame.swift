extension BNO08xRVC {
    /// One UART-RVC report as it is on the wire, and its values in SI units.
    ///
    /// The stored properties are the wire's integers, so that a decoded frame re-encodes to the same
    /// bytes and two frames compare exactly; the SI values are computed from them
    /// (`BNO08xRVC.Scaling`). Orientation (data sheet, README §4): yaw about Z, pitch about Y, roll about
    /// X, applied in that order; yaw is relative to the heading at the sensor's reset, not to north.
    /// Acceleration is the accelerometer's along the sensor's axes, gravity included.
    public struct Frame: Sendable, Equatable, CustomStringConvertible {
        /// The report counter: +1 per report, 255 wraps to 0.
        public var index: UInt8
        /// Yaw, 0.01° per count (documented range ±18 000).
        public var yawCentidegrees: Int16
        /// Pitch, 0.01° per count (documented range ±9 000).
        public var pitchCentidegrees: Int16
        /// Roll, 0.01° per count (documented range ±18 000).
        public var rollCentidegrees: Int16
        /// Acceleration along X, milli-g per count.
        public var accelerationXMilliG: Int16
        /// Acceleration along Y, milli-g per count.
        public var accelerationYMilliG: Int16
        /// Acceleration along Z, milli-g per count.
        public var accelerationZMilliG: Int16
        /// Offset 15: Motion Intent on a BNO086; reserved (0) on a BNO080/BNO085. Not interpreted.
        public var motionIntent: UInt8
        /// Offset 16: Motion Request on a BNO086; reserved (0) on a BNO080/BNO085. Not interpreted.
        public var motionRequest: UInt8
        /// Offset 17: reserved, 0 today. Kept, because it counts in the checksum.
        public var reserved: UInt8

        /// A frame from wire counts.
        public init(
            index: UInt8, yawCentidegrees: Int16, pitchCentidegrees: Int16, rollCentidegrees: Int16,
            accelerationXMilliG: Int16, accelerationYMilliG: Int16, accelerationZMilliG: Int16,
            motionIntent: UInt8 = 0, motionRequest: UInt8 = 0, reserved: UInt8 = 0
        ) {
            self.index = index
            self.yawCentidegrees = yawCentidegrees
            self.pitchCentidegrees = pitchCentidegrees
            self.rollCentidegrees = rollCentidegrees
            self.accelerationXMilliG = accelerationXMilliG
            self.accelerationYMilliG = accelerationYMilliG
            self.accelerationZMilliG = accelerationZMilliG
            self.motionIntent = motionIntent
            self.motionRequest = motionRequest
            self.reserved = reserved
        }

        /// The frame a sensor in this state sends: what the simulated firmware encodes. The rules of
        /// README §6: yaw and roll are wrapped into ±180° and pitch clamped to ±90°, then rounded to the
        /// nearest 0.01° (halves away from zero); accelerations are rounded to the nearest mg and
        /// saturated to the int16 field; a non-finite value becomes 0. The reserved byte is 0.
        public init(
            index: UInt8, yawRadians: Double, pitchRadians: Double, rollRadians: Double,
            accelerationXMetersPerSecondSquared: Double, accelerationYMetersPerSecondSquared: Double,
            accelerationZMetersPerSecondSquared: Double, motionIntent: UInt8 = 0, motionRequest: UInt8 = 0
        ) {
            self.init(
                index: index, yawCentidegrees: Scaling.wrappedCentidegrees(radians: yawRadians),
                pitchCentidegrees: Scaling.pitchCentidegrees(radians: pitchRadians),
                rollCentidegrees: Scaling.wrappedCentidegrees(radians: rollRadians),
                accelerationXMilliG: Scaling.milliG(metersPerSecondSquared: accelerationXMetersPerSecondSquared),
                accelerationYMilliG: Scaling.milliG(metersPerSecondSquared: accelerationYMetersPerSecondSquared),
                accelerationZMilliG: Scaling.milliG(metersPerSecondSquared: accelerationZMetersPerSecondSquared),
                motionIntent: motionIntent, motionRequest: motionRequest, reserved: 0)
        }

        /// Yaw in radians.
        public var yawRadians: Double { Scaling.radians(centidegrees: yawCentidegrees) }
        /// Pitch in radians.
        public var pitchRadians: Double { Scaling.radians(centidegrees: pitchCentidegrees) }
        /// Roll in radians.
        public var rollRadians: Double { Scaling.radians(centidegrees: rollCentidegrees) }
        /// Acceleration along X in m/s².
        public var accelerationXMetersPerSecondSquared: Double { Scaling.metersPerSecondSquared(milliG: accelerationXMilliG) }
        /// Acceleration along Y in m/s².
        public var accelerationYMetersPerSecondSquared: Double { Scaling.metersPerSecondSquared(milliG: accelerationYMilliG) }
        /// Acceleration along Z in m/s².
        public var accelerationZMetersPerSecondSquared: Double { Scaling.metersPerSecondSquared(milliG: accelerationZMilliG) }

        /// Yaw and roll within ±180°, pitch within ±90° (README §4). The decoder does not judge values
        /// (a checksum-valid frame is a frame); a driver treats a frame outside these as implausible:
        /// a false header whose checksum matched by chance (1 in 256), or a faulty sensor.
        public var isWithinDocumentedRanges: Bool {
            abs(Int(yawCentidegrees)) <= Int(BNO08xRVC.yawRollLimitCentidegrees)
                && abs(Int(rollCentidegrees)) <= Int(BNO08xRVC.yawRollLimitCentidegrees)
                && abs(Int(pitchCentidegrees)) <= Int(BNO08xRVC.pitchLimitCentidegrees)
        }

        public var description: String {
            "Frame(index: \(index), yaw/pitch/roll: \(yawCentidegrees)/\(pitchCentidegrees)/\(rollCentidegrees) cdeg, "
                + "acceleration: \(accelerationXMilliG)/\(accelerationYMilliG)/\(accelerationZMilliG) mg, "
                + "MI: \(motionIntent), MR: \(motionRequest), reserved: \(reserved))"
        }
    }

    /// Wire counts ↔ SI units: the one conversion that the driver (at the device edge) and the simulated
    /// firmware (for its encoder) both use.
    ///
    /// Wire → SI is exact arithmetic on the counts (0.01° → rad; mg → m/s² with standard gravity,
    /// 9.80665 m/s²). SI → wire rounds to the nearest count, halves away from zero, and never traps: a
    /// non-finite value becomes 0 and a value beyond the field saturates (README §6).
    public enum Scaling {
        // MARK: Wire → SI

        /// 0.01° → rad.
        public static func radians(centidegrees: Int16) -> Double {
            // Multiplied in this order (× 0.01, then × π/180) so that the reference implementation,
            // which does the same, gives the same bits.
            Double(centidegrees) * 0.01 * (Double.pi / 180)
        }

        /// mg → m/s².
        public static func metersPerSecondSquared(milliG: Int16) -> Double {
            Double(milliG) * 0.001 * BNO08xRVC.standardGravityMetersPerSecondSquared
        }

        // MARK: SI → wire

        /// Yaw or roll: rad → 0.01°, wrapped into [−180°, +180°] first (an angle past 180° is the same
        /// orientation as its complement, which is what the sensor would report), then rounded.
        /// The result is within ±18 000; non-finite → 0.
        public static func wrappedCentidegrees(radians: Double) -> Int16 {
            let centidegrees = radians * (180 / Double.pi) * 100
            guard centidegrees.isFinite else { return 0 }
            // IEEE remainder: exact, and in [−18 000, +18 000].
            return saturated(centidegrees.remainder(dividingBy: 36_000))
        }

        /// Pitch: rad → 0.01°, rounded, clamped to ±90° (pitch cannot wrap on its own: past 90° the same
        /// orientation has a different yaw and roll too). Non-finite → 0.
        public static func pitchCentidegrees(radians: Double) -> Int16 {
            let centidegrees = radians * (180 / Double.pi) * 100
            guard centidegrees.isFinite else { return 0 }
            let limit = BNO08xRVC.pitchLimitCentidegrees
            return min(max(saturated(centidegrees), -limit), limit)
        }

        /// m/s² → mg, rounded, saturated to the int16 field (±32.768 g). A physical sensor's range is
        /// narrower; keeping within it is the simulator's business, not the codec's. Non-finite → 0.
        public static func milliG(metersPerSecondSquared: Double) -> Int16 {
            guard metersPerSecondSquared.isFinite else { return 0 }
            return saturated(metersPerSecondSquared / BNO08xRVC.standardGravityMetersPerSecondSquared * 1000)
        }

        /// Nearest integer (halves away from zero), clamped to Int16; non-finite → 0.
        private static func saturated(_ value: Double) -> Int16 {
            guard value.isFinite else { return 0 }
            let rounded = value.rounded(.toNearestOrAwayFromZero)
            if rounded <= Double(Int16.min) { return Int16.min }
            if rounded >= Double(Int16.max) { return Int16.max }
            return Int16(rounded)
        }
    }
}
