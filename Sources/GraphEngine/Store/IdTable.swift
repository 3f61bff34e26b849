/// The store's elements of one kind (nodes, relationships, a node's adjacency) by id.
///
/// Ids come from one counter for every kind and are never reused, so each kind's ids are dense
/// with gaps. The table is indexed by id, in chunks of `chunkSize` slots: a read is two
/// dependent loads (the small chunk list, then the slot) with no hashing, and it lends the
/// element in place (no copy, no reference counting), where a dictionary of a million entries
/// costs a hash, up to three cache misses and a copy. A chunk is allocated when it first holds
/// an element, so a range of ids that are all of another kind costs nothing.
///
/// Chunks are also the unit of copy-on-write: the store is a value that queries copy as their
/// snapshot, and the first write after a copy duplicates the chunk list and the one chunk it
/// touches, not the whole table.
struct IdTable<Element: Sendable>: @unchecked Sendable {
    static var chunkShift: Int { 12 }
    static var chunkSize: Int { 1 << chunkShift }

    /// `chunkSize` slots. Shared between copies of the table until one of them writes to it.
    private final class Chunk {
        let slots: UnsafeMutablePointer<Element?>

        init() {
            slots = .allocate(capacity: IdTable.chunkSize)
            slots.initialize(repeating: nil, count: IdTable.chunkSize)
        }

        init(copying other: Chunk) {
            slots = .allocate(capacity: IdTable.chunkSize)
            slots.initialize(from: other.slots, count: IdTable.chunkSize)
        }

        deinit {
            slots.deinitialize(count: IdTable.chunkSize)
            slots.deallocate()
        }
    }

    // @unchecked Sendable: a chunk is mutated only through a table that holds its only
    // reference (checked before every write), so a shared chunk is only ever read.
    private var chunks: [Chunk?] = []
    /// Number of ids that hold an element.
    private(set) var count = 0
    /// Slots in the chunks allocated so far (what the table costs, full or not).
    private(set) var allocatedSlots = 0

    init() {}

    var isEmpty: Bool { count == 0 }

    /// The slot of `id` (nil: no element near it was ever stored), to read an element in place
    /// without copying it: valid only while this table is neither changed nor released, so
    /// for reads of a table that is held still (a query's snapshot of the store).
    @inline(__always)
    func unsafeSlot(_ id: Int) -> UnsafePointer<Element?>? {
        let c = id &>> Self.chunkShift
        guard id >= 0 && c < chunks.count, let chunk = chunks[c] else { return nil }
        return UnsafePointer(chunk.slots + (id & (Self.chunkSize - 1)))
    }

    /// True if `id` holds an element.
    @inline(__always)
    func contains(_ id: Int) -> Bool {
        guard let slot = unsafeSlot(id), case .some = slot.pointee else { return false }
        return true
    }

    /// The element with this id; assigning nil removes it.
    subscript(id: Int) -> Element? {
        _read {
            if let slot = unsafeSlot(id) { yield slot.pointee } else { yield nil }
        }
        _modify {
            let slots = writableSlots(id)
            let had = slots.pointee != nil
            defer {
                let has = slots.pointee != nil
                if had != has { count += has ? 1 : -1 }
            }
            yield &slots.pointee
        }
    }

    /// The element with this id, `fallback` stored first when there is none (as Dictionary's
    /// `subscript(_:default:)`): changes it in place, without a copy.
    subscript(id: Int, default fallback: @autoclosure () -> Element) -> Element {
        _read {
            if let element = self[id] { yield element } else { yield fallback() }
        }
        _modify {
            let slots = writableSlots(id)
            if slots.pointee == nil {
                slots.pointee = fallback()
                count += 1
            }
            yield &slots.pointee!
        }
    }

    /// The slot of `id`, its chunk allocated, or copied first when another table shares it.
    private mutating func writableSlots(_ id: Int) -> UnsafeMutablePointer<Element?> {
        precondition(id >= 0, "element ids are not negative")
        let c = id &>> Self.chunkShift
        if c >= chunks.count { chunks.append(contentsOf: repeatElement(nil, count: c + 1 - chunks.count)) }
        if chunks[c] == nil {
            chunks[c] = Chunk()
            allocatedSlots += Self.chunkSize
        } else if !isKnownUniquelyReferenced(&chunks[c]) {
            chunks[c] = Chunk(copying: chunks[c]!)
        }
        return chunks[c]!.slots + (id & (Self.chunkSize - 1))
    }

    /// Every id that holds an element, ascending.
    var ids: [Int] {
        var out: [Int] = []
        out.reserveCapacity(count)
        forEach { id, _ in out.append(id) }
        return out
    }

    /// Every element, by ascending id.
    var values: [Element] {
        var out: [Element] = []
        out.reserveCapacity(count)
        forEach { _, element in out.append(element) }
        return out
    }

    /// Calls `body` with each id and its element, by ascending id.
    func forEach<Failure: Error>(_ body: (Int, Element) throws(Failure) -> Void) throws(Failure) {
        for (c, chunk) in chunks.enumerated() {
            guard let chunk else { continue }
            let base = c << Self.chunkShift
            for slot in 0..<Self.chunkSize {
                if let element = chunk.slots[slot] { try body(base + slot, element) }
            }
        }
    }
}
