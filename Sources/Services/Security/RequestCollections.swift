import Access
import RPC
import Wire

/// A request that names the collections it reads or writes, so a caller holding access to
/// single collections can be checked against each message (`checkCollectionAccess`).
protocol NamesCollections {
    /// The collections the message touches; nil when the method filters what it answers by
    /// the caller's grant itself (ListCollections).
    var accessedCollections: [String]? { get }
}

extension RuvectorV1.ListCollectionsRequest: NamesCollections { var accessedCollections: [String]? { nil } }
extension RuvectorV1.GetCollectionRequest: NamesCollections { var accessedCollections: [String]? { [name] } }
extension RuvectorV1.UpsertRequest: NamesCollections { var accessedCollections: [String]? { [collection] } }
extension RuvectorV1.DeleteRequest: NamesCollections { var accessedCollections: [String]? { [collection] } }
extension RuvectorV1.GetRequest: NamesCollections { var accessedCollections: [String]? { [collection] } }
extension RuvectorV1.CountRequest: NamesCollections { var accessedCollections: [String]? { [collection] } }
extension RuvectorV1.ScrollRequest: NamesCollections { var accessedCollections: [String]? { [collection] } }
extension RuvectorV1.SearchRequest: NamesCollections { var accessedCollections: [String]? { [collection] } }
extension RuvectorV1.SearchBatchRequest: NamesCollections { var accessedCollections: [String]? { searches.map(\.collection) } }
extension RuvectorV1.RecordFeedbackRequest: NamesCollections { var accessedCollections: [String]? { [collection] } }
extension RuvectorV1.TrainRequest: NamesCollections { var accessedCollections: [String]? { [collection] } }
extension RuvectorV1.ModelStatusRequest: NamesCollections { var accessedCollections: [String]? { [collection] } }
extension RuvectorV1.ExportModelRequest: NamesCollections { var accessedCollections: [String]? { [collection] } }
extension RuvectorV1.ConfigureModelRequest: NamesCollections { var accessedCollections: [String]? { [collection] } }
extension RuvectorV1.ListRoutersRequest: NamesCollections { var accessedCollections: [String]? { nil } }
extension RuvectorV1.GetRouterRequest: NamesCollections { var accessedCollections: [String]? { [name] } }
extension RuvectorV1.RouteRequest: NamesCollections { var accessedCollections: [String]? { [router] } }
extension RuvectorV1.RegisterRouteRequest: NamesCollections { var accessedCollections: [String]? { [router] } }
extension RuvectorV1.ListRoutesRequest: NamesCollections { var accessedCollections: [String]? { [router] } }
extension RuvectorV1.DeleteRouteRequest: NamesCollections { var accessedCollections: [String]? { [router] } }
extension RuvectorV1.MatchRouteRequest: NamesCollections { var accessedCollections: [String]? { [router] } }
extension RuvectorV1.FitRouteThresholdRequest: NamesCollections { var accessedCollections: [String]? { [router] } }
extension RuvectorV1.RecordOutcomeRequest: NamesCollections { var accessedCollections: [String]? { [router] } }
extension RuvectorV1.TrainRouterRequest: NamesCollections { var accessedCollections: [String]? { [router] } }
extension RuvectorV1.RouterStatusRequest: NamesCollections { var accessedCollections: [String]? { [router] } }
extension RuvectorV1.ExportRouterRequest: NamesCollections { var accessedCollections: [String]? { [router] } }

extension ServerContext {
    /// What the call was granted; nil when the server checks no credentials.
    var access: CallAccess? { grant as? CallAccess }

    /// Whether the caller may `level` collection `name`: true without credential checks.
    func allows(_ level: AccessLevel, collection name: String) -> Bool {
        access?.grant.allows(level, collection: name) ?? true
    }

    /// Throws PERMISSION_DENIED when `request` names a collection the caller may not touch at
    /// the level its method requires. A request type that names no collections cannot reach
    /// a per-collection grant: refused rather than let through unchecked.
    func checkCollectionAccess<Request: WireMessage>(_ request: Request) throws {
        guard let access, access.collectionLevel != nil else { return }
        guard let scoped = request as? any NamesCollections else {
            throw RPCError(.permissionDenied, "\(access.grant.principal) may not call \(path): it needs access to every collection")
        }
        if let names = scoped.accessedCollections, let denial = access.refusal(for: names) {
            throw RPCError(.permissionDenied, denial.message)
        }
    }
}
