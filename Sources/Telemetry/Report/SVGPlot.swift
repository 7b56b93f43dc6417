import Glibc

/// Inline SVG charts for the HTML report: time series (decimated by min/max per pixel column, so a
/// one-cycle spike stays visible), a state timeline with markers, and histograms.
///
/// The values come from a file (any double: NaN, ±∞, 1e308): nothing here converts a double to an
/// integer without clamping it first, and non-finite values are skipped or drawn at 0.
enum SVGPlot {
    static let width = 920.0
    static let left = 64.0
    static let right = 16.0
    static let top = 12.0
    static let bottom = 40.0
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]

    struct Series {
        var name: String
        /// (x, y); y NaN breaks the line.
        var points: [(Double, Double)]
        var dashed = false
    }

    struct Marker {
        var x: Double
        var label: String
    }

    // MARK: Time series

    static func lines(_ series: [Series], xLabel: String, yLabel: String, height: Double = 220, markers: [Marker] = []) -> String {
        let finite = series.flatMap { $0.points }.filter { $0.0.isFinite && $0.1.isFinite }
        guard !finite.isEmpty else { return empty(height: height, "no data") }
        let xRange = range(finite.map(\.0))
        let yRange = range(finite.map(\.1), pad: true)
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        func px(_ x: Double) -> Double { left + fraction(x, of: xRange) * plotWidth }
        func py(_ y: Double) -> Double { top + (1 - fraction(y, of: yRange)) * plotHeight }
        var svg = open(height: height)
        svg += axes(xRange: xRange, yRange: yRange, height: height, xLabel: xLabel, yLabel: yLabel, px: px, py: py)
        for marker in markers where marker.x >= xRange.0 && marker.x <= xRange.1 {
            let x = fixed(px(marker.x))
            svg += #"<line x1="\#(x)" y1="\#(fixed(top))" x2="\#(x)" y2="\#(fixed(top + plotHeight))" class="fault"/>"#
            svg += #"<text x="\#(x)" y="\#(fixed(top + 10))" class="faultlabel"\#(anchor(px(marker.x)))>\#(escape(marker.label))</text>"#
        }
        for (index, one) in series.enumerated() {
            let color = palette[index % palette.count]
            let dash = one.dashed ? #" stroke-dasharray="5 3""# : ""
            for path in decimatedPaths(one.points, columns: Int(plotWidth), px: px, py: py) {
                svg += #"<path d="\#(path)" fill="none" stroke="\#(color)" stroke-width="1.3"\#(dash)/>"#
            }
        }
        svg += legend(series.map(\.name), y: height - 8)
        return svg + "</svg>"
    }

    /// Min and max of each pixel column, joined: the line looks as it would at full resolution.
    private static func decimatedPaths(_ points: [(Double, Double)], columns: Int, px: (Double) -> Double, py: (Double) -> Double) -> [String] {
        var paths: [String] = []
        var current = ""
        var column = Int.min
        var low = Double.infinity
        var high = -Double.infinity
        var firstInColumn = 0.0
        var lastInColumn = 0.0
        func flush() {
            guard column != Int.min, low.isFinite else { return }
            let x = fixed(Double(column))
            let command = current.isEmpty ? "M" : "L"
            // Enter at the first value, visit the extremes, leave at the last: keeps spikes and slopes.
            current += "\(command)\(x) \(fixed(py(firstInColumn)))"
            if high != low { current += "L\(x) \(fixed(py(low)))L\(x) \(fixed(py(high)))" }
            current += "L\(x) \(fixed(py(lastInColumn)))"
        }
        for (x, y) in points where x.isFinite {
            guard y.isFinite else {
                flush()
                column = Int.min
                if !current.isEmpty { paths.append(current) }
                current = ""
                low = .infinity
                high = -.infinity
                continue
            }
            let c = clampedInteger(px(x).rounded(), -1_000_000...1_000_000)
            if c != column {
                flush()
                column = c
                low = y
                high = y
                firstInColumn = y
            }
            low = min(low, y)
            high = max(high, y)
            lastInColumn = y
        }
        flush()
        if !current.isEmpty { paths.append(current) }
        _ = columns
        return paths
    }

    // MARK: State timeline

    struct Band {
        var start: Double
        var end: Double
        var state: String
    }

    static let stateColors: [String: String] = [
        "disabled": "#bbbbbb", "self_test": "#9edae5", "idle": "#dddddd", "ready": "#aec7e8", "active": "#98df8a",
        "paused": "#ffdd71", "stopping": "#ffbb78", "fault": "#ff9896", "estop": "#d62728",
    ]

    static func timeline(_ bands: [Band], markers: [Marker], xLabel: String) -> String {
        let height = 110.0
        guard let first = bands.first, let last = bands.last else { return empty(height: height, "no supervisor states") }
        let xRange = (first.start, max(last.end, first.start + 1e-9))
        let plotWidth = width - left - right
        func px(_ x: Double) -> Double { left + (x - xRange.0) / (xRange.1 - xRange.0) * plotWidth }
        var svg = open(height: height)
        let barTop = top + 4
        let barHeight = 34.0
        for band in bands {
            let x0 = px(band.start)
            let x1 = max(px(band.end), x0 + 0.5)
            svg += #"<rect x="\#(fixed(x0))" y="\#(fixed(barTop))" width="\#(fixed(x1 - x0))" height="\#(fixed(barHeight))" fill="\#(stateColors[band.state] ?? "#cccccc")"><title>\#(escape(band.state)) \#(fixed(band.start))–\#(fixed(band.end)) s</title></rect>"#
            if x1 - x0 > 46 {
                svg += #"<text x="\#(fixed((x0 + x1) / 2))" y="\#(fixed(barTop + 22))" class="bandlabel">\#(escape(band.state))</text>"#
            }
        }
        for marker in markers {
            let x = fixed(px(marker.x))
            svg += #"<line x1="\#(x)" y1="\#(fixed(barTop - 4))" x2="\#(x)" y2="\#(fixed(barTop + barHeight + 8))" class="fault"/>"#
            svg += #"<text x="\#(x)" y="\#(fixed(barTop + barHeight + 20))" class="faultlabel"\#(anchor(px(marker.x)))>▲ \#(escape(marker.label))</text>"#
        }
        for tick in ticks(xRange.0, xRange.1) {
            svg += #"<text x="\#(fixed(px(tick)))" y="\#(fixed(height - 6))" class="tick" text-anchor="middle">\#(label(tick))</text>"#
        }
        svg += #"<text x="\#(fixed(width - right))" y="\#(fixed(height - 6))" class="axislabel" text-anchor="end">\#(escape(xLabel))</text>"#
        return svg + "</svg>"
    }

    // MARK: Histogram

    /// Bars of `values` in `binCount` bins from 0 to the 99.9th percentile × 1.2; the last bin
    /// holds everything above. Counts on a log scale, so rare long waits show.
    static func histogram(_ values: [Double], xLabel: String, binCount: Int = 60) -> String {
        let height = 200.0
        let finite = values.filter(\.isFinite)
        guard !finite.isEmpty, binCount > 0 else { return empty(height: height, "not measured") }
        let sorted = finite.sorted()
        let upper = min(
            max(sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.999))] * 1.2, sorted[0] + 1e-9, 1e-9), .greatestFiniteMagnitude)
        var bins = [Int](repeating: 0, count: binCount)
        // A value far above the percentile (one long stall among thousands of short waits) lands in the last bin.
        for value in finite { bins[clampedInteger((value / upper * Double(binCount)).rounded(.towardZero), 0...(binCount - 1))] += 1 }
        let peak = log10(Double(bins.max() ?? 1) + 1)
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        var svg = open(height: height)
        svg += #"<line x1="\#(fixed(left))" y1="\#(fixed(top + plotHeight))" x2="\#(fixed(width - right))" y2="\#(fixed(top + plotHeight))" class="axis"/>"#
        let barWidth = plotWidth / Double(binCount)
        for (index, count) in bins.enumerated() where count > 0 {
            let barHeight = log10(Double(count) + 1) / peak * plotHeight
            let title = index == binCount - 1 ? "≥ \(label(upper * Double(index) / Double(binCount)))" : "\(label(upper * Double(index) / Double(binCount)))–\(label(upper * Double(index + 1) / Double(binCount)))"
            svg += #"<rect x="\#(fixed(left + Double(index) * barWidth))" y="\#(fixed(top + plotHeight - barHeight))" width="\#(fixed(max(1, barWidth - 1)))" height="\#(fixed(barHeight))" fill="\#(palette[0])"><title>\#(title): \#(count) cycles</title></rect>"#
        }
        for tick in ticks(0, upper) {
            let x = left + tick / upper * plotWidth
            svg += #"<text x="\#(fixed(x))" y="\#(fixed(top + plotHeight + 16))" class="tick" text-anchor="middle">\#(label(tick))</text>"#
        }
        svg += #"<text x="\#(fixed(width - right))" y="\#(fixed(height - 4))" class="axislabel" text-anchor="end">\#(escape(xLabel)) (last bar: ≥ \#(label(upper * Double(binCount - 1) / Double(binCount))))</text>"#
        svg += #"<text x="14" y="\#(fixed(top + plotHeight / 2))" class="axislabel" transform="rotate(-90 14 \#(fixed(top + plotHeight / 2)))" text-anchor="middle">cycles (log scale)</text>"#
        svg += #"<text x="\#(fixed(left - 6))" y="\#(fixed(top + 4))" class="tick" text-anchor="end">\#(bins.max() ?? 0)</text>"#
        svg += #"<text x="\#(fixed(left - 6))" y="\#(fixed(top + plotHeight))" class="tick" text-anchor="end">0</text>"#
        return svg + "</svg>"
    }

    // MARK: Pieces

    /// Labels near the right edge end at their marker instead of running off the chart.
    private static func anchor(_ x: Double) -> String {
        x > width * 0.7 ? #" text-anchor="end""# : ""
    }

    private static func open(height: Double) -> String {
        #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(fixed(width)) \#(fixed(height))" width="100%" role="img">"#
    }

    private static func empty(height: Double, _ message: String) -> String {
        open(height: 40) + #"<text x="\#(fixed(left))" y="24" class="axislabel">\#(escape(message))</text></svg>"#
    }

    private static func axes(
        xRange: (Double, Double), yRange: (Double, Double), height: Double, xLabel: String, yLabel: String,
        px: (Double) -> Double, py: (Double) -> Double
    ) -> String {
        let plotBottom = height - bottom
        var svg = ""
        for tick in ticks(yRange.0, yRange.1) {
            let y = fixed(py(tick))
            svg += #"<line x1="\#(fixed(left))" y1="\#(y)" x2="\#(fixed(width - right))" y2="\#(y)" class="grid"/>"#
            svg += #"<text x="\#(fixed(left - 6))" y="\#(y)" class="tick" text-anchor="end" dominant-baseline="middle">\#(label(tick))</text>"#
        }
        for tick in ticks(xRange.0, xRange.1) {
            let x = fixed(px(tick))
            svg += #"<line x1="\#(x)" y1="\#(fixed(top))" x2="\#(x)" y2="\#(fixed(plotBottom))" class="grid"/>"#
            svg += #"<text x="\#(x)" y="\#(fixed(plotBottom + 14))" class="tick" text-anchor="middle">\#(label(tick))</text>"#
        }
        svg += #"<rect x="\#(fixed(left))" y="\#(fixed(top))" width="\#(fixed(width - left - right))" height="\#(fixed(plotBottom - top))" class="frame"/>"#
        svg += #"<text x="\#(fixed(width - right))" y="\#(fixed(plotBottom + 28))" class="axislabel" text-anchor="end">\#(escape(xLabel))</text>"#
        let middle = fixed(top + (plotBottom - top) / 2)
        svg += #"<text x="14" y="\#(middle)" class="axislabel" transform="rotate(-90 14 \#(middle))" text-anchor="middle">\#(escape(yLabel))</text>"#
        return svg
    }

    private static func legend(_ names: [String], y: Double) -> String {
        var svg = ""
        var x = left
        for (index, name) in names.enumerated() {
            svg += #"<rect x="\#(fixed(x))" y="\#(fixed(y - 8))" width="14" height="3" fill="\#(palette[index % palette.count])"/>"#
            svg += #"<text x="\#(fixed(x + 18))" y="\#(fixed(y - 4))" class="legend">\#(escape(name))</text>"#
            x += 30 + Double(name.count) * 6.5
        }
        return svg
    }

    /// Low…high of finite `values`, widened when they are all equal, padded by 5 % with `pad`; always
    /// finite (the span of ±1e308 is not a double: `fraction` works in halves).
    static func range(_ values: [Double], pad: Bool = false) -> (Double, Double) {
        var low = values.min() ?? 0
        var high = values.max() ?? 1
        if high - low < 1e-12 {
            // ±1, or more where 1 is below the values' resolution (9.3e18 + 1 is 9.3e18).
            let widen = max(1, abs(low) * 1e-9, abs(high) * 1e-9)
            low -= widen
            high += widen
        } else if pad {
            let margin = (high - low).isFinite ? (high - low) * 0.05 : (high / 2 - low / 2) * 0.1
            low -= margin
            high += margin
        }
        return (max(low, -.greatestFiniteMagnitude), min(high, .greatestFiniteMagnitude))
    }

    /// Where `value` lies in `range` (one from `range(_:pad:)`), 0 at its low end, 1 at its high end;
    /// finite for a finite value, even when the span itself overflows.
    static func fraction(_ value: Double, of range: (Double, Double)) -> Double {
        let span = range.1 - range.0
        if span.isFinite { return (value - range.0) / span }
        return (value / 2 - range.0 / 2) / (range.1 / 2 - range.0 / 2)
    }

    /// `value` as an integer within `bounds`: clamped, NaN to the lower bound. Never traps.
    static func clampedInteger(_ value: Double, _ bounds: ClosedRange<Int>) -> Int {
        guard value > Double(bounds.lowerBound) else { return bounds.lowerBound }
        guard value < Double(bounds.upperBound) else { return bounds.upperBound }
        return Int(value)
    }

    /// About five round tick values covering low…high.
    static func ticks(_ low: Double, _ high: Double) -> [Double] {
        let span = high - low
        guard span > 0, span.isFinite else { return [] }
        let raw = span / 5
        let magnitude = pow10(floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var values: [Double] = []
        var tick = (low / step).rounded(.up) * step
        while tick <= high + step * 1e-9 && values.count < 20 {
            values.append(abs(tick) < step * 1e-9 ? 0 : tick)
            tick += step
        }
        return values
    }

    static func label(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e9 { return String(Int64(value)) }
        let magnitude = abs(value)
        let decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : magnitude >= 0.01 ? 3 : 5
        return fixedDecimals(value, decimals)
    }

    static func fixed(_ value: Double) -> String { fixedDecimals(value, 1) }

    static func fixedDecimals(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "0" }
        let scale = pow10(Double(decimals))
        let scaled = (value * scale).rounded()
        // Past 1e15 a double has no decimals left to show, and past 9.2e18 it is no Int64: plain notation.
        guard abs(scaled) < 1e15 else { return "\(value)" }
        let negative = scaled < 0
        let digits = String(Int64(abs(scaled)))
        guard decimals > 0 else { return (negative ? "-" : "") + digits }
        let padded = String(repeating: "0", count: max(0, decimals + 1 - digits.count)) + digits
        let cut = padded.index(padded.endIndex, offsetBy: -decimals)
        return (negative ? "-" : "") + padded[..<cut] + "." + padded[cut...]
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }

    private static func pow10(_ exponent: Double) -> Double { pow(10, exponent) }
}
