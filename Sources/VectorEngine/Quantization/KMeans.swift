/// Lloyd's k-means with seeded k-means++-free initialisation (distinct random samples),
/// used to train product-quantization codebooks.
enum KMeans {
    /// Returns `k * dimension` centroid components. With fewer points than `k`, the
    /// missing centroids repeat existing points.
    static func train(_ points: [[Float]], k: Int, dimension: Int, iterations: Int,
                      rng: inout SeededGenerator) -> [Float] {
        guard !points.isEmpty else { return [Float](repeating: 0, count: k * dimension) }
        var centroids: [Float] = []
        centroids.reserveCapacity(k * dimension)
        var order = Array(points.indices)
        order.shuffle(using: &rng)
        for c in 0..<k { centroids += points[order[c % order.count]] }
        var assignment = [Int](repeating: 0, count: points.count)
        for _ in 0..<iterations {
            for (i, p) in points.enumerated() { assignment[i] = nearest(p, centroids, dimension: dimension) }
            var sums = [Float](repeating: 0, count: k * dimension)
            var counts = [Int](repeating: 0, count: k)
            for (i, p) in points.enumerated() {
                let c = assignment[i]
                counts[c] += 1
                for j in 0..<dimension { sums[c * dimension + j] += p[j] }
            }
            for c in 0..<k where counts[c] > 0 {
                for j in 0..<dimension { centroids[c * dimension + j] = sums[c * dimension + j] / Float(counts[c]) }
            }
        }
        return centroids
    }

    /// Index of the centroid nearest to `p` in squared L2.
    static func nearest(_ p: [Float], _ centroids: [Float], dimension: Int) -> Int {
        p.withUnsafeBufferPointer { pp in
            centroids.withUnsafeBufferPointer { nearest(pp.baseAddress!, $0, dimension: dimension) }
        }
    }

    /// Index of the centroid nearest to the `dimension` values at `p` in squared L2; short
    /// sub-vectors (PQ's usual 2 to 8 dimensions) are measured inline, without a kernel call.
    static func nearest(_ p: UnsafePointer<Float>, _ centroids: UnsafeBufferPointer<Float>, dimension: Int) -> Int {
        var best = 0
        var bestDistance = Float.infinity
        guard let base = centroids.baseAddress else { return 0 }
        for c in 0..<(centroids.count / dimension) {
            let cp = base + c * dimension
            var d: Float = 0
            if dimension <= 8 {
                for j in 0..<dimension { let x = p[j] - cp[j]; d += x * x }
            } else {
                d = DistanceKernels.l2Squared(p, cp, dimension)
            }
            if d < bestDistance { bestDistance = d; best = c }
        }
        return best
    }
}
