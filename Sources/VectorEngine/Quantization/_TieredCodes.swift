internal import CVectorKernels
import Synchronization

/// The walk codes of a `.tiered` quantization: each node sits in one tier (``CompressionTier``)
/// and has a code in that tier's array, at a slot. Hot codes are f32 copies; warm, cool, cold
/// and archive codes belong to one ``_QuantizedStore`` each (f16, PQ8, PQ4, scaled sign bits),
/// whose distances are all on the metric's own scale, so one walk compares nodes of every tier.
///
/// Searches count the nodes they return (atomically, many at once). A re-tiering pass
/// (``HNSWIndex/retier()``) folds those counts into per-node rates and moves nodes whose
/// rate crosses a band of the ``TierPolicy``, in two steps: a plan made with shared access,
/// in chunks, encoding each moving node from its full vector; then the moves applied with
/// exclusive access. Nodes re-encoded in between (``replace(_:_:)``) keep their tier until
/// the next pass; a compaction in between (``clear()``) drops the plan.
///
/// Owned by the graph's ``_QuantizedStore``: changed with exclusive access except for the
/// counters (atomics) and the plan bookkeeping (only the single re-tiering thread writes it,
/// while no exclusive access runs).
final class _TieredCodes {
    let policy: TierPolicy
    let dimension: Int
    let metric: DistanceMetric
    /// Encoders of the warm, cool, cold and archive tiers (index `tier - 1`), each holding its
    /// tier's codes by slot.
    let encoders: [_QuantizedStore]
    /// The hot tier's f32 copies, `dimension` a slot.
    private var hot: [Float] = []
    /// L2 only: each node's squared code error ‖x − decode(code)‖², added to its walk distances.
    /// A reconstruction sits near the centre of the vectors sharing its code, so ‖q − r‖²
    /// underestimates ‖q − x‖² by about that error, more in coarser tiers; uncorrected, a walk
    /// over mixed tiers would favour archived vectors over exact hot ones. (Inner products
    /// need no correction: q·r is an unbiased estimate of q·x.) Zero for hot nodes. Measured
    /// (docs/benchmarks/tiered-compression.md): it helps the warm, cold and archive tiers,
    /// but for a query near the vector ‖q − r‖² already over-estimates by about the error, so
    /// cool (PQ8) codes, whose near nodes compete with exactly measured ones, walk without it
    /// (``TierWalkSwitches/codeErrorWeight``). Refined tiers also size their slack by it.
    private var bias: [Float] = []
    /// Tier (``CompressionTier`` raw value) and slot of each node.
    private var tierOf: [UInt8] = []
    private var slotOf: [UInt32] = []
    /// Slots of each tier, used and free.
    private var slotCount = [Int](repeating: 0, count: 5)
    private var freeSlots: [[UInt32]] = Array(repeating: [], count: 5)
    /// Returns of each node since the last pass, added to by searches atomically.
    private var returns: UnsafeMutablePointer<UInt32>
    private var returnsCapacity = 0
    /// Each node's rate as of the last pass: returns per million queries, an exponential
    /// moving average over passes (weight ``TierPolicy/decay`` on the past).
    private var rates: [Float] = []
    /// Searches since the last pass and whether the policy's interval has passed.
    private let queries = Atomic<Int>(0)
    private let due = Atomic<Bool>(false)
    /// Passes applied.
    private(set) var passes = 0
    /// Bumped by ``clear()``: node numbers changed, so a plan made before is void.
    private var layoutVersion = 0
    /// How walks measure and rescore (``TierWalkSwitches``), changed with exclusive access.
    var switches = TierWalkSwitches() { didSet { walk = _TierWalkTables(switches) } }
    /// ``switches`` by tier, as walks read them.
    private(set) var walk = _TierWalkTables(TierWalkSwitches())
    private var planInFlight = false
    private var changedDuringPlan = Set<UInt32>()

    init(policy: TierPolicy, dimension: Int, metric: DistanceMetric, sample: [[Float]],
         seed: UInt64) throws(VectorEngineError) {
        try policy.validate(dimension: dimension)
        self.policy = policy
        self.dimension = dimension
        self.metric = metric
        let m = policy.subspaces(dimension: dimension)
        encoders = [
            try _QuantizedStore(kind: .float16, dimension: dimension, metric: metric, sample: sample, seed: seed),
            try _QuantizedStore(kind: .pq8(subspaces: m), dimension: dimension, metric: metric, sample: sample, seed: seed),
            try _QuantizedStore(kind: .pq4(subspaces: m), dimension: dimension, metric: metric, sample: sample, seed: seed),
            try _QuantizedStore(kind: .binary, dimension: dimension, metric: metric, sample: sample, seed: seed,
                                scaledBinary: true),
        ]
        returns = .allocate(capacity: 0)
    }

    deinit { returns.deallocate() }

    /// Tiers as exported (``exportState()``) for an index of `nodeCount` nodes whose vectors are
    /// at `vectors` (hot codes are copied from them). Every count, tier, slot and rate is
    /// checked first: `.invalidArgument` when something does not fit.
    init(restoring s: TieredQuantizerState, policy: TierPolicy, dimension: Int, metric: DistanceMetric,
         nodeCount n: Int, vectors: (UInt32) -> UnsafePointer<Float>) throws(VectorEngineError) {
        func require(_ ok: Bool, _ why: @autoclosure () -> String) throws(VectorEngineError) {
            if !ok { throw inconsistentQuantizer("tiers: \(why())") }
        }
        do { try policy.validate(dimension: dimension) } catch { throw inconsistentQuantizer(error.message) }
        let m = policy.subspaces(dimension: dimension)
        let kinds: [QuantizationKind] = [.float16, .pq8(subspaces: m), .pq4(subspaces: m), .binary]
        try require(s.encoders.map(\.kind) == kinds, "encoders \(s.encoders.map(\.kind)), not \(kinds)")
        var encoders: [_QuantizedStore] = []
        for (i, e) in s.encoders.enumerated() {
            encoders.append(try _QuantizedStore(restoring: e, dimension: dimension, metric: metric, nodeCount: nil,
                                                scaledBinary: i == 3, vectors: vectors))
        }
        try require(s.tierOf.count == n && s.slotOf.count == n && s.rates.count == n && s.returns.count == n,
                    "per-node arrays of \(s.tierOf.count), \(s.slotOf.count), \(s.rates.count), \(s.returns.count) for \(n) nodes")
        try require(s.tierOf.allSatisfy { $0 < 5 }, "a tier above archive")
        try require(s.freeSlots.count == 5, "\(s.freeSlots.count) free lists")
        try require(s.rates.allSatisfy { $0.isFinite && $0 >= 0 }, "a rate is negative or not finite")
        try require(s.queries >= 0 && s.passes >= 0, "negative query or pass count")
        // Every slot of a tier is used by one node or free, once.
        var used = [Int](repeating: 0, count: 5)
        for t in s.tierOf { used[Int(t)] += 1 }
        let slots = [s.hotSlots] + encoders.map { $0.codes.count / $0.codeBytes }
        var taken: [[Bool]] = []
        for t in 0..<5 {
            try require(slots[t] == used[t] + s.freeSlots[t].count,
                        "tier \(t) has \(slots[t]) slots for \(used[t]) nodes and \(s.freeSlots[t].count) free")
            taken.append([Bool](repeating: false, count: slots[t]))
        }
        for (node, t) in s.tierOf.enumerated() {
            let slot = Int(s.slotOf[node])
            try require(slot < slots[Int(t)] && !taken[Int(t)][slot], "node \(node)'s slot \(slot) in tier \(t)")
            taken[Int(t)][slot] = true
        }
        for t in 0..<5 {
            for slot in s.freeSlots[t] {
                try require(Int(slot) < slots[t] && !taken[t][Int(slot)], "free slot \(slot) in tier \(t)")
                taken[t][Int(slot)] = true
            }
        }
        // Hot codes are the full vectors; free hot slots are written before they are read again.
        var hot = [Float](repeating: 0, count: s.hotSlots * dimension)
        hot.withUnsafeMutableBufferPointer { h in
            for (node, t) in s.tierOf.enumerated() where t == 0 {
                (h.baseAddress! + Int(s.slotOf[node]) * dimension).update(from: vectors(UInt32(node)), count: dimension)
            }
        }
        let capacity = max(1024, n)
        returns = .allocate(capacity: capacity)
        returns.initialize(repeating: 0, count: capacity)
        for (node, count) in s.returns.enumerated() { returns[node] = count }
        returnsCapacity = capacity
        self.policy = policy
        self.dimension = dimension
        self.metric = metric
        self.encoders = encoders
        self.hot = hot
        tierOf = s.tierOf
        slotOf = s.slotOf
        slotCount = slots
        freeSlots = s.freeSlots
        rates = s.rates
        bias = (0..<n).map { node in
            let t = Int(s.tierOf[node])
            guard t > 0 else { return 0 }
            let e = encoders[t - 1], slot = Int(s.slotOf[node])
            return Self.codeError(metric, e, e.codes.bytes(from: slot * e.codeBytes, length: e.codeBytes),
                                  UnsafeBufferPointer(start: vectors(UInt32(node)), count: dimension))
        }
        queries.store(s.queries, ordering: .relaxed)
        passes = s.passes
    }

    /// Everything but the hot codes (copies of the full vectors), as values (the encoders' codes
    /// borrowed as ``_QuantizedStore/exportState(borrowingCodes:)`` says). Exclusive access: no
    /// search is counting returns meanwhile.
    func exportState(borrowingCodes: Bool = false) -> TieredQuantizerState {
        TieredQuantizerState(encoders: encoders.map { $0.exportState(borrowingCodes: borrowingCodes) }, hotSlots: slotCount[0], tierOf: tierOf,
                             slotOf: slotOf, freeSlots: freeSlots, rates: rates,
                             returns: Array(UnsafeBufferPointer(start: returns, count: tierOf.count)),
                             queries: queries.load(ordering: .relaxed), passes: passes)
    }


    // MARK: nodes (exclusive access)

    /// A new node's code, in `tier` at the bottom of its band's rate.
    func append(_ v: UnsafeBufferPointer<Float>, tier: CompressionTier = .hot) {
        let t = tier.rawValue
        let slot = allocate(t)
        bias.append(write(t, slot: slot, vector: v))
        tierOf.append(UInt8(t))
        slotOf.append(UInt32(slot))
        rates.append(Float(policy.hotThreshold * TierPolicy.bandFractions[min(t, 3)]))
        if tierOf.count > returnsCapacity {
            let bigger = max(1024, returnsCapacity * 2)
            let fresh = UnsafeMutablePointer<UInt32>.allocate(capacity: bigger)
            fresh.initialize(repeating: 0, count: bigger)
            fresh.update(from: returns, count: returnsCapacity)
            returns.deallocate()
            (returns, returnsCapacity) = (fresh, bigger)
        }
    }

    /// Re-encodes `node` from its new vector in its current tier.
    func replace(_ node: UInt32, _ v: UnsafeBufferPointer<Float>) {
        bias[Int(node)] = write(Int(tierOf[Int(node)]), slot: Int(slotOf[Int(node)]), vector: v)
        if planInFlight { changedDuringPlan.insert(node) }
    }

    /// Forgets every node (the graph is being rebuilt with new node numbers).
    func clear() {
        hot = []
        tierOf = []
        slotOf = []
        rates = []
        bias = []
        slotCount = .init(repeating: 0, count: 5)
        freeSlots = .init(repeating: [], count: 5)
        for e in encoders { e.clearCodes() }
        returns.update(repeating: 0, count: returnsCapacity)
        layoutVersion += 1
    }

    /// Tier and rate of `node`, to carry over a rebuild (``restore(_:vectors:)``).
    func saved(_ node: UInt32) -> (tier: UInt8, rate: Float) { (tierOf[Int(node)], rates[Int(node)]) }

    /// Puts nodes `0..<saved.count` (all just appended hot) back in their saved tiers.
    func restore(_ saved: [(tier: UInt8, rate: Float)], vectors: (UInt32) -> UnsafePointer<Float>) {
        for (node, s) in saved.enumerated() where node < tierOf.count {
            rates[node] = s.rate
            if s.tier != tierOf[node] {
                move(UInt32(node), to: Int(s.tier), vector: UnsafeBufferPointer(start: vectors(UInt32(node)), count: dimension))
            }
        }
        compactSparseTiers()
    }

    private func allocate(_ t: Int) -> Int {
        if let slot = freeSlots[t].popLast() { return Int(slot) }
        slotCount[t] += 1
        return slotCount[t] - 1
    }

    /// Writes `v`'s code (or `given`, already encoded from it) into `slot` of tier `t`; returns
    /// the code's bias (``bias``).
    private func write(_ t: Int, slot: Int, vector v: UnsafeBufferPointer<Float>, code given: [UInt8]? = nil) -> Float {
        if t == 0 { writeHot(slot, v); return 0 }
        let code = given ?? encoders[t - 1].encode(v)
        encoders[t - 1].store(code, at: slot)
        return Self.codeError(metric, encoders[t - 1], code, v)
    }

    /// ‖v − decode(code)‖² for L2, else 0.
    private static func codeError(_ metric: DistanceMetric, _ encoder: _QuantizedStore, _ code: [UInt8],
                                  _ v: UnsafeBufferPointer<Float>) -> Float {
        guard metric == .l2Squared else { return 0 }
        return encoder.decode(code).withUnsafeBufferPointer { r in
            metric.distance(v.baseAddress!, r.baseAddress!, count: v.count)
        }
    }

    private func writeHot(_ slot: Int, _ v: UnsafeBufferPointer<Float>) {
        if slot * dimension == hot.count { hot.append(contentsOf: v); return }
        hot.withUnsafeMutableBufferPointer { h in
            (h.baseAddress! + slot * dimension).update(from: v.baseAddress!, count: dimension)
        }
    }

    /// Moves `node` to tier `t`, encoding `vector` there (or using `code` when given).
    private func move(_ node: UInt32, to t: Int, vector: UnsafeBufferPointer<Float>, code: ArraySlice<UInt8>? = nil) {
        let from = Int(tierOf[Int(node)])
        freeSlots[from].append(slotOf[Int(node)])
        let slot = allocate(t)
        bias[Int(node)] = write(t, slot: slot, vector: vector, code: code.map(Array.init))
        tierOf[Int(node)] = UInt8(t)
        slotOf[Int(node)] = UInt32(slot)
    }

    /// Renumbers the slots of every tier that is more than a quarter free, returning the memory.
    private func compactSparseTiers() {
        for t in 0..<5 where freeSlots[t].count >= 64 && freeSlots[t].count * 4 > slotCount[t] {
            var bySlot: [(slot: UInt32, node: Int)] = []
            for node in 0..<tierOf.count where Int(tierOf[node]) == t { bySlot.append((slotOf[node], node)) }
            bySlot.sort { $0.slot < $1.slot }
            for (new, entry) in bySlot.enumerated() { slotOf[entry.node] = UInt32(new) }
            let kept = bySlot.map { Int($0.slot) }
            if t == 0 {
                var packed = [Float]()
                packed.reserveCapacity(kept.count * dimension)
                hot.withUnsafeBufferPointer { h in
                    for old in kept { packed.append(contentsOf: h[(old * dimension)..<((old + 1) * dimension)]) }
                }
                hot = packed
            } else {
                encoders[t - 1].compactSlots(kept)
            }
            slotCount[t] = kept.count
            freeSlots[t] = []
        }
    }

    // MARK: walk (shared access)

    func prepare(_ q: UnsafePointer<Float>, into prepared: inout _QuantizedQuery) {
        if prepared.tiers.count != 4 { prepared.tiers = .init(repeating: _QuantizedQuery(), count: 4) }
        for t in 1...4 where slotCount[t] > freeSlots[t].count {
            encoders[t - 1].prepare(q, into: &prepared.tiers[t - 1])
        }
    }

    @inline(__always)
    func prefetch(_ node: UInt32, _ prepared: inout _QuantizedQuery) {
        let t = Int(tierOf[Int(node)]), slot = slotOf[Int(node)]
        if t == 0 {
            hot.withUnsafeBufferPointer { CVectorKernels_prefetchBytes($0.baseAddress! + Int(slot) * dimension, dimension * 4) }
        } else {
            encoders[t - 1].prefetch(slot, &prepared.tiers[t - 1])
            // A refined node near the list is measured on its full vector too: start loading it.
            if walk.refineSlack[t] >= 0, let full = prepared.fullVectors {
                CVectorKernels_prefetchBytes(full + Int(node) &* dimension, dimension * 4)
            }
        }
    }

    /// The walk distance from the prepared query (``prepare(_:into:)``) to `node`, in its tier.
    /// Cold and archive codes tell regions apart but not the vectors of one region, so a node
    /// of a refined tier whose code distance, less ``TierWalkSwitches/refineSlack`` times its
    /// code error, could enter the candidate list (``_QuantizedQuery/walkBound``) is measured
    /// on its full vector instead: near nodes are ranked exactly, far ones rejected on the code.
    @inline(__always)
    func distance(_ node: UInt32, _ prepared: inout _QuantizedQuery) -> Float {
        let t = Int(tierOf[Int(node)]), slot = slotOf[Int(node)]
        if t == 0 {
            return hot.withUnsafeBufferPointer { h in
                prepared.query.withUnsafeBufferPointer { q in
                    metric.distance(q.baseAddress!, h.baseAddress! + Int(slot) * dimension, count: dimension)
                }
            }
        }
        if walk.exact[t], let full = prepared.fullVectors { return exactDistance(node, full, &prepared) }
        let slack = walk.refineSlack[t]
        // While the list is not full every node enters it: a refined one skips its code.
        if slack >= 0, prepared.walkBound == .infinity, let full = prepared.fullVectors {
            return exactDistance(node, full, &prepared)
        }
        let error = bias[Int(node)]
        let d = encoders[t - 1].distance(slot, &prepared.tiers[t - 1]) + error * walk.errorWeight[t]
        if slack >= 0, d - slack * error < prepared.walkBound, let full = prepared.fullVectors {
            return exactDistance(node, full, &prepared)
        }
        return d
    }

    /// `node`'s distance on its full vector (in `full`, the graph's vectors).
    @inline(__always)
    private func exactDistance(_ node: UInt32, _ full: UnsafePointer<Float>, _ prepared: inout _QuantizedQuery) -> Float {
        prepared.query.withUnsafeBufferPointer { q in
            metric.distance(q.baseAddress!, full + Int(node) &* dimension, count: dimension)
        }
    }

    /// Counts one search and the nodes it returned; true when a pass has become due.
    func recordSearch(returned nodes: some Sequence<UInt32>) {
        for node in nodes where Int(node) < returnsCapacity { CVectorKernels_incrementRelaxed(returns + Int(node)) }
        let interval = policy.retierIntervalQueries
        if queries.wrappingAdd(1, ordering: .relaxed).newValue == interval && interval > 0 {
            due.store(true, ordering: .relaxed)
        }
    }

    /// Whether the policy's interval has passed since the last pass (and clears it).
    func takeDue() -> Bool { due.exchange(false, ordering: .relaxed) }

    // MARK: re-tiering

    /// A pass's decisions, made in ``beginPlan()`` and ``extendPlan(_:nodes:vectors:)``, applied by ``apply(_:vectors:)``.
    struct Plan {
        fileprivate let owner: ObjectIdentifier
        fileprivate let layoutVersion: Int
        let nodeCount: Int
        fileprivate var rates: [Float]
        fileprivate var moves: [(node: UInt32, from: UInt8, to: UInt8, codeStart: Int)] = []
        fileprivate var codes: [UInt8] = []
    }

    /// Starts a pass over the current nodes: takes the returns counted since the last pass
    /// and folds them into new rates (a pass with no searches only decays). Shared access
    /// (the counters are atomics).
    func beginPlan() -> Plan {
        let q = queries.exchange(0, ordering: .relaxed)
        let perQuery = Float(1_000_000 / Double(max(q, 1)))
        let n = tierOf.count
        var fresh = [Float](repeating: 0, count: n)
        let decay = Float(policy.decay)
        for i in 0..<n {
            fresh[i] = rates[i] * decay + (1 - decay) * Float(CVectorKernels_takeRelaxed(returns + i)) * perQuery
        }
        planInFlight = true
        changedDuringPlan.removeAll()
        return Plan(owner: ObjectIdentifier(self), layoutVersion: layoutVersion, nodeCount: n, rates: fresh)
    }

    /// Decides the tier of `nodes` and encodes those that move from their full vectors. A
    /// node's rate for the decision is at least ``TierPolicy/neighbourShare`` of its busiest
    /// level-0 neighbour's, up to the cool band, so walks into a popular region measure its
    /// surroundings well.
    /// Shared access; false when the plan is void (the nodes were renumbered).
    func extendPlan(_ plan: inout Plan, nodes: Range<Int>, vectors: (UInt32) -> UnsafePointer<Float>,
                    neighbors: (UInt32) -> UnsafeBufferPointer<UInt32>) -> Bool {
        guard plan.owner == ObjectIdentifier(self), plan.layoutVersion == layoutVersion else { return false }
        let share = Float(TierPolicy.neighbourShare), coolBand = Float(policy.hotThreshold * TierPolicy.bandFractions[2])
        for i in nodes {
            var rate = plan.rates[i]
            for n in neighbors(UInt32(i)) where Int(n) < plan.nodeCount {
                rate = max(rate, min(plan.rates[Int(n)] * share, coolBand))
            }
            let target = UInt8(policy.tier(forRate: Double(rate)).rawValue)
            guard target != tierOf[i] else { continue }
            let start = plan.codes.count
            if target != 0 {
                plan.codes += encoders[Int(target) - 1].encode(UnsafeBufferPointer(start: vectors(UInt32(i)), count: dimension))
            }
            plan.moves.append((UInt32(i), tierOf[i], target, start))
        }
        return true
    }

    /// Applies a finished plan; returns how many nodes moved. Exclusive access.
    @discardableResult
    func apply(_ plan: Plan, vectors: (UInt32) -> UnsafePointer<Float>) -> Int {
        defer { planInFlight = false; changedDuringPlan.removeAll() }
        guard plan.owner == ObjectIdentifier(self), plan.layoutVersion == layoutVersion else { return 0 }
        for i in 0..<plan.nodeCount { rates[i] = plan.rates[i] }
        var moved = 0
        for m in plan.moves where tierOf[Int(m.node)] == m.from && !changedDuringPlan.contains(m.node) {
            let t = Int(m.to)
            let bytes = t == 0 ? 0 : encoders[t - 1].codeBytes
            move(m.node, to: t, vector: UnsafeBufferPointer(start: vectors(m.node), count: dimension),
                 code: t == 0 ? nil : plan.codes[m.codeStart..<(m.codeStart + bytes)])
            moved += 1
        }
        compactSparseTiers()
        passes += 1
        return moved
    }

    /// Abandons a plan that will not be applied.
    func cancelPlan() { planInFlight = false; changedDuringPlan.removeAll() }

    /// How many candidates in `node`'s tier it takes to fill one place of a rescoring pool.
    @inline(__always) func rescoringWeight(of node: UInt32) -> Float { walk.rescoringWeight[Int(tierOf[Int(node)])] }

    // MARK: statistics

    func tier(of node: UInt32) -> CompressionTier { CompressionTier(rawValue: Int(tierOf[Int(node)])) ?? .archive }

    /// What `node`'s code decodes to (tests: codes follow updates).
    func reconstruction(of node: UInt32) -> [Float] {
        let t = Int(tierOf[Int(node)]), slot = Int(slotOf[Int(node)])
        if t == 0 { return Array(hot[(slot * dimension)..<((slot + 1) * dimension)]) }
        let e = encoders[t - 1]
        return e.decode(e.codes.bytes(from: slot * e.codeBytes, length: e.codeBytes))
    }

    /// Nodes in each tier (tombstoned ones included: they still route walks).
    var tierCounts: [CompressionTier: Int] {
        var out: [CompressionTier: Int] = [:]
        for t in CompressionTier.allCases { out[t] = slotCount[t.rawValue] - freeSlots[t.rawValue].count }
        return out
    }

    /// Bytes of the codes walks read, every tier.
    var codeBytes: Int { hot.count * 4 + encoders.reduce(0) { $0 + $1.codes.count } }

    /// Everything held: codes, codebooks and per-node bookkeeping.
    var memoryBytes: Int {
        hot.count * 4 + encoders.reduce(0) { $0 + $1.memoryBytes } + tierOf.count * (1 + 4 + 4) + returnsCapacity * 4
    }
}
