/// A set of points and their layer-0 HNSW links, read in one shared access: what a learned
/// re-ranker reads around a query's candidates (the GNN attends over each candidate's graph
/// neighbours).
public struct GraphNeighbourhood: Sendable, Equatable {
    /// The centres that are live, in the order asked (ids no longer held are left out).
    public var centres: [UInt64]
    /// The centres first, then the linked points that are not centres, in first-seen order.
    public var nodes: [UInt64]
    /// One vector per node.
    public var vectors: [[Float]]
    /// For each centre, indices into `nodes` of its live layer-0 links (at most the limit asked).
    public var links: [[Int32]]
}

extension HNSWIndex {
    /// The live points among `centres` with their vectors and up to `linksPerNode` layer-0
    /// links each (in the graph's stored order), and the linked points' vectors. Linked points
    /// that are deleted are skipped. At most `maxExtraNodes` linked points that are not centres
    /// are added: links are taken round by round (every centre's first link, then every
    /// centre's second, ...), so a cap shortens every centre's list alike rather than starving
    /// the last ones; links to points already present are always kept. Runs alongside searches
    /// and batch inserts (link lists are copied under their node's lock while a batch links).
    public func neighbourhood(of centres: [UInt64], linksPerNode: Int, maxExtraNodes: Int = .max) -> GraphNeighbourhood {
        let limit = max(0, linksPerNode)
        return access.shared { g, scratch in
            var result = GraphNeighbourhood(centres: [], nodes: [], vectors: [], links: [])
            var internalCentres: [UInt32] = []
            var position: [UInt32: Int32] = [:]
            for id in centres {
                guard let n = g.internalOf[id], !g.deleted[Int(n)], position[n] == nil else { continue }
                position[n] = Int32(result.nodes.count)
                internalCentres.append(n)
                result.centres.append(id)
                result.nodes.append(id)
                result.vectors.append(g.storage.vectorArray(n))
            }
            result.links = Array(repeating: [], count: internalCentres.count)
            guard limit > 0 else { return result }
            // Each centre's live links, copied (the walk's buffer is reused per call).
            let lists: [[UInt32]] = internalCentres.map { n in
                Array(g.walkNeighbors(n, level: 0, scratch.memory).lazy.filter { !g.deleted[Int($0)] }.prefix(limit))
            }
            var extra = 0
            for round in 0..<limit {
                for (c, list) in lists.enumerated() where round < list.count {
                    let m = list[round]
                    if let index = position[m] {
                        result.links[c].append(index)
                    } else if extra < maxExtraNodes {
                        let index = Int32(result.nodes.count)
                        position[m] = index
                        result.nodes.append(g.externalIds[Int(m)])
                        result.vectors.append(g.storage.vectorArray(m))
                        result.links[c].append(index)
                        extra += 1
                    }
                }
            }
            return result
        }
    }
}
