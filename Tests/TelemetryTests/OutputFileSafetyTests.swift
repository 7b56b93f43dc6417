import Control
import DeviceModel
import Foundation
import Platform
import Primitives
import Telemetry
import XCTest

/// Output files — a report, a recovered recording, CSV exports (`DurableFile`), a black box, a
/// recording (`AppendOnlyFile` under `TelemetryRecorder`) — are only ever written as regular files:
/// a planted symbolic link is never followed, a link, device or FIFO at the target is refused and
/// left as it is, the temporary never stays behind, and patient data is created 0600.
final class OutputFileSafetyTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "rehabhost-output-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    // MARK: Helpers

    private func text(_ path: String) -> String? {
        try? String(contentsOfFile: path, encoding: .utf8)
    }

    /// The file type bits of what is at `path` (`lstat`: a link is a link); nil when nothing is.
    private func fileType(_ path: String) -> mode_t? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        return status.st_mode & S_IFMT
    }

    /// The permission bits of the file at `path`.
    private func permissions(_ path: String) -> mode_t? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        return status.st_mode & 0o777
    }

    /// Every entry of `directory` (hidden ones included), sorted.
    private func entries(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    private func recorder(_ path: String) -> TelemetryRecorder {
        let encoder = TelemetryEncoder(jointNames: ["a"], rateHertz: 1_000, sessionMetadata: [], monotonicOrigin: .zero, unixOriginNanoseconds: 0)
        return TelemetryRecorder(path: path, ring: TelemetryRing(capacity: 64), encoder: encoder, onFailure: { _ in })
    }

    // MARK: DurableFile (report, recover, export, black box)

    /// The review's `ln -s v.txt out.html.partial; rehabctl report x.mcap -o out.html`: the old fixed
    /// temporary name was opened without O_EXCL | O_NOFOLLOW and wrote through the link.
    func testASymbolicLinkPlantedAtTheOldPartialNameIsNeverFollowed() throws {
        let victim = folder + "/v.txt"
        try "victim".write(toFile: victim, atomically: false, encoding: .utf8)
        let output = folder + "/out.html"
        XCTAssertEqual(symlink(victim, output + ".partial"), 0)
        try DurableFile.write("<html>report</html>", to: output)
        XCTAssertEqual(text(victim), "victim", "the link's target is unchanged")
        XCTAssertEqual(text(output), "<html>report</html>", "the output is written")
        XCTAssertEqual(fileType(output), S_IFREG)
        XCTAssertEqual(fileType(output + ".partial"), S_IFLNK, "the planted link is left alone")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: output + ".partial"), victim)

        // The same for a recovered recording (0600), written with save.
        let rescued = folder + "/rescued.mcap"
        XCTAssertEqual(symlink(victim, rescued + ".partial"), 0)
        try DurableFile.save(bytes: [1, 2, 3], to: rescued, mode: 0o600)
        XCTAssertEqual(text(victim), "victim")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: rescued)), Data([1, 2, 3]))
        XCTAssertEqual(permissions(rescued), 0o600)
        XCTAssertEqual(entries(folder), ["out.html", "out.html.partial", "rescued.mcap", "rescued.mcap.partial", "v.txt"], "no temporary left")
    }

    func testATargetThatIsASymbolicLinkToAFileIsRefusedAndItsTargetIsUnchanged() throws {
        let victim = folder + "/v.txt"
        try "victim".write(toFile: victim, atomically: false, encoding: .utf8)
        let output = folder + "/out.html"
        XCTAssertEqual(symlink(victim, output), 0)
        XCTAssertThrowsError(try DurableFile.write("new", to: output), "the Errno API refuses it too") { error in
            XCTAssertEqual((error as? Errno)?.rawValue, ELOOP)
        }
        XCTAssertThrowsError(try DurableFile.save("new", to: output)) { error in
            XCTAssertEqual((error as? OutputFileError)?.problem, .notARegularFile(.symbolicLink))
            XCTAssertTrue("\(error)".contains("cannot write \(output): it is a symbolic link, not a regular file"), "\(error)")
        }
        XCTAssertThrowsError(try DurableFile.checkOutputPath(output), "refused before any work")
        XCTAssertEqual(text(victim), "victim", "the link's target is unchanged")
        XCTAssertEqual(fileType(output), S_IFLNK, "the link is not replaced")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: output), victim)
        XCTAssertEqual(entries(folder), ["out.html", "v.txt"], "no temporary left")
    }

    func testAFIFOTargetIsRefusedAtOnce() throws {
        let fifo = folder + "/out.html"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let started = MonotonicClock.now()
        XCTAssertThrowsError(try DurableFile.save("x", to: fifo)) { error in
            XCTAssertEqual((error as? OutputFileError)?.problem, .notARegularFile(.fifo))
        }
        XCTAssertThrowsError(try DurableFile.write(bytes: [1], to: fifo))
        // A recording is not opened on it either. A reader is held open so that a writer opening the
        // FIFO would not wait for one: without the fix this does not hang, it writes into the FIFO.
        let reader = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(reader, 0)
        defer { close(reader) }
        XCTAssertThrowsError(try AppendOnlyFile(creating: fifo)) { error in
            XCTAssertEqual((error as? Errno)?.rawValue, EEXIST)
        }
        XCTAssertLessThan(Double(MonotonicClock.now().nanoseconds(since: started)) / 1e9, 1, "refused at once, no wait for a reader")
        XCTAssertEqual(fileType(fifo), S_IFIFO, "still a FIFO")
        XCTAssertEqual(entries(folder), ["out.html"], "no temporary left")
    }

    /// `rehabctl recover x.mcap -o /dev/full`, run as root, replaced the system's /dev/full. /dev/null
    /// is only looked at here: the check must refuse it before anything could be written.
    func testADeviceNodeTargetIsRefusedAndStaysACharacterDevice() throws {
        let device = "/dev/null"
        XCTAssertEqual(fileType(device), S_IFCHR)
        var refusal: OutputFileError?
        do throws(OutputFileError) {
            try DurableFile.checkOutputPath(device)
        } catch {
            refusal = error
        }
        guard let refusal else {
            XCTFail("\(device) was not refused: nothing more is tried on it")
            return
        }
        XCTAssertEqual(refusal.problem, .notARegularFile(.characterDevice))
        XCTAssertTrue(refusal.description.contains("it is a character device, not a regular file"), refusal.description)
        XCTAssertThrowsError(try DurableFile.save("x", to: device)) { error in
            XCTAssertEqual((error as? OutputFileError)?.problem, .notARegularFile(.characterDevice))
        }
        XCTAssertThrowsError(try DurableFile.save(bytes: [1], to: device, mode: 0o600))
        XCTAssertEqual(fileType(device), S_IFCHR, "still a character device")
        XCTAssertEqual(entries("/dev").filter { $0.hasPrefix(".null.") || $0.hasPrefix("null.") }, [], "no temporary in /dev")
    }

    func testTheTemporaryNeverStaysBehindAfterSuccessOrFailure() throws {
        let output = folder + "/joint_state.csv"
        // Success: a new file, then an existing regular file replaced.
        try DurableFile.save("first\n", to: output)
        try DurableFile.save("second\n", to: output)
        XCTAssertEqual(text(output), "second\n")
        XCTAssertEqual(entries(folder), ["joint_state.csv"])

        // Refused: a folder in the target's place.
        let directory = folder + "/loop_timing.csv"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        XCTAssertThrowsError(try DurableFile.save("x", to: directory)) { error in
            XCTAssertEqual((error as? OutputFileError)?.problem, .notARegularFile(.directory))
        }
        XCTAssertEqual(entries(folder), ["joint_state.csv", "loop_timing.csv"])
        XCTAssertEqual(entries(directory), [])

        // Failed after the temporary was made: writes beyond 16 bytes fail (RLIMIT_FSIZE → EFBIG;
        // SIGXFSZ caught meanwhile). Both are restored before anything is asserted or printed.
        var limit = rlimit()
        XCTAssertEqual(getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit), 0)
        var original = limit
        var ignore = sigaction()
        ignore.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&ignore.sa_mask)
        var previousAction = sigaction()
        sigaction(SIGXFSZ, &ignore, &previousAction)
        limit.rlim_cur = 16
        let limited = setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit)
        var failure: OutputFileError?
        do throws(OutputFileError) {
            try DurableFile.save(bytes: [UInt8](repeating: 0x41, count: 4_096), to: output, mode: 0o600)
        } catch {
            failure = error
        }
        setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &original)
        sigaction(SIGXFSZ, &previousAction, nil)
        XCTAssertEqual(limited, 0)
        XCTAssertEqual(failure?.problem, .system(Errno(rawValue: EFBIG)))
        XCTAssertEqual(text(output), "second\n", "the earlier file is untouched")
        XCTAssertEqual(entries(folder), ["joint_state.csv", "loop_timing.csv"], "the temporary is removed")
    }

    // MARK: Black box and recording (patient data)

    func testABlackBoxIsWrittenWithMode0600AndNoTemporary() throws {
        let box = BlackBox(jointCount: 1, rateHertz: 1_000, seconds: 0.02, postTriggerSeconds: 0.001)
        for cycle in 0..<30 {
            var frame = TelemetryFrame(jointCount: 1)
            frame.cycle = Int64(cycle)
            frame.time = MonotonicInstant(nanoseconds: Int64(cycle) * 1_000_000)
            if cycle == 20 { box.triggered(cycle: 20, trip: nil, state: .fault) }
            box.record(frame, transitions: [])
        }
        XCTAssertTrue(box.hasPendingDump)
        let directory = folder + "/blackbox"
        let path = try XCTUnwrap(box.writePendingDump(to: directory, jointNames: ["a"], sessionMetadata: []), box.lastWriteError ?? "")
        XCTAssertEqual(permissions(path), 0o600, "patient data: owner only")
        XCTAssertEqual(fileType(path), S_IFREG)
        XCTAssertEqual(entries(directory), [(path as NSString).lastPathComponent], "no temporary left")
        XCTAssertTrue(try MCAPFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path)))).isComplete)
    }

    func testARecordingIsCreatedNewWithMode0600AndNeverWrittenOverAnything() throws {
        let path = folder + "/session.mcap"
        let figures = recorder(path).finish(metrics: nil, at: .zero)
        XCTAssertNil(figures.failure)
        XCTAssertEqual(permissions(path), 0o600, "patient data: owner only")
        XCTAssertTrue(try MCAPFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path)))).isComplete)

        // An earlier recording is never overwritten.
        let earlier = folder + "/earlier.mcap"
        try "earlier session".write(toFile: earlier, atomically: false, encoding: .utf8)
        let refused = recorder(earlier).finish(metrics: nil, at: .zero)
        XCTAssertTrue(refused.failure?.contains("it exists (a regular file)") == true, refused.failure ?? "no failure")
        XCTAssertEqual(text(earlier), "earlier session")

        // A symbolic link is not followed, even to a file that does not exist yet.
        let victim = folder + "/v.txt"
        try "victim".write(toFile: victim, atomically: false, encoding: .utf8)
        let linked = folder + "/linked.mcap"
        XCTAssertEqual(symlink(victim, linked), 0)
        let dangling = folder + "/dangling.mcap"
        XCTAssertEqual(symlink(folder + "/created-through-the-link", dangling), 0)
        for link in [linked, dangling] {
            let outcome = recorder(link).finish(metrics: nil, at: .zero)
            XCTAssertTrue(outcome.failure?.contains("it exists (a symbolic link)") == true, outcome.failure ?? "no failure")
            XCTAssertEqual(fileType(link), S_IFLNK)
        }
        XCTAssertEqual(text(victim), "victim", "the link's target is unchanged")
        XCTAssertNil(fileType(folder + "/created-through-the-link"), "nothing created through a dangling link")
        XCTAssertEqual(entries(folder), ["dangling.mcap", "earlier.mcap", "linked.mcap", "session.mcap", "v.txt"])
    }
}
