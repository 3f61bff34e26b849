/// The error a handler throws to end a call with a non-OK status, and the error a client
/// call throws when the server answered with one.
///
/// ```swift
/// throw RPCError(.notFound, "collection 'docs' does not exist; create it first")
/// ```
public struct RPCError: Error, Sendable, CustomStringConvertible {
    /// The gRPC status code sent to (or received from) the peer.
    public var code: StatusCode
    /// What went wrong and what to do about it; sent as `grpc-message`.
    public var message: String
    /// Trailing metadata sent with (or received with) the status.
    public var trailingMetadata: Metadata
    /// The error this one was made from, if any (never sent on the wire).
    public var cause: (any Error)?

    public init(_ code: StatusCode, _ message: String, trailingMetadata: Metadata = Metadata(),
                cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.trailingMetadata = trailingMetadata
        self.cause = cause
    }

    /// The status this error stands for.
    public var status: Status { Status(code: code, message: message) }

    public var description: String { "\(code): \(message)" }
}
