import Checksums
import Storage
import VectorDatabase
import VectorEngine
import Wire
import WorkControl

/// VectorService's request mapping without a server, for the fuzzer (`ruvector-fuzz
/// protobuf` and `filter-json`): the same checks and conversions a call runs, each throwing the
/// `RPCError` the client would get.
@_spi(Fuzzing)
public enum VectorServiceMapping {
    /// The collection configuration a CreateCollection request asks for.
    public static func config(_ request: RuvectorV1.CreateCollectionRequest,
                              limits: VectorServiceLimits) throws -> CollectionConfig {
        try VectorMapping.config(request, limits: limits)
    }

    /// One small set of pools for every mapping call (the service needs one; these calls run
    /// on the caller's thread and never use it).
    private static let work: ServerWork = {
        var options = ServerWork.Options()
        (options.searchThreads, options.writeThreads, options.cypherThreads, options.backgroundThreads) = (1, 1, 1, 1)
        return ServerWork(options: options)
    }()

    private static func service(_ catalog: CollectionCatalog, _ limits: VectorServiceLimits) -> VectorService {
        VectorService(catalog: catalog, limits: limits, work: work, maxResponseBytes: 64 << 20)
    }

    /// The points of an Upsert request, checked against `limits`.
    public static func points(_ request: RuvectorV1.UpsertRequest, catalog: CollectionCatalog,
                              limits: VectorServiceLimits) throws -> [DurableCollection.KeyedPoint] {
        try service(catalog, limits).points(request, hint: "send fewer points", bounds: .unbounded())
    }

    /// The engine filter of a request's filter; `ids` resolves `has_id` UUIDs.
    public static func filter(_ filter: RuvectorV1.Filter?, ids: DurableCollection,
                              limits: VectorServiceLimits) throws -> PayloadFilter? {
        try VectorMapping.filter(filter, limits: limits, ids: ids)
    }

    /// Runs a Search request against the catalog's collection, as a call on the search pool
    /// does (its response measured against 64 MiB and a 256 MiB call budget).
    public static func search(_ request: RuvectorV1.SearchRequest, catalog: CollectionCatalog,
                              limits: VectorServiceLimits) throws -> RuvectorV1.SearchResponse {
        let service = service(catalog, limits)
        let bounds = WorkBounds(memory: work.callBudget(work: "the search", limitBytes: 256 << 20), cancellation: CancellationSignal())
        var response = ResponseBudget(what: "the search response", maxBytes: service.maxResponseBytes, bounds: bounds)
        return try service.search(request, in: try service.collection(request.collection), response: &response)
    }

    /// A cluster snapshot file of `shardFiles` (single snapshot files, one per shard) with a
    /// manifest as CreateSnapshot writes it, for a collection `request` describes.
    public static func clusterSnapshot(shardFiles: [[UInt8]], request: RuvectorV1.CreateCollectionRequest) -> [UInt8] {
        let manifest = ClusterSnapshotManifest(
            collection: request.name, createdUnixMicros: 1, node: 1, request: request.encoded(), dimension: request.dimension,
            metric: UInt32(bitPattern: request.metric.rawValue), replicationFactor: 1,
            shards: shardFiles.map { file in
                ClusterSnapshotManifest.Shard(snapshotName: "snapshot-00000000000000000001.rvsnap", sizeBytes: UInt64(file.count),
                                              crc32c: CRC32C.checksum(file), walSequence: 1, epoch: 1, node: 1)
            })
        return SnapshotBundle.encode(parts: shardFiles, manifest: manifest.encoded)
    }

    /// A cluster snapshot file checked and staged as RestoreSnapshot does (under `folder`): the
    /// request its restore would create the collection with, and each shard's collection (the
    /// caller closes them and removes the folder).
    public static func stageClusterSnapshot(_ bytes: [UInt8], in folder: String,
                                            limits: VectorServiceLimits) throws -> (RuvectorV1.CreateCollectionRequest, [DurableCollection]) {
        let staged = try VectorService.stageClusterSnapshot(bytes, in: folder)
        do {
            return (try staged.manifest.createRequest(named: "restored", limits: limits), staged.shards)
        } catch {
            staged.close()
            throw error
        }
    }
}
