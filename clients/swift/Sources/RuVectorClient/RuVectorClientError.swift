import RPC
import Wire

/// The kind of connection failure in `RuVectorClientError.connectionFailure`.
public typealias ConnectionFailureCode = ConnectionFailure.Code

/// Why a `RuVectorClient` call failed: the server's gRPC status and message, or a problem
/// found on this side (bad input, a file that cannot be read, a response that breaks the
/// protocol).
///
/// ```swift
/// do {
///     _ = try await db.collection(named: "docs")
/// } catch let error as RuVectorClientError where error.code == .notFound {
///     print(error.message)   // "collection 'docs' does not exist; ..."
/// }
/// ```
public struct RuVectorClientError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure. Server failures use the gRPC status names (`NOT_FOUND`,
    /// `INVALID_ARGUMENT`, ...); extensible, so unknown codes keep their name.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, e.g. `NOT_FOUND` or `invalidInput`.
        public let name: String

        /// Makes a code from its name.
        public init(name: String) { self.name = name }

        /// The server refused an argument (`INVALID_ARGUMENT`).
        public static let invalidArgument = Code(name: "INVALID_ARGUMENT")
        /// The collection, snapshot or point does not exist (`NOT_FOUND`).
        public static let notFound = Code(name: "NOT_FOUND")
        /// The collection already exists (`ALREADY_EXISTS`).
        public static let alreadyExists = Code(name: "ALREADY_EXISTS")
        /// The server cannot be reached or is shutting down (`UNAVAILABLE`).
        public static let unavailable = Code(name: "UNAVAILABLE")
        /// The call took longer than its timeout (`DEADLINE_EXCEEDED`).
        public static let deadlineExceeded = Code(name: "DEADLINE_EXCEEDED")
        /// The server does not implement this call (`UNIMPLEMENTED`).
        public static let unimplemented = Code(name: "UNIMPLEMENTED")
        /// A size limit was exceeded (`RESOURCE_EXHAUSTED`).
        public static let resourceExhausted = Code(name: "RESOURCE_EXHAUSTED")
        /// The server state does not allow the call (`FAILED_PRECONDITION`).
        public static let failedPrecondition = Code(name: "FAILED_PRECONDITION")
        /// The call was cancelled (`CANCELLED`).
        public static let cancelled = Code(name: "CANCELLED")
        /// The server failed (`INTERNAL`).
        public static let `internal` = Code(name: "INTERNAL")
        /// The server needs credentials and got none valid (`UNAUTHENTICATED`): pass `apiKey:`.
        public static let unauthenticated = Code(name: "UNAUTHENTICATED")
        /// The credentials are valid but do not reach this call (`PERMISSION_DENIED`).
        public static let permissionDenied = Code(name: "PERMISSION_DENIED")
        /// A transaction conflicted at commit and was rolled back: retry it.
        public static let aborted = Code(name: "ABORTED")
        /// A transferred file did not arrive intact (`DATA_LOSS`, or a size or CRC32C mismatch).
        public static let dataLoss = Code(name: "DATA_LOSS")
        /// The arguments given to the client are wrong; nothing was sent.
        public static let invalidInput = Code(name: "invalidInput")
        /// A local file could not be read or written.
        public static let fileError = Code(name: "fileError")
        /// The server's answer could not be decoded or breaks the protocol.
        public static let badResponse = Code(name: "badResponse")

        /// The code's name.
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// The numeric gRPC status code when the server (or the connection) ended the call, else nil.
    public var grpcStatus: Int?
    /// What went wrong and what to do about it; the server's `grpc-message` for server errors.
    public var message: String
    /// The error this one was made from, if any.
    public var cause: (any Error)?
    /// Why the connection could not be set up, when that is known (`.unavailable` errors):
    /// the server speaks plaintext or expects TLS, its certificate is untrusted, expired or
    /// for another name, it requires a client certificate, it refused the connection...
    public var connectionFailure: ConnectionFailureCode? {
        ((cause as? RPCError)?.cause as? ConnectionFailure)?.code
    }

    /// Makes an error.
    public init(_ code: Code, _ message: String, grpcStatus: Int? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.grpcStatus = grpcStatus
        self.cause = cause
    }

    /// `CODE: message`.
    public var description: String { "\(code): \(message)" }

    /// Converts whatever a call threw into a client error.
    static func from(_ error: any Error) -> RuVectorClientError {
        switch error {
        case let error as RuVectorClientError:
            return error
        case let error as RPCError:
            return RuVectorClientError(Code(name: error.code.description), error.message,
                                       grpcStatus: error.code.rawValue, cause: error)
        case let error as WireError:
            return RuVectorClientError(.badResponse, "cannot decode the server's answer: \(error)", cause: error)
        case is CancellationError:
            return RuVectorClientError(.cancelled, "the task was cancelled", cause: error)
        default:
            return RuVectorClientError(.internal, "\(error)", cause: error)
        }
    }
}
