extension HNSWGraph {
    /// Structural invariants: link targets exist and reach the level, no self or duplicate
    /// links, degrees within bounds, id maps consistent, entry point on the top level.
    func invariantViolations() -> [String] {
        var problems: [String] = []
        let n = totalCount
        if levels.count != n || deleted.count != n || payloads.count != n
            || storage.count != n {
            problems.append("array sizes disagree")
            return problems
        }
        if internalOf.count != n { problems.append("id map has \(internalOf.count) entries for \(n) nodes") }
        for (ext, node) in internalOf where Int(node) >= n || externalIds[Int(node)] != ext {
            problems.append("id map entry \(ext) -> \(node) is wrong")
        }
        if deleted.filter({ $0 }).count != deletedCount { problems.append("deletedCount is stale") }
        if let ep = entryPoint {
            if Int(levels[Int(ep)]) != maxLevel { problems.append("entry point is not on the top level") }
        } else if n > 0 { problems.append("no entry point") }
        for i in 0..<n {
            let level = Int(levels[i])
            if level > maxLevel { problems.append("node \(i) above maxLevel") }
            for l in 0...level {
                let ns = Array(neighbors(UInt32(i), level: l))
                if ns.count > maxLinks(level: l) { problems.append("node \(i) level \(l) has \(ns.count) links") }
                if Set(ns).count != ns.count { problems.append("node \(i) level \(l) duplicate links") }
                for t in ns {
                    if Int(t) >= n { problems.append("node \(i) links to missing \(t)"); continue }
                    if t == UInt32(i) { problems.append("node \(i) links to itself") }
                    if Int(levels[Int(t)]) < l { problems.append("node \(i) level \(l) links to lower node \(t)") }
                }
                if n > 1 && ns.isEmpty && l == 0 { problems.append("node \(i) is isolated on level 0") }
            }
        }
        return problems
    }
}
