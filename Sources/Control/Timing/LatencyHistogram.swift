import DeviceModel
/// A fixed-bucket histogram of durations in nanoseconds, filled without allocation.
///
/// Log-linear buckets (as in HdrHistogram): values below 128 ns are exact; above, each power of two
/// is split into 64 buckets, so a reported value is within 1.6 % of the truth. Covers up to 2³⁴ ns
/// (17 s); larger values land in the last bucket. `max` and `min` are exact.
public final class LatencyHistogram {
    private static let subBuckets = 64
    private static let exactBelow: UInt64 = 128
    private static let maximumShift = 28
    public static let bucketCount = 128 + maximumShift * 64

    /// Count, sum, minimum and maximum, next to the buckets in memory allocated once. Not stored
    /// properties: Swift checks every access to a class's stored `var` for exclusivity at run time
    /// (four checks per `record`, in every cycle); memory behind a pointer it does not.
    private struct Totals {
        var count: UInt64 = 0
        var sumNanoseconds: Double = 0
        var minNanoseconds: UInt64 = .max
        var maxNanoseconds: UInt64 = 0
    }

    private let counts: UnsafeMutableBufferPointer<UInt64>
    private let totals: UnsafeMutablePointer<Totals>

    public var count: UInt64 { totals.pointee.count }
    public var sumNanoseconds: Double { totals.pointee.sumNanoseconds }
    public var minNanoseconds: UInt64 { totals.pointee.minNanoseconds }
    public var maxNanoseconds: UInt64 { totals.pointee.maxNanoseconds }

    public init() {
        counts = .allocate(capacity: Self.bucketCount)
        counts.initialize(repeating: 0)
        totals = .allocate(capacity: 1)
        totals.initialize(to: Totals())
    }

    deinit {
        counts.deallocate()
        totals.deallocate()
    }

    /// Records one duration; negative values (a clock read before a deadline) count as 0.
    public func record(nanoseconds: Int64) {
        let value = UInt64(max(0, nanoseconds))
        counts[Self.bucketIndex(value)] &+= 1
        totals.pointee.count &+= 1
        totals.pointee.sumNanoseconds += Double(value)
        if value < totals.pointee.minNanoseconds { totals.pointee.minNanoseconds = value }
        if value > totals.pointee.maxNanoseconds { totals.pointee.maxNanoseconds = value }
    }

    public func reset() {
        counts.update(repeating: 0)
        totals.pointee = Totals()
    }

    /// Adds every sample of `other` (e.g. merging per-run histograms).
    public func merge(_ other: LatencyHistogram) {
        for index in 0..<Self.bucketCount { counts[index] &+= other.counts[index] }
        let added = other.totals.pointee
        totals.pointee.count &+= added.count
        totals.pointee.sumNanoseconds += added.sumNanoseconds
        totals.pointee.minNanoseconds = min(totals.pointee.minNanoseconds, added.minNanoseconds)
        totals.pointee.maxNanoseconds = max(totals.pointee.maxNanoseconds, added.maxNanoseconds)
    }

    /// The smallest recorded value v such that `fraction` of the samples are ≤ v, reported as the
    /// top of v's bucket and never above the exact maximum. 0 when empty.
    public func value(atQuantile fraction: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = max(1, UInt64((min(max(fraction, 0), 1) * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for index in 0..<Self.bucketCount {
            seen &+= counts[index]
            if seen >= rank { return min(Self.bucketUpperBound(index), maxNanoseconds) }
        }
        return maxNanoseconds
    }

    public var meanNanoseconds: Double { count == 0 ? 0 : sumNanoseconds / Double(count) }

    static func bucketIndex(_ value: UInt64) -> Int {
        if value < exactBelow { return Int(value) }
        let highestBit = 63 - value.leadingZeroBitCount
        let shift = min(highestBit - 6, maximumShift)
        if highestBit - 6 > maximumShift { return bucketCount - 1 }
        let mantissa = Int(value >> UInt64(shift))  // 64 ... 127
        return 128 + (shift - 1) * subBuckets + (mantissa - subBuckets)
    }

    static func bucketUpperBound(_ index: Int) -> UInt64 {
        if index < Int(exactBelow) { return UInt64(index) }
        let shift = (index - 128) / subBuckets + 1
        let mantissa = UInt64((index - 128) % subBuckets + subBuckets)
        return ((mantissa + 1) << UInt64(shift)) - 1
    }
}
