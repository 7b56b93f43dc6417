import Glibc

/// The names in a folder.
///
/// The corresponding C functions are `opendir`, `readdir` and `closedir`.
public enum DirectoryListing {
    /// Every name in `path` except "." and "..", sorted; what each names is not looked at.
    public static func names(in path: String) throws(Errno) -> [String] {
        guard let directory = opendir(path) else { throw Errno.current }
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            // readdir returns nil at the end and on an error: only errno tells them apart.
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { throw Errno.current }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
