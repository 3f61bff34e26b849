/// Little-endian encoding for the model format (its CRC-32C is Checksums').
///
/// LearnEngine has the same helpers, but internal. Making LearnEngine's visible would let both share one.
enum ByteCoding {
    /// Appends `value`'s bytes, least significant first.
    static func append<I: FixedWidthInteger>(_ value: I, to buffer: inout [UInt8]) {
        for k in 0..<(I.bitWidth / 8) { buffer.append(UInt8(truncatingIfNeeded: value >> (8 * k))) }
    }
}

/// Reads little-endian values from untrusted bytes: each read returns nil past the end, never traps.
struct ByteCursor {
    let bytes: ArraySlice<UInt8>
    private(set) var offset: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        offset = bytes.startIndex
    }

    /// Bytes not read yet.
    var remaining: Int { bytes.endIndex - offset }

    mutating func read(count n: Int) -> ArraySlice<UInt8>? {
        guard n >= 0, remaining >= n else { return nil }
        defer { offset += n }
        return bytes[offset ..< offset + n]
    }

    mutating func read<I: FixedWidthInteger>(_: I.Type) -> I? {
        guard let raw = read(count: I.bitWidth / 8) else { return nil }
        return raw.reversed().reduce(I(0)) { ($0 << 8) | I(truncatingIfNeeded: $1) }
    }

    /// `count` finite f32 values, or nil when short or when any is NaN or infinite.
    mutating func readFiniteFloats(_ count: Int) -> [Float]? {
        guard count >= 0, remaining / 4 >= count else { return nil }
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            guard let bits = read(UInt32.self) else { return nil }
            out[i] = Float(bitPattern: bits)
            guard out[i].isFinite else { return nil }
        }
        return out
    }
}
