#if canImport(Glibc)
import Glibc
#endif

/// Bytes loaded without copying: a private, copy-on-write mapping of part of a file (`mmap`
/// with `MAP_PRIVATE`), optionally followed by zeroed headroom, or a heap copy when there is
/// no file (uploaded bytes). Writes land in private pages: the file never changes. Unmapped
/// (or freed) when the last reference goes.
///
/// A mapped region reads the file lazily, page by page, as its bytes are touched. Snapshot
/// files are never modified in place (they are written aside and renamed), so the pages stay
/// valid; truncating a mapped file by hand would make touching its pages fault (`SIGBUS`),
/// as with any memory-mapped database.
public final class MappedRegion: @unchecked Sendable {
    /// Start of the bytes (page-aligned when mapped).
    public let base: UnsafeMutableRawPointer
    /// Bytes that hold the file's content, from `base`.
    public let count: Int
    /// Bytes that may be read and written from `base` (`count`, then zeros).
    public let capacity: Int
    /// Length of the mapping to unmap; 0 for a heap copy.
    private let mappedLength: Int

    private init(base: UnsafeMutableRawPointer, count: Int, capacity: Int, mappedLength: Int) {
        self.base = base
        self.count = count
        self.capacity = capacity
        self.mappedLength = mappedLength
    }

    deinit {
        if mappedLength > 0 { munmap(base, mappedLength) } else { base.deallocate() }
    }

    static let pageBytes = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))

    static func roundUpToPage(_ bytes: Int) -> Int { (bytes + pageBytes - 1) / pageBytes * pageBytes }

    /// Asks the kernel to start reading the `count` bytes at `start` (a file mapping's pages about
    /// to be read). Advice only: a failure (memory that is not a mapping) changes nothing.
    @inline(__always)
    static func willRead(_ start: UnsafeRawPointer, count: Int) {
        let address = Int(bitPattern: start)
        let aligned = address & ~(pageBytes &- 1)
        guard let page = UnsafeMutableRawPointer(bitPattern: aligned) else { return }
        _ = madvise(page, address &+ count &- aligned, Int32(MADV_WILLNEED))
    }

    /// Maps `count` bytes of `file` at `offset` (a multiple of the page size, and the file must
    /// extend to `offset + count` rounded up to a page) at the start of a fresh region of
    /// `capacity` bytes; the rest of the region is zeroed memory, committed only when touched.
    static func map(_ file: DurableFile, offset: Int, count: Int, capacity: Int) throws(StorageError) -> MappedRegion {
        precondition(offset >= 0 && count >= 0 && offset % pageBytes == 0)
        let length = roundUpToPage(max(capacity, count, 1))
        guard let region = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              region != MAP_FAILED else {
            throw StorageError(.io, "cannot reserve \(length) bytes of address space for \(StorageError.fileName(file.path))",
                               path: file.path, errno: errno)
        }
        if count > 0 {
            let fileLength = roundUpToPage(count)
            let placed = mmap(region, fileLength, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, file.descriptor, off_t(offset))
            guard placed == region else {
                let code = errno
                munmap(region, length)
                throw StorageError(.io, "cannot map \(count) bytes at \(offset) of \(StorageError.fileName(file.path))",
                                   path: file.path, errno: code)
            }
            // Read the file ahead, in the background: what opens a snapshot (log replay, the
            // first searches) touches its pages at random, one fault at a time. Replay after a
            // cold start was 7-11 % faster per point with it (docs/benchmarks/storage-recovery.md).
            // Advice only: a failure changes nothing.
            _ = madvise(region, fileLength, Int32(MADV_WILLNEED))
        }
        return MappedRegion(base: region, count: count, capacity: length, mappedLength: length)
    }

    /// A heap copy of `bytes` with `capacity` bytes of room (zeros after the copy).
    static func copy(of bytes: UnsafeRawBufferPointer, capacity: Int) -> MappedRegion {
        let length = max(capacity, bytes.count, 1)
        let base = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 64)
        if let source = bytes.baseAddress { base.copyMemory(from: source, byteCount: bytes.count) }
        (base + bytes.count).initializeMemory(as: UInt8.self, repeating: 0, count: length - bytes.count)
        return MappedRegion(base: base, count: bytes.count, capacity: length, mappedLength: 0)
    }

    /// The content bytes, read-only.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}
