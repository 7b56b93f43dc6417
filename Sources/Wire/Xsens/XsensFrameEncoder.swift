extension Xsens {
    /// One encoded frame, ready for the wire: preamble to checksum. Preallocate one and encode into it
    /// every cycle; nothing is allocated.
    public struct EncodedFrame: Sendable {
        /// Keep the literal equal to `Xsens.maxFrameBytes`.
        @usableFromInline var storage = InlineArray<2055, UInt8>(repeating: 0)
        /// Bytes in the frame; 0 after a failed encoding.
        public internal(set) var count = 0

        public init() {}

        /// Calls `body` with the frame's bytes.
        @inlinable
        public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
            let count = self.count
            let span = storage.span
            return span.withUnsafeBytes { raw in body(UnsafeRawBufferPointer(rebasing: raw[0..<count])) }
        }

        /// The frame's bytes as an array (tests and diagnostics; allocates).
        public var bytes: [UInt8] {
            (0..<count).map { storage[$0] }
        }

        /// Starts a frame: preamble, bus ID, MID and the standard or extended length. The caller has
        /// checked `length <= Xsens.maxPayloadBytes`.
        mutating func begin(_ messageID: Xsens.MessageID, length: Int) {
            count = 0
            append(Xsens.preamble)
            append(Xsens.masterBusID)
            append(messageID.rawValue)
            if length <= Xsens.maxStandardPayloadBytes {
                append(UInt8(length))
            } else {
                append(Xsens.extendedLengthMarker)
                append(UInt8(truncatingIfNeeded: length >> 8))
                append(UInt8(truncatingIfNeeded: length))
            }
        }

        mutating func append(_ byte: UInt8) {
            storage[count] = byte
            count += 1
        }

        mutating func append(uint16 value: UInt16) {
            append(UInt8(truncatingIfNeeded: value >> 8))
            append(UInt8(truncatingIfNeeded: value))
        }

        mutating func append(uint32 value: UInt32) {
            append(uint16: UInt16(truncatingIfNeeded: value >> 16))
            append(uint16: UInt16(truncatingIfNeeded: value))
        }

        /// Appends the checksum over everything after the preamble.
        mutating func finish() {
            var sum: UInt8 = 0
            for index in 1..<count { sum &+= storage[index] }
            append(0 &- sum)
        }
    }

    /// Encodes Xbus messages into an `EncodedFrame` without touching the heap: big-endian fields, standard
    /// or extended length as the data requires, checksum filled in (README §2, §3).
    ///
    /// ```
    /// goToConfig(into:)            ──► FA FF 30 00 D1
    /// deviceID(0x037003F8, into:)  ──► FA FF 01 04 03 70 03 F8 8E
    /// ```
    /// Every function replaces the frame's contents. Only `frame(_:payload:into:)`, which takes any data,
    /// can fail: the named encoders' messages always fit.
    public enum FrameEncoder {
        // MARK: Any message

        /// A message with `messageID` and `payload` as its DATA field (up to `Xsens.maxPayloadBytes`).
        public static func frame(
            _ messageID: Xsens.MessageID, payload: UnsafeRawBufferPointer, into frame: inout Xsens.EncodedFrame
        ) throws(Xsens.EncodingError) {
            frame.count = 0
            guard payload.count <= Xsens.maxPayloadBytes else { throw .payloadTooLong(payload.count) }
            frame.begin(messageID, length: payload.count)
            for byte in payload { frame.append(byte) }
            frame.finish()
        }

        /// Encodes a decoded message again, byte for byte.
        public static func encode(_ message: Xsens.Message, into frame: inout Xsens.EncodedFrame) {
            frame.begin(message.messageID, length: message.payload.count)
            for byte in message.payload { frame.append(byte) }
            frame.finish()
        }

        /// A message without data.
        static func empty(_ messageID: Xsens.MessageID, into frame: inout Xsens.EncodedFrame) {
            frame.begin(messageID, length: 0)
            frame.finish()
        }

        // MARK: Host → device

        /// WakeUpAck (0x3F): sent within 500 ms of WakeUp, keeps the device in Config state.
        public static func wakeUpAck(into frame: inout Xsens.EncodedFrame) { empty(.wakeUpAck, into: &frame) }
        /// GoToConfig (0x30).
        public static func goToConfig(into frame: inout Xsens.EncodedFrame) { empty(.goToConfig, into: &frame) }
        /// GoToMeasurement (0x10).
        public static func goToMeasurement(into frame: inout Xsens.EncodedFrame) { empty(.goToMeasurement, into: &frame) }
        /// ReqDID (0x00).
        public static func requestDeviceID(into frame: inout Xsens.EncodedFrame) { empty(.requestDeviceID, into: &frame) }
        /// ReqProductCode (0x1C).
        public static func requestProductCode(into frame: inout Xsens.EncodedFrame) {
            empty(.requestProductCode, into: &frame)
        }
        /// ReqFWRev (0x12).
        public static func requestFirmwareRevision(into frame: inout Xsens.EncodedFrame) {
            empty(.requestFirmwareRevision, into: &frame)
        }
        /// ReqOutputConfiguration: SetOutputConfiguration's MID (0xC0) without data.
        public static func requestOutputConfiguration(into frame: inout Xsens.EncodedFrame) {
            empty(.setOutputConfiguration, into: &frame)
        }

        /// SetOutputConfiguration (0xC0): each output's data identifier and frequency, 4 bytes each.
        public static func setOutputConfiguration(
            _ configuration: Xsens.OutputConfiguration, into frame: inout Xsens.EncodedFrame
        ) {
            outputs(.setOutputConfiguration, configuration, into: &frame)
        }

        // MARK: Device → host (the simulated MTi)

        /// WakeUp (0x3E): what a device sends at power-up.
        public static func wakeUp(into frame: inout Xsens.EncodedFrame) { empty(.wakeUp, into: &frame) }
        /// GoToConfigAck (0x31).
        public static func goToConfigAck(into frame: inout Xsens.EncodedFrame) { empty(.goToConfigAck, into: &frame) }
        /// GoToMeasurementAck (0x11).
        public static func goToMeasurementAck(into frame: inout Xsens.EncodedFrame) {
            empty(.goToMeasurementAck, into: &frame)
        }

        /// DeviceID (0x01): the 4-byte device ID.
        public static func deviceID(_ id: UInt32, into frame: inout Xsens.EncodedFrame) {
            frame.begin(.deviceID, length: 4)
            frame.append(uint32: id)
            frame.finish()
        }

        /// ProductCode (0x1D): the code's bytes up to its first NUL (at most 20).
        public static func productCode(_ code: FixedASCII<20>, into frame: inout Xsens.EncodedFrame) {
            var length = 0
            while length < 20 && code.bytes[length] != 0 { length += 1 }
            frame.begin(.productCode, length: length)
            for index in 0..<length { frame.append(code.bytes[index]) }
            frame.finish()
        }

        /// FirmwareRev (0x13): 3 bytes, or 11 when both `build` and `svnRevision` are given.
        public static func firmwareRevision(_ revision: Xsens.FirmwareRevision, into frame: inout Xsens.EncodedFrame) {
            let long = revision.build != nil && revision.svnRevision != nil
            frame.begin(.firmwareRevision, length: long ? 11 : 3)
            frame.append(revision.major)
            frame.append(revision.minor)
            frame.append(revision.revision)
            if long, let build = revision.build, let svnRevision = revision.svnRevision {
                frame.append(uint32: build)
                frame.append(uint32: svnRevision)
            }
            frame.finish()
        }

        /// OutputConfiguration (0xC1): the acknowledgement, with the configuration the device uses.
        public static func outputConfigurationAck(
            _ configuration: Xsens.OutputConfiguration, into frame: inout Xsens.EncodedFrame
        ) {
            outputs(.outputConfiguration, configuration, into: &frame)
        }

        /// Error (0x42) with its code.
        public static func error(_ code: Xsens.ErrorCode, into frame: inout Xsens.EncodedFrame) {
            frame.begin(.error, length: 1)
            frame.append(code.rawValue)
            frame.finish()
        }

        /// MTData2 (0x36) with the sample's items in RehabHost's order (README §4.4): PacketCounter,
        /// SampleTimeFine, Quaternion (in its coordinate system), Acceleration, RateOfTurn, StatusWord;
        /// absent fields are left out. The three vectors are sent in `precision`.
        public static func mtData2(
            _ sample: Xsens.MTData2Sample, precision: Xsens.Precision = .float32, into frame: inout Xsens.EncodedFrame
        ) {
            let width = precision.valueBytes
            var length = 0
            if sample.packetCounter != nil { length += 3 + 2 }
            if sample.sampleTimeFine != nil { length += 3 + 4 }
            if sample.quaternion != nil { length += 3 + 4 * width }
            if sample.accelerationMetersPerSecondSquared != nil { length += 3 + 3 * width }
            if sample.rateOfTurnRadiansPerSecond != nil { length += 3 + 3 * width }
            if sample.statusWord != nil { length += 3 + 4 }
            frame.begin(.mtData2, length: length)
            if let counter = sample.packetCounter {
                item(.packetCounter, size: 2, into: &frame)
                frame.append(uint16: counter)
            }
            if let time = sample.sampleTimeFine {
                item(.sampleTimeFine, size: 4, into: &frame)
                frame.append(uint32: time)
            }
            if let q = sample.quaternion {
                let id = Xsens.DataID.quaternion.with(precision: precision, coordinateSystem: q.coordinateSystem)
                item(id, size: 4 * width, into: &frame)
                // One call per component: an array literal here would allocate.
                Xsens.BigEndian.write(q.w, precision) { frame.append($0) }
                Xsens.BigEndian.write(q.x, precision) { frame.append($0) }
                Xsens.BigEndian.write(q.y, precision) { frame.append($0) }
                Xsens.BigEndian.write(q.z, precision) { frame.append($0) }
            }
            if let a = sample.accelerationMetersPerSecondSquared {
                vector(.acceleration, a, precision, into: &frame)
            }
            if let r = sample.rateOfTurnRadiansPerSecond {
                vector(.rateOfTurn, r, precision, into: &frame)
            }
            if let status = sample.statusWord {
                item(.statusWord, size: 4, into: &frame)
                frame.append(uint32: status)
            }
            frame.finish()
        }

        // MARK: Implementation

        private static func outputs(
            _ messageID: Xsens.MessageID, _ configuration: Xsens.OutputConfiguration, into frame: inout Xsens.EncodedFrame
        ) {
            frame.begin(messageID, length: 4 * configuration.count)
            for entry in configuration {
                frame.append(uint16: entry.dataID.rawValue)
                frame.append(uint16: entry.frequencyHertz)
            }
            frame.finish()
        }

        private static func item(_ dataID: Xsens.DataID, size: Int, into frame: inout Xsens.EncodedFrame) {
            frame.append(uint16: dataID.rawValue)
            frame.append(UInt8(size))
        }

        private static func vector(
            _ type: Xsens.DataID, _ value: Xsens.Vector3, _ precision: Xsens.Precision, into frame: inout Xsens.EncodedFrame
        ) {
            item(type.with(precision: precision), size: 3 * precision.valueBytes, into: &frame)
            Xsens.BigEndian.write(value.x, precision) { frame.append($0) }
            Xsens.BigEndian.write(value.y, precision) { frame.append($0) }
            Xsens.BigEndian.write(value.z, precision) { frame.append($0) }
        }
    }
}
