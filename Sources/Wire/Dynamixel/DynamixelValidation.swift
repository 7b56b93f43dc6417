extension Dynamixel.Packet {
    /// Why a receiver rejects this packet (protocols/dynamixel/README.md §8 step 7, §5, §5.15), or nil when
    /// its layout is acceptable. `PacketDecoder` applies it to every CRC-valid packet; a status packet is
    /// checked only for its error number (its parameters depend on the request it answers).
    ///
    /// The checks, in order (the first that fails names the reason):
    /// - an instruction the e-Manual does not define: `unknownInstruction`;
    /// - a status packet: an undefined error number (8 … 127): `invalidField`;
    /// - a broadcast-only instruction (Sync/Bulk, fast or not) not sent to 0xFE: `invalidField`;
    /// - parameters that do not fit the instruction: `badLength` (Ping, Action, Reboot with any; Read without
    ///   exactly 4; Write/Reg Write with fewer than 3; Factory Reset without 1; Clear and Control Table
    ///   Backup without 5; Sync Read with no ID; Sync Write not in whole ID + data groups; Bulk Read not a
    ///   multiple of 5; Bulk Write with a short entry);
    /// - `invalidField`: a data length of 0, an undefined option or wrong fixed bytes, or an ID list with an
    ///   ID above 252 or an ID twice.
    public var rejectionReason: Dynamixel.RejectionReason? {
        if instruction == .status {
            guard let error else { return .badLength }
            return error.error == nil && error.errorNumber != 0 ? .invalidField : nil
        }
        guard instruction.isKnown else { return .unknownInstruction }
        return parameters.withUnsafeBytes { Self.instructionProblem(id: id, instruction: instruction, $0) }
    }

    private static func instructionProblem(
        id: UInt8, instruction: Dynamixel.Instruction, _ p: UnsafeRawBufferPointer
    ) -> Dynamixel.RejectionReason? {
        let n = p.count
        func u16(_ offset: Int) -> Int { Int(p[offset]) | Int(p[offset + 1]) << 8 }
        switch instruction {
        case .syncRead, .syncWrite, .fastSyncRead, .bulkRead, .bulkWrite, .fastBulkRead:
            guard id == Dynamixel.broadcastID else { return .invalidField }
        default:
            break
        }
        switch instruction {
        case .ping, .action, .reboot:
            return n == 0 ? nil : .badLength
        case .read:
            guard n == 4 else { return .badLength }
            return u16(2) >= 1 ? nil : .invalidField
        case .write, .regWrite:
            return n >= 3 ? nil : .badLength
        case .factoryReset:
            guard n == 1 else { return .badLength }
            return Dynamixel.FactoryResetOption(rawValue: p[0]) == nil ? .invalidField : nil
        case .clear:
            guard n == 5 else { return .badLength }
            let fixed: Bool = p[1] == 0x44 && p[2] == 0x58 && p[3] == 0x4C && p[4] == 0x22
            return p[0] == 0x01 && fixed ? nil : .invalidField
        case .controlTableBackup:
            guard n == 5 else { return .badLength }
            let known = Dynamixel.ControlTableBackupOperation(rawValue: p[0]) != nil
            let fixed: Bool = p[1] == 0x43 && p[2] == 0x54 && p[3] == 0x52 && p[4] == 0x4C
            return known && fixed ? nil : .invalidField
        case .syncRead, .fastSyncRead:
            guard n >= 5 else { return .badLength }
            guard u16(2) >= 1 else { return .invalidField }
            var ids = IDSet()
            for offset in 4..<n {
                guard ids.insert(p[offset]) else { return .invalidField }
            }
            return nil
        case .syncWrite:
            guard n >= 4 else { return .badLength }
            let length = u16(2)
            guard length >= 1 else { return .invalidField }
            let rest = n - 4
            guard rest >= 1 + length && rest % (1 + length) == 0 else { return .badLength }
            var ids = IDSet()
            for offset in stride(from: 4, to: n, by: 1 + length) {
                guard ids.insert(p[offset]) else { return .invalidField }
            }
            return nil
        case .bulkRead, .fastBulkRead:
            guard n >= 5 && n % 5 == 0 else { return .badLength }
            for offset in stride(from: 0, to: n, by: 5) {
                guard u16(offset + 3) >= 1 else { return .invalidField }
            }
            var ids = IDSet()
            for offset in stride(from: 0, to: n, by: 5) {
                guard ids.insert(p[offset]) else { return .invalidField }
            }
            return nil
        case .bulkWrite:
            guard n >= 6 else { return .badLength }
            var offset = 0
            while offset < n {
                guard n - offset >= 6 else { return .badLength }
                let length = u16(offset + 3)
                guard length >= 1 else { return .invalidField }
                guard n - offset - 5 >= length else { return .badLength }
                offset += 5 + length
            }
            var ids = IDSet()
            offset = 0
            while offset < n {
                guard ids.insert(p[offset]) else { return .invalidField }
                offset += 5 + u16(offset + 3)
            }
            return nil
        default:
            return .unknownInstruction
        }
    }
}

/// Device IDs seen so far in a list, without allocating: one bit per ID 0 … 255.
private struct IDSet {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// Adds `id`; false when it is not a device ID (above 252) or was already there.
    mutating func insert(_ id: UInt8) -> Bool {
        guard Dynamixel.isValidDeviceID(id) else { return false }
        let bit = UInt64(1) << UInt64(id & 63)
        switch id >> 6 {
        case 0:
            guard words.0 & bit == 0 else { return false }
            words.0 |= bit
        case 1:
            guard words.1 & bit == 0 else { return false }
            words.1 |= bit
        case 2:
            guard words.2 & bit == 0 else { return false }
            words.2 |= bit
        default:
            guard words.3 & bit == 0 else { return false }
            words.3 |= bit
        }
        return true
    }
}
