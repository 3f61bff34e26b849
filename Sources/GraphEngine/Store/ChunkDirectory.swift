/// A chunk of slots that a `ChunkDirectory` keeps by number: a class, shared between copies of
/// its table until one of them writes to it.
protocol DirectoryChunk: AnyObject {
    associatedtype Slot
    /// The chunk's slots; valid while the chunk lives.
    var slots: UnsafeMutablePointer<Slot> { get }
    /// A chunk holding what `other` holds (copied before a write to a shared chunk).
    init(copying other: Self)
}

/// The allocated chunks of a table indexed by id (`IdTable`, `IntColumn`), by chunk number: an
/// array for the numbers that the allocated chunks cover densely (a read is one load, and the
/// slots' pointers are kept beside the chunks, so a read counts no reference) and a dictionary
/// beyond them, for ids far apart (a transaction reserves a million ids and mostly leaves them
/// unused). Chunks are the unit of copy-on-write: `writable` copies a chunk another table shares.
struct ChunkDirectory<Chunk: DirectoryChunk> {
    private var near: [Chunk?] = []
    private var nearSlots: [UnsafeMutablePointer<Chunk.Slot>?] = []
    private var far: [Int: Chunk] = [:]
    /// Chunks allocated.
    private(set) var count = 0

    /// The slots of chunk number `c`, nil when it is not allocated (or `c` is negative).
    @inline(__always)
    func slots(_ c: Int) -> UnsafeMutablePointer<Chunk.Slot>? {
        if c < nearSlots.count { return c >= 0 ? nearSlots[c] : nil }
        return far.isEmpty ? nil : far[c]?.slots
    }

    /// The chunk of number `c` if allocated, copied first when another table shares it.
    mutating func writable(_ c: Int) -> Chunk? {
        if c < near.count {
            guard c >= 0, near[c] != nil else { return nil }
            if !isKnownUniquelyReferenced(&near[c]) {
                near[c] = Chunk(copying: near[c]!)
                nearSlots[c] = near[c]!.slots
            }
            return near[c]
        }
        guard far[c] != nil else { return nil }
        if !isKnownUniquelyReferenced(&far[c]!) { far[c] = Chunk(copying: far[c]!) }
        return far[c]
    }

    /// Makes `chunk` the chunk of number `c`, which has none. The array covers chunk numbers up
    /// to about twice the chunks allocated; a number beyond goes to the dictionary.
    mutating func install(_ chunk: Chunk, _ c: Int) {
        count += 1
        if c >= near.count && c < 2 * count + 16 {
            near.append(contentsOf: repeatElement(nil, count: c + 1 - near.count))
            nearSlots.append(contentsOf: repeatElement(nil, count: c + 1 - nearSlots.count))
            for k in far.keys where k < near.count {
                near[k] = far.removeValue(forKey: k)
                nearSlots[k] = near[k]!.slots
            }
        }
        if c < near.count {
            near[c] = chunk
            nearSlots[c] = chunk.slots
        } else {
            far[c] = chunk
        }
    }

    /// Lets go of chunk number `c`.
    mutating func remove(_ c: Int) {
        count -= 1
        if c < near.count {
            near[c] = nil
            nearSlots[c] = nil
        } else {
            far[c] = nil
        }
    }

    /// The numbers of the allocated chunks, ascending.
    var numbers: [Int] { near.indices.filter { near[$0] != nil } + far.keys.sorted() }
}
