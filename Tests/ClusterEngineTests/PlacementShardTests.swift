import Testing
@testable import ClusterEngine

/// Point id → shard: the canonical key bytes and the multiply-shift reduction, pinned.
@Suite("Placement: shard of a point id")
struct PlacementShardTests {
    /// The 16 bytes of a UUID in canonical text form.
    static func uuidBytes(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8.filter { $0 != UInt8(ascii: "-") })
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)! }
    }

    @Test("a numeric key is 0x00 and the id little endian")
    func numericBytes() {
        #expect(ShardKey(numeric: 42).bytes == [0x00, 42, 0, 0, 0, 0, 0, 0, 0])
        #expect(ShardKey(numeric: 0x0102_0304_0506_0708).bytes == [0x00, 8, 7, 6, 5, 4, 3, 2, 1])
    }

    @Test("a UUID key is 0x01 and its 16 bytes in text order, however it is given")
    func uuidBytes() {
        let expected: [UInt8] = [0x01, 0x55, 0x0E, 0x84, 0x00, 0xE2, 0x9B, 0x41, 0xD4,
                                 0xA7, 0x16, 0x44, 0x66, 0x55, 0x44, 0x00, 0x00]
        let fromBytes = ShardKey(uuid: Self.uuidBytes("550e8400-e29b-41d4-a716-446655440000"))
        let fromHalves = ShardKey(uuidHigh: 0x550E_8400_E29B_41D4, low: 0xA716_4466_5544_0000)
        #expect(fromBytes.bytes == expected)
        #expect(fromHalves == fromBytes)
        #expect(fromHalves.stableHash == StableHash.xxh64(expected))
    }

    @Test("numeric id 0 and the nil UUID are different keys")
    func kindsApart() {
        #expect(ShardKey(numeric: 0).stableHash != ShardKey(uuidHigh: 0, low: 0).stableHash)
    }

    /// (id, xxh64 of its key, shard of 8, shard of 100), from xxhash 4.1.0:
    /// `h = xxhash.xxh64_intdigest(b"\x00" + i.to_bytes(8, "little")); (h * n) >> 64`
    @Test("golden shards of numeric ids", arguments: [
        (0, 0x5149_774F_0DCD_2F3D, 2, 31),
        (1, 0x7A2F_F5C6_EC87_6EB0, 3, 47),
        (7, 0x4C46_A505_1AC9_EAF2, 2, 29),
        (42, 0x91EB_5B75_A9A3_86C9, 4, 56),
        (1000, 0x6933_E167_7613_5168, 3, 41),
        ((1 << 63) - 1, 0x00CC_2FDF_5298_BF90, 0, 0),
        (.max, 0x563B_1F50_1D68_4153, 2, 33),
    ] as [(UInt64, UInt64, UInt32, UInt32)])
    func numericGolden(id: UInt64, hash: UInt64, of8: UInt32, of100: UInt32) {
        #expect(ShardKey(numeric: id).stableHash == hash)
        #expect(ShardPlacement.shard(ofNumeric: id, shards: 8) == of8)
        #expect(ShardPlacement.shard(ofNumeric: id, shards: 100) == of100)
        #expect(ShardPlacement.shard(ofNumeric: id, shards: 1) == 0)
    }

    /// (UUID, xxh64 of its key, shard of 8, shard of 100), from xxhash 4.1.0:
    /// `h = xxhash.xxh64_intdigest(b"\x01" + bytes.fromhex(t.replace("-", ""))); (h * n) >> 64`
    @Test("golden shards of UUIDs", arguments: [
        ("00000000-0000-0000-0000-000000000000", 0xB511_7B0B_6DBB_A1D9, 5, 70),
        ("550e8400-e29b-41d4-a716-446655440000", 0xF1B7_F29B_C864_164E, 7, 94),
        ("ffffffff-ffff-ffff-ffff-ffffffffffff", 0xDDD7_4C07_ED48_F2FA, 6, 86),
        ("123e4567-e89b-12d3-a456-426614174000", 0xE64E_261C_199E_C171, 7, 89),
    ] as [(String, UInt64, UInt32, UInt32)])
    func uuidGolden(text: String, hash: UInt64, of8: UInt32, of100: UInt32) {
        let bytes = Self.uuidBytes(text)
        #expect(ShardKey(uuid: bytes).stableHash == hash)
        #expect(ShardPlacement.shard(ofUUID: bytes, shards: 8) == of8)
        #expect(ShardPlacement.shard(ofUUID: bytes, shards: 100) == of100)
    }

    @Test("shards are in range and doubling the count splits shard s into 2s and 2s+1",
          arguments: [1, 3, 7, 16, 100, 1000] as [UInt32])
    func rangeAndSplit(shards: UInt32) {
        for id in Array(stride(from: UInt64(0), to: 1 << 62, by: 1 << 50)) + Array(0..<2000) {
            let shard = ShardPlacement.shard(ofNumeric: id, shards: shards)
            #expect(shard < shards)
            #expect(ShardPlacement.shard(ofNumeric: id, shards: shards * 2) / 2 == shard)
        }
    }

    @Test("ids spread evenly over shards")
    func spread() {
        // 64 000 sequential ids over 64 shards: each shard's count is binomial with mean 1000
        // and standard deviation about 31; 850 ... 1150 is about five deviations.
        var counts = [Int](repeating: 0, count: 64)
        for id in UInt64(0)..<64_000 { counts[Int(ShardPlacement.shard(ofNumeric: id, shards: 64))] += 1 }
        #expect(counts.min()! >= 850 && counts.max()! <= 1150, "counts per shard \(counts.min()!) ... \(counts.max()!)")
    }
}
