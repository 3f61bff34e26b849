import RPC
import Wire

/// A node in a Cypher result.
public struct GraphNode: Sendable, Hashable {
    public var id: UInt64
    public var labels: [String]
    /// Properties; a temporal value (or a list of them) is here as its text.
    public var properties: Payload
    /// The properties `properties` cannot hold exactly (temporal values, lists of them).
    public var typedProperties: [String: GraphValue] = [:]
}

/// A relationship in a Cypher result.
public struct GraphRelationship: Sendable, Hashable {
    public var id: UInt64
    public var type: String
    public var start: UInt64
    public var end: UInt64
    /// Properties; a temporal value (or a list of them) is here as its text.
    public var properties: Payload
    /// The properties `properties` cannot hold exactly (temporal values, lists of them).
    public var typedProperties: [String: GraphValue] = [:]
}

/// A Cypher date, time, datetime or duration, exact to the nanosecond: `text` is Cypher's
/// toString() of it (which `date()` and its siblings read back, e.g. as a string parameter);
/// the fields are set as `type` has them (see graph.proto's `Temporal`).
public struct GraphTemporal: Sendable, Hashable {
    /// "date", "localtime", "time", "localdatetime", "datetime" or "duration".
    public var type: String
    /// Cypher's text of the value, e.g. "2015-07-21T21:40:32.142+01:00".
    public var text: String
    /// Days since 1970-01-01 (the local date).
    public var epochDay: Int64
    /// Nanoseconds since local midnight.
    public var nanoOfDay: Int64
    /// Seconds east of UTC.
    public var offsetSeconds: Int32
    /// IANA zone name, or "" for a fixed offset.
    public var zone: String
    /// A duration's months, days, seconds and nanoseconds (0..999999999).
    public var months: Int64, days: Int64, seconds: Int64, nanos: Int32

    /// A date: days since 1970-01-01.
    public static func date(epochDay: Int64) -> GraphTemporal {
        GraphTemporal(type: "date", epochDay: epochDay)
    }

    /// A time of day without a zone: nanoseconds since midnight.
    public static func localTime(nanoOfDay: Int64) -> GraphTemporal {
        GraphTemporal(type: "localtime", nanoOfDay: nanoOfDay)
    }

    /// A time of day at an offset from UTC (seconds east).
    public static func time(nanoOfDay: Int64, offsetSeconds: Int32) -> GraphTemporal {
        GraphTemporal(type: "time", nanoOfDay: nanoOfDay, offsetSeconds: offsetSeconds)
    }

    /// A date and time without a zone.
    public static func localDateTime(epochDay: Int64, nanoOfDay: Int64) -> GraphTemporal {
        GraphTemporal(type: "localdatetime", epochDay: epochDay, nanoOfDay: nanoOfDay)
    }

    /// A local date and time at an offset, in an IANA `zone` ("" for the fixed offset alone;
    /// with a zone the server takes the zone's offset at that time).
    public static func dateTime(epochDay: Int64, nanoOfDay: Int64, offsetSeconds: Int32, zone: String = "") -> GraphTemporal {
        GraphTemporal(type: "datetime", epochDay: epochDay, nanoOfDay: nanoOfDay, offsetSeconds: offsetSeconds, zone: zone)
    }

    /// A duration of months, days, seconds and nanoseconds (0..999999999).
    public static func duration(months: Int64 = 0, days: Int64 = 0, seconds: Int64 = 0, nanos: Int32 = 0) -> GraphTemporal {
        GraphTemporal(type: "duration", months: months, days: days, seconds: seconds, nanos: nanos)
    }

    init(type: String, text: String = "", epochDay: Int64 = 0, nanoOfDay: Int64 = 0, offsetSeconds: Int32 = 0, zone: String = "",
         months: Int64 = 0, days: Int64 = 0, seconds: Int64 = 0, nanos: Int32 = 0) {
        self.type = type; self.text = text; self.epochDay = epochDay; self.nanoOfDay = nanoOfDay
        self.offsetSeconds = offsetSeconds; self.zone = zone
        self.months = months; self.days = days; self.seconds = seconds; self.nanos = nanos
    }
}

/// A value in a Cypher result: a plain value, a temporal value, or a graph element, path, or
/// list or map of them.
public indirect enum GraphValue: Sendable, Hashable {
    case value(PayloadValue)
    case node(GraphNode)
    case relationship(GraphRelationship)
    case path(nodes: [GraphNode], relationships: [GraphRelationship])
    case list([GraphValue])
    case temporal(GraphTemporal)
    case map([String: GraphValue])
}

/// What a Cypher query returned.
public struct CypherResult: Sendable, Hashable {
    /// Column names, in RETURN order.
    public var columns: [String]
    /// Rows: one value per column.
    public var rows: [[GraphValue]]
    /// Counters: nodes_created, relationships_deleted, properties_set, ... and rows, time_micros.
    public var summary: [String: UInt64]
    /// The plan, for a query that began with EXPLAIN (nothing ran) or PROFILE (counted).
    public var plan: CypherPlan? = nil
}

/// How a query runs (EXPLAIN) or ran (PROFILE): its operators, the result first.
public struct CypherPlan: Sendable, Hashable {
    /// One operator; `rows` and `timeNanos` are counted under PROFILE only.
    public struct Operator: Sendable, Hashable {
        public var name: String
        public var details: String
        public var rows: UInt64
        public var timeNanos: UInt64
    }

    /// "EXPLAIN" or "PROFILE".
    public var mode: String
    public var operators: [Operator]
    /// False when the clause interpreter ran the query; `reason` says why.
    public var planned: Bool
    public var reason: String
    /// Whether the server's plan cache held the plan.
    public var cached: Bool

    /// The operators as text lines, the result first.
    public var table: String {
        let note = planned ? (reason.isEmpty ? "" : " (\(reason))") : " (interpreted: \(reason))"
        var lines = [mode + note + (cached ? ", plan cached" : "")]
        for op in operators {
            var line = "+\(op.name)" + (op.details.isEmpty ? "" : "  \(op.details)")
            if mode == "PROFILE" { line += "  rows=\(op.rows)  time=\(Double(op.timeNanos / 1_000) / 1_000)ms" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

/// Transaction isolation (see the server README's table of anomalies per level).
public enum IsolationLevel: Sendable, Hashable {
    case readCommitted, repeatableRead, serializable
}

extension RuVectorClient {
    static let graphService = "/ruvector.v1.GraphService/"

    /// Runs a Cypher query (auto-commit, or inside `transaction`). Rows arrive in batches and
    /// are collected here; `maxRows` (0 = the server's limit) stops early. Dates, times and
    /// durations go in `temporalParameters` (a value from a result, or `GraphTemporal.date(...)`
    /// and its siblings); a name may be in one of the two maps only.
    public func cypher(_ query: String, parameters: Payload = [:], temporalParameters: [String: GraphTemporal] = [:],
                       transaction: String? = nil, maxRows: Int = 0) async throws(RuVectorClientError) -> CypherResult {
        if let name = temporalParameters.keys.sorted().first(where: { parameters[$0] != nil }) {
            throw RuVectorClientError(.invalidInput, "parameter $\(name) is given twice, as a value and as a temporal")
        }
        var wireParameters = parameters.keys.sorted().map { RuvectorV1.Parameter(name: $0, value: WireConversions.wire(parameters[$0]!)) }
        for name in temporalParameters.keys.sorted() {
            guard let temporal = Self.wire(temporalParameters[name]!) else {
                throw RuVectorClientError(.invalidInput, "parameter $\(name): unknown temporal type '\(temporalParameters[name]!.type)'")
            }
            wireParameters.append(RuvectorV1.Parameter(name: name, temporal: temporal))
        }
        let request = RuvectorV1.ExecuteRequest(
            query: query, parameters: wireParameters, transactionId: transaction ?? "", maxRows: UInt64(max(0, maxRows)))
        do {
            let call = try await channel.makeCall(path: Self.graphService + "Execute", timeout: callTimeout)
            try await call.send(request.encoded())
            call.closeSend()
            var result = CypherResult(columns: [], rows: [], summary: [:])
            for try await bytes in call.responses {
                switch try RuvectorV1.ExecuteResponse(decoding: bytes).part {
                case .header(let header)?: result.columns = header.columns
                case .rows(let batch)?: result.rows += batch.rows.map { $0.values.map(Self.graphValue) }
                case .summary(let s)?:
                    result.summary = ["nodes_created": s.nodesCreated, "nodes_deleted": s.nodesDeleted,
                                      "relationships_created": s.relationshipsCreated, "relationships_deleted": s.relationshipsDeleted,
                                      "properties_set": s.propertiesSet, "labels_added": s.labelsAdded,
                                      "labels_removed": s.labelsRemoved, "rows": s.rows, "time_micros": s.timeMicros]
                    result.plan = s.plan.map { p in
                        CypherPlan(mode: p.mode, operators: p.operators.map {
                            CypherPlan.Operator(name: $0.name, details: $0.details, rows: $0.rows, timeNanos: $0.timeNanos)
                        }, planned: p.planned, reason: p.reason, cached: p.cached)
                    }
                case nil: break
                }
            }
            return result
        } catch {
            throw RuVectorClientError.from(error)
        }
    }

    /// Starts a transaction; pass its id to `cypher(_:transaction:)`, then `commit` or `rollback`.
    public func beginTransaction(_ isolation: IsolationLevel = .readCommitted,
                                 idleTimeoutMillis: UInt32 = 0) async throws(RuVectorClientError) -> String {
        let level: RuvectorV1.IsolationLevel = switch isolation {
        case .readCommitted: .readCommitted
        case .repeatableRead: .repeatableRead
        case .serializable: .serializable
        }
        let info: RuvectorV1.TransactionInfo = try await graphUnary(
            "BeginTransaction", RuvectorV1.BeginTransactionRequest(isolation: level, idleTimeoutMillis: idleTimeoutMillis))
        return info.transactionId
    }

    /// Commits; `.aborted` when the isolation level forbids it (the transaction is rolled back: retry it).
    @discardableResult
    public func commit(_ transaction: String) async throws(RuVectorClientError) -> UInt64 {
        let response: RuvectorV1.CommitResponse = try await graphUnary("Commit", RuvectorV1.TransactionRef(transactionId: transaction))
        return response.sequence
    }

    /// Rolls back.
    public func rollback(_ transaction: String) async throws(RuVectorClientError) {
        let _: RuvectorV1.RollbackResponse = try await graphUnary("Rollback", RuvectorV1.TransactionRef(transactionId: transaction))
    }

    private func graphUnary<Response: WireMessage>(_ method: String, _ request: some WireMessage) async throws(RuVectorClientError) -> Response {
        do {
            let (bytes, _) = try await channel.unary(Self.graphService + method, request: request.encoded(), timeout: callTimeout)
            return try Response(decoding: bytes)
        } catch {
            throw RuVectorClientError.from(error)
        }
    }

    static func graphValue(_ value: RuvectorV1.GraphValue) -> GraphValue {
        switch value.kind {
        case .node(let n)?: .node(node(n))
        case .relationship(let r)?: .relationship(relationship(r))
        case .path(let p)?: .path(nodes: p.nodes.map(node), relationships: p.relationships.map(relationship))
        case .list(let l)?: .list(l.values.map(graphValue))
        case .value(let v)?: .value(WireConversions.value(v))
        case .temporal(let t)?: .temporal(temporal(t))
        case .map(let m)?: .map(graphMap(m))
        case nil: .value(.null)
        }
    }

    /// The wire form of a temporal parameter (its text is not sent: the fields are the value).
    static func wire(_ t: GraphTemporal) -> RuvectorV1.Temporal? {
        let type: RuvectorV1.TemporalType
        switch t.type {
        case "date": type = .date
        case "localtime": type = .localTime
        case "time": type = .time
        case "localdatetime": type = .localDateTime
        case "datetime": type = .dateTime
        case "duration": type = .duration
        default: return nil
        }
        return RuvectorV1.Temporal(type: type, epochDay: t.epochDay, nanoOfDay: t.nanoOfDay, offsetSeconds: t.offsetSeconds, zone: t.zone,
                                   months: t.months, days: t.days, seconds: t.seconds, nanos: t.nanos)
    }

    static func temporal(_ t: RuvectorV1.Temporal) -> GraphTemporal {
        let type: String
        switch t.type {
        case .date: type = "date"
        case .localTime: type = "localtime"
        case .time: type = "time"
        case .localDateTime: type = "localdatetime"
        case .dateTime: type = "datetime"
        case .duration: type = "duration"
        default: type = "unknown"
        }
        return GraphTemporal(type: type, text: t.text, epochDay: t.epochDay, nanoOfDay: t.nanoOfDay, offsetSeconds: t.offsetSeconds,
                             zone: t.zone, months: t.months, days: t.days, seconds: t.seconds, nanos: t.nanos)
    }

    static func node(_ n: RuvectorV1.Node) -> GraphNode {
        GraphNode(id: n.id, labels: n.labels, properties: n.properties.map(WireConversions.payload) ?? [:],
                  typedProperties: n.typedProperties.map(graphMap) ?? [:])
    }

    static func relationship(_ r: RuvectorV1.Relationship) -> GraphRelationship {
        GraphRelationship(id: r.id, type: r.type, start: r.startNodeId, end: r.endNodeId,
                          properties: r.properties.map(WireConversions.payload) ?? [:],
                          typedProperties: r.typedProperties.map(graphMap) ?? [:])
    }

    static func graphMap(_ m: RuvectorV1.GraphMap) -> [String: GraphValue] {
        Dictionary(m.entries.map { ($0.key, $0.value.map(graphValue) ?? .value(.null)) }, uniquingKeysWith: { _, last in last })
    }
}
