import Testing
@testable import VectorEngine

@Suite struct FilterTests {
    @Test func conditionsMatchTypedValues() {
        let p: Payload = ["color": .string("red"), "n": .int(5), "price": .double(9.5), "ok": .bool(true),
                          "tags": .list([.string("x"), .string("y")]), "gone": .null]
        #expect(PayloadFilter.match("color", .string("red")).matches(p))
        #expect(!PayloadFilter.match("color", .string("blue")).matches(p))
        #expect(PayloadFilter.match("n", .int(5)).matches(p))
        #expect(PayloadFilter.match("n", .double(5)).matches(p))
        #expect(PayloadFilter.match("ok", .bool(true)).matches(p))
        #expect(PayloadFilter.match("tags", .string("y")).matches(p))
        #expect(PayloadFilter.range("price", .init(gte: 9.5, lt: 10)).matches(p))
        #expect(!PayloadFilter.range("price", .init(gt: 9.5)).matches(p))
        #expect(!PayloadFilter.range("color", .init(gt: 0)).matches(p))
        #expect(PayloadFilter.isIn("n", [.int(1), .int(5)]).matches(p))
        #expect(!PayloadFilter.isIn("n", [.int(1)]).matches(p))
        #expect(PayloadFilter.exists("ok").matches(p))
        #expect(!PayloadFilter.exists("gone").matches(p))
        #expect(!PayloadFilter.exists("missing").matches(p))
        #expect(PayloadFilter.hasId([5, 9]).matches(p, id: 9))
        #expect(!PayloadFilter.hasId([5, 9]).matches(p, id: 6))
        #expect(!PayloadFilter.hasId([5, 9]).matches(p))      // no id known: never holds
        #expect(PayloadFilter.must([.hasId([9]), .exists("ok")]).matches(p, id: 9))
        let nested = PayloadFilter.must([
            .should([.match("color", .string("blue")), .range("n", .init(lte: 5))]),
            .mustNot([.match("ok", .bool(false))]),
        ])
        #expect(nested.matches(p))
        #expect(!PayloadFilter.mustNot([nested]).matches(p))
        #expect(nested.depth == 3)
    }

    @Test("dotted keys reach into nested objects and lists of objects; an exact dotted field name wins")
    func nestedObjects() {
        let p: Payload = [
            "author": .object(["name": .string("Ann"), "age": .int(41), "address": .object(["city": .string("Oslo")])]),
            "reviews": .list([.object(["stars": .int(2), "by": .string("x")]), .object(["stars": .int(5)]), .string("loose")]),
            "empty": .object(["list": .list([]), "none": .null]),
            "a.b": .string("flat"), "a": .object(["b": .string("nested")]),
        ]
        #expect(PayloadFilter.match("author.name", .string("Ann")).matches(p))
        #expect(!PayloadFilter.match("author.name", .string("Bo")).matches(p))
        #expect(PayloadFilter.range("author.age", .init(gte: 40)).matches(p))
        #expect(PayloadFilter.match("author.address.city", .string("Oslo")).matches(p))
        #expect(!PayloadFilter.match("author.address.city.zip", .string("Oslo")).matches(p))
        #expect(!PayloadFilter.match("author", .string("Ann")).matches(p))
        // Through a list of objects: any element that has the field.
        #expect(PayloadFilter.match("reviews.stars", .int(5)).matches(p))
        #expect(PayloadFilter.range("reviews.stars", .init(lt: 3)).matches(p))
        #expect(!PayloadFilter.range("reviews.stars", .init(gt: 5)).matches(p))
        #expect(PayloadFilter.isIn("reviews.by", [.string("x"), .string("z")]).matches(p))
        #expect(PayloadFilter.exists("reviews.by").matches(p))
        #expect(!PayloadFilter.exists("reviews.missing").matches(p))
        #expect(PayloadFilter.exists("author.address").matches(p))
        // Empty and null at a path.
        #expect(PayloadFilter.isEmpty("empty.list").matches(p) && PayloadFilter.isEmpty("empty.none").matches(p))
        #expect(PayloadFilter.isEmpty("empty.missing").matches(p) && !PayloadFilter.isEmpty("author.name").matches(p))
        #expect(PayloadFilter.isNull("empty.none").matches(p) && !PayloadFilter.isNull("empty.list").matches(p))
        // A field literally named "a.b" is what "a.b" means; the nested a.b is not consulted.
        #expect(PayloadFilter.match("a.b", .string("flat")).matches(p))
        #expect(!PayloadFilter.match("a.b", .string("nested")).matches(p))
        #expect(!PayloadFilter.match(".name", .string("Ann")).matches(p) && !PayloadFilter.match("author.", .string("Ann")).matches(p))
    }

    func build() throws -> (HNSWIndex, BruteForceIndex) {
        let data = Array(clusteredData(count: 2040, dimension: 32, seed: 11).prefix(2000))
        let index = try HNSWIndex(dimension: 32, metric: .l2Squared, parameters: .init(m: 12, efConstruction: 100))
        let oracle = try BruteForceIndex(dimension: 32, metric: .l2Squared)
        for (i, v) in data.enumerated() {
            let p: Payload = ["bucket": .int(Int64(i % 100)), "even": .bool(i % 2 == 0),
                              "name": .string("n\(i % 7)")]
            try index.upsert(id: UInt64(i), vector: v, payload: p)
            try oracle.upsert(id: UInt64(i), vector: v, payload: p)
        }
        return (index, oracle)
    }

    static let filters: [(PayloadFilter, Double)] = [
        (.match("even", .bool(true)), 0.5),
        (.must([.range("bucket", .init(gte: 10, lt: 40)), .mustNot([.match("name", .string("n3"))])]), 0.26),
        (.should([.isIn("name", [.string("n1"), .string("n2")]), .range("bucket", .init(lt: 5))]), 0.3),
        (.match("bucket", .int(42)), 0.01),
    ]

    @Test(arguments: [FilterStrategy.graph, .automatic])
    func filteredSearchAgainstOracle(strategy: FilterStrategy) throws {
        let (index, oracle) = try build()
        let qs = Array(clusteredData(count: 2040, dimension: 32, seed: 11).suffix(30))
        for (filter, _) in Self.filters {
            for q in qs {
                for hit in try index.search(q, k: 10, ef: 100, filter: filter, strategy: strategy) {
                    #expect(filter.matches(try #require(index.payload(id: hit.id))))
                }
            }
            let r = try recall({ try index.search($0, k: 10, ef: 100, filter: filter, strategy: strategy) },
                               oracle: oracle, queries: qs, k: 10, filter: filter)
            #expect(r >= 0.9, "\(strategy) \(filter): recall \(r)")
        }
    }

    @Test func exactPathIsExact() throws {
        let (index, oracle) = try build()
        let qs = Array(clusteredData(count: 2040, dimension: 32, seed: 11).suffix(10))
        let filter = PayloadFilter.match("bucket", .int(42))
        for q in qs {
            #expect(try index.search(q, k: 10, ef: 10, filter: filter, strategy: .exact).map(\.id)
                    == oracle.search(q, k: 10, filter: filter).map(\.id))
            // 1% selectivity is under the 5% threshold, so .automatic takes the exact path too.
            #expect(try index.search(q, k: 10, ef: 10, filter: filter).map(\.id)
                    == oracle.search(q, k: 10, filter: filter).map(\.id))
        }
    }
}
