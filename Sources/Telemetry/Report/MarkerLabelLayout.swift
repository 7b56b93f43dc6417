/// Where the labels of a plot's event markers go, so that every one can be read: in up to `rows`
/// rows of a lane along the plot, each label's box inside `bounds`, and no two boxes of one row
/// closer than `gap` (boxes of different rows never meet: a row is taller than its text).
///
/// Tried in order, until everything fits:
/// 1. every marker's full text, its box over its marker (near the right edge it ends there);
/// 2. every marker's number, moved sideways at most `maximumNumberShift` from its marker;
/// 3. neighbouring markers under one tag ("3–7"), the closest grouped first, down to one tag.
///
/// The plot lists every marker with its number and full text below itself whenever the labels are
/// not the full texts. Pure: tested with positions and widths alone (`TherapistReportTests`).
public struct MarkerLabelLayout: Sendable, Equatable {
    /// What the labels show.
    public enum Style: Sendable, Equatable {
        case fullText
        case numbers
        case groups
    }

    /// One label.
    public struct Box: Sendable, Equatable {
        /// The box's edges [px].
        public var left: Double
        public var right: Double
        /// 0: the row next to the plot.
        public var row: Int
        public var text: String
        /// The markers it stands for: indices into the layout's input, in the order of their positions.
        public var markers: [Int]
        /// Where its markers are (the middle of a group) [px]: its leader line ends there.
        public var anchor: Double
    }

    public var style: Style
    public var boxes: [Box]

    public init(style: Style, boxes: [Box]) {
        self.style = style
        self.boxes = boxes
    }

    /// Rows the labels take (0 without markers).
    public var rowCount: Int { boxes.reduce(0) { max($0, $1.row + 1) } }

    /// The labels of markers at `anchors` [px] with `texts` (full) and `numbers` (what the legend
    /// below the plot lists them by); `width` measures a label's box [px].
    public static func place(
        anchors: [Double], texts: [String], numbers: [Int], bounds: ClosedRange<Double>, rows: Int = 3, gap: Double = 4,
        maximumNumberShift: Double = 24, width: (String) -> Double = MarkerLabelLayout.estimatedWidth
    ) -> MarkerLabelLayout {
        let count = min(anchors.count, texts.count, numbers.count)
        guard count > 0 else { return MarkerLabelLayout(style: .fullText, boxes: []) }
        let rowLimit = max(1, rows)
        // A position a file gave (NaN, far outside) is drawn at the nearest edge, never outside.
        let positions = (0..<count).map { anchors[$0].isFinite ? min(max(anchors[$0], bounds.lowerBound), bounds.upperBound) : bounds.lowerBound }
        let order = (0..<count).sorted { (positions[$0], $0) < (positions[$1], $1) }

        func attempt(_ groups: [[Int]], style: Style, text: ([Int]) -> String, maximumShift: Double) -> MarkerLabelLayout? {
            let labels = groups.map(text)
            let centres = groups.map { group in (positions[group[0]] + positions[group[group.count - 1]]) / 2 }
            guard let slots = pack(anchors: centres, widths: labels.map(width), bounds: bounds, rows: rowLimit, gap: gap, maximumShift: maximumShift) else {
                return nil
            }
            let boxes = groups.indices.map { index in
                Box(left: slots[index].left, right: slots[index].left + width(labels[index]), row: slots[index].row, text: labels[index],
                    markers: groups[index], anchor: centres[index])
            }
            return MarkerLabelLayout(style: style, boxes: boxes)
        }

        let singles = order.map { [$0] }
        if let layout = attempt(singles, style: .fullText, text: { texts[$0[0]] }, maximumShift: 0) { return layout }
        if let layout = attempt(singles, style: .numbers, text: { String(numbers[$0[0]]) }, maximumShift: maximumNumberShift) {
            return layout
        }
        func groupText(_ group: [Int]) -> String { rangesText(group.map { numbers[$0] }) }
        // Single linkage on the position: markers closer than `threshold` share a tag. Doubling the
        // threshold ends in one group after at most a few dozen rounds (the span is finite).
        var threshold = max(gap, 8)
        for _ in 0..<64 {
            var groups: [[Int]] = []
            for index in order {
                if let last = groups.last?.last, positions[index] - positions[last] <= threshold {
                    groups[groups.count - 1].append(index)
                } else {
                    groups.append([index])
                }
            }
            if let layout = attempt(groups, style: .groups, text: groupText, maximumShift: maximumNumberShift) { return layout }
            if groups.count == 1 { break }
            threshold *= 2
        }
        // One tag wider than the plot itself (a plot a few pixels wide): it keeps to the bounds.
        let text = groupText(order)
        let right = min(bounds.lowerBound + width(text), bounds.upperBound)
        return MarkerLabelLayout(style: .groups, boxes: [
            Box(left: bounds.lowerBound, right: right, row: 0, text: text, markers: order,
                anchor: (positions[order[0]] + positions[order[order.count - 1]]) / 2)
        ])
    }

    /// Left edges and rows for boxes of `widths` near `anchors`, or nil when they do not all fit.
    /// A box starts a little left of its anchor (clamped into `bounds`), in the first row where it
    /// meets no other box, moved right past the boxes in its way as long as its left edge stays
    /// within `maximumShift` of its anchor.
    private static func pack(
        anchors: [Double], widths: [Double], bounds: ClosedRange<Double>, rows: Int, gap: Double, maximumShift: Double
    ) -> [(left: Double, row: Int)]? {
        // Each row's boxes in order: they do not overlap, so they are sorted by both edges.
        var placed = [[(left: Double, right: Double)]](repeating: [], count: rows)
        var slots = [(left: Double, row: Int)](repeating: (0, 0), count: anchors.count)
        let order = anchors.indices.sorted { (anchors[$0], $0) < (anchors[$1], $1) }
        for index in order {
            let width = widths[index]
            guard width.isFinite, width >= 0, width <= bounds.upperBound - bounds.lowerBound else { return nil }
            let anchor = anchors[index]
            let preferred = min(max(anchor - min(width / 2, 6), bounds.lowerBound), bounds.upperBound - width)
            var found: (left: Double, row: Int, position: Int)?
            for row in 0..<rows {
                let boxes = placed[row]
                var left = preferred
                // The boxes before `next` end at least `gap` before `left`; each one in the way moves
                // the box past it, and the first one not in the way has every later one behind it.
                var next = firstEnding(after: left - gap, in: boxes)
                while next < boxes.count && boxes[next].left < left + width + gap {
                    left = max(left, boxes[next].right + gap)
                    next += 1
                }
                if left + width <= bounds.upperBound && left - max(anchor, preferred) <= maximumShift {
                    found = (left, row, next)
                    break
                }
            }
            guard let found else { return nil }
            placed[found.row].insert((found.left, found.left + width), at: found.position)
            slots[index] = (found.left, found.row)
        }
        return slots
    }

    /// The index of the first of `boxes` (sorted) whose right edge is past `x`.
    private static func firstEnding(after x: Double, in boxes: [(left: Double, right: Double)]) -> Int {
        var low = 0
        var high = boxes.count
        while low < high {
            let middle = (low + high) / 2
            if boxes[middle].right > x { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// "3", "3–7", "2–3,5": numbers as runs of consecutive ones.
    static func rangesText(_ numbers: [Int]) -> String {
        let sorted = numbers.sorted()
        var runs: [String] = []
        var index = 0
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count && sorted[end + 1] <= sorted[end] + 1 { end += 1 }
            runs.append(sorted[index] == sorted[end] ? String(sorted[index]) : "\(sorted[index])–\(sorted[end])")
            index = end + 1
        }
        return runs.joined(separator: ",")
    }

    /// The width of a marker label's box [px]: 11 px bold text (SVGPlot's `.mktext`) with 4 px of
    /// padding each side. From the widths of a sans-serif's regular glyphs in em, widened by 12 % for
    /// the bold weight and rounded up: with the regular widths a long label ran past the plot's right
    /// edge in Chromium (a browser check, 2026-12-07).
    public static func estimatedWidth(_ text: String) -> Double {
        var em = 0.0
        for scalar in text.unicodeScalars {
            switch scalar {
            case "i", "j", "l", "I", "!", "|", ".", ",", ":", ";", "'": em += 0.32
            case "f", "t", "r", " ", "(", ")", "[", "]", "-", "/": em += 0.4
            case "m", "w", "M", "W", "@": em += 0.95
            case "A"..."Z": em += 0.75
            case "0"..."9": em += 0.6
            default: em += scalar.isASCII ? 0.62 : 1.0
            }
        }
        return (em * 1.12 * 11 + 8).rounded(.up)
    }
}
