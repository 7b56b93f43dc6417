import Control
import DeviceModel
import Foundation
import Platform
import Primitives
import RehabLinkSimulator
import Session
import StrictJSON
import XCTest

/// The control socket against a session in virtual time: what it answers before and after the loop;
/// and against a status board the test publishes itself (standing for the loop), its server: one
/// thread for every client, its limits, its parsing, SR-25's checks and audit trail, SR-12's e-stop
/// of every session.
final class ControlServerTests: XCTestCase {
    /// A started control socket for `harness`'s session, at a fresh path.
    private func startServer(for harness: VirtualSessionHarness, exerciseName: String) throws -> (ControlServer, path: String) {
        try startServer(control: harness.session.control, statusBoard: harness.session.statusBoard,
                        jointNames: harness.profile.joints.map(\.name), exerciseName: exerciseName,
                        modeNames: harness.session.availableModes.map(\.name))
    }

    /// A started control socket at a fresh path, on `statusBoard` (a test's own board stands for the loop).
    private func startServer(control: SessionControl, statusBoard: SnapshotBoard<SessionStatus>, jointNames: [String] = [],
                             exerciseName: String = "passive range of motion", modeNames: [String] = ["passive"],
                             limits: ControlServer.Limits = ControlServer.Limits()) throws -> (ControlServer, path: String) {
        let path = NSTemporaryDirectory() + "rehabhost-control-\(UUID().uuidString.prefix(8)).sock"
        let server = try ControlServer(path: path, control: control, statusBoard: statusBoard, jointNames: jointNames,
                                       exerciseName: exerciseName, modeNames: modeNames, limits: limits)
        server.start()
        return (server, path)
    }

    /// A status board showing a loop in `state` at `cycle`; `handledEverything`: as if the loop had
    /// already taken every request (the reply to estop, stop… comes at once).
    private func board(cycle: Int64 = 41, state: SupervisorState = .active, handledEverything: Bool = false) -> SnapshotBoard<SessionStatus> {
        var status = SessionStatus()
        status.cycle = cycle
        status.state = state
        if handledEverything { status.handledRequestSerial = .max }
        return SnapshotBoard(status)
    }

    private func seconds(_ value: Double) -> MonotonicInstant {
        MonotonicClock.now().advanced(byNanoseconds: Int64(value * 1e9))
    }

    /// Sends `line` and returns the JSON reply.
    private func ask(_ client: UnixSocketConnection, _ line: String) throws -> JSONObject {
        XCTAssertTrue(client.writeLine(line))
        let reply = try XCTUnwrap(client.readLine(deadline: seconds(3)), "no reply to \(line)")
        return try XCTUnwrap(JSONParser.parse(reply).objectValue, reply)
    }

    /// The threads of this process.
    private func threadCount() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count
    }

    func testARequestBeforeTheLoopStartsIsQueuedForItsFirstCycleAndSaysSo() throws {
        let harness = try VirtualSessionHarness(durationSeconds: 1)
        try harness.session.prepare()
        let (server, path) = try startServer(for: harness, exerciseName: "passive range of motion")
        defer { server.stop() }
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        let client = try UnixSocketConnection.connect(path: path)
        XCTAssertTrue(client.writeLine("stop"))
        let line = try XCTUnwrap(client.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 3 * Nanoseconds.perSecond)))
        let reply = try XCTUnwrap(JSONParser.parse(line).objectValue)
        XCTAssertEqual(reply["ok"]?.boolValue, false)
        XCTAssertTrue(reply["error"]?.stringValue?.contains("queued for its first cycle") == true, line)
        XCTAssertTrue(client.writeLine("dance"))
        let unknown = try XCTUnwrap(client.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 3 * Nanoseconds.perSecond)))
        XCTAssertTrue(unknown.contains("unknown request"), unknown)
        let report = harness.session.run()
        harness.session.finish()
        let stop = try XCTUnwrap(report.transitions.first { $0.cause == .stopRequested })
        XCTAssertLessThanOrEqual(stop.cycle, 1, "the queued stop was taken at the start")
        XCTAssertTrue(client.writeLine("estop"))
        let ended = try XCTUnwrap(client.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 3 * Nanoseconds.perSecond)))
        XCTAssertTrue(ended.contains("the session has ended"), ended)
        client.close()
        server.stop()
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "removed on stop")
    }

    /// `rehabctl mode NAME`: the request reaches the loop, which reports the mode in force; only the
    /// exercise's modes are offered; once the session has ended, a switch is refused.
    func testModeRequestsSwitchTheModeInForce() throws {
        var exercise = RangeOfMotionExercise()
        exercise.mode = .activeAssist(TherapyModeTests.assistAsNeeded)
        exercise.otherModes = [.transparent(Transparency(frictionCompensation: 1, inertiaCompensation: 0.5))]
        let harness = try VirtualSessionHarness(durationSeconds: 1, exercise: exercise)
        XCTAssertEqual(harness.session.availableModes.map(\.name), ["active_assist", "transparent", "passive"])
        try harness.session.prepare()
        let (server, path) = try startServer(for: harness, exerciseName: "active-assist range of motion")
        defer { server.stop() }
        let client = try UnixSocketConnection.connect(path: path)
        defer { client.close() }
        XCTAssertEqual(try ask(client, "mode passive")["mode"]?.stringValue, "passive")
        XCTAssertEqual(harness.session.control.requestedModeIndex, 2)
        XCTAssertEqual(try ask(client, "mode exercise")["mode"]?.stringValue, "active_assist", "exercise: the mode it started in")
        XCTAssertEqual(harness.session.control.requestedModeIndex, 0)
        let missing = try ask(client, "mode active-resist")
        XCTAssertEqual(missing["ok"]?.boolValue, false)
        XCTAssertTrue(missing["error"]?.stringValue?.contains("its modes: active_assist, transparent, passive") == true, "\(missing)")
        XCTAssertEqual(harness.session.control.requestedModeIndex, 0, "a refused switch changes nothing")
        XCTAssertEqual(try ask(client, "mode transparent")["mode"]?.stringValue, "transparent")
        XCTAssertEqual(harness.session.control.requestedModeIndex, 1)
        _ = harness.session.run()
        let status = server.statusObject(harness.session.statusBoard.snapshot())
        XCTAssertEqual(status["mode_in_force"]?.stringValue, "transparent", "the loop took the request")
        XCTAssertEqual(status["modes"]?.arrayValue?.compactMap(\.stringValue), ["active_assist", "transparent", "passive"])
        let ended = try ask(client, "mode passive")
        XCTAssertEqual(ended["ok"]?.boolValue, false, "\(ended)")
        XCTAssertTrue(ended["error"]?.stringValue?.contains("the session has ended") == true, "\(ended)")
        XCTAssertEqual(harness.session.control.requestedModeIndex, 1, "nothing changed after the end")
        harness.session.finish()
    }

    func testAGroupSocketIs0660WithThatGroup() throws {
        let harness = try VirtualSessionHarness(durationSeconds: 1)
        let path = NSTemporaryDirectory() + "rehabhost-group-\(UUID().uuidString.prefix(8)).sock"
        let group = getgid()
        let server = try ControlServer(path: path, group: group, control: harness.session.control,
                                       statusBoard: harness.session.statusBoard, jointNames: [], exerciseName: "passive range of motion",
                                       modeNames: ["passive"])
        defer { server.stop() }
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o660)
        XCTAssertEqual(info.st_gid, group)
    }

    // MARK: R4: one event-driven server thread, with limits

    /// R4: a thread per connection (8.7 MB of locked stack each) let 200 half-open connections make
    /// 206 threads and stall the loop. Now 40 silent connections cost no thread, and a fresh client
    /// is still answered.
    func testFortySilentConnectionsTakeNoThreadAndAFreshStatusIsStillAnswered() throws {
        let threadsBefore = try threadCount()
        let (server, path) = try startServer(control: SessionControl(), statusBoard: board(cycle: 7),
                                             limits: ControlServer.Limits(maximumConnections: 64))
        defer { server.stop() }
        var silent: [UnixSocketConnection] = []
        defer { for connection in silent { connection.close() } }
        for _ in 0..<40 { silent.append(try UnixSocketConnection.connect(path: path)) }
        // Time for a thread per connection to appear, had the server started one.
        usleep(300_000)
        XCTAssertLessThanOrEqual(try threadCount(), threadsBefore + 1, "one server thread serves every client")
        let fresh = try UnixSocketConnection.connect(path: path)
        defer { fresh.close() }
        let status = try ask(fresh, "status")
        XCTAssertEqual(status["ok"]?.boolValue, true, "\(status)")
        XCTAssertEqual(status["cycle"]?.integerValue, 7)
    }

    /// One client beyond `maximumConnections` (16 by default) is answered with an error and closed;
    /// a place given back is taken again.
    func testAClientBeyondTheConnectionLimitGetsAnErrorAndIsClosed() throws {
        XCTAssertEqual(ControlServer.Limits().maximumConnections, 16)
        let (server, path) = try startServer(control: SessionControl(), statusBoard: board())
        defer { server.stop() }
        var held: [UnixSocketConnection] = []
        defer { for connection in held { connection.close() } }
        for _ in 0..<16 {
            let connection = try UnixSocketConnection.connect(path: path)
            held.append(connection)
            XCTAssertEqual(try ask(connection, "status")["ok"]?.boolValue, true, "served: one of the 16")
        }
        let extra = try UnixSocketConnection.connect(path: path)
        defer { extra.close() }
        let line = try XCTUnwrap(extra.readLine(deadline: seconds(3)), "the 17th is told why")
        let reply = try XCTUnwrap(JSONParser.parse(line).objectValue)
        XCTAssertEqual(reply["ok"]?.boolValue, false)
        XCTAssertTrue(reply["error"]?.stringValue?.contains("too many control connections (16") == true, line)
        XCTAssertNil(extra.readLine(deadline: seconds(1)), "and closed")
        XCTAssertTrue(server.takeAuditRecords().contains { $0.request == "connect" && $0.outcome == .overCapacity && $0.pid == getpid() })
        // A client that leaves gives its place back (the server sees it go on its next wake-up).
        held.removeFirst().close()
        var answered = false
        let end = seconds(3)
        while !answered && MonotonicClock.now() < end {
            // Until the server has seen the place freed, the answer is the limit's error line.
            let next = try UnixSocketConnection.connect(path: path)
            _ = next.writeLine("status")
            if let line = next.readLine(deadline: seconds(3)), let reply = try? JSONParser.parse(line).objectValue {
                answered = reply["ok"]?.boolValue == true
            }
            next.close()
            if !answered { usleep(20_000) }
        }
        XCTAssertTrue(answered, "a freed place is served again")
    }

    func testALineLongerThanTheLimitIsAnsweredWithAnErrorAndTheConnectionClosed() throws {
        let (server, path) = try startServer(control: SessionControl(), statusBoard: board())
        defer { server.stop() }
        let client = try UnixSocketConnection.connect(path: path)
        defer { client.close() }
        XCTAssertTrue(client.writeLine(String(repeating: "x", count: 300)))
        let line = try XCTUnwrap(client.readLine(deadline: seconds(3)))
        XCTAssertTrue(line.contains("a request line is at most 256 bytes"), line)
        XCTAssertNil(client.readLine(deadline: seconds(1)), "closed")
        XCTAssertEqual(server.takeAuditRecords().map(\.outcome), [.invalid])
    }

    func testAConnectionThatSendsNothingIsClosedAfterTheIdleTimeout() throws {
        let (server, path) = try startServer(control: SessionControl(), statusBoard: board(),
                                             limits: ControlServer.Limits(idleTimeoutNanoseconds: 200 * Nanoseconds.perMillisecond))
        defer { server.stop() }
        let client = try UnixSocketConnection.connect(path: path)
        defer { client.close() }
        let started = MonotonicClock.now()
        let line = try XCTUnwrap(client.readLine(deadline: seconds(3)))
        XCTAssertTrue(line.contains("no request for 0.2 s"), line)
        XCTAssertGreaterThanOrEqual(MonotonicClock.now().seconds(since: started), 0.19)
        XCTAssertNil(client.readLine(deadline: seconds(1)), "closed")
    }

    /// A request that waits for the loop (here an e-stop) is finished when the loop has taken it,
    /// and holds up no other client meanwhile.
    func testARequestWaitingForTheLoopDoesNotHoldUpAnotherClient() throws {
        var status = SessionStatus()
        status.cycle = 41
        status.state = .active
        let statusBoard = SnapshotBoard(status)
        let (server, path) = try startServer(control: SessionControl(), statusBoard: statusBoard)
        defer { server.stop() }
        let stopper = try UnixSocketConnection.connect(path: path)
        defer { stopper.close() }
        XCTAssertTrue(stopper.writeLine("estop"))
        let other = try UnixSocketConnection.connect(path: path)
        defer { other.close() }
        let asked = MonotonicClock.now()
        XCTAssertEqual(try ask(other, "status")["state"]?.stringValue, "active")
        XCTAssertLessThan(MonotonicClock.now().seconds(since: asked), 0.5, "answered while the e-stop waits")
        XCTAssertNil(stopper.readLine(deadline: seconds(0.05)), "the e-stop waits for the loop")
        // The loop takes it (the first request of this SessionControl: serial 1) in cycle 42.
        status.cycle = 42
        status.handledRequestSerial = 1
        status.state = .estop
        statusBoard.publish(status)
        let line = try XCTUnwrap(stopper.readLine(deadline: seconds(3)))
        let reply = try XCTUnwrap(JSONParser.parse(line).objectValue)
        XCTAssertEqual(reply["ok"]?.boolValue, true, line)
        XCTAssertEqual(reply["request"]?.stringValue, "estop")
        XCTAssertEqual(reply["posted_in_cycle"]?.integerValue, 41)
        XCTAssertEqual(reply["handled_in_cycle"]?.integerValue, 42)
        XCTAssertEqual(reply["cycles"]?.integerValue, 1)
        XCTAssertEqual(reply["state"]?.stringValue, "estop")
    }

    // MARK: Request parsing, and what a latched or ended session refuses

    /// `estop\r\n` (a terminal, socat, a Windows client) is an e-stop: a carriage return, spaces and
    /// tabs around the word and its case do not matter; an unknown request is told the known ones.
    func testCarriageReturnsAndWhitespaceAreTrimmedAndAnUnknownRequestListsTheKnownOnes() throws {
        XCTAssertEqual(ControlRequest(line: "estop\r"), .emergencyStop)
        XCTAssertEqual(ControlRequest(line: " \tESTOP  \r"), .emergencyStop)
        XCTAssertEqual(ControlRequest(line: "release-end\r"), .releaseEnd)
        XCTAssertEqual(ControlRequest(line: "mode   passive\r"), .mode("passive"))
        XCTAssertNil(ControlRequest(line: "estop now"))
        XCTAssertNil(ControlRequest(line: "mode"))
        XCTAssertNil(ControlRequest(line: ""))
        let (server, path) = try startServer(control: SessionControl(), statusBoard: board(handledEverything: true))
        defer { server.stop() }
        let client = try UnixSocketConnection.connect(path: path)
        defer { client.close() }
        let estop = try ask(client, "  estop \r")
        XCTAssertEqual(estop["ok"]?.boolValue, true, "\(estop)")
        XCTAssertEqual(estop["request"]?.stringValue, "estop")
        XCTAssertEqual(try ask(client, "\tstatus\r")["ok"]?.boolValue, true)
        XCTAssertEqual(try ask(client, "mode  passive\r")["mode"]?.stringValue, "passive")
        let unknown = try ask(client, "dance")
        XCTAssertEqual(unknown["ok"]?.boolValue, false)
        XCTAssertEqual(unknown["error"]?.stringValue,
                       "unknown request \"dance\"; known: status, estop, stop, pause, resume, reset, release, release-end, mode NAME")
    }

    /// `resume` and `mode` used to answer ok after an e-stop (doing nothing) and after the end:
    /// now they are refused with the reason. The session is held in the e-stop while it asks (the
    /// loop waits in the link's callback: the server answers without it).
    func testResumeAndModeAreRefusedWhileLatchedAndOnceTheSessionHasEnded() throws {
        let harness = try VirtualSessionHarness(durationSeconds: 5, adjust: { $0.holdsAfterFault = true })
        try harness.session.prepare()
        let (server, path) = try startServer(for: harness, exerciseName: "passive range of motion")
        defer { server.stop() }
        let client = try UnixSocketConnection.connect(path: path)
        defer { client.close() }
        let control = harness.session.control
        let start = harness.clock.now()
        let millisecond = Nanoseconds.perMillisecond
        var whileLatched: [String: String] = [:]
        harness.link.at(start.advanced(byNanoseconds: 1_000 * millisecond)) { control.post(.emergencyStop) }
        harness.link.at(start.advanced(byNanoseconds: 1_500 * millisecond)) {
            for line in ["resume", "mode passive"] where client.writeLine(line) {
                whileLatched[line] = client.readLine(deadline: MonotonicClock.now().advanced(byNanoseconds: 3 * Nanoseconds.perSecond))
            }
        }
        harness.link.at(start.advanced(byNanoseconds: 1_600 * millisecond)) { control.post(.stop) }
        let report = harness.session.run()
        harness.session.finish()
        XCTAssertEqual(report.transitions.first { $0.cause == .operatorEmergencyStop }?.to, .estop)
        for line in ["resume", "mode passive"] {
            let text = try XCTUnwrap(whileLatched[line], "no reply to \(line) while latched")
            let reply = try XCTUnwrap(JSONParser.parse(text).objectValue)
            XCTAssertEqual(reply["ok"]?.boolValue, false, text)
            XCTAssertEqual(reply["refused"]?.stringValue, "latched", text)
            XCTAssertEqual(reply["state"]?.stringValue, "estop", text)
            XCTAssertTrue(reply["error"]?.stringValue?.contains("only a reset leaves it") == true, text)
        }
        for line in ["resume", "mode passive"] {
            let reply = try ask(client, line)
            XCTAssertEqual(reply["ok"]?.boolValue, false, "\(line): \(reply)")
            XCTAssertTrue(reply["error"]?.stringValue?.contains("the session has ended") == true, "\(line): \(reply)")
        }
    }

    // MARK: D3/R5, SR-25: the socket's folder and file

    /// A folder that group or others may write, one of another owner, or a symbolic link is refused
    /// with what to do, and never changed.
    func testASocketFolderWritableByOthersOwnedByAnotherOrALinkIsRefusedWithTheReason() throws {
        let base = NSTemporaryDirectory() + "rehabhost-folders-\(UUID().uuidString.prefix(8))"
        XCTAssertEqual(mkdir(base, 0o700), 0)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let wide = base + "/wide"
        XCTAssertEqual(mkdir(wide, 0o700), 0)
        XCTAssertEqual(chmod(wide, 0o777), 0)
        XCTAssertThrowsError(try ControlSocketLocation.prepareFolder(wide)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("remove \(wide)"), text)
            XCTAssertTrue(text.contains("writable by group or others (mode 0777)"), text)
        }
        var info = stat()
        XCTAssertEqual(lstat(wide, &info), 0)
        XCTAssertEqual(info.st_mode & 0o7777, 0o777, "refused, not repaired")
        let fresh = base + "/fresh"
        XCTAssertNoThrow(try ControlSocketLocation.prepareFolder(fresh))
        XCTAssertEqual(lstat(fresh, &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFDIR)
        XCTAssertEqual(info.st_mode & 0o7777, 0o700, "made private")
        let link = base + "/link"
        XCTAssertEqual(symlink(fresh, link), 0)
        XCTAssertThrowsError(try ControlSocketLocation.prepareFolder(link)) { error in
            XCTAssertTrue("\(error)".contains("remove \(link): it is a symbolic link"), "\(error)")
        }
        XCTAssertEqual(try ControlSocketLocation.firstUsableFolder(among: [wide, link, fresh]), fresh, "the first good candidate")
        XCTAssertThrowsError(try ControlSocketLocation.firstUsableFolder(among: [wide, link])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("no usable folder for the control socket"), text)
            XCTAssertTrue(text.contains(wide) && text.contains(link), "each refusal named: \(text)")
        }
        if geteuid() == 0 {
            let foreign = base + "/foreign"
            XCTAssertEqual(mkdir(foreign, 0o700), 0)
            XCTAssertEqual(chown(foreign, 65534, 65534), 0)
            XCTAssertThrowsError(try ControlSocketLocation.prepareFolder(foreign)) { error in
                XCTAssertTrue("\(error)".contains("remove \(foreign): it is owned by uid 65534, not by you (uid 0)"), "\(error)")
            }
            XCTAssertEqual(lstat(foreign, &info), 0)
            XCTAssertEqual(info.st_uid, 65534, "never taken over")
        }
    }

    func testTheSocketFileIsCheckedAfterItIsCreated() throws {
        let (server, path) = try startServer(control: SessionControl(), statusBoard: board())
        defer { server.stop() }
        XCTAssertNoThrow(try ControlSocketLocation.checkSocketFile(path, mode: 0o600, group: nil))
        XCTAssertEqual(chmod(path, 0o666), 0)
        XCTAssertThrowsError(try ControlSocketLocation.checkSocketFile(path, mode: 0o600, group: nil)) { error in
            XCTAssertTrue("\(error)".contains("has mode 0666, not 0600"), "\(error)")
        }
        XCTAssertThrowsError(try ControlSocketLocation.checkSocketFile(NSTemporaryDirectory(), mode: 0o600, group: nil)) { error in
            XCTAssertTrue("\(error)".contains("is not a socket"), "\(error)")
        }
    }

    // MARK: SR-25: who may command, and the audit trail

    /// Every request, accepted or not, is recorded with the peer's pid/uid/gid from the kernel, and
    /// moved out by `takeAuditRecords`.
    func testEveryRequestIsAuditedWithThePeersCredentialsFromTheKernel() throws {
        let (server, path) = try startServer(control: SessionControl(), statusBoard: board(handledEverything: true))
        defer { server.stop() }
        let client = try UnixSocketConnection.connect(path: path)
        defer { client.close() }
        let before = MonotonicClock.now()
        XCTAssertEqual(try ask(client, "status")["ok"]?.boolValue, true)
        XCTAssertEqual(try ask(client, "pause")["ok"]?.boolValue, true)
        XCTAssertEqual(try ask(client, "mode passive")["ok"]?.boolValue, true, "this process's own uid may switch modes")
        XCTAssertEqual(try ask(client, "dance")["ok"]?.boolValue, false)
        let after = MonotonicClock.now()
        let records = server.takeAuditRecords()
        XCTAssertEqual(records.map(\.request), ["status", "pause", "mode passive", "dance"])
        XCTAssertEqual(records.map(\.outcome), [.accepted, .accepted, .accepted, .invalid])
        for record in records {
            XCTAssertEqual(record.pid, getpid())
            XCTAssertEqual(record.uid, geteuid())
            XCTAssertEqual(record.gid, getegid())
            XCTAssertTrue(before <= record.time && record.time <= after, "on the monotonic clock")
        }
        XCTAssertEqual(records.map(\.time), records.map(\.time).sorted())
        XCTAssertEqual(records[1].jsonObject["outcome"]?.stringValue, "accepted")
        XCTAssertEqual(server.takeAuditRecords(), [], "taken means moved out")
        XCTAssertEqual(server.droppedAuditRecords, 0)
    }

    /// Stop-class requests and status from anyone the socket lets in; reset, release, release-end,
    /// resume and mode from the session's user, root, or a member of the control group (by its gid
    /// or a supplementary group).
    func testOnlyTheSessionsUserRootOrTheControlGroupMayDoMoreThanStop() {
        let sessionUID: uid_t = 1000
        let group: gid_t = 2000
        let owner = PeerCredentials(pid: 4240, uid: 1000, gid: 1000)
        let root = PeerCredentials(pid: 1, uid: 0, gid: 0)
        let stranger = PeerCredentials(pid: 4241, uid: 1001, gid: 1001)
        let byGID = PeerCredentials(pid: 4242, uid: 1002, gid: 2000)
        let bySupplementaryGroup = PeerCredentials(pid: 4243, uid: 1003, gid: 1003, supplementaryGroups: [27, 2000])
        func permitted(_ request: ControlRequest, _ peer: PeerCredentials, _ controlGroup: gid_t?) -> Bool {
            ControlServer.isPermitted(request: request, peer: peer, sessionUID: sessionUID, controlGroup: controlGroup)
        }
        for request: ControlRequest in [.emergencyStop, .stop, .pause, .status] {
            for peer in [owner, root, stranger, byGID, bySupplementaryGroup] {
                XCTAssertTrue(permitted(request, peer, group), "\(request) from uid \(peer.uid)")
                XCTAssertTrue(permitted(request, peer, nil), "\(request) from uid \(peer.uid)")
            }
        }
        for request: ControlRequest in [.reset, .release, .releaseEnd, .resume, .mode("passive")] {
            XCTAssertTrue(permitted(request, owner, nil), "\(request)")
            XCTAssertTrue(permitted(request, root, nil), "\(request)")
            XCTAssertFalse(permitted(request, stranger, nil), "\(request)")
            XCTAssertFalse(permitted(request, stranger, group), "\(request)")
            XCTAssertTrue(permitted(request, byGID, group), "\(request)")
            XCTAssertFalse(permitted(request, byGID, nil), "\(request)")
            XCTAssertTrue(permitted(request, bySupplementaryGroup, group), "\(request)")
            XCTAssertFalse(permitted(request, bySupplementaryGroup, nil), "\(request)")
        }
        // The supplementary groups of a live process, from /proc; none when the uid does not match.
        let count = getgroups(0, nil)
        var own = [gid_t](repeating: 0, count: Int(max(count, 0)))
        XCTAssertEqual(getgroups(count, &own), count)
        let me = PeerCredentials(pid: getpid(), uid: geteuid(), gid: getegid())
        XCTAssertEqual(Set(me.readingSupplementaryGroups().supplementaryGroups), Set(own))
        let impostor = PeerCredentials(pid: getpid(), uid: geteuid() &+ 1, gid: getegid())
        XCTAssertEqual(impostor.readingSupplementaryGroups().supplementaryGroups, [])
    }

    // MARK: SR-12: estop without a target stops every session

    /// The e-stop goes to every session at once: each answers for itself; a missing one fails to
    /// connect and a mute one does not answer, without holding up the others.
    func testAnEstopBroadcastReachesEverySessionAndReportsEach() throws {
        let (first, firstPath) = try startServer(control: SessionControl(), statusBoard: board(handledEverything: true))
        defer { first.stop() }
        let (second, secondPath) = try startServer(control: SessionControl(), statusBoard: board(handledEverything: true))
        defer { second.stop() }
        let missing = NSTemporaryDirectory() + "rehabhost-nobody-\(UUID().uuidString.prefix(8)).sock"
        // Listens but never answers (a hung session).
        let mutePath = NSTemporaryDirectory() + "rehabhost-mute-\(UUID().uuidString.prefix(8)).sock"
        let mute = try UnixSocketListener(path: mutePath)
        defer { mute.close() }
        let started = MonotonicClock.now()
        let results = ControlSocketBroadcast.send("estop", to: [firstPath, mutePath, missing, secondPath],
                                                  timeoutNanoseconds: 500 * Nanoseconds.perMillisecond)
        XCTAssertLessThan(MonotonicClock.now().seconds(since: started), 2)
        XCTAssertEqual(results.map(\.path), [firstPath, mutePath, missing, secondPath])
        XCTAssertTrue(results[0].tookIt, "\(results[0])")
        XCTAssertEqual(results[1].outcome, .noAnswer)
        XCTAssertEqual(results[2].outcome, .cannotConnect(.noSuchFileOrDirectory))
        XCTAssertTrue(results[3].tookIt, "\(results[3])")
        for server in [first, second] {
            XCTAssertEqual(server.takeAuditRecords().map(\.request), ["estop"])
        }
    }
}
