extension Dynamixel {
    /// Byte stuffing (e-Manual, "Packet Process"): so that the header `FF FF FD` never appears inside a
    /// packet, a sender adds one `FD` after every `FF FF FD` in the instruction and parameters (not in the
    /// header, ID, LENGTH or CRC); LENGTH and the CRC then cover the stuffed bytes. A receiver checks the
    /// CRC first, then removes the added `FD`s.
    ///
    /// ```
    /// original:  03 E0 00 FF FF FF FF FD 01
    /// stuffed:   03 E0 00 FF FF FF FF FD FD 01     (the two FFs before FD make the pattern)
    /// original:  FF FF FD FD          stuffed:  FF FF FD FD FD
    /// ```
    /// The pattern is looked for in the original bytes only, so an added `FD` never starts another one.
    /// Removal drops exactly the `FD` that directly follows an `FF FF FD`; an `FF FF FD` followed by anything
    /// else is kept as it is (README §4.3 rule 7: a sender that does not stuff, such as the Python SDK, is
    /// accepted; re-encoding such a packet then stuffs it).
    public enum ByteStuffing {
        /// The number of bytes `source` takes once stuffed.
        public static func stuffedCount(_ source: UnsafeRawBufferPointer) -> Int {
            var count = source.count
            var run = 0
            for byte in source {
                if byte == 0xFD && run >= 2 { count += 1 }
                run = byte == 0xFF ? run + 1 : 0
            }
            return count
        }

        /// Writes `source`, stuffed, to the start of `destination`; returns the stuffed count, or nil (and
        /// `destination` partly written) when it does not fit.
        public static func stuff(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Int? {
            var written = 0
            var run = 0
            for byte in source {
                guard written < destination.count else { return nil }
                destination[written] = byte
                written += 1
                if byte == 0xFD && run >= 2 {
                    guard written < destination.count else { return nil }
                    destination[written] = 0xFD
                    written += 1
                }
                run = byte == 0xFF ? run + 1 : 0
            }
            return written
        }

        /// Stuffs `buffer[0..<count]` in place, growing it within `buffer`; returns the stuffed count, or nil
        /// (and the bytes untouched) when the result would not fit in `buffer`.
        static func stuffInPlace(_ buffer: UnsafeMutableRawBufferPointer, count: Int) -> Int? {
            let stuffed = stuffedCount(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            guard stuffed <= buffer.count else { return nil }
            guard stuffed > count else { return count }
            // From the back, so that every byte moves at most once and the two bytes before the one being
            // moved are still the original ones.
            var read = count - 1
            var write = stuffed - 1
            while read >= 0 {
                let byte = buffer[read]
                if byte == 0xFD && read >= 2 && buffer[read - 1] == 0xFF && buffer[read - 2] == 0xFF {
                    buffer[write] = 0xFD
                    write -= 1
                }
                buffer[write] = byte
                write -= 1
                read -= 1
            }
            return stuffed
        }

        /// Removes the stuffing from `buffer` in place: every `FD` that directly follows `FF FF FD` (as
        /// received) is dropped. Returns the unstuffed count.
        public static func unstuff(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
            var read = 0
            var write = 0
            var run = 0
            while read < buffer.count {
                let byte = buffer[read]
                read += 1
                buffer[write] = byte
                write += 1
                if byte == 0xFD && run >= 2 && read < buffer.count && buffer[read] == 0xFD {
                    read += 1
                }
                run = byte == 0xFF ? run + 1 : 0
            }
            return write
        }
    }
}
