import Transport

/// Why a device could not be set up or used. Every case names the port.
public enum DeviceError: Error, Sendable, Equatable, CustomStringConvertible {
    case transport(TransportError)
    /// SR-2: the device did not answer (mute, wrong port, wrong baud rate, powered off).
    case noAnswer(port: String, request: String, waitedMilliseconds: Int)
    /// The device answered with something RehabLink does not allow here.
    case protocolViolation(port: String, detail: String)
    /// The device refused a request (e.g. ENABLE while its e-stop is open).
    case refused(port: String, request: String, reason: String)
    /// SR-3: the device did not confirm the watchdog the host asked for.
    case watchdogNotConfirmed(port: String, requestedMicroseconds: Int, confirmedMicroseconds: Int)
    /// SR-24: the device did not confirm the limits written into its firmware: a write refused, a
    /// read-back that differs, or a device (RehabLink 1.0) that cannot hold them. One line per problem.
    case safetyLimitsNotConfirmed(port: String, problems: [String])
    /// SR-17: the device is not the one the profile describes.
    case identityMismatch(port: String, problems: [String])
    /// The device is not safe to enable now (e-stop, fault), with the reason.
    case notReady(port: String, reason: String)
    /// SR-17: a small positive command did not give positive motion (reversed encoder or motor,
    /// brake, drive), or the joint did not stop again; the device was disabled.
    case directionCheckFailed(port: String, detail: String)
    /// The driver needs what it was not given to talk to this device at all (a servo chain without
    /// its profile's servo IDs): the caller's configuration, not the device.
    case needsConfiguration(port: String, reason: String)

    public var description: String {
        switch self {
        case .transport(let error):
            return error.description
        case .noAnswer(let port, let request, let waited):
            return "\(port): no answer to \(request) within \(waited) ms. Is the device powered, on this port, and at the profile's baud rate? (rehabctl devices lists ports)"
        case .protocolViolation(let port, let detail):
            return "\(port): protocol violation: \(detail)"
        case .refused(let port, let request, let reason):
            return "\(port): the device refused \(request): \(reason)"
        case .watchdogNotConfirmed(let port, let requested, let confirmed):
            return "\(port): the device did not confirm its watchdog (asked \(requested) µs, device reports \(confirmed) µs); refusing to move (SR-3)"
        case .safetyLimitsNotConfirmed(let port, let problems):
            return "\(port): refusing to enable: the device did not confirm the limits written into its firmware (soft limits, torque caps, velocity trip; SR-24):\n"
                + problems.map { "  " + $0 }.joined(separator: "\n")
        case .identityMismatch(let port, let problems):
            return "\(port): the device does not match the profile (SR-17):\n" + problems.map { "  " + $0 }.joined(separator: "\n")
        case .notReady(let port, let reason):
            return "\(port): not ready to enable: \(reason)"
        case .needsConfiguration(let port, let reason):
            return "\(port): \(reason)"
        case .directionCheckFailed(let port, let detail):
            return "\(port): the start-up direction test failed (SR-17): \(detail); the device was disabled. Check the encoder and motor wiring and the profile's sign conventions, and that no brake is engaged and nothing blocks the joint."
        }
    }
}
