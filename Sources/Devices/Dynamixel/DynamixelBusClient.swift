import Platform
import Primitives
import Transport
import Wire

/// Why a transaction on a Dynamixel bus failed.
public enum DynamixelBusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No status packet from `id` within the reply time.
    case noReply(id: UInt8, waitedNanoseconds: Int64)
    /// The servo answered with an error number (README §5.15): the instruction was not carried out.
    case refused(id: UInt8, Dynamixel.StatusError)
    /// A status packet that does not fit the instruction (another ID, another length).
    case unexpectedReply(String)
    /// The link itself failed (unplugged, permission).
    case link(TransportError)

    public var description: String {
        switch self {
        case .noReply(let id, let waited):
            "servo \(id) did not answer within \((Double(waited) / 1e5).rounded() / 10) ms (wrong ID or baud rate, Status Return Level, or not powered)"
        case .refused(let id, let error):
            "servo \(id) refused: " + (error.error?.explanation ?? "error number \(error.errorNumber)") + (error.alert ? " (and a hardware error is latched)" : "")
        case .unexpectedReply(let text): "unexpected reply: \(text)"
        case .link(let error): "\(error)"
        }
    }
}

/// One instruction and its status packets at a time on a Dynamixel Protocol 2.0 bus: what the tools
/// (`rehabctl dynamixel`) and a driver's set-up need — ping, broadcast ping, read, write, reboot.
/// It blocks for each reply and allocates; the control cycle uses its own preallocated exchange.
public final class DynamixelBusClient {
    public let link: ByteLink
    /// How long a unicast instruction waits for its status packet (USB adapters add their latency
    /// timer: 16 ms by default on FTDI, 1 ms when tuned).
    public var replyTimeoutNanoseconds: Int64
    private let clock: any LoopClock
    private var decoder = Dynamixel.PacketDecoder()
    /// Status packets decoded and not yet taken, oldest first.
    private var decoded: [Dynamixel.Packet] = []
    private var packet = Dynamixel.EncodedPacket()
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4_096, alignment: 1)

    public init(link: ByteLink, replyTimeoutNanoseconds: Int64 = 100 * Nanoseconds.perMillisecond, clock: any LoopClock = MonotonicClock.shared) {
        self.link = link
        self.replyTimeoutNanoseconds = replyTimeoutNanoseconds
        self.clock = clock
    }

    deinit { buffer.deallocate() }

    /// What a Ping's status packet says (README §5.1).
    public struct PingReply: Sendable, Equatable {
        public var id: UInt8
        public var modelNumber: UInt16
        public var firmwareVersion: UInt8
        /// The alert bit: the servo has a hardware error (Hardware Error Status, README §6.4).
        public var alert: Bool
    }

    /// Pings `id`.
    public func ping(id: UInt8) throws(DynamixelBusError) -> PingReply {
        try send { (packet: inout Dynamixel.EncodedPacket) throws(Dynamixel.EncodingError) in try Dynamixel.PacketEncoder.ping(id: id, into: &packet) }
        let reply = try awaitStatus(from: id)
        return try pingReply(reply)
    }

    /// Pings every servo (ID 0xFE) and collects the replies that arrive within `windowNanoseconds`
    /// (each servo answers after the one before it), in ID order.
    public func broadcastPing(windowNanoseconds: Int64) throws(DynamixelBusError) -> [PingReply] {
        try send { (packet: inout Dynamixel.EncodedPacket) throws(Dynamixel.EncodingError) in
            try Dynamixel.PacketEncoder.ping(id: Dynamixel.broadcastID, into: &packet)
        }
        let deadline = clock.now().advanced(byNanoseconds: windowNanoseconds)
        var replies: [PingReply] = []
        while let status = try nextStatus(until: deadline) {
            if let reply = try? pingReply(status), !replies.contains(where: { $0.id == reply.id }) { replies.append(reply) }
        }
        return replies.sorted { $0.id < $1.id }
    }

    /// Reads `length` bytes from `address` of servo `id`; the bytes and the alert bit.
    public func read(id: UInt8, address: Int, length: Int) throws(DynamixelBusError) -> (bytes: [UInt8], alert: Bool) {
        try send { (packet: inout Dynamixel.EncodedPacket) throws(Dynamixel.EncodingError) in
            try Dynamixel.PacketEncoder.read(id: id, address: UInt16(clamping: address), length: UInt16(clamping: length), into: &packet)
        }
        let reply = try awaitStatus(from: id)
        guard reply.parameters.count == length else {
            throw .unexpectedReply("servo \(id) sent \(reply.parameters.count) bytes for a read of \(length)")
        }
        return ((0..<length).map { reply.parameters[$0] }, reply.error?.alert ?? false)
    }

    /// Writes `bytes` at `address` of servo `id` and waits for its status packet; returns the alert bit.
    @discardableResult
    public func write(id: UInt8, address: Int, bytes: [UInt8]) throws(DynamixelBusError) -> Bool {
        var data = Dynamixel.DataBytes()
        for byte in bytes where !data.append(byte) {
            throw .unexpectedReply("a write of \(bytes.count) bytes is longer than one instruction takes")
        }
        try send { (packet: inout Dynamixel.EncodedPacket) throws(Dynamixel.EncodingError) in
            try Dynamixel.PacketEncoder.write(id: id, address: UInt16(clamping: address), data: data, into: &packet)
        }
        return try awaitStatus(from: id).error?.alert ?? false
    }

    /// Reboots servo `id` (clears latched hardware errors; RAM goes back to its power-up values).
    public func reboot(id: UInt8) throws(DynamixelBusError) {
        try send { (packet: inout Dynamixel.EncodedPacket) throws(Dynamixel.EncodingError) in try Dynamixel.PacketEncoder.reboot(id: id, into: &packet) }
        _ = try awaitStatus(from: id)
    }

    // MARK: Exchange

    private func send(_ encode: (inout Dynamixel.EncodedPacket) throws(Dynamixel.EncodingError) -> Void) throws(DynamixelBusError) {
        do {
            try encode(&packet)
        } catch {
            throw .unexpectedReply("the instruction cannot be encoded: \(error)")
        }
        // Whatever arrived before the instruction is not its answer.
        drain()
        do {
            try packet.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws(TransportError) in
                try link.write(bytes, deadline: clock.now().advanced(byNanoseconds: replyTimeoutNanoseconds))
            }
        } catch {
            throw .link(error)
        }
    }

    /// The status packet from `id`, or why there is none.
    private func awaitStatus(from id: UInt8) throws(DynamixelBusError) -> Dynamixel.Packet {
        let start = clock.now()
        let deadline = start.advanced(byNanoseconds: replyTimeoutNanoseconds)
        while let status = try nextStatus(until: deadline) {
            guard status.id == id else { continue }  // another servo's late reply
            if let error = status.error, error.errorNumber != 0 { throw .refused(id: id, error) }
            return status
        }
        throw .noReply(id: id, waitedNanoseconds: clock.now().nanoseconds(since: start))
    }

    /// The next status packet decoded before `deadline`, or nil.
    private func nextStatus(until deadline: MonotonicInstant) throws(DynamixelBusError) -> Dynamixel.Packet? {
        while decoded.isEmpty {
            do {
                guard try link.waitReadable(until: deadline) else { return nil }
                let count = try link.readAvailable(into: buffer)
                decoder.push(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { result in
                    if case .packet(let packet) = result, packet.isStatus { decoded.append(packet) }
                }
            } catch {
                throw .link(error)
            }
        }
        return decoded.removeFirst()
    }

    /// Forgets what arrived before an instruction: it is not that instruction's answer.
    private func drain() {
        decoded.removeAll()
        decoder.reset()
        while let count = try? link.readAvailable(into: buffer), count > 0 {}
    }

    private func pingReply(_ status: Dynamixel.Packet) throws(DynamixelBusError) -> PingReply {
        guard status.parameters.count == 3, let model = status.parameters.littleEndian(UInt16.self, at: 0), let firmware = status.parameters.uint8(at: 2) else {
            throw .unexpectedReply("a ping reply from \(status.id) with \(status.parameters.count) parameter bytes (3 expected)")
        }
        if let error = status.error, error.errorNumber != 0 { throw .refused(id: status.id, error) }
        return PingReply(id: status.id, modelNumber: model, firmwareVersion: firmware, alert: status.error?.alert ?? false)
    }
}
