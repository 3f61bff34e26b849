import Foundation
import LearnEngine
import RouteEngine
import Storage
import Testing
import Wire
import WorkControl
@testable import Services

@Suite("routers on disk")
struct RouteStoreTests {
    private func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "routestore-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func definition(_ name: String = "r") -> RuvectorV1.CreateRouterRequest {
        RouteLimits.resolved(RuvectorV1.CreateRouterRequest(name: name, candidates: [RuvectorV1.Candidate(name: "cheap", cost: 1),
                                                                                     RuvectorV1.Candidate(name: "strong", cost: 5)],
                                                            featureSize: 2, timeSteps: 3, hiddenSize: 8))
    }

    private func outcome(_ n: Int, candidate: String, success: Bool) -> RuvectorV1.RecordOutcomeRequest {
        RuvectorV1.RecordOutcomeRequest(router: "r", requestId: "q\(n)", candidate: candidate, success: success,
                                        features: RuvectorV1.Vector(values: (0..<6).map { Float(($0 + n) % 5) - 2 }))
    }

    @Test("definition, outcomes, model, calibration and routes survive a reopen; decisions are the same")
    func survivesReopen() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var catalog: RouteCatalog? = try RouteCatalog(dataDirectory: directory)
        let store = try #require(try catalog?.create(definition()))
        for n in 0..<4 { #expect(try store.appendOutcome(outcome(n, candidate: "cheap", success: n % 2 == 0)) == UInt64(n + 1)) }
        let model = FastGRNNModel(try FastGRNNNetwork<Float>(config: RouteLimits.engineConfig(store.definition), seed: 9))
        let stored = try store.storeModel(model, conformal: SplitConformal(alpha: 0.1, calibrationCount: 20, threshold: 0.6),
                                          status: RuvectorV1.RouterStatus(accuracy: 0.75))
        #expect(stored.modelVersion == 1)
        _ = try store.register(RuvectorV1.SemanticRoute(name: "billing", examples: [RuvectorV1.Vector(values: [1, 0, 0])]))
        let features: [Float] = [0.5, -1, 2, 0, 1, 1]
        let before = try store.route(features, requestID: "x", nowMillis: 0)
        _ = catalog?.close()
        catalog = nil

        let reopened = try RouteCatalog(dataDirectory: directory)
        let again = try reopened.store("r")
        #expect(again.definition == definition())
        #expect(again.outcomesRecorded == 4)
        #expect(try again.outcomes(from: 2, limit: 10).map(\.outcome) == [outcome(2, candidate: "cheap", success: true), outcome(3, candidate: "cheap", success: false)])
        #expect(again.storedModel?.model.serialised() == model.serialised())
        let status = again.status()
        #expect(status.modelVersion == 1 && status.accuracy == 0.75 && status.conformalThreshold == 0.6)
        #expect(again.listRoutes().map(\.name) == ["billing"] && again.listRoutes().first?.exampleCount == 1)
        let after = try again.route(features, requestID: "x", nowMillis: 0)
        #expect(after.alternatives == before.alternatives && after.predictionSet == before.predictionSet && after.chosen == before.chosen)
        _ = reopened.close()
    }

    @Test("a torn tail of the outcome log is cut at reopen; the log takes appends again")
    func tornTail() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var catalog: RouteCatalog? = try RouteCatalog(dataDirectory: directory)
        let store = try #require(try catalog?.create(definition()))
        for n in 0..<3 { _ = try store.appendOutcome(outcome(n, candidate: "strong", success: true)) }
        _ = catalog?.close()
        catalog = nil
        let logDirectory = directory + "/route/r/outcomes"
        let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: logDirectory).filter { $0.hasSuffix(".log") }.sorted().last)
        let handle = try #require(FileHandle(forWritingAtPath: logDirectory + "/" + segment))
        handle.seekToEndOfFile()
        handle.write(Data([0x40, 0, 0, 0, 0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3]))
        handle.closeFile()

        let reopened = try RouteCatalog(dataDirectory: directory)
        let again = try reopened.store("r")
        #expect(again.outcomesRecorded == 3)
        #expect(try again.appendOutcome(outcome(9, candidate: "cheap", success: true)) == 4)
        #expect(try again.outcomes(from: 3, limit: 10).map(\.outcome) == [outcome(9, candidate: "cheap", success: true)])
        _ = reopened.close()
    }

    @Test("a crashed creation or deletion leaves nothing at the next start")
    func crashedCreationAndDeletion() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try AtomicFile.createDirectory(directory + "/route")
        try AtomicFile.createDirectory(directory + "/route/half.creating.tmp")
        try AtomicFile.createDirectory(directory + "/route/gone.deleted.tmp")
        try AtomicFile.createDirectory(directory + "/route/empty")
        let catalog = try RouteCatalog(dataDirectory: directory)
        #expect(catalog.list().isEmpty)
        #expect(try AtomicFile.entries(directory + "/route").isEmpty)
        _ = try catalog.create(definition("kept"))
        try catalog.delete("kept")
        #expect(try AtomicFile.entries(directory + "/route").isEmpty)
        _ = catalog.close()
    }

    @Test("the label is the cheapest candidate with a good outcome; requests without one are not trained on")
    func labelRule() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let catalog = try RouteCatalog(dataDirectory: directory)
        var d = definition()
        d.minQuality = 0.5
        let store = try catalog.create(d)
        // 60 requests: even ones succeed on the cheap candidate, odd ones only on the strong one; every
        // tenth has no good outcome at all (a failure, and a success below min_quality).
        for n in 0..<60 {
            let features = RuvectorV1.Vector(values: (0..<6).map { Float(n % 2 == 0 ? 1 : -1) * Float($0 + 1) })
            func record(_ candidate: String, _ success: Bool, _ quality: Float) throws {
                _ = try store.appendOutcome(RuvectorV1.RecordOutcomeRequest(router: "r", requestId: "q\(n)", candidate: candidate, success: success,
                                                                            quality: quality, features: features))
            }
            if n % 10 == 5 {
                try record("cheap", false, 0)
                try record("strong", true, 0.2)
            } else {
                try record("cheap", n % 2 == 0, 0.9)
                try record("strong", true, 0.9)
            }
        }
        var request = RuvectorV1.TrainRouterRequest(router: "r", epochs: 30, seed: 1)
        request.learningRate = 0.05
        let status = try RouteTraining.run(store: store, request: request, memory: .unlimited(), cancellation: CancellationSignal(),
                                           nowMicros: { 7 }, progress: { _ in })
        // 6 of the 60 have no label; the model learns the sign rule.
        #expect(status.trainingExamples + status.calibrationCount + status.evaluationCount == 54)
        #expect(status.trainedUnixMicros == 7 && status.modelVersion == 1)
        let even = try store.route((0..<6).map { Float($0 + 1) }, requestID: "", nowMillis: 0)
        let odd = try store.route((0..<6).map { -Float($0 + 1) }, requestID: "", nowMillis: 0)
        #expect(even.alternatives.first?.name == "cheap")
        #expect(odd.alternatives.first?.name == "strong")
        _ = catalog.close()
    }

    @Test("remembered requests are forgotten oldest first, by count and by feature values")
    func pendingRequests() {
        var pending = PendingRequests(capacity: 3, maxValues: 10)
        for n in 0..<5 { pending.insert("q\(n)", [Float(n)]) }
        #expect(pending.features(of: "q1") == nil && pending.features(of: "q2") == [2] && pending.features(of: "q4") == [4])
        pending.insert("wide", [Float](repeating: 1, count: 9))
        // 9 + 1 values fit; the two older ones went.
        #expect(pending.features(of: "q3") == nil && pending.features(of: "q4") == [4] && pending.features(of: "wide")?.count == 9)
        pending.insert("wider", [Float](repeating: 2, count: 10))
        #expect(pending.features(of: "wide") == nil && pending.features(of: "q4") == nil && pending.features(of: "wider")?.count == 10)
        for n in 0..<100 { pending.insert("r\(n)", [1]) }
        #expect(pending.features(of: "r96") == nil && pending.features(of: "r97") == [1] && pending.features(of: "r99") == [1])
    }

    @Test("teacher scores on every training request distil the teacher into the model")
    func distillation() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let catalog = try RouteCatalog(dataDirectory: directory)
        let store = try catalog.create(definition())
        // The labels say cheap for positive features and strong for negative ones; the teacher
        // prefers strong everywhere. With the loss all distillation, the model follows the teacher.
        for n in 0..<80 {
            let features = RuvectorV1.Vector(values: (0..<6).map { Float(n % 2 == 0 ? 1 : -1) * Float($0 + 1) })
            let teacher = [RuvectorV1.ScoredCandidate(name: "cheap", score: 0.05), RuvectorV1.ScoredCandidate(name: "strong", score: 0.95)]
            _ = try store.appendOutcome(RuvectorV1.RecordOutcomeRequest(router: "r", requestId: "q\(n)", candidate: n % 2 == 0 ? "cheap" : "strong",
                                                                        success: true, teacherScores: teacher, features: features))
        }
        var request = RuvectorV1.TrainRouterRequest(router: "r", epochs: 30, distillationWeight: 1, seed: 1)
        request.learningRate = 0.05
        _ = try RouteTraining.run(store: store, request: request, memory: .unlimited(), cancellation: CancellationSignal(),
                                  nowMicros: { 0 }, progress: { _ in })
        let positive = try store.route((0..<6).map { Float($0 + 1) }, requestID: "", nowMillis: 0)
        #expect(positive.alternatives.first?.name == "strong")
        _ = catalog.close()
    }
}

