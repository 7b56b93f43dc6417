import CZstd

/// Zstandard for MCAP chunks, through Debian's libzstd (its stable, one-shot API only): the writer
/// compresses each closed chunk's records into one frame, the reader decompresses them.
enum Zstd {
    /// The compression level of recordings. Level 1, not libzstd's default 3: compressing the 45.5 MB
    /// of records of a 48.2 MB recording (a wrist-trainer session with two trackers, 165 403 messages)
    /// chunk by chunk, as the writer does (369 chunks, 123 kB each on average), `zstd -1` gives
    /// 3.65 MB and `zstd -3` 3.69 MB: the faster level is also the smaller one on our JSON (the
    /// `zstd` 1.5.4 CLI on the 2-core development VM; docs/telemetry.md, "Compression").
    static let level: Int32 = 1

    /// The most zstd data can expand: a block gives at most 128 KiB, and one that gives anything is
    /// at least 4 bytes (a 3-byte header and one byte: an RLE block). A chunk claiming more for its
    /// size is refused before anything is allocated for it.
    static let maximumExpansion = 32_768
    /// The largest decompressed chunk the reader takes: 64 times the 1 MiB chunks of this writer and
    /// of the official Python one (its default `chunk_size`), and a bound on what one damaged size
    /// field can make the reader allocate.
    static let maximumChunkBytes = 64 << 20

    /// A libzstd error code, by its name ("Corrupted block detected").
    struct Failure: Error, CustomStringConvertible {
        var description: String

        init(code: Int) {
            description = String(cString: ZSTD_getErrorName(code))
        }
    }

    /// Decompresses `source`, whole zstd frames, into `destination`; returns how many bytes it wrote.
    /// Never writes past `destination`: a frame that would is an error. The corresponding C function
    /// is `ZSTD_decompress`.
    static func decompress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Result<Int, Failure> {
        let result = ZSTD_decompress(destination.baseAddress, destination.count, source.baseAddress, source.count)
        return ZSTD_isError(result) == 0 ? .success(result) : .failure(Failure(code: result))
    }

    /// One compression context and one output buffer, each made once and reused for every chunk:
    /// in steady state a chunk's compression allocates nothing (libzstd keeps the context's tables
    /// while the chunks keep their size), so the writer thread frees and maps no large blocks that
    /// would make the kernel interrupt the control loop's CPU.
    final class Compressor: @unchecked Sendable {
        // @unchecked: the context and the buffer are touched only by `compress`, which `MCAPWriter`
        // calls from its mutating `closeChunk` after making sure, copy-on-write, that no other writer
        // value holds this compressor (`isKnownUniquelyReferenced`). Each writer value is used by one
        // thread at a time (the recorder's writer thread, or the black box's), so this is too.
        private let context: OpaquePointer
        private var buffer: [UInt8]

        /// A context and a buffer for chunks of up to `chunkBytes`; nil when libzstd cannot allocate
        /// a context (the writer then stores its chunks uncompressed). The corresponding C function is
        /// `ZSTD_createCCtx`.
        init?(chunkBytes: Int) {
            guard let context = ZSTD_createCCtx() else { return nil }
            self.context = context
            let bound = ZSTD_compressBound(chunkBytes)
            buffer = [UInt8](repeating: 0, count: ZSTD_isError(bound) == 0 ? bound : 0)
        }

        deinit {
            _ = ZSTD_freeCCtx(context)
        }

        /// Compresses `records` into one frame at `Zstd.level` and hands the compressed bytes to `body`
        /// (valid only during the call). nil when libzstd fails, which with a buffer of
        /// `ZSTD_compressBound` bytes only an allocation failure inside it can cause. The
        /// corresponding C function is `ZSTD_compressCCtx`.
        func compress<Value>(_ records: [UInt8], _ body: (UnsafeRawBufferPointer) -> Value) -> Value? {
            let bound = ZSTD_compressBound(records.count)
            guard ZSTD_isError(bound) == 0 else { return nil }
            // Grows only for a chunk larger than any before (recovery's, or a message past the chunk size).
            if buffer.count < bound { buffer = [UInt8](repeating: 0, count: bound) }
            let size = buffer.withUnsafeMutableBytes { destination in
                records.withUnsafeBytes { source in
                    ZSTD_compressCCtx(context, destination.baseAddress, destination.count, source.baseAddress, source.count, Zstd.level)
                }
            }
            guard ZSTD_isError(size) == 0 else { return nil }
            return buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<size])) }
        }
    }
}
