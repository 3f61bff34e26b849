import Storage
import VectorEngine

/// Where a collection with on-disk vectors (`CollectionConfig.vectors == .disk`) keeps them: each
/// arena is a ``ScratchMapping`` (an unnamed, memory-mapped file) in the collection's folder. The
/// files hold derived data only: snapshots and the log stay the durable record, and an open
/// fills a new arena from them.
struct FileVectorArenas: VectorArenaProvider {
    /// The folder the unnamed files are made in (its file system holds the vectors).
    let directory: String

    func makeArena(bytes: Int) throws(VectorEngineError) -> any VectorArena {
        try FileVectorArena(mapping: Self.engineError { () throws(StorageError) in
            try ScratchMapping(directory: directory, bytes: bytes)
        })
    }

    /// A storage failure as the engine reports it: the write that needed room changes nothing.
    static func engineError<T>(_ body: () throws(StorageError) -> T) throws(VectorEngineError) -> T {
        do { return try body() } catch {
            throw VectorEngineError(code: .storageExhausted, message: error.clientMessage, cause: error)
        }
    }
}

/// One index's vectors (or level-0 links) in a ``ScratchMapping``.
final class FileVectorArena: VectorArena, @unchecked Sendable {
    let mapping: ScratchMapping

    init(mapping: ScratchMapping) {
        self.mapping = mapping
    }

    var base: UnsafeMutableRawPointer { mapping.base }
    var capacity: Int { mapping.capacity }

    func resize(toBytes bytes: Int) throws(VectorEngineError) {
        try FileVectorArenas.engineError { () throws(StorageError) in try mapping.grow(toBytes: bytes) }
    }

    @inline(__always)
    func willRead(offset: Int, count: Int) {
        mapping.willRead(offset: offset, count: count)
    }
}
