import Checksums
import Foundation
import LearnEngine
import RPC
import Storage
import Testing
import Wire
@testable import Services

@Suite("learning state on disk")
struct LearnStoreTests {
    private func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "learnstore-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func record(_ n: UInt64) -> RuvectorV1.RecordFeedbackRequest {
        RuvectorV1.RecordFeedbackRequest(collection: "c", query: RuvectorV1.Vector(values: [Float(n), 1]),
                                         judgements: [RuvectorV1.Judgement(id: RuvectorV1.PointId(kind: .num(n)), grade: 3)],
                                         shown: [RuvectorV1.PointId(kind: .num(n)), RuvectorV1.PointId(kind: .num(n + 1))])
    }

    @Test("feedback, settings and model versions survive a reopen, byte for byte")
    func survivesReopen() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var first: LearnStore? = try LearnStore(directory: directory + "/c")
        for n in 1...5 { #expect(try first?.appendFeedback(record(UInt64(n))) == UInt64(n)) }
        try first?.setConfig(RuvectorV1.ModelConfig(hiddenSize: 64, heads: 2))
        var config = RerankConfig()
        config.hidden = 8
        config.heads = 2
        let trained = try RerankModel(config: config, dimension: 2, seed: 3)
        let weights = trained.serialised()
        #expect(first?.ranker == nil)
        let kept = try first?.storeModel(weights, status: RuvectorV1.ModelStatus(parameters: 42, modelNdcgAt10: 0.7), activate: true, model: trained)
        let refused = try first?.storeModel([1, 2, 3], status: RuvectorV1.ModelStatus(parameters: 42), activate: false, model: nil)
        #expect(kept == 1 && refused == 2)
        #expect(first?.ranker?.version == 1)
        try first?.close()
        first = nil

        let reopened = try LearnStore(directory: directory + "/c")
        #expect(reopened.feedbackRecords == 5)
        #expect(try reopened.feedback() == (1...5).map { record(UInt64($0)) })
        #expect(try reopened.feedback(from: 3) == [record(4), record(5)])
        #expect(reopened.config.hiddenSize == 64 && reopened.config.heads == 2)
        #expect(reopened.versions == (active: 1, latest: 2))
        let model = try #require(try reopened.model(1))
        #expect(model.bytes == weights)
        // The active model is loaded at open and ranks searches again.
        #expect(reopened.ranker?.version == 1 && reopened.ranker?.model.serialised() == weights)
        #expect(model.status.parameters == 42 && model.status.modelNdcgAt10 == 0.7 && model.status.activated)
        #expect(try reopened.model(2)?.status.activated == false)
        #expect(try reopened.model(3) == nil)
        let status = try LearnStatus.status(of: reopened, collection: "c")
        #expect(status.version == 1 && status.latestVersion == 2 && !status.activated && status.feedbackBuffered == 5)
        #expect(status.note.contains("not activated"))
        #expect(status.config?.hiddenSize == 64 && status.config?.dropout == Float(0.1))
        #expect(try reopened.appendFeedback(record(6)) == 6)
        try reopened.close()
    }

    @Test("a damaged model file is refused, not read")
    func damagedModel() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try LearnStore(directory: directory)
        _ = try store.storeModel(Array(repeating: 7, count: 100), status: RuvectorV1.ModelStatus(), activate: false, model: nil)
        var bytes = try AtomicFile.read(directory + "/models/model-1.bin")
        bytes[bytes.count / 2] ^= 0x10
        try AtomicFile.write(bytes, to: directory + "/models/model-1.bin")
        #expect(throws: StorageError.self) { try store.model(1) }
        try store.close()
    }

    @Test("deleting a collection's state removes it; orphans of deleted collections are swept")
    func deletion() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let catalog = try LearnCatalog(dataDirectory: directory)
        _ = try catalog.store("a").appendFeedback(record(1))
        _ = try catalog.store("b").appendFeedback(record(2))
        #expect(try catalog.existingStore("never") == nil)
        try catalog.delete("a")
        #expect(!AtomicFile.exists(directory + "/learn/a"))
        #expect(try catalog.existingStore("a") == nil)
        #expect(try catalog.removeOrphans(keeping: ["a"]) == ["b"])
        #expect(!AtomicFile.exists(directory + "/learn/b"))
        #expect(catalog.close().isEmpty)
    }

    @Test("uploads: in order, bounded, checked against the trailer")
    func uploads() throws {
        let data: [UInt8] = Array(0..<200)
        var upload = LearnUpload()
        try upload.add(RuvectorV1.FileChunk(offset: 0, data: Array(data[0..<100])))
        #expect(throws: RPCError.self) { try upload.add(RuvectorV1.FileChunk(offset: 50, data: [1])) }
        #expect(throws: RPCError.self) { try upload.finished() }
        try upload.add(RuvectorV1.FileChunk(offset: 100, data: Array(data[100...]),
                                            trailer: RuvectorV1.FileTrailer(sizeBytes: 200, crc32c: CRC32C.checksum(data))))
        #expect(try upload.finished() == data)
        #expect(throws: RPCError.self) { try upload.add(RuvectorV1.FileChunk(offset: 200, data: [1])) }

        var wrongChecksum = LearnUpload()
        try wrongChecksum.add(RuvectorV1.FileChunk(offset: 0, data: data, trailer: RuvectorV1.FileTrailer(sizeBytes: 200, crc32c: 1)))
        #expect(throws: RPCError.self) { try wrongChecksum.finished() }
        var tooLarge = LearnUpload()
        #expect(throws: RPCError.self) { try tooLarge.add(RuvectorV1.FileChunk(offset: 0, data: data), maxBytes: 199) }
    }

    @Test("model settings: zero means the documented default; out of bounds is refused naming the field",
          arguments: [
            (RuvectorV1.ModelConfig(hiddenSize: 2048), "hidden_size"),
            (RuvectorV1.ModelConfig(hiddenSize: 100, heads: 3), "heads"),
            (RuvectorV1.ModelConfig(layers: 5), "layers"),
            (RuvectorV1.ModelConfig(dropout: 1), "dropout"),
            (RuvectorV1.ModelConfig(dropout: .nan), "dropout"),
            (RuvectorV1.ModelConfig(loss: .unrecognized(9)), "loss"),
            (RuvectorV1.ModelConfig(temperature: -1), "temperature"),
            (RuvectorV1.ModelConfig(replaySize: 2_000_000), "replay"),
            (RuvectorV1.ModelConfig(ewcLambda: .infinity), "ewc_lambda"),
            (RuvectorV1.ModelConfig(batchSize: 5000), "batch_size"),
            (RuvectorV1.ModelConfig(learningRate: 2), "learning_rate"),
          ])
    func settings(config: RuvectorV1.ModelConfig, field: String) throws {
        #expect(throws: Never.self) { try LearnLimits.check(RuvectorV1.ModelConfig()) }
        let defaults = LearnLimits.resolved(RuvectorV1.ModelConfig())
        #expect(defaults.hiddenSize == 128 && defaults.heads == 4 && defaults.batchSize == 32 && defaults.replaySize == 10_000)
        #expect(defaults.ewcLambda == Float(0.4) && defaults.learningRate == Float(1e-3) && defaults.loss == .listwiseSoftmax)
        do {
            try LearnLimits.check(config)
            Issue.record("\(config) was accepted")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument && error.message.contains(field), "\(error.message)")
        }
    }

    @Test("learned_rerank depth: absent = off, 0 = 100, at most 1000")
    func rerankDepth() throws {
        #expect(try LearnLimits.rerankDepth(nil) == nil)
        #expect(try LearnLimits.rerankDepth(RuvectorV1.LearnedRerank()) == 100)
        #expect(try LearnLimits.rerankDepth(RuvectorV1.LearnedRerank(depth: 1000)) == 1000)
        #expect(throws: RPCError.self) { try LearnLimits.rerankDepth(RuvectorV1.LearnedRerank(depth: 1001)) }
    }
}
