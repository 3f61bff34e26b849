import ClusterEngine
import ClusterNode
import Logging
import RPC
import Storage
import Synchronization
import VectorDatabase
import Wire

/// Collections made cluster-wide: a CreateCollection or DeleteCollection on any node goes
/// through the Raft log, and every node creates or deletes its local copy when it applies the
/// entry (`MetadataEffects`). Points are not replicated yet (cluster part 2): each node's copy
/// holds the points written to that node.
final class ClusterCollections: MetadataEffects {
    let catalog: CollectionCatalog
    let limits: VectorServiceLimits
    let logger: Logger
    /// Set once the node exists (the node needs these effects to be built).
    private let nodeBox = NodeBox()

    init(catalog: CollectionCatalog, limits: VectorServiceLimits, logger: Logger) {
        self.catalog = catalog
        self.limits = limits
        self.logger = logger
    }

    func attach(_ node: ClusterNode) { nodeBox.set(node) }

    // MARK: MetadataEffects (on the applier's thread, in log order)

    func applied(_ command: ClusterMetadata.Command, outcome: ClusterMetadata.Outcome, index: UInt64) throws -> Bool {
        switch command {
        case .createCollection(let collection) where outcome == .applied:
            try createLocally(collection)
            return true
        case .deleteCollection(let name) where outcome == .applied:
            _ = try catalog.delete(name)
            return true
        default:
            return false
        }
    }

    func restored(_ metadata: ClusterMetadata) throws {
        for collection in metadata.collections.values where catalog.get(collection.name) == nil {
            try createLocally(collection)
        }
        for local in catalog.list() where metadata.collections[local.collection.config.name] == nil {
            _ = try catalog.delete(local.collection.config.name)
        }
    }

    private func createLocally(_ collection: ClusterMetadata.Collection) throws {
        guard catalog.get(collection.name) == nil else { return }
        let request = try RuvectorV1.CreateCollectionRequest(decoding: collection.request)
        _ = try catalog.create(try VectorMapping.config(request, limits: limits))
        logger.info("collection created from the cluster log", metadata: ["collection": "\(collection.name)", "index": "\(collection.createdIndex)"])
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
        case .deleteCollection(let name):
            try VectorMapping.checkCollectionName(name)
        case .addMember(let member):
            guard member.id != 0, PeerAddress.split(member.address) != nil else {
                throw RPCError(.invalidArgument, "a member needs a non-zero id and a HOST:PORT address")
            }
        case .removeMember(let id):
            guard id != 0 else { throw RPCError(.invalidArgument, "a member id is non-zero") }
        case .reportCapacity(let id, _):
            guard id != 0 else { throw RPCError(.invalidArgument, "a member id is non-zero") }
        case .setSettings(let settings):
            guard (1...16).contains(settings.replicationFactor), settings.replicationMode <= 3 else {
                throw RPCError(.invalidArgument, "replication factor must be 1-16 and the mode a ReplicationMode")
            }
        }
    }

    // MARK: What VectorService calls

    /// Creates a collection cluster-wide (validated first, here) and returns it once this node
    /// applied the creation (nil when a later entry deleted it again before the answer).
    func create(_ request: RuvectorV1.CreateCollectionRequest, context: ServerContext) async throws -> DurableCollection? {
        _ = try VectorMapping.config(request, limits: limits)
        let node = try nodeBox.node()
        let outcome = try await ClusterMapping.mapped {
            try await node.propose(.createCollection(ClusterMetadata.Collection(
                name: request.name, dimension: request.dimension, metric: UInt32(bitPattern: request.metric.rawValue),
                request: request.encoded(), createdIndex: 0)), timeout: ClusterMapping.timeout(context))
        }
        guard outcome == .applied else {
            throw RPCError(.alreadyExists, "collection \(MessageText.quoted(request.name)) already exists")
        }
        guard let created = catalog.get(request.name) else {
            // Created, then deleted by a later entry before this answer: the create happened.
            return nil
        }
        return created
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

/// The node, set after construction.
private final class NodeBox: Sendable {
    private let value = Mutex<ClusterNode?>(nil)
    func set(_ node: ClusterNode) { value.withLock { $0 = node } }
    func node() throws -> ClusterNode {
        guard let node = value.withLock({ $0 }) else { throw RPCError(.unavailable, "the cluster node is starting") }
        return node
    }
}
