import Synchronization

/// The compiled patterns of one query (`=~` usually repeats one pattern for every row).
final class RegexCache: Sendable {
    /// Distinct patterns kept; past this the cache starts over.
    static let capacity = 64
    private let compiled = Mutex<[String: CypherRegex]>([:])

    func regex(_ pattern: String) throws(GraphError) -> CypherRegex {
        if let hit = compiled.withLock({ $0[pattern] }) { return hit }
        let regex = try CypherRegex(pattern)
        compiled.withLock { cache in
            if cache.count >= Self.capacity { cache.removeAll() }
            cache[pattern] = regex
        }
        return regex
    }
}
