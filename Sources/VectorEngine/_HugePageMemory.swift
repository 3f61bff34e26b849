#if canImport(Glibc)
private import Glibc
#endif

/// Allocation for the large buffers a graph walk reads at random (vectors, level-0 links,
/// visited marks): from `thresholdBytes` up, each buffer is its own anonymous mapping,
/// aligned to 2 MiB and marked `MADV_HUGEPAGE`, so Linux backs it with transparent huge
/// pages where it can (also when the system setting is `madvise`, the common default).
///
/// Why: a walk over a million 128-dimension vectors touches a new 4 KiB page for almost every
/// distance, and on 4 KiB pages each of those is a TLB miss and a page walk (two-level in a
/// virtual machine) before the cache miss itself. 512 MB of vectors span 256 huge pages, which
/// the TLB holds. Smaller buffers, and other systems, use the ordinary allocator.
///
/// The memory is zeroed at first touch, like any anonymous mapping; callers initialise it.
/// Free a buffer with ``deallocate(_:capacity:)`` and the same capacity it was allocated with.
enum _HugePageMemory {
    static let hugePageBytes = 2 << 20
    /// Buffers from this size up are mapped on their own.
    static let thresholdBytes = 4 << 20

    private static func mappedBytes<T>(_: T.Type, capacity: Int) -> Int? {
        #if os(Linux)
        let bytes = capacity * MemoryLayout<T>.stride
        if bytes < thresholdBytes { return nil }
        return (bytes + hugePageBytes - 1) / hugePageBytes * hugePageBytes
        #else
        return nil
        #endif
    }

    /// Whether `capacity` values of `T` get a huge-page mapping of their own (on Linux, from
    /// `thresholdBytes` up).
    static func isMapped<T>(_: T.Type, capacity: Int) -> Bool {
        mappedBytes(T.self, capacity: capacity) != nil
    }

    /// Room for `capacity` values of `T`, uninitialised.
    static func allocate<T>(_: T.Type, capacity: Int) -> UnsafeMutablePointer<T> {
        #if os(Linux)
        if let bytes = mappedBytes(T.self, capacity: capacity) {
            // Map one huge page more than needed, then unmap the unaligned head and the tail.
            let span = bytes + hugePageBytes
            guard let raw = mmap(nil, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  raw != MAP_FAILED else { preconditionFailure("out of memory mapping \(span) bytes") }
            let start = UInt(bitPattern: raw)
            let aligned = (start + UInt(hugePageBytes) - 1) / UInt(hugePageBytes) * UInt(hugePageBytes)
            let head = Int(aligned - start), tail = span - head - bytes
            if head > 0 { munmap(raw, head) }
            if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: aligned + UInt(bytes)), tail) }
            let p = UnsafeMutableRawPointer(bitPattern: aligned)!
            // A hint: without transparent huge pages the buffer simply stays on small pages.
            _ = madvise(p, bytes, Int32(MADV_HUGEPAGE))
            return p.bindMemory(to: T.self, capacity: capacity)
        }
        #endif
        return .allocate(capacity: capacity)
    }

    /// Frees a buffer from ``allocate(_:capacity:)`` (its values already deinitialised, or trivial).
    static func deallocate<T>(_ pointer: UnsafeMutablePointer<T>, capacity: Int) {
        #if os(Linux)
        if let bytes = mappedBytes(T.self, capacity: capacity) {
            munmap(UnsafeMutableRawPointer(pointer), bytes)
            return
        }
        #endif
        pointer.deallocate()
    }
}
