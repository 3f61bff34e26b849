import VectorDatabase
import VectorEngine
import Wire

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

    /// The points of an Upsert request, checked against `limits`.
    public static func points(_ request: RuvectorV1.UpsertRequest, catalog: CollectionCatalog,
                              limits: VectorServiceLimits) throws -> [DurableCollection.KeyedPoint] {
        try VectorService(catalog: catalog, limits: limits).points(request, hint: "send fewer points")
    }

    /// The engine filter of a request's filter; `ids` resolves `has_id` UUIDs.
    public static func filter(_ filter: RuvectorV1.Filter?, ids: DurableCollection,
                              limits: VectorServiceLimits) throws -> PayloadFilter? {
        try VectorMapping.filter(filter, maxDepth: limits.maxFilterDepth, ids: ids)
    }

    /// Runs a Search request against the catalog's collection, as the unary call does.
    public static func search(_ request: RuvectorV1.SearchRequest, catalog: CollectionCatalog,
                              limits: VectorServiceLimits) throws -> RuvectorV1.SearchResponse {
        try VectorService(catalog: catalog, limits: limits).search(request)
    }
}
