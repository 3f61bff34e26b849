#if canImport(Glibc)
import Glibc
#endif

/// A shared, writable mapping of an unnamed file that grows on demand: memory the operating
/// system can write out and drop under pressure (file pages), unlike heap memory, which it can
/// only keep or swap. On-disk vectors live in one.
///
/// The file is created in `directory` and unlinked at once, so it holds derived data only
/// (what it holds is rebuilt from snapshots and the log at every open), never needs a sync,
/// and disappears with the process, even after a crash: no stale file to clean up. Its blocks
/// are reserved when it grows (`posix_fallocate`), so a full disk fails the growth with an error
/// instead of killing the process with `SIGBUS` on a later write to a page without a block.
///
/// Not thread-safe for growth: the owner calls ``grow(toBytes:)`` while nobody reads `base`
/// (it may move); reads and writes of the bytes may run on any threads the owner allows.
public final class ScratchMapping: @unchecked Sendable {
    /// Start of the mapping (page-aligned); changes only in ``grow(toBytes:)``.
    public private(set) var base: UnsafeMutableRawPointer
    /// Bytes mapped (and reserved on disk) from `base`.
    public private(set) var capacity: Int
    private let fd: Int32
    /// For errors and the log: the folder the file was made in.
    private let directory: String

    /// A new, empty mapping of `bytes` (rounded up to a page, at least one) backed by an unnamed
    /// file in `directory`, which must exist.
    public init(directory: String, bytes: Int) throws(StorageError) {
        self.directory = directory
        var name = ""
        var descriptor: Int32 = -1
        // A fresh name (O_EXCL) then unlink: the file lives exactly as long as the descriptor.
        for attempt in 0..<16 {
            name = directory + "/.scratch-\(getpid())-\(UInt32.random(in: .min ... .max))-\(attempt)"
            descriptor = Glibc.open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if descriptor >= 0 || errno != EEXIST { break }
        }
        guard descriptor >= 0 else {
            throw StorageError(.io, "cannot create a scratch file for on-disk vectors", path: directory, errno: errno)
        }
        unlink(name)
        fd = descriptor
        do {
            (base, capacity) = try Self.map(descriptor, bytes: bytes, directory: directory)
        } catch {
            Glibc.close(descriptor)
            throw error
        }
    }

    deinit {
        munmap(base, capacity)
        Glibc.close(fd)
    }

    /// Makes the mapping at least `bytes` long, keeping its content; `base` may move. Throws
    /// (`.io`, `ENOSPC` when the disk is full) with the mapping unchanged.
    public func grow(toBytes bytes: Int) throws(StorageError) {
        guard bytes > capacity else { return }
        try remap(toBytes: bytes)
    }

    private func remap(toBytes bytes: Int) throws(StorageError) {
        let (fresh, length) = try Self.map(fd, bytes: bytes, directory: directory)
        munmap(base, capacity)
        base = fresh
        capacity = length
    }

    /// Reserves `bytes` (rounded up to a page) of the file on disk and maps all of it.
    private static func map(_ fd: Int32, bytes: Int, directory: String) throws(StorageError) -> (UnsafeMutableRawPointer, Int) {
        let length = MappedRegion.roundUpToPage(max(bytes, 1))
        let reserved = posix_fallocate(fd, 0, off_t(length))
        guard reserved == 0 else {
            throw StorageError(.io, "no room on disk for \(length) bytes of on-disk vectors", path: directory, errno: reserved)
        }
        guard let fresh = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), fresh != MAP_FAILED else {
            throw StorageError(.io, "cannot map \(length) bytes of on-disk vectors", path: directory, errno: errno)
        }
        // Vectors are read at random, a few hundred bytes at a time: reading around a fault
        // would fill the page cache with neighbours nobody asked for.
        _ = madvise(fresh, length, Int32(MADV_RANDOM))
        return (fresh, length)
    }

    /// Asks the kernel to start reading `count` bytes from `offset` into memory (they are about
    /// to be read). Advice only: a failure changes nothing.
    @inline(__always)
    public func willRead(offset: Int, count: Int) {
        MappedRegion.willRead(base + offset, count: count)
    }

    /// Bytes of the mapping now in memory (`mincore`), for statistics and tests.
    public func residentBytes() -> Int {
        let page = MappedRegion.pageBytes
        let pages = capacity / page
        var flags = [UInt8](repeating: 0, count: pages)
        guard mincore(base, capacity, &flags) == 0 else { return 0 }
        return flags.reduce(0) { $0 + Int($1 & 1) } * page
    }

    /// Gives the pages of `[offset, offset + count)` back to the kernel (written out first when
    /// dirty: this is a shared file mapping, so nothing is lost). For tests and benchmarks that
    /// want a cold start.
    public func evict(offset: Int = 0, count: Int? = nil) {
        let length = count ?? capacity
        _ = msync(base + offset, length, MS_SYNC)
        _ = madvise(base + offset, length, Int32(MADV_DONTNEED))
        _ = posix_fadvise(fd, off_t(offset), off_t(length), POSIX_FADV_DONTNEED)
    }
}
