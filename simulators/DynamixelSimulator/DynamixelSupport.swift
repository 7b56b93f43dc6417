import Primitives
import SimulatorKit
import Wire

/// The error numbers of a status packet (README §5.15), as the firmware uses them.
enum DynamixelErrorNumber {
    static let ok: UInt8 = 0
    static let resultFail: UInt8 = 1
    static let instructionError: UInt8 = 2
    static let crcError: UInt8 = 3
    static let dataRange: UInt8 = 4
    static let dataLength: UInt8 = 5
    static let dataLimit: UInt8 = 6
    static let accessError: UInt8 = 7
}

/// How one servo answers an instruction, taken when the instruction arrived: a reply follows the ID, baud rate,
/// Return Delay Time and Status Return Level in force then, even if the instruction changes them.
struct DynamixelReplySettings {
    var id: UInt8
    var baudRate: Int
    var returnDelayNanoseconds: Int64
    var statusReturnLevel: UInt8
}

/// The bus's event log in the neutral form of `rehabsim --events`. Preallocated: recording allocates nothing
/// (the oldest record goes when it is full).
final class DynamixelEventLog {
    private var records: [FirmwareEventRecord] = []

    init(capacity: Int = 4_096) {
        records.reserveCapacity(capacity)
    }

    func record(
        _ time: MonotonicInstant, _ event: String, faultCode: Int? = nil, faultName: String = "", faultDescription: String = "",
        joint: Int? = nil, detail: String = ""
    ) {
        if records.count >= records.capacity { records.removeFirst() }
        records.append(
            FirmwareEventRecord(
                time: time, event: event, faultCode: faultCode, faultName: faultName, faultDescription: faultDescription, joint: joint,
                detail: detail))
    }

    func drain(_ body: (FirmwareEventRecord) -> Void) {
        guard !records.isEmpty else { return }
        for record in records { body(record) }
        records.removeAll(keepingCapacity: true)
    }
}

/// Where a write is staged while the firmware checks it: the new bytes by control-table address (after indirect
/// addresses are resolved) and the items they touch. Preallocated, shared by the servos of one bus.
final class DynamixelWriteScratch {
    var pending: [UInt8]
    var written: [Bool]
    var touched: [Int]
    var touchedCount = 0
    var itemSeen: [Bool]
    /// Indices into `Dynamixel.ControlTable.items`, in address order.
    var itemList: [Int]
    var itemCount = 0

    init() {
        pending = [UInt8](repeating: 0, count: Dynamixel.ControlTable.size)
        written = [Bool](repeating: false, count: Dynamixel.ControlTable.size)
        touched = [Int](repeating: 0, count: Dynamixel.ControlTable.size)
        itemSeen = [Bool](repeating: false, count: Dynamixel.ControlTable.items.count)
        itemList = [Int](repeating: 0, count: Dynamixel.ControlTable.items.count)
    }

    func reset() {
        for k in 0..<touchedCount { written[touched[k]] = false }
        for k in 0..<itemCount { itemSeen[itemList[k]] = false }
        touchedCount = 0
        itemCount = 0
    }

    /// Stages `byte` for `address` (a later byte for the same address wins).
    func stage(_ address: Int, _ byte: UInt8) {
        if !written[address] {
            written[address] = true
            touched[touchedCount] = address
            touchedCount += 1
        }
        pending[address] = byte
    }

    /// Notes that the item `number` is touched, keeping the list in address order.
    func noteItem(_ number: Int) {
        guard !itemSeen[number] else { return }
        itemSeen[number] = true
        let address = Dynamixel.ControlTable.items[number].address
        var position = itemCount
        while position > 0 && Dynamixel.ControlTable.items[itemList[position - 1]].address > address {
            itemList[position] = itemList[position - 1]
            position -= 1
        }
        itemList[position] = number
        itemCount += 1
    }
}
