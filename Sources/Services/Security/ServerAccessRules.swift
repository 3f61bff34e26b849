import Access

/// What every method the server serves requires of its caller (docs/security.md has the same
/// table for people). A method missing here is refused to everyone once credentials are on,
/// and `ServerAccessRulesTests` fails for any method of our protos without a rule.
public enum ServerAccessRules {
    /// The rules; reflection's depend on `publicReflection` (reflection callable without
    /// credentials, for tools such as grpcurl, when the operator says so).
    public static func rules(publicReflection: Bool) -> AccessRules {
        var rules: AccessRules = [:]
        func add(_ service: String, _ methods: [String], _ rule: MethodRule) {
            for method in methods {
                precondition(rules.updateValue(rule, forKey: "/\(service)/\(method)") == nil, "\(service)/\(method) has two rules")
            }
        }
        let read = MethodRule.requires(.read, perCollection: false)
        let write = MethodRule.requires(.write, perCollection: false)
        let admin = MethodRule.requires(.admin, perCollection: false)
        let readCollection = MethodRule.requires(.read, perCollection: true)
        let writeCollection = MethodRule.requires(.write, perCollection: true)

        add("grpc.health.v1.Health", ["Check", "Watch"], .open)
        for reflection in ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"] {
            add(reflection, ["ServerReflectionInfo"], publicReflection ? .open : read)
        }

        let vector = "ruvector.v1.VectorService"
        add(vector, ["CreateCollection", "DeleteCollection", "CreateSnapshot", "ListSnapshots", "DownloadSnapshot",
                     "RestoreSnapshot"], admin)
        // Lists only the collections the caller may read (VectorService filters it).
        add(vector, ["ListCollections"], readCollection)
        add(vector, ["GetCollection", "Get", "Count", "Scroll", "Search", "SearchBatch", "SearchStream"], readCollection)
        add(vector, ["Upsert", "UpsertStream", "Delete"], writeCollection)

        // The graph is one store, not a collection: reached with a level on everything.
        // Execute runs read-only queries with read; a query that writes needs write
        // (GraphService checks the parsed query).
        let graph = "ruvector.v1.GraphService"
        add(graph, ["Execute", "BeginTransaction", "Commit", "Rollback", "QueryHyperedges", "ListIndexes", "HybridSearch"], read)
        add(graph, ["CreateHyperedge", "CreateIndex"], write)

        let learn = "ruvector.v1.LearnService"
        add(learn, ["GetModelStatus", "ExportModel"], readCollection)
        add(learn, ["RecordFeedback", "Train", "ConfigureModel"], writeCollection)
        add(learn, ["ImportModel"], admin)

        // A router counts as a collection for scoped grants: its name is the resource.
        let route = "ruvector.v1.RouteService"
        add(route, ["CreateRouter", "DeleteRouter", "ImportRouter"], admin)
        // Lists only the routers the caller may read (RouteService filters it).
        add(route, ["ListRouters"], readCollection)
        add(route, ["GetRouter", "Route", "ListRoutes", "MatchRoute", "GetStatus", "ExportRouter"], readCollection)
        add(route, ["RegisterRoute", "DeleteRoute", "FitRouteThreshold", "RecordOutcome", "Train"], writeCollection)

        let cluster = "ruvector.v1.ClusterService"
        add(cluster, ["GetState"], read)
        add(cluster, ["Join", "Leave", "TransferLeadership", "UpdateSettings", "ShardStatus"], admin)
        add(cluster, ["Replicate", "TransferShard"], .nodesOnly)
        add("ruvector.v1.RaftService", ["Send", "InstallSnapshot", "Propose", "ReadIndex"], .nodesOnly)

        // Served only with --enable-interop-test-service, for interoperability tests.
        add("grpc.testing.TestService", ["EmptyCall", "UnaryCall", "CacheableUnaryCall", "StreamingOutputCall",
                                         "StreamingInputCall", "FullDuplexCall", "HalfDuplexCall"], read)
        return rules
    }
}
