extension RehabLink {
    /// SI units ↔ RehabLink wire integers: the one conversion both ends use (the host's driver at
    /// the device edge, the simulated firmware at its own).
    ///
    /// The wire carries µ-scaled integers for angles and angular velocities (µrad, µrad/s), m-scaled
    /// ones for torques and gains (mN·m, mN·m/rad, mN·m·s/rad) and currents (mA), and 0.1 °C for
    /// temperatures. SI → wire saturates to the field's range, and a non-finite value (NaN, ±∞:
    /// never a meaningful command or limit) becomes 0 instead of trapping.
    public enum Scaling {
        // MARK: SI → wire

        /// rad → µrad, rad/s → µrad/s: rounded to the nearest integer, saturated; non-finite → 0.
        public static func micro(_ value: Double) -> Int32 {
            saturated(value * 1e6)
        }

        /// N·m → mN·m, N·m/rad → mN·m/rad, N·m·s/rad → mN·m·s/rad: rounded to the nearest, saturated;
        /// non-finite → 0.
        public static func milli(_ value: Double) -> Int32 {
            saturated(value * 1e3)
        }

        /// `micro` rounded in a chosen direction (limits rounded toward the safe side: a soft minimum
        /// up, a soft maximum down). A value within a billionth of a unit of an integer is that
        /// integer: 1.134464 rad is 1 134 464 µrad, not one less for a floating-point residue.
        public static func micro(_ value: Double, rounding: FloatingPointRoundingRule) -> Int32 {
            directed(value * 1e6, rounding: rounding)
        }

        /// `milli` rounded in a chosen direction (torque caps down), with `micro(_:rounding:)`'s tolerance.
        public static func milli(_ value: Double, rounding: FloatingPointRoundingRule) -> Int32 {
            directed(value * 1e3, rounding: rounding)
        }

        /// A → mA (a STATE's motor current): nearest, saturated to Int16; non-finite → 0.
        public static func milliamperes(_ amperes: Double) -> Int16 {
            saturated16(amperes * 1e3)
        }

        /// °C → 0.1 °C (a STATE's temperature): nearest, saturated to Int16; non-finite → 0.
        public static func decidegrees(_ celsius: Double) -> Int16 {
            saturated16(celsius * 10)
        }

        // MARK: Wire → SI

        /// µrad → rad, µrad/s → rad/s.
        public static func fromMicro(_ value: Int32) -> Double {
            Double(value) * 1e-6
        }

        /// mN·m → N·m (and the gains' m-scaled units).
        public static func fromMilli(_ value: Int32) -> Double {
            Double(value) * 1e-3
        }

        /// mA → A.
        public static func amperes(milliamperes: Int16) -> Double {
            Double(milliamperes) * 1e-3
        }

        /// 0.1 °C → °C.
        public static func celsius(decidegrees: Int16) -> Double {
            Double(decidegrees) * 0.1
        }

        // MARK: Helpers

        private static func saturated(_ scaled: Double) -> Int32 {
            guard scaled.isFinite else { return 0 }
            return clamp32(scaled.rounded())
        }

        private static func directed(_ scaled: Double, rounding: FloatingPointRoundingRule) -> Int32 {
            guard scaled.isFinite else { return 0 }
            let nearest = scaled.rounded()
            let rounded = abs(scaled - nearest) < 1e-9 * max(1, abs(scaled)) ? nearest : scaled.rounded(rounding)
            return clamp32(rounded)
        }

        private static func clamp32(_ whole: Double) -> Int32 {
            Int32(min(max(whole, Double(Int32.min)), Double(Int32.max)))
        }

        private static func saturated16(_ scaled: Double) -> Int16 {
            guard scaled.isFinite else { return 0 }
            return Int16(min(max(scaled.rounded(), Double(Int16.min)), Double(Int16.max)))
        }
    }
}
