/// Equality indexes on node properties: for each (label, property) pair defined, the ids of
/// the nodes with that label whose property holds a given scalar. MATCH uses them to pick its
/// starting nodes (`(n:Person {email: $e})`, `WHERE n.email = $e`); every candidate is still
/// checked against the whole pattern and WHERE, so an index only ever narrows a scan.
///
/// Part of `GraphStore` (a value), so every snapshot and transaction sees indexes that agree
/// with its own nodes.
public struct PropertyIndexes: Sendable {
    /// What an index covers.
    public struct Key: Sendable, Hashable {
        /// Nodes with this label...
        public var label: String
        /// ...by the value of this property.
        public var property: String

        /// A key.
        public init(label: String, property: String) { self.label = label; self.property = property }
    }

    /// An indexed value: numbers by their `Double` value (so 1 and 1.0, equal in Cypher, share
    /// an entry; large integers may share one too, which the re-check sorts out), strings,
    /// booleans. Lists are not indexed (a scalar never equals a list).
    enum Entry: Hashable {
        case number(Double)
        case string(String)
        case bool(Bool)

        init?(_ value: Value) {
            switch value {
            case .int(let i): self = .number(Double(i))
            case .float(let d) where !d.isNaN: self = .number(d)     // NaN equals nothing, itself included
            case .string(let s): self = .string(s)
            case .bool(let b): self = .bool(b)
            default: return nil
            }
        }
    }

    /// One index: its values' ids, kept sorted (as the label index keeps them: a lookup hands
    /// them out without sorting), spread over buckets by the value's hash. The store is a value
    /// that every query copies as its snapshot, and the first write after a copy duplicates
    /// what it changes: here one bucket and the bucket list, not every value of the index (one
    /// dictionary of 200,000 values made a single CREATE cost 33 ms). Buckets double when they
    /// average `valuesPerBucket` values.
    struct Buckets: Sendable {
        static var valuesPerBucket: Int { 1024 }
        private var buckets: [[Entry: SortedIds]] = [[:]]
        /// Distinct values, and ids under them.
        private(set) var valueCount = 0, idCount = 0

        private func bucket(of entry: Entry) -> Int { entry.hashValue & (buckets.count - 1) }

        subscript(entry: Entry) -> SortedIds? { buckets[bucket(of: entry)][entry] }

        mutating func insert(_ id: Int, _ entry: Entry) {
            let b = bucket(of: entry)
            let before = buckets[b][entry]?.count
            buckets[b][entry, default: SortedIds()].insert(id)
            if before == nil { valueCount += 1 }
            idCount += (buckets[b][entry]?.count ?? 0) - (before ?? 0)
            if valueCount > buckets.count * Self.valuesPerBucket { grow() }
        }

        mutating func remove(_ id: Int, _ entry: Entry) {
            let b = bucket(of: entry)
            guard let before = buckets[b][entry]?.count else { return }
            buckets[b][entry]?.remove(id)
            let after = buckets[b][entry]?.count ?? 0
            idCount -= before - after
            if after == 0 {
                buckets[b][entry] = nil
                valueCount -= 1
            }
        }

        /// Twice the buckets, every value moved to its new one.
        private mutating func grow() {
            var wider = [[Entry: SortedIds]](repeating: [:], count: buckets.count * 2)
            for bucket in buckets {
                for (entry, ids) in bucket { wider[entry.hashValue & (wider.count - 1)][entry] = ids }
            }
            buckets = wider
        }
    }

    private var entries: [Key: Buckets] = [:]
    private var names: [Key: String] = [:]

    /// True when no property is indexed (MATCH then plans as it always did).
    public var isEmpty: Bool { entries.isEmpty }

    /// Every index with its name, by name.
    public var definitions: [(name: String, key: Key)] {
        names.map { (name: $0.value, key: $0.key) }.sorted { $0.name < $1.name }
    }

    /// The key of the index named `name`.
    public func key(named name: String) -> Key? { names.first { $0.value == name }?.key }

    /// Whether (label, property) is indexed.
    public func contains(_ key: Key) -> Bool { entries[key] != nil }

    /// Node ids indexed under `key` (0 if there is no such index).
    public func count(_ key: Key) -> Int { entries[key]?.idCount ?? 0 }

    /// The ids of `label` nodes whose `property` may equal `value`, ascending; nil when that
    /// pair is not indexed or `value` is not an indexable scalar (then scan).
    func candidates(label: String, property: String, equalTo value: Value) -> [Int]? {
        candidateSet(label: label, property: property, equalTo: value)?.elements
    }

    /// `candidates` as the index holds them (no array gathered: a count or a walk reads it).
    func candidateSet(label: String, property: String, equalTo value: Value) -> SortedIds? {
        guard let index = entries[Key(label: label, property: property)], let entry = Entry(value) else { return nil }
        return index[entry] ?? SortedIds()
    }

    /// Adds an index and fills it from `nodes`.
    mutating func create(_ key: Key, name: String, nodes: some Sequence<Node>) {
        guard entries[key] == nil else { return }
        names[key] = name
        var index = Buckets()
        for node in nodes where node.labels.contains(key.label) {
            if let value = node.properties[key.property], let entry = Entry(value) { index.insert(node.id, entry) }
        }
        entries[key] = index
    }

    /// Keeps every index right after node `id` went from `old` to `new` (nil: absent).
    mutating func update(_ id: Int, from old: Node?, to new: Node?) {
        guard !entries.isEmpty else { return }
        for key in entries.keys {
            let before = Self.entry(old, key), after = Self.entry(new, key)
            guard before != after else { continue }
            if let before { entries[key]?.remove(id, before) }
            if let after { entries[key]?.insert(id, after) }
        }
    }

    private static func entry(_ node: Node?, _ key: Key) -> Entry? {
        guard let node, node.labels.contains(key.label), let value = node.properties[key.property] else { return nil }
        return Entry(value)
    }
}

extension GraphStore {
    /// Most property indexes one store may have.
    public static let maxPropertyIndexes = 64

    /// Indexes `property` of the nodes labelled `label` for equality lookups, as `name`.
    /// Throws `.conflict` when the name or the (label, property) pair is taken, `.runtime` for
    /// an empty or overlong name, `.limitExceeded` past `maxPropertyIndexes`.
    public mutating func createPropertyIndex(name: String, _ key: PropertyIndexes.Key) throws(GraphError) {
        try VectorIndexDefinition.validateNames(name: name, label: key.label, property: key.property)
        if propertyIndexes.key(named: name) != nil { throw GraphError(.conflict, "an index named '\(name)' already exists") }
        if let existing = propertyIndexes.definitions.first(where: { $0.key == key }) {
            throw GraphError(.conflict, ":\(key.label)(\(key.property)) is already indexed as '\(existing.name)'")
        }
        guard propertyIndexes.definitions.count < Self.maxPropertyIndexes else {
            throw GraphError(.limitExceeded, "a graph has at most \(Self.maxPropertyIndexes) property indexes")
        }
        propertyIndexes.create(key, name: name, nodes: nodes.values)
    }
}
