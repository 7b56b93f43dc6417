/// NDI combined API: the namespace of the Wire codec for NDI's Aurora (electromagnetic) and Polaris
/// (optical) trackers over a serial line (protocols/ndi/README.md).
///
/// The normative text is NDI's "Polaris/Aurora Application Program Interface Guide". README §1 says
/// which public implementations this codec was checked against (ndicapi, NDI's sample code, cisst), and
/// README §12 lists the sources of every fact.
///
/// ```
/// host → device   INIT:E3A5⏎          NAME ':' parameters CRC16-as-4-hex CR   (colon form, README §3.1)
///                 INIT ⏎              NAME ' ' parameters CR                   (space form, no CRC)
/// device → host   OKAYA896⏎           text CRC16-as-4-hex CR                   (ASCII reply, README §4)
///                 C4 A5 | len | hcrc | body … | bcrc                          (binary BX reply, README §6)
///                 start   LE16  LE16   len bytes  LE16
/// ```
/// Every type of the codec lives here. Host side: `NDI.Command` and `NDI.CommandEncoder` (into a fixed
/// `NDI.EncodedCommand`), `NDI.ReplyDecoder` (yielding `NDI.DecodeResult`: an `NDI.ASCIIReply`, an
/// `NDI.BXReply` or a rejection). Device side (the simulator): `NDI.CommandParser` and `NDI.ReplyEncoder`
/// (into a fixed `NDI.EncodedReply`). Shared: `NDI.CRC16` and the inline `NDI.HandleList` (bytes are
/// the shared `InlineBytes`). Nothing allocates per command or reply.
///
/// Units: the wire carries millimetres (float32); `NDI.ToolPose` holds metres (`positionMeters`) and
/// converts at this edge. The RMS error stays in millimetres, as its name says.
public enum NDI {
    public static let carriageReturn: UInt8 = 0x0D
    public static let lineFeed: UInt8 = 0x0A
    /// The baud rate after power-up and after a serial break (README §2).
    public static let defaultBaudRate = 9600

    /// The longest command line (without its CR) that `CommandParser` accepts and `Command` holds.
    public static let maxCommandBytes = 256
    /// The longest command name ("GETINFO" is 7).
    public static let maxCommandNameBytes = 16
    /// The longest ASCII reply text (without CRC and CR) that `ReplyDecoder` accepts (README §4.1).
    public static let maxReplyTextBytes = 1024
    /// The CRC of an ASCII line: four hex digits.
    public static let asciiCRCDigits = 4
    /// The longest run of reply characters before a CR: text and CRC.
    public static let maxASCIILineBytes = maxReplyTextBytes + asciiCRCDigits

    /// The 16-bit start sequence of a binary reply, sent little-endian: C4 A5 (README §6.1).
    public static let bxStartSequence: UInt16 = 0xA5C4
    public static let bxFirstByte: UInt8 = 0xC4
    public static let bxSecondByte: UInt8 = 0xA5
    /// Start sequence, reply length and header CRC.
    public static let bxHeaderBytes = 6
    public static let bxCRCBytes = 2
    /// The largest reply length (body bytes) `ReplyDecoder` accepts; a header announcing more is oversize.
    public static let maxBXReplyLength = 1024
    /// The largest binary reply, header to body CRC.
    public static let maxBXFrameBytes = bxHeaderBytes + maxBXReplyLength + bxCRCBytes
    /// The most handles one decoded BX reply holds (`HandleList.capacity`).
    public static let maxBXHandles = 8

    /// The bytes an ASCII reply's text and CRC consist of: printable ASCII, and LF between lines (README §4.1).
    @inlinable
    public static func isReplyCharacter(_ byte: UInt8) -> Bool {
        (byte >= 0x20 && byte <= 0x7E) || byte == lineFeed
    }

    /// A character a command name may have: A–Z and 0–9 (README §3.1).
    @inlinable
    public static func isCommandNameCharacter(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
    }
}

extension NDI {
    /// The CRC-16 NDI appends to every command in the colon form, to every ASCII reply (as four hex
    /// digits) and to a BX reply's header and body (binary, low byte first). README §3.2.
    ///
    /// Parameters (Rocksoft model): width 16, polynomial 0x8005 (x¹⁶ + x¹⁵ + x² + 1) reflected, i.e.
    /// shifted out least significant bit first (0xA001), init 0, no final XOR — CRC-16/ARC;
    /// check("123456789") = 0xBB3D. Computed bit by bit from the polynomial: no table to build (nothing
    /// to allocate, even once), and a line is at most ~1 KB. NDI's API guide writes the same CRC with an
    /// odd-parity formulation; README §3.2 shows the two agree on NDI's own examples:
    ///
    /// ```
    /// "INIT:" → 0xE3A5 (sent INIT:E3A5⏎)   "OKAY" → 0xA896   "RESET" → 0xBE6F   "VER:0" → 0x65EE
    /// ```
    /// Dynamixel's CRC-16 has the same polynomial but is not reflected; the two are not interchangeable.
    public struct CRC16: Sendable, Equatable {
        /// The CRC of the ASCII bytes "123456789" (CRC catalogue, CRC-16/ARC).
        public static let checkValue: UInt16 = 0xBB3D

        /// The CRC of everything fed so far.
        public private(set) var value: UInt16

        /// A CRC that starts from `value`: 0 for a new line or block, or a running CRC to continue.
        public init(value: UInt16 = 0) {
            self.value = value
        }

        /// Feeds one byte.
        public mutating func update(_ byte: UInt8) {
            var crc = value ^ UInt16(byte)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1
            }
            value = crc
        }

        /// Feeds `bytes` in order.
        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            for byte in bytes { update(byte) }
        }

        /// Feeds the bytes of `bytes` in order.
        public mutating func update<let maximum: Int>(_ bytes: InlineBytes<maximum>) {
            for index in 0..<bytes.count { update(bytes[index]) }
        }

        /// The CRC of `bytes`.
        public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
            var crc = CRC16()
            crc.update(bytes)
            return crc.value
        }

        /// The CRC of `bytes`.
        public static func checksum<let maximum: Int>(_ bytes: InlineBytes<maximum>) -> UInt16 {
            var crc = CRC16()
            crc.update(bytes)
            return crc.value
        }
    }
}
