import Testing
@testable import VectorEngine

/// The quantizer travels in ``HNSWState``: an imported index walks on the very codes (and, when
/// tiered, the tiers and rates) of the exported one, so it answers every search identically.
@Suite struct QuantizerStateTests {
    static let dimension = 32
    static let tiered = QuantizationKind.tiered(.init(hotThreshold: 5_000, retierIntervalQueries: 0))
    static let kinds: [QuantizationKind] = [.scalarInt8, .scalarInt4, .float16, .pq8(subspaces: 16), .pq4(subspaces: 15), .binary, tiered]

    /// 1,500 clustered points, quantized after the first 1,000 (so codes come both from training
    /// and from later inserts), with updates and deletes; a tiered index has had re-tiering
    /// passes with searches, so its vectors are spread over the tiers.
    static func build(_ kind: QuantizationKind, metric: DistanceMetric = .l2Squared) throws -> (HNSWIndex, [[Float]]) {
        let data = clusteredData(count: 1_600, dimension: Self.dimension, seed: 5)
        let index = try HNSWIndex(dimension: Self.dimension, metric: metric, parameters: .init(m: 12, efConstruction: 80))
        for (i, v) in data.prefix(1_500).enumerated() {
            if i == 1_000 { try index.enableQuantization(kind, sampleSize: 500) }
            try index.upsert(id: UInt64(i), vector: v)
        }
        for id in stride(from: 3, to: 1_500, by: 41) { index.delete(id: UInt64(id)) }
        for id in stride(from: 5, to: 1_500, by: 97) { try index.upsert(id: UInt64(id), vector: data[1_500 + id % 100]) }
        if case .tiered = kind {
            for pass in 0..<6 {
                for q in data[(pass * 20)..<(pass * 20 + 20)] { _ = try index.search(q, k: 10, ef: 64) }
                index.retier()
            }
            for q in data[200..<230] { _ = try index.search(q, k: 10, ef: 64) }   // counted, not yet folded in
        }
        return (index, data)
    }

    func queries(_ data: [[Float]]) -> [[Float]] { (0..<50).map { i in data[i * 31].map { $0 + 0.05 } } }

    @Test(arguments: kinds)
    func roundTripKeepsCodesAndResults(kind: QuantizationKind) throws {
        let (a, data) = try Self.build(kind)
        let state = a.exportState()
        let q = try #require(state.quantizer)
        #expect(q.kind == kind)
        let b = try HNSWIndex(state: state)
        #expect(b.quantization == kind)
        let same = b.exportState() == state   // bit-identical codes, parameters, tiers and rates
        #expect(same, "re-exported quantizer differs")
        if case .tiered = kind {
            let stats = try #require(a.tierStatistics)
            #expect(stats.counts.values.filter { $0 > 0 }.count >= 3, "tiers not mixed: \(stats.counts)")
            #expect(b.tierStatistics == stats)
            for id in 0..<1_500 { #expect(b.tier(of: UInt64(id)) == a.tier(of: UInt64(id)), "id \(id)") }
        }
        for query in queries(data) {
            for oversampling in [1, 4] {
                #expect(try a.search(query, k: 10, ef: 48, oversampling: oversampling)
                        == b.search(query, k: 10, ef: 48, oversampling: oversampling))
            }
        }
        // Both go on alike: inserts are encoded by the same quantizer, passes move the same nodes.
        for (i, v) in data[1_500..<1_600].enumerated() {
            try a.upsert(id: UInt64(10_000 + i), vector: v); try b.upsert(id: UInt64(10_000 + i), vector: v)
        }
        #expect(a.retier() == b.retier())
        let continued = a.exportState() == b.exportState()
        #expect(continued, "states diverge after the same inserts and pass")
        for query in queries(data) { #expect(try a.search(query, k: 10, ef: 48) == b.search(query, k: 10, ef: 48)) }
        #expect(b.invariantViolations().isEmpty)
    }

    @Test(arguments: [DistanceMetric.cosine, .dot, .manhattan])
    func tieredRoundTripOnEveryMetric(metric: DistanceMetric) throws {
        let (a, data) = try Self.build(Self.tiered, metric: metric)
        let b = try HNSWIndex(state: a.exportState())
        #expect(b.tierStatistics == a.tierStatistics)
        for query in queries(data) { #expect(try a.search(query, k: 10, ef: 48) == b.search(query, k: 10, ef: 48)) }
    }

    /// Every way an imported quantizer can disagree with its index, each refused with `.invalidArgument`.
    static let corruptions: [(name: String, kind: QuantizationKind, damage: @Sendable (inout QuantizerState) -> Void)] = [
        ("int8 offsets short", .scalarInt8, { $0.offsets.removeLast() }),
        ("int8 zero step", .scalarInt8, { $0.steps[3] = 0 }),
        ("int8 NaN step", .scalarInt8, { $0.steps[3] = .nan }),
        ("int8 infinite offset", .scalarInt8, { $0.offsets[0] = .infinity }),
        ("int8 codes cut", .scalarInt8, { $0.codes.removeLast() }),
        ("int8 codes one node short", .scalarInt8, { $0.codes.removeLast(Self.dimension) }),
        ("int8 codes too long", .scalarInt8, { $0.codes += [UInt8](repeating: 0, count: Self.dimension) }),
        ("int8 with centroids", .scalarInt8, { $0.centroids = [1, 2] }),
        ("int8 with tiers", .scalarInt8, {
            $0.tiers = TieredQuantizerState(encoders: [], hotSlots: 0, tierOf: [], slotOf: [], freeSlots: [], rates: [],
                                            returns: [], queries: 0, passes: 0)
        }),
        // Int4 at 32 dimensions: 5 header bytes (centroid, correction) and 16 of levels a code;
        // 500 sampled points train 31 centroids.
        ("int4 centroid past the last", .scalarInt4, { $0.codes[0] = 255 }),
        ("int4 correction changed", .scalarInt4, { $0.codes[1] ^= 1 }),
        ("int4 level changed without its correction", .scalarInt4, { $0.codes[5] ^= 0x03 }),
        ("int4 centroids not whole", .scalarInt4, { $0.centroids.removeLast() }),
        ("int4 no centroid", .scalarInt4, { $0.centroids = [] }),
        ("int4 257 centroids", .scalarInt4, { $0.centroids = [Float](repeating: 0, count: 257 * Self.dimension) }),
        ("int4 zero step", .scalarInt4, { $0.steps[0] = 0 }),
        ("int4 NaN centroid", .scalarInt4, { $0.centroids[40] = .nan }),
        ("int4 offsets short", .scalarInt4, { $0.offsets.removeLast() }),
        ("int4 codes one node short", .scalarInt4, { $0.codes.removeLast(21) }),
        ("f16 NaN half", .float16, { $0.codes[0] = 0x01; $0.codes[1] = 0x7E }),
        ("binary padding bit", .binary, { $0.codes[7] = 0x80 }),
        ("binary negative step", .binary, { $0.steps[0] = -1 }),
        ("pq8 centroids short", .pq8(subspaces: 16), { $0.centroids.removeLast() }),
        ("pq8 NaN centroid", .pq8(subspaces: 16), { $0.centroids[100] = .nan }),
        ("pq8 no subspaces", .pq8(subspaces: 16), { $0.kind = .pq8(subspaces: 0) }),
        ("pq8 more subspaces than dimensions", .pq8(subspaces: 16), { $0.kind = .pq8(subspaces: 33) }),
        ("pq8 other subspaces", .pq8(subspaces: 16), { $0.kind = .pq8(subspaces: 8) }),
        ("pq4 odd high nibble", .pq4(subspaces: 15), { $0.codes[7] |= 0xF0 }),
        ("kind changed", .float16, { $0.kind = .scalarInt8 }),
        ("tiered without tiers", tiered, { $0.tiers = nil }),
        ("tiered with top-level codes", tiered, { $0.codes = [1] }),
        ("tier above archive", tiered, { $0.tiers!.tierOf[0] = 5 }),
        ("slot past its tier", tiered, { $0.tiers!.slotOf[0] = 1_000_000 }),
        ("two nodes in one slot", tiered, { t in
            let s = t.tiers!
            let pair = Dictionary(grouping: s.tierOf.indices) { s.tierOf[$0] }.values.first { $0.count >= 2 }!
            t.tiers!.slotOf[pair[1]] = s.slotOf[pair[0]]
        }),
        ("free slot in use", tiered, { t in
            let s = t.tiers!
            t.tiers!.freeSlots[Int(s.tierOf[0])].append(s.slotOf[0])
        }),
        ("four free lists", tiered, { $0.tiers!.freeSlots.removeLast() }),
        ("hot slots huge", tiered, { $0.tiers!.hotSlots = Int.max }),
        ("hot slots negative", tiered, { $0.tiers!.hotSlots = -1 }),
        ("encoder missing", tiered, { $0.tiers!.encoders.removeLast() }),
        ("encoders swapped", tiered, { $0.tiers!.encoders.swapAt(1, 2) }),
        ("encoder codes cut", tiered, { t in
            let e = t.tiers!.encoders.indices.first { !t.tiers!.encoders[$0].codes.isEmpty }!
            t.tiers!.encoders[e].codes.removeLast()
        }),
        ("encoder slot missing", tiered, { t in
            // One whole code off the first tier that has any (f16, PQ8, PQ4, bits: 64, 16, 8, 4 bytes at 32 dims).
            let size = [64, 16, 8, 4]
            let e = t.tiers!.encoders.indices.first { t.tiers!.encoders[$0].codes.count >= size[$0] }!
            t.tiers!.encoders[e].codes.removeLast(size[e])
        }),
        ("nested tiers", tiered, { t in t.tiers!.encoders[0].tiers = t.tiers }),
        ("NaN rate", tiered, { $0.tiers!.rates[4] = .nan }),
        ("negative rate", tiered, { $0.tiers!.rates[4] = -1 }),
        ("returns short", tiered, { $0.tiers!.returns.removeLast() }),
        ("tiers short", tiered, { $0.tiers!.tierOf.removeLast() }),
        ("negative passes", tiered, { $0.tiers!.passes = -1 }),
        ("bad policy", tiered, { $0.kind = .tiered(.init(hotThreshold: 0)) }),
    ]

    /// The exported state of each kind's index, built once for all the corruption cases.
    static let exported = Result { () throws -> [QuantizationKind: HNSWState] in
        var states: [QuantizationKind: HNSWState] = [:]
        for kind in kinds { states[kind] = try build(kind).0.exportState() }
        return states
    }

    @Test(arguments: corruptions.indices)
    func corruptQuantizerIsRefused(caseIndex: Int) throws {
        let (name, kind, damage) = Self.corruptions[caseIndex]
        var state = try #require(try Self.exported.get()[kind])
        damage(&state.quantizer!)
        let error = #expect(throws: VectorEngineError.self, "\(name)") { try HNSWIndex(state: state) }
        #expect(error?.code == .invalidArgument, "\(name): \(String(describing: error))")
    }

    /// A collection restores the stored quantizer only when it is of the configured kind.
    @Test func collectionUsesStoredQuantizerOfItsKind() throws {
        let (index, data) = try Self.build(.pq4(subspaces: 15))
        let state = index.exportState()
        var config = CollectionConfig(name: "c", dimension: Self.dimension, metric: .l2Squared,
                                      hnsw: .init(m: 12, efConstruction: 80), quantization: .pq4(subspaces: 15))
        let restored = try VectorCollection(config, restoring: state)
        #expect(restored.index.exportState().quantizer == state.quantizer)
        for query in queries(data) { #expect(try restored.index.search(query, k: 10, ef: 48) == index.search(query, k: 10, ef: 48)) }
        config.quantization = .scalarInt8   // configured otherwise: trained again
        #expect(try VectorCollection(config, restoring: state).index.exportState().quantizer?.kind == .scalarInt8)
        config.quantization = nil
        #expect(try VectorCollection(config, restoring: state).index.quantization == nil)
    }
}
