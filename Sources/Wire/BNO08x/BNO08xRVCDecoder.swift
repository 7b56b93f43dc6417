extension BNO08xRVC {
    /// Counters of everything a decoder has seen, so that link quality is visible (README §7); a driver
    /// maps them onto `LinkHealth`.
    ///
    /// Every byte pushed ends up in exactly one place: a decoded frame, `discardedBytes`, or the decoder's
    /// window (`FrameDecoder.bufferedByteCount`):
    /// `bytesReceived == 19 × framesDecoded + discardedBytes + bufferedByteCount`.
    public struct DecoderStatistics: Sendable, Equatable {
        public var bytesReceived: UInt64 = 0
        public var framesDecoded: UInt64 = 0
        /// 19-byte windows that began with 0xAA 0xAA but whose checksum did not match: a damaged report, or a
        /// false header (0xAA 0xAA in the data, junk before a header, a truncated report).
        public var checksumErrors: UInt64 = 0
        /// Bytes that did not end up in a decoded frame: junk, the start-up banner, damaged and truncated reports.
        public var discardedBytes: UInt64 = 0

        public init() {}
    }

    /// Incremental UART-RVC receiver: bytes in, in any split, frames out. It is the receiver of
    /// protocols/bno08x-rvc/README.md §7, which the vectors there check.
    ///
    /// ```
    /// … junk | AA AA | DE | 01 00 | 92 FF | … | 00 | E7 | …      push(_:) one byte at a time
    ///          header  idx  yaw     pitch         rsvd csum  └─► Frame(index: 222, …)
    /// ```
    /// It keeps a window of at most 19 bytes that always starts like a report: empty, `AA`, or `AA AA …`.
    /// A byte that cannot start a report is discarded (step 2). When the window holds 19 bytes, the
    /// checksum decides (step 3): a match is a frame, and the window empties; a mismatch is a checksum
    /// error, and only the first header byte is dropped, because a report may start inside the failed
    /// window (a junk 0xAA glued to the header, 0xAA 0xAA inside data, a truncated report followed by a
    /// whole one); the rest of the window is then searched for a header again (step 4).
    ///
    /// There is no byte stuffing and no length field, so one byte completes at most one frame, and the
    /// window never holds a complete report that was not yet checked. The decoder never traps and never
    /// allocates: the window is fixed inline storage. Values are not judged (`Frame.isWithinDocumentedRanges`
    /// is for the driver).
    public struct FrameDecoder: Sendable {
        private var window = InlineArray<19, UInt8>(repeating: 0)
        private var count = 0
        public private(set) var statistics = BNO08xRVC.DecoderStatistics()

        public init() {}

        /// Bytes received but not yet decoded or discarded: the start of a report still arriving (0 … 18).
        public var bufferedByteCount: Int { count }

        /// Feeds one byte; returns the frame when the byte completed one whose checksum matches.
        public mutating func push(_ byte: UInt8) -> BNO08xRVC.Frame? {
            statistics.bytesReceived &+= 1
            if count < 2 {
                // Step 2, hunting: only 0xAA can begin or continue a header. A lone 0xAA followed by
                // anything else is junk too.
                guard byte == BNO08xRVC.headerByte else {
                    statistics.discardedBytes &+= UInt64(count) + 1
                    count = 0
                    return nil
                }
                window[count] = byte
                count += 1
                return nil
            }
            window[count] = byte
            count += 1
            guard count == BNO08xRVC.frameBytes else { return nil }
            // Step 3: the checksum decides.
            var sum: UInt8 = 0
            for offset in BNO08xRVC.checksummedOffsets { sum &+= window[offset] }
            if sum == window[BNO08xRVC.checksumOffset] {
                let frame = decodedWindow()
                count = 0
                statistics.framesDecoded &+= 1
                return frame
            }
            // Step 4: give up only the first header byte and look for a header in what remains.
            statistics.checksumErrors &+= 1
            dropLeadingBytes(afterSkipping: 1)
            return nil
        }

        /// Feeds `bytes`, calling `body` with every frame they complete, in order.
        public mutating func push(_ bytes: UnsafeRawBufferPointer, _ body: (BNO08xRVC.Frame) -> Void) {
            for byte in bytes {
                if let frame = push(byte) { body(frame) }
            }
        }

        /// Gives up on a report that stopped arriving (after reopening a port, or when the line went quiet
        /// for longer than a report takes): the buffered bytes are counted as discarded and the next byte
        /// is searched for a header afresh.
        public mutating func abandonPartialFrame() {
            statistics.discardedBytes &+= UInt64(count)
            count = 0
        }

        // MARK: Implementation

        /// Drops `skip` bytes, then every further byte that cannot begin a report, so that the window is
        /// empty, `AA`, or starts with `AA AA`; moves what remains to the front.
        private mutating func dropLeadingBytes(afterSkipping skip: Int) {
            var start = min(skip, count)
            while start < count {
                if window[start] != BNO08xRVC.headerByte {
                    start += 1
                } else if start + 1 < count && window[start + 1] != BNO08xRVC.headerByte {
                    start += 1
                } else {
                    break
                }
            }
            let kept = count - start
            for offset in 0..<kept { window[offset] = window[start + offset] }
            count = kept
            statistics.discardedBytes &+= UInt64(start)
        }

        /// The fields of the full, checked window.
        private func decodedWindow() -> BNO08xRVC.Frame {
            BNO08xRVC.Frame(
                index: window[BNO08xRVC.indexOffset], yawCentidegrees: int16(at: 3), pitchCentidegrees: int16(at: 5),
                rollCentidegrees: int16(at: 7), accelerationXMilliG: int16(at: 9), accelerationYMilliG: int16(at: 11),
                accelerationZMilliG: int16(at: 13), motionIntent: window[15], motionRequest: window[16],
                reserved: window[17])
        }

        /// The little-endian, two's-complement field at `offset`.
        private func int16(at offset: Int) -> Int16 {
            Int16(bitPattern: UInt16(window[offset]) | UInt16(window[offset + 1]) << 8)
        }
    }
}
