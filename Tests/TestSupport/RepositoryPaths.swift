import Foundation

/// Where things are when tests run: the repository checkout and the built executables.
public enum RepositoryPaths {
    /// The repository root (this file is Tests/TestSupport/RepositoryPaths.swift).
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func file(_ relativePath: String) -> URL {
        root.appendingPathComponent(relativePath)
    }

    /// The build products folder that holds this test bundle, `rehabctl` and `rehabsim`.
    public static let productsDirectory: URL = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: executable)
        // The XCTest runner is <products>/RehabHostPackageTests.xctest (a file on Linux); swift-testing
        // may run through a helper inside the same folder.
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("rehabctl").path) { return url }
        }
        return URL(fileURLWithPath: executable).deletingLastPathComponent()
    }()

    public static func product(_ name: String) -> URL {
        productsDirectory.appendingPathComponent(name)
    }
}
