import Storage
import VectorEngine

/// Where a collection with on-disk vectors (`CollectionConfig.vectors == .disk`) keeps them: each
/// arena is a ``ScratchMapping`` (an unnamed, memory-mapped file) in the collection's folder. The
/// files hold derived data only: snapshots and the log stay the durable record, and an open
/// fills a new arena from them.
struct FileVectorArenas: VectorArenaProvider {
    /// The folder the unnamed files are made in (its file system holds the vectors).
    let directory: String

    func makeArena(floats: Int) throws(VectorEngineError) -> any VectorArena {
        try FileVectorArena(mapping: Self.engineError { () throws(StorageError) in
            try ScratchMapping(directory: directory, bytes: floats * MemoryLayout<Float>.stride)
        })
    }

    /// A storage failure as the engine reports it: the write that needed room changes nothing.
    static func engineError<T>(_ body: () throws(StorageError) -> T) throws(VectorEngineError) -> T {
        do { return try body() } catch {
            throw VectorEngineError(code: .storageExhausted, message: error.clientMessage, cause: error)
        }
    }
}

/// One index's vectors in a ``ScratchMapping``.
final class FileVectorArena: VectorArena, @unchecked Sendable {
    let mapping: ScratchMapping
    /// `mapping.base` as floats; changes with it, in `resize` (exclusive access, per the protocol).
    private(set) var base: UnsafeMutablePointer<Float>

    init(mapping: ScratchMapping) {
        self.mapping = mapping
        base = mapping.base.bindMemory(to: Float.self, capacity: mapping.capacity / MemoryLayout<Float>.stride)
    }

    var capacity: Int { mapping.capacity / MemoryLayout<Float>.stride }

    func resize(toFloats floats: Int) throws(VectorEngineError) {
        try FileVectorArenas.engineError { () throws(StorageError) in
            try mapping.grow(toBytes: floats * MemoryLayout<Float>.stride)
        }
        base = mapping.base.bindMemory(to: Float.self, capacity: capacity)
    }

    @inline(__always)
    func willRead(offset: Int, count: Int) {
        mapping.willRead(offset: offset &* MemoryLayout<Float>.stride, count: count &* MemoryLayout<Float>.stride)
    }
}
