import Testing
@testable import VectorEngine

@Suite struct StateTests {
    func make() throws -> HNSWIndex {
        let index = try HNSWIndex(dimension: 8, metric: .l2Squared, parameters: .init(m: 6, efConstruction: 40, seed: 3))
        for (i, v) in clusteredData(count: 400, dimension: 8, seed: 2).enumerated() {
            try index.upsert(id: UInt64(i * 10), vector: v, payload: ["i": .int(Int64(i))])
        }
        for id in stride(from: 0, to: 4000, by: 70) { index.delete(id: UInt64(id)) }
        return index
    }

    @Test func exportImportRoundTrip() throws {
        let a = try make()
        let state = a.exportState()
        let b = try HNSWIndex(state: state)
        let same = b.exportState() == state
        #expect(same, "re-exported state differs")
        #expect(b.count == a.count)
        let qs = clusteredData(count: 20, dimension: 8, seed: 9)
        for q in qs { #expect(try a.search(q, k: 10, ef: 40) == b.search(q, k: 10, ef: 40)) }
        // Both continue identically (same level generator state).
        let v: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        try a.upsert(id: 99_999, vector: v); try b.upsert(id: 99_999, vector: v)
        let continued = a.exportState() == b.exportState()
        #expect(continued, "states diverge after the same insert")
    }

    @Test func corruptStateThrows() throws {
        let good = try make().exportState()
        var s = good
        s.level0Links[1] = 123_456 // a link to a node that does not exist
        #expect(throws: VectorEngineError.self) { try HNSWIndex(state: s) }
        s = good
        s.vectors.removeLast()
        #expect(throws: VectorEngineError.self) { try HNSWIndex(state: s) }
        s = good
        s.level0Links[0] = 1000 // degree above m0
        #expect(throws: VectorEngineError.self) { try HNSWIndex(state: s) }
        s = good
        s.externalIds[1] = s.externalIds[0]
        #expect(throws: VectorEngineError.self) { try HNSWIndex(state: s) }
    }
}
