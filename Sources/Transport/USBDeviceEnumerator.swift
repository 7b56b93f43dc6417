import CLibUSB

/// One USB device on the bus.
public struct USBDeviceInfo: Sendable, Equatable {
    public var bus: Int
    public var address: Int
    /// Port numbers from the root hub, e.g. [1, 4] for "1-1.4": stable while the cabling is.
    public var portPath: [Int]
    public var vendorID: UInt16
    public var productID: UInt16
    public var deviceClass: UInt8
    public var manufacturer: String?
    public var product: String?
    public var serialNumber: String?

    /// The sysfs name ("1-1.4"), which is also a stable topological ID.
    public var sysfsName: String {
        "\(bus)-" + portPath.map(String.init).joined(separator: ".")
    }
}

/// Lists USB devices through libusb (topology and IDs), with strings from sysfs so that no device
/// is opened.
public enum USBDeviceEnumerator {
    public static func list() throws(TransportError) -> [USBDeviceInfo] {
        var context: OpaquePointer?
        let initResult = libusb_init(&context)
        guard initResult == LIBUSB_SUCCESS.rawValue, let context else {
            throw .usbUnavailable(reason: "libusb_init: " + String(cString: libusb_error_name(initResult)))
        }
        defer { libusb_exit(context) }
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = libusb_get_device_list(context, &list)
        guard count >= 0, let list else {
            throw .usbUnavailable(reason: "libusb_get_device_list: " + String(cString: libusb_error_name(Int32(count))))
        }
        defer { libusb_free_device_list(list, 1) }
        var devices: [USBDeviceInfo] = []
        for index in 0..<count {
            guard let device = list[index] else { continue }
            var descriptor = libusb_device_descriptor()
            guard libusb_get_device_descriptor(device, &descriptor) == LIBUSB_SUCCESS.rawValue else { continue }
            var ports = [UInt8](repeating: 0, count: 8)
            let depth = libusb_get_port_numbers(device, &ports, Int32(ports.count))
            var info = USBDeviceInfo(
                bus: Int(libusb_get_bus_number(device)), address: Int(libusb_get_device_address(device)),
                portPath: depth > 0 ? ports[0..<Int(depth)].map(Int.init) : [], vendorID: descriptor.idVendor,
                productID: descriptor.idProduct, deviceClass: descriptor.bDeviceClass)
            let sysfs = "/sys/bus/usb/devices/" + (depth > 0 ? info.sysfsName : "usb\(info.bus)")
            info.manufacturer = readSmallFile(sysfs + "/manufacturer")?.trimmingTrailingNewline
            info.product = readSmallFile(sysfs + "/product")?.trimmingTrailingNewline
            info.serialNumber = readSmallFile(sysfs + "/serial")?.trimmingTrailingNewline
            devices.append(info)
        }
        return devices.sorted { ($0.bus, $0.address) < ($1.bus, $1.address) }
    }
}
