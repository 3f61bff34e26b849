/// Grouped aggregation fed one row at a time (count, sum, avg, min, max, collect, each
/// optionally DISTINCT). It keeps one group per distinct grouping key, holding the group's
/// first row and running totals, so its memory grows with the groups and with what collect()
/// and DISTINCT keep, never with the rows it reads: `MATCH (n) RETURN count(n)` over a
/// million nodes holds one group.
final class Aggregation {
    private let executor: Executor
    private let items: [ProjectionItem]
    private let keyItems: [ProjectionItem]
    /// The distinct aggregate calls, in the order they first appear.
    private let calls: [Expr]
    private var groupIndex: [[Value]: Int] = [:]
    private var groups: [Group] = []

    private struct Group {
        /// The group's first row: grouping keys and non-aggregate parts are evaluated on it.
        var base: Row
        var accumulators: [Accumulator]
        /// Bytes of the group's key, base row dictionary and index entry.
        var groupBytes: Int
        /// Bytes the base row's values hold (carried from its input row).
        var ownedBytes: Int
    }

    init(_ items: [ProjectionItem], _ executor: Executor) throws(GraphError) {
        self.executor = executor
        self.items = items
        keyItems = items.filter { !Executor.containsAggregate($0.expr) }
        var all: [Expr] = []
        for item in items where Executor.containsAggregate(item.expr) { Executor.aggregateCalls(item.expr, &all) }
        var unique: [Expr] = []
        var seen = Set<Expr>()
        for call in all where seen.insert(call).inserted { unique.append(call) }
        calls = unique
    }

    private var control: QueryControl { executor.control }

    /// Adds one row (its values holding `kept` bytes, now this aggregation's).
    func add(_ row: Row, _ kept: Int) throws(GraphError) {
        let mark = control.mark
        var key: [Value] = []
        key.reserveCapacity(keyItems.count)
        for item in keyItems { key.append(Semantics.groupKey(try executor.eval(item.expr, row))) }
        let g: Int
        if let found = groupIndex[key] {
            control.release(to: mark)
            control.refund(kept)
            g = found
        } else {
            let accumulators = try calls.map { (call) throws(GraphError) in try Accumulator(call) }
            let groupBytes = try control.measure(.list(key)) + MemoryEstimate.rowBytes(row)
                + MemoryEstimate.mapHeaderBytes + MemoryLayout<Group>.stride
            control.release(to: mark)
            try control.charge(groupBytes)
            g = groups.count
            groups.append(Group(base: row, accumulators: accumulators, groupBytes: groupBytes, ownedBytes: kept))
            groupIndex[key] = g
        }
        for j in calls.indices { try groups[g].accumulators[j].add(row, executor) }
    }

    /// Hands each group's projected row (with its aggregates as hidden columns' values) to
    /// `emit`, in the order groups were first seen, until `emit` returns false. With no rows
    /// and no grouping keys there is one group of nothing (`count(*)` is 0).
    func finish(_ emit: (Row, Int) throws(GraphError) -> Bool) throws(GraphError) {
        if groups.isEmpty && keyItems.isEmpty {
            let accumulators = try calls.map { (call) throws(GraphError) in try Accumulator(call) }
            groups.append(Group(base: [:], accumulators: accumulators, groupBytes: 0, ownedBytes: 0))
        }
        let finished = groups
        groups = []
        groupIndex = [:]
        var wantsMore = true
        for group in finished {
            try control.check()
            // What the accumulators keep becomes the row's: collect()'s list, min()'s value.
            let owned = group.ownedBytes + group.accumulators.reduce(0) { $0 + $1.heldBytes }
            control.refund(group.groupBytes)
            guard wantsMore else {
                control.refund(owned)
                continue
            }
            var aggs: [Expr: Value] = [:]
            for (j, call) in calls.enumerated() { aggs[call] = try group.accumulators[j].value() }
            var out: Row = [:]
            var bytes = owned
            for item in keyItems {
                let (value, made) = try executor.held(item.expr, group.base, aggs)
                out[item.alias] = value
                bytes += made
            }
            let env = group.base.merging(out) { $1 }
            for item in items where out[item.alias] == nil {
                let (value, made) = try executor.held(item.expr, env, aggs)
                out[item.alias] = value
                bytes += made
            }
            wantsMore = try emit(out, bytes)
        }
    }
}

/// The running state of one aggregate call in one group.
struct Accumulator {
    private enum Kind { case countStar, count, sum, avg, min, max, collect, stDev, stDevP, percentileCont, percentileDisc }

    private let kind: Kind
    private let name: String
    private let argument: Expr?
    /// percentileCont / percentileDisc: the percentile, read from the first row.
    private var percentileArgument: Expr? = nil
    private var percentile: Double? = nil
    /// stDev / stDevP: the running mean and sum of squared differences (Welford).
    private var mean = 0.0
    private var squares = 0.0
    private let distinct: Bool
    private var seen = Set<Value>()
    private var count: Int64 = 0
    private var intSum: Int64 = 0
    private var floatSum = 0.0
    private var anyFloat = false
    private var best: Value? = nil
    private var bestBytes = 0
    private var values: [Value] = []
    /// Bytes charged for what this accumulator keeps (DISTINCT keys, collected values, the
    /// current min or max).
    private(set) var heldBytes = 0

    /// The accumulator for `call`; throws for a call that is not a valid aggregate.
    init(_ call: Expr) throws(GraphError) {
        if case .countStar = call {
            (kind, name, argument, distinct) = (.countStar, "count", nil, false)
            return
        }
        guard case .function(let name, let distinct, let args) = call, let first = args.first else {
            throw GraphError(.semantic, "aggregate functions take an argument")
        }
        if args.contains(where: Executor.containsAggregate) { throw GraphError(.semantic, "aggregate functions cannot be nested") }
        switch name {
        case "count": kind = .count
        case "sum": kind = .sum
        case "avg": kind = .avg
        case "min": kind = .min
        case "max": kind = .max
        case "collect": kind = .collect
        case "stdev": kind = .stDev
        case "stdevp": kind = .stDevP
        case "percentilecont": kind = .percentileCont
        case "percentiledisc": kind = .percentileDisc
        default: throw GraphError(.unsupported, "aggregate \(name)() is not supported")
        }
        let takes = kind == .percentileCont || kind == .percentileDisc ? 2 : 1
        guard args.count == takes else {
            throw GraphError(.semantic, "\(name)() takes \(takes == 1 ? "exactly one argument" : "two arguments: a value and a percentile")")
        }
        (self.name, argument, self.distinct) = (name, first, distinct)
        if takes == 2 { percentileArgument = args[1] }
    }

    /// Whether each row needs more than the argument's value (the percentile of
    /// percentileCont / percentileDisc): such an aggregate takes whole rows.
    var needsRow: Bool { percentileArgument != nil }

    /// Whether `add(rows:)` may stand for that many rows: `count(*)`, or a plain `count(x)`
    /// of values the caller knows are not null.
    var countsRows: Bool { !distinct && (kind == .countStar || kind == .count) }

    /// Counts `n` rows at once (see `countsRows`).
    mutating func add(rows n: Int) { count += Int64(n) }

    /// Takes `row`'s value of the argument (nulls are skipped, and repeats under DISTINCT).
    mutating func add(_ row: Row, _ executor: Executor) throws(GraphError) {
        guard let argument else {
            count += 1
            return
        }
        let control = executor.control
        let mark = control.mark
        defer { control.release(to: mark) }
        try takePercentile(from: row, executor)
        try add(value: try executor.eval(argument, row), control)
    }

    /// percentileCont / percentileDisc: reads the percentile from the first row it sees
    /// (nothing for the other aggregates).
    mutating func takePercentile(from row: Row, _ executor: Executor) throws(GraphError) {
        guard let percentileArgument, percentile == nil else { return }
        let p = try executor.eval(percentileArgument, row)
        guard let fraction = Semantics.number(p), fraction >= 0, fraction <= 1 else {
            throw GraphError(.runtime, "\(name)() needs a percentile between 0.0 and 1.0, got \(p.preview)",
                             cypherClass: .argumentError)
        }
        percentile = fraction
    }

    /// Takes one row's value of the argument, already evaluated (for `count(*)`, any value:
    /// the row is counted).
    mutating func add(value v: Value, _ control: QueryControl) throws(GraphError) {
        guard argument != nil else {
            count += 1
            return
        }
        if v.isNull { return }
        if distinct {
            let key = Semantics.groupKey(v)
            if seen.contains(key) { return }
            let bytes = try control.measure(key) + MemoryEstimate.valueBytes + 16
            try control.charge(bytes)
            heldBytes += bytes
            seen.insert(key)
        }
        count += 1
        switch kind {
        case .countStar, .count:
            break
        case .stDev, .stDevP:
            guard let x = Semantics.number(v) else {
                throw GraphError(.runtime, "type error: \(name)() needs numbers, got \(v.preview)", cypherClass: .typeError)
            }
            let delta = x - mean
            mean += delta / Double(count)
            squares += delta * (x - mean)
        case .percentileCont, .percentileDisc:
            guard Semantics.number(v) != nil else {
                throw GraphError(.runtime, "type error: \(name)() needs numbers, got \(v.preview)", cypherClass: .typeError)
            }
            let bytes = MemoryEstimate.valueBytes
            try control.charge(bytes)
            heldBytes += bytes
            values.append(v)
        case .collect:
            // The list keeps the value whatever happens to the row it came from.
            let bytes = MemoryEstimate.valueBytes + (try control.measure(v))
            try control.charge(bytes)
            heldBytes += bytes
            values.append(v)
        case .sum, .avg:
            switch v {
            case .int(let i):
                let (s, overflow) = intSum.addingReportingOverflow(i)
                guard !overflow else { throw GraphError(.runtime, "integer overflow in \(name)()") }
                intSum = s
            case .float(let d):
                floatSum += d
                anyFloat = true
            default:
                throw GraphError(.runtime, "type error: \(name)() needs numbers, got \(v.preview)")
            }
        case .min, .max:
            if let current = best {
                let c = Semantics.orderCompare(v, current)
                guard kind == .min ? c < 0 : c > 0 else { return }
            }
            let bytes = try control.measure(v)
            try control.charge(bytes)
            control.refund(bestBytes)
            heldBytes += bytes - bestBytes
            best = v
            bestBytes = bytes
        }
    }

    /// The aggregate's value for the rows taken.
    func value() throws(GraphError) -> Value {
        switch kind {
        case .countStar, .count: return .int(count)
        case .collect: return .list(values)
        case .sum: return anyFloat ? .float(floatSum + Double(intSum)) : .int(intSum)
        case .avg: return count == 0 ? .null : .float((floatSum + Double(intSum)) / Double(count))
        case .min, .max: return best ?? .null
        case .stDev: return .float(count < 2 ? 0 : (squares / Double(count - 1)).squareRoot())
        case .stDevP: return .float(count == 0 ? 0 : (squares / Double(count)).squareRoot())
        case .percentileDisc, .percentileCont:
            guard !values.isEmpty, let p = percentile else { return .null }
            let sorted = values.sorted { Semantics.number($0) ?? 0 < Semantics.number($1) ?? 0 }
            let n = sorted.count
            if kind == .percentileDisc {
                // The nearest rank, as Neo4j takes it: the value at ceil(p * n), counted from 1.
                let position = p * Double(n)
                var index = Int(position)
                if Double(index) == position && index > 0 { index -= 1 }
                return sorted[min(index, n - 1)]
            }
            // Linear interpolation between the two closest ranks.
            let position = p * Double(n - 1)
            let lower = Int(position), upper = min(lower + 1, n - 1)
            let a = Semantics.number(sorted[lower]) ?? 0, b = Semantics.number(sorted[upper]) ?? 0
            return .float(a + (b - a) * (position - Double(lower)))
        }
    }
}
