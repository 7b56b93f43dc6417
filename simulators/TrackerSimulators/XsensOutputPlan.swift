import Wire

/// An accepted MTi output configuration as the simulated firmware runs it: for each of the six items it can send,
/// how often (every k-th tick of its internal clock, or with every frame), and the format of the floating ones.
///
/// Simulator rules (protocols/xsens/README.md §3.6 and §6 leave them to the device; **RehabHost choice**):
/// - the items are PacketCounter (0x1020), SampleTimeFine (0x1060), Quaternion (0x201y), Acceleration (0x402y),
///   RateOfTurn (0x802y) and StatusWord (0xE020), each at most once. Any other item is left out of the configuration
///   as used, and so out of the acknowledgement (README §3.6: it carries "the values actually used"; the MT SDK asks
///   every MTi for 13 items, GNSS ones included, and takes the acknowledgement as what the device outputs, §3.8);
/// - a frequency is 0xFFFF (with every frame) or divides the internal rate (`maximumOutputRateHertz`); anything else
///   (0, above the internal rate, not a divisor) is an invalid parameter. At least one item kept needs a frequency of
///   its own: it sets the frames' rate (a configuration of left-out items only is an invalid parameter);
/// - PacketCounter, SampleTimeFine and StatusWord carry no format bits; the Quaternion names ENU, NED or NWU; the
///   floating items share one precision (the codec's MTData2 encoder writes them in one, README §4.4);
/// - Acceleration and RateOfTurn are in the sensor frame: their coordinate bits are dropped, and the acknowledgement
///   says so (it carries "the values actually used", README §3.6).
struct XsensOutputPlan {
    /// The items, in the order the codec's encoder writes them (README §4.4): indices into `divisors`.
    enum Item: Int, CaseIterable {
        case packetCounter = 0
        case sampleTimeFine
        case quaternion
        case acceleration
        case rateOfTurn
        case statusWord
    }

    /// Per item: 0 absent, −1 with every frame, k > 0 on every k-th internal tick. Inline: looked at every tick.
    private var divisors = InlineArray<6, Int>(repeating: 0)
    var precision = Xsens.Precision.float32
    var coordinateSystem = Xsens.CoordinateSystem.eastNorthUp
    /// The configuration as used, for the acknowledgement and `ReqOutputConfiguration`.
    var accepted = Xsens.OutputConfiguration()

    static let everyFrame = -1

    /// The plan for `configuration` on a device whose internal clock runs at `maximumRateHertz`, or nil when the
    /// device refuses it (Error 0x21, invalid parameter). Allocation-free.
    init?(_ configuration: Xsens.OutputConfiguration, maximumRateHertz: Int) {
        guard !configuration.isEmpty else { return nil }
        var floatingPrecision: Xsens.Precision?
        var hasOwnFrequency = false
        // By index: `for … in` goes through the standard library's unspecialised IndexingIterator in a debug build,
        // which allocates.
        for index in 0..<configuration.count {
            let entry = configuration[index]
            let id = entry.dataID
            var used = id
            let item: Item
            switch id.type {
            case .packetCounter, .sampleTimeFine, .statusWord:
                guard id.rawValue & 0x000F == 0 else { return nil }
                item = id.type == .packetCounter ? .packetCounter : id.type == .sampleTimeFine ? .sampleTimeFine : .statusWord
            case .quaternion:
                guard let frame = id.coordinateSystem else { return nil }
                coordinateSystem = frame
                item = .quaternion
            case .acceleration, .rateOfTurn:
                used = id.with(precision: id.precision)
                item = id.type == .acceleration ? .acceleration : .rateOfTurn
            default:
                // Not an item this MTi sends: left out of the configuration as used.
                continue
            }
            let divisor: Int
            if entry.frequencyHertz == Xsens.everySampleFrequency {
                divisor = Self.everyFrame
            } else {
                let frequency = Int(entry.frequencyHertz)
                guard frequency >= 1, frequency <= maximumRateHertz, maximumRateHertz % frequency == 0 else { return nil }
                divisor = maximumRateHertz / frequency
                hasOwnFrequency = true
            }
            if item == .quaternion || item == .acceleration || item == .rateOfTurn {
                if let shared = floatingPrecision, shared != id.precision { return nil }
                floatingPrecision = id.precision
            }
            guard divisors[item.rawValue] == 0 else { return nil }
            divisors[item.rawValue] = divisor
            accepted.append(.init(dataID: used, frequencyHertz: entry.frequencyHertz))
        }
        guard hasOwnFrequency else { return nil }
        precision = floatingPrecision ?? .float32
    }

    /// True when `item` goes into the frame of internal tick `tick` (a frame goes out then: `sendsFrame`).
    func includes(_ item: Item, tick: Int64) -> Bool {
        let divisor = divisors[item.rawValue]
        return divisor == Self.everyFrame || (divisor > 0 && tick % Int64(divisor) == 0)
    }

    /// True when some item with a frequency of its own is due at `tick`: a frame goes out then.
    func sendsFrame(atTick tick: Int64) -> Bool {
        for index in 0..<6 where divisors[index] > 0 && tick % Int64(divisors[index]) == 0 { return true }
        return false
    }

    /// The highest frequency of an item with a frequency of its own [Hz] (a plan always has one).
    func highestFrequencyHertz(maximumRateHertz: Int) -> Int {
        var smallest = Int.max
        for index in 0..<6 where divisors[index] > 0 { smallest = min(smallest, divisors[index]) }
        return smallest == Int.max ? 0 : maximumRateHertz / smallest
    }

    /// The first tick at or after `tick` (≥ 0) with a frame.
    func nextFrameTick(from tick: Int64) -> Int64 {
        var best = Int64.max
        for index in 0..<6 where divisors[index] > 0 {
            let d = Int64(divisors[index])
            best = min(best, (tick + d - 1) / d * d)
        }
        return best
    }
}
