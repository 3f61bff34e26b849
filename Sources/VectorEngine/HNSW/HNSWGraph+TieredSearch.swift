/// How a walk over a `.tiered` index sizes its candidate list and its rescoring pool from the
/// tiers it meets. Coarse codes (PQ4, sign bits) rank the vectors of one region poorly, so
/// the true neighbours of a query in a rarely searched region sit deeper in the walk's list
/// than `k * oversampling`; a fixed pool then misses them whatever `ef` is. (The main remedy,
/// measuring near cold and archive nodes on their full vectors, is in
/// ``_TieredCodes/distance(_:_:)``; these two helpers size the list and the pool around it.)
extension HNSWGraph {
    /// The candidate list for a walk that will rescore `pool` candidates: `ef`, widened to
    /// `pool` times the mean rescoring weight of the entry node and its level-0 neighbours
    /// (their tiers say how coarse the region the walk starts in is). Off by default
    /// (``TierWalkSwitches/tierAwareWidening``): it bought 0.011 of recall at ef 64 by walking
    /// a longer list, which a comparison at the stated ef would hide.
    func tieredWalkEf(_ ef: Int, pool: Int, entry: UInt32, codes: _QuantizedStore,
                      memory: _HNSWUnsafeScratch) -> Int {
        guard let tiers = codes.tiers, tiers.switches.tierAwareWidening else { return ef }
        var weight = tiers.rescoringWeight(of: entry), count: Float = 1
        for n in walkNeighbors(entry, level: 0, memory) {
            weight += tiers.rescoringWeight(of: n)
            count += 1
        }
        let wanted = (Float(pool) * weight / count).rounded(.up)
        return max(ef, min(Int(wanted), VectorEngineLimits.maxEf))
    }

    /// How many of the walk's candidates `found` (ascending) to rescore so that they fill
    /// `pool` places, each candidate filling `1 / weight` of a place by its tier: the whole
    /// pool is `pool` when every candidate is exact or fine, deeper when they are coarse.
    func tieredRescoringDepth(_ found: [(distance: Float, id: UInt32)], pool: Int, codes: _QuantizedStore) -> Int {
        guard let tiers = codes.tiers, tiers.switches.tierAwareRescoring else { return pool }
        var filled: Float = 0, depth = 0
        while depth < found.count && filled < Float(pool) {
            filled += 1 / tiers.rescoringWeight(of: found[depth].id)
            depth += 1
        }
        return max(depth, pool)
    }
}
