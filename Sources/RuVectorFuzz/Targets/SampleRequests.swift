import Wire

/// Realistic requests made with the generated types: the seeds of the `protobuf` target and
/// the messages of the `http2` target's conversations. Every request type of every method
/// gets at least its empty message (`requestTypes`); the ones below fill the fields users fill.
enum SampleRequests {
    typealias V1 = RuvectorV1

    /// Every distinct request type of the served `.proto` files, in method order.
    static let requestTypes: [any WireMessage.Type] = {
        var seen = Set<String>()
        return WireMethod.all.map(\.requestType).filter { seen.insert($0.protoFullName).inserted }
    }()

    /// The index of `type` in `requestTypes`.
    static func typeIndex(of message: any WireMessage) -> Int? {
        let name = type(of: message).protoFullName
        return requestTypes.firstIndex { $0.protoFullName == name }
    }

    static func point(_ i: UInt64) -> V1.PointStruct {
        V1.PointStruct(id: V1.PointId(kind: i % 3 == 2 ? .uuid("550e8400-e29b-41d4-a716-44665544000\(i % 10)") : .num(i)),
                       vector: V1.Vector(values: (0..<8).map { Float(i) + Float($0) / 8 }), payload: payload(Int64(i)))
    }

    static func payload(_ i: Int64) -> V1.Struct {
        V1.Struct(fields: [
            .init(key: "lang", value: V1.Value(kind: .stringValue(i % 2 == 0 ? "swift" : "rust"))),
            .init(key: "year", value: V1.Value(kind: .intValue(2000 + i))),
            .init(key: "score", value: V1.Value(kind: .doubleValue(Double(i) / 3))),
            .init(key: "tags", value: V1.Value(kind: .listValue(V1.ListValue(values: [V1.Value(kind: .stringValue("a")),
                                                                                    V1.Value(kind: .boolValue(true))])))),
            .init(key: "meta", value: V1.Value(kind: .structValue(V1.Struct(fields: [.init(key: "n", value: V1.Value(kind: .nullValue(true)))])))),
        ])
    }

    static let filter = V1.Filter(
        must: [V1.Condition(kind: .field(V1.FieldCondition(key: "lang", test: .match(V1.Match(kind: .keyword("swift")))))),
               V1.Condition(kind: .field(V1.FieldCondition(key: "year", test: .range(V1.Range(ltBound: .lt(2030), gteBound: .gte(2001))))))],
        should: [V1.Condition(kind: .field(V1.FieldCondition(key: "tags", test: .match(V1.Match(kind: .anyKeywords(V1.RepeatedStrings(values: ["a", "b"]))))))),
                 V1.Condition(kind: .hasId(V1.HasIdCondition(ids: [V1.PointId(kind: .num(1)), V1.PointId(kind: .uuid("550e8400-e29b-41d4-a716-446655440002"))]))),
                 V1.Condition(kind: .filter(V1.Filter(mustNot: [V1.Condition(kind: .isNull(V1.IsNullCondition(key: "meta")))])))],
        mustNot: [V1.Condition(kind: .field(V1.FieldCondition(key: "draft", test: .exists(true)))),
                  V1.Condition(kind: .isEmpty(V1.IsEmptyCondition(key: "tags")))],
        minShould: 1)

    static let search = V1.SearchRequest(collection: "docs", vector: V1.Vector(values: [1, 0, 0, 0, 0, 0, 0, 0.5]), k: 5,
                                         filter: filter, params: V1.SearchParams(ef: 32), with: V1.WithOptions(withPayload: true, payloadKeys: ["lang"]),
                                         offset: 1, tag: 7, threshold: .scoreThreshold(-10))

    /// Requests as users send them (beside the empty message of every request type).
    static let realistic: [any WireMessage] = [
        V1.CreateCollectionRequest(name: "docs", dimension: 8, metric: .cosine, hnsw: V1.HnswConfig(m: 8, efConstruction: 40, efSearch: 20)),
        V1.CreateCollectionRequest(name: "pq", dimension: 16, metric: .l2, quantization: V1.QuantizationConfig(kind: .product(V1.ProductQuantization(subvectors: 4, bits: 8, trainingSample: 64)))),
        V1.CreateCollectionRequest(name: "tiers", dimension: 8, metric: .dot, quantization: V1.QuantizationConfig(kind: .tiered(V1.TieredCompression(hotThreshold: 2, retierIntervalQueries: 100, subvectors: 2)))),
        V1.CreateCollectionRequest(name: "sq", dimension: 4, metric: .manhattan, quantization: V1.QuantizationConfig(kind: .scalar(V1.ScalarQuantization(quantile: 1)))),
        V1.GetCollectionRequest(name: "docs"), V1.ListCollectionsRequest(), V1.DeleteCollectionRequest(name: "gone"),
        V1.UpsertRequest(collection: "docs", points: (0..<4).map { point($0) }, wait: .durable),
        V1.UpsertRequest(collection: "docs", points: [point(9)], wait: .accepted),
        V1.GetRequest(collection: "docs", ids: [V1.PointId(kind: .num(1)), V1.PointId(kind: .uuid("550e8400-e29b-41d4-a716-446655440003"))],
                      with: V1.WithOptions(withPayload: true, withVectors: true)),
        V1.DeleteRequest(collection: "docs", wait: .durable, selector: .ids(V1.PointIdList(ids: [V1.PointId(kind: .num(2))]))),
        V1.DeleteRequest(collection: "docs", selector: .filter(filter)),
        V1.CountRequest(collection: "docs", filter: filter),
        V1.ScrollRequest(collection: "docs", filter: filter, offset: V1.PointId(kind: .num(3)), limit: 10, with: V1.WithOptions(withPayload: true)),
        search,
        V1.SearchRequest(collection: "docs", vector: V1.Vector(values: [0, 1, 0, 0, 0, 0, 0, 0]), k: 3,
                         params: V1.SearchParams(exact: true, quantization: V1.QuantizationSearchParams(rescore: true, oversampling: 2))),
        V1.SearchBatchRequest(searches: [search, V1.SearchRequest(collection: "docs", vector: V1.Vector(values: [Float](repeating: 0.25, count: 8)), k: 2)]),
        V1.CreateSnapshotRequest(collection: "docs"), V1.ListSnapshotsRequest(collection: "docs"),
        V1.DownloadSnapshotRequest(collection: "docs", name: "snapshot-00000000000000000004.rvsnap", chunkBytes: 4096),
        V1.RestoreSnapshotRequest(collection: "docs", source: .snapshotName("snapshot-00000000000000000004.rvsnap")),
        V1.RestoreSnapshotRequest(collection: "copy", source: .chunk(V1.FileChunk(offset: 0, data: Array("RUVSNAP".utf8) + [0, 2, 0, 0, 0],
                                                                                  trailer: V1.FileTrailer(sizeBytes: 12, crc32c: 1)))),
        V1.ExecuteRequest(query: "MATCH (n:Person) WHERE n.age > $min RETURN n.name ORDER BY n.name LIMIT 10",
                          parameters: [V1.Parameter(name: "min", value: V1.Value(kind: .intValue(20)))], maxRows: 100, batchRows: 10),
        V1.ExecuteRequest(query: "CREATE (a:Person {name: $name})-[:KNOWS]->(b:Person {name: 'Bo'}) RETURN id(a)",
                          parameters: [V1.Parameter(name: "name", value: V1.Value(kind: .stringValue("Ann")))]),
        V1.BeginTransactionRequest(isolation: .serializable, idleTimeoutMillis: 1000),
        V1.TransactionRef(transactionId: "tx-1"),
        V1.CreateHyperedgeRequest(type: "MEETING", nodeIds: [1, 2, 3], properties: payload(1)),
        V1.QueryHyperedgesRequest(nodeId: 1, type: "MEETING", limit: 10),
        V1.CreateIndexRequest(name: "people", label: "Person", property: "name", kind: .propertyIndex(V1.PropertyIndexConfig())),
        V1.CreateIndexRequest(name: "emb", label: "Doc", property: "embedding", kind: .vectorIndex(V1.VectorIndexConfig(dimension: 4, metric: 2))),
        V1.ListIndexesRequest(),
        V1.HybridSearchRequest(index: "emb", vector: V1.Vector(values: [1, 0, 0, 0]), k: 3, filter: "n.year > $y", expandDepth: 1,
                               parameters: [V1.Parameter(name: "y", value: V1.Value(kind: .intValue(2000)))]),
        V1.RouteRequest(router: "r", features: V1.Vector(values: [0.5, 1]), requestId: "q-1"),
        V1.CreateRouterRequest(name: "r", candidates: [V1.Candidate(name: "a", cost: 0.1), V1.Candidate(name: "b", cost: 1)], featureSize: 2),
        V1.RecordOutcomeRequest(router: "r", requestId: "q-1", candidate: "a", success: true, features: V1.Vector(values: [0.5, 1])),
        V1.RaftBatch(from: 1, messages: [V1.RaftMessage(type: .append, from: 1, to: 2, term: 2, index: 4, logTerm: 1,
                                                       entries: [V1.Entry(term: 2, index: 5, data: [1, 2, 3])], commit: 4)]),
        V1.RaftBatch(from: 2, messages: [V1.RaftMessage(type: .preVote, from: 2, to: 1, term: 3, index: 9, logTerm: 2)]),
        V1.InstallSnapshotRequest(term: 2, leaderId: 1, lastIncludedIndex: 7, lastIncludedTerm: 2, offset: 0, data: [9, 9],
                                  done: true, voters: [1, 2, 3], totalBytes: 2, to: 2),
        V1.GetStateRequest(staleOk: true),
        GrpcHealthV1.HealthCheckRequest(service: "ruvector.v1.VectorService"), GrpcHealthV1.HealthCheckRequest(),
        GrpcReflectionV1.ServerReflectionRequest(messageRequest: .listServices("")),
        GrpcReflectionV1.ServerReflectionRequest(messageRequest: .fileContainingSymbol("ruvector.v1.VectorService")),
        GrpcReflectionV1alpha.ServerReflectionRequest(messageRequest: .fileByFilename("ruvector/v1/vector.proto")),
        GrpcTesting.SimpleRequest(responseSize: 16, payload: GrpcTesting.Payload(body: [1, 2, 3])),
        GrpcTesting.StreamingOutputCallRequest(responseParameters: [GrpcTesting.ResponseParameters(size: 8), GrpcTesting.ResponseParameters(size: 1)]),
        GrpcTesting.StreamingInputCallRequest(payload: GrpcTesting.Payload(body: [0, 1])),
    ]

    /// Every sample: the realistic ones, then the empty message of each request type.
    static var all: [any WireMessage] { realistic + requestTypes.map { $0.init() } }
}
