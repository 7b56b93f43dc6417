// swift-tools-version: 6.1
// RehabHost: real-time control host for rehabilitation robots. No package dependencies:
// the Swift toolchain, plus libserialport, libusb-1.0, libudev and libzstd from the system (scripts/setup.sh).
import PackageDescription

/// Every Swift target: Swift 6 language mode (strict concurrency) and warnings as errors.
let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]
/// The simulated firmware (one instance per device, one thread at a time) without the run-time
/// exclusivity checks: a quarter of a virtual-time session's time went to them (perf, 2026-12-07).
/// Compile-time checking stays; the host's own code keeps every check.
let simulatorSettings: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors", "-enforce-exclusivity=unchecked"])]

let package = Package(
    name: "RehabHost",
    products: [
        .executable(name: "rehabctl", targets: ["rehabctl"]),
        .executable(name: "rehabsim", targets: ["rehabsim"]),
        // The allocation counter as a preloadable library (.build/<config>/libRehabHostAllocationCounter.so):
        // `rehabctl bench` and `demo` re-execute themselves with it in LD_PRELOAD; rehabctl never links it.
        .library(name: "RehabHostAllocationCounter", type: .dynamic, targets: ["AllocationCounterInterposer"]),
    ],
    targets: [
        // Primitives: monotonic time, the per-joint container, unit conversions. Pure.
        .target(name: "Primitives", swiftSettings: strict),
        // System libraries (Debian -dev packages, installed by scripts/setup.sh).
        .systemLibrary(name: "CLibSerialPort", pkgConfig: "libserialport", providers: [.apt(["libserialport-dev"])]),
        .systemLibrary(name: "CLibUSB", pkgConfig: "libusb-1.0", providers: [.apt(["libusb-1.0-0-dev"])]),
        .systemLibrary(name: "CLibUdev", pkgConfig: "libudev", providers: [.apt(["libudev-dev"])]),
        // zstd for the MCAP chunks of recordings and black boxes (docs/telemetry.md, "Compression").
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // The zero-allocation proof, read side: allocations per thread and per process, from the
        // interposer when the process has it (linked, or preloaded), else 0. Replaces nothing.
        .target(name: "AllocationCounter", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        // The counting: replaces malloc & co. process-wide. Linked only into the test binaries, and
        // built as the RehabHostAllocationCounter library above; never linked into rehabctl or rehabsim.
        .target(name: "AllocationCounterInterposer"),
        // C shims for Linux calls Swift cannot import (variadic ioctl/prctl, termios2, ppoll).
        .target(name: "CSystemShims"),
        // Platform: typed wrappers over the system: monotonic clock, errno.
        .target(name: "Platform", dependencies: ["CSystemShims", "Primitives"], swiftSettings: strict),
        // Transport: serial I/O in termios (ttyUSB/ttyACM/ttyS/pts alike), PTY pairs, enumeration.
        .target(
            name: "Transport",
            dependencies: ["CSystemShims", "CLibSerialPort", "CLibUSB", "CLibUdev", "Platform", "Primitives"],
            swiftSettings: strict),
        // DeviceModel: what every device is to the layers above, whatever its protocol: joint state and
        // command in SI units, conditions and faults, intents, capabilities, tracker samples, link health.
        .target(name: "DeviceModel", dependencies: ["Primitives"], swiftSettings: strict),
        // Control: loop schedule, histograms, trajectories, controllers, clamp, supervisor. Pure:
        // no clock of its own, no I/O, no allocation per cycle.
        .target(name: "Control", dependencies: ["DeviceModel", "Primitives"], swiftSettings: strict),
        // Devices: drivers behind one interface; the device edge where wire units become SI.
        .target(name: "Devices", dependencies: ["DeviceModel", "Platform", "Primitives", "Profiles", "StrictJSON", "Transport", "Wire"], swiftSettings: strict),
        // Session: wires a device, the loop, the supervisor and the controller into one exercise.
        .target(
            name: "Session",
            dependencies: ["AllocationCounter", "Control", "DeviceModel", "Devices", "Platform", "Primitives", "Profiles", "StrictJSON", "Telemetry"],
            swiftSettings: strict),
        // Telemetry: the loop's lock-free hand-off, MCAP writer/reader/recovery, recording, black
        // box, CSV export and the HTML report.
        .target(name: "Telemetry", dependencies: ["CZstd", "Control", "DeviceModel", "Platform", "Primitives", "StrictJSON"], swiftSettings: strict),
        // Wire: codecs (framing, CRC, messages). Pure: no I/O, no Foundation, no heap per frame.
        .target(name: "Wire", dependencies: ["Primitives"], swiftSettings: strict),
        // StrictJSON: RFC 8259 parser with line/column errors and an order-keeping writer.
        .target(name: "StrictJSON", swiftSettings: strict),
        // Profiles: hardware/ profiles and exercise files (JSON), validated, in SI units; exercises come
        // out as Control's exercise and mode types (one conversion, shared by rehabctl and rehabsim).
        .target(name: "Profiles", dependencies: ["Control", "DeviceModel", "Primitives", "StrictJSON"], swiftSettings: strict),

        // Simulators (simulators/): device firmware + physics, pure and clock-driven.
        // SimulatorKit: what every simulator shares (the FirmwareSimulator interface, the in-process
        // virtual-time link, the fault-injection pump and script parser, the real-time PTY host).
        .target(
            name: "SimulatorKit", dependencies: ["CSystemShims", "Control", "Platform", "Primitives", "Profiles", "StrictJSON", "Transport"],
            path: "simulators/SimulatorKit", swiftSettings: simulatorSettings),
        .target(
            name: "RehabLinkSimulator",
            dependencies: ["Control", "DeviceModel", "Primitives", "Profiles", "SimulatorKit", "StrictJSON", "Transport", "Wire"],
            path: "simulators/RehabLinkSimulator", swiftSettings: simulatorSettings),
        // The simulated Dynamixel Protocol 2.0 bus (issue 16): X-series servos on one link.
        .target(
            name: "DynamixelSimulator",
            dependencies: ["Primitives", "Profiles", "RehabLinkSimulator", "SimulatorKit", "Wire"],
            path: "simulators/DynamixelSimulator", swiftSettings: simulatorSettings),
        // Simulated tracking sensors (issue 17): an Xsens MTi, a BNO08x in UART-RVC mode, an NDI Aurora/Polaris,
        // each on the simulated patient's limb, on a line of its own.
        .target(
            name: "TrackerSimulators",
            dependencies: ["Control", "Primitives", "Profiles", "RehabLinkSimulator", "SimulatorKit", "StrictJSON", "Wire"],
            path: "simulators/TrackerSimulators", swiftSettings: strict),
        .executableTarget(
            name: "rehabsim",
            dependencies: [
                "CSystemShims", "CommandLineSupport", "Control", "DeviceModel", "DynamixelSimulator", "Platform", "Primitives", "Profiles",
                "RehabLinkSimulator", "SimulatorKit", "StrictJSON", "TrackerSimulators", "Transport",
            ],
            path: "simulators/rehabsim", swiftSettings: strict),

        // Scenarios (issue 18, hardware/scenarios/README.md): the scenario files, what a run observed, the
        // verdicts, JUnit XML and the safety evidence report. Pure: no I/O but reading files, no clock.
        .target(name: "Scenarios", dependencies: ["Control", "DeviceModel", "Primitives", "Profiles", "StrictJSON"], swiftSettings: strict),
        // Running a scenario: in virtual time against the simulators in-process (and `rehabctl simulate`).
        .target(
            name: "ScenarioRunner",
            dependencies: [
                "CommandLineSupport", "Control", "DeviceModel", "Devices", "DynamixelSimulator", "Primitives", "Profiles", "RehabLinkSimulator",
                "Scenarios", "Session", "SimulatorKit", "TrackerSimulators", "Transport",
            ],
            swiftSettings: strict),

        // Command-line programs.
        .target(name: "CommandLineSupport", dependencies: ["Platform", "Profiles", "StrictJSON", "Transport"], swiftSettings: strict),
        .executableTarget(
            name: "rehabctl",
            dependencies: [
                "AllocationCounter", "CSystemShims", "CommandLineSupport", "Control", "DeviceModel", "Devices", "Platform", "Primitives", "Profiles",
                "ScenarioRunner", "Scenarios", "Session", "StrictJSON", "Telemetry", "Transport", "Wire",
            ],
            swiftSettings: strict),

        // Fuzzing (issue 15; scripts/fuzz.sh, docs/reliability.md): one libFuzzer target per decoder or
        // parser of outside input. `swift build` makes it the replayer of Fuzz/corpus and
        // Fuzz/regressions (FuzzRegressionTests); scripts/fuzz.sh builds it with -sanitize=fuzzer and
        // -DFUZZING into .build-fuzz. CLibFuzzer only declares libFuzzer's LLVMFuzzerRunDriver.
        .target(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .executableTarget(
            name: "rehabfuzz",
            dependencies: ["CLibFuzzer", "Control", "Primitives", "Profiles", "RehabLinkSimulator", "StrictJSON", "Telemetry", "Wire"],
            path: "Fuzz/rehabfuzz", swiftSettings: strict),

        // Shared test helpers: repository paths, RehabLink vectors.
        .target(name: "TestSupport", dependencies: ["Platform", "Primitives", "Wire", "StrictJSON"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "ControlTests", dependencies: ["Control", "DeviceModel", "Primitives"], swiftSettings: strict),
        // The whole programs over pseudo-terminals, UDP and signals (rehabctl, rehabsim as child processes);
        // their host-stall retries are counted against a budget (scripts/run-tests.sh, README).
        .testTarget(
            name: "PTYIntegrationTests",
            dependencies: [
                "Control", "DeviceModel", "Devices", "Platform", "Primitives", "Profiles", "RehabLinkSimulator", "Session", "StrictJSON",
                "Telemetry", "TestSupport", "Transport", "Wire",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "ScenariosTests", dependencies: ["Control", "DeviceModel", "Primitives", "Profiles", "Scenarios", "StrictJSON", "TestSupport"],
            swiftSettings: strict),
        .testTarget(name: "ProfilesTests", dependencies: ["Control", "DeviceModel", "Profiles", "StrictJSON", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "SessionTests",
            dependencies: [
                "AllocationCounter", "AllocationCounterInterposer", "Control", "DeviceModel", "Devices", "DynamixelSimulator", "Platform", "Primitives", "Profiles",
                "RehabLinkSimulator", "Session", "SimulatorKit", "StrictJSON", "Telemetry", "TestSupport", "Transport", "Wire",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "SimulatorTests",
            dependencies: [
                "Control", "DeviceModel", "Devices", "DynamixelSimulator", "Primitives", "Profiles", "RehabLinkSimulator", "Scenarios", "SimulatorKit",
                "StrictJSON", "TrackerSimulators", "TestSupport", "Transport", "Wire",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "TelemetryTests", dependencies: ["Control", "DeviceModel", "Platform", "Primitives", "StrictJSON", "Telemetry", "TestSupport"],
            swiftSettings: strict),
        .testTarget(name: "TransportTests", dependencies: ["Platform", "Primitives", "Transport"], swiftSettings: strict),
        .testTarget(name: "WireTests", dependencies: ["Primitives", "StrictJSON", "Wire", "TestSupport"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
