#if canImport(Glibc)
import Glibc
#endif

/// Small files written whole and atomically (configuration, manifests): a reader sees the
/// old content or the new, never a mix, even after a crash.
public enum AtomicFile {
    /// Writes `bytes` to `path` through a temporary file, fsync, rename and directory fsync.
    public static func write(_ bytes: [UInt8], to path: String) throws(StorageError) {
        try write(to: path) { (file: DurableFile) throws(StorageError) in try file.write(bytes, at: 0) }
    }

    /// The same for content `body` writes into the (empty) temporary file in pieces; returns
    /// what `body` returns.
    static func write<Result>(to path: String,
                              _ body: (DurableFile) throws(StorageError) -> Result) throws(StorageError) -> Result {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        try Directory.create(directory)
        let temporary = path + ".tmp"
        let file = try DurableFile(path: temporary, create: true)
        try file.truncate(to: 0)
        let result = try body(file)
        try file.sync()
        guard Glibc.rename(temporary, path) == 0 else { throw StorageError(.io, "cannot rename \(StorageError.fileName(temporary))", path: temporary, errno: errno) }
        try Directory.sync(directory)
        return result
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

    /// Creates a directory and its parents if missing.
    public static func createDirectory(_ path: String) throws(StorageError) { try Directory.create(path) }

    /// Names in a directory.
    public static func entries(_ path: String) throws(StorageError) -> [String] { try Directory.entries(path) }

    /// Renames a file or directory within one file system, then syncs the parent directories
    /// of both names (the rename is durable when this returns).
    public static func rename(_ source: String, to destination: String) throws(StorageError) {
        guard Glibc.rename(source, destination) == 0 else {
            throw StorageError(.io, "cannot rename \(StorageError.fileName(source)) to \(StorageError.fileName(destination))",
                               path: source, errno: errno)
        }
        for path in Set([source, destination]) {
            if let slash = path.lastIndex(of: "/") { try Directory.sync(String(path[..<slash])) }
        }
    }

    /// Bytes of every regular file under `path` (0 when it does not exist); symbolic links are not followed.
    public static func treeSize(_ path: String) -> Int {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            return ((try? Directory.entries(path)) ?? []).reduce(0) { $0 + treeSize(path + "/" + $1) }
        }
        return (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : 0
    }

    /// Last modification time of `path` in microseconds since the Unix epoch, or `nil`.
    public static func modifiedUnixMicros(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_mtim.tv_sec) * 1_000_000 + Int64(info.st_mtim.tv_nsec) / 1_000
    }

    /// Deletes a directory tree (files and subdirectories), then syncs its parent.
    public static func removeTree(_ path: String) throws(StorageError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in try Directory.entries(path) { try removeTree(path + "/" + name) }
            guard rmdir(path) == 0 else { throw StorageError(.io, "cannot remove directory \(StorageError.fileName(path))", path: path, errno: errno) }
        } else {
            try Directory.remove(path)
        }
        if let slash = path.lastIndex(of: "/") { try Directory.sync(String(path[..<slash])) }
    }
}
