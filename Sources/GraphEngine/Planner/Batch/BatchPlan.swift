/// The part of a planned query that runs in blocks of rows instead of one row at a time: a
/// label scan (or a scan of every node), relationship expands from it, and a grouped
/// aggregation of what those bind, as in `MATCH (a:Person)-[:KNOWS]->(b:Person) RETURN a.age,
/// avg(b.age)`. The planner attaches one to a query of exactly that shape (`init?(_:)` says
/// which); `BatchRunner` runs it, then the groups go through the plan's projection as
/// `HashAggregation`'s do (computed columns, ORDER BY, SKIP, LIMIT).
///
/// Row at a time, such a query binds every node and relationship into a row, evaluates each
/// key and argument on it and looks its group up by a hashed `Value`; in blocks, each step
/// fills columns of ids, properties are read a column at a time from the store's
/// `PropertyColumns`, and groups are found by integer codes (`GroupCodes`). When a value is not
/// one the batch path computes with exactly as the row path does (an argument of `sum` that is
/// not a number, an integer sum that overflows), the whole query runs again row at a time,
/// which gives the row path's answer or error.
struct BatchPlan: Sendable {
    /// The first step: the nodes carrying every one of `labels` (every node when empty) into `slot`.
    struct Scan: Sendable {
        var slot: Int
        var labels: [String]
    }

    /// What a grouping key or an aggregate's argument reads of a row.
    enum Input: Sendable, Equatable {
        case node(slot: Int)
        case relationship(slot: Int)
        case nodeProperty(slot: Int, key: String)
        case relationshipProperty(slot: Int, key: String)

        var slot: Int {
            switch self {
            case .node(let s), .relationship(let s), .nodeProperty(let s, _), .relationshipProperty(let s, _): return s
            }
        }

        /// A node or relationship itself: never null.
        var isElement: Bool {
            switch self {
            case .node, .relationship: return true
            case .nodeProperty, .relationshipProperty: return false
            }
        }
    }

    /// The aggregates the batch path computes (none of them DISTINCT).
    enum Function: Sendable, Equatable {
        case countRows, count, sum, avg, min, max
    }

    struct Aggregate: Sendable {
        var function: Function
        /// Nil for `count(*)`.
        var input: Input?
    }

    var scan: Scan
    /// The plan's expands (none with an inline property map or a relationship bound before).
    var expands: [Expand]
    /// The plan's grouping keys and aggregates, in its order.
    var keys: [Input]
    var aggregates: [Aggregate]
    /// For the scan and then each expand: the slots whose ids the rows it makes carry (the
    /// ones a later step, key or aggregate reads; the scan's own always).
    var carried: [[Int]]

    /// Whether the one expand could read the relationships where they are stored instead of
    /// each scanned node's adjacency (`BatchRelationshipScan`): one expand, one way, from the
    /// scanned node to an end not bound before, with no relationship it must differ from.
    var canReadRelationships: Bool {
        guard expands.count == 1, let e = expands.first else { return false }
        return e.from == scan.slot && !e.toBound && e.distinctFrom.isEmpty && e.direction != .both
    }

    /// Whether to read the relationships in `store` rather than walk the scanned nodes'
    /// adjacency: when the scan holds at least one node in 16 relationships. The store's
    /// relationships are read in order (a few nanoseconds each); a node's adjacency is one
    /// read at random (tens of nanoseconds, a cache miss).
    func readsRelationships(in store: GraphStore) -> Bool {
        guard canReadRelationships, store.relationshipCount > 0 else { return false }
        let scanned = scan.labels.isEmpty ? store.nodeCount : scan.labels.map(store.labelIndex.count).min() ?? 0
        return 16 * scanned >= store.relationshipCount
    }

    /// The batch form of `plan`, nil when the plan has anything else: a filter, an inline
    /// property map, an index or id lookup, a variable-length or bound relationship, a key or
    /// argument that is not a variable or its property, DISTINCT or another aggregate. Nil as
    /// well for a count of a single label's nodes, which the row path answers from the label
    /// index without a scan.
    init?(_ plan: PlannedQuery) {
        guard !plan.writes, case .aggregate(let keys, let aggregates, _, _) = plan.output,
              case .nodeScan(let first)? = plan.steps.first, !first.bound, first.idSeek == nil, first.indexHints.isEmpty,
              first.test.properties == nil else { return nil }
        var isNode: [Int: Bool] = [first.slot: true]
        var expands: [Expand] = []
        for step in plan.steps.dropFirst() {
            guard case .expand(let e) = step, !e.relationshipBound, e.relationshipProperties == nil, e.target.properties == nil,
                  isNode[e.from] == true, !e.toBound || isNode[e.to] == true,
                  e.distinctFrom.allSatisfy({ isNode[$0] == false }) else { return nil }
            expands.append(e)
            isNode[e.relationship] = false
            isNode[e.to] = true
        }
        func input(_ e: SlotExpr) -> Input? {
            switch e {
            case .slot(let s):
                return isNode[s].map { $0 ? .node(slot: s) : .relationship(slot: s) }
            case .property(.slot(let s), let key):
                return isNode[s].map { $0 ? .nodeProperty(slot: s, key: key) : .relationshipProperty(slot: s, key: key) }
            default:
                return nil
            }
        }
        var keyInputs: [Input] = []
        for key in keys {
            guard let i = input(key.expr) else { return nil }
            keyInputs.append(i)
        }
        var batchAggregates: [Aggregate] = []
        for a in aggregates {
            switch a.call {
            case .countStar:
                batchAggregates.append(Aggregate(function: .countRows, input: nil))
            case .function(let name, false, let args) where args.count == 1:
                let functions: [String: Function] = ["count": .count, "sum": .sum, "avg": .avg, "min": .min, "max": .max]
                guard let function = functions[name], let argument = a.argument, let i = input(argument),
                      function == .count || !i.isElement else { return nil }
                batchAggregates.append(Aggregate(function: function, input: i))
            default:
                return nil
            }
        }
        let scan = Scan(slot: first.slot, labels: first.test.labels)
        if keyInputs.isEmpty && expands.isEmpty && scan.labels.count == 1
            && batchAggregates.allSatisfy({ $0.function == .countRows || ($0.function == .count && $0.input == .node(slot: scan.slot)) }) {
            return nil
        }
        // Carried by step k: what the steps after it, the keys and the aggregates read.
        let read = Set(keyInputs.map(\.slot) + batchAggregates.compactMap { $0.input?.slot })
        var carried: [[Int]] = []
        var bound: Set<Int> = [scan.slot]
        for k in 0...expands.count {
            if k > 0 { bound.formUnion([expands[k - 1].relationship, expands[k - 1].to]) }
            var needed = read
            for e in expands.dropFirst(k) {
                needed.insert(e.from)
                if e.toBound { needed.insert(e.to) }
                needed.formUnion(e.distinctFrom)
            }
            // The scan writes its ids whether or not anything reads them (`count(*)` of a scan).
            carried.append(bound.intersection(k == 0 ? needed.union([scan.slot]) : needed).sorted())
        }
        self.scan = scan
        self.expands = expands
        self.keys = keyInputs
        self.aggregates = batchAggregates
        self.carried = carried
    }
}
