import RPC
import Storage
import VectorDatabase
import VectorEngine
import Wire
import WorkControl

/// Conversions between VectorService messages and the vector engine, with every refusal a
/// gRPC status whose message says what to change.
enum VectorMapping {
    static func invalid(_ message: String) -> RPCError { RPCError(.invalidArgument, message) }

    static func rpcError(_ error: any Error) -> RPCError {
        if let error = error as? RPCError { return error }
        if let limit = error as? WorkLimitError { return ServerWork.status(of: limit) }
        if let error = error as? VectorEngineError {
            if let limit = error.cause as? WorkLimitError { return ServerWork.status(of: limit) }
            switch error.code {
            case .notFound: return RPCError(.notFound, error.message, cause: error)
            case .storageExhausted: return RPCError(.resourceExhausted, error.message, cause: error)
            // The client retries at a higher level: the scroll, from its first page.
            case .staleCursor: return RPCError(.aborted, error.message, cause: error)
            default: return RPCError(.invalidArgument, error.message, cause: error)
            }
        }
        return StorageStatus.unexpected(error)
    }

    /// Throws INVALID_ARGUMENT saying what a valid collection name is, unless `name` is one.
    static func checkCollectionName(_ name: String) throws {
        do { try CollectionCatalog.checkName(name) } catch { throw rpcError(error) }
    }

    static func metric(_ metric: RuvectorV1.Metric) throws -> DistanceMetric {
        switch metric {
        case .l2: return .l2Squared
        case .cosine: return .cosine
        case .dot: return .dot
        case .manhattan: return .manhattan
        default: throw invalid("metric must be METRIC_L2, METRIC_COSINE, METRIC_DOT or METRIC_MANHATTAN")
        }
    }

    static func metric(_ metric: DistanceMetric) -> RuvectorV1.Metric {
        switch metric {
        case .l2Squared: return .l2
        case .cosine: return .cosine
        case .dot: return .dot
        case .manhattan: return .manhattan
        }
    }

    static func config(_ request: RuvectorV1.CreateCollectionRequest, limits: VectorServiceLimits) throws -> CollectionConfig {
        try checkCollectionName(request.name)
        guard request.dimension >= 1, request.dimension <= limits.maxDimension else {
            throw invalid("dimension must be between 1 and \(limits.maxDimension), got \(request.dimension)")
        }
        var hnsw = HNSWParameters()
        if let given = request.hnsw {
            if given.m > 0 { hnsw.m = Int(given.m) }
            if given.efConstruction > 0 { hnsw.efConstruction = Int(given.efConstruction) }
            if given.efSearch > 0 { hnsw.efSearch = Int(given.efSearch) }
        }
        var quantization: QuantizationKind?
        var trainingCount: Int?
        switch request.quantization?.kind {
        case nil: quantization = nil
        case .scalar(let scalar)?:
            guard scalar.quantile == 0 || scalar.quantile == 1 else {
                throw invalid("scalar quantization clips nothing yet: quantile must be 0 (or 1), got \(scalar.quantile)")
            }
            switch scalar.bits {
            case 8, 0: quantization = .scalarInt8
            case 4: quantization = .scalarInt4
            default: throw invalid("scalar quantization bits must be 8 or 4, got \(scalar.bits)")
            }
            trainingCount = try trainingSample(scalar.trainingSample, "scalar")
        case .float16?: quantization = .float16
        case .binary?: quantization = .binary
        case .product(let pq)?:
            guard pq.subvectors <= request.dimension else {
                throw invalid("product quantization subvectors must be at most the dimension (\(request.dimension)), got \(pq.subvectors)")
            }
            let subvectors = pq.subvectors > 0 ? Int(pq.subvectors) : max(1, Int(request.dimension) / 8)
            switch pq.bits {
            case 8, 0: quantization = .pq8(subspaces: subvectors)
            case 4: quantization = .pq4(subspaces: subvectors)
            default: throw invalid("product quantization bits must be 8 or 4, got \(pq.bits)")
            }
            trainingCount = try trainingSample(pq.trainingSample, "product")
        case .tiered(let tiered)?:
            var policy = TierPolicy()
            if tiered.hotThreshold > 0 { policy.hotThreshold = Double(tiered.hotThreshold) }
            if tiered.retierIntervalQueries > 0 { policy.retierIntervalQueries = Int(tiered.retierIntervalQueries) }
            policy.pqSubspaces = Int(tiered.subvectors)
            do { try policy.validate(dimension: Int(request.dimension)) } catch { throw invalid(error.message) }
            quantization = .tiered(policy)
        }
        // Tiered collections exist to be small: their full vectors (read only to rescore) go to disk.
        // A graph on disk takes the vectors with it.
        let onDisk = request.onDisk || request.onDiskGraph
            || { if case .tiered? = quantization { return true } else { return false } }()
        var config = CollectionConfig(name: request.name, dimension: Int(request.dimension), metric: try metric(request.metric),
                                      hnsw: hnsw, quantization: quantization, vectors: onDisk ? .disk : .memory,
                                      graph: request.onDiskGraph ? .disk : .memory)
        if let trainingCount { config.quantizationTrainingCount = trainingCount }
        return config
    }

    /// A quantizer's `training_sample` (0: the default, nil) within 1...1,000,000.
    private static func trainingSample(_ given: UInt32, _ what: String) throws -> Int? {
        guard given > 0 else { return nil }
        guard given <= 1_000_000 else {
            throw invalid("\(what) quantization training_sample must be at most 1000000, got \(given)")
        }
        return Int(given)
    }

    /// The configuration's quantization as the wire describes it.
    static func quantization(_ kind: QuantizationKind, trainingCount: Int) -> RuvectorV1.QuantizationConfig {
        switch kind {
        case .scalarInt8: return .init(kind: .scalar(.init(bits: 8, trainingSample: UInt32(clamping: trainingCount))))
        case .scalarInt4: return .init(kind: .scalar(.init(bits: 4, trainingSample: UInt32(clamping: trainingCount))))
        case .float16: return .init(kind: .float16(.init()))
        case .binary: return .init(kind: .binary(.init()))
        case .pq8(let m): return .init(kind: .product(.init(subvectors: UInt32(clamping: m), bits: 8, trainingSample: UInt32(clamping: trainingCount))))
        case .pq4(let m): return .init(kind: .product(.init(subvectors: UInt32(clamping: m), bits: 4, trainingSample: UInt32(clamping: trainingCount))))
        case .tiered(let p):
            return .init(kind: .tiered(.init(hotThreshold: UInt32(p.hotThreshold), retierIntervalQueries: UInt32(p.retierIntervalQueries),
                                             subvectors: UInt32(p.pqSubspaces))))
        }
    }

    /// What a collection's configuration says about it (no counts).
    static func info(_ config: CollectionConfig) -> RuvectorV1.CollectionInfo {
        var info = RuvectorV1.CollectionInfo(name: config.name, dimension: UInt32(config.dimension), metric: metric(config.metric))
        info.hnsw = RuvectorV1.HnswConfig(m: UInt32(config.hnsw.m), efConstruction: UInt32(config.hnsw.efConstruction),
                                          efSearch: UInt32(config.hnsw.efSearch))
        info.quantization = config.quantization.map { quantization($0, trainingCount: config.quantizationTrainingCount) }
        info.onDisk = config.vectors == .disk
        info.onDiskGraph = config.graph == .disk
        info.shards = 1
        info.replicationFactor = 1
        return info
    }

    static func info(_ durable: DurableCollection) throws -> RuvectorV1.CollectionInfo {
        let collection = durable.collection
        let config = collection.config
        var info = info(config)
        info.pointsCount = UInt64(try collection.count())
        info.memoryBytes = UInt64(collection.index.memoryBytes)
        info.onDiskVectorBytes = UInt64(collection.index.offHeapVectorBytes)
        info.onDiskGraphBytes = UInt64(collection.index.offHeapGraphBytes)
        info.diskBytes = UInt64(durable.diskBytes)
        info.createdUnixMicros = durable.createdUnixMicros
        info.indexStatus = durable.queuedWrites > 0 ? .indexing : .ready
        if let tiers = collection.index.tierStatistics {
            func count(_ tier: CompressionTier) -> UInt64 { UInt64(tiers.counts[tier] ?? 0) }
            info.tiers = RuvectorV1.TierCounts(hot: count(.hot), warm: count(.warm), cool: count(.cool), cold: count(.cold),
                                               archive: count(.archive), codeBytes: UInt64(tiers.codeBytes),
                                               passes: UInt64(tiers.passes))
        }
        return info
    }

    /// WAIT_ACCEPTED: acknowledged once logged, applied shortly after; anything else: applied first.
    static func acknowledgement(_ wait: RuvectorV1.WriteWait) -> DurableCollection.Acknowledgement {
        wait == .accepted ? .logged : .applied
    }

    /// A point id off the wire: a number below 2^63, or a UUID in canonical text.
    static func key(_ id: RuvectorV1.PointId?) throws -> PointKey {
        switch id?.kind {
        case .num(let value)?:
            guard value < PointKey.numberLimit else {
                throw invalid("numeric point ids must be below 2^63 (\(PointKey.numberLimit)), got \(value); use a UUID")
            }
            return .number(value)
        case .uuid(let text)?:
            guard let uuid = PointUUID(text) else {
                throw invalid("'\(text.prefix(64))' is not a UUID; write 32 hex digits as 8-4-4-4-12, e.g. 550e8400-e29b-41d4-a716-446655440000")
            }
            return .uuid(uuid)
        case nil: throw invalid("a point id is required")
        }
    }

    /// The wire form of a point's id.
    static func pointId(_ key: PointKey) -> RuvectorV1.PointId {
        switch key {
        case .number(let n): return RuvectorV1.PointId(kind: .num(n))
        case .uuid(let u): return RuvectorV1.PointId(kind: .uuid(u.description))
        }
    }

    static func value(_ value: RuvectorV1.Value, depth: Int = 0) throws -> PayloadValue {
        guard depth < 32 else { throw invalid("payload values nest deeper than 32 levels") }
        switch value.kind {
        case nil, .nullValue?: return .null
        case .boolValue(let b)?: return .bool(b)
        case .intValue(let i)?: return .int(i)
        case .doubleValue(let d)?: return .double(d)
        case .stringValue(let s)?:
            guard s.utf8.count <= 65_536 else { throw invalid("payload strings are limited to 64 KiB") }
            return .string(s)
        case .listValue(let list)?: return .list(try list.values.map { try self.value($0, depth: depth + 1) })
        case .structValue(let object)?: return .object(try payload(object, depth: depth + 1))
        }
    }

    static func value(_ value: PayloadValue) -> RuvectorV1.Value {
        switch value {
        case .null: return RuvectorV1.Value(kind: .nullValue(true))
        case .bool(let b): return RuvectorV1.Value(kind: .boolValue(b))
        case .int(let i): return RuvectorV1.Value(kind: .intValue(i))
        case .double(let d): return RuvectorV1.Value(kind: .doubleValue(d))
        case .string(let s): return RuvectorV1.Value(kind: .stringValue(s))
        case .list(let values): return RuvectorV1.Value(kind: .listValue(RuvectorV1.ListValue(values: values.map { Self.value($0) })))
        case .object(let fields): return RuvectorV1.Value(kind: .structValue(structure(fields)))
        }
    }

    /// A payload (or nested object) as a wire Struct, keys sorted.
    static func structure(_ payload: Payload) -> RuvectorV1.Struct {
        RuvectorV1.Struct(fields: payload.keys.sorted().map { key in
            RuvectorV1.Struct.FieldsEntry(key: key, value: value(payload[key] ?? .null))
        })
    }

    static func payload(_ payload: RuvectorV1.Struct?, depth: Int = 0) throws -> Payload {
        var result: Payload = [:]
        for entry in payload?.fields ?? [] {
            guard result[entry.key] == nil else { throw invalid("payload key '\(entry.key)' appears twice") }
            result[entry.key] = try value(entry.value ?? RuvectorV1.Value(), depth: depth)
        }
        return result
    }

    /// A payload's size as the limits count it: key and string bytes plus 8 per value.
    static func storedBytes(_ payload: Payload) -> Int {
        func size(_ value: PayloadValue) -> Int {
            switch value {
            case .string(let s): return 8 + s.utf8.count
            case .list(let values): return values.reduce(8) { $0 + size($1) }
            case .object(let fields): return fields.reduce(8) { $0 + $1.key.utf8.count + size($1.value) }
            case .null, .bool, .int, .double: return 8
            }
        }
        return payload.reduce(0) { $0 + $1.key.utf8.count + size($1.value) }
    }

    static func payload(_ payload: Payload, keys: [String]) -> RuvectorV1.Struct {
        guard !keys.isEmpty else { return structure(payload) }
        return RuvectorV1.Struct(fields: keys.compactMap { key in
            payload[key].map { RuvectorV1.Struct.FieldsEntry(key: key, value: value($0)) }
        })
    }

    /// The engine's filter for `filter`; `has_id` names points by number or UUID, which
    /// `ids` turns into the engine's ids (a UUID the collection never saw matches nothing).
    /// The engine filter for a request's filter, after its size is checked against `limits`
    /// (depth, conditions, listed values, bytes) so that no filter costs more per point than the
    /// limits allow; nil for no filter.
    static func filter(_ filter: RuvectorV1.Filter?, limits: VectorServiceLimits, ids: DurableCollection) throws -> PayloadFilter? {
        guard let filter else { return nil }
        var size = FilterSize()
        try size.measure(filter, limits: limits)
        return try self.filter(filter, maxDepth: limits.maxFilterDepth, ids: ids)
    }

    private static func filter(_ filter: RuvectorV1.Filter?, maxDepth: Int, ids: DurableCollection,
                               depth: Int = 0) throws -> PayloadFilter? {
        guard let filter else { return nil }
        guard depth < maxDepth else { throw invalid("filters nest deeper than \(maxDepth) levels") }
        guard Int(filter.minShould) <= max(1, filter.should.count) else {
            throw invalid("min_should is \(filter.minShould) but the filter has only \(filter.should.count) should conditions")
        }
        var parts: [PayloadFilter] = try filter.must.map { try condition($0, maxDepth: maxDepth, ids: ids, depth: depth) }
        if !filter.should.isEmpty {
            let should = try filter.should.map { try condition($0, maxDepth: maxDepth, ids: ids, depth: depth) }
            parts.append(filter.minShould > 1 ? .atLeast(.init(minimum: Int(filter.minShould), filters: should)) : .should(should))
        }
        if !filter.mustNot.isEmpty { parts.append(.mustNot(try filter.mustNot.map { try condition($0, maxDepth: maxDepth, ids: ids, depth: depth) })) }
        return parts.isEmpty ? nil : .must(parts)
    }

    private static func condition(_ condition: RuvectorV1.Condition, maxDepth: Int, ids: DurableCollection, depth: Int) throws -> PayloadFilter {
        switch condition.kind {
        case .field(let field)?:
            guard !field.key.isEmpty else { throw invalid("a field condition needs a key") }
            switch field.test {
            case .match(let match)?: return try self.match(field.key, match)
            case .range(let range)?:
                var bounds = PayloadFilter.NumericRange()
                if case .lt(let v)? = range.ltBound { bounds.lt = v }
                if case .gt(let v)? = range.gtBound { bounds.gt = v }
                if case .lte(let v)? = range.lteBound { bounds.lte = v }
                if case .gte(let v)? = range.gteBound { bounds.gte = v }
                return .range(field.key, bounds)
            case .exists(true)?: return .exists(field.key)
            case .exists(false)?: return .mustNot([.exists(field.key)])
            case nil: throw invalid("field condition on '\(field.key)' needs match, range or exists")
            }
        case .filter(let nested)?: return try filter(nested, maxDepth: maxDepth, ids: ids, depth: depth + 1) ?? .must([])
        case .isNull(let c)?:
            guard !c.key.isEmpty else { throw invalid("is_null needs a key") }
            return .isNull(c.key)
        case .isEmpty(let c)?:
            guard !c.key.isEmpty else { throw invalid("is_empty needs a key") }
            return .isEmpty(c.key)
        case .hasId(let c)?:
            guard c.ids.count <= 10_000 else { throw invalid("has_id takes at most 10000 ids, got \(c.ids.count)") }
            return .hasId(Set(try c.ids.compactMap { try ids.internalId(try key($0)) }))
        case nil: throw invalid("an empty condition")
        }
    }

    private static func match(_ key: String, _ match: RuvectorV1.Match) throws -> PayloadFilter {
        switch match.kind {
        case .keyword(let s)?: return .match(key, .string(s))
        case .integer(let i)?: return .match(key, .int(i))
        case .boolean(let b)?: return .match(key, .bool(b))
        case .anyKeywords(let list)?: return .isIn(key, list.values.map { .string($0) })
        case .anyIntegers(let list)?: return .isIn(key, list.values.map { .int($0) })
        case .exceptKeywords(let list)?: return .mustNot([.isIn(key, list.values.map { .string($0) })])
        case .exceptIntegers(let list)?: return .mustNot([.isIn(key, list.values.map { .int($0) })])
        case nil: throw invalid("match on '\(key)' names no value")
        }
    }

    /// Similarity as the API reports it (larger is better) from the engine's distance.
    static func score(distance: Float, metric: DistanceMetric) -> Float {
        switch metric {
        case .cosine: return 1 - distance
        case .l2Squared, .dot, .manhattan: return -distance
        }
    }
}

/// The size of a request's filter, measured before it is converted: a filter's cost per point
/// grows with its conditions and listed values, so both are bounded (a 100,000-condition filter
/// would take seconds per thousand points).
struct FilterSize {
    private(set) var conditions = 0
    private(set) var values = 0
    private(set) var bytes = 0

    mutating func measure(_ filter: RuvectorV1.Filter, limits: VectorServiceLimits, depth: Int = 0) throws {
        guard depth < limits.maxFilterDepth else {
            throw VectorMapping.invalid("filters nest deeper than \(limits.maxFilterDepth) levels (vectorLimits.maxFilterDepth)")
        }
        for condition in [filter.must, filter.should, filter.mustNot].joined() {
            conditions += 1
            guard conditions <= limits.maxFilterConditions else {
                throw VectorMapping.invalid("a filter may have at most \(limits.maxFilterConditions) conditions (vectorLimits.maxFilterConditions); "
                                            + "use match-any lists for many values")
            }
            switch condition.kind {
            case .field(let field)?:
                bytes += field.key.utf8.count
                if case .match(let match)? = field.test {
                    switch match.kind {
                    case .keyword(let s)?: bytes += s.utf8.count
                    case .anyKeywords(let list)?, .exceptKeywords(let list)?:
                        values += list.values.count
                        bytes += list.values.reduce(0) { $0 + $1.utf8.count }
                    case .anyIntegers(let list)?, .exceptIntegers(let list)?: values += list.values.count
                    default: break
                    }
                }
            case .filter(let nested)?: try measure(nested, limits: limits, depth: depth + 1)
            case .isNull(let c)?: bytes += c.key.utf8.count
            case .isEmpty(let c)?: bytes += c.key.utf8.count
            case .hasId(let c)?: values += c.ids.count
            case nil: break
            }
            guard values <= limits.maxFilterValues else {
                throw VectorMapping.invalid("a filter may list at most \(limits.maxFilterValues) values in all (vectorLimits.maxFilterValues)")
            }
            guard bytes <= limits.maxFilterBytes else {
                throw VectorMapping.invalid("a filter's keys and keywords may take at most \(limits.maxFilterBytes) bytes (vectorLimits.maxFilterBytes)")
            }
        }
    }
}
