import Foundation
import Platform
import Profiles
import Transport

extension ProfileError {
    public var exitCode: ExitCode {
        switch self {
        case .notFound, .unreadable: .noInput
        case .syntax, .invalid: .dataError
        }
    }
}

extension Errno {
    /// For file errors: missing → 66, permission → 77, anything else (full disk, I/O) → 74.
    public var exitCode: ExitCode {
        switch rawValue {
        case ENOENT, ENOTDIR: .noInput
        case EACCES, EPERM, EROFS: .permission
        default: .ioError
        }
    }
}

extension TransportError {
    public var exitCode: ExitCode {
        switch self {
        case .notFound, .notATerminal, .usbUnavailable: .unavailable
        case .permissionDenied: .permission
        case .busy: .busy
        case .unsupportedBaudRate: .configuration
        case .deviceGone, .timedOut, .system: .ioError
        case .unsupported: .unavailable
        }
    }
}

/// Where hardware profiles are looked up, in order: $REHABHOST_HARDWARE_DIR, ./hardware, then a
/// `hardware/` folder above the executable (a source checkout: .build/…/rehabctl).
public enum ProfileSearch {
    public static func folders() -> [String] {
        var folders: [String] = []
        if let configured = ProcessInfo.processInfo.environment["REHABHOST_HARDWARE_DIR"], !configured.isEmpty {
            folders.append(configured)
        }
        folders.append(FileManager.default.currentDirectoryPath + "/hardware")
        if let executable = currentExecutablePath() {
            var url = URL(fileURLWithPath: executable).deletingLastPathComponent()
            for _ in 0..<5 {
                url.deleteLastPathComponent()
                let candidate = url.appendingPathComponent("hardware").path
                if FileManager.default.fileExists(atPath: candidate + "/wrist-trainer.json") {
                    folders.append(candidate)
                    break
                }
            }
        }
        var seen = Set<String>()
        return folders.filter { seen.insert(URL(fileURLWithPath: $0).standardized.path).inserted }
    }

    /// Resolves and loads a profile by name or path.
    public static func load(_ nameOrPath: String) throws(ProfileError) -> HardwareProfile {
        let path = try HardwareProfileLoader.resolve(nameOrPath, searchFolders: folders())
        return try HardwareProfileLoader.load(path: path)
    }

    /// A tracker profile by name (`hardware/trackers/NAME.json` in the search folders) or path.
    public static func loadTracker(_ nameOrPath: String) throws(ProfileError) -> TrackerProfile {
        let path = try HardwareProfileLoader.resolve(nameOrPath, searchFolders: folders().map { $0 + "/trackers" })
        return try TrackerProfileLoader.load(path: path)
    }
}

/// Standard error and exit, in one place for both programs.
public enum Terminal {
    /// Never traps: `FileHandle.write(_:)` stops the process when the write fails (standard error on a
    /// full disk, a file over its size limit, a closed pipe), which would end a session mid-exercise.
    public static func printError(_ message: String) {
        try? FileHandle.standardError.write(contentsOf: Data((message + "\n").utf8))
    }

    /// Prints `failure` to standard error and exits with its code.
    public static func exit(with failure: CommandFailure) -> Never {
        printError(failure.message)
        Foundation.exit(failure.exitCode.rawValue)
    }

    public static func exit(_ code: ExitCode) -> Never {
        Foundation.exit(code.rawValue)
    }

    /// Prints a line to standard output and flushes it (other programs may be waiting for it).
    public static func printLine(_ text: String) {
        // Unbuffered write(2): the line is out before this returns, without touching C's `stdout`.
        try? FileHandle.standardOutput.write(contentsOf: Data((text + "\n").utf8))
    }
}
