extension Xsens {
    /// How an MTData2 item's floating values are sent: bits 0-1 of its data identifier (README §4.1).
    public enum Precision: UInt16, Sendable, CaseIterable {
        /// IEEE 754 single precision, 4 bytes.
        case float32 = 0
        /// Signed fixed point with 20 fractional bits, 4 bytes: value × 2^20.
        case fp1220 = 1
        /// Signed fixed point with 32 fractional bits, 6 bytes: the 32-bit fraction, then the 16-bit integer part.
        case fp1632 = 2
        /// IEEE 754 double precision, 8 bytes.
        case float64 = 3

        /// Bytes per value.
        public var valueBytes: Int {
            switch self {
            case .float32, .fp1220: 4
            case .fp1632: 6
            case .float64: 8
            }
        }

        /// The vectors' name ("fp1220").
        public var name: String {
            switch self {
            case .float32: "float32"
            case .fp1220: "fp1220"
            case .fp1632: "fp1632"
            case .float64: "float64"
            }
        }
    }

    /// The reference frame of an orientation output: bits 2-3 of its data identifier (README §4.1).
    public enum CoordinateSystem: UInt16, Sendable, CaseIterable {
        /// East-North-Up, Xsens's default.
        case eastNorthUp = 0x0
        /// North-East-Down.
        case northEastDown = 0x4
        /// North-West-Up.
        case northWestUp = 0x8

        /// The vectors' name ("enu").
        public var name: String {
            switch self {
            case .eastNorthUp: "enu"
            case .northEastDown: "ned"
            case .northWestUp: "nwu"
            }
        }
    }

    /// An MTData2 data identifier (README §4.1): bits 15-4 say what the item is (`type`), bits 1-0 its
    /// `precision`, bits 3-2 an orientation's `coordinateSystem`.
    public struct DataID: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt16

        public init(rawValue: UInt16) { self.rawValue = rawValue }

        /// XDI_PacketCounter: UInt16, +1 per packet, wraps at 65536.
        public static let packetCounter = DataID(rawValue: 0x1020)
        /// XDI_SampleTimeFine: UInt32 ticks of 100 µs (10 kHz).
        public static let sampleTimeFine = DataID(rawValue: 0x1060)
        /// XDI_Quaternion: q0 (w), q1, q2, q3; orientation of the sensor in the chosen frame.
        public static let quaternion = DataID(rawValue: 0x2010)
        /// XDI_Acceleration: x, y, z in m/s², sensor frame.
        public static let acceleration = DataID(rawValue: 0x4020)
        /// XDI_RateOfTurn: x, y, z in rad/s, sensor frame.
        public static let rateOfTurn = DataID(rawValue: 0x8020)
        /// XDI_StatusWord: UInt32 of status flags.
        public static let statusWord = DataID(rawValue: 0xE020)

        /// The item without its format bits (`rawValue & 0xFFF0`).
        public var type: DataID { DataID(rawValue: rawValue & 0xFFF0) }
        /// Bits 1-0.
        public var precision: Xsens.Precision { Xsens.Precision(rawValue: rawValue & 0x3) ?? .float32 }
        /// Bits 3-2; nil for 0xC, which names no coordinate system.
        public var coordinateSystem: Xsens.CoordinateSystem? { Xsens.CoordinateSystem(rawValue: rawValue & 0xC) }

        /// The same item with `precision` (and, for an orientation, `coordinateSystem`) in its format bits.
        public func with(precision: Xsens.Precision, coordinateSystem: Xsens.CoordinateSystem = .eastNorthUp) -> DataID {
            DataID(rawValue: (rawValue & 0xFFF0) | coordinateSystem.rawValue | precision.rawValue)
        }

        public var description: String { "0x" + Hex.text(rawValue) }
    }

    /// A unit quaternion (w, x, y, z), w first as the device sends it, and the frame it refers to.
    public struct Quaternion: Sendable, Equatable {
        public var w: Double
        public var x: Double
        public var y: Double
        public var z: Double
        public var coordinateSystem: Xsens.CoordinateSystem

        public init(w: Double, x: Double, y: Double, z: Double, coordinateSystem: Xsens.CoordinateSystem = .eastNorthUp) {
            self.w = w
            self.x = x
            self.y = y
            self.z = z
            self.coordinateSystem = coordinateSystem
        }
    }

    /// Three components in the sensor frame; the unit is in the name of the field that holds it.
    public struct Vector3: Sendable, Equatable {
        public var x: Double
        public var y: Double
        public var z: Double

        public init(x: Double, y: Double, z: Double) {
            self.x = x
            self.y = y
            self.z = z
        }
    }

    /// Where one MTData2 item is in a payload (README §4): its identifier, and its data's offset and size.
    public struct MTData2Item: Sendable, Equatable {
        public var dataID: Xsens.DataID
        /// The offset of the item's data in the payload (after its 3-byte header).
        public var dataOffset: Int
        public var size: Int

        public init(dataID: Xsens.DataID, dataOffset: Int, size: Int) {
            self.dataID = dataID
            self.dataOffset = dataOffset
            self.size = size
        }

        /// Calls `body` with every whole item of `payload`, in order; returns true when the payload ends in
        /// the middle of an item's header or data (README §4.3 step 2), which is then not reported.
        @discardableResult
        public static func forEach(in payload: UnsafeRawBufferPointer, _ body: (MTData2Item) -> Void) -> Bool {
            var offset = 0
            while offset < payload.count {
                guard payload.count - offset >= 3 else { return true }
                let id = UInt16(payload[offset]) << 8 | UInt16(payload[offset + 1])
                let size = Int(payload[offset + 2])
                guard payload.count - offset - 3 >= size else { return true }
                body(MTData2Item(dataID: DataID(rawValue: id), dataOffset: offset + 3, size: size))
                offset += 3 + size
            }
            return false
        }
    }

    /// The items of one MTData2 message that RehabHost reads (README §4.2), in SI units. A field is nil
    /// when its item was absent, so that "not sent" is never mistaken for zero (README §5.4).
    public struct MTData2Sample: Sendable, Equatable {
        /// Increments by one with every packet and wraps at 65536: a gap means lost packets.
        public var packetCounter: UInt16?
        /// The sample time in ticks of 100 µs (10 kHz); see `sampleTimeFineSeconds`.
        public var sampleTimeFine: UInt32?
        /// The orientation, in the coordinate system of its data identifier.
        public var quaternion: Xsens.Quaternion?
        /// Calibrated acceleration, sensor frame, gravity included.
        public var accelerationMetersPerSecondSquared: Xsens.Vector3?
        /// Calibrated angular velocity, sensor frame.
        public var rateOfTurnRadiansPerSecond: Xsens.Vector3?
        /// Status flags (README §5.6).
        public var statusWord: UInt32?
        /// Whole items this struct has no field for (unknown or unused data identifiers), skipped by their size.
        public var unusedItemCount: Int
        /// Items RehabHost reads whose size does not fit their format, or an orientation without a
        /// coordinate system: ignored.
        public var malformedItemCount: Int
        /// The payload ended inside an item (README §4.3 step 2); the items before it are kept.
        public var isTruncated: Bool

        public init(
            packetCounter: UInt16? = nil, sampleTimeFine: UInt32? = nil, quaternion: Xsens.Quaternion? = nil,
            accelerationMetersPerSecondSquared: Xsens.Vector3? = nil, rateOfTurnRadiansPerSecond: Xsens.Vector3? = nil,
            statusWord: UInt32? = nil, unusedItemCount: Int = 0, malformedItemCount: Int = 0, isTruncated: Bool = false
        ) {
            self.packetCounter = packetCounter
            self.sampleTimeFine = sampleTimeFine
            self.quaternion = quaternion
            self.accelerationMetersPerSecondSquared = accelerationMetersPerSecondSquared
            self.rateOfTurnRadiansPerSecond = rateOfTurnRadiansPerSecond
            self.statusWord = statusWord
            self.unusedItemCount = unusedItemCount
            self.malformedItemCount = malformedItemCount
            self.isTruncated = isTruncated
        }

        /// The sample time in seconds since the device's time base (nil without SampleTimeFine).
        public var sampleTimeFineSeconds: Double? {
            sampleTimeFine.map { Double($0) / Double(Xsens.sampleTimeFineTicksPerSecond) }
        }

        /// Parses an MTData2 payload (README §4.3). Never traps: anything it cannot use is counted.
        public init(parsing payload: UnsafeRawBufferPointer) {
            self.init()
            var sample = self
            sample.isTruncated = MTData2Item.forEach(in: payload) { item in
                sample.read(item, from: payload)
            }
            self = sample
        }

        /// Takes one item into the sample (README §4.3 steps 3-5).
        private mutating func read(_ item: MTData2Item, from payload: UnsafeRawBufferPointer) {
            let data = UnsafeRawBufferPointer(rebasing: payload[item.dataOffset..<(item.dataOffset + item.size)])
            switch item.dataID.type {
            case .packetCounter:
                guard item.size == 2 else { return malformedItemCount += 1 }
                packetCounter = UInt16(Xsens.BigEndian.uint(data, at: 0, bytes: 2))
            case .sampleTimeFine:
                guard item.size == 4 else { return malformedItemCount += 1 }
                sampleTimeFine = UInt32(Xsens.BigEndian.uint(data, at: 0, bytes: 4))
            case .statusWord:
                guard item.size == 4 else { return malformedItemCount += 1 }
                statusWord = UInt32(Xsens.BigEndian.uint(data, at: 0, bytes: 4))
            case .quaternion:
                let precision = item.dataID.precision
                guard item.size == 4 * precision.valueBytes, let frame = item.dataID.coordinateSystem else {
                    return malformedItemCount += 1
                }
                let width = precision.valueBytes
                quaternion = Xsens.Quaternion(
                    w: Xsens.BigEndian.value(data, at: 0, precision), x: Xsens.BigEndian.value(data, at: width, precision),
                    y: Xsens.BigEndian.value(data, at: 2 * width, precision),
                    z: Xsens.BigEndian.value(data, at: 3 * width, precision), coordinateSystem: frame)
            case .acceleration, .rateOfTurn:
                let precision = item.dataID.precision
                let width = precision.valueBytes
                guard item.size == 3 * width else { return malformedItemCount += 1 }
                let vector = Xsens.Vector3(
                    x: Xsens.BigEndian.value(data, at: 0, precision), y: Xsens.BigEndian.value(data, at: width, precision),
                    z: Xsens.BigEndian.value(data, at: 2 * width, precision))
                if item.dataID.type == .acceleration {
                    accelerationMetersPerSecondSquared = vector
                } else {
                    rateOfTurnRadiansPerSecond = vector
                }
            default:
                unusedItemCount += 1
            }
        }
    }
}

extension Xsens {
    /// Big-endian fields and the four value formats (README §2.4, §4.1). The callers check the bounds.
    enum BigEndian {
        /// `bytes` bytes at `offset`, most significant first.
        static func uint(_ data: UnsafeRawBufferPointer, at offset: Int, bytes: Int) -> UInt64 {
            var value: UInt64 = 0
            for index in offset..<(offset + bytes) { value = value << 8 | UInt64(data[index]) }
            return value
        }

        /// One value in `precision`, exactly as a Double (every format fits a Double without rounding).
        static func value(_ data: UnsafeRawBufferPointer, at offset: Int, _ precision: Xsens.Precision) -> Double {
            switch precision {
            case .float32:
                return Double(Float(bitPattern: UInt32(uint(data, at: offset, bytes: 4))))
            case .float64:
                return Double(bitPattern: uint(data, at: offset, bytes: 8))
            case .fp1220:
                return Double(Int32(bitPattern: UInt32(uint(data, at: offset, bytes: 4)))) / 1_048_576
            case .fp1632:
                // The 32-bit fraction first, then the signed 16-bit integer part: together a signed 48-bit
                // integer scaled by 2^32.
                let fraction = Int64(uint(data, at: offset, bytes: 4))
                let whole = Int64(Int16(bitPattern: UInt16(uint(data, at: offset + 4, bytes: 2))))
                return Double(whole << 32 | fraction) / 4_294_967_296
            }
        }

        /// The wire form of `value` in `precision` (README §4.1): a non-finite value becomes 0, a value out
        /// of range saturates, fixed point rounds half away from zero. Calls `body` with each byte.
        static func write(_ value: Double, _ precision: Xsens.Precision, _ body: (UInt8) -> Void) {
            let finite = value.isFinite ? value : 0
            switch precision {
            case .float32:
                let largest = Double(Float.greatestFiniteMagnitude)
                emit(UInt64(Float(min(max(finite, -largest), largest)).bitPattern), bytes: 4, body)
            case .float64:
                emit(finite.bitPattern, bytes: 8, body)
            case .fp1220:
                let fixed = saturatingFixed(finite * 1_048_576, bits: 32)
                emit(UInt64(UInt32(truncatingIfNeeded: fixed)), bytes: 4, body)
            case .fp1632:
                let fixed = saturatingFixed(finite * 4_294_967_296, bits: 48)
                emit(UInt64(UInt32(truncatingIfNeeded: fixed)), bytes: 4, body)
                emit(UInt64(UInt16(truncatingIfNeeded: fixed >> 32)), bytes: 2, body)
            }
        }

        /// `scaled` rounded half away from zero, saturated to a signed `bits`-bit integer.
        static func saturatingFixed(_ scaled: Double, bits: Int) -> Int64 {
            let largest = Int64(1) << (bits - 1) - 1
            let smallest = -(Int64(1) << (bits - 1))
            // Compare as Doubles first: converting an out-of-range Double to Int64 would trap.
            if scaled >= Double(largest) { return largest }
            if scaled <= Double(smallest) { return smallest }
            return min(max(Int64(scaled.rounded(.toNearestOrAwayFromZero)), smallest), largest)
        }

        static func emit(_ value: UInt64, bytes: Int, _ body: (UInt8) -> Void) {
            var shift = 8 * (bytes - 1)
            while shift >= 0 {
                body(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
                shift -= 8
            }
        }
    }
}
