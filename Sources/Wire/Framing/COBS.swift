/// Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999): removes every 0x00 from a packet so
/// that 0x00 can delimit frames on a byte stream.
///
/// ```
/// packet:  11 22 00 33            (n bytes, any values)
/// COBS:    03 11 22 02 33         (n + 1 bytes for n ≤ 254, never a 0x00)
/// on wire: 03 11 22 02 33 00      (delimiter)
/// ```
/// Each code byte `c` is followed by `c - 1` data bytes and, unless `c` is 0xFF or it ends the
/// frame, an implied 0x00. This is the variant without a trailing 0x01 block after a full
/// 254-byte run; decoders accept both.
public enum COBS {
    /// The largest encoded size of a packet of `packetBytes` bytes.
    public static func maxEncodedBytes(forPacketBytes packetBytes: Int) -> Int {
        packetBytes + (packetBytes + 253) / 254 + (packetBytes == 0 ? 1 : 0)
    }

    /// Encodes `source[0..<count]` into `destination` starting at 0; returns the encoded length.
    /// `destination` must hold `maxEncodedBytes(forPacketBytes: count)` bytes.
    public static func encode(
        _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer
    ) -> Int {
        var codeIndex = 0
        var write = 1
        var code: UInt8 = 1
        var remaining = source.count
        for byte in source {
            remaining -= 1
            if byte != 0 {
                destination[write] = byte
                write += 1
                code += 1
            }
            if byte == 0 || code == 0xFF {
                destination[codeIndex] = code
                code = 1
                codeIndex = write
                if byte == 0 || remaining > 0 {
                    write += 1
                }
            }
        }
        // After a full 254-byte block that ends the packet no further block is started:
        // codeIndex then points one past the end and there is no code left to write.
        if codeIndex < write {
            destination[codeIndex] = code
        }
        return write
    }

    /// Decodes `buffer[0..<count]` in place (the output is never longer than the input).
    /// Returns the decoded length, or nil when the bytes are not valid COBS
    /// (a 0x00 inside, or a code byte that points past the end).
    public static func decodeInPlace(_ buffer: UnsafeMutableRawBufferPointer, count: Int) -> Int? {
        var read = 0
        var write = 0
        while read < count {
            let code = Int(buffer[read])
            if code == 0 { return nil }
            read += 1
            let blockEnd = read + code - 1
            if blockEnd > count { return nil }
            while read < blockEnd {
                let byte = buffer[read]
                if byte == 0 { return nil }
                buffer[write] = byte
                write += 1
                read += 1
            }
            if code != 0xFF && read < count {
                buffer[write] = 0
                write += 1
            }
        }
        return write
    }
}
