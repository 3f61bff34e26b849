import Synchronization

/// A procedure that `CALL` runs: a dotted name, typed inputs and outputs, and what it does.
/// One is built in (``ProcedureCatalog/builtIn``); an embedding application registers its own
/// with ``GraphDatabase/register(_:)``.
///
/// Arguments are checked against the inputs before the body runs: their number (at compile
/// time), literal arguments of the wrong type (at compile time, as the openCypher TCK asks),
/// and every value's type when the call runs. An INTEGER is accepted for a FLOAT input (and
/// passed as a float) and for a NUMBER input; null is accepted for every type.
public struct GraphProcedure: Sendable {
    /// The type of an input or output, by its Cypher name.
    public enum FieldType: String, Sendable, CaseIterable {
        case any = "ANY", boolean = "BOOLEAN", integer = "INTEGER", float = "FLOAT", number = "NUMBER",
             string = "STRING", list = "LIST", map = "MAP", node = "NODE", relationship = "RELATIONSHIP", path = "PATH"
    }

    /// A named, typed input or output.
    public struct Field: Sendable, Hashable {
        public var name: String
        public var type: FieldType
        public init(_ name: String, _ type: FieldType) {
            self.name = name
            self.type = type
        }
    }

    /// What runs when the procedure is called: built in (it reads the executor's state), or an
    /// application's closure.
    enum Body: Sendable {
        case vectorQueryNodes
        case records(@Sendable (_ arguments: [Value]) throws(GraphError) -> [[Value]])
    }

    /// The dotted name (`db.index.vector.queryNodes`).
    public let name: String
    /// The inputs, in argument order.
    public let inputs: [Field]
    /// The outputs, in the order a standalone call returns them as columns (none: a procedure
    /// run for what it does, whose call passes each row through once).
    public let outputs: [Field]
    let body: Body

    /// A procedure named `name` whose `records` are called with the checked arguments (one
    /// value per input) and return one record per result row, one value per output in order.
    /// Its name must be identifiers joined by dots, and inputs and outputs must have distinct
    /// names; `.semantic` error otherwise.
    public init(name: String, inputs: [Field], outputs: [Field],
                records: @escaping @Sendable (_ arguments: [Value]) throws(GraphError) -> [[Value]]) throws(GraphError) {
        try self.init(name: name, inputs: inputs, outputs: outputs, body: .records(records))
    }

    init(name: String, inputs: [Field], outputs: [Field], body: Body) throws(GraphError) {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 1, parts.allSatisfy({ part in
            guard let first = part.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
            return part.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
        }) else {
            throw GraphError(.semantic, "a procedure name is identifiers joined by dots (such as my.proc), not '\(name)'")
        }
        for fields in [inputs, outputs] where Set(fields.map(\.name)).count != fields.count {
            throw GraphError(.semantic, "\(name): two inputs or two outputs have the same name")
        }
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.body = body
    }

    /// The signature as Cypher writes it: `name(in :: INTEGER) :: (out :: STRING)`.
    public var signature: String {
        func list(_ fields: [Field]) -> String { fields.map { "\($0.name) :: \($0.type.rawValue)" }.joined(separator: ", ") }
        return "\(name)(\(list(inputs))) :: (\(list(outputs)))"
    }

    /// `value` as an argument for `field`: an integer for a FLOAT input becomes a float; nil
    /// when its type does not fit.
    static func argument(_ value: Value, for field: Field) -> Value? {
        switch (field.type, value) {
        case (_, .null), (.any, _), (.boolean, .bool), (.integer, .int), (.float, .float), (.number, .int), (.number, .float),
             (.string, .string), (.list, .list), (.map, .map), (.node, .node), (.relationship, .relationship), (.path, .path):
            return value
        case (.float, .int(let i)):
            return .float(Double(i))
        default:
            return nil
        }
    }
}

/// The procedures one database can call, by name: the built-in ones and those an application
/// registered. A catalog with registrations has a generation of its own, which keys the plan
/// cache with the query text (a query is checked against the procedures it can call).
public struct ProcedureCatalog: Sendable {
    /// `db.index.vector.queryNodes(indexName :: STRING, k :: INTEGER, vector :: LIST)
    /// :: (node :: NODE, score :: FLOAT)`: the `k` nodes nearest to `vector` in a vector index,
    /// best first; `score` is the similarity (cosine: the cosine similarity; other metrics: the
    /// negated distance), larger is better.
    public static let builtIn: ProcedureCatalog = {
        // The name and fields are valid: this cannot throw.
        let queryNodes = try! GraphProcedure(
            name: "db.index.vector.queryNodes",
            inputs: [.init("indexName", .string), .init("k", .integer), .init("vector", .list)],
            outputs: [.init("node", .node), .init("score", .float)], body: .vectorQueryNodes)
        return ProcedureCatalog(procedures: [queryNodes.name: queryNodes], generation: 0)
    }()

    private static let generations = Atomic<UInt64>(0)

    private var procedures: [String: GraphProcedure]
    /// 0 for the built-in catalog; unique to each registration otherwise.
    private(set) var generation: UInt64

    private init(procedures: [String: GraphProcedure], generation: UInt64) {
        self.procedures = procedures
        self.generation = generation
    }

    /// Every procedure, by name.
    public var all: [GraphProcedure] { procedures.values.sorted { $0.name < $1.name } }

    /// The procedure named `name` (names compare as written).
    public subscript(name: String) -> GraphProcedure? { procedures[name] }

    /// Adds `procedure`, or replaces an application's procedure of the same name; a built-in
    /// one cannot be replaced (`.semantic` error).
    public mutating func register(_ procedure: GraphProcedure) throws(GraphError) {
        if Self.builtIn[procedure.name] != nil {
            throw GraphError(.semantic, "\(procedure.name) is built in and cannot be replaced")
        }
        procedures[procedure.name] = procedure
        generation = Self.generations.add(1, ordering: .relaxed).newValue
    }

    /// The procedure `name`; a ProcedureError naming the known ones otherwise.
    func procedure(named name: String) throws(GraphError) -> GraphProcedure {
        guard let p = procedures[name] else {
            throw GraphError(.semantic, "there is no procedure '\(name)'; available: \(all.map(\.name).joined(separator: ", "))",
                             cypherClass: .procedureError)
        }
        return p
    }
}
