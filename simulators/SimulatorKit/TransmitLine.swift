import Primitives

/// A simulated device's serial transmit line, byte by byte: replies queued in the order the device sends
/// them, each starting at a time the device chooses and sent at its own rate (a device can change rate
/// between replies), and each byte readable once its 10 bit times (8N1) are over. A bus of servos and
/// an NDI tracker answer through one; a host polling it mid-reply reads the bytes that have arrived.
///
/// ```
/// enqueue(reply, startingAt: t, bitsPerSecond: r) ──► t ├─ byte ─┼─ byte ─┼ … ┤ t + n × 10 / r
///                                                        readable one by one ▲
/// ```
/// Preallocated: queuing and popping never allocate. A reply that does not fit is refused (the caller
/// counts it).
public final class TransmitLine {
    /// False: the simulation runs without wire time, and a reply is readable whole from its start.
    public let modelsWireTime: Bool
    private let bytes: ByteRing
    private let segmentCapacity: Int
    private var segmentStart: [Int64]
    private var segmentCount: [Int]
    private var segmentReleased: [Int]
    private var segmentRate: [Int]
    private var segmentHead = 0
    private var segmentsQueued = 0

    public init(segmentCapacity: Int, byteCapacity: Int = 64 * 1_024, modelsWireTime: Bool = true) {
        precondition(segmentCapacity > 0)
        self.modelsWireTime = modelsWireTime
        self.segmentCapacity = segmentCapacity
        bytes = ByteRing(capacity: byteCapacity)
        segmentStart = [Int64](repeating: 0, count: segmentCapacity)
        segmentCount = [Int](repeating: 0, count: segmentCapacity)
        segmentReleased = [Int](repeating: 0, count: segmentCapacity)
        segmentRate = [Int](repeating: 0, count: segmentCapacity)
    }

    /// The time `count` bytes take on a serial line at `bitsPerSecond` (10 bits a byte: start, 8 data,
    /// stop), rounded up to whole nanoseconds; 0 without a rate.
    public static func wireNanoseconds(bytes count: Int, bitsPerSecond: Int) -> Int64 {
        guard bitsPerSecond > 0 && count > 0 else { return 0 }
        let bits = Int64(count) * 10 * Nanoseconds.perSecond
        return (bits + Int64(bitsPerSecond) - 1) / Int64(bitsPerSecond)
    }

    /// `wireNanoseconds` on this line: 0 when it does not model wire time.
    public func lineNanoseconds(bytes count: Int, bitsPerSecond: Int) -> Int64 {
        modelsWireTime ? Self.wireNanoseconds(bytes: count, bitsPerSecond: bitsPerSecond) : 0
    }

    /// Queues `reply`, its first byte starting at `start`, sent at `bitsPerSecond`. Returns when its last
    /// byte is over, or nil when the line's queue is full (nothing is queued then).
    @discardableResult
    public func enqueue(
        _ reply: UnsafeRawBufferPointer, startingAt start: MonotonicInstant, bitsPerSecond: Int
    ) -> MonotonicInstant? {
        guard reply.count > 0 else { return start }
        guard segmentsQueued < segmentCapacity && bytes.freeSpace >= reply.count else { return nil }
        bytes.push(reply)
        let slot = (segmentHead + segmentsQueued) % segmentCapacity
        segmentStart[slot] = start.nanoseconds
        segmentCount[slot] = reply.count
        segmentReleased[slot] = 0
        segmentRate[slot] = bitsPerSecond
        segmentsQueued += 1
        return start.advanced(byNanoseconds: lineNanoseconds(bytes: reply.count, bitsPerSecond: bitsPerSecond))
    }

    /// True when bytes have arrived by `now` that `pop` has not taken.
    public func hasOutput(at now: MonotonicInstant) -> Bool {
        segmentsQueued > 0 && arrivedBytes(inSegment: segmentHead, at: now) > segmentReleased[segmentHead]
    }

    /// When the first reply still on the line after `now` is over, if any.
    public func nextReplyEnd(after now: MonotonicInstant) -> MonotonicInstant? {
        var slot = segmentHead
        for _ in 0..<segmentsQueued {
            let end = segmentEnd(slot)
            if end > now { return end }
            slot = (slot + 1) % segmentCapacity
        }
        return nil
    }

    /// Moves the bytes that have arrived by `now`, oldest first, into `buffer` (at most its size); returns
    /// how many. `sentAt` is called for each run of moved bytes with the rate they were sent at (a host
    /// listening at another rate reads noise).
    public func pop(
        into buffer: UnsafeMutableRawBufferPointer, at now: MonotonicInstant,
        sentAt: (_ moved: Range<Int>, _ bitsPerSecond: Int) -> Void = { _, _ in }
    ) -> Int {
        var copied = 0
        while segmentsQueued > 0 && copied < buffer.count {
            let slot = segmentHead
            let available = arrivedBytes(inSegment: slot, at: now) - segmentReleased[slot]
            guard available > 0 else { break }
            let take = min(available, buffer.count - copied)
            let moved = bytes.pop(into: UnsafeMutableRawBufferPointer(rebasing: buffer[copied...]), limit: take)
            sentAt(copied..<(copied + moved), segmentRate[slot])
            copied += moved
            segmentReleased[slot] += moved
            if segmentReleased[slot] >= segmentCount[slot] {
                segmentHead = (segmentHead + 1) % segmentCapacity
                segmentsQueued -= 1
            }
            guard moved == take else { break }
        }
        return copied
    }

    /// Forgets everything queued, sent or not (a device that resets).
    public func removeAll() {
        bytes.removeAll()
        segmentHead = 0
        segmentsQueued = 0
    }

    private func segmentEnd(_ slot: Int) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: segmentStart[slot])
            .advanced(byNanoseconds: lineNanoseconds(bytes: segmentCount[slot], bitsPerSecond: segmentRate[slot]))
    }

    /// The bytes of a queued reply that have arrived by `now`.
    private func arrivedBytes(inSegment slot: Int, at now: MonotonicInstant) -> Int {
        let count = segmentCount[slot]
        let start = segmentStart[slot]
        guard now.nanoseconds >= start else { return 0 }
        let rate = Int64(segmentRate[slot])
        guard modelsWireTime && rate > 0 else { return count }
        let elapsed = min(now.nanoseconds - start, Self.wireNanoseconds(bytes: count, bitsPerSecond: segmentRate[slot]))
        return min(count, Int(elapsed * rate / (10 * Nanoseconds.perSecond)))
    }
}
