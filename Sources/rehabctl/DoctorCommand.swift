import CSystemShims
import CommandLineSupport
import Foundation
import Platform
import StrictJSON
import Transport

/// `rehabctl doctor`: is this machine ready for real-time sessions? Each check says OK, WARN or
/// FAIL, what it found, and what to do.
enum DoctorCommand {
    static let spec = CommandSpec(
        program: "rehabctl", name: "doctor",
        summary: "Check this machine for real-time sessions: kernel, limits, CPUs, serial access, adapters.",
        discussion: """
            A pre-flight to run before a session with a patient. It changes nothing. WARN means the loop
            will run but with more latency or risk than necessary; FAIL means a session at the profile's
            rate cannot work as configured (exit 2). Works on a machine with no devices and no
            real-time kernel: it then explains what to change.
            """,
        options: [.init("--json", help: "Print one JSON object instead of text.")],
        examples: ["rehabctl doctor", "rehabctl doctor --json"])

    enum Status: String {
        case ok = "OK"
        case warn = "WARN"
        case fail = "FAIL"
    }

    struct Check {
        var name: String
        var status: Status
        var detail: String
        var remedy: String?
    }

    static func run(_ parsed: ParsedArguments) throws(CommandFailure) -> ExitCode {
        let checks = [
            kernelPreemption(), realtimePriority(), memoryLocking(), timerSlack(), frequencyGovernor(), isolatedCPUs(),
            kernelThreads(), serialGroup(), udevRules(), ftdiLatency(), cpuDMALatency(),
        ]
        let counts = (ok: checks.filter { $0.status == .ok }.count, warn: checks.filter { $0.status == .warn }.count,
                      fail: checks.filter { $0.status == .fail }.count)
        if parsed.flag("--json") {
            let document: JSONObject = [
                "checks": .array(
                    checks.map { check in
                        .object([
                            "name": .string(check.name), "status": .string(check.status.rawValue), "detail": .string(check.detail),
                            "remedy": check.remedy.map { .string($0) } ?? .null,
                        ])
                    }),
                "ok": .int(counts.ok), "warn": .int(counts.warn), "fail": .int(counts.fail),
            ]
            Terminal.printLine(JSONValue.object(document).serialized(pretty: true))
        } else {
            var lines = ["rehabctl doctor: is this machine ready for real-time sessions?"]
            for check in checks {
                lines.append("  " + check.status.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
                             + check.name.padding(toLength: 22, withPad: " ", startingAt: 0) + check.detail)
                if let remedy = check.remedy, check.status != .ok {
                    lines.append(String(repeating: " ", count: 30) + "→ " + remedy)
                }
            }
            lines.append("  \(counts.ok) OK, \(counts.warn) WARN, \(counts.fail) FAIL")
            Terminal.printLine(lines.joined(separator: "\n"))
        }
        return counts.fail > 0 ? .checkFailed : .success
    }

    // MARK: Checks

    static func kernelPreemption() -> Check {
        let (model, source) = KernelPreemption.detect()
        let detail = "preempt=\(model.rawValue) (from the \(source))"
        switch model {
        case .realtime:
            return Check(name: "kernel preemption", status: .ok, detail: detail)
        case .full:
            return Check(name: "kernel preemption", status: .warn, detail: detail + "; good for development",
                         remedy: "for patient sessions install a PREEMPT_RT kernel (Debian: linux-image-rt-amd64)")
        default:
            return Check(name: "kernel preemption", status: .warn,
                         detail: detail + ": kernel threads can hold a CPU for milliseconds and delay the tty layer",
                         remedy: "boot with preempt=full, better a PREEMPT_RT kernel (Debian: linux-image-rt-amd64); see docs/performance.md")
        }
    }

    static func realtimePriority() -> Check {
        if hasCapability(23) {
            return Check(name: "real-time priority", status: .ok,
                         detail: geteuid() == 0 ? "root (CAP_SYS_NICE): SCHED_FIFO allowed" : "CAP_SYS_NICE: SCHED_FIFO allowed")
        }
        var limit: UInt64 = 0
        _ = rh_rtprio_limit(&limit)
        if limit >= 80 {
            return Check(name: "real-time priority", status: .ok, detail: "rtprio limit \(limit == .max ? "unlimited" : String(limit))")
        }
        return Check(name: "real-time priority", status: .warn,
                     detail: "rtprio limit \(limit): the control loop would run without SCHED_FIFO",
                     remedy: "install hardware/limits/99-rehabhost.conf in /etc/security/limits.d/ and join group rehab, or setcap cap_sys_nice+ep on rehabctl")
    }

    static func memoryLocking() -> Check {
        if hasCapability(14) {
            return Check(name: "memory locking", status: .ok, detail: "CAP_IPC_LOCK: mlockall allowed")
        }
        var limit: UInt64 = 0
        _ = rh_memlock_limit(&limit)
        if limit == .max || limit >= 512 << 20 {
            return Check(name: "memory locking", status: .ok, detail: "memlock limit \(limit == .max ? "unlimited" : "\(limit >> 20) MiB")")
        }
        return Check(name: "memory locking", status: .warn,
                     detail: "memlock limit \(limit >> 10) KiB: page faults could stall the loop",
                     remedy: "install hardware/limits/99-rehabhost.conf (memlock unlimited for group rehab), or setcap cap_ipc_lock+ep on rehabctl")
    }

    static func timerSlack() -> Check {
        let original = rh_get_timer_slack_ns()
        let settable = rh_set_timer_slack_ns(1) == 0 && rh_get_timer_slack_ns() == 1
        _ = rh_set_timer_slack_ns(UInt(max(0, original)))
        return settable
            ? Check(name: "timer slack", status: .ok, detail: "default \(original) ns; the control thread sets 1 ns")
            : Check(name: "timer slack", status: .warn, detail: "cannot be lowered from \(original) ns: wake-ups may be up to that late",
                    remedy: "check that prctl(PR_SET_TIMERSLACK) is not blocked (seccomp, container policy)")
    }

    static func frequencyGovernor() -> Check {
        let cpus = Realtime.onlineCPUCount
        let governors = (0..<cpus).compactMap { read("/sys/devices/system/cpu/cpu\($0)/cpufreq/scaling_governor") }
        guard !governors.isEmpty else {
            return Check(name: "CPU frequency", status: .warn, detail: "no cpufreq driver (a virtual machine?): frequency is the hypervisor's",
                         remedy: "on bare metal, set the governor to performance")
        }
        if Set(governors) == ["performance"] {
            return Check(name: "CPU frequency", status: .ok, detail: "governor performance on all \(cpus) CPUs")
        }
        return Check(name: "CPU frequency", status: .warn, detail: "governors: \(Set(governors).sorted().joined(separator: ", "))",
                     remedy: "sudo cpupower frequency-set -g performance (Debian: linux-cpupower)")
    }

    static func isolatedCPUs() -> Check {
        let isolated = read("/sys/devices/system/cpu/isolated") ?? ""
        if isolated.isEmpty {
            return Check(name: "isolated CPUs", status: .warn, detail: "none: the control thread shares its CPU with everything else",
                         remedy: "boot with isolcpus=N nohz_full=N rcu_nocbs=N and run with --cpu N")
        }
        return Check(name: "isolated CPUs", status: .ok, detail: isolated + " (use one with --cpu)")
    }

    static func kernelThreads() -> Check {
        let known = ["kdamond": "DAMON's memory monitor"]
        var found: [String] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where entry.allSatisfy(\.isNumber) {
            if let name = read("/proc/\(entry)/comm"), let key = known.keys.first(where: { name.hasPrefix($0) }) {
                found.append("\(name) (\(known[key]!))")
            }
        }
        if found.isEmpty { return Check(name: "kernel threads", status: .ok, detail: "none of the known CPU-holding threads run") }
        return Check(name: "kernel threads", status: .warn,
                     detail: found.joined(separator: ", ") + ": on a non-preemptible kernel their runs hold a CPU for up to ~10 ms",
                     remedy: "sudo scripts/rt-tune.sh apply (keeps them away from the tty workers; revert undoes it), better a preemptible kernel or isolcpus; see docs/performance.md")
    }

    static func serialGroup() -> Check {
        if geteuid() == 0 { return Check(name: "serial port access", status: .ok, detail: "root") }
        guard let group = getgrnam("dialout") else {
            return Check(name: "serial port access", status: .warn, detail: "no dialout group on this system",
                         remedy: "install hardware/udev/99-rehabhost.rules, which grants the device to a group")
        }
        let dialout = group.pointee.gr_gid
        var groups = [gid_t](repeating: 0, count: 256)
        let count = getgroups(Int32(groups.count), &groups)
        if getegid() == dialout || groups.prefix(max(0, Int(count))).contains(dialout) {
            return Check(name: "serial port access", status: .ok, detail: "member of dialout")
        }
        return Check(name: "serial port access", status: .warn, detail: "not in the dialout group: opening a port will be refused",
                     remedy: "sudo usermod -aG dialout $USER, then log in again")
    }

    static func udevRules() -> Check {
        let places = ["/etc/udev/rules.d/99-rehabhost.rules", "/lib/udev/rules.d/99-rehabhost.rules", "/usr/lib/udev/rules.d/99-rehabhost.rules"]
        if let found = places.first(where: { FileManager.default.fileExists(atPath: $0) }) {
            return Check(name: "udev rules", status: .ok, detail: found)
        }
        return Check(name: "udev rules", status: .warn, detail: "99-rehabhost.rules not installed: no stable names, no group access, FTDI latency not set",
                     remedy: "sudo cp hardware/udev/99-rehabhost.rules /etc/udev/rules.d/ && sudo udevadm control --reload && sudo udevadm trigger")
    }

    static func ftdiLatency() -> Check {
        let ports = (try? SerialPortEnumerator.list()) ?? []
        let adapters = ports.filter { $0.latencyTimerMilliseconds != nil }
        if adapters.isEmpty { return Check(name: "FTDI latency timer", status: .ok, detail: "no FTDI adapters attached") }
        let slow = adapters.filter { ($0.latencyTimerMilliseconds ?? 0) > 1 }
        if slow.isEmpty {
            return Check(name: "FTDI latency timer", status: .ok, detail: adapters.map { "\($0.path): 1 ms" }.joined(separator: ", "))
        }
        // Above 2 ms the adapter holds replies past SR-1's 3 cycles at 1 kHz: a session cannot work.
        let status: Status = slow.contains { ($0.latencyTimerMilliseconds ?? 0) > 2 } ? .fail : .warn
        return Check(name: "FTDI latency timer", status: status,
                     detail: slow.map { "\($0.path): \($0.latencyTimerMilliseconds!) ms" }.joined(separator: ", ") + " (1 ms wanted)",
                     remedy: "install hardware/udev/99-rehabhost.rules, or echo 1 > /sys/bus/usb-serial/devices/<port>/latency_timer")
    }

    static func cpuDMALatency() -> Check {
        guard FileManager.default.fileExists(atPath: "/dev/cpu_dma_latency") else {
            return Check(name: "CPU wake-up latency", status: .warn, detail: "/dev/cpu_dma_latency missing: deep idle states may delay wake-ups",
                         remedy: "enable CONFIG_CPU_IDLE/PM QoS, or limit C-states on the kernel command line (processor.max_cstate=1)")
        }
        if access("/dev/cpu_dma_latency", W_OK) == 0 {
            return Check(name: "CPU wake-up latency", status: .ok, detail: "/dev/cpu_dma_latency writable: sessions hold it at 0 µs")
        }
        return Check(name: "CPU wake-up latency", status: .warn, detail: "/dev/cpu_dma_latency not writable: deep idle states may delay wake-ups",
                     remedy: "run sessions with a group that may write it (udev: KERNEL==\"cpu_dma_latency\", GROUP=\"rehab\", MODE=\"0660\")")
    }

    // MARK: Helpers

    static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether the effective capability set (/proc/self/status CapEff) has bit `bit`.
    static func hasCapability(_ bit: Int) -> Bool {
        guard let status = read("/proc/self/status"),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
            let value = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        return value & (1 << UInt64(bit)) != 0
    }
}
