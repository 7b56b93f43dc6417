import Control
import DeviceModel
import Primitives

/// Heap allocations counted on the control thread, cycle by cycle (AllocationCounter).
public struct AllocationTally: Sendable, Equatable {
    /// False when the allocator is not interposed (the counts are then meaningless).
    public var counting = false
    public var total: UInt64 = 0
    public var cyclesWithAllocations: Int64 = 0
    /// The first cycle that allocated, for finding the culprit.
    public var firstAllocatingCycle: Int64?

    mutating func record(_ count: UInt64, cycle: Int64) {
        guard count > 0 else { return }
        total &+= count
        cyclesWithAllocations += 1
        if firstAllocatingCycle == nil { firstAllocatingCycle = cycle }
    }
}

/// The link pre-flight's figures.
public struct LinkCheck: Sendable, Equatable {
    /// Consecutive fresh cycles required.
    public var requiredCycles: Int
    /// Cycles it took.
    public var cycles = 0
    /// Runs of cycles without a fresh state, and the longest one.
    public var gaps = 0
    public var longestGapCycles = 0

    public init(requiredCycles: Int) {
        self.requiredCycles = requiredCycles
    }
}
