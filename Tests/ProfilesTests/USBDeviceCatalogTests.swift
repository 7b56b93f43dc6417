import Profiles
import TestSupport
import XCTest

/// What `rehabctl devices` says about a USB device it cannot be shown on a machine without a USB bus:
/// the catalogue names the adapter and the shipped profiles that name its VID:PID are proposed.
final class USBDeviceCatalogTests: XCTestCase {
    private func shippedProfiles() throws -> [HardwareProfile] {
        try ["wrist-trainer", "ankle-trainer", "dynamixel-wrist"].map {
            try HardwareProfileLoader.load(path: RepositoryPaths.file("hardware/\($0).json").path)
        }
    }

    func testAU2D2IsRecognisedAndTheDynamixelProfileProposed() throws {
        let u2d2 = try XCTUnwrap(USBDeviceCatalog.entry(vendorID: 0x0403, productID: 0x6014))
        XCTAssertTrue(u2d2.name.contains("U2D2"), u2d2.name)
        XCTAssertEqual(u2d2.protocols, ["dynamixel/2.0"])
        let proposed = USBDeviceCatalog.profiles(vendorID: 0x0403, productID: 0x6014, in: try shippedProfiles())
        XCTAssertEqual(proposed.map(\.name), ["dynamixel-wrist"])
        XCTAssertEqual(proposed.first?.device.protocolIdentifier, "dynamixel/2.0")
    }

    func testEveryProfileSharingAnAdapterIsProposedAndAnUnknownDeviceIsNeitherNamedNorMatched() throws {
        var profiles = try shippedProfiles()
        var second = profiles[2]
        second.name = "dynamixel-finger"
        profiles.append(second)
        XCTAssertEqual(USBDeviceCatalog.profiles(vendorID: 0x0403, productID: 0x6014, in: profiles).map(\.name), ["dynamixel-wrist", "dynamixel-finger"])
        XCTAssertNil(USBDeviceCatalog.entry(vendorID: 0x1234, productID: 0x5678))
        XCTAssertEqual(USBDeviceCatalog.profiles(vendorID: 0x1234, productID: 0x5678, in: profiles).count, 0)
    }

    func testTheShippedProfilesNameOnlyAdaptersTheCatalogueKnowsOrNone() throws {
        for profile in try shippedProfiles() {
            guard let vendor = profile.device.usbVendorID, let product = profile.device.usbProductID else { continue }
            let entry = USBDeviceCatalog.entry(vendorID: vendor, productID: product)
            XCTAssertNotNil(entry, "\(profile.name) names \(vendor):\(product), which `rehabctl devices` would not recognise")
            XCTAssertTrue(entry?.protocols.contains(profile.device.protocolIdentifier) ?? false, profile.name)
        }
    }

    /// The sensors: an Xsens device by its vendor whatever its product, an NDI converter by its product
    /// string on an FTDI chip; and the tracker profiles that fit them.
    func testTrackingSensorsAreRecognisedByVendorOrProductStringAndTheirProfilesProposed() throws {
        XCTAssertEqual(USBDeviceCatalog.entry(vendorID: 0x2639, productID: 0x0300)?.protocols, ["xsens/xbus"])
        XCTAssertEqual(USBDeviceCatalog.entry(vendorID: 0x0403, productID: 0x6001, productName: "NDI Host USB Converter")?.protocols, ["ndi/combined-api"])
        XCTAssertEqual(USBDeviceCatalog.entry(vendorID: 0x0403, productID: 0x6001, productName: "FT232R USB UART")?.name,
                       "FTDI FT232R — USB2Dynamixel or a USB-serial cable", "a plain FTDI cable stays a cable")
        let trackers = try ["xsens-mti-wrist", "bno085-forearm", "ndi-aurora-hand"].map {
            try TrackerProfileLoader.load(path: RepositoryPaths.file("hardware/trackers/\($0).json").path)
        }
        XCTAssertEqual(USBDeviceCatalog.trackerProfiles(vendorID: 0x2639, productID: 0x0300, in: trackers).map(\.name), ["xsens-mti-wrist"])
        XCTAssertEqual(USBDeviceCatalog.trackerProfiles(vendorID: 0x0403, productID: 0x6001, in: trackers).map(\.name), ["bno085-forearm"])
    }
}
