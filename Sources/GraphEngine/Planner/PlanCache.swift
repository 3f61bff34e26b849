import Synchronization

/// Parsed, checked and planned queries by their text, so a query sent again (with other
/// parameters) skips the parser, the semantic checks and the planner. Plans read nothing of
/// the graph (what depends on it is chosen when they run), so an entry never goes stale.
/// Bounded: at most `capacity` entries of texts up to `maxTextBytes`; the oldest leaves first.
/// Shared by every copy of a database (one lock, held only to look up or insert).
final class PlanCache: Sendable {
    static let capacity = 512
    static let maxTextBytes = 16 << 10

    struct Entry: Sendable {
        let query: Query
        let outcome: Planner.Outcome
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var order: [Key] = []
        var oldest = 0
        var hits = 0
        var misses = 0
    }

    private let state = Mutex(State())

    /// A query's text and the procedures it was checked against (`ProcedureCatalog.generation`).
    struct Key: Hashable {
        let text: String
        let procedures: UInt64
    }

    /// The entry for `text` checked against `procedures`, parsed, checked and planned on a
    /// miss (errors are not cached); `cached` tells whether it was found.
    func entry(_ text: String, procedures: ProcedureCatalog) throws(GraphError) -> (entry: Entry, cached: Bool) {
        let key = Key(text: text, procedures: procedures.generation)
        if let found = state.withLock({ s -> Entry? in
            let e = s.entries[key]
            if e != nil { s.hits += 1 } else { s.misses += 1 }
            return e
        }) {
            return (found, true)
        }
        let q = try Parser.parse(text)
        try Analyzer.check(q, procedures: procedures)
        let entry = Entry(query: q, outcome: Planner.plan(q, procedures: procedures))
        guard text.utf8.count <= Self.maxTextBytes else { return (entry, false) }
        state.withLock { s in
            guard s.entries[key] == nil else { return }
            if s.order.count - s.oldest >= Self.capacity {
                s.entries[s.order[s.oldest]] = nil
                s.oldest += 1
                if s.oldest > Self.capacity {
                    s.order.removeFirst(s.oldest)
                    s.oldest = 0
                }
            }
            s.entries[key] = entry
            s.order.append(key)
        }
        return (entry, false)
    }

    /// Lookups that found their query, and those that did not.
    var counts: (hits: Int, misses: Int) { state.withLock { ($0.hits, $0.misses) } }
}
