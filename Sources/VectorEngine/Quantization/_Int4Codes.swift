internal import CVectorKernels

/// The trained part of `.scalarInt4` codes and the arithmetic on them: up to 256 k-means
/// centroids, and per dimension the offset and step of the residuals (a vector minus its
/// centroid), scaled to 16 levels.
///
/// A code is ``headerBytes`` + ⌈dimension / 2⌉ bytes: the centroid's
/// number, a little-endian `Float` correction, then the residual levels, two a byte, low
/// nibble first (an odd dimension leaves the last high nibble 0). A code decodes to
/// `x̂ = c + o + s ⊙ n` (centroid, offsets, steps, levels). Distances need no decoding:
/// - inner products: `q·x̂ = q·c + q·o + Σ (q_j s_j) n_j`;
/// - squared L2: `|q − x̂|² = |q − c|² − 2 q·r̂ + (2 c·r̂ + |r̂|²)` with `r̂ = o + s ⊙ n`; the
///   bracket depends on the code only and is its correction, computed when it is encoded.
/// So a walk step is one dot product of `q ⊙ s` with the levels (AVX2 kernel) plus one term
/// per centroid, computed the first time the query meets that centroid.
struct _Int4Codes {
    let dimension: Int
    let metric: DistanceMetric
    /// `centroidCount × dimension` values.
    private(set) var centroids: [Float]
    private(set) var offsets: [Float]
    private(set) var steps: [Float]
    var centroidCount: Int { centroids.count / dimension }

    /// Bytes of a code before its levels: the centroid's number and the correction.
    static let headerBytes = 5

    /// Fewest sampled vectors per centroid when choosing how many centroids to train.
    static let samplePerCentroid = 16
    /// Share of the sample's residuals clipped at each end of a dimension's range (outliers
    /// would otherwise stretch the 16 levels for everyone).
    static let clippedShare = 0.001

    /// Most sampled vectors training reads (evenly spaced): k-means and the residuals cost
    /// points x centroids x dimension each round, and training holds the index's exclusive
    /// access, so a sample of a million (the largest `training_sample`) must not mean minutes.
    static let maxTrainingPoints = 16_384

    /// Trains on `sample` (at most ``maxTrainingPoints`` of it, evenly spaced):
    /// min(256, max(1, count / 16)) centroids by k-means (8 rounds), then each dimension's
    /// residual range between its 0.1% and 99.9% quantiles.
    init(dimension: Int, metric: DistanceMetric, sample allSampled: [[Float]], seed: UInt64) {
        self.dimension = dimension
        self.metric = metric
        let sample = Self.trainingIndices(allSampled.count).map { allSampled[$0] }
        let k = min(256, max(1, sample.count / Self.samplePerCentroid))
        var rng = SeededGenerator(seed: seed)
        centroids = KMeans.train(sample, k: k, dimension: dimension, iterations: 8, rng: &rng)
        offsets = [Float](repeating: -1, count: dimension)
        steps = [Float](repeating: 2 / 15, count: dimension)
        guard !sample.isEmpty else { return }
        let residuals = sample.map { v in
            let c = KMeans.nearest(v, centroids, dimension: dimension)
            return (0..<dimension).map { v[$0] - centroids[c * dimension + $0] }
        }
        let clipped = Int(Double(residuals.count) * Self.clippedShare)
        for j in 0..<dimension {
            let column = residuals.map { $0[j] }.sorted()
            let lo = column[clipped], hi = column[column.count - 1 - clipped]
            offsets[j] = lo
            steps[j] = max((hi - lo) / 15, 1e-12)
        }
    }

    /// Parameters read back from a snapshot; `.invalidArgument` (through `inconsistentQuantizer`)
    /// unless the centroids (and the steps' finiteness) are what training can give; the
    /// store's restoring init checks the offsets and steps as it does int8's, before any code
    /// is read.
    init(restoring state: QuantizerState, dimension: Int, metric: DistanceMetric) throws(VectorEngineError) {
        self.dimension = dimension
        self.metric = metric
        let k = dimension > 0 ? state.centroids.count / dimension : 0
        guard k >= 1, k <= 256, state.centroids.count == k * dimension else {
            throw inconsistentQuantizer("scalarInt4: \(state.centroids.count) centroid values, not 1 to 256 centroids of \(dimension)")
        }
        // The offsets' and steps' counts and signs are checked by the store, as int8's are.
        guard state.centroids.allSatisfy(\.isFinite), state.steps.allSatisfy(\.isFinite) else {
            throw inconsistentQuantizer("scalarInt4: a centroid or step is not finite")
        }
        centroids = state.centroids
        offsets = state.offsets
        steps = state.steps
    }

    /// The positions of the sampled vectors training reads: all of them up to
    /// ``maxTrainingPoints``, else evenly spaced ones, never more than that.
    static func trainingIndices(_ count: Int) -> StrideTo<Int> {
        stride(from: 0, to: count, by: max(1, (count + maxTrainingPoints - 1) / maxTrainingPoints))
    }

    // MARK: Codes

    /// Writes the code of `v` into `out` (``headerBytes`` + ⌈dimension/2⌉ bytes, zeroed).
    func encode(_ v: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<UInt8>) {
        let c = centroids.withUnsafeBufferPointer { KMeans.nearest(v.baseAddress!, $0, dimension: dimension) }
        out[0] = UInt8(c)
        let levels = out.baseAddress! + Self.headerBytes
        for j in 0..<dimension {
            let residual = v[j] - centroids[c * dimension + j]
            let q = ((residual - offsets[j]) / steps[j]).rounded()
            let level = q.isNaN ? 0 : UInt8(max(0, min(15, q)))
            levels[j / 2] |= level << UInt8((j % 2) * 4)
        }
        storeCorrection(correction(centroid: c, levels: levels), into: out.baseAddress!)
    }

    /// The code's correction: `2 c·r̂ + |r̂|²` for squared L2 (0 for other metrics), summed in
    /// `Double` and in dimension order, so the same code always gives the same bits.
    func correction(centroid c: Int, levels: UnsafePointer<UInt8>) -> Float {
        guard metric == .l2Squared else { return 0 }
        var sum: Double = 0
        for j in 0..<dimension {
            let r = Double(offsets[j]) + Double(steps[j]) * Double(level(levels, j))
            sum += (2 * Double(centroids[c * dimension + j]) + r) * r
        }
        return Float(sum)
    }

    @inline(__always)
    func level(_ levels: UnsafePointer<UInt8>, _ j: Int) -> UInt8 { (levels[j >> 1] >> UInt8((j & 1) * 4)) & 0xF }

    private func storeCorrection(_ value: Float, into code: UnsafeMutablePointer<UInt8>) {
        let bits = value.bitPattern
        for b in 0..<4 { code[1 + b] = UInt8(truncatingIfNeeded: bits >> UInt32(8 * b)) }
    }

    @inline(__always)
    func storedCorrection(_ code: UnsafePointer<UInt8>) -> Float {
        Float(bitPattern: UInt32(littleEndian: UnsafeRawPointer(code + 1).loadUnaligned(as: UInt32.self)))
    }

    /// What `code` decodes to.
    func decode(_ code: UnsafePointer<UInt8>, into out: UnsafeMutableBufferPointer<Float>) {
        let c = Int(code[0]), levels = code + Self.headerBytes
        for j in 0..<dimension {
            out[j] = centroids[c * dimension + j] + offsets[j] + steps[j] * Float(level(levels, j))
        }
    }

    /// Whether every code in `codes` is one ``encode(_:into:)`` can write: a centroid that
    /// exists, 0 in an odd dimension's spare nibble, and the correction its levels give.
    func codesAreEncodable(_ codes: UnsafeBufferPointer<UInt8>, codeBytes: Int) -> Bool {
        guard let base = codes.baseAddress else { return true }
        for start in stride(from: 0, to: codes.count, by: codeBytes) {
            let code = base + start
            guard Int(code[0]) < centroidCount else { return false }
            if dimension % 2 == 1, code[codeBytes - 1] >> 4 != 0 { return false }
            let expected = correction(centroid: Int(code[0]), levels: code + Self.headerBytes)
            guard storedCorrection(code).bitPattern == expected.bitPattern else { return false }
        }
        return true
    }

    // MARK: Distances

    /// Readies `prepared` (whose `query` is set) for ``distance(_:_:useKernel:)``.
    func prepare(_ prepared: inout _QuantizedQuery) {
        prepared.int4Weights.removeAll(keepingCapacity: true)
        prepared.int4Constant = 0
        for j in 0..<dimension {
            prepared.int4Weights.append(prepared.query[j] * steps[j])
            prepared.int4Constant += prepared.query[j] * offsets[j]
        }
        prepared.int4CentroidTerms.removeAll(keepingCapacity: true)
        prepared.int4CentroidTerms.append(contentsOf: repeatElement(.nan, count: centroidCount))
    }

    /// The walk distance from `prepared`'s query to `code`: `metric`'s distance to what the code
    /// decodes to, up to rounding (Manhattan is not served here: the store decodes for it).
    func distance(_ code: UnsafePointer<UInt8>, _ prepared: inout _QuantizedQuery, useKernel: Bool) -> Float {
        let c = Int(code[0]), levels = code + Self.headerBytes
        var term = prepared.int4CentroidTerms[c]
        if term.isNaN {
            term = centroidTerm(c, prepared.query)
            prepared.int4CentroidTerms[c] = term
        }
        let weighted = prepared.int4Weights.withUnsafeBufferPointer { w in
            useKernel ? CVectorKernels_dotU4AVX2(w.baseAddress!, levels, dimension) : dotLevels(w, levels)
        }
        let residualDot = prepared.int4Constant + weighted          // q·r̂
        if metric == .l2Squared { return max(0, term - 2 * residualDot + storedCorrection(code)) }
        return metric.fromInnerProduct(term + residualDot)
    }

    /// Per centroid: `|q − c|²` for squared L2, `q·c` for inner products.
    private func centroidTerm(_ c: Int, _ query: [Float]) -> Float {
        query.withUnsafeBufferPointer { q in
            centroids.withUnsafeBufferPointer { cs in
                let centroid = cs.baseAddress! + c * dimension
                return metric == .l2Squared ? DistanceKernels.l2Squared(q.baseAddress!, centroid, dimension)
                                            : DistanceKernels.dot(q.baseAddress!, centroid, dimension)
            }
        }
    }

    private func dotLevels(_ w: UnsafeBufferPointer<Float>, _ levels: UnsafePointer<UInt8>) -> Float {
        var sum: Float = 0
        for j in 0..<dimension { sum += w[j] * Float(level(levels, j)) }
        return sum
    }

    /// Bytes of the trained parameters.
    var memoryBytes: Int { (centroids.count + offsets.count + steps.count) * 4 }
}
