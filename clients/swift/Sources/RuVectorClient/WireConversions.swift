import Wire

/// Conversions between the client's value types and the `ruvector.v1` wire messages.
/// Values that do not fit the wire (negative counts, out-of-range sizes) are refused with
/// `invalidInput` before anything is sent.
enum WireConversions {
    static func invalid(_ message: String) -> RuVectorClientError { RuVectorClientError(.invalidInput, message) }

    static func uint32(_ value: Int, _ name: String) throws(RuVectorClientError) -> UInt32 {
        guard let converted = UInt32(exactly: value) else { throw invalid("\(name) must be between 0 and \(UInt32.max), got \(value)") }
        return converted
    }

    // MARK: Ids, payloads, points

    static func wire(_ id: PointID) -> RuvectorV1.PointId {
        switch id {
        case .num(let n): RuvectorV1.PointId(kind: .num(n))
        case .uuid(let u): RuvectorV1.PointId(kind: .uuid(u))
        }
    }

    static func id(_ id: RuvectorV1.PointId?) throws(RuVectorClientError) -> PointID {
        switch id?.kind {
        case .num(let n)?: return .num(n)
        case .uuid(let u)?: return .uuid(u)
        case nil: throw RuVectorClientError(.badResponse, "the server returned a point without an id")
        }
    }

    static func wire(_ value: PayloadValue) -> RuvectorV1.Value {
        switch value {
        case .null: RuvectorV1.Value(kind: .nullValue(true))
        case .bool(let b): RuvectorV1.Value(kind: .boolValue(b))
        case .int(let i): RuvectorV1.Value(kind: .intValue(i))
        case .double(let d): RuvectorV1.Value(kind: .doubleValue(d))
        case .string(let s): RuvectorV1.Value(kind: .stringValue(s))
        case .list(let values): RuvectorV1.Value(kind: .listValue(RuvectorV1.ListValue(values: values.map { wire($0) })))
        case .object(let fields): RuvectorV1.Value(kind: .structValue(wire(fields)))
        }
    }

    static func wire(_ payload: Payload) -> RuvectorV1.Struct {
        RuvectorV1.Struct(fields: payload.keys.sorted().map { key in
            RuvectorV1.Struct.FieldsEntry(key: key, value: wire(payload[key] ?? .null))
        })
    }

    static func value(_ value: RuvectorV1.Value?) -> PayloadValue {
        switch value?.kind {
        case nil, .nullValue?: .null
        case .boolValue(let b)?: .bool(b)
        case .intValue(let i)?: .int(i)
        case .doubleValue(let d)?: .double(d)
        case .stringValue(let s)?: .string(s)
        case .listValue(let list)?: .list(list.values.map { Self.value($0) })
        case .structValue(let object)?: .object(payload(object))
        }
    }

    static func payload(_ object: RuvectorV1.Struct) -> Payload {
        var result: Payload = [:]
        for entry in object.fields { result[entry.key] = value(entry.value) }
        return result
    }

    static func wire(_ point: Point) -> RuvectorV1.PointStruct {
        RuvectorV1.PointStruct(id: wire(point.id), vector: RuvectorV1.Vector(values: point.vector), payload: wire(point.payload))
    }

    static func stored(_ point: RuvectorV1.RetrievedPoint) throws(RuVectorClientError) -> StoredPoint {
        StoredPoint(id: try id(point.id), payload: point.payload.map { payload($0) }, vector: point.vector?.values)
    }

    static func hit(_ point: RuvectorV1.ScoredPoint) throws(RuVectorClientError) -> Hit {
        Hit(id: try id(point.id), score: point.score, payload: point.payload.map { payload($0) }, vector: point.vector?.values)
    }

    static func wire(_ wait: WriteWait) -> RuvectorV1.WriteWait {
        switch wait {
        case .collectionDefault: .unspecified
        case .durable: .durable
        case .accepted: .accepted
        }
    }

    static func result(_ result: RuvectorV1.UpdateResult) -> UpdateResult {
        UpdateResult(sequence: result.sequence, pointsAffected: result.pointsAffected, applied: result.applied,
                     replicasAcknowledged: Int(result.replicasAcknowledged))
    }

    // MARK: Sharding

    static func wire(_ mode: ReplicationMode?) -> RuvectorV1.ReplicationMode {
        switch mode {
        case nil: .unspecified
        case .async?: .async
        case .semiSync?: .semiSync
        case .sync?: .sync
        }
    }

    /// nil for UNSPECIFIED and for values this client does not know.
    static func replicationMode(_ mode: RuvectorV1.ReplicationMode) -> ReplicationMode? {
        switch mode {
        case .async: .async
        case .semiSync: .semiSync
        case .sync: .sync
        default: nil
        }
    }

    static func wire(_ readFrom: ReadFrom?) -> RuvectorV1.ReadFrom {
        switch readFrom {
        case nil: .unspecified
        case .primary?: .primary
        case .any?: .any
        }
    }

    /// The request fields a write's `consistency` and `minReplicas` arguments become.
    static func replication(_ consistency: ReplicationMode?, _ minReplicas: Int?)
        throws(RuVectorClientError) -> (mode: RuvectorV1.ReplicationMode, minReplicas: UInt32) {
        (wire(consistency), try uint32(minReplicas ?? 0, "minReplicas"))
    }

    // MARK: Filters

    static func wire(_ filter: Filter) -> RuvectorV1.Filter {
        RuvectorV1.Filter(must: filter.must.map { wire($0) }, should: filter.should.map { wire($0) },
                          mustNot: filter.mustNot.map { wire($0) }, minShould: filter.minShould)
    }

    static func wire(_ condition: Condition) -> RuvectorV1.Condition {
        switch condition {
        case .match(let key, let match):
            return RuvectorV1.Condition(kind: .field(RuvectorV1.FieldCondition(key: key, test: .match(wire(match)))))
        case .range(let key, let bounds):
            var range = RuvectorV1.Range()
            range.ltBound = bounds.lt.map { .lt($0) }
            range.gtBound = bounds.gt.map { .gt($0) }
            range.lteBound = bounds.lte.map { .lte($0) }
            range.gteBound = bounds.gte.map { .gte($0) }
            return RuvectorV1.Condition(kind: .field(RuvectorV1.FieldCondition(key: key, test: .range(range))))
        case .exists(let key, let present):
            return RuvectorV1.Condition(kind: .field(RuvectorV1.FieldCondition(key: key, test: .exists(present))))
        case .filter(let nested):
            return RuvectorV1.Condition(kind: .filter(wire(nested)))
        case .hasID(let ids):
            return RuvectorV1.Condition(kind: .hasId(RuvectorV1.HasIdCondition(ids: ids.map { wire($0) })))
        case .isEmpty(let key):
            return RuvectorV1.Condition(kind: .isEmpty(RuvectorV1.IsEmptyCondition(key: key)))
        case .isNull(let key):
            return RuvectorV1.Condition(kind: .isNull(RuvectorV1.IsNullCondition(key: key)))
        }
    }

    static func wire(_ match: Match) -> RuvectorV1.Match {
        switch match {
        case .keyword(let s): RuvectorV1.Match(kind: .keyword(s))
        case .integer(let i): RuvectorV1.Match(kind: .integer(i))
        case .boolean(let b): RuvectorV1.Match(kind: .boolean(b))
        case .anyKeywords(let list): RuvectorV1.Match(kind: .anyKeywords(RuvectorV1.RepeatedStrings(values: list)))
        case .anyIntegers(let list): RuvectorV1.Match(kind: .anyIntegers(RuvectorV1.RepeatedIntegers(values: list)))
        case .exceptKeywords(let list): RuvectorV1.Match(kind: .exceptKeywords(RuvectorV1.RepeatedStrings(values: list)))
        case .exceptIntegers(let list): RuvectorV1.Match(kind: .exceptIntegers(RuvectorV1.RepeatedIntegers(values: list)))
        }
    }

    // MARK: Collections

    static func wire(_ metric: Metric) -> RuvectorV1.Metric {
        switch metric {
        case .l2: .l2
        case .cosine: .cosine
        case .dot: .dot
        case .manhattan: .manhattan
        }
    }

    static func metric(_ metric: RuvectorV1.Metric) -> Metric? {
        switch metric {
        case .l2: .l2
        case .cosine: .cosine
        case .dot: .dot
        case .manhattan: .manhattan
        default: nil
        }
    }

    static func wire(_ hnsw: HNSWConfig) throws(RuVectorClientError) -> RuvectorV1.HnswConfig {
        RuvectorV1.HnswConfig(m: try uint32(hnsw.m ?? 0, "m"), efConstruction: try uint32(hnsw.efConstruction ?? 0, "efConstruction"),
                              efSearch: try uint32(hnsw.efSearch ?? 0, "efSearch"),
                              fullScanThreshold: try uint32(hnsw.fullScanThreshold ?? 0, "fullScanThreshold"))
    }

    static func hnsw(_ hnsw: RuvectorV1.HnswConfig?) -> HNSWConfig {
        func given(_ value: UInt32?) -> Int? { value.flatMap { $0 == 0 ? nil : Int($0) } }
        return HNSWConfig(m: given(hnsw?.m), efConstruction: given(hnsw?.efConstruction), efSearch: given(hnsw?.efSearch),
                          fullScanThreshold: given(hnsw?.fullScanThreshold))
    }

    static func wire(_ quantization: Quantization) throws(RuVectorClientError) -> RuvectorV1.QuantizationConfig {
        switch quantization {
        case .scalar(let quantile, let bits):
            return RuvectorV1.QuantizationConfig(kind: .scalar(RuvectorV1.ScalarQuantization(quantile: quantile ?? 0,
                                                                                             bits: try uint32(bits, "bits"))))
        case .float16:
            return RuvectorV1.QuantizationConfig(kind: .float16(RuvectorV1.Float16Quantization()))
        case .product(let subvectors, let bits):
            return RuvectorV1.QuantizationConfig(kind: .product(RuvectorV1.ProductQuantization(
                subvectors: try uint32(subvectors ?? 0, "subvectors"), bits: try uint32(bits, "bits"))))
        case .binary:
            return RuvectorV1.QuantizationConfig(kind: .binary(RuvectorV1.BinaryQuantization()))
        case .tiered(let hot, let interval, let subvectors):
            return RuvectorV1.QuantizationConfig(kind: .tiered(RuvectorV1.TieredCompression(
                hotThreshold: try uint32(hot ?? 0, "hotThreshold"), retierIntervalQueries: try uint32(interval ?? 0, "retierIntervalQueries"),
                subvectors: try uint32(subvectors ?? 0, "subvectors"))))
        }
    }

    static func quantization(_ config: RuvectorV1.QuantizationConfig?) -> Quantization? {
        switch config?.kind {
        case nil: nil
        case .scalar(let s)?: .scalar(quantile: s.quantile == 0 ? nil : s.quantile, bits: Int(s.bits == 0 ? 8 : s.bits))
        case .float16?: .float16
        case .product(let p)?: .product(subvectors: p.subvectors == 0 ? nil : Int(p.subvectors), bits: Int(p.bits == 0 ? 8 : p.bits))
        case .binary?: .binary
        case .tiered(let t)?:
            .tiered(hotThreshold: t.hotThreshold == 0 ? nil : Int(t.hotThreshold),
                    retierIntervalQueries: t.retierIntervalQueries == 0 ? nil : Int(t.retierIntervalQueries),
                    subvectors: t.subvectors == 0 ? nil : Int(t.subvectors))
        }
    }

    static func info(_ info: RuvectorV1.CollectionInfo) -> CollectionInfo {
        let status: IndexStatus = switch info.indexStatus {
        case .ready: .ready
        case .indexing: .indexing
        case .rebuilding: .rebuilding
        default: .unknown
        }
        return CollectionInfo(name: info.name, dimension: Int(info.dimension), metric: metric(info.metric), hnsw: hnsw(info.hnsw),
                              quantization: quantization(info.quantization), pointsCount: info.pointsCount,
                              memoryBytes: info.memoryBytes, diskBytes: info.diskBytes, indexStatus: status,
                              createdUnixMicros: info.createdUnixMicros,
                              tiers: info.tiers.map { TierCounts(hot: $0.hot, warm: $0.warm, cool: $0.cool, cold: $0.cold,
                                                                 archive: $0.archive, codeBytes: $0.codeBytes, passes: $0.passes) },
                              shards: max(1, Int(info.shards)), replicationFactor: max(1, Int(info.replicationFactor)),
                              // UNSPECIFIED is the server's default, async.
                              writeConsistency: info.writeConsistency == .unspecified ? .async : replicationMode(info.writeConsistency),
                              minReplicas: Int(info.minReplicas), onDisk: info.onDisk, onDiskVectorBytes: info.onDiskVectorBytes,
                              onDiskGraph: info.onDiskGraph, onDiskGraphBytes: info.onDiskGraphBytes)
    }

    static func snapshot(_ info: RuvectorV1.SnapshotInfo) -> SnapshotInfo {
        SnapshotInfo(name: info.name, collection: info.collection, sizeBytes: info.sizeBytes,
                     createdUnixMicros: info.createdUnixMicros, crc32c: info.crc32c, walSequence: info.walSequence)
    }

    // MARK: Search

    static func wire(_ query: SearchQuery, collection: String, tag: UInt64 = 0) throws(RuVectorClientError) -> RuvectorV1.SearchRequest {
        guard query.k >= 1 else { throw invalid("k must be at least 1, got \(query.k)") }
        var request = RuvectorV1.SearchRequest(collection: collection, vector: RuvectorV1.Vector(values: query.vector),
                                               k: try uint32(query.k, "k"), offset: try uint32(query.offset, "offset"), tag: tag,
                                               readFrom: wire(query.readFrom))
        if let filter = query.filter, !filter.isEmpty { request.filter = wire(filter) }
        if query.ef != nil || query.exact || query.quantization != nil || query.learnedRerankDepth != nil {
            request.params = RuvectorV1.SearchParams(ef: try uint32(query.ef ?? 0, "ef"), exact: query.exact,
                                                     quantization: query.quantization.map(wire))
            if let depth = query.learnedRerankDepth {
                request.params?.learnedRerank = RuvectorV1.LearnedRerank(depth: try uint32(depth, "learnedRerankDepth"))
            }
        }
        if query.withPayload || query.withVectors {
            request.with = with(payload: query.withPayload, vectors: query.withVectors, keys: query.payloadKeys)
        }
        request.threshold = query.scoreThreshold.map { .scoreThreshold($0) }
        return request
    }

    static func wire(_ quantization: QuantizedSearch) -> RuvectorV1.QuantizationSearchParams {
        switch quantization {
        case .rescore(let oversampling): return RuvectorV1.QuantizationSearchParams(rescore: true, oversampling: oversampling ?? 0)
        case .fullPrecision: return RuvectorV1.QuantizationSearchParams(ignore: true)
        }
    }

    static func with(payload: Bool, vectors: Bool, keys: [String]) -> RuvectorV1.WithOptions {
        RuvectorV1.WithOptions(withPayload: payload, withVectors: vectors, payloadKeys: payload ? keys : [])
    }

    static func hits(_ response: RuvectorV1.SearchResponse) throws(RuVectorClientError) -> [Hit] {
        var hits: [Hit] = []
        hits.reserveCapacity(response.hits.count)
        for point in response.hits { hits.append(try hit(point)) }
        return hits
    }
}
