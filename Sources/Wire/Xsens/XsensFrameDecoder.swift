extension Xsens {
    /// What the decoder made of one complete, checksum-valid frame.
    public enum DecodeResult: Sendable, Equatable {
        /// A message RehabHost can use (README §3).
        case message(Xsens.Message)
        /// A checksum-valid frame dropped whole (README §7 steps 6-7).
        case rejected(Xsens.Rejection)

        /// The message, or nil for a rejection.
        public var decodedMessage: Xsens.Message? {
            if case .message(let message) = self { return message }
            return nil
        }

        /// The rejection, or nil for a message.
        public var rejection: Xsens.Rejection? {
            if case .rejected(let rejection) = self { return rejection }
            return nil
        }
    }

    /// Counters of everything a decoder has seen, so that link quality is visible (README §7); the driver
    /// maps them onto `LinkHealth`.
    ///
    /// Every byte pushed ends up in exactly one of: a decoded message, `discardedBytes`, or the decoder's
    /// buffer (`FrameDecoder.bufferedByteCount`, empty after `flush`).
    public struct DecoderStatistics: Sendable, Equatable {
        public var bytesReceived: UInt64 = 0
        /// Frames that passed the checksum and were handed out as messages.
        public var framesDecoded: UInt64 = 0
        /// Complete frames whose checksum did not hold.
        public var checksumErrors: UInt64 = 0
        /// Headers whose extended length exceeds `Xsens.maxPayloadBytes`.
        public var oversizeFrames: UInt64 = 0
        /// Headers with an extended length below 255, and frames given up as truncated (`flush`).
        public var malformedFrames: UInt64 = 0
        /// Checksum-valid frames dropped for their MID or their length (`Xsens.RejectionReason`).
        public var rejectedFrames: UInt64 = 0
        /// Bytes that did not end up in a decoded message: junk, damaged, truncated and rejected frames.
        public var discardedBytes: UInt64 = 0

        public init() {}
    }

    /// Incremental Xbus decoder: bytes in, in any split, messages out (the host reads the device's
    /// messages, the simulated device reads the host's). It is the receiver of README §7, which the
    /// vectors in protocols/xsens/vectors check.
    ///
    /// ```
    /// … junk | FA FF 31 00 D0 | FA FF 36 26 10 20 02 … 12 | …      push(_:) one byte at a time
    ///          └ GoToConfigAck ┘ └──── MTData2 ───────────┘
    ///          ▲ .message(goToConfigAck)              ▲ .message(mtData2)
    /// ```
    /// It looks for FA FF, reads LEN (and the extended length), waits for the whole frame, then checks the
    /// checksum. A header whose extended length is impossible (oversize, or below 255) and a frame whose
    /// checksum fails are skipped by one byte only, and the bytes after that byte are searched again,
    /// so that a frame hidden behind a damaged one is still found. A checksum-valid frame that is
    /// rejected (unknown MID, wrong length) is dropped whole. It never traps on any input and never
    /// allocates: a frame is collected in fixed inline storage (`Xsens.maxFrameBytes`) and copied into a
    /// `Message`.
    ///
    /// Because of that search, one byte can complete more than one frame (those hidden behind a damaged
    /// one): `push(_:)` returns the first and `next()` the others (nil when there are none). `push(_:_:)`
    /// does both for a chunk of bytes. When bytes stop arriving (the host's reply deadline, or a port
    /// closed), `flush(_:)` gives up on what is still incomplete (README §7 step 8).
    public struct FrameDecoder: Sendable {
        /// The bytes not yet decoded or discarded, at `[head, tail)`. Keep the literal equal to
        /// `Xsens.maxFrameBytes`: the window never holds more than one incomplete frame.
        private var buffer = InlineArray<2055, UInt8>(repeating: 0)
        private var head = 0
        private var tail = 0
        /// The size of the frame at `head` while it is still arriving (0 otherwise): until the window holds
        /// that many bytes, a byte is only stored, without a scan.
        private var awaitedBytes = 0
        public private(set) var statistics = Xsens.DecoderStatistics()

        public init() {}

        /// Bytes received but not yet decoded or discarded: the start of a frame still arriving.
        public var bufferedByteCount: Int { tail - head }

        /// Forgets a partially received frame (e.g. after reopening a port); its bytes are not counted.
        public mutating func reset() {
            head = 0
            tail = 0
            awaitedBytes = 0
        }

        /// Feeds one byte; returns a result when the byte completed a checksum-valid frame.
        public mutating func push(_ byte: UInt8) -> Xsens.DecodeResult? {
            statistics.bytesReceived &+= 1
            append(byte)
            if awaitedBytes > 0 && tail - head < awaitedBytes { return nil }
            return scan()
        }

        /// A result that is already complete in the buffer, without new input: after `push(_:)` returned
        /// one, call `next()` until nil.
        public mutating func next() -> Xsens.DecodeResult? {
            scan()
        }

        /// Feeds `bytes`, calling `body` with every result they complete, in order.
        public mutating func push(_ bytes: UnsafeRawBufferPointer, _ body: (Xsens.DecodeResult) -> Void) {
            for byte in bytes {
                var result = push(byte)
                while let complete = result {
                    body(complete)
                    result = next()
                }
            }
        }

        /// Gives up on a frame that stopped arriving (README §7 step 8): its first byte is dropped, it counts
        /// as malformed when its FA FF had arrived, and the bytes after that byte are searched again (call
        /// `next()` for any frame among them). Does nothing unless the buffer starts with an incomplete
        /// frame, as it does after `next()` returned nil.
        public mutating func abandonPartialFrame() {
            guard startsWithIncompleteFrame() else { return }
            if tail - head >= 2 { statistics.malformedFrames &+= 1 }
            skipOneByte()
            awaitedBytes = 0
        }

        /// The end of an exchange: decodes what can be decoded from the buffered bytes, giving up on
        /// incomplete frames, until the buffer is empty; calls `body` with every result found.
        public mutating func flush(_ body: (Xsens.DecodeResult) -> Void) {
            while true {
                while let result = next() { body(result) }
                let before = bufferedByteCount
                guard before > 0 else { return }
                abandonPartialFrame()
                guard bufferedByteCount < before else { return }
            }
        }

        // MARK: Implementation

        private mutating func append(_ byte: UInt8) {
            if tail == buffer.count {
                if head == 0 {
                    // Cannot happen (the window holds at most one incomplete frame, and a frame fits);
                    // keep the newest bytes rather than trap.
                    head = 1
                    statistics.discardedBytes &+= 1
                }
                let kept = tail - head
                for index in 0..<kept { buffer[index] = buffer[head + index] }
                head = 0
                tail = kept
            }
            buffer[tail] = byte
            tail += 1
        }

        private mutating func skipOneByte() {
            head += 1
            statistics.discardedBytes &+= 1
            if head == tail {
                head = 0
                tail = 0
            }
        }

        /// What the bytes at `head` are: junk to skip, the start of a frame still arriving (with its size
        /// when known), a bad header, or a whole frame.
        private enum HeadState {
            case junk
            case incomplete(awaiting: Int)
            case oversize
            case malformed
            case frame(headerBytes: Int, length: Int)
        }

        /// README §7 steps 1-4 on the bytes at `head`.
        private func headState() -> HeadState {
            let available = tail - head
            guard buffer[head] == Xsens.preamble else { return .junk }
            guard available >= 2 else { return .incomplete(awaiting: 0) }
            guard buffer[head + 1] == Xsens.masterBusID else { return .junk }
            guard available >= Xsens.standardHeaderBytes else { return .incomplete(awaiting: 0) }
            var length = Int(buffer[head + 3])
            var headerBytes = Xsens.standardHeaderBytes
            if buffer[head + 3] == Xsens.extendedLengthMarker {
                guard available >= Xsens.extendedHeaderBytes else { return .incomplete(awaiting: 0) }
                length = Int(buffer[head + 4]) << 8 | Int(buffer[head + 5])
                headerBytes = Xsens.extendedHeaderBytes
                if length > Xsens.maxPayloadBytes { return .oversize }
                if length < Xsens.minExtendedPayloadBytes { return .malformed }
            }
            let total = headerBytes + length + 1
            guard available >= total else { return .incomplete(awaiting: total) }
            return .frame(headerBytes: headerBytes, length: length)
        }

        private func startsWithIncompleteFrame() -> Bool {
            guard head < tail else { return false }
            if case .incomplete = headState() { return true }
            return false
        }

        /// Decodes from the start of the window: drops what cannot start a frame, returns the first complete
        /// result, or nil when the window is empty or holds the start of a frame still arriving.
        private mutating func scan() -> Xsens.DecodeResult? {
            awaitedBytes = 0
            while head < tail {
                switch headState() {
                case .junk:
                    skipOneByte()
                case .incomplete(let awaiting):
                    awaitedBytes = awaiting
                    return nil
                case .oversize:
                    statistics.oversizeFrames &+= 1
                    skipOneByte()
                case .malformed:
                    statistics.malformedFrames &+= 1
                    skipOneByte()
                case .frame(let headerBytes, let length):
                    let total = headerBytes + length + 1
                    var sum: UInt8 = 0
                    for index in (head + 1)..<(head + total) { sum &+= buffer[index] }
                    guard sum == 0 else {
                        // A whole frame may start inside this one (e.g. after a truncated one): search
                        // again from the next byte.
                        statistics.checksumErrors &+= 1
                        skipOneByte()
                        continue
                    }
                    var message = Xsens.Message(Xsens.MessageID(rawValue: buffer[head + 2]))
                    let dataStart = head + headerBytes
                    for index in dataStart..<(dataStart + length) { message.payload.append(buffer[index]) }
                    head += total
                    if head == tail {
                        head = 0
                        tail = 0
                    }
                    if let reason = message.rejectionReason {
                        statistics.rejectedFrames &+= 1
                        statistics.discardedBytes &+= UInt64(total)
                        return .rejected(Xsens.Rejection(reason: reason, messageID: message.messageID, length: length))
                    }
                    statistics.framesDecoded &+= 1
                    return .message(message)
                }
            }
            return nil
        }
    }
}
