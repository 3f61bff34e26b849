/// An error raised by the graph store or the Cypher pipeline.
public struct GraphError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is. Extensible: new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// The query text is not valid Cypher (reported with line and column).
        public static let syntax = Code(name: "syntax")
        /// The query uses Cypher this engine does not implement yet.
        public static let unsupported = Code(name: "unsupported")
        /// The query is valid but refers to something wrong (unknown variable, bad type).
        public static let semantic = Code(name: "semantic")
        /// Evaluation failed at run time (type error, missing parameter, deleting a connected node).
        public static let runtime = Code(name: "runtime")
        /// A transaction could not commit because the database changed after it began.
        public static let conflict = Code(name: "conflict")
        /// A transaction or element named by the caller does not exist.
        public static let notFound = Code(name: "notFound")
        /// The query ran past its deadline and was stopped.
        public static let timeout = Code(name: "timeout")
        /// A size, count or depth limit was exceeded.
        public static let limitExceeded = Code(name: "limitExceeded")
        /// Whoever consumes a streamed query stopped it (the client went away, or its row
        /// limit was reached).
        public static let cancelled = Code(name: "cancelled")
        /// A description of the code.
        public var description: String { name }
    }
    /// The kind of failure.
    public var code: Code
    /// What went wrong and what to fix.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }
    /// "code: message".
    public var description: String { "\(code): \(message)" }
}
