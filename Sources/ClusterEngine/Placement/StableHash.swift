/// Hashes whose values are part of the cluster's on-disk and on-wire contract.
///
/// Shard placement is decided by hashing point ids and node names: if the hash ever changed,
/// every point would belong to another shard and every shard to other nodes, and a node
/// upgrade would move the whole data set. So the hash is written here, from its
/// specification, and pinned by golden values in the tests; it never comes from a library
/// (RuVector's Rust code placed shards with a hasher whose output changes between versions).
public enum StableHash {
    /// XXH64 of `bytes`, exactly as the xxHash specification defines it
    /// (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md): equal to
    /// `xxhash.xxh64_intdigest(bytes, seed)` of the Python `xxhash` package and `XXH64()` of
    /// the C library, on every CPU.
    ///
    /// ```swift
    /// StableHash.xxh64(Array("docs/7".utf8))
    /// ```
    ///
    /// - Parameters:
    ///   - bytes: the message; contiguous collections (`Array`, `String.UTF8View` of a native
    ///     string, ...) are read in place, others are copied once.
    ///   - seed: picks an independent hash function; 0 unless two uses must not correlate.
    public static func xxh64(_ bytes: some Collection<UInt8>, seed: UInt64 = 0) -> UInt64 {
        if let digest = bytes.withContiguousStorageIfAvailable({ XXH64.digest(UnsafeRawBufferPointer($0), seed: seed) }) {
            return digest
        }
        return Array(bytes).withUnsafeBytes { XXH64.digest($0, seed: seed) }
    }
}

/// The XXH64 steps of the specification, over raw bytes (the one place this folder reads memory
/// unsafely: lanes are loaded unaligned, little endian, within the buffer's bounds).
enum XXH64 {
    static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
    static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

    /// Bytes per stripe: four lanes of 8 bytes, one per accumulator.
    static let stripeBytes = 32

    static func digest(_ input: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let length = input.count
        var offset = 0
        var acc: UInt64
        if length >= stripeBytes {
            // Step 1: four accumulators, then step 2 over every whole stripe.
            var acc1 = seed &+ prime1 &+ prime2
            var acc2 = seed &+ prime2
            var acc3 = seed
            var acc4 = seed &- prime1
            while length - offset >= stripeBytes {
                acc1 = round(acc1, lane64(input, offset))
                acc2 = round(acc2, lane64(input, offset + 8))
                acc3 = round(acc3, lane64(input, offset + 16))
                acc4 = round(acc4, lane64(input, offset + 24))
                offset += stripeBytes
            }
            // Step 3: convergence.
            acc = rotl(acc1, 1) &+ rotl(acc2, 7) &+ rotl(acc3, 12) &+ rotl(acc4, 18)
            acc = merge(acc, acc1)
            acc = merge(acc, acc2)
            acc = merge(acc, acc3)
            acc = merge(acc, acc4)
        } else {
            // Under one stripe the specification uses a single accumulator.
            acc = seed &+ prime5
        }
        // Step 4: the length takes part in the mix.
        acc = acc &+ UInt64(length)
        // Step 5: the last 0 ... 31 bytes.
        while length - offset >= 8 {
            acc ^= round(0, lane64(input, offset))
            acc = rotl(acc, 27) &* prime1 &+ prime4
            offset += 8
        }
        if length - offset >= 4 {
            acc ^= UInt64(lane32(input, offset)) &* prime1
            acc = rotl(acc, 23) &* prime2 &+ prime3
            offset += 4
        }
        while offset < length {
            acc ^= UInt64(input[offset]) &* prime5
            acc = rotl(acc, 11) &* prime1
            offset += 1
        }
        // Step 6: avalanche.
        acc ^= acc >> 33
        acc = acc &* prime2
        acc ^= acc >> 29
        acc = acc &* prime3
        acc ^= acc >> 32
        return acc
    }

    /// The specification's round: folds one 8-byte lane into an accumulator.
    @inline(__always)
    static func round(_ acc: UInt64, _ lane: UInt64) -> UInt64 {
        rotl(acc &+ lane &* prime2, 31) &* prime1
    }

    /// The specification's mergeAccumulator (step 3).
    @inline(__always)
    static func merge(_ acc: UInt64, _ accN: UInt64) -> UInt64 {
        (acc ^ round(0, accN)) &* prime1 &+ prime4
    }

    @inline(__always)
    static func rotl(_ x: UInt64, _ bits: UInt64) -> UInt64 {
        (x << bits) | (x >> (64 - bits))
    }

    @inline(__always)
    static func lane64(_ input: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always)
    static func lane32(_ input: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: input.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}
