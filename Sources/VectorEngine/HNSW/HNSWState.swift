/// The whole state of an ``HNSWIndex`` as plain values, for snapshots: flat vectors,
/// level-0 links (`m0 + 1` slots per node, count first), upper links, levels, ids,
/// tombstones and payloads. Quantization codes are not part of it: call
/// ``HNSWIndex/enableQuantization(_:sampleSize:seed:)`` again after import (codebooks are retrained).
public struct HNSWState: Sendable, Hashable {
    /// Vector length.
    public var dimension: Int
    /// Metric.
    public var metric: DistanceMetric
    /// Build parameters.
    public var parameters: HNSWParameters
    /// `count * dimension` components, row per internal id.
    public var vectors: [Float]
    /// Level of each internal id.
    public var levels: [UInt8]
    /// `count * (2m + 1)` slots.
    public var level0Links: [UInt32]
    /// Per node, `level * (m + 1)` slots for levels 1...level.
    public var upperLinks: [[UInt32]]
    /// External id of each internal id.
    public var externalIds: [UInt64]
    /// Tombstone of each internal id.
    public var deleted: [Bool]
    /// Payload of each internal id.
    public var payloads: [Payload]
    /// Entry point (internal id), `nil` when empty.
    public var entryPoint: UInt32?
    /// State of the level generator.
    public var generatorState: UInt64

    /// A state from its parts (as read back from a snapshot); `HNSWIndex(state:)` validates it.
    public init(dimension: Int, metric: DistanceMetric, parameters: HNSWParameters, vectors: [Float], levels: [UInt8],
                level0Links: [UInt32], upperLinks: [[UInt32]], externalIds: [UInt64], deleted: [Bool],
                payloads: [Payload], entryPoint: UInt32?, generatorState: UInt64) {
        self.dimension = dimension
        self.metric = metric
        self.parameters = parameters
        self.vectors = vectors
        self.levels = levels
        self.level0Links = level0Links
        self.upperLinks = upperLinks
        self.externalIds = externalIds
        self.deleted = deleted
        self.payloads = payloads
        self.entryPoint = entryPoint
        self.generatorState = generatorState
    }
}

extension HNSWIndex {
    /// A copy of the index's state (taken with exclusive access, so never mid-batch).
    public func exportState() -> HNSWState {
        access.exclusive { g, _ in
            let n = g.totalCount
            return HNSWState(
                dimension: g.dimension, metric: g.metric, parameters: g.params,
                vectors: Array(UnsafeBufferPointer(start: g.storage.vectors, count: n * g.dimension)),
                levels: g.levels,
                level0Links: Array(UnsafeBufferPointer(start: g.storage.links0, count: n * (g.params.m0 + 1))),
                upperLinks: (0..<n).map { g.storage.upperLinkSlots(UInt32($0), level: Int(g.levels[$0])) },
                externalIds: g.externalIds, deleted: g.deleted,
                payloads: g.payloads, entryPoint: g.entryPoint, generatorState: g.rng.state)
        }
    }

    /// Rebuilds an index from exported state, checking every size, link and id first:
    /// a corrupt state throws `.invalidArgument`, it never crashes.
    public convenience init(state s: HNSWState) throws(VectorEngineError) {
        try self.init(dimension: s.dimension, metric: s.metric, parameters: s.parameters)
        func bad(_ why: String) -> VectorEngineError {
            VectorEngineError(code: .invalidArgument, message: "HNSW state is inconsistent: \(why)")
        }
        let n = s.externalIds.count
        let m0 = s.parameters.m0, m = s.parameters.m
        guard n <= VectorEngineLimits.maxCount, s.vectors.count == n * s.dimension, s.levels.count == n,
              s.level0Links.count == n * (m0 + 1), s.upperLinks.count == n, s.deleted.count == n,
              s.payloads.count == n else { throw bad("array lengths disagree") }
        for i in 0..<n {
            guard Int(s.levels[i]) <= 32, s.upperLinks[i].count == Int(s.levels[i]) * (m + 1) else { throw bad("node \(i) levels") }
            guard Int(s.level0Links[i * (m0 + 1)]) <= m0 else { throw bad("node \(i) level-0 degree") }
            for l in 0..<Int(s.levels[i]) where Int(s.upperLinks[i][l * (m + 1)]) > m { throw bad("node \(i) degree") }
        }
        guard Set(s.externalIds).count == n else { throw bad("duplicate external ids") }
        if n > 0 { guard let ep = s.entryPoint, Int(ep) < n else { throw bad("entry point") } }
        let dim = s.dimension
        let violations = access.exclusive { g, _ -> [String] in
            g.storage.reserveCapacity(n)
            for i in 0..<n {
                let level = Int(s.levels[i])
                s.vectors[i * dim..<(i + 1) * dim].withUnsafeBufferPointer { _ = g.storage.append($0, level: level) }
                let base = i * (m0 + 1)
                g.storage.setNeighbors(UInt32(i), level: 0, s.level0Links[(base + 1)..<(base + 1 + Int(s.level0Links[base]))])
                g.storage.setUpperLinkSlots(UInt32(i), s.upperLinks[i])
                g.internalOf[s.externalIds[i]] = UInt32(i)
            }
            g.levels = s.levels
            g.externalIds = s.externalIds
            g.deleted = s.deleted
            g.deletedCount = s.deleted.filter { $0 }.count
            g.payloads = s.payloads
            g.top.set(.init(node: s.entryPoint, level: s.entryPoint.map { Int(s.levels[Int($0)]) } ?? 0))
            g.rng = SeededGenerator(seed: s.generatorState)
            return g.invariantViolations()
        }
        if let first = violations.first { throw bad(first) }
    }
}
