/// Memory outside the process heap for an index's full vectors, and when asked its level-0
/// links: a file mapping the operating system may page out and read back, so a collection
/// larger than RAM keeps only what it touches resident (the walk reads codes and links; full
/// vectors are read to rescore a few candidates per search). The engine does no I/O itself: the
/// owner of the index (VectorDatabase) supplies arenas through a ``VectorArenaProvider``. An
/// arena is raw bytes; the index decides what it holds (floats or link slots).
///
/// Concurrency: ``HNSWIndex`` calls ``resize(toBytes:)`` only with exclusive access (nobody
/// holds a pointer into the arena then); everything else may run on many threads at once.
public protocol VectorArena: AnyObject, Sendable {
    /// First byte (page-aligned); valid until the next ``resize(toBytes:)``, which may move it.
    var base: UnsafeMutableRawPointer { get }
    /// Bytes that fit from `base`.
    var capacity: Int { get }
    /// Makes room for at least `bytes` bytes, keeping the content (new bytes read as zeros); may
    /// move ``base``. Throws `.storageExhausted` when the room cannot be had, e.g. the disk is
    /// full: the index then refuses the write that needed it, and nothing is half-written.
    func resize(toBytes bytes: Int) throws(VectorEngineError)
    /// Hint: `count` bytes from `offset` are about to be read (start reading them from disk in
    /// the background if they are not in memory). Advice only.
    func willRead(offset: Int, count: Int)
}

/// Makes arenas for an index: one for its vectors (and one for its links when they are off the
/// heap) when it is created or restored, others each time it is compacted (the old ones are read
/// while the new ones fill, then released).
public protocol VectorArenaProvider: Sendable {
    /// A new, empty arena with room for at least `bytes` bytes.
    func makeArena(bytes: Int) throws(VectorEngineError) -> any VectorArena
}

/// Where a collection keeps its full vectors (``CollectionConfig/vectors``), or its level-0 graph
/// links (``CollectionConfig/graph``).
public enum VectorPlacement: String, Sendable, Hashable, CaseIterable {
    /// On the heap (huge pages when large): fastest when everything fits in RAM.
    case memory
    /// In a file mapping (``VectorArena``) the operating system pages in and out. Vectors: the
    /// walk reads compressed codes in memory and only rescoring reads full vectors. Links: every
    /// step of a walk reads one list, from the page cache (4 KiB pages, not huge pages) or disk.
    case disk
}
