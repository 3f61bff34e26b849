import LearnEngine
import Testing

/// The byte coding of the model formats (LearnEngine's and RouteEngine's).
@Suite struct ByteCodingTests {
    @Test func writesLittleEndianAndReadsBack() {
        var w = ByteWriter()
        w.u8(0xAB)
        w.u16(0x0102)
        w.u32(0x0304_0506)
        w.u64(0x0708_090A_0B0C_0D0E)
        w.bytes([9, 8])
        #expect(w.buffer == [0xAB, 0x02, 0x01, 0x06, 0x05, 0x04, 0x03, 0x0E, 0x0D, 0x0C, 0x0B, 0x0A, 0x09, 0x08, 0x07, 9, 8])
        var r = ByteReader(w.buffer[...])
        #expect(r.u8() == 0xAB && r.u16() == 0x0102 && r.u32() == 0x0304_0506 && r.u64() == 0x0708_090A_0B0C_0D0E)
        #expect(r.remaining == 2 && r.take(2) == [9, 8] && r.isAtEnd)
    }

    @Test func readsPastTheEndGiveNil() {
        let bytes: [UInt8] = [1, 2, 3, 4, 5]
        var r = ByteReader(bytes[1...])   // a slice that does not start at 0
        #expect(r.u64() == nil)
        #expect(r.u32() == 0x0504_0302)
        #expect(r.u8() == nil && r.take(1) == nil && r.take(-1) == nil && r.isAtEnd)
    }

    @Test func finiteFloatsRefusesNaNInfinityAndShortInput() {
        func encoded(_ values: [Float]) -> [UInt8] {
            var w = ByteWriter()
            for v in values { w.u32(v.bitPattern) }
            return w.buffer
        }
        var good = ByteReader(encoded([1.5, -2, 0])[...])
        #expect(good.finiteFloats(3) == [1.5, -2, 0])
        var nan = ByteReader(encoded([1, .nan])[...])
        #expect(nan.finiteFloats(2) == nil)
        var infinite = ByteReader(encoded([.infinity])[...])
        #expect(infinite.finiteFloats(1) == nil)
        var short = ByteReader(encoded([1, 2])[...])
        #expect(short.finiteFloats(3) == nil && short.remaining == 8)
    }
}
