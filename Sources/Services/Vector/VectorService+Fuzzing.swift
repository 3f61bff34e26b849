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
}
