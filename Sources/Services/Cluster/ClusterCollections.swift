import ClusterEngine
import ClusterNode
import Logging
import RPC
import Storage
import Synchronization
import VectorDatabase
import VectorEngine
import Wire

/// Collections made cluster-wide: a CreateCollection or DeleteCollection on any node goes
/// through the Raft log with the collection's shard placement, and every node creates or
/// deletes its copies of the shards it holds when it applies the entry (`MetadataEffects`);
/// `ShardedCollections` serves and replicates them. A collection made before sharding (an
/// older node's log) has no shards: every node holds its own whole copy in the catalog.
final class ClusterCollections: MetadataEffects {
    let catalog: CollectionCatalog
    let limits: VectorServiceLimits
    let logger: Logger
    let sharding: ShardedCollections
    /// Set once the node exists (the node needs these effects to be built).
    private let nodeBox = NodeBox()

    init(catalog: CollectionCatalog, sharding: ShardedCollections, limits: VectorServiceLimits, logger: Logger) {
        self.catalog = catalog
        self.sharding = sharding
        self.limits = limits
        self.logger = logger
    }

    func attach(_ node: ClusterNode) {
        nodeBox.set(node)
        sharding.attach(node)
    }

    // MARK: MetadataEffects (on the applier's thread, in log order)

    func applied(_ command: ClusterMetadata.Command, outcome: ClusterMetadata.Outcome, index: UInt64,
                 metadata: ClusterMetadata) throws -> Bool {
        // Shard copies follow the published metadata (`published`, off this thread); only the
        // whole copies of collections made before sharding are effects of their entries.
        switch command {
        case .createCollection(let collection) where outcome == .applied && !collection.isSharded:
            guard catalog.get(collection.name) == nil else { return false }
            _ = try catalog.create(try config(collection))
            logger.info("collection created from the cluster log", metadata: ["collection": "\(collection.name)", "index": "\(index)"])
            return true
        case .deleteCollection(let name) where outcome == .applied:
            return try catalog.delete(name)
        default:
            return false
        }
    }

    func published(_ metadata: ClusterMetadata) {
        let limits = self.limits
        sharding.scheduleReconcile { try Self.config($0, limits: limits) }
    }

    func restored(_ metadata: ClusterMetadata) throws {
        for collection in metadata.collections.values where !collection.isSharded && catalog.get(collection.name) == nil {
            _ = try catalog.create(try config(collection))
        }
        for local in catalog.list() where metadata.collections[local.collection.config.name]?.isSharded != false {
            _ = try catalog.delete(local.collection.config.name)
        }
    }

    private func config(_ collection: ClusterMetadata.Collection) throws -> CollectionConfig {
        try Self.config(collection, limits: limits)
    }

    private static func config(_ collection: ClusterMetadata.Collection, limits: VectorServiceLimits) throws -> CollectionConfig {
        try VectorMapping.config(try RuvectorV1.CreateCollectionRequest(decoding: collection.request), limits: limits)
    }

    /// Checks a metadata command that arrived from the network (a forwarded proposal) as the
    /// service that would have proposed it checks it: nothing unchecked enters the log.
    func validate(_ command: ClusterMetadata.Command) throws {
        switch command {
        case .createCollection(let collection):
            let request = try decodeRequest(collection.request) as RuvectorV1.CreateCollectionRequest
            _ = try VectorMapping.config(request, limits: limits)
            guard request.name == collection.name, request.dimension == collection.dimension,
                  UInt32(bitPattern: request.metric.rawValue) == collection.metric else {
                throw RPCError(.invalidArgument, "a create-collection command must agree with the request it carries")
            }
            try ShardedCollections.validatePlacement(collection)
        case .deleteCollection(let name):
            try VectorMapping.checkCollectionName(name)
        case .addMember(let member):
            guard member.id != 0, PeerAddress.split(member.address) != nil else {
                throw RPCError(.invalidArgument, "a member needs a non-zero id and a HOST:PORT address")
            }
        case .removeMember(let id):
            guard id != 0 else { throw RPCError(.invalidArgument, "a member id is non-zero") }
        case .reportCapacity(let id, _), .drainMember(let id):
            guard id != 0 else { throw RPCError(.invalidArgument, "a member id is non-zero") }
        case .promoteShard(let collection, _, let primary, _):
            try VectorMapping.checkCollectionName(collection)
            guard primary != 0 else { throw RPCError(.invalidArgument, "a member id is non-zero") }
        case .promoteShards(let promotions):
            guard (1...ClusterMetadata.maxPromotions).contains(promotions.count) else {
                throw RPCError(.invalidArgument, "a promotion command carries 1-\(ClusterMetadata.maxPromotions) promotions")
            }
            for promotion in promotions {
                try VectorMapping.checkCollectionName(promotion.collection)
                guard promotion.primary != 0 else { throw RPCError(.invalidArgument, "a member id is non-zero") }
            }
        case .updateShard(let collection, _, _, let new):
            try VectorMapping.checkCollectionName(collection)
            guard !new.copies.contains(0), new.copies.count <= 32 else {
                throw RPCError(.invalidArgument, "a shard's copies are at most 32 non-zero member ids")
            }
        case .setSettings(let settings):
            guard (1...16).contains(settings.replicationFactor), settings.replicationMode <= 3 else {
                throw RPCError(.invalidArgument, "replication factor must be 1-16 and the mode a ReplicationMode")
            }
        }
    }

    // MARK: What VectorService calls

    /// Creates a collection cluster-wide (validated and its shards placed first, here) and
    /// returns once this node applied the creation.
    func create(_ request: RuvectorV1.CreateCollectionRequest, context: ServerContext) async throws {
        _ = try VectorMapping.config(request, limits: limits)
        let node = try nodeBox.node()
        let timeout = ClusterMapping.timeout(context)
        var attempt = 0
        while true {
            attempt += 1
            let collection = try ShardedCollections.place(request, metadata: node.metadata.metadata)
            let outcome = try await ClusterMapping.mapped { try await node.propose(.createCollection(collection), timeout: timeout) }
            switch outcome {
            case .applied: return
            case .alreadyExists: throw RPCError(.alreadyExists, "collection \(MessageText.quoted(request.name)) already exists")
            case .conflict(let why) where attempt < 3:
                logger.info("collection placement raced a membership change; placing again", metadata: ["why": "\(why)"])
            case .conflict(let why): throw RPCError(.aborted, why)
            case .notFound: throw RPCError(.internal, "creating \(MessageText.quoted(request.name)) found nothing to create")
            }
        }
    }

    /// Deletes a collection cluster-wide; false when the cluster had no such collection.
    func delete(_ name: String, context: ServerContext) async throws -> Bool {
        let node = try nodeBox.node()
        let outcome = try await ClusterMapping.mapped {
            try await node.propose(.deleteCollection(name), timeout: ClusterMapping.timeout(context))
        }
        return outcome == .applied
    }
}
