/// Hexadecimal digits without Foundation: the text of bytes in diagnostics, and the ASCII hex fields of
/// text protocols (NDI's CRCs, handles and reply options).
public enum Hex {
    /// Two upper-case hex digits ("0A").
    public static func text(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return byte < 0x10 ? "0" + digits : digits
    }

    /// Four upper-case hex digits, most significant first ("0A1B").
    public static func text(_ value: UInt16) -> String {
        text(UInt8(truncatingIfNeeded: value >> 8)) + text(UInt8(truncatingIfNeeded: value))
    }

    /// The upper-case ASCII hex digit of the low four bits of `value`.
    @inlinable
    public static func digit(_ value: UInt32) -> UInt8 {
        let nibble = UInt8(truncatingIfNeeded: value & 0xF)
        return nibble < 10 ? 0x30 + nibble : 0x37 + nibble
    }

    /// The value of an ASCII hex digit, either case; nil for anything else.
    @inlinable
    public static func value(ofDigit character: UInt8) -> UInt32? {
        switch character {
        case 0x30...0x39: return UInt32(character - 0x30)
        case 0x41...0x46: return UInt32(character - 0x37)
        case 0x61...0x66: return UInt32(character - 0x57)
        default: return nil
        }
    }
}
