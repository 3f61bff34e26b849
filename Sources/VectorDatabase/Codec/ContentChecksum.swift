import Storage
import VectorEngine

/// An order-independent 64-bit checksum of a set of points, for telling whether two replicas
/// hold the same points: each point (key, vector bit patterns, payload) is encoded canonically
/// (payload keys sorted, as in the log) and hashed alone, and the point hashes are added up,
/// so neither the order the points were written in nor the shape of the graph changes it.
/// Not cryptographic: it finds accidental divergence, not a forger.
struct ContentChecksum {
    private var sum: UInt64 = 0
    private var count: UInt64 = 0

    /// Adds one point.
    mutating func add(key: PointKey, vector: [Float], payload: Payload) {
        var w = BinaryWriter()
        switch key {
        case .number(let n): w.u8(0); w.u64(n)
        case .uuid(let u): w.u8(1); w.u64(u.high); w.u64(u.low)
        }
        w.floats(vector)
        CollectionCodec.write(payload, &w)
        sum &+= Self.hash(w.bytes)
        count += 1
    }

    /// The checksum of the points added (the count is mixed in, so no points and a sum that
    /// wrapped to 0 differ).
    var value: UInt64 { Self.mix(sum ^ Self.mix(count &+ 0x9E37_79B9_7F4A_7C15)) }

    /// A 64-bit hash of `bytes`: eight bytes at a time, each word folded into the state
    /// through `mix` (a bijection), the length first so a shorter input is not a prefix match.
    static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { raw in
            var state = mix(UInt64(raw.count) ^ 0x5851_F42D_4C95_7F2D)
            var offset = 0
            while offset + 8 <= raw.count {
                state = mix(state ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
                offset += 8
            }
            var tail: UInt64 = 0
            for index in offset..<raw.count { tail |= UInt64(raw[index]) << (8 * UInt64(index - offset)) }
            return mix(state ^ tail)
        }
    }

    /// The SplitMix64 finalizer (Steele, Lea and Flood 2014): every input bit moves about half
    /// of the output bits.
    static func mix(_ value: UInt64) -> UInt64 {
        var x = value
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 31)
    }
}
