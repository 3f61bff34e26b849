/// An expression compiled against a plan's slots: variables are array positions in the row
/// (`Frame`), not dictionary keys. The common shapes (property reads, comparisons, boolean
/// logic, scalar functions) run here; anything else (comprehensions, pattern predicates,
/// subqueries, CASE...) is `interpreted`: the row's named variables are put in a dictionary
/// and the interpreter's `eval` answers, with its exact semantics.
indirect enum SlotExpr: Sendable {
    case constant(Value)
    case parameter(String)
    case slot(Int)
    case property(SlotExpr, String)
    case binary(String, SlotExpr, SlotExpr)
    case not(SlotExpr)
    case isNull(SlotExpr, negated: Bool)
    case hasLabels(SlotExpr, [String])
    /// A scalar function (not an aggregate) on evaluated arguments.
    case function(String, [SlotExpr])
    /// `id(x)`, the commonest function, without the name dispatch of `function`.
    case id(SlotExpr)
    /// Evaluated by the interpreter on a dictionary of the named slots.
    case interpreted(Expr, [(name: String, slot: Int)])
}

/// A row of a planned query: one value per slot (`.null` until bound).
typealias Frame = [Value]

extension SlotExpr {
    /// Compiles `e` with `slots` naming the variables in scope (name to slot).
    static func compile(_ e: Expr, _ slots: [String: Int]) -> SlotExpr {
        func fallback() -> SlotExpr {
            .interpreted(e, slots.map { (name: $0.key, slot: $0.value) }.sorted { $0.slot < $1.slot })
        }
        switch e {
        case .literal(let v): return .constant(v)
        case .parameter(let p): return .parameter(p)
        case .variable(let v):
            guard let s = slots[v] else { return fallback() }
            return .slot(s)
        case .property(let x, let key): return .property(compile(x, slots), key)
        case .binary(let op, let a, let b):
            // `=~` keeps the interpreter's compiled-pattern cache; the rest are plain operators.
            return .binary(op, compile(a, slots), compile(b, slots))
        case .not(let x): return .not(compile(x, slots))
        case .isNull(let x, let negated): return .isNull(compile(x, slots), negated: negated)
        case .hasLabels(let x, let labels): return .hasLabels(compile(x, slots), labels)
        case .function("id", false, let args) where args.count == 1:
            return .id(compile(args[0], slots))
        case .function(let name, false, let args) where !Executor.aggregateNames.contains(name):
            return .function(name, args.map { compile($0, slots) })
        default:
            return fallback()
        }
    }

    /// Whether evaluating this can only read (no lists, maps or strings built): then no memory
    /// is charged and no mark is needed around it.
    var isReadOnly: Bool {
        switch self {
        case .constant, .parameter, .slot: return true
        case .property(let x, _), .not(let x), .isNull(let x, _), .hasLabels(let x, _), .id(let x): return x.isReadOnly
        case .binary(let op, let a, let b): return op != "+" && a.isReadOnly && b.isReadOnly
        case .function, .interpreted: return false
        }
    }
}

extension Executor {
    /// The value of `e` for `frame`, with the interpreter's semantics and memory accounting
    /// (what a function or interpreted part builds is charged as transient bytes).
    func evaluate(_ e: SlotExpr, _ frame: Frame) throws(GraphError) -> Value {
        switch e {
        case .constant(let v): return v
        case .parameter(let p):
            guard let v = params[p] else { throw GraphError(.runtime, "parameter $\(p) was not supplied", cypherClass: .parameterMissing) }
            return v
        case .slot(let s): return frame[s]
        case .property(.slot(let s), let key):
            // The hot path: a node's property, read in place.
            if case .node(let id) = frame[s], let value = store.nodeProperty(id, key) { return value }
            return try property(frame[s], key)
        case .property(let x, let key):
            return try property(try evaluate(x, frame), key)
        case .binary(let op, let a, let b):
            let mark = control.mark
            return try binary(op, try evaluate(a, frame), try evaluate(b, frame), since: mark)
        case .not(let x):
            switch try evaluate(x, frame) {
            case .null: return .null
            case .bool(let b): return .bool(!b)
            case let v: throw typeError("NOT expects a boolean, got \(v)")
            }
        case .isNull(let x, let negated):
            return .bool(try evaluate(x, frame).isNull != negated)
        case .hasLabels(let x, let labels):
            switch try evaluate(x, frame) {
            case .null: return .null
            case .node(let id):
                return .bool(store.node(id, hasLabels: labels))
            case .relationship(let id):
                return store.relationship(id, hasType: labels).map(Value.bool) ?? .null
            case let v: throw typeError("label test on \(v)")
            }
        case .function(let name, let args):
            let mark = control.mark
            var values: [Value] = []
            values.reserveCapacity(args.count)
            for a in args { values.append(try evaluate(a, frame)) }
            return try settled(try function(name, values), since: mark)
        case .id(let x):
            switch try evaluate(x, frame) {
            case .node(let id), .relationship(let id): return .int(Int64(id))
            case .null: return .null
            case let v: return try function("id", [v])    // its error, as the interpreter words it
            }
        case .interpreted(let expr, let bindings):
            var row: Row = Dictionary(minimumCapacity: bindings.count)
            for (name, slot) in bindings { row[name] = frame[slot] }
            return try eval(expr, row)
        }
    }

    /// Whether `e` holds for `frame` (null and false do not); what evaluating it built is given back.
    func holds(_ e: SlotExpr, _ frame: Frame) throws(GraphError) -> Bool {
        let mark = control.mark
        defer { control.release(to: mark) }
        return try evaluate(e, frame) == .bool(true)
    }

    /// The value of `e` for `frame` and the bytes it holds that evaluating it made (now the
    /// caller's); temporaries are given back.
    func held(_ e: SlotExpr, _ frame: Frame) throws(GraphError) -> (Value, Int) {
        let mark = control.mark
        let value = try evaluate(e, frame)
        guard control.transientBytes > mark else {
            // A list, map or path a step made (a path, a walk's relationships, a collecting
            // WITH's list) is charged again for the row that keeps it.
            guard case .slot = e else { return (value, 0) }
            switch value {
            case .list, .map, .path:
                let bytes = try control.measure(value)
                try control.charge(bytes)
                return (value, bytes)
            default:
                return (value, 0)
            }
        }
        return (value, control.keep(since: mark, atMost: try control.measure(value)))
    }
}
