/// A set of element ids kept in ascending order: the store's indexes (label to nodes, node
/// to relationships, node to hyperedges), which readers want sorted.
///
/// Reading them sorted is what traversal and label scans do on every step, so the order is
/// kept on write instead of sorting on read. A set of up to `chunkCapacity` ids (most
/// adjacency lists) is one array, read without a copy and one pointer away from the store's
/// dictionary. A larger one (a label on millions of nodes) lives in chunks of at most
/// `chunkCapacity`, each sorted and below the next, so insert and remove cost
/// O(log n + chunkCapacity). The usual insert, a new (largest) id, appends.
struct SortedIds: Sendable {
    static let chunkCapacity = 1024

    /// Every id while the set has never outgrown one chunk; empty once `chunks` holds them.
    private var single: [Int] = []
    private var chunks: [[Int]] = []
    /// Number of ids.
    private(set) var count = 0

    init() {}

    var isEmpty: Bool { count == 0 }

    /// Every id, ascending.
    var elements: [Int] {
        if chunks.isEmpty { return single }
        if chunks.count == 1 { return chunks[0] }
        var all: [Int] = []
        all.reserveCapacity(count)
        for chunk in chunks { all += chunk }
        return all
    }

    func contains(_ id: Int) -> Bool {
        if chunks.isEmpty { return Self.position(of: id, in: single) != nil }
        guard let c = chunkIndex(for: id) else { return false }
        return Self.position(of: id, in: chunks[c]) != nil
    }

    /// Adds `id`; false if it was there already.
    @discardableResult
    mutating func insert(_ id: Int) -> Bool {
        if chunks.isEmpty {
            let p = Self.lowerBound(id, in: single)
            if p < single.count && single[p] == id { return false }
            single.insert(id, at: p)
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
                chunks[last].append(id)
            } else {
                chunks.append([id])
            }
            count += 1
            return true
        }
        let p = Self.lowerBound(id, in: chunks[c])
        if p < chunks[c].count && chunks[c][p] == id { return false }
        chunks[c].insert(id, at: p)
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

    private static func position(of id: Int, in chunk: [Int]) -> Int? {
        let p = lowerBound(id, in: chunk)
        return p < chunk.count && chunk[p] == id ? p : nil
    }

    /// The first chunk whose largest id is `id` or more; nil when every id is smaller.
    private func chunkIndex(for id: Int) -> Int? {
        var lo = 0, hi = chunks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if let last = chunks[mid].last, last < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < chunks.count ? lo : nil
    }

    /// The position of the first id in `chunk` that is `id` or more.
    private static func lowerBound(_ id: Int, in chunk: [Int]) -> Int {
        var lo = 0, hi = chunk.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if chunk[mid] < id { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
