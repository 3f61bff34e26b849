import Synchronization

/// Tells long-running work that the call it serves has ended: the client cancelled it, its
/// deadline passed, or the server is shutting down. The RPC layer sets it; engines poll
/// ``isCancelled`` (one relaxed atomic load) in their inner loops and stop within
/// milliseconds by throwing ``WorkLimitError`` from ``check()``.
///
/// Reads no clock: deadlines reach it as a cancellation from whoever owns the timer.
public final class CancellationSignal: Sendable {
    /// Why work was told to stop.
    public enum Reason: UInt8, Sendable {
        /// The client cancelled the call or went away.
        case cancelled = 1
        /// The call's deadline passed.
        case deadlineExceeded = 2
        /// The server is shutting down.
        case shutdown = 3
    }

    private let raw = Atomic<UInt8>(0)

    /// A signal not yet raised.
    public init() {}

    /// A signal nobody raises (library calls that are never cancelled).
    public static let never = CancellationSignal()

    /// Raises the signal; the first reason given is kept.
    public func cancel(_ reason: Reason = .cancelled) {
        guard self !== Self.never else { return }
        _ = raw.compareExchange(expected: 0, desired: reason.rawValue, ordering: .relaxed)
    }

    /// True once raised.
    @inline(__always)
    public var isCancelled: Bool { raw.load(ordering: .relaxed) != 0 }

    /// Why it was raised, if it was.
    public var reason: Reason? { Reason(rawValue: raw.load(ordering: .relaxed)) }

    /// Throws ``WorkLimitError`` once raised.
    @inline(__always)
    public func check() throws(WorkLimitError) {
        if isCancelled { throw WorkLimitError.stopped(reason ?? .cancelled) }
    }
}
