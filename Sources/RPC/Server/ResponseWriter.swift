import NIOCore
import Synchronization

/// Sends response messages of one call. `send` waits while too much is queued for a slow
/// client (backpressure) and throws once the call is over (cancelled, deadline passed).
public final class ResponseWriter: Sendable {
    private let connection: ServerConnectionRef
    private let streamID: Int32
    private let state = Mutex(State())

    private struct State {
        var initialMetadata = Metadata()
        var trailingMetadata = Metadata()
        var headersSent = false
        /// A unary response kept to be sent together with the status.
        var finalMessage: [UInt8]?
    }

    init(connection: ServerConnectionRef, streamID: Int32) {
        self.connection = connection
        self.streamID = streamID
    }

    /// Sets custom metadata for the response headers; only before the first `send`.
    public func setInitialMetadata(_ metadata: Metadata) {
        state.withLock { state in
            precondition(!state.headersSent, "initial metadata set after the first message")
            state.initialMetadata = metadata
        }
    }

    /// Sets custom metadata sent with the status at the end of the call.
    public func setTrailingMetadata(_ metadata: Metadata) {
        state.withLock { $0.trailingMetadata = metadata }
    }

    /// Sends one response message.
    public func send(_ message: [UInt8]) async throws {
        let initial: Metadata? = state.withLock { state in
            defer { state.headersSent = true }
            return state.headersSent ? nil : state.initialMetadata
        }
        try await connection.send(streamID: streamID, message: message, initialMetadata: initial)
    }

    /// Keeps the one response of a unary call to send it with the status, saving a round
    /// trip to the event loop per call.
    func setFinalMessage(_ message: [UInt8]) {
        state.withLock { $0.finalMessage = message }
    }

    /// Ends the call with `status` (called once, by the server, when the handler returns).
    func finish(_ status: Status, extraTrailers: Metadata) {
        let (initial, trailing, finalMessage): (Metadata, Metadata, [UInt8]?) = state.withLock { state in
            var trailing = state.trailingMetadata
            for entry in extraTrailers.entries {
                switch entry.value {
                case .text(let text): trailing.add(entry.key, text)
                case .binary(let bytes): trailing.add(entry.key, bytes: bytes)
                }
            }
            let message = state.finalMessage
            state.finalMessage = nil
            let initial = state.headersSent ? Metadata() : state.initialMetadata
            state.headersSent = true
            return (initial, trailing, message)
        }
        connection.finish(streamID: streamID, status: status, initialMetadata: initial, trailingMetadata: trailing,
                          finalMessage: status.code == .ok ? finalMessage : nil)
    }
}
