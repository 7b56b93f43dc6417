/// Sequence-number arithmetic for 16-bit wrapping counters (RFC 1982 style).
public enum SequenceNumber {
    /// True when `candidate` comes after `reference`: (candidate − reference) mod 2¹⁶ is in 1...32767.
    @inlinable
    public static func isNewer(_ candidate: UInt16, than reference: UInt16) -> Bool {
        let distance = candidate &- reference
        return distance != 0 && distance < 0x8000
    }
}

/// Extends a wrapping 32-bit counter (device clock, raw encoder count) to 64 bits, so that a
/// clean wrap is a small step and not a jump of 2³².
///
/// Valid as long as consecutive readings differ by less than 2³¹ counts.
public struct WrappingCounterExtender: Sendable, Equatable {
    private var last: UInt32 = 0
    private var extended: Int64 = 0
    private var started = false

    public init() {}

    /// The 64-bit value of `raw`; the first reading is taken as-is.
    public mutating func extend(_ raw: UInt32) -> Int64 {
        if started {
            extended &+= Int64(Int32(bitPattern: raw &- last))
        } else {
            extended = Int64(raw)
            started = true
        }
        last = raw
        return extended
    }
}
