import Foundation
import Glibc
import Platform
import Primitives
import Synchronization

/// The live line `scenario run` keeps at the bottom of a terminal on a long run: how many scenarios
/// are done of how many, a bar, the time so far, and the scenario running now with its own time
/// (`[########------------]  14/62  2m31s  mode-mirror 8s`). Redrawn four times a second from a
/// thread of its own once the run has lasted two seconds; each result line is written above it. Only
/// on a terminal: a CI log gets the result lines alone.
final class ScenarioProgressBar: Sendable {
    private struct State {
        var done = 0
        var current: String?
        var currentStarted: MonotonicInstant?
        var drawn = false
        var stopped = false
    }

    private let descriptor: Int32
    private let total: Int
    private let started: MonotonicInstant
    private let state = Mutex(State())
    /// A run shorter than this gets no bar (virtual time runs a scenario in milliseconds).
    static let delaySeconds = 2.0
    static let width = 24

    /// A bar on `descriptor` for `total` scenarios; nil when it is not a terminal.
    init?(total: Int, descriptor: Int32) {
        guard isatty(descriptor) == 1, total > 0 else { return nil }
        self.descriptor = descriptor
        self.total = total
        started = MonotonicClock.now()
        let thread = Thread { [self] in
            while true {
                usleep(250_000)
                if !redraw() { return }
            }
        }
        thread.name = "rh-progress"
        thread.start()
    }

    /// Scenario `name` starts.
    func begin(_ name: String) {
        state.withLock {
            $0.current = name
            $0.currentStarted = MonotonicClock.now()
        }
    }

    /// Writes `line` above the bar (which the next tick draws again); the running scenario is done
    /// when `finishes`.
    func print(_ line: String, finishes: Bool = false) {
        state.withLock { state in
            if finishes {
                state.done += 1
                state.current = nil
            }
            write((state.drawn ? "\r\u{1B}[K" : "") + line + "\n")
            state.drawn = false
        }
    }

    /// Takes the bar away for good.
    func stop() {
        state.withLock { state in
            if state.drawn { write("\r\u{1B}[K") }
            state.drawn = false
            state.stopped = true
        }
    }

    /// Draws the bar; false once stopped.
    private func redraw() -> Bool {
        state.withLock { state in
            guard !state.stopped else { return false }
            let now = MonotonicClock.now()
            let elapsed = now.seconds(since: started)
            guard elapsed >= Self.delaySeconds else { return true }
            let filled = min(Self.width, Self.width * state.done / total)
            var text = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: Self.width - filled) + "]"
            text += "  \(state.done)/\(total)  \(Self.duration(elapsed))"
            if let name = state.current, let since = state.currentStarted {
                text += "  \(name) \(Self.duration(now.seconds(since: since)))"
            }
            write("\r\u{1B}[K" + text)
            state.drawn = true
            return true
        }
    }

    private func write(_ text: String) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { _ = Glibc.write(descriptor, $0.baseAddress, $0.count) }
    }

    /// "8s", "2m31s".
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds)
        return whole < 60 ? "\(whole)s" : "\(whole / 60)m\(String(format: "%02d", whole % 60))s"
    }
}
