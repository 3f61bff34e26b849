internal import CVectorKernels

/// The per-query part of a quantized walk: the query, its PQ distance table or sign bits, and
/// a decode buffer. Each search has its own (in its ``HNSWSearchScratch``), so searches that
/// share one ``_QuantizedStore`` never share these.
struct _QuantizedQuery {
    fileprivate var query: [Float] = []
    fileprivate var decoded: [Float] = []
    fileprivate var table: [Float] = []
    fileprivate var queryBits: [UInt64] = []
    /// Int8 codes: the part of the distance that does not depend on the code.
    fileprivate var constant: Float = 0
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
    private(set) var codes: [UInt8] = []
    // scalarInt8: per-dimension offset and step.
    private var offset: [Float] = []
    private var step: [Float] = []
    // PQ: centroids[s][c * subDim ..< (c+1) * subDim], subspace s covers dims s*subDim..<min(dimension, (s+1)*subDim).
    private var subspaces = 0
    private var subDim = 0
    private var centroidCount = 0
    private var centroids: [[Float]] = []

    init(kind: QuantizationKind, dimension: Int, metric: DistanceMetric,
         sample: [[Float]], seed: UInt64) throws(VectorEngineError) {
        self.kind = kind
        self.dimension = dimension
        self.metric = metric
        codeBytes = kind.codeBytes(dimension: dimension)
        switch kind {
        case .scalarInt8: codeKernel = DistanceKernels.useAVX2 && metric != .manhattan
        case .float16: codeKernel = DistanceKernels.useF16C && metric != .manhattan
        default: codeKernel = false
        }
        switch kind {
        case .scalarInt8:
            var lo = [Float](repeating: .infinity, count: dimension), hi = [Float](repeating: -.infinity, count: dimension)
            for v in sample { for j in 0..<dimension { lo[j] = min(lo[j], v[j]); hi[j] = max(hi[j], v[j]) } }
            if sample.isEmpty { lo = .init(repeating: -1, count: dimension); hi = .init(repeating: 1, count: dimension) }
            offset = lo
            step = (0..<dimension).map { j in max((hi[j] - lo[j]) / 255, 1e-12) }
        case .pq8(let m), .pq4(let m):
            try checkLimit(m >= 1 && m <= dimension, "PQ subspaces \(m) must be in 1...dimension (\(dimension))")
            subspaces = m
            subDim = (dimension + m - 1) / m
            centroidCount = { if case .pq8 = kind { return 256 } else { return 16 } }()
            var rng = SeededGenerator(seed: seed)
            centroids = (0..<m).map { s in
                KMeans.train(sample.map { Self.slice($0, s, subDim) }, k: centroidCount, dimension: subDim,
                             iterations: 8, rng: &rng)
            }
        case .binary:
            // Decoding a sign bit gives +-(mean |x_j|) of the sample, per dimension.
            step = (0..<dimension).map { j in
                sample.isEmpty ? 1 : sample.reduce(0) { $0 + abs($1[j]) } / Float(sample.count)
            }
        case .float16:
            break
        }
    }

    /// An approximate reconstruction of an encoded vector.
    func decode(_ code: [UInt8]) -> [Float] {
        var out = [Float](repeating: 0, count: dimension)
        switch kind {
        case .scalarInt8:
            for j in 0..<dimension { out[j] = offset[j] + Float(code[j]) * step[j] }
        case .float16:
            for j in 0..<dimension {
                out[j] = Float(Float16(bitPattern: UInt16(code[2 * j]) | UInt16(code[2 * j + 1]) << 8))
            }
        case .binary:
            for j in 0..<dimension { out[j] = (code[j / 8] >> UInt8(j % 8)) & 1 == 1 ? step[j] : -step[j] }
        case .pq8, .pq4:
            for s in 0..<subspaces {
                let c: Int
                if case .pq8 = kind { c = Int(code[s]) } else { c = Int((code[s / 2] >> UInt8((s % 2) * 4)) & 0xF) }
                for j in 0..<subDim where s * subDim + j < dimension {
                    out[s * subDim + j] = centroids[s][c * subDim + j]
                }
            }
        }
        return out
    }

    /// Sub-vector `s`, zero-padded to `subDim`.
    static func slice(_ v: [Float], _ s: Int, _ subDim: Int) -> [Float] {
        (0..<subDim).map { j in let i = s * subDim + j; return i < v.count ? v[i] : 0 }
    }

    func clearCodes() { codes.removeAll(keepingCapacity: true) }

    func append(_ v: [Float]) { codes.append(contentsOf: encode(v)) }

    func replace(_ node: UInt32, _ v: [Float]) {
        let c = encode(v)
        for i in 0..<codeBytes { codes[Int(node) * codeBytes + i] = c[i] }
    }

    func encode(_ v: [Float]) -> [UInt8] {
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
        case .binary:
            for j in 0..<dimension where v[j] > 0 { out[j / 8] |= 1 << UInt8(j % 8) }
        case .pq8, .pq4:
            for s in 0..<subspaces {
                let sub = Self.slice(v, s, subDim)
                let c = KMeans.nearest(sub, centroids[s], dimension: subDim)
                if case .pq8 = kind { out[s] = UInt8(c) } else { out[s / 2] |= UInt8(c) << UInt8((s % 2) * 4) }
            }
        }
        return out
    }

    /// Readies `prepared` for distances from `q`: the query, PQ distance table, query sign bits.
    /// Reuses its buffers, so a warmed `prepared` allocates nothing here except PQ's sub-vectors.
    func prepare(_ q: UnsafePointer<Float>, into prepared: inout _QuantizedQuery) {
        prepared.query.removeAll(keepingCapacity: true)
        prepared.query.append(contentsOf: UnsafeBufferPointer(start: q, count: dimension))
        if prepared.decoded.count != dimension { prepared.decoded = [Float](repeating: 0, count: dimension) }
        switch kind {
        case .pq8, .pq4:
            if prepared.table.count != subspaces * centroidCount {
                prepared.table = [Float](repeating: 0, count: subspaces * centroidCount)
            }
            for s in 0..<subspaces {
                let sub = Self.slice(prepared.query, s, subDim)
                sub.withUnsafeBufferPointer { sp in
                    centroids[s].withUnsafeBufferPointer { cp in
                        for c in 0..<centroidCount {
                            prepared.table[s * centroidCount + c] = partialDistance(sp.baseAddress!, cp.baseAddress! + c * subDim, subDim)
                        }
                    }
                }
            }
        case .binary:
            let words = codeBytes / 8
            prepared.queryBits.removeAll(keepingCapacity: true)
            prepared.queryBits.append(contentsOf: repeatElement(0, count: words))
            for j in 0..<dimension where prepared.query[j] > 0 { prepared.queryBits[j / 64] |= 1 << UInt64(j % 64) }
        case .scalarInt8 where codeKernel:
            // l2: q - offset, so |q - (offset + step c)|^2 = |(q - offset) - step c|^2.
            // cosine/dot: q.(offset + step c) = q.offset + (q * step).c.
            prepared.table.removeAll(keepingCapacity: true)
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

    /// The additive part of the metric on a sub-vector (cosine/dot: negated inner product).
    private func partialDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        switch metric {
        case .l2Squared: return DistanceKernels.l2Squared(a, b, n)
        case .manhattan: return DistanceKernels.manhattan(a, b, n)
        case .cosine, .dot: return -DistanceKernels.dot(a, b, n)
        }
    }

    /// Starts loading `node`'s code into the cache (the walk does so for every new neighbour
    /// before measuring any of them, so the misses overlap).
    @inline(__always)
    func prefetch(_ node: UInt32) {
        codes.withUnsafeBytes { CVectorKernels_prefetchBytes($0.baseAddress! + Int(node) * codeBytes, codeBytes) }
    }

    /// Approximate distance from the query `prepared` for (by ``prepare(_:into:)``) to `node`'s code.
    func distance(_ node: UInt32, _ prepared: inout _QuantizedQuery) -> Float {
        let base = Int(node) * codeBytes
        switch kind {
        case .scalarInt8 where codeKernel:
            return codes.withUnsafeBufferPointer { cp in
                prepared.table.withUnsafeBufferPointer { tp in
                    let code = cp.baseAddress! + base, q = tp.baseAddress!
                    if metric == .l2Squared {
                        return step.withUnsafeBufferPointer { CVectorKernels_l2SquaredU8AVX2(q, $0.baseAddress!, code, dimension) }
                    }
                    return metric.fromInnerProduct(prepared.constant + CVectorKernels_dotU8AVX2(q, code, dimension))
                }
            }
        case .float16 where codeKernel:
            return codes.withUnsafeBufferPointer { cp in
                prepared.query.withUnsafeBufferPointer { qp in
                    let code = cp.baseAddress! + base, q = qp.baseAddress!
                    if metric == .l2Squared { return CVectorKernels_l2SquaredF16AVX2(q, code, dimension) }
                    return metric.fromInnerProduct(CVectorKernels_dotF16AVX2(q, code, dimension))
                }
            }
        case .scalarInt8:
            for j in 0..<dimension { prepared.decoded[j] = offset[j] + Float(codes[base + j]) * step[j] }
            return fullDistance(prepared)
        case .float16:
            for j in 0..<dimension {
                prepared.decoded[j] = Float(Float16(bitPattern: UInt16(codes[base + 2 * j]) | UInt16(codes[base + 2 * j + 1]) << 8))
            }
            return fullDistance(prepared)
        case .binary:
            var h = 0
            for w in 0..<prepared.queryBits.count {
                var word: UInt64 = 0
                for b in 0..<8 { word |= UInt64(codes[base + w * 8 + b]) << UInt64(b * 8) }
                h += (word ^ prepared.queryBits[w]).nonzeroBitCount
            }
            return Float(h)
        case .pq8:
            var sum: Float = 0
            for s in 0..<subspaces { sum += prepared.table[s * 256 + Int(codes[base + s])] }
            return sum
        case .pq4:
            var sum: Float = 0
            for s in 0..<subspaces { sum += prepared.table[s * 16 + Int((codes[base + s / 2] >> UInt8((s % 2) * 4)) & 0xF)] }
            return sum
        }
    }

    private func fullDistance(_ prepared: _QuantizedQuery) -> Float {
        prepared.query.withUnsafeBufferPointer { qp in
            prepared.decoded.withUnsafeBufferPointer { dp in metric.distance(qp.baseAddress!, dp.baseAddress!, count: dimension) }
        }
    }

    /// Bytes held by codes and codebooks.
    var memoryBytes: Int { codes.count + centroids.reduce(0) { $0 + $1.count * 4 } + (offset.count + step.count) * 4 }
}
