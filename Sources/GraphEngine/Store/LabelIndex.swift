/// The nodes of each label: sorted ids (label scans), and for a label that many nodes carry, a
/// bitset over ids as well (label tests).
///
/// Testing a label on a node reached by a traversal is what a pattern like
/// `(a)-[:KNOWS]->(b:Person)` does for every relationship. Read from the node itself it costs
/// the node record and its label list, two cache misses far apart in a large graph; a bit in
/// a bitset of one bit per id (a million ids: 128 KiB) is one load from memory that stays in
/// cache. A bitset is kept only while at least one id in 64 up to the label's largest carries
/// the label (it then costs at most 8 bytes per member, as the sorted ids do), is built when a
/// label becomes that dense and dropped when it falls below half of it; a sparse label is
/// tested on the node.
struct LabelIndex: Sendable {
    private var members: [String: SortedIds] = [:]
    private var bitsets: [String: IdBitset] = [:]

    /// Below this many members a label is tested on the node (its bitset would not pay).
    static let minimumBitsetMembers = 64

    /// Ids of the nodes carrying `label`, ascending.
    func ids(_ label: String) -> [Int] { members[label]?.elements ?? [] }

    /// The ids of the nodes carrying `label`, as the index holds them.
    func set(_ label: String) -> SortedIds { members[label] ?? SortedIds() }

    /// Number of nodes carrying `label`.
    func count(_ label: String) -> Int { members[label]?.count ?? 0 }

    /// The bitset of `label` when it has one: `contains(id)` is exact for every node id.
    func bitset(_ label: String) -> IdBitset? { bitsets[label] }

    mutating func insert(_ id: Int, _ label: String) {
        guard members[label, default: SortedIds()].insert(id) else { return }
        if let bitset = bitsets[label] {
            // Ids can jump far (a transaction reserves a range): a bitset grown to such an id
            // would cost more than it saves, so it is dropped instead, before it grows.
            if 2 * count(label) < max(bitset.wordCount, IdBitset.words(covering: id)) {
                bitsets[label] = nil
            } else {
                bitsets[label]!.insert(id)
            }
        } else {
            buildBitsetIfDense(label)
        }
    }

    mutating func remove(_ id: Int, _ label: String) {
        guard members[label]?.remove(id) == true else { return }
        if members[label]!.isEmpty {
            members[label] = nil
            bitsets[label] = nil
            return
        }
        bitsets[label]?.remove(id)
        dropBitsetIfSparse(label)
    }

    private mutating func buildBitsetIfDense(_ label: String) {
        guard let ids = members[label], ids.count >= Self.minimumBitsetMembers, let largest = ids.last,
              ids.count >= IdBitset.words(covering: largest) else { return }
        var bitset = IdBitset()
        for id in ids.elements { bitset.insert(id) }
        bitsets[label] = bitset
    }

    private mutating func dropBitsetIfSparse(_ label: String) {
        guard let bitset = bitsets[label] else { return }
        if 2 * count(label) < bitset.wordCount { bitsets[label] = nil }
    }
}

/// A set of non-negative ids as one bit each, growing to the largest id inserted.
struct IdBitset: Sendable {
    private var words: [UInt64] = []

    /// Words needed to hold ids up to `id`.
    static func words(covering id: Int) -> Int { id / 64 + 1 }

    var wordCount: Int { words.count }

    @inline(__always)
    func contains(_ id: Int) -> Bool {
        let w = id &>> 6
        return id >= 0 && w < words.count && words[w] & (1 &<< UInt64(id & 63)) != 0
    }

    mutating func insert(_ id: Int) {
        let w = id &>> 6
        if w >= words.count { words.append(contentsOf: repeatElement(0, count: w + 1 - words.count)) }
        words[w] |= 1 &<< UInt64(id & 63)
    }

    mutating func remove(_ id: Int) {
        let w = id &>> 6
        guard w < words.count else { return }
        words[w] &= ~(1 &<< UInt64(id & 63))
    }
}
