import Storage
import VectorEngine

/// The binary encodings of collection configuration, points, payloads and index state, for
/// WAL records and snapshot sections (format version 1).
enum CollectionCodec {
    struct Damaged: Error, CustomStringConvertible {
        let description: String
    }

    // MARK: Payloads

    static func write(_ value: PayloadValue, _ w: inout BinaryWriter, depth: Int = 0) {
        switch value {
        case .null: w.u8(0)
        case .bool(let b): w.u8(1); w.u8(b ? 1 : 0)
        case .int(let i): w.u8(2); w.u64(UInt64(bitPattern: i))
        case .double(let d): w.u8(3); w.double(d)
        case .string(let s): w.u8(4); w.string(s)
        case .list(let values):
            w.u8(5); w.u32(UInt32(values.count))
            for value in values { write(value, &w, depth: depth + 1) }
        case .object(let fields):
            w.u8(6); w.u32(UInt32(fields.count))
            for key in fields.keys.sorted() {
                w.string(key)
                write(fields[key] ?? .null, &w, depth: depth + 1)
            }
        }
    }

    static func readValue(_ r: inout BinaryReader, depth: Int = 0) throws -> PayloadValue {
        guard depth < 64 else { throw Damaged(description: "payload nested deeper than 64") }
        switch try r.u8() {
        case 0: return .null
        case 1: return .bool(try r.u8() != 0)
        case 2: return .int(Int64(bitPattern: try r.u64()))
        case 3: return .double(try r.double())
        case 4: return .string(try r.string())
        case 5:
            let count = Int(try r.u32())
            var values: [PayloadValue] = []
            for _ in 0..<count { values.append(try readValue(&r, depth: depth + 1)) }
            return .list(values)
        case 6:
            var fields: [String: PayloadValue] = [:]
            for _ in 0..<Int(try r.u32()) { fields[try r.string()] = try readValue(&r, depth: depth + 1) }
            return .object(fields)
        case let tag: throw Damaged(description: "unknown payload tag \(tag)")
        }
    }

    static func write(_ payload: Payload, _ w: inout BinaryWriter) {
        w.u32(UInt32(payload.count))
        for key in payload.keys.sorted() {
            w.string(key)
            write(payload[key] ?? .null, &w)
        }
    }

    static func readPayload(_ r: inout BinaryReader) throws -> Payload {
        var payload: Payload = [:]
        for _ in 0..<Int(try r.u32()) { payload[try r.string()] = try readValue(&r) }
        return payload
    }

    // MARK: WAL records

    /// Record types of a collection's WAL.
    enum RecordType: UInt8 {
        case upsert = 1
        case delete = 2
        /// New UUID ↔ internal id pairs (logged before the upsert that uses them).
        case assignUUIDs = 3
    }

    static func encodeUpsert(_ points: [VectorPoint]) -> [UInt8] {
        var w = BinaryWriter()
        w.u32(UInt32(points.count))
        for point in points {
            w.u64(point.id)
            w.floats(point.vector)
            write(point.payload, &w)
        }
        return w.bytes
    }

    /// `exact` refuses bytes after the last point (records from elsewhere: replication).
    static func decodeUpsert(_ bytes: [UInt8], exact: Bool = false) throws -> [VectorPoint] {
        var r = BinaryReader(bytes)
        var points: [VectorPoint] = []
        for _ in 0..<Int(try r.u32()) {
            points.append(VectorPoint(id: try r.u64(), vector: try r.floats(), payload: try readPayload(&r)))
        }
        guard !exact || r.isAtEnd else { throw Damaged(description: "trailing bytes after the points") }
        return points
    }

    static func encodeDelete(_ ids: [UInt64]) -> [UInt8] {
        var w = BinaryWriter()
        w.u32(UInt32(ids.count))
        for id in ids { w.u64(id) }
        return w.bytes
    }

    /// `exact` refuses bytes after the last id (records from elsewhere: replication).
    static func decodeDelete(_ bytes: [UInt8], exact: Bool = false) throws -> [UInt64] {
        var r = BinaryReader(bytes)
        // Appended one by one, not mapped: map would reserve the count read from the file
        // (up to 2^32 ids, 32 GiB) before finding the record too short.
        var ids: [UInt64] = []
        for _ in 0..<Int(try r.u32()) { ids.append(try r.u64()) }
        guard !exact || r.isAtEnd else { throw Damaged(description: "trailing bytes after the ids") }
        return ids
    }

    // MARK: Configuration and index state

    static func encode(_ config: CollectionConfig) -> [UInt8] {
        var w = BinaryWriter()
        w.u32(1)
        w.string(config.name)
        w.int(config.dimension)
        w.string(config.metric.rawValue)
        w.int(config.hnsw.m); w.int(config.hnsw.efConstruction); w.int(config.hnsw.efSearch); w.u64(config.hnsw.seed)
        write(config.quantization, &w)
        w.int(config.quantizationTrainingCount)
        // Added later: files written before end here, and mean vectors in memory.
        w.u8(config.vectors == .disk ? 1 : 0)
        // Added later still: the graph's placement (files without it: in memory).
        w.u8(config.graph == .disk ? 1 : 0)
        return w.bytes
    }

    static func decodeConfig(_ bytes: [UInt8]) throws -> CollectionConfig {
        var r = BinaryReader(bytes)
        guard try r.u32() == 1 else { throw Damaged(description: "collection configuration of an unknown version") }
        let name = try r.string(), dimension = try r.int()
        guard let metric = DistanceMetric(rawValue: try r.string()) else { throw Damaged(description: "unknown metric") }
        let hnsw = HNSWParameters(m: try r.int(), efConstruction: try r.int(), efSearch: try r.int(), seed: try r.u64())
        let quantization = try readQuantization(&r)
        if case .tiered(let policy)? = quantization {
            do { try policy.validate(dimension: dimension) } catch {
                throw Damaged(description: "tier policy: \(error.message)")
            }
        }
        let trainingCount = try r.int()
        func placement(_ what: String) throws -> VectorPlacement {
            guard !r.isAtEnd else { return .memory }
            switch try r.u8() {
            case 0: return .memory
            case 1: return .disk
            case let tag: throw Damaged(description: "unknown \(what) placement \(tag)")
            }
        }
        let vectors = try placement("vector"), graph = try placement("graph")
        guard graph == .memory || vectors == .disk else { throw Damaged(description: "a graph on disk with vectors in memory") }
        return CollectionConfig(name: name, dimension: dimension, metric: metric, hnsw: hnsw,
                                quantization: quantization, quantizationTrainingCount: trainingCount, vectors: vectors,
                                graph: graph)
    }

    /// A quantization kind (tag 0 = none), as in the configuration and the quantizer section.
    static func write(_ kind: QuantizationKind?, _ w: inout BinaryWriter) {
        switch kind {
        case nil: w.u8(0)
        case .scalarInt8?: w.u8(1)
        case .float16?: w.u8(2)
        case .pq8(let m)?: w.u8(3); w.int(m)
        case .pq4(let m)?: w.u8(4); w.int(m)
        case .binary?: w.u8(5)
        case .scalarInt4?: w.u8(7)
        case .tiered(let p)?:
            w.u8(6); w.double(p.hotThreshold); w.int(p.retierIntervalQueries); w.double(p.decay); w.int(p.pqSubspaces)
        }
    }

    /// A quantization kind as written above; a tier policy is not validated here.
    static func readQuantization(_ r: inout BinaryReader) throws -> QuantizationKind? {
        switch try r.u8() {
        case 0: return nil
        case 1: return .scalarInt8
        case 2: return .float16
        case 3: return .pq8(subspaces: try r.int())
        case 4: return .pq4(subspaces: try r.int())
        case 5: return .binary
        case 7: return .scalarInt4
        case 6:
            return .tiered(TierPolicy(hotThreshold: try r.double(), retierIntervalQueries: try r.int(), decay: try r.double(),
                                      pqSubspaces: try r.int()))
        case let tag: throw Damaged(description: "unknown quantization \(tag)")
        }
    }

    static func encode(_ state: HNSWState) -> [UInt8] {
        var w = BinaryWriter()
        w.int(state.dimension)
        w.string(state.metric.rawValue)
        w.int(state.parameters.m); w.int(state.parameters.efConstruction); w.int(state.parameters.efSearch)
        w.u64(state.parameters.seed)
        w.floats(state.vectors)
        w.u64(UInt64(state.levels.count)); for level in state.levels { w.u8(level) }
        w.u32s(state.level0Links)
        w.u64(UInt64(state.upperLinks.count)); for links in state.upperLinks { w.u32s(links) }
        w.u64(UInt64(state.externalIds.count)); for id in state.externalIds { w.u64(id) }
        w.u64(UInt64(state.deleted.count)); for flag in state.deleted { w.u8(flag ? 1 : 0) }
        w.u64(UInt64(state.payloads.count)); for payload in state.payloads { write(payload, &w) }
        w.u64(state.entryPoint.map { UInt64($0) + 1 } ?? 0)
        w.u64(state.generatorState)
        return w.bytes
    }

    static func decodeState(_ bytes: [UInt8]) throws -> HNSWState {
        var r = BinaryReader(bytes)
        let dimension = try r.int()
        guard let metric = DistanceMetric(rawValue: try r.string()) else { throw Damaged(description: "unknown metric") }
        let parameters = HNSWParameters(m: try r.int(), efConstruction: try r.int(), efSearch: try r.int(), seed: try r.u64())
        let vectors = try r.floats()
        let levels = try (0..<r.count(elementBytes: 1)).map { _ in try r.u8() }
        let level0Links = try r.u32s()
        let upperLinks = try (0..<r.count(elementBytes: 8)).map { _ in try r.u32s() }
        let externalIds = try (0..<r.count(elementBytes: 8)).map { _ in try r.u64() }
        let deleted = try (0..<r.count(elementBytes: 1)).map { _ in try r.u8() != 0 }
        let payloads = try (0..<r.count(elementBytes: 4)).map { _ in try readPayload(&r) }
        let entry = try r.u64()
        let generator = try r.u64()
        guard r.isAtEnd else { throw Damaged(description: "trailing bytes after the index state") }
        return HNSWState(dimension: dimension, metric: metric, parameters: parameters, vectors: vectors, levels: levels,
                         level0Links: level0Links, upperLinks: upperLinks, externalIds: externalIds, deleted: deleted,
                         payloads: payloads, entryPoint: entry == 0 ? nil : UInt32(truncatingIfNeeded: entry - 1),
                         generatorState: generator)
    }
}
