/// One aggregate of a batch aggregation, for every group at once: its running state as arrays
/// indexed by group, updated a block of rows at a time. It computes what `Accumulator` computes
/// for the same rows in the same order (counts; integer and float sums kept apart, as there;
/// min and max by `Semantics.orderCompare`, the first of equal values kept). Where `Accumulator`
/// would throw (a sum or average of a value that is not a number, an integer sum that
/// overflows) it throws `Executor.batchFallback` instead, and the query runs again row at a
/// time, which throws the row path's error.
///
/// One part of a run on several threads (`inPart`) takes only what it can merge exactly into the
/// part before it (`absorb`): integers for sum, avg, min and max (a float sum depends on the
/// order it is added in); anything else throws `Executor.batchOneThread`, and the query runs
/// again on one thread. For an integer sum it keeps the least and greatest of its running
/// sums, so the merge knows whether the sum would have overflowed on the way.
struct BatchAccumulator {
    let function: BatchPlan.Function
    let inPart: Bool
    private var counts: [Int64] = []
    private var intSums: [Int64] = []
    private var floatSums: [Double] = []
    private var anyFloat: [Bool] = []
    /// In a part: the least and greatest running integer sum of each group.
    private var lowest: [Int64] = []
    private var highest: [Int64] = []
    private var best: [Value?] = []
    /// Bytes charged for each group's current min or max (a long string, a list).
    private var bestBytes: [Int] = []

    init(_ function: BatchPlan.Function, inPart: Bool) {
        self.function = function
        self.inPart = inPart
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
            if inPart {
                lowest.append(.max)
                highest.append(.min)
            }
        case .min, .max:
            best.append(nil)
            bestBytes.append(0)
        }
    }

    /// Bytes this aggregate holds for group `g` (what its row keeps, as `Accumulator.heldBytes`).
    func heldBytes(_ g: Int) -> Int { bestBytes.isEmpty ? 0 : bestBytes[g] }

    /// Counts each row (`count(*)`, or `count` of a node or relationship, never null).
    mutating func countRows(_ groups: UnsafeBufferPointer<Int>) {
        for g in groups { counts[g] += 1 }
    }

    /// Takes each row's value of the argument (row `k`'s, typed, in group `groups[k]`).
    mutating func add(_ values: BatchValues, _ groups: UnsafeBufferPointer<Int>, _ control: QueryControl) throws(GraphError) {
        let ints = values.ints.elements, isInt = values.isInt.elements, others = values.values.elements
        switch function {
        case .countRows:
            countRows(groups)
        case .count:
            for (k, g) in groups.enumerated() where isInt[k] || !others[k].isNull { counts[g] += 1 }
        case .sum, .avg:
            // A run of rows of one group (the rows made from one scanned node) is summed in
            // registers, then stored once.
            var k = 0
            while k < groups.count {
                let g = groups[k]
                var sum = intSums[g], count = counts[g], low = inPart ? lowest[g] : 0, high = inPart ? highest[g] : 0
                while k < groups.count && groups[k] == g {
                    if isInt[k] {
                        let (next, overflow) = sum.addingReportingOverflow(ints[k])
                        guard !overflow else { throw GraphError(Executor.batchFallback, "an integer sum overflows") }
                        sum = next
                        count += 1
                        low = Swift.min(low, next)
                        high = Swift.max(high, next)
                    } else {
                        (intSums[g], counts[g]) = (sum, count)
                        try add(other: others[k], g)
                        count = counts[g]
                    }
                    k += 1
                }
                (intSums[g], counts[g]) = (sum, count)
                if inPart { (lowest[g], highest[g]) = (low, high) }
            }
        case .min, .max:
            for (k, g) in groups.enumerated() {
                if isInt[k] { try addExtreme(int: ints[k], g, control) } else { try addExtreme(others[k], g, control) }
            }
        }
    }

    private mutating func add(other value: Value, _ g: Int) throws(GraphError) {
        switch value {
        case .null:
            return
        case .float(let d):
            guard !inPart else { throw GraphError(Executor.batchOneThread, "a float sum depends on the order it is added in") }
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
        if inPart, !value.isInt {
            throw GraphError(Executor.batchOneThread, "min and max of values other than integers are merged in order")
        }
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

    /// Adds group `h` of `later`, the same aggregate over the rows that come after this one's
    /// (a part's), to group `g`: the state one accumulator would have after both runs of rows
    /// (parts are merged in order into the first, so this one's own running sums are not kept).
    /// Throws `Executor.batchFallback` when the integer sum would have overflowed on the way.
    mutating func absorb(_ later: BatchAccumulator, group h: Int, into g: Int) throws(GraphError) {
        switch function {
        case .countRows, .count:
            counts[g] += later.counts[h]
        case .sum, .avg:
            // The later rows' running sums start from this group's sum.
            if later.counts[h] > 0 {
                guard !intSums[g].addingReportingOverflow(later.lowest[h]).overflow,
                      !intSums[g].addingReportingOverflow(later.highest[h]).overflow else {
                    throw GraphError(Executor.batchFallback, "an integer sum overflows")
                }
                // Within the later running sums' range, so it does not overflow either.
                intSums[g] += later.intSums[h]
            }
            counts[g] += later.counts[h]
        case .min, .max:
            // Integers only (see `inPart`): the later value replaces only a strictly better one.
            guard case .int(let x)? = later.best[h] else { return }
            if case .int(let y)? = best[g], function == .min ? x >= y : x <= y { return }
            best[g] = later.best[h]
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
