import Synchronization

/// The memory a server lets its running calls hold, all calls together: each call's
/// ``CallBudget`` draws from it in grants as the call's results, rows and buffers grow, and
/// gives them back when the call ends. When a grant does not fit, the call asking for it stops
/// with ``WorkLimitError`` (server scope) instead of the process growing until the kernel kills
/// it: new heavy work is refused, work already admitted goes on.
///
/// ```swift
/// let server = MemoryBudget(limitBytes: 8 << 30)
/// let call = CallBudget(limitBytes: 1 << 30, server: server)
/// try call.charge(rowBytes)        // throws once the call or the server is over its limit
/// ```
///
/// What the process holds besides calls (collections, indexes, caches) is not counted here
/// unless ``setBaseline(bytes:)`` is told it: a server that samples its resident memory passes
/// what is not in calls, so the budget covers the machine's real headroom.
public final class MemoryBudget: Sendable {
    /// Most bytes calls may hold together (and with the baseline).
    public let limitBytes: Int
    private let state = Mutex(State())

    private struct State {
        var reservedBytes = 0
        var baselineBytes = 0
        var peakReservedBytes = 0
        var refusals = 0
    }

    /// A budget of `limitBytes` (at least 1).
    public init(limitBytes: Int) {
        precondition(limitBytes > 0, "a memory budget needs a positive limit")
        self.limitBytes = limitBytes
    }

    /// A budget no call reaches (for library use and tests that do not measure memory).
    public static func unlimited() -> MemoryBudget { MemoryBudget(limitBytes: Int.max / 4) }

    /// Bytes granted to calls now.
    public var reservedBytes: Int { state.withLock { $0.reservedBytes } }
    /// The most bytes granted to calls at once since start.
    public var peakReservedBytes: Int { state.withLock { $0.peakReservedBytes } }
    /// Grants refused since start (each ended a call with RESOURCE_EXHAUSTED).
    public var refusals: Int { state.withLock { $0.refusals } }
    /// What the process holds outside calls, as last told by ``setBaseline(bytes:)``.
    public var baselineBytes: Int { state.withLock { $0.baselineBytes } }

    /// Tells the budget how much memory the process holds outside calls (data, indexes), so
    /// grants stop where the process as a whole would pass `limitBytes`.
    public func setBaseline(bytes: Int) {
        state.withLock { $0.baselineBytes = max(0, bytes) }
    }

    /// Grants `bytes` when the calls' total (plus the baseline) stays within the limit.
    func reserve(_ bytes: Int) -> Bool {
        state.withLock { s in
            let total = s.reservedBytes.addingReportingOverflow(bytes)
            guard !total.overflow, total.partialValue + s.baselineBytes <= limitBytes else {
                s.refusals += 1
                return false
            }
            s.reservedBytes = total.partialValue
            s.peakReservedBytes = max(s.peakReservedBytes, s.reservedBytes)
            return true
        }
    }

    /// Gives back a grant.
    func release(_ bytes: Int) {
        state.withLock { s in s.reservedBytes = max(0, s.reservedBytes - bytes) }
    }
}
