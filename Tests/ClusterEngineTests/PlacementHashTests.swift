import Testing
@testable import ClusterEngine

/// `StableHash.xxh64` against values of the reference implementation. Shard placement is a
/// function of these values: if one of them changes, data moves, so every constant and branch
/// of the specification (stripes, 8-, 4- and 1-byte tails, seed) is pinned here.
@Suite("Placement: XXH64 stable hash")
struct PlacementHashTests {
    /// The fixed pattern the golden values hash: byte i is (31 i + 7) mod 256.
    static func pattern(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    }

    static let seed: UInt64 = 0x0123_4567_89AB_CDEF

    /// (length, digest with seed 0, digest with `seed`), computed once with the PyPI package
    /// xxhash 4.1.0 (libxxhash 0.8.4):
    /// `[(n, hex(xxhash.xxh64_intdigest(bytes((i * 31 + 7) % 256 for i in range(n)), s))) for s in (0, 0x0123456789ABCDEF)]`
    @Test("digests equal the reference implementation's", arguments: [
        (0, 0xEF46_DB37_51D8_E999, 0x51E2_4C0E_9077_A48C),
        (1, 0xA96C_7F0C_E858_BBB7, 0x63F3_595C_C59F_5425),
        (3, 0x56E6_9576_32A4_87F9, 0x2DD3_DE03_D79B_780F),
        (4, 0xC60D_15B1_E3FF_8F04, 0x881A_72A2_895D_ED30),
        (7, 0xAFBE_FC3D_6C6F_9A8E, 0xC8F1_700A_6FAF_EB9E),
        (8, 0x3DA5_C7AA_2696_83E0, 0x1727_919C_B64B_240F),
        (12, 0x8FE8_AB1C_1FD0_666E, 0xE7E7_DB4C_BB65_59F2),
        (14, 0x1523_F762_201B_A56E, 0x5909_F025_8017_35C4),
        (31, 0x4A74_F3A1_A39A_D4A1, 0x7930_C600_2046_5077),
        (32, 0x8D57_D6A4_671C_C43D, 0x815B_5D25_513B_13B8),
        (33, 0x62C9_FD21_ED85_7664, 0x1CBD_9F0A_49F5_57E8),
        (63, 0x5C32_0A0D_2707_057F, 0xACE5_C92C_3027_5215),
        (64, 0x7BBA_BBC4_5729_D17E, 0xD5E6_B36D_0A90_7EFF),
        (100, 0xEFA0_AD2D_3E70_C151, 0x71B1_B6EA_709B_5C4A),
        (1000, 0x9959_4F48_2804_3D35, 0x2025_9413_565C_BD55),
    ] as [(Int, UInt64, UInt64)])
    func golden(length: Int, seedZero: UInt64, seeded: UInt64) {
        let input = Self.pattern(length)
        #expect(StableHash.xxh64(input) == seedZero)
        #expect(StableHash.xxh64(input, seed: Self.seed) == seeded)
    }

    @Test("the published digest of \"abc\"")
    func abc() {
        // xxhash.xxh64_intdigest(b"abc"); also the value in xxHash's own sanity checks.
        #expect(StableHash.xxh64(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
    }

    @Test("a collection without contiguous storage hashes like its bytes", arguments: [0, 5, 31, 32, 77])
    func nonContiguous(length: Int) {
        let lazy = (0..<length).lazy.map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        #expect(lazy.withContiguousStorageIfAvailable { _ in true } == nil)
        #expect(StableHash.xxh64(lazy, seed: Self.seed) == StableHash.xxh64(Self.pattern(length), seed: Self.seed))
    }

    @Test("a slice hashes its own bytes, not its base's")
    func slice() {
        let bytes = Self.pattern(1000)
        #expect(StableHash.xxh64(bytes[0..<100]) == 0xEFA0_AD2D_3E70_C151)
        #expect(StableHash.xxh64(bytes[1..<101]) != 0xEFA0_AD2D_3E70_C151)
    }
}
