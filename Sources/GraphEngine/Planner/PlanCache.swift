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
        var entries: [String: Entry] = [:]
        var order: [String] = []
        var oldest = 0
        var hits = 0
        var misses = 0
    }

    private let state = Mutex(State())

    /// The entry for `text`, parsed, checked and planned on a miss (errors are not cached);
    /// `cached` tells whether it was found.
    func entry(_ text: String) throws(GraphError) -> (entry: Entry, cached: Bool) {
        if let found = state.withLock({ s -> Entry? in
            let e = s.entries[text]
            if e != nil { s.hits += 1 } else { s.misses += 1 }
            return e
        }) {
            return (found, true)
        }
        let q = try Parser.parse(text)
        try Analyzer.check(q)
        let entry = Entry(query: q, outcome: Planner.plan(q))
        guard text.utf8.count <= Self.maxTextBytes else { return (entry, false) }
        state.withLock { s in
            guard s.entries[text] == nil else { return }
            if s.order.count - s.oldest >= Self.capacity {
                s.entries[s.order[s.oldest]] = nil
                s.oldest += 1
                if s.oldest > Self.capacity {
                    s.order.removeFirst(s.oldest)
                    s.oldest = 0
                }
            }
            s.entries[text] = entry
            s.order.append(text)
        }
        return (entry, false)
    }

    /// Lookups that found their query, and those that did not.
    var counts: (hits: Int, misses: Int) { state.withLock { ($0.hits, $0.misses) } }
}
