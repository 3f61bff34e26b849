/// Where one server call is on each of its two sides, and what each event asks its connection
/// to do. Pure (no channel, no session): `ServerConnectionHandler` reports events and carries
/// out the actions returned; `ServerCallStateTests` drives every transition.
///
/// Requests:  `unrouted` --route--> `inline` | `streaming` --end of requests / failure--> `over`
/// Response:  `notStarted` --headers--> `body` --status--> `body(end:)` --drained--> `ended`
///            `notStarted` --status (trailers only), reset, a refusal--> `ended`
struct ServerCallState {
    /// Who takes the call's request messages.
    enum Requests {
        /// No handler yet (the headers are being checked), or never one (the call was refused,
        /// a static file, a CORS preflight).
        case unrouted
        /// An inline unary handler, run when the request is complete; the messages so far.
        case inline(PendingInlineCall)
        /// A handler task reading them from a stream.
        case streaming(AsyncThrowingStream<ReceivedMessage, any Error>.Continuation)
        /// The handler has every request it will get (or was cancelled).
        case over
    }

    /// How the response body ends, once the status is decided.
    enum BodyEnd: Equatable {
        /// A HEADERS frame with the status (native gRPC).
        case trailers([HTTP2Header])
        /// END_STREAM on the last DATA frame (gRPC-Web: the status is the body's last frame;
        /// a static file).
        case endStream
    }

    enum Response: Equatable {
        /// No response HEADERS yet.
        case notStarted
        /// HEADERS submitted, DATA flowing. `deferred`: nghttp2 asked for data while the queue
        /// was empty and waits to be resumed. `end`: the status is decided, and the body ends
        /// this way once the queue is empty.
        case body(deferred: Bool, end: BodyEnd?)
        /// Everything the call will send is handed to nghttp2 (or the stream was reset).
        case ended
    }

    private(set) var requests = Requests.unrouted
    private(set) var response = Response.notStarted
    /// The client ended its side of the stream (END_STREAM).
    private(set) var clientEnded = false

    // MARK: Requests

    /// Request DATA goes to a handler: one is routed and the status is not decided.
    var acceptsRequests: Bool {
        switch requests {
        case .inline, .streaming: !statusDecided
        case .unrouted, .over: false
        }
    }

    var isInline: Bool {
        if case .inline = requests { return true }
        return false
    }

    /// The handler's request stream, while it is open.
    var requestStream: AsyncThrowingStream<ReceivedMessage, any Error>.Continuation? {
        if case .streaming(let continuation) = requests { return continuation }
        return nil
    }

    /// Request bytes an inline call holds until its request is complete.
    var inlineRequestBytes: Int {
        guard case .inline(let pending) = requests else { return 0 }
        return pending.bytes
    }

    /// The call runs an inline unary handler once its request is complete.
    mutating func route(inline pending: PendingInlineCall) {
        guard case .unrouted = requests else { return }
        requests = .inline(pending)
    }

    /// The call's handler task reads its requests from `continuation`'s stream.
    mutating func route(streaming continuation: AsyncThrowingStream<ReceivedMessage, any Error>.Continuation) {
        guard case .unrouted = requests else { return }
        requests = .streaming(continuation)
    }

    /// Adds request messages to an inline call; returns how many it holds now (more than one
    /// is a client error).
    mutating func receiveInline(_ messages: [ReceivedMessage]) -> Int {
        guard case .inline(let pending) = requests else { return 0 }
        for message in messages { pending.add(message) }
        return pending.messages.count
    }

    /// What the end of the client's requests asks for.
    enum EndOfRequests {
        /// Nothing: no handler takes requests (any more).
        case none
        /// Run the inline handler with the request.
        case runInline(PendingInlineCall)
        /// Finish the handler's request stream.
        case finishStream(AsyncThrowingStream<ReceivedMessage, any Error>.Continuation)
    }

    /// The client ended its side. The handler gets its requests' end (the caller first checks
    /// that no message was cut off, and fails the call if one was).
    mutating func endOfRequests() -> EndOfRequests {
        clientEnded = true
        guard !statusDecided else { return .none }
        switch requests {
        case .inline(let pending):
            requests = .over
            return .runInline(pending)
        case .streaming(let continuation):
            requests = .over
            return .finishStream(continuation)
        case .unrouted, .over:
            return .none
        }
    }

    /// The handler gets no more requests (the call failed or was cancelled): returns the
    /// stream to end with an error, if one was open.
    mutating func stopRequests() -> AsyncThrowingStream<ReceivedMessage, any Error>.Continuation? {
        defer { requests = .over }
        if case .streaming(let continuation) = requests { return continuation }
        return nil
    }

    // MARK: Response

    /// The status is decided: nothing more is taken from the handler.
    var statusDecided: Bool {
        switch response {
        case .notStarted, .body(_, end: nil): false
        case .body, .ended: true
        }
    }

    var responseStarted: Bool { response != .notStarted }

    /// Trailers wait for the queue to empty (for the stall checks: the call still owes bytes).
    var trailersQueued: Bool {
        if case .body(_, end: .trailers?) = response { return true }
        return false
    }

    /// Returns true when the response HEADERS should be submitted now (the first message).
    mutating func startBody() -> Bool {
        guard response == .notStarted else { return false }
        response = .body(deferred: false, end: nil)
        return true
    }

    /// A message was queued: returns true when nghttp2 waits for data and must be resumed.
    mutating func dataQueued() -> Bool {
        guard case .body(deferred: true, let end) = response else { return false }
        response = .body(deferred: false, end: end)
        return true
    }

    /// What deciding the status asks for.
    enum Finish: Equatable {
        /// The status was already decided: nothing.
        case alreadyDecided
        /// No body was started: send HEADERS with the status and END_STREAM (trailers-only).
        case trailersOnly
        /// The body ends as decided once the queue is empty (gRPC-Web: the caller queues the
        /// status frame); `resume`: nghttp2 waits for data and must be resumed.
        case endBody(resume: Bool)
    }

    /// Decides the status: `trailers` end a native body, a gRPC-Web body (`web`) ends with its
    /// status frame. The request side is left as it is: a handler that returned early leaves
    /// its stream open, ended when the stream closes.
    mutating func finish(trailers: [HTTP2Header], web: Bool) -> Finish {
        switch response {
        case .notStarted:
            response = .ended
            return .trailersOnly
        case .body(let deferred, end: nil):
            response = .body(deferred: false, end: web ? .endStream : .trailers(trailers))
            return .endBody(resume: deferred)
        case .body, .ended:
            return .alreadyDecided
        }
    }

    /// Answered without a handler and without a body (a refusal, a CORS preflight): nothing
    /// more happens on the call.
    mutating func answeredWithoutBody() {
        requests = .over
        response = .ended
    }

    /// Answered with a whole body and no handler (a static file): it ends once the queue is
    /// empty.
    mutating func answeredWithBody() {
        requests = .over
        response = .body(deferred: false, end: .endStream)
    }

    /// nghttp2 asks for DATA: `written` bytes were taken from the queue, which `queueEmpty`
    /// says is now empty. Returns the chunk to hand nghttp2.
    mutating func provideData(written: Int, queueEmpty: Bool) -> HTTP2DataChunk {
        guard case .body(_, let end) = response else { return .data(count: written, end: .endStream) }
        if queueEmpty, let end {
            response = .ended
            switch end {
            case .trailers(let trailers): return .data(count: written, end: .trailers(trailers))
            case .endStream: return .data(count: written, end: .endStream)
            }
        }
        if written == 0 {
            response = .body(deferred: true, end: end)
            return .deferred
        }
        return .data(count: written, end: nil)
    }

    /// The stream is gone (closed or reset by either side). `cancelled`: the status had not
    /// been decided (the client cancelled the call); `requests`: the handler's request stream,
    /// still open, to end.
    mutating func streamClosed() -> (cancelled: Bool, requests: AsyncThrowingStream<ReceivedMessage, any Error>.Continuation?) {
        let cancelled = !statusDecided
        response = .ended
        return (cancelled, stopRequests())
    }
}
