// swift-tools-version: 6.1
// RehabHost: real-time control host for rehabilitation robots. No package dependencies:
// the Swift toolchain, plus libserialport, libusb-1.0 and libudev from the system (scripts/setup.sh).
import PackageDescription

/// Every Swift target: Swift 6 language mode (strict concurrency) and warnings as errors.
let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

let package = Package(
    name: "RehabHost",
    products: [
        .executable(name: "rehabctl", targets: ["rehabctl"]),
        .executable(name: "rehabsim", targets: ["rehabsim"]),
    ],
    targets: [
        // Primitives: monotonic time, the per-joint container, unit conversions. Pure.
        .target(name: "Primitives", swiftSettings: strict),
        // System libraries (Debian -dev packages, installed by scripts/setup.sh).
        .systemLibrary(name: "CLibSerialPort", pkgConfig: "libserialport", providers: [.apt(["libserialport-dev"])]),
        .systemLibrary(name: "CLibUSB", pkgConfig: "libusb-1.0", providers: [.apt(["libusb-1.0-0-dev"])]),
        .systemLibrary(name: "CLibUdev", pkgConfig: "libudev", providers: [.apt(["libudev-dev"])]),
        // Counts heap allocations per thread by interposing malloc: the zero-allocation proof.
        .target(name: "AllocationCounter"),
        // C shims for Linux calls Swift cannot import (variadic ioctl/prctl, termios2, ppoll).
        .target(name: "CSystemShims"),
        // Platform: typed wrappers over the system: monotonic clock, errno.
        .target(name: "Platform", dependencies: ["CSystemShims", "Primitives"], swiftSettings: strict),
        // Transport: serial I/O in termios (ttyUSB/ttyACM/ttyS/pts alike), PTY pairs, enumeration.
        .target(
            name: "Transport",
            dependencies: ["CSystemShims", "CLibSerialPort", "CLibUSB", "CLibUdev", "Platform", "Primitives"],
            swiftSettings: strict),
        // Control: loop schedule, histograms, trajectories, controllers, clamp, supervisor. Pure:
        // no clock of its own, no I/O, no allocation per cycle.
        .target(name: "Control", dependencies: ["Primitives"], swiftSettings: strict),
        // Devices: drivers behind one interface; the device edge where wire units become SI.
        .target(name: "Devices", dependencies: ["Control", "Platform", "Primitives", "Transport", "Wire"], swiftSettings: strict),
        // Session: wires a device, the loop, the supervisor and the controller into one exercise.
        .target(
            name: "Session",
            dependencies: ["AllocationCounter", "Control", "Devices", "Platform", "Primitives", "Profiles", "StrictJSON", "Telemetry"],
            swiftSettings: strict),
        // Telemetry: the loop's lock-free hand-off, MCAP writer/reader/recovery, recording, black
        // box, CSV export and the HTML report.
        .target(name: "Telemetry", dependencies: ["Control", "Platform", "Primitives", "StrictJSON"], swiftSettings: strict),
        // Wire: codecs (framing, CRC, messages). Pure: no I/O, no Foundation, no heap per frame.
        .target(name: "Wire", dependencies: ["Primitives"], swiftSettings: strict),
        // StrictJSON: RFC 8259 parser with line/column errors and an order-keeping writer.
        .target(name: "StrictJSON", swiftSettings: strict),
        // Profiles: hardware/ profiles and exercise files (JSON), validated, in SI units; exercises come
        // out as Control's exercise and mode types (one conversion, shared by rehabctl and rehabsim).
        .target(name: "Profiles", dependencies: ["Control", "Primitives", "StrictJSON"], swiftSettings: strict),

        // Simulators (simulators/): device firmware + physics, pure and clock-driven.
        .target(
            name: "RehabLinkSimulator", dependencies: ["Control", "Primitives", "Profiles", "StrictJSON", "Transport", "Wire"],
            path: "simulators/RehabLinkSimulator", swiftSettings: strict),
        .executableTarget(
            name: "rehabsim",
            dependencies: [
                "CSystemShims", "CommandLineSupport", "Control", "Platform", "Primitives", "Profiles", "RehabLinkSimulator", "StrictJSON", "Transport",
            ],
            path: "simulators/rehabsim", swiftSettings: strict),

        // Command-line programs.
        .target(name: "CommandLineSupport", dependencies: ["Platform", "Profiles", "StrictJSON", "Transport"], swiftSettings: strict),
        .executableTarget(
            name: "rehabctl",
            dependencies: [
                "CSystemShims", "CommandLineSupport", "Control", "Devices", "Platform", "Primitives", "Profiles", "RehabLinkSimulator",
                "Session", "StrictJSON", "Telemetry", "Transport", "Wire",
            ],
            swiftSettings: strict),

        // Shared test helpers: repository paths, RehabLink vectors.
        .target(name: "TestSupport", dependencies: ["Platform", "Primitives", "Wire", "StrictJSON"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "ControlTests", dependencies: ["Control", "Primitives"], swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Control", "Devices", "Platform", "Primitives", "Profiles", "RehabLinkSimulator", "Session", "StrictJSON",
                "Telemetry", "TestSupport", "Transport", "Wire",
            ],
            swiftSettings: strict),
        .testTarget(name: "ProfilesTests", dependencies: ["Control", "Profiles", "StrictJSON", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "SessionTests",
            dependencies: [
                "AllocationCounter", "Control", "Devices", "Platform", "Primitives", "Profiles", "RehabLinkSimulator", "Session", "StrictJSON",
                "Telemetry", "TestSupport", "Transport", "Wire",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "SimulatorTests", dependencies: ["Control", "Devices", "Primitives", "Profiles", "RehabLinkSimulator", "TestSupport", "Transport", "Wire"],
            swiftSettings: strict),
        .testTarget(
            name: "TelemetryTests", dependencies: ["Control", "Platform", "Primitives", "StrictJSON", "Telemetry", "TestSupport"],
            swiftSettings: strict),
        .testTarget(name: "TransportTests", dependencies: ["Platform", "Primitives", "Transport"], swiftSettings: strict),
        .testTarget(name: "WireTests", dependencies: ["Primitives", "StrictJSON", "Wire", "TestSupport"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
