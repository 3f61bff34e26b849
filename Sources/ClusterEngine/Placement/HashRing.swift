/// A consistent-hash ring of cluster nodes, each standing at many points ("virtual nodes") of
/// the 64-bit hash space.
///
/// A key is owned by the nodes met walking clockwise from its hash. Adding a node takes over
/// only the arcs just before its own points, about 1/N of the keys, all from the old owners
/// and none moved between old nodes; removing a node hands its arcs to the next nodes. Many
/// virtual nodes per node even out the arc lengths: with 150 (RuVector's number) each node
/// owns 0.91 ... 1.11 of its fair share of the hash space for 3 to 7 nodes, 0.92 ... 1.21 for
/// 10 (`PlacementMovesTests` pins what that gives 600 shards).
///
/// Virtual node `i` of node `id` stands at `StableHash.xxh64` of the UTF-8 of
/// `"node/<id>/<i>"` (decimal numbers, `i` in `0 ..< virtualNodesPerNode`). The ring depends
/// only on the set of nodes, never on the order they are given in.
///
/// ```swift
/// let ring = HashRing(nodes: [1, 2, 3])
/// ring.owners(ofKey: StableHash.xxh64(Array("docs/0".utf8)), count: 2)  // two distinct nodes
/// ```
public struct HashRing: Sendable, Equatable {
    /// The nodes on the ring, ascending, without repeats.
    public let nodes: [UInt64]
    /// Points each node stands at.
    public let virtualNodesPerNode: Int
    /// The ring's points, sorted by position and, at equal positions, by node id.
    private let points: [Point]

    private struct Point: Sendable, Equatable {
        var position: UInt64
        var node: UInt64
    }

    /// A ring of `nodes` (repeats ignored), each at `virtualNodesPerNode` points.
    /// - Precondition: `virtualNodesPerNode >= 1`.
    public init(nodes: [UInt64], virtualNodesPerNode: Int = 150) {
        precondition(virtualNodesPerNode >= 1, "a node needs at least one virtual node, got \(virtualNodesPerNode)")
        self.nodes = Set(nodes).sorted()
        self.virtualNodesPerNode = virtualNodesPerNode
        var points: [Point] = []
        points.reserveCapacity(self.nodes.count * virtualNodesPerNode)
        for node in self.nodes {
            for i in 0..<virtualNodesPerNode {
                points.append(Point(position: StableHash.xxh64(Array("node/\(node)/\(i)".utf8)), node: node))
            }
        }
        points.sort { ($0.position, $0.node) < ($1.position, $1.node) }
        self.points = points
    }

    /// The first `count` distinct nodes met walking clockwise from the first point at or
    /// after `hash` (wrapping past the top of the hash space): the key's owners, most
    /// preferred first. All nodes when `count` is the node count or more; none on an empty
    /// ring or for `count <= 0`.
    public func owners(ofKey hash: UInt64, count: Int) -> [UInt64] {
        let wanted = min(max(count, 0), nodes.count)
        guard wanted > 0 else { return [] }
        var owners: [UInt64] = []
        owners.reserveCapacity(wanted)
        let start = firstPoint(atOrAfter: hash)
        for step in 0..<points.count {
            let node = points[(start + step) % points.count].node
            // `wanted` is a replication factor, a handful: a linear scan beats a set here.
            if !owners.contains(node) {
                owners.append(node)
                if owners.count == wanted { break }
            }
        }
        return owners
    }

    /// The index of the first point whose position is `hash` or more; `points.count` wraps to 0.
    private func firstPoint(atOrAfter hash: UInt64) -> Int {
        var low = 0, high = points.count
        while low < high {
            let middle = low + (high - low) / 2
            if points[middle].position < hash { low = middle + 1 } else { high = middle }
        }
        return low == points.count ? 0 : low
    }
}
