import Glibc

/// Why a file could not be opened or read for reading.
public enum FileReadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path is not a regular file (a folder, a FIFO, a device): refused before any read, so that
    /// a FIFO never makes the reader wait for a writer.
    case notARegularFile(OutputFileError.FileKind)
    /// A system call failed (missing file, permission, I/O error).
    case system(Errno)

    public var description: String {
        switch self {
        case .notARegularFile(let kind): "it is \(kind.rawValue), not a regular file"
        case .system(let error): error.description
        }
    }

    /// The nearest errno, for callers that map errors to exit codes by errno.
    public var nearestErrno: Errno {
        switch self {
        case .system(let error): error
        case .notARegularFile(.directory): .isADirectory
        case .notARegularFile: .invalidArgument
        }
    }
}

/// A regular file read at chosen offsets, never whole: an index at its end, one record in its
/// middle. It counts the bytes it read, so that a caller (and a test) can show that looking at many
/// large files reads kilobytes, not the files.
///
/// The corresponding C functions are `open`, `fstat`, `pread` and `close`.
public final class ReadOnlyFile {
    public let path: String
    /// The file's size when it was opened [bytes].
    public let size: Int
    /// Bytes read so far.
    public private(set) var bytesRead = 0
    private var descriptor: Int32

    /// Opens `path` for reading. Anything but a regular file (after following symbolic links) is
    /// refused: it is opened non-blocking, so a FIFO does not wait for a writer, and checked with
    /// `fstat` before the first read.
    public init(path: String) throws(FileReadError) {
        self.path = path
        let opened = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard opened >= 0 else { throw .system(.current) }
        var status = stat()
        guard fstat(opened, &status) == 0 else {
            let error = Errno.current
            Glibc.close(opened)
            throw .system(error)
        }
        let kind = OutputFileError.FileKind(mode: status.st_mode)
        guard kind == .regularFile else {
            Glibc.close(opened)
            throw .notARegularFile(kind)
        }
        descriptor = opened
        size = Int(status.st_size)
    }

    deinit { close() }

    /// Up to `count` bytes from `offset` (fewer only at the end of the file), retrying after EINTR
    /// and short reads.
    ///
    /// The corresponding C function is `pread`.
    public func read(at offset: Int, count: Int) throws(Errno) -> [UInt8] {
        guard descriptor >= 0 else { throw Errno(rawValue: EBADF) }
        guard offset >= 0, count >= 0 else { throw Errno.invalidArgument }
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        var failure: Errno?
        let fd = descriptor
        bytes.withUnsafeMutableBytes { buffer in
            while filled < count {
                let got = pread(fd, buffer.baseAddress! + filled, count - filled, off_t(offset + filled))
                if got < 0 {
                    if errno == EINTR { continue }
                    failure = Errno.current
                    return
                }
                if got == 0 { return }  // The end of the file.
                filled += got
            }
        }
        bytesRead += filled
        if let failure { throw failure }
        if filled < count { bytes.removeSubrange(filled...) }
        return bytes
    }

    public func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }
}
