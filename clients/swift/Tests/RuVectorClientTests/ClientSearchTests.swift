import RuVectorClient
import Synchronization
import Testing

/// Search, batch and streaming search against the real server, checked against brute force.
@Suite struct ClientSearchTests {
    static let dimension = 12

    static func queries(_ count: Int, seed: UInt64) -> [[Float]] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in (0..<dimension).map { _ in Float.random(in: -1...1, using: &rng) } }
    }

    /// Hits equal the oracle's ids in order, with scores within float tolerance.
    static func expectSame(_ hits: [Hit], _ expected: [(id: PointID, score: Float)], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(hits.map(\.id) == expected.map(\.id), sourceLocation: sourceLocation)
        for (hit, want) in zip(hits, expected) {
            #expect(abs(hit.score - want.score) <= 1e-3 * max(1, abs(want.score)), "score of \(hit.id)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: Metric.allCases)
    func searchMatchesBruteForce(metric: Metric) async throws {
        try await TestServer.with { db, _ in
            try await db.createCollection(name: "s", dimension: Self.dimension, metric: metric)
            let points = Oracle.points(count: 300, dimension: Self.dimension, seed: 21)
            try await db.upsert(points, into: "s")
            for query in Self.queries(8, seed: 5) {
                // HNSW with ef = 300 over 300 points visits enough to find the exact neighbours.
                let wide = try await db.search(query, in: "s", k: 10, ef: 300)
                Self.expectSame(wide, Oracle.topK(query, points, k: 10, metric: metric))
                // With the collection's default ef (64) on seeded data, still the brute-force answer.
                let standard = try await db.search(query, in: "s", k: 10)
                Self.expectSame(standard, Oracle.topK(query, points, k: 10, metric: metric))

                let filtered = try await db.search(query, in: "s", k: 7, filter: Oracle.swiftRecent, withPayload: true)
                Self.expectSame(filtered, Oracle.topK(query, points, k: 7, metric: metric, where: Oracle.isSwiftRecent))
                #expect(filtered.allSatisfy { $0.payload?["lang"] == "swift" && $0.vector == nil })

                let paged = try await db.search(query, in: "s", k: 5, offset: 5)
                Self.expectSame(paged, Array(Oracle.topK(query, points, k: 10, metric: metric).suffix(5)))
            }
        }
    }

    @Test func searchFromTheClientsExecutor() async throws {
        try await TestServer.with { db, _ in
            try await db.createCollection(name: "e", dimension: Self.dimension, metric: .cosine)
            let points = Oracle.points(count: 200, dimension: Self.dimension, seed: 8)
            try await db.upsert(points, into: "e")
            // Calls from a task on the connection's thread answer exactly as from the pool, one after another.
            let hits = try await withTaskExecutorPreference(db.executor) {
                var all: [[Hit]] = []
                for query in Self.queries(20, seed: 6) { all.append(try await db.search(query, in: "e", k: 5, ef: 200)) }
                return all
            }
            for (query, found) in zip(Self.queries(20, seed: 6), hits) {
                Self.expectSame(found, Oracle.topK(query, points, k: 5, metric: .cosine))
            }
        }
    }

    @Test func scoreThresholdPayloadAndVectors() async throws {
        try await TestServer.with { db, _ in
            try await db.createCollection(name: "t", dimension: Self.dimension, metric: .l2)
            let points = Oracle.points(count: 200, dimension: Self.dimension, seed: 3)
            try await db.upsert(points, into: "t")
            let query = Self.queries(1, seed: 9)[0]
            let all = Oracle.topK(query, points, k: 50, metric: .l2)
            let threshold = all[12].score
            let hits = try await db.search(query, in: "t", k: 50, withPayload: true, withVectors: true, scoreThreshold: threshold)
            Self.expectSame(hits, all.filter { $0.score >= threshold })
            for hit in hits {
                let point = try #require(points.first { $0.id == hit.id })
                #expect(hit.payload == point.payload && hit.vector == point.vector)
            }
            let trimmed = try await db.search(query, in: "t", k: 3, withPayload: true, payloadKeys: ["lang", "year"])
            #expect(trimmed.allSatisfy { $0.payload.map { Set($0.keys) } == ["lang", "year"] })
            let bad = await #expect(throws: RuVectorClientError.self) { try await db.search([1, 2], in: "t") }
            #expect(bad?.code == .invalidArgument)
            let badK = await #expect(throws: RuVectorClientError.self) { try await db.search(query, in: "t", k: 0) }
            #expect(badK?.code == .invalidInput)
        }
    }

    @Test(arguments: [Quantization.scalar(), .scalar(bits: 4), .float16, .product(subvectors: 4, bits: 8),
                      .tiered(hotThreshold: 5_000, retierIntervalQueries: 50)])
    func quantizedSearchRescoresOrWalksFullVectors(quantization: Quantization) async throws {
        try await TestServer.with { db, _ in
            try await db.createCollection(name: "q", dimension: Self.dimension, metric: .l2, quantization: quantization)
            // Past the server's training threshold (1024 points): the walk uses the codes.
            let points = Oracle.points(count: 1500, dimension: Self.dimension, seed: 17)
            try await db.upsert(points, into: "q")
            var found = 0
            for query in Self.queries(10, seed: 4) {
                let truth = Oracle.topK(query, points, k: 10, metric: .l2)
                let rescored = try await db.search(query, in: "q", k: 10, quantization: .rescore(oversampling: 8))
                found += Set(rescored.map(\.id)).intersection(truth.map(\.id)).count
                // Scores come from the full vectors, whatever the codes said.
                for hit in rescored {
                    let exact = try #require(Oracle.topK(query, points.filter { $0.id == hit.id }, k: 1, metric: .l2).first)
                    #expect(abs(hit.score - exact.score) <= 1e-3 * max(1, abs(exact.score)))
                }
                let full = try await db.search(query, in: "q", k: 10, ef: 300, quantization: .fullPrecision)
                Self.expectSame(full, truth)
            }
            #expect(found >= 90, "\(quantization): \(found) of 100 true neighbours")
            let batch = try await db.searchBatch([SearchQuery(vector: points[7].vector, k: 1, quantization: .rescore())], in: "q")
            #expect(batch.first?.first?.id == points[7].id)
            let tooMany = await #expect(throws: RuVectorClientError.self) {
                try await db.search(points[0].vector, in: "q", quantization: .rescore(oversampling: 101))
            }
            #expect(tooMany?.code == .invalidArgument)
            // The server reports the configuration back, and the tiers of a tiered collection.
            let info = try await db.collection(named: "q")
            #expect(info.quantization == quantization)
            if case .tiered = quantization {
                let tiers = try #require(info.tiers)
                #expect(tiers.hot + tiers.warm + tiers.cool + tiers.cold + tiers.archive == 1500)
            } else {
                #expect(info.tiers == nil)
            }
        }
    }

    @Test func batchAndStreamAgreeWithSingleSearches() async throws {
        try await TestServer.with { db, _ in
            try await db.createCollection(name: "b", dimension: Self.dimension, metric: .cosine)
            let points = Oracle.points(count: 250, dimension: Self.dimension, seed: 33)
            try await db.upsert(points, into: "b")
            let queries = Self.queries(40, seed: 2).enumerated().map { index, vector in
                SearchQuery(vector: vector, k: 5 + index % 4, ef: 300, filter: index % 3 == 0 ? Oracle.tagOrLang : nil)
            }
            let expected = queries.map { query in
                Oracle.topK(query.vector, points, k: query.k, metric: .cosine,
                            where: query.filter == nil ? { _ in true } : Oracle.isTagOrLang)
            }
            let batch = try await db.searchBatch(queries, in: "b")
            #expect(batch.count == queries.count)
            for (hits, want) in zip(batch, expected) { Self.expectSame(hits, want) }

            let streamed = try await db.searchStream(queries, in: "b")
            #expect(streamed.count == queries.count)
            for (hits, want) in zip(streamed, expected) { Self.expectSame(hits, want) }

            // The sequence form: a query with the wrong dimension fails alone.
            var mixed = Array(queries.prefix(6))
            mixed[2] = SearchQuery(vector: [1, 2, 3], k: 3)
            var answers: [Int: Result<[Hit], RuVectorClientError>] = [:]
            for try await answer in db.searchStream(AsyncQueries(queries: mixed), in: "b") {
                #expect(answers[answer.index] == nil)
                answers[answer.index] = answer.result
            }
            #expect(answers.keys.sorted() == Array(0..<6))
            for index in 0..<6 {
                switch answers[index] {
                case .failure(let error)?: #expect(index == 2 && error.code == .invalidArgument && error.grpcStatus == 3)
                case .success(let hits)?: Self.expectSame(hits, expected[index])
                case nil: Issue.record("no answer for query \(index)")
                }
            }

            // A stream on a missing collection answers each query with NOT_FOUND.
            let missing = await #expect(throws: RuVectorClientError.self) {
                _ = try await db.searchStream([SearchQuery(vector: queries[0].vector)], in: "absent")
            }
            #expect(missing?.code == .notFound)
        }
    }

    @Test func streamsReportInputFailuresAndStopEarly() async throws {
        try await TestServer.with { db, _ in
            try await db.createCollection(name: "f", dimension: 4, metric: .l2)
            let points = Oracle.points(count: 50, dimension: 4, seed: 12)
            try await db.upsert(points, into: "f")
            let queries = (0..<20).map { SearchQuery(vector: points[$0].vector, k: 1) }

            // The caller's sequence fails after 3 queries: that failure is what the stream throws.
            var received = 0
            let failure = await #expect(throws: InputBroke.self) {
                for try await _ in db.searchStream(FailingSequence(elements: queries, failAfter: 3), in: "f") { received += 1 }
            }
            #expect(failure != nil && received <= 3)

            // Stopping after the first answer cancels the call; the connection stays usable.
            for try await answer in db.searchStream(AsyncQueries(queries: queries), in: "f") {
                #expect(try answer.get().first?.id == points[answer.index].id)
                break
            }
            #expect(try await db.count(in: "f") == 50)

            // An import whose input fails is cancelled and reported as the input's failure.
            let batches = FailingSequence(elements: [Array(points.prefix(10)), Array(points.suffix(10))], failAfter: 1)
            let importFailure = await #expect(throws: RuVectorClientError.self) { try await db.importStream(batches, into: "f") }
            #expect(importFailure?.code == .invalidInput && importFailure?.message.contains("10 points") == true)
        }
    }

    @Test func importStreamWritesEveryBatch() async throws {
        try await TestServer.with { db, _ in
            try await db.createCollection(name: "imp", dimension: 8, metric: .l2, hnsw: HNSWConfig(m: 8, efConstruction: 32))
            let points = Oracle.points(count: 3_000, dimension: 8, seed: 44)
            let progress = ProgressLog()
            let result = try await db.importStream(points, into: "imp", batchSize: 700) { progress.record($0) }
            #expect(result.pointsAffected == 3_000 && result.applied)
            #expect(progress.values == [700, 1_400, 2_100, 2_800, 3_000])
            #expect(try await db.count(in: "imp") == 3_000)
            #expect(try await db.count(in: "imp", filter: Oracle.swiftRecent) == UInt64(points.filter(Oracle.isSwiftRecent).count))
            let sample = try await db.get([1, 1_500, 3_000], from: "imp", withVectors: true)
            #expect(sample.map(\.vector) == [points[0].vector, points[1_499].vector, points[2_999].vector])
            let query = points[1_234].vector
            Self.expectSame(try await db.search(query, in: "imp", k: 10, ef: 500), Oracle.topK(query, points, k: 10, metric: .l2))

            let missing = await #expect(throws: RuVectorClientError.self) {
                try await db.importStream(Array(points.prefix(10)), into: "absent")
            }
            #expect(missing?.code == .notFound)
            let wrong = await #expect(throws: RuVectorClientError.self) {
                try await db.importStream([Point(id: 1, vector: [1])], into: "imp")
            }
            #expect(wrong?.code == .invalidArgument)
        }
    }
}

/// Queries delivered one at a time, as a live producer would.
struct AsyncQueries: AsyncSequence, Sendable {
    typealias Element = SearchQuery
    let queries: [SearchQuery]

    struct AsyncIterator: AsyncIteratorProtocol {
        var remaining: ArraySlice<SearchQuery>
        mutating func next() async -> SearchQuery? {
            await Task.yield()
            return remaining.popFirst()
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(remaining: queries[...]) }
}

struct InputBroke: Error {}

/// Yields `failAfter` elements, then throws `InputBroke`.
struct FailingSequence<Element: Sendable>: AsyncSequence, Sendable {
    let elements: [Element]
    let failAfter: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var remaining: ArraySlice<Element>
        var left: Int
        mutating func next() async throws -> Element? {
            guard left > 0 else { throw InputBroke() }
            left -= 1
            return remaining.popFirst()
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(remaining: elements[...], left: failAfter) }
}

/// Collects progress callbacks.
final class ProgressLog: Sendable {
    private let recorded = Mutex<[Int]>([])
    func record(_ value: Int) { recorded.withLock { $0.append(value) } }
    var values: [Int] { recorded.withLock { $0 } }
}
