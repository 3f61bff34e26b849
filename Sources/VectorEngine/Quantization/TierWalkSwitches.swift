/// Switches that change how a `.tiered` walk measures and rescores, for finding out why
/// rarely searched regions lose recall (vector-bench's `--tiered 1` diagnosis). Not a tuning
/// surface: the defaults are the engine's behaviour, and every other value exists to measure
/// one cause at a time on the same index and the same tiers.
@_spi(Benchmarks) public struct TierWalkSwitches: Sendable, Hashable {
    /// Weight of each tier's code-error term (``CompressionTier`` raw value as index; hot has
    /// none): 1 adds the code's squared error to its walk distances (L2), 0 walks on raw codes.
    public var codeErrorWeight: [Float] = [0, 1, 0, 1, 1]
    /// Tiers whose walk distances are measured on the full vectors instead of their codes
    /// (the walk then steers as an f32 walk would there).
    public var exactWalkTiers: Set<CompressionTier> = []
    /// Tiers whose nodes a walk measures on the full vector when their code distance, less
    /// ``refineSlack`` times the code's own error term, could enter the candidate list: the
    /// code still rejects far nodes, but near ones are ranked exactly.
    public var refinedTiers: Set<CompressionTier> = [.cold, .archive]
    /// See ``refinedTiers``.
    public var refineSlack: Float = 2
    /// Whether the rescoring pool deepens with the share of coarse candidates: a candidate in
    /// tier `t` fills `1 / rescoringWeight[t]` of a place in the `k * oversampling` pool.
    public var tierAwareRescoring = true
    /// Whether the candidate list widens to `k * oversampling` times the mean
    /// ``rescoringWeight`` of the entry node's neighbourhood.
    public var tierAwareWidening = false
    /// How many candidates of each tier it takes to fill one place of the rescoring pool.
    public var rescoringWeight: [Float] = [1, 1, 1, 2, 4]

    public init() {}
}

/// ``TierWalkSwitches`` as arrays indexed by tier, for the walk's hottest calls.
struct _TierWalkTables {
    /// Weight of the code-error term, by tier.
    let errorWeight: [Float]
    /// Whether a tier is measured on full vectors.
    let exact: [Bool]
    /// The refine slack of a refined tier, -1 for the others.
    let refineSlack: [Float]
    /// Candidates of a tier per place of the rescoring pool (at least 1).
    let rescoringWeight: [Float]

    init(_ s: TierWalkSwitches) {
        let tiers = CompressionTier.allCases
        errorWeight = tiers.map { $0.rawValue < s.codeErrorWeight.count ? s.codeErrorWeight[$0.rawValue] : 1 }
        exact = tiers.map { s.exactWalkTiers.contains($0) }
        refineSlack = tiers.map { s.refinedTiers.contains($0) ? max(0, s.refineSlack) : -1 }
        rescoringWeight = tiers.map { $0.rawValue < s.rescoringWeight.count ? max(1, s.rescoringWeight[$0.rawValue]) : 1 }
    }
}
