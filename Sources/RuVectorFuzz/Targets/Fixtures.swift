import GraphEngine
import GraphPersistence
import Storage
import VectorDatabase
import VectorEngine

/// Small real data the targets start from, made by the code under test at start.
enum Fixtures {
    /// How collections made here keep their files: no fsync (scratch files on a tmpfs), no
    /// automatic snapshots.
    static let options = DurableCollection.Options(syncPolicy: .never, autoSnapshotWALBytes: 0)

    /// A collection in `directory` with `count` points (see `fill`).
    static func collection(in directory: String, name: String = "docs", dimension: Int = 8, metric: DistanceMetric = .cosine,
                           quantization: QuantizationKind? = nil, count: Int = 48) throws -> DurableCollection {
        let durable = try DurableCollection.create(in: directory, config: config(name: name, dimension: dimension, metric: metric,
                                                                                    quantization: quantization, count: count),
                                                   options: options)
        try fill(durable, count: count)
        return durable
    }

    /// A catalog in `dataDirectory` holding collection `docs` (see `collection`).
    static func catalog(in dataDirectory: String) throws -> CollectionCatalog {
        let catalog = try CollectionCatalog(dataDirectory: dataDirectory, options: options)
        if let docs = try catalog.create(config(name: "docs", dimension: 8, metric: .cosine, quantization: nil, count: 48)) {
            try fill(docs, count: 48)
        }
        return catalog
    }

    static func config(name: String, dimension: Int, metric: DistanceMetric, quantization: QuantizationKind?, count: Int) -> CollectionConfig {
        var config = CollectionConfig(name: name, dimension: dimension, metric: metric, quantization: quantization)
        config.quantizationTrainingCount = min(config.quantizationTrainingCount, count / 2)
        return config
    }

    /// Upserts `count` points of varied payloads, every fourth one keyed by a UUID (so
    /// `has_id` and the UUID log records have something to name).
    static func fill(_ durable: DurableCollection, count: Int) throws {
        let dimension = durable.collection.config.dimension
        try durable.upsert(keyed: (0..<count).map { i in
            DurableCollection.KeyedPoint(key: key(i), vector: vector(i, dimension: dimension), payload: payload(i))
        })
    }

    static func key(_ i: Int) -> PointKey {
        i % 4 == 3 ? .uuid(PointUUID(high: 0x550E_8400_E29B_41D4, low: 0xA716_4466_5544_0000 | UInt64(i))) : .number(UInt64(i))
    }

    static func vector(_ i: Int, dimension: Int) -> [Float] {
        (0..<dimension).map { Float((i * 7 + $0 * 13) % 17) - 8 + Float(i) / 100 }
    }

    static func payload(_ i: Int) -> Payload {
        var payload: Payload = [
            "lang": .string(["swift", "rust", "go"][i % 3]), "year": .int(Int64(2000 + i % 25)),
            "score": .double(Double(i) / 7), "tags": .list([.string("t\(i % 5)"), .int(Int64(i % 3))]),
            "draft": .bool(i % 2 == 0),
        ]
        if i % 5 == 0 { payload["meta"] = .object(["depth": .int(1), "inner": .object(["k": .string("v")])]) }
        if i % 6 == 0 { payload["note"] = .null }
        if i % 7 == 0 { payload["empty"] = .list([]) }
        return payload
    }

    /// A durable graph in `directory` with labelled nodes, typed relationships with
    /// properties, a hyperedge, a property index and a vector index, then some updates and
    /// deletions (so its log holds every record type).
    static func graph(in directory: String) throws -> DurableGraphDatabase {
        let graph = try DurableGraphDatabase.open(directory, options: options)
        _ = try graph.execute("""
            CREATE (a:Person {name: 'Ann', age: 30, tags: ['x', 'y'], embedding: [1.0, 0.0, 0.5, 0.25]})
                   -[:KNOWS {since: 2001, w: 0.5}]->(b:Person {name: 'Bo', embedding: [0.0, 1.0, 0.0, 0.5]}),
                   (b)-[:LIKES]->(c:Movie {title: 'M', year: 1999, embedding: [0.5, 0.5, 0.5, 0.5]}), (c)-[:SEEN_BY]->(a)
            """)
        let members = try graph.execute("MATCH (n) RETURN id(n) AS id ORDER BY id").value.rows.compactMap { row -> Int? in
            if case .int(let id)? = row.first { return Int(id) } else { return nil }
        }
        _ = try graph.perform { database throws(GraphError) in
            try database.withStore { store throws(GraphError) in
                try store.createHyperedge(type: "MEETING", members: members, properties: ["room": .string("r1"), "n": .int(3)])
            }
        }
        try graph.createPropertyIndex(name: "people", PropertyIndexes.Key(label: "Person", property: "name"))
        try graph.createVectorIndex(VectorIndexDefinition(name: "emb", label: "Person", property: "embedding", dimension: 4, metric: .cosine))
        _ = try graph.execute("MATCH (n:Person {name: 'Bo'}) SET n.age = 41, n.nick = null REMOVE n.tags")
        _ = try graph.execute("CREATE (:Temp {v: 1})")
        _ = try graph.execute("MATCH (t:Temp) DETACH DELETE t")
        return graph
    }
}
