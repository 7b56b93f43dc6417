import Glibc

/// Writes whole files so that a crash or power loss leaves either the old file or the complete new
/// one, never a torn one: a temporary file beside it, fsync, rename, fsync of the directory.
///
/// The corresponding C functions are `open`, `write`, `fsync`, `rename`.
public enum DurableFile {
    /// Writes `contents` to `path` (mode 0644), creating missing parent directories (0755).
    public static func write(_ contents: String, to path: String) throws(Errno) {
        try write(bytes: Array(contents.utf8), to: path)
    }

    /// Writes `bytes` to `path` (mode 0644), creating missing parent directories (0755).
    public static func write(bytes: [UInt8], to path: String) throws(Errno) {
        let directory = parentDirectory(of: path)
        try makeDirectories(directory)
        let temporary = path + ".partial"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Errno.current }
        var failure: Errno?
        do throws(Errno) {
            try AppendOnlyFile.writeAll(bytes, to: fd)
        } catch {
            failure = error
        }
        if failure == nil && fsync(fd) != 0 { failure = Errno.current }
        close(fd)
        if failure == nil && rename(temporary, path) != 0 { failure = Errno.current }
        if let failure {
            unlink(temporary)
            throw failure
        }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// Creates `path` and its missing parents (mode 0755).
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(Errno) {
        if path.isEmpty || path == "/" || path == "." { return }
        var status = stat()
        if stat(path, &status) == 0 {
            if (status.st_mode & S_IFMT) != S_IFDIR { throw Errno(rawValue: ENOTDIR) }
            return
        }
        try makeDirectories(parentDirectory(of: path), mode: mode)
        if mkdir(path, mode) != 0 && errno != EEXIST { throw Errno.current }
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }
}

/// A file written front to back as data arrives (a recording): every `append` is handed to the
/// kernel at once, so a crash of this process loses nothing appended; `sync` makes it survive a
/// power loss too.
///
/// The corresponding C functions are `open`, `write`, `fdatasync`, `close`.
public final class AppendOnlyFile {
    public let path: String
    private var descriptor: Int32
    /// Bytes appended so far.
    public private(set) var size: UInt64 = 0

    /// Creates (or truncates) `path`, mode 0644, creating missing parent directories.
    public init(creating path: String) throws(Errno) {
        self.path = path
        try DurableFile.makeDirectories(DurableFile.parentDirectory(of: path))
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Errno.current }
    }

    deinit { close() }

    public func append(_ bytes: [UInt8]) throws(Errno) {
        guard descriptor >= 0 else { throw Errno(rawValue: EBADF) }
        try Self.writeAll(bytes, to: descriptor)
        size += UInt64(bytes.count)
    }

    public func sync() throws(Errno) {
        guard descriptor >= 0 else { return }
        if fdatasync(descriptor) != 0 { throw Errno.current }
    }

    public func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    static func writeAll(_ bytes: [UInt8], to fd: Int32) throws(Errno) {
        var failure: Errno?
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = Errno.current
                    return
                }
                offset += written
            }
        }
        if let failure { throw failure }
    }
}
