// vector-bench --tiered 1: why queries in rarely searched regions lose recall. Each row
// changes one thing (``TierWalkSwitches``, oversampling, or a full-vector walk) on the same
// index, same tiers and same queries, so the rows compare causes one at a time.
import Foundation
@_spi(Benchmarks) import VectorEngine

/// One way of searching the tiered index, for the diagnosis table.
struct TierDiagnosisCase {
    let name: String
    let switches: TierWalkSwitches
    /// The rescoring factor for an ef (nil: walk on full vectors, no codes).
    let oversampling: (Int) -> Int?
}

/// The switches of the walk before tier-aware rescoring and widening (a fixed pool of
/// `k * oversampling`).
func fixedPoolSwitches() -> TierWalkSwitches {
    var s = TierWalkSwitches()
    s.refinedTiers = []
    s.tierAwareRescoring = false
    s.tierAwareWidening = false
    s.codeErrorWeight = [0, 1, 1, 1, 1]
    return s
}

/// The cases measured, one cause each.
func tierDiagnosisCases(k: Int) -> [TierDiagnosisCase] {
    let old = fixedPoolSwitches()
    var exactCoarse = old; exactCoarse.exactWalkTiers = [.cold, .archive]
    var exactArchive = old; exactArchive.exactWalkTiers = [.archive]
    var noError = old; noError.codeErrorWeight = [0, 0, 0, 0, 0]
    var errorOnFine = old; errorOnFine.codeErrorWeight = [0, 1, 1, 0, 0]
    var rescoringOnly = old; rescoringOnly.tierAwareRescoring = true
    let four: (Int) -> Int? = { _ in 4 }, wholeList: (Int) -> Int? = { max(1, $0 / k) }
    return [
        .init(name: "fixed pool 4 x k (before)", switches: old, oversampling: four),
        .init(name: "fixed pool, rescoring the whole list (ef)", switches: old, oversampling: wholeList),
        .init(name: "f32 walk, no codes", switches: old, oversampling: { _ in nil }),
        .init(name: "fixed pool 4 x k, cold + archive walked on f32", switches: exactCoarse, oversampling: four),
        .init(name: "fixed pool 4 x k, archive walked on f32", switches: exactArchive, oversampling: four),
        .init(name: "fixed pool, whole list, cold + archive walked on f32", switches: exactCoarse, oversampling: wholeList),
        .init(name: "fixed pool 4 x k, no code-error term", switches: noError, oversampling: four),
        .init(name: "fixed pool, whole list, no code-error term", switches: noError, oversampling: wholeList),
        .init(name: "fixed pool 4 x k, error term on warm + cool only", switches: errorOnFine, oversampling: four),
        .init(name: "fixed pool 4 x k, tier-aware rescoring depth", switches: rescoringOnly, oversampling: four),
    ] + [(Set<CompressionTier>([.cold, .archive]), Set<CompressionTier>()), ([.cold], [.archive])].flatMap { exact, refined -> [TierDiagnosisCase] in
        var s = old; s.exactWalkTiers = exact; s.refinedTiers = refined; s.refineSlack = 2
        s.codeErrorWeight[CompressionTier.cool.rawValue] = 0
        var deep = s; deep.tierAwareRescoring = true
        let name = "f32 walk on \(exact.sorted().map { "\($0)" }.joined(separator: "+")), refine \(refined.map { "\($0)" }.joined()), cool error x 0"
        return [.init(name: name + ", fixed pool", switches: s, oversampling: four),
                .init(name: name + ", tier-aware depth", switches: deep, oversampling: four)]
    } + [(Set<CompressionTier>([.cold, .archive]), Float(2), Float(1)), ([.cold, .archive], 2, 0), ([.cold, .archive], 1, 0),
          ([.cool, .cold, .archive], 2, 1)]
        .flatMap { tiers, slack, coolError -> [TierDiagnosisCase] in
        var s = old; s.refinedTiers = tiers; s.refineSlack = slack; s.codeErrorWeight[CompressionTier.cool.rawValue] = coolError
        var deep = s; deep.tierAwareRescoring = true
        var wide = deep; wide.tierAwareWidening = true
        let name = "refine \(tiers.sorted().map { "\($0)" }.joined(separator: "+")) slack \(slack), cool error x \(coolError)"
        return [.init(name: name + ", fixed pool", switches: s, oversampling: four),
                .init(name: name + ", tier-aware depth", switches: deep, oversampling: four),
                .init(name: name + ", depth + widening", switches: wide, oversampling: four)]
    } + [
        .init(name: "default: refine cold+archive slack 2, cool error x 0, tier-aware depth", switches: TierWalkSwitches(),
              oversampling: four),
    ]
}

/// Recall@k and one-thread QPS of each case at each ef over `subset`, as table rows; then the
/// true neighbours' tiers and which of them the fixed pool and the whole list found.
func diagnoseTiers(_ index: HNSWIndex, queries: [[Float]], truth: [[Int32]], subset: [Int], label: String,
                   cases: [TierDiagnosisCase], k: Int, efs: [Int]) throws -> [String] {
    let clock = ContinuousClock()
    let saved = index.tierWalkSwitches
    defer { index.tierWalkSwitches = saved }
    var lines = ["| case (\(label) queries) | ef | recall@10 | QPS | CPU µs/query | found: cool | cold | archive |", "|---|---|---|---|---|---|---|---|"]
    for c in cases {
        index.tierWalkSwitches = c.switches
        for ef in efs {
            var hits = 0
            var results = [[SearchHit]]()
            results.reserveCapacity(subset.count)
            let cpuStart = threadCPUSeconds()
            let t = clock.measure {
                for qi in subset {
                    let got = (try? index.search(queries[qi], k: k, ef: ef, oversampling: c.oversampling(ef))) ?? []
                    let want = Set(truth[qi])
                    hits += got.filter { want.contains(Int32($0.id)) }.count
                    results.append(got)
                }
            }
            let cpuMicrosPerQuery = (threadCPUSeconds() - cpuStart) * 1e6 / Double(subset.count)
            // Which true neighbours were found, by their tier (outside the timing).
            var inTier = [CompressionTier: Int](), found = [CompressionTier: Int]()
            for (qi, got) in zip(subset, results) {
                let ids = Set(got.map(\.id))
                for id in truth[qi].map({ UInt64($0) }) {
                    guard let tier = index.tier(of: id) else { continue }
                    inTier[tier, default: 0] += 1
                    if ids.contains(id) { found[tier, default: 0] += 1 }
                }
            }
            let shares = [CompressionTier.cool, .cold, .archive].map { tier in
                (inTier[tier] ?? 0) == 0 ? "-" : String(format: "%.2f", Double(found[tier] ?? 0) / Double(inTier[tier] ?? 1))
            }
            let seconds = Double(t.components.seconds) + Double(t.components.attoseconds) * 1e-18
            lines.append("| \(c.name) | \(ef) | \(String(format: "%.3f", Double(hits) / Double(subset.count * k))) | "
                         + "\(String(format: "%.0f", Double(subset.count) / seconds)) | \(String(format: "%.0f", cpuMicrosPerQuery)) | "
                         + shares.joined(separator: " | ") + " |")
        }
    }
    // Coverage by tier at the first ef: which true neighbours each pool finds.
    guard label == "rare" else { return lines }
    let ef = efs[0]
    index.tierWalkSwitches = fixedPoolSwitches()
    var inTier = [CompressionTier: Int](), foundFixed = [CompressionTier: Int](), foundWhole = [CompressionTier: Int]()
    for qi in subset {
        let fixed = Set(try index.search(queries[qi], k: k, ef: ef, oversampling: 4).map(\.id))
        let whole = Set(try index.search(queries[qi], k: k, ef: ef, oversampling: max(1, ef / k)).map(\.id))
        for id in truth[qi].map({ UInt64($0) }) {
            guard let tier = index.tier(of: id) else { continue }
            inTier[tier, default: 0] += 1
            if fixed.contains(id) { foundFixed[tier, default: 0] += 1 }
            if whole.contains(id) { foundWhole[tier, default: 0] += 1 }
        }
    }
    lines += ["", "| true neighbours of rare queries, ef \(ef) | in tier | found, pool 4 x k | found, whole list |",
              "|---|---|---|---|"]
    for tier in CompressionTier.allCases {
        let n = inTier[tier] ?? 0
        func share(_ x: Int?) -> String { n == 0 ? "-" : String(format: "%.3f", Double(x ?? 0) / Double(n)) }
        lines.append("| \(tier) | \(n) | \(share(foundFixed[tier])) | \(share(foundWhole[tier])) |")
    }
    return lines
}

/// CPU time this thread has used, in seconds: on a machine others are loading, a steadier
/// measure of a search's cost than wall time (it still counts cache misses other processes cause).
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
