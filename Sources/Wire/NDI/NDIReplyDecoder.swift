extension NDI {
    /// What the host's receiver made of one complete reply whose CRC held.
    public enum DecodeResult: Sendable, Equatable {
        /// An ASCII reply (OKAY, ERRORxx, a PHSR list …).
        case ascii(NDI.ASCIIReply)
        /// A binary BX reply, parsed.
        case bx(NDI.BXReply)
        /// A CRC-valid binary reply the host cannot use (README §8.1 step 9).
        case rejected(NDI.ReplyRejection)

        public var asciiReply: NDI.ASCIIReply? {
            if case .ascii(let reply) = self { return reply }
            return nil
        }

        public var bxReply: NDI.BXReply? {
            if case .bx(let reply) = self { return reply }
            return nil
        }

        public var rejection: NDI.ReplyRejection? {
            if case .rejected(let rejection) = self { return rejection }
            return nil
        }
    }

    /// Why a CRC-valid binary reply is refused (README §6.2, §8.1 step 9). The raw values are the
    /// vectors' names.
    public enum ReplyRejectionReason: String, Sendable, CaseIterable {
        /// A binary reply while the host expected ASCII (it sent no BX).
        case unexpectedBinary = "unexpected_binary"
        /// The body's length does not match the handles it lists (reply option 0x0001's layout).
        case layoutMismatch = "layout_mismatch"
        /// A handle status other than 01, 02, 04: the rest of the body cannot be laid out.
        case unknownHandleStatus = "unknown_handle_status"
        /// More handles than `NDI.maxBXHandles`.
        case tooManyHandles = "too_many_handles"
        /// A NaN or infinite float in a transformation.
        case nonFiniteValue = "non_finite_value"
    }

    /// A refused binary reply.
    public struct ReplyRejection: Sendable, Equatable {
        public var reason: NDI.ReplyRejectionReason

        public init(reason: NDI.ReplyRejectionReason) {
            self.reason = reason
        }
    }

    /// The host receiver's counters, so that link quality is visible (README §8.1; the driver maps them
    /// onto `LinkHealth`). Every byte pushed ends up in exactly one of: a decoded reply, `discardedBytes`,
    /// or the receiver's buffer (`ReplyDecoder.bufferedByteCount`, empty after `flush`).
    public struct DecoderStatistics: Sendable, Equatable {
        public var bytesReceived: UInt64 = 0
        public var repliesDecoded: UInt64 = 0
        /// ASCII lines and binary headers or bodies whose CRC did not match.
        public var crcErrors: UInt64 = 0
        /// ASCII lines longer than `maxASCIILineBytes`, and binary headers announcing more than `maxBXReplyLength`.
        public var oversizeFrames: UInt64 = 0
        /// Lines too short for a CRC or whose CRC is not hex, and replies given up as truncated (`flush`).
        public var malformedFrames: UInt64 = 0
        /// CRC-valid binary replies refused (`ReplyRejectionReason`).
        public var rejectedReplies: UInt64 = 0
        /// Bytes that did not end up in a decoded reply.
        public var discardedBytes: UInt64 = 0

        public init() {}
    }

    /// The host's incremental receiver (README §8.1): bytes in, in any split, replies out — ASCII replies
    /// with their CRC checked, and BX replies parsed into `BXReply`.
    ///
    /// ```
    /// … junk | O K A Y A 8 9 6 ⏎ | C4 A5 2D 00 hh hh | 01 0A 01 … | cc cc | …     push(_:) byte by byte
    ///          └ text ┘└ CRC ┘       └─── header ───┘  └─ body ──┘  CRC
    ///          └─► .ascii("OKAY")    └─► .bx(BXReply) (or .rejected)
    /// ```
    /// A BX reply starts with C4 A5, which no ASCII reply can contain (its bytes are printable ASCII and
    /// LF), so the two are told apart by their first bytes. The receiver still has to know what the host
    /// asked for: after BX it accepts either (an ERROR is ASCII); after any other command a binary reply
    /// is framed and checked, then refused as `unexpectedBinary` — so that its bytes are accounted for as
    /// one reply, not as stray CRC errors. Set `expectation` before each command.
    ///
    /// Resynchronisation: a binary header or body whose CRC fails, and a header announcing an oversize
    /// body, are skipped by one byte only, and the bytes after it are searched again (a reply hidden
    /// behind a truncated one is still found). An ASCII line, once its CR has arrived, is decided whole:
    /// decoded, or dropped as a CRC error or malformed. Text glued before a reply without a CR makes the
    /// reply's CRC fail: the receiver does not guess where a reply starts. It never traps on any input,
    /// and never allocates: replies are collected in fixed inline storage (`maxBXFrameBytes`).
    ///
    /// One byte can complete more than one reply (those hidden behind a damaged one): `push(_:)` returns
    /// the first, `next()` the others. `push(_:_:)` does both for a chunk. At the end of an exchange (the
    /// reply deadline) `flush(_:)` gives up on what is still incomplete (README §8.1 step 10).
    public struct ReplyDecoder: Sendable {
        /// What the host asked for.
        public enum Expectation: String, Sendable, CaseIterable {
            /// Any command but BX: an ASCII reply.
            case ascii
            /// BX: a binary reply, or an ASCII one (ERRORxx).
            case bx
        }

        public var expectation: Expectation
        private var buffer = InlineArray<1032, UInt8>(repeating: 0)
        private var head = 0
        private var tail = 0
        /// The size of the binary reply at `head` while it is still arriving (0 otherwise): until the window
        /// holds that many bytes, a byte is only stored.
        private var awaitedBytes = 0
        /// How many bytes from `head` are already known to be reply characters while an ASCII line is
        /// arriving (0 otherwise), so that a long line is not rescanned for every byte.
        private var knownRunLength = 0
        /// After an oversize line: drop reply characters until a CR.
        private var skippingLine = false
        public private(set) var statistics = NDI.DecoderStatistics()

        public init(expecting expectation: Expectation = .ascii) {
            self.expectation = expectation
        }

        /// Bytes received but not yet decoded or discarded: the start of a reply still arriving.
        public var bufferedByteCount: Int { tail - head }

        /// Forgets a reply still arriving (e.g. after reopening the port); its bytes are not counted.
        public mutating func reset() {
            head = 0
            tail = 0
            awaitedBytes = 0
            knownRunLength = 0
            skippingLine = false
        }

        /// Feeds one byte; returns a result when the byte completed a reply.
        public mutating func push(_ byte: UInt8) -> NDI.DecodeResult? {
            statistics.bytesReceived &+= 1
            if skippingLine {
                if byte == NDI.carriageReturn || NDI.isReplyCharacter(byte) {
                    statistics.discardedBytes &+= 1
                    if byte == NDI.carriageReturn { skippingLine = false }
                    return nil
                }
                skippingLine = false
            }
            // The byte only extends a binary reply or an ASCII line that is still arriving.
            if awaitedBytes > 0 && tail - head + 1 < awaitedBytes && tail < buffer.count {
                buffer[tail] = byte
                tail += 1
                return nil
            }
            if knownRunLength > 0 && knownRunLength == tail - head && knownRunLength < NDI.maxASCIILineBytes
                && NDI.isReplyCharacter(byte) && tail < buffer.count
            {
                buffer[tail] = byte
                tail += 1
                knownRunLength += 1
                return nil
            }
            append(byte)
            return scan()
        }

        /// A result that is already complete in the buffer, without new input: after `push(_:)` returned
        /// one, call `next()` until nil.
        public mutating func next() -> NDI.DecodeResult? {
            scan()
        }

        /// Feeds `bytes`, calling `body` with every result they complete, in order.
        public mutating func push(_ bytes: UnsafeRawBufferPointer, _ body: (NDI.DecodeResult) -> Void) {
            for byte in bytes {
                var result = push(byte)
                while let complete = result {
                    body(complete)
                    result = next()
                }
            }
        }

        /// The end of an exchange (README §8.1 step 10: the reply deadline has passed): decodes what can be
        /// decoded, gives up on what is incomplete — a binary reply whose header had arrived intact, and an
        /// ASCII line without its CR, count as malformed — until the buffer is empty; calls `body` with
        /// every result found.
        public mutating func flush(_ body: (NDI.DecodeResult) -> Void) {
            while let result = next() { body(result) }
            while head < tail {
                if buffer[head] == NDI.bxFirstByte {
                    if tail - head >= NDI.bxHeaderBytes && buffer[head + 1] == NDI.bxSecondByte
                        && crc(from: head, count: 4) == uint16(at: head + 4)
                    {
                        statistics.malformedFrames &+= 1
                    }
                    discard(1)
                } else {
                    // An ASCII line without its CR: the scan leaves one only when it fills the buffer.
                    statistics.malformedFrames &+= 1
                    discard(tail - head)
                }
                while let result = next() { body(result) }
            }
            skippingLine = false
            awaitedBytes = 0
        }

        // MARK: Implementation

        private mutating func append(_ byte: UInt8) {
            if tail == buffer.count {
                if head == 0 {
                    // Only when results were left undrained (`next()`); keep the newest bytes rather than trap.
                    head = 1
                    statistics.discardedBytes &+= 1
                    knownRunLength = 0
                    awaitedBytes = 0
                }
                let kept = tail - head
                for index in 0..<kept { buffer[index] = buffer[head + index] }
                head = 0
                tail = kept
            }
            buffer[tail] = byte
            tail += 1
        }

        private mutating func discard(_ count: Int) {
            head += count
            statistics.discardedBytes &+= UInt64(count)
            settle()
        }

        private mutating func consume(_ count: Int) {
            head += count
            settle()
        }

        /// After `head` moved: nothing is known about the new start; an empty window starts over at 0.
        private mutating func settle() {
            knownRunLength = 0
            if head == tail {
                head = 0
                tail = 0
            }
        }

        private func crc(from start: Int, count: Int) -> UInt16 {
            var crc = NDI.CRC16()
            for index in start..<(start + count) { crc.update(buffer[index]) }
            return crc.value
        }

        private func uint16(at index: Int) -> UInt16 {
            UInt16(buffer[index]) | UInt16(buffer[index + 1]) << 8
        }

        private func uint32(at index: Int) -> UInt32 {
            UInt32(uint16(at: index)) | UInt32(uint16(at: index + 2)) << 16
        }

        private func float(at index: Int) -> Float {
            Float(bitPattern: uint32(at: index))
        }

        /// README §8.1 steps 2–9, from the start of the window: drops what cannot start a reply, returns the
        /// first complete result, or nil when the window is empty or holds the start of a reply still arriving.
        private mutating func scan() -> NDI.DecodeResult? {
            awaitedBytes = 0
            while head < tail {
                let first = buffer[head]
                let available = tail - head
                if first == NDI.bxFirstByte {
                    guard available >= 2 else { return nil }
                    guard buffer[head + 1] == NDI.bxSecondByte else {
                        discard(1)
                        continue
                    }
                    guard available >= NDI.bxHeaderBytes else { return nil }
                    let length = Int(uint16(at: head + 2))
                    guard crc(from: head, count: 4) == uint16(at: head + 4) else {
                        statistics.crcErrors &+= 1
                        discard(1)
                        continue
                    }
                    guard length <= NDI.maxBXReplyLength else {
                        statistics.oversizeFrames &+= 1
                        discard(1)
                        continue
                    }
                    let total = NDI.bxHeaderBytes + length + NDI.bxCRCBytes
                    guard available >= total else {
                        awaitedBytes = total
                        return nil
                    }
                    let bodyStart = head + NDI.bxHeaderBytes
                    guard crc(from: bodyStart, count: length) == uint16(at: bodyStart + length) else {
                        // A whole reply may start inside this one (after a truncated one): search again.
                        statistics.crcErrors &+= 1
                        discard(1)
                        continue
                    }
                    let result: NDI.DecodeResult =
                        expectation == .ascii
                        ? .rejected(NDI.ReplyRejection(reason: .unexpectedBinary))
                        : parseBody(start: bodyStart, length: length)
                    if case .bx = result {
                        consume(total)
                        statistics.repliesDecoded &+= 1
                    } else {
                        discard(total)
                        statistics.rejectedReplies &+= 1
                    }
                    return result
                }
                if NDI.isReplyCharacter(first) {
                    var end = head + max(knownRunLength, 1)
                    while end < tail && NDI.isReplyCharacter(buffer[end]) { end += 1 }
                    let run = end - head
                    if end == tail {
                        if run > NDI.maxASCIILineBytes {
                            statistics.oversizeFrames &+= 1
                            discard(run)
                            skippingLine = true
                            return nil
                        }
                        knownRunLength = run
                        return nil
                    }
                    guard buffer[end] == NDI.carriageReturn else {
                        // Text not ended by a CR (a non-reply byte follows): junk.
                        discard(run)
                        continue
                    }
                    let crcStart = end - NDI.asciiCRCDigits
                    guard run > NDI.asciiCRCDigits, let received = hex(from: crcStart) else {
                        statistics.malformedFrames &+= 1
                        discard(run + 1)
                        continue
                    }
                    guard crc(from: head, count: run - NDI.asciiCRCDigits) == received else {
                        statistics.crcErrors &+= 1
                        discard(run + 1)
                        continue
                    }
                    var text = NDI.ReplyText()
                    for index in head..<crcStart { text.append(buffer[index]) }
                    consume(run + 1)
                    statistics.repliesDecoded &+= 1
                    return .ascii(NDI.ASCIIReply(text: text))
                }
                discard(1)
            }
            return nil
        }

        /// The four hex digits at `start` as a CRC, or nil when they are not all hex digits.
        private func hex(from start: Int) -> UInt16? {
            var value: UInt32 = 0
            for index in start..<(start + NDI.asciiCRCDigits) {
                guard let digit = Hex.value(ofDigit: buffer[index]) else { return nil }
                value = value << 4 | digit
            }
            return UInt16(value)
        }

        /// A BX body of reply option 0x0001 (README §6.2, §8.1 step 9): the layout is walked first
        /// (unknown handle status, length mismatch), then the handle count is checked against
        /// `maxBXHandles`, then every float must be finite — the order the reference implementation uses.
        private func parseBody(start: Int, length: Int) -> NDI.DecodeResult {
            func rejected(_ reason: NDI.ReplyRejectionReason) -> NDI.DecodeResult {
                .rejected(NDI.ReplyRejection(reason: reason))
            }
            let end = start + length
            guard length >= 1 else { return rejected(.layoutMismatch) }
            let handleCount = Int(buffer[start])
            var position = start + 1
            for _ in 0..<handleCount {
                guard position + 2 <= end else { return rejected(.layoutMismatch) }
                guard let status = NDI.HandleStatus(rawValue: buffer[position + 1]) else {
                    return rejected(.unknownHandleStatus)
                }
                position += 2
                switch status {
                case .disabled: continue
                case .valid: position += 32 + 8
                case .missing: position += 8
                }
                guard position <= end else { return rejected(.layoutMismatch) }
            }
            guard position + 2 == end else { return rejected(.layoutMismatch) }
            guard handleCount <= NDI.maxBXHandles else { return rejected(.tooManyHandles) }

            var reply = NDI.BXReply(systemStatus: NDI.SystemStatus(rawValue: uint16(at: end - 2)))
            position = start + 1
            for _ in 0..<handleCount {
                let handle = buffer[position]
                let status = NDI.HandleStatus(rawValue: buffer[position + 1]) ?? .disabled
                position += 2
                switch status {
                case .disabled:
                    reply.handles.append(.disabled(handle: handle))
                case .missing:
                    reply.handles.append(
                        .missing(handle: handle, portStatus: NDI.PortStatus(rawValue: uint32(at: position)), frameNumber: uint32(at: position + 4)))
                    position += 8
                case .valid:
                    let q = SIMD4(float(at: position), float(at: position + 4), float(at: position + 8), float(at: position + 12))
                    let t = SIMD3(float(at: position + 16), float(at: position + 20), float(at: position + 24))
                    let error = float(at: position + 28)
                    for index in 0..<4 where !q[index].isFinite { return rejected(.nonFiniteValue) }
                    for index in 0..<3 where !t[index].isFinite { return rejected(.nonFiniteValue) }
                    guard error.isFinite else { return rejected(.nonFiniteValue) }
                    position += 32
                    let pose = NDI.ToolPose(wireQuaternion: q, wirePositionMillimeters: t, wireRMSErrorMillimeters: error)
                    reply.handles.append(
                        .valid(
                            handle: handle, pose: pose, portStatus: NDI.PortStatus(rawValue: uint32(at: position)),
                            frameNumber: uint32(at: position + 4)))
                    position += 8
                }
            }
            return .bx(reply)
        }
    }
}
