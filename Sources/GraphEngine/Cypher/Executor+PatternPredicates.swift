/// Pattern predicates: `WHERE (a)-[:KNOWS]->(b)` asks whether a pattern matches at least once;
/// the walk stops at the first match.
extension Executor {
    /// Thrown from a walk's consumer once it has what it wants (a first match found) and
    /// caught where the walk began: the rest of the walk is skipped.
    private static let walkDone = GraphError.Code(name: "walkDone")

    /// Whether `part` matches at least once from `row`; stops at the first match.
    func hasMatch(_ part: PatternPart, _ row: Row) throws(GraphError) -> Bool {
        var out = MatchOutput { _ throws(GraphError) in throw GraphError(Self.walkDone, "found") }
        let mark = control.mark
        do {
            try matchParts([part], row, into: &out)
            return false
        } catch where error.code == Self.walkDone {
            control.release(to: mark)
            return true
        }
    }
}
