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
}
