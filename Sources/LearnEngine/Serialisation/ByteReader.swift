/// Reads little-endian values from untrusted bytes (what `ByteWriter` wrote): every read returns
/// nil past the end instead of trapping. Package-wide, like `ByteWriter`.
package struct ByteReader {
    let data: ArraySlice<UInt8>
    private(set) var position: Int

    package init(_ data: ArraySlice<UInt8>) {
        self.data = data
        position = data.startIndex
    }

    /// True when every byte was read.
    package var isAtEnd: Bool { position == data.endIndex }
    /// Bytes not read yet.
    package var remaining: Int { data.endIndex - position }

    /// The next `n` bytes, or nil when fewer are left.
    package mutating func take(_ n: Int) -> ArraySlice<UInt8>? {
        guard n >= 0, remaining >= n else { return nil }
        defer { position += n }
        return data[position..<(position + n)]
    }

    package mutating func integer<I: FixedWidthInteger & UnsignedInteger>(_: I.Type) -> I? {
        guard let b = take(I.bitWidth / 8) else { return nil }
        var v: I = 0
        for (k, byte) in b.enumerated() { v |= I(byte) << (8 * k) }
        return v
    }

    package mutating func u8() -> UInt8? { integer(UInt8.self) }
    package mutating func u16() -> UInt16? { integer(UInt16.self) }
    package mutating func u32() -> UInt32? { integer(UInt32.self) }
    package mutating func u64() -> UInt64? { integer(UInt64.self) }

    /// `count` f32 values, or nil when fewer are left or any is NaN or infinite.
    package mutating func finiteFloats(_ count: Int) -> [Float]? {
        guard count >= 0, remaining / 4 >= count else { return nil }
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            guard let bits = u32() else { return nil }
            out[i] = Float(bitPattern: bits)
            guard out[i].isFinite else { return nil }
        }
        return out
    }
}
