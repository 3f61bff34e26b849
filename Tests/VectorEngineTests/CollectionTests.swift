import Testing
@testable import VectorEngine

@Suite struct CollectionTests {
    func make(quantization: QuantizationKind? = nil) throws -> VectorCollection {
        try VectorCollection(.init(name: "docs_v1", dimension: 16, metric: .cosine,
                                   hnsw: .init(m: 8, efConstruction: 64, efSearch: 64),
                                   quantization: quantization, quantizationTrainingCount: 200))
    }

    @Test func crudScrollAndCount() throws {
        let c = try make()
        let data = clusteredData(count: 500, dimension: 16, seed: 4)
        try c.upsert(data.enumerated().map { VectorPoint(id: UInt64($0), vector: $1, payload: ["n": .int(Int64($0 % 5))]) })
        #expect(try c.count() == 500)
        #expect(try c.count(filter: .match("n", .int(2))) == 100)
        let p = try #require(c.get(id: 7))
        #expect(p.payload == ["n": .int(2)])
        #expect(abs(p.vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4, "cosine vectors are stored normalised")
        #expect(try c.delete(filter: .match("n", .int(0))) == 100)
        #expect(c.delete(ids: [1, 1, 9999]) == 1)
        #expect(try c.count() == 399)
        var seen: [UInt64] = []
        var cursor: Int? = nil
        repeat {
            let page = try c.scroll(after: cursor, limit: 33, filter: .match("n", .int(3)))
            #expect(page.points.count <= 33)
            seen += page.points.map(\.id)
            cursor = page.next
        } while cursor != nil
        #expect(seen == (0..<500).filter { $0 % 5 == 3 }.map(UInt64.init))
        let hits = try c.searchBatch([data[2], data[3]], k: 3)
        #expect(hits.map { $0.first?.id } == [2, 3])
    }

    @Test func rejectsBadInput() throws {
        #expect(throws: VectorEngineError.self) { try VectorCollection(.init(name: "", dimension: 4, metric: .dot)) }
        #expect(throws: VectorEngineError.self) { try VectorCollection(.init(name: "a/b", dimension: 4, metric: .dot)) }
        let c = try make()
        // A batch with one bad vector writes nothing.
        #expect(throws: VectorEngineError.self) {
            try c.upsert([VectorPoint(id: 1, vector: .init(repeating: 1, count: 16)), VectorPoint(id: 2, vector: [1])])
        }
        #expect(try c.count() == 0)
    }

    @Test func quantizationIsTrainedAtThreshold() throws {
        let c = try make(quantization: .scalarInt8)
        let data = clusteredData(count: 300, dimension: 16, seed: 8)
        try c.upsert(data.prefix(150).enumerated().map { VectorPoint(id: UInt64($0), vector: $1) })
        #expect(c.index.quantization == nil)
        try c.upsert(data.suffix(150).enumerated().map { VectorPoint(id: UInt64($0 + 150), vector: $1) })
        #expect(c.index.quantization == .scalarInt8)
        #expect(try c.search(data[200], k: 1).first?.id == 200)
    }
}
