#if canImport(Glibc)
import Glibc
#endif

/// Small files written whole and atomically (configuration, manifests): a reader sees the
/// old content or the new, never a mix, even after a crash.
public enum AtomicFile {
    /// Writes `bytes` to `path` through a temporary file, fsync, rename and directory fsync.
    public static func write(_ bytes: [UInt8], to path: String) throws(StorageError) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        try Directory.create(directory)
        let temporary = path + ".tmp"
        let file = try DurableFile(path: temporary, create: true)
        try file.truncate(to: 0)
        try file.write(bytes, at: 0)
        try file.sync()
        guard rename(temporary, path) == 0 else { throw StorageError(.io, "cannot rename '\(temporary)'", errno: errno) }
        try Directory.sync(directory)
    }

    /// The whole file.
    public static func read(_ path: String) throws(StorageError) -> [UInt8] {
        let file = try DurableFile(path: path, create: false)
        return try file.read(count: try file.size(), at: 0)
    }

    /// True when a file exists at `path`.
    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }
}
