import Glibc

/// Inline SVG charts for the HTML reports: time series (decimated by min/max per pixel column, so a
/// one-cycle spike stays visible), a state timeline, histograms and sparklines. Event markers are
/// drawn on the series and the timeline with labels that never overlap and never leave the chart
/// (`MarkerLabelLayout`); when only their numbers fit, the chart lists them below itself.
///
/// Every chart is an `<svg class="plot">` with a viewBox and `width="100%"`: it scales to its
/// container (and to the printed page). A page that shows them includes `SVGPlot.stylesheet`.
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

    /// The CSS of the charts (classes used inside their SVG).
    static let stylesheet = """
        svg.plot{display:block;width:100%;height:auto;margin:4px 0 10px} svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;fill:#333}
        .grid{stroke:#eee} .frame{fill:none;stroke:#999} .axis{stroke:#999} .tick{fill:#555} .axislabel{fill:#222;font-weight:600}
        .legend{fill:#222} .bandlabel{text-anchor:middle}
        .mkline{stroke-width:1.4;fill:none} .mkline.mk-safety{stroke:#d62728;stroke-dasharray:4 2} .mkline.mk-interruption{stroke:#c77c00;stroke-dasharray:2 2}
        .mkline.mk-neutral{stroke:#888;stroke-dasharray:1 2}
        .mkbox{fill:#fff;stroke-width:1} .mkbox.mk-safety{stroke:#d62728} .mkbox.mk-interruption{stroke:#c77c00} .mkbox.mk-neutral{stroke:#999}
        svg text.mktext{font-weight:600} svg text.mk-safety{fill:#b00020} svg text.mk-interruption{fill:#8a5600} svg text.mk-neutral{fill:#555}
        svg.spark{display:inline-block;vertical-align:middle;margin:0 0 0 8px} .sparkline{fill:none;stroke:#1f77b4;stroke-width:1.5} .sparkdot{fill:#1f77b4}
        """

    struct Series {
        var name: String
        /// (x, y); y NaN breaks the line.
        var points: [(Double, Double)]
        var dashed = false
    }

    /// An event at `x` (in the chart's x units), numbered by its place in the list passed to a chart
    /// (1, 2, …): pass the same list to every chart of a page and the numbers agree.
    struct Marker {
        /// How it is drawn: red for a safety event, amber for an interruption, grey for a normal end.
        enum Kind {
            case safety
            case interruption
            case neutral

            var cssClass: String {
                switch self {
                case .safety: "mk-safety"
                case .interruption: "mk-interruption"
                case .neutral: "mk-neutral"
                }
            }

            var severity: Int {
                switch self {
                case .safety: 2
                case .interruption: 1
                case .neutral: 0
                }
            }
        }

        var x: Double
        var label: String
        var kind: Kind = .safety
    }

    // MARK: Time series

    /// Lines of `series` over a plot area `height` tall (the markers' label lane and legend add to it).
    static func lines(_ series: [Series], xLabel: String, yLabel: String, height: Double = 220, markers: [Marker] = []) -> String {
        let finite = series.flatMap { $0.points }.filter { $0.0.isFinite && $0.1.isFinite }
        guard !finite.isEmpty else { return empty(height: height, "no data") }
        let xRange = range(finite.map(\.0))
        let yRange = range(finite.map(\.1), pad: true)
        let plotWidth = width - left - right
        func px(_ x: Double) -> Double { left + fraction(x, of: xRange) * plotWidth }
        let lane = MarkerLane(markers, xRange: xRange, px: px, xUnit: unit(of: xLabel))
        let plotTop = top + lane.laneHeight
        let plotBottom = plotTop + height - top - bottom
        func py(_ y: Double) -> Double { plotTop + (1 - fraction(y, of: yRange)) * (plotBottom - plotTop) }
        var svg = open(height: plotBottom + bottom + lane.legendHeight)
        svg += axes(xRange: xRange, yRange: yRange, plotTop: plotTop, plotBottom: plotBottom, xLabel: xLabel, yLabel: yLabel, px: px, py: py)
        svg += lane.lines(from: plotTop, to: plotBottom)
        for (index, one) in series.enumerated() {
            let color = palette[index % palette.count]
            let dash = one.dashed ? #" stroke-dasharray="5 3""# : ""
            for path in decimatedPaths(one.points, px: px, py: py) {
                svg += #"<path d="\#(path)" fill="none" stroke="\#(color)" stroke-width="1.3"\#(dash)/>"#
            }
        }
        svg += lane.labels(edge: plotTop, above: true)
        svg += legend(series.map(\.name), y: plotBottom + bottom - 8)
        svg += lane.legend(top: plotBottom + bottom)
        return svg + "</svg>"
    }

    /// Min and max of each pixel column, joined: the line looks as it would at full resolution.
    private static func decimatedPaths(_ points: [(Double, Double)], px: (Double) -> Double, py: (Double) -> Double) -> [String] {
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

    /// The supervisor's states as coloured bands, the markers across them, their labels below.
    static func timeline(_ bands: [Band], markers: [Marker], xLabel: String) -> String {
        guard let first = bands.first, let last = bands.last else { return empty(height: 110, "no supervisor states") }
        let xRange = (first.start, max(last.end, first.start + 1e-9))
        let plotWidth = width - left - right
        func px(_ x: Double) -> Double { left + fraction(x, of: xRange) * plotWidth }
        let lane = MarkerLane(markers, xRange: xRange, px: px, xUnit: unit(of: xLabel))
        let barTop = top + 4
        let barHeight = 34.0
        let laneTop = barTop + barHeight + 4
        let axisY = laneTop + lane.laneHeight + 14
        // The axis title has a line of its own under the ticks: on the ticks' line a tick near the right
        // end ran into it (a browser check, 2026-12-07).
        let titleY = axisY + 14
        var svg = open(height: titleY + 8 + lane.legendHeight)
        for band in bands {
            let x0 = px(band.start)
            let x1 = max(px(band.end), x0 + 0.5)
            svg += #"<rect x="\#(fixed(x0))" y="\#(fixed(barTop))" width="\#(fixed(x1 - x0))" height="\#(fixed(barHeight))" fill="\#(stateColors[band.state] ?? "#cccccc")"><title>\#(escape(band.state)) \#(fixed(band.start))–\#(fixed(band.end)) s</title></rect>"#
            if x1 - x0 > 46 {
                svg += #"<text x="\#(fixed((x0 + x1) / 2))" y="\#(fixed(barTop + 22))" class="bandlabel">\#(escape(band.state))</text>"#
            }
        }
        svg += lane.lines(from: barTop - 4, to: laneTop)
        svg += lane.labels(edge: laneTop, above: false)
        for tick in ticks(xRange.0, xRange.1) {
            svg += #"<text x="\#(fixed(px(tick)))" y="\#(fixed(axisY))" class="tick" text-anchor="middle">\#(label(tick))</text>"#
        }
        svg += #"<text x="\#(fixed(width - right))" y="\#(fixed(titleY))" class="axislabel" text-anchor="end">\#(escape(xLabel))</text>"#
        svg += lane.legend(top: titleY + 8)
        return svg + "</svg>"
    }

    // MARK: Markers

    /// The markers of one chart inside its x range, their labels' layout in a lane along the chart,
    /// and the legend below the chart that lists them by number when the labels are not their texts.
    private struct MarkerLane {
        struct Visible {
            var number: Int
            var marker: Marker
            var x: Double
        }

        static let rowHeight = 15.0
        static let boxHeight = 13.0
        static let legendRowHeight = 14.0
        /// More than this many in a legend: the rest are counted, the page lists them all.
        static let legendLimit = 40

        let visible: [Visible]
        let layout: MarkerLabelLayout
        let xUnit: String
        let legendLines: [[Visible]]
        let omitted: Int

        init(_ markers: [Marker], xRange: (Double, Double), px: (Double) -> Double, xUnit: String) {
            visible = markers.enumerated().compactMap { index, marker in
                guard marker.x.isFinite, marker.x >= xRange.0, marker.x <= xRange.1 else { return nil }
                return Visible(number: index + 1, marker: marker, x: px(marker.x))
            }
            layout = MarkerLabelLayout.place(
                anchors: visible.map(\.x), texts: visible.map { "\($0.number) \($0.marker.label)" }, numbers: visible.map(\.number),
                bounds: SVGPlot.left...(SVGPlot.width - SVGPlot.right))
            self.xUnit = xUnit
            // The legend flows its entries into lines of the chart's width.
            var lines: [[Visible]] = []
            var used = Double.infinity
            let listed = layout.style == .fullText ? [] : Array(visible.prefix(Self.legendLimit))
            for entry in listed {
                let entryWidth = min(MarkerLabelLayout.estimatedWidth(Self.legendText(entry, unit: xUnit)), SVGPlot.width - SVGPlot.left - SVGPlot.right) + 14
                if used + entryWidth > SVGPlot.width - SVGPlot.left - SVGPlot.right {
                    lines.append([])
                    used = 0
                }
                lines[lines.count - 1].append(entry)
                used += entryWidth
            }
            legendLines = lines
            omitted = layout.style == .fullText ? 0 : max(0, visible.count - Self.legendLimit)
        }

        var laneHeight: Double { layout.rowCount == 0 ? 0 : Double(layout.rowCount) * Self.rowHeight + 4 }

        var legendHeight: Double {
            let lines = legendLines.count + (omitted > 0 ? 1 : 0)
            return lines == 0 ? 0 : Double(lines) * Self.legendRowHeight + 6
        }

        /// "3 · 12.50 s · Pause — the operator paused the exercise (SR-12)" (the time as in the page's list).
        static func legendText(_ entry: Visible, unit: String) -> String {
            "\(entry.number) · \(SVGPlot.fixedDecimals(entry.marker.x, 2))\(unit.isEmpty ? "" : " " + unit) · \(entry.marker.label)"
        }

        /// Each marker's line across the chart, from `from` to `to`.
        func lines(from: Double, to: Double) -> String {
            visible.map { entry in
                #"<line x1="\#(SVGPlot.fixed(entry.x))" y1="\#(SVGPlot.fixed(from))" x2="\#(SVGPlot.fixed(entry.x))" y2="\#(SVGPlot.fixed(to))" class="mkline \#(entry.marker.kind.cssClass)"/>"#
            }.joined()
        }

        /// The labels in their rows, above `edge` (row 0 next to it) or below it, each with leader
        /// lines to its markers and its full text as a tooltip.
        func labels(edge: Double, above: Bool) -> String {
            var svg = ""
            for box in layout.boxes {
                let entries = box.markers.map { visible[$0] }
                let kind = entries.map(\.marker.kind).max { $0.severity < $1.severity } ?? .neutral
                let boxTop = above
                    ? edge - 2 - Double(box.row + 1) * Self.rowHeight + (Self.rowHeight - Self.boxHeight)
                    : edge + 2 + Double(box.row) * Self.rowHeight
                let near = above ? boxTop + Self.boxHeight : boxTop
                let tooltip = entries.map { "\($0.number) \($0.marker.label)" }.joined(separator: "\n")
                svg += "<g><title>\(SVGPlot.escape(tooltip))</title>"
                for entry in entries {
                    let from = min(max(entry.x, box.left + 2), box.right - 2)
                    svg += #"<path d="M\#(SVGPlot.fixed(from)) \#(SVGPlot.fixed(near))L\#(SVGPlot.fixed(entry.x)) \#(SVGPlot.fixed(edge))" class="mkline \#(kind.cssClass)"/>"#
                }
                svg += #"<rect x="\#(SVGPlot.fixed(box.left))" y="\#(SVGPlot.fixed(boxTop))" width="\#(SVGPlot.fixed(box.right - box.left))" height="\#(SVGPlot.fixed(Self.boxHeight))" rx="2" class="mkbox \#(kind.cssClass)"/>"#
                svg += #"<text x="\#(SVGPlot.fixed(box.left + 4))" y="\#(SVGPlot.fixed(boxTop + 10))" class="mktext \#(kind.cssClass)">\#(SVGPlot.escape(box.text))</text>"#
                svg += "</g>"
            }
            return svg
        }

        /// The numbered list below the chart (nothing when the labels are the full texts).
        func legend(top: Double) -> String {
            var svg = ""
            let available = SVGPlot.width - SVGPlot.left - SVGPlot.right
            for (row, line) in legendLines.enumerated() {
                var x = SVGPlot.left
                let y = top + Double(row + 1) * Self.legendRowHeight
                for entry in line {
                    let text = Self.fitted(Self.legendText(entry, unit: xUnit), within: available)
                    svg += #"<text x="\#(SVGPlot.fixed(x))" y="\#(SVGPlot.fixed(y))" class="mktext \#(entry.marker.kind.cssClass)">\#(SVGPlot.escape(text))</text>"#
                    x += MarkerLabelLayout.estimatedWidth(text) + 14
                }
            }
            if omitted > 0 {
                let y = top + Double(legendLines.count + 1) * Self.legendRowHeight
                svg += #"<text x="\#(SVGPlot.fixed(SVGPlot.left))" y="\#(SVGPlot.fixed(y))" class="legend">… and \#(omitted) more (the page lists every event)</text>"#
            }
            return svg
        }

        /// `text`, cut with "…" so that it is no wider than `available`.
        static func fitted(_ text: String, within available: Double) -> String {
            guard MarkerLabelLayout.estimatedWidth(text) > available else { return text }
            var characters = Array(text)
            while !characters.isEmpty && MarkerLabelLayout.estimatedWidth(String(characters) + "…") > available { characters.removeLast() }
            return String(characters) + "…"
        }
    }

    /// "s" of "time [s]": the unit in an axis label's brackets ("" without).
    static func unit(of axisLabel: String) -> String {
        guard let open = axisLabel.lastIndex(of: "["), let close = axisLabel.lastIndex(of: "]"), open < close else { return "" }
        return String(axisLabel[axisLabel.index(after: open)..<close])
    }

    // MARK: Sparkline

    /// A small line of `values` for a table cell (assistance per repetition): a dot per value, the
    /// scale from 0 (or the lowest value, when below) to the highest. Empty for fewer than two values.
    static func sparkline(_ values: [Double], title: String, width: Double = 140, height: Double = 30) -> String {
        let finite = values.enumerated().filter { $0.element.isFinite }
        guard finite.count >= 2 else { return "" }
        let low = min(0, finite.map { $0.element }.min() ?? 0)
        let high = finite.map { $0.element }.max() ?? 1
        let scale = range([low, high])
        let pad = 4.0
        func x(_ index: Int) -> Double { pad + Double(index) / Double(max(1, values.count - 1)) * (width - 2 * pad) }
        func y(_ value: Double) -> Double { height - pad - fraction(value, of: scale) * (height - 2 * pad) }
        var svg = #"<svg class="spark" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(fixed(width)) \#(fixed(height))" width="\#(fixed(width))" height="\#(fixed(height))" role="img"><title>\#(escape(title))</title>"#
        svg += #"<line x1="\#(fixed(pad))" y1="\#(fixed(y(scale.0)))" x2="\#(fixed(width - pad))" y2="\#(fixed(y(scale.0)))" class="axis"/>"#
        svg += #"<polyline class="sparkline" points="\#(finite.map { "\(fixed(x($0.offset))),\(fixed(y($0.element)))" }.joined(separator: " "))"/>"#
        for point in finite {
            svg += #"<circle class="sparkdot" cx="\#(fixed(x(point.offset)))" cy="\#(fixed(y(point.element)))" r="2"/>"#
        }
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
        // At least one unit wide: all zeros (a virtual-time recording's wake latency) made a 1e-9 axis whose
        // "0.00000" ticks ran off the chart (a browser check, 2026-12-07).
        let upper = min(
            max(sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.999))] * 1.2, sorted[0] + 1e-9, 1), .greatestFiniteMagnitude)
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
        let xTicks = ticks(0, upper)
        for tick in xTicks {
            let x = left + tick / upper * plotWidth
            svg += #"<text x="\#(fixed(x))" y="\#(fixed(top + plotHeight + 16))" class="tick" text-anchor="middle">\#(tickLabel(tick, of: xTicks))</text>"#
        }
        svg += #"<text x="\#(fixed(width - right))" y="\#(fixed(height - 4))" class="axislabel" text-anchor="end">\#(escape(xLabel)) (last bar: ≥ \#(label(upper * Double(binCount - 1) / Double(binCount))))</text>"#
        svg += #"<text x="14" y="\#(fixed(top + plotHeight / 2))" class="axislabel" transform="rotate(-90 14 \#(fixed(top + plotHeight / 2)))" text-anchor="middle">cycles (log scale)</text>"#
        svg += #"<text x="\#(fixed(left - 6))" y="\#(fixed(top + 4))" class="tick" text-anchor="end">\#(bins.max() ?? 0)</text>"#
        svg += #"<text x="\#(fixed(left - 6))" y="\#(fixed(top + plotHeight))" class="tick" text-anchor="end">0</text>"#
        return svg + "</svg>"
    }

    // MARK: Pieces

    private static func open(height: Double) -> String {
        #"<svg class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(fixed(width)) \#(fixed(height))" width="100%" role="img">"#
    }

    private static func empty(height: Double, _ message: String) -> String {
        open(height: 40) + #"<text x="\#(fixed(left))" y="24" class="axislabel">\#(escape(message))</text></svg>"#
    }

    private static func axes(
        xRange: (Double, Double), yRange: (Double, Double), plotTop: Double, plotBottom: Double, xLabel: String, yLabel: String,
        px: (Double) -> Double, py: (Double) -> Double
    ) -> String {
        var svg = ""
        let yTicks = ticks(yRange.0, yRange.1)
        for tick in yTicks {
            let y = fixed(py(tick))
            svg += #"<line x1="\#(fixed(left))" y1="\#(y)" x2="\#(fixed(width - right))" y2="\#(y)" class="grid"/>"#
            svg += #"<text x="\#(fixed(left - 6))" y="\#(y)" class="tick" text-anchor="end" dominant-baseline="middle">\#(tickLabel(tick, of: yTicks))</text>"#
        }
        let xTicks = ticks(xRange.0, xRange.1)
        for tick in xTicks {
            let x = fixed(px(tick))
            svg += #"<line x1="\#(x)" y1="\#(fixed(plotTop))" x2="\#(x)" y2="\#(fixed(plotBottom))" class="grid"/>"#
            svg += #"<text x="\#(x)" y="\#(fixed(plotBottom + 14))" class="tick" text-anchor="middle">\#(tickLabel(tick, of: xTicks))</text>"#
        }
        svg += #"<rect x="\#(fixed(left))" y="\#(fixed(plotTop))" width="\#(fixed(width - left - right))" height="\#(fixed(plotBottom - plotTop))" class="frame"/>"#
        svg += #"<text x="\#(fixed(width - right))" y="\#(fixed(plotBottom + 28))" class="axislabel" text-anchor="end">\#(escape(xLabel))</text>"#
        let middle = fixed(plotTop + (plotBottom - plotTop) / 2)
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

    /// A tick's label with the decimals its axis's step needs, the same on every tick of the axis
    /// (steps of 0.01: "-0.01", not "-0.01000", which ran into the axis title in a browser check).
    static func tickLabel(_ value: Double, of ticks: [Double]) -> String {
        guard ticks.count >= 2 else { return label(value) }
        let step = abs(ticks[1] - ticks[0])
        guard step > 0, step.isFinite, step < 1e9 else { return label(value) }
        var decimals = 0
        while decimals < 6 {
            let scaled = step * pow10(Double(decimals))
            if abs(scaled - scaled.rounded()) <= 1e-6 * scaled { break }
            decimals += 1
        }
        return fixedDecimals(value, decimals)
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
