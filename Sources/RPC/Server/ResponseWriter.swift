import NIOCore
import Synchronization

/// Sends response messages of one call. `send` waits while too much is queued for a slow
/// client (backpressure) and throws once the call is over (cancelled, deadline passed).
/// Messages are compressed here, on the handler's task, not on the connection's event loop.
public final class ResponseWriter: Sendable {
    private let connection: ServerConnectionRef
    private let streamID: Int32
    private let compression: CallCompression
    private let state = Mutex(State())

    private struct State {
        var initialMetadata = Metadata()
        var trailingMetadata = Metadata()
        var headersSent = false
        /// The `grpc-encoding` the response headers announced (decided with the first message).
        var encoding: CompressionAlgorithm?
        /// A unary response kept to be sent together with the status.
        var finalMessage: [UInt8]?
        var finalCompression = MessageCompression.automatic
    }

    init(connection: ServerConnectionRef, streamID: Int32, compression: CallCompression) {
        self.connection = connection
        self.streamID = streamID
        self.compression = compression
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

    /// Sends one response message. `compression` overrides the server's policy for this
    /// message (see `MessageCompression`); the default follows it.
    public func send(_ message: [UInt8], compression: MessageCompression = .automatic) async throws {
        let (initial, encoding) = startIfFirst(compression)
        try await connection.send(streamID: streamID, message: self.compression.outbound(message, compression, announced: encoding),
                                  initialMetadata: initial, encoding: encoding)
    }

    /// The initial metadata and announced encoding when this message starts the response
    /// (initial metadata nil otherwise), and the call's encoding either way.
    private func startIfFirst(_ compression: MessageCompression) -> (initial: Metadata?, encoding: CompressionAlgorithm?) {
        state.withLock { state in
            guard !state.headersSent else { return (nil, state.encoding) }
            state.headersSent = true
            state.encoding = self.compression.announcedEncoding(firstMessage: compression)
            return (state.initialMetadata, state.encoding)
        }
    }

    /// Keeps the one response of a unary call to send it with the status, saving a round
    /// trip to the event loop per call.
    func setFinalMessage(_ message: [UInt8], compression: MessageCompression = .automatic) {
        state.withLock {
            $0.finalMessage = message
            $0.finalCompression = compression
        }
    }

    /// Keeps an inline unary handler's reply (run off the loop) to send with the status.
    func setFinalReply(_ reply: UnaryReply) {
        if !reply.initialMetadata.entries.isEmpty { setInitialMetadata(reply.initialMetadata) }
        if !reply.trailingMetadata.entries.isEmpty { setTrailingMetadata(reply.trailingMetadata) }
        setFinalMessage(reply.message, compression: reply.compression)
    }

    /// Ends the call with `status` (called once, by the server, when the handler returns).
    func finish(_ status: Status, extraTrailers: Metadata) {
        let (trailing, finalMessage, finalCompression) = state.withLock { state in
            var trailing = state.trailingMetadata
            for entry in extraTrailers.entries {
                switch entry.value {
                case .text(let text): trailing.add(entry.key, text)
                case .binary(let bytes): trailing.add(entry.key, bytes: bytes)
                }
            }
            let message = state.finalMessage
            state.finalMessage = nil
            return (trailing, status.code == .ok ? message : nil, state.finalCompression)
        }
        let (initial, encoding) = startIfFirst(finalMessage == nil ? .automatic : finalCompression)
        let outbound = finalMessage.map { compression.outbound($0, finalCompression, announced: encoding) }
        connection.finish(streamID: streamID, status: status, initialMetadata: initial ?? Metadata(), trailingMetadata: trailing,
                          finalMessage: outbound, encoding: initial != nil ? encoding : nil)
    }
}
