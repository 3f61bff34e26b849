import ClusterEngine

/// Why a cluster operation did not happen (or may not have): the service layer turns each
/// into a gRPC status.
public struct ClusterError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// No leader is known (an election is running, or this node is cut off): retry.
        case unavailable
        /// Only the leader does this; `leader` is who it is (0 = unknown) at `address`.
        case notLeader(leader: NodeID, address: String?)
        /// The wait ran out; the operation may still happen.
        case deadlineExceeded
        /// The request cannot be done as asked (a pending membership change, a bad node id...).
        case failedPrecondition
        /// Bad input.
        case invalidArgument
        /// The node's Raft state could not be saved: it stopped taking part.
        case stopped
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
