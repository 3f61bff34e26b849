import Testing
import RuVectorClient

/// Semantic routes and router transfer through the Swift client against the real server: routes
/// registered from clustered examples, matched, fitted and listed; the router exported, imported
/// under a new name and answering the same; refusals reach the caller with their codes.
@Suite("semantic routes, export and import from the Swift client")
struct ClientSemanticRouteTests {
    /// Examples near `center` (a unit axis), spread by a deterministic offset.
    private func examples(around axis: Int, count: Int) -> [[Float]] {
        (0..<count).map { n in
            (0..<8).map { i in i == axis ? 1 : Float((n * 7 + i * 3) % 5) / 40 }
        }
    }

    @Test func registerMatchFitExportAndImport() async throws {
        try await TestServer.with { db, _ in
            try await db.createRouter("llm", candidates: [RouteCandidate(name: "small", cost: 1), RouteCandidate(name: "large", cost: 10)],
                                      featureSize: 2, outcomeWindow: 500)
            let billing = try await db.registerRoute("llm", name: "billing", examples: examples(around: 0, count: 10), threshold: 0.9)
            #expect(billing.exampleCount == 10 && billing.threshold == 0.9)
            try await db.registerRoute("llm", name: "support", examples: examples(around: 1, count: 10))
            #expect(try await db.listRoutes("llm").map(\.name) == ["billing", "support"])

            let nearBilling: [Float] = [1, 0.05, 0, 0.05, 0, 0, 0.02, 0]
            let matches = try await db.matchRoute("llm", embedding: nearBilling, limit: 2)
            #expect(matches.first?.name == "billing" && (matches.first?.similarity ?? 0) > 0.9)
            // Along an axis no route covers: no route.
            #expect(try await db.matchRoute("llm", embedding: [0, 0, 0, 0, 0, 0, 0, 1]).isEmpty)

            var queries: [(embedding: [Float], route: String?)] = []
            for (axis, route) in [(0, "billing"), (1, "support"), (5, nil)] as [(Int, String?)] {
                for example in examples(around: axis, count: 5) { queries.append((example, route)) }
            }
            let fit = try await db.fitRouteThreshold("llm", queries: queries)
            #expect(fit.accuracy == 1 && fit.falseMatchRate == 0 && fit.threshold > 0 && fit.threshold <= 1)
            #expect(try await db.listRoutes("llm").allSatisfy { $0.threshold == fit.threshold })

            let file = try await db.exportRouter("llm")
            try await db.importRouter("copy", from: file, chunkBytes: 4096)
            #expect(try await db.listRoutes("copy") == (try await db.listRoutes("llm")))
            #expect(try await db.matchRoute("copy", embedding: nearBilling, limit: 2) == matches)

            try await db.deleteRoute("copy", name: "billing")
            #expect(try await db.listRoutes("copy").map(\.name) == ["support"])
            #expect(try await db.listRoutes("llm").count == 2)

            let missing = await #expect(throws: RuVectorClientError.self) { try await db.deleteRoute("copy", name: "billing") }
            #expect(missing?.code == .notFound)
            let taken = await #expect(throws: RuVectorClientError.self) { try await db.importRouter("copy", from: file) }
            #expect(taken?.code == .alreadyExists)
            var damaged = file
            damaged[damaged.count / 2] ^= 0xFF
            let broken = await #expect(throws: RuVectorClientError.self) { try await db.importRouter("broken", from: damaged) }
            #expect(broken?.code == .dataLoss || broken?.code == .invalidArgument)
            #expect(try await db.listRoutes("copy").count == 1)
            let narrow = await #expect(throws: RuVectorClientError.self) {
                try await db.createRouter("tiny", candidates: [RouteCandidate(name: "a"), RouteCandidate(name: "b")], featureSize: 2, outcomeWindow: 99)
            }
            #expect(narrow?.code == .invalidArgument && narrow?.message.contains("outcome_window") == true)
            let status = try await db.routerStatus("llm")
            #expect(status.outcomeLogRecords == 0 && status.outcomeLogBytes > 0)
        }
    }
}
