/// Node properties as columns over node ids, for the keys that many nodes have: what a scan,
/// a traversal's filter or an aggregation reads for every row (`n.age` over a million nodes).
///
/// Read from the node, a property costs the node's slot, its property map and a string hash,
/// two cache misses apart in a large graph; from a column it is one slot of a table indexed by
/// id. The nodes stay the truth: a column is derived, like `PropertyIndexes`, and kept right on
/// every change of a node. A key gets a column once `minimumColumnNodes` nodes have it and at
/// least one id in 8 of the store's id range does (below that most of its values would sit
/// loose in the column's dictionary, no cheaper to read than the node's own map, or in chunks of
/// 4,096 slots mostly empty); it loses it when fewer than one slot in 32 of the column's
/// allocated chunks is used. A column holds integers as integers while the key has no other kind
/// of value (`PropertyColumn`).
struct PropertyColumns: Sendable {
    static let minimumColumnNodes = IdTable<Value>.chunkSize

    private var nodesWithKey: [String: Int] = [:]
    /// Where each column is in `tables` (read through the array, so a read borrows the column
    /// instead of copying it out of a dictionary); freed places are reused.
    private var places: [String: Int] = [:]
    private var tables: [PropertyColumn] = []
    private var freePlaces: [Int] = []

    /// Whether `key` has a column.
    func hasColumn(_ key: String) -> Bool { places[key] != nil }

    /// The column of `key`, nil when it has none: for a reader of many nodes' values (a copy
    /// of the column's chunk lists, sharing the chunks).
    func column(_ key: String) -> PropertyColumn? { places[key].map { tables[$0] } }

    /// Node `id`'s value of `key` from its column: nil when `key` has no column, `.some(nil)`
    /// when it has one and the node has no such property (or does not exist).
    @inline(__always)
    func lookup(_ key: String, _ id: Int) -> Value?? {
        guard let place = places[key] else { return nil }
        // Through the buffer, the column is lent in place (`tables[place]` would copy it).
        return .some(tables.withUnsafeBufferPointer { $0[place].value(id) })
    }

    /// Keeps counts and columns right after a node went from `old` to `new` (nil: absent).
    /// Returns the keys that have become dense enough for a column (the store builds them).
    mutating func update(_ id: Int, from old: [String: Value]?, to new: [String: Value]?, idRange: Int) -> [String] {
        var dense: [String] = []
        if let old {
            for (key, _) in old where new?[key] == nil {
                nodesWithKey[key, default: 1] -= 1
                if nodesWithKey[key] == 0 { nodesWithKey[key] = nil; drop(key); continue }
                if let place = places[key] {
                    tables[place].set(id, nil)
                    if 32 * tables[place].count < tables[place].allocatedSlots { drop(key) }
                }
            }
        }
        if let new {
            for (key, value) in new where old?[key] != value {
                if old?[key] == nil {
                    nodesWithKey[key, default: 0] += 1
                }
                if let place = places[key] {
                    tables[place].set(id, value)
                } else if let n = nodesWithKey[key], n >= Self.minimumColumnNodes, 8 * n >= idRange {
                    dense.append(key)
                }
            }
        }
        return dense
    }

    /// Installs the column of `key`, built from every node.
    mutating func install(_ key: String, _ column: PropertyColumn) {
        if let place = places[key] {
            tables[place] = column
        } else if let place = freePlaces.popLast() {
            places[key] = place
            tables[place] = column
        } else {
            places[key] = tables.count
            tables.append(column)
        }
    }

    private mutating func drop(_ key: String) {
        guard let place = places.removeValue(forKey: key) else { return }
        tables[place] = PropertyColumn()
        freePlaces.append(place)
    }
}
