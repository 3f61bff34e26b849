/// A point id in the canonical bytes that sharding hashes, so that every node, every
/// version and every client library puts a point in the same shard.
///
/// - a numeric id: byte `0x00`, then the 8 bytes of the id, little endian;
/// - a UUID: byte `0x01`, then its 16 bytes in the order of its text form (RFC 9562 network
///   order: `550e8400-...` starts with `0x55, 0x0e`).
///
/// The leading kind byte keeps the two kinds apart, as point ids are (7 and a UUID never hash
/// the same bytes).
public struct ShardKey: Hashable, Sendable {
    /// `0x00` for a numeric id, `0x01` for a UUID.
    public let kind: UInt8
    /// Numeric id: the id. UUID: its first 8 bytes, big endian.
    private let first: UInt64
    /// UUID: its last 8 bytes, big endian (0 for a numeric id, and not hashed).
    private let second: UInt64

    /// The key of numeric point id `id`.
    public init(numeric id: UInt64) {
        kind = 0x00; first = id; second = 0
    }

    /// The key of the UUID whose first and last 64 bits (as read from its text, most
    /// significant first) are `high` and `low`: the halves `PointUUID` keeps.
    public init(uuidHigh high: UInt64, low: UInt64) {
        kind = 0x01; first = high; second = low
    }

    /// The key of the UUID of these 16 bytes (text order).
    /// - Precondition: `bytes.count == 16` (a UUID parsed from text always has 16).
    public init(uuid bytes: [UInt8]) {
        precondition(bytes.count == 16, "a UUID has 16 bytes, got \(bytes.count)")
        let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        self.init(uuidHigh: high, low: low)
    }

    /// The canonical bytes: 9 for a numeric id, 17 for a UUID.
    public var bytes: [UInt8] {
        withBytes { Array($0) }
    }

    /// XXH64 (seed 0) of `bytes`: where the point falls in the space of shards.
    public var stableHash: UInt64 {
        withBytes { XXH64.digest($0, seed: 0) }
    }

    /// Calls `body` with the canonical bytes in a stack buffer (routing a batch of points
    /// allocates nothing per point).
    private func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        let count = kind == 0x00 ? 9 : 17
        return withUnsafeTemporaryAllocation(byteCount: count, alignment: 1) { buffer in
            buffer[0] = kind
            if kind == 0x00 {
                buffer.storeBytes(of: first.littleEndian, toByteOffset: 1, as: UInt64.self)
            } else {
                buffer.storeBytes(of: first.bigEndian, toByteOffset: 1, as: UInt64.self)
                buffer.storeBytes(of: second.bigEndian, toByteOffset: 9, as: UInt64.self)
            }
            return body(UnsafeRawBufferPointer(buffer))
        }
    }
}
