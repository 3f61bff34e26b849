import Foundation
import Testing
import RuVectorClient

/// LearnService through the Swift client against the real server: feedback recorded and
/// counted, settings echoed, bad grades refused, learned re-ranking keeping the plain HNSW
/// order while no model is active, and a training run streamed to its end; export and import
/// of a model (the e2e suite checks the lift and the ranking after import in depth).
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

    @Test func trainExportAndImport() async throws {
        try await TestServer.with { db, _ in
            try await db.createCollection(name: "tr", dimension: 8, metric: .l2)
            try await db.createCollection(name: "copy", dimension: 8, metric: .l2)
            let points = Oracle.points(count: 300, dimension: 8, seed: 9)
            try await db.upsert(points, into: "tr")
            try await db.upsert(points, into: "copy")
            await #expect(throws: RuVectorClientError.self) { try await db.exportModel(of: "tr") }
            // Relevance the vectors' first coordinate decides, which plain distance ignores.
            for point in points.prefix(240) {
                let hits = try await db.searchResult(SearchQuery(vector: point.vector, k: 30), in: "tr").hits
                var judgements: [PointID: Int] = [:]
                for hit in hits { judgements[hit.id] = (points.first { $0.id == hit.id }?.vector[0] ?? 0) > 0.3 ? 1 : 0 }
                try await db.recordFeedback(in: "tr", query: point.vector, shown: hits.map(\.id), judgements: judgements)
            }
            try await db.configureModel(of: "tr", hiddenSize: 8, heads: 2)
            let messages = TrainingLog()
            let status = try await db.train("tr", epochs: 10, seed: 1) { messages.append($0) }
            let log = messages.all
            #expect(log.last?.done == true && log.dropLast().allSatisfy { !$0.done } && log.contains { $0.heldOutNDCGAt10 > 0 })
            #expect(status.latestVersion == 1)
            print("training: activated version \(status.version), nDCG \(status.baselineNDCGAt10) -> \(status.modelNDCGAt10)")
            guard status.version == 1 else {
                // Not better than the HNSW order on the hold-out: stored, not active, nothing to export.
                await #expect(throws: RuVectorClientError.self) { try await db.exportModel(of: "tr") }
                return
            }
            let model = try await db.exportModel(of: "tr")
            let imported = try await db.importModel(model, into: "copy", chunkBytes: 4096)
            #expect(imported.version == 1 && imported.activated)
            var reranked = SearchQuery(vector: points[280].vector, k: 10)
            reranked.learnedRerankDepth = 30
            let there = try await db.searchResult(reranked, in: "tr"), here = try await db.searchResult(reranked, in: "copy")
            #expect(there.hits.map(\.id) == here.hits.map(\.id) && here.modelVersion == 1)
            let refused = await #expect(throws: RuVectorClientError.self) { try await db.importModel(Array(model.dropLast()), into: "copy") }
            #expect(refused?.code == .dataLoss || refused?.code == .invalidArgument)
        }
    }
}

/// Progress messages collected from the callback (called on the client's task).
final class TrainingLog: @unchecked Sendable {
    private var messages: [TrainingProgress] = []
    private let lock = NSLock()
    func append(_ message: TrainingProgress) { lock.withLock { messages.append(message) } }
    var all: [TrainingProgress] { lock.withLock { messages } }
}

/// RouteService through the Swift client: a router created, routing with its fallback while
/// untrained, outcomes of a hidden rule recorded, a run trained with streamed progress, then the
/// model choosing by the rule; a breaker opening after its failures.
@Suite("request routing from the Swift client")
struct ClientRouteTests {
    @Test func createRouteRecordTrainAndBreak() async throws {
        try await TestServer.with { db, _ in
            try await db.createRouter("llm", candidates: [RouteCandidate(name: "small", cost: 1), RouteCandidate(name: "large", cost: 10)],
                                      featureSize: 2, breakerFailures: 3)
            let first = try await db.route("llm", features: [1, 1])
            #expect(first.reason == "untrained" && first.modelVersion == 0 && first.chosen != nil)
            // The rule: small serves requests whose first feature is positive; large serves all.
            for n in 0..<200 {
                let x = Float(n % 20) / 10 - 0.95
                let decision = try await db.route("llm", features: [x, Float(n % 7)], requestID: "q\(n)")
                try await db.recordOutcome("llm", candidate: "small", success: x > 0, requestID: decision.requestID)
                try await db.recordOutcome("llm", candidate: "large", success: true, requestID: decision.requestID)
            }
            let epochs = RouterEpochs()
            let status = try await db.trainRouter("llm", epochs: 20, seed: 1) { epochs.append($0) }
            #expect(epochs.all.last?.done == true && epochs.all.filter { !$0.done }.count == 20)
            #expect(status.modelVersion == 1 && status.outcomesRecorded == 400 && status.evaluationCount > 0)
            #expect(try await db.route("llm", features: [0.8, 1]).scores.first?.name == "small")
            #expect(try await db.route("llm", features: [-0.8, 1]).scores.first?.name == "large")
            for _ in 0..<3 { try await db.recordOutcome("llm", candidate: "large", success: false, features: [0, 0]) }
            #expect(try await db.routerStatus("llm").breakers["large"] == "open")
            // The small candidate's breaker opened too while it failed ten requests in a row above.
            #expect(try await db.route("llm", features: [-0.8, 1]).skippedOpen.contains("large"))
        }
    }
}

/// Collects a router's training messages from the progress callback.
final class RouterEpochs: @unchecked Sendable {
    private var messages: [RouterTrainingProgress] = []
    private let lock = NSLock()
    func append(_ message: RouterTrainingProgress) { lock.withLock { messages.append(message) } }
    var all: [RouterTrainingProgress] { lock.withLock { messages } }
}
