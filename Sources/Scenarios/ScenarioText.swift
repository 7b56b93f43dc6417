/// Numbers and escapes for the scenario layer's messages and reports.
public enum ScenarioText {
    /// At most `decimals` decimals, trailing zeros dropped: "2", "0.98", "1500", "-0.5"; "NaN", "∞".
    public static func number(_ value: Double, decimals: Int = 3) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "∞" : "-∞") }
        var scale = 1.0
        for _ in 0..<max(0, decimals) { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        if rounded == rounded.rounded() && abs(rounded) < 1e15 {
            return String(Int64(rounded))
        }
        // Whole part and fraction written out, so that no exponent ("1e-05") and no binary residue shows.
        let negative = rounded < 0
        let magnitude = abs(rounded)
        let whole = magnitude.rounded(.down)
        guard whole < 1e15 else { return String(rounded) }
        var fraction = Int64(((magnitude - whole) * scale).rounded())
        var wholeDigits = Int64(whole)
        if Double(fraction) >= scale {
            wholeDigits += 1
            fraction = 0
        }
        var fractionText = String(fraction)
        fractionText = String(repeating: "0", count: max(0, decimals - fractionText.count)) + fractionText
        while fractionText.hasSuffix("0") { fractionText.removeLast() }
        let text = fractionText.isEmpty ? String(wholeDigits) : "\(wholeDigits).\(fractionText)"
        return negative ? "-" + text : text
    }

    /// Nanoseconds as milliseconds with up to 3 decimals: 2_000_500 → "2.001".
    public static func milliseconds(_ nanoseconds: Int64) -> String {
        number(Double(nanoseconds) / 1e6)
    }

    /// Text for XML (JUnit) and HTML: `& < > " '` escaped, and characters XML 1.0 cannot carry
    /// (control characters other than tab, line feed and carriage return) replaced by U+FFFD. In an
    /// attribute, line breaks and tabs are written as character references, so that they survive
    /// attribute-value normalisation.
    public static func xmlEscaped(_ text: String, attribute: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += attribute ? "&#10;" : "\n"
            case "\r": out += "&#13;"
            case "\t": out += attribute ? "&#9;" : "\t"
            default:
                let value = scalar.value
                if value < 0x20 || value == 0xFFFE || value == 0xFFFF {
                    out.unicodeScalars.append("\u{FFFD}")
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// Text for a Markdown table cell: `|` escaped, line breaks made spaces, and the characters that
    /// would start markup (`*`, `_`, `` ` ``, `<`, `[`) escaped with a backslash.
    public static func markdownCell(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "|", "\\", "*", "_", "`", "<", ">", "[", "]": out += "\\" + String(character)
            case "\n", "\r", "\r\n", "\t": out += " "
            default: out.append(character)
            }
        }
        return out
    }
}
