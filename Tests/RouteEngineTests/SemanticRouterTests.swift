import Testing
import LearnEngine
@testable import RouteEngine

/// Semantic routes on seeded clustered embeddings: held-out top-1 accuracy, out-of-route refusal at the
/// fitted threshold, and the fitting rule.
@Suite struct SemanticRouterTests {
    /// Utterance-like vectors: each route a random centre in 64-d, examples the centre plus noise
    /// (cosine to the centre about 0.75); out-of-route queries are fresh random directions.
    struct Corpus {
        var rng: SeededGenerator
        let centres: [[Float]]

        init(routes: Int, seed: UInt64) {
            var rng = SeededGenerator(seed: seed)
            centres = (0..<routes).map { _ in (0..<64).map { _ in Float(rng.nextGaussian()) } }
            self.rng = rng
        }

        mutating func example(_ route: Int) -> [Float] { centres[route].map { $0 + Float(rng.nextGaussian()) * 0.9 } }
        mutating func outOfRoute() -> [Float] { (0..<64).map { _ in Float(rng.nextGaussian()) } }
    }

    @Test func heldOutAccuracyAndOutOfRouteRefusal() throws {
        var corpus = Corpus(routes: 8, seed: 41)
        var router = try SemanticRouter(dimension: 64, topK: 3)
        for r in 0..<8 { try router.register(name: "route\(r)", examples: (0..<20).map { _ in corpus.example(r) }) }
        // Fit on labelled queries: 10 per route and 40 that belong to none.
        var labelled = [(query: [Float], route: String?)]()
        for r in 0..<8 { for _ in 0..<10 { labelled.append((corpus.example(r), "route\(r)")) } }
        for _ in 0..<40 { labelled.append((corpus.outOfRoute(), nil)) }
        let fitAccuracy = try router.fitThreshold(labelled)
        #expect(fitAccuracy >= 0.95)
        // Held out: fresh queries of each route, and fresh unrelated ones.
        var correct = 0, total = 0, falseMatches = 0
        for r in 0..<8 {
            for _ in 0..<25 {
                if try router.match(corpus.example(r)).route == "route\(r)" { correct += 1 }
                total += 1
            }
        }
        for _ in 0..<200 where try router.match(corpus.outOfRoute()).route != nil { falseMatches += 1 }
        #expect(Double(correct) / Double(total) >= 0.95, "top-1 \(correct) of \(total)")
        #expect(falseMatches <= 4, "\(falseMatches) of 200 out-of-route queries matched (threshold \(router.threshold))")
    }

    @Test func scoresAreTheMeanOfTheTopKSimilarities() throws {
        var router = try SemanticRouter(dimension: 2, topK: 2, threshold: 0.9)
        try router.register(name: "east", examples: [[1, 0], [1, 1], [0, 1]])
        try router.register(name: "west", examples: [[-1, 0]])
        let s = try router.scores([2, 0])
        #expect(abs(s[0] - (1 + 0.5.squareRoot()) / 2) < 1e-6 && abs(s[1] + 1) < 1e-6)
        #expect(try router.match([2, 0]).route == nil, "0.85 is below 0.9")
        #expect(try router.match([1, 0.2]).route == "east")
        try router.register(name: "east", examples: [[0, 1]])    // replaced, not added
        #expect(router.routes.count == 2 && router.routes[0].exampleCount == 1)
        #expect(router.remove(name: "west") && !router.remove(name: "west"))
        #expect(throws: LearnError.self) { try router.match([0, 0]) }
        #expect(throws: LearnError.self) { try router.match([1]) }
        #expect(throws: LearnError.self) { try router.register(name: "x", examples: []) }
    }

    @Test func theFittedThresholdSitsInTheGapBetweenAcceptedAndRefused() throws {
        var router = try SemanticRouter(dimension: 2, topK: 1)
        try router.register(name: "a", examples: [[1, 0]])
        // Best scores: in-route 1.0 and cos(20°) ≈ 0.94; out-of-route cos(60°) = 0.5.
        let degrees: [(Double, String?)] = [(0, "a"), (20, "a"), (60, nil)]
        let accuracy = try router.fitThreshold(degrees.map { d in
            ([Float(cos(d.0 * .pi / 180)), Float(sin(d.0 * .pi / 180))], d.1)
        })
        #expect(accuracy == 1)
        #expect(abs(router.threshold - (0.5 + cos(20 * Double.pi / 180)) / 2) < 1e-6)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
