import Testing
import LearnEngine

@Suite struct SerialisationTests {
    func trainedModel() throws -> RerankModel {
        var config = RerankConfig()
        config.hidden = 8; config.heads = 2; config.layers = 2; config.loss = .pairwiseLogistic; config.temperature = 0.3
        let task = SyntheticTask(seed: 2, points: 200, dimension: 6)
        let model = try RerankModel(config: config, dimension: 6, seed: 5)
        var training = TrainingConfig()
        training.epochs = 1; training.batchSize = 4
        var trainer = Trainer(model: model, config: training, seed: 1)
        trainer.train(model, examples: task.examples(0..<8))
        return model
    }

    @Test func roundTripIsBitExact() throws {
        let model = try trainedModel()
        let bytes = model.serialised()
        let back = try RerankModel(serialised: bytes, expectedDimension: 6)
        #expect(back.config == model.config)
        #expect(back.parameters.map { $0.value.map(\.bitPattern) } == model.parameters.map { $0.value.map(\.bitPattern) })
        #expect(back.serialised() == bytes)
        #expect(model.parameters.contains { p in p.name == "output.weight" && p.value.contains { $0 != 0 } })
    }

    @Test func aDamagedChecksumIsRefused() throws {
        let model = try trainedModel()
        var bytes = model.serialised()
        bytes[bytes.count - 1] ^= 0x01
        #expect(throws: LearnError.self) { try RerankModel(serialised: bytes) }
    }

    @Test func everyTruncationIsRefused() throws {
        let bytes = try trainedModel().serialised()
        for n in 0..<bytes.count {
            #expect(throws: LearnError.self) { try RerankModel(serialised: Array(bytes.prefix(n))) }
        }
    }

    @Test func byteFlipsAreRefused() throws {
        let bytes = try trainedModel().serialised()
        var rng = SeededGenerator(seed: 3)
        for _ in 0..<2000 {
            var damaged = bytes
            damaged[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(1 + rng.next() % 255)
            #expect(throws: LearnError.self) { try RerankModel(serialised: damaged) }
        }
    }

    @Test func wrongDimensionIsAMismatchNotCorruption() throws {
        let bytes = try trainedModel().serialised()
        do {
            _ = try RerankModel(serialised: bytes, expectedDimension: 7)
            Issue.record("a dimension-6 model was accepted for dimension 7")
        } catch {
            #expect(error.code == .mismatchedModel)
        }
        #expect(throws: LearnError.self) { try RerankModel(serialised: Array("RVLM".utf8) + [UInt8](repeating: 0xFF, count: 64)) }
    }
}
