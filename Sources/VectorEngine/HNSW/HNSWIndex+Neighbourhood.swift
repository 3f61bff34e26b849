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
    /// For each centre, indices into `nodes` of its first live layer-0 links (at most the limit asked).
    public var links: [[Int32]]
}

extension HNSWIndex {
    /// The live points among `centres` with their vectors and up to `linksPerNode` layer-0
    /// links each (in the graph's stored order), and the linked points' vectors. Linked points
    /// that are deleted are skipped. Runs alongside searches and batch inserts (link lists are
    /// copied under their node's lock while a batch links).
    public func neighbourhood(of centres: [UInt64], linksPerNode: Int) -> GraphNeighbourhood {
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
            guard limit > 0 else {
                result.links = Array(repeating: [], count: internalCentres.count)
                return result
            }
            for n in internalCentres {
                var list: [Int32] = []
                for m in g.walkNeighbors(n, level: 0, scratch.memory) where !g.deleted[Int(m)] {
                    if list.count == limit { break }
                    if let index = position[m] {
                        list.append(index)
                    } else {
                        let index = Int32(result.nodes.count)
                        position[m] = index
                        result.nodes.append(g.externalIds[Int(m)])
                        result.vectors.append(g.storage.vectorArray(m))
                        list.append(index)
                    }
                }
                result.links.append(list)
            }
            return result
        }
    }
}
