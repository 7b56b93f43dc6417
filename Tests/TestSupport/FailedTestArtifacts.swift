import Foundation

/// What a test leaves in its scratch folder (black boxes, recordings, stderr of the programs it ran) is
/// the evidence when it fails on a busy CI host and nowhere else: a failed test's folder is kept under
/// `.build/failed-test-artifacts/`, a passed test's is removed.
public enum FailedTestArtifacts {
    /// Where failed tests' folders are kept.
    public static let directory = RepositoryPaths.file(".build/failed-test-artifacts")

    /// Removes `folder`, or, when `failed`, moves it to `directory/<testName>-<unix seconds>` and says where on
    /// standard error (the test log).
    public static func settle(_ folder: String, testName: String, failed: Bool) {
        guard failed else {
            try? FileManager.default.removeItem(atPath: folder)
            return
        }
        let safeName = String(testName.map { $0.isLetter || $0.isNumber ? $0 : "-" })
        let destination = directory.appendingPathComponent("\(safeName)-\(Int(Date().timeIntervalSince1970))")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try FileManager.default.moveItem(atPath: folder, toPath: destination.path)
            FileHandle.standardError.write(Data("kept the failed test's files in \(destination.path)\n".utf8))
        } catch {
            FileHandle.standardError.write(Data("could not keep the failed test's files (\(folder)): \(error)\n".utf8))
        }
    }
}
