import RPC
import Storage
import VectorDatabase
import Wire
import WorkControl

/// Checks a RecordFeedbackRequest against its source (a collection or a graph vector index) and returns the record to log.
enum LearnFeedback {
    /// The record as it is logged: the query vector resolved (from `query_id` when given),
    /// judgements and shown ids as sent. INVALID_ARGUMENT says what to fix; NOT_FOUND names the
    /// first id the source does not hold.
    static func validated(_ request: RuvectorV1.RecordFeedbackRequest, in source: any LearnSource,
                          bounds: WorkBounds) throws -> RuvectorV1.RecordFeedbackRequest {
        let dimension = source.dimension
        guard request.judgements.count <= LearnLimits.maxJudgements, request.shown.count <= LearnLimits.maxJudgements else {
            throw RPCError(.invalidArgument, "at most \(LearnLimits.maxJudgements) judgements and \(LearnLimits.maxJudgements) shown ids per feedback record, "
                + "got \(request.judgements.count) and \(request.shown.count)")
        }
        guard !request.judgements.isEmpty || !request.shown.isEmpty else {
            throw RPCError(.invalidArgument, "feedback needs judgements or the shown results (shown with no judgements: nothing was relevant)")
        }
        try bounds.memory.charge(2 * (dimension + request.judgements.count + request.shown.count) * 32)
        var record = request
        switch (request.query, request.queryId) {
        case (let query?, nil):
            guard query.values.count == dimension else {
                throw RPCError(.invalidArgument, "the query has \(query.values.count) dimensions; \(source.described) has \(dimension)")
            }
            guard query.values.allSatisfy(\.isFinite) else { throw RPCError(.invalidArgument, "the query holds NaN or infinity") }
        case (nil, let id?):
            guard let vector = try source.internalId(id).flatMap(source.vector) else {
                throw RPCError(.notFound, "query_id \(describe(id)) is not a point of \(source.described)")
            }
            record.query = RuvectorV1.Vector(values: vector)
        case (nil, nil): throw RPCError(.invalidArgument, "give the query vector (query) or the id of a point whose vector is the query (query_id)")
        case (_?, _?): throw RPCError(.invalidArgument, "give query or query_id, not both")
        }
        var judged = Set<PointKey>()
        for (n, judgement) in request.judgements.enumerated() {
            if n & 127 == 0 { try bounds.cancellation.check() }
            guard judgement.grade <= LearnLimits.maxGrade else {
                throw RPCError(.invalidArgument, "grades are 0..\(LearnLimits.maxGrade) (click = 1), got \(judgement.grade) for id \(describe(judgement.id))")
            }
            let key = try VectorService.mapped { try VectorMapping.key(judgement.id) }
            guard judged.insert(key).inserted else { throw RPCError(.invalidArgument, "id \(describe(judgement.id)) is judged twice") }
            try exists(judgement.id, in: source, role: "judged id")
        }
        var shown = Set<PointKey>()
        for (n, id) in request.shown.enumerated() {
            if n & 127 == 0 { try bounds.cancellation.check() }
            let key = try VectorService.mapped { try VectorMapping.key(id) }
            guard shown.insert(key).inserted else { throw RPCError(.invalidArgument, "id \(describe(id)) is shown twice") }
            try exists(id, in: source, role: "shown id")
        }
        return record
    }

    private static func exists(_ id: RuvectorV1.PointId?, in source: any LearnSource, role: String) throws {
        guard try source.internalId(id) != nil else {
            throw RPCError(.notFound, "\(role) \(describe(id)) is not a point of \(source.described)")
        }
    }

    /// An id as a user wrote it, for messages.
    static func describe(_ id: RuvectorV1.PointId?) -> String {
        switch id?.kind {
        case .num(let n)?: return String(n)
        case .uuid(let text)?: return MessageText.quoted(String(text.prefix(64)))
        case nil: return "(missing)"
        }
    }
}
