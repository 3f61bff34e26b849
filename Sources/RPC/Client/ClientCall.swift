import NIOCore
import Synchronization

/// A call's result, set once on the event loop and read from anywhere.
final class CallResultBox: Sendable {
    private let value = Mutex<CallResult?>(nil)
    func set(_ result: CallResult) { value.withLock { $0 = result } }
    var result: CallResult? { value.withLock { $0 } }
}

/// The stream of a unary call (`ClientConnectionRef.unary`) and whether its task was
/// cancelled, so a cancel that comes before or after the start reaches the call.
final class UnaryCancellation: Sendable {
    private let state = Mutex<(streamID: Int32?, ref: ClientConnectionRef?, cancelled: Bool)>((nil, nil, false))

    /// Records the started call (on the event loop); true when the task was cancelled already.
    func started(_ streamID: Int32, ref: ClientConnectionRef) -> Bool {
        state.withLock { $0.streamID = streamID; $0.ref = ref; return $0.cancelled }
    }

    func cancel() {
        let started = state.withLock { state -> (Int32, ClientConnectionRef)? in
            state.cancelled = true
            guard let id = state.streamID, let ref = state.ref else { return nil }
            return (id, ref)
        }
        if let (streamID, ref) = started { ref.cancel(streamID: streamID) }
    }
}

/// What a finished call returned besides its messages.
public struct CallResult: Sendable {
    /// The call's status (OK or the error the server sent).
    public var status: Status
    /// Metadata from the response headers.
    public var initialMetadata: Metadata
    /// Metadata sent with the status.
    public var trailingMetadata: Metadata
}

/// One call on a `GRPCChannel`: send request messages, read response messages, learn the
/// status. Works for every call kind; `GRPCChannel.unary` wraps the simple case.
///
/// ```swift
/// let call = try await channel.makeCall(path: "/grpc.testing.TestService/FullDuplexCall")
/// try await call.send(request)
/// call.closeSend()
/// for try await response in call.responses { ... }   // throws RPCError on a non-OK status
/// ```
public final class ClientCall: Sendable {
    let connection: ClientConnectionRef
    let streamID: Int32
    /// The response messages; the sequence throws `RPCError` when the status is not OK.
    public let responses: ClientResponses
    let headersPromise: EventLoopPromise<Metadata>
    let resultPromise: EventLoopPromise<CallResult>
    let resultBox: CallResultBox

    init(connection: ClientConnectionRef, streamID: Int32, responses: ClientResponses,
         headersPromise: EventLoopPromise<Metadata>, resultPromise: EventLoopPromise<CallResult>, resultBox: CallResultBox) {
        self.connection = connection
        self.streamID = streamID
        self.responses = responses
        self.headersPromise = headersPromise
        self.resultPromise = resultPromise
        self.resultBox = resultBox
    }

    /// Sends one request message; waits while the server is not reading (flow control).
    public func send(_ message: [UInt8]) async throws {
        try await connection.send(streamID: streamID, message: message)
    }

    /// Tells the server no more requests will come (half-close).
    public func closeSend() {
        connection.closeSend(streamID: streamID)
    }

    /// Cancels the call (RST_STREAM); its status becomes CANCELLED.
    public func cancel() {
        connection.cancel(streamID: streamID)
    }

    /// The response headers' metadata, once they arrive.
    public func initialMetadata() async throws -> Metadata {
        try await headersPromise.futureResult.get()
    }

    /// The status and metadata, once the call is over.
    public func result() async -> CallResult {
        if let known = resultBox.result { return known }
        // The promise is only ever succeeded.
        return (try? await resultPromise.futureResult.get())
            ?? CallResult(status: Status(code: .internal, message: "call ended without a result"),
                          initialMetadata: Metadata(), trailingMetadata: Metadata())
    }
}

/// The response messages of a `ClientCall`.
public typealias ClientResponses = MessageStream
