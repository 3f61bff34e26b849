/// Element ids kept in ascending order: the store's indexes (label to nodes, node to its
/// relationships, node to hyperedges), which readers want sorted. `SortedIds` holds bare ids;
/// a node's adjacency holds `AdjacentRelationship`s, sorted by relationship id.
///
/// Reading them sorted is what traversal and label scans do on every step, so the order is
/// kept on write instead of sorting on read. A list of up to `chunkCapacity` elements (most
/// adjacency lists) is one array, read without a copy and one pointer away from the store's
/// table. A larger one (a label on millions of nodes) lives in chunks of at most
/// `chunkCapacity`, each sorted and below the next, so insert and remove cost
/// O(log n + chunkCapacity). The usual insert, a new (largest) id, appends.
struct SortedList<Element: SortedById>: Sendable {
    static var chunkCapacity: Int { 1024 }

    /// Every id while the set has never outgrown one chunk; empty once `chunks` holds them.
    private var single: [Element] = []
    private var chunks: [[Element]] = []
    /// Number of ids.
    private(set) var count = 0

    init() {}

    var isEmpty: Bool { count == 0 }

    /// Every element, ascending.
    var elements: [Element] {
        if chunks.isEmpty { return single }
        if chunks.count == 1 { return chunks[0] }
        var all: [Element] = []
        all.reserveCapacity(count)
        for chunk in chunks { all += chunk }
        return all
    }

    /// Calls `body` with each element, ascending, without gathering them into one array.
    func forEach<Failure: Error>(_ body: (Element) throws(Failure) -> Void) throws(Failure) {
        if chunks.isEmpty {
            for element in single { try body(element) }
            return
        }
        for chunk in chunks {
            for element in chunk { try body(element) }
        }
    }

    /// Calls `body` with the elements in runs of at most `chunkCapacity`, ascending: each run
    /// one of the list's own arrays, not copied (what a scan in blocks reads).
    func forEachChunk<Failure: Error>(_ body: ([Element]) throws(Failure) -> Void) throws(Failure) {
        if chunks.isEmpty {
            if !single.isEmpty { try body(single) }
            return
        }
        for chunk in chunks { try body(chunk) }
    }

    /// Calls `body` with each element, ascending, read in place from the list's storage.
    @inline(__always)
    func forEachInPlace<Failure: Error>(_ body: (Element) throws(Failure) -> Void) throws(Failure) {
        if chunks.isEmpty {
            try single.withUnsafeBufferPointer { (elements) throws(Failure) in for element in elements { try body(element) } }
            return
        }
        for chunk in chunks {
            try chunk.withUnsafeBufferPointer { (elements) throws(Failure) in for element in elements { try body(element) } }
        }
    }

    /// A sum of the first, middle and last ids: reading them loads a short list into cache
    /// (see `GraphStore.touchAdjacency`). Three reads, not a loop: a loop would stall on the
    /// list's length, which is what is being loaded.
    @inline(__always)
    var touch: Int {
        guard chunks.isEmpty else { return (chunks.first?.first?.sortId ?? 0) &+ (chunks.last?.last?.sortId ?? 0) }
        let n = single.count
        guard n > 0 else { return 0 }
        return single[0].sortId &+ single[n / 2].sortId &+ single[n - 1].sortId
    }

    /// The element of the largest id.
    var last: Element? { chunks.isEmpty ? single.last : chunks.last?.last }

    func contains(_ id: Int) -> Bool {
        if chunks.isEmpty { return Self.position(of: id, in: single) != nil }
        guard let c = chunkIndex(for: id) else { return false }
        return Self.position(of: id, in: chunks[c]) != nil
    }

    /// Adds `element`; false if its id was there already.
    @discardableResult
    mutating func insert(_ element: Element) -> Bool {
        let id = element.sortId
        if chunks.isEmpty {
            let p = Self.lowerBound(id, in: single)
            if p < single.count && single[p].sortId == id { return false }
            single.insert(element, at: p)
            count += 1
            if single.count > Self.chunkCapacity {
                chunks = [Array(single[..<(Self.chunkCapacity / 2)]), Array(single[(Self.chunkCapacity / 2)...])]
                single = []
            }
            return true
        }
        guard let c = chunkIndex(for: id) else {
            // Larger than every id: append.
            if let last = chunks.indices.last, chunks[last].count < Self.chunkCapacity {
                chunks[last].append(element)
            } else {
                chunks.append([element])
            }
            count += 1
            return true
        }
        let p = Self.lowerBound(id, in: chunks[c])
        if p < chunks[c].count && chunks[c][p].sortId == id { return false }
        chunks[c].insert(element, at: p)
        count += 1
        if chunks[c].count > Self.chunkCapacity {
            let upper = Array(chunks[c][(Self.chunkCapacity / 2)...])
            chunks[c].removeSubrange((Self.chunkCapacity / 2)...)
            chunks.insert(upper, at: c + 1)
        }
        return true
    }

    /// Removes `id`; false if it was not there.
    @discardableResult
    mutating func remove(_ id: Int) -> Bool {
        if chunks.isEmpty {
            guard let p = Self.position(of: id, in: single) else { return false }
            single.remove(at: p)
            count -= 1
            return true
        }
        guard let c = chunkIndex(for: id), let p = Self.position(of: id, in: chunks[c]) else { return false }
        chunks[c].remove(at: p)
        count -= 1
        if chunks[c].isEmpty { chunks.remove(at: c) }
        return true
    }

    private static func position(of id: Int, in chunk: [Element]) -> Int? {
        let p = lowerBound(id, in: chunk)
        return p < chunk.count && chunk[p].sortId == id ? p : nil
    }

    /// The first chunk whose largest id is `id` or more; nil when every id is smaller.
    private func chunkIndex(for id: Int) -> Int? {
        var lo = 0, hi = chunks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if let last = chunks[mid].last, last.sortId < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < chunks.count ? lo : nil
    }

    /// The position of the first id in `chunk` that is `id` or more.
    private static func lowerBound(_ id: Int, in chunk: [Element]) -> Int {
        var lo = 0, hi = chunk.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if chunk[mid].sortId < id { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

/// What a `SortedList` sorts by.
protocol SortedById: Sendable {
    var sortId: Int { get }
}

extension Int: SortedById {
    var sortId: Int { self }
}

/// Ids in ascending order.
typealias SortedIds = SortedList<Int>

/// A relationship as its start or end node lists it: enough to walk it (the node at its other
/// end, its type) without reading the relationship.
struct AdjacentRelationship: SortedById {
    /// The relationship's id.
    let id: Int
    /// The node at its other end (the node itself for a self-loop).
    let other: Int
    /// Its type, as the store's `RelationshipTypes` numbers it.
    let type: UInt32

    var sortId: Int { id }
}
