internal import CVectorKernels

/// The per-query part of a quantized walk: the query, its PQ distance table or sign bits, and
/// a decode buffer. Each search has its own (in its ``HNSWSearchScratch``), so searches that
/// share one ``_QuantizedStore`` never share these.
struct _QuantizedQuery {
    var query: [Float] = []
    fileprivate var decoded: [Float] = []
    fileprivate var table: [Float] = []
    fileprivate var queryBits: [UInt64] = []
    /// PQ: the query zero-padded to whole sub-vectors.
    fileprivate var padded: [Float] = []
    /// Int8 codes: the part of the distance that does not depend on the code.
    fileprivate var constant: Float = 0
    /// Int4 codes: the query times each dimension's step, the query's product with the offsets,
    /// and each centroid's term once the walk has met it (NaN before).
    var int4Weights: [Float] = []
    var int4Constant: Float = 0
    var int4CentroidTerms: [Float] = []
    /// Tiered: the prepared query of each compressed tier (warm, cool, cold, archive).
    var tiers: [_QuantizedQuery] = []
    /// Int8 codes: the store's per-dimension steps, copied so a distance reads only this query.
    fileprivate var steps: [Float] = []
    /// Where the store's codes start, taken when the query is prepared: the codes do not move
    /// while a walk runs (they change only with exclusive access).
    fileprivate var codeBase: UnsafePointer<UInt8>? = nil
    /// Tiered: where the graph's full vectors start (`dimension` floats a node), for tiers a
    /// walk measures exactly; set by the graph for each search.
    var fullVectors: UnsafePointer<Float>? = nil
    /// Tiered: the walk distance a node must beat to enter the candidate list (`-infinity`
    /// outside ``HNSWGraph/searchLayer``): coarse nodes that may beat it are measured exactly.
    var walkBound: Float = -.infinity
}

/// Trained quantizer plus the codes of every node (flat, `codeBytes` per node). Owned by one
/// ``HNSWGraph``: changed with the index's exclusive access, read by many searches at once
/// (the per-query state is a ``_QuantizedQuery`` each search brings).
final class _QuantizedStore {
    let kind: QuantizationKind
    let dimension: Int
    let metric: DistanceMetric
    let codeBytes: Int
    /// Whether walk distances run on the codes with an AVX2 kernel (int8 and float16, not
    /// for Manhattan, when the CPU has the instructions) instead of decoding each code first.
    private let codeKernel: Bool
    /// Sign bits measured on the metric's own scale (the tiered store's archive tier: every
    /// tier's distances then compare), instead of by Hamming distance; one byte per 8 dimensions.
    let scaledBinary: Bool
    /// The per-node tiers, for `.tiered`.
    let tiers: _TieredCodes?
    /// The centroids and residual scales, for `.scalarInt4`.
    let int4: _Int4Codes?
    let codes = _UnsafeCodeBuffer()
    // scalarInt8: per-dimension offset and step.
    private var offset: [Float] = []
    private var step: [Float] = []
    // PQ: centroids[s][c * subDim ..< (c+1) * subDim], subspace s covers dims s*subDim..<min(dimension, (s+1)*subDim).
    private var subspaces = 0
    private var subDim = 0
    private var centroidCount = 0
    private var centroids: [[Float]] = []
    /// The same centroids by component: `byComponent[s][j * centroidCount + c]`, so a query's
    /// distance table fills one contiguous, vectorisable row of centroids at a time. Both are
    /// set by ``setCentroids(_:)``, whether trained or imported.
    private var byComponent: [[Float]] = []

    private func setCentroids(_ trained: [[Float]]) {
        centroids = trained
        byComponent = trained.map { c in
            (0..<(subDim * centroidCount)).map { i in c[(i % centroidCount) * subDim + i / centroidCount] }
        }
    }

    /// The parts every store sets up alike, trained or restored.
    private init(kind: QuantizationKind, dimension: Int, metric: DistanceMetric, scaledBinary: Bool,
                 tiers: _TieredCodes?, int4: _Int4Codes? = nil) {
        self.kind = kind
        self.dimension = dimension
        self.metric = metric
        self.scaledBinary = scaledBinary
        self.tiers = tiers
        self.int4 = int4
        codeBytes = scaledBinary ? TierPolicy.archiveCodeBytes(dimension: dimension) : kind.codeBytes(dimension: dimension)
        switch kind {
        case .scalarInt8, .scalarInt4: codeKernel = DistanceKernels.useAVX2 && metric != .manhattan
        case .float16: codeKernel = DistanceKernels.useF16C && metric != .manhattan
        default: codeKernel = false
        }
        if case .pq8(let m) = kind { (subspaces, centroidCount) = (m, 256) }
        if case .pq4(let m) = kind { (subspaces, centroidCount) = (m, 16) }
        if subspaces > 0 { subDim = (dimension + subspaces - 1) / subspaces }
    }

    /// Trains `kind` on `sample` (no codes yet).
    convenience init(kind: QuantizationKind, dimension: Int, metric: DistanceMetric,
                     sample: [[Float]], seed: UInt64, scaledBinary: Bool = false) throws(VectorEngineError) {
        try Self.checkSubspaces(kind, dimension: dimension)
        var tiers: _TieredCodes? = nil
        if case .tiered(let policy) = kind {
            tiers = try _TieredCodes(policy: policy, dimension: dimension, metric: metric, sample: sample, seed: seed)
        }
        var int4: _Int4Codes? = nil
        if case .scalarInt4 = kind { int4 = _Int4Codes(dimension: dimension, metric: metric, sample: sample, seed: seed) }
        self.init(kind: kind, dimension: dimension, metric: metric, scaledBinary: scaledBinary, tiers: tiers, int4: int4)
        switch kind {
        case .scalarInt8:
            var lo = [Float](repeating: .infinity, count: dimension), hi = [Float](repeating: -.infinity, count: dimension)
            for v in sample { for j in 0..<dimension { lo[j] = min(lo[j], v[j]); hi[j] = max(hi[j], v[j]) } }
            if sample.isEmpty { lo = .init(repeating: -1, count: dimension); hi = .init(repeating: 1, count: dimension) }
            offset = lo
            step = (0..<dimension).map { j in max((hi[j] - lo[j]) / 255, 1e-12) }
        case .pq8, .pq4:
            var rng = SeededGenerator(seed: seed)
            setCentroids((0..<subspaces).map { s in
                KMeans.train(sample.map { Self.slice($0, s, subDim) }, k: centroidCount, dimension: subDim,
                             iterations: 8, rng: &rng)
            })
        case .binary:
            // Decoding a sign bit gives +-(mean |x_j|) of the sample, per dimension.
            step = (0..<dimension).map { j in
                sample.isEmpty ? 1 : sample.reduce(0) { $0 + abs($1[j]) } / Float(sample.count)
            }
        case .float16, .tiered, .scalarInt4:
            break
        }
    }

    /// An approximate reconstruction of an encoded vector.
    func decode(_ code: [UInt8]) -> [Float] {
        var out = [Float](repeating: 0, count: dimension)
        code.withUnsafeBufferPointer { c in
            guard let base = c.baseAddress else { return }      // no code (a tiered store's own): zeros
            out.withUnsafeMutableBufferPointer { decode(base, into: $0) }
        }
        return out
    }

    /// Writes what `code` (``codeBytes`` bytes) decodes to into `out` (``dimension`` floats).
    func decode(_ code: UnsafePointer<UInt8>, into out: UnsafeMutableBufferPointer<Float>) {
        switch kind {
        case .scalarInt8:
            for j in 0..<dimension { out[j] = offset[j] + Float(code[j]) * step[j] }
        case .scalarInt4:
            int4.unsafelyUnwrapped.decode(code, into: out)
        case .float16:
            for j in 0..<dimension {
                out[j] = Float(Float16(bitPattern: UInt16(code[2 * j]) | UInt16(code[2 * j + 1]) << 8))
            }
        case .binary:
            for j in 0..<dimension { out[j] = (code[j / 8] >> UInt8(j % 8)) & 1 == 1 ? step[j] : -step[j] }
        case .tiered:
            break
        case .pq8, .pq4:
            for s in 0..<subspaces {
                let c: Int
                if case .pq8 = kind { c = Int(code[s]) } else { c = Int((code[s / 2] >> UInt8((s % 2) * 4)) & 0xF) }
                for j in 0..<subDim where s * subDim + j < dimension {
                    out[s * subDim + j] = centroids[s][c * subDim + j]
                }
            }
        }
    }

    /// Sub-vector `s`, zero-padded to `subDim`.
    static func slice(_ v: [Float], _ s: Int, _ subDim: Int) -> [Float] {
        (0..<subDim).map { j in let i = s * subDim + j; return i < v.count ? v[i] : 0 }
    }

    private static func checkSubspaces(_ kind: QuantizationKind, dimension: Int) throws(VectorEngineError) {
        switch kind {
        case .pq8(let m), .pq4(let m): try checkLimit(m >= 1 && m <= dimension, "PQ subspaces \(m) must be in 1...dimension (\(dimension))")
        default: break
        }
    }

    func clearCodes() {
        codes.truncate(to: 0)
        tiers?.clear()
    }

    /// Encodes a new node's vector (a tiered store puts it in `tier`).
    func append(_ v: [Float], tier: CompressionTier = .hot) {
        if let tiers { v.withUnsafeBufferPointer { tiers.append($0, tier: tier) }; return }
        codes.append(contentsOf: encode(v))
    }

    /// Re-encodes `node` from its new vector (in its current tier, for a tiered store).
    func replace(_ node: UInt32, _ v: [Float]) {
        if let tiers { v.withUnsafeBufferPointer { tiers.replace(node, $0) }; return }
        store(encode(v), at: Int(node))
    }

    /// Writes `code` (``codeBytes`` long) into slot `slot`, one past the last to append.
    func store(_ code: [UInt8], at slot: Int) {
        if slot * codeBytes == codes.count { codes.append(contentsOf: code); return }
        codes.replace(at: slot * codeBytes, with: code)
    }

    /// Keeps only the slots in `kept` (ascending), renumbered 0, 1, 2...
    func compactSlots(_ kept: [Int]) {
        for (new, old) in kept.enumerated() where new != old {
            codes.move(from: old * codeBytes, to: new * codeBytes, length: codeBytes)
        }
        codes.truncate(to: kept.count * codeBytes)
    }

    /// Makes node `order[i]`'s code (and tier and rate, for a tiered store) node `i`'s, for a
    /// graph renumbered in `order` (a permutation of the nodes) whose vectors `vectors` gives
    /// by their new ids. Plain codes are moved in place (``InPlacePermutation``), not encoded
    /// again; tier codes are encoded again in their tiers, as a compaction does (returns counted
    /// since the last pass are dropped, as a compaction drops them).
    func renumber(_ order: [UInt32], vectors: (UInt32) -> UnsafePointer<Float>) {
        if let tiers {
            let saved = order.map { tiers.saved($0) }
            clearCodes()
            for node in order.indices {
                tiers.append(UnsafeBufferPointer(start: vectors(UInt32(node)), count: dimension))
            }
            tiers.restore(saved, vectors: vectors)
            return
        }
        precondition(codes.count == order.count * codeBytes)
        InPlacePermutation.apply(order, rows: UnsafeMutableRawPointer(codes.base), rowBytes: codeBytes)
    }

    /// A new store with the same quantizer and node `order[i]`'s code as node `i`'s, leaving
    /// this one as it is (searches may read it meanwhile). Nil for a tiered store: its tiers
    /// move in background passes, and ``renumber(_:vectors:)`` changes it in place instead.
    func renumberedCopy(_ order: [UInt32]) -> _QuantizedStore? {
        guard tiers == nil else { return nil }
        let copy = _QuantizedStore(kind: kind, dimension: dimension, metric: metric, scaledBinary: scaledBinary,
                                   tiers: nil, int4: int4)
        (copy.offset, copy.step) = (offset, step)
        (copy.centroids, copy.byComponent) = (centroids, byComponent)
        copy.codes.replaceAll(with: renumberedCodes(order))
        return copy
    }

    /// The codes with node `order[i]`'s in slot `i`.
    private func renumberedCodes(_ order: [UInt32]) -> [UInt8] {
        precondition(tiers == nil && codes.count == order.count * codeBytes)
        var renumbered = [UInt8](repeating: 0, count: codes.count)
        renumbered.withUnsafeMutableBufferPointer { out in
            guard let target = out.baseAddress else { return }
            for (new, old) in order.enumerated() {
                (target + new * codeBytes).update(from: codes.base + Int(old) * codeBytes, count: codeBytes)
            }
        }
        return renumbered
    }

    func encode(_ v: [Float]) -> [UInt8] {
        v.withUnsafeBufferPointer { encode($0) }
    }

    func encode(_ v: UnsafeBufferPointer<Float>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: codeBytes)
        switch kind {
        case .scalarInt8:
            for j in 0..<dimension {
                let q = ((v[j] - offset[j]) / step[j]).rounded()
                out[j] = UInt8(max(0, min(255, q)))
            }
        case .float16:
            for j in 0..<dimension {
                let bits = Float16(v[j]).bitPattern
                out[2 * j] = UInt8(bits & 0xFF); out[2 * j + 1] = UInt8(bits >> 8)
            }
        case .scalarInt4:
            out.withUnsafeMutableBufferPointer { int4.unsafelyUnwrapped.encode(v, into: $0) }
        case .binary:
            for j in 0..<dimension where v[j] > 0 { out[j / 8] |= 1 << UInt8(j % 8) }
        case .pq8, .pq4:
            var padded = [Float](repeating: 0, count: subspaces * subDim)
            for j in 0..<dimension { padded[j] = v[j] }
            padded.withUnsafeBufferPointer { pp in
                for s in 0..<subspaces {
                    let c = centroids[s].withUnsafeBufferPointer {
                        KMeans.nearest(pp.baseAddress! + s * subDim, $0, dimension: subDim)
                    }
                    if case .pq8 = kind { out[s] = UInt8(c) } else { out[s / 2] |= UInt8(c) << UInt8((s % 2) * 4) }
                }
            }
        case .tiered:
            break
        }
        return out
    }

    /// Readies `prepared` for distances from `q`: the query, PQ distance table, query sign bits.
    /// Reuses its buffers, so a warmed `prepared` allocates nothing here except PQ's sub-vectors.
    func prepare(_ q: UnsafePointer<Float>, into prepared: inout _QuantizedQuery) {
        prepared.query.removeAll(keepingCapacity: true)
        prepared.query.append(contentsOf: UnsafeBufferPointer(start: q, count: dimension))
        prepared.codeBase = UnsafePointer(codes.base)
        if prepared.decoded.count != dimension { prepared.decoded = [Float](repeating: 0, count: dimension) }
        switch kind {
        case .tiered:
            tiers?.prepare(q, into: &prepared)
        case .pq8, .pq4:
            if prepared.table.count != subspaces * centroidCount {
                prepared.table = [Float](repeating: 0, count: subspaces * centroidCount)
            }
            if prepared.padded.count != subspaces * subDim { prepared.padded = [Float](repeating: 0, count: subspaces * subDim) }
            for j in 0..<dimension { prepared.padded[j] = prepared.query[j] }
            prepared.padded.withUnsafeBufferPointer { pp in
                prepared.table.withUnsafeMutableBufferPointer { tp in
                    fillTable(query: pp.baseAddress!, into: tp.baseAddress!)
                }
            }
        case .binary where scaledBinary:
            prepareScaledBinary(&prepared)
        case .binary:
            let words = codeBytes / 8
            prepared.queryBits.removeAll(keepingCapacity: true)
            prepared.queryBits.append(contentsOf: repeatElement(0, count: words))
            for j in 0..<dimension where prepared.query[j] > 0 { prepared.queryBits[j / 64] |= 1 << UInt64(j % 64) }
        case .scalarInt4 where metric != .manhattan:
            int4.unsafelyUnwrapped.prepare(&prepared)
        case .scalarInt8 where codeKernel:
            // l2: q - offset, so |q - (offset + step c)|^2 = |(q - offset) - step c|^2.
            // cosine/dot: q.(offset + step c) = q.offset + (q * step).c.
            prepared.table.removeAll(keepingCapacity: true)
            prepared.steps.removeAll(keepingCapacity: true)
            prepared.steps.append(contentsOf: step)
            prepared.constant = 0
            for j in 0..<dimension {
                if metric == .l2Squared {
                    prepared.table.append(prepared.query[j] - offset[j])
                } else {
                    prepared.table.append(prepared.query[j] * step[j])
                    prepared.constant += prepared.query[j] * offset[j]
                }
            }
        default: break
        }
    }

    /// Readies `prepared` for distances from what node `node`'s own code decodes to (linking on
    /// codes: ``HNSWGraph/linkCodes``), decoding into `buffer` (reused).
    func prepare(node: UInt32, into prepared: inout _QuantizedQuery, buffer: inout [Float]) {
        if buffer.count != dimension { buffer = [Float](repeating: 0, count: dimension) }
        buffer.withUnsafeMutableBufferPointer { decode(codes.base + Int(node) * codeBytes, into: $0) }
        buffer.withUnsafeBufferPointer { prepare($0.baseAddress!, into: &prepared) }
    }

    /// The PQ distance table: for every sub-vector and centroid, the partial distance from the
    /// (padded) query, filled one component at a time across all centroids.
    private func fillTable(query: UnsafePointer<Float>, into table: UnsafeMutablePointer<Float>) {
        let count = centroidCount
        table.update(repeating: 0, count: subspaces * count)
        for s in 0..<subspaces {
            byComponent[s].withUnsafeBufferPointer { columns in
                let row = table + s * count
                for j in 0..<subDim {
                    let q = query[s * subDim + j], column = columns.baseAddress! + j * count
                    switch metric {
                    case .l2Squared: for c in 0..<count { let d = q - column[c]; row[c] += d * d }
                    case .manhattan: for c in 0..<count { row[c] += abs(q - column[c]) }
                    case .cosine, .dot: for c in 0..<count { row[c] -= q * column[c] }
                    }
                }
            }
        }
    }

    /// Scaled sign bits: a table of every byte value's partial distance for each group of 8
    /// dimensions (component `j` decodes to `+step[j]` when its bit is set, else `-step[j]`).
    private func prepareScaledBinary(_ prepared: inout _QuantizedQuery) {
        if prepared.table.count != codeBytes * 256 { prepared.table = [Float](repeating: 0, count: codeBytes * 256) }
        prepared.table.withUnsafeMutableBufferPointer { table in
            for g in 0..<codeBytes {
                let t = table.baseAddress! + g * 256
                var base: Float = 0
                var delta: (Float, Float, Float, Float, Float, Float, Float, Float) = (0, 0, 0, 0, 0, 0, 0, 0)
                withUnsafeMutableBytes(of: &delta) { raw in
                    let d = raw.bindMemory(to: Float.self)
                    for b in 0..<8 where g * 8 + b < dimension {
                        let j = g * 8 + b
                        let set = partial(prepared.query[j], step[j]), unset = partial(prepared.query[j], -step[j])
                        base += unset
                        d[b] = set - unset
                    }
                    t[0] = base
                    for v in 1..<256 { t[v] = t[v & (v - 1)] + d[v.trailingZeroBitCount] }
                }
            }
        }
    }

    /// The additive part of the metric on one component (cosine/dot: the negated product);
    /// ``fromPartialSum(_:)`` turns a sum of them into the metric's distance. (PQ tables fill
    /// the same terms a component at a time across all centroids, in ``fillTable(query:into:)``.)
    private func partial(_ q: Float, _ c: Float) -> Float {
        switch metric {
        case .l2Squared: let d = q - c; return d * d
        case .manhattan: return abs(q - c)
        case .cosine, .dot: return -q * c
        }
    }

    /// The metric's distance from a sum of partial distances (1 + sum for cosine, where the
    /// sum is the negated inner product), so PQ and scaled-binary distances compare with exact ones.
    @inline(__always)
    private func fromPartialSum(_ sum: Float) -> Float { metric == .cosine ? 1 + sum : sum }

    /// Starts loading `node`'s code into the cache (the walk does so for every new neighbour
    /// before measuring any of them, so the misses overlap).
    @inline(__always)
    func prefetch(_ node: UInt32, _ prepared: inout _QuantizedQuery) {
        if let tiers { tiers.prefetch(node, &prepared); return }
        CVectorKernels_prefetchBytes(prepared.codeBase.unsafelyUnwrapped + Int(node) * codeBytes, codeBytes)
    }

    /// Approximate distance from the query `prepared` for (by ``prepare(_:into:)``) to `node`'s code.
    /// Reads only `prepared` and constants of the store (no array of the store), so the walk's
    /// hottest call takes no reference count and no exclusivity check.
    func distance(_ node: UInt32, _ prepared: inout _QuantizedQuery) -> Float {
        if let tiers { return tiers.distance(node, &prepared) }
        let code = prepared.codeBase.unsafelyUnwrapped + Int(node) * codeBytes
        switch kind {
        case .tiered:
            preconditionFailure("a tiered store has tiers")
        case .scalarInt8 where codeKernel:
            return prepared.table.withUnsafeBufferPointer { tp in
                let q = tp.baseAddress!
                if metric == .l2Squared {
                    return prepared.steps.withUnsafeBufferPointer { CVectorKernels_l2SquaredU8AVX2(q, $0.baseAddress!, code, dimension) }
                }
                return metric.fromInnerProduct(prepared.constant + CVectorKernels_dotU8AVX2(q, code, dimension))
            }
        case .float16 where codeKernel:
            return prepared.query.withUnsafeBufferPointer { qp in
                let q = qp.baseAddress!
                if metric == .l2Squared { return CVectorKernels_l2SquaredF16AVX2(q, code, dimension) }
                return metric.fromInnerProduct(CVectorKernels_dotF16AVX2(q, code, dimension))
            }
        case .scalarInt4 where metric != .manhattan:
            return int4.unsafelyUnwrapped.distance(code, &prepared, useKernel: codeKernel)
        case .scalarInt4:
            prepared.decoded.withUnsafeMutableBufferPointer { int4.unsafelyUnwrapped.decode(code, into: $0) }
            return fullDistance(prepared)
        case .scalarInt8:
            for j in 0..<dimension { prepared.decoded[j] = offset[j] + Float(code[j]) * step[j] }
            return fullDistance(prepared)
        case .float16:
            for j in 0..<dimension {
                prepared.decoded[j] = Float(Float16(bitPattern: UInt16(code[2 * j]) | UInt16(code[2 * j + 1]) << 8))
            }
            return fullDistance(prepared)
        case .binary where scaledBinary:
            return prepared.table.withUnsafeBufferPointer { tp in
                var sum: Float = 0
                for g in 0..<codeBytes { sum += tp[g &* 256 &+ Int(code[g])] }
                return fromPartialSum(sum)
            }
        case .binary:
            var h = 0
            for w in 0..<prepared.queryBits.count {
                var word: UInt64 = 0
                for b in 0..<8 { word |= UInt64(code[w * 8 + b]) << UInt64(b * 8) }
                h += (word ^ prepared.queryBits[w]).nonzeroBitCount
            }
            return Float(h)
        case .pq8:
            return prepared.table.withUnsafeBufferPointer { tp in
                var sum: Float = 0
                for s in 0..<subspaces { sum += tp[s &* 256 &+ Int(code[s])] }
                return fromPartialSum(sum)
            }
        case .pq4:
            return prepared.table.withUnsafeBufferPointer { tp in
                var sum: Float = 0
                for s in 0..<subspaces { sum += tp[s &* 16 &+ Int((code[s >> 1] >> UInt8((s & 1) * 4)) & 0xF)] }
                return fromPartialSum(sum)
            }
        }
    }

    private func fullDistance(_ prepared: _QuantizedQuery) -> Float {
        prepared.query.withUnsafeBufferPointer { qp in
            prepared.decoded.withUnsafeBufferPointer { dp in metric.distance(qp.baseAddress!, dp.baseAddress!, count: dimension) }
        }
    }

    // MARK: snapshots

    /// The trained parameters and codes, as values (exclusive access). With `borrowingCodes`, the
    /// codes are not copied: ``QuantizerState/borrowedCodes`` points into this store's buffer and
    /// stays valid only until the next write (the caller keeps writes out meanwhile).
    func exportState(borrowingCodes: Bool = false) -> QuantizerState {
        QuantizerState(kind: kind, offsets: int4?.offsets ?? offset, steps: int4?.steps ?? step,
                       centroids: int4?.centroids ?? Array(centroids.joined()),
                       codes: borrowingCodes ? [] : codes.array,
                       borrowedCodes: borrowingCodes ? BorrowedBuffer(base: codes.base, count: codes.count, capacity: codes.count,
                                                                      owner: codes, isAdoptable: false) : nil,
                       tiers: tiers?.exportState(borrowingCodes: borrowingCodes))
    }

    /// A store with the parameters and codes of an exported one, for an index of `nodeCount`
    /// nodes whose vectors are at `vectors` (a tier encoder's codes, `nodeCount` nil, may have
    /// any number of slots). Checks every length and value first: `.invalidArgument` when
    /// something does not fit.
    convenience init(restoring s: QuantizerState, dimension: Int, metric: DistanceMetric, nodeCount: Int?,
                     scaledBinary: Bool = false, vectors: (UInt32) -> UnsafePointer<Float>) throws(VectorEngineError) {
        do { try Self.checkSubspaces(s.kind, dimension: dimension) } catch { throw inconsistentQuantizer(error.message) }
        var tiers: _TieredCodes? = nil
        if case .tiered(let policy) = s.kind {
            guard let t = s.tiers, let nodeCount else { throw inconsistentQuantizer("tiered without tiers") }
            tiers = try _TieredCodes(restoring: t, policy: policy, dimension: dimension, metric: metric,
                                     nodeCount: nodeCount, vectors: vectors)
        } else if s.tiers != nil {
            throw inconsistentQuantizer("tiers for a quantization that has none")
        }
        var int4: _Int4Codes? = nil
        if case .scalarInt4 = s.kind { int4 = try _Int4Codes(restoring: s, dimension: dimension, metric: metric) }
        self.init(kind: s.kind, dimension: dimension, metric: metric, scaledBinary: scaledBinary, tiers: tiers, int4: int4)
        func require(_ ok: Bool, _ why: @autoclosure () -> String) throws(VectorEngineError) {
            if !ok { throw inconsistentQuantizer("\(s.kind): \(why())") }
        }
        // Only the arrays the kind uses may be non-empty, each exactly as long as it needs.
        let uses: (offsets: Int, steps: Int, centroids: Int)
        switch s.kind {
        case .scalarInt8: uses = (dimension, dimension, 0)
        case .scalarInt4: uses = (dimension, dimension, s.centroids.count)      // centroids counted by _Int4Codes
        case .binary: uses = (0, dimension, 0)
        case .pq8, .pq4: uses = (0, 0, subspaces * centroidCount * subDim)
        case .float16, .tiered: uses = (0, 0, 0)
        }
        try require(s.offsets.count == uses.offsets && s.steps.count == uses.steps && s.centroids.count == uses.centroids,
                     "\(s.offsets.count) offsets, \(s.steps.count) steps, \(s.centroids.count) centroid values")
        // Values training can give: finite offsets, positive int8 steps, sign magnitudes not negative.
        try require(s.offsets.allSatisfy(\.isFinite), "an offset is not finite")
        let positiveSteps = switch s.kind { case .scalarInt8, .scalarInt4: true; default: false }
        try require(s.steps.allSatisfy { positiveSteps ? $0 > 0 : $0 >= 0 }, "a step is negative or NaN")
        try require(!s.centroids.contains(where: \.isNaN), "a centroid is NaN")
        let codeCount = s.codeByteCount
        if tiers != nil {
            try require(codeCount == 0, "codes outside the tiers")
        } else if let nodeCount {
            try require(codeCount == nodeCount * codeBytes, "\(codeCount) code bytes for \(nodeCount) nodes")
        } else {
            try require(codeCount % codeBytes == 0, "\(codeCount) code bytes, not whole codes")
        }
        try require(s.withCodes(codesAreEncodable), "a code no vector encodes to")
        if int4 == nil { (offset, step) = (s.offsets, s.steps) }       // int4 keeps its own
        let perSubspace = centroidCount * subDim
        setCentroids((0..<subspaces).map { Array(s.centroids[($0 * perSubspace)..<(($0 + 1) * perSubspace)]) })
        s.withCodes { codes.replaceAll(with: $0) }
    }

    /// False when `codes` hold a value ``encode(_:)-([Float])`` never writes: a NaN half, a set
    /// bit past the last dimension (which Hamming distances would count).
    private func codesAreEncodable(_ codes: UnsafeBufferPointer<UInt8>) -> Bool {
        switch kind {
        case .float16:
            for j in stride(from: 0, to: codes.count, by: 2) {
                let bits = UInt16(codes[j]) | UInt16(codes[j + 1]) << 8
                if bits & 0x7C00 == 0x7C00 && bits & 0x03FF != 0 { return false }
            }
        case .binary:
            for code in stride(from: 0, to: codes.count, by: codeBytes) {
                for j in dimension..<(codeBytes * 8) where (codes[code + j / 8] >> UInt8(j % 8)) & 1 != 0 { return false }
            }
        case .scalarInt4:
            return int4.unsafelyUnwrapped.codesAreEncodable(codes, codeBytes: codeBytes)
        case .pq4(let m) where m % 2 == 1:
            for code in stride(from: 0, to: codes.count, by: codeBytes) where codes[code + codeBytes - 1] >> 4 != 0 { return false }
        default: break
        }
        return true
    }

    /// Bytes held by codes and codebooks.
    var memoryBytes: Int {
        codes.count + centroids.reduce(0) { $0 + $1.count * 4 } * 2 + (offset.count + step.count) * 4 + (tiers?.memoryBytes ?? 0)
            + (int4?.memoryBytes ?? 0)
    }
}
