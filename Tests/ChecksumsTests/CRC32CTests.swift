@testable import Checksums
import Testing

@Suite("CRC-32C")
struct CRC32CTests {
    @Test("known vectors (RFC 3720 B.4 and the check value)")
    func vectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
        #expect(CRC32C.checksum([]) == 0)
    }

    @Test("the hardware and the table-driven CRC agree at every length and alignment")
    func hardwareMatchesTable() {
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ 17) }
        bytes.withUnsafeBytes { raw in
            for start in 0..<9 {
                for end in stride(from: start, through: raw.count, by: 7) {
                    let part = UnsafeRawBufferPointer(rebasing: raw[start..<end])
                    #expect(CRC32C.checksum(part, continuing: 0x1234_5678) == CRC32C.tableChecksum(part, continuing: 0x1234_5678))
                }
            }
        }
        #expect(CRC32C.tableChecksum(UnsafeRawBufferPointer(start: nil, count: 0)) == 0)
    }

    @Test("checksumming in parts equals checksumming the whole, at every split")
    func incremental() {
        let bytes = (0..<100).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
        let whole = CRC32C.checksum(bytes)
        for split in 0...bytes.count {
            #expect(CRC32C.checksum(Array(bytes[split...]), continuing: CRC32C.checksum(Array(bytes[..<split]))) == whole)
        }
    }

    @Test("combining two parts' checksums equals checksumming the whole, at every split and past a page")
    func combine() {
        let bytes = (0..<9_000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        let whole = CRC32C.checksum(bytes)
        for split in Array(0...70) + [4_095, 4_096, 4_097, 8_999, 9_000] {
            let head = CRC32C.checksum(Array(bytes[..<split])), tail = CRC32C.checksum(Array(bytes[split...]))
            #expect(CRC32C.combine(head, tail, lengthB: bytes.count - split) == whole, "split \(split)")
        }
        // Long runs of zeros, as a snapshot's padding is.
        let zeros = [UInt8](repeating: 0, count: 100_000)
        #expect(CRC32C.combine(CRC32C.checksum(bytes), CRC32C.checksum(zeros), lengthB: zeros.count)
                == CRC32C.checksum(zeros, continuing: whole))
    }
}
