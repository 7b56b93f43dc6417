import Control
import Session
import StrictJSON
import TestSupport

/// Real-time sessions over a real PTY on a shared VM: the host sometimes holds the loop or the tty
/// layer up for 8–11 ms (cyclictest sees the same), and SR-1/SR-14 then stop the session, as they
/// must. Tests of something else (an exit code, a link loss) repeat such a run, printing it.
func retryingHostStalls(attempts: Int = 8, _ run: () throws -> SessionReport) throws -> SessionReport {
    var attempt = 1
    while true {
        do {
            let report = try run()
            // The device's own watchdog (SR-3, reported as SR-11) is the same stall seen from the device.
            guard attempt < attempts, let first = report.safetyEvents.first,
                first.cause.isTimingInterlock || first.cause == .deviceWatchdogExpired
            else { return report }
            print("host stall (\(first.cause.rawValue), \(first.value)) stopped attempt \(attempt); retrying")
        } catch where attempt < attempts && "\(error)".contains(ProgramRun.startUpStallMarker) {
            // The start-up checks name a stall as such (the direction test's silence or device watchdog).
            print("host stall during start-up stopped attempt \(attempt) (\(error)); retrying")
        }
        attempt += 1
    }
}

/// The same for a program's JSON session report: repeats while its first safety event is a timing
/// trip, or while the run printed no report because a start-up check named a stall (`NoReport`).
func retryingHostStalls(
    attempts: Int = 8, _ run: () throws -> (exitCode: Int32, report: JSONObject)
) throws -> (exitCode: Int32, report: JSONObject) {
    var attempt = 1
    while true {
        do {
            let result = try run()
            guard attempt < attempts, let name = result.report["safety_events"]?.arrayValue?.first?.objectValue?["cause"]?.stringValue,
                SafetyCause(rawValue: name)?.isTimingInterlock == true
            else { return result }
            print("host stall (\(name)) stopped attempt \(attempt); retrying")
        } catch where attempt < attempts && "\(error)".contains(ProgramRun.startUpStallMarker) {
            print("host stall during start-up stopped attempt \(attempt) (\(error)); retrying")
        }
        attempt += 1
    }
}

/// A program that printed no JSON report; its standard error says why (a start-up check that a
/// host stall spoiled says so, with `ProgramRun.startUpStallMarker`).
struct NoReport: Error, CustomStringConvertible {
    let exitCode: Int32
    let standardError: String
    var description: String { "no report (exit \(exitCode)); standard error:\n\(standardError)" }
}
