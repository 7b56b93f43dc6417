import Primitives
import StrictJSON

/// A tracking sensor as `hardware/trackers/*.json` describes it (format `rehabhost-tracker/1`): which
/// protocol it speaks on which line, how fast, and how it sits on the limb — which of its axes turns
/// with the joint angle it reports, with sign and offset. SI units inside; the file's field names
/// carry theirs (hardware/README.md, "Tracker profiles").
public struct TrackerProfile: Sendable, Equatable {
    public static let format = "rehabhost-tracker/1"

    /// A sensor axis (of the sensor's own frame, as its datasheet draws it).
    public enum Axis: String, Sendable, Equatable, CaseIterable {
        case x, y, z

        /// The unit vector of the axis.
        public var unitVector: SIMD3<Double> {
            switch self {
            case .x: SIMD3(1, 0, 0)
            case .y: SIMD3(0, 1, 0)
            case .z: SIMD3(0, 0, 1)
            }
        }
    }

    /// How the sensor sits on the limb: the joint angle is `sign × (rotation about axis since the
    /// neutral pose) + offset`. The neutral pose is taken when the session zeroes the tracker.
    public struct Mounting: Sendable, Equatable {
        public var axis: Axis
        /// +1 or −1.
        public var sign: Double
        public var offsetRadians: Double

        public init(axis: Axis, sign: Double, offsetRadians: Double) {
            self.axis = axis
            self.sign = sign < 0 ? -1 : 1
            self.offsetRadians = offsetRadians
        }
    }

    public var name: String
    public var description: String
    public var sourcePath: String
    /// "xsens/xbus", "bno08x/uart-rvc", "ndi/combined-api" (which exist is the tracker registry's knowledge).
    public var protocolIdentifier: String
    /// The protocol's own fields (`"xsens": {…}`, `"ndi": {…}`), read by its driver.
    public var protocolFields: JSONObject?
    public var model: String
    public var usbVendorID: UInt16?
    public var usbProductID: UInt16?
    public var baudRateBitsPerSecond: Int
    /// The sample rate the sensor is set to (or streams at).
    public var rateHertz: Double
    /// What the sensor itself adds between the motion and the first byte of its frame (filtering,
    /// exposure, fitting) [ns]: the frame's transmission is added by the driver.
    public var latencyNanoseconds: Int64
    public var mounting: Mounting
    /// SR-15 for a tracker whose fit error is known (optical, EM): the largest RMS error accepted [mm].
    public var maximumRmsErrorMillimeters: Double?

    public init(
        name: String, description: String = "", sourcePath: String = "", protocolIdentifier: String, protocolFields: JSONObject? = nil,
        model: String, usbVendorID: UInt16? = nil, usbProductID: UInt16? = nil, baudRateBitsPerSecond: Int, rateHertz: Double,
        latencyNanoseconds: Int64, mounting: Mounting, maximumRmsErrorMillimeters: Double? = nil
    ) {
        self.name = name
        self.description = description
        self.sourcePath = sourcePath
        self.protocolIdentifier = protocolIdentifier
        self.protocolFields = protocolFields
        self.model = model
        self.usbVendorID = usbVendorID
        self.usbProductID = usbProductID
        self.baudRateBitsPerSecond = baudRateBitsPerSecond
        self.rateHertz = rateHertz
        self.latencyNanoseconds = latencyNanoseconds
        self.mounting = mounting
        self.maximumRmsErrorMillimeters = maximumRmsErrorMillimeters
    }

    /// The sample period [ns].
    public var framePeriodNanoseconds: Int64 { Nanoseconds.period(rateHertz: rateHertz) }
}

/// Loads and validates tracker profiles; every problem is reported at once, with its path.
public enum TrackerProfileLoader {
    public static func load(path: String) throws(ProfileError) -> TrackerProfile {
        let object = try ConfigurationFile.loadObject(at: path)
        return try parse(object, sourcePath: path)
    }

    public static func parse(_ object: JSONObject, sourcePath: String) throws(ProfileError) -> TrackerProfile {
        let issues = IssueCollector()
        var r = FieldReader(object, path: "", issues: issues)
        if let format = r.string("format"), format != TrackerProfile.format {
            r.report("format", "expected \"\(TrackerProfile.format)\", found \"\(format)\"")
        }
        let name = r.string("name")
        let description = r.string("description", required: false, nonEmpty: false) ?? ""
        let protocolText = r.string("protocol")
        var protocolFields: JSONObject?
        if let protocolText {
            let parts = protocolText.split(separator: "/", omittingEmptySubsequences: false)
            if parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty {
                protocolFields = r.object(String(parts[0]), required: false)?.object
            } else {
                r.report("protocol", "expected \"family/variant\" such as \"xsens/xbus\", found \"\(protocolText)\"")
            }
        }
        let model = r.string("model")
        let vendor = HardwareProfileLoader.hexID(&r, "usb_vendor_id")
        let product = HardwareProfileLoader.hexID(&r, "usb_product_id")
        let baud = r.integer("baud_rate_bps", unit: "bit/s", in: 1_200...12_000_000)
        let rate = r.number("rate_hz", unit: "Hz", in: 1...2_000)
        let latency = r.number("latency_ms", unit: "ms", in: 0...500)
        let rms = r.number("max_rms_error_mm", unit: "mm", in: 0.01...50, required: false)
        var mounting: TrackerProfile.Mounting?
        if var m = r.object("mounting") {
            let axisText = m.string("axis")
            let axis = axisText.flatMap { TrackerProfile.Axis(rawValue: $0) }
            if let axisText, axis == nil { m.report("axis", "expected \"x\", \"y\" or \"z\" (the sensor's own axes), found \"\(axisText)\"") }
            let sign = m.integer("sign", unit: "(+1 or -1)", in: -1...1)
            if sign == 0 { m.report("sign", "must be +1 or -1") }
            let offset = m.number("offset_deg", unit: "°", in: -180...180, required: false, default: 0)
            m.finish()
            if let axis, let sign, sign != 0, let offset {
                mounting = TrackerProfile.Mounting(axis: axis, sign: Double(sign), offsetRadians: offset * Units.radiansPerDegree)
            }
        }
        r.finish()
        guard issues.issues.isEmpty, let name, let protocolText, let model, let baud, let rate, let latency, let mounting else {
            throw .invalid(path: sourcePath, issues: issues.reported)
        }
        return TrackerProfile(
            name: name, description: description, sourcePath: sourcePath, protocolIdentifier: protocolText, protocolFields: protocolFields,
            model: model, usbVendorID: vendor, usbProductID: product, baudRateBitsPerSecond: Int(baud), rateHertz: rate,
            latencyNanoseconds: Int64((latency * 1e6).rounded()), mounting: mounting, maximumRmsErrorMillimeters: rms)
    }
}
