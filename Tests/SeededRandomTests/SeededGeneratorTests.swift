@testable import ClusterEngine
import LearnEngine
import Testing
import VectorEngine

/// The engines' two SeededGenerator copies (VectorEngine's and LearnEngine's), as they are before
/// they are folded into one: both must give these values, so the fold changes no seeded result.
protocol GeneratorUnderTest: RandomNumberGenerator {
    init(seed: UInt64)
    mutating func nextUnitOpen() -> Double
    mutating func nextGaussian() -> Double
}

extension VectorEngine.SeededGenerator: GeneratorUnderTest {}
extension LearnEngine.SeededGenerator: GeneratorUnderTest {}

/// Golden values: the first outputs for fixed seeds, as the generators produced them when this
/// test was written. A change here changes every seeded HNSW graph, k-means codebook, initial
/// weight and dropout mask.
@Suite struct SeededGeneratorTests {
    static let generators: [(name: String, type: any GeneratorUnderTest.Type, gaussianTolerance: Double)] = [
        // VectorEngine computes log and cos by series (within a few ulps of libm's); LearnEngine uses libm.
        ("VectorEngine", VectorEngine.SeededGenerator.self, 1e-15),
        ("LearnEngine", LearnEngine.SeededGenerator.self, 0),
    ]

    static let firstValues: [(seed: UInt64, values: [UInt64])] = [
        (0, [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC]),
        (42, [0xBDD7_3226_2FEB_6E95, 0x28EF_E333_B266_F103, 0x4752_6757_130F_9F52, 0x581C_E1FF_0E4A_E394]),
        (0xDEAD_BEEF, [0x4ADF_B90F_68C9_EB9B, 0xDE58_6A31_41A1_0922, 0x021F_BC2F_8E1C_FC1D, 0x7466_CE73_7BE1_6790]),
    ]

    @Test(arguments: 0..<2)
    func firstValuesOfFixedSeeds(_ index: Int) {
        let generator = Self.generators[index]
        for (seed, values) in Self.firstValues {
            var g = generator.type.init(seed: seed)
            #expect((0..<values.count).map { _ in g.next() } == values, "\(generator.name), seed \(seed)")
        }
    }

    @Test(arguments: 0..<2)
    func unitOpenAndGaussianValues(_ index: Int) {
        let generator = Self.generators[index]
        var u = generator.type.init(seed: 7)
        let units = (0..<4).map { _ in u.nextUnitOpen().bitPattern }
        #expect(units == [0x3FD8_F2F8_7916_4C83, 0x3F91_30F3_5FD0_F190, 0x3FEC_D308_1017_5626, 0x3FE2_A75D_6E0C_E7C6],
                "\(generator.name)")
        var n = generator.type.init(seed: 7)
        let gaussians: [UInt64] = [0x3FF5_D702_29CD_EE62, 0xBFD9_60A6_1872_E245, 0x3F72_6D0B_EBC9_6DB7, 0xBFE2_9461_D47F_64D2,
                                   0xBFFB_67FE_497F_AD87, 0x4000_7F8B_9C87_5D66]
        for expected in gaussians.map(Double.init(bitPattern:)) {
            let value = n.nextGaussian()
            #expect(abs(value - expected) <= generator.gaussianTolerance, "\(generator.name): \(value) vs \(expected)")
        }
    }

    @Test(arguments: 0..<2)
    func standardLibraryDrawsThroughIt(_ index: Int) {
        // Int.random(in:using:) and shuffles draw from next(): the values users of the generator see.
        var g = Self.generators[index].type.init(seed: 9)
        #expect(Self.draws(&g) == [682, 750, 265, 784, 262, 114], "\(Self.generators[index].name)")
    }

    static func draws(_ g: inout some GeneratorUnderTest) -> [Int] {
        (0..<6).map { _ in Int.random(in: 0..<1000, using: &g) }
    }
}

/// ClusterEngine's SplitMix64 (the Raft election timer's generator) is the same algorithm: the same
/// golden values, and `mix(x)` is the first value of a generator seeded with x.
@Suite struct ClusterEngineSplitMixTests {
    @Test func sameValuesAsTheEngineGenerators() {
        for (seed, values) in SeededGeneratorTests.firstValues {
            var g = SplitMix64(state: seed)
            #expect((0..<values.count).map { _ in g.next() } == values, "seed \(seed)")
            #expect(SplitMix64.mix(seed) == values[0])
        }
        var g = SplitMix64(state: 9)
        #expect((0..<6).map { _ in g.below(1000) } == [228, 106, 638, 584, 601, 150])
    }
}
