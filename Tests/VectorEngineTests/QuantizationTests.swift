import Testing
@testable import VectorEngine

@Suite struct QuantizationTests {
    // Recall@10 thresholds per kind (ef 100, rescoring the best k * oversampling on full vectors).
    static let cases: [(QuantizationKind, DistanceMetric, Int, Double)] = [
        (.scalarInt8, .l2Squared, 4, 0.93),
        (.scalarInt4, .l2Squared, 4, 0.93),
        (.scalarInt4, .cosine, 4, 0.93),
        (.scalarInt4, .dot, 4, 0.93),
        (.float16, .l2Squared, 4, 0.95),
        (.float16, .cosine, 4, 0.95),
        (.pq8(subspaces: 8), .l2Squared, 4, 0.85),
        (.pq4(subspaces: 16), .l2Squared, 8, 0.80),
        (.binary, .cosine, 10, 0.70),
    ]

    @Test(arguments: cases.indices)
    func recallWithRescoring(caseIndex: Int) throws {
        let (kind, metric, oversampling, threshold) = Self.cases[caseIndex]
        let all = clusteredData(count: 1550, dimension: 32, seed: 21)
        let data = all.prefix(1500), queries = Array(all.suffix(50))
        let index = try HNSWIndex(dimension: 32, metric: metric, parameters: .init(m: 12, efConstruction: 100))
        let oracle = try BruteForceIndex(dimension: 32, metric: metric)
        for (i, v) in data.enumerated() where i < 1000 {
            try index.upsert(id: UInt64(i), vector: v); try oracle.upsert(id: UInt64(i), vector: v)
        }
        try index.enableQuantization(kind, sampleSize: 1000)
        // Inserts after training are encoded on arrival.
        for (i, v) in data.enumerated() where i >= 1000 {
            try index.upsert(id: UInt64(i), vector: v); try oracle.upsert(id: UInt64(i), vector: v)
        }
        #expect(index.quantization == kind)
        let r = try recall({ try index.search($0, k: 10, ef: 100, oversampling: oversampling) },
                           oracle: oracle, queries: queries, k: 10)
        #expect(r >= threshold, "\(kind) \(metric): recall@10 \(r)")
        // Returned distances are exact (rescored on full vectors).
        for q in queries.prefix(5) {
            for hit in try index.search(q, k: 10, ef: 100, oversampling: oversampling) {
                let v = try #require(oracle.vector(id: hit.id))
                #expect(abs(hit.distance - metric.distance(q, v)) < 1e-3)
            }
        }
    }

    /// Every code whose walk distance is on the metric's own scale: int8 and f16 (SIMD kernels
    /// when the CPU has them), PQ8 and PQ4 tables, and the tiered archive's scaled sign bits.
    static let metricScaleCodes: [(QuantizationKind, scaledBinary: Bool)] = [
        (.scalarInt8, false), (.scalarInt4, false), (.float16, false), (.pq8(subspaces: 19), false), (.pq4(subspaces: 12), false), (.binary, true),
    ]

    @Test("walk distances equal decode-then-measure, for every code on the metric's scale and every metric",
          arguments: metricScaleCodes.indices)
    func codeDistancesMatchDecoding(caseIndex: Int) throws {
        let (kind, scaledBinary) = Self.metricScaleCodes[caseIndex]
        let dimension = 37     // two 16-wide blocks and a tail; PQ sub-vectors padded
        let data = clusteredData(count: 300, dimension: dimension, seed: 5)
        do {
            for metric in DistanceMetric.allCases {
                let store = try _QuantizedStore(kind: kind, dimension: dimension, metric: metric, sample: data, seed: 3,
                                                scaledBinary: scaledBinary)
                for v in data.prefix(50) { store.append(v) }
                var prepared = _QuantizedQuery()
                for q in data.suffix(5) {
                    q.withUnsafeBufferPointer { store.prepare($0.baseAddress!, into: &prepared) }
                    for node in 0..<50 {
                        let code = store.codes.bytes(from: node * store.codeBytes, length: store.codeBytes)
                        // The walk's own measure: for cosine, 1 - dot (vectors arrive normalised).
                        let decoded = store.decode(code)
                        let expected = q.withUnsafeBufferPointer { qp in
                            decoded.withUnsafeBufferPointer { metric.distance(qp.baseAddress!, $0.baseAddress!, count: dimension) }
                        }
                        let got = store.distance(UInt32(node), &prepared)
                        #expect(abs(got - expected) <= 2e-4 * max(1, abs(expected)), "\(kind) \(metric) node \(node): \(got) vs \(expected)")
                    }
                }
            }
        }
    }

    /// int4 training reads at most 16,384 sampled vectors, evenly spaced (it holds the index's
    /// exclusive access; a sample may hold a million).
    @Test func int4TrainingReadsABoundedSample() {
        for count in [0, 1, 16_384, 16_385, 50_000, 1_000_000] {
            let picked = Array(_Int4Codes.trainingIndices(count))
            #expect(picked.count <= _Int4Codes.maxTrainingPoints && picked.count >= min(count, _Int4Codes.maxTrainingPoints / 2),
                    "\(count): \(picked.count)")
            #expect(picked == picked.sorted() && Set(picked).count == picked.count && picked.allSatisfy { $0 < count })
        }
        #expect(Array(_Int4Codes.trainingIndices(100)) == Array(0..<100))
    }

    @Test func codeSizes() {
        #expect(QuantizationKind.scalarInt8.codeBytes(dimension: 384) == 384)
        #expect(QuantizationKind.scalarInt4.codeBytes(dimension: 384) == 197)
        #expect(QuantizationKind.scalarInt4.codeBytes(dimension: 37) == 24)
        #expect(QuantizationKind.float16.codeBytes(dimension: 384) == 768)
        #expect(QuantizationKind.pq8(subspaces: 48).codeBytes(dimension: 384) == 48)
        #expect(QuantizationKind.pq4(subspaces: 48).codeBytes(dimension: 384) == 24)
        #expect(QuantizationKind.binary.codeBytes(dimension: 384) == 48)
        // The seed's tier table: 1x, 2x, 8x, 16x, 32x smaller than f32.
        let policy = TierPolicy()
        #expect(CompressionTier.allCases.map { policy.codeBytes($0, dimension: 384) } == [1536, 768, 192, 96, 48])
    }
}
