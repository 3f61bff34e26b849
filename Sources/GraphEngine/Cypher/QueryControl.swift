import WorkControl

/// One query's memory account and stop signal, shared by every copy of its executor (a query
/// runs on one thread; copies are made for subqueries and pipeline stages).
///
/// Memory is charged to the call's ``CallBudget`` as it grows, before the value or row is
/// built past the limit, and refunded when it is freed. It is counted in two kinds:
/// - *transient* bytes: what the expression being evaluated has built (operands, intermediate
///   lists, a `reduce` accumulator). `mark` and `settle(since:holding:)` keep them equal to what
///   the result holds, so temporaries are given back as soon as the result is known.
/// - *held* bytes: rows of a clause, aggregation groups, sort and DISTINCT state, result rows.
///   `keep(since:atMost:)` turns an expression's transient bytes into held bytes owned by the
///   row or state that keeps its value; the owner refunds them when it drops it.
///
/// Charges reach the budget in steps of `stepBytes`, so the few hundred bytes of a row do not
/// each take the budget's lock; the count stays exact here.
final class QueryControl {
    /// The call's memory account.
    let memory: CallBudget
    /// Raised when the call ends early (client cancel, deadline, shutdown).
    let cancellation: CancellationSignal
    /// The caller's deadline (library use), checked every `deadlinePolls` polls.
    let deadline: ContinuousClock.Instant?
    /// Bytes this query holds now, transient and held.
    private(set) var chargedBytes = 0
    /// Bytes reserved in `memory` to cover `chargedBytes`.
    private var reservedBytes = 0
    /// The part of `chargedBytes` that evaluation is building.
    private(set) var transientBytes = 0
    private var polls: UInt32 = 0

    /// Budget reservations are made (and given back) in steps of this size.
    static let stepBytes = 64 << 10
    /// The clock is read once per this many polls (the cancellation flag at every poll).
    static let deadlinePolls: UInt32 = 64

    init(bounds: WorkBounds, deadline: ContinuousClock.Instant?) {
        memory = bounds.memory
        cancellation = bounds.cancellation
        self.deadline = deadline
    }

    /// The most a single value may hold (deep estimates stop counting past it).
    var limitBytes: Int { memory.limitBytes }

    // MARK: Stopping

    /// Throws once the call was cancelled (one atomic load) or its deadline passed (a clock
    /// read every `deadlinePolls` calls). Called wherever the executor loops.
    @inline(__always)
    func check() throws(GraphError) {
        if cancellation.isCancelled { throw stopped() }
        polls &+= 1
        if polls % Self.deadlinePolls == 0 { try checkDeadline() }
    }

    /// Throws `.timeout` once the deadline has passed.
    func checkDeadline() throws(GraphError) {
        if let deadline, ContinuousClock.now >= deadline {
            throw GraphError(.timeout, "the query ran past its deadline and was stopped; nothing it did was kept")
        }
    }

    private func stopped() -> GraphError {
        GraphError(WorkLimitError.stopped(cancellation.reason ?? .cancelled))
    }

    // MARK: Held bytes

    /// Records that the query now holds `bytes` more. Throws `.resourceExhausted` (charging
    /// nothing) past the call's or the server's budget.
    func charge(_ bytes: Int) throws(GraphError) {
        guard bytes > 0 else { return }
        let total = chargedBytes.addingReportingOverflow(bytes)
        guard !total.overflow else { throw GraphError(.resourceExhausted, "the query needs more memory than can be counted") }
        if total.partialValue > reservedBytes {
            let needed = total.partialValue - reservedBytes
            try reserve(needed)
        }
        chargedBytes = total.partialValue
    }

    /// Reserves a whole step when the budget allows it, else exactly what is needed.
    private func reserve(_ needed: Int) throws(GraphError) {
        let step = max(needed, Self.stepBytes)
        do throws(WorkLimitError) {
            try memory.charge(step)
            reservedBytes += step
        } catch {
            guard step > needed else { throw GraphError(error) }
            do throws(WorkLimitError) {
                try memory.charge(needed)
                reservedBytes += needed
            } catch {
                throw GraphError(error)
            }
        }
    }

    /// Records that the query freed `bytes`.
    func refund(_ bytes: Int) {
        guard bytes > 0 else { return }
        chargedBytes = max(0, chargedBytes - bytes)
        let spare = reservedBytes - chargedBytes
        // Keep a step in reserve so a query hovering around a boundary does not take the lock.
        if spare > 4 * Self.stepBytes {
            memory.refund(spare - Self.stepBytes)
            reservedBytes -= spare - Self.stepBytes
        }
    }

    // MARK: Transient bytes

    /// Where the transient count stands; hand it back to `settle`, `keep` or `release`.
    var mark: Int { transientBytes }

    /// The evaluation since `mark` now holds `bytes` (the value it is about to build or has
    /// built): charges the growth (throwing before anything is built past the budget) or
    /// refunds the operands and temporaries the value no longer needs.
    func settle(since mark: Int, holding bytes: Int) throws(GraphError) {
        let current = max(0, transientBytes - mark)
        if bytes > current { try charge(bytes - current) } else { refund(current - bytes) }
        transientBytes = mark + bytes
    }

    /// Counts `bytes` the evaluation or walk now holds as transient (given back by the
    /// `release(to:)` of an enclosing mark).
    func hold(_ bytes: Int) throws(GraphError) {
        try charge(bytes)
        transientBytes += max(0, bytes)
    }

    /// Gives back everything built since `mark` (temporaries nothing keeps).
    func release(to mark: Int) {
        refund(max(0, transientBytes - mark))
        transientBytes = min(transientBytes, mark)
    }

    /// Hands what was built since `mark` to the caller as held bytes (at most `bytes`, what
    /// the kept value can hold; the rest is given back). Returns the bytes handed over.
    func keep(since mark: Int, atMost bytes: Int) -> Int {
        let built = max(0, transientBytes - mark)
        let kept = min(built, max(0, bytes))
        refund(built - kept)
        transientBytes = min(transientBytes, mark)
        return kept
    }

    /// Hands the value built since `mark` to the caller, who holds `bytes` for it from now on:
    /// charges what is missing (a shared value the caller now keeps alive), gives back the
    /// temporaries.
    func take(since mark: Int, holding bytes: Int) throws(GraphError) {
        let kept = keep(since: mark, atMost: bytes)
        try charge(bytes - kept)
    }

    /// Counts `bytes` the caller holds as transient again (a loop hands its result to the
    /// expression around it).
    func adopt(_ bytes: Int) { transientBytes += max(0, bytes) }

    /// What `value` holds on the heap (deep, counted up to the call's limit). Throws when it
    /// nests deeper than `MemoryEstimate.maxDepth`, or when the call was stopped meanwhile.
    /// `nestedIn`: the levels of list or map the value is about to be put in.
    func measure(_ value: Value, nestedIn levels: Int = 0) throws(GraphError) -> Int {
        let measure = MemoryEstimate.measure(value, limitBytes: limitBytes, cancellation: cancellation)
        if cancellation.isCancelled { throw stopped() }
        guard measure.depth + levels <= MemoryEstimate.maxDepth else {
            throw GraphError(.runtime, "lists and maps may nest at most \(MemoryEstimate.maxDepth) levels deep")
        }
        return measure.bytes
    }

    // MARK: End

    /// Ends the query's account: the caller goes on holding `bytes` (its result rows); every
    /// other byte is given back to the budget. Returns the bytes left charged.
    @discardableResult
    func finish(keeping bytes: Int) -> Int {
        let kept = min(max(0, bytes), chargedBytes)
        transientBytes = 0
        chargedBytes = kept
        if reservedBytes > kept { memory.refund(reservedBytes - kept) }
        reservedBytes = kept
        return kept
    }
}
