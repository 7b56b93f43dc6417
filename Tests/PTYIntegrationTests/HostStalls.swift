import Control
import DeviceModel
import Session
import StrictJSON
import TestSupport

/// Real-time sessions over a real PTY on a shared VM: the host sometimes holds the loop or the tty
/// layer up for 8–11 ms (cyclictest sees the same), and SR-1/SR-14 then stop the session, as they
/// must. Tests of something else (an exit code, a link loss) repeat such a run, printing it and
/// counting it against the run's budget (`HostStallRetries`; `file` and `function` name the test).
func retryingHostStalls(
    attempts: Int = 8, fairSpoiled: ((SessionReport) -> Bool)? = nil, file: String = #fileID, function: String = #function,
    _ run: () throws -> SessionReport
) throws -> SessionReport {
    var attempt = 1
    while true {
        do {
            let report = try run()
            guard attempt < attempts else { return report }
            // The device's own watchdog (SR-3, reported as SR-11) is the same stall seen from the device.
            if let first = report.safetyEvents.first, first.cause.isTimingInterlock || first.cause == .deviceWatchdogExpired {
                HostStallRetries.record(
                    attempt: attempt, "host stall (\(first.cause.rawValue), \(first.value)) stopped the session", file: file, function: function)
            } else if let fairSpoiled, let quality = report.linkQuality, quality.fairEpisodes > 0, fairSpoiled(report) {
                // A test that checks the plan's motion itself: a FAIR hold (a host stall the watchdog
                // covered) replans the rest of a short exercise; when it spoiled what the test measures
                // (`fairSpoiled`), the run measured the stall.
                HostStallRetries.record(
                    attempt: attempt, "host stall: SR-1 FAIR held the plan (\(quality.secondsFair) s in \(quality.fairEpisodes) episodes)",
                    file: file, function: function)
            } else if let quality = report.linkQuality, quality.poorEpisodes > 0 {
                // SR-1 POOR is a host that kept missing its deadlines: the pause waits for an operator
                // that a test does not have, and the exercise never ran.
                HostStallRetries.record(
                    attempt: attempt, "host stall: SR-1 POOR paused the session (FAIR \(quality.secondsFair) s in \(quality.fairEpisodes) episodes)",
                    file: file, function: function)
            } else {
                return report
            }
        } catch where attempt < attempts && "\(error)".contains(ProgramRun.startUpStallMarker) {
            // The start-up checks name a stall as such (the direction test's silence or device watchdog).
            recordStartUpStall(error, attempt: attempt, file: file, function: function)
        }
        attempt += 1
    }
}

/// The same for a program's JSON session report: repeats while its first safety event is a timing
/// trip, or while the run printed no report because a start-up check named a stall (`NoReport`).
func retryingHostStalls(
    attempts: Int = 8, file: String = #fileID, function: String = #function, _ run: () throws -> (exitCode: Int32, report: JSONObject)
) throws -> (exitCode: Int32, report: JSONObject) {
    var attempt = 1
    while true {
        do {
            let result = try run()
            guard attempt < attempts else { return result }
            let quality = result.report["link_quality"]?.objectValue
            if let name = result.report["safety_events"]?.arrayValue?.first?.objectValue?["cause"]?.stringValue,
                SafetyCause(rawValue: name)?.isTimingInterlock == true
            {
                HostStallRetries.record(attempt: attempt, "host stall (\(name)) stopped the session", file: file, function: function)
            } else if let pauses = quality?["poor_episodes"]?.integerValue, pauses > 0 {
                HostStallRetries.record(attempt: attempt, "host stall: SR-1 POOR paused the session \(pauses) time(s)", file: file, function: function)
            } else {
                return result
            }
        } catch where attempt < attempts && "\(error)".contains(ProgramRun.startUpStallMarker) {
            recordStartUpStall(error, attempt: attempt, file: file, function: function)
        }
        attempt += 1
    }
}

/// Counts a run that a start-up check refused because of a stall: its line in the log is the check's
/// own message; the whole error (a program's standard error) is printed.
private func recordStartUpStall(_ error: any Error, attempt: Int, file: String, function: String) {
    let text = "\(error)"
    let line = text.split(separator: "\n").first { $0.contains(ProgramRun.startUpStallMarker) }.map(String.init) ?? text
    HostStallRetries.record(attempt: attempt, "host stall during start-up: \(line)", details: text, file: file, function: function)
}

/// A program that printed no JSON report; its standard error says why (a start-up check that a
/// host stall spoiled says so, with `ProgramRun.startUpStallMarker`).
struct NoReport: Error, CustomStringConvertible {
    let exitCode: Int32
    let standardError: String
    var description: String { "no report (exit \(exitCode)); standard error:\n\(standardError)" }
}
