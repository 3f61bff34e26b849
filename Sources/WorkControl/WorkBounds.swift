/// What bounds one piece of engine work: the memory its call may hold and the signal that
/// tells it to stop. Engines take it as one parameter and use both:
///
/// ```swift
/// for candidate in candidates {
///     try bounds.cancellation.check()            // stops within a loop iteration of a cancel
///     try bounds.memory.charge(candidate.bytes)  // throws past the call's or server's budget
///     ...
/// }
/// ```
public struct WorkBounds: Sendable {
    /// The call's memory account.
    public let memory: CallBudget
    /// Raised when the call ends early.
    public let cancellation: CancellationSignal

    /// Bounds from a call budget and a cancellation signal.
    public init(memory: CallBudget, cancellation: CancellationSignal) {
        self.memory = memory
        self.cancellation = cancellation
    }

    /// No memory limit, never cancelled (library calls, tests that do not measure either).
    public static func unbounded(work: String = "the call") -> WorkBounds {
        WorkBounds(memory: .unlimited(work: work), cancellation: .never)
    }
}
