import Foundation

/// The kernel's preemption model, which bounds how long a real-time thread (and the tty layer's
/// worker threads) can be kept waiting by kernel code.
public enum KernelPreemption: String, Sendable {
    /// PREEMPT_RT: fully preemptible, threaded interrupts; what a lab machine should run.
    case realtime = "PREEMPT_RT"
    /// preempt=full: preemptible kernel code.
    case full
    /// preempt=voluntary: preemption only at explicit points.
    case voluntary
    /// preempt=none: kernel code runs until it yields; a kernel thread can hold a CPU for milliseconds.
    case none
    case unknown

    /// True when kernel code can delay a real-time thread by milliseconds.
    public var allowsLongKernelStalls: Bool { self == .none || self == .voluntary }

    /// Detects the model and says where the answer came from.
    public static func detect() -> (model: KernelPreemption, source: String) {
        interpret(
            realtime: read("/sys/kernel/realtime"), dynamic: read("/sys/kernel/debug/sched/preempt"),
            commandLine: read("/proc/cmdline"), version: read("/proc/sys/kernel/version"), configuration: kernelConfig())
    }

    /// The model from what the system files say (nil when a file could not be read), most
    /// authoritative first: /sys/kernel/realtime, the dynamic preemption setting, preempt= on the
    /// command line, the version string, the build configuration.
    public static func interpret(
        realtime: String?, dynamic: String?, commandLine: String?, version: String?, configuration: String?
    ) -> (model: KernelPreemption, source: String) {
        if realtime?.hasPrefix("1") == true { return (.realtime, "/sys/kernel/realtime") }
        if let dynamic, let active = activeChoice(dynamic) {
            return (model(named: active), "/sys/kernel/debug/sched/preempt")
        }
        if let commandLine {
            for word in commandLine.split(whereSeparator: \.isWhitespace) where word.hasPrefix("preempt=") {
                return (model(named: String(word.dropFirst("preempt=".count))), "kernel command line")
            }
        }
        let version = version ?? ""
        if version.contains("PREEMPT_RT") { return (.realtime, "kernel version") }
        if let config = configuration {
            // For a PREEMPT_DYNAMIC kernel without preempt= on the command line, the build default applies.
            if config.contains("CONFIG_PREEMPT_RT=y") { return (.realtime, "kernel configuration") }
            if config.contains("CONFIG_PREEMPT_NONE=y") { return (.none, "kernel configuration (build default)") }
            if config.contains("CONFIG_PREEMPT_VOLUNTARY=y") { return (.voluntary, "kernel configuration (build default)") }
            if config.contains("CONFIG_PREEMPT=y") { return (.full, "kernel configuration") }
        }
        if version.contains("PREEMPT_DYNAMIC") { return (.unknown, "kernel version (dynamic, default unknown)") }
        if version.contains("PREEMPT") { return (.full, "kernel version") }
        return (.unknown, "no source readable")
    }

    private static func model(named name: String) -> KernelPreemption {
        switch name {
        case "full": .full
        case "voluntary": .voluntary
        case "none": .none
        default: .unknown
        }
    }

    /// "none (voluntary) full" → "voluntary".
    private static func activeChoice(_ text: String) -> String? {
        guard let open = text.firstIndex(of: "("), let close = text[open...].firstIndex(of: ")") else { return nil }
        return String(text[text.index(after: open)..<close])
    }

    private static func kernelConfig() -> String? {
        if let data = try? Data(contentsOf: URL(fileURLWithPath: "/proc/config.gz")), let text = gunzip(data) { return text }
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return read("/boot/config-\(release)")
    }

    private static func read(_ path: String) -> String? {
        try? String(contentsOfFile: path, encoding: .utf8)
    }

    /// /proc/config.gz through the system's gzip (no compression library in the toolchain).
    private static func gunzip(_ data: Data) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc", "/proc/config.gz"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: output, as: UTF8.self) : nil
    }
}
