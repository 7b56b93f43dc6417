import Foundation

/// The one way a test repeats a run that the host disturbed (a host stall on this shared VM: SR-1/SR-14
/// stopping a session, a FAIR hold, a watchdog fired by a starved test thread, two signals merged into
/// one). Every repetition is printed and counted: when `REHABHOST_PTY_RETRY_LOG` names a file, it gets
/// one line per repetition, and `scripts/run-tests.sh` fails a run whose total exceeds the budget
/// stated in the README, so that a regression cannot hide behind a later attempt.
///
/// A line is `TEST<TAB>ATTEMPT<TAB>REASON<LF>`: the test as `Class/testMethod`, the attempt that was
/// spoiled (1 for the first run), and the reason on one line (at most 300 characters). The file is
/// opened with O_APPEND and each line written with a single write(2), so lines of parallel test
/// processes never interleave. A test whose every attempt was spoiled records its last one too (it
/// fails anyway).
public enum HostStallRetries {
    /// The environment variable that names the log (set by scripts/run-tests.sh for `make test`).
    public static let logVariable = "REHABHOST_PTY_RETRY_LOG"

    /// Records that attempt `attempt` of the calling test is repeated because of `reason`: prints it
    /// (and `details`, e.g. a program's whole standard error, which the log does not get) and appends
    /// one line to the log when it is set. `file` and `function` name the test: a helper that retries
    /// takes them from its caller and passes them on.
    public static func record(
        attempt: Int, _ reason: String, details: String = "", file: String = #fileID, function: String = #function
    ) {
        let test = testName(file: file, function: function)
        print("\(test): attempt \(attempt) repeated (counted as a PTY host-stall retry): \(reason)\(details.isEmpty ? "" : "\n" + details)")
        guard let value = getenv(logVariable), value.pointee != 0 else { return }
        let path = String(cString: value)
        var line = oneLine(reason)
        if line.count > 300 { line = String(line.prefix(299)) + "…" }
        let bytes = Array("\(test)\t\(attempt)\t\(line)\n".utf8)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            print("\(logVariable)=\(path): cannot open (errno \(errno)); this retry is not counted")
            return
        }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if written != bytes.count { print("\(logVariable)=\(path): short write (\(written) of \(bytes.count) bytes)") }
    }

    /// `PTYIntegrationTests/SafetyProcessTests.swift` and `testFoo()` -> `SafetyProcessTests/testFoo`.
    static func testName(file: String, function: String) -> String {
        var type = file.split(separator: "/").last.map(String.init) ?? file
        if type.hasSuffix(".swift") { type.removeLast(".swift".count) }
        var method = function
        if method.hasSuffix("()") { method.removeLast(2) }
        return "\(type)/\(method)"
    }

    /// Newlines and tabs become visible separators: one record, one line, three fields.
    static func oneLine(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "\r", with: "")
            .replacingOccurrences(of: "\n", with: " ⏎ ")
            .replacingOccurrences(of: "\t", with: " ")
    }
}
