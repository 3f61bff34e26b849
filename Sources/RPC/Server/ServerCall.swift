import NIOCore

/// The state of one call (one HTTP/2 stream) on the server, owned by its connection and
/// touched only on the connection's event loop.
final class ServerCall {
    let streamID: Int32
    var deframer: MessageDeframer
    /// Where the call is on its request and response sides (`ServerCallState`).
    var state = ServerCallState()
    var task: Task<Void, Never>?
    var deadlineTimer: Scheduled<Void>?

    /// Response messages not yet taken by nghttp2, and the handlers waiting to send more.
    var outbound: OutboundQueue

    /// gRPC-Web (`nil`: native gRPC): the status goes in the body, bodies may be base64.
    var web: GRPCWebMode?
    /// Decodes a gRPC-Web text request body.
    var textDecoder = GRPCWebTextDecoder()
    /// Response headers for the browser (CORS), added to every response of the call.
    var corsHeaders: [HTTP2Header] = []

    /// Window updates follow what the handler reads.
    var window: ReceiveWindow
    /// How the call's requests are inflated and its responses compressed.
    var compression = CallCompression.identity

    /// Request body bytes received, for the stall checks (`ConnectionTimeouts`).
    var receivedBytes: UInt64 = 0
    /// Response body bytes nghttp2 took, for the stall checks.
    var sentBytes: UInt64 = 0
    /// This call's share of the connection's buffered request bytes, as last accounted.
    var bufferedRequestBytes = 0

    /// Request bytes the call holds now: a partial message, messages not yet read by the
    /// handler, the request of an inline call awaiting its end of stream.
    var heldRequestBytes: Int {
        deframer.bufferedBytes + window.unreadBytes + state.inlineRequestBytes
    }

    init(streamID: Int32, maxMessageBytes: Int, sendHighWaterMarkBytes: Int, receiveHighWaterMarkBytes: Int) {
        self.streamID = streamID
        self.deframer = MessageDeframer(maxMessageBytes: maxMessageBytes)
        self.outbound = OutboundQueue(highWaterMarkBytes: sendHighWaterMarkBytes)
        self.window = ReceiveWindow(highWaterMarkBytes: receiveHighWaterMarkBytes)
    }

    /// Sets the call's compression from its headers; a call with a `grpc-encoding` accepts
    /// compressed request messages.
    func negotiate(_ compression: CallCompression) {
        self.compression = compression
        if compression.requestEncoding != nil {
            deframer = MessageDeframer(maxMessageBytes: deframer.maxMessageBytes, acceptsCompressed: true)
        }
    }

    /// Inflates the compressed messages among `messages`, in place. Each may grow to the
    /// smaller of `maxMessageBytes` and what is left of `roomBytes` (the connection's budget
    /// of buffered request bytes) after the messages before it, and stops there. Returns the
    /// status to fail the call with when a message cannot be inflated.
    func inflate(_ messages: inout [ReceivedMessage], maxMessageBytes: Int, roomBytes: Int) -> Status? {
        var room = roomBytes
        for index in messages.indices {
            if messages[index].wasCompressed {
                let limit = min(maxMessageBytes, max(room, 0))
                do {
                    messages[index].bytes = try compression.inflate(messages[index].bytes, limitBytes: limit)
                } catch {
                    switch error {
                    case .tooLarge where limit < maxMessageBytes:
                        return Status(code: .resourceExhausted, message: """
                            a compressed request message inflates past the \(roomBytes) bytes this connection may still \
                            hold (max_connection_buffered_request_bytes); send fewer large messages at a time
                            """)
                    case .tooLarge:
                        return Status(code: .resourceExhausted, message: """
                            compressed request message inflates to more than the server's limit of \(maxMessageBytes) \
                            bytes (max_receive_message_bytes)
                            """)
                    case .corrupt(let reason):
                        return Status(code: .internal, message: reason)
                    }
                }
            }
            room -= messages[index].bytes.count + MessageFraming.prefixBytes
        }
        return nil
    }
}

/// An inline unary call between its headers and the end of its request: what its handler
/// needs, and the request messages received so far (for a unary call, at most one). A class:
/// `ServerCallState` passes it around and grows it in place, without copying its context.
final class PendingInlineCall {
    let handler: InlineUnaryHandler
    let cost: InlineCost
    let context: ServerContext
    let started: ContinuousClock.Instant
    private(set) var messages: [[UInt8]] = []
    /// A request message came compressed (`ServerContext.requestCompressed`).
    private(set) var compressed = false
    /// Bytes of `messages`.
    var bytes: Int { messages.reduce(0) { $0 + $1.count } }

    init(handler: @escaping InlineUnaryHandler, cost: InlineCost, context: ServerContext, started: ContinuousClock.Instant) {
        self.handler = handler
        self.cost = cost
        self.context = context
        self.started = started
    }

    func add(_ message: ReceivedMessage) {
        messages.append(message.bytes)
        compressed = compressed || message.wasCompressed
    }
}
