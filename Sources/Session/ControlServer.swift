import Control
import DeviceModel
import Foundation
import Platform
import Primitives
import StrictJSON
import Synchronization

/// The out-of-band control channel of a running session: a Unix domain socket (never a network
/// listener) on which `rehabctl estop|stop|pause|resume|reset|release|status|mode` from another
/// terminal act on the loop within one control cycle.
///
/// Permission is the socket file's first: 0600 (the session's user), or 0660 for a configured
/// group; the kernel refuses anyone else's `connect`. Then every request is checked against the
/// peer's credentials from the kernel (SR-25, `isPermitted`) and recorded, accepted or refused, in
/// the audit trail (`takeAuditRecords`). One text line per request, one JSON line per reply
/// (docs/safety.md, "Control socket").
///
/// One normal-priority thread serves every client, event-driven: poll(2) over the listener and all
/// clients, non-blocking descriptors, a line buffer per client. A client costs a few hundred bytes,
/// not a thread (a thread per client locked 8.7 MB of stack each under mlockall, and hundreds of
/// half-open connections stalled the control loop); `Limits` bound how many clients there are, how
/// long a line may be and how long a client may sit idle. A request that waits for the loop
/// (estop, stop, pause, resume, reset, release) becomes its client's pending reply, finished on a
/// later wake-up once the status board shows that the loop took it: it never holds up another
/// client. The server reaches the loop only through `SessionControl` (atomics) and the status
/// board (a sequence lock): the loop takes no lock and never waits for the server.
public final class ControlServer: @unchecked Sendable {
    // @unchecked: every stored property is immutable, an atomic or behind a mutex; the clients'
    // state lives on the server thread alone (`serve`).

    /// What clients may cost the session.
    public struct Limits: Sendable, Equatable {
        /// Clients served at once; one more is answered with an error line and closed.
        public var maximumConnections: Int
        /// The longest request line [bytes, without its newline] (the longest real request is
        /// `mode active_assist`); a longer one is answered with an error line and its connection
        /// closed, so a client cannot make the server buffer more.
        public var maximumLineBytes: Int
        /// A client that sends nothing for this long is closed [ns] (`rehabctl monitor` asks every
        /// second, `rehabctl release` every 50 ms): a stuck client gives its place back.
        public var idleTimeoutNanoseconds: Int64

        public init(maximumConnections: Int = 16, maximumLineBytes: Int = 256, idleTimeoutNanoseconds: Int64 = 60 * Nanoseconds.perSecond) {
            self.maximumConnections = maximumConnections
            self.maximumLineBytes = maximumLineBytes
            self.idleTimeoutNanoseconds = idleTimeoutNanoseconds
        }
    }

    public let path: String
    public let limits: Limits
    private let listener: UnixSocketListener
    private let control: SessionControl
    private let statusBoard: SnapshotBoard<SessionStatus>
    private let jointNames: [String]
    /// The exercise's name, shown by `rehabctl status` and `monitor`.
    private let exerciseName: String
    /// The session's modes by name (`TherapySession.availableModes`), the exercise's own first.
    private let modeNames: [String]
    /// SR-25: the session's user, and the group whose members may command it as well (nil: none).
    private let sessionUID: uid_t
    private let controlGroup: gid_t?
    private let lifecycle = Mutex(Lifecycle.created)
    private let stopRequested = Atomic(false)
    private let serverFinished = Atomic(false)
    /// SR-25: every request, accepted or refused, until the session owner takes them.
    private let auditTrail = Mutex(AuditLog())

    /// How long one `release` line keeps the release held: the client repeats it every 50 ms, so
    /// a client that dies or hangs lets go within this.
    public static let releaseKeepAliveNanoseconds: Int64 = 250_000_000
    /// How many audit records wait for `takeAuditRecords` at most; beyond, `status` queries are
    /// dropped first (then the oldest), and counted in `droppedAuditRecords`.
    public static let auditCapacity = 4_096
    /// How long a request may wait for the loop to take it.
    private static let takeTimeoutNanoseconds = Nanoseconds.perSecond
    /// How long `release`/`release-end` wait for the two cycles that show their effect.
    private static let releaseReplyTimeoutNanoseconds: Int64 = 200_000_000
    /// poll(2) timeouts: while a reply waits for the loop, every millisecond (a cycle at 1 kHz);
    /// otherwise often enough for `stop()` and the idle timeout [ms].
    private static let pendingPollMilliseconds: Int32 = 1
    private static let idlePollMilliseconds: Int32 = 100
    /// The server thread's stack, locked like all memory under mlockall: it parses short lines and
    /// writes small JSON objects, so a fraction of the 8 MiB default is ample.
    private static let serverStackBytes = 2 << 20

    private enum Lifecycle {
        case created, serving, stopped
    }

    /// Creates the socket (0600, or 0660 with `group`), checks the file it made (owner, mode,
    /// group: SR-25, checked rather than assumed) and remembers the session's user (this process's
    /// effective uid) and `group` for the per-request checks.
    public init(
        path: String, group: gid_t? = nil, control: SessionControl, statusBoard: SnapshotBoard<SessionStatus>,
        jointNames: [String], exerciseName: String, modeNames: [String], limits: Limits = Limits()
    ) throws(ControlSocketError) {
        let mode: mode_t = group == nil ? 0o600 : 0o660
        let listener: UnixSocketListener
        do {
            listener = try UnixSocketListener(path: path, mode: mode, group: group)
        } catch {
            throw .cannotCreateSocket(path: path, error)
        }
        do {
            try listener.makeNonBlocking()
        } catch {
            listener.close()
            throw .cannotCreateSocket(path: path, error)
        }
        do {
            try ControlSocketLocation.checkSocketFile(path, mode: mode, group: group)
        } catch {
            listener.close()
            throw error
        }
        self.listener = listener
        self.path = path
        self.limits = limits
        self.control = control
        self.statusBoard = statusBoard
        self.jointNames = jointNames
        self.exerciseName = exerciseName
        self.modeNames = modeNames
        sessionUID = geteuid()
        controlGroup = group
    }

    deinit {
        listener.close()
    }

    /// Starts serving clients on one background thread (once).
    public func start() {
        let starts: Bool = lifecycle.withLock { state in
            guard state == .created else { return false }
            state = .serving
            return true
        }
        guard starts else { return }
        let thread = Thread { [self] in serve() }
        thread.name = "rehabhost-control"
        thread.stackSize = Self.serverStackBytes
        thread.start()
    }

    /// Removes the socket file at once (new clients find no session), then waits (≤ 1 s) until the
    /// server thread has closed its clients (a client holding `release` lets go) and the listener.
    public func stop() {
        let previous: Lifecycle = lifecycle.withLock { state in
            let before = state
            state = .stopped
            return before
        }
        switch previous {
        case .created:
            listener.close()
        case .serving:
            // The server thread closes the descriptors itself: closing one under its poll(2) could
            // let the number be reused by another file before the thread notices.
            listener.removeFile()
            stopRequested.store(true, ordering: .releasing)
            let deadline = MonotonicClock.now().advanced(byNanoseconds: Nanoseconds.perSecond)
            while !serverFinished.load(ordering: .acquiring) && MonotonicClock.now() < deadline { usleep(1_000) }
        case .stopped:
            return
        }
    }

    // MARK: SR-25: who may command, and the audit trail

    /// SR-25: whether `peer` may make `request`. Stop-class requests (estop, stop, pause) and
    /// `status` come from anyone the socket's permissions let in; reset, release, release-end,
    /// resume and mode only from the session's user (`sessionUID`), root, or a member of
    /// `controlGroup` (by the peer's gid or its supplementary groups). Pure, so that it can be
    /// tested for users the test machine does not have.
    public static func isPermitted(request: ControlRequest, peer: PeerCredentials, sessionUID: uid_t, controlGroup: gid_t?) -> Bool {
        if request.isStopClass { return true }
        if peer.uid == sessionUID || peer.uid == 0 { return true }
        guard let controlGroup else { return false }
        return peer.gid == controlGroup || peer.supplementaryGroups.contains(controlGroup)
    }

    /// Moves the audit records out (oldest first): every request since the last call, accepted or
    /// refused, with the peer's pid/uid/gid from the kernel and the monotonic time it arrived. The
    /// session owner calls it from a normal thread (never the control loop: it takes a lock) to
    /// put them into the recording and the black box (SR-25).
    public func takeAuditRecords() -> [ControlAuditRecord] {
        auditTrail.withLock { log in
            let records = log.records
            log.records.removeAll()
            return records
        }
    }

    /// Audit records dropped so far because nobody took them in time (`auditCapacity`).
    public var droppedAuditRecords: Int {
        auditTrail.withLock { $0.dropped }
    }

    private func record(_ peer: PeerCredentials, _ request: String, _ outcome: ControlAuditRecord.Outcome, at time: MonotonicInstant) {
        let entry = ControlAuditRecord(time: time, pid: peer.pid, uid: peer.uid, gid: peer.gid, request: request, outcome: outcome)
        auditTrail.withLock { $0.append(entry, capacity: Self.auditCapacity) }
    }

    /// The audit records waiting to be taken.
    private struct AuditLog: Sendable {
        var records: [ControlAuditRecord] = []
        var dropped = 0

        mutating func append(_ record: ControlAuditRecord, capacity: Int) {
            if records.count >= capacity {
                // Nobody took them: a status query is worth least, a request that acted most.
                if let index = records.firstIndex(where: { $0.request == "status" }) {
                    records.remove(at: index)
                } else {
                    records.removeFirst()
                }
                dropped += 1
            }
            records.append(record)
        }
    }

    // MARK: The server thread

    /// One client, as the server thread sees it (never touched by another thread).
    private final class Client {
        let socket: UnixSocketConnection
        let peer: PeerCredentials
        /// Received bytes not yet taken as lines (at most a line and a read's worth).
        var input: [UInt8] = []
        /// Reply bytes the socket has not taken yet.
        var output: [UInt8] = []
        /// The reply that waits for the loop; no further line is read until it is sent.
        var pending: PendingReply?
        /// The last byte received or reply finished: the idle timeout counts from here.
        var lastActivity: MonotonicInstant
        var holdsRelease = false
        /// The peer shut its sending side: answer what came, then close.
        var peerFinishedSending = false
        var closesAfterReply = false
        var isClosed = false

        init(socket: UnixSocketConnection, peer: PeerCredentials, now: MonotonicInstant) {
            self.socket = socket
            self.peer = peer
            lastActivity = now
        }

        /// What to ask poll(2) for: readable only while a new line could be handled.
        func wantedEvents(maximumLineBytes: Int) -> DescriptorPoll.Events {
            if !output.isEmpty { return .writable }
            if pending == nil && !peerFinishedSending && !closesAfterReply && input.count <= maximumLineBytes { return .readable }
            return []
        }
    }

    /// A reply that waits for the control loop.
    private enum PendingReply {
        /// estop, stop, pause, resume: answered once the loop took request `serial`.
        case acting(request: String, serial: UInt64, postedAt: MonotonicInstant, postedInCycle: Int64, deadline: MonotonicInstant)
        /// reset: first taken by the loop, then (when the device clears its own fault) its outcome.
        case resetting(serial: UInt64, deadline: MonotonicInstant)
        case awaitingResetOutcome(deadline: MonotonicInstant)
        /// release, release-end: answered after the two cycles that show their effect.
        case releasing(fromCycle: Int64, deadline: MonotonicInstant)
    }

    /// What the next bytes of a client's input hold.
    private enum NextLine {
        case line(ArraySlice<UInt8>)
        case tooLong
        case incomplete
    }

    private func serve() {
        var clients: [Client] = []
        var pollSet = DescriptorPoll()
        // After accept(2) failed for want of descriptors or memory: the listener stays readable, so
        // it is left out of the poll set for a while rather than spun on.
        var acceptResumesAt = MonotonicInstant.zero
        defer {
            for client in clients { drop(client) }
            listener.close()
            serverFinished.store(true, ordering: .releasing)
        }
        while !stopRequested.load(ordering: .acquiring) {
            pollSet.removeAll()
            for client in clients { pollSet.add(client.socket.descriptor, waitingFor: client.wantedEvents(maximumLineBytes: limits.maximumLineBytes)) }
            let listenerIndex: Int? = MonotonicClock.now() >= acceptResumesAt ? pollSet.add(listener.descriptor, waitingFor: .readable) : nil
            let waiting = clients.contains { $0.pending != nil }
            do {
                try pollSet.wait(timeoutMilliseconds: waiting ? Self.pendingPollMilliseconds : Self.idlePollMilliseconds)
            } catch {
                // Only EINVAL/ENOMEM are left: nothing is ready; do not spin.
                usleep(10_000)
            }
            let now = MonotonicClock.now()
            // One snapshot per wake-up serves every pending reply.
            let status = statusBoard.snapshot()
            for (index, client) in clients.enumerated() {
                service(client, events: pollSet.returnedEvents(at: index), status: status, now: now)
            }
            clients.removeAll { $0.isClosed }
            if let listenerIndex, !pollSet.returnedEvents(at: listenerIndex).isEmpty {
                acceptWaitingClients(into: &clients, now: now, resumeAt: &acceptResumesAt)
            }
        }
    }

    private func acceptWaitingClients(into clients: inout [Client], now: MonotonicInstant, resumeAt: inout MonotonicInstant) {
        // A burst at most per wake-up: a flood of connections does not starve the clients served.
        for _ in 0..<32 {
            let socket: UnixSocketConnection
            do {
                guard let accepted = try listener.acceptWaiting() else { return }
                socket = accepted
            } catch {
                resumeAt = now.advanced(byNanoseconds: 100 * Nanoseconds.perMillisecond)
                return
            }
            let peer = peerCredentials(of: socket)
            guard clients.count < limits.maximumConnections else {
                record(peer, "connect", .overCapacity, at: now)
                let reply = Self.failure(
                    "too many control connections (\(limits.maximumConnections) are open); this one is closed: end an idle client (e.g. a forgotten rehabctl monitor) or try again")
                _ = socket.sendAvailable(Self.lineBytes(reply)[...])
                socket.close()
                continue
            }
            clients.append(Client(socket: socket, peer: peer, now: now))
        }
    }

    /// The peer's credentials, and its supplementary groups when only they can make it a member of
    /// the control group (read now, while its pid most likely still names it).
    private func peerCredentials(of socket: UnixSocketConnection) -> PeerCredentials {
        guard var peer = try? socket.peerCredentials() else {
            // Not seen on a connected Unix socket; an unknown peer may still stop the session
            // (stop-class), nothing more.
            return PeerCredentials(pid: 0, uid: .max, gid: .max)
        }
        if let controlGroup, peer.uid != sessionUID, peer.uid != 0, peer.gid != controlGroup {
            peer = peer.readingSupplementaryGroups()
        }
        return peer
    }

    /// One wake-up's work for `client`: read, finish a pending reply, handle complete lines, write,
    /// close when done or idle.
    private func service(_ client: Client, events: DescriptorPoll.Events, status: SessionStatus, now: MonotonicInstant) {
        if events.contains(.invalid) || events.contains(.error) {
            drop(client)
            return
        }
        // The peer closed: what it sent before still counts (`echo estop | socat -u …` closes at
        // once), so it is read and handled first; only the replies cannot be delivered.
        let peerGone = events.contains(.hangUp)
        if (events.contains(.readable) || peerGone) && !client.peerFinishedSending {
            receive(client, now: now)
        }
        progress(client, status: status, now: now)
        if peerGone {
            drop(client)
            return
        }
        if !client.isClosed && client.pending == nil && now.nanoseconds(since: client.lastActivity) >= limits.idleTimeoutNanoseconds {
            let seconds = Double(limits.idleTimeoutNanoseconds) / 1e9
            client.output += Self.lineBytes(Self.failure("closed: no request for \(seconds) s (idle connections are closed)"))
            _ = flush(client)
            drop(client)
        }
    }

    private func receive(_ client: Client, now: MonotonicInstant) {
        while !client.isClosed && client.input.count <= limits.maximumLineBytes {
            switch client.socket.receiveAvailable(appendingTo: &client.input, maximumBytes: 512) {
            case .moved:
                client.lastActivity = now
            case .wouldBlock:
                return
            case .endOfStream:
                client.peerFinishedSending = true
                return
            case .failed:
                drop(client)
            }
        }
    }

    /// Finishes the pending reply when the loop has done its part, sends what waits, and handles
    /// the next complete line, until the client must wait (for the loop, the socket or a line).
    private func progress(_ client: Client, status: SessionStatus, now: MonotonicInstant) {
        while !client.isClosed {
            if client.pending != nil { advancePending(client, status: status, now: now) }
            guard flush(client) else { return }
            if client.closesAfterReply {
                drop(client)
                return
            }
            guard client.pending == nil else { return }
            switch nextLine(client) {
            case .line(let line):
                handle(line, from: client, now: now)
            case .tooLong:
                record(client.peer, "(line too long)", .invalid, at: now)
                client.input.removeAll()
                respond(client, Self.failure("a request line is at most \(limits.maximumLineBytes) bytes; the connection is closed"))
                client.closesAfterReply = true
            case .incomplete:
                // Everything that came is answered: a peer that will send nothing more is done.
                if client.peerFinishedSending { drop(client) }
                return
            }
        }
    }

    private func nextLine(_ client: Client) -> NextLine {
        guard let newline = client.input.firstIndex(of: 0x0A) else {
            return client.input.count > limits.maximumLineBytes ? .tooLong : .incomplete
        }
        guard newline <= limits.maximumLineBytes else { return .tooLong }
        let line = client.input[..<newline]
        client.input.removeSubrange(...newline)
        return .line(line)
    }

    /// Sends what waits; true when all of it is out (false: the rest waits for POLLOUT, or the
    /// client was dropped).
    private func flush(_ client: Client) -> Bool {
        while !client.output.isEmpty && !client.isClosed {
            switch client.socket.sendAvailable(client.output[...]) {
            case .moved(let count) where count > 0:
                client.output.removeFirst(count)
            case .moved, .wouldBlock:
                return false
            case .endOfStream, .failed:
                drop(client)
            }
        }
        return !client.isClosed
    }

    private func drop(_ client: Client) {
        guard !client.isClosed else { return }
        client.isClosed = true
        // Hold-to-run: a client that goes away while holding release lets go.
        if client.holdsRelease { control.letGoOfRelease() }
        client.socket.close()
    }

    private func respond(_ client: Client, _ reply: JSONObject) {
        client.output += Self.lineBytes(reply)
    }

    private static func lineBytes(_ reply: JSONObject) -> [UInt8] {
        Array((JSONValue.object(reply).serialized() + "\n").utf8)
    }

    private static func failure(_ message: String) -> JSONObject { ["ok": false, "error": .string(message)] }

    // MARK: Requests

    private func handle(_ line: ArraySlice<UInt8>, from client: Client, now: MonotonicInstant) {
        let text = String(decoding: line, as: UTF8.self)
        guard let request = ControlRequest(line: text) else {
            let shown = ControlRequest.printable(text.trimmingCharacters(in: .whitespacesAndNewlines))
            record(client.peer, shown, .invalid, at: now)
            respond(client, Self.failure("unknown request \"\(shown)\"; known: \(ControlRequest.known)"))
            return
        }
        guard Self.isPermitted(request: request, peer: client.peer, sessionUID: sessionUID, controlGroup: controlGroup) else {
            record(client.peer, request.auditText, .notPermitted, at: now)
            let who = controlGroup.map { "the session's user (uid \(sessionUID)), root or a member of its control group (gid \($0))" }
                ?? "the session's user (uid \(sessionUID)) or root"
            var reply = Self.failure(
                "\(request.word) refused: uid \(client.peer.uid) may not \(request.word) this session; only \(who) may (estop, stop, pause and status are open to every user the socket lets in)")
            reply["request"] = .string(request.word)
            reply["refused"] = "not_permitted"
            reply["uid"] = .int(Int(client.peer.uid))
            respond(client, reply)
            return
        }
        record(client.peer, request.auditText, .accepted, at: now)
        if request != .status && statusBoard.snapshot().finished {
            respond(client, Self.ended(request.word))
            return
        }
        switch request {
        case .status: respond(client, statusObject(statusBoard.snapshot()))
        case .emergencyStop: act(.emergencyStop, name: request.word, for: client)
        case .stop: act(.stop, name: request.word, for: client)
        case .pause: act(.pause, name: request.word, for: client)
        case .resume: act(.resume, name: request.word, for: client)
        case .reset: reset(for: client)
        case .release:
            client.holdsRelease = true
            control.holdRelease(until: MonotonicClock.now().advanced(byNanoseconds: Self.releaseKeepAliveNanoseconds))
            awaitRelease(for: client)
        case .releaseEnd:
            client.holdsRelease = false
            control.letGoOfRelease()
            awaitRelease(for: client)
        case .mode(let name): respond(client, switchMode(to: name))
        }
    }

    /// Posts `requests`; the reply follows once the loop has taken them (`advancePending`), with
    /// the cycle that handled them and how long it took.
    private func act(_ requests: OperatorRequests, name: String, for client: Client) {
        let before = statusBoard.snapshot()
        if before.finished {
            respond(client, Self.ended(name))
            return
        }
        if requests == .resume, let refusal = Self.latchedRefusal(name, before) {
            respond(client, refusal)
            return
        }
        let postedAt = MonotonicClock.now()
        let serial = control.post(requests)
        client.pending = .acting(
            request: name, serial: serial, postedAt: postedAt, postedInCycle: before.cycle,
            deadline: postedAt.advanced(byNanoseconds: Self.takeTimeoutNanoseconds))
    }

    /// A reset may wait for the device to clear its own fault (FAULT_RESET); the reply gives the outcome.
    private func reset(for client: Client) {
        if statusBoard.snapshot().finished {
            respond(client, Self.ended("reset"))
            return
        }
        let serial = control.post(.reset)
        client.pending = .resetting(serial: serial, deadline: MonotonicClock.now().advanced(byNanoseconds: Self.takeTimeoutNanoseconds))
    }

    /// `release`/`release-end` are answered after two cycles, with whether the release took effect.
    private func awaitRelease(for client: Client) {
        client.pending = .releasing(
            fromCycle: statusBoard.snapshot().cycle,
            deadline: MonotonicClock.now().advanced(byNanoseconds: Self.releaseReplyTimeoutNanoseconds))
    }

    /// Finishes `client`'s pending reply when the loop has done its part (checked every wake-up,
    /// every millisecond while anything is pending).
    private func advancePending(_ client: Client, status: SessionStatus, now: MonotonicInstant) {
        guard let pending = client.pending else { return }
        var reply: JSONObject?
        switch pending {
        case .acting(let name, let serial, let postedAt, let postedInCycle, let deadline):
            if status.handledRequestSerial >= serial {
                let latency = Double(MonotonicClock.now().nanoseconds(since: postedAt)) / 1e6
                let taken: JSONObject = [
                    "ok": true, "request": .string(name), "posted_in_cycle": .integer(postedInCycle),
                    "handled_in_cycle": .integer(status.cycle), "cycles": .integer(status.cycle - postedInCycle),
                    "latency_ms": .number(latency, significantDigits: 4), "state": .string(status.state.rawValue),
                ]
                reply = taken
            } else {
                reply = Self.notTaken(status: status, now: now, deadline: deadline)
            }
        case .resetting(let serial, let deadline):
            if status.handledRequestSerial >= serial {
                if status.lastResetOutcome == .pending {
                    client.pending = .awaitingResetOutcome(deadline: now.advanced(byNanoseconds: 2 * Supervisor.deviceResetWaitNanoseconds))
                } else {
                    reply = Self.resetReply(status)
                }
            } else {
                reply = Self.notTaken(status: status, now: now, deadline: deadline)
            }
        case .awaitingResetOutcome(let deadline):
            if status.lastResetOutcome != .pending || now >= deadline { reply = Self.resetReply(status) }
        case .releasing(let fromCycle, let deadline):
            if status.cycle >= fromCycle + 2 || status.finished || now >= deadline {
                var object: JSONObject = ["ok": true, "releasing": .bool(status.releasing), "state": .string(status.state.rawValue)]
                if let refusal = status.releaseRefusal { object["refused"] = .string(refusal.rawValue) }
                reply = object
            }
        }
        if let reply {
            client.pending = nil
            client.lastActivity = now
            respond(client, reply)
        }
    }

    /// The error reply when the loop has not taken a request (nil: it may still).
    private static func notTaken(status: SessionStatus, now: MonotonicInstant, deadline: MonotonicInstant) -> JSONObject? {
        if status.finished { return failure("the session ended before its control loop took the request") }
        guard now >= deadline else { return nil }
        if status.cycle == 0 {
            // Still in the self-test (or enabling): the request stays posted for the first cycle.
            return failure("the session has not started its control loop yet (self-test); the request is queued for its first cycle")
        }
        return failure("the control loop did not take the request within 1 s")
    }

    private static func resetReply(_ status: SessionStatus) -> JSONObject {
        var reply: JSONObject
        switch status.lastResetOutcome {
        case .reset?:
            reply = ["ok": true, "request": "reset", "handled_in_cycle": .integer(status.cycle)]
        case .refused(let reason)?:
            reply = failure("reset refused: \(reason)")
            reply["request"] = "reset"
            reply["refused"] = .string(reason.name)
            if case .causePersists(let trip) = reason { reply["cause"] = .object(tripObject(trip)) }
        case .pending?, nil:
            reply = failure("the device did not answer the reset")
        }
        reply["state"] = .string(status.state.rawValue)
        return reply
    }

    private static func ended(_ request: String) -> JSONObject {
        var reply = failure("the session has ended")
        reply["request"] = .string(request)
        return reply
    }

    /// `resume` and `mode` while `fault`/`estop` is latched: refused with the reason (only a reset
    /// leaves a latched stop, and a reset never enables motion), instead of an `ok` that did nothing.
    private static func latchedRefusal(_ request: String, _ status: SessionStatus) -> JSONObject? {
        guard status.state.isLatched else { return nil }
        var reply = failure(
            "\(request) refused: the session is latched in \(status.state.rawValue)"
                + (status.latchedTrip.map { " (\($0.description))" } ?? "")
                + "; only a reset leaves it (rehabctl reset), and a reset never restarts motion")
        reply["request"] = .string(request)
        reply["refused"] = "latched"
        reply["state"] = .string(status.state.rawValue)
        if let trip = status.latchedTrip { reply["cause"] = .object(tripObject(trip)) }
        return reply
    }

    /// `mode NAME`: one of the session's modes (`exercise` is the exercise's own; `-` and `_` alike).
    private func switchMode(to requested: String) -> JSONObject {
        let status = statusBoard.snapshot()
        if status.finished { return Self.ended("mode") }
        if let refusal = Self.latchedRefusal("mode", status) { return refusal }
        let name = requested == "exercise" ? modeNames.first ?? "" : requested.replacingOccurrences(of: "-", with: "_")
        guard let index = modeNames.firstIndex(of: name) else {
            return Self.failure(
                "this exercise has no mode \"\(requested)\"; its modes: \(modeNames.joined(separator: ", ")) (a mode's settings block in the exercise file makes it available)")
        }
        control.requestMode(index)
        return ["ok": true, "request": "mode", "mode": .string(name), "note": "the torque blends into the new mode over the enable ramp"]
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
                "watchdog_expired": .bool(device.contains(.watchdogExpired)), "fault_code": .int(Int(status.deviceFault.deviceCode)), "fault_kind": .string(status.deviceFault.kind.name),
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

/// One request line of the control socket, parsed.
public enum ControlRequest: Sendable, Equatable {
    case status
    case emergencyStop
    case stop
    case pause
    case resume
    case reset
    case release
    case releaseEnd
    /// `mode NAME`, the name as sent (lower-cased).
    case mode(String)

    /// The requests, as the reply to an unknown one lists them.
    public static let known = "status, estop, stop, pause, resume, reset, release, release-end, mode NAME"

    /// Parses one line (without its newline). Surrounding and repeated whitespace, a carriage return
    /// (`estop\r\n` from a terminal, socat or a Windows client) and letter case do not matter; nil
    /// for anything that is not a request.
    public init?(line: String) {
        let words = line.lowercased().split(whereSeparator: { $0.isWhitespace }).map(String.init)
        if words.count == 2 && words[0] == "mode" {
            self = .mode(words[1])
            return
        }
        guard words.count == 1 else { return nil }
        switch words[0] {
        case "status": self = .status
        case "estop": self = .emergencyStop
        case "stop": self = .stop
        case "pause": self = .pause
        case "resume": self = .resume
        case "reset": self = .reset
        case "release": self = .release
        case "release-end": self = .releaseEnd
        default: return nil
        }
    }

    /// The request's word on the wire (`mode` for a mode switch).
    public var word: String {
        switch self {
        case .status: "status"
        case .emergencyStop: "estop"
        case .stop: "stop"
        case .pause: "pause"
        case .resume: "resume"
        case .reset: "reset"
        case .release: "release"
        case .releaseEnd: "release-end"
        case .mode: "mode"
        }
    }

    /// SR-25: requests that only stop or only read, open to every user the socket lets in.
    public var isStopClass: Bool {
        switch self {
        case .status, .emergencyStop, .stop, .pause: true
        case .resume, .reset, .release, .releaseEnd, .mode: false
        }
    }

    /// The request as the audit trail records it (a mode switch with its mode).
    var auditText: String {
        if case .mode(let name) = self { return "mode " + Self.printable(name) }
        return word
    }

    /// Untrusted text made safe to record and echo: printable ASCII only, at most 40 characters.
    static func printable(_ text: String) -> String {
        var shown = ""
        for scalar in text.unicodeScalars.prefix(40) {
            shown.unicodeScalars.append((0x20...0x7E).contains(scalar.value) ? scalar : "?")
        }
        if text.unicodeScalars.count > 40 { shown += "…" }
        return shown
    }
}

/// SR-25: one control-socket request, accepted or refused, with who sent it (the kernel's
/// SO_PEERCRED, not what the client says) and when (the monotonic clock, as the recording's times).
/// `ControlServer.takeAuditRecords()` hands them to the session owner for the recording and the
/// black box.
public struct ControlAuditRecord: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        /// Permitted and carried out (what the loop then did is in the reply and the transitions).
        case accepted
        /// SR-25: this peer may not make this request (`ControlServer.isPermitted`).
        case notPermitted = "not_permitted"
        /// Not a request (unknown word, or a line longer than the limit).
        case invalid
        /// A connection beyond `ControlServer.Limits.maximumConnections`, closed unread.
        case overCapacity = "over_capacity"
    }

    /// When the request arrived, on the monotonic clock.
    public var time: MonotonicInstant
    public var pid: pid_t
    public var uid: uid_t
    public var gid: gid_t
    /// The request (`estop`, `mode passive`…); for an invalid line its printable start; `connect`
    /// for a connection over the limit.
    public var request: String
    public var outcome: Outcome

    public init(time: MonotonicInstant, pid: pid_t, uid: uid_t, gid: gid_t, request: String, outcome: Outcome) {
        self.time = time
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.request = request
        self.outcome = outcome
    }

    public var isAccepted: Bool { outcome == .accepted }

    /// The record as one JSON object (for the recording and the black box).
    public var jsonObject: JSONObject {
        [
            "time_ns": .integer(time.nanoseconds), "pid": .int(Int(pid)), "uid": .int(Int(uid)), "gid": .int(Int(gid)),
            "request": .string(request), "outcome": .string(outcome.rawValue),
        ]
    }
}

/// Why a control socket or its folder is not used (SR-25: the folder and the file are owned by
/// the session's user and not writable by others, checked rather than assumed).
public enum ControlSocketError: Error, Sendable, Equatable, CustomStringConvertible {
    /// socket/bind/listen failed (the caller names the path).
    case cannotCreateSocket(path: String, Errno)
    case cannotCreateFolder(path: String, Errno)
    case cannotInspect(path: String, Errno)
    /// A symbolic link (never followed) or another kind of file where a folder should be.
    case notADirectory(path: String, kind: String)
    case ownedByAnotherUser(path: String, owner: uid_t, you: uid_t)
    case writableByOthers(path: String, mode: mode_t)
    case notWritable(path: String, you: uid_t)
    /// The socket file just created is not what was asked.
    case unexpectedSocketFile(path: String, problem: String)
    /// Every candidate folder was refused, each for its reason.
    case noUsableFolder([ControlSocketError])

    public var description: String {
        switch self {
        case .cannotCreateSocket(_, let error):
            "\(error)"
        case .cannotCreateFolder(let path, let error):
            "cannot create \(path): \(error)"
        case .cannotInspect(let path, let error):
            "cannot inspect \(path): \(error)"
        case .notADirectory(let path, let kind):
            "remove \(path): it is \(kind), not a folder (a control socket's folder is never followed through a link)"
        case .ownedByAnotherUser(let path, let owner, let you):
            "remove \(path): it is owned by uid \(owner), not by you (uid \(you)), and its owner could put a fake session socket in it (if you cannot remove it, ask an administrator, or give --control-socket PATH)"
        case .writableByOthers(let path, let mode):
            "remove \(path) (it is made again, private): it is writable by group or others (mode 0\(String(mode, radix: 8))), so anyone could replace the session's socket"
        case .notWritable(let path, let you):
            "\(path) is not writable by you (uid \(you))"
        case .unexpectedSocketFile(let path, let problem):
            "the control socket \(path) \(problem); it is not used"
        case .noUsableFolder(let refusals):
            "no usable folder for the control socket"
                + (refusals.isEmpty ? "" : ": " + refusals.map(\.description).joined(separator: "; "))
                + "; give --control-socket PATH, or none"
        }
    }
}

/// Where session control sockets live, and how a client finds the running sessions.
public enum ControlSocketLocation {
    /// The folder a root session uses: created 0755 (others reach a group socket in it).
    public static let sharedFolder = "/run/rehabhost"

    /// The folders searched, most specific first: /run/rehabhost (root), $XDG_RUNTIME_DIR/rehabhost,
    /// /tmp/rehabhost-<uid>.
    public static var candidateFolders: [String] {
        var folders = [sharedFolder]
        if let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            folders.append(runtime + "/rehabhost")
        }
        folders.append("/tmp/rehabhost-\(getuid())")
        return folders
    }

    /// The folder this process creates its socket in: the first candidate that is (or is made) a
    /// folder of this user (or root) that nobody else can write; nil when none is
    /// (`checkedFolderForThisProcess` says why).
    public static func folderForThisProcess() -> String? {
        try? checkedFolderForThisProcess()
    }

    /// The folder this process creates its socket in, or why each candidate was refused.
    public static func checkedFolderForThisProcess() throws(ControlSocketError) -> String {
        try firstUsableFolder(among: Array(candidateFolders.dropFirst(geteuid() == 0 ? 0 : 1)))
    }

    /// The first of `candidates` that `prepareFolder` accepts.
    public static func firstUsableFolder(among candidates: [String]) throws(ControlSocketError) -> String {
        var refusals: [ControlSocketError] = []
        for folder in candidates {
            do {
                try prepareFolder(folder)
                return folder
            } catch {
                refusals.append(error)
            }
        }
        throw .noUsableFolder(refusals)
    }

    /// Creates `folder` when it does not exist (0755 for /run/rehabhost, 0700 otherwise), then
    /// checks it (`checkFolder`) and that this process can write in it. An existing folder is
    /// never changed: one with the wrong owner or mode is refused with what to do, not repaired
    /// (it may be someone else's, or already hold a planted socket).
    public static func prepareFolder(_ folder: String) throws(ControlSocketError) {
        let mode: mode_t = folder == sharedFolder ? 0o755 : 0o700
        if mkdir(folder, mode) == 0 {
            // Made just now, by this process: exactly `mode` (the umask can only have taken bits away).
            chmod(folder, mode)
        } else {
            let error = Errno.current
            guard error.rawValue == EEXIST else { throw .cannotCreateFolder(path: folder, error) }
        }
        try checkFolder(folder)
        guard access(folder, W_OK) == 0 else { throw .notWritable(path: folder, you: geteuid()) }
    }

    /// SR-25: `folder` must be a real folder (lstat: a symbolic link is refused wherever it
    /// points), owned by this process's user or by root, and not writable by group or others.
    public static func checkFolder(_ folder: String) throws(ControlSocketError) {
        var info = stat()
        guard lstat(folder, &info) == 0 else { throw .cannotInspect(path: folder, Errno.current) }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFDIR else {
            throw .notADirectory(path: folder, kind: kind == S_IFLNK ? "a symbolic link" : "not a folder but a file")
        }
        let you = geteuid()
        guard info.st_uid == you || info.st_uid == 0 else { throw .ownedByAnotherUser(path: folder, owner: info.st_uid, you: you) }
        guard (info.st_mode & 0o022) == 0 else { throw .writableByOthers(path: folder, mode: info.st_mode & 0o7777) }
    }

    /// SR-25: the socket file at `path` is a socket, owned by this process's user, with exactly
    /// `mode` and (when given) `group`. Checked after creating it, so that a folder or umask
    /// surprise cannot leave a socket wider than asked.
    public static func checkSocketFile(_ path: String, mode: mode_t, group: gid_t?) throws(ControlSocketError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw .cannotInspect(path: path, Errno.current) }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else { throw .unexpectedSocketFile(path: path, problem: "is not a socket") }
        guard info.st_uid == geteuid() else {
            throw .unexpectedSocketFile(path: path, problem: "is owned by uid \(info.st_uid), not by this process's uid \(geteuid())")
        }
        guard (info.st_mode & 0o7777) == mode else {
            throw .unexpectedSocketFile(path: path, problem: "has mode 0\(String(info.st_mode & 0o7777, radix: 8)), not 0\(String(mode, radix: 8))")
        }
        if let group, info.st_gid != group {
            throw .unexpectedSocketFile(path: path, problem: "belongs to gid \(info.st_gid), not to the control group (gid \(group))")
        }
    }

    /// The socket path for a session of process `pid`.
    public static func defaultPath(pid: pid_t = getpid()) -> String? {
        folderForThisProcess().map { "\($0)/session-\(pid).sock" }
    }

    /// The socket path for a session of process `pid`, or why no folder could hold it.
    public static func checkedDefaultPath(pid: pid_t = getpid()) throws(ControlSocketError) -> String {
        let folder = try checkedFolderForThisProcess()
        return "\(folder)/session-\(pid).sock"
    }

    /// Every live session socket this user can see, in the candidate folders that pass
    /// `checkFolder` (a folder someone else controls could hold a fake session that swallows an
    /// e-stop: it is not searched).
    public static func liveSessions() -> [String] {
        var found: [String] = []
        for folder in candidateFolders {
            do {
                try checkFolder(folder)
            } catch {
                continue
            }
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

/// One request line sent to several sessions at once: SR-12's `rehabctl estop` without a target
/// stops every running session. Each session is reached on its own thread, so a session that
/// hangs (even in `connect`, with its backlog full) delays no other; each gets its line as soon as
/// it is connected, before any reply is awaited.
public enum ControlSocketBroadcast {
    public enum Outcome: Sendable, Equatable {
        case reply(JSONObject)
        case cannotConnect(Errno)
        /// No reply line in time (or the connection broke).
        case noAnswer
        case unreadableReply(String)
    }

    public struct Result: Sendable, Equatable {
        public let path: String
        public let outcome: Outcome

        /// The session answered `"ok": true`.
        public var tookIt: Bool {
            if case .reply(let reply) = outcome { return reply["ok"]?.boolValue == true }
            return false
        }
    }

    /// Sends `line` to every socket of `paths`; one result per path, in order. Waits at most
    /// `timeoutNanoseconds` for all of them (a session that has not answered by then: `noAnswer`).
    public static func send(_ line: String, to paths: [String], timeoutNanoseconds: Int64 = 3 * Nanoseconds.perSecond) -> [Result] {
        let deadline = MonotonicClock.now().advanced(byNanoseconds: timeoutNanoseconds)
        let collected = Collected(count: paths.count)
        for (index, path) in paths.enumerated() {
            let thread = Thread {
                let outcome = exchange(line, path: path, deadline: deadline)
                collected.outcomes.withLock { $0[index] = outcome }
            }
            thread.name = "rehabctl-broadcast"
            thread.start()
        }
        // A little beyond the deadline, for the threads' own last reads to report.
        let end = deadline.advanced(byNanoseconds: 50 * Nanoseconds.perMillisecond)
        while MonotonicClock.now() < end && collected.outcomes.withLock({ outcomes in outcomes.contains { $0 == nil } }) { usleep(1_000) }
        let outcomes = collected.outcomes.withLock { $0 }
        return paths.enumerated().map { Result(path: $1, outcome: outcomes[$0] ?? .noAnswer) }
    }

    private static func exchange(_ line: String, path: String, deadline: MonotonicInstant) -> Outcome {
        let connection: UnixSocketConnection
        do {
            connection = try UnixSocketConnection.connect(path: path)
        } catch {
            return .cannotConnect(error)
        }
        defer { connection.close() }
        guard connection.writeLine(line), let text = connection.readLine(deadline: deadline) else { return .noAnswer }
        guard let object = try? JSONParser.parse(text).objectValue else { return .unreadableReply(text) }
        return .reply(object)
    }

    /// The outcomes, filled in by the threads.
    private final class Collected: Sendable {
        let outcomes: Mutex<[Outcome?]>

        init(count: Int) {
            outcomes = Mutex([Outcome?](repeating: nil, count: count))
        }
    }
}
