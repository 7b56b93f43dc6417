/// Numbers for people in the report, in clinical units: a fixed number of decimals, the unit, and
/// "—" for what is not known or not finite (a file may hold NaN or ±∞: the page never says "nan").
enum ReportFormat {
    static let degreesPerRadian = 180 / Double.pi

    /// `value` with `decimals` decimals, or "—".
    static func decimals(_ value: Double?, _ decimals: Int) -> String {
        guard let value, value.isFinite else { return "—" }
        return SVGPlot.fixedDecimals(value, decimals)
    }

    /// "49.9" (no unit: for a table whose header says [°]).
    static func degreesValue(radians: Double?, decimals: Int = 1) -> String {
        guard let radians else { return "—" }
        return Self.decimals(radians * degreesPerRadian, decimals)
    }

    /// "49.9°".
    static func degrees(radians: Double?, decimals: Int = 1) -> String {
        let text = degreesValue(radians: radians, decimals: decimals)
        return text == "—" ? text : text + "°"
    }

    /// "10.0 s", "0.25 s", "125 s".
    static func seconds(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "—" }
        let magnitude = abs(value)
        return SVGPlot.fixedDecimals(value, magnitude >= 100 ? 0 : magnitude >= 1 ? 1 : 2) + " s"
    }

    /// "80 %" of a fraction 0…1.
    static func percent(_ fraction: Double?) -> String {
        guard let fraction, fraction.isFinite else { return "—" }
        return SVGPlot.fixedDecimals(fraction * 100, 0) + " %"
    }

    /// "0.420 N·m".
    static func newtonMeters(_ value: Double?) -> String {
        let text = decimals(value, 3)
        return text == "—" ? text : text + " N·m"
    }

    /// "2 pauses", "1 pause".
    static func count(_ number: Int, _ singular: String, _ plural: String) -> String {
        "\(number) \(number == 1 ? singular : plural)"
    }

    static func html(_ text: String) -> String { SVGPlot.escape(text) }
}
