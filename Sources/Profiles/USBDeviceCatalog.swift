/// What `rehabctl devices` knows a USB VID:PID to be — a bus adapter or a sensor RehabHost talks to —
/// and which hardware profiles name it, so that a lab engineer who plugs something in is told what it
/// is and which `--profile` to try. Pure: the enumeration is Transport's, the profiles the loader's.
public enum USBDeviceCatalog {
    /// One USB device RehabHost recognises.
    public struct Entry: Sendable, Equatable {
        public var vendorID: UInt16
        /// nil: any product of the vendor (a maker whose every USB device is one of its sensors).
        public var productID: UInt16?
        /// A product string that identifies it on a shared adapter chip (case-insensitive substring).
        public var productNameContains: String?
        /// What it is, as a lab engineer would name it.
        public var name: String
        /// The protocols that usually run behind it (a profile's `device.protocol` or a tracker's `protocol`).
        public var protocols: [String]

        public init(vendorID: UInt16, productID: UInt16?, productNameContains: String? = nil, name: String, protocols: [String]) {
            self.vendorID = vendorID
            self.productID = productID
            self.productNameContains = productNameContains
            self.name = name
            self.protocols = protocols
        }
    }

    /// The adapters and devices RehabHost recognises. FTDI chips sit in many adapters: the name says
    /// what a RehabHost lab usually has behind them, and the profiles decide.
    public static let known: [Entry] = [
        // ROBOTIS e-Manual, U2D2: an FTDI FT232H (the udev rule it gives names 0403:6014).
        Entry(vendorID: 0x0403, productID: 0x6014, name: "FTDI FT232H — ROBOTIS U2D2 (Dynamixel TTL / RS-485)", protocols: ["dynamixel/2.0"]),
        // ROBOTIS USB2Dynamixel and most single-port USB-serial cables: an FTDI FT232R.
        Entry(vendorID: 0x0403, productID: 0x6001, name: "FTDI FT232R — USB2Dynamixel or a USB-serial cable", protocols: ["dynamixel/2.0", "rehablink/1", "bno08x/uart-rvc"]),
        // RehabLink firmware (protocols/rehablink) enumerates as a CDC-ACM port under pid.codes' test IDs
        // until a lab registers its own.
        Entry(vendorID: 0x1209, productID: 0x0001, name: "RehabLink firmware (pid.codes test ID 1) — the wrist trainer", protocols: ["rehablink/1"]),
        Entry(vendorID: 0x1209, productID: 0x0002, name: "RehabLink firmware (pid.codes test ID 2) — the ankle trainer", protocols: ["rehablink/1"]),
        // Tracking sensors. NDI's serial-to-USB converter is an FTDI chip that names itself in its
        // product string; Xsens's USB vendor ID 0x2639 carries every MTi and its USB converter.
        Entry(vendorID: 0x0403, productID: nil, productNameContains: "NDI", name: "NDI host USB converter — an Aurora or Polaris", protocols: ["ndi/combined-api"]),
        Entry(vendorID: 0x2639, productID: nil, name: "Xsens — an MTi or its USB converter", protocols: ["xsens/xbus"]),
    ]

    /// The catalogue's entry for a USB device: a product string on its vendor's chip first (an NDI
    /// converter is an FTDI chip), then its exact VID:PID, then a vendor known as a whole.
    public static func entry(vendorID: UInt16, productID: UInt16, productName: String? = nil) -> Entry? {
        if let product = productName?.lowercased(),
            let named = known.first(where: { $0.vendorID == vendorID && $0.productNameContains.map { product.contains($0.lowercased()) } == true })
        {
            return named
        }
        return known.first { $0.vendorID == vendorID && $0.productID == productID && $0.productNameContains == nil }
            ?? known.first { $0.vendorID == vendorID && $0.productID == nil && $0.productNameContains == nil }
    }

    /// Every tracker profile whose USB IDs fit this device: the vendor always, the product where the profile names one.
    public static func trackerProfiles(vendorID: UInt16, productID: UInt16, in profiles: [TrackerProfile]) -> [TrackerProfile] {
        profiles.filter { $0.usbVendorID == vendorID && ($0.usbProductID == nil || $0.usbProductID == productID) }
    }

    /// Every profile whose `device.usb_vendor_id` and `usb_product_id` are this VID:PID, in the order given
    /// (several devices may share one adapter chip: each is a candidate, the engineer picks).
    public static func profiles(vendorID: UInt16, productID: UInt16, in profiles: [HardwareProfile]) -> [HardwareProfile] {
        profiles.filter { $0.device.usbVendorID == vendorID && $0.device.usbProductID == productID }
    }
}
