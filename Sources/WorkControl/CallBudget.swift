import Synchronization

/// The memory one call may hold: rows, values, sort and aggregation state, result batches,
/// decoded requests. Work charges what it keeps as it grows (never after the fact) and refunds
/// what it frees; a charge past the call's own limit, or one the server's ``MemoryBudget``
/// cannot grant, throws ``WorkLimitError`` and charges nothing. Bytes are drawn from the
/// server in grants of ``grantBytes`` so that most charges touch no shared lock.
///
/// Close it when the call ends (``close()``; also done when it is released) to return its
/// grants. Thread-safe: parallel work of one call may charge the same budget.
public final class CallBudget: Sendable {
    /// Most bytes this call may hold at once.
    public let limitBytes: Int
    /// What the call is, for messages ("the query", "the search batch").
    public let work: String
    /// Names the setting an operator raises when a legitimate call hits `limitBytes`.
    public let limitName: String
    private let server: MemoryBudget
    private let state = Mutex(State())

    /// Server bytes are reserved in steps of this size (and at most what the call can use).
    public static let grantBytes = 1 << 20

    private struct State {
        var chargedBytes = 0
        var grantedBytes = 0
        var peakBytes = 0
        var closed = false
    }

    /// A budget of `limitBytes` for one call, drawn from `server`.
    public init(limitBytes: Int, server: MemoryBudget, work: String = "the call",
                limitName: String = "the per-call memory limit") {
        precondition(limitBytes > 0, "a call budget needs a positive limit")
        self.limitBytes = limitBytes
        self.server = server
        self.work = work
        self.limitName = limitName
    }

    /// A budget that never refuses (library use, tests that do not measure memory).
    public static func unlimited(work: String = "the call") -> CallBudget {
        CallBudget(limitBytes: Int.max / 4, server: .unlimited(), work: work)
    }

    deinit { close() }

    /// Bytes charged now.
    public var chargedBytes: Int { state.withLock { $0.chargedBytes } }
    /// The most bytes charged at once.
    public var peakBytes: Int { state.withLock { $0.peakBytes } }

    /// Records that the call now holds `bytes` more. Throws (charging nothing) when that passes
    /// the call's limit or the server cannot grant it.
    public func charge(_ bytes: Int) throws(WorkLimitError) {
        guard bytes > 0 else { return }
        try state.withLock { (s: inout State) throws(WorkLimitError) in
            let total = s.chargedBytes.addingReportingOverflow(bytes)
            guard !total.overflow, total.partialValue <= limitBytes else {
                throw WorkLimitError.callMemory(work: work, limitBytes: limitBytes, limitName: limitName)
            }
            if total.partialValue > s.grantedBytes {
                // A closed account belongs to a call that has ended: its work must stop.
                guard !s.closed else { throw WorkLimitError.stopped(.cancelled) }
                // Round the grant up to whole steps, never past what the call may use.
                let wanted = total.partialValue - s.grantedBytes
                let step = min(max(wanted, Self.grantBytes), limitBytes - s.grantedBytes)
                guard server.reserve(step) else {
                    throw WorkLimitError.serverMemory(work: work, limitBytes: server.limitBytes)
                }
                s.grantedBytes += step
            }
            s.chargedBytes = total.partialValue
            s.peakBytes = max(s.peakBytes, s.chargedBytes)
        }
    }

    /// Records that the call no longer holds `bytes` (what it freed). Whole grants the call no
    /// longer needs go back to the server at once.
    public func refund(_ bytes: Int) {
        guard bytes > 0 else { return }
        let returned = state.withLock { s -> Int in
            s.chargedBytes = max(0, s.chargedBytes - bytes)
            let spare = (s.grantedBytes - s.chargedBytes) / Self.grantBytes * Self.grantBytes
            // Keep one grant of slack so a call oscillating around a step does not hit the lock.
            let giveBack = max(0, spare - Self.grantBytes)
            s.grantedBytes -= giveBack
            return giveBack
        }
        if returned > 0 { server.release(returned) }
    }

    /// Ends the call's account: every grant goes back to the server; later charges throw.
    /// Safe to call more than once.
    public func close() {
        let returned = state.withLock { s -> Int in
            s.closed = true
            s.chargedBytes = 0
            defer { s.grantedBytes = 0 }
            return s.grantedBytes
        }
        if returned > 0 { server.release(returned) }
    }
}
