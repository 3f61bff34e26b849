import WorkControl

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
        /// The query was stopped: whoever consumes its stream stopped it (the client went
        /// away, or its row limit was reached), or its call was cancelled (the cause is then a
        /// `WorkLimitError`).
        public static let cancelled = Code(name: "cancelled")
        /// The query needed more memory than its call's budget (or the server's budget for all
        /// calls) allows; the cause is the `WorkLimitError` naming the limit.
        public static let resourceExhausted = Code(name: "resourceExhausted")
        /// A description of the code.
        public var description: String { name }
    }
    /// The openCypher error class a client (and the TCK) reads: SyntaxError, TypeError... Nil
    /// for failures the specification does not classify (limits, cancellation, conflicts).
    public var cypherClass: CypherErrorClass?
    /// The kind of failure.
    public var code: Code
    /// What went wrong and what to fix.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?

    /// Creates an error; its Cypher class is `cypherClass`, or for a syntax or semantic error
    /// (what analysis finds) a SyntaxError, as the openCypher TCK names those.
    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil, cypherClass: CypherErrorClass? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
        self.cypherClass = cypherClass ?? ((code == .syntax || code == .semantic) ? .syntaxError : nil)
    }
    /// The error that ends work stopped by `limit`: `.resourceExhausted` for memory,
    /// `.timeout` for a deadline, `.cancelled` for a cancel or shutdown; `limit` is the cause.
    public init(_ limit: WorkLimitError) {
        switch limit.kind {
        case .callMemory, .serverMemory: self.init(.resourceExhausted, limit.message, cause: limit)
        case .stopped(.deadlineExceeded): self.init(.timeout, limit.message, cause: limit)
        case .stopped: self.init(.cancelled, limit.message, cause: limit)
        }
    }

    /// The `WorkLimitError` that stopped the query, if one did.
    public var workLimit: WorkLimitError? { cause as? WorkLimitError }

    /// "code: message".
    public var description: String { "\(code): \(message)" }
}

/// The error classes of the openCypher specification (and its TCK), which say what a client can
/// do about a failed query: fix the text (SyntaxError), the types or arguments it passes
/// (TypeError, ArgumentError, ParameterMissing), or its assumptions about the data
/// (EntityNotFound, ConstraintVerificationFailed, SemanticError at run time).
public enum CypherErrorClass: String, Sendable, Hashable, CaseIterable {
    case syntaxError = "SyntaxError"
    case semanticError = "SemanticError"
    case typeError = "TypeError"
    case argumentError = "ArgumentError"
    case parameterMissing = "ParameterMissing"
    case entityNotFound = "EntityNotFound"
    case constraintVerificationFailed = "ConstraintVerificationFailed"
    case procedureError = "ProcedureError"
}
