import Testing
import LearnEngine

@Suite struct SerialisationTests {
    func trainedModel(head: RerankHeadKind = .mlp) throws -> RerankModel {
        var config = RerankConfig()
        config.hidden = 8; config.heads = 2; config.layers = 2; config.loss = .pairwiseLogistic; config.temperature = 0.3
        config.head = head
        let task = SyntheticTask(seed: 2, points: 200, dimension: 6)
        let model = try RerankModel(config: config, dimension: 6, seed: 5)
        var training = TrainingConfig()
        training.epochs = 1; training.batchSize = 4
        var trainer = Trainer(model: model, config: training, seed: 1)
        trainer.train(model, examples: task.examples(0..<8))
        return model
    }

    @Test(arguments: RerankHeadKind.allCases)
    func roundTripIsBitExact(head: RerankHeadKind) throws {
        let model = try trainedModel(head: head)
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

    /// Offset of the head byte in format version 2: magic, version, five u32, two f64, the loss byte.
    static let headByteOffset = 4 + 2 + 5 * 4 + 2 * 8 + 1

    /// `body` followed by its CRC-32C (Castagnoli, reflected), little-endian, as the format ends.
    static func withChecksum(_ body: [UInt8]) -> [UInt8] {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in body {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        crc = ~crc
        return body + (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) }
    }

    /// MLP models (the default, and every model earlier builds stored or exported) are written as
    /// format version 1, which earlier builds read; the same model spelled as version 2 (with the
    /// head byte) reads back identically.
    @Test func mlpModelsStayInFormatOneAndReadTheSameAsVersionTwo() throws {
        let model = try trainedModel(head: .mlp)
        let bytes = model.serialised()
        #expect(bytes[4] == 1 && bytes[5] == 0)
        var body = Array(bytes.dropLast(4))
        body[4] = 2
        body.insert(RerankHeadKind.mlp.rawValue, at: Self.headByteOffset)
        let spelledAsTwo = try RerankModel(serialised: Self.withChecksum(body), expectedDimension: 6)
        #expect(spelledAsTwo.config == model.config && spelledAsTwo.config.head == .mlp)
        for e in SyntheticTask(seed: 2, points: 200, dimension: 6).examples(8..<12) {
            #expect(try spelledAsTwo.scores(e).map(\.bitPattern) == model.scores(e).map(\.bitPattern))
        }
        #expect(spelledAsTwo.serialised() == bytes)
        #expect(try trainedModel(head: .bilinear).serialised()[4] == 2)
    }

    @Test func unknownHeadKindsAndVersionsAreRefused() throws {
        let bytes = try trainedModel(head: .bilinear).serialised()
        var body = Array(bytes.dropLast(4))
        #expect(body[Self.headByteOffset] == RerankHeadKind.bilinear.rawValue)
        body[Self.headByteOffset] = 9
        #expect(throws: LearnError.self) { try RerankModel(serialised: Self.withChecksum(body)) }
        for version: UInt8 in [0, 3] {
            var future = Array(bytes.dropLast(4))
            future[4] = version
            do {
                _ = try RerankModel(serialised: Self.withChecksum(future))
                Issue.record("format version \(version) was accepted")
            } catch {
                #expect(error.code == .corruptModel && error.message.contains("format version \(version)"), "\(error.message)")
            }
        }
        #expect(Self.withChecksum(Array(bytes.dropLast(4))) == bytes, "the test's CRC-32C is the format's")
    }
}
