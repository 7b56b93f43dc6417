import DeviceModel
import Platform
import Primitives
import Profiles
import Transport

/// The tracker protocols this build speaks, by a tracker profile's `protocol`: one entry per
/// protocol makes a `SerialTracker` for a profile on a link (as `DriverRegistry` does for actuated devices).
public struct TrackerRegistry: Sendable {
    public struct Entry: Sendable {
        public var protocolIdentifier: String
        public var summary: String
        public var makeProtocol: @Sendable (TrackerProfile) -> TrackerProtocol

        public init(protocolIdentifier: String, summary: String, makeProtocol: @escaping @Sendable (TrackerProfile) -> TrackerProtocol) {
            self.protocolIdentifier = protocolIdentifier
            self.summary = summary
            self.makeProtocol = makeProtocol
        }
    }

    public private(set) var entries: [Entry]

    public static let standard = TrackerRegistry(entries: [
        Entry(protocolIdentifier: "xsens/xbus", summary: "Xsens MTi IMUs, Xbus / MTData2 over serial") { _ in XsensTrackerProtocol() },
        Entry(protocolIdentifier: "bno08x/uart-rvc", summary: "CEVA/Bosch BNO08x in UART-RVC mode (100 Hz)") { _ in BNO08xTrackerProtocol() },
        Entry(protocolIdentifier: "ndi/combined-api", summary: "NDI Aurora and Polaris, combined API over serial (BX polled per frame)") { _ in NDITrackerProtocol() },
    ])

    public var supportedProtocols: [String] { entries.map(\.protocolIdentifier) }

    /// What is wrong with `profile` for this build (an unknown protocol), one line each.
    public func problems(with profile: TrackerProfile) -> [String] {
        guard entries.contains(where: { $0.protocolIdentifier == profile.protocolIdentifier }) else {
            return ["protocol: \"\(profile.protocolIdentifier)\" is not a tracker protocol this build speaks (" + supportedProtocols.map { "\"\($0)\"" }.joined(separator: ", ") + ")"]
        }
        return []
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
