import Glibc

/// Why an output file was not written. Whatever was at `path` before is left as it was.
public struct OutputFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What an existing path is (`lstat`: a symbolic link is one itself, never what it points to).
    public enum FileKind: String, Sendable, Equatable {
        case regularFile = "a regular file"
        case symbolicLink = "a symbolic link"
        case characterDevice = "a character device"
        case blockDevice = "a block device"
        case fifo = "a FIFO (named pipe)"
        case directory = "a directory"
        case socket = "a socket"
        case unknown = "an unknown kind of file"

        public init(mode: mode_t) {
            switch mode & S_IFMT {
            case S_IFREG: self = .regularFile
            case S_IFLNK: self = .symbolicLink
            case S_IFCHR: self = .characterDevice
            case S_IFBLK: self = .blockDevice
            case S_IFIFO: self = .fifo
            case S_IFDIR: self = .directory
            case S_IFSOCK: self = .socket
            default: self = .unknown
            }
        }
    }

    public enum Problem: Sendable, Equatable, CustomStringConvertible {
        /// The path exists and is not a regular file: refused before anything was written, and
        /// left as it is (a symbolic link is not followed, a device or FIFO is not opened).
        case notARegularFile(FileKind)
        /// A system call failed (permission, full disk, a missing folder that cannot be made).
        case system(Errno)

        public var description: String {
            switch self {
            case .notARegularFile(let kind):
                "it is \(kind.rawValue), not a regular file, and is left as it is: give the path of a regular file (or of a new one)"
            case .system(let error): error.description
            }
        }
    }

    /// The output path asked for.
    public var path: String
    public var problem: Problem

    public init(path: String, problem: Problem) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "cannot write \(path): \(problem)" }

    /// The nearest errno, for callers that speak `Errno` (a symbolic link: ELOOP, as `O_NOFOLLOW`
    /// says it; a directory: EISDIR; any other file that is not regular: EEXIST).
    public var nearestErrno: Errno {
        switch problem {
        case .system(let error): error
        case .notARegularFile(.symbolicLink): Errno(rawValue: ELOOP)
        case .notARegularFile(.directory): .isADirectory
        case .notARegularFile: Errno(rawValue: EEXIST)
        }
    }

    /// What is at `path` now; nil when nothing is (or it cannot be looked at).
    ///
    /// The corresponding C function is `lstat`.
    public static func kind(at path: String) -> FileKind? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        return FileKind(mode: status.st_mode)
    }
}

/// Writes whole files so that a crash or power loss leaves either the old file or the complete new
/// one, never a torn one, and so that nothing but a regular file at the path is ever touched:
///
/// 1. the path is refused, before anything is written, when it exists and is not a regular file
///    (`lstat`: a symbolic link, a device node, a FIFO, a directory, a socket);
/// 2. the contents go to a new, uniquely named temporary beside it, `.NAME.<pid>.<random>.partial`,
///    created with `O_CREAT | O_EXCL | O_NOFOLLOW` (an existing name or a planted symbolic link is
///    never opened, let alone followed), then `fsync`;
/// 3. the path is checked again and the temporary renamed onto it (`rename` replaces a directory
///    entry: it never writes through a link), then the folder is `fsync`ed.
///
/// On any failure the temporary is removed. The corresponding C functions are `lstat`, `open`,
/// `write`, `fsync`, `rename`, `unlink`.
public enum DurableFile {
    /// Writes `contents` to `path` (mode `mode`, 0644 by default; 0600 for patient data), creating
    /// missing parent directories (0755). See the type's description for what is refused.
    public static func save(_ contents: String, to path: String, mode: mode_t = 0o644) throws(OutputFileError) {
        try save(bytes: Array(contents.utf8), to: path, mode: mode)
    }

    /// Writes `bytes` to `path` (mode `mode`, 0644 by default; 0600 for patient data), creating
    /// missing parent directories (0755). See the type's description for what is refused.
    public static func save(bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(OutputFileError) {
        try checkOutputPath(path)
        let directory = parentDirectory(of: path)
        do throws(Errno) {
            try makeDirectories(directory)
        } catch {
            throw OutputFileError(path: path, problem: .system(error))
        }
        let (temporary, descriptor) = try createTemporary(for: path, in: directory, mode: mode)
        var failure: OutputFileError?
        do throws(Errno) {
            try AppendOnlyFile.writeAll(bytes, to: descriptor)
            if fsync(descriptor) != 0 { throw Errno.current }
        } catch {
            failure = OutputFileError(path: path, problem: .system(error))
        }
        if close(descriptor) != 0 && failure == nil && errno != EINTR {
            failure = OutputFileError(path: path, problem: .system(.current))
        }
        if failure == nil {
            // Again just before the rename: what appeared at the path meanwhile is not replaced.
            do throws(OutputFileError) { try checkOutputPath(path) } catch { failure = error }
        }
        if failure == nil && rename(temporary, path) != 0 {
            failure = OutputFileError(path: path, problem: .system(.current))
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
        syncDirectory(directory)
    }

    /// Refuses `path` when it exists and is not a regular file (a symbolic link, even to a regular
    /// file; a device node; a FIFO; a directory; a socket). A missing path is fine. Callers check
    /// early with it to fail before doing any work; `save` checks again itself.
    ///
    /// The corresponding C function is `lstat`.
    public static func checkOutputPath(_ path: String) throws(OutputFileError) {
        guard !path.isEmpty else { throw OutputFileError(path: path, problem: .system(.noSuchFileOrDirectory)) }
        // "out/" names a folder: never a file to write.
        guard !path.hasSuffix("/") else { throw OutputFileError(path: path, problem: .notARegularFile(.directory)) }
        var status = stat()
        if lstat(path, &status) != 0 {
            let error = Errno.current
            if error == .noSuchFileOrDirectory { return }
            throw OutputFileError(path: path, problem: .system(error))
        }
        let kind = OutputFileError.FileKind(mode: status.st_mode)
        guard kind == .regularFile else { throw OutputFileError(path: path, problem: .notARegularFile(kind)) }
    }

    /// Writes `contents` to `path` like `save` (mode 0644); a refused path throws its nearest errno
    /// (`OutputFileError.nearestErrno`). Prefer `save`: its error says what is at the path.
    public static func write(_ contents: String, to path: String) throws(Errno) {
        try write(bytes: Array(contents.utf8), to: path)
    }

    /// Writes `bytes` to `path` like `save` (mode 0644); a refused path throws its nearest errno
    /// (`OutputFileError.nearestErrno`). Prefer `save`: its error says what is at the path.
    public static func write(bytes: [UInt8], to path: String) throws(Errno) {
        do throws(OutputFileError) {
            try save(bytes: bytes, to: path)
        } catch {
            throw error.nearestErrno
        }
    }

    /// Writes `bytes` whole to standard output (`-` as an output path on a command line).
    ///
    /// The corresponding C function is `write`.
    public static func writeStandardOutput(_ bytes: [UInt8]) throws(Errno) {
        try AppendOnlyFile.writeAll(bytes, to: STDOUT_FILENO)
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

    /// A new temporary beside `path`: `.NAME.<pid>.<random>.partial` in `directory`, created with
    /// `O_EXCL | O_NOFOLLOW` (a name taken by anything, a symbolic link included, is skipped).
    ///
    /// The corresponding C function is `open`.
    private static func createTemporary(for path: String, in directory: String, mode: mode_t)
        throws(OutputFileError) -> (path: String, descriptor: Int32)
    {
        let name = path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
        // Room for the decorations within NAME_MAX (255 bytes).
        let base = String(decoding: name.utf8.prefix(200), as: UTF8.self)
        let folder = directory == "/" ? "/" : directory + "/"
        var lastError = Errno(rawValue: EEXIST)
        for _ in 0..<16 {
            let random = String(UInt64.random(in: UInt64.min...UInt64.max), radix: 16)
            let candidate = folder + ".\(base).\(getpid()).\(random).partial"
            let descriptor = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if descriptor >= 0 { return (candidate, descriptor) }
            lastError = Errno.current
            guard lastError.rawValue == EEXIST || lastError == .interrupted else { break }
        }
        throw OutputFileError(path: path, problem: .system(lastError))
    }

    /// Makes a rename or a new entry in `directory` survive a power loss (best effort: some file
    /// systems cannot sync a folder).
    ///
    /// The corresponding C functions are `open` and `fsync`.
    static func syncDirectory(_ directory: String) {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}

/// A file written front to back as data arrives (a recording): every `append` is handed to the
/// kernel at once, so a crash of this process loses nothing appended; `sync` makes it survive a
/// power loss too.
///
/// The file is always new: it is created at its final path (so that what a crash leaves behind is
/// where it was asked for, for `rehabctl recover`) with `O_CREAT | O_EXCL | O_NOFOLLOW`, so an
/// existing path — an earlier recording, a symbolic link (not followed), a device node, a FIFO (not
/// opened, so nothing waits for a reader) — is never written to.
///
/// The corresponding C functions are `open`, `write`, `fdatasync`, `fsync`, `close`.
public final class AppendOnlyFile {
    public let path: String
    private var descriptor: Int32
    private var directorySynced = false
    /// Bytes appended so far.
    public private(set) var size: UInt64 = 0

    /// Creates `path` as a new file, mode `mode` (0600 by default: recordings hold patient data),
    /// creating missing parent directories (0755). Throws EEXIST when anything is at `path`
    /// already (`OutputFileError.kind(at:)` says what).
    public init(creating path: String, mode: mode_t = 0o600) throws(Errno) {
        self.path = path
        try DurableFile.makeDirectories(DurableFile.parentDirectory(of: path))
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw Errno.current }
    }

    deinit { close() }

    public func append(_ bytes: [UInt8]) throws(Errno) {
        guard descriptor >= 0 else { throw Errno(rawValue: EBADF) }
        try Self.writeAll(bytes, to: descriptor)
        size += UInt64(bytes.count)
    }

    /// Syncs the data; the first time, also the folder (the file's new entry in it).
    public func sync() throws(Errno) {
        guard descriptor >= 0 else { return }
        if fdatasync(descriptor) != 0 { throw Errno.current }
        if !directorySynced {
            directorySynced = true
            DurableFile.syncDirectory(DurableFile.parentDirectory(of: path))
        }
    }

    public func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    /// Writes all of `bytes` to `fd`, retrying after EINTR and short writes.
    ///
    /// The corresponding C function is `write`.
    public static func writeAll(_ bytes: [UInt8], to fd: Int32) throws(Errno) {
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
