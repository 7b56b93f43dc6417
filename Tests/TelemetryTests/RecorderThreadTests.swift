import Foundation
import Platform
import Primitives
import Telemetry
import XCTest

/// The recorder's writer thread, started from the control thread, must not inherit its real-time
/// priority or its CPU (it would then compete with the loop it serves).
final class RecorderThreadTests: XCTestCase {
    /// (scheduling policy, allowed CPUs) of this process's thread named `name`, from /proc.
    private static func threadInfo(named name: String) -> (policy: Int, cpus: String)? {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return nil }
        for task in tasks {
            let comm = (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            guard comm == name, let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
                let status = try? String(contentsOfFile: "/proc/self/task/\(task)/status", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // Fields after "(comm)" start at field 3; the policy is field 41.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            let cpus = status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }?.split(separator: "\t").last.map(String.init) ?? ""
            return (Int(fields[38]) ?? -1, cpus)
        }
        return nil
    }

    func testTheWriterThreadRunsAtNormalPriorityOffTheLoopsCPU() throws {
        guard Realtime.onlineCPUCount > 1 else { throw XCTSkip("needs two CPUs to move off one") }
        let path = NSTemporaryDirectory() + "rehabhost-thread-\(UUID().uuidString).mcap"
        defer { unlink(path) }
        let ring = TelemetryRing(capacity: 64)
        let seen = ThreadResult<(policy: Int, cpus: String, fifo: Bool)>()
        let control = ControlThread.start(name: "test-loop") {
            let report = Realtime.apply(RealtimeRequest(priority: 80, lockMemory: false, cpu: 0, holdCPUDMALatency: false))
            let encoder = TelemetryEncoder(jointNames: ["a"], rateHertz: 1_000, sessionMetadata: [], monotonicOrigin: .zero, unixOriginNanoseconds: 0)
            let recorder = TelemetryRecorder(path: path, ring: ring, encoder: encoder, onFailure: { _ in })
            recorder.start()
            var info: (policy: Int, cpus: String)?
            for _ in 0..<200 where info == nil || info?.cpus == "0" || info?.policy != 0 {
                usleep(5_000)
                info = Self.threadInfo(named: "rh-recorder")
            }
            _ = recorder.finish(metrics: nil, at: .zero)
            seen.value = (info?.policy ?? -1, info?.cpus ?? "?", report.schedFIFO)
        }
        control.join()
        let result = try XCTUnwrap(seen.value)
        XCTAssertEqual(result.policy, 0, "SCHED_OTHER (the loop had SCHED_FIFO: \(result.fifo))")
        XCTAssertFalse(result.cpus == "0", "not pinned to the loop's CPU 0 (allowed: \(result.cpus))")
        XCTAssertFalse(result.cpus.isEmpty)
    }
}
