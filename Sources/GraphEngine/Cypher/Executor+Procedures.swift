/// Procedures callable with `CALL`. One today:
///
/// `db.index.vector.queryNodes(indexName :: STRING, k :: INTEGER, vector :: LIST<FLOAT>)
///  :: (node :: NODE, score :: FLOAT)`: the `k` nodes nearest to `vector` in a vector index,
/// best first; `score` is the similarity (cosine: the cosine similarity; other metrics: the
/// negated distance), larger is better.
struct Procedure: Sendable {
    struct Output: Sendable {
        let name: String
        let kind: Analyzer.Kind
    }
    let name: String
    let inputs: [String]
    let outputs: [Output]
}

extension Executor {
    static let procedures: [Procedure] = [
        Procedure(name: "db.index.vector.queryNodes", inputs: ["indexName", "k", "vector"],
                  outputs: [.init(name: "node", kind: .node), .init(name: "score", kind: .value)]),
    ]

    /// The procedure `name` taking `arguments` arguments; `.semantic` error otherwise.
    static func procedure(named name: String, arguments: Int) throws(GraphError) -> Procedure {
        guard let p = procedures.first(where: { $0.name == name }) else {
            throw GraphError(.semantic, "there is no procedure '\(name)'; available: \(procedures.map(\.name).joined(separator: ", "))", cypherClass: .procedureError)
        }
        guard p.inputs.count == arguments else {
            throw GraphError(.semantic, "\(name) takes \(p.inputs.count) arguments (\(p.inputs.joined(separator: ", "))), got \(arguments)")
        }
        return p
    }

    /// Runs `procedure`; one record (field name to value) per result row.
    func callProcedure(_ procedure: Procedure, arguments: [Value]) throws(GraphError) -> [[String: Value]] {
        switch procedure.name {
        case "db.index.vector.queryNodes":
            guard case .string(let index) = arguments[0] else {
                throw typeError("\(procedure.name): indexName must be a string, got \(arguments[0])")
            }
            guard case .int(let k) = arguments[1], k >= 1, k <= Int64(Int32.max) else {
                throw typeError("\(procedure.name): k must be a positive integer, got \(arguments[1])")
            }
            guard case .list(let items) = arguments[2], let vector = VectorIndexDefinition.vector(items, dimension: items.count) else {
                throw typeError("\(procedure.name): vector must be a list of finite numbers, got \(arguments[2])")
            }
            guard let indexes = vectorIndexes, indexes.definition(index) != nil else {
                throw GraphError(.notFound, "there is no vector index named '\(index)'", cypherClass: .procedureError)
            }
            let unindexed = unindexedNodes.union(store.touchedNodes)
            return try indexes.search(index, vector: vector, k: Int(k), in: store, unindexed: unindexed).map {
                ["node": .node($0.node), "score": .float(Double($0.score))]
            }
        default:
            throw GraphError(.semantic, "there is no procedure '\(procedure.name)'", cypherClass: .procedureError)
        }
    }
}
