import Dispatch

/// How a `.tiered` index holds its vectors right now.
public struct TierStatistics: Sendable, Hashable {
    /// Nodes in each tier (tombstoned nodes included: they still route walks).
    public var counts: [CompressionTier: Int]
    /// Bytes held for the codes graph walks read, every tier together (slots freed by moves
    /// and not yet compacted included). Full vectors, which
    /// rescoring reads for `k * oversampling` candidates a search, are not included.
    public var codeBytes: Int
    /// Re-tiering passes applied since the tiers were built.
    public var passes: Int
}

extension HNSWIndex {
    /// Nodes a re-tiering pass decides and encodes per shared access; writers wait at most
    /// one chunk.
    static let retierChunk = 4_096

    /// Runs one re-tiering pass of a `.tiered` index now (waiting for a background pass that
    /// is running): decays every vector's returns per million queries and moves the vectors
    /// whose rate crossed a band of the ``TierPolicy``, re-encoding them from their full
    /// vectors. Searches continue meanwhile; writes wait at most one chunk of
    /// ``retierChunk`` nodes, and once more while the moves are applied. Returns how many
    /// vectors moved; 0 without tiers.
    @discardableResult
    public func retier() -> Int {
        retierQueue.sync { runRetierPass() }
    }

    /// Current tiers, or `nil` when the index is not `.tiered` (or not trained yet).
    public var tierStatistics: TierStatistics? {
        access.shared { g, _ in
            g.quantized?.tiers.map { TierStatistics(counts: $0.tierCounts, codeBytes: $0.codeBytes, passes: $0.passes) }
        }
    }

    /// The tier `id` is in, or `nil` when it is not stored or the index is not `.tiered`.
    public func tier(of id: UInt64) -> CompressionTier? {
        access.shared { g, _ in g.internalOf[id].flatMap { g.quantized?.tiers?.tier(of: $0) } }
    }

    /// What `id`'s walk code decodes to (tests).
    func tierReconstruction(of id: UInt64) -> [Float]? {
        access.shared { g, _ in g.internalOf[id].flatMap { g.quantized?.tiers?.reconstruction(of: $0) } }
    }

    /// Queues a background pass (a search found the policy's interval reached).
    func scheduleRetier() {
        retierQueue.async { [weak self] in _ = self?.runRetierPass() }
    }

    /// One pass; runs on ``retierQueue``.
    private func runRetierPass() -> Int {
        guard var plan = access.shared({ g, _ in g.quantized?.tiers?.beginPlan() }) else { return 0 }
        var start = 0
        while start < plan.nodeCount {
            let nodes = start..<min(start + Self.retierChunk, plan.nodeCount)
            let ok = access.shared { g, scratch in
                g.quantized?.tiers?.extendPlan(&plan, nodes: nodes, vectors: g.storage.vector,
                                               neighbors: { g.walkNeighbors($0, level: 0, scratch.memory) }) ?? false
            }
            guard ok else {
                access.exclusive { g, _ in g.quantized?.tiers?.cancelPlan() }
                return 0
            }
            start = nodes.upperBound
        }
        return access.exclusive { g, _ in g.quantized?.tiers?.apply(plan, vectors: g.storage.vector) ?? 0 }
    }
}

extension HNSWIndex {
    /// The measurement switches of a `.tiered` index (``TierWalkSwitches``); `nil` without tiers.
    /// Setting them waits for exclusive access.
    @_spi(Benchmarks) public var tierWalkSwitches: TierWalkSwitches? {
        get { access.shared { g, _ in g.quantized?.tiers?.switches } }
        set { if let newValue { access.exclusive { g, _ in g.quantized?.tiers?.switches = newValue } } }
    }
}
