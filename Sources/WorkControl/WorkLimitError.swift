/// Why bounded work stopped before it finished: its memory (the call's or the server's) or its
/// call ended. Services map it to a status once: memory to RESOURCE_EXHAUSTED, a cancel to
/// CANCELLED, a deadline to DEADLINE_EXCEEDED, shutdown to UNAVAILABLE. The message names the
/// limit and the setting that raises it.
public struct WorkLimitError: Error, Sendable, CustomStringConvertible {
    /// What kind of limit stopped the work.
    public enum Kind: Sendable, Equatable {
        /// The call's own memory limit.
        case callMemory
        /// The server's memory for all calls together.
        case serverMemory
        /// The call ended (see ``CancellationSignal/Reason``).
        case stopped(CancellationSignal.Reason)
    }

    /// What stopped the work.
    public let kind: Kind
    /// What went wrong and what to do about it.
    public let message: String

    /// An error of `kind` saying `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// "message".
    public var description: String { message }

    static func callMemory(work: String, limitBytes: Int, limitName: String) -> WorkLimitError {
        WorkLimitError(.callMemory, "\(work) needs more than \(formatBytes(limitBytes)) of memory (\(limitName)); "
                       + "ask for less (a LIMIT, fewer or smaller results) or raise the limit")
    }

    static func serverMemory(work: String, limitBytes: Int) -> WorkLimitError {
        WorkLimitError(.serverMemory, "\(work) was stopped: the server's memory for running calls "
                       + "(\(formatBytes(limitBytes)), --memory-limit) is in use; retry later")
    }

    /// The error for work stopped because its call ended for `reason`.
    public static func stopped(_ reason: CancellationSignal.Reason) -> WorkLimitError {
        switch reason {
        case .cancelled: return WorkLimitError(.stopped(reason), "the call was cancelled; its work was stopped")
        case .deadlineExceeded: return WorkLimitError(.stopped(reason), "the call's deadline passed; its work was stopped")
        case .shutdown: return WorkLimitError(.stopped(reason), "the server is shutting down; the work was stopped")
        }
    }
}

/// `bytes` in the largest binary unit that keeps it readable: "512 KiB", "1.5 GiB".
public func formatBytes(_ bytes: Int) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    if unit == 0 { return "\(bytes) bytes" }
    let rounded = (value * 10).rounded() / 10
    return rounded == rounded.rounded() ? "\(Int(rounded)) \(units[unit])" : "\(rounded) \(units[unit])"
}
