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

    private let counts: UnsafeMutableBufferPointer<UInt64>
    public private(set) var count: UInt64 = 0
    public private(set) var sumNanoseconds: Double = 0
    public private(set) var minNanoseconds: UInt64 = .max
    public private(set) var maxNanoseconds: UInt64 = 0

    public init() {
        counts = .allocate(capacity: Self.bucketCount)
        counts.initialize(repeating: 0)
    }

    deinit {
        counts.deallocate()
    }

    /// Records one duration; negative values (a clock read before a deadline) count as 0.
    public func record(nanoseconds: Int64) {
        let value = UInt64(max(0, nanoseconds))
        counts[Self.bucketIndex(value)] &+= 1
        count &+= 1
        sumNanoseconds += Double(value)
        if value < minNanoseconds { minNanoseconds = value }
        if value > maxNanoseconds { maxNanoseconds = value }
    }

    public func reset() {
        counts.update(repeating: 0)
        count = 0
        sumNanoseconds = 0
        minNanoseconds = .max
        maxNanoseconds = 0
    }

    /// Adds every sample of `other` (e.g. merging per-run histograms).
    public func merge(_ other: LatencyHistogram) {
        for index in 0..<Self.bucketCount { counts[index] &+= other.counts[index] }
        count &+= other.count
        sumNanoseconds += other.sumNanoseconds
        minNanoseconds = min(minNanoseconds, other.minNanoseconds)
        maxNanoseconds = max(maxNanoseconds, other.maxNanoseconds)
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
