import CLibSerialPort
import CLibUdev

/// One serial port found on the machine, with what is known about the device behind it.
public struct SerialPortInfo: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case native, usb, bluetooth, unknown
    }

    /// The kernel device node, e.g. /dev/ttyACM0.
    public var path: String
    public var description: String?
    public var kind: Kind
    public var usbVendorID: UInt16?
    public var usbProductID: UInt16?
    public var usbSerialNumber: String?
    public var usbManufacturer: String?
    public var usbProduct: String?
    public var usbBus: Int?
    public var usbAddress: Int?
    /// Names that survive re-plugging and re-enumeration (/dev/serial/by-id/…, by-path/…, udev symlinks).
    public var stableLinks: [String]
    /// The kernel driver (cdc_acm, ftdi_sio, cp210x, serial8250 …).
    public var driver: String?
    /// FTDI adapters: the latency timer in ms (1 ms wanted for a 1 kHz loop).
    public var latencyTimerMilliseconds: Int?

    /// The by-id link when there is one, else the first stable link, else the device node.
    public var preferredPath: String {
        stableLinks.first { $0.contains("/by-id/") } ?? stableLinks.first ?? path
    }

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
        stableLinks = []
    }
}

/// Lists serial ports: libserialport for the ports and their USB metadata, libudev for stable
/// names and drivers. (libserialport does not open ports here; RehabHost does all serial I/O
/// through `SerialPort` because Debian's libserialport 0.1.1 cannot open pseudo-terminals.)
public enum SerialPortEnumerator {
    public static func list() throws(TransportError) -> [SerialPortInfo] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let result = sp_list_ports(&list)
        guard result == SP_OK, let list else {
            let message = sp_last_error_message().map { text -> String in
                defer { sp_free_error_message(text) }
                return String(cString: text)
            }
            throw .system(path: "libserialport", operation: "listing ports (\(message ?? "code \(result.rawValue)"))", errno: .current)
        }
        defer { sp_free_port_list(list) }
        let udev = UdevContext()
        var ports: [SerialPortInfo] = []
        var index = 0
        while let port = list[index] {
            index += 1
            guard let namePointer = sp_get_port_name(port) else { continue }
            var info = SerialPortInfo(path: String(cString: namePointer), kind: kind(of: sp_get_port_transport(port)))
            info.description = sp_get_port_description(port).map { String(cString: $0) }
            if info.kind == .usb {
                var vendor: Int32 = 0
                var product: Int32 = 0
                if sp_get_port_usb_vid_pid(port, &vendor, &product) == SP_OK {
                    info.usbVendorID = UInt16(truncatingIfNeeded: vendor)
                    info.usbProductID = UInt16(truncatingIfNeeded: product)
                }
                var bus: Int32 = 0
                var address: Int32 = 0
                if sp_get_port_usb_bus_address(port, &bus, &address) == SP_OK {
                    info.usbBus = Int(bus)
                    info.usbAddress = Int(address)
                }
                info.usbSerialNumber = sp_get_port_usb_serial(port).map { String(cString: $0) }
                info.usbManufacturer = sp_get_port_usb_manufacturer(port).map { String(cString: $0) }
                info.usbProduct = sp_get_port_usb_product(port).map { String(cString: $0) }
            }
            let sysname = String(info.path.split(separator: "/").last ?? "")
            if let device = udev?.device(subsystem: "tty", sysname: sysname) {
                info.stableLinks = device.links.sorted()
                info.driver = device.property("ID_USB_DRIVER") ?? device.parentDriver
            }
            if let text = readSmallFile("/sys/class/tty/\(sysname)/device/latency_timer") {
                info.latencyTimerMilliseconds = Int(text.trimmingTrailingNewline)
            }
            ports.append(info)
        }
        return ports.sorted { $0.path < $1.path }
    }

    private static func kind(of transport: sp_transport) -> SerialPortInfo.Kind {
        switch transport {
        case SP_TRANSPORT_NATIVE: .native
        case SP_TRANSPORT_USB: .usb
        case SP_TRANSPORT_BLUETOOTH: .bluetooth
        default: .unknown
        }
    }
}

/// A libudev context; nil when udev cannot be used (e.g. in a minimal container).
final class UdevContext {
    private let handle: OpaquePointer

    init?() {
        guard let handle = udev_new() else { return nil }
        self.handle = handle
    }

    deinit {
        udev_unref(handle)
    }

    func device(subsystem: String, sysname: String) -> UdevDevice? {
        udev_device_new_from_subsystem_sysname(handle, subsystem, sysname).map(UdevDevice.init)
    }
}

/// One udev device record.
final class UdevDevice {
    private let handle: OpaquePointer

    init(_ handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        udev_device_unref(handle)
    }

    func property(_ key: String) -> String? {
        udev_device_get_property_value(handle, key).map { String(cString: $0) }
    }

    /// The device's symlinks (DEVLINKS), from the udev database.
    var links: [String] {
        var result: [String] = []
        var entry = udev_device_get_devlinks_list_entry(handle)
        while let current = entry {
            if let name = udev_list_entry_get_name(current) { result.append(String(cString: name)) }
            entry = udev_list_entry_get_next(current)
        }
        return result
    }

    /// The driver bound to the parent device (the tty's own record has none).
    var parentDriver: String? {
        guard let parent = udev_device_get_parent(handle) else { return nil }
        return udev_device_get_driver(parent).map { String(cString: $0) }
    }
}
