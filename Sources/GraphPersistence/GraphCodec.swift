import GraphEngine
import Storage
import VectorEngine

/// The binary encoding of `GraphChanges`: WAL records (one per commit) and snapshots (the
/// whole store as changes to an empty one); and of vector index definitions (a WAL record
/// per created index, a snapshot section listing them all). Format version 1, little-endian.
enum GraphCodec {
    static let maxDepth = 32

    struct Damaged: Error, CustomStringConvertible {
        let description: String
    }

    static func encode(_ changes: GraphChanges) -> [UInt8] {
        var w = BinaryWriter()
        w.u8(1)
        w.int(changes.nextId)
        w.u64(UInt64(changes.nodes.count))
        for (id, node) in changes.nodes.sorted(by: { $0.key < $1.key }) {
            w.int(id)
            guard let node else { w.u8(0); continue }
            w.u8(1)
            w.u32(UInt32(node.labels.count))
            for label in node.labels { w.string(label) }
            write(node.properties, &w)
        }
        w.u64(UInt64(changes.relationships.count))
        for (id, relationship) in changes.relationships.sorted(by: { $0.key < $1.key }) {
            w.int(id)
            guard let relationship else { w.u8(0); continue }
            w.u8(1)
            w.string(relationship.type)
            w.int(relationship.start)
            w.int(relationship.end)
            write(relationship.properties, &w)
        }
        w.u64(UInt64(changes.hyperedges.count))
        for (id, hyperedge) in changes.hyperedges.sorted(by: { $0.key < $1.key }) {
            w.int(id)
            guard let hyperedge else { w.u8(0); continue }
            w.u8(1)
            w.string(hyperedge.type)
            w.u64(UInt64(hyperedge.members.count))
            for member in hyperedge.members { w.int(member) }
            write(hyperedge.properties, &w)
        }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> GraphChanges {
        do {
            var r = BinaryReader(bytes)
            guard try r.u8() == 1 else { throw Damaged(description: "unknown graph record version") }
            var changes = GraphChanges()
            changes.nextId = try r.int()
            for _ in 0..<(try r.count(elementBytes: 9)) {
                let id = try r.int()
                guard try r.u8() == 1 else { changes.nodes[id] = .some(nil); continue }
                var labels: [String] = []
                for _ in 0..<Int(try r.u32()) { labels.append(try r.string()) }
                changes.nodes[id] = Node(id: id, labels: labels, properties: try readProperties(&r))
            }
            for _ in 0..<(try r.count(elementBytes: 9)) {
                let id = try r.int()
                guard try r.u8() == 1 else { changes.relationships[id] = .some(nil); continue }
                let type = try r.string()
                let start = try r.int(), end = try r.int()
                changes.relationships[id] = Relationship(id: id, type: type, start: start, end: end,
                                                         properties: try readProperties(&r))
            }
            for _ in 0..<(try r.count(elementBytes: 9)) {
                let id = try r.int()
                guard try r.u8() == 1 else { changes.hyperedges[id] = .some(nil); continue }
                let type = try r.string()
                var members: [Int] = []
                for _ in 0..<(try r.count(elementBytes: 8)) { members.append(try r.int()) }
                changes.hyperedges[id] = Hyperedge(id: id, type: type, members: members, properties: try readProperties(&r))
            }
            guard r.isAtEnd else { throw Damaged(description: "trailing bytes after a graph record") }
            return changes
        } catch is BinaryReader.Truncated {
            throw Damaged(description: "a graph record is cut short")
        }
    }

    static func encode(_ definitions: [VectorIndexDefinition]) -> [UInt8] {
        encodeList(definitions) { d, w in
            w.string(d.name); w.string(d.label); w.string(d.property)
            w.u32(UInt32(d.dimension))
            w.string(d.metric.rawValue)
        }
    }

    static func decodeDefinitions(_ bytes: [UInt8]) throws -> [VectorIndexDefinition] {
        try decodeList(bytes, what: "vector index", elementBytes: 20) { r in
            let name = try r.string(), label = try r.string(), property = try r.string()
            let dimension = Int(try r.u32())
            let metricName = try r.string()
            guard let metric = DistanceMetric(rawValue: metricName) else {
                throw Damaged(description: "unknown distance metric '\(metricName)' in an index record")
            }
            return VectorIndexDefinition(name: name, label: label, property: property, dimension: dimension, metric: metric)
        }
    }

    /// Property index definitions: (name, label, property) each.
    static func encode(_ definitions: [(name: String, key: PropertyIndexes.Key)]) -> [UInt8] {
        encodeList(definitions) { d, w in w.string(d.name); w.string(d.key.label); w.string(d.key.property) }
    }

    static func decodePropertyIndexes(_ bytes: [UInt8]) throws -> [(name: String, key: PropertyIndexes.Key)] {
        try decodeList(bytes, what: "property index", elementBytes: 12) { r in
            let name = try r.string(), label = try r.string(), property = try r.string()
            return (name, PropertyIndexes.Key(label: label, property: property))
        }
    }

    /// A versioned, counted list (index definition records and snapshot sections).
    private static func encodeList<T>(_ items: [T], _ write: (T, inout BinaryWriter) -> Void) -> [UInt8] {
        var w = BinaryWriter()
        w.u8(1)
        w.u64(UInt64(items.count))
        for item in items { write(item, &w) }
        return w.bytes
    }

    /// Reads what `encodeList` wrote; `elementBytes` is the least one element takes (bounds the count).
    private static func decodeList<T>(_ bytes: [UInt8], what: String, elementBytes: Int,
                                      _ read: (inout BinaryReader) throws -> T) throws -> [T] {
        do {
            var r = BinaryReader(bytes)
            guard try r.u8() == 1 else { throw Damaged(description: "unknown \(what) record version") }
            var items: [T] = []
            for _ in 0..<(try r.count(elementBytes: elementBytes)) { items.append(try read(&r)) }
            guard r.isAtEnd else { throw Damaged(description: "trailing bytes after a \(what) record") }
            return items
        } catch is BinaryReader.Truncated {
            throw Damaged(description: "a \(what) record is cut short")
        }
    }

    private static func write(_ properties: [String: Value], _ w: inout BinaryWriter) {
        w.u32(UInt32(properties.count))
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            w.string(key)
            write(value, &w)
        }
    }

    private static func readProperties(_ r: inout BinaryReader) throws -> [String: Value] {
        var properties: [String: Value] = [:]
        for _ in 0..<Int(try r.u32()) {
            let key = try r.string()
            properties[key] = try readValue(&r, depth: 0)
        }
        return properties
    }

    private static func write(_ value: Value, _ w: inout BinaryWriter) {
        switch value {
        case .null: w.u8(0)
        case .bool(let b): w.u8(1); w.u8(b ? 1 : 0)
        case .int(let i): w.u8(2); w.u64(UInt64(bitPattern: i))
        case .float(let d): w.u8(3); w.double(d)
        case .string(let s): w.u8(4); w.string(s)
        case .list(let values):
            w.u8(5)
            w.u64(UInt64(values.count))
            for v in values { write(v, &w) }
        case .map(let map):
            w.u8(6)
            write(map, &w)
        case .node(let id): w.u8(7); w.int(id)
        case .relationship(let id): w.u8(8); w.int(id)
        case .path(let nodes, let relationships):
            w.u8(9)
            w.u64(UInt64(nodes.count)); for n in nodes { w.int(n) }
            w.u64(UInt64(relationships.count)); for r in relationships { w.int(r) }
        case .temporal(let t):
            w.u8(10)
            write(t, &w)
        }
    }

    /// A temporal value: a kind byte (0 date, 1 localtime, 2 time, 3 localdatetime, 4 datetime,
    /// 5 duration), then its fields as 64-bit integers, offsets as 32-bit ones, and a datetime's
    /// zone name after a presence byte.
    private static func write(_ t: Temporal, _ w: inout BinaryWriter) {
        func i64(_ v: Int64) { w.u64(UInt64(bitPattern: v)) }
        func offset(_ o: Int32) { w.u32(UInt32(bitPattern: o)) }
        switch t {
        case .date(let d): w.u8(0); i64(d)
        case .localTime(let n): w.u8(1); i64(n)
        case .time(let n, let o): w.u8(2); i64(n); offset(o)
        case .localDateTime(let d, let n): w.u8(3); i64(d); i64(n)
        case .dateTime(let d, let n, let o, let zone):
            w.u8(4); i64(d); i64(n); offset(o)
            if let zone { w.u8(1); w.string(zone) } else { w.u8(0) }
        case .duration(let x): w.u8(5); i64(x.months); i64(x.days); i64(x.seconds); i64(x.nanos)
        }
    }

    /// Reads what `write(_ t:)` wrote; a value out of its ranges is damage, not a value.
    private static func readTemporal(_ r: inout BinaryReader) throws -> Temporal {
        func i64() throws -> Int64 { Int64(bitPattern: try r.u64()) }
        func offset() throws -> Int32 { Int32(bitPattern: try r.u32()) }
        let t: Temporal
        switch try r.u8() {
        case 0: t = .date(epochDay: try i64())
        case 1: t = .localTime(nanoOfDay: try i64())
        case 2: t = .time(nanoOfDay: try i64(), offsetSeconds: try offset())
        case 3: t = .localDateTime(epochDay: try i64(), nanoOfDay: try i64())
        case 4:
            let d = try i64(), n = try i64(), o = try offset()
            let zone: String? = try r.u8() == 0 ? nil : try r.string()
            t = .dateTime(epochDay: d, nanoOfDay: n, offsetSeconds: o, zone: zone)
        case 5:
            let months = try i64(), days = try i64(), seconds = try i64(), nanos = try i64()
            guard (0..<1_000_000_000).contains(nanos), let x = CypherDuration(months: months, days: days, seconds: seconds, nanos: nanos) else {
                throw Damaged(description: "a duration's nanoseconds are out of range")
            }
            t = .duration(x)
        case let kind: throw Damaged(description: "unknown temporal kind \(kind)")
        }
        guard t.isValid else { throw Damaged(description: "a \(t.typeName) field is out of range") }
        return t
    }

    private static func readValue(_ r: inout BinaryReader, depth: Int) throws -> Value {
        guard depth < maxDepth else { throw Damaged(description: "values nest deeper than \(maxDepth)") }
        switch try r.u8() {
        case 0: return .null
        case 1: return .bool(try r.u8() != 0)
        case 2: return .int(Int64(bitPattern: try r.u64()))
        case 3: return .float(try r.double())
        case 4: return .string(try r.string())
        case 5:
            var values: [Value] = []
            for _ in 0..<(try r.count(elementBytes: 1)) { values.append(try readValue(&r, depth: depth + 1)) }
            return .list(values)
        case 6:
            var map: [String: Value] = [:]
            for _ in 0..<Int(try r.u32()) {
                let key = try r.string()
                map[key] = try readValue(&r, depth: depth + 1)
            }
            return .map(map)
        case 7: return .node(try r.int())
        case 8: return .relationship(try r.int())
        case 9:
            var nodes: [Int] = [], relationships: [Int] = []
            for _ in 0..<(try r.count(elementBytes: 8)) { nodes.append(try r.int()) }
            for _ in 0..<(try r.count(elementBytes: 8)) { relationships.append(try r.int()) }
            return .path(nodes: nodes, relationships: relationships)
        case 10: return .temporal(try readTemporal(&r))
        case let tag: throw Damaged(description: "unknown value tag \(tag)")
        }
    }
}
