import GraphEngine
import LearnEngine
import RPC
import Storage
import Wire
import WorkControl

/// Conversions between GraphService messages and the graph engine.
enum GraphMapping {
    /// The status for an engine or storage error. A query stopped by its call's limits (memory,
    /// cancel, `deadline`) gets the status `ServerWork` gives every such call.
    static func rpcError(_ error: any Error, deadline: ContinuousClock.Instant? = nil) -> RPCError {
        if let error = error as? RPCError { return error }
        if let limit = error as? WorkLimitError { return ServerWork.status(of: limit, deadline: deadline) }
        guard let error = error as? GraphError else { return StorageStatus.unexpected(error) }
        if let limit = error.workLimit { return ServerWork.status(of: limit, deadline: deadline) }
        // A learned model failing on its own index's data is the server's fault, not the caller's.
        if error.cause is LearnError { return RPCError(.internal, error.message, cause: error) }
        switch error.code {
        case .resourceExhausted: return RPCError(.resourceExhausted, error.message, cause: error)
        case .conflict: return RPCError(.aborted, error.message, cause: error)
        case .timeout: return RPCError(.deadlineExceeded, error.message, cause: error)
        case .cancelled: return RPCError(.cancelled, error.message, cause: error)
        case .limitExceeded: return RPCError(.resourceExhausted, error.message, cause: error)
        case .notFound: return RPCError(.failedPrecondition, error.message, cause: error)
        case .syntax: return RPCError(.invalidArgument, syntaxMessage(error.message), cause: error)
        default:
            // The openCypher class (SyntaxError, TypeError...) leads, as drivers show it.
            return RPCError(.invalidArgument, "\(error.cypherClass?.rawValue ?? error.code.description): \(error.message)", cause: error)
        }
    }

    /// The parser says "LINE:COLUMN: what"; users read "line L, column C".
    private static func syntaxMessage(_ message: String) -> String {
        let parts = message.split(separator: ":", maxSplits: 2)
        guard parts.count == 3, let line = Int(parts[0]), let column = Int(parts[1]) else { return "Cypher syntax error: \(message)" }
        return "Cypher syntax error at line \(line), column \(column):\(parts[2])"
    }

    /// Query parameters; names unique, values nested at most 32 deep.
    static func parameters(_ parameters: [RuvectorV1.Parameter]) throws -> [String: Value] {
        var result: [String: Value] = [:]
        for parameter in parameters {
            guard !parameter.name.isEmpty, result[parameter.name] == nil else {
                throw RPCError(.invalidArgument, "parameter names must be non-empty and unique; check \(MessageText.quoted(parameter.name))")
            }
            if let t = parameter.temporal {
                guard parameter.value == nil else {
                    throw RPCError(.invalidArgument, "parameter \(MessageText.quoted(parameter.name)) sets both value and temporal; send one")
                }
                result[parameter.name] = .temporal(try temporal(t, name: parameter.name))
            } else {
                result[parameter.name] = try value(parameter.value ?? RuvectorV1.Value(), depth: 0)
            }
        }
        return result
    }

    /// A temporal parameter: its fields (not its text), each checked against its range and
    /// the zone against the server's time zone database.
    static func temporal(_ t: RuvectorV1.Temporal, name: String) throws -> Temporal {
        let value: Temporal?
        switch t.type {
        case .date: value = .date(epochDay: t.epochDay)
        case .localTime: value = .localTime(nanoOfDay: t.nanoOfDay)
        case .time: value = .time(nanoOfDay: t.nanoOfDay, offsetSeconds: t.offsetSeconds)
        case .localDateTime: value = .localDateTime(epochDay: t.epochDay, nanoOfDay: t.nanoOfDay)
        case .dateTime: value = .dateTime(epochDay: t.epochDay, nanoOfDay: t.nanoOfDay, offsetSeconds: t.offsetSeconds, zone: t.zone.isEmpty ? nil : t.zone)
        case .duration:
            value = (0..<1_000_000_000).contains(t.nanos)
                ? CypherDuration(months: t.months, days: t.days, seconds: t.seconds, nanos: Int64(t.nanos)).map(Temporal.duration) : nil
        default: value = nil
        }
        guard let checked = value?.checked() else {
            throw RPCError(.invalidArgument, "temporal parameter \(MessageText.quoted(name)) has a field out of range, an unknown type or an unknown time zone")
        }
        return checked
    }

    static func value(_ value: RuvectorV1.Value, depth: Int) throws -> Value {
        guard depth < 32 else { throw RPCError(.invalidArgument, "parameter values nest deeper than 32 levels") }
        switch value.kind {
        case nil, .nullValue?: return .null
        case .boolValue(let b)?: return .bool(b)
        case .intValue(let i)?: return .int(i)
        case .doubleValue(let d)?: return .float(d)
        case .stringValue(let s)?: return .string(s)
        case .listValue(let list)?: return .list(try list.values.map { try self.value($0, depth: depth + 1) })
        case .structValue(let s)?: return .map(try properties(s, depth: depth + 1))
        }
    }

    static func properties(_ struct: RuvectorV1.Struct?, depth: Int = 0) throws -> [String: Value] {
        var result: [String: Value] = [:]
        for entry in `struct`?.fields ?? [] {
            guard result[entry.key] == nil else { throw RPCError(.invalidArgument, "key \(MessageText.quoted(entry.key)) appears twice") }
            result[entry.key] = try value(entry.value ?? RuvectorV1.Value(), depth: depth)
        }
        return result
    }

    /// A scalar, list or map (graph references inside become small maps: id, labels/type, properties).
    static func plain(_ value: Value, store: GraphStore) -> RuvectorV1.Value {
        switch value {
        case .null: return RuvectorV1.Value(kind: .nullValue(true))
        case .bool(let b): return RuvectorV1.Value(kind: .boolValue(b))
        case .int(let i): return RuvectorV1.Value(kind: .intValue(i))
        case .float(let d): return RuvectorV1.Value(kind: .doubleValue(d))
        case .string(let s): return RuvectorV1.Value(kind: .stringValue(s))
        case .list(let values): return RuvectorV1.Value(kind: .listValue(RuvectorV1.ListValue(values: values.map { plain($0, store: store) })))
        case .map(let map): return RuvectorV1.Value(kind: .structValue(structure(map, store: store)))
        case .node(let id):
            let node = store.node(id)
            return plain(.map(["id": .int(Int64(id)), "labels": .list((node?.labels ?? []).map(Value.string)),
                               "properties": .map(node?.properties ?? [:])]), store: store)
        case .relationship(let id):
            let r = store.relationship(id)
            return plain(.map(["id": .int(Int64(id)), "type": .string(r?.type ?? ""), "properties": .map(r?.properties ?? [:])]), store: store)
        case .path(let nodes, let relationships):
            return plain(.map(["nodes": .list(nodes.map(Value.node)), "relationships": .list(relationships.map(Value.relationship))]), store: store)
        case .temporal(let t):
            // In a node's or relationship's `properties` (a Struct has no temporal kind) a
            // temporal value goes out as its Cypher text, which `date()` and its siblings read
            // back, and exactly in `typed_properties`; anywhere else in a result it is a
            // `GraphValue.temporal` (see `graphValue`).
            return RuvectorV1.Value(kind: .stringValue(t.description))
        }
    }

    static func structure(_ map: [String: Value], store: GraphStore) -> RuvectorV1.Struct {
        RuvectorV1.Struct(fields: map.keys.sorted().map { RuvectorV1.Struct.FieldsEntry(key: $0, value: plain(map[$0]!, store: store)) })
    }

    static func graphValue(_ value: Value, store: GraphStore) -> RuvectorV1.GraphValue {
        switch value {
        case .node(let id): return RuvectorV1.GraphValue(kind: .node(node(id, store: store)))
        case .relationship(let id): return RuvectorV1.GraphValue(kind: .relationship(relationship(id, store: store)))
        case .path(let nodes, let relationships):
            return RuvectorV1.GraphValue(kind: .path(RuvectorV1.Path(nodes: nodes.map { node($0, store: store) },
                                                                     relationships: relationships.map { relationship($0, store: store) })))
        case .temporal(let t): return RuvectorV1.GraphValue(kind: .temporal(temporal(t)))
        case .list(let values) where values.contains(where: containsGraph):
            return RuvectorV1.GraphValue(kind: .list(RuvectorV1.GraphList(values: values.map { graphValue($0, store: store) })))
        case .map(let map) where map.values.contains(where: containsGraph):
            return RuvectorV1.GraphValue(kind: .map(graphMap(map, store: store)))
        default: return RuvectorV1.GraphValue(kind: .value(plain(value, store: store)))
        }
    }

    /// A map's entries as graph values, keys ascending.
    static func graphMap(_ map: [String: Value], store: GraphStore) -> RuvectorV1.GraphMap {
        RuvectorV1.GraphMap(entries: map.keys.sorted().map { RuvectorV1.GraphMapEntry(key: $0, value: graphValue(map[$0]!, store: store)) })
    }

    /// The properties a Struct cannot hold exactly (temporal values, lists of them), typed.
    private static func typedProperties(_ properties: [String: Value], store: GraphStore) -> RuvectorV1.GraphMap? {
        let typed = properties.filter { containsGraph($0.value) }
        return typed.isEmpty ? nil : graphMap(typed, store: store)
    }

    /// A temporal value with its exact fields and its text.
    static func temporal(_ t: Temporal) -> RuvectorV1.Temporal {
        var out = RuvectorV1.Temporal(text: t.description)
        switch t {
        case .date(let day): out.type = .date; out.epochDay = day
        case .localTime(let nano): out.type = .localTime; out.nanoOfDay = nano
        case .time(let nano, let offset): out.type = .time; out.nanoOfDay = nano; out.offsetSeconds = offset
        case .localDateTime(let day, let nano): out.type = .localDateTime; out.epochDay = day; out.nanoOfDay = nano
        case .dateTime(let day, let nano, let offset, let zone):
            out.type = .dateTime; out.epochDay = day; out.nanoOfDay = nano; out.offsetSeconds = offset; out.zone = zone ?? ""
        case .duration(let d):
            out.type = .duration; out.months = d.months; out.days = d.days; out.seconds = d.seconds; out.nanos = Int32(d.nanos)
        }
        return out
    }

    /// Whether `value` needs a `GraphValue` of its own kind (not a payload-like `Value`).
    private static func containsGraph(_ value: Value) -> Bool {
        switch value {
        case .node, .relationship, .path, .temporal: return true
        case .list(let values): return values.contains(where: containsGraph)
        case .map(let map): return map.values.contains(where: containsGraph)
        default: return false
        }
    }

    /// About how many bytes `value` takes in a response, as `graphValue` sends it: a node or
    /// relationship goes out with its labels or type and all its properties. Measured before
    /// the response is built, to split batches and refuse what cannot be sent.
    static func wireBytes(_ value: Value, store: GraphStore) -> Int {
        switch value {
        case .null, .bool, .int, .float: return 12
        case .temporal(let t): return 64 + t.description.utf8.count
        case .string(let s): return 8 + s.utf8.count
        case .list(let values): return values.reduce(8) { $0 + wireBytes($1, store: store) }
        case .map(let map): return map.reduce(8) { $0 + 8 + $1.key.utf8.count + wireBytes($1.value, store: store) }
        case .node(let id):
            guard let node = store.node(id) else { return 16 }
            return node.labels.reduce(24) { $0 + 4 + $1.utf8.count } + propertyBytes(node.properties, store: store)
        case .relationship(let id):
            guard let r = store.relationship(id) else { return 16 }
            return 40 + r.type.utf8.count + propertyBytes(r.properties, store: store)
        case .path(let nodes, let relationships):
            return nodes.reduce(8) { $0 + wireBytes(.node($1), store: store) }
                + relationships.reduce(0) { $0 + wireBytes(.relationship($1), store: store) }
        }
    }

    /// An element's properties: the Struct, and the typed ones again (see `typedProperties`).
    private static func propertyBytes(_ properties: [String: Value], store: GraphStore) -> Int {
        wireBytes(.map(properties), store: store) + wireBytes(.map(properties.filter { containsGraph($0.value) }), store: store)
    }

    static func node(_ id: Int, store: GraphStore) -> RuvectorV1.Node {
        let node = store.node(id)
        let properties = node?.properties ?? [:]
        return RuvectorV1.Node(id: UInt64(id), labels: node?.labels ?? [], properties: structure(properties, store: store),
                               typedProperties: typedProperties(properties, store: store))
    }

    static func relationship(_ id: Int, store: GraphStore) -> RuvectorV1.Relationship {
        let r = store.relationship(id)
        let properties = r?.properties ?? [:]
        return RuvectorV1.Relationship(id: UInt64(id), type: r?.type ?? "", startNodeId: UInt64(r?.start ?? 0),
                                       endNodeId: UInt64(r?.end ?? 0), properties: structure(properties, store: store),
                                       typedProperties: typedProperties(properties, store: store))
    }

    static func hyperedge(_ h: Hyperedge, store: GraphStore) -> RuvectorV1.Hyperedge {
        RuvectorV1.Hyperedge(id: UInt64(h.id), type: h.type, nodeIds: h.members.map(UInt64.init),
                             properties: structure(h.properties, store: store))
    }

    /// A query's plan (EXPLAIN, PROFILE) on the wire.
    static func plan(_ p: QueryPlan) -> RuvectorV1.QueryPlan {
        RuvectorV1.QueryPlan(mode: p.mode.rawValue, operators: p.operators.map {
            RuvectorV1.PlanOperator(name: $0.name, details: $0.details, rows: UInt64($0.rows ?? 0), timeNanos: $0.nanoseconds ?? 0)
        }, planned: p.planned, reason: p.reason, cached: p.cached)
    }
}
