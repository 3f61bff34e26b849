#if canImport(Glibc)
import Glibc
#endif

/// A file opened for positioned reads and writes; with `MappedRegion`, the one place Storage
/// makes file system calls. Not thread-safe: owners serialise access.
final class DurableFile {
    let path: String
    private var fd: Int32
    /// The descriptor, for `MappedRegion` (valid while this object lives).
    var descriptor: Int32 { fd }

    /// Opens (and with `create`, creates) a file for reading and writing.
    init(path: String, create: Bool) throws(StorageError) {
        self.path = path
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        fd = Glibc.open(path, flags, 0o644)
        guard fd >= 0 else { throw StorageError(.io, "cannot open \(StorageError.fileName(path))", path: path, errno: errno) }
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// Current size in bytes.
    func size() throws(StorageError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw StorageError(.io, "cannot stat \(StorageError.fileName(path))", path: path, errno: errno) }
        return Int(info.st_size)
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) {
        var done = 0
        while done < bytes.count {
            let written = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if written < 0 {
                if errno == EINTR { continue }
                throw StorageError(.io, "cannot write \(StorageError.fileName(path))", path: path, errno: errno)
            }
            done += written
        }
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: [UInt8], at offset: Int) throws(StorageError) {
        var failure: StorageError?
        bytes.withUnsafeBytes { raw in
            do throws(StorageError) { try write(raw, at: offset) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Reads exactly `count` bytes at `offset`, or fewer at the end of the file.
    func read(count: Int, at offset: Int) throws(StorageError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        var readErrno: Int32?
        buffer.withUnsafeMutableBytes { raw in
            while done < count {
                let got = pread(fd, raw.baseAddress! + done, count - done, off_t(offset + done))
                if got < 0 {
                    if errno == EINTR { continue }
                    readErrno = errno
                    return
                }
                if got == 0 { break }
                done += got
            }
        }
        if let readErrno { throw StorageError(.io, "cannot read \(StorageError.fileName(path))", path: path, errno: readErrno) }
        return done == count ? buffer : Array(buffer[0..<done])
    }

    /// Forces written data to the device.
    func sync() throws(StorageError) {
        guard fdatasync(fd) == 0 else { throw StorageError(.io, "cannot sync \(StorageError.fileName(path))", path: path, errno: errno) }
    }

    /// Cuts the file to `size` bytes.
    func truncate(to size: Int) throws(StorageError) {
        guard ftruncate(fd, off_t(size)) == 0 else { throw StorageError(.io, "cannot truncate \(StorageError.fileName(path))", path: path, errno: errno) }
    }
}

/// Directory operations.
enum Directory {
    /// Creates the directory (and its parents) if missing.
    static func create(_ path: String) throws(StorageError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part + "/"
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw StorageError(.io, "cannot create directory \(StorageError.fileName(prefix))", path: prefix, errno: errno)
            }
        }
    }

    /// File names in the directory (not `.` and `..`).
    static func entries(_ path: String) throws(StorageError) -> [String] {
        guard let handle = opendir(path) else { throw StorageError(.io, "cannot list directory \(StorageError.fileName(path))", path: path, errno: errno) }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Makes a directory's entries (created, renamed, deleted files) durable.
    static func sync(_ path: String) throws(StorageError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError(.io, "cannot open directory \(StorageError.fileName(path))", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StorageError(.io, "cannot sync directory \(StorageError.fileName(path))", path: path, errno: errno) }
    }

    /// Deletes a file.
    static func remove(_ path: String) throws(StorageError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw StorageError(.io, "cannot delete \(StorageError.fileName(path))", path: path, errno: errno) }
    }
}
