/// CEVA (Hillcrest) BNO080/BNO085/BNO086 in UART-RVC mode: the namespace of its Wire codec
/// (protocols/bno08x-rvc/README.md).
///
/// The normative text is CEVA's BNO08X data sheet (document 1000-3927), section "UART-RVC protocol".
/// In this mode, chosen by the sensor's PS0/PS1 pins at reset, the IMU needs no host commands: it only
/// transmits, at 115 200 bit/s 8N1, one 19-byte report every 10 ms (100 Hz):
///
/// ```
/// | AA AA | IDX | YAW | PITCH | ROLL | AX | AY | AZ | MI | MR | RSVD | CSUM |
///   header  u8    int16 LE, 0.01°      int16 LE, mg   u8   u8   u8     sum of offsets 2 … 17, mod 256
/// offset  0 1    2    3-4   5-6   7-8   9-10 … 13-14  15   16   17     18
/// ```
/// - No byte stuffing: 0xAA 0xAA can appear inside a report, so the receiver checks the checksum
///   and, when it fails, looks for the header again one byte later (`FrameDecoder`, README §7).
/// - MI and MR (Motion Intent, Motion Request) exist on a BNO086 only; on a BNO080/BNO085 they are
///   reserved and 0. They are carried as raw bytes, never interpreted.
///
/// The codec: `BNO08xRVC.Frame` (the counts, and their SI values), `BNO08xRVC.Scaling` (wire ↔ SI, with
/// the rules the simulator's encoder follows), `BNO08xRVC.FrameEncoder` (into a fixed
/// `BNO08xRVC.EncodedFrame`) and `BNO08xRVC.FrameDecoder` (with `BNO08xRVC.DecoderStatistics`). Nothing
/// allocates per frame; there is no Foundation, no I/O and no clock.
public enum BNO08xRVC {
    /// Both header bytes.
    public static let headerByte: UInt8 = 0xAA
    /// A whole report, header to checksum.
    public static let frameBytes = 19
    /// The offset of the index (the 8-bit report counter).
    public static let indexOffset = 2
    /// The checksum covers offsets 2 … 17: everything between the header and the checksum byte.
    public static let checksummedOffsets = 2...17
    /// The offset of the checksum byte (the last).
    public static let checksumOffset = 18

    /// The line rate (8 data bits, no parity, 1 stop bit): fixed, the data sheet offers no other.
    public static let baudRate = 115_200
    /// Reports per second.
    public static let framesPerSecond = 100
    /// The nominal time between two reports.
    public static let framePeriodNanoseconds: Int64 = 10_000_000
    /// How long one report takes on the line: 19 bytes × 10 bits at 115 200 bit/s ≈ 1.65 ms. The last byte
    /// arrives that long after the first, which a driver subtracts when it dates a report.
    public static let frameTransmissionNanoseconds: Int64 = 1_649_306

    /// Standard gravity, m/s² per g (exact by definition): the mg → m/s² factor's base. Adafruit's
    /// parsers use 0.0098067 m/s² per mg instead, 5 parts per million more.
    public static let standardGravityMetersPerSecondSquared = 9.80665
    /// The documented range of yaw and roll: ±180°.
    public static let yawRollLimitCentidegrees: Int16 = 18_000
    /// The documented range of pitch: ±90°.
    public static let pitchLimitCentidegrees: Int16 = 9_000

    /// The checksum of a report: the sum of the bytes at offsets 2 … 17, modulo 256. `bytes` is a whole
    /// report or at least its first 18 bytes; offsets it does not have count as 0.
    public static func checksum(ofFrame bytes: UnsafeRawBufferPointer) -> UInt8 {
        var sum: UInt8 = 0
        for offset in checksummedOffsets where offset < bytes.count {
            sum &+= bytes[offset]
        }
        return sum
    }

    /// How far the 8-bit index moved from one report to the next, modulo 256: 1 for the next report, 0 for
    /// a repeated index (the same report again, or a frozen sensor), k for k − 1 reports lost. The index
    /// wraps every 256 reports (2.56 s), so a gap that long is ambiguous: a driver also looks at the time
    /// between the reports (README §8).
    public static func framesAdvanced(from previousIndex: UInt8, to currentIndex: UInt8) -> Int {
        Int(currentIndex &- previousIndex)
    }
}
