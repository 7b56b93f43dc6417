import Foundation
import TestSupport
import XCTest

/// The PTY tests' scratch folders: kept for a failed test (its black boxes are the evidence), removed for a passed one.
final class FailedTestArtifactsTests: XCTestCase {
    func testAFailedTestsFolderIsKeptAndAPassedOnesRemoved() throws {
        let name = "artifacts-probe-\(UUID().uuidString)"
        let passed = NSTemporaryDirectory() + name + "-passed"
        let failed = NSTemporaryDirectory() + name + "-failed"
        for folder in [passed, failed] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data("evidence".utf8).write(to: URL(fileURLWithPath: folder + "/black-box.jsonl"))
        }
        FailedTestArtifacts.settle(passed, testName: name, failed: false)
        FailedTestArtifacts.settle(failed, testName: name, failed: true)
        XCTAssertFalse(FileManager.default.fileExists(atPath: passed))
        XCTAssertFalse(FileManager.default.fileExists(atPath: failed), "moved, not copied")
        let kept = try FileManager.default.contentsOfDirectory(atPath: FailedTestArtifacts.directory.path).filter { $0.hasPrefix(name) }
        XCTAssertEqual(kept.count, 1, "\(kept)")
        let keptFolder = FailedTestArtifacts.directory.appendingPathComponent(try XCTUnwrap(kept.first))
        XCTAssertEqual(try String(contentsOf: keptFolder.appendingPathComponent("black-box.jsonl"), encoding: .utf8), "evidence")
        try FileManager.default.removeItem(at: keptFolder)
    }
}
