import Foundation
import Profiles
import StrictJSON
import TestSupport
import XCTest

/// What a configuration path that is not a readable regular file is called: each for what it is
/// (issue 15: a FIFO was "permission denied" — and a FIFO without a writer used to hang the reader —
/// and a loop of links was "no such file").
final class ConfigurationFileTests: XCTestCase {
    private let folder = NSTemporaryDirectory() + "rehabhost-config-\(UUID().uuidString)"

    override func setUpWithError() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func reason(_ path: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try ConfigurationFile.loadObject(at: path)
            XCTFail("\(path) was read", file: file, line: line)
            return ""
        } catch {
            return error.description
        }
    }

    func testEachKindOfPathThatIsNotARegularFileIsNamedForWhatItIs() throws {
        let fifo = folder + "/profile.json"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let start = Date()
        XCTAssertEqual(reason(fifo), "\(fifo): cannot read: it is a FIFO (named pipe), not a configuration file")
        XCTAssertLessThan(Date().timeIntervalSince(start), 1, "a FIFO without a writer does not block the reader")
        XCTAssertEqual(reason("/dev/null"), "/dev/null: cannot read: it is a character device, not a configuration file")
        XCTAssertEqual(reason(folder), "\(folder): cannot read: it is a folder")
        let first = folder + "/a.json", second = folder + "/b.json"
        XCTAssertEqual(symlink(second, first), 0)
        XCTAssertEqual(symlink(first, second), 0)
        XCTAssertEqual(reason(first), "\(first): cannot read: a loop of symbolic links (or too many links in a row)")
        XCTAssertEqual(reason(folder + "/missing.json"), "\(folder)/missing.json: no such file")
        let dangling = folder + "/dangling.json"
        XCTAssertEqual(symlink(folder + "/nowhere.json", dangling), 0)
        XCTAssertEqual(reason(dangling), "\(dangling): no such file")
    }

    func testARegularFileThroughALinkIsRead() throws {
        let target = folder + "/real.json", link = folder + "/link.json"
        try #"{"a": 1}"#.write(toFile: target, atomically: true, encoding: .utf8)
        XCTAssertEqual(symlink(target, link), 0)
        XCTAssertEqual(try ConfigurationFile.loadObject(at: link)["a"]?.integerValue, 1)
    }

    func testAFileLargerThanTheLimitIsRefusedWithoutReadingItAll() throws {
        let big = folder + "/big.json"
        XCTAssertTrue(FileManager.default.createFile(atPath: big, contents: nil))
        XCTAssertEqual(truncate(big, off_t(ConfigurationFile.maximumBytes + 1)), 0)
        XCTAssertEqual(reason(big), "\(big): cannot read: larger than 4 MiB")
    }

    /// A watchdog the device cannot be asked for exactly (it takes whole microseconds) is refused
    /// in the profile, instead of "asked 49999 µs, device reports 49999 µs; refusing" at enable.
    func testAWatchdogFinerThanAMicrosecondIsRefusedInTheProfile() throws {
        var text = try String(contentsOf: RepositoryPaths.file("hardware/wrist-trainer.json"), encoding: .utf8)
        XCTAssertTrue(text.contains(#""watchdog_period_ms": 20"#))
        text = text.replacingOccurrences(of: #""watchdog_period_ms": 20"#, with: #""watchdog_period_ms": 49.9999999"#)
        let path = folder + "/fine.json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try HardwareProfileLoader.load(path: path)) { error in
            XCTAssertTrue("\(error)".contains("device.watchdog_period_ms: 49.9999999 ms is not a whole number of microseconds"), "\(error)")
        }
        try text.replacingOccurrences(of: "49.9999999", with: "49.999").write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try HardwareProfileLoader.load(path: path).device.watchdogPeriodNanoseconds, 49_999_000)
    }
}
