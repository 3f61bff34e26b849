import ClusterEngine
import Storage

/// The cluster's metadata: the state machine Raft replicates. Every node applies the same
/// commands in the same order and so holds the same members, collections and settings; the
/// outcome of a command (created, already there...) is the same on every node too, so the
/// node a client called can answer from its own copy once it applied the command.
public struct ClusterMetadata: Sendable, Equatable {
    /// A node of the cluster, as the log recorded it.
    public struct Member: Sendable, Equatable {
        /// Its id (non-zero, unique).
        public var id: NodeID
        /// Where clients and peers reach it, HOST:PORT.
        public var address: String
        /// The memory it may hold (its `--memory-limit`), as it reported it; 0 until it does.
        public var capacityBytes: UInt64 = 0
        /// Leaving: no new shard is placed on it and its copies move to the other members
        /// (`Leave` removes it once they have).
        public var draining = false

        public init(id: NodeID, address: String, capacityBytes: UInt64 = 0, draining: Bool = false) {
            self.id = id
            self.address = address
            self.capacityBytes = capacityBytes
            self.draining = draining
        }
    }

    /// A shard of a collection: the nodes holding it, which of them takes the writes, and the
    /// epoch that names this choice (it grows on every change of primary, so a write or a
    /// replicated record from a former primary is recognised and refused).
    public struct Shard: Sendable, Equatable {
        /// The node that takes the shard's writes and ships its log to the replicas.
        public var primary: NodeID
        /// The other nodes holding a copy, in placement order.
        public var replicas: [NodeID]
        /// 1 at creation, +1 on every change of primary.
        public var epoch: UInt64
        /// Nodes receiving a copy (a move in progress): they follow the primary's log like
        /// replicas but no write waits for them, until a later change makes them replicas.
        public var incoming: [NodeID]
        /// The copy (a replica or an incoming one) a planned move hands the primary to (0:
        /// none). While it is set the primary takes no writes; once the primary reports its log
        /// sealed and this copy has all of it, the switch makes it the primary (or a cancel
        /// clears it). So no write the old primary acknowledges can be missing on the new one.
        public var handoff: NodeID

        public init(primary: NodeID, replicas: [NodeID], epoch: UInt64 = 1, incoming: [NodeID] = [], handoff: NodeID = 0) {
            self.primary = primary
            self.replicas = replicas
            self.epoch = epoch
            self.incoming = incoming
            self.handoff = handoff
        }

        /// Every node holding the shard, the primary first.
        public var holders: [NodeID] { [primary] + replicas }
        /// Every node with a copy, complete or arriving.
        public var copies: [NodeID] { holders + incoming }
    }

    /// A collection created through the log.
    public struct Collection: Sendable, Equatable {
        public var name: String
        public var dimension: UInt32
        /// The wire value of the collection's metric (`ruvector.v1.Metric`).
        public var metric: UInt32
        /// The client's CreateCollection request, encoded: every node creates the collection
        /// from the same bytes.
        public var request: [UInt8]
        /// Index of the entry that created it.
        public var createdIndex: UInt64
        /// The shards, placed by the proposer (so a change of the placement rule in a later
        /// version never makes two nodes replaying the same log disagree). Empty for a
        /// collection made before sharding: every node holds all of it, written locally.
        public var shards: [Shard] = []
        /// Copies of each shard, primary included.
        public var replicationFactor: UInt32 = 1
        /// The wire value of the default `ruvector.v1.ReplicationMode` of its writes.
        public var writeConsistency: UInt32 = 0
        /// Replicas a semi-sync write waits for.
        public var minReplicas: UInt32 = 1

        public init(name: String, dimension: UInt32, metric: UInt32, request: [UInt8], createdIndex: UInt64,
                    shards: [Shard] = [], replicationFactor: UInt32 = 1, writeConsistency: UInt32 = 0, minReplicas: UInt32 = 1) {
            self.name = name
            self.dimension = dimension
            self.metric = metric
            self.request = request
            self.createdIndex = createdIndex
            self.shards = shards
            self.replicationFactor = replicationFactor
            self.writeConsistency = writeConsistency
            self.minReplicas = minReplicas
        }

        /// True when its points are split over shards held by chosen nodes.
        public var isSharded: Bool { !shards.isEmpty }

        /// Shard `number`, if the collection has it.
        public func shard(_ number: UInt32) -> Shard? {
            shards.indices.contains(Int(number)) ? shards[Int(number)] : nil
        }
    }

    /// Cluster-wide defaults for new collections (a CreateCollection that leaves them unset).
    public struct Settings: Sendable, Equatable {
        /// Copies of each shard, primary included (0: min(3, members) at creation).
        public var replicationFactor: UInt32 = 0
        /// The wire value of `ruvector.v1.ReplicationMode` (0 = server default, async).
        public var replicationMode: UInt32 = 0

        public init(replicationFactor: UInt32 = 0, replicationMode: UInt32 = 0) {
            self.replicationFactor = replicationFactor
            self.replicationMode = replicationMode
        }
    }

    /// One shard's promotion (see `Command.promoteShard`).
    public struct Promotion: Sendable, Equatable {
        public var collection: String
        public var shard: UInt32
        public var primary: NodeID
        /// The epoch the promotion was decided at.
        public var epoch: UInt64

        public init(collection: String, shard: UInt32, primary: NodeID, epoch: UInt64) {
            self.collection = collection
            self.shard = shard
            self.primary = primary
            self.epoch = epoch
        }
    }

    /// The most promotions one `promoteShards` command carries.
    public static let maxPromotions = 1024

    /// A change to the metadata, as a log entry carries it.
    public enum Command: Sendable, Equatable {
        case addMember(Member)
        case removeMember(NodeID)
        case createCollection(Collection)
        case deleteCollection(String)
        case setSettings(Settings)
        /// A member reports its capacity (each node does once it is a member, and when it changes).
        case reportCapacity(NodeID, bytes: UInt64)
        /// Makes `primary` (one of the shard's replicas) the shard's primary, if the shard is
        /// still at `epoch` (a promotion decided on an older view changes nothing); the former
        /// primary stays a replica and the epoch grows by one.
        case promoteShard(collection: String, shard: UInt32, primary: NodeID, epoch: UInt64)
        /// Several promotions in one entry, each applied as `promoteShard` on its own (one
        /// decided on an older view changes nothing, the others still apply): a node that led
        /// many shards is replaced in one commit, not one per shard. At most `maxPromotions`.
        case promoteShards([Promotion])
        /// Replaces a shard's placement with `new` if it is still `expected` (a move's steps:
        /// copies arriving, then the switch). Every node `new` adds must be a member, and the
        /// epoch must grow by one exactly when the primary changes.
        case updateShard(collection: String, shard: UInt32, expected: Shard, new: Shard)
        /// Marks a member as leaving (see `Member.draining`).
        case drainMember(NodeID)
    }

    /// What applying a command did.
    public enum Outcome: Sendable, Equatable {
        case applied
        case alreadyExists
        case notFound
        /// A member with that id is recorded at another address.
        case conflict(String)
    }

    public private(set) var members: [NodeID: Member] = [:]
    public private(set) var collections: [String: Collection] = [:]
    public private(set) var settings = Settings()

    /// Empty metadata (before the founding entries apply).
    public init() {}

    /// Applies a committed command; `index` is its log index.
    public mutating func apply(_ command: Command, index: UInt64) -> Outcome {
        switch command {
        case .addMember(let member):
            if let known = members[member.id] {
                return known.address == member.address ? .alreadyExists
                    : .conflict("node \(member.id) is already a member at \(known.address)")
            }
            members[member.id] = member
        case .removeMember(let id):
            guard members.removeValue(forKey: id) != nil else { return .notFound }
        case .createCollection(var collection):
            guard collections[collection.name] == nil else { return .alreadyExists }
            // Placed by the proposer on the members it saw: every holder must still be one.
            for shard in collection.shards {
                if let absent = shard.holders.first(where: { members[$0] == nil }) {
                    return .conflict("node \(absent) is not a member (the membership changed while the collection was placed); retry")
                }
            }
            collection.createdIndex = index
            collections[collection.name] = collection
        case .deleteCollection(let name):
            guard collections.removeValue(forKey: name) != nil else { return .notFound }
        case .setSettings(let new):
            settings = new
        case .reportCapacity(let id, let bytes):
            guard members[id] != nil else { return .notFound }
            members[id]?.capacityBytes = bytes
        case .promoteShard(let name, let number, let primary, let epoch):
            return promote(Promotion(collection: name, shard: number, primary: primary, epoch: epoch))
        case .promoteShards(let promotions):
            // Applied when any applied; otherwise what stopped the first.
            let outcomes = promotions.map { promote($0) }
            return outcomes.contains(.applied) ? .applied : outcomes.first ?? .notFound
        case .drainMember(let id):
            guard members[id] != nil else { return .notFound }
            guard members[id]?.draining != true else { return .alreadyExists }
            members[id]?.draining = true
        case .updateShard(let name, let number, let expected, let new):
            guard let collection = collections[name], Int(number) < collection.shards.count else { return .notFound }
            guard collection.shards[Int(number)] == expected else { return .conflict("shard \(number) of \(name) changed meanwhile") }
            // Nodes it adds must be members (one it keeps may be gone: a later change drops it).
            if let absent = new.copies.first(where: { !expected.copies.contains($0) && members[$0] == nil }) {
                return .conflict("node \(absent) is not a member")
            }
            guard Set(new.copies).count == new.copies.count,
                  new.epoch == expected.epoch + (new.primary == expected.primary ? 0 : 1) else {
                return .conflict("a shard's copies must be distinct and its epoch grow exactly when its primary changes")
            }
            guard new.handoff == 0 || (new.primary == expected.primary && (new.replicas + new.incoming).contains(new.handoff)) else {
                return .conflict("a shard's primary is handed to one of its copies, and not while it changes")
            }
            collections[name]?.shards[Int(number)] = new
        }
        return .applied
    }

    private mutating func promote(_ promotion: Promotion) -> Outcome {
        let (name, number, primary, epoch) = (promotion.collection, promotion.shard, promotion.primary, promotion.epoch)
        guard let collection = collections[name], Int(number) < collection.shards.count else { return .notFound }
        let shard = collection.shards[Int(number)]
        guard shard.epoch == epoch else { return .conflict("shard \(number) of \(name) is at epoch \(shard.epoch), not \(epoch)") }
        guard shard.replicas.contains(primary) else {
            return .conflict("node \(primary) holds no replica of shard \(number) of \(name)")
        }
        collections[name]?.shards[Int(number)] = Shard(primary: primary, replicas: shard.replicas.filter { $0 != primary } + [shard.primary],
                                                       epoch: epoch + 1, incoming: shard.incoming)
        return .applied
    }

    // MARK: Encoding (log entries and snapshots; versioned by a leading byte)

    /// 2: collections carry their shards; 3: shards carry their handoff. Bytes of earlier
    /// versions still decode.
    private static let version: UInt8 = 3

    /// The command as a log entry's bytes.
    public static func encode(_ command: Command) -> [UInt8] {
        var w = BinaryWriter()
        w.u8(version)
        switch command {
        case .addMember(let member): w.u8(1); write(member, &w)
        case .removeMember(let id): w.u8(2); w.u64(id)
        case .createCollection(let collection): w.u8(3); write(collection, &w)
        case .deleteCollection(let name): w.u8(4); w.string(name)
        case .setSettings(let settings): w.u8(5); w.u32(settings.replicationFactor); w.u32(settings.replicationMode)
        case .reportCapacity(let id, let bytes): w.u8(6); w.u64(id); w.u64(bytes)
        case .promoteShard(let collection, let shard, let primary, let epoch):
            w.u8(7); w.string(collection); w.u32(shard); w.u64(primary); w.u64(epoch)
        case .updateShard(let collection, let shard, let expected, let new):
            w.u8(8); w.string(collection); w.u32(shard); write(expected, &w); write(new, &w)
        case .drainMember(let id): w.u8(9); w.u64(id)
        case .promoteShards(let promotions):
            w.u8(10); w.u32(UInt32(promotions.count))
            for p in promotions { w.string(p.collection); w.u32(p.shard); w.u64(p.primary); w.u64(p.epoch) }
        }
        return w.bytes
    }

    /// Decodes a command; throws on bytes no version of this code wrote.
    public static func decode(_ bytes: [UInt8]) throws -> Command {
        var r = BinaryReader(bytes)
        do {
            let written = try r.u8()
            guard (1...version).contains(written) else { throw StorageError(.corrupt, "metadata command of an unknown version") }
            switch try r.u8() {
            case 1: return .addMember(try readMember(&r, version: written))
            case 2: return .removeMember(try r.u64())
            case 3: return .createCollection(try readCollection(&r, version: written))
            case 4: return .deleteCollection(try r.string())
            case 5: return .setSettings(Settings(replicationFactor: try r.u32(), replicationMode: try r.u32()))
            case 6: return .reportCapacity(try r.u64(), bytes: try r.u64())
            case 7: return .promoteShard(collection: try r.string(), shard: try r.u32(), primary: try r.u64(), epoch: try r.u64())
            case 8: return .updateShard(collection: try r.string(), shard: try r.u32(), expected: try readShard(&r, version: written),
                                    new: try readShard(&r, version: written))
            case 9: return .drainMember(try r.u64())
            case 10:
                let count = Int(try r.u32())
                guard count <= maxPromotions else { throw StorageError(.corrupt, "a promotion command with \(count) promotions") }
                return .promoteShards(try (0..<count).map { _ in
                    Promotion(collection: try r.string(), shard: try r.u32(), primary: try r.u64(), epoch: try r.u64())
                })
            case let kind: throw StorageError(.corrupt, "unknown metadata command \(kind)")
            }
        } catch is BinaryReader.Truncated {
            throw StorageError(.corrupt, "metadata command cut short")
        }
    }

    /// The whole metadata, for a Raft snapshot.
    public func encoded() -> [UInt8] {
        var w = BinaryWriter()
        w.u8(Self.version)
        w.u64(UInt64(members.count))
        for member in members.values.sorted(by: { $0.id < $1.id }) { Self.write(member, &w) }
        w.u64(UInt64(collections.count))
        for collection in collections.values.sorted(by: { $0.name < $1.name }) { Self.write(collection, &w) }
        w.u32(settings.replicationFactor); w.u32(settings.replicationMode)
        return w.bytes
    }

    /// Metadata from a snapshot's bytes (empty bytes: the empty metadata of a new group).
    public init(decoding bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        var r = BinaryReader(bytes)
        do {
            let written = try r.u8()
            guard (1...Self.version).contains(written) else { throw StorageError(.corrupt, "metadata snapshot of an unknown version") }
            for _ in 0..<(try r.count(elementBytes: 20)) {
                let member = try Self.readMember(&r, version: written)
                members[member.id] = member
            }
            for _ in 0..<(try r.count(elementBytes: 28)) {
                let collection = try Self.readCollection(&r, version: written)
                collections[collection.name] = collection
            }
            settings = Settings(replicationFactor: try r.u32(), replicationMode: try r.u32())
        } catch is BinaryReader.Truncated {
            throw StorageError(.corrupt, "metadata snapshot cut short")
        }
    }

    private static func write(_ member: Member, _ w: inout BinaryWriter) {
        w.u64(member.id); w.string(member.address); w.u64(member.capacityBytes); w.u8(member.draining ? 1 : 0)
    }

    private static func readMember(_ r: inout BinaryReader, version: UInt8) throws(BinaryReader.Truncated) -> Member {
        var member = Member(id: try r.u64(), address: try r.string(), capacityBytes: try r.u64())
        if version >= 2 { member.draining = try r.u8() != 0 }
        return member
    }

    private static func write(_ collection: Collection, _ w: inout BinaryWriter) {
        w.string(collection.name); w.u32(collection.dimension); w.u32(collection.metric)
        w.u8s(collection.request); w.u64(collection.createdIndex)
        w.u32(collection.replicationFactor); w.u32(collection.writeConsistency); w.u32(collection.minReplicas)
        w.u64(UInt64(collection.shards.count))
        for shard in collection.shards { write(shard, &w) }
    }

    private static func write(_ shard: Shard, _ w: inout BinaryWriter) {
        w.u64(shard.primary); w.u64(shard.epoch)
        w.u64(UInt64(shard.replicas.count))
        for replica in shard.replicas { w.u64(replica) }
        w.u64(UInt64(shard.incoming.count))
        for node in shard.incoming { w.u64(node) }
        w.u64(shard.handoff)
    }

    private static func readShard(_ r: inout BinaryReader, version: UInt8) throws(BinaryReader.Truncated) -> Shard {
        let primary = try r.u64(), epoch = try r.u64()
        var replicas: [NodeID] = []
        for _ in 0..<(try r.count(elementBytes: 8)) { replicas.append(try r.u64()) }
        var incoming: [NodeID] = []
        for _ in 0..<(try r.count(elementBytes: 8)) { incoming.append(try r.u64()) }
        let handoff = version >= 3 ? try r.u64() : 0
        return Shard(primary: primary, replicas: replicas, epoch: epoch, incoming: incoming, handoff: handoff)
    }

    private static func readCollection(_ r: inout BinaryReader, version: UInt8) throws(BinaryReader.Truncated) -> Collection {
        var collection = Collection(name: try r.string(), dimension: try r.u32(), metric: try r.u32(), request: try r.u8s(),
                                    createdIndex: try r.u64())
        guard version >= 2 else { return collection }
        collection.replicationFactor = try r.u32(); collection.writeConsistency = try r.u32(); collection.minReplicas = try r.u32()
        for _ in 0..<(try r.count(elementBytes: 32)) { collection.shards.append(try readShard(&r, version: version)) }
        return collection
    }
}
