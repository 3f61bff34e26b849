/// Memory outside the process heap for an index's full vectors: a file mapping the operating
/// system may page out and read back, so a collection whose vectors exceed RAM keeps only its
/// walk codes and links resident (the walk reads codes; full vectors are read to rescore a few
/// candidates per search and to link new points). The engine does no I/O itself: the owner of
/// the index (VectorDatabase) supplies arenas through a ``VectorArenaProvider``.
///
/// Concurrency: ``HNSWIndex`` calls ``resize(toFloats:)`` only with exclusive access (nobody
/// holds a pointer into the arena then); everything else may run on many threads at once.
public protocol VectorArena: AnyObject, Sendable {
    /// First float; valid until the next ``resize(toFloats:)``, which may move it.
    var base: UnsafeMutablePointer<Float> { get }
    /// Floats that fit from `base`.
    var capacity: Int { get }
    /// Makes room for at least `floats` floats, keeping the content; may move ``base``. Throws
    /// (`.resourceExhausted`-like `.limitExceeded`) when the room cannot be had, e.g. the disk is
    /// full: the index then refuses the write that needed it, and nothing is half-written.
    func resize(toFloats floats: Int) throws(VectorEngineError)
    /// Hint: `count` floats from `offset` are about to be read (start reading them from disk in
    /// the background if they are not in memory). Advice only.
    func willRead(offset: Int, count: Int)
}

/// Makes arenas for an index: one when it is created or restored, another each time it is
/// compacted (the old one is read while the new one fills, then released).
public protocol VectorArenaProvider: Sendable {
    /// A new, empty arena with room for at least `floats` floats.
    func makeArena(floats: Int) throws(VectorEngineError) -> any VectorArena
}

/// Where a collection keeps its full vectors.
public enum VectorPlacement: String, Sendable, Hashable, CaseIterable {
    /// On the heap (huge pages when large): fastest when everything fits in RAM.
    case memory
    /// In a file mapping (``VectorArena``): the walk reads compressed codes in memory and only
    /// rescoring and linking read full vectors, which the operating system pages in and out.
    case disk
}
