/// Running what CALL names (`GraphProcedure`, `ProcedureCatalog`).
extension Executor {
    /// Runs `procedure` with `arguments` (one per input): each is checked against its input's
    /// type first (TypeError), then the body runs; one record per result row, one value per
    /// output in order.
    func callProcedure(_ procedure: GraphProcedure, arguments: [Value]) throws(GraphError) -> [[Value]] {
        var checked: [Value] = []
        for (value, input) in zip(arguments, procedure.inputs) {
            guard let argument = GraphProcedure.argument(value, for: input) else {
                throw typeError("\(procedure.name): \(input.name) must be \(input.type.rawValue), got \(value)")
            }
            checked.append(argument)
        }
        let records: [[Value]]
        switch procedure.body {
        case .records(let body):
            records = try body(checked)
            if let bad = records.first(where: { $0.count != procedure.outputs.count }) {
                throw GraphError(.runtime, "\(procedure.name) returned a record of \(bad.count) values for its \(procedure.outputs.count) outputs")
            }
        case .vectorQueryNodes:
            records = try queryNodes(procedure.name, checked)
        }
        return records
    }

    /// `db.index.vector.queryNodes(indexName, k, vector)`: see `ProcedureCatalog.builtIn`.
    private func queryNodes(_ name: String, _ arguments: [Value]) throws(GraphError) -> [[Value]] {
        guard case .string(let index) = arguments[0] else {
            throw typeError("\(name): indexName must be a string, got \(arguments[0])")
        }
        guard case .int(let k) = arguments[1], k >= 1, k <= Int64(Int32.max) else {
            throw typeError("\(name): k must be a positive integer, got \(arguments[1])")
        }
        guard case .list(let items) = arguments[2], let vector = VectorIndexDefinition.vector(items, dimension: items.count) else {
            throw typeError("\(name): vector must be a list of finite numbers, got \(arguments[2])")
        }
        guard let indexes = vectorIndexes, indexes.definition(index) != nil else {
            throw GraphError(.notFound, "there is no vector index named '\(index)'", cypherClass: .procedureError)
        }
        let unindexed = unindexedNodes.union(store.touchedNodes)
        return try indexes.search(index, vector: vector, k: Int(k), in: store, unindexed: unindexed).map {
            [.node($0.node), .float(Double($0.score))]
        }
    }
}
