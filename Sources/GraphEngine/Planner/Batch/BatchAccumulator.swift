/// One aggregate of a batch aggregation, for every group at once: its running state as arrays
/// indexed by group, updated a block of rows at a time. It computes what `Accumulator` computes
/// for the same rows in the same order (counts; integer and float sums kept apart, as there;
/// min and max by `Semantics.orderCompare`, the first of equal values kept). Where `Accumulator`
/// would throw (a sum or average of a value that is not a number, an integer sum that
/// overflows) it throws `Executor.batchFallback` instead, and the query runs again row at a
/// time, which throws the row path's error.
///
/// Rows taken out of the row path's order (`inOrder` false: one part of a run on several
/// threads, or a scan of the relationships) are taken only where the result cannot depend on
/// their order: integers for sum, avg, min and max (a float sum depends on the order it is
/// added in, and so does which of two equal values of different types min keeps). An integer
/// sum keeps the totals of its positive and of its negative values: while neither overflows,
/// no running sum can, in any order. Anything else throws `Executor.batchInOrder`, and the
/// query runs again with its rows in order.
struct BatchAccumulator {
    let function: BatchPlan.Function
    let inOrder: Bool
    private var counts: [Int64] = []
    private var intSums: [Int64] = []
    private var floatSums: [Double] = []
    private var anyFloat: [Bool] = []
    /// Out of order: the totals of each group's positive and negative integers (group `g`'s at
    /// `2g` and `2g + 1`).
    private var totals: [Int64] = []
    private var best: [Value?] = []
    /// Bytes charged for each group's current min or max (a long string, a list).
    private var bestBytes: [Int] = []

    init(_ function: BatchPlan.Function, inOrder: Bool) {
        self.function = function
        self.inOrder = inOrder
    }

    /// Room for one more group.
    mutating func addGroup() {
        switch function {
        case .countRows, .count:
            counts.append(0)
        case .sum, .avg:
            counts.append(0)
            intSums.append(0)
            floatSums.append(0)
            anyFloat.append(false)
            if !inOrder { totals += [0, 0] }
        case .min, .max:
            best.append(nil)
            bestBytes.append(0)
        }
    }

    /// Bytes this aggregate holds for group `g` (what its row keeps, as `Accumulator.heldBytes`).
    func heldBytes(_ g: Int) -> Int { bestBytes.isEmpty ? 0 : bestBytes[g] }

    /// Counts each row (`count(*)`, or `count` of a node or relationship, never null).
    mutating func countRows(_ groups: UnsafeBufferPointer<Int>) {
        counts.withUnsafeMutableBufferPointer { counts in
            for g in groups { counts[g] += 1 }
        }
    }

    /// Takes each row's value of the argument (row `k`'s, typed, in group `groups[k]`).
    mutating func add(_ values: BatchValues, _ groups: UnsafeBufferPointer<Int>, _ control: QueryControl) throws(GraphError) {
        let ints = values.ints.elements, isInt = values.isInt.elements, others = values.values.elements
        switch function {
        case .countRows:
            countRows(groups)
        case .count:
            counts.withUnsafeMutableBufferPointer { counts in
                for (k, g) in groups.enumerated() where isInt[k] || !others[k].isNull { counts[g] += 1 }
            }
        case .sum, .avg:
            if inOrder { try addInOrder(ints, isInt, others, groups) } else { try addAnyOrder(ints, isInt, others, groups) }
        case .min, .max:
            for (k, g) in groups.enumerated() {
                if isInt[k] { try addExtreme(int: ints[k], g, control) } else { try addExtreme(others[k], g, control) }
            }
        }
    }

    private static func needsOrder(_ why: String) -> GraphError { GraphError(Executor.batchInOrder, why) }

    /// Sums in the row path's order: a run of rows of one group (the rows made from one scanned
    /// node) is summed in registers, then stored once; an integer sum that overflows on the way
    /// gives the run up, as the row path would fail.
    private mutating func addInOrder(_ ints: UnsafeMutableBufferPointer<Int64>, _ isInt: UnsafeMutableBufferPointer<Bool>,
                                     _ others: UnsafeMutableBufferPointer<Value>, _ groups: UnsafeBufferPointer<Int>) throws(GraphError) {
        var k = 0
        while k < groups.count {
            let g = groups[k]
            var sum = intSums[g], count = counts[g]
            while k < groups.count && groups[k] == g {
                if isInt[k] {
                    let (next, overflow) = sum.addingReportingOverflow(ints[k])
                    guard !overflow else { throw GraphError(Executor.batchFallback, "an integer sum overflows") }
                    sum = next
                    count += 1
                } else {
                    (intSums[g], counts[g]) = (sum, count)
                    try add(other: others[k], g)
                    count = counts[g]
                }
                k += 1
            }
            (intSums[g], counts[g]) = (sum, count)
        }
    }

    /// Sums out of order: rows of a group seldom come together (a scan of the relationships), so
    /// each row's integer goes straight to its group's totals, in place; what is not an integer
    /// is taken after (a null skipped, anything else sends the query back, see `add(other:)`).
    private mutating func addAnyOrder(_ ints: UnsafeMutableBufferPointer<Int64>, _ isInt: UnsafeMutableBufferPointer<Bool>,
                                      _ others: UnsafeMutableBufferPointer<Value>, _ groups: UnsafeBufferPointer<Int>) throws(GraphError) {
        var overflows = false
        var allInts = true
        counts.withUnsafeMutableBufferPointer { counts in
            intSums.withUnsafeMutableBufferPointer { sums in
                totals.withUnsafeMutableBufferPointer { totals in
                    for (k, g) in groups.enumerated() {
                        guard isInt[k] else { allInts = false; continue }
                        let i = ints[k]
                        let (positive, pOverflow) = totals[2 * g].addingReportingOverflow(Swift.max(i, 0))
                        let (negative, nOverflow) = totals[2 * g + 1].addingReportingOverflow(Swift.min(i, 0))
                        if pOverflow || nOverflow { overflows = true; return }
                        (totals[2 * g], totals[2 * g + 1]) = (positive, negative)
                        // Between the two totals: no overflow.
                        sums[g] &+= i
                        counts[g] += 1
                    }
                }
            }
        }
        if overflows { throw Self.needsOrder("an integer sum may overflow") }
        if allInts { return }
        for (k, g) in groups.enumerated() where !isInt[k] { try add(other: others[k], g) }
    }


    private mutating func add(other value: Value, _ g: Int) throws(GraphError) {
        switch value {
        case .null:
            return
        case .float(let d):
            guard inOrder else { throw Self.needsOrder("a float sum depends on the order it is added in") }
            floatSums[g] += d
            anyFloat[g] = true
            counts[g] += 1
        default:
            throw GraphError(Executor.batchFallback, "a sum or average of a value that is not a number")
        }
    }

    @inline(__always)
    private mutating func addExtreme(int x: Int64, _ g: Int, _ control: QueryControl) throws(GraphError) {
        if case .int(let y)? = best[g] {
            guard function == .min ? x < y : x > y else { return }
            best[g] = .int(x)
            return
        }
        try addExtreme(.int(x), g, control)
    }

    private mutating func addExtreme(_ value: Value, _ g: Int, _ control: QueryControl) throws(GraphError) {
        if value.isNull { return }
        if !inOrder, !value.isInt { throw Self.needsOrder("min and max of values other than integers keep the first of equals") }
        if let current = best[g] {
            let c = Semantics.orderCompare(value, current)
            guard function == .min ? c < 0 : c > 0 else { return }
        }
        let bytes = try control.measure(value)
        try control.charge(bytes)
        control.refund(bestBytes[g])
        bestBytes[g] = bytes
        best[g] = value
    }

    /// Adds group `h` of `other`, the same aggregate over other rows taken out of order, to
    /// group `g`: the state one accumulator would have after both runs of rows. Throws
    /// `Executor.batchInOrder` when the integer totals overflow together.
    mutating func absorb(_ other: BatchAccumulator, group h: Int, into g: Int) throws(GraphError) {
        switch function {
        case .countRows, .count:
            counts[g] += other.counts[h]
        case .sum, .avg:
            let (p, pOverflow) = totals[2 * g].addingReportingOverflow(other.totals[2 * h])
            let (n, nOverflow) = totals[2 * g + 1].addingReportingOverflow(other.totals[2 * h + 1])
            guard !pOverflow && !nOverflow else { throw Self.needsOrder("an integer sum may overflow") }
            (totals[2 * g], totals[2 * g + 1]) = (p, n)
            // Between the two totals, so it does not overflow either.
            intSums[g] += other.intSums[h]
            counts[g] += other.counts[h]
        case .min, .max:
            // Integers only (see `inOrder`).
            guard case .int(let x)? = other.best[h] else { return }
            if case .int(let y)? = best[g], function == .min ? x >= y : x <= y { return }
            best[g] = other.best[h]
        }
    }

    /// The aggregate's value for group `g` (as `Accumulator.value()`).
    func value(_ g: Int) -> Value {
        switch function {
        case .countRows, .count:
            return .int(counts[g])
        case .sum:
            return anyFloat[g] ? .float(floatSums[g] + Double(intSums[g])) : .int(intSums[g])
        case .avg:
            return counts[g] == 0 ? .null : .float((floatSums[g] + Double(intSums[g])) / Double(counts[g]))
        case .min, .max:
            return best[g] ?? .null
        }
    }
}

private extension Value {
    var isInt: Bool {
        if case .int = self { return true }
        return false
    }
}
