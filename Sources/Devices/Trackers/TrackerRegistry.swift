import DeviceModel
import Platform
import Primitives
import Profiles
import Transport
import Wire

/// The tracker protocols this build speaks, by a tracker profile's `protocol`: one entry per
/// protocol makes a `SerialTracker` for a profile on a link (as `DriverRegistry` does for actuated devices).
public struct TrackerRegistry: Sendable {
    public struct Entry: Sendable {
        public var protocolIdentifier: String
        public var summary: String
        /// Whether its samples carry a tool position (what SR-16's workspace needs).
        public var reportsPosition: Bool
        /// What this protocol cannot do of a profile (a rate the sensor does not have, a line too slow for its frames).
        public var checkProfile: @Sendable (TrackerProfile) -> [String]
        public var makeProtocol: @Sendable (TrackerProfile) -> TrackerProtocol

        public init(
            protocolIdentifier: String, summary: String, reportsPosition: Bool, checkProfile: @escaping @Sendable (TrackerProfile) -> [String],
            makeProtocol: @escaping @Sendable (TrackerProfile) -> TrackerProtocol
        ) {
            self.protocolIdentifier = protocolIdentifier
            self.summary = summary
            self.reportsPosition = reportsPosition
            self.checkProfile = checkProfile
            self.makeProtocol = makeProtocol
        }
    }

    public private(set) var entries: [Entry]

    public static let standard = TrackerRegistry(entries: [
        Entry(
            protocolIdentifier: "xsens/xbus", summary: "Xsens MTi IMUs, Xbus / MTData2 over serial", reportsPosition: false,
            checkProfile: { profile in
                var problems = lineBudget(profile, frameBytes: XsensTrackerProtocol.measurementFrameBytes)
                if profile.rateHertz != profile.rateHertz.rounded() || 400.0.truncatingRemainder(dividingBy: profile.rateHertz) != 0 {
                    problems.append("rate_hz: an MTi outputs at whole divisors of its 400 Hz, not \(profile.rateHertz) Hz")
                }
                return problems
            },
            makeProtocol: { _ in XsensTrackerProtocol() }),
        Entry(
            protocolIdentifier: "bno08x/uart-rvc", summary: "CEVA/Bosch BNO08x in UART-RVC mode (100 Hz)", reportsPosition: false,
            checkProfile: { profile in
                var problems: [String] = []
                if profile.rateHertz != Double(BNO08xRVC.framesPerSecond) { problems.append("rate_hz: UART-RVC streams at \(BNO08xRVC.framesPerSecond) Hz only") }
                if profile.baudRateBitsPerSecond != BNO08xRVC.baudRate { problems.append("baud_rate_bps: UART-RVC talks at \(BNO08xRVC.baudRate) bit/s only") }
                return problems
            },
            makeProtocol: { _ in BNO08xTrackerProtocol() }),
        Entry(
            protocolIdentifier: "ndi/combined-api", summary: "NDI Aurora and Polaris, combined API over serial (BX polled per frame)", reportsPosition: true,
            checkProfile: { profile in
                var problems = lineBudget(profile, frameBytes: 53 + 14)  // the BX reply and its request
                if !NDI.SerialSettings.BaudRate.allCases.contains(where: { $0.bitsPerSecond == profile.baudRateBitsPerSecond }) {
                    problems.append("baud_rate_bps: \(profile.baudRateBitsPerSecond) bit/s is not an NDI rate (\(NDI.SerialSettings.BaudRate.allCases.map { String($0.bitsPerSecond) }.joined(separator: ", ")))")
                }
                return problems
            },
            makeProtocol: { _ in NDITrackerProtocol() }),
    ])

    /// A line must carry the frames with a fifth to spare (protocols/xsens/README.md §5.2).
    static func lineBudget(_ profile: TrackerProfile, frameBytes: Int) -> [String] {
        let needed = profile.rateHertz * Double(frameBytes) * 10
        guard needed > 0.8 * Double(profile.baudRateBitsPerSecond) else { return [] }
        return ["rate_hz: \(profile.rateHertz) Hz of \(frameBytes)-byte frames need \(Int(needed / 0.8)) bit/s of line; baud_rate_bps is \(profile.baudRateBitsPerSecond)"]
    }

    /// The entry of `profile`'s protocol.
    public func entry(for profile: TrackerProfile) -> Entry? { entries.first { $0.protocolIdentifier == profile.protocolIdentifier } }

    public var supportedProtocols: [String] { entries.map(\.protocolIdentifier) }

    /// What is wrong with `profile` for this build (an unknown protocol), one line each.
    public func problems(with profile: TrackerProfile) -> [String] {
        guard let entry = entry(for: profile) else {
            return ["protocol: \"\(profile.protocolIdentifier)\" is not a tracker protocol this build speaks (" + supportedProtocols.map { "\"\($0)\"" }.joined(separator: ", ") + ")"]
        }
        return entry.checkProfile(profile)
    }

    /// The tracker for `profile` on `link`.
    public func makeTracker(for profile: TrackerProfile, link: ByteLink, clock: LoopClock = MonotonicClock.shared, readsInCycle: Bool = false)
        throws(DeviceSetupFailure) -> SerialTracker
    {
        guard let entry = entries.first(where: { $0.protocolIdentifier == profile.protocolIdentifier }) else {
            throw DeviceSetupFailure(port: link.name, reason: problems(with: profile).joined(separator: "; "))
        }
        return SerialTracker(profile: profile, link: link, adapter: entry.makeProtocol(profile), clock: clock, readsInCycle: readsInCycle)
    }
}
