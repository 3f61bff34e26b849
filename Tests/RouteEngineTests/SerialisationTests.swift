import Checksums
import Testing
import LearnEngine
@testable import RouteEngine

/// The model format: exact round trips, and refusal (never a trap) of damaged bytes.
@Suite struct SerialisationTests {
    func models() throws -> [FastGRNNModel] {
        let network = try FastGRNNNetwork<Float>(config: FastGRNNConfig(inputs: 5, classes: 3, hidden: 8, timeSteps: 4, wRank: 2),
                                                 seed: 4)
        FastGRNNTrainer<Float>.hardThreshold(network.prunableMatrices, keepFraction: 0.4)
        let full = try FastGRNNNetwork<Float>(config: FastGRNNConfig(inputs: 3, classes: 2, hidden: 6, timeSteps: 2), seed: 5)
        return [FastGRNNModel(network), FastGRNNModel(network).quantized(), FastGRNNModel(full), FastGRNNModel(full).quantized()]
    }

    @Test func roundTripIsExact() throws {
        for model in try models() {
            let bytes = model.serialised()
            let back = try FastGRNNModel(serialised: bytes)
            #expect(back == model)
            #expect(back.serialised() == bytes)
            let x = (0..<model.config.sequenceLength).map { Float($0 % 5) - 2 }
            #expect(try back.logits(x) == model.logits(x))
        }
    }

    @Test func sizeCountsTheSparseInt8Encoding() throws {
        let m = try models()
        // 8x2 + 2x5 + 8x8 + 3x8 = 114 weights; 8 + 8 + 2 + 3 bias and scalar floats; 31-byte header, 4-byte CRC.
        #expect(m[0].serialisedByteCount == 31 + 4 * (114 + 21) + 4)
        let nonZero = m[1].nonZeroWeights
        // Per matrix: f32 scale, u32 count, bitmap; then one byte per non-zero weight.
        #expect(m[1].serialisedByteCount == 31 + 4 * 8 + (2 + 2 + 8 + 3) + nonZero + 4 * 21 + 4)
    }

    @Test func everyFlippedByteAndEveryTruncationIsRefused() throws {
        for model in try models() {
            let bytes = model.serialised()
            for i in bytes.indices {
                var damaged = bytes
                damaged[i] ^= 0x5A
                #expect(throws: LearnError.self) { try FastGRNNModel(serialised: damaged) }
            }
            for n in 0..<bytes.count {
                #expect(throws: LearnError.self) { try FastGRNNModel(serialised: Array(bytes.prefix(n))) }
            }
            #expect(throws: LearnError.self) { try FastGRNNModel(serialised: bytes + [0]) }
        }
    }

    @Test func wellChecksummedHostileHeadersAreRefused() throws {
        // A valid checksum over nonsense: the parser must still refuse, not allocate or trap.
        func sealed(_ body: [UInt8]) -> [UInt8] {
            var w = ByteWriter()
            w.bytes(body)
            w.u32(CRC32C.checksum(body))
            return w.buffer
        }
        func header(_ values: [UInt32]) -> [UInt8] {
            var w = ByteWriter()
            w.bytes(FastGRNNModel.serialisationMagic + [1, 0, 0])
            for v in values { w.u32(v) }
            return w.buffer
        }
        #expect(throws: LearnError.self) { try FastGRNNModel(serialised: sealed(header([4096, 1024, 1024, 1024, 0, 0]))) }
        #expect(throws: LearnError.self) { try FastGRNNModel(serialised: sealed(header([3, 4, 2, 1, 9, 0]))) }
        var seeded = SeededGenerator(seed: 77)
        for _ in 0..<2000 {
            let n = Int(seeded.next() % 200)
            var body = FastGRNNModel.serialisationMagic + [1, 0, UInt8(seeded.next() % 3)]
            body += (0..<n).map { _ in UInt8(truncatingIfNeeded: seeded.next() % 8) }
            #expect(throws: LearnError.self) { try FastGRNNModel(serialised: sealed(body)) }
        }
    }
}
