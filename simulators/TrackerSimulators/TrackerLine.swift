import Primitives
import SimulatorKit

/// The sensor's transmit line: frames queued in the order the sensor sends them, each taking 10 bit times a byte at
/// the sensor's baud rate after the previous one, and readable as a whole once its last byte is over.
///
/// ```
/// sample ──┬─ (line busy: wait) ─├─ n × 10 / baud ─┤ readable
/// ```
/// Preallocated: queuing and popping never allocate. A frame that does not fit the queue is dropped and counted.
/// Unlike `TransmitLine`, which releases a reply byte by byte, a frame here is readable whole once its last byte is
/// over.
final class TrackerLine {
    let baudRateBitsPerSecond: Int
    private let bytes: ByteRing
    private let scratch: UnsafeMutableRawBufferPointer
    private static let frameCapacity = 2_048
    /// Per queued frame: when its last byte is over [ns] and how long it is.
    private let frameReadyAt: UnsafeMutableBufferPointer<Int64>
    private let frameLength: UnsafeMutableBufferPointer<Int>
    private var frameHead = 0
    private var framesQueued = 0
    /// Bytes of the oldest frame that `pop` has already handed out.
    private var headReleased = 0
    /// When the line is free of everything queued.
    private(set) var freeAt: MonotonicInstant
    /// Frames that did not fit the queue.
    private(set) var droppedFrames = 0

    init(baudRateBitsPerSecond: Int, capacityBytes: Int = 64 * 1_024, freeAt: MonotonicInstant) {
        self.baudRateBitsPerSecond = baudRateBitsPerSecond
        bytes = ByteRing(capacity: capacityBytes)
        scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: capacityBytes, alignment: 1)
        scratch.initializeMemory(as: UInt8.self, repeating: 0)
        frameReadyAt = UnsafeMutableBufferPointer<Int64>.allocate(capacity: Self.frameCapacity)
        frameReadyAt.initialize(repeating: 0)
        frameLength = UnsafeMutableBufferPointer<Int>.allocate(capacity: Self.frameCapacity)
        frameLength.initialize(repeating: 0)
        self.freeAt = freeAt
        // One byte through the ring and the slicing `pop` does: what the Swift runtime sets up on first use happens
        // here, not in the first cycle.
        bytes.push(UnsafeRawBufferPointer(rebasing: scratch[0..<1]))
        _ = bytes.pop(into: UnsafeMutableRawBufferPointer(rebasing: scratch[0...]), limit: 1)
    }

    deinit {
        scratch.deallocate()
        frameReadyAt.deallocate()
        frameLength.deallocate()
    }

    /// The time `count` bytes take on the line (10 bits each, 8N1), rounded up to whole nanoseconds.
    func wireNanoseconds(bytes count: Int) -> Int64 {
        TransmitLine.wireNanoseconds(bytes: count, bitsPerSecond: baudRateBitsPerSecond)
    }

    /// How long the line is still busy after `time` with what is queued [ns] (0 when it is free).
    func backlogNanoseconds(at time: MonotonicInstant) -> Int64 {
        max(0, freeAt.nanoseconds(since: time))
    }

    /// Queues `frame`, ready to go at `readyAt`: it starts when the line is free and is readable when its last byte is
    /// over. Returns that moment, or nil when the queue is full (the frame is dropped).
    @discardableResult
    func send(_ frame: UnsafeRawBufferPointer, readyAt: MonotonicInstant) -> MonotonicInstant? {
        guard frame.count > 0 else { return nil }
        guard framesQueued < Self.frameCapacity, bytes.push(frame) else {
            droppedFrames += 1
            return nil
        }
        let start = max(readyAt, freeAt)
        let end = start.advanced(byNanoseconds: wireNanoseconds(bytes: frame.count))
        let slot = (frameHead + framesQueued) % Self.frameCapacity
        frameReadyAt[slot] = end.nanoseconds
        frameLength[slot] = frame.count
        framesQueued += 1
        freeAt = end
        return end
    }

    /// True when a frame's bytes are readable at `now` and not yet popped.
    func hasOutput(at now: MonotonicInstant) -> Bool {
        framesQueued > 0 && frameReadyAt[frameHead] <= now.nanoseconds
    }

    /// The next moment a queued frame becomes readable after `now`, if any.
    func nextReadyTime(after now: MonotonicInstant) -> MonotonicInstant? {
        var slot = frameHead
        for _ in 0..<framesQueued {
            if frameReadyAt[slot] > now.nanoseconds { return MonotonicInstant(nanoseconds: frameReadyAt[slot]) }
            slot = (slot + 1) % Self.frameCapacity
        }
        return nil
    }

    /// Moves the bytes readable at `now`, oldest first, into `buffer` (at most its size); returns how many.
    func pop(into buffer: UnsafeMutableRawBufferPointer, at now: MonotonicInstant) -> Int {
        var copied = 0
        while framesQueued > 0 && copied < buffer.count && frameReadyAt[frameHead] <= now.nanoseconds {
            let take = min(frameLength[frameHead] - headReleased, buffer.count - copied)
            let moved = bytes.pop(into: UnsafeMutableRawBufferPointer(rebasing: buffer[copied...]), limit: take)
            copied += moved
            headReleased += moved
            if headReleased >= frameLength[frameHead] {
                frameHead = (frameHead + 1) % Self.frameCapacity
                framesQueued -= 1
                headReleased = 0
            }
            guard moved == take else { break }
        }
        return copied
    }

    /// The sensor resets at `now`: what is not yet over on the line is lost (what has arrived stays readable), and the
    /// line is free.
    func cut(at now: MonotonicInstant) {
        var keptFrames = 0
        var keptBytes = 0
        var slot = frameHead
        while keptFrames < framesQueued && frameReadyAt[slot] <= now.nanoseconds {
            keptBytes += frameLength[slot] - (keptFrames == 0 ? headReleased : 0)
            keptFrames += 1
            slot = (slot + 1) % Self.frameCapacity
        }
        // The kept frames are the oldest: keep their bytes, forget the rest (a rare event; O(queue), no allocation).
        let moved = bytes.pop(into: scratch, limit: keptBytes)
        bytes.removeAll()
        bytes.push(UnsafeRawBufferPointer(rebasing: scratch[0..<moved]))
        if keptFrames == 0 { headReleased = 0 }
        framesQueued = keptFrames
        freeAt = now
    }
}

/// The sensor's event log in the neutral form of `rehabsim --events`. Preallocated: recording allocates nothing (the
/// oldest record goes when it is full).
final class TrackerEventLog {
    private var records: [FirmwareEventRecord] = []

    init(capacity: Int = 1_024) {
        records.reserveCapacity(capacity)
    }

    func record(_ time: MonotonicInstant, _ event: String, detail: String = "") {
        if records.count >= records.capacity { records.removeFirst() }
        records.append(FirmwareEventRecord(time: time, event: event, detail: detail))
    }

    func drain(_ body: (FirmwareEventRecord) -> Void) {
        guard !records.isEmpty else { return }
        for record in records { body(record) }
        records.removeAll(keepingCapacity: true)
    }
}
