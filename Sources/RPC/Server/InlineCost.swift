import NIOCore
import Synchronization

/// How long one inline unary method's handler has lately taken to answer (an exponentially
/// weighted average over its calls on every connection, measured where each ran). A connection
/// with calls open side by side sends its inline calls through the concurrent pool so that they
/// use every core; for a method cheaper than that trip (a task, two thread wake-ups), the trip
/// costs more than it can save, and the call is answered in place anyway.
final class InlineCost: Sendable {
    /// Below this average a method is answered in place beside other calls: about what a trip
    /// through the pool costs (task creation and two wake-ups, 5-15 µs on the 2-core machine).
    static let cheapNanos: UInt64 = 10_000

    private static let unmeasured = UInt64.max
    private let averageNanos = Atomic<UInt64>(InlineCost.unmeasured)

    init() {}

    /// Measured, and on average cheaper than a trip through the pool. A method not yet
    /// measured is not: its first calls beside others go through the pool (and are measured there).
    var isCheap: Bool { averageNanos.load(ordering: .relaxed) < Self.cheapNanos }

    /// Adds one run of the handler (1/8 weight). Concurrent runs may drop an update: it is an estimate.
    func record(nanos: UInt64) {
        let old = averageNanos.load(ordering: .relaxed)
        let new = old == Self.unmeasured ? nanos : old - old / 8 + nanos / 8
        averageNanos.store(new, ordering: .relaxed)
    }

    /// Runs `handler` and records how long it took.
    func measure<T>(_ handler: () throws -> T) rethrows -> T {
        let start = NIODeadline.now().uptimeNanoseconds
        defer { record(nanos: NIODeadline.now().uptimeNanoseconds &- start) }
        return try handler()
    }
}
