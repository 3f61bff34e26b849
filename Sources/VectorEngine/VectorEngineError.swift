import WorkControl

/// An error raised by the vector engine. `code` says what kind of mistake it was,
/// `message` says what the caller should change.
public struct VectorEngineError: Error, Sendable, CustomStringConvertible {
    /// An extensible error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The stable name of the code.
        public let name: String
        /// A size, count or depth is outside its allowed bounds.
        public static let limitExceeded = Code(name: "limitExceeded")
        /// A vector does not have the collection's dimension.
        public static let dimensionMismatch = Code(name: "dimensionMismatch")
        /// An argument is malformed (NaN component, bad parameter, bad snapshot).
        public static let invalidArgument = Code(name: "invalidArgument")
        /// The requested id does not exist.
        public static let notFound = Code(name: "notFound")
        /// The work was stopped before it finished: its call ended (the `cause` is the
        /// `WorkLimitError` saying why).
        public static let stopped = Code(name: "stopped")
        /// The disk or memory that holds the index could not be had (a full disk under on-disk
        /// vectors): the write that needed it changed nothing.
        public static let storageExhausted = Code(name: "storageExhausted")
        /// A scroll cursor from before a compaction or reorder renumbered the points: its
        /// position now means another point. Scroll again from the start.
        public static let staleCursor = Code(name: "staleCursor")
        /// The description is the code's name.
        public var description: String { name }
    }

    /// What kind of error this is.
    public var code: Code
    /// A human-readable explanation that says what to fix.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    public init(code: Code, message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }
}

/// Hard bounds on every size the engine accepts from callers.
public enum VectorEngineLimits {
    /// Largest vector dimension.
    public static let maxDimension = 65_536
    /// Largest `k` of a search.
    public static let maxK = 10_000
    /// Largest `ef` of a search or build.
    public static let maxEf = 100_000
    /// Deepest nesting of a filter.
    public static let maxFilterDepth = 16
    /// Largest `M` of an HNSW graph.
    public static let maxM = 256
    /// Largest number of vectors in one index (internal ids are 32-bit).
    public static let maxCount = Int(UInt32.max - 1)
}

/// Throws `.stopped` once `cancellation` is raised.
@inline(__always)
func checkCancelled(_ cancellation: CancellationSignal) throws(VectorEngineError) {
    do { try cancellation.check() } catch {
        throw VectorEngineError(code: .stopped, message: error.message, cause: error)
    }
}

@inline(__always)
func checkLimit(_ ok: Bool, _ message: @autoclosure () -> String) throws(VectorEngineError) {
    if !ok { throw VectorEngineError(code: .limitExceeded, message: message()) }
}
