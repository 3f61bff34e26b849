import Testing
import RuVectorClient

/// LearnService through the Swift client against the real server: feedback recorded and
/// counted, settings echoed, bad grades refused, and learned re-ranking keeping the plain
/// HNSW order while no model is active.
@Suite("learning feedback from the Swift client")
struct ClientLearnTests {
    @Test func feedbackStatusSettingsAndRerank() async throws {
        try await TestServer.with { db, _ in
            try await db.createCollection(name: "fb", dimension: 8, metric: .l2)
            let points = Oracle.points(count: 100, dimension: 8, seed: 4)
            try await db.upsert(points, into: "fb")
            let query = points[5].vector
            let plain = try await db.searchResult(SearchQuery(vector: query, k: 10), in: "fb")
            let shown = plain.hits.map(\.id)
            #expect(try await db.recordFeedback(in: "fb", query: query, shown: shown, judgements: [shown[3]: 1]) == 1)
            #expect(try await db.recordFeedback(in: "fb", queryID: points[6].id, judgements: [shown[0]: 7]) == 2)
            let status = try await db.modelStatus(of: "fb")
            #expect(status.feedbackRecords == 2 && status.version == 0 && status.hiddenSize == 128 && !status.note.isEmpty)
            #expect(try await db.configureModel(of: "fb", hiddenSize: 64, heads: 2).hiddenSize == 64)
            let bad = await #expect(throws: RuVectorClientError.self) {
                try await db.recordFeedback(in: "fb", queryID: points[6].id, judgements: [shown[0]: 11])
            }
            #expect(bad?.code == .invalidArgument)
            var reranked = SearchQuery(vector: query, k: 10)
            reranked.learnedRerankDepth = 50
            let result = try await db.searchResult(reranked, in: "fb")
            #expect(result.hits.map(\.id) == shown && result.modelVersion == 0)
        }
    }
}
