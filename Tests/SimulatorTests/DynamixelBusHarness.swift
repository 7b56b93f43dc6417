import DynamixelSimulator
import Foundation
import Primitives
import RehabLinkSimulator
import StrictJSON
import TestSupport
import Transport
import Wire

/// Talks to a simulated Dynamixel bus through `InProcessDeviceLink` on a `VirtualClock`, as a host would: packets
/// built by `Dynamixel.PacketEncoder` go in, replies are decoded by `Dynamixel.PacketDecoder`. The link adds no
/// latency of its own (the bus models the wire), and the clock steps to the bus's own deadlines, so every time
/// measured is exact.
final class DynamixelBusHarness {
    let clock: VirtualClock
    let link: DynamixelInProcessLink
    var bus: SimulatedDynamixelBus { link.device }
    private var buffer = [UInt8](repeating: 0, count: 4_096)

    init(_ configuration: DynamixelBusConfiguration) {
        let clock = VirtualClock(start: MonotonicInstant(nanoseconds: 1_000_000_000))
        self.clock = clock
        link = InProcessDeviceLink(
            device: SimulatedDynamixelBus(configuration: configuration, bootTime: clock.now()), clock: clock, replyLatencyNanoseconds: 0)
    }

    /// Servos with `ids` at 1 Mbit/s and Return Delay Time 0 (RehabHost's settings, README §7.3) unless given;
    /// everything else as `DynamixelServoConfiguration` starts, then `adjust`.
    static func configuration(
        ids: [UInt8], baudRateCode: UInt8 = 3, returnDelayTime: UInt8 = 0, _ adjust: (inout DynamixelServoConfiguration) -> Void = { _ in }
    ) -> DynamixelBusConfiguration {
        var servos: [DynamixelServoConfiguration] = []
        for id in ids {
            var servo = DynamixelServoConfiguration(id: id)
            servo.baudRateCode = baudRateCode
            servo.returnDelayTime = returnDelayTime
            adjust(&servo)
            servos.append(servo)
        }
        return DynamixelBusConfiguration(servos: servos)
    }

    convenience init(ids: [UInt8], _ adjust: (inout DynamixelServoConfiguration) -> Void = { _ in }) {
        self.init(DynamixelBusHarness.configuration(ids: ids, adjust))
    }

    /// One reply and the moment its last byte became readable.
    struct Reply {
        var packet: Dynamixel.Packet
        var completedAt: MonotonicInstant
    }

    /// What the bus sent back after a write.
    struct Exchange {
        var sentAt: MonotonicInstant
        /// Every byte, as read.
        var bytes: [UInt8] = []
        /// Everything the host's decoder made of them, rejections included, after a final end of exchange.
        var results: [Dynamixel.DecodeResult] = []
        var replies: [Reply] = []
        /// When the last byte became readable.
        var lastByteAt: MonotonicInstant?
        var statistics = Dynamixel.DecoderStatistics()

        var statuses: [Dynamixel.Packet] { replies.map(\.packet) }
        /// Each reply's error byte (alert bit and error number).
        var errors: [UInt8] { replies.map { $0.packet.error?.rawValue ?? 0xFF } }
        /// The first reply's parameters.
        var parameters: [UInt8]? { replies.first.map { Array($0.packet.parameters) } }
    }

    /// Writes `bytes` now and collects what the bus answers over the next `listenMilliseconds`.
    @discardableResult
    func exchange(_ bytes: [UInt8], listenMilliseconds: Double = 5) throws -> Exchange {
        let sentAt = clock.now()
        try bytes.withUnsafeBytes { try link.write($0, deadline: sentAt) }
        return try listen(milliseconds: listenMilliseconds, from: sentAt)
    }

    /// Lets `milliseconds` pass; returns what the bus sent meanwhile (nothing, unless replies were still on the wire).
    @discardableResult
    func wait(milliseconds: Double) throws -> Exchange {
        try listen(milliseconds: milliseconds, from: clock.now())
    }

    private func listen(milliseconds: Double, from sentAt: MonotonicInstant) throws -> Exchange {
        let end = clock.now().advanced(byNanoseconds: Int64((milliseconds * 1e6).rounded()))
        var exchange = Exchange(sentAt: sentAt)
        var decoder = Dynamixel.PacketDecoder()
        while true {
            try drain(into: &exchange, decoder: &decoder)
            guard clock.now() < end else { break }
            var next = min(bus.nextDeadline ?? end, end)
            if next <= clock.now() { next = clock.now().advanced(byNanoseconds: 1_000) }
            clock.advance(to: next)
        }
        decoder.flush { exchange.results.append($0) }
        exchange.statistics = decoder.statistics
        return exchange
    }

    private func drain(into exchange: inout Exchange, decoder: inout Dynamixel.PacketDecoder) throws {
        while true {
            let count = try buffer.withUnsafeMutableBytes { try link.readAvailable(into: $0) }
            guard count > 0 else { return }
            exchange.lastByteAt = clock.now()
            for byte in buffer[0..<count] {
                exchange.bytes.append(byte)
                var result = decoder.push(byte)
                while let decoded = result {
                    exchange.results.append(decoded)
                    if case .packet(let packet) = decoded { exchange.replies.append(Reply(packet: packet, completedAt: clock.now())) }
                    result = decoder.next()
                }
            }
        }
    }

    /// The events the bus recorded since the last call.
    func events() -> [FirmwareEventRecord] {
        var events: [FirmwareEventRecord] = []
        bus.drainEventRecords { events.append($0) }
        return events
    }
}

/// Instruction packets, built by the codec's own encoders.
enum DynamixelTestPackets {
    static func ping(_ id: UInt8) throws -> [UInt8] {
        var packet = Dynamixel.EncodedPacket()
        try Dynamixel.PacketEncoder.ping(id: id, into: &packet)
        return packet.bytes
    }

    static func read(_ id: UInt8, _ address: UInt16, _ length: UInt16) throws -> [UInt8] {
        var packet = Dynamixel.EncodedPacket()
        try Dynamixel.PacketEncoder.read(id: id, address: address, length: length, into: &packet)
        return packet.bytes
    }

    static func write(_ id: UInt8, _ address: UInt16, _ data: [UInt8]) throws -> [UInt8] {
        var packet = Dynamixel.EncodedPacket()
        try data.withUnsafeBytes { raw in try Dynamixel.PacketEncoder.write(id: id, address: address, data: raw, into: &packet) }
        return packet.bytes
    }

    static func regWrite(_ id: UInt8, _ address: UInt16, _ data: [UInt8]) throws -> [UInt8] {
        var packet = Dynamixel.EncodedPacket()
        try data.withUnsafeBytes { raw in try Dynamixel.PacketEncoder.regWrite(id: id, address: address, data: raw, into: &packet) }
        return packet.bytes
    }

    static func action(_ id: UInt8) throws -> [UInt8] {
        var packet = Dynamixel.EncodedPacket()
        try Dynamixel.PacketEncoder.action(id: id, into: &packet)
        return packet.bytes
    }

    static func reboot(_ id: UInt8) throws -> [UInt8] {
        var packet = Dynamixel.EncodedPacket()
        try Dynamixel.PacketEncoder.reboot(id: id, into: &packet)
        return packet.bytes
    }

    static func factoryReset(_ id: UInt8, _ option: Dynamixel.FactoryResetOption) throws -> [UInt8] {
        var packet = Dynamixel.EncodedPacket()
        try Dynamixel.PacketEncoder.factoryReset(id: id, option: option, into: &packet)
        return packet.bytes
    }

    static func controlTableBackup(_ id: UInt8, _ operation: Dynamixel.ControlTableBackupOperation) throws -> [UInt8] {
        var packet = Dynamixel.EncodedPacket()
        try Dynamixel.PacketEncoder.controlTableBackup(id: id, operation: operation, into: &packet)
        return packet.bytes
    }

    static func syncRead(_ address: UInt16, _ length: UInt16, _ ids: [UInt8]) throws -> [UInt8] {
        var packet = Dynamixel.EncodedPacket()
        try Dynamixel.PacketEncoder.syncRead(address: address, length: length, ids: list(ids), into: &packet)
        return packet.bytes
    }

    static func fastSyncRead(_ address: UInt16, _ length: UInt16, _ ids: [UInt8]) throws -> [UInt8] {
        var packet = Dynamixel.EncodedPacket()
        try Dynamixel.PacketEncoder.fastSyncRead(address: address, length: length, ids: list(ids), into: &packet)
        return packet.bytes
    }

    /// Sync Write of `length` bytes per servo.
    static func syncWrite(_ address: UInt16, _ length: UInt16, _ entries: [(id: UInt8, data: [UInt8])]) throws -> [UInt8] {
        var packet = Dynamixel.EncodedPacket()
        let data = entries.flatMap { $0.data }
        try data.withUnsafeBytes { raw in
            try Dynamixel.PacketEncoder.syncWrite(address: address, length: length, ids: list(entries.map { $0.id }), data: raw, into: &packet)
        }
        return packet.bytes
    }

    static func bulkEntries(_ entries: [(id: UInt8, address: UInt16, length: UInt16)]) -> Dynamixel.DeviceList<Dynamixel.BulkReadEntry> {
        var list = Dynamixel.DeviceList<Dynamixel.BulkReadEntry>()
        for entry in entries { list.append(Dynamixel.BulkReadEntry(id: entry.id, address: entry.address, length: entry.length)) }
        return list
    }

    static func bulkRead(_ entries: [(id: UInt8, address: UInt16, length: UInt16)]) throws -> [UInt8] {
        var packet = Dynamixel.EncodedPacket()
        try Dynamixel.PacketEncoder.bulkRead(bulkEntries(entries), into: &packet)
        return packet.bytes
    }

    static func fastBulkRead(_ entries: [(id: UInt8, address: UInt16, length: UInt16)]) throws -> [UInt8] {
        var packet = Dynamixel.EncodedPacket()
        try Dynamixel.PacketEncoder.fastBulkRead(bulkEntries(entries), into: &packet)
        return packet.bytes
    }

    static func bulkWrite(_ entries: [(id: UInt8, address: UInt16, data: [UInt8])]) throws -> [UInt8] {
        var list = Dynamixel.DeviceList<Dynamixel.BulkWriteEntry>()
        for entry in entries {
            let data = try dataBytes(entry.data)
            list.append(Dynamixel.BulkWriteEntry(id: entry.id, address: entry.address, data: data))
        }
        var packet = Dynamixel.EncodedPacket()
        try Dynamixel.PacketEncoder.bulkWrite(list, into: &packet)
        return packet.bytes
    }

    static func list(_ ids: [UInt8]) -> Dynamixel.DeviceList<UInt8> {
        var list = Dynamixel.DeviceList<UInt8>()
        for id in ids { list.append(id) }
        return list
    }

    private static func dataBytes(_ bytes: [UInt8]) throws -> Dynamixel.DataBytes {
        guard let data = bytes.withUnsafeBytes({ Dynamixel.DataBytes(copying: $0) }) else { throw VectorError("data too long") }
        return data
    }

    static func le16(_ value: Int) -> [UInt8] {
        let raw = UInt16(truncatingIfNeeded: value)
        return [UInt8(truncatingIfNeeded: raw), UInt8(truncatingIfNeeded: raw >> 8)]
    }

    static func le32(_ value: Int) -> [UInt8] {
        let raw = UInt32(truncatingIfNeeded: value)
        return [UInt8(truncatingIfNeeded: raw), UInt8(truncatingIfNeeded: raw >> 8), UInt8(truncatingIfNeeded: raw >> 16), UInt8(truncatingIfNeeded: raw >> 24)]
    }

    /// `count` counts (1/4096 rev) as radians, half a count past it, so that the encoder reads exactly `count`.
    static func radians(counts count: Int) -> Double {
        (Double(count) + 0.5) * 2 * Double.pi / 4_096
    }
}

/// One file of protocols/dynamixel/vectors/ (README §11): what the bus needs of it.
struct DynamixelTestVector {
    var name: String
    var direction: String
    var wire: [UInt8]
    var statistics: Dynamixel.DecoderStatistics

    static let directory = RepositoryPaths.file("protocols/dynamixel/vectors")

    static func all() throws -> [DynamixelTestVector] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { try load(directory.appendingPathComponent($0)) }
    }

    static func named(_ name: String) throws -> DynamixelTestVector {
        try load(directory.appendingPathComponent(name + ".json"))
    }

    /// The bytes of the vector `name`.
    static func wire(_ name: String) throws -> [UInt8] {
        try named(name).wire
    }

    private static func load(_ url: URL) throws -> DynamixelTestVector {
        let context = url.lastPathComponent
        let document = try JSONParser.parse(bytes: Array(try Data(contentsOf: url)))
        guard let object = document.objectValue else { throw VectorError("\(context): not an object") }
        let file = Fields(object, context: context)
        let stats = Fields(try file.object("statistics"), context: "\(context).statistics")
        var statistics = Dynamixel.DecoderStatistics()
        statistics.bytesReceived = UInt64(try stats.int("bytes_received"))
        statistics.packetsDecoded = UInt64(try stats.int("packets_decoded"))
        statistics.crcErrors = UInt64(try stats.int("crc_errors"))
        statistics.oversizeFrames = UInt64(try stats.int("oversize_frames"))
        statistics.malformedFrames = UInt64(try stats.int("malformed_frames"))
        statistics.rejectedPackets = UInt64(try stats.int("rejected_packets"))
        statistics.discardedBytes = UInt64(try stats.int("discarded_bytes"))
        return DynamixelTestVector(
            name: try file.string("name"), direction: try file.string("direction"), wire: try hexBytes(try file.string("wire_hex")),
            statistics: statistics)
    }

    private static func hexBytes(_ hex: String) throws -> [UInt8] {
        let characters = Array(hex.utf8)
        guard characters.count % 2 == 0 else { throw VectorError("odd number of hex digits") }
        return try stride(from: 0, to: characters.count, by: 2).map { index in
            guard let byte = UInt8(String(decoding: characters[index..<index + 2], as: UTF8.self), radix: 16) else {
                throw VectorError("bad hex")
            }
            return byte
        }
    }
}
