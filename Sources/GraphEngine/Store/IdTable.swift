/// The store's elements of one kind (nodes, relationships, a node's adjacency, a property
/// column) by id.
///
/// Ids come from one counter for every kind and are never reused, so a kind's ids are dense
/// with gaps, and a transaction reserves a range of a million ids that it mostly leaves unused:
/// far apart, the ids of a long-lived store can run into the trillions. Where a kind's ids are
/// dense the table holds them in chunks of `chunkSize` slots indexed by id: a read is two
/// dependent loads with no hashing, and it lends the element in place (no copy, no reference
/// counting), where a dictionary of a million entries costs a hash, up to three cache misses
/// and a copy. A chunk is allocated once `chunkThreshold` of its ids hold an element (and freed
/// when it holds none); until then they are kept loose, in a dictionary, so scattered ids cost
/// what a dictionary entry costs, never a chunk each. The chunk list is an array for the chunk
/// numbers that the allocated chunks cover densely and a dictionary beyond them.
///
/// Chunks are also the unit of copy-on-write: the store is a value that queries copy as their
/// snapshot, and the first write after a copy duplicates the chunk list and the one chunk it
/// touches, not the whole table.
struct IdTable<Element: Sendable>: @unchecked Sendable {
    static var chunkShift: Int { 12 }
    static var chunkSize: Int { 1 << chunkShift }
    /// Elements a chunk's range holds loose before the chunk is allocated.
    static var chunkThreshold: Int { chunkSize / 16 }

    /// `chunkSize` slots (nil where no element). Shared between copies of the table until
    /// one of them writes to it.
    private final class Chunk: DirectoryChunk {
        let slots: UnsafeMutablePointer<Element?>
        /// Slots that hold an element.
        var count = 0

        init() {
            slots = .allocate(capacity: IdTable.chunkSize)
            slots.initialize(repeating: nil, count: IdTable.chunkSize)
        }

        init(copying other: Chunk) {
            slots = .allocate(capacity: IdTable.chunkSize)
            slots.initialize(from: other.slots, count: IdTable.chunkSize)
            count = other.count
        }

        deinit {
            slots.deinitialize(count: IdTable.chunkSize)
            slots.deallocate()
        }

        @inline(__always)
        func holds(_ i: Int) -> Bool {
            if case .some = slots[i] { return true }
            return false
        }

        func put(_ i: Int, _ element: consuming Element) {
            slots[i] = element
            count += 1
        }

        func take(_ i: Int) -> Element {
            count -= 1
            return slots[i].take()!
        }
    }

    // @unchecked Sendable: a chunk is mutated only through a table that holds its only
    // reference (checked before every write), so a shared chunk is only ever read.
    /// The allocated chunks by number.
    private var chunks = ChunkDirectory<Chunk>()
    /// Elements whose chunk is not allocated, and how many each such chunk's range holds.
    private var loose: [Int: Element] = [:]
    private var looseInChunk: [Int: Int] = [:]
    /// Number of ids that hold an element.
    private(set) var count = 0

    init() {}

    var isEmpty: Bool { count == 0 }

    /// Slots in the chunks allocated (what the chunks cost, full or not).
    var allocatedSlots: Int { chunks.count * Self.chunkSize }

    /// The slots of chunk number `c`, nil when it is not allocated. Valid while this table
    /// holds the chunk (a read of a table that does not change meanwhile).
    @inline(__always)
    private func slots(_ c: Int) -> UnsafeMutablePointer<Element?>? { chunks.slots(c) }

    /// `body` applied to the element of `id`, read in place (nil: no element).
    @inline(__always)
    func withElement<R, Failure: Error>(_ id: Int, _ body: (Element) throws(Failure) -> R) throws(Failure) -> R? {
        guard id >= 0 else { return nil }
        if let slots = slots(id &>> Self.chunkShift) {
            let i = id & (Self.chunkSize - 1)
            guard case .some = slots[i] else { return nil }
            // Force-unwrapped in place, the element is lent to `body` (a `case let` would copy it).
            return try body(slots[i]!)
        }
        guard !loose.isEmpty, let element = loose[id] else { return nil }
        return try body(element)
    }

    /// `body` applied to a pointer to the element of `id` where it is stored (nil: no element),
    /// for a reader that must not copy it: a copy of an element holding arrays takes a
    /// reference on each, a write to memory the reader would otherwise only read. The pointer
    /// is valid during the call; the element must not change meanwhile.
    @inline(__always)
    func withElementPointer<R, Failure: Error>(_ id: Int, _ body: (UnsafePointer<Element>) throws(Failure) -> R) throws(Failure) -> R? {
        guard id >= 0 else { return nil }
        if let slots = slots(id &>> Self.chunkShift) {
            let slot = UnsafePointer(slots + (id & (Self.chunkSize - 1)))
            guard case .some = slot.pointee else { return nil }
            // An optional's payload is stored at its start (Swift's layout of single-payload enums).
            return try body(UnsafeRawPointer(slot).assumingMemoryBound(to: Element.self))
        }
        guard !loose.isEmpty, var element = loose[id] else { return nil }
        return try withUnsafeMutablePointer(to: &element) { (pointer) throws(Failure) in try body(pointer) }
    }

    /// True if `id` holds an element.
    @inline(__always)
    func contains(_ id: Int) -> Bool { withElement(id) { _ in true } ?? false }

    /// The element with this id; assigning nil removes it.
    subscript(id: Int) -> Element? {
        _read {
            if id >= 0, let slots = slots(id &>> Self.chunkShift) {
                yield slots[id & (Self.chunkSize - 1)]
            } else if id >= 0 && !loose.isEmpty {
                yield loose[id]
            } else {
                yield nil
            }
        }
        _modify {
            var value = take(id)
            defer { put(id, value.take()) }
            yield &value
        }
    }

    /// The element with this id, `fallback` stored first when there is none (as Dictionary's
    /// `subscript(_:default:)`): changes it in place, without a copy.
    subscript(id: Int, default fallback: @autoclosure () -> Element) -> Element {
        get { self[id] ?? fallback() }
        _modify {
            var value: Element? = take(id) ?? fallback()
            defer { put(id, value.take()) }
            yield &value!
        }
    }

    /// Removes the element of `id` and hands it over (moved, not copied).
    private mutating func take(_ id: Int) -> Element? {
        guard id >= 0 else { return nil }
        let c = id &>> Self.chunkShift
        if let chunk = chunks.writable(c) {
            let i = id & (Self.chunkSize - 1)
            guard chunk.holds(i) else { return nil }
            count -= 1
            let element = chunk.take(i)
            if chunk.count == 0 { chunks.remove(c) }
            return element
        }
        guard let element = loose.removeValue(forKey: id) else { return nil }
        count -= 1
        looseInChunk[c, default: 1] -= 1
        if looseInChunk[c] == 0 { looseInChunk[c] = nil }
        return element
    }

    /// Stores `element` (nil: nothing) as the element of `id`, which holds none.
    private mutating func put(_ id: Int, _ element: consuming Element?) {
        guard let element else { return }
        precondition(id >= 0, "element ids are not negative")
        let c = id &>> Self.chunkShift
        count += 1
        if let chunk = chunks.writable(c) {
            chunk.put(id & (Self.chunkSize - 1), element)
            return
        }
        let held = looseInChunk[c, default: 0] + 1
        guard held >= Self.chunkThreshold else {
            loose[id] = element
            looseInChunk[c] = held
            return
        }
        // Enough of this chunk's ids hold an element: allocate it and move them in.
        let chunk = Chunk()
        let base = c << Self.chunkShift
        for i in 0..<Self.chunkSize {
            if let moved = loose.removeValue(forKey: base + i) { chunk.put(i, moved) }
        }
        looseInChunk[c] = nil
        chunk.put(id & (Self.chunkSize - 1), element)
        chunks.install(chunk, c)
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

    /// The smallest and largest ids that hold an element, nil when none does.
    var idBounds: ClosedRange<Int>? {
        guard count > 0 else { return nil }
        let numbers = chunkNumbers
        var lower = loose.keys.min() ?? .max, upper = loose.keys.max() ?? .min
        if let first = numbers.first, let slots = slots(first), let i = (0..<Self.chunkSize).first(where: { slots[$0] != nil }) {
            lower = min(lower, first << Self.chunkShift + i)
        }
        if let last = numbers.last, let slots = slots(last), let i = (0..<Self.chunkSize).last(where: { slots[$0] != nil }) {
            upper = max(upper, last << Self.chunkShift + i)
        }
        return lower...upper
    }

    /// The numbers of the allocated chunks, ascending (for a reader that splits the table).
    var chunkNumbers: [Int] { chunks.numbers }

    /// Calls `body` with each id of chunk number `c` that holds an element and a pointer to the
    /// element where it is stored (valid during the call; see `withElementPointer`), ascending.
    @inline(__always)
    func forEachPointer<Failure: Error>(inChunk c: Int, _ body: (Int, UnsafePointer<Element>) throws(Failure) -> Void) throws(Failure) {
        guard let slots = slots(c) else { return }
        let base = c << Self.chunkShift
        for i in 0..<Self.chunkSize {
            guard case .some = slots[i] else { continue }
            try body(base + i, UnsafeRawPointer(slots + i).assumingMemoryBound(to: Element.self))
        }
    }

    /// Calls `body` with each id held loose (outside the allocated chunks) and a pointer to a
    /// copy of its element, in no particular order.
    func forEachLoosePointer<Failure: Error>(_ body: (Int, UnsafePointer<Element>) throws(Failure) -> Void) throws(Failure) {
        for (id, element) in loose {
            var element = element
            try withUnsafeMutablePointer(to: &element) { (pointer) throws(Failure) in try body(id, pointer) }
        }
    }

    /// Calls `body` with each id and its element, by ascending id.
    func forEach<Failure: Error>(_ body: (Int, Element) throws(Failure) -> Void) throws(Failure) {
        let looseIds = loose.keys.sorted()
        var l = 0
        let numbers = chunkNumbers
        for c in numbers {
            let base = c << Self.chunkShift
            while l < looseIds.count && looseIds[l] < base {
                try body(looseIds[l], loose[looseIds[l]]!)
                l += 1
            }
            let slots = self.slots(c)!
            for i in 0..<Self.chunkSize {
                if case .some = slots[i] { try body(base + i, slots[i]!) }
            }
        }
        while l < looseIds.count {
            try body(looseIds[l], loose[looseIds[l]]!)
            l += 1
        }
    }
}
