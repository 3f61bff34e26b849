import GraphEngine
import GraphPersistence
import Storage
import VectorDatabase
import VectorEngine

/// Snapshot files written to disk and opened the ways the server opens them: collection
/// recovery (`DurableCollection.open`: newest valid snapshot, mapped, decoded), RestoreSnapshot
/// (`CollectionCatalog.restore`: an uploaded file validated, installed, opened) and graph
/// recovery (`DurableGraphDatabase.open`). What opens is then used: searched (the HNSW walk
/// follows the loaded links), counted, written to, and for the graph queried. Seeds: real
/// snapshots of collections with every quantization kind, and of a graph, made at start.
///
/// Input: one byte choosing recovery / restore / graph, then the file.
final class SnapshotTarget: FuzzTarget {
    static let name = "snapshot"
    let maxInputBytes = 2 << 20
    private let workDirectory: String
    private var seeds: [[UInt8]] = []
    private var configs: [[UInt8]] = []
    private let byteMutator: ByteMutator
    private let catalog: CollectionCatalog
    /// The name every collection snapshot is written under (recovery takes the newest valid one).
    private static let fileName = "snapshot-00000000000000000001.rvsnap"

    init(workDirectory: String) throws {
        self.workDirectory = workDirectory
        byteMutator = ByteMutator(maxBytes: maxInputBytes, dictionary: [])
        catalog = try CollectionCatalog(dataDirectory: workDirectory + "/restore", options: Fixtures.options)
        let kinds: [QuantizationKind?] = [nil, .scalarInt8, .float16, .binary, .pq8(subspaces: 2), .pq4(subspaces: 4),
                                          .tiered(TierPolicy(hotThreshold: 1, retierIntervalQueries: 8, pqSubspaces: 2))]
        for (index, kind) in kinds.enumerated() {
            let directory = workDirectory + "/fixture-\(index)"
            let durable = try Fixtures.collection(in: directory, metric: index % 2 == 0 ? .cosine : .l2Squared, quantization: kind)
            _ = try durable.collection.search(Fixtures.vector(1, dimension: 8), k: 4)   // tiered: traffic to count
            _ = try durable.delete(ids: [3])
            let info = try durable.snapshot()
            try durable.close()
            let file = try FuzzFiles.read(directory + "/snapshots/" + info.name)
            configs.append(try FuzzFiles.read(directory + "/collection.bin"))
            seeds.append([UInt8(index * 3)] + file)
            seeds.append([UInt8(index * 3 + 1)] + file)
        }
        let graphDirectory = workDirectory + "/fixture-graph"
        let graph = try Fixtures.graph(in: graphDirectory)
        let info = try graph.snapshot()
        try graph.close()
        seeds.append([2] + (try FuzzFiles.read(graphDirectory + "/snapshots/" + info.name)))
    }

    func seedCorpus() throws -> [[UInt8]] { seeds }

    func mutate(_ input: inout [UInt8], random: inout SeededGenerator, corpus: [[UInt8]]) -> Bool {
        guard let kind = input.first else { return false }
        if random.below(16) == 0 {
            input[0] = UInt8(random.below(256))
            return true
        }
        var file = Array(input.dropFirst())
        guard SnapshotFileMutator.mutate(&file, random: &random, byteMutator: byteMutator, corpus: corpus) else { return false }
        input = [kind] + file
        return true
    }

    func run(_ input: [UInt8]) throws -> FuzzOutcome {
        guard let kind = input.first else { return .rejected }
        let file = Array(input.dropFirst())
        // The collection.bin beside a recovered snapshot: one of the fixtures' (they differ in quantization).
        let config = configs[Int(kind / 3) % configs.count]
        switch kind % 3 {
        case 0:
            let directory = workDirectory + "/run"
            FuzzFiles.removeTree(directory)
            try FuzzFiles.createDirectories(directory + "/snapshots")
            try FuzzFiles.write(config, to: directory + "/collection.bin")
            try FuzzFiles.write(file, to: directory + "/snapshots/" + Self.fileName)
            let durable = try DurableCollection.open(directory, options: Fixtures.options)
            defer { try? durable.close() }
            try exercise(durable)
        case 1:
            let durable = try catalog.restore("restored", snapshotFile: file)
            try exercise(durable)
        default:
            let directory = workDirectory + "/run-graph"
            FuzzFiles.removeTree(directory)
            try FuzzFiles.createDirectories(directory + "/snapshots")
            try FuzzFiles.write(file, to: directory + "/snapshots/" + Self.fileName)
            let graph = try DurableGraphDatabase.open(directory, options: Fixtures.options)
            defer { try? graph.close() }
            _ = try graph.execute("MATCH (a)-[r]->(b) RETURN a, r, b, labels(a), properties(r)")
            _ = try graph.execute("MATCH (n:Person) WHERE n.name = 'Ann' RETURN n.age")
            _ = try graph.hybridSearch(index: "emb", vector: [1, 0, 0, 0], k: 3)
            _ = try graph.execute("CREATE (:Person {name: 'New', embedding: [0.1, 0.2, 0.3, 0.4]})")
        }
        return .accepted
    }

    /// Uses a collection that opened: every read path over the loaded state, then a write.
    private func exercise(_ durable: DurableCollection) throws {
        let collection = durable.collection
        let dimension = collection.config.dimension
        let query = Fixtures.vector(5, dimension: dimension)
        _ = try collection.search(query, k: 10)
        _ = try collection.search(query, k: 5, filter: .match("lang", .string("swift")))
        _ = try collection.search(query, k: 5, exact: true)
        _ = try collection.count(filter: .range("year", .init(gte: 2010)))
        _ = collection.get(id: 1)
        _ = try collection.scroll(after: nil, limit: 20)
        try durable.upsert(keyed: [.init(key: .number(77), vector: query, payload: Fixtures.payload(77))])
        _ = try durable.delete(ids: [2])
        _ = try collection.search(query, k: 10)
    }

    func finish() {
        for durable in catalog.list() { try? durable.close() }
    }
}
