#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a `PlannedQuery`: each step takes the row (`Frame`, one value per slot, changed in
/// place) and hands every row it makes to the next step, depth first, down to the output. So
/// no row between steps is ever held, a LIMIT stops the work upstream (`pipelineStop`), and an
/// aggregation holds its groups, not its input. Memory is charged and the call's cancel and
/// deadline are polled as the interpreter does.
final class PlanRunner {
    /// The query's executor: the one copy a planned query makes of it (the output is handed
    /// this one rather than capturing its own).
    private let executor: Executor
    private let steps: [PlanStep]
    /// The steps this runner runs: all, or one segment between updates (an update ends a
    /// segment; a new runner, with the graph it left, runs the steps after it).
    private let start: Int, end: Int
    private let profile: PlanProfile?
    /// Filters that the rows passing now need not run: an exact index lookup answered them.
    private var answered: [Bool]
    /// Where the last step's rows go.
    private let output: (inout Frame, Executor) throws(GraphError) -> Void
    /// Set when the output only counts rows (see `HashAggregation.counter(of:)`): a first
    /// step whose exact lookup leaves nothing to check hands it the number of ids instead.
    var countRows: ((Int) -> Void)? = nil
    /// The rows each collecting WITH gathers, by step.
    private var collected: [Int: ProjectionSink] = [:]
    /// Whether the OPTIONAL MATCH starting at a step found a row for the row now going through it.
    private var found: [Bool]

    /// Runs `plan`'s steps from `start` up to `end` (nil: all), then `output`.
    init(_ executor: borrowing Executor, _ plan: PlannedQuery, from start: Int = 0, upTo end: Int? = nil, profile: PlanProfile?,
         output: @escaping (inout Frame, Executor) throws(GraphError) -> Void) throws(GraphError) {
        // Borrowed, then copied once: an owned argument cost the caller a copy and this a destroy.
        self.executor = copy executor
        self.steps = plan.steps
        self.start = start
        self.end = end ?? plan.steps.count
        answered = Array(repeating: false, count: plan.steps.count)
        found = Array(repeating: false, count: plan.steps.count)
        self.profile = profile
        self.output = output
        for i in start..<self.end {
            if case .eager(let output, let columns, _, let scope) = plan.steps[i] {
                collected[i] = try ProjectionSink(output, columns: columns, scope: scope, self.executor)
            }
        }
    }

    private var control: QueryControl { executor.control }

    /// Runs the whole pipeline from one empty row; then each collecting WITH, in order, hands
    /// its rows to the steps after it. A LIMIT (or a collection that has enough rows) ends the
    /// run of the steps that feed it.
    func run(slots: Int) throws(GraphError) {
        var frame = Frame(repeating: .null, count: slots)
        try untilStopped { () throws(GraphError) in try push(start, &frame) }
        try finishCollected(slots: slots)
    }

    /// Runs the steps on each of `input`'s rows (those of the update before `start`), their
    /// variables put in their slots by `scope`; takes the rows over (each row's values are
    /// given back once its run is done).
    func run(slots: Int, input: RowSet, scope: [(name: String, slot: Int)]) throws(GraphError) {
        var next = 0
        defer {
            input.releaseRows(control)
            for bytes in input.kept[next...] { control.refund(bytes) }
        }
        try untilStopped { () throws(GraphError) in
            while next < input.count {
                try control.check()
                var frame = Frame(repeating: .null, count: slots)
                let row = input.rows[next]
                for (name, slot) in scope { frame[slot] = row[name] ?? .null }
                let kept = input.kept[next]
                next += 1
                defer { control.refund(kept) }
                try push(start, &frame)
            }
        }
        try finishCollected(slots: slots)
    }

    /// Each collecting WITH, in order: its rows to the steps after it.
    private func finishCollected(slots: Int) throws(GraphError) {
        for i in start..<end {
            guard case .eager(_, _, let made, _) = steps[i], let sink = collected[i] else { continue }
            let result = try sink.finish()
            defer { control.refund(result.memoryBytes) }
            try untilStopped { () throws(GraphError) in
                for row in result.rows {
                    try control.check()
                    var next = Frame(repeating: .null, count: slots)
                    for (slot, value) in zip(made, row) { next[slot] = value }
                    try push(i + 1, &next)
                }
            }
        }
    }

    private func untilStopped(_ body: () throws(GraphError) -> Void) throws(GraphError) {
        let mark = control.mark
        do {
            try body()
        } catch where error.code == Executor.pipelineStop {
            control.release(to: mark)
        }
    }

    /// Hands `frame` to step `i` (or to the output past the last step).
    private func push(_ i: Int, _ frame: inout Frame) throws(GraphError) {
        if let profile {
            profile.rows[i] += 1
            let back = profile.enter(i)
            defer { profile.enter(back) }
            try run(i, &frame)
        } else {
            try run(i, &frame)
        }
    }

    /// CALL: the procedure with the row's arguments, then each record it returns, its yielded
    /// outputs in their slots. (Its own function: `run` recurses once per step, and a debug
    /// build keeps every case's locals in each of its frames.)
    private func call(_ call: CallStep, _ i: Int, _ frame: inout Frame) throws(GraphError) {
        let mark = control.mark
        defer { control.release(to: mark) }
        var values: [Value] = []
        values.reserveCapacity(call.arguments.count)
        for argument in call.arguments { values.append(try executor.evaluate(argument, frame)) }
        let records = try executor.callProcedure(call.procedure, arguments: values)
        for record in call.procedure.outputs.isEmpty ? [[]] : records {
            try control.check()
            for binding in call.bindings { frame[binding.slot] = record[binding.output] }
            if let predicate = call.predicate, try !executor.holds(predicate, frame) { continue }
            try push(i + 1, &frame)
        }
    }

    /// Hands a finished row to the output with the executor. Kept out of `run`: the executor
    /// passed is a large temporary, which would otherwise sit in every recursive `run` frame.
    @inline(never)
    private func emit(_ frame: inout Frame) throws(GraphError) {
        try output(&frame, executor)
    }

    private func run(_ i: Int, _ frame: inout Frame) throws(GraphError) {
        guard i < end else { return try emit(&frame) }
        switch steps[i] {
        case .filter(let predicate, _):
            if answered[i] {
                try push(i + 1, &frame)
            } else if try executor.holds(predicate, frame) {
                try push(i + 1, &frame)
            }
        case .nodeScan(let scan):
            try nodeScan(scan, i, &frame)
        case .expand(let expand):
            try self.expand(expand, i, &frame)
        case .varExpand(let expand):
            if expand.distinctEnds { try reachedEnds(expand, i, &frame) } else { try trails(expand, i, &frame) }
        case .project(let items):
            let mark = control.mark
            defer { control.release(to: mark) }
            for item in items { frame[item.slot] = try executor.evaluate(item.expr, frame) }
            try push(i + 1, &frame)
        case .call(let call):
            try self.call(call, i, &frame)
        case .unwind(let list, _, let slot, _):
            let mark = control.mark
            defer { control.release(to: mark) }
            switch try executor.evaluate(list, frame) {
            case .null:
                return
            case .list(let elements):
                for element in elements {
                    try control.check()
                    frame[slot] = element
                    try push(i + 1, &frame)
                }
            case let value:
                frame[slot] = value
                try push(i + 1, &frame)
            }
        case .optional(let end, let slots):
            let outer = found[i]
            defer { found[i] = outer }
            found[i] = false
            try push(i + 1, &frame)
            if !found[i] {
                for slot in slots { frame[slot] = .null }
                try push(end + 1, &frame)
            }
        case .optionalEnd(let start):
            found[start] = true
            try push(i + 1, &frame)
        case .shortest(let step):
            try shortest(step, i, &frame)
        case .path(let slot, let pieces, _):
            var nodes: [Int] = [], relationships: [Int] = []
            for piece in pieces {
                switch piece {
                case .start(let s):
                    guard case .node(let id) = frame[s] else { return }
                    nodes.append(id)
                case .step(let r, let n):
                    guard case .relationship(let rid) = frame[r], case .node(let id) = frame[n] else { return }
                    relationships.append(rid)
                    nodes.append(id)
                case .segment(let s):
                    guard case .path(let walked, let rels) = frame[s] else { return }
                    nodes += walked
                    relationships += rels
                }
            }
            let mark = control.mark
            defer { control.release(to: mark) }
            try control.hold(MemoryEstimate.idListBytes(count: nodes.count + relationships.count))
            frame[slot] = .path(nodes: nodes, relationships: relationships)
            try push(i + 1, &frame)
        case .eager:
            try collected[i]?.add(frame)
        case .update:
            throw GraphError(.runtime, "internal: an update inside a planned segment")
        }
    }

    // MARK: Nodes

    /// The inline property map a pattern node or relationship requires, nil for none.
    private func required(_ map: SlotExpr?, _ frame: Frame) throws(GraphError) -> [String: Value]? {
        guard let map else { return nil }
        let required = try executor.patternProperties(try executor.evaluate(map, frame))
        return required.isEmpty ? nil : required
    }

    private func fits(_ id: Int, _ test: NodeTest, _ want: [String: Value]?) -> Bool {
        // The ids here come from the store's indexes and relationships: they exist.
        if test.labels.isEmpty && want == nil { return true }
        guard executor.store.node(id, hasLabels: test.labels) else { return false }
        guard let want else { return true }
        return executor.store.nodes.withElement(id) { executor.propertiesMatch($0.properties, want) } ?? false
    }

    /// True if relationship `id` has every property in `want` (read in place).
    private func relationshipMatches(_ id: Int, _ want: [String: Value]) -> Bool {
        executor.store.relationships.withElement(id) { executor.propertiesMatch($0.properties, want) } ?? false
    }

    /// An index lookup that answers exactly: every id it gives has the label and the property
    /// equal to the value (an integer from 2^53 on may share its entry with a neighbour, and is
    /// checked). `filter` is the step that checks that equality again.
    private struct ExactLookup {
        var label: String
        var filter: Int?
    }

    private static func isExact(_ value: Value) -> Bool {
        switch value {
        case .int(let i): return i.magnitude < 1 << 53
        case .float(let d): return !d.isNaN
        case .string, .bool: return true
        default: return false
        }
    }

    /// The ids the anchor can be: an id seek, the smallest index lookup, the smallest label,
    /// or every node. A superset: each is still tested, unless the lookup was exact; `labelled`
    /// names the label when they are exactly the nodes that carry it.
    private func candidates(_ scan: NodeScan, _ frame: Frame) throws(GraphError) -> (ids: NodeIds, exact: ExactLookup?, labelled: String?) {
        if let seek = scan.idSeek {
            guard let id = Executor.nodeId(try executor.evaluate(seek, frame)), executor.store.nodes.contains(id) else { return (.list([]), nil, nil) }
            return (.list([id]), nil, nil)
        }
        if !scan.test.labels.isEmpty && !executor.store.propertyIndexes.isEmpty {
            var best: (ids: SortedIds, exact: ExactLookup?)? = nil
            for hint in scan.indexHints {
                // A value that fails to evaluate narrows nothing (the filter reports it).
                guard let value = try? executor.evaluate(hint.value, frame) else { continue }
                for label in scan.test.labels {
                    guard let ids = executor.store.propertyIndexes.candidateSet(label: label, property: hint.property, equalTo: value) else { continue }
                    if best == nil || ids.count < best?.ids.count ?? 0 {
                        best = (ids, Self.isExact(value) ? ExactLookup(label: label, filter: hint.filter) : nil)
                    }
                }
            }
            if let best { return (.set(best.ids), best.exact, nil) }
        }
        if let label = scan.test.labels.min(by: { executor.store.labelIndex.count($0) < executor.store.labelIndex.count($1) }) {
            return (.set(executor.store.labelIndex.set(label)), nil, label)
        }
        return (.list(executor.store.allNodeIds()), nil, nil)
    }

    private func nodeScan(_ scan: NodeScan, _ i: Int, _ frame: inout Frame) throws(GraphError) {
        let mark = control.mark
        defer { control.release(to: mark) }
        let want = try required(scan.test.properties, frame)
        if scan.bound {
            guard case .node(let id) = frame[scan.slot], fits(id, scan.test, want) else { return }
            return try push(i + 1, &frame)
        }
        let (ids, exact, labelled) = try candidates(scan, frame)
        if case .list(let list) = ids { try control.hold(MemoryEstimate.idListBytes(count: list.count)) }
        // An exact lookup on the node's only label, or the scan of that label, with no inline
        // map to check: each id fits.
        let only = exact?.label ?? labelled
        let fitsAll = only != nil && scan.test.labels == [only] && want == nil
        var restore: (step: Int, was: Bool)? = nil
        if let f = exact?.filter {
            restore = (f, answered[f])
            answered[f] = true
        }
        defer { if let restore { answered[restore.step] = restore.was } }
        // The first step, exact, every later step a filter it answered, the output a count.
        if i == 0, fitsAll, let countRows, end == steps.count, steps.indices.dropFirst().allSatisfy({ answered[$0] }) {
            if let profile { for k in 1...steps.count { profile.rows[k] += ids.count } }
            return countRows(ids.count)
        }
        try ids.forEach { (id) throws(GraphError) in
            try control.check()
            guard fitsAll || fits(id, scan.test, want) else { return }
            frame[scan.slot] = .node(id)
            try push(i + 1, &frame)
        }
    }

    /// The ids a node scan walks: a list it built, or an index's set read where it is.
    private enum NodeIds {
        case list([Int])
        case set(SortedIds)

        var count: Int {
            switch self {
            case .list(let ids): return ids.count
            case .set(let ids): return ids.count
            }
        }

        func forEach(_ body: (Int) throws(GraphError) -> Void) throws(GraphError) {
            switch self {
            case .list(let ids): for id in ids { try body(id) }
            case .set(let ids): try ids.forEach(body)
            }
        }
    }

    // MARK: Relationships

    private func expand(_ e: Expand, _ i: Int, _ frame: inout Frame) throws(GraphError) {
        guard case .node(let from) = frame[e.from] else { return }
        let mark = control.mark
        defer { control.release(to: mark) }
        let relWant = try required(e.relationshipProperties, frame)
        let nodeWant = try required(e.target.properties, frame)
        func follow(_ rid: Int, _ other: Int, _ frame: inout Frame) throws(GraphError) {
            for s in e.distinctFrom {
                switch frame[s] {
                case .relationship(rid): return
                case .list(let walk) where walk.contains(.relationship(rid)): return
                default: break
                }
            }
            if let relWant, !relationshipMatches(rid, relWant) { return }
            if e.toBound, frame[e.to] != .node(other) { return }
            guard fits(other, e.target, nodeWant) else { return }
            try control.check()
            frame[e.relationship] = .relationship(rid)
            frame[e.to] = .node(other)
            try push(i + 1, &frame)
        }
        guard e.relationshipBound else {
            return try executor.store.forEachRelationship(of: from, e.types, e.direction) { (rid, other) throws(GraphError) in
                try follow(rid, other, &frame)
            }
        }
        // The relationship is known: it matches if it touches `from` the pattern's way.
        guard case .relationship(let rid) = frame[e.relationship], let r = executor.store.relationships[rid],
              e.types.isEmpty || e.types.contains(r.type) else { return }
        if e.direction != .incoming && r.start == from {
            try follow(rid, r.end, &frame)
        } else if e.direction != .outgoing && r.end == from {
            try follow(rid, r.start, &frame)
        }
    }

    /// Every trail (no relationship twice) of `min...max` steps, as the interpreter walks them:
    /// one row per trail.
    private func trails(_ e: VarExpand, _ i: Int, _ frame: inout Frame) throws(GraphError) {
        guard case .node(let from) = frame[e.from] else { return }
        let mark = control.mark
        defer { control.release(to: mark) }
        let nodeWant = try required(e.target.properties, frame)
        let relWant = try required(e.relationshipProperties, frame)
        // Relationships the MATCH bound before the walk are not walked (and, like the walk's
        // own, stay off limits for the relationships after it).
        var used = Self.relationships(in: e.distinctFrom, frame)
        // A list bound before: exactly its relationships, in order.
        var follow: [Int]? = nil
        if e.relationshipsBound, let r = e.relationships {
            guard case .list(let items) = frame[r] else { return }
            var ids: [Int] = []
            for item in items {
                guard case .relationship(let id) = item else { return }
                ids.append(id)
            }
            follow = ids
        }
        // The walk so far, kept only when a variable needs it.
        let keepsWalk = e.relationships != nil || e.segment != nil
        var walkedNodes: [Int] = [], walkedRelationships: [Int] = []
        func walk(_ at: Int, _ depth: Int, _ frame: inout Frame) throws(GraphError) {
            try control.check()
            if depth >= e.min && (follow == nil || depth == follow?.count) && (!e.toBound || frame[e.to] == .node(at))
                && fits(at, e.target, nodeWant) {
                frame[e.to] = .node(at)
                let mark = control.mark
                defer { control.release(to: mark) }
                if keepsWalk { try control.hold(MemoryEstimate.listBytes(count: 2 * walkedRelationships.count + walkedNodes.count)) }
                if let r = e.relationships { frame[r] = .list(walkedRelationships.map(Value.relationship)) }
                if let s = e.segment { frame[s] = .path(nodes: walkedNodes, relationships: walkedRelationships) }
                try push(i + 1, &frame)
            }
            guard depth < e.max, depth < follow?.count ?? Int.max else { return }
            let stepMark = control.mark
            defer { control.release(to: stepMark) }
            var next: [(Int, Int)] = []
            try executor.store.forEachRelationship(of: at, e.types, e.direction) { (rid, other) throws(GraphError) in
                if used.contains(rid) || (follow != nil && follow?[depth] != rid) { return }
                if let relWant, !relationshipMatches(rid, relWant) { return }
                next.append((rid, other))
            }
            try control.hold(MemoryEstimate.idListBytes(count: 2 * next.count))
            for (rid, other) in next {
                used.insert(rid)
                if keepsWalk { walkedNodes.append(other); walkedRelationships.append(rid) }
                try walk(other, depth + 1, &frame)
                if keepsWalk { walkedNodes.removeLast(); walkedRelationships.removeLast() }
                used.remove(rid)
            }
        }
        try walk(from, 0, &frame)
    }

    /// The shortest paths from the node in `from` (the interpreter's search), each handed on
    /// with its end node, relationships and path in their slots.
    private func shortest(_ e: ShortestStep, _ i: Int, _ frame: inout Frame) throws(GraphError) {
        guard case .node(let from) = frame[e.from] else { return }
        let mark = control.mark
        defer { control.release(to: mark) }
        var row: Row = Dictionary(minimumCapacity: e.scope.count)
        for (name, slot) in e.scope { row[name] = frame[slot] }
        var used = Self.relationships(in: e.distinctFrom, frame)
        // Found first (each is charged by the search as it is found), then handed on.
        final class Found { var paths: [(end: Int, nodes: [Int], relationships: [Int])] = [] }
        let found = Found()
        var out = MatchOutput { match throws(GraphError) in
            guard case .path(let nodes, let relationships) = Self.shortestPath(match, e) else { return }
            found.paths.append((nodes.last ?? from, nodes, relationships))
        }
        // The search binds a path variable only when the pattern has one: ask it for one.
        var part = e.part
        if part.pathVariable == nil { part.pathVariable = Self.searchPath }
        try executor.matchShortest([part], 0, e.kind, from: from, row, &used, &out)
        for path in found.paths {
            try control.check()
            frame[e.end] = .node(path.end)
            if let r = e.relationships { frame[r] = .list(path.relationships.map(Value.relationship)) }
            if let p = e.path { frame[p] = .path(nodes: path.nodes, relationships: path.relationships) }
            try push(i + 1, &frame)
        }
    }

    /// The relationships in `slots`: single ones and variable-length walks' lists.
    private static func relationships(in slots: [Int], _ frame: Frame) -> Set<Int> {
        var ids = Set<Int>()
        for s in slots {
            switch frame[s] {
            case .relationship(let rid): ids.insert(rid)
            case .list(let walk): for case .relationship(let rid) in walk { ids.insert(rid) }
            default: break
            }
        }
        return ids
    }

    /// The name the search's path goes by when the pattern names none (no variable can be
    /// named so).
    private static let searchPath = "\u{0}path"

    private static func shortestPath(_ match: Row, _ e: ShortestStep) -> Value? {
        match[e.part.pathVariable ?? searchPath]
    }

    /// Each node reachable in `min...max` steps (min 0 or 1, one direction), once: a
    /// breadth-first search. The nearest way to a node is a path, so a node is reachable by a
    /// trail of at most `max` steps exactly when the search reaches it within `max` levels
    /// (the start node itself through its shortest cycle, which is a trail too).
    private func reachedEnds(_ e: VarExpand, _ i: Int, _ frame: inout Frame) throws(GraphError) {
        guard case .node(let from) = frame[e.from] else { return }
        let mark = control.mark
        defer { control.release(to: mark) }
        let nodeWant = try required(e.target.properties, frame)
        var seen = Set<Int>()
        func reach(_ node: Int, _ frame: inout Frame) throws(GraphError) {
            guard fits(node, e.target, nodeWant) else { return }
            frame[e.to] = .node(node)
            try push(i + 1, &frame)
        }
        if e.min == 0 {
            seen.insert(from)
            try reach(from, &frame)
        }
        var frontier = [from]
        var depth = 0
        while depth < e.max && !frontier.isEmpty {
            depth += 1
            var next: [Int] = []
            for node in frontier {
                try control.check()
                try executor.store.forEachRelationship(of: node, e.types, e.direction) { (_, other) throws(GraphError) in
                    if seen.insert(other).inserted { next.append(other) }
                }
            }
            try control.hold(MemoryEstimate.idListBytes(count: 3 * next.count))
            for node in next {
                try control.check()
                try reach(node, &frame)
            }
            frontier = next
        }
    }
}

/// PROFILE's counters: rows each operator produced and the time spent in it. Time is charged
/// to whichever operator is running: handing a row on switches the clock to the receiver.
final class PlanProfile {
    /// Rows handed to operator `i`, i.e. produced by operator `i - 1` (index 0: the one start row).
    var rows: [Int]
    var nanoseconds: [UInt64]
    /// Rows the output made (result rows).
    var outputRows = 0
    /// Whether the plan ran in blocks (`BatchPlan`): its operators are named so.
    var batched = false
    /// Whether its expand read the relationships where they are stored (`BatchRelationshipScan`).
    var readRelationships = false
    private var current: Int
    private var last: UInt64

    init(operators: Int) {
        rows = Array(repeating: 0, count: operators + 1)
        nanoseconds = Array(repeating: 0, count: operators + 1)
        current = operators
        last = Self.now()
    }

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Forgets the rows and time counted so far (a batch run given up, the query run again).
    func clear() {
        for i in rows.indices { rows[i] = 0 }
        for i in nanoseconds.indices { nanoseconds[i] = 0 }
        last = Self.now()
    }

    /// Runs `body` with its time charged to operator `i`, then goes back to the operator that
    /// was running; without a profile, just runs it.
    @inline(__always)
    static func timing(_ profile: PlanProfile?, _ i: Int, _ body: () throws(GraphError) -> Void) throws(GraphError) {
        guard let profile else { return try body() }
        let back = profile.enter(i)
        defer { profile.enter(back) }
        try body()
    }

    /// Charges the time since the last switch to the running operator and makes `i` the
    /// running one; returns the one it replaced.
    @discardableResult
    func enter(_ i: Int) -> Int {
        let t = Self.now()
        nanoseconds[current] += t &- last
        last = t
        defer { current = i }
        return current
    }
}
