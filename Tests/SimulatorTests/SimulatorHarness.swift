import Primitives
import Profiles
import RehabLinkSimulator
import TestSupport
import Wire

/// Talks to a simulated device byte for byte, as a host would, on a virtual time line.
final class SimulatorHarness {
    let device: SimulatedRehabLinkDevice
    var time = MonotonicInstant(nanoseconds: 1_000_000_000)
    var sequence: UInt16 = 1
    private var decoder = RehabLink.FrameDecoder()

    static func wristConfiguration() throws -> SimulatedDeviceConfiguration {
        let profile = try HardwareProfileLoader.load(path: RepositoryPaths.file("hardware/wrist-trainer.json").path)
        return SimulatedDeviceConfiguration(profile: profile)
    }

    init(configuration: SimulatedDeviceConfiguration? = nil) throws {
        device = SimulatedRehabLinkDevice(configuration: try configuration ?? Self.wristConfiguration(), bootTime: time)
    }

    /// Sends raw bytes at the current time and returns the packets the device answered with.
    @discardableResult
    func send(bytes: [UInt8]) -> [RehabLink.Packet] {
        bytes.withUnsafeBytes { device.receive($0, at: time) }
        return drain()
    }

    @discardableResult
    func send(_ message: RehabLink.Message, sequence explicit: UInt16? = nil) -> [RehabLink.Packet] {
        let frame = RehabLink.FrameEncoder.frame(message, sequence: explicit ?? sequence)
        if explicit == nil { sequence &+= 1 }
        return send(bytes: frame.bytes)
    }

    /// Lets `milliseconds` pass; returns what the device sent meanwhile (e.g. FAULT).
    @discardableResult
    func wait(milliseconds: Double) -> [RehabLink.Packet] {
        time = time.advanced(byNanoseconds: Int64(milliseconds * 1e6))
        device.advance(to: time)
        return drain()
    }

    func drain() -> [RehabLink.Packet] {
        var packets: [RehabLink.Packet] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !device.output.isEmpty {
            let count = buffer.withUnsafeMutableBytes { device.output.pop(into: $0) }
            for byte in buffer[0..<count] {
                if case .packet(let packet) = decoder.push(byte) { packets.append(packet) }
            }
        }
        return packets
    }

    @discardableResult
    func enable(watchdogMicroseconds: UInt32 = 20_000) -> [RehabLink.Packet] {
        send(.enable(watchdogPeriodMicroseconds: watchdogMicroseconds))
    }

    /// PARAM_SET of a 1.1 SR-24 limit; returns the device's PARAM answer.
    @discardableResult
    func setLimit(_ parameter: RehabLink.JointLimitParameter, joint: Int, _ value: Int32) -> RehabLink.ParameterReport? {
        send(.parameterSet(parameter.id(joint: joint), value: value)).compactMap(\.parameterReport).first
    }

    /// Lets `milliseconds` pass one inner-loop step (100 µs) at a time, calling `body` after each.
    func step(milliseconds: Double, _ body: () -> Void) {
        for _ in 0..<Int((milliseconds * 10).rounded()) {
            wait(milliseconds: 0.1)
            body()
        }
    }

    static func velocityCommand(_ velocities: [Double]) -> RehabLink.Message {
        var joints = JointList(count: velocities.count, repeating: RehabLink.JointCommand.off)
        for (index, velocity) in velocities.enumerated() {
            joints[index] = RehabLink.JointCommand(mode: .velocity, velocityMicroradiansPerSecond: Int32((velocity * 1e6).rounded()))
        }
        return .command(joints)
    }

    static func torqueCommand(_ torques: [Double]) -> RehabLink.Message {
        var joints = JointList(count: torques.count, repeating: RehabLink.JointCommand.off)
        for (index, torque) in torques.enumerated() {
            joints[index] = RehabLink.JointCommand(mode: .torque, torqueMillinewtonMeters: Int32((torque * 1000).rounded()))
        }
        return .command(joints)
    }
}

extension RehabLink.Packet {
    var state: RehabLink.StateReport? {
        if case .state(let state) = message { return state }
        return nil
    }

    var acknowledgement: RehabLink.Acknowledgement? {
        if case .acknowledge(let ack) = message { return ack }
        return nil
    }

    var parameterReport: RehabLink.ParameterReport? {
        if case .parameter(let report) = message { return report }
        return nil
    }

    var faultReport: RehabLink.FaultReport? {
        if case .fault(let report) = message { return report }
        return nil
    }

    var protocolError: RehabLink.ProtocolErrorReport? {
        if case .error(let error) = message { return error }
        return nil
    }
}
