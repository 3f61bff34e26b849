import Logging
import RPC
import Storage

/// Storage failures as clients see them: a status and a message that names what failed
/// (a collection, a snapshot file) and never a server path; the full error, path included,
/// goes to the server's log.
enum StorageStatus {
    private static let logger = Logger(label: "ruvector.storage")

    /// The status for a storage error.
    static func rpcError(_ error: StorageError) -> RPCError {
        switch error.code {
        case .corrupt: return RPCError(.invalidArgument, "the snapshot file is damaged: \(error.message)", cause: error)
        case .newerFormat: return RPCError(.failedPrecondition, error.message, cause: error)
        case .invalidArgument: return RPCError(.invalidArgument, error.message, cause: error)
        case .notFound: return RPCError(.notFound, error.message, cause: error)
        case .closed: return RPCError(.unavailable, "the collection was closed (deleted or restored) during the call; retry", cause: error)
        case .locked:
            logger.error("storage failure", metadata: ["error": "\(error)"])
            return RPCError(.unavailable, "the files are \(error.message); retry later", cause: error)
        default:
            logger.error("storage failure", metadata: ["error": "\(error)"])
            return RPCError(.internal, "storage failure: \(error.clientMessage); the server log has the details", cause: error)
        }
    }

    /// The status for an error no mapping knows: logged whole, described to the client by its
    /// type only (its text may hold paths or client input).
    static func unexpected(_ error: any Error) -> RPCError {
        if let error = error as? StorageError { return rpcError(error) }
        logger.error("unexpected failure", metadata: ["error": "\(error)"])
        return RPCError(.internal, "internal failure (\(type(of: error))); the server log has the details", cause: error)
    }
}
