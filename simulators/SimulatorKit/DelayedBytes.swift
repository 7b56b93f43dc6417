import Primitives

/// Bytes on their way from the device to the host, each chunk readable from its release time:
/// the wire's latency (in-process link) and injected reply delays (both links). Preallocated; a
/// chunk that does not fit is lost, like bytes a full USB buffer drops.
public final class DelayedBytes {
    private let ring: ByteRing
    private var releaseTimes: [MonotonicInstant]
    private var sizes: [Int]
    private var head = 0
    public private(set) var chunkCount = 0
    public private(set) var lostBytes = 0

    public init(capacityBytes: Int = 64 * 1024, chunks: Int = 1024) {
        ring = ByteRing(capacity: capacityBytes)
        releaseTimes = Array(repeating: .zero, count: chunks)
        sizes = Array(repeating: 0, count: chunks)
    }

    public var isEmpty: Bool { chunkCount == 0 }

    /// When the oldest chunk becomes readable (nil when nothing is on its way).
    public var nextRelease: MonotonicInstant? { chunkCount > 0 ? releaseTimes[head] : nil }

    /// Queues `bytes`, readable from `time` (never before a chunk queued earlier: bytes keep their order).
    public func push(_ bytes: UnsafeRawBufferPointer, readableAt time: MonotonicInstant) {
        guard chunkCount < releaseTimes.count, ring.push(bytes) else {
            lostBytes += bytes.count
            return
        }
        let slot = (head + chunkCount) % releaseTimes.count
        let previous = chunkCount > 0 ? releaseTimes[(head + chunkCount - 1) % releaseTimes.count] : time
        releaseTimes[slot] = max(time, previous)
        sizes[slot] = bytes.count
        chunkCount += 1
    }

    /// Moves the bytes readable at `now` into `buffer`; returns how many.
    public func pop(readableAt now: MonotonicInstant, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var copied = 0
        while chunkCount > 0 && releaseTimes[head] <= now && copied < buffer.count {
            let take = min(sizes[head], buffer.count - copied)
            ring.pop(into: UnsafeMutableRawBufferPointer(rebasing: buffer[copied...]), limit: take)
            copied += take
            sizes[head] -= take
            if sizes[head] == 0 {
                head = (head + 1) % releaseTimes.count
                chunkCount -= 1
            }
        }
        return copied
    }
}

/// What injected faults currently do to the device → host direction of a link.
public struct LinkFaults: Sendable, Equatable {
    public var dropsReplies = false
    /// Flip every n-th byte (0: none).
    public var corruptEveryNth = 0
    public var delayNanoseconds: Int64 = 0
    public var isUnplugged = false
    private var bytesSinceCorruption = 0

    public init() {}

    /// Applies corruption to bytes about to leave the device, in place.
    public mutating func corrupt(_ bytes: UnsafeMutableRawBufferPointer) {
        guard corruptEveryNth > 0 else { return }
        for index in 0..<bytes.count {
            bytesSinceCorruption += 1
            if bytesSinceCorruption >= corruptEveryNth {
                bytesSinceCorruption = 0
                bytes[index] ^= 0x5A
            }
        }
    }
}
