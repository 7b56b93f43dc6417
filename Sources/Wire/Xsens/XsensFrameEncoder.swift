extension Xsens {
    /// One encoded frame, ready for the wire: preamble to checksum. Preallocate one and encode into it
    /// every cycle; nothing is allocated. Keep the literal equal to `Xsens.maxFrameBytes`.
    public typealias EncodedFrame = InlineBytes<2055>

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
            frame.removeAll()
            guard payload.count <= Xsens.maxPayloadBytes else { throw .payloadTooLong(payload.count) }
            begin(messageID, length: payload.count, into: &frame)
            for byte in payload { frame.append(byte) }
            finish(&frame)
        }

        /// Encodes a decoded message again, byte for byte.
        public static func encode(_ message: Xsens.Message, into frame: inout Xsens.EncodedFrame) {
            begin(message.messageID, length: message.payload.count, into: &frame)
            for byte in message.payload { frame.append(byte) }
            finish(&frame)
        }

        /// A message without data.
        static func empty(_ messageID: Xsens.MessageID, into frame: inout Xsens.EncodedFrame) {
            begin(messageID, length: 0, into: &frame)
            finish(&frame)
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

        /// InitMT (0x02): what the MT SDK sends while opening a port (README §3.8).
        public static func initMT(into frame: inout Xsens.EncodedFrame) { empty(.initMT, into: &frame) }
        /// ReqConfiguration (0x0C), without data.
        public static func requestConfiguration(into frame: inout Xsens.EncodedFrame) {
            empty(.requestConfiguration, into: &frame)
        }
        /// ReqHardwareVersion (0x1E).
        public static func requestHardwareVersion(into frame: inout Xsens.EncodedFrame) {
            empty(.requestHardwareVersion, into: &frame)
        }
        /// ReqAvailableFilterProfiles (0x62).
        public static func requestAvailableFilterProfiles(into frame: inout Xsens.EncodedFrame) {
            empty(.requestAvailableFilterProfiles, into: &frame)
        }
        /// SetStringOutputType (0x8E): the NMEA string types as a big-endian word, 0 for none.
        public static func setStringOutputType(_ type: UInt16, into frame: inout Xsens.EncodedFrame) {
            begin(.setStringOutputType, length: 2, into: &frame)
            frame.appendBigEndian(type)
            finish(&frame)
        }
        /// ReqEMTS (0x90): eMTS bank and page (0, 0xFF: all of it, what the MT SDK asks).
        public static func requestEMTS(bank: UInt8, page: UInt8, into frame: inout Xsens.EncodedFrame) {
            begin(.requestEMTS, length: 2, into: &frame)
            frame.append(bank)
            frame.append(page)
            finish(&frame)
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
            begin(.deviceID, length: 4, into: &frame)
            frame.appendBigEndian(id)
            finish(&frame)
        }

        /// InitMTResults (0x03): the 4-byte device ID (README §3.8).
        public static func initMTResults(_ id: UInt32, into frame: inout Xsens.EncodedFrame) {
            begin(.initMTResults, length: 4, into: &frame)
            frame.appendBigEndian(id)
            finish(&frame)
        }

        /// HardwareVersion (0x1F): major and minor, one byte each.
        public static func hardwareVersion(major: UInt8, minor: UInt8, into frame: inout Xsens.EncodedFrame) {
            begin(.hardwareVersion, length: 2, into: &frame)
            frame.append(major)
            frame.append(minor)
            finish(&frame)
        }

        /// SetStringOutputTypeAck (0x8F without data).
        public static func setStringOutputTypeAck(into frame: inout Xsens.EncodedFrame) {
            empty(.stringOutputType, into: &frame)
        }

        /// The answer to ReqStringOutputType (0x8F): the string types in use, a big-endian word.
        public static func stringOutputType(_ type: UInt16, into frame: inout Xsens.EncodedFrame) {
            begin(.stringOutputType, length: 2, into: &frame)
            frame.appendBigEndian(type)
            finish(&frame)
        }

        /// ProductCode (0x1D): the code's bytes up to its first NUL (at most 20).
        public static func productCode(_ code: FixedASCII<20>, into frame: inout Xsens.EncodedFrame) {
            var length = 0
            while length < 20 && code.bytes[length] != 0 { length += 1 }
            begin(.productCode, length: length, into: &frame)
            for index in 0..<length { frame.append(code.bytes[index]) }
            finish(&frame)
        }

        /// FirmwareRev (0x13): 3 bytes, or 11 when both `build` and `svnRevision` are given.
        public static func firmwareRevision(_ revision: Xsens.FirmwareRevision, into frame: inout Xsens.EncodedFrame) {
            let long = revision.build != nil && revision.svnRevision != nil
            begin(.firmwareRevision, length: long ? 11 : 3, into: &frame)
            frame.append(revision.major)
            frame.append(revision.minor)
            frame.append(revision.revision)
            if long, let build = revision.build, let svnRevision = revision.svnRevision {
                frame.appendBigEndian(build)
                frame.appendBigEndian(svnRevision)
            }
            finish(&frame)
        }

        /// OutputConfiguration (0xC1): the acknowledgement, with the configuration the device uses.
        public static func outputConfigurationAck(
            _ configuration: Xsens.OutputConfiguration, into frame: inout Xsens.EncodedFrame
        ) {
            outputs(.outputConfiguration, configuration, into: &frame)
        }

        /// Error (0x42) with its code.
        public static func error(_ code: Xsens.ErrorCode, into frame: inout Xsens.EncodedFrame) {
            begin(.error, length: 1, into: &frame)
            frame.append(code.rawValue)
            finish(&frame)
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
            begin(.mtData2, length: length, into: &frame)
            if let counter = sample.packetCounter {
                item(.packetCounter, size: 2, into: &frame)
                frame.appendBigEndian(counter)
            }
            if let time = sample.sampleTimeFine {
                item(.sampleTimeFine, size: 4, into: &frame)
                frame.appendBigEndian(time)
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
                frame.appendBigEndian(status)
            }
            finish(&frame)
        }

        // MARK: Implementation

        /// Starts a frame: preamble, bus ID, MID and the standard or extended length. The caller has
        /// checked `length <= Xsens.maxPayloadBytes`.
        private static func begin(_ messageID: Xsens.MessageID, length: Int, into frame: inout Xsens.EncodedFrame) {
            frame.removeAll()
            frame.append(Xsens.preamble)
            frame.append(Xsens.masterBusID)
            frame.append(messageID.rawValue)
            if length <= Xsens.maxStandardPayloadBytes {
                frame.append(UInt8(length))
            } else {
                frame.append(Xsens.extendedLengthMarker)
                frame.appendBigEndian(UInt16(length))
            }
        }

        /// Appends the checksum over everything after the preamble.
        private static func finish(_ frame: inout Xsens.EncodedFrame) {
            var sum: UInt8 = 0
            for index in 1..<frame.count { sum &+= frame[index] }
            frame.append(0 &- sum)
        }

        private static func outputs(
            _ messageID: Xsens.MessageID, _ configuration: Xsens.OutputConfiguration, into frame: inout Xsens.EncodedFrame
        ) {
            begin(messageID, length: 4 * configuration.count, into: &frame)
            for entry in configuration {
                frame.appendBigEndian(entry.dataID.rawValue)
                frame.appendBigEndian(entry.frequencyHertz)
            }
            finish(&frame)
        }

        private static func item(_ dataID: Xsens.DataID, size: Int, into frame: inout Xsens.EncodedFrame) {
            frame.appendBigEndian(dataID.rawValue)
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
