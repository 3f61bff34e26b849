/// The request messages of a call on the server.
public typealias RequestStream = MessageStream

/// The messages arriving on a call, in order (requests on a server, responses on a
/// client). Iterating consumes them, which opens the HTTP/2 flow-control window again: a
/// reader that stops reading slows the sender. Ends by throwing `RPCError` when the call
/// fails. Elements are the messages uncompressed; `nextMessage()` and `singleMessage()`
/// also tell whether each one came compressed.
public struct MessageStream: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    let base: AsyncThrowingStream<ReceivedMessage, any Error>
    let onConsumed: @Sendable (Int) -> Void

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<ReceivedMessage, any Error>.AsyncIterator
        let onConsumed: @Sendable (Int) -> Void

        public mutating func next() async throws -> [UInt8]? {
            try await nextMessage()?.bytes
        }

        /// The next message with its compressed flag (the gRPC interop cases check it).
        public mutating func nextMessage() async throws -> ReceivedMessage? {
            guard let message = try await base.next() else { return nil }
            onConsumed(message.bytes.count + MessageFraming.prefixBytes)
            return message
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), onConsumed: onConsumed)
    }

    /// Returns the only message of a unary or server-streaming request; INTERNAL when the
    /// client sent none or more than one (the gRPC rule for such calls).
    public func single() async throws -> [UInt8] {
        try await singleMessage().bytes
    }

    /// `single()` with the message's compressed flag.
    public func singleMessage() async throws -> ReceivedMessage {
        var iterator = makeAsyncIterator()
        guard let first = try await iterator.nextMessage() else {
            throw RPCError(.internal, SingleRequest.none)
        }
        if try await iterator.nextMessage() != nil {
            throw RPCError(.internal, SingleRequest.several)
        }
        return first
    }
}

/// Why a call that takes exactly one request message (unary, server streaming) ends with
/// INTERNAL, whichever path read its request (`MessageStream.single`, an inline unary call).
enum SingleRequest {
    static let none = "expected exactly one request message, received none"
    static let several = "expected exactly one request message, received more than one"
}
