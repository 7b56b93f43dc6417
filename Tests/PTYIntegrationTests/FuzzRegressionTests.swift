import Foundation
import TestSupport
import XCTest

/// Issue 15: the fuzz targets' seed corpora (Fuzz/corpus/TARGET) and every crash the fuzzer found,
/// minimised (Fuzz/regressions/TARGET, `scripts/fuzz.sh --minimize`), replayed through the same
/// targets without libFuzzer by the `rehabfuzz` the normal build makes. A regression input traps
/// until its bug is fixed; a seed corpus whose inputs stop getting past the first check (a format
/// change) shows here too. docs/reliability.md has the campaign.
final class FuzzRegressionTests: XCTestCase {
    /// Every fuzz target, as `rehabfuzz --list` prints them.
    static let targets = ["rehablink", "rehabref", "json", "profile", "exercise", "faults", "mcap", "dynamixel", "xsens", "bno08x", "ndi"]

    func testTheReplayerHasEveryTargetAndEveryTargetASeedCorpus() throws {
        let run = try ProgramRun.run("rehabfuzz", ["--list"])
        XCTAssertEqual(run.exitCode, 0, run.standardError)
        XCTAssertEqual(run.standardOutput.split(separator: "\n").map(String.init), Self.targets)
        for target in Self.targets {
            XCTAssertGreaterThan(try inputs(in: "Fuzz/corpus/\(target)"), 0, "Fuzz/corpus/\(target) has no seed")
            var isFolder: ObjCBool = false
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: RepositoryPaths.file("Fuzz/regressions/\(target)").path, isDirectory: &isFolder)
                    && isFolder.boolValue, "Fuzz/regressions/\(target) is missing (it holds the target's minimised crashes)")
        }
    }

    func testEverySeedAndEveryMinimisedCrashReplaysWithoutATrap() throws {
        for target in Self.targets {
            let corpus = "Fuzz/corpus/\(target)"
            let regressions = "Fuzz/regressions/\(target)"
            let expected = try inputs(in: corpus) + inputs(in: regressions)
            let run = try ProgramRun.run(
                "rehabfuzz", [target, RepositoryPaths.file(corpus).path, RepositoryPaths.file(regressions).path], timeoutSeconds: 300)
            // A trap names the input last on standard error ("rehabfuzz: TARGET PATH (N bytes)").
            XCTAssertEqual(run.exitCode, 0, "\(target): \(run.standardError.suffix(3_000))")
            guard let counts = Self.counts(run.standardOutput, target: target) else {
                XCTFail("\(target): no summary line in \(run.standardOutput)")
                continue
            }
            XCTAssertEqual(counts.inputs, expected, "\(target): \(run.standardOutput)")
            // The seeds exist to take the fuzzer past the first check: at least one must get there.
            XCTAssertGreaterThan(counts.accepted, 0, "\(target): no seed got past the first check: \(run.standardOutput)")
        }
    }

    /// scripts/fuzz.sh knows the same targets and refuses bad use before it builds anything.
    func testTheFuzzScriptParsesAndKnowsEveryTarget() throws {
        let script = RepositoryPaths.file("scripts/fuzz.sh").path
        let parse = try ProgramRun.run("/bin/bash", ["-n", script])
        XCTAssertEqual(parse.exitCode, 0, parse.standardError)
        let list = try ProgramRun.run(script, ["--list"])
        XCTAssertEqual(list.exitCode, 0, list.standardError)
        XCTAssertEqual(list.standardOutput.split(separator: "\n").map(String.init), Self.targets)
        XCTAssertEqual(try ProgramRun.run(script, ["no-such-target", "10"]).exitCode, 64)
        XCTAssertEqual(try ProgramRun.run(script, ["json", "0"]).exitCode, 64)
        XCTAssertEqual(try ProgramRun.run(script, []).exitCode, 64)
    }

    func testTheReplayerRefusesAnUnknownTargetAndAMissingPath() throws {
        let unknown = try ProgramRun.run("rehabfuzz", ["no-such-target", RepositoryPaths.file("Fuzz/corpus/json").path])
        XCTAssertEqual(unknown.exitCode, 64, unknown.standardError)
        XCTAssertTrue(unknown.standardError.contains("unknown target"), unknown.standardError)
        let missing = try ProgramRun.run("rehabfuzz", ["json", RepositoryPaths.file("Fuzz/corpus/no-such-folder").path])
        XCTAssertEqual(missing.exitCode, 66, missing.standardError)
    }

    /// Files the replayer takes from `relativeFolder`: regular files, not hidden ones (.gitkeep).
    private func inputs(in relativeFolder: String) throws -> Int {
        let folder = RepositoryPaths.file(relativeFolder).path
        return try FileManager.default.contentsOfDirectory(atPath: folder).filter { name in
            var isFolder: ObjCBool = false
            return !name.hasPrefix(".") && FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isFolder)
                && !isFolder.boolValue
        }.count
    }

    /// "rehabfuzz replay TARGET: N inputs, A accepted, R rejected" → (N, A).
    private static func counts(_ output: String, target: String) -> (inputs: Int, accepted: Int)? {
        let prefix = "rehabfuzz replay \(target): "
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix(prefix) }) else { return nil }
        let words = line.dropFirst(prefix.count).split(separator: " ")
        guard words.count >= 4, let inputs = Int(words[0]), let accepted = Int(words[2]) else { return nil }
        return (inputs, accepted)
    }
}
