internal import CChecksumKernels

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of every record and file
/// Storage writes, of the engines' serialised models and of files sent over the wire (both ends).
/// With the CPU's CRC-32C instruction when it has one (SSE4.2, arm64 CRC32: several GB/s), else
/// table-driven, slicing by 8 bytes.
///
/// ```swift
/// let crc = CRC32C.checksum(Array("123456789".utf8))   // 0xE3069283
/// let same = CRC32C.checksum(Array("6789".utf8), continuing: CRC32C.checksum(Array("12345".utf8)))
/// ```
public enum CRC32C {
    /// True when checksums run on the CPU's instruction (checked once).
    public static let usesHardware = CChecksumKernels_hasCRC32C() != 0

    private static let tables: [[UInt32]] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            tables[0][byte] = crc
        }
        for byte in 0..<256 {
            for slice in 1..<8 {
                let previous = tables[slice - 1][byte]
                tables[slice][byte] = (previous >> 8) ^ tables[0][Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    /// The CRC of `bytes`, continuing from `crc` (pass a previous result to checksum in parts).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard usesHardware, let base = bytes.baseAddress else { return tableChecksum(bytes, continuing: crc) }
        return ~CChecksumKernels_crc32cUpdate(~crc, base, bytes.count)
    }

    /// The table-driven CRC (the fallback; tests check both agree).
    static func tableChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var crc = ~crc
        var index = 0
        let count = bytes.count
        tables.withUnsafeBufferPointer { t in
            let t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5], t6 = t[6], t7 = t[7]
            while count - index >= 8 {
                let low = crc ^ (UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8
                    | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24)
                crc = t7[Int(low & 0xFF)] ^ t6[Int(low >> 8 & 0xFF)] ^ t5[Int(low >> 16 & 0xFF)] ^ t4[Int(low >> 24)]
                    ^ t3[Int(bytes[index + 4])] ^ t2[Int(bytes[index + 5])] ^ t1[Int(bytes[index + 6])] ^ t0[Int(bytes[index + 7])]
                index += 8
            }
            while index < count {
                crc = (crc >> 8) ^ t0[Int((crc ^ UInt32(bytes[index])) & 0xFF)]
                index += 1
            }
        }
        return ~crc
    }

    /// The CRC of `a` followed by `b`, from the CRC of each and `b`'s length, without reading
    /// either again: `crcA` is carried past `lengthB` bytes (a multiplication by x^(8 lengthB)
    /// modulo the polynomial, by squaring: about 2 log2(lengthB) products of 32 steps) and added
    /// to `crcB`. A writer that must put a checksummed table ahead of what it describes writes
    /// the rest first and checksums the whole file with this.
    public static func combine(_ crcA: UInt32, _ crcB: UInt32, lengthB: Int) -> UInt32 {
        precondition(lengthB >= 0, "a length is not negative")
        // Reflected bit order, as the register: bit 31 is x^0, bit 31 - k is x^k.
        var shift: UInt32 = 0x8000_0000   // x^0
        var power: UInt32 = 0x0080_0000   // x^8: one byte
        var remaining = lengthB
        while remaining > 0 {
            if remaining & 1 != 0 { shift = multiply(power, shift) }
            power = multiply(power, power)
            remaining >>= 1
        }
        return multiply(shift, crcA) ^ crcB
    }

    /// `a` times `b` modulo the polynomial, both in the reflected order.
    private static func multiply(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var product: UInt32 = 0
        var b = b
        var bit: UInt32 = 0x8000_0000
        while bit != 0 {
            if a & bit != 0 { product ^= b }
            b = b & 1 != 0 ? (b >> 1) ^ 0x82F6_3B78 : b >> 1
            bit >>= 1
        }
        return product
    }

    /// The CRC of an array of bytes.
    public static func checksum(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, continuing: crc) }
    }

    /// The CRC of any bytes (a slice, a data chunk); in place when they are contiguous.
    public static func checksum(_ bytes: some Collection<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
        if let result = bytes.withContiguousStorageIfAvailable({ checksum(UnsafeRawBufferPointer($0), continuing: crc) }) {
            return result
        }
        return checksum(Array(bytes), continuing: crc)
    }
}
