import ClusterEngine
import RPC
import Storage
import Wire

/// What a cluster snapshot of a sharded collection holds besides its shards' snapshot files:
/// the collection's configuration (its CreateCollection request: dimension, metric, index
/// settings), its shard count and, per shard, where that shard's snapshot came from. Encoded
/// with `BinaryWriter` as the manifest of a `SnapshotBundle` whose part n is shard n's file.
struct ClusterSnapshotManifest: Equatable, Sendable {
    /// One shard's snapshot: taken on the shard's primary (`node`) at `epoch`, covering its
    /// log through `walSequence`.
    struct Shard: Equatable, Sendable {
        var snapshotName: String
        var sizeBytes: UInt64
        var crc32c: UInt32
        var walSequence: UInt64
        var epoch: UInt64
        var node: UInt64
    }

    static let version: UInt32 = 1
    var collection: String
    var createdUnixMicros: Int64
    /// The node that assembled the snapshot (it stores the file).
    var node: UInt64
    /// The collection's CreateCollection request as the cluster's metadata holds it.
    var request: [UInt8]
    var dimension: UInt32
    var metric: UInt32
    var replicationFactor: UInt32
    var shards: [Shard]

    var encoded: [UInt8] {
        var w = BinaryWriter()
        w.u32(Self.version)
        w.string(collection)
        w.u64(UInt64(bitPattern: createdUnixMicros))
        w.u64(node)
        w.u8s(request)
        w.u32(dimension)
        w.u32(metric)
        w.u32(replicationFactor)
        w.u32(UInt32(shards.count))
        for shard in shards {
            w.string(shard.snapshotName)
            w.u64(shard.sizeBytes)
            w.u32(shard.crc32c)
            w.u64(shard.walSequence)
            w.u64(shard.epoch)
            w.u64(shard.node)
        }
        return w.bytes
    }

    /// Decodes and checks a manifest from the network or a disk: the shard count within
    /// `ShardedCollections.maxShards`, the configuration a valid CreateCollection request.
    init(decoding bytes: [UInt8]) throws {
        var r = BinaryReader(bytes)
        do {
            let version = try r.u32()
            guard version == Self.version else {
                throw RPCError(.invalidArgument, "cluster snapshot manifest version \(version); this server reads \(Self.version)")
            }
            collection = try r.string()
            createdUnixMicros = Int64(bitPattern: try r.u64())
            node = try r.u64()
            request = try r.u8s()
            dimension = try r.u32()
            metric = try r.u32()
            replicationFactor = try r.u32()
            let count = try r.u32()
            guard (1...ShardedCollections.maxShards).contains(count) else {
                throw RPCError(.invalidArgument, "the cluster snapshot claims \(count) shards; a collection has 1-\(ShardedCollections.maxShards)")
            }
            shards = []
            for _ in 0..<count {
                shards.append(Shard(snapshotName: try r.string(), sizeBytes: try r.u64(), crc32c: try r.u32(),
                                    walSequence: try r.u64(), epoch: try r.u64(), node: try r.u64()))
            }
            guard r.isAtEnd else { throw RPCError(.invalidArgument, "the cluster snapshot manifest has trailing bytes") }
        } catch is BinaryReader.Truncated {
            throw RPCError(.invalidArgument, "the cluster snapshot manifest is cut short")
        }
    }

    init(collection: String, createdUnixMicros: Int64, node: UInt64, request: [UInt8], dimension: UInt32, metric: UInt32,
         replicationFactor: UInt32, shards: [Shard]) {
        self.collection = collection
        self.createdUnixMicros = createdUnixMicros
        self.node = node
        self.request = request
        self.dimension = dimension
        self.metric = metric
        self.replicationFactor = replicationFactor
        self.shards = shards
    }

    /// The CreateCollection request that re-creates the collection as `name`: the snapshot's
    /// configuration and shard count, the cluster's current default replication factor.
    func createRequest(named name: String, limits: VectorServiceLimits) throws -> RuvectorV1.CreateCollectionRequest {
        var create: RuvectorV1.CreateCollectionRequest
        do { create = try RuvectorV1.CreateCollectionRequest(decoding: request) } catch {
            throw RPCError(.invalidArgument, "the cluster snapshot's collection configuration does not decode")
        }
        guard create.dimension == dimension, UInt32(bitPattern: create.metric.rawValue) == metric else {
            throw RPCError(.invalidArgument, "the cluster snapshot's manifest and configuration disagree on dimension or metric")
        }
        create.name = name
        create.shards = UInt32(shards.count)
        create.replicationFactor = 0
        _ = try VectorService.mapped { try VectorMapping.config(create, limits: limits) }
        return create
    }
}

/// Names of cluster snapshot files: `cluster-<20-digit creation micros>-n<node id>.rvcsnap`.
/// The node that stores the file is in its name, so any node can send a download or a restore
/// by name there; anything else from the network never reaches the file system.
enum ClusterSnapshotName {
    static let prefix = "cluster-"
    static let suffix = ".rvcsnap"

    static func make(createdUnixMicros: Int64, node: UInt64) -> String {
        let digits = String(max(0, createdUnixMicros))
        return prefix + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + "-n\(node)" + suffix
    }

    /// The node holding the file, when `name` is a cluster snapshot name.
    static func node(of name: String) -> UInt64? {
        let bytes = Array(name.utf8)
        let head = Array(prefix.utf8), tail = Array(suffix.utf8)
        guard bytes.count > head.count + 20 + 2 + tail.count, bytes.count <= 64,
              Array(bytes.prefix(head.count)) == head, Array(bytes.suffix(tail.count)) == tail else { return nil }
        let digits = bytes[head.count..<(head.count + 20)]
        guard digits.allSatisfy({ (0x30...0x39).contains($0) }),
              bytes[head.count + 20] == UInt8(ascii: "-"), bytes[head.count + 21] == UInt8(ascii: "n") else { return nil }
        let nodeDigits = bytes[(head.count + 22)..<(bytes.count - tail.count)]
        guard !nodeDigits.isEmpty, nodeDigits.count <= 19, nodeDigits.allSatisfy({ (0x30...0x39).contains($0) }),
              let node = UInt64(String(decoding: nodeDigits, as: UTF8.self)), node != 0 else { return nil }
        return node
    }
}
