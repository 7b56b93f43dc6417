/// Writes little-endian integers into a packet buffer. Callers size the buffer for the message,
/// so no bounds are re-checked here beyond the runtime's own.
struct PacketWriter {
    let buffer: UnsafeMutableRawBufferPointer
    private(set) var offset = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) {
        self.buffer = buffer
    }

    mutating func u8(_ value: UInt8) {
        buffer[offset] = value
        offset += 1
    }

    mutating func u16(_ value: UInt16) {
        u8(UInt8(truncatingIfNeeded: value))
        u8(UInt8(truncatingIfNeeded: value >> 8))
    }

    mutating func u32(_ value: UInt32) {
        u16(UInt16(truncatingIfNeeded: value))
        u16(UInt16(truncatingIfNeeded: value >> 16))
    }

    mutating func i16(_ value: Int16) { u16(UInt16(bitPattern: value)) }
    mutating func i32(_ value: Int32) { u32(UInt32(bitPattern: value)) }

    mutating func ascii<let capacity: Int>(_ field: FixedASCII<capacity>) {
        for index in 0..<capacity { u8(field.bytes[index]) }
    }
}

/// Reads little-endian integers from a packet whose length the caller has validated.
struct PacketReader {
    let buffer: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    var remaining: Int { buffer.count - offset }

    mutating func u8() -> UInt8 {
        let value = buffer[offset]
        offset += 1
        return value
    }

    mutating func u16() -> UInt16 {
        let low = UInt16(u8())
        return low | UInt16(u8()) << 8
    }

    mutating func u32() -> UInt32 {
        let low = UInt32(u16())
        return low | UInt32(u16()) << 16
    }

    mutating func i16() -> Int16 { Int16(bitPattern: u16()) }
    mutating func i32() -> Int32 { Int32(bitPattern: u32()) }

    mutating func ascii<let capacity: Int>() -> FixedASCII<capacity> {
        var field = FixedASCII<capacity>()
        for index in 0..<capacity { field.bytes[index] = u8() }
        return field
    }
}
