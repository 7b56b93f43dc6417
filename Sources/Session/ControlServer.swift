import Control
import Foundation
import Platform
import Primitives
import StrictJSON
import Synchronization

/// The out-of-band control channel of a running session: a Unix domain socket (never a network
/// listener) on which `rehabctl estop|stop|pause|resume|reset|release|status` from another
/// terminal act on the loop within one control cycle.
///
/// Permission is the socket file's: 0600 (the session's user), or 0660 for a configured group;
/// the kernel refuses anyone else's `connect`. One text line per request, one JSON line per reply
/// (docs/safety.md, "Control socket"). The server runs on normal-priority threads; it reaches the
/// loop only through `SessionControl` (atomics) and the status board (a sequence lock).
public final class ControlServer: @unchecked Sendable {
    public let path: String
    private let listener: UnixSocketListener
    private let control: SessionControl
    private let statusBoard: SnapshotBoard<SessionStatus>
    private let jointNames: [String]
    /// The exercise's name, shown by `rehabctl status` and `monitor`.
    private let exerciseName: String
    /// The session's modes by name (`TherapySession.availableModes`), the exercise's own first.
    private let modeNames: [String]
    private let running = Atomic(true)

    /// How long one `release` line keeps the release held: the client repeats it every 50 ms, so
    /// a client that dies or hangs lets go within this.
    public static let releaseKeepAliveNanoseconds: Int64 = 250_000_000

    public init(
        path: String, group: gid_t? = nil, control: SessionControl, statusBoard: SnapshotBoard<SessionStatus>,
        jointNames: [String], exerciseName: String, modeNames: [String]
    ) throws(Errno) {
        listener = try UnixSocketListener(path: path, mode: group == nil ? 0o600 : 0o660, group: group)
        self.path = path
        self.control = control
        self.statusBoard = statusBoard
        self.jointNames = jointNames
        self.exerciseName = exerciseName
        self.modeNames = modeNames
    }

    /// Starts accepting clients on a background thread.
    public func start() {
        let thread = Thread { [self] in
            while running.load(ordering: .acquiring) {
                guard let connection = listener.accept(timeoutMilliseconds: 100) else { continue }
                let worker = Thread { [self] in serve(connection) }
                worker.name = "rehabhost-control-client"
                worker.start()
            }
        }
        thread.name = "rehabhost-control"
        thread.start()
    }

    /// Stops accepting and removes the socket file.
    public func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        listener.close()
    }

    private func serve(_ connection: UnixSocketConnection) {
        var holdsRelease = false
        defer {
            // A client that disconnects while holding release lets go (hold-to-run).
            if holdsRelease { control.letGoOfRelease() }
            connection.close()
        }
        while running.load(ordering: .acquiring) {
            guard let line = connection.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 3_600 * Nanoseconds.perSecond))
            else { return }
            let word = line.trimmingCharacters(in: .whitespaces)
            let reply: JSONObject
            switch word {
            case "status": reply = statusObject(statusBoard.snapshot())
            case "estop": reply = act(.emergencyStop, name: word)
            case "stop": reply = act(.stop, name: word)
            case "pause": reply = act(.pause, name: word)
            case "resume": reply = act(.resume, name: word)
            case "reset": reply = reset()
            case "release":
                holdsRelease = true
                control.holdRelease(until: MonotonicClock.now().advanced(byNanoseconds: Self.releaseKeepAliveNanoseconds))
                reply = releaseReply()
            case _ where word.hasPrefix("mode "):
                reply = switchMode(to: String(word.dropFirst("mode ".count)))
            case "release-end":
                holdsRelease = false
                control.letGoOfRelease()
                reply = releaseReply()
            default:
                reply = Self.failure("unknown request \"\(word)\"; known: status, estop, stop, pause, resume, reset, release, release-end, mode NAME")
            }
            guard connection.writeLine(JSONValue.object(reply).serialized()) else { return }
        }
    }

    private static func failure(_ message: String) -> JSONObject { ["ok": false, "error": .string(message)] }

    /// Posts `requests` and waits (at most 1 s) until the loop has taken them; replies with the
    /// cycle that handled them and how long it took.
    private func act(_ requests: OperatorRequests, name: String) -> JSONObject {
        let postedAt = MonotonicClock.now()
        let before = statusBoard.snapshot()
        switch post(requests) {
        case .failure(let reply):
            return reply.object
        case .success(let handled):
            let latency = Double(MonotonicClock.now().nanoseconds(since: postedAt)) / 1e6
            return [
                "ok": true, "request": .string(name), "posted_in_cycle": .integer(before.cycle),
                "handled_in_cycle": .integer(handled.cycle), "cycles": .integer(handled.cycle - before.cycle),
                "latency_ms": .number(latency, significantDigits: 4), "state": .string(handled.state.rawValue),
            ]
        }
    }

    /// Posts `requests` and returns the status of the cycle that took them, or the error reply.
    private func post(_ requests: OperatorRequests) -> Result<SessionStatus, ErrorReply> {
        if statusBoard.snapshot().finished { return .failure(ErrorReply(Self.failure("the session has ended"))) }
        let serial = control.post(requests)
        guard let handled = waitUntilHandled(serial) else {
            if statusBoard.snapshot().cycle == 0 {
                // Still in the self-test (or enabling): the request stays posted for the first cycle.
                return .failure(ErrorReply(Self.failure(
                    "the session has not started its control loop yet (self-test); the request is queued for its first cycle")))
            }
            return .failure(ErrorReply(Self.failure("the control loop did not take the request within 1 s")))
        }
        return .success(handled)
    }

    /// An error reply, as the failure of `post`.
    private struct ErrorReply: Error {
        let object: JSONObject
        init(_ object: JSONObject) { self.object = object }
    }

    private func waitUntilHandled(_ serial: UInt64) -> SessionStatus? {
        let deadline = MonotonicClock.now().advanced(byNanoseconds: Nanoseconds.perSecond)
        while MonotonicClock.now() < deadline {
            let status = statusBoard.snapshot()
            if status.handledRequestSerial >= serial { return status }
            if status.finished { return nil }
            usleep(100)
        }
        return nil
    }

    /// A reset may wait for the device to clear its own fault (FAULT_RESET); the reply gives the outcome.
    private func reset() -> JSONObject {
        var status: SessionStatus
        switch post(.reset) {
        case .failure(let reply): return reply.object
        case .success(let handled): status = handled
        }
        let deadline = MonotonicClock.now().advanced(byNanoseconds: 2 * Supervisor.deviceResetWaitNanoseconds)
        while status.lastResetOutcome == .pending && MonotonicClock.now() < deadline {
            usleep(500)
            status = statusBoard.snapshot()
        }
        var reply: JSONObject
        switch status.lastResetOutcome {
        case .reset?:
            reply = ["ok": true, "request": "reset", "handled_in_cycle": .integer(status.cycle)]
        case .refused(let reason)?:
            reply = Self.failure("reset refused: \(reason)")
            reply["request"] = "reset"
            reply["refused"] = .string(reason.name)
            if case .causePersists(let trip) = reason { reply["cause"] = .object(Self.tripObject(trip)) }
        case .pending?, nil:
            reply = Self.failure("the device did not answer the reset")
        }
        reply["state"] = .string(status.state.rawValue)
        return reply
    }

    /// `mode NAME`: one of the session's modes (`exercise` is the exercise's own; `-` and `_` alike).
    private func switchMode(to requested: String) -> JSONObject {
        let name = requested == "exercise" ? modeNames.first ?? "" : requested.replacingOccurrences(of: "-", with: "_")
        guard let index = modeNames.firstIndex(of: name) else {
            return Self.failure(
                "this exercise has no mode \"\(requested)\"; its modes: \(modeNames.joined(separator: ", ")) (a mode's settings block in the exercise file makes it available)")
        }
        control.requestMode(index)
        return ["ok": true, "mode": .string(name), "note": "the torque blends into the new mode over the enable ramp"]
    }

    /// Waits two cycles for the release request to take effect and reports whether it did.
    private func releaseReply() -> JSONObject {
        let start = statusBoard.snapshot()
        let deadline = MonotonicClock.now().advanced(byNanoseconds: 200_000_000)
        var status = start
        while status.cycle < start.cycle + 2 && !status.finished && MonotonicClock.now() < deadline {
            usleep(200)
            status = statusBoard.snapshot()
        }
        var reply: JSONObject = ["ok": true, "releasing": .bool(status.releasing), "state": .string(status.state.rawValue)]
        if let refusal = status.releaseRefusal { reply["refused"] = .string(refusal.rawValue) }
        return reply
    }

    static func tripObject(_ trip: SafetyTrip) -> JSONObject {
        var object: JSONObject = [
            "cause": .string(trip.cause.rawValue), "requirement": .string(trip.cause.requirement),
            "stop_category": .int(Int(trip.category.rawValue)),
        ]
        if !trip.cause.valueUnit.isEmpty {
            object["value"] = .number(trip.value, significantDigits: 5)
            object["unit"] = .string(trip.cause.valueUnit)
        }
        if let joint = trip.joint { object["joint"] = .int(joint) }
        if trip.deviceCode != 0 { object["device_code"] = .int(Int(trip.deviceCode)) }
        object["text"] = .string(trip.description)
        return object
    }

    /// The status reply: what `rehabctl status --json` prints.
    public func statusObject(_ status: SessionStatus) -> JSONObject {
        let device = status.device
        var joints: [JSONValue] = []
        for index in 0..<min(status.jointCount, status.positionsRadians.count) {
            joints.append(.object([
                "name": .string(index < jointNames.count ? jointNames[index] : "joint\(index)"),
                "position_rad": .number(status.positionsRadians[index], significantDigits: 6),
                "velocity_rad_per_s": .number(status.velocitiesRadiansPerSecond[index], significantDigits: 6),
                "interaction_torque_nm": .number(status.interactionTorquesNewtonMeters[index], significantDigits: 4),
                "commanded_torque_nm": .number(status.commandedTorquesNewtonMeters[index], significantDigits: 4),
                "target_position_rad": index < status.targetPositionsRadians.count && status.targetPositionsRadians[index].isFinite
                    ? .number(status.targetPositionsRadians[index], significantDigits: 6) : .null,
            ]))
        }
        return [
            "ok": true, "pid": .int(Int(getpid())), "cycle": .integer(status.cycle), "rate_hz": .number(status.rateHertz),
            "state": .string(status.state.rawValue), "releasing": .bool(status.releasing), "finished": .bool(status.finished),
            "stop_category": status.activeStop.map { .int(Int($0.rawValue)) } ?? .null,
            "latched": status.latchedTrip.map { .object(Self.tripObject($0)) } ?? .null,
            "device": .object([
                "enabled": .bool(device.contains(.enabled)), "torque_on": .bool(device.contains(.torqueOn)),
                "estop": .bool(device.contains(.emergencyStop)), "fault": .bool(device.contains(.fault)),
                "watchdog_expired": .bool(device.contains(.watchdogExpired)), "fault_code": .int(Int(status.deviceFaultCode)),
            ]),
            "state_age_ms": status.stateAgeNanoseconds == .max ? .null : .number(Double(status.stateAgeNanoseconds) / 1e6, significantDigits: 4),
            "link_quality": .string(status.linkGrade.description),
            "link_fair_episodes": .int(status.linkFairEpisodes),
            "link_poor_episodes": .int(status.linkPoorEpisodes),
            "joints": .array(joints),
            "exercise": .string(exerciseName),
            "mode_in_force": .string(status.modeInForce < modeNames.count ? modeNames[status.modeInForce] : "?"),
            "modes": .array(modeNames.map { .string($0) }),
            "loop": .object([
                "wake_latency_us": .number(Double(status.wakeLatencyNanoseconds) / 1e3, significantDigits: 4),
                "wake_latency_max_last_second_us": .number(Double(status.wakeLatencyMaxLastSecondNanoseconds) / 1e3, significantDigits: 4),
                "compute_us": .number(Double(status.computeNanoseconds) / 1e3, significantDigits: 4),
                "compute_max_last_second_us": .number(Double(status.computeMaxLastSecondNanoseconds) / 1e3, significantDigits: 4),
                "missed_deadlines": .integer(status.missedDeadlines),
            ]),
        ]
    }
}

/// Where session control sockets live, and how a client finds the one running session.
public enum ControlSocketLocation {
    /// The folders searched, most specific first: /run/rehabhost (root), $XDG_RUNTIME_DIR/rehabhost,
    /// /tmp/rehabhost-<uid>.
    public static var candidateFolders: [String] {
        var folders = ["/run/rehabhost"]
        if let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            folders.append(runtime + "/rehabhost")
        }
        folders.append("/tmp/rehabhost-\(getuid())")
        return folders
    }

    /// The folder this process creates its socket in: the first it can create and write.
    public static func folderForThisProcess() -> String? {
        for folder in candidateFolders.dropFirst(getuid() == 0 ? 0 : 1) {
            // 0755 for /run/rehabhost (others reach a group socket in it), 0700 for private folders.
            let mode: mode_t = folder == "/run/rehabhost" ? 0o755 : 0o700
            if mkdir(folder, mode) == 0 || errno == EEXIST, access(folder, W_OK) == 0 {
                return folder
            }
        }
        return nil
    }

    /// The socket path for a session of process `pid`.
    public static func defaultPath(pid: pid_t = getpid()) -> String? {
        folderForThisProcess().map { "\($0)/session-\(pid).sock" }
    }

    /// Every live session socket this user can see.
    public static func liveSessions() -> [String] {
        var found: [String] = []
        for folder in candidateFolders {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            for name in names.sorted() where name.hasPrefix("session-") && name.hasSuffix(".sock") {
                let path = folder + "/" + name
                if UnixSocketConnection.isStale(path: path) {
                    // Left by a session that was killed (SIGKILL cannot remove it): tidy up when allowed.
                    unlink(path)
                } else if !found.contains(path) {
                    found.append(path)
                }
            }
        }
        return found
    }
}
